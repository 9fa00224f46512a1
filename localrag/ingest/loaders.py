"""Loaders: turn one file into its text and its structure (`LoadedText`), whatever the format.

Every loader returns the same shape, so the chunker sees one kind of structure for Markdown, HTML,
Word, PDF, plain text and source code: the extracted text, and `Section`s (heading, paragraph, list,
table, code) with character offsets into that text, the heading path that applies, and the 1-based
page for PDFs. Formats that have no plain text of their own (HTML, docx, PDF) are re-assembled as
readable text: blocks separated by blank lines, headings on their own line. Markdown, plain text and
code keep the file's text as it is (only line endings are normalised), so offsets point into what the
user wrote.

Parsing is left to maintained libraries: markdown-it-py finds Markdown blocks (so a `#` line inside a
fenced code block is not a heading), BeautifulSoup reads HTML, python-docx reads Word files and pypdf
reads PDFs. pypdf's text visitor also reports each line's position and font size, which is how PDF
headings (larger type) and paragraphs (larger vertical gaps) are found.

Further formats have loaders in modules of their own, imported on first use: html (web pages), word (.docx),
slides (.pptx), sheets (.xlsx, .csv), opendoc (.odt), ebook (.epub), rtf, mail (.eml, .mbox), webarchive (a page
saved as one file, .mhtml), enex (Evernote's .enex), notebook (.ipynb), subtitles (.vtt, .srt), outline (.org, .adoc)
and ocr (images, and scanned PDF pages through pdf.py).

Text is data: nothing is stripped or interpreted, so markup-like or instruction-like content reaches
the index and the UI literally. Every failure a user can fix (wrong encoding, binary content, an
encrypted, scanned or corrupt file) is a one-line `LoaderError` naming the file and what to do.
"""

from __future__ import annotations

import dataclasses
import re
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterator
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

from localrag.clause_marks import clause_heading
from localrag.errors import LoaderError, NoTextError
from localrag.ingest.encodings import Decoded, decode_file
from localrag.ingest.ocr import IMAGE_EXTENSIONS, OCR_ON, Notify
from localrag.ingest.pdf import load_pdf
from localrag.ingest.pictures import said_in
from localrag.ingest.rotated import reads_as
from localrag.ingest.structure import (
    LIST_LINE,
    HeadingPath,
    file_title,
    numbered_title,
    prose_kind,
    squash,
)
from localrag.sentences import ADORNMENT
from localrag.types import LoadedText, Section

if TYPE_CHECKING:
    from markdown_it import MarkdownIt
    from markdown_it.token import Token

_CODE_LANGUAGES: dict[str, str] = {
    ".py": "python", ".pyi": "python", ".js": "javascript", ".mjs": "javascript", ".jsx": "javascript",
    ".ts": "typescript", ".tsx": "typescript", ".java": "java", ".kt": "kotlin", ".scala": "scala",
    ".c": "c", ".h": "c", ".cc": "cpp", ".cpp": "cpp", ".hpp": "cpp", ".cs": "csharp", ".go": "go",
    ".rs": "rust", ".rb": "ruby", ".php": "php", ".swift": "swift", ".lua": "lua", ".r": "r",
    ".jl": "julia", ".sh": "shell", ".bash": "shell", ".zsh": "shell", ".ps1": "powershell",
    ".sql": "sql", ".css": "css", ".toml": "toml", ".yaml": "yaml", ".yml": "yaml", ".ini": "ini",
    ".cfg": "ini", ".json": "json",
}
_PLAIN_TYPES: dict[str, str] = {
    ".txt": "txt", ".text": "txt", ".rst": "txt", ".log": "txt", ".csv": "csv", ".tsv": "csv",
    ".md": "md", ".markdown": "md", ".mdown": "md", ".mkd": "md",
    ".html": "html", ".htm": "html", ".xhtml": "html", ".mhtml": "mhtml", ".mht": "mhtml",
    ".pdf": "pdf", ".docx": "docx", ".pptx": "pptx", ".xlsx": "xlsx", ".xlsm": "xlsx", ".odt": "odt",
    ".epub": "epub", ".rtf": "rtf", ".eml": "eml", ".mbox": "mbox", ".enex": "enex", ".ipynb": "ipynb", ".vtt": "vtt",
    ".srt": "srt",
    ".org": "org", ".adoc": "adoc", ".asciidoc": "adoc", ".ics": "ics", ".vcf": "vcf",
    **dict.fromkeys(IMAGE_EXTENSIONS, "image"),
}
SUPPORTED_EXTENSIONS: frozenset[str] = frozenset(_PLAIN_TYPES) | frozenset(_CODE_LANGUAGES)
FILE_TYPES: frozenset[str] = frozenset(_PLAIN_TYPES.values()) | frozenset(f"code:{language}" for language in
                                                                          _CODE_LANGUAGES.values())


def types_named(name: str) -> tuple[str, ...]:
    """The stored file types a `--type` filter names: a type as `documents` lists it (md, pdf, code:python), `code`
    for every language, or an extension, which stands for its type (py: code:python; rst: txt, kept to .rst files by
    `extension_named`). Every extension
    but pdf, md, html, txt and a few more found nothing: the filter compared it with the type."""
    wanted = name.strip().lower().lstrip(".")
    if wanted in FILE_TYPES:
        return (wanted,)
    if wanted == "code":
        return tuple(sorted(t for t in FILE_TYPES if t.startswith("code:")))
    if f".{wanted}" in SUPPORTED_EXTENSIONS:
        return (file_type(Path(f"x.{wanted}")),)
    raise LoaderError(f"file type '{name}' is not one localrag reads",
                      "give an extension (py, md, pdf) or a type as `localrag documents` lists it (code:python)")


# Extensions of formats of their own stored under a type they share (.rst and .log are read as "txt", .tsv as "csv"):
# a filter that names one keeps to that extension. Before, `--type rst` found .txt and .log files too. A spelling of a
# type (markdown, htm, yml, jpeg) or the type itself (txt, csv) still takes every file of the type.
_OWN_FORMATS = frozenset({".rst", ".log", ".tsv", ".xlsm"})


