"""Feedback that teaches: every classic mistake is named, on the visible case and on hidden ones.

The catalogue (tests/mistaken.py) makes each mistake in the instructor's solution.
The visible tests name it in a short message, in the notebook itself; the grader
names it for hidden cases too, in its own words; the Chinese edition says it in
Chinese; the gradient check blames the cost when the cost is wrong.
"""

import contextlib
import copy
import io

import nbformat
import numpy as np
import pytest

import public_tests
import test_utils
from autograder import ASSIGNMENT, GRADED_FUNCTIONS
from autograder.grading.cases import USES_HELPERS, draw_cases, with_helpers
from autograder.grading.fingerprints import fingerprints
from autograder.simulated.synthetic import course_notebooks, fill_answers, solution_answers
from planar_utils import gradient_check, sigmoid

from ..conftest import ROOT
from ..mistaken import MISTAKES

SOLUTIONS = solution_answers(nbformat.read(ROOT / "source" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb", as_version=4))


def mistaken(mistake, reference):
    """The student's function with the mistake, using the reference's versions of the other functions."""
    name, edit, _ = MISTAKES[mistake]
    namespace = {"np": np, "sigmoid": sigmoid}
    exec(edit(SOLUTIONS[name]), namespace)
    return name, with_helpers(namespace[name], {h: reference[h] for h in USES_HELPERS.get(name, ())})


def test_every_mistake_has_words_in_both_languages():
    assert set(MISTAKES) == set(test_utils.MISTAKES)
    for english, chinese in (texts.values() for texts in test_utils.MISTAKES.values()):
        assert english and chinese and english != chinese


@pytest.mark.parametrize("mistake", sorted(m for m, (_, _, visible) in MISTAKES.items() if visible))
def test_the_visible_test_names_the_mistake(mistake, reference):
    name, function = mistaken(mistake, reference)
    with contextlib.redirect_stdout(io.StringIO()), pytest.raises(test_utils.WrongResult) as failure:
        public_tests.TESTS[name](function)
    assert failure.value.mistake == mistake
    assert test_utils.MISTAKES[mistake]["en"].split("{key}")[-1] in failure.value.hint
    lines = failure.value._render_traceback_()
    assert len(lines) == 2 and "hint" in lines[1]


@pytest.mark.parametrize("mistake", sorted(MISTAKES))
def test_the_grader_names_the_mistake_on_hidden_cases(mistake, reference):
    """The same diagnosis from the hidden cases alone, with the grader's fingerprints."""
    name, function = mistaken(mistake, reference)
    for case in draw_cases(name, 2024):
        got = function(*copy.deepcopy(case.args), **copy.deepcopy(case.kwargs))
        expected = reference[name](*copy.deepcopy(case.args), **copy.deepcopy(case.kwargs))

        def call(helper, args, kwargs):
            return reference[helper](*args, **kwargs)

        try:
            test_utils.check_result(
                name, got, expected, case.args, case.kwargs, fingerprints(name, case.args, case.kwargs, call)
            )
        except test_utils.WrongResult as failure:
            assert failure.mistake == mistake, (failure.brief, failure.mistake)
            assert not any(
                str(v) in failure.brief
                for v in np.ravel(np.asarray(case.args[0], dtype=object))[:3]
                if isinstance(v, float)
            )
            return
    pytest.fail(f"no hidden case of {name} caught {mistake}")


def test_the_gradient_check_blames_the_cost_when_the_cost_is_wrong(reference, capsys):
    _, cost = mistaken("cost_no_mean", reference)
    X, Y = public_tests.nn_model_test_case()
    np.random.seed(0)
    parameters = {
        "W1": np.random.randn(4, 2),
        "b1": np.random.randn(4, 1),
        "W2": np.random.randn(1, 4),
        "b2": np.random.randn(1, 1),
    }
    assert (
        gradient_check(reference["forward_propagation"], cost, reference["backward_propagation"], parameters, X, Y)
        is None
    )
    out = capsys.readouterr().out
    assert "compute_cost must be right before gradients can be checked" in out
    assert "your cost is m times too large" in out and "CHECK THIS GRADIENT" not in out
    assert (
        gradient_check(
            reference["forward_propagation"],
            reference["compute_cost"],
            reference["backward_propagation"],
            parameters,
            X,
            Y,
        )["W1"]
        < 1e-7
    )


# -- in the notebook itself ---------------------------------------------------------------------------


def run_release(assignment, answers):
    """Execute the release notebook with these answers, as a student would (exploration left out)."""
    from nbclient import NotebookClient

    release, _ = course_notebooks(assignment)
    notebook = fill_answers(release, answers)
    notebook.cells = [c for c in notebook.cells if "explore" not in c.metadata.get("tags", [])]
    NotebookClient(
        notebook,
        timeout=120,
        kernel_name="python3",
        allow_errors=True,
        resources={"metadata": {"path": str(ROOT / "release" / assignment)}},
    ).execute()
    return {
        c.metadata.nbgrader["grade_id"]: c
        for c in notebook.cells
        if c.metadata.get("nbgrader", {}).get("grade_id", "").startswith("test_")
    }


def rounds():
    """The mistakes shown on the visible case, spread over notebooks: one mistake per function each.

    nn_model and predict call the student's other functions, so their mistakes get notebooks of
    their own, where those are right.
    """

    def spread(functions):
        by_function = {
            name: [m for m, (f, _, visible) in MISTAKES.items() if f == name and visible] for name in functions
        }
        count = max(len(items) for items in by_function.values())
        return [{name: items[i] for name, items in by_function.items() if i < len(items)} for i in range(count)]

    callers = set(USES_HELPERS)
    return spread([n for n in GRADED_FUNCTIONS if n not in callers]) + spread(sorted(callers))


@pytest.mark.parametrize("mistakes", rounds(), ids=lambda m: "+".join(sorted(m.values()))[:60])
def test_in_the_notebook_a_failing_test_is_a_few_lines_that_name_the_mistake(mistakes):
    answers = {name: MISTAKES[mistake][1](SOLUTIONS[name]) for name, mistake in mistakes.items()}
    # nn_model and predict are judged with the other functions as the student wrote them: correct here
    cells = run_release(ASSIGNMENT, dict(SOLUTIONS, **answers))
    for name, mistake in mistakes.items():
        errors = [o for o in cells[f"test_{name}"].outputs if o.output_type == "error"]
        assert len(errors) == 1, (name, cells[f"test_{name}"].outputs)
        error = errors[0]
        assert error.ename == "WrongResult", (name, error.ename, error.evalue)
        text = "\n".join(error.traceback)
        assert len(error.traceback) == 2 and "public_tests.py" not in text, text
        hint = test_utils.MISTAKES[mistake]["en"].split("{key}")[-1]
        assert " ".join(hint.split()) in " ".join(text.split()), (mistake, text)  # wrapped to the dialog's width


def test_a_function_that_calls_a_failing_one_says_so_instead_of_a_numpy_error():
    answers = dict(
        SOLUTIONS,
        initialize_parameters=MISTAKES["init_swapped_shape"][1](SOLUTIONS["initialize_parameters"]),
        forward_propagation=SOLUTIONS["forward_propagation"].replace("Z2 = W2 @ A1 + b2", "Z2 = W2 @ A1.T + b2"),
    )
    cells = run_release(ASSIGNMENT, answers)
    model = cells["test_nn_model"].outputs[-1]
    assert model.ename == "HelperFails"
    assert "nn_model calls your initialize_parameters, whose test above fails: fix it first" in model.evalue
    predict = cells["test_predict"].outputs[-1]
    assert "predict calls your forward_propagation, whose test above fails" in predict.evalue
    forward = "\n".join(cells["test_forward_propagation"].outputs[-1].traceback)
    assert "forward_propagation raised ValueError" in forward and "Z2 = W2 @ A1.T + b2" in forward
    assert "public_tests.py" not in forward  # where in the student's code, and nothing of the tests


def test_the_chinese_edition_says_it_in_chinese():
    zh = f"{ASSIGNMENT}_zh"
    answers = dict(SOLUTIONS, compute_cost=MISTAKES["cost_no_mean"][1](SOLUTIONS["compute_cost"]))
    cells = run_release(zh, answers)
    error = cells["test_compute_cost"].outputs[-1]
    assert "你的代价大了 m 倍：是不是忘了除以 m？" in "\n".join(error.traceback)
    assert "的全部测试都通过了" in cells["test_layer_sizes"].outputs[-1].text
