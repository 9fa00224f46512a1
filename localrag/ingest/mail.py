"""E-mail (.eml, .mbox) with the standard library's `email` package.

A message becomes one document: its subject, sender and day are the title and the heading, a header block
(From, To, Cc, Date) opens the text so those are searchable and quotable, and the body follows (the
plain-text part, or the HTML part read by the HTML walker when there is no plain one), as its sender wrote
it: quoted mails and the signature left out (`mailbody`). An .mbox is split into its messages, each its
own document, so a search hit names the message rather than a 5,000-mail archive; a paragraph in many of
its mails (a disclaimer) stays in the first only.

Attachments whose type localrag reads become documents of their own, named under the message
(`inbox.mbox/CAF12x@mail.example.org/report.pdf`: an .mbox message is named by its Message-ID), and
are loaded by the loader their extension picks, from a temporary copy. Forwarded messages
(message/rfc822 parts) are attachments like any other, read as .eml. A broken attachment is one error
line; the message and the other attachments are still indexed.
"""

from __future__ import annotations

import dataclasses
import email
import email.policy
import email.utils
import hashlib
import mailbox
import os
import re
import tempfile
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from email.message import EmailMessage, MIMEPart
from pathlib import Path

from localrag import paths
from localrag.errors import LoaderError
from localrag.ingest.encodings import Decoded, decode_labelled, html_label, read_declared
from localrag.ingest.mailbody import FORWARD_SUBJECT, fold_html, fold_plain, fold_quotes
from localrag.ingest.structure import TextBuilder, file_title, prose_kind, squash
from localrag.processes import remove_left_by_dead
from localrag.sizes import count_text
from localrag.types import LoadedText

_HEADERS = ("From", "To", "Cc", "Date")
_UNSAFE_NAME = re.compile(r"[\x00-\x1f/\\]+")


@dataclass(frozen=True)
class Attachment:
    """An attachment worth loading: `name` is unique within its message."""

    name: str
    data: bytes


def _header(message: EmailMessage, name: str) -> str:
    raw = next((value for key, value in message.raw_items() if key.lower() == name.lower()), "")
    try:
        if _RAW_BYTE.search(raw):
            # 8-bit bytes sent without MIME encoding, read as a body without a charset is: each was a U+FFFD.
            text = _decoded(raw.encode("ascii", "surrogateescape"), None).text
            return squash(str(email.policy.default.header_factory(name, text)))  # parsed as _parse parses
        return squash(str(message.get(name) or ""))
    except (ValueError, TypeError):  # a malformed header the policy cannot parse
        return squash(str(message.get_all(name, [""])[0]))


# How email keeps a raw byte it could not read as ASCII: a lone surrogate.
_RAW_BYTE = re.compile("[\udc80-\udcff]")
_ASCII = frozenset({"us-ascii", "ascii", "ansi_x3.4-1968"})


def _decoded(data: bytes, charset: str | None, html: bool = False) -> Decoded:
    """A part's bytes as mail clients read them: the charset it names (WHATWG's meaning: iso-8859-1 is
    windows-1252, gb2312 GBK, ks_c_5601-1987 cp949); an HTML part without one by its <meta>; none, ASCII or an
    unknown one, UTF-8, else the legacy encoding that reads as text (noted), else windows-1252."""
    label = None if charset is None or charset.lower() in _ASCII else charset
    return read_declared(data, label or (html_label(data) if html else None)) or decode_labelled(data, "cp1252")


def part_text(part: MIMEPart) -> Decoded:
    """A text part's content, decoded as `_decoded` says (a saved page's, `webarchive`, as a mail's)."""
    payload = part.get_payload(decode=True)
    data = payload if isinstance(payload, bytes) else b""
    return _decoded(data, part.get_content_charset(), part.get_content_type() == "text/html")


