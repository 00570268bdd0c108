"""End to end: a crafted class graded by `autograder.pipeline` with the sandbox on.

Every attack, fault, malformed input and correct idiom of tests/crafted.py is one
student; the class is graded once and each test checks one promise.
"""

import csv
import json
import re
import socket
import sqlite3
import subprocess
import threading

import nbformat
import pytest
from nbconvert.filters.markdown_mistune import markdown2html_mistune

from autograder import ASSIGNMENT, GRADED_FUNCTIONS
from autograder.course import db_url_from_config
from autograder.pipeline import run
from autograder.results import Kind
from autograder.sandbox import SandboxLimits
from autograder.seeds import load_secret
from autograder.settings import Limits, Settings
from autograder.simulated.synthetic import course_notebooks, new_course

from .. import crafted, inert


class LoopbackServer:
    """Counts the connections it receives on 127.0.0.1 (or on a Unix socket at ``path``)."""

    def __init__(self, path=None):
        if path is None:
            self.socket = socket.create_server(("127.0.0.1", 0))
            self.port = self.socket.getsockname()[1]
        else:
            self.socket = socket.socket(socket.AF_UNIX)
            self.socket.bind(str(path))
            self.socket.listen(64)
        self.connections = 0
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self):
        while True:
            try:
                connection, _ = self.socket.accept()
            except OSError:
                return
            self.connections += 1
            connection.close()


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    course = new_course(tmp_path_factory.mktemp("crafted"))
    server = LoopbackServer()
    host = LoopbackServer(course / "host.sock")  # a socket of the host's that no kernel may make the grader reach
    release, solutions = course_notebooks()
    load_secret(course / ".autograder" / "secret")  # the grader's secret, which one student hard-links
    bystander = subprocess.Popen(["sleep", "123456789"])  # a process of the machine's that must survive
    crafted.build(course, release, solutions, server.port, bystander.pid, str(course / "host.sock"))
    gradebook_before = course / "gradebook.db"
    assert not gradebook_before.exists()  # a fresh course: the grader registers the assignment itself
    settings = Settings(
        course_dir=course,
        assignment=ASSIGNMENT,
        db_url=db_url_from_config(course),
        workers=2,
        limits=Limits(cell_timeout=5, submission_timeout=60),
        sandbox=SandboxLimits(memory_mb=2048, cpu_seconds=120),
    )
    summary = run(settings)
    server.socket.close()
    host.socket.close()
    server.host_connections = host.connections
    survived = bystander.poll() is None
    bystander.kill()
    return course, summary, server, survived


def gradebook_scores(course, student):
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gradebook:
        return {
            name: gradebook.find_grade(f"test_{name}", ASSIGNMENT, ASSIGNMENT, student).score
            for name in GRADED_FUNCTIONS
        }


@pytest.mark.parametrize("student", crafted.graded_students())
def test_each_function_gets_exactly_its_score(graded, student):
    course, summary, _, _ = graded
    assert gradebook_scores(course, student) == crafted.STUDENTS[student]["expected"]


@pytest.mark.parametrize("student", sorted(s for s, spec in crafted.STUDENTS.items() if "message" in spec))
def test_the_function_that_failed_says_why(graded, student):
    _, summary, _, _ = graded
    function, text = crafted.STUDENTS[student]["message"]
    result = next(r for r in summary.results if r.student == student)
    assert text in next(f.message for f in result.functions if f.name == function)


def test_skipped_folders_are_not_graded_and_are_listed_with_the_reason(graded):
    course, summary, _, _ = graded
    skipped = {s.name: s.reason for s in summary.skipped}
    for student, spec in crafted.STUDENTS.items():
        if spec["expected"] is None:
            shown = student.replace("\n", "\\n")
            assert spec["skipped"] in skipped[shown]
    with summary.csv_path.open() as handle:
        rows = {row["student"]: row for row in csv.DictReader(handle)}
    assert (
        "not graded: skipped folder: submitted/links-folder-is-a-symlink" in rows["links-folder-is-a-symlink"]["status"]
    )
    assert rows["alice\\n"]["total"] == "" and "not a valid student id" in rows["alice\\n"]["status"]
    html = (summary.report_path).read_text()
    assert "links-folder-is-a-symlink" in html and "is a symbolic link" in html


def test_nothing_is_read_through_a_link(graded):
    course, _, _, _ = graded
    secret = (course / ".autograder" / "secret").read_text().strip()
    for student in ("links-hardlink-to-secret", "links-symlink-to-source"):
        notebook = (course / "autograded" / student / ASSIGNMENT / f"{ASSIGNMENT}.ipynb").read_text()
        assert secret not in notebook and "BEGIN SOLUTION" not in notebook


