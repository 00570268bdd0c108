"""The student's feedback page, rendered where the submission was graded.

It is the page ``nbgrader generate_feedback`` makes: nbgrader's own feedback
template, with the scores and comments its ``GetGrades`` step would read from the
gradebook filled in from the result instead, so workers never open the gradebook
and no separate nbgrader run is needed. The autograded notebook it renders holds
the release's (visible) test cells only, never the hidden tests.

The page reads well offline (it is a file a student opens, often without network):
the equations of the course's own text are MathML, which browsers draw themselves,
instead of TeX for MathJax from a CDN; nothing is loaded from anywhere; the
verdicts wrap instead of scrolling sideways.
"""

from __future__ import annotations

import copy
import functools
import html
import os
import re

import nbformat

from ..markup import function_of, grade_id, is_answer, is_test
from ..results import SubmissionResult
from . import wording

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


COURSE_TEMPLATES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "templates")


@functools.lru_cache(maxsize=1)
def _course_exporter():
    """nbgrader's feedback template with its frame in the edition's language (templates/feedback_course)."""
    from nbconvert.exporters import HTMLExporter
    from nbconvert.preprocessors import CSSHTMLHeaderPreprocessor
    from traitlets.config import Config

    config = Config()
    config.HTMLExporter.template_name = "feedback_course"
    config.HTMLExporter.extra_template_basedirs = [COURSE_TEMPLATES, TEMPLATES]
    config.HTMLExporter.extra_template_paths = [BOOTSTRAP_CSS, TEMPLATES]  # TEMPLATES: 'feedback/index.html.j2'
    exporter = HTMLExporter(config=config)
    exporter.register_preprocessor(CSSHTMLHeaderPreprocessor(config=config), enabled=True)
    return exporter


_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+!|~>-])")


def markdown_literal(text: str) -> str:
    """``text`` as markdown that renders as exactly that text: no HTML, no links, no emphasis."""
    return _MARKDOWN_SPECIAL.sub(r"\\\1", html.escape(text, quote=False))


def render(result: SubmissionResult, assignment: str, trusted_markdown: frozenset = frozenset()) -> str:
    """The HTML feedback of one graded submission: nbgrader's page of the notebook, or, for a notebook
    nbconvert will not render (whatever nbformat accepts can be handed in), a page of the verdicts alone.

    ``trusted_markdown``: the release's markdown cells (``markdown_of``), whose equations become MathML;
    a student's own markdown is shown as text.
    """
    try:
        return _notebook_page(result, assignment, trusted_markdown)
    except Exception as error:  # noqa: BLE001 - any notebook gets a page
        return _verdicts_page(result, assignment, f"{type(error).__name__}: {str(error)[:200]}")


def render_ungraded(notebook, name: str, trusted_markdown: frozenset = frozenset()) -> str:
    """The page of a notebook of the assignment that has nothing graded (the appendix)."""
    notebook = _with_mathml(copy.deepcopy(notebook), trusted_markdown)
    resources = {"nbgrader": {"notebook": name, "score": 0, "max_score": 0, "late_penalty": 0}}
    body, _ = _exporter().from_notebook_node(notebook, resources=resources)
    return offline(body)


def markdown_of(notebook_json: str) -> frozenset:
    """The markdown cells of a notebook of the course's own (the release), as they are trusted to render."""
    notebook = nbformat.reads(notebook_json, as_version=4)
    return frozenset(cell.source for cell in notebook.cells if cell.cell_type == "markdown")


_MATH = re.compile(r"\$\$(.+?)\$\$|\$([^$\n]+?)\$", re.S)
_TAG = re.compile(r"\\tag\{([^{}]*)\}")


def _mathml(text: str) -> str:
    """The TeX of ``text`` ($...$ and $$...$$) as MathML (a formula latex2mathml cannot read stays TeX)."""
    from latex2mathml.converter import convert

    def one(match):
        tex, display = (match.group(1), "block") if match.group(1) is not None else (match.group(2), "inline")
        tag = _TAG.search(tex) if display == "block" else None
        try:
            formula = convert(_TAG.sub("", tex).strip(), display=display)
        except Exception:  # noqa: BLE001 - shown as the TeX it is
            return match.group(0)
        if display == "inline":
            return formula
        number = f'<span class="equation-tag">({html.escape(tag.group(1))})</span>' if tag else ""
        return f'<div class="equation">{formula}{number}</div>'

    return _MATH.sub(one, text)


def _with_mathml(notebook, trusted_markdown: frozenset):
    """The course's own markdown cells with their equations as MathML (never a student's: MathML from
    untrusted TeX could carry links and markup)."""
    for cell in notebook.cells:
        if cell.cell_type == "markdown" and cell.source in trusted_markdown:
            cell.source = _mathml(cell.source)
    return notebook


_MATHJAX = re.compile(r"<!-- Load mathjax -->.*?<!-- End of mathjax configuration -->", re.S)
OFFLINE_CSS = """<style>
/* autograder: verdicts and outputs wrap instead of scrolling sideways; MathML equations as blocks */
div.output_subarea pre, div.output_area pre, div.output_text pre, div.output_error pre, .panel-footer div {
  white-space: pre-wrap !important; overflow-wrap: anywhere; word-break: normal; }
div.output_subarea { max-width: 100%; overflow-x: visible; }
div.equation { position: relative; display: flex; justify-content: center; align-items: center;
  margin: 0.5em 0; padding: 0 3em; overflow-x: auto; overflow-y: hidden; }
div.equation .equation-tag { position: absolute; right: 0; }
math { font-size: 1.15em; }
</style>
"""


