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

import contextlib
import copy
import functools
import html
import os
import re
import select
import signal
import time

import nbformat

from ..markup import function_of, grade_id, is_answer, is_test
from ..results import FunctionResult, Outcome, Standing, SubmissionResult
from ..sandbox.outputs import safe_cell
from ..sanitize import IGNORED_BY_MATH, Allowance, with_csp
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
    config.HTMLExporter.optimistic_validation = True  # once after the preprocessors, not after each
    config.HTMLExporter.extra_template_basedirs = [TEMPLATES]
    config.HTMLExporter.extra_template_paths = [BOOTSTRAP_CSS]
    exporter = _exporter_class(HTMLExporter)(config=config)
    exporter.register_preprocessor(CSSHTMLHeaderPreprocessor(config=config), enabled=True)
    return exporter


_HIGHLIGHTED: dict = {}  # (lexer, options, language, magics language, source): its HTML (``_exporter_class``)
MAX_HIGHLIGHTED = 512  # cells: the course's own, and those of the pages made in this process


def _exporter_class(html_exporter):
    """nbconvert's HTMLExporter without its BeautifulSoup pass over a page that has no image, and with each
    cell's highlighting made once per process (``Highlight``).

    After rendering, HTMLExporter (nbconvert 7) parses the whole page again to give images without one an
    alternative text and to make the JupyterLab template's cells focusable: 0.26 s of a feedback page of
    0.35 s, for a page whose classic template has no such cells and, most often, no image. The pass is kept,
    as nbconvert makes it, for a page with an image; before it, everything is HTMLExporter's own.
    """
    from nbconvert.exporters import TemplateExporter
    from nbconvert.filters.highlight import Highlight2HTML
    from nbconvert.filters.widgetsdatatypefilter import WidgetsDataTypeFilter

    class Highlight(Highlight2HTML):
        """nbconvert's highlighting, each cell's once per process: the course's own cells are the same on
        every page, and each page is made in a child forked after the warm-up page made them (``warm_up``).
        Pygments makes a formatter and a lexer for every cell it is given: half of a page's time."""

        def __call__(self, source, language=None, metadata=None):
            magics = metadata.get("magics_language") if metadata else None
            key = (self.pygments_lexer, repr(sorted(self.extra_formatter_options.items())), language, magics, source)
            page = _HIGHLIGHTED.get(key)
            if page is None:
                page = super().__call__(source, language, metadata)
                if len(_HIGHLIGHTED) < MAX_HIGHLIGHTED:
                    _HIGHLIGHTED[key] = page
            return page

    class FeedbackExporter(html_exporter):
        def from_notebook_node(self, nb, resources=None, **kw):
            langinfo = nb.metadata.get("language_info", {})
            lexer = langinfo.get("pygments_lexer", langinfo.get("name", None))
            highlight_code = self.filters.get("highlight_code", Highlight(pygments_lexer=lexer, parent=self))
            resources = self._init_resources(resources)
            filter_data_type = WidgetsDataTypeFilter(
                notebook_metadata=self._nb_metadata, parent=self, resources=resources
            )
            self.register_filter("highlight_code", highlight_code)
            self.register_filter("filter_data_type", filter_data_type)
            html, resources = TemplateExporter.from_notebook_node(self, nb, resources, **kw)
            if "<img" not in html:
                return html, resources
            from bs4 import BeautifulSoup

            soup = BeautifulSoup(html, features="html.parser")
            for element in soup.select("img:not([alt])"):
                element.attrs["alt"] = "No description has been provided for this image"
            return str(soup), resources

    return FeedbackExporter


COURSE_TEMPLATES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "templates")


@functools.lru_cache(maxsize=1)
def _course_exporter():
    """nbgrader's feedback template with its frame in the edition's language (templates/feedback_course)."""
    from nbconvert.exporters import HTMLExporter
    from nbconvert.preprocessors import CSSHTMLHeaderPreprocessor
    from traitlets.config import Config

    config = Config()
    config.HTMLExporter.template_name = "feedback_course"
    config.HTMLExporter.optimistic_validation = True  # once after the preprocessors (13 of them), not after each
    config.HTMLExporter.extra_template_basedirs = [COURSE_TEMPLATES, TEMPLATES]
    config.HTMLExporter.extra_template_paths = [BOOTSTRAP_CSS, TEMPLATES]  # TEMPLATES: 'feedback/index.html.j2'
    exporter = _exporter_class(HTMLExporter)(config=config)
    exporter.register_preprocessor(CSSHTMLHeaderPreprocessor(config=config), enabled=True)
    return exporter