@pytest.mark.parametrize("student", sorted(s for s, spec in crafted.STUDENTS.items() if "status" in spec))
def test_status_says_why(graded, student):
    course, summary, _, _ = graded
    result = next(r for r in summary.results if r.student == student)
    assert crafted.STUDENTS[student]["status"] in result.status


def test_clean_submissions_have_status_ok(graded):
    _, summary, _, _ = graded
    for result in summary.results:
        if result.student.startswith("pass-"):
            assert result.status == "ok", result


def test_grades_csv_has_one_row_per_student(graded):
    course, summary, _, _ = graded
    with summary.csv_path.open() as handle:
        rows = [row for row in csv.DictReader(handle) if row["total"]]
    shown = {student: "'" + student if student.startswith("=") else student for student in crafted.graded_students()}
    assert sorted(row["student"] for row in rows) == sorted(shown.values())
    assert list(rows[0])[:10] == ["student", "total", *GRADED_FUNCTIONS]
    for student, name in shown.items():
        row = next(row for row in rows if row["student"] == name)
        assert float(row["total"]) == crafted.expected_total(student)
        assert row["sandboxed"] == "yes"


def test_gradebook_is_intact_and_complete(graded):
    """Did the gradebook survive a submission that tried to overwrite it, with one row per student?"""
    course, _, _, _ = graded
    connection = sqlite3.connect(course / "gradebook.db")
    assert connection.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    count = connection.execute("SELECT COUNT(*) FROM submitted_assignment").fetchone()[0]
    assert count == len(crafted.graded_students())
    connection.close()


def test_other_submissions_are_untouched(graded):
    course, _, _, _ = graded
    target = course / "submitted" / "pass-perfect-2" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
    nbformat.validate(nbformat.read(target, as_version=4))
    assert not (course / "evil").exists()


def test_no_connection_reached_the_loopback_server(graded):
    _, _, server, _ = graded
    assert server.connections == 0


def test_no_process_outlives_its_submission(graded):
    result = subprocess.run(["pgrep", "-f", "sleep 777123"], capture_output=True, text=True)
    assert result.stdout == ""


def test_sandbox_blocked_what_it_should_in_the_students_own_output(graded):
    """Do the autograded notebooks show the attempts failing inside the kernel?"""
    course, _, _, _ = graded

    def outputs(student):
        notebook = nbformat.read(course / "autograded" / student / ASSIGNMENT / f"{ASSIGNMENT}.ipynb", as_version=4)
        return "".join(o.get("text", "") for c in notebook.cells if c.cell_type == "code" for o in c.outputs)

    assert "found: []" in outputs("sandbox-read-instructor-files")
    assert outputs("sandbox-network").count("blocked:") == 2
    assert outputs("sandbox-write-gradebook").count("blocked:") == 5
    assert "[grader] not kept: text beyond 20000 characters" in outputs("fault-huge-output")


def test_verdicts_are_written_where_nbgrader_reads_them(graded):
    course, _, _, _ = graded
    notebook = nbformat.read(
        course / "autograded" / "fault-crash-in-forward" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb", as_version=4
    )
    cells = {c.metadata.nbgrader["grade_id"]: c for c in notebook.cells if "nbgrader" in c.metadata}
    assert cells["test_forward_propagation"].outputs[0].ename == "KernelDied"
    assert cells["test_predict"].outputs[0].output_type == "stream"


def test_feedback_exists_for_every_student_and_hides_the_hidden_tests(graded):
    course, summary, _, _ = graded
    for student in crafted.graded_students():
        html = (course / "feedback" / student / ASSIGNMENT / f"{ASSIGNMENT}.html").read_text()
        assert "HIDDEN TESTS" not in html and "check_hidden_cases" not in html


def test_feedback_of_an_unreadable_submission_says_why(graded):
    course, _, _, _ = graded
    html = (course / "feedback" / "file-invalid-json" / ASSIGNMENT / f"{ASSIGNMENT}.html").read_text()
    assert "malformed notebook: invalid JSON" in html


def _graded_files(course, student):
    return (
        course / "autograded" / student / ASSIGNMENT / f"{ASSIGNMENT}.ipynb",
        course / "feedback" / student / ASSIGNMENT / f"{ASSIGNMENT}.html",
    )


def _shown_outputs(notebook) -> str:
    return json.dumps([c.outputs for c in nbformat.read(notebook, as_version=4).cells if c.cell_type == "code"])


