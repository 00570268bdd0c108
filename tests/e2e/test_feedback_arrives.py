"""The student sees feedback arrive, as nbgrader's exchange reports it to JupyterLab's Assignments tab.

A real exchange in a temporary folder, `python -m autograder watch` running, students who fetch the assignment
(the notebook and the ungraded appendix beside it), fill it in and `nbgrader submit` it. What the Assignments tab
shows is nbgrader's list (`ExchangeList`, with `cached`: the server extension's `list_submitted_assignments`),
asked here as the tab asks it, every fraction of a second: feedback to fetch while the submission is graded (a
page saying so, and about when), then the real page, then, once fetched, "view feedback". `nbgrader list
--inbound` and `--cached` say the same on the command line.
"""

import time
from pathlib import Path

import nbformat
import pytest
from nbgrader.utils import notebook_hash

from autograder import EDITIONS, nbgrader_cli
from autograder.simulated.synthetic import course_notebooks, fill_answers

from ..conftest import TOTAL, score
from .test_watch import COURSE_ID, released, service, wait_for

TANH = "    dZ1 = (W2.T @ dZ2) * (1 - A1 ** 2)\n"


def wrong_backward(assignment: str) -> dict:
    """The instructor's answers, but backward_propagation without tanh's derivative."""
    _, answers = course_notebooks(assignment)
    assert TANH in answers["backward_propagation"]
    return dict(answers, backward_propagation=answers["backward_propagation"].replace(TANH, "    dZ1 = W2.T @ dZ2\n"))


@pytest.fixture()
def exchange_course(tmp_path):
    """(course, exchange): both editions released."""
    return released(tmp_path, EDITIONS)


def student_home(tmp_path: Path, exchange: Path, student: str) -> Path:
    """A student's folder with their nbgrader configuration (their own cache: one OS user plays them all)."""
    home = tmp_path / "students" / student
    home.mkdir(parents=True)
    (home / "nbgrader_config.py").write_text(
        f"c = get_config()\nc.CourseDirectory.course_id = {COURSE_ID!r}\nc.Exchange.root = {str(exchange)!r}\n"
        f"c.Exchange.cache = {str(home / 'cache')!r}\nc.CourseDirectory.student_id = {student!r}\n"
    )
    return home


def nbgrader(home: Path, *args: str) -> str:
    result = nbgrader_cli.run(*args, cwd=home, timeout=600)
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout + result.stderr


def submissions(home: Path, assignment: str) -> list[dict]:
    """The student's submissions as the Assignments tab gets them: nbgrader's ExchangeList over the cache."""
    from nbgrader.auth import Authenticator
    from nbgrader.coursedir import CourseDirectory
    from nbgrader.exchange import ExchangeFactory
    from traitlets.config import Config, PyFileConfigLoader

    config = Config()
    config.merge(PyFileConfigLoader("nbgrader_config.py", path=str(home)).load_config())
    config.ExchangeList.cached = True
    config.CourseDirectory.assignment_id = assignment
    config.CourseDirectory.root = str(home)
    coursedir = CourseDirectory(config=config)
    lister = ExchangeFactory(config=config).List(
        coursedir=coursedir, authenticator=Authenticator(config=config), config=config
    )
    lister.assignment_dir = str(home)
    found = lister.start()
    return found[0]["submissions"] if found else []


@pytest.mark.parametrize("assignment", sorted(EDITIONS))
def test_the_exchange_reports_feedback_while_grading_and_once_graded(exchange_course, tmp_path, assignment):
    course, exchange = exchange_course
    home = student_home(tmp_path, exchange, "li")
    nbgrader(home, "fetch_assignment", assignment)
    fetched = sorted(p.name for p in (home / assignment).glob("*.ipynb"))
    assert len(fetched) == 2  # the assignment and the ungraded appendix: both count for nbgrader
    notebook = home / assignment / f"{assignment}.ipynb"
    nbformat.write(fill_answers(nbformat.read(notebook, as_version=4), wrong_backward(assignment)), notebook)
    watcher = service(course)
    try:
        nbgrader(home, "submit", assignment)
        [submission] = submissions(home, assignment)
        assert sorted(nb["notebook_id"] for nb in submission["notebooks"]) == sorted(Path(n).stem for n in fetched)
        pages = []  # what the exchange held for the assignment's notebook, each time the list said "feedback"

        secret = (Path(submission["path"]) / "submission_secret.txt").read_text()
        outbound = exchange / COURSE_ID / "feedback" / f"{notebook_hash(secret=secret, notebook_id=assignment)}.html"

        def graded() -> bool:
            [now] = submissions(home, assignment)
            if now["has_exchange_feedback"]:
                pages.append(outbound.read_text())
            return bool(pages) and "<!-- autograder: grading -->" not in pages[-1]

        began = time.monotonic()
        wait_for(graded, timeout=240, what="the feedback")
        print(f"{assignment}: feedback reported {time.monotonic() - began:.1f} s after submit")
    finally:
        watcher.kill()
        watcher.wait()
    notice = pages[0]
    assert "<!-- autograder: grading -->" in notice  # first the notice, with when
    language = EDITIONS[assignment]
    assert ("is being graded" in notice and "at about" in notice) if language == "en" else ("正在评分" in notice)
    out_of = f"{float(score('backward_propagation'))} / {float(TOTAL)})"
    assert f"(Score: {out_of}" in pages[-1] or f"(得分: {out_of}" in pages[-1]

    # the command line, as a student types it (nbgrader 0.9.6's list logs one line per submission)
    [inbound] = [line for line in nbgrader(home, "list", "--inbound").splitlines() if f" li {assignment} " in line]
    assert inbound.endswith("(feedback ready to be fetched)")

    nbgrader(home, "fetch_feedback", assignment)
    [submission] = submissions(home, assignment)
    assert submission["has_local_feedback"] and not submission["feedback_updated"]  # the tab: "(view feedback)"
    local = Path(submission["local_feedback_path"])
    assert sorted(p.name for p in local.glob("*.html")) == sorted(f"{Path(n).stem}.html" for n in fetched)
    page = (local / f"{assignment}.html").read_text()
    assert 'id="summary"' in page and "backward_propagation" in page
    assert ("tanh's derivative is missing" if language == "en" else "缺少 tanh 的导数") in page

    [cached] = [line for line in nbgrader(home, "list", "--cached").splitlines() if f" li {assignment} " in line]
    assert cached.endswith("(feedback already fetched)")
