"""Grading for the planar-classification course.

The instructor's solutions live in one place, the solution regions of the source
notebook; ``reference`` loads them, ``cases`` draws hidden test cases and judges
results against them, ``incell`` runs those checks inside a notebook for stock
``nbgrader autograde``.
"""

import os
import sys
import time

STARTED = time.monotonic()  # for the grader's own account of its start-up (bench)

# jsonschema, which nbformat imports, imports rfc3987_syntax when it is installed (Jupyter's
# event system installs it) and that module builds a grammar for the "iri" format as it is
# imported: 1.5 s in every grading process, for a format no notebook uses. Without it,
# jsonschema simply does not check that format.
sys.modules.setdefault("rfc3987_syntax", None)

from course_spec import SPEC  # noqa: E402 - course.toml: the editions and the graded functions, written once

# A course specified elsewhere (COURSE_SPEC) brings its own testCases, public_tests and recipes:
# they are imported from the folder of its course.toml.
if SPEC.folder not in sys.path and os.path.abspath(SPEC.folder) != os.path.dirname(os.path.dirname(__file__)):
    sys.path.insert(0, SPEC.folder)

# Editions of the assignment (one nbgrader assignment each); they share code, tests and
# hidden cases, so the same code gets the same scores in either. The first is the original.
EDITIONS = {edition.assignment: edition.language for edition in SPEC.editions}
ASSIGNMENT = SPEC.editions[0].assignment

# In the order the notebook introduces them.
GRADED_FUNCTIONS = SPEC.names
# Column names for tables too narrow for the full ones (the grade summary, summary.html).
SHORT_NAMES = {function.name: function.short for function in SPEC.functions}
