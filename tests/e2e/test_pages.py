"""The pages an instructor and a student open, in a real browser, offline: feedback pages and summary.html.

Headless Chromium (Debian's chromium and chromium-driver; .ci/run installs them) opens
the files of a graded demo class with every host name unresolvable, at 1280 and 1400
pixels wide. The equations must be typeset (MathML, drawn by the browser), no
request may leave the machine, and nothing may scroll sideways: not the page, not a
verdict, not the table of all submissions.
"""

import shutil
from pathlib import Path

import pytest

from autograder import ASSIGNMENT, EDITIONS
from autograder.course import db_url_from_config
from autograder.pipeline import run
from autograder.settings import Limits, Settings
from autograder.simulated.demo import build_demo_course

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")
pytestmark = pytest.mark.skipif(
    not (CHROMIUM and CHROMEDRIVER), reason="needs Debian's chromium and chromium-driver (.ci/run installs them)"
)


@pytest.fixture(scope="module")
def browser():
    from selenium import webdriver
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service

    options = Options()
    options.binary_location = CHROMIUM
    for argument in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",  # offline: no host name resolves
    ):
        options.add_argument(argument)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    yield driver
    driver.quit()


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """The demo class, graded in both editions (the Chinese one by the same students)."""
    courses = {}
    for assignment in EDITIONS:
        course = build_demo_course(tmp_path_factory.mktemp(assignment) / "demo", assignment)
        run(
            Settings(
                course_dir=course,
                assignment=assignment,
                db_url=db_url_from_config(course),
                workers=2,
                limits=Limits(cell_timeout=10, submission_timeout=60),
            )
        )
        courses[assignment] = course
    return courses


def open_page(browser, path: Path, width: int) -> None:
    browser.set_window_size(width, 900)
    browser.get(path.as_uri())


def sideways(browser) -> dict:
    """What scrolls sideways: the page itself, and any verdict or output box."""
    return browser.execute_script(
        """
        const page = Math.max(0, document.documentElement.scrollWidth - window.innerWidth);
        const boxes = [...document.querySelectorAll('div.output_subarea pre, div.output_area pre')]
            .filter(box => box.scrollWidth > box.clientWidth + 1).length;
        return {page: page, boxes: boxes};
        """
    )


def requests_off_the_machine(browser) -> list:
    return browser.execute_script(
        "return performance.getEntriesByType('resource').map(e => e.name)"
        ".filter(n => !n.startsWith('file:') && !n.startsWith('data:'))"
    )


@pytest.mark.parametrize("assignment", sorted(EDITIONS))
@pytest.mark.parametrize("width", [1280, 1400])
def test_a_feedback_page_reads_well_offline(browser, demo, assignment, width):
    """ben's page (a wrong backward_propagation): equations typeset, the verdict wrapped, nothing fetched."""
    page = demo[assignment] / "feedback" / "ben" / assignment / f"{assignment}.html"
    open_page(browser, page, width)
    math = browser.execute_script(
        "return [...document.querySelectorAll('math')].map(m => m.getBoundingClientRect().width)"
    )
    assert len(math) > 30 and min(math) > 0  # drawn, not left as TeX
    text = browser.execute_script("return document.body.innerText")
    assert "$$" not in text and "\\frac" not in text
    assert sideways(browser) == {"page": 0, "boxes": 0}
    assert requests_off_the_machine(browser) == []
    verdict = browser.execute_script(
        "return document.querySelector('a[name=test_backward_propagation]').closest('div.cell').innerText"
    )
    assert "dW1" in verdict and ("Hint" in verdict or "提示" in verdict)  # the hint is there to read, wrapped


@pytest.mark.parametrize("width", [1280, 1400])
def test_the_summary_fits_and_names_who_needs_attention(browser, demo, width):
    summary = demo[ASSIGNMENT] / "reports" / ASSIGNMENT / "summary.html"
    open_page(browser, summary, width)
    assert sideways(browser)["page"] == 0
    right = browser.execute_script("return document.getElementById('all').getBoundingClientRect().right")
    assert right <= width
    attention = browser.execute_script(
        "return [...document.querySelectorAll('h2')].find(h => h.textContent.startsWith('Needs attention'))"
        ".nextElementSibling.innerText"
    )
    for student, why in (
        ("finn", "reaches for the grading machinery"),
        ("gus", "right on the visible case only"),
        ("eve", "timeout"),
    ):
        assert student in attention and why in attention
    assert requests_off_the_machine(browser) == []
    mistakes = browser.execute_script("return document.body.innerText")
    assert "\nmissing\t" not in mistakes  # an outcome is named in words


