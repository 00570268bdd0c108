"""The grader's conversation with a kernel, against a fake kernel (as nbclient tests its executor).

``FakeKernel`` runs code in this process with ``input()`` wired to the grader's answers,
as a real kernel's stdin channel is: the probes, the stand-ins and the judging are the
real ones, so what is tested here in milliseconds is the protocol and the verdicts, and
the real sandbox is left to the end-to-end tests. A cell can end the fake kernel
(``die()``), spin past its budget (``spin()``) or break the protocol (``forge()``).
"""

from __future__ import annotations

import ast
import builtins
import contextlib
import copy
import io

import nbformat
import numpy as np
import pytest

from autograder import ASSIGNMENT, GRADED_FUNCTIONS
from autograder.grading.cases import draw_cases
from autograder.grading.job import CourseBundle, Job
from autograder.grading.judge import Grader
from autograder.grading.probe import MODULE
from autograder.grading.submission import restore
from autograder.results import Kind, Outcome, Problem
from autograder.sandbox.kernel import Execution
from autograder.sandbox.relay import Traffic
from autograder.settings import Limits
from autograder.simulated.synthetic import course_notebooks, fill_answers
from planar_utils import sigmoid

from ..conftest import POINTS, TOTAL, score


# KeyboardInterrupt: what a probe lets through (an interrupt), as a real kernel's death or timeout is not
# something the code in it can catch.
class _Died(KeyboardInterrupt):
    pass


class _Spun(KeyboardInterrupt):
    pass


class _Forged(KeyboardInterrupt):
    pass


class FakeKernel:
    """A kernel in this process: ``execute`` runs code with ``input`` answered by ``on_input``."""

    def __init__(self):
        self.namespace: dict = {}
        self.running = False
        self.starts = 0
        self.executed: list[str] = []
        self.traffic = Traffic(per_message=1 << 20, per_submission=1 << 30)  # what the real kernel's relay counts

    def start(self) -> None:
        self.namespace = {
            "np": np,
            "sigmoid": sigmoid,
            "die": self._die,
            "spin": self._spin,
            "forge": self._forge,
            "flood": self._flood,
        }
        self.running = True
        self.starts += 1

    def restart(self) -> None:
        self.start()

    def shutdown(self) -> None:
        self.running = False

    close = shutdown

    def alive(self) -> bool:
        return self.running

    def cpu_seconds(self) -> float:
        return 0.0

    @staticmethod
    def _die():
        raise _Died

    @staticmethod
    def _spin():
        raise _Spun

    @staticmethod
    def _forge():
        raise _Forged

    def _flood(self):  # what the relay sees of a kernel that sent more than the submission may
        self.traffic.total = self.traffic.per_submission + 1
        self.traffic.exceeded = "the kernel sent more than 1024 MB in all"
        raise _Forged

    def execute(self, code, timeout, on_input=None, keep_outputs=True, laps=None) -> Execution:
        if not self.running:
            return Execution("died", [], "DeadKernel", "the kernel is not running")
        self.executed.append(code)
        saved = builtins.input
        builtins.input = lambda prompt="": on_input(prompt) if on_input else ""
        out = io.StringIO()
        try:
            with contextlib.redirect_stdout(out):
                exec(compile(code, "<cell>", "exec"), self.namespace)
        except _Died:
            self.running = False
            return Execution("died", [], "DeadKernel", "the kernel died")
        except _Spun:
            return Execution("timeout", [], "Timeout", f"stopped after {timeout:g} s", timeout)
        except _Forged:
            self.running = False
            return Execution("protocol", [], "ProtocolError", "an unreadable message on iopub (ValueError)")
        except Exception as error:  # noqa: BLE001
            return Execution("error", [], type(error).__name__, str(error))
        finally:
            builtins.input = saved
        text = out.getvalue()
        outputs = [nbformat.v4.new_output("stream", name="stdout", text=text)] if text and keep_outputs else []
        return Execution("ok", outputs)


class LocalReference:
    def __init__(self, reference):
        self.reference = reference

    def call(self, name, args, kwargs=None, timeout=None):
        with np.errstate(all="ignore"):
            return self.reference[name](*copy.deepcopy(args), **copy.deepcopy(kwargs or {}))


