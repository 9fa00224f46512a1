"""Files that hold several documents: a mail's attachments, a mailbox's messages.

`load_parts` is what the pipeline calls for every file. Most files are one part, the file itself
(name ""). A message (.eml) is its body plus one part per attachment of a supported type, named
under the message (`mail.eml/report.pdf`); an .mbox is one part per message (`inbox.mbox/3`) and
their attachments (`inbox.mbox/3/report.pdf`). Naming parts as if the file were a folder means
`forget` of the file removes its parts, and such paths never collide with a real file.

A part that cannot be read comes back with its error instead of text, so one broken attachment is
one error line and the rest of the file is still indexed. A file that cannot be read at all raises.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from localrag.errors import LoaderError
from localrag.ingest.loaders import SUPPORTED_EXTENSIONS, file_type, load_file
from localrag.ingest.ocr import Notify
from localrag.types import LoadedText

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


def load_parts(path: Path, *, ocr: bool = True, notify: Notify | None = None) -> Iterator[Part]:
    """The documents in `path`; raises LoaderError when the file itself is unreadable."""
    kind = file_type(path)
    if kind not in MAIL_TYPES:
        yield Part("", kind, load_file(path, ocr=ocr, notify=notify))
        return
    from localrag.ingest.mail import attachments, load_attachment, read_mail

    def wanted(name: str) -> bool:
        suffix = Path(name).suffix.lower()
        return suffix in SUPPORTED_EXTENSIONS and file_type(Path(name)) != "mbox"

    for name, message, loaded in read_mail(path):
        yield Part(name, "eml", loaded)
        for attachment in attachments(message, wanted):
            inner = f"{name}/{attachment.name}" if name else attachment.name
            shown = part_path(str(path), inner)
            inner_kind = file_type(Path(attachment.name))
            try:
                loaded = load_attachment(attachment, shown, lambda p: load_file(p, ocr=ocr, notify=notify))
            except LoaderError as exc:
                yield Part(inner, inner_kind, None, exc)
                continue
            yield Part(inner, inner_kind, loaded)
