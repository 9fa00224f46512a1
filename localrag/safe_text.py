"""Text from documents and file names, made safe to store and to show.

Two problems live here, one function each:

- `path_text`: a file name on Linux is bytes, and one that is not valid UTF-8 reaches Python as a
  string holding lone surrogates (PEP 383), which UTF-8 encoders, Arrow and JSON all refuse. The
  index stores and identifies a file by `path_text(path)`: the same string for every valid name (so
  existing ids do not change), and `\\xNN` for each byte that is not UTF-8, so such a file gets a
  stable id, a printable name and survives a re-ingest like any other. A literal backslash-x name
  and an undecodable one could map to the same text; that is the price of a readable stored path.
- `plain_text`: the same words can be written with different code points, and a search, an embedder and a quote
  check compare code points. A word holding a soft hyphen or a zero-width space (`har\u00adbour\u00admas\u00adter`,
  as hyphenation tools and web pages write them) was no term `harbourmaster` matched; a PDF's ligatures (`ﬁ`,
  `ﬃ`) reached the embedder as [UNK]; a decomposed `cafe\u0301` (macOS, some PDFs) was another word than `café`.
  Every document's text (`ingest.parts`) and every query and question is this text: composed (NFC), without the
  invisible characters that split a word, and with the Latin ligatures spelled out. Lines stay as they were, so
  line numbers still cite the file; `plain_text_offsets` maps a loader's character offsets onto the new text.
- `printable`: a heading, a file name or an answer can hold terminal escape sequences (ESC [ 41 m
  recolours, ESC ] 0 ; ... BEL retitles the window) and other control characters. Rich and Textual
  show markup literally but pass ESC through, so every front end runs document-derived text through
  `printable`, which replaces each C0 control by its Unicode control picture (ESC shows as U+241B),
  DEL by U+2421, and each C1 control, bidirectional override and lone surrogate (an undecodable byte
  of a file name) by U+FFFD. What remains of an escape sequence is ordinary text, shown and never
  executed. One character stays one character, so offsets into a chunk (quote highlights) and
  column widths still hold. Newlines and tabs stay in running text (`multiline=True`) and become
  visible in one-line fields such as file names, as do the invisible format characters (a zero-width space,
  a tag character) that made two names look one, but for a joiner that shapes the name (beside a virama, in an
  Arabic-like word, between emoji) and the tags of England's, Scotland's and Wales's flags (`_SHAPING`).
  `json_text` is the same rule for JSON, the CLI's `--json` and the HTTP API's: what a terminal acts on, reorders
  or hides, written as `\\u` escapes.
"""

from __future__ import annotations

import json
import os
import re
import unicodedata
from bisect import bisect_left
from collections.abc import Callable
from pathlib import Path
from typing import Any

from localrag.types import part_holder

_REPLACEMENT = "\ufffd"
_SURROGATE = re.compile("[\ud800-\udfff]")
_ONE_LINE: dict[int, str] = {code: chr(0x2400 + code) for code in range(0x20)}
_ONE_LINE[0x7F] = "\u2421"
# C1 controls (0x9b is a one-byte CSI), the bidi embeddings/overrides/isolates that reorder what a
# reader sees, and lone surrogates.
_REORDERING = (*range(0x80, 0xA0), *range(0x202A, 0x202F), *range(0x2066, 0x206A))
for _code in (*_REORDERING, *range(0xD800, 0xE000)):
    _ONE_LINE[_code] = _REPLACEMENT
_MULTILINE = {code: text for code, text in _ONE_LINE.items() if code not in (0x09, 0x0A)}
# The other format characters (Unicode category Cf), which show as nothing: soft hyphen, zero-width space, word
# joiner, left-to-right and right-to-left marks, byte order mark, Mongolian vowel separator. In a one-line field they
# made different names look one: `budget\u200b.md` and `budget.md` both showed as `budget.md`, and a planted copy
# passed for the file. Running text keeps them (a document's text has already lost the ones that split a word,
# `plain_text`). The joiners and tag characters are `_SHAPING`'s to judge.
_INVISIBLE = (0x00AD, *range(0x0600, 0x0606), 0x061C, 0x06DD, 0x070F, 0x0890, 0x0891, 0x08E2, 0x180E,
              0x200B, 0x200E, 0x200F, *range(0x2060, 0x2065), *range(0x206A, 0x2070), 0xFEFF,
              *range(0xFFF9, 0xFFFC), 0x110BD, 0x110CD, *range(0x13430, 0x13440), *range(0x1BCA0, 0x1BCA4),
              *range(0x1D173, 0x1D17B))
for _code in _INVISIBLE:
    _ONE_LINE[_code] = _REPLACEMENT
