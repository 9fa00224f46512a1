"""Evernote exports (.enex): one document per note, as an .mbox is one per message.

An .enex is XML: an `<en-export>` of `<note>`s, each with a `<title>`, `<created>` and `<updated>` times, `<tag>`s,
its text as ENML (XHTML inside a CDATA `<content>`) and its attachments as `<resource>`s (base64 `<data>`, a
`<mime>` type, often a file name). A note is read as the HTML loader reads a page (`HtmlWalker`): its title is the
title and heading, a line each of its dates and tags opens the text (as From and Date open a mail's), then the body,
a checklist's boxes as ☐ and ☑. Its attachments of a type localrag reads are documents of their own, named under
the note (`Notes.enex/Boiler service/manual.pdf`) and read as a mail's are; the others are named in the note's
opening lines. Base64 is never text.

Read with the standard library's expat, streamed a note at a time (an export of a few thousand notes with their
scans runs to gigabytes), and any entity declaration refused: an export declares none, and a file that does is
either not Evernote's or a "billion laughs" bomb. A note's encrypted passage (`<en-crypt>`) is left out and said.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import mimetypes
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO
from xml.parsers import expat

from localrag.errors import LoaderError, NoTextError
from localrag.ingest.mail import Attachment
from localrag.ingest.structure import squash
from localrag.sizes import count_text
from localrag.types import LoadedText

# The elements of a note whose text is kept, by their path under <note>; the rest (note attributes, a resource's
# recognition index and size) is not read.
_KEPT = frozenset({"title", "content", "created", "updated", "tag", "resource/data", "resource/mime",
                   "resource/resource-attributes/file-name"})
_CHUNK_BYTES = 1 << 20
_UNSAFE_NAME = re.compile(r"[\x00-\x1f/\\]+")


@dataclass
class Note:
    """One note of an export, as its XML gives it: `content` is the ENML, `resources` its attachments."""

    title: str = ""
    content: str = ""
    created: str = ""
    updated: str = ""
    tags: list[str] = field(default_factory=list)
    resources: list[Attachment] = field(default_factory=list)
    # Attachments not read (a type localrag does not read, or data that is not base64), named in the text.
    unread: list[str] = field(default_factory=list)


class _Reader:
    """expat's handlers: gathers each <note>'s kept fields; finished notes wait in `notes`."""

    def __init__(self) -> None:
        self.notes: list[Note] = []
        self._note: Note | None = None
        self._path: list[str] = []  # element names under the <note> being read
        self._text: list[str] = []
        self._resource: dict[str, str] = {}

    def start(self, name: str, attributes: dict[str, str]) -> None:
        if self._note is None:
            if name == "note":
                self._note, self._path = Note(), []
            return
        self._path.append(name)
        self._text = []
        if self._path == ["resource"]:
            self._resource = {}

    def data(self, text: str) -> None:
        if self._note is not None and "/".join(self._path) in _KEPT:
            self._text.append(text)

    def end(self, name: str) -> None:
        note = self._note
        if note is None:
            return
        if not self._path:  # </note>
            self.notes.append(note)
            self._note = None
            return
        where = "/".join(self._path)
        self._path.pop()
        if where not in _KEPT and where != "resource":
            return
        text = "".join(self._text)
        self._text = []
        if where == "tag":
            note.tags.append(squash(text))
        elif where == "resource":
            self._add_resource(note)
        elif where.startswith("resource/"):
            self._resource[where] = text
        else:
            setattr(note, where, text)

    def _add_resource(self, note: Note) -> None:
        mime = squash(self._resource.get("resource/mime", ""))
        extension = mimetypes.guess_extension(mime) or ""
        named = squash(self._resource.get("resource/resource-attributes/file-name", ""))
        name = _UNSAFE_NAME.sub("_", named).strip(". ")
        number = len(note.resources) + len(note.unread) + 1
        name = name or f"attachment-{number}{extension}"
        if not Path(name).suffix and extension:
            name += extension
        try:
            data = base64.b64decode(self._resource.get("resource/data", ""))
        except (binascii.Error, ValueError):
            data = b""
        if data:
            note.resources.append(Attachment(name, data))
        else:
            note.unread.append(name)


def _refuse_entities(*_args: object) -> None:
    raise LoaderError("declares XML entities, which an Evernote export never does (refused: a file that declares "
                      "them can make a parser expand a few bytes into gigabytes)", "export the notes again")


def read_notes(path: Path) -> Iterator[Note]:
    """The notes of the export at `path`, a note at a time; raises LoaderError for a file that is not one."""
    reader = _Reader()
    parser = expat.ParserCreate()
    parser.buffer_text = True
    parser.StartElementHandler = reader.start
    parser.EndElementHandler = reader.end
    parser.CharacterDataHandler = reader.data
    parser.EntityDeclHandler = _refuse_entities
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
    found = 0
    try:
        with path.open("rb") as stream:
            if not stream.read(_CHUNK_BYTES).strip():
                raise NoTextError(f"{path}: no text to index (the file is empty or blank)", "export the notes again")
            stream.seek(0)
            for note in _parsed(parser, reader, stream):
                found += 1
                yield note
    except NoTextError:
        raise
    except OSError as exc:
        raise LoaderError(f"{path}: cannot read ({exc.strerror or exc})", "check the file's permissions") from exc
    except expat.ExpatError as exc:
        raise LoaderError(f"{path}: not a readable Evernote export ({expat.ErrorString(exc.code)}, line {exc.lineno})",
                          "export the notes from Evernote again: File > Export Notes, as .enex") from exc
    except LoaderError as exc:
        raise LoaderError(f"{path}: {exc.message}", exc.hint) from exc
    if not found:
        # As a blank file is: passed over and said, not an error; notes it held before leave the index.
        raise NoTextError(f"{path}: no notes to index (the export holds none)", "export the notes again")


def _parsed(parser: expat.XMLParserType, reader: _Reader, stream: BinaryIO) -> Iterator[Note]:
    while block := stream.read(_CHUNK_BYTES):
        parser.Parse(block, False)
        yield from reader.notes
        reader.notes.clear()
    parser.Parse(b"", True)
    yield from reader.notes


def note_name(note: Note, seen: dict[str, int]) -> str:
    """A note's part name: its title, made safe as a path's part ("note" when it has none), a second note of the
    same title "-2". Not its place in the file: a note deleted would give the next one its name and citations."""
    name = _UNSAFE_NAME.sub("_", squash(note.title)).strip(". ")[:80] or "note"
    seen[name] = seen.get(name, 0) + 1
    return name if seen[name] == 1 else f"{name}-{seen[name]}"


def _when(stamp: str) -> str:
    """Evernote's `20260312T091500Z` as `2026-03-12 09:15 UTC`; anything else as it is."""
    try:
        return datetime.strptime(stamp.strip(), "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC).strftime("%Y-%m-%d %H:%M UTC")
    except ValueError:
        return squash(stamp)


def note_text(note: Note, fallback_title: str, unread: list[str]) -> LoadedText:
    """Title as heading, then its dates, tags and the attachments in `unread` (not read as documents), then the
    body read from its ENML."""
    from bs4 import NavigableString

    from localrag.ingest.html import MAX_HTML_TAGS, HtmlWalker, parse_html

    title = squash(note.title) or fallback_title
    walker = HtmlWalker()
    path = walker.headings.enter(0, title)  # the note's own <h1> nests under its title
    walker.out.add(title, "heading", path)
    opening = [("Created", _when(note.created)), ("Updated", _when(note.updated)),
               ("Tags", ", ".join(t for t in note.tags if t)), ("Attachments", ", ".join(unread))]
    walker.out.add("\n".join(f"{label}: {value}" for label, value in opening if value), "paragraph", path)
    left_out = ""
    if note.content.count("<") > MAX_HTML_TAGS:
        left_out = f"its text left out: over {MAX_HTML_TAGS:,} tags, too many to parse safely"
    elif note.content.strip():
        soup = parse_html(note.content)
        for box in soup.find_all("en-todo"):
            box.replace_with(NavigableString("☑ " if box.get("checked") == "true" else "☐ "))
        for media in soup.find_all("en-media"):
            media.decompose()  # an attachment's place: its text, if any, is read with the attachment
        secret = soup.find_all("en-crypt")
        for passage in secret:
            passage.decompose()
        if secret:
            left_out = (f"{count_text(len(secret), 'encrypted passage')} left out (decrypt it in Evernote and "
                        "export the note again to index it)")
        walker.walk(soup.find("en-note") or soup)
        walker.flush()
    return dataclasses.replace(walker.out.build(title), left_out=left_out)
