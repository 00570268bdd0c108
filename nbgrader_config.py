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
# course can keep it in PostgreSQL instead (see the README): postgresql://user@host/dbname.
c.CourseDirectory.db_url = f"sqlite:///{os.path.join(COURSE, 'gradebook.db')}"

# Where release_assignment, submit, collect, release_feedback and fetch_feedback exchange
# files: nbgrader's default, /usr/local/share/nbgrader/exchange, must exist and be writable
# by everyone (see the README); set c.Exchange.root here to use another folder.

# What students see in place of a solution.
c.ClearSolutions.code_stub = {
    "python": "# YOUR CODE HERE\nraise NotImplementedError()",
}
c.ClearSolutions.text_stub = "YOUR ANSWER HERE"

# Execution limits for stock nbgrader (validate, autograde): seconds per cell, and
# no partial execution of a cell that runs away. `python -m autograder grade` does not
# read these: its limits are CPU seconds of the sandbox (--cell-timeout, default 10, and
# --submission-timeout, default 120), so a neighbour's load cannot make a student time out.
c.Execute.timeout = 60
c.Execute.interrupt_on_timeout = True

# A submission whose test cells were deleted is graded with the instructor's
# cells re-added, instead of ending with no score.
c.OverwriteCells.add_missing_cells = True

# Files that are never part of an assignment.
c.CourseDirectory.ignore = [".ipynb_checkpoints", "*.pyc", "__pycache__", "feedback", ".*"]