@pytest.fixture(scope="module")
def course():
    release, solutions = course_notebooks()
    return release, solutions


def grade(course, reference, changes=None, cells=()):
    """Grade a notebook with these answers (and these cells added) against the fake kernel: (results, grader)."""
    release, solutions = course
    notebook = fill_answers(release, dict(solutions, **(changes or {})))
    for offset, code in enumerate(cells):
        notebook.cells.insert(3 + offset, nbformat.v4.new_code_cell(code, id=f"added-{offset}"))
    kernel = FakeKernel()
    job = Job("student", 11, CourseBundle(ASSIGNMENT, "", "", {}), None, Limits(cell_timeout=5, submission_timeout=60))
    grader = Grader(job, LocalReference(reference), lambda: kernel, dict(POINTS))
    results = grader.run(restore(notebook, release))
    return {r.name: r for r in results}, grader, kernel


def test_correct_answers_pass_every_function(course, reference):
    results, grader, _ = grade(course, reference)
    assert {name: r.outcome for name, r in results.items()} == dict.fromkeys(GRADED_FUNCTIONS, Outcome.PASSED)
    assert sum(r.score for r in results.values()) == TOTAL and grader.problems == []


def test_a_wrong_function_fails_alone_with_the_grader_saying_why(course, reference):
    wrong = course[1]["compute_cost"].replace("    cost = -np.sum(logprobs) / m", "    cost = -np.sum(logprobs)")
    results, _, _ = grade(course, reference, {"compute_cost": wrong})
    cost = results["compute_cost"]
    assert (cost.outcome, cost.score) == (Outcome.FAILED, 0) and cost.mistake == "cost_no_mean"
    assert cost.message.startswith("the visible case: cost is 2.079176283, expected 0.693058761")
    assert all(r.outcome == Outcome.PASSED for name, r in results.items() if name != "compute_cost")


def test_a_bug_only_other_sizes_show_fails_on_a_hidden_case_in_the_graders_words(course, reference):
    fixed = course[1]["update_parameters"].replace("- learning_rate *", "- 1.2 *")
    results, grader, _ = grade(course, reference, {"update_parameters": fixed})
    update = results["update_parameters"]
    assert update.outcome == Outcome.FAILED and update.message.startswith("hidden case 2 (n_x=6, n_h=2")
    assert "got" not in update.message and "expected 0" not in update.message  # no value of a hidden case
    assert grader.visible_only == ["update_parameters"]


def test_a_missing_function_and_an_exception_are_named(course, reference):
    results, _, _ = grade(
        course,
        reference,
        {
            "layer_sizes": "def not_layer_sizes(X, Y):\n    return 1\n",
            "predict": "def predict(parameters, X):\n    raise KeyError('the secret inputs ' + str(X[0, 0]))\n",
        },
    )
    assert results["layer_sizes"].outcome == Outcome.MISSING
    predict = results["predict"]
    assert predict.outcome == Outcome.ERROR and "KeyError" in predict.message
    assert "the secret inputs" in predict.message  # the visible case shows the student's own error in full


def test_a_kernel_killed_by_a_function_is_restarted_with_the_definitions_and_the_rest_graded(course, reference):
    dies = course[1]["forward_propagation"].replace("    A2 = sigmoid(Z2)", "    die()")
    results, grader, kernel = grade(course, reference, {"forward_propagation": dies})
    assert results["forward_propagation"].outcome == Outcome.KERNEL_DIED
    assert results["nn_model"].outcome == Outcome.PASSED and results["predict"].outcome == Outcome.PASSED
    assert kernel.starts == 2 and Problem(Kind.KERNEL_DIED, "kernel died in forward_propagation") in grader.problems


def test_a_function_over_its_budget_times_out_and_costs_only_itself(course, reference):
    spins = course[1]["layer_sizes"].replace("    n_h = 4", "    spin()")
    results, grader, _ = grade(course, reference, {"layer_sizes": spins})
    assert results["layer_sizes"].outcome == Outcome.TIMEOUT
    assert sum(r.score for r in results.values()) == score("layer_sizes")


