"""Jupyter notebooks (.ipynb): Markdown cells keep their headings and blocks, code cells stay code.

A notebook is JSON (nbformat 4): a list of cells, each with its source as a string or a list of
lines. Markdown cells are split into blocks by the Markdown loader's parser, and their headings
build the heading path that the code cells below them sit under, as they do when the notebook is
read. Text outputs of code cells (printed streams, plain-text results) are kept, each a block of its own, cut to
`OUTPUT_CHARS` a cell, because results are often what a person searches for; images are not text and are skipped,
with the text/plain that stands in for them, and so is a result that only names an object (`<Axes: ...>`). An HTML
output (a DataFrame) is read as its text/plain, the same table as text. An output is kept as the notebook shows it:
a terminal's colour codes (`\\x1b[32mINFO\\x1b[0m`, a logger's or a traceback's) are taken out, and of a line a
progress bar redraws with `\\r` (tqdm) only its last frame is kept (they were indexed raw, a bar's hundred frames
between two words). An error output is read as its name and value (`KeyError: 'port'`, what a developer searches
for), then its traceback.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from localrag.errors import LoaderError
from localrag.ingest.structure import HeadingPath, TextBuilder
from localrag.types import LoadedText

OUTPUT_CHARS = 2000
# A terminal's escape sequences: CSI (colours, cursor moves: ESC [ ... letter), OSC (a title, a link: ESC ] ... BEL
# or ESC \), and the two-character ones.
_ESCAPES = re.compile(r"\x1b(?:\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)|[@-Z\\-_])")
# Output kinds that are a picture, whose text/plain is only a stand-in (a widget's: a notebook progress bar, a slider).
_PICTURES = frozenset({"application/vnd.jupyter.widget-view+json"})
# A result that only names objects: `<Figure size 640x480 with 1 Axes>`, `<Axes: xlabel='month'>`,
# `<__main__.Model object at 0x7f3b>`, a list or tuple of them (`plt.plot`'s `[<matplotlib.lines.Line2D at 0x7f>]`).
_REPR = r"<[A-Za-z_][^<>\n]*>"
_REPRS = re.compile(rf"[\[(]?\s*{_REPR}(?:\s*,\s*{_REPR})*\s*,?\s*[\])]?")


def _source(value: Any) -> str:
    return "".join(value) if isinstance(value, list) else str(value or "")


def _shown(text: str) -> str:
    """`text` as a terminal leaves it: no escape sequences, and of each line redrawn after a `\\r` its last frame."""
    lines = _ESCAPES.sub("", text).replace("\r\n", "\n").split("\n")
    return "\n".join(next((frame for frame in reversed(line.split("\r")) if frame.strip()), "") for line in lines)


def _error(output: dict[str, Any]) -> str:
    """An error output: its name and value first (the cut to `OUTPUT_CHARS` keeps them), then its traceback, whose
    last line says them again (IPython's) and is left out."""
    said = _shown(f"{output.get('ename') or ''}: {output.get('evalue') or ''}").strip(": ")
    traceback = output.get("traceback")
    lines = _shown("\n".join(map(str, traceback)) if isinstance(traceback, list) else "").strip().split("\n")
    return "\n".join([said, *(lines[:-1] if lines[-1].strip() == said else lines)]) + "\n"


def _result(data: dict[str, Any]) -> str:
    """A result's or a display's text: its text/plain, unless that only stands in for a picture (a figure's `<Figure
    size 640x480 with 1 Axes>`, a widget's) or names an object (`<Axes: xlabel='month'>`, `[<Line2D at 0x7f...>]`):
    before, those were read and `summarize` quoted one as a notebook's key sentence. A table shown as HTML (a
    DataFrame) keeps its text/plain, the same rows as text."""
    if any(kind.startswith("image/") or kind in _PICTURES for kind in data):
        return ""
    text = _source(data.get("text/plain"))
    return "" if _REPRS.fullmatch(text.strip()) else text


def _outputs(cell: dict[str, Any]) -> list[str]:
    """The text of each output of `cell` worth reading, as the notebook shows it, `OUTPUT_CHARS` in all: a cell
    that displays in a loop (50 tables of 900 characters) gave 45,471 characters with a cap per output, where the
    cap is there so one cell's results do not crowd out the notebook's own text."""
    texts: list[str] = []
    stream = None  # the stream the text last added was printed to
    for output in cell.get("outputs") or ():
        kind, text = output.get("output_type"), ""
        if kind == "stream":
            text = _source(output.get("text"))
            # A stream written in pieces (a print without its newline, then the rest) goes on where it was.
            if texts and stream == output.get("name"):
                texts[-1] += text
                continue
        elif kind in ("execute_result", "display_data"):
            text = _result(output.get("data") or {})
        elif kind == "error":
            text = _error(output)
        if text.strip():
            texts.append(text)
            stream = output.get("name") if kind == "stream" else None
    kept: list[str] = []
    room = OUTPUT_CHARS
    # Leading spaces kept: they align a DataFrame's header over its columns.
    for shown in (_shown(text).strip("\n").rstrip() for text in texts):
        if room <= 0:
            break
        if shown.strip():
            kept.append(shown[:room].rstrip())
            room -= len(shown[:room])
    return kept


def load_notebook(path: Path, text: str) -> LoadedText:
    """`text` is the decoded file."""
    from localrag.ingest.loaders import markdown_blocks, visible_markdown

    try:
        notebook = json.loads(text)
        cells = notebook["cells"]
        if not isinstance(cells, list):
            raise TypeError("cells is not a list")
    except (ValueError, KeyError, TypeError) as exc:
        raise LoaderError(
            f"{path}: not a Jupyter notebook ({type(exc).__name__}: {exc})", "re-save it from Jupyter (nbformat 4)"
        ) from exc
    out = TextBuilder()
    headings = HeadingPath()
    title = ""
    for cell in cells:
        if not isinstance(cell, dict):
            continue
        source = _source(cell.get("source")).replace("\r\n", "\n")
        if cell.get("cell_type") == "markdown":
            source = visible_markdown(source)
            for start, end, kind, level, name in markdown_blocks(source):
                if level:
                    title = title or (name if level == 1 else "")
                    out.add(source[start:end], kind, headings.enter(level, name))
                else:
                    out.add(source[start:end], kind, headings.path)
        elif cell.get("cell_type") == "code":
            out.add(source, "code", headings.path)
            # Each output a block of its own: a result without a newline ran into the next output ("1532000Quarter
            # closed with record revenue"), and a sentence of one was read on into the next.
            for output in _outputs(cell):
                out.add(output, "code", headings.path)
        else:
            out.add(source, "paragraph", headings.path)
    return out.build(title or path.stem)