_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+!|~>-])")


def markdown_literal(text: str) -> str:
    """``text`` as markdown that renders as exactly that text: no HTML, no links, no emphasis."""
    return _MARKDOWN_SPECIAL.sub(r"\\\1", html.escape(text, quote=False))


def render(
    result: SubmissionResult,
    assignment: str,
    trusted_markdown: frozenset = frozenset(),
    standing: Standing | None = None,
) -> str:
    """The HTML feedback of one graded submission: nbgrader's page of the notebook, or, for a notebook
    nbconvert will not render (whatever nbformat accepts can be handed in), a page of the verdicts alone.

    ``trusted_markdown``: the release's markdown cells (``markdown_of``), whose equations become MathML;
    a student's own markdown is shown as text. ``standing``: what the gradebook holds beside the verdicts
    (a person's scores and comments, the late penalty), shown as nbgrader's GetGrades would show it.
    """
    try:
        page = bounded(lambda: _notebook_page(result, assignment, trusted_markdown, standing))
    except Exception as error:  # noqa: BLE001 - any notebook gets a page
        page = _verdicts_page(result, assignment, f"{type(error).__name__}: {str(error)[:200]}", standing)
    if standing is None or not standing.shown:  # the judge's page as it is, whoever renders it
        return page
    return page.replace("<head>", f"<head>{gradebook_mark(standing)}", 1)


_WARM: set[str] = set()  # assignments whose page this process has made once


def warm_up(release_notebook: str, assignment: str) -> None:
    """Make one page of the release, in this process, once: the templates compiled and the course's equations
    turned to MathML here, so every page made after it in a forked child (``bounded``) starts warm (about 0.4 s
    instead of 1 to 3 s each). The release is the course's own: safe to render outside the child."""
    if assignment in _WARM:
        return
    _WARM.add(assignment)
    from ..markup import points

    functions = [
        FunctionResult(name, value, value, Outcome.PASSED)
        for name, value in points(nbformat.reads(release_notebook, as_version=4)).items()
    ]
    result = SubmissionResult("warm-up", [], functions, notebook_json=release_notebook)
    with contextlib.suppress(Exception):  # a page that cannot be made warms nothing; grading goes on
        _notebook_page(result, assignment, markdown_of(release_notebook))


def gradebook_mark(standing: Standing) -> str:
    """The comment a page carries of the gradebook it shows: a page without the current one is out of date."""
    return f"<!-- autograder: gradebook {standing.digest()} -->"


def render_ungraded(notebook, name: str, trusted_markdown: frozenset = frozenset()) -> str:
    """The page of a notebook of the assignment that has nothing graded (the appendix)."""
    notebook = _with_mathml(_shown(copy.deepcopy(notebook), trusted_markdown), trusted_markdown)
    resources = {"nbgrader": {"notebook": name, "score": 0, "max_score": 0, "late_penalty": 0}}
    try:
        return bounded(lambda: offline(_exporter().from_notebook_node(notebook, resources=resources)[0]))
    except RenderingFailed as failure:
        return _plain_page(name, f"<p>{html.escape(str(failure))}</p>")


@functools.lru_cache(maxsize=4)
def markdown_of(notebook_json: str) -> frozenset:
    """The markdown cells of a notebook of the course's own (the release), as they are trusted to render."""
    notebook = nbformat.reads(notebook_json, as_version=4)
    return frozenset(cell.source for cell in notebook.cells if cell.cell_type == "markdown")


_MATH = re.compile(r"\$\$(.+?)\$\$|\$([^$\n]+?)\$", re.S)
_TAG = re.compile(r"\\tag\{([^{}]*)\}")


