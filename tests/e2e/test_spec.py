"""course.toml is the course's one specification: points changed there alone reach the notebooks and the grade."""

import csv
import os
import shutil
import subprocess
import sys
import textwrap

import nbformat
import pytest

from course_spec import SPEC

from ..conftest import ROOT, repoint

LEFT_OUT = shutil.ignore_patterns(
    ".git", ".venv", "build", "__pycache__", "*.egg-info", "gradebook.db", "submitted", "autograded", "feedback",
    "reports", ".ipynb_checkpoints",
)  # fmt: skip


def run(copy, *args, timeout=600):
    env = dict(os.environ, PYTHONPATH=str(copy))  # the copy's modules, not the installed ones
    return subprocess.run(
        [sys.executable, *args], cwd=copy, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )


@pytest.fixture(scope="module")
def repointed(tmp_path_factory):
    """A copy of the course whose course.toml gives layer_sizes 10 points and backward_propagation 15, released."""
    copy = tmp_path_factory.mktemp("spec") / "course"
    shutil.copytree(ROOT, copy, symlinks=True, ignore=LEFT_OUT)
    spec = copy / "course.toml"
    spec.write_text(repoint(spec.read_text(encoding="utf-8"), {"layer_sizes": 10, "backward_propagation": 15}))
    refused = run(copy, "-m", "tools.notebooks", "check")
    released = run(copy, "-m", "tools.notebooks", "release")
    assert released.returncode == 0, released.stdout + released.stderr
    return copy, refused


def test_check_refuses_notebooks_that_disagree_with_the_spec_and_names_its_line(repointed):
    _, refused = repointed
    assert refused.returncode == 1
    line = SPEC.line("layer_sizes", "points")
    assert f"test cell test_layer_sizes gives layer_sizes 5 points, course.toml line {line} gives 10" in refused.stderr


def test_points_changed_in_the_spec_alone_reach_every_notebook(repointed):
    copy, _ = repointed
    checked = run(copy, "-m", "tools.notebooks", "check")
    assert checked.returncode == 0, checked.stdout + checked.stderr
    for edition in SPEC.editions:
        notebook = nbformat.read(copy / "release" / edition.assignment / f"{edition.assignment}.ipynb", as_version=4)
        points = {
            cell.metadata.nbgrader["grade_id"]: cell.metadata.nbgrader["points"]
            for cell in notebook.cells
            if cell.metadata.get("nbgrader", {}).get("grade")
        }
        assert points["test_layer_sizes"] == 10 and points["test_backward_propagation"] == 15
        assert points["test_forward_propagation"] == SPEC.points["forward_propagation"]
        title = notebook.cells[0].source
        assert "| `layer_sizes` | 10 |" in title and "| `backward_propagation` | 15 |" in title


def test_a_grade_uses_the_spec_points(repointed, tmp_path):
    """A student who fails only layer_sizes, now worth 10 of 100, gets 90."""
    copy, _ = repointed
    script = textwrap.dedent(
        f"""
        import autograder, pathlib
        from autograder.simulated.synthetic import course_notebooks, fill_answers, new_course, write_submission
        assert pathlib.Path(autograder.__file__).is_relative_to({str(copy)!r}), autograder.__file__
        course = new_course(pathlib.Path({str(tmp_path / "graded")!r}))
        release, answers = course_notebooks()
        wrong = dict(answers, layer_sizes=answers["layer_sizes"].replace("X.shape[0]", "X.shape[1]"))
        assert wrong != answers
        write_submission(fill_answers(release, wrong), course, "lee", autograder.ASSIGNMENT)
        """
    )
    made = run(copy, "-c", script)
    assert made.returncode == 0, made.stdout + made.stderr
    graded = run(copy, "-m", "autograder", "grade", "--course", str(tmp_path / "graded"), "--no-feedback")
    assert graded.returncode == 0, graded.stdout + graded.stderr
    with (tmp_path / "graded" / "reports" / SPEC.editions[0].assignment / "grades.csv").open() as handle:
        rows = {row["student"]: row for row in csv.DictReader(handle)}
    assert rows["lee"]["total"] == "90"


