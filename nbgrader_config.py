"""nbgrader configuration of the planar-classification course.

The repository root is the course directory: source/ (instructor notebooks),
release/ (generated student notebooks), and, while grading, submitted/,
autograded/ and feedback/ (git-ignored).
"""

c = get_config()  # noqa: F821 -- provided by nbgrader when it loads this file

c.CourseDirectory.course_id = "planar-classification"
c.CourseDirectory.root = "."
# One assignment per edition; both are graded alike (python -m autograder grade --assignment ...).
c.CourseDirectory.db_assignments = [dict(name="planar_data_classification"),
                                    dict(name="planar_data_classification_zh")]

# The gradebook; the autograder writes it from one process only.
c.CourseDirectory.db_url = "sqlite:///gradebook.db"

# What students see in place of a solution.
c.ClearSolutions.code_stub = {
    "python": "# YOUR CODE HERE\nraise NotImplementedError()",
}
c.ClearSolutions.text_stub = "YOUR ANSWER HERE"

# Execution limits for stock nbgrader (validate, autograde): seconds per cell, and
# no partial execution of a cell that runs away.
c.Execute.timeout = 60
c.Execute.interrupt_on_timeout = True

# A submission whose test cells were deleted is graded with the instructor's
# cells re-added, instead of ending with no score.
c.OverwriteCells.add_missing_cells = True

# Files that are never part of an assignment.
c.CourseDirectory.ignore = [".ipynb_checkpoints", "*.pyc", "__pycache__", "feedback", ".*"]