def test_a_function_that_ends_its_probe_costs_only_itself_and_the_functions_after_it_get_a_probe_of_their_own(
    course, reference
):
    """All the hidden cases go in one probe; compute_cost's first hidden case spins past its budget: it times
    out, the functions before it keep their verdicts, the ones after it are probed again and pass."""
    spins = course[1]["compute_cost"].replace(
        "    m = Y.shape[1]",
        "    global calls\n    calls = globals().get('calls', 0) + 1\n    if calls > 1:\n        spin()\n    m = Y.shape[1]",
    )
    results, grader, kernel = grade(course, reference, {"compute_cost": spins})
    assert {name: r.outcome for name, r in results.items()} == dict(
        dict.fromkeys(GRADED_FUNCTIONS, Outcome.PASSED), compute_cost=Outcome.TIMEOUT
    )
    assert "hidden case 1" in results["compute_cost"].message
    after = list(GRADED_FUNCTIONS)[list(GRADED_FUNCTIONS).index("compute_cost") + 1 :]
    probes = [_probed(code) for code in kernel.executed if "autograder-probe" in code]
    assert probes[1:] == [list(GRADED_FUNCTIONS), after]
    assert [p.kind for p in grader.problems] == [Kind.TIMEOUT]


def test_a_function_out_of_memory_ends_the_probe_and_the_functions_after_it_get_a_fresh_kernel(course, reference):
    """forward_propagation raises MemoryError on its visible case: it gets the memory verdict, the probe stops
    there, and the kernel is restarted (with the definitions) before the functions after it are probed."""
    short = course[1]["forward_propagation"].replace("    A2 = sigmoid(Z2)", "    raise MemoryError")
    results, grader, kernel = grade(course, reference, {"forward_propagation": short})
    assert {name: r.outcome for name, r in results.items()} == dict(
        dict.fromkeys(GRADED_FUNCTIONS, Outcome.PASSED), forward_propagation=Outcome.MEMORY
    )
    assert kernel.starts == 2 and [p.kind for p in grader.problems] == [Kind.MEMORY]
    probes = [_probed(code) for code in kernel.executed if "autograder-probe" in code]
    visible = [name for name in GRADED_FUNCTIONS if name != "nn_model"]
    after = visible[visible.index("forward_propagation") + 1 :]
    assert probes[:2] == [visible, after]


def test_a_cell_that_breaks_the_protocol_is_skipped_and_the_kernel_replaced(course, reference):
    results, grader, kernel = grade(course, reference, cells=["forge()\n"])
    assert all(r.outcome == Outcome.PASSED for r in results.values())
    assert kernel.starts == 2 and [p.kind for p in grader.problems] == [Kind.PROTOCOL]


def test_a_submission_whose_kernels_sent_all_they_may_runs_nothing_more_and_says_why(course, reference):
    results, grader, kernel = grade(course, reference, cells=["flood()\n", "x = 1\n"])
    assert {r.outcome for r in results.values()} == {Outcome.ERROR} and sum(r.score for r in results.values()) == 0
    assert all("sent the grader more than 1024 MB" in r.message for r in results.values())
    assert "x = 1\n" not in kernel.executed  # nothing after the flood ran


def test_a_forged_report_counts_for_nothing(course, reference):
    forged = course[1]["compute_cost"].replace(
        "    cost = -np.sum(logprobs) / m",
        '    input(\'\\x00autograder-report:\' + \'{"status":"returned","value":0.6930587610394646}\')\n    cost = 0.5',
    )
    results, _, _ = grade(course, reference, {"compute_cost": forged})
    assert results["compute_cost"].score == 0


def test_a_forged_report_ends_its_functions_cases_and_costs_no_other_function_anything(course, reference):
    """compute_cost sends an unreadable report of its own: that fails it, and its session says "stop"; the report
    the probe then sends for compute_cost still goes to compute_cost's session, not to the next function's."""
    forged = course[1]["compute_cost"].replace(
        "    cost = -np.sum(logprobs) / m", "    input('\\x00autograder-report:{')\n    cost = -np.sum(logprobs) / m"
    )
    results, grader, _ = grade(course, reference, {"compute_cost": forged})
    assert {name: r.score for name, r in results.items()} == dict(POINTS, compute_cost=0)
    assert results["compute_cost"].outcome == Outcome.ERROR and grader.problems == []


