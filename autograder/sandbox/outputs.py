"""What a student's code displays, kept bounded and safe to view.

Outputs of student code end up in the autograded notebook (which formgrader renders
on the Jupyter server's origin) and in the feedback page. Only text and raster
images are kept: HTML, SVG, Markdown, LaTeX, JavaScript and widget outputs are
dropped (their plain-text form stays), so nothing a student displays can run as
script. Every kind of output is capped, per output, per cell and per notebook,
and the cell says what was cut.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import html
import re

import nbformat

from ..sanitize import Allowance, inert_markdown

MAX_TEXT_PER_CELL = 20_000  # characters of streams, plain text and error messages
MAX_IMAGE_BYTES = 1_500_000  # one image, base64
MAX_IMAGES_PER_CELL = 4
MAX_NOTEBOOK_BYTES = 6_000_000  # all outputs of one notebook
MAX_OUTPUTS_PER_CELL = 100  # outputs of one cell (consecutive prints to one stream make one output)
OUTPUT_OVERHEAD = 200  # what one output costs the notebook's allowance beside its text, in bytes
MAX_TRACEBACK_LINES = 40
MAX_TRACEBACK_LINE = 2_000
KEPT_IMAGES = ("image/png", "image/jpeg")


_SURROGATE = re.compile("[\ud800-\udfff]")


def new_output(kind: str, **fields) -> nbformat.NotebookNode:
    """An output as ``nbformat.v4.new_output`` makes it, without its validation against the whole schema
    (a few milliseconds each, dozens a submission): every field here is built by the grader, and the
    notebook is validated whole when the worker writes it (``grading.worker``)."""
    output = {"output_type": kind, **fields}
    if kind in ("display_data", "execute_result"):
        output.setdefault("metadata", {})
    if kind == "execute_result":
        output.setdefault("execution_count", None)
    return nbformat.from_dict(output)


def valid_text(value):
    """JSON data with every string made writable as UTF-8.

    JSON can carry a lone surrogate (``"\\ud800"``), which a Python string holds and UTF-8
    cannot: anything that later writes it would fail. Each becomes U+FFFD. Raises
    RecursionError for data nested too deeply to walk.
    """
    if isinstance(value, str):
        if value.isascii():
            return value
        try:
            value.encode("utf-8")
            return value
        except UnicodeEncodeError:
            return _SURROGATE.sub("\ufffd", value)
    if isinstance(value, list):
        return [valid_text(item) for item in value]
    if isinstance(value, dict):
        return {valid_text(key): valid_text(item) for key, item in value.items()}
    return value


@dataclasses.dataclass
class NotebookBudget:
    """What is left of the notebook's allowance; shared by all its cells."""

    left: int = MAX_NOTEBOOK_BYTES