# Format characters that shape what a reader sees in one place and show as nothing in another: the zero-width
# non-joiner and joiner of a Persian word (`می\u200cخواهم`), an Indic conjunct (`क्\u200dष`) and an emoji sequence
# (👨\u200d👩\u200d👧), and the tag characters (U+E0001, U+E0020-E007F) of a flag (🏴 and tags up to U+E007F,
# England's). Replaced in every one-line field, they garbled those names into `می�خواهم`; so a joiner that shapes
# (`_joins_here`) and the tags of a flag a font draws stay, and only the others are replaced (`budget\U000e0041.md`,
# a joiner at a name's end or beside a space, punctuation or a letter it does not join, `報告\u200d書.md`). The
# flags are the three subdivision flags of Unicode's recommended set (England, Scotland, Wales): any other run of
# tags after 🏴 draws as 🏴 alone, and `report🏴` + tags spelling `evil` passed for `report🏴.md`.
_FLAGS = ("gbeng", "gbsct", "gbwls")  # each letter written in tag characters, U+E0000 above its ASCII
_SHAPING = re.compile("(\U0001f3f4(?:" + "|".join("".join(chr(0xE0000 + ord(c)) for c in flag) for flag in _FLAGS)
                      + ")\U000e007f)|[\u200c\u200d\U000e0001\U000e0020-\U000e007f]")
# What JSON output writes as \u escapes though `json.dumps` writes them as they are: the C1 controls (U+009B starts
# an escape sequence on a terminal that reads them), the bidirectional overrides and isolates ("invoice\u202efdp.md"
# shows as "invoicedm.pdf") and the invisible characters above, `_SHAPING`'s as in a one-line field. An escape
# parses to the same string, so a script gets the exact name, and a person reading the output sees that something
# is there.
_JSON_ESCAPED = re.compile(
    _SHAPING.pattern + "|[" + "".join(re.escape(chr(code)) for code in (*_REORDERING, *_INVISIBLE)) + "]")


# Scripts whose letters join their neighbours, so a joiner between two of them picks the letters' forms: Arabic (with
# its supplements and presentation forms), Syriac, N'Ko, Mongolian, Adlam, Hanifi Rohingya.
_JOINING = ((0x0600, 0x06FF), (0x0700, 0x074F), (0x0750, 0x077F), (0x07C0, 0x07FF), (0x0860, 0x08FF),
            (0x1800, 0x18AF), (0xFB50, 0xFDFF), (0xFE70, 0xFEFF), (0x10D00, 0x10D3F), (0x11660, 0x1167F),
            (0x1E900, 0x1E95F))
# Emoji and the symbols an emoji ZWJ sequence holds (♀, ⚕, ❤, ⬛), its skin tones and variation selector.
_PICTURES = ((0x2190, 0x2BFF), (0x1F000, 0x1FAFF))


def _joining(char: str) -> bool:
    code = ord(char)
    return unicodedata.category(char)[0] in "LM" and any(low <= code <= high for low, high in _JOINING)


def _picture(char: str) -> bool:
    code = ord(char)
    return char == "\ufe0f" or (unicodedata.category(char) in ("So", "Sk")
                                 and any(low <= code <= high for low, high in _PICTURES))


def _joins_here(joiner: str, before: str, after: str) -> bool:
    """Whether `joiner` (ZWNJ or ZWJ) between `before` and `after` ("" at an end) changes what a reader sees: beside a
    virama, where it picks a conjunct, a half form or a chillu (Devanagari, Bengali, Malayalam, Sinhala: every
    Indic script that shapes with it marks the consonant cluster with a virama); between two letters of a joining
    script; a ZWJ between two emoji. Between two letters of other scripts (Chinese, kana, Hangul, Thai, Vietnamese's
    Latin) it joins nothing, and `報告\u200d書.md` showed as `報告書.md`."""
    if any(char and unicodedata.combining(char) == 9 for char in (before, after)):
        return True
    if before and after and _joining(before) and _joining(after):
        return True
    return joiner == "\u200d" and bool(before and after) and _picture(before) and _picture(after)


def _shows_nothing(match: re.Match[str]) -> bool:
    """Whether a `_SHAPING` (or `_JSON_ESCAPED`) match is a character that shows as nothing where it stands."""
    if match[1]:
        return False  # a flag's tag sequence
    char, text, at = match[0], match.string, match.start()
    if char not in "\u200c\u200d":
        return True
    return not _joins_here(char, text[at - 1] if at else "", text[at + 1:at + 2])