def message_text(message: EmailMessage, fallback_title: str, in_mbox: bool = False) -> LoadedText:
    """The title as heading, then the header block, then the body as its sender wrote it (`mailbody`: the signature
    left out, and a reply's quoted mails where it is in an .mbox, `in_mbox`)."""
    from localrag.ingest.html import HtmlWalker, parse_html

    subject = _header(message, "Subject") or fallback_title
    title = mail_title(message, subject)
    forward = bool(FORWARD_SUBJECT.match(subject))
    quotes = fold_quotes(in_mbox, subject, bool(message.get("In-Reply-To") or message.get("References")))
    walker = HtmlWalker()
    out = walker.out
    path = walker.headings.enter(0, title)  # the body's own <h1> nests under the title
    out.add(title, "heading", path)
    out.add("\n".join(f"{name}: {value}" for name in _HEADERS if (value := _header(message, name))), "paragraph", path)
    body = message.get_body(preferencelist=("plain", "html"))
    # Decoded here, not by email's get_content(): it read a body without a charset, or an 8-bit one labelled
    # us-ascii, with a U+FFFD for each byte past ASCII, and iso-8859-1 as Latin-1 (€ a control character).
    read = part_text(body) if body is not None else Decoded("")
    content = read.text
    if body is not None and body.get_content_type() == "text/html":
        soup = parse_html(content)
        fold_html(soup, forward, quotes=quotes)
        walker.walk(soup)
        walker.flush()
    else:
        for block in re.split(r"\n[ \t]*\n", fold_plain(content, forward, quotes=quotes)):
            out.add(block, prose_kind(block.strip()), path)
    return dataclasses.replace(out.build(title), note=read.note)


_MONTHS = "January February March April May June July August September October November December".split()


def mail_title(message: EmailMessage, subject: str) -> str:
    """"Re: Orion renewal terms — Bob Keller, 3 March 2026": the subject, who sent it and when, one line. The five
    replies of a thread had one title each, and a source line said "Re: Orion renewal terms" five times."""
    sent_by = _header(message, "From")  # read as the header block reads it: raw 8-bit names too
    name, address = email.utils.parseaddr(sent_by)
    sender = squash(name or address) or sent_by
    day = ""
    try:
        sent = email.utils.parsedate_to_datetime(_header(message, "Date"))
        day = f"{sent.day} {_MONTHS[sent.month - 1]} {sent.year}"  # the sender's own date, not this machine's
    except (ValueError, TypeError, IndexError):
        pass
    who = ", ".join(part for part in (sender, day) if part)
    return _UNSAFE_TITLE.sub(" ", f"{subject} — {who}" if who else subject)


# A title is one line of printable text: a control character in a sender's name must not start a line of its own.
_UNSAFE_TITLE = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]+")
# A paragraph in this many mails of one .mbox is boilerplate: a disclaimer, a signature without its "-- " line.
BOILERPLATE_MAILS = 3
# ... and of at least this many words: three replies saying only "Approved." are three answers, not boilerplate.
BOILERPLATE_WORDS = 8
# The heading and the header block open every mail's text; they are never boilerplate.
_OPENING_SECTIONS = 2
# The texts the counting pass keeps for the second, in characters: a larger .mbox has the rest built again.
_KEPT_CHARS = 50_000_000


@dataclass(frozen=True)
class _Paragraph:
    """A body section as the boilerplate rule sees it: its digest (spacing aside) and whether it is long enough."""

    digest: bytes
    long: bool


def _paragraphs(loaded: LoadedText, openings: dict[bytes, str]) -> list[_Paragraph]:
    """One `_Paragraph` per body section; `openings` gets the first words of each long one, for the note."""
    out = []
    for section in loaded.sections[_OPENING_SECTIONS:]:
        text = squash(loaded.text[section.start : section.end])
        digest = hashlib.blake2b(text.encode(), digest_size=8).digest()
        words = text.split()
        if long := len(words) >= BOILERPLATE_WORDS:
            openings.setdefault(digest, " ".join(words[:6]) + " ...")
        out.append(_Paragraph(digest, long))
    return out


def _drops(paragraphs: list[_Paragraph], common: set[bytes], seen: set[bytes]) -> list[bool]:
    """Which of a mail's body paragraphs are left out: a long one found in `BOILERPLATE_MAILS` mails (`common`), in
    the mail's trailing part (after it only such paragraphs or short ones: a signature, "Sent from my phone"), not
    its first, and already kept in an earlier mail (`seen`, updated)."""
    drop = [False] * len(paragraphs)
    for number in range(len(paragraphs) - 1, 0, -1):
        paragraph = paragraphs[number]
        if paragraph.long and paragraph.digest not in common:
            break  # the body's own text: what is above it is too
        if paragraph.long:
            drop[number] = paragraph.digest in seen
    for paragraph, dropped in zip(paragraphs, drop, strict=True):
        if paragraph.digest in common and not dropped:
            seen.add(paragraph.digest)
    return drop


