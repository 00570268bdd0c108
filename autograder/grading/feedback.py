"""The student's feedback page, rendered where the submission was graded.

It is the page ``nbgrader generate_feedback`` makes: nbgrader's own feedback
template, with the scores and comments its ``GetGrades`` step would read from the
gradebook filled in from the result instead, so workers never open the gradebook
and no separate nbgrader run is needed. The autograded notebook it renders holds
the release's (visible) test cells only, never the hidden tests.
"""

from __future__ import annotations

import functools
import html
import os
import re

import nbformat

from ..results import SubmissionResult
from .reference import grade_id

_NBGRADER = os.path.dirname(__import__("nbgrader").__file__)
TEMPLATES = os.path.join(_NBGRADER, "server_extensions", "formgrader", "templates")
BOOTSTRAP_CSS = os.path.join(
    _NBGRADER, "server_extensions", "formgrader", "static", "node_modules", "bootstrap", "dist", "css"
)


@functools.lru_cache(maxsize=1)
def _exporter():
    from nbconvert.exporters import HTMLExporter
    from nbconvert.preprocessors import CSSHTMLHeaderPreprocessor
    from traitlets.config import Config

    config = Config()
    config.HTMLExporter.template_name = "feedback"
    config.HTMLExporter.extra_template_basedirs = [TEMPLATES]
    config.HTMLExporter.extra_template_paths = [BOOTSTRAP_CSS]
    exporter = HTMLExporter(config=config)
    exporter.register_preprocessor(CSSHTMLHeaderPreprocessor(config=config), enabled=True)
    return exporter


_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+!|~>-])")


def markdown_literal(text: str) -> str:
    """``text`` as markdown that renders as exactly that text: no HTML, no links, no emphasis."""
    return _MARKDOWN_SPECIAL.sub(r"\\\1", html.escape(text, quote=False))


def render(result: SubmissionResult, assignment: str) -> str:
    """The HTML feedback of one graded submission: nbgrader's page of the notebook, or, for a notebook
    nbconvert will not render (whatever nbformat accepts can be handed in), a page of the verdicts alone."""
    try:
        return _notebook_page(result, assignment)
    except Exception as error:  # noqa: BLE001 - any notebook gets a page
        return _verdicts_page(result, assignment, f"{type(error).__name__}: {str(error)[:200]}")


def _verdicts_page(result: SubmissionResult, assignment: str, why: str) -> str:
    rows = "".join(
        f"<tr><td><code>{html.escape(f.name)}</code></td><td>{f.score:g} / {f.points:g}</td>"
        f"<td>{html.escape(f.message or ('Passed.' if f.score else ''))}</td></tr>"
        for f in result.functions
    )
    return (
        "<!DOCTYPE html><html><head><meta charset='utf-8'>"
        f"<title>{html.escape(assignment)}: feedback</title>"
        "<style>body{font-family:sans-serif;max-width:60em;margin:2em auto;padding:0 1em}"
        "td{padding:.3em .6em;vertical-align:top;border-bottom:1px solid #ddd;overflow-wrap:anywhere}</style>"
        f"</head><body><h1>{html.escape(assignment)}</h1>"
        f"<p>Score: {result.total:g} / {result.max_total:g}</p>"
        f"<table><tr><th>function</th><th>score</th><th>why</th></tr>{rows}</table>"
        f"<p><small>Your notebook could not be shown here ({html.escape(why)}); the verdicts above are "
        "complete.</small></p></body></html>"
    )


def _notebook_page(result: SubmissionResult, assignment: str) -> str:
    notebook = nbformat.reads(result.notebook_json, as_version=4)
    functions = {f.name: f for f in result.functions}
    for cell in notebook.cells:
        cell_id = grade_id(cell) or ""
        meta = cell.get("metadata", {}).get("nbgrader")
        if not meta:
            continue
        function = functions.get(cell_id.removeprefix("test_"))
        if function is None:
            continue
        if meta.get("grade"):
            meta["score"], meta["points"] = function.score, function.points
        if meta.get("solution"):
            meta["comment"] = markdown_literal(function.message or ("Passed." if function.score else ""))
    resources = {
        "nbgrader": {"notebook": assignment, "score": result.total, "max_score": result.max_total, "late_penalty": 0}
    }
    body, _ = _exporter().from_notebook_node(notebook, resources=resources)
    return body
