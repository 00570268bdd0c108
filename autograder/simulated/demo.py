"""The demo class: a scratch course with nine synthetic students, one per situation.

``build_demo_course(folder)`` lays out an nbgrader course in ``folder`` (wiped
first) from this repository's source/ and release/, and writes the submissions
below. It never touches the instructor's own submitted/.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import nbformat

from .. import ASSIGNMENT, GRADED_FUNCTIONS, SPEC
from ..course import Course
from ..grading.reference import COURSE_ROOT
from ..markup import is_test
from .synthetic import course_notebooks, fill_answers, new_course, write_submission

TIMESTAMP = "2026-11-20 17:00:00.000000 UTC"

# Students, what each one shows, and the functions each loses (the expected totals follow from
# course.toml's points; the tests check them).
_ALL = GRADED_FUNCTIONS
LOSSES = {
    "ada": ("perfect", ()),
    "ben": ("forgets tanh's derivative in backward_propagation", ("backward_propagation",)),
    "cleo": ("hands in the untouched release", _ALL),
    "dev": ("notebook file cut off: invalid JSON", _ALL),
    "eve": ("nn_model loops forever", ("nn_model",)),
    "finn": ("wrong code, then tampers with numpy, IPython and the test cells", _ALL),
    "gus": ("hard-codes the visible answers of layer_sizes and compute_cost", ("layer_sizes", "compute_cost")),
    "hana": ("predict kills the kernel", ("predict",)),
    "ivy": ("correct, in other idioms: np.dot, np.multiply, in-place updates, int predictions", ()),
}
STUDENTS = {
    student: (shows, SPEC.total - sum(SPEC.points[name] for name in lost)) for student, (shows, lost) in LOSSES.items()
}

TAMPERING = """
# Everything below tries to make wrong code pass; none of it can reach the grader's verdicts.
import builtins
import numpy as np
np.allclose = lambda *args, **kwargs: True
np.testing.assert_allclose = lambda *args, **kwargs: None
builtins.AssertionError = type("AssertionError", (Exception,), {})
ip = get_ipython()
ip.input_transformers_post.append(lambda lines: ["pass\\n"] if any("test" in l for l in lines) else lines)
ip.showtraceback = lambda *args, **kwargs: print("All tests passed.")
_run_cell = ip.run_cell
def run_cell(raw_cell, *args, **kwargs):
    try:
        return _run_cell(raw_cell, *args, **kwargs)
    except BaseException:
        print("All tests passed.")
ip.run_cell = run_cell
print("All tests passed.")
"""


def _edit(source: str, old: str, new: str) -> str:
    if old not in source:
        raise ValueError(f"demo edit no longer applies: {old!r} is not in the solution")
    return source.replace(old, new)


def answers_of(solutions: dict[str, str]) -> dict[str, dict | str]:
    """Each demo student's answer cells, made from the instructor's (the benchmark builds on them too)."""
    s = solutions
    wrong = {
        name: _edit(src, "    ### END CODE HERE ###", "    ### END CODE HERE ###\n    return None")
        for name, src in s.items()
    }
    return {
        "ada": dict(s),
        "ben": dict(s, backward_propagation=_edit(s["backward_propagation"], " * (1 - A1 ** 2)", "")),
        "cleo": {},
        "eve": dict(s, nn_model=_edit(s["nn_model"], "for i in range(num_iterations):", "while True:")),
        "finn": wrong,
        "gus": dict(
            s,
            layer_sizes=_edit(s["layer_sizes"], "    n_x = X.shape[0]", "    n_x = 5").replace(
                "    n_y = Y.shape[0]", "    n_y = 2"
            ),
            compute_cost=_edit(s["compute_cost"], "    cost = -np.sum(logprobs) / m", "    cost = 0.6930587610394646"),
        ),
        "hana": dict(s, predict=_edit(s["predict"], "    predictions = A2 > 0.5", "    import os\n    os._exit(1)")),
        "ivy": dict(
            s,
            forward_propagation=_edit(s["forward_propagation"], "    Z1 = W1 @ X + b1", "    Z1 = np.dot(W1, X) + b1")
            .replace("    Z2 = W2 @ A1 + b2", "    Z2 = np.dot(W2, A1) + b2")
            .replace("    A2 = sigmoid(Z2)", "    A2 = 1 / (1 + np.exp(-Z2))"),
            compute_cost=_edit(
                s["compute_cost"],
                "Y * np.log(A2) + (1 - Y) * np.log(1 - A2)",
                "np.multiply(np.log(A2), Y) + np.multiply(np.log(1 - A2), 1 - Y)",
            ),
            update_parameters=_edit(
                s["update_parameters"],
                '    W1 = parameters["W1"] - learning_rate * grads["dW1"]\n'
                '    b1 = parameters["b1"] - learning_rate * grads["db1"]\n'
                '    W2 = parameters["W2"] - learning_rate * grads["dW2"]\n'
                '    b2 = parameters["b2"] - learning_rate * grads["db2"]\n',
                '    for key in ("W1", "b1", "W2", "b2"):\n'
                '        parameters[key] -= learning_rate * grads["d" + key]\n'
                '    W1, b1, W2, b2 = (parameters[k] for k in ("W1", "b1", "W2", "b2"))\n',
            ),
            predict=_edit(s["predict"], "    predictions = A2 > 0.5", "    predictions = (A2 > 0.5).astype(int)"),
        ),
    }


def build_demo_course(folder: Path, assignment: str = ASSIGNMENT, root: Path = COURSE_ROOT) -> Path:
    """Lay out the demo course in ``folder`` (its students handing in ``assignment``, either edition) and
    return its absolute path."""
    folder = Path(folder).resolve()
    if folder == root.resolve() or (folder / ".git").exists():
        raise ValueError(f"refusing to build the demo in {folder}: it looks like a real course")
    shutil.rmtree(folder, ignore_errors=True)
    new_course(folder, root)
    release, solutions = course_notebooks(assignment, root)
    for student, answers in answers_of(solutions).items():
        notebook = fill_answers(release, answers)
        if student == "finn":
            notebook.cells = [c for c in notebook.cells if not is_test(c)]
            notebook.cells.insert(3, nbformat.v4.new_code_cell(TAMPERING, id="my-helpers"))
        path = write_submission(notebook, folder, student, assignment)
        (path.parent / "timestamp.txt").write_text(TIMESTAMP)
    dev = Course(folder, assignment).step("submitted", "dev")
    dev.mkdir(parents=True)
    text = nbformat.writes(fill_answers(release, solutions))
    (dev / f"{assignment}.ipynb").write_text(text[: len(text) // 2])
    (dev / "timestamp.txt").write_text(TIMESTAMP)
    return folder