def test_a_stand_in_refuses_a_call_the_real_one_could_not_get(course, reference):
    wrong = course[1]["nn_model"].replace("initialize_parameters(n_x, n_h, n_y)", "initialize_parameters(n_x, 4, n_y)")
    results, _, _ = grade(course, reference, {"nn_model": wrong})
    model = results["nn_model"]
    assert model.outcome == Outcome.ERROR and "called initialize_parameters wrongly" in model.message


def test_every_visible_case_runs_before_any_hidden_one_so_no_hidden_input_comes_back(course, reference):
    """What code keeps of a hidden case cannot reach a visible case's message, which quotes the student."""
    keep = course[1]["compute_cost"].replace(
        "    m = Y.shape[1]",
        "    global kept\n    kept = globals().get('kept', []) + [A2.round(6).tolist()]\n    m = Y.shape[1]",
    )
    tell = "def predict(parameters, X):\n    raise ValueError('kept ' + repr(globals().get('kept', [])))\n"
    results, grader, kernel = grade(course, reference, {"compute_cost": keep, "predict": tell})
    message = results["predict"].message
    assert results["compute_cost"].outcome == Outcome.PASSED and results["predict"].outcome == Outcome.ERROR
    assert "the visible case" in message and "kept [[[" in message  # the visible case of compute_cost: seen
    hidden = [case.args[0].round(6).tolist() for case in draw_cases("compute_cost", grader.job.seed)]
    assert not any(repr(values)[1:-1] in message for values in hidden)
    probes = [code for code in kernel.executed if "autograder-probe" in code]
    # one probe for the visible cases (nn_model has none), one for the hidden ones (predict stopped at its visible)
    visible_first = [name for name in GRADED_FUNCTIONS if name != "nn_model"]
    hidden_next = [name for name in GRADED_FUNCTIONS if name != "predict"]
    assert [_probed(code) for code in probes] == [visible_first, hidden_next]
    assert ["autograder-report" in code for code in probes] == [True, False]  # sent whole once


def _probed(code: str) -> list[str]:
    """The functions a probe's call names, in their order."""
    return [name for name, _ in ast.literal_eval(code.rsplit(".run(", 1)[1].rsplit(", __import__", 1)[0])]


def test_a_probe_the_students_code_removed_is_sent_again_and_the_rest_graded(course, reference):
    """The kernel keeps the probe between calls; code that deletes it costs one more sending, not points."""
    remove = (
        "def layer_sizes(X, Y):\n    __import__('sys').modules.pop(%r, None)\n    return (X.shape[0], 4, Y.shape[0])\n"
    )
    results, grader, kernel = grade(course, reference, {"layer_sizes": remove % MODULE})
    assert all(result.outcome == Outcome.PASSED for result in results.values())
    sent_whole = [code for code in kernel.executed if "autograder-report" in code]
    assert len(sent_whole) >= 2  # the first probe, and again after layer_sizes removed it


def test_an_execution_ends_in_one_of_the_known_ways():
    assert Execution("timeout", [], "Timeout", "stopped after 5 s").status == "timeout"
    with pytest.raises(ValueError, match="no such ending"):
        Execution("finished", [])


def test_the_values_of_a_kernels_json_are_counted_outside_its_strings_in_linear_time():
    from autograder.sandbox.kernel import MAX_MESSAGE_VALUES, json_values

    assert json_values(b'{"a": [1, 2], "b": {}}') == 5  # its brackets and commas
    assert json_values(b'{"text": "' + b"1, [2], {3}, " * 50_000 + b'"}') == 1  # commas of text are no values
    assert json_values(b'{"a": [' + b"{}," * 200_000 + b"{}]}") > MAX_MESSAGE_VALUES
    assert json_values(b'"' + b'\\"' * 100_000 + b", " * 200_000 + b'"') == 0  # an escaped quote ends no string


def test_a_notebook_of_thousands_of_cells_runs_its_first_five_hundred(course, reference):
    from autograder.grading.judge import MAX_CELLS

    results, grader, kernel = grade(course, reference, cells=["1\n"] * 2000)
    assert all(r.outcome == Outcome.PASSED for r in results.values())  # the answers come first
    assert MAX_CELLS - 20 < kernel.executed.count("1\n") < MAX_CELLS  # the release's own cells count too
    assert len([c for c in kernel.executed if "def " in c]) >= len(GRADED_FUNCTIONS)  # every answer ran