def test_a_language_is_one_folder_and_one_line_of_the_spec(tmp_path):
    """An edition in a third language: i18n/fr/ (here the Chinese texts stand in for French ones) and an
    [[edition]] in course.toml, then the tools; nothing else by hand. Its release is made, and the grader
    speaks it."""
    copy = tmp_path / "course"
    shutil.copytree(ROOT, copy, symlinks=True, ignore=LEFT_OUT)
    shutil.copytree(ROOT / "i18n" / "zh", copy / "i18n" / "fr")
    spec = copy / "course.toml"
    first = SPEC.editions[0].assignment
    text = spec.read_text(encoding="utf-8")
    spec.write_text(
        text.replace(
            'language = "zh"\n', f'language = "zh"\n\n[[edition]]\nassignment = "{first}_fr"\nlanguage = "fr"\n'
        )
    )
    released = run(copy, "-m", "tools.notebooks", "release")
    assert released.returncode == 0, released.stdout + released.stderr
    assert (copy / "source" / f"{first}_fr" / "course_language").read_text().strip() == "fr"
    assert (copy / "release" / f"{first}_fr" / f"{first}_fr.ipynb").is_file()
    script = textwrap.dedent(
        f"""
        import pathlib
        from autograder.grading import wording
        from autograder.simulated.synthetic import course_notebooks, fill_answers, new_course, write_submission
        course = new_course(pathlib.Path({str(tmp_path / "graded")!r}))
        release, answers = course_notebooks({first + "_fr"!r})
        write_submission(fill_answers(release, answers), course, "zoe", {first + "_fr"!r})
        assert wording.language({first + "_fr"!r}) == "fr"
        """
    )
    made = run(copy, "-c", script)
    assert made.returncode == 0, made.stdout + made.stderr
    graded = run(copy, "-m", "autograder", "grade", "--course", str(tmp_path / "graded"), "--assignment", f"{first}_fr")
    assert graded.returncode == 0, graded.stdout + graded.stderr
    with (tmp_path / "graded" / "reports" / f"{first}_fr" / "grades.csv").open() as handle:
        assert {row["student"]: float(row["total"]) for row in csv.DictReader(handle)} == {"zoe": SPEC.total}
    page = (tmp_path / "graded" / "feedback" / "zoe" / f"{first}_fr" / f"{first}_fr.html").read_text()
    assert "得分" in page  # the page's frame in the edition's catalogue


SECOND = ROOT / "tests" / "second_course"


def test_a_second_assignment_is_released_and_graded_by_the_same_code(tmp_path):
    """tests/second_course: three functions of another kind (arrays in, arrays and a number out, one calling
    another), its own course.toml, recipes, visible cases and source notebook. Released with nbgrader and graded
    by `python -m autograder grade` with COURSE_SPEC naming its course.toml: no line of the grader changes."""
    from course_spec import load

    second = load(str(SECOND / "course.toml"))
    course = tmp_path / "course"
    course.mkdir()
    shutil.copy(ROOT / "nbgrader_config.py", course)
    shutil.copytree(SECOND / "source", course / "source")  # the links to its modules become files
    env = dict(os.environ, COURSE_SPEC=str(SECOND / "course.toml"))
    script = textwrap.dedent(
        f"""
        import pathlib
        from tools.notebooks import generate_release
        from autograder.simulated.synthetic import course_notebooks, fill_answers, write_submission
        course = pathlib.Path({str(course)!r})
        generate_release("vector_basics", course, course / "release" / "vector_basics")
        release, answers = course_notebooks("vector_basics", course)
        unstable = "def softmax(Z):\\n    E = np.exp(Z)\\n    return E / E.sum(axis=0, keepdims=True)\\n"
        columns = answers["standardize"].replace("X.std(axis=1", "X.std(axis=0")
        assert columns != answers["standardize"]
        for student, work in {{
            "ana": answers,
            "ben": dict(answers, softmax=unstable),  # overflows on large values: loses softmax only
            "cy": dict(answers, standardize=columns),
        }}.items():
            write_submission(fill_answers(release, work), course, student, "vector_basics")
        """
    )
    made = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
    )
    assert made.returncode == 0, made.stdout + made.stderr
    graded = subprocess.run(
        [sys.executable, "-m", "autograder", "grade", "--course", str(course)],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert graded.returncode == 0, graded.stdout + graded.stderr
    with (course / "reports" / "vector_basics" / "grades.csv").open() as handle:
        rows = {row["student"]: row for row in csv.DictReader(handle)}
    total = second.total
    assert {s: float(r["total"]) for s, r in rows.items()} == {
        "ana": total,
        "ben": total - second.points["softmax"],
        "cy": total - second.points["standardize"],
    }
    assert rows["ben"]["softmax_loss"] == f"{second.points['softmax_loss']:g}"  # judged with the reference softmax
    page = (course / "feedback" / "ben" / "vector_basics" / "vector_basics.html").read_text()
    assert "NaN" in page and f"(Score: {float(total - second.points['softmax'])} / {float(total)})" in page