def _without(loaded: LoadedText, drop: list[bool]) -> LoadedText:
    """`loaded` without the body sections `drop` marks; the opening sections stay."""
    out = TextBuilder()
    for section, dropped in zip(loaded.sections, [False] * _OPENING_SECTIONS + drop, strict=True):
        if not dropped:
            out.add(loaded.text[section.start : section.end], section.kind, section.headings, section.page)
    return dataclasses.replace(out.build(loaded.title), note=loaded.note, left_out=loaded.left_out)


def read_mail(path: Path) -> Iterator[tuple[str, EmailMessage, LoadedText]]:
    """(part name, message, its text) for each message in `path` (`read_messages`). In an .mbox, a paragraph of
    `BOILERPLATE_WORDS` or more found in `BOILERPLATE_MAILS` or more of its mails, in a mail's trailing part, stays
    only in the first mail that has it: a disclaimer in each of 279 mails filled 8 of 10 search hits, and a mail's
    summary was its disclaimer. The first copy stays so that nothing in the mailbox becomes unfindable (an
    announcement sent three times, a meeting's dial-in); a short answer ("Approved.") is never left out."""
    def fallback(name: str) -> str:
        return file_title(path) if not name else f"{file_title(path)} {name}"

    if path.suffix.lower() != ".mbox":
        for name, message in read_messages(path):
            yield name, message, message_text(message, fallback(name))
        return
    # The counting pass builds each mail's text once: it keeps each mail's paragraph digests, and the texts while
    # they fit `_KEPT_CHARS` (an .mbox was read and folded twice, mail by mail).
    mails: Counter[bytes] = Counter()
    openings: dict[bytes, str] = {}
    paragraphs: list[list[_Paragraph]] = []
    kept: list[LoadedText] = []
    size = 0
    for name, message in read_messages(path):
        loaded = message_text(message, fallback(name), in_mbox=True)
        paragraphs.append(_paragraphs(loaded, openings))
        mails.update({p.digest for p in paragraphs[-1] if p.long})
        size += len(loaded.text)
        if size <= _KEPT_CHARS:
            kept.append(loaded)
    common = {digest for digest, count in mails.items() if count >= BOILERPLATE_MAILS}
    seen: set[bytes] = set()
    drops = [_drops(mail, common, seen) for mail in paragraphs]
    left_out = list(dict.fromkeys(p.digest for mail, drop in zip(paragraphs, drops, strict=True)
                                  for p, dropped in zip(mail, drop, strict=True) if dropped))
    for number, (name, message) in enumerate(read_messages(path)):
        loaded = kept[number] if number < len(kept) else message_text(message, fallback(name), in_mbox=True)
        drop = drops[number] if number < len(drops) else []  # [] where the file grew between the passes
        if any(drop):
            loaded = _without(loaded, drop)
        if number == 0 and left_out:  # one note for the mailbox, not one a mail
            loaded = dataclasses.replace(loaded, left_out=(
                f"{count_text(len(left_out), 'paragraph')} found in {BOILERPLATE_MAILS} or more of this mailbox's "
                "mails (disclaimers, signatures) kept only in the first mail that has each: "
                + "; ".join(f'"{openings[digest]}"' for digest in left_out)))
        yield name, message, loaded