def extension_named(name: str) -> str | None:
    """The extension (".rst") a `--type` filter keeps to, besides its type (`types_named`), when it names a format of
    its own stored under a type it shares; else None."""
    wanted = f".{name.strip().lower().lstrip('.')}"
    return wanted if wanted in _OWN_FORMATS else None


def file_type(path: Path) -> str:
    """The loader kind for a path, from its extension (`reads_as`: a rotated `app.log.1` is a .log): "pdf", "md"..."""
    suffix = reads_as(Path(path))
    if suffix in _PLAIN_TYPES:
        return _PLAIN_TYPES[suffix]
    if suffix in _CODE_LANGUAGES:
        return f"code:{_CODE_LANGUAGES[suffix]}"
    raise LoaderError(
        f"{path}: unsupported file type '{suffix or '(none)'}'",
        f"supported: {', '.join(sorted(SUPPORTED_EXTENSIONS))}",
    )


def load_file(path: Path, *, ocr: bool = True, notify: Notify | None = None) -> LoadedText:
    """Extract text and structure from one file; raises LoaderError with a fix for anything unreadable.

    `ocr` lets scanned PDF pages and images be read by OCR; `notify` hears what a slow step (OCR) is
    doing. An .mbox or .enex holds many documents: read it with `ingest.parts.load_parts`.
    """
    path = Path(path)
    kind = file_type(path)
    if not path.is_file():
        raise LoaderError(f"{path}: no such file", "check the path")
    if kind in ("mbox", "enex"):
        raise ValueError(f"{path}: a mailbox or note export holds many documents; read it with ingest.parts.load_parts")
    if kind in _FORMAT_LOADERS:
        loaded = _FORMAT_LOADERS[kind](path, ocr, notify)
    elif kind == "pdf":
        loaded = load_pdf(path, ocr=ocr, notify=notify)
    elif kind == "md":
        loaded = _load_markdown(path)
    elif kind.startswith("code:"):
        loaded = _load_code(path)
    else:
        loaded = _load_plain(path)
    if loaded.title == path.stem:
        # Titled by its file's name, as each loader does for a document that names none: the one rule for file
        # names (`file_title`) applies here, for every loader.
        loaded = dataclasses.replace(loaded, title=file_title(path))
    if not loaded.text.strip() or not loaded.sections:
        raise NoTextError(f"{path}: no text to index (the file is empty or blank)", "add text or exclude the file")
    if _SURROGATE.search(loaded.text) or _SURROGATE.search(loaded.title):
        # A damaged PDF or a legacy page can decode to lone surrogates, which the tokenizer, Arrow and
        # JSON all refuse; one U+FFFD each keeps every section offset valid.
        loaded = dataclasses.replace(
            loaded, text=_SURROGATE.sub("\ufffd", loaded.text), title=_SURROGATE.sub("\ufffd", loaded.title)
        )
    return loaded


def _image(path: Path, ocr: bool, notify: Notify | None) -> LoadedText:
    from localrag.ingest.ocr import load_image

    if not ocr:
        raise LoaderError(f"{path}: an image is read only by OCR, which is off", OCR_ON)
    return load_image(path, notify)


def _pptx(path: Path, ocr: bool, notify: Notify | None) -> LoadedText:
    from localrag.ingest.slides import load_pptx

    return load_pptx(path)


def _xlsx(path: Path, ocr: bool, notify: Notify | None) -> LoadedText:
    from localrag.ingest.sheets import load_xlsx

    return load_xlsx(path)


def _csv(path: Path, ocr: bool, notify: Notify | None) -> LoadedText:
    from localrag.ingest.sheets import load_csv

    return _of_text(path, load_csv)


def _odt(path: Path, ocr: bool, notify: Notify | None) -> LoadedText:
    from localrag.ingest.opendoc import load_odt

    return load_odt(path)


def _epub(path: Path, ocr: bool, notify: Notify | None) -> LoadedText:
    from localrag.ingest.ebook import load_epub

    return load_epub(path)


def _rtf(path: Path, ocr: bool, notify: Notify | None) -> LoadedText:
    from localrag.ingest.rtf import load_rtf

    return load_rtf(path, _read_bytes(path))


def _eml(path: Path, ocr: bool, notify: Notify | None) -> LoadedText:
    from localrag.ingest.mail import message_text, read_messages

    return next(message_text(message, path.stem) for _, message in read_messages(path))


def _cards(path: Path, ocr: bool, notify: Notify | None) -> LoadedText:
    from localrag.ingest.cards import load_cards

    return _of_text(path, load_cards)


def _docx(path: Path, ocr: bool, notify: Notify | None) -> LoadedText:
    from localrag.ingest.word import load_docx

    return load_docx(path, ocr=ocr, notify=notify)


def _html(path: Path, ocr: bool, notify: Notify | None) -> LoadedText:
    from localrag.ingest.html import load_html

    return load_html(path, _read_bytes(path))


def _mhtml(path: Path, ocr: bool, notify: Notify | None) -> LoadedText:
    from localrag.ingest.webarchive import load_mhtml

    return load_mhtml(path, _read_bytes(path))


def _ipynb(path: Path, ocr: bool, notify: Notify | None) -> LoadedText:
    from localrag.ingest.notebook import load_notebook

    return _of_text(path, load_notebook)


def _subtitles(path: Path, ocr: bool, notify: Notify | None) -> LoadedText:
    from localrag.ingest.subtitles import load_subtitles

    return _of_text(path, load_subtitles)


def _org(path: Path, ocr: bool, notify: Notify | None) -> LoadedText:
    from localrag.ingest.outline import load_org

    return _of_text(path, load_org)


def _adoc(path: Path, ocr: bool, notify: Notify | None) -> LoadedText:
    from localrag.ingest.outline import load_asciidoc

    return _of_text(path, load_asciidoc)


def _of_text(path: Path, load: Callable[[Path, str], LoadedText]) -> LoadedText:
    """What `load` reads from the file's text, decoded as any text file is, with a note of how (an encoding guessed)."""
    read = read_text(path)
    return dataclasses.replace(load(path, read.text), note=read.note)