def offline(page: str) -> str:
    """A page that loads nothing from the network: MathJax's CDN script removed, the wrapping styles added."""
    page = _MATHJAX.sub("", page)
    return page.replace("</head>", OFFLINE_CSS + "</head>", 1)


def _verdict(function, assignment: str) -> str:
    """What the student reads under a function: the judge's message, or a word that it passed."""
    return function.message or (wording.say(wording.language(assignment), "passed_short") if function.score else "")


def reason(function, assignment: str) -> str:
    """The one-line reason a function lost points: the classic mistake's hint when one is recognised, else the
    judge's message (its first line, cut to a line's length); "" for a function that passed."""
    if function.score >= function.points or not function.message:
        return ""
    hint = wording.say(wording.language(assignment), "hint", hint="")
    text = function.message.split(hint, 1)[1] if function.mistake and hint in function.message else function.message
    text = " ".join(text.split())
    return text if len(text) <= SUMMARY_REASON_CHARS else text[: SUMMARY_REASON_CHARS - 1].rstrip() + "…"


SUMMARY_REASON_CHARS = 160


_CODE_SPAN = re.compile(r"`([^`]+)`")


def _code_spans(text: str) -> str:
    """``text`` escaped, its `code` spans (as the catalogue's hints write them) as <code>."""
    return _CODE_SPAN.sub(r"<code>\1</code>", html.escape(text))


def summary_table(result: SubmissionResult, assignment: str) -> str:
    """The page's first screen: each function, its points, its verdict and the one-line reason, each linked to its
    cells (the answer cell's anchor is nbgrader's ``comment-<grade id>``, the test cell's its grade id)."""
    from ..markup import test_id

    language = wording.language(assignment)
    words = wording.page_words(language)
    rows = []
    for f in result.functions:
        name, test = html.escape(f.name), html.escape(test_id(f.name))
        verdict = wording.say(language, f"verdict_{f.outcome.value}")
        status = "passed" if f.score >= f.points else "lost"
        rows.append(
            f'<tr class="summary-{status}"><td><a href="#comment-{name}"><code>{name}</code></a></td>'
            f'<td class="center">{f.score:g} / {f.points:g}</td>'
            f'<td><a href="#{test}">{html.escape(verdict)}</a></td><td>{_code_spans(reason(f, assignment))}</td></tr>'
        )
    return (
        f'<h5>{html.escape(words["page_summary"])}</h5><table class="table table-condensed" id="summary">'
        f'<thead><tr><th>{html.escape(words["page_function"])}</th><th class="center">'
        f"{html.escape(words['page_points'])}</th><th>{html.escape(words['page_verdict'])}</th>"
        f"<th>{html.escape(words['page_why'])}</th></tr></thead><tbody>{''.join(rows)}</tbody></table>"
    )


def render_not_graded(notebook_id: str, assignment: str) -> str:
    """The page of a notebook handed in beside the assignment that nothing grades (the appendix, or one the
    student added). nbgrader's exchange reports a submission's feedback as there only when every notebook in it
    has a page: this one says it is not graded and leads to the page that is."""
    language = wording.language(assignment)
    text = wording.say(language, "not_graded_notebook", notebook=f"{notebook_id}.ipynb", assignment=assignment)
    link = wording.say(language, "open_feedback", assignment=assignment)
    return (
        f"<!DOCTYPE html><html lang='{language}'><head><meta charset='utf-8'>"
        f"<title>{html.escape(notebook_id)}</title></head>"
        "<body style='font-family:sans-serif;max-width:40em;margin:2em auto'>"
        f"<h1>{html.escape(notebook_id)}</h1><p>{html.escape(text)}</p>"
        f"<p><a href='{html.escape(assignment)}.html'>{html.escape(link)}</a></p></body></html>"
    )


def _verdicts_page(result: SubmissionResult, assignment: str, why: str) -> str:
    rows = "".join(
        f"<tr><td><code>{html.escape(f.name)}</code></td><td>{f.score:g} / {f.points:g}</td>"
        f"<td>{html.escape(_verdict(f, assignment))}</td></tr>"
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


def _notebook_page(result: SubmissionResult, assignment: str, trusted_markdown: frozenset) -> str:
    notebook = _with_mathml(nbformat.reads(result.notebook_json, as_version=4), trusted_markdown)
    functions = {f.name: f for f in result.functions}
    for cell in notebook.cells:
        function = functions.get(function_of(grade_id(cell) or ""))
        if function is None:
            continue
        markup = cell.metadata.nbgrader
        if is_test(cell):
            markup["score"], markup["points"] = function.score, function.points
        elif is_answer(cell):
            markup["comment"] = markdown_literal(_verdict(function, assignment))
    resources = {
        "nbgrader": {"notebook": assignment, "score": result.total, "max_score": result.max_total, "late_penalty": 0},
        "autograder": {
            "words": wording.page_words(wording.language(assignment)),
            "summary": summary_table(result, assignment),
        },
    }
    body, _ = _course_exporter().from_notebook_node(notebook, resources=resources)
    return offline(body)
