"""nbgrader configuration of the planar-classification course.

The repository root is the course directory: source/ (instructor notebooks),
release/ (generated student notebooks), and, while grading, submitted/,
autograded/ and feedback/ (git-ignored).
"""

import os

c = get_config()  # noqa: F821 -- provided by nbgrader when it loads this file

c.CourseDirectory.course_id = "planar-classification"
# The folder of this file, wherever the course is (nbgrader wants an absolute path).
COURSE = os.path.dirname(os.path.abspath(__file__))
c.CourseDirectory.root = COURSE
# Two assignments, one per edition (planar_data_classification and ..._zh), graded alike;
# nbgrader registers them in the gradebook itself (generate_assignment, or the grader).

# The gradebook, in the course folder; the autograder writes it from one process only. A large
# course can keep it in PostgreSQL instead (see docs/instructors.md): postgresql+psycopg://user@host/dbname.
c.CourseDirectory.db_url = f"sqlite:///{os.path.join(COURSE, 'gradebook.db')}"

# Where release_assignment, submit, collect, release_feedback and fetch_feedback exchange
# files: nbgrader's default, /usr/local/share/nbgrader/exchange, must exist and be writable
# by everyone (see docs/instructors.md); set c.Exchange.root here to use another folder.

# What students see in place of a solution.
c.ClearSolutions.code_stub = {
    "python": "# YOUR CODE HERE\nraise NotImplementedError()",
}
c.ClearSolutions.text_stub = "YOUR ANSWER HERE"

# Every nbgrader entry point grades through the judge: `nbgrader autograde`, formgrader's
# Autograde and Generate Feedback buttons give what `python -m autograder grade` gives (the
# sandbox, the judge's scores, comments and feedback page). See autograder/nbgrader_plugin.py.
c.Autograde.exporter_class = "autograder.nbgrader_plugin.SubmissionExporter"
c.Autograde.sanitize_preprocessors = []  # the judge restores the test cells from release/ itself
c.Autograde.autograde_preprocessors = [
    "autograder.nbgrader_plugin.JudgeSubmission",  # in place of Execute: the student's code runs in the sandbox
    "nbgrader.preprocessors.SaveAutoGrades",  # nbgrader's own rule scores the judged test cells
    "autograder.nbgrader_plugin.RecordVerdicts",  # the judge's comments, sealed details and feedback page
    "nbgrader.preprocessors.AssignLatePenalties",
]
c.Autograde.post_convert_hook = "autograder.nbgrader_plugin.tidy"
c.GenerateFeedback.exporter_class = "autograder.nbgrader_plugin.FeedbackExporter"
c.GenerateFeedback.preprocessors = []
c.GenerateFeedback.post_convert_hook = "autograder.nbgrader_plugin.tidy"
# The judge's limits there (`grade` takes them as options): CPU seconds of the sandbox, so a
# neighbour's load cannot make a student time out.
c.JudgeSubmission.cell_timeout = 10
c.JudgeSubmission.submission_timeout = 120

# Execution limits for `nbgrader validate` (the students' own check, in their own kernel):
# seconds per cell, and no partial execution of a cell that runs away.
c.Execute.timeout = 60
c.Execute.interrupt_on_timeout = True

# A submission whose test cells were deleted is graded with the instructor's
# cells re-added, instead of ending with no score.
c.OverwriteCells.add_missing_cells = True

# Files that are never part of an assignment.
c.CourseDirectory.ignore = [".ipynb_checkpoints", "*.pyc", "__pycache__", "feedback", ".*"]