# Formats whose loaders live in their own modules, imported on first use (each pulls in a library).
_FORMAT_LOADERS: dict[str, Callable[[Path, bool, Notify | None], LoadedText]] = {
    "image": _image, "pptx": _pptx, "xlsx": _xlsx, "csv": _csv, "odt": _odt, "epub": _epub, "rtf": _rtf,
    "eml": _eml, "ipynb": _ipynb, "docx": _docx, "html": _html, "mhtml": _mhtml, "vtt": _subtitles, "srt": _subtitles,
    "org": _org, "adoc": _adoc, "ics": _cards, "vcf": _cards,
}


_SURROGATE = re.compile("[\ud800-\udfff]")


# --- shared helpers -------------------------------------------------------------------------------


def _read_bytes(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise LoaderError(f"{path}: cannot read ({exc.strerror or exc})", "check the file's permissions") from exc


def read_text(path: Path) -> Decoded:
    """The file's text as `encodings.decode_file` reads it, with its note on a guessed encoding."""
    return decode_file(_read_bytes(path), path)


def _line_starts(text: str) -> list[int]:
    starts = [0]
    starts.extend(m.end() for m in re.finditer("\n", text))
    return starts


def _span(text: str, starts: list[int], first_line: int, end_line: int) -> tuple[int, int]:
    """Character span of lines [first_line, end_line), without surrounding whitespace."""
    start = starts[first_line]
    end = starts[end_line] if end_line < len(starts) else len(text)
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


# --- plain text and source code -------------------------------------------------------------------

_BLANK_LINES = re.compile(r"\n[ \t]*\n\s*")


def _blocks(text: str) -> Iterator[tuple[int, int]]:
    """Spans of blank-line separated blocks, trimmed."""
    position = 0
    for match in _BLANK_LINES.finditer(text):
        yield from _trimmed(text, position, match.start())
        position = match.end()
    yield from _trimmed(text, position, len(text))


def _trimmed(text: str, start: int, end: int) -> Iterator[tuple[int, int]]:
    block = text[start:end]
    stripped = block.strip()
    if stripped:
        lead = len(block) - len(block.lstrip())
        yield start + lead, start + lead + len(stripped)


# A lone line that is a record's field, not a heading: a bare link, or "Label: value" whose one-word value
# holds a digit ("SHA: 90d0...", "DOI: 10.3201/...", "Date: 3/24/2020") or marks a missing value ("Abstract:
# nan", as a spreadsheet or pandas export writes an empty cell). Taken for a heading, it was the heading path
# of every chunk below it, in each chunk's vector and BM25 text.
_FIELD_LINE = re.compile(
    r"^(?:(?:https?://|www\.|doi:)\S+|[^\s:][^:]{0,40}:\s*(?:\S*\d\S*|nan|null|none|n/a|-))$", re.IGNORECASE
)
# A title line longer than this is taken only when it stands alone, without a sentence's full stop.
_SHORT_TITLE = 100
_LONG_TITLE = 300


def _plain_title(text: str, blocks: list[tuple[int, int]], path: Path) -> str:
    # A title's overline (reStructuredText's, as Sphinx writes a document's title) is no title: before 2026-12-07 the
    # document was titled "===============".
    first_line = next((line.strip() for line in text.strip().split("\n") if not ADORNMENT.fullmatch(line.strip())), "")
    if 0 < len(first_line) <= _SHORT_TITLE:
        return first_line
    first = text[blocks[0][0]:blocks[0][1]] if blocks else ""
    if first == first_line and len(first) <= _LONG_TITLE and not first.endswith(".") and len(blocks) > 1:
        return first
    return path.stem


def _underlined(block: str) -> tuple[str, str, int, int, int] | None:
    """A block that opens with a title over an underline (`sentences.ADORNMENT`), perhaps under an overline of the
    same characters: (title, the adornment that marks its level, the title's span in the block, where the text
    after it starts)."""
    lines = block.split("\n")
    over = len(lines) >= 3 and ADORNMENT.fullmatch(lines[0].strip()) is not None
    title_at = 1 if over else 0
    if len(lines) < title_at + 2:
        return None
    title, under = lines[title_at].strip(), lines[title_at + 1].strip()
    if not title or ADORNMENT.fullmatch(under) is None or len(under) < len(title):
        return None
    if over and lines[0].strip() != under:
        return None
    line_start = sum(len(line) + 1 for line in lines[:title_at])
    title_start = line_start + len(lines[title_at]) - len(lines[title_at].lstrip())
    after = sum(len(line) + 1 for line in lines[: title_at + 2])
    return squash(title), ("over" if over else "") + under[0], title_start, title_start + len(title), after


# reStructuredText's markup that a rendered page does not show as text: a directive's line (".. image:: a.png")
# and its options (":width: 400px"), a comment, link target or substitution (".. _label:"), and a role's name
# before its text (":ref:`options`"). Read as text, `summarize` quoted ".. toctree:: :maxdepth: 2 :caption:
# Contents:" as a key sentence. The bodies of directives that show no text of their own (a table of contents, an
# image, an include, a formula's TeX) and of comments go too; a note's or a code block's body stays.
_RST_EXPLICIT = re.compile(
    r"\.\.(?:[ \t]+(?P<directive>[\w:.-]+)::|[ \t]+(?P<note>\[(?:#?[\w.:+-]*|\*)\])(?=[ \t]|$)|[ \t]|$)"
)
_RST_OPTION = re.compile(r"[ \t]+:[\w -]+:(?:[ \t].*)?")
_RST_ROLE = re.compile(r":[\w.+-]+:(?=`)")
# A formula's TeX source (`.. math::`) is left out as the HTML reader leaves it out: `Q = \frac{V}{t}` is no text a
# reader sees, and as a lone line it was a heading that filed the table after it under "Q = \frac{V}{t}".
_RST_NO_TEXT = frozenset({"toctree", "image", "include", "raw", "contents", "meta", "index", "highlight", "math"})
# Directives whose argument, on the directive's line, is text the page shows: an admonition's (".. warning:: Life
# jackets are mandatory ..."), a rubric's heading. Before 2026-12-07 the whole line was blanked, and an admonition
# written on one line was lost. A table's, a topic's or a sidebar's title stays out: a lone line, it would head the
# text after the table too.
_RST_TEXT_ARGUMENT = frozenset({
    "attention", "caution", "danger", "error", "hint", "important", "note", "tip", "warning", "admonition", "seealso",
    "todo", "rubric", "centered",
})
# Directives whose argument is a version ("2.1"), perhaps followed by text the page shows after "New in version
# 2.1:" (".. versionchanged:: 2.4 Colours follow the system"): the version is left out, as a lone "2.1" was a
# heading and ".. deprecated:: 3.0" read "3.0 Use the theme option.".
_RST_VERSION_ARGUMENT = frozenset({"versionadded", "versionchanged", "deprecated", "versionremoved"})
_RST_VERSION = re.compile(r"[ \t]*\S+")
# A footnote's or citation's reference in a sentence ("due in March [#fee]_", "as shown [CIT2020]_"), with the space
# before it: the rendered page shows a superscript, and read as text it was quoted ("March [#fee]_.").
_RST_NOTE_REFERENCE = re.compile(r"(?:[ \t]|\\ )?\[(?:#[\w.:+-]*|\*|\d+|[A-Za-z][\w.:+-]*)\]_")


def _blanked(match: re.Match[str]) -> str:
    return " " * len(match.group())


def _cut_out(line: str, pattern: re.Pattern[str]) -> str:
    """`line` without `pattern`'s matches, padded with spaces at its end to its length (every offset past the line
    holds, and a sentence's full stop stays after its word: "March [#fee]_." is "March.")."""
    cut = pattern.sub("", line)
    return cut + " " * (len(line) - len(cut))


def visible_rst(text: str) -> tuple[str, list[tuple[int, int]]]:
    """`text` with reStructuredText's markup blanked out by spaces (line breaks and offsets kept), and the spans of
    the lines a directive or a note holds (an admonition's text on its line or in its body, a footnote's): text,
    never a heading, as a section cannot open inside them. A footnote's or a citation's text stays without its
    label (".. [#fee] The fee ..."), and a reference to it goes from its sentence; a csv-table's `:header:` row is
    moved down over its rows, where the page shows it."""
    lines = text.split("\n")
    out: list[str] = []
    marked: list[tuple[int, int]] = []
    offset = 0  # where line `index` starts in `text`
    index = 0
    while index < len(lines):
        explicit = _RST_EXPLICIT.match(lines[index])
        if explicit is None:
            out.append(_visible_rst_line(lines[index]))
            offset += len(lines[index]) + 1
            index += 1
            continue
        directive = explicit.group("directive")
        line = lines[index]
        hidden_to = explicit.end()
        if directive in _RST_VERSION_ARGUMENT:
            version = _RST_VERSION.match(line, hidden_to)
            hidden_to = version.end() if version is not None else hidden_to
        if explicit.group("note") is not None or directive in _RST_TEXT_ARGUMENT | _RST_VERSION_ARGUMENT:
            out.append(" " * hidden_to + _visible_rst_line(line[hidden_to:]))
            marked.append((offset, offset + len(line)))
        else:
            out.append(" " * len(line))
        offset += len(line) + 1
        index += 1
        hidden = (directive is None and explicit.group("note") is None) or directive in _RST_NO_TEXT
        options = True
        header: int | None = None  # where in `out` a csv-table's `:header:` row stands
        while index < len(lines) and (not lines[index].strip() or lines[index][:1] in (" ", "\t")):
            line = lines[index]
            if not hidden and options and directive == "csv-table" and line.lstrip().startswith(":header:"):
                header = len(out)
                out.append(line.replace(":header:", " " * len(":header:"), 1))
            elif hidden or (options and _RST_OPTION.fullmatch(line)):
                out.append(" " * len(line))
            else:
                if options and line.strip() and header is not None and not out[-1].strip():
                    # The header row takes the place of the blank line over the rows (the lines keep their lengths
                    # between them), so it opens the table's block: in its own, it was a heading.
                    out[header], out[-1] = out[-1], out[header]
                options = options and not line.strip()
                out.append(_visible_rst_line(line))
                # A directive's body holds no section: a lone short line there (a note's) is its text too.
                marked.append((offset, offset + len(line)))
            offset += len(line) + 1
            index += 1
    return "\n".join(out), marked


def _visible_rst_line(line: str) -> str:
    return _cut_out(_RST_ROLE.sub(_blanked, line), _RST_NOTE_REFERENCE)


def rst_notes(text: str, visible: str) -> list[tuple[int, int, int | None]]:
    """Each footnote's and citation's text in `visible` (`visible_rst` of `text`, its lines in their places) as
    (start, end, where the line that first refers to it starts its text, else None), for `filed_notes`. An
    auto-numbered note (`[#]`, `[*]`) is matched to no reference: the order they pair in is left to docutils."""
    lines = text.split("\n")
    offsets = _line_starts(text)
    cited: dict[str, int] = {}
    notes: list[tuple[int, int, str]] = []
    index = 0
    while index < len(lines):
        line = lines[index]
        explicit = _RST_EXPLICIT.match(line)
        if explicit is None or explicit.group("note") is None:
            for found in _RST_NOTE_REFERENCE.finditer(line):
                label = found.group().strip().removeprefix("\\").strip()[:-1]
                cited.setdefault(label, offsets[index] + len(line) - len(line.lstrip()))
            index += 1
            continue
        first = index
        index += 1
        while index < len(lines) and (not lines[index].strip() or lines[index][:1] in (" ", "\t")):
            index += 1
        start, end = offsets[first] + explicit.end(), offsets[index] if index < len(lines) else len(visible)
        body = visible[start:end]
        if body.strip():
            lead = len(body) - len(body.lstrip())
            notes.append((start + lead, start + len(body.rstrip()), explicit.group("note")))
    return [(start, end, cited.get(label) if label not in ("[#]", "[*]") else None) for start, end, label in notes]


def _load_plain(path: Path) -> LoadedText:
    """Blank-line separated blocks; a lone short line without end punctuation is taken as a heading,
    unless it is a field of a record (`_FIELD_LINE`). A title underlined with a line of `=`, `-`, `~` and the
    like (reStructuredText's section titles, and a habit of plain-text notes) is a heading too, its level set
    by the adornments in the order they first appear, as reStructuredText sets them; a lone-line heading then
    sits under the last of them. The title is the first line: up to 100 characters whatever it is, up to 300
    when it is a block of its own (a paper's long title)."""
    read = read_text(path)
    text = read.text
    notes: list[tuple[int, int, int | None]] = []
    # Spans of text that is never a heading however short: an admonition's on its directive's line, a note's.
    not_headings: list[tuple[int, int]] = []
    if path.suffix.lower() == ".rst":
        visible, not_headings = visible_rst(text)
        text, notes = visible, rst_notes(text, visible)
        not_headings += [(start, end) for start, end, _ in notes]
    blocks = list(_blocks(text))
    sections = []
    headings: tuple[str, ...] = ()
    path_of = HeadingPath()
    levels: dict[str, int] = {}
    for index, (start, end) in enumerate(blocks):
        block = text[start:end]
        titled = _underlined(block)
        if titled is not None:
            title, mark, title_start, title_end, after = titled
            headings = path_of.enter(levels.setdefault(mark, len(levels) + 1), title)
            sections.append(Section(start + title_start, start + title_end, "heading", headings))
            rest = block[after:]
            if rest.strip():
                lead = len(rest) - len(rest.lstrip())
                sections.append(Section(start + after + lead, end, prose_kind(rest.strip()), headings))
            continue
        # A clause's or a section's heading typed right above its text ("§ 4 Notice to quit\n(1) A landlord
        # may ..."), perhaps under the document's title ("SUPPLY CONTRACT\n1. DELIVERY\n1.1 ..."): before
        # 2026-12-07 a whole contract was one section under its title.
        text_at = _leading_heading(block)
        while text_at is not None:
            name = block[:text_at].rstrip()
            headings = path_of.enter(len(levels) + 1, squash(name))
            sections.append(Section(start, start + len(name), "heading", headings))
            block = block[text_at:].lstrip()
            start = end - len(block)
            text_at = _leading_heading(block)
            if text_at is None:
                sections.append(Section(start, end, prose_kind(block), headings))
                block = ""
        if not block:
            continue
        is_heading = (
            "\n" not in block
            and len(block) <= 80
            and index + 1 < len(blocks)
            and not block.rstrip(_CJK_CLOSERS).endswith(_CLAUSE_ENDS)
            and (not LIST_LINE.match(block) or _numbered_heading(text, blocks, index))
            and not _FIELD_LINE.match(block)
            and not any(low <= start < high for low, high in not_headings)
        )
        if is_heading:
            headings = path_of.enter(len(levels) + 1, squash(block))
            sections.append(Section(start, end, "heading", headings))
        else:
            sections.append(Section(start, end, prose_kind(block), headings))
    return LoadedText(text, tuple(filed_notes(text, sections, notes)), _plain_title(text, blocks, path), read.note)


# A numbered sub-clause opening the line under a heading: "1.1 The Seller ...", "(1) A landlord ...", "(a) ", "a) ".
_SUB_CLAUSE = re.compile(r"[ \t]*(?:\d+\.\d+(?:\.\d+)*[.)]?|\((?:\d+|[a-z]|[ivx]+)\)|[a-z]\))[ \t]+\S")
# An item of a numbered list: what may follow a title in capitals ("INGREDIENTS" over "1. 200 g flour").
_NUMBERED_LINE = re.compile(r"[ \t]*\d+[.)][ \t]+\S")


def _leading_heading(block: str) -> int | None:
    """Where the text under a heading starts when the first line of `block` is a heading with its text typed under
    it, without a blank line: a "§"/"Article"/"Section" heading over a sub-clause ("1.1 ...", "(1) ...", "(a) ..."),
    a numbered paragraph ("1. ...") or a sentence; a number with a title in capitals ("12. TERMINATION") over a
    sub-clause or a sentence; a number with a title-case
    title ("2. Minimum Purchase") or a short title in capitals ("GENERAL TERMS") over a sub-clause only (a
    capitals title over a numbered list's first item too). Else None: a list's first item over the next ("1.
    Milk\n2. Eggs"), a title over a bulleted list or a paragraph ("README\nThis tool ..."), a heading that ends a
    clause ("Section 5 applies.")."""
    first, newline, rest = block.partition("\n")
    line, below = first.strip(), rest.lstrip("\n")
    if not newline or not below.strip() or len(line) > 80 or line.rstrip(_CJK_CLOSERS).endswith(_CLAUSE_ENDS):
        return None
    sub_clause = _SUB_CLAUSE.match(below) is not None
    sentence = below.lstrip()[:1].isupper() and not LIST_LINE.match(below)
    # A statute's or a contract's heading line: "§ 4 Notice to quit", "Rule 4", "ARTICLE V - PAYMENT".
    clause = clause_heading(line)
    letters = [c for c in line if c.isalpha()]
    capitals = len(letters) >= 2 and all(c.isupper() for c in letters) and len(line.split()) <= 8
    numbered = numbered_title(line)
    if clause is not None and len((clause.group("title") or "").split()) <= 10:
        # An EU-style article numbers its paragraphs "1.", "2." ("Article 5 Speed limits\n1. A boat shall ..."):
        # before 2026-12-07 they stayed under the article before it.
        fits = sub_clause or sentence or _NUMBERED_LINE.match(below) is not None
    elif numbered and capitals:
        fits = sub_clause or sentence
    elif numbered:
        fits = sub_clause
    elif capitals and not any(c.isdigit() for c in line):
        fits = sub_clause or _NUMBERED_LINE.match(below) is not None
    else:
        fits = False
    return len(first) + 1 if fits else None


def _numbered_heading(text: str, blocks: list[tuple[int, int]], index: int) -> bool:
    """Whether lone line `index` of `blocks` is a numbered heading (a contract's "6. TERMINATION" over its text): a
    `numbered_title`, with no lone numbered line beside it. Items typed a blank line apart ("1. Milk", "2. Eggs")
    are a list's: before, every lone numbered line was, and a lease's clauses were all under its title."""
    if not numbered_title(text[blocks[index][0] : blocks[index][1]]):
        return False
    beside = [text[slice(*blocks[i])] for i in (index - 1, index + 1) if 0 <= i < len(blocks)]
    return not any("\n" not in block and LIST_LINE.match(block) and block[0].isdigit() for block in beside)


# The marks that end a clause, so a lone line ending in one is prose, not a heading: before the CJK ones were here,
# each short paragraph of a Chinese or Japanese text file ending in 。 was a heading (a 4.5 KB handbook: 37 chunks,
# each under itself). A closing corner bracket, curly quote or full-width parenthesis may follow the mark (the
# straight ones, `."` and `.)`, are left as they were: English text files were measured with them so).
_CLAUSE_ENDS = (".", ",", ";", ":", "!", "?", "。", "，", "；", "：", "！", "？", "、", "．", "।", "؟")
_CJK_CLOSERS = "」』）”’"


def _load_code(path: Path) -> LoadedText:
    """Blocks end at a blank line followed by an unindented line: top-level definitions stay whole. A Google Keep
    note (a `.json` file of its exact shape) is read as the note Keep shows (`ingest.keep`), a chat export (Telegram's,
    Discord's, Slack's) as its messages (`ingest.chats`); another `.json` file with its strings' escapes decoded
    (`json_strings`)."""
    read = read_text(path)
    text = read.text
    if path.suffix.lower() == ".json":
        from localrag.ingest.chats import chat_export
        from localrag.ingest.json_strings import readable_json
        from localrag.ingest.keep import keep_note

        note = keep_note(text, path.stem) or chat_export(path, text)
        if note is not None:
            return dataclasses.replace(note, note=read.note)
        text = readable_json(text)
    sections: list[Section] = []
    block_start: int | None = None
    block_end = 0
    after_blank = False
    position = 0
    for line in text.split("\n"):
        line_end = position + len(line)
        if not line.strip():
            after_blank = True
        else:
            starts_top_level = not line[0].isspace() and not line.lstrip().startswith((")", "]", "}"))
            if block_start is not None and after_blank and starts_top_level:
                sections.append(Section(block_start, block_end, "code"))
                block_start = None
            if block_start is None:
                block_start = position
            block_end = line_end
            after_blank = False
        position = line_end + 1
    if block_start is not None:
        sections.append(Section(block_start, block_end, "code"))
    return LoadedText(text, tuple(sections), path.name, read.note)


# --- Markdown -------------------------------------------------------------------------------------

# YAML's (`---`), or TOML's (`+++`) as Hugo writes it: before 2026-12-07 a Hugo post was titled by its file's name and
# `summarize` quoted `title = "Beekeeping Diary" tags = [...]` as a key sentence.
_FRONT_MATTER = re.compile(
    r"\A(?:---[ \t]*\n(.*?)\n(?:---|\.\.\.)|\+\+\+[ \t]*\n(.*?)\n\+\+\+)[ \t]*(?:\n|\Z)", re.DOTALL
)
# A front matter's one-line `title:` (`title = ` in TOML), the title of a blog or site page (Jekyll, Hugo) that has no
# `# ` heading.
_FRONT_TITLE = re.compile(r"^title[ \t]*[:=][ \t]*(['\"]?)(.+?)\1[ \t]*$", re.MULTILINE)
_MD_KINDS = {
    "paragraph_open": "paragraph", "bullet_list_open": "list", "ordered_list_open": "list",
    "table_open": "table", "fence": "code", "code_block": "code", "blockquote_open": "paragraph",
    "html_block": "paragraph",
}


@cache
def _markdown_parser() -> MarkdownIt:
    # Built once: building costs milliseconds and a notebook asks for one per Markdown cell. Only the
    # block structure is needed, so inline parsing (most of the work) is left to heading names.
    from markdown_it import MarkdownIt

    return MarkdownIt("commonmark").enable("table").disable("inline")


@cache
def _markdown_inline_parser() -> MarkdownIt:
    from markdown_it import MarkdownIt

    return MarkdownIt("commonmark")


def markdown_blocks(text: str) -> Iterator[tuple[int, int, str, int, str]]:
    """(start, end, kind, heading level or 0, heading name) per top-level Markdown block of `text`."""
    # Front matter would parse as a rule and a setext heading; blank it out, keeping line numbers.
    front = _FRONT_MATTER.match(text)
    parsed = text if front is None else "\n" * text.count("\n", 0, front.end()) + text[front.end():]
    tokens = _markdown_parser().parse(parsed)
    starts = _line_starts(text)
    for i, token in enumerate(tokens):
        if token.level != 0 or token.map is None:
            continue
        level, name = 0, ""
        if token.type == "heading_open":
            source = tokens[i + 1].content
            inline = _markdown_inline_parser().parseInline(source)[0] if source else None
            children = inline.children or () if inline is not None else ()
            name = squash("".join(c.content for c in children if c.type in ("text", "code_inline")))
            level, name, kind = int(token.tag[1]), name or squash(source), "heading"
        elif token.type in _MD_KINDS:
            kind = _MD_KINDS[token.type]
        else:
            continue
        start, end = _span(text, starts, token.map[0], token.map[1])
        if start < end:
            yield start, end, kind, level, name


# What a rendered page does not show: comments, scripts and styles, and in an HTML block the tags themselves.
_HIDDEN_HTML = re.compile(r"<!--.*?(?:-->|\Z)|<(script|style)\b.*?(?:</\1\s*>|\Z)", re.DOTALL | re.IGNORECASE)
# Obsidian's comments, inline or over lines: hidden in its reading and editing views, where people keep private notes.
_OBSIDIAN_MARK = re.compile("%%")
# An inline code span: a run of backticks, then text that crosses no blank line, then a run as long.
_CODE_SPAN = re.compile(r"(`+)(?:[^`\n]|\n(?![ \t]*\n))+?\1(?!`)")
_TAG = re.compile(r"</?[A-Za-z][^>]*>")


def visible_markdown(text: str) -> str:
    """`text` with the HTML a Markdown renderer hides blanked out: each character a space, each newline kept, so
    offsets and line numbers hold. A comment is a note to the writer, a script or style is code the page runs:
    neither is the document's text, and a search must not find it nor an answer quote it (HTML files drop them
    too). Inside a paragraph only comments go, and only where no backtick could make them code. Obsidian's
    `%% comments %%` go as well, their marks paired as Obsidian pairs them, outside code (in any Markdown file:
    "50%% off" is rare in prose, and Obsidian would hide it too)."""
    tokens = _markdown_parser().parse(text)
    starts = _line_starts(text)
    chars = list(text)

    def blank(start: int, end: int) -> None:
        chars[start:end] = [c if c == "\n" else " " for c in text[start:end]]

    for token in tokens:
        if token.map is None or token.type not in ("html_block", "inline"):
            continue
        start, end = _span(text, starts, token.map[0], token.map[1])
        block = text[start:end]
        if token.type == "inline" and ("`" in block or "<!--" not in block):
            continue
        for found in _HIDDEN_HTML.finditer(block):
            blank(start + found.start(), start + found.end())
        if token.type == "html_block":
            for found in _TAG.finditer(block):
                blank(start + found.start(), start + found.end())
    # Obsidian pairs the marks outside code, in order: a `%%` in code paired with a comment's opening one left the
    # comment's text in, and a comment holding code is hidden whole.
    code = _markdown_code(text, tokens)
    marks = [m.start() for m in _OBSIDIAN_MARK.finditer(text) if not any(s <= m.start() < e for s, e in code)]
    for opening, closing in zip(marks[::2], marks[1::2], strict=False):
        blank(opening, closing + 2)
    if len(marks) % 2:  # one left open hides the rest of the note, as an unclosed HTML comment does here
        blank(marks[-1], len(text))
    return _cut_in_lines("".join(chars), list(_image_syntax(text, code)))


def _cut_in_lines(text: str, cuts: list[tuple[int, int, str]]) -> str:
    """`text` with each (start, end, replacement) of `cuts` (in order, none overlapping) replaced, each line then padded
    at its end to its length: the text after a cut moves left on its line, so every line keeps its length and its
    place, and a line opening with a cut is not indented into a code block (blanked in place, `![](logo.png) Intro`
    left "Intro" behind 13 spaces)."""
    if not cuts:
        return text
    pieces: list[str] = []
    at = 0
    for start, end, replacement in cuts:
        pieces.append(text[at:start])
        # A cut over a line's end keeps the newline, so the lines stay where they were.
        pieces.append(replacement + "\n" * text.count("\n", start, end))
        at = end
    pieces.append(text[at:])
    return "\n".join(line.ljust(len(old)) for line, old in zip("".join(pieces).split("\n"), text.split("\n"),
                                                                  strict=True))


# An image as Markdown writes it: `![alt](address "title")`, `![alt][label]` or `![alt][]`, or `![alt]` where a
# reference definition names it. Its alt text may hold brackets in pairs and escapes, and wrap over a line; an
# address may be in <angle brackets> or hold parentheses in pairs; a title is in double or single quotes or in
# parentheses. Groups: alt text, the title's text in each of its three quotings, a label.
_MD_IMAGE = re.compile(
    r"!\[((?:[^\[\]\\\n]|\\.|\n(?![ \t]*\n)|\[[^\[\]\n]*\])*)\]"
    r"(?:\([ \t]*(?:<[^<>\n]*>|[^\s()<]*(?:\([^\s()]*\)[^\s()]*)*)"
    r"(?:(?:[ \t]+|[ \t]*\n[ \t]*)(?:\"([^\"]*)\"|'([^']*)'|\(([^()]*)\)))?[ \t]*\)"
    r"|\[([^\[\]\n]*)\])?"
)
_MD_DEFINITION = re.compile(r"^ {0,3}\[([^\]\n]+)\]:", re.MULTILINE)


def _image_syntax(text: str, code: list[tuple[int, int]]) -> Iterator[tuple[int, int, str]]:
    """The spans of `text` that are an image's markup outside `code`, each with what stands in its place
    (`_cut_in_lines`): all of it but its alt text and its title, as a screen reader reads an image (its title only
    where the alt text does not already say it; an image with no alt text, a decoration, is cut whole). Read raw before
    2026-12-08, a pasted `data:` image became some 110 chunks of base64, and `summarize` quoted
    "![Lighthouse ...](img/lighthouse.png "Saint Piran lighthouse")" as a key sentence."""
    if "![" not in text:
        return
    defined = {squash(label).casefold() for label in _MD_DEFINITION.findall(text)}
    for found in _MD_IMAGE.finditer(text):
        if any(start <= found.start() < end for start, end in code):
            continue
        if _escaped(text, found.start()):
            continue  # `\![text](address)` is a "!" and a link, read as written (an image cut left "\text")
        label = found.group(5)
        if found.end() == found.end(1) + 1 and squash(found.group(1)).casefold() not in defined:
            continue  # `![alt]` with no definition naming it is shown as it is written
        if label is not None and squash(label or found.group(1)).casefold() not in defined:
            continue  # nor is `![alt][label]` whose label names none
        alt = found.span(1)
        title = next((found.span(group) for group in (2, 3, 4) if found.group(group) is not None), None)
        if title is not None and said_in(text[title[0]:title[1]], found.group(1)):
            title = None  # the alt text says it already
        kept = [span for span in (alt, title) if span is not None and squash(text[span[0]:span[1]])]
        at = found.start()
        for start, end in kept:
            yield at, start, " " if at > found.start() else ""  # a space between the alt text and the title
            at = end
        # A space after the text read where a word, an image or a link follows right after the image: before
        # 2026-12-08 `![a](x.png)![b](y.png) end` read "ab end". (A badge row's links, `[![build](b.svg)](ci)`, stay
        # as written, so their texts are apart already.)
        after = text[found.end():found.end() + 1]
        yield at, found.end(), " " if kept and (after.isalnum() or after in ("[", "!")) else ""


def _escaped(text: str, at: int) -> bool:
    """Whether the character at `at` of Markdown `text` is escaped: an odd number of backslashes before it (`\\!` is a
    backslash, then a "!")."""
    before = at
    while before > 0 and text[before - 1] == "\\":
        before -= 1
    return (at - before) % 2 == 1


def _markdown_code(text: str, tokens: list[Token]) -> list[tuple[int, int]]:
    """The spans of `text`'s code blocks and inline code spans, where no mark is markup (`tokens` are its blocks)."""
    starts = _line_starts(text)
    code = [_span(text, starts, t.map[0], t.map[1]) for t in tokens if t.type in ("fence", "code_block") and t.map]
    return code + [found.span() for found in _CODE_SPAN.finditer(text)]


# A footnote's definition opening a line (`[^bulb]: Spare bulbs are kept ...`), as GitHub, Pandoc and Obsidian write
# one, and a reference to it in a sentence (`chamois cloth[^1].`).
_MD_NOTE = re.compile(r"^ {0,3}\[\^([^\]\s]+)\]:[ \t]*", re.MULTILINE)
_MD_NOTE_REFERENCE = re.compile(r"\[\^([^\]\s]+)\](?!:)")


def markdown_notes(text: str) -> tuple[str, list[tuple[int, int, int | None]]]:
    """`text` without its footnotes' labels and reference marks, and each footnote as (start, end, where its first
    reference stands, else None). A label or a mark is cut from its line, the line padded at its end, so every line
    keeps its length and its place (a full stop stays after its word: "cloth[^1]." reads "cloth."), and a note's text
    is not indented into a code block. Before 2026-12-07 `ask --extract` quoted "[^bulb]: Spare bulbs ..." and "...
    chamois cloth[^1].", the note filed under the last heading."""
    if "[^" not in text:
        return text, []
    # The code spans merged, in order, so a mark is looked up by bisection: a long note with a mark on every line and
    # a code span on every other would cost their product.
    merged: list[list[int]] = []
    for start, end in sorted(_markdown_code(text, _markdown_parser().parse(text))):
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    starts = [start for start, _ in merged]

    def in_code(at: int) -> bool:
        index = bisect_right(starts, at) - 1
        return index >= 0 and at < merged[index][1]

    cited: dict[str, int] = {}
    labels: list[tuple[int, str]] = []  # where each note's text starts, and its label
    lines: list[str] = []
    position = 0
    for line in text.split("\n"):
        kept: list[str] = []
        at = 0
        label = _MD_NOTE.match(line)
        if label is not None and not in_code(position):
            kept.append(line[: len(line) - len(line.lstrip(" "))])
            at = label.end()
            labels.append((position + len(kept[0]), label.group(1)))
        for found in _MD_NOTE_REFERENCE.finditer(line, at):
            if in_code(position + found.start()):
                continue
            kept.append(line[at : found.start()])
            at = found.end()
            cited.setdefault(found.group(1), position + sum(map(len, kept)))
        kept.append(line[at:])
        lines.append("".join(kept).ljust(len(line)))
        position += len(line) + 1
    plain = "\n".join(lines)
    notes = []
    for (start, name), following in zip(labels, [*labels[1:], None], strict=True):
        # A note runs to its paragraph's end, or to the next note's label.
        blank = _BLANK_LINES.search(plain, start)
        end = min(blank.start() if blank else len(plain), following[0] if following else len(plain))
        end = len(plain[:end].rstrip())
        if start < end:
            notes.append((start, end, cited.get(name)))
    return plain, notes


def filed_notes(text: str, sections: list[Section], notes: list[tuple[int, int, int | None]]) -> list[Section]:
    """`sections` with each note (`markdown_notes`) a section of its own under the headings of the section holding
    its first reference, as the HTML, Word, OpenDocument and RTF readers read a footnote with the paragraph that
    refers to it: here it stays where it is written (a chunk cites the file's lines), filed under that section."""
    if not notes:
        return sections
    # Both in order of their starts, each looked up by bisection (a book's hundreds of notes and sections).
    note_starts = [note[0] for note in notes]
    section_starts = [section.start for section in sections]

    def headings_at(offset: int | None, otherwise: tuple[str, ...]) -> tuple[str, ...]:
        index = -1 if offset is None else bisect_right(section_starts, offset) - 1
        return sections[index].headings if index >= 0 and offset is not None and offset <= sections[index].end \
            else otherwise

    filed: list[Section] = []
    for section in sections:
        inside = notes[bisect_left(note_starts, section.start) : bisect_left(note_starts, section.end)]
        if not inside or section.kind in ("heading", "code", "properties"):
            filed.append(section)
            continue
        # The section's own text before its first note, not the whole file's: a copy per section undid the bisection.
        before = section.start + len(text[section.start : inside[0][0]].rstrip())
        if before > section.start:
            filed.append(dataclasses.replace(section, end=before))
        for start, end, cited_at in inside:
            under = headings_at(cited_at, section.headings)
            filed.append(Section(start, min(end, section.end), "paragraph", under, section.page))
    return filed


def _load_markdown(path: Path) -> LoadedText:
    read = read_text(path)
    text, notes = markdown_notes(visible_markdown(read.text))
    headings = HeadingPath()
    sections: list[Section] = []
    title = ""
    for start, end, kind, level, name in markdown_blocks(text):
        if level:
            if not title and level == 1:
                title = name
            sections.append(Section(start, end, kind, headings.enter(level, name)))
        else:
            sections.append(Section(start, end, kind, headings.path))
    sections = filed_notes(text, sections, notes)
    front = _FRONT_MATTER.match(text)
    properties = 1 if front is None or front.group(1) is not None else 2
    if front and front.group(properties).strip():
        # Its properties (tags, aliases, dates, a person note's phone) are the note's text too: left out, a note of
        # properties alone was "empty or blank", and an alias found nothing. A chunk of their own (the chunker's
        # "properties"): in one with the body, the closing `---` sat inside the chunk, and a note without a heading
        # was quoted "garden --- The gate code is 4711 ...", cited at its tags line.
        sections.insert(0, Section(front.start(properties), front.end(properties), "properties", ()))
    named = _FRONT_TITLE.search(text, 0, front.end()) if front else None
    if not title and named and squash(named.group(2)):
        title = squash(named.group(2))
    if not title:
        title = next((s.headings[-1] for s in sections if s.kind == "heading"), path.stem)
    return LoadedText(text, tuple(sections), title, read.note)
