"""Jupyter notebooks (.ipynb): Markdown cells keep their headings and blocks, code cells stay code.

A notebook is JSON (nbformat 4): a list of cells, each with its source as a string or a list of
lines. Markdown cells are split into blocks by the Markdown loader's parser, and their headings
build the heading path that the code cells below them sit under, as they do when the notebook is
read. Text outputs of code cells (printed streams, plain-text results) are kept, cut to
`OUTPUT_CHARS` each, because results are often what a person searches for; images and HTML
outputs are not text and are skipped. An output is kept as the notebook shows it: a terminal's colour codes
(`\\x1b[32mINFO\\x1b[0m`, a logger's or a traceback's) are taken out, and of a line a progress bar redraws with
`\\r` (tqdm) only its last frame is kept (they were indexed raw, a bar's hundred frames between two words). An
error output is read as its name and value (`KeyError: 'port'`, what a developer searches for), then its traceback.
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


def _outputs(cell: dict[str, Any]) -> str:
    texts = []
    for output in cell.get("outputs") or ():
        if output.get("output_type") == "stream":
            texts.append(_source(output.get("text")))
        elif output.get("output_type") in ("execute_result", "display_data"):
            texts.append(_source((output.get("data") or {}).get("text/plain")))
        elif output.get("output_type") == "error":
            texts.append(_error(output))
    text = _shown("".join(texts)).strip()
    return text[:OUTPUT_CHARS]


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
            output = _outputs(cell)
            if output:
                out.add(output, "code", headings.path)
        else:
            out.add(source, "paragraph", headings.path)
    return out.build(title or path.stem)