@functools.lru_cache(maxsize=512)  # the course's own markdown only: the same cells on every page
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
    """A page that loads nothing from the network: MathJax's CDN script removed, the wrapping styles added,
    and a Content-Security-Policy that forbids scripts and every load, whatever the page holds."""
    page = _MATHJAX.sub("", page)
    return with_csp(page.replace("</head>", OFFLINE_CSS + "</head>", 1))


# -- bounds: whatever a student hands in, the page is made in bounded time and size ------------------
MAX_CODE_LINES = 400  # of one of the student's code cells, as the page shows it
MAX_CODE_CHARS = 32 * 1024
MAX_PAGE_CODE_LINES = 4000  # of all the student's code on one page
MAX_PAGE_BYTES = 16 * 1024 * 1024
RENDER_SECONDS = 60.0


class RenderingFailed(Exception):
    """The page could not be made within its budget (the student gets a page of the verdicts instead)."""


def _shown(notebook, trusted_markdown: frozenset):
    """The notebook as the page shows it: the student's markdown made inert (``sanitize``; a notebook the
    grader restored is already), their code cells cut to what a page can show in bounded time."""
    left, allowance = MAX_PAGE_CODE_LINES, Allowance()
    for cell in notebook.cells:
        if cell.cell_type == "markdown" and cell.source not in trusted_markdown and not _inert(cell.source):
            safe_cell(cell, allowance=allowance)
        elif cell.cell_type == "code" and not is_test(cell):
            lines = cell.source.splitlines()
            keep = max(0, min(MAX_CODE_LINES, left, len(lines)))
            shown = "\n".join(lines[:keep])[:MAX_CODE_CHARS]
            if len(shown) < len(cell.source.rstrip("\n")):
                shown += f"\n# [the page shows the first {shown.count(chr(10)) + 1} lines of this cell]"
                cell.source = shown
            left -= keep
    return notebook


def _inert(source: str) -> bool:
    return source.startswith(f'<div class="{IGNORED_BY_MATH}">') and "\n" not in source


def bounded(make, seconds: float = RENDER_SECONDS, max_bytes: int = MAX_PAGE_BYTES) -> str:
    """``make()``'s page, made in a forked child that is killed after ``seconds`` (RenderingFailed then, or
    when the page is over ``max_bytes``): a notebook no renderer gets through never holds up the grading."""
    reader, writer = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: make the page, send it, leave without running the parent's clean-ups
        code = 1
        try:
            os.close(reader)
            data = make().encode("utf-8", "replace")
            data = b"\0too big" if len(data) > max_bytes else data
            view = memoryview(data)
            while view:
                view = view[os.write(writer, view) :]
            code = 0
        except BaseException:  # noqa: BLE001 - the parent sees an empty answer
            pass
        finally:
            os._exit(code)
    os.close(writer)
    chunks, size, deadline = [], 0, time.monotonic() + seconds
    try:
        while True:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([reader], [], [], left)[0]:
                raise RenderingFailed(f"the page took longer than {seconds:g} s to make")
            chunk = os.read(reader, 1 << 20)
            if not chunk:
                break
            size += len(chunk)
            if size > max_bytes:
                raise RenderingFailed(f"the page is larger than {max_bytes // (1024 * 1024)} MB")
            chunks.append(chunk)
    finally:
        os.close(reader)
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
    data = b"".join(chunks)
    if data == b"\0too big":
        raise RenderingFailed(f"the page is larger than {max_bytes // (1024 * 1024)} MB")
    if not data:
        raise RenderingFailed("the page could not be made")
    return data.decode("utf-8")


def _verdict(function, assignment: str) -> str:
    """What the student reads under a function: the judge's message, or a word that it passed."""
    return function.message or (wording.say(wording.language(assignment), "passed_short") if function.score else "")


def _totals(result: SubmissionResult, standing: Standing | None) -> tuple[float, float, float]:
    """(score after the late penalty, maximum, penalty): the gradebook's when it is known, else the judge's."""
    if standing is None:
        return result.total, result.max_total, 0.0
    return standing.final, standing.max_score, standing.late_penalty


