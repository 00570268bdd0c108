"""A student in JupyterLab's Assignments tab sees their feedback arrive, fetches it and reads it, in a real browser.

JupyterLab with nbgrader's extension (the student's own folder and configuration), a real exchange in a temporary
folder, `python -m autograder watch` grading as submissions arrive, headless Chromium. The student has fetched the
assignment and filled it in (tanh's derivative missing in backward_propagation), then, in the Assignments tab
(menu Nbgrader > Assignment List), and without leaving it: Submit; refresh until "(feedback available to fetch)";
Fetch Feedback; "(view feedback)" opens the feedback folder, where the page opens in JupyterLab's HTML viewer. A
page that says the submission is still being graded is read (it says about when), and the tab is refreshed until
the graded page replaces it. The first screen of the page must name backward_propagation, its 0 / 20 and why.
Screenshots of each step are kept in build/screenshots/assignments-tab/.
"""

import re
import secrets
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest

from autograder import EDITIONS, nbgrader_cli
from autograder.simulated.synthetic import fill_answers

from ..conftest import ROOT
from .test_feedback_arrives import exchange_course, nbgrader, student_home, wrong_backward  # noqa: F401 - fixture
from .test_pages import CHROMEDRIVER, CHROMIUM, browser  # noqa: F401 - fixture
from .test_watch import service

pytestmark = pytest.mark.skipif(
    not (CHROMIUM and CHROMEDRIVER), reason="needs Debian's chromium and chromium-driver (.ci/run installs them)"
)
SHOTS = ROOT / "build" / "screenshots" / "assignments-tab"
WHY = {"en": "tanh's derivative is missing", "zh": "缺少 tanh 的导数"}
GRADING = {"en": ("is being graded", "at about"), "zh": ("正在评分", "大约在")}  # the page while grading


def jupyter_lab(home: Path, log: Path) -> tuple[subprocess.Popen, str]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    token = secrets.token_hex(8)
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
            f"--ServerApp.root_dir={home}",
        ],  # fmt: skip
        cwd=home,
        env=nbgrader_cli.environment(HOME=str(home)),
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
    )
    return lab, f"http://127.0.0.1:{port}/lab?token={token}"


def until(condition, timeout: float, what: str, every: float = 0.5):
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"waited {timeout:g} s for {what}")
        time.sleep(every)


class Tab:
    """The Assignments tab, driven as a student drives it: buttons and links by their text."""

    def __init__(self, driver, assignment: str):
        self.driver = driver
        self.assignment = assignment

    def js(self, script: str, *args):
        return self.driver.execute_script(script, *args)

    def open(self) -> None:
        """Menu Nbgrader > Assignment List, clicked as a mouse does (Lumino menus open on pointer events)."""
        from selenium.webdriver.common.by import By

        self.driver.find_element(By.XPATH, "//div[contains(@class,'lm-MenuBar-itemLabel')][text()='Nbgrader']").click()
        until(
            lambda: self.driver.find_elements(
                By.XPATH, "//div[contains(@class,'lm-Menu-itemLabel')][text()='Assignment List']"
            ),
            10,
            "the menu",
        )[0].click()
        until(lambda: self.row("fetched_assignments_list") or self.row("submitted_assignments_list"), 60, "the tab")

    def row(self, section: str) -> str:
        """The text of this assignment's row in a section of the tab ("" when there is none)."""
        return self.js(
            "const list = document.getElementById(arguments[0]); if (!list) return '';"
            "const row = [...list.querySelectorAll('.list_item')].find(r => r.innerText.includes(arguments[1]));"
            "return row ? row.innerText : '';",
            section,
            self.assignment,
        )

    def click(self, section: str, text: str) -> bool:
        """Click the button or link saying ``text`` in this assignment's row of ``section``."""
        return self.js(
            "const list = document.getElementById(arguments[0]);"
            "const rows = [...list.querySelectorAll('.list_item')].filter(r => r.innerText.includes(arguments[1]));"
            "for (const row of rows) { const b = [...row.querySelectorAll('button, a')]"
            "  .find(e => e.innerText.trim() === arguments[2]);"
            "  if (b && !b.disabled) { b.click(); return true; } } return false;",
            section,
            self.assignment,
            text,
        )

    def refresh(self) -> None:
        self.js("document.getElementById('refresh_assignments_list').click()")
        time.sleep(1.5)

    def submission(self) -> str:
        return self.js(
            "const list = document.getElementById('submitted_assignments_list'); if (!list) return '';"
            "const rows = [...list.querySelectorAll('.nested_list_item')]; return rows.length ?"
            " rows[rows.length - 1].innerText : '';"
        )


def open_page(driver, assignment: str) -> None:
    """In the file browser (where "view feedback" went), open the assignment's page in the HTML viewer."""
    name = f"{assignment}.html"
    until(
        lambda: driver.execute_script(
            "const item = [...document.querySelectorAll('.jp-DirListing-item')]"
            ".find(i => (i.querySelector('.jp-DirListing-itemText') || i).textContent.trim() === arguments[0]);"
            "if (!item) return false; item.dispatchEvent(new MouseEvent('dblclick', {bubbles: true})); return true;",
            name,
        ),
        30,
        f"{name} in the file browser",
    )