@pytest.mark.parametrize("assignment", sorted(EDITIONS))
def test_a_students_notebook_opens_in_jupyterlab_without_unsaved_changes(browser, tmp_path, assignment):
    """JupyterLab writes the kernel's language_info into a notebook it opens: stored whole, it changes nothing."""
    import json
    import platform
    import secrets
    import socket
    import subprocess
    import sys
    import time

    from autograder import nbgrader_cli

    from ..conftest import ROOT

    folder = tmp_path / "student"
    shutil.copytree(ROOT / "release" / assignment, folder)
    stored = json.loads((folder / f"{assignment}.ipynb").read_text())["metadata"]["language_info"]
    if stored.get("version") != platform.python_version():
        pytest.skip(
            f"the notebooks were stored with Python {stored.get('version')}, this is {platform.python_version()}"
        )
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    token = secrets.token_hex(8)
    log = (tmp_path / "lab.log").open("w")
    lab = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "jupyter",
            "lab",
            "--no-browser",
            "--allow-root",
            "--ip=127.0.0.1",
            f"--port={port}",
            f"--ServerApp.token={token}",
            f"--ServerApp.root_dir={folder}",
        ],  # fmt: skip
        env=nbgrader_cli.environment(),
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        browser.set_window_size(1400, 900)
        deadline = time.monotonic() + 120
        while True:
            try:
                browser.get(f"http://127.0.0.1:{port}/lab/tree/{assignment}.ipynb?token={token}")
                break
            except Exception:
                if time.monotonic() > deadline:
                    raise
                time.sleep(1)
        state = None
        while time.monotonic() < deadline:
            state = browser.execute_script(
                """const tab = [...document.querySelectorAll('.lm-TabBar-tab')].find(t => t.innerText.includes(arguments[0]));
                   const kernel = document.querySelector('.jp-Notebook-ExecutionIndicator');
                   return tab ? {dirty: tab.classList.contains('jp-mod-dirty'),
                                 idle: kernel ? kernel.getAttribute('data-status') === 'idle' : false} : null;""",
                assignment,
            )
            if state and state["idle"]:
                time.sleep(2)  # the kernel's info has arrived; give the model a moment to take it
                break
            time.sleep(0.5)
        dirty = browser.execute_script(
            "return [...document.querySelectorAll('.lm-TabBar-tab')].some(t => t.classList.contains('jp-mod-dirty'))"
        )
        assert state and state["idle"], state
        assert not dirty
    finally:
        lab.terminate()
        lab.wait(timeout=30)
        log.close()


def test_the_summarys_own_script_runs_under_its_policy(browser, demo):
    """Does sorting still work (the page's one script, allowed by its hash) with the policy in force?"""
    summary = demo[ASSIGNMENT] / "reports" / ASSIGNMENT / "summary.html"
    open_page(browser, summary, 1400)
    order = "return [...document.querySelectorAll('#all tbody tr')].map(r => r.cells[0].textContent.trim())"
    before = browser.execute_script(order)
    browser.execute_script("document.querySelector('#all th.sortable').click()")
    browser.execute_script("document.querySelector('#all th.sortable').click()")  # twice: the reverse order
    assert browser.execute_script(order) == sorted(before, reverse=True) != before


def test_a_students_hostile_markdown_is_inert_in_the_browser(browser, tmp_path):
    """A student's markdown with script, script links (a backslash before the colon, too), remote images, event
    handlers and MathJax's \\href: in the feedback page nothing runs, nothing loads, no link is a script."""
    from autograder.simulated.synthetic import course_notebooks, fill_answers, new_course, write_submission

    from ..crafted import _with_unsafe_cells

    course = new_course(tmp_path / "course")
    release, answers = course_notebooks()
    write_submission(_with_unsafe_cells(fill_answers(release, answers)), course, "mallory", ASSIGNMENT)
    run(
        Settings(
            course_dir=course,
            assignment=ASSIGNMENT,
            db_url=db_url_from_config(course),
            workers=1,
            limits=Limits(cell_timeout=10, submission_timeout=60),
        )
    )
    page = course / "feedback" / "mallory" / ASSIGNMENT / f"{ASSIGNMENT}.html"
    open_page(browser, page, 1280)
    links = browser.execute_script("return [...document.querySelectorAll('a[href]')].map(a => a.href)")
    assert not [link for link in links if link.split(":")[0] not in ("file", "http", "https", "mailto")]
    images = browser.execute_script("return [...document.images].map(i => i.src)")
    assert all(src == "" or src.startswith("data:") for src in images), images  # a cleaned image has no source
    assert requests_off_the_machine(browser) == []
    text = browser.execute_script("return document.body.innerText")
    assert "xss-backslash" in text or "escaped" in text  # the student's text is shown, as text
    assert browser.execute_script("return document.querySelectorAll('[onerror], [onclick], iframe, svg').length") == 0
    policy = browser.execute_script(
        "return document.querySelector('meta[http-equiv=Content-Security-Policy]').getAttribute('content')"
    )
    assert "default-src 'none'" in policy and "script-src" not in policy  # no script of any kind may run