def _late(standing: Standing | None, assignment: str) -> str:
    """How late the submission was, in the edition's words ("" when it was not)."""
    if standing is None or not standing.seconds_late:
        return ""
    return wording.say(wording.language(assignment), "late_by", hours=f"{standing.seconds_late / 3600:.1f}")


def reason(function, assignment: str) -> str:
    """The one-line reason a function lost points: the classic mistake's hint when one is recognised, else the
    judge's message (its first line, cut to a line's length); "" for a function that passed."""
    if function.score >= function.points or not function.message:
        return ""
    hint = wording.say(wording.language(assignment), "case_hint", hint="")
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
    return with_csp(
        f"<!DOCTYPE html><html lang='{language}'><head><meta charset='utf-8'>"
        f"<title>{html.escape(notebook_id)}</title></head>"
        "<body style='font-family:sans-serif;max-width:40em;margin:2em auto'>"
        f"<h1>{html.escape(notebook_id)}</h1><p>{html.escape(text)}</p>"
        f"<p><a href='{html.escape(assignment)}.html'>{html.escape(link)}</a></p></body></html>"
    )


def _verdicts_page(result: SubmissionResult, assignment: str, why: str, standing: Standing | None = None) -> str:
    score, max_score, _ = _totals(result, standing)
    rows = "".join(
        f"<tr><td><code>{html.escape(f.name)}</code></td><td>{f.score:g} / {f.points:g}</td>"
        f"<td>{html.escape(_verdict(f, assignment))}</td></tr>"
        for f in result.functions
    )
    return _plain_page(
        assignment,
        f"<p>Score: {score:g} / {max_score:g}</p><p>{html.escape(_late(standing, assignment))}</p>"
        f"<table><tr><th>function</th><th>score</th><th>why</th></tr>{rows}</table>"
        f"<p><small>Your notebook could not be shown here ({html.escape(why)}); the verdicts above are "
        "complete.</small></p>",
    )


def _plain_page(title: str, body: str) -> str:
    """A page of ``body`` (HTML made here, with everything from a student escaped) under ``title``."""
    return with_csp(
        "<!DOCTYPE html><html><head><meta charset='utf-8'>"
        f"<title>{html.escape(title)}: feedback</title>"
        "<style>body{font-family:sans-serif;max-width:60em;margin:2em auto;padding:0 1em}"
        "td{padding:.3em .6em;vertical-align:top;border-bottom:1px solid #ddd;overflow-wrap:anywhere}</style>"
        f"</head><body><h1>{html.escape(title)}</h1>{body}</body></html>"
    )


def _notebook_page(
    result: SubmissionResult, assignment: str, trusted_markdown: frozenset, standing: Standing | None = None
) -> str:
    notebook = _with_mathml(
        _shown(nbformat.reads(result.notebook_json, as_version=4), trusted_markdown), trusted_markdown
    )
    functions = {f.name: f for f in result.functions}
    gradebook = standing.cells if standing is not None else {}
    for cell in notebook.cells:
        name = grade_id(cell) or ""
        function = functions.get(function_of(name))
        kept = gradebook.get(name)  # what the gradebook holds for the cell: a person's score and comment
        if function is None and kept is None:
            continue
        markup = cell.metadata.nbgrader
        if kept is not None and kept["points"] is not None:
            markup["score"], markup["points"] = kept["score"], kept["points"]
        elif function is not None and is_test(cell):
            markup["score"], markup["points"] = function.score, function.points
        comments = []
        if function is not None and is_answer(cell):
            comments.append(markdown_literal(_verdict(function, assignment)))
        if kept is not None and kept["comment"]:
            comments.append(markdown_literal(kept["comment"]))
        if comments:
            markup["comment"] = "\n\n".join(comments)
    score, max_score, penalty = _totals(result, standing)
    resources = {
        "nbgrader": {"notebook": assignment, "score": score, "max_score": max_score, "late_penalty": penalty},
        "autograder": {
            "words": wording.page_words(wording.language(assignment)),
            "summary": summary_table(result, assignment),
            "late": _late(standing, assignment),
        },
    }
    body, _ = _course_exporter().from_notebook_node(notebook, resources=resources)
    return offline(body)