def test_rich_outputs_are_dropped_and_bounded(graded):
    """Do 12 MB of HTML displays leave a notebook and a feedback page of a few hundred kB, saying what was cut?"""
    course, _, _, _ = graded
    notebook, feedback = _graded_files(course, "unsafe-huge-displays")
    assert notebook.stat().st_size < 1_000_000 and feedback.stat().st_size < 2_000_000
    assert "text/html output (only text and images are kept)" in _shown_outputs(notebook)


def test_long_text_is_cut_at_the_cells_cap(graded):
    course, _, _, _ = graded
    notebook, _ = _graded_files(course, "unsafe-long-print")
    cells = nbformat.read(notebook, as_version=4).cells
    printed = next(c for c in cells if c.get("id") == "added-0").outputs
    text = "".join(o.get("text", "") for o in printed)
    kept, note = text.split("\n[grader] not kept: ")
    assert kept == "y" * 20_000 and "text beyond 20000 characters" in note


def test_nothing_a_student_displays_runs_as_script(graded):
    course, _, _, _ = graded
    notebook, feedback = _graded_files(course, "unsafe-outputs")
    cells = nbformat.read(notebook, as_version=4).cells
    shown = json.dumps(
        [c.outputs for c in cells if c.cell_type == "code"] + [c.source for c in cells if c.cell_type != "code"]
    )  # what renders as content
    assert "only text and images are kept" in shown
    assert inert.problems(feedback.read_text()) == []  # read as a browser reads it
    for cell in cells:  # formgrader's view: the student's cell as nbconvert renders it
        if cell.get("id") == "unsafe-markdown":
            rendered = markdown2html_mistune(cell.source)
            assert (
                inert.problems(f"<meta http-equiv='Content-Security-Policy' content=\"default-src 'none'\">{rendered}")
                == []
            )
            assert "$" not in rendered and "\\" not in rendered  # no TeX left for MathJax's \\href