# Invisible characters that only mark where a word may break or must not (soft hyphen, zero-width space, word joiner,
# a byte order mark inside text): dropped wherever they stand.
_BREAK_HINTS = "\u00ad\u200b\u2060\ufeff"
# Zero-width non-joiner and joiner: in Persian, Indic scripts and emoji sequences they change what a reader sees, so
# they are dropped only after a letter of a script that joins nothing (Latin, Greek, Cyrillic), where they only split
# a word.
_JOINERS = "\u200c\u200d"
_LIGATURES = {0xFB00: "ff", 0xFB01: "fi", 0xFB02: "fl", 0xFB03: "ffi", 0xFB04: "ffl", 0xFB05: "st", 0xFB06: "st"}
_FOLD = {**dict.fromkeys(map(ord, _BREAK_HINTS)), **_LIGATURES}
_TO_CHANGE = re.compile(f"[{_BREAK_HINTS}{_JOINERS}\ufb00-\ufb06]")


def _unjoining(char: str) -> bool:
    return char < "\u0530" and char.isalpha()


def _continues(char: str) -> bool:
    """Whether `char` belongs to the character before it under composition: a combining mark, a Hangul vowel or
    final consonant jamo."""
    return bool(unicodedata.combining(char)) or unicodedata.category(char) in ("Mn", "Mc", "Me") or (
        "\u1160" <= char <= "\u11ff")


def _clusters(line: str) -> list[str]:
    clusters: list[str] = []
    for char in line:
        if clusters and _continues(char):
            clusters[-1] += char
        else:
            clusters.append(char)
    return clusters


def plain_text(text: str) -> str:
    """`text` composed (NFC), without invisible word-splitting characters, with Latin ligatures spelled out."""
    return plain_text_offsets(text)[0]


def plain_text_offsets(text: str) -> tuple[str, Callable[[int], int]]:
    """`plain_text(text)`, and the map from an offset into `text` to the same place in it. Only lines that change are
    rewritten, a cluster (a letter and its combining marks) at a time, so every offset between clusters keeps its
    place; one inside a cluster goes to the cluster's end."""
    if unicodedata.is_normalized("NFC", text) and not _TO_CHANGE.search(text):
        return text, lambda offset: offset
    parts: list[str] = []
    # Each changed cluster as (its old start, its old end, its new end, the shift after it).
    changed_starts: list[int] = []
    changed: list[tuple[int, int, int]] = []
    old = new = 0
    for line in text.splitlines(keepends=True):
        if unicodedata.is_normalized("NFC", line) and not _TO_CHANGE.search(line):
            parts.append(line)
            old, new = old + len(line), new + len(line)
            continue
        before = ""
        for cluster in _clusters(line):
            plain = unicodedata.normalize("NFC", cluster)
            if plain[0] in _JOINERS and _unjoining(before):
                plain = plain[1:]
            plain = plain.translate(_FOLD)
            if plain != cluster:
                changed_starts.append(old)
                changed.append((old + len(cluster), new + len(plain), new + len(plain) - old - len(cluster)))
            parts.append(plain)
            before = cluster[-1]
            old, new = old + len(cluster), new + len(plain)

    def moved(offset: int) -> int:
        at = bisect_left(changed_starts, offset) - 1  # the last changed cluster that starts before `offset`
        if at < 0:
            return offset
        end, new_end, shift = changed[at]
        return new_end if offset < end else offset + shift

    return "".join(parts), moved


def printable(text: str, *, multiline: bool = True) -> str:
    """`text` with every control character and lone surrogate replaced by one visible character."""
    if multiline:
        return text.translate(_MULTILINE)
    # The joiners and tags first, judged by the characters around them as written.
    text = _SHAPING.sub(lambda match: _REPLACEMENT if _shows_nothing(match) else match[0], text)
    return text.translate(_ONE_LINE)


def valid_text(text: str) -> str:
    """`text` with each lone surrogate replaced by U+FFFD: what the tokenizers, llama.cpp and JSON take. A question
    reaches localrag holding them from a byte that is not UTF-8 on the command line or on stdin (PEP 383), or from
    a client that cut a string between the two halves of an emoji (JSON's "\\ud83d")."""
    return _SURROGATE.sub(_REPLACEMENT, text)


def line_text(text: str) -> str:
    """A one-line message about a file (a skipped file's reason): `printable`, with each undecodable byte of a
    file name in it written `\\xNN`, as `path_text` stores the name, rather than U+FFFD, so the line names the
    file the index lists and a script can find it."""
    escaped = "".join(f"\\x{ord(c) - 0xDC00:02x}" if 0xDC80 <= ord(c) <= 0xDCFF else c for c in text)
    return printable(escaped, multiline=False)


def path_text(path: str | os.PathLike[str]) -> str:
    """The stored, valid-UTF-8 text of a path: unchanged when the name decodes, `\\xNN` per bad byte."""
    try:
        raw = os.fsencode(path)
    except UnicodeEncodeError:  # a surrogate no file system produced (only code builds such paths)
        return printable(os.fspath(path), multiline=False)
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("utf-8", "backslashreplace")


_ESCAPED_BYTE = re.compile(rb"\\x([89a-f][0-9a-f])")