class CellOutputs:
    """The outputs of one executed cell, collected from the kernel's messages within the budgets."""

    def __init__(self, notebook: NotebookBudget | None = None):
        self.outputs: list = []
        self.notebook = notebook or NotebookBudget()
        self.text = 0
        self.images = 0
        self.cut: set[str] = set()

    def _afford(self, size: int) -> bool:
        if size > self.notebook.left:
            self.cut.add("the notebook's outputs reached their limit")
            return False
        self.notebook.left -= size
        return True

    def _full(self) -> bool:
        """Does this cell hold as many outputs as it may (noted if so)?"""
        if len(self.outputs) >= MAX_OUTPUTS_PER_CELL:
            self.cut.add(f"outputs beyond {MAX_OUTPUTS_PER_CELL} in one cell")
            return True
        return False

    def _room(self) -> bool:
        """Is there room for one more output in this cell (and its overhead in the notebook)?"""
        return not self._full() and self._afford(OUTPUT_OVERHEAD)

    def _text(self, text: str) -> str | None:
        text = str(text)
        room = MAX_TEXT_PER_CELL - self.text
        if room <= 0:
            self.cut.add(f"text beyond {MAX_TEXT_PER_CELL} characters")
            return None
        if len(text) > room:
            text = text[:room]
            self.cut.add(f"text beyond {MAX_TEXT_PER_CELL} characters")
        if not self._afford(len(text)):
            return None
        self.text += len(text)
        return text

    def add(self, message: dict) -> None:
        """Take one iopub message of the executing request."""
        kind = message["msg_type"]
        content = message.get("content", {})
        if kind == "clear_output":
            self.outputs.clear()
        elif kind == "stream":
            name = "stderr" if content.get("name") == "stderr" else "stdout"
            last = self.outputs[-1] if self.outputs else None
            same_stream = last is not None and last.output_type == "stream" and last.name == name
            text = self._text(content.get("text", "")) if same_stream or self._room() else None
            if text and same_stream:
                last.text += text  # one output per run of prints, as Jupyter shows them
            elif text:
                self.outputs.append(new_output("stream", name=name, text=text))
        elif kind == "error":
            self._error(content)
        elif kind in ("display_data", "execute_result"):
            self._display(kind, content)

    def _error(self, content: dict) -> None:
        if not self._room() or MAX_TEXT_PER_CELL <= self.text:
            self.cut.add("errors beyond the limit")
            return
        ename = self._text(str(content.get("ename", "Error"))[:200]) or "Error"
        evalue = self._text(str(content.get("evalue", ""))[:MAX_TRACEBACK_LINE]) or ""
        lines = content.get("traceback", [])
        lines = lines if isinstance(lines, list) else []
        if len(lines) > MAX_TRACEBACK_LINES:
            lines = lines[: MAX_TRACEBACK_LINES // 2] + ["..."] + lines[-MAX_TRACEBACK_LINES // 2 :]
            self.cut.add("the middle of a long traceback")
        kept = []
        for line in lines:
            line = self._text(str(line)[:MAX_TRACEBACK_LINE])
            if line is None:
                break
            kept.append(line)
        self.outputs.append(new_output("error", ename=ename, evalue=evalue, traceback=kept))

    def _display(self, kind: str, content: dict) -> None:
        if self._full():  # before reading the data: nothing of it can be kept
            return
        data = content.get("data", {})
        data = data if isinstance(data, dict) else {}
        kept = {}
        for mime in KEPT_IMAGES:
            image = data.get(mime)
            if not isinstance(image, str):
                continue
            if self.images >= MAX_IMAGES_PER_CELL or len(image) > MAX_IMAGE_BYTES:
                self.cut.add("images beyond the limit")
                continue
            try:
                base64.b64decode(image.replace("\n", ""), validate=True)
            except (binascii.Error, ValueError):
                self.cut.add("an image that was not valid base64")
                continue
            if self._afford(len(image)):
                kept[mime] = image
                self.images += 1
            break
        dropped = sorted(set(data) - set(KEPT_IMAGES) - {"text/plain"})
        if dropped:
            self.cut.add(f"{', '.join(m for m in dropped[:3])} output (only text and images are kept)")
        if "text/plain" in data or not kept:
            text = self._text(str(data.get("text/plain", "")))
            if text:
                kept["text/plain"] = text
        if not kept or not self._room():
            return
        output = new_output(kind, data=kept)
        if kind == "execute_result":
            count = content.get("execution_count")
            # the kernel's to say, so its to get wrong: a count nbformat would refuse (negative, a bool) is none
            output.execution_count = count if type(count) is int and count >= 0 else None
        self.outputs.append(output)

    def finish(self) -> list:
        """The outputs, with a note saying what was cut, if anything."""
        if self.cut:
            self.outputs.append(
                new_output("stream", name="stdout", text=f"\n[grader] not kept: {'; '.join(sorted(self.cut))}\n")
            )
        return self.outputs


KEPT_ATTACHMENTS = ("image/png", "image/jpeg", "image/gif")


def safe_cell(cell, trusted_source: str | None = None, allowance: Allowance | None = None) -> None:
    """Make a student's markdown or raw cell safe to render (unchanged if it is the release's own).

    A markdown cell becomes the HTML it shows, cleaned by a real sanitizer, with its image
    attachments inlined (see ``autograder.sanitize``; ``allowance``: the notebook's, shared by its cells); a raw
    cell becomes escaped text.
    """
    if cell.cell_type == "markdown":
        attachments = cell.get("attachments") or {}
        kept = {
            name: {mime: data for mime, data in bundle.items() if mime in KEPT_ATTACHMENTS}
            for name, bundle in attachments.items()
            if isinstance(bundle, dict)
        }
        kept = {name: bundle for name, bundle in kept.items() if bundle}
        if cell.source != trusted_source:
            cell.source = inert_markdown(cell.source if isinstance(cell.source, str) else "", kept, allowance)
            cell.pop("attachments", None)
        else:  # the release's text with the student's attachments: images only, a reference to another is cut
            cell.source = re.sub(
                r"attachment:([^\s)\"'>]*)",
                lambda m: m.group(0) if m.group(1) in kept else "#attachment-not-kept",
                cell.source,
            )
            if kept:
                cell["attachments"] = kept
            else:
                cell.pop("attachments", None)
    elif cell.cell_type == "raw":
        cell.metadata = {}  # without a format, no exporter emits a raw cell as HTML
        cell.source = html.escape(cell.source, quote=False)
