"""Files that hold several documents: a mail's attachments, a mailbox's messages, an Evernote export's notes.

`load_parts` is what the pipeline calls for every file. Most files are one part, the file itself
(name ""). A message (.eml) is its body plus one part per attachment of a supported type, named
under the message (`mail.eml/report.pdf`); an .mbox is one part per message (`inbox.mbox/3`) and
their attachments (`inbox.mbox/3/report.pdf`); an .enex one per note (`Notes.enex/Boiler service`) and its
attachments (`Notes.enex/Boiler service/manual.pdf`). Naming parts as if the file were a folder means
`forget` of the file removes its parts, and such paths never collide with a real file.

Every part's text is `safe_text.plain_text` of what its loader read (`_plain`): the one point every format's text
passes, a mail's body and a note's as much as a file's.

A part that cannot be read comes back with its error instead of text, so one broken attachment is
one error line and the rest of the file is still indexed. A file that cannot be read at all raises.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from localrag.errors import LoaderError
from localrag.ingest.loaders import SUPPORTED_EXTENSIONS, file_type, load_file
from localrag.ingest.ocr import Notify
from localrag.ingest.structure import file_title
from localrag.safe_text import plain_text, plain_text_offsets
from localrag.types import LoadedText

if TYPE_CHECKING:
    from localrag.ingest.mail import Attachment

MAIL_TYPES = frozenset({"eml", "mbox"})


@dataclass(frozen=True)
class Part:
    """One document from a file: `name` is "" for the file itself, else its place under the file."""

    name: str
    kind: str
    loaded: LoadedText | None
    error: LoaderError | None = None


def part_path(path: str, name: str) -> str:
    return f"{path}/{name}" if name else path


def _wanted(name: str) -> bool:
    """Whether an attachment named `name` is a document of its own: a type localrag reads, not a mailbox."""
    suffix = Path(name).suffix.lower()
    return suffix in SUPPORTED_EXTENSIONS and file_type(Path(name)) not in ("mbox", "enex")


def load_parts(path: Path, *, ocr: bool = True, notify: Notify | None = None) -> Iterator[Part]:
    """The documents in `path`, their text `plain_text`; raises LoaderError when the file itself is unreadable."""
    for part in _parts(path, ocr, notify):
        yield part if part.loaded is None else dataclasses.replace(part, loaded=_plain(part.loaded))


def _plain(loaded: LoadedText) -> LoadedText:
    """`loaded` with its text, title and heading paths `plain_text`, its sections' offsets moved with the text. A
    heading path is embedded with each chunk and searched in its own column: left as read, "# O\ufb03cial Findings"
    was embedded as "Oﬃcial" and a search for "official" missed it there."""
    text, moved = plain_text_offsets(loaded.text)
    sections = tuple(
        dataclasses.replace(s, start=moved(s.start), end=moved(s.end), headings=tuple(map(plain_text, s.headings)))
        for s in loaded.sections
    )
    title = plain_text(loaded.title)
    if text == loaded.text and title == loaded.title and sections == loaded.sections:
        return loaded
    return dataclasses.replace(loaded, text=text, title=title, sections=sections)


def _parts(path: Path, ocr: bool, notify: Notify | None) -> Iterator[Part]:
    kind = file_type(path)
    if kind == "enex":
        yield from _notes(path, ocr, notify)
        return
    if kind not in MAIL_TYPES:
        yield Part("", kind, load_file(path, ocr=ocr, notify=notify))
        return
    from localrag.ingest.mail import attachments, read_mail

    for name, message, loaded in read_mail(path):
        yield Part(name, "eml", loaded)
        yield from _attachments(path, name, attachments(message, _wanted), ocr, notify)


def _notes(path: Path, ocr: bool, notify: Notify | None) -> Iterator[Part]:
    """An Evernote export's notes, each followed by its attachments of a type localrag reads."""
    from localrag.ingest.enex import note_name, note_text, read_notes

    seen: dict[str, int] = {}
    for note in read_notes(path):
        name = note_name(note, seen)
        read = [attachment for attachment in note.resources if _wanted(attachment.name)]
        unread = [*(a.name for a in note.resources if not _wanted(a.name)), *note.unread]
        yield Part(name, "enex", note_text(note, f"{file_title(path)} {name}", unread))
        yield from _attachments(path, name, read, ocr, notify)


def _attachments(
    path: Path, holder: str, found: Iterable[Attachment], ocr: bool, notify: Notify | None
) -> Iterator[Part]:
    """Parts for the attachments `found` of the document `holder` in `path` (a message, a note; "" for the file)."""
    from localrag.ingest.mail import load_attachment

    for attachment in found:
        inner = f"{holder}/{attachment.name}" if holder else attachment.name
        shown = part_path(str(path), inner)
        inner_kind = file_type(Path(attachment.name))
        try:
            loaded = load_attachment(attachment, shown, lambda p: load_file(p, ocr=ocr, notify=notify))
        except LoaderError as exc:
            yield Part(inner, inner_kind, None, exc)
            continue
        yield Part(inner, inner_kind, loaded)