def disk_paths(text: str) -> list[str]:
    """The names on the disk whose stored text (`path_text`) is `text`: itself, and where it holds `\\xNN` escapes,
    the name of those bytes. Asked of the disk by its stored text, a file named `caf\\xe9.txt` in bytes not UTF-8
    was never there, and an ingest took it for gone while it was."""
    if "\\x" not in text:
        return [text]
    raw = _ESCAPED_BYTE.sub(lambda byte: bytes([int(byte[1], 16)]), os.fsencode(text))
    named = os.fsdecode(raw)
    return [text, named] if named != text and path_text(named) == text else [text]


def disk_name(stored: str) -> Path:
    """The name on the disk of a stored path: the first of its names (`disk_paths`), each as given or in the other
    Unicode form (a name typed composed, NFC, stored decomposed, NFD, by a Mac's zip), that is there (a link too,
    even one leading nowhere); `stored` itself where none is. The one rule for "is this stored path still on
    disk" of an ingest, a forget and a search (a name in bytes not UTF-8 read as gone by one and there by another
    put a copy's path in a file's place while it was there)."""
    names = (form for name in disk_paths(stored)
             for form in (name, unicodedata.normalize("NFC", name), unicodedata.normalize("NFD", name)))
    return Path(next((name for name in names if os.path.lexists(name)), stored))


def holder_on_disk(stored: str) -> Path | None:
    """The file a stored part (`mail.eml/report.pdf`) is read from, by the name the disk gives it (`disk_name`);
    None for a path that is no part, or whose file is no longer a file."""
    holder = part_holder(stored)
    named = disk_name(holder) if holder else None
    return named if named is not None and named.is_file() else None


# The characters Markdown reads wherever they stand (emphasis, code, links, HTML and comments, entities such as
# `&lt;`, headings, tables, strikethrough), escaped with a backslash, which CommonMark shows as the character.
_MARKDOWN_SPECIAL = str.maketrans({c: "\\" + c for c in "\\`*_[]<>#|~&"})
# Inside a word, what linkify reads as a link: `official.md`, `https://x`, `a@b.c`. A sentence's own full stop stays,
# and so does one between digits (`12.50`, `10.0.0.1`, `9:30`) or between single letters (`e.g.`, `U.S.A.`): a link
# needs a domain of two letters or more after its last dot, and escaping them wrote `12\.50` and `e\.g.` where a
# reader sees the Markdown source (an export opened in an editor).
_LINKED = re.compile(r"(?<=\d)[.:](?=\d)|(?<=\b[^\W\d_])\.(?=[^\W\d_]\.)|(?<=\S)([.:@])(?=\S)")
# At a line's start, a list item (`- `, `+ `, `1. `, `1) `) or a heading's underline (`===`).
_LINE_MARK = re.compile(r"^([-+=]|\d+(?=[.)]))", re.MULTILINE)
# A line's indent, which Markdown drops or reads as a code block, where a backslash shows as one.
_INDENT = re.compile(r"^[ \t]+", re.MULTILINE)


def markdown_escaped(text: str) -> str:
    """Text from documents (or a file's name) in Markdown: shown as written, never as Markdown (but for the indent
    of its lines)."""
    text = _INDENT.sub("", text).translate(_MARKDOWN_SPECIAL)
    text = _LINKED.sub(lambda mark: "\\" + mark[1] if mark[1] else mark[0], text)
    return _LINE_MARK.sub(lambda mark: mark[0] + "\\" if mark[0][0].isdigit() else "\\" + mark[0], text)


def _json_escape(match: re.Match[str]) -> str:
    if not _shows_nothing(match):
        return match[0]
    code = ord(match.group())
    if code < 0x10000:
        return f"\\u{code:04x}"
    code -= 0x10000  # JSON writes a character beyond U+FFFF as its UTF-16 pair
    return f"\\u{0xD800 + (code >> 10):04x}\\u{0xDC00 + (code & 0x3FF):04x}"


def json_text(data: Any, **options: Any) -> str:
    """`json.dumps(data, **options)`, UTF-8 as is (`ensure_ascii` False unless given) so names stay readable, but
    for the characters that act on a terminal, reorder a line or show as nothing (`_JSON_ESCAPED`), written as
    `\\u` escapes. The one rule of `--json` and the HTTP API: the API wrote U+009B and U+202E raw, and a name
    printed reversed in `curl`. They stand only inside strings, where an escape parses to the same text."""
    text = json.dumps(data, **{"ensure_ascii": False, **options})
    # Every character `_JSON_ESCAPED` matches is beyond ASCII, so an ASCII dump (most API replies: a 1.9 MB
    # /v1/embeddings reply took 259 ms through the regex, 97 ms without) is written as it is.
    return text if text.isascii() else _JSON_ESCAPED.sub(_json_escape, text)

