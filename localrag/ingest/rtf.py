"""Rich Text Format (.rtf) through striprtf: control words dropped, paragraphs kept.

RTF is 7-bit text whose non-ASCII characters are escapes (\\'e9, \\u233?), so the bytes are read as
Latin-1, which never fails, and striprtf decodes the escapes. Every RTF paragraph (\\par) ends a
line; each non-empty line becomes a paragraph, or a list when it starts with a bullet or number.
Styles, and so headings, are not recovered.

The text is what Word shows: before striprtf reads it, `_shown` cuts out hidden text (\\v) and moves each
footnote after the paragraph that refers to it, as the .docx and .odt loaders read them (striprtf drops a
footnote as a destination and reads hidden text). An emoji, which RTF writes as a UTF-16 surrogate pair
(\\u-10179?\\u-8704?), is joined into one character. Page headers and footers are left out, as furniture.
"""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

from localrag.errors import LoaderError
from localrag.ingest.structure import TextBuilder, prose_kind
from localrag.types import LoadedText

# A control word with its number and the one space that ends it, a control symbol (\'e9, \{, \~), a brace, a
# run of text, or a backslash ending the file.
_TOKEN = re.compile(r"\\([a-zA-Z]{1,32})(-?\d{1,10})? ?|\\'[0-9a-fA-F]{2}|\\[^a-zA-Z]|[{}]|[^\\{}]+|\\")
# Control words that write characters, which hidden text drops with its letters; the others (\par, \cell, \f1, \b)
# shape the text and stay.
_CHARACTER_WORDS = frozenset({"u", "tab", "line", "emdash", "endash", "emspace", "enspace", "qmspace", "bullet",
                              "lquote", "rquote", "ldblquote", "rdblquote"})
# Control symbols that shape rather than write: an ignorable destination's mark, and a line ending as a \par.
_SHAPING_SYMBOLS = frozenset({"\\*", "\\\n", "\\\r"})
_PARAGRAPH_ENDS = frozenset({"par", "sect", "page"})


def _shown(rtf: str) -> str:
    """`rtf` without its hidden text, each footnote group (`{\\footnote ...}`) moved after the paragraph that refers
    to it as a paragraph of its own. Groups scope hidden text as RTF's character formatting: `\\v` starts it, `\\v0`
    or `\\plain` ends it, and a closing brace restores what its group's opening found."""
    out: list[str] = []
    note: list[str] | None = None  # the footnote group being read, `note_depth` groups deep
    note_depth = 0
    pending: list[str] = []  # footnote groups waiting for their paragraph's end
    hidden_stack: list[bool] = []
    hidden = False
    position = 0
    while match := _TOKEN.match(rtf, position):
        token, word, argument = match.group(), match.group(1), match.group(2)
        position = match.end()
        target = out if note is None else note
        if word == "bin" and argument is not None:
            # N bytes of binary data (a picture's) follow, braces and backslashes among them: no tokens.
            token += rtf[position:position + max(int(argument), 0)]
            position += len(token) - len(match.group())
        if token == "{":
            hidden_stack.append(hidden)
            target.append(token)
        elif token == "}":
            hidden = hidden_stack.pop() if hidden_stack else False
            if note is not None and len(hidden_stack) < note_depth:
                pending.append("".join([*note, token]))
                note = None
            elif not hidden_stack and pending:
                # The document's group closes: striprtf reads nothing after it.
                out.extend(["\\par ", *_notes(pending), token])
            else:
                target.append(token)
        elif word == "footnote" and note is None and (out[-1:] == ["{"] or out[-2:] == ["{", "\\*"]):
            # The group's opening brace (and an ignorable mark) were taken as the body's: they are the note's.
            while out and out[-1] != "{":
                out.pop()
            out.pop()
            note, note_depth = ["{"], len(hidden_stack)
        elif word == "v":
            hidden = argument != "0"
        elif word == "plain":
            hidden = False
            target.append(token)
        elif hidden and (word in _CHARACTER_WORDS or (word is None and token not in _SHAPING_SYMBOLS)):
            pass
        else:
            target.append(token)
            if note is None and word in _PARAGRAPH_ENDS and pending:
                out.extend(_notes(pending))
    return "".join(out)


def _notes(pending: list[str]) -> list[str]:
    """Footnote groups waiting for their paragraph's end, each a paragraph; `pending` is emptied."""
    notes = [part for group in pending for part in (group, "\\par ")]
    pending.clear()
    return notes


def load_rtf(path: Path, data: bytes) -> LoadedText:
    """`data` is the file's bytes."""
    from striprtf.striprtf import rtf_to_text

    if not data.lstrip().startswith(b"{\\rtf"):
        raise LoaderError(f"{path}: not an RTF file (no {{\\rtf header)", "re-save it as .rtf, or rename it")
    text = rtf_to_text(_shown(data.decode("latin-1")), errors="replace")
    # striprtf writes each half of a surrogate pair as a character of its own; a lone half becomes U+FFFD.
    text = text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")
    out = TextBuilder()
    for line in text.replace("\r\n", "\n").split("\n"):
        out.add(line, prose_kind(line.strip()), ())
    loaded = out.build(path.stem)
    first = loaded.text.split("\n", 1)[0]
    return dataclasses.replace(loaded, title=first) if 0 < len(first) <= 100 else loaded