def test_a_kernel_cannot_write_to_the_hosts_disk(graded):
    course, _, _, _ = graded
    notebook = (course / "autograded" / "disk-kernel-runtime" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb").read_text()
    assert "blocked:" in notebook and "No space left on device" in notebook


def test_feedback_names_the_classic_mistake_in_the_graders_words(graded):
    course, summary, _, _ = graded
    fixed_rate = next(r for r in summary.results if r.student == "mistake-fixed-rate")
    update = next(f for f in fixed_rate.functions if f.name == "update_parameters")
    assert "differs from the expected values" in update.message
    assert "Hint: the step does not use the learning_rate argument" in update.message
    assert not re.search(r"got -?\d|expected -?\d|too (high|low)", update.message)  # no value of a hidden case
    html = (course / "feedback" / "mistake-tanh-derivative" / ASSIGNMENT / f"{ASSIGNMENT}.html").read_text()
    assert "tanh&#39;s derivative is missing" in html or "tanh's derivative is missing" in html


def test_the_summary_counts_the_common_mistakes_of_the_class(graded):
    course, summary, _, _ = graded
    page = summary.report_path.read_text()
    section = page[page.index("Common mistakes of the class") : page.index("All submissions")]
    for label in (
        "tanh&#39;s derivative is missing",
        "your cost is m times too large",
        "these are probabilities, not labels",
    ):
        assert label in section
    row = section[section.index("tanh&#39;s derivative is missing") :]
    assert "mistake-tanh-derivative" in row[:600]


# -- the kernel boundary ----------------------------------------------------------------------------


def _printed(course, student, cell_id=None) -> str:
    notebook = nbformat.read(course / "autograded" / student / ASSIGNMENT / f"{ASSIGNMENT}.ipynb", as_version=4)
    return "".join(
        o.get("text", "")
        for c in notebook.cells
        if c.cell_type == "code" and (cell_id is None or c.get("id") == cell_id)
        for o in c.outputs
    )


def test_every_submission_is_graded_and_a_bystander_survives_every_attack(graded):
    """Did the class end with everyone graded (none "not graded"), and the machine's process untouched?"""
    _, summary, _, survived = graded
    assert survived
    assert [r.student for r in summary.results if not r.graded] == []


def test_a_kernel_holds_no_socket_but_its_own(graded):
    course, _, _, _ = graded
    assert "foreign sockets: 0" in _printed(course, "attack-zygote-sockets")


def test_a_kernel_cannot_make_the_grader_connect_to_another_socket(graded):
    course, _, server, _ = graded
    assert "swapped 5" in _printed(course, "attack-socket-link")
    assert server.host_connections == 0


def test_no_hidden_input_comes_back_in_a_visible_cases_message(graded):
    _, summary, _, _ = graded
    result = next(r for r in summary.results if r.student == "attack-hidden-leak")
    messages = {f.name: f.message for f in result.functions}
    assert "kept []" in messages["layer_sizes"]  # the first visible case: nothing kept yet
    assert "kept [[[" in messages["predict"] and "]], [[" not in messages["predict"]  # compute_cost's visible only


def test_text_utf8_cannot_write_is_replaced_and_a_flood_of_errors_is_cut(graded):
    course, _, _, _ = graded
    printed = _printed(course, "attack-surrogates")
    assert "out \ufffd" in printed and "err \ufffd" in printed
    feedback = course / "feedback" / "attack-surrogates" / ASSIGNMENT / f"{ASSIGNMENT}.html"
    assert "\ufffd" in feedback.read_text(encoding="utf-8")
    flood = course / "autograded" / "attack-error-flood" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
    assert flood.stat().st_size < 1_000_000 and "outputs beyond" in _printed(course, "attack-error-flood")


def test_a_kernel_cannot_clear_its_parent_death_signal_or_use_io_uring(graded):
    course, _, _, _ = graded
    printed = _printed(course, "attack-outlive")
    assert "clear pdeathsig -1 1" in printed and "io_uring_setup -1 1" in printed
    assert subprocess.run(["pgrep", "-f", "sleep 778899"], capture_output=True).stdout == b""


def test_no_name_the_students_code_chose_reaches_a_hidden_cases_message(graded):
    course, summary, _, _ = graded
    result = next(r for r in summary.results if r.student == "attack-named-leaks")
    failed = [f for f in result.functions if f.score == 0]
    assert len(failed) == 4 and all("hidden case" in f.message for f in failed)
    assert not any("LEAK" in f.message for f in result.functions)
    assert any("LEAK" in f.detail for f in failed)  # the instructor sees it
    feedback = (course / "feedback" / "attack-named-leaks" / ASSIGNMENT / f"{ASSIGNMENT}.html").read_text()
    assert "LEAK" not in feedback  # (the code spells it 'L' + 'EAK')


def test_hostile_input_leaves_every_file_of_the_run_small(graded):
    """A 19 MB forged report and 50 000 dict keys: no report, result or page grows past a few MB."""
    course, summary, _, _ = graded
    for student in ("attack-huge-report", "attack-many-keys"):
        result = next(r for r in summary.results if r.student == student)
        assert sum(len(f.message) + len(f.detail) for f in result.functions) < 50_000
        for path in (
            course / ".autograder" / ASSIGNMENT / "results" / f"{student}.json",
            course / "autograded" / student / ASSIGNMENT / f"{ASSIGNMENT}.ipynb",
            course / "feedback" / student / ASSIGNMENT / f"{ASSIGNMENT}.html",
        ):
            assert path.stat().st_size < 2_000_000, path
    assert summary.report_path.stat().st_size < 5_000_000
    assert summary.csv_path.stat().st_size < 1_000_000


def test_a_notebook_with_an_svg_attachment_gets_its_feedback_page(graded):
    course, _, _, _ = graded
    page = (course / "feedback" / "attack-svg-attachment" / ASSIGNMENT / f"{ASSIGNMENT}.html").read_text()
    assert "My drawing" in page and "<script>alert(1)" not in page and "svg+xml" not in page


def test_code_that_patches_the_comparison_is_flagged_and_changes_nothing(graded):
    _, summary, _, _ = graded
    result = next(r for r in summary.results if r.student == "tamper-comparison")
    assert result.has(Kind.MACHINERY) and "the visible tests' comparison" in result.status


def test_pages_no_renderer_could_finish_are_made_in_bounded_time_and_size(graded):
    """Is a page of 8 MB of TeX environments, or of a 300 000-line code cell, still made, cut, and inert?"""
    course, summary, _, _ = graded
    for student, note in (
        ("attack-slow-markdown", "the grader shows the first 64 KB of this cell"),
        ("attack-huge-code-cell", "the page shows the first 400 lines of this cell"),
    ):
        result = next(r for r in summary.results if r.student == student)
        assert result.seconds < 120, (student, result.seconds)
        page = (course / "feedback" / student / ASSIGNMENT / f"{ASSIGNMENT}.html").read_text()
        assert note in page and len(page) < 5_000_000
        assert inert.problems(page) == []