def attachments(message: EmailMessage, wanted: Callable[[str], bool]) -> Iterator[Attachment]:
    """Attachments whose file name `wanted` accepts; forwarded messages count as `.eml` files."""
    seen: set[str] = set()
    for number, part in enumerate(message.iter_attachments(), start=1):
        if part.get_content_type() == "message/rfc822":
            inner = part.get_payload()
            name = _UNSAFE_NAME.sub("_", part.get_filename() or f"forwarded-{number}")
            name = name if name.lower().endswith(".eml") else f"{name}.eml"
            data = inner[0].as_bytes() if isinstance(inner, list) and inner and hasattr(inner[0], "as_bytes") else b""
        elif part.get_content_maintype() == "image" and part.get_content_disposition() != "attachment":
            continue  # logos and pictures shown in the body: OCR'ing them costs seconds and finds no text
        else:
            name = _UNSAFE_NAME.sub("_", part.get_filename() or "").strip(". ")
            payload = part.get_payload(decode=True)
            data = payload if isinstance(payload, bytes) else b""
        if not name or not data or not wanted(name):
            continue
        if name in seen:
            name = f"{number}-{name}"
        seen.add(name)
        yield Attachment(name, data)


def read_messages(path: Path) -> Iterator[tuple[str, EmailMessage]]:
    """(part name, message): "" for an .eml, `message_name` for each message of an .mbox."""
    try:
        if path.suffix.lower() == ".mbox":
            box = mailbox.mbox(str(path), factory=None, create=False)
            seen: dict[str, int] = {}
            try:
                for key in box.iterkeys():
                    raw = box.get_bytes(key)
                    message = parse_message(raw)
                    name = message_name(message, raw)
                    seen[name] = seen.get(name, 0) + 1
                    yield (name if seen[name] == 1 else f"{name}-{seen[name]}"), message
            finally:
                box.close()
        else:
            yield "", parse_message(path.read_bytes())
    except OSError as exc:
        raise LoaderError(f"{path}: cannot read ({exc.strerror or exc})", "check the file's permissions") from exc


_ID_UNSAFE = re.compile(r"[^A-Za-z0-9._@+=-]+")


def message_name(message: EmailMessage, raw: bytes) -> str:
    """An .mbox message's part name: its Message-ID (without the brackets, unsafe characters as "_"), else
    "sha-" and a digest of its bytes. Not its place in the file: deleting one message would give the next
    one its name, and a citation, a saved conversation or `forget inbox.mbox/NAME` another mail."""
    identifier = _ID_UNSAFE.sub("_", str(message.get("Message-ID", "")).strip().strip("<>")).strip("._")
    return identifier[:80] if identifier else f"sha-{hashlib.sha256(raw).hexdigest()[:12]}"


def parse_message(raw: bytes) -> EmailMessage:
    """A MIME message (a mail, a page saved as one file) as the standard library's `email` reads it."""
    message = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(message, EmailMessage)  # the default policy's factory
    return message


def _file_name(name: str, most: int = 200) -> str:
    """`name` cut to `most` bytes, its extension kept (the loader goes by it): a mail may name an attachment
    longer than a file name may be (255 bytes), and its copy failed the whole mail, body and all."""
    suffix = Path(name).suffix if len(Path(name).suffix.encode()) < most // 2 else ""
    stem = name.removesuffix(suffix) if suffix else name
    room = most - len(suffix.encode())
    return stem.encode()[:room].decode(errors="ignore") + suffix


# An attachment's copy is in a folder named by its process (mkdtemp's: the user's alone, 0700), so one whose
# process is gone is known as a killed ingest's, its cleanup never run.
_COPY_FOLDER = re.compile(r"mail-(\d+)-")


def clear_dead_copies() -> list[Path]:
    """Remove the attachment copies that killed ingests left in the scratch folder (each the text of a document,
    which a purge or a forget would leave there); returns them."""
    return remove_left_by_dead(paths.scratch_dir(), _COPY_FOLDER)


def load_attachment(attachment: Attachment, shown_as: str, loader: Callable[[Path], LoadedText]) -> LoadedText:
    """Run `loader` on a copy in the scratch folder (`paths.scratch_dir`); errors name the attachment
    (`shown_as`), not the copy."""
    scratch = paths.scratch_dir()
    paths.make_private_folder(scratch)
    with tempfile.TemporaryDirectory(prefix=f"mail-{os.getpid()}-", dir=scratch) as folder:
        copy = Path(folder) / _file_name(attachment.name)
        copy.write_bytes(attachment.data)
        try:
            return loader(copy)
        except LoaderError as exc:
            raise LoaderError(exc.message.replace(str(copy), shown_as), exc.hint) from exc