def page_text(driver, assignment: str, shot: Path) -> tuple[str, list]:
    """(the page's text, its summary rows that lost points, with whether each is on the first screen)."""
    frame = until(
        lambda: driver.execute_script(
            "const tab = [...document.querySelectorAll('.lm-DockPanel-widget')].find(w => !w.classList.contains("
            "'lm-mod-hidden') && w.querySelector('iframe'));"
            "return tab ? tab.querySelector('iframe') : null;"
        ),
        30,
        "the HTML viewer",
    )
    driver.switch_to.frame(frame)
    try:
        until(lambda: driver.execute_script("return document.body && document.body.innerText.length > 50"), 30, "text")
        text = driver.execute_script("return document.body.innerText")
        rows = driver.execute_script(
            "return [...document.querySelectorAll('#summary tr.summary-lost')].map(r => ({text: r.innerText,"
            " bottom: r.getBoundingClientRect().bottom, height: window.innerHeight}))"
        )
    finally:
        driver.switch_to.default_content()
    driver.save_screenshot(str(shot))
    return text, rows


@pytest.mark.parametrize("assignment", sorted(EDITIONS))
def test_a_student_sees_feedback_arrive_in_the_assignments_tab(browser, exchange_course, tmp_path, assignment):  # noqa: F811
    course, exchange = exchange_course
    language = EDITIONS[assignment]
    shots = SHOTS / assignment
    shutil.rmtree(shots, ignore_errors=True)
    shots.mkdir(parents=True)
    home = student_home(tmp_path, exchange, "li")
    nbgrader(home, "fetch_assignment", assignment)
    notebook = home / assignment / f"{assignment}.ipynb"
    nbformat.write(fill_answers(nbformat.read(notebook, as_version=4), wrong_backward(assignment)), notebook)

    watcher = service(course)
    lab, url = jupyter_lab(home, tmp_path / "lab.log")
    try:
        browser.set_window_size(1400, 1000)
        until(lambda: _get(browser, url), 120, "JupyterLab")
        until(lambda: browser.execute_script("return !!document.querySelector('.lm-MenuBar-itemLabel')"), 120, "menus")
        browser.execute_script(  # JupyterLab's question about news, in the way of the screenshots
            "setTimeout(() => [...document.querySelectorAll('.jp-toast-button')].find(b => b.innerText === 'No')"
            "?.click(), 3000)"
        )
        tab = Tab(browser, assignment)
        tab.open()
        browser.save_screenshot(str(shots / "1-fetched.png"))
        assert tab.click("fetched_assignments_list", "Submit")
        submitted = time.monotonic()
        until(lambda: tab.submission(), 60, "the submission in the tab")

        def feedback_to_fetch():
            tab.refresh()
            return "(feedback available to fetch)" in tab.submission()

        until(feedback_to_fetch, 240, '"feedback available to fetch"', every=0)
        available = time.monotonic() - submitted
        browser.save_screenshot(str(shots / "2-feedback-available.png"))
        for attempt in range(1, 6):
            assert tab.click("submitted_assignments_list", "Fetch Feedback")
            until(lambda: "(view feedback)" in tab.submission(), 60, '"view feedback"')
            assert tab.click("submitted_assignments_list", "(view feedback)")
            time.sleep(1)
            browser.save_screenshot(str(shots / f"3-view-feedback-{attempt}.png"))
            open_page(browser, assignment)
            text, rows = page_text(browser, assignment, shots / f"4-page-{attempt}.png")
            if rows:
                break
            # the page that stands in while grading: it says so, and about when; the graded page replaces it
            assert all(words in text for words in GRADING[language])
            assert re.search(r"\d\d:\d\d:\d\d UTC", text)  # about when
            close_current_tab(browser)  # the viewer shows a file as it was opened
            tab.open()
            until(feedback_to_fetch, 240, "the graded page", every=0)
        read = time.monotonic() - submitted
        print(
            f"{assignment}: feedback to fetch {available:.1f} s after Submit; the graded page read "
            f"{read:.1f} s after Submit, on attempt {attempt}"
        )
        [row] = rows
        assert "backward_propagation" in row["text"] and "0 / 20" in row["text"] and WHY[language] in row["text"]
        assert row["bottom"] <= row["height"]  # on the first screen
        if language == "zh":
            assert "Score" not in text.split("\n", 3)[0] and "得分" in text
    finally:
        lab.terminate()
        lab.wait(timeout=30)
        watcher.kill()
        watcher.wait()


def close_current_tab(driver) -> None:
    from selenium.webdriver.common.by import By

    driver.find_element(
        By.CSS_SELECTOR, ".lm-DockPanel-tabBar .lm-TabBar-tab.lm-mod-current .lm-TabBar-tabCloseIcon"
    ).click()
    time.sleep(0.5)


def _get(driver, url: str) -> bool:
    try:
        driver.get(url)
        return True
    except Exception:  # noqa: BLE001 - the server is still starting
        return False
