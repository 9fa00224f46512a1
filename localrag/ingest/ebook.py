"""EPUB e-books: the chapters in reading order, each headed by its title from the table of contents.

An EPUB is a zip: `META-INF/container.xml` names the package file (OPF), whose spine lists the
chapter documents in reading order and whose table of contents (an EPUB 3 nav document or an EPUB 2
NCX) names them. Each chapter is XHTML, read by the same walker as HTML files, so headings, lists,
tables and code come out alike. The TOC title becomes a heading above the chapter's own headings
(unless the chapter already opens with it), so every chunk knows which chapter it is from. Many books
(Project Gutenberg's, Calibre's conversions) keep several chapters in one file, their TOC pointing at
anchors in it (`book.xhtml#ch3`): each such chapter opens at the element of that id.

The standard library parses the package files (ebooklib, the usual library, is AGPL-licensed);
`zipguard` checks the archive first. DRM-protected books cannot be read: their chapters are
encrypted (`META-INF/encryption.xml`), which is reported as such.
"""

from __future__ import annotations

import dataclasses
import posixpath
import zipfile
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import unquote
from xml.etree import ElementTree

from localrag.errors import LoaderError
from localrag.ingest.html import FRONT_MATTER
from localrag.ingest.structure import HeadingPath, squash
from localrag.ingest.zipguard import guard_zip
from localrag.sizes import count_text
from localrag.types import LoadedText

if TYPE_CHECKING:
    from bs4 import Tag

_NS = {
    "c": "urn:oasis:names:tc:opendocument:xmlns:container",
    "opf": "http://www.idpf.org/2007/opf",
    "dc": "http://purl.org/dc/elements/1.1/",
    "ncx": "http://www.daisy.org/z3986/2005/ncx/",
    "x": "http://www.w3.org/1999/xhtml",
    "epub": "http://www.idpf.org/2007/ops",
}


def _resolve(base: str, href: str) -> str:
    """A package-relative href as a zip member name, without its #fragment."""
    return posixpath.normpath(posixpath.join(posixpath.dirname(base), unquote(href.split("#", 1)[0])))


def _fragment(href: str) -> str:
    return unquote(href.partition("#")[2])


class _Toc:
    """The table of contents' titles: per member, the first title pointing at the member itself or at its
    first anchor, and the titles pointing at anchors (element ids) inside it."""

    def __init__(self) -> None:
        self.entries: list[tuple[str, str, str]] = []  # (member, fragment or "", title), in TOC order
        # The members, with the fragment pointed at, that the nav document's landmarks mark as front matter.
        self.front: set[tuple[str, str]] = set()

    def add(self, member_and_fragment: tuple[str, str], title: str) -> None:
        self.entries.append((*member_and_fragment, title))

    def start(self, member: str, present: set[str]) -> str:
        """The title of the member's opening: one without a fragment, else (no anchor of it found) the first."""
        mine = [(fragment, title) for m, fragment, title in self.entries if m == member]
        whole = next((title for fragment, title in mine if not fragment), "")
        if whole or any(fragment in present for fragment, _ in mine):
            return whole
        return mine[0][1] if mine else ""

    def names(self, member: str) -> bool:
        """Whether any title points into the member."""
        return any(m == member for m, _, _ in self.entries)

    def anchors(self, member: str) -> dict[str, str]:
        found: dict[str, str] = {}
        for m, fragment, title in self.entries:
            if m == member and fragment:
                found.setdefault(fragment, title)
        return found


def _contents(archive: zipfile.ZipFile, member: str) -> ElementTree.Element:
    """The contents file `member`, parsed; a `_NoContents` naming it where it is missing or not XML."""
    try:
        return ElementTree.fromstring(archive.read(member))
    except (KeyError, ElementTree.ParseError) as exc:
        raise _NoContents(member) from exc


class _NoContents(Exception):
    """The book's contents file is missing or unreadable: its chapters are read without their titles."""


def _toc_titles(archive: zipfile.ZipFile, opf_path: str, opf: ElementTree.Element) -> _Toc:
    """The table of contents' titles, and where each points."""
    titles = _Toc()
    manifest = opf.findall("opf:manifest/opf:item", _NS)
    nav = next((i for i in manifest if "nav" in (i.get("properties") or "").split()), None)
    if nav is not None:
        nav_path = _resolve(opf_path, nav.get("href", ""))
        root = _contents(archive, nav_path)
        for element in root.iter(f"{{{_NS['x']}}}nav"):
            if element.get(f"{{{_NS['epub']}}}type") == "landmarks":
                for link in element.iter(f"{{{_NS['x']}}}a"):
                    if set((link.get(f"{{{_NS['epub']}}}type") or "").split()) & FRONT_MATTER:
                        href = link.get("href", "")
                        titles.front.add((_resolve(nav_path, href), _fragment(href)))
            if element.get(f"{{{_NS['epub']}}}type") not in (None, "toc"):
                continue
            for link in element.iter(f"{{{_NS['x']}}}a"):
                title = squash("".join(link.itertext()))
                if title and link.get("href"):
                    href = link.get("href", "")
                    titles.add((_resolve(nav_path, href), _fragment(href)), title)
        return titles
    spine = opf.find("opf:spine", _NS)
    toc_id = spine.get("toc") if spine is not None else None
    ncx = next((i for i in manifest if i.get("id") == toc_id), None)
    if ncx is not None:
        ncx_path = _resolve(opf_path, ncx.get("href", ""))
        root = _contents(archive, ncx_path)
        for point in root.iter(f"{{{_NS['ncx']}}}navPoint"):
            label = point.find("ncx:navLabel/ncx:text", _NS)
            content = point.find("ncx:content", _NS)
            if label is not None and content is not None and label.text:
                src = content.get("src", "")
                titles.add((_resolve(ncx_path, src), _fragment(src)), squash(label.text))
    return titles


@dataclasses.dataclass
class _FrontMatter:
    """What the book marks as front matter (`FRONT_MATTER`): whole members (`files`), elements (ids) inside
    members (`parts`), and the members that hold chapters, so are never left out whole, marked by the OPF, the nav
    or their own <body> (`kept`)."""

    files: set[str] = dataclasses.field(default_factory=set)
    parts: dict[str, set[str]] = dataclasses.field(default_factory=dict)
    kept: set[str] = dataclasses.field(default_factory=set)


def _front_matter(opf: ElementTree.Element, opf_path: str, titles: _Toc, spine: list[str | None]) -> _FrontMatter:
    """The front matter the nav's landmarks and the OPF's <guide> mark. A mark with a fragment marks that element
    alone (`parts`): a guide's `book.xhtml#toc`, in a book whose one chapter file opens with its contents page,
    left out the whole book. A member marked whole is kept where the contents point into it at an anchor other
    than the mark (its chapters are there), or point at it and at nothing later in the spine: a contents page
    comes before the chapters the contents name, so the file the contents end at holds them (one entry, "Start",
    pointing at book.xhtml)."""
    marked = set(titles.front)
    for reference in opf.findall("opf:guide/opf:reference", _NS):
        if reference.get("type") in FRONT_MATTER:
            href = reference.get("href", "")
            marked.add((_resolve(opf_path, href), _fragment(href)))
    pointed = {(member, fragment) for member, fragment, _ in titles.entries}
    order = {member: n for n, member in enumerate(spine) if member is not None}
    last = max((order.get(member, -1) for member, _ in pointed), default=-1)
    found = _FrontMatter()
    # Of every member, not only those marked here: a <body epub:type="toc"> marks its member too (`load_epub`).
    for member in {*order, *(m for m, _ in marked)}:
        if any(m == member and f and (m, f) not in marked for m, f in pointed) or (
            any(m == member for m, _ in pointed) and order.get(member, -1) >= last
        ):
            found.kept.add(member)
    for member, fragment in marked:
        if fragment:
            found.parts.setdefault(member, set()).add(fragment)
        elif member not in found.kept:
            found.files.add(member)
    return found


def _authors(opf: ElementTree.Element) -> list[str]:
    """The book's authors: its creators but those of another role (an illustrator, an editor), given as EPUB 2's
    `opf:role` or EPUB 3's `<meta refines="#id" property="role">`."""
    metadata = opf.find("opf:metadata", _NS)
    if metadata is None:
        return []
    roles = {(meta.get("refines") or "").lstrip("#"): squash(meta.text or "")
             for meta in metadata.iter(f"{{{_NS['opf']}}}meta") if meta.get("property") == "role"}
    names = []
    for creator in metadata.findall("dc:creator", _NS):
        role = creator.get(f"{{{_NS['opf']}}}role") or roles.get(creator.get("id") or "", "")
        name = squash(creator.text or "")
        if name and role in ("", "aut") and name not in names:
            names.append(name)
    return names


def _leave_out_marked(body: Tag, front: _FrontMatter, member: str, anchors: set[str]) -> bool:
    """Drops the member's elements marked front matter (`_FrontMatter.parts`) from `body`. True where the member
    is to be left out whole: a mark whose id no element has, or the body's own, marks the member, unless it holds
    chapters too (`_FrontMatter.kept`). An element holding a chapter's anchor, or one the contents point at, is
    kept: it is a chapter, not a contents page."""
    whole = False
    for fragment in sorted(front.parts.get(member, ())):
        element = body.find(id=fragment)
        if element is None or element is body:
            whole = True
        elif fragment not in anchors and not any(element.find(id=a) is not None for a in anchors):
            element.decompose()
    return whole and member not in front.kept


def load_epub(path: Path) -> LoadedText:
    from localrag.ingest.html import HtmlWalker, front_matter, parse_html

    guard_zip(path)
    walker = HtmlWalker()
    try:
        with zipfile.ZipFile(path) as archive:
            if "META-INF/encryption.xml" in archive.namelist():
                raise LoaderError(f"{path}: the e-book is encrypted (DRM)", "only DRM-free EPUBs can be read")
            container = ElementTree.fromstring(archive.read("META-INF/container.xml"))
            rootfile = container.find("c:rootfiles/c:rootfile", _NS)
            if rootfile is None or not rootfile.get("full-path"):
                raise KeyError("rootfile")
            opf_path = rootfile.get("full-path", "")
            opf = ElementTree.fromstring(archive.read(opf_path))
            book_title = squash(opf.findtext("opf:metadata/dc:title", "", _NS))
            authors = _authors(opf)
            if authors:
                # The book's title and who wrote it open the text, as a mail's header block does: the author was
                # read nowhere, and a search for the name found nothing.
                who = f"{'Authors' if len(authors) > 1 else 'Author'}: {', '.join(authors)}"
                walker.out.add(f"Title: {book_title}\n{who}" if book_title else who, "paragraph", ())
            hrefs = {
                item.get("id"): _resolve(opf_path, item.get("href", ""))
                for item in opf.findall("opf:manifest/opf:item", _NS)
                if "nav" not in (item.get("properties") or "").split()
            }
            # A file the book lists but the archive lacks is named in the ingest's report, and the rest is read:
            # one missing file made the whole book "not a readable .epub file (KeyError)".
            left_out = []
            try:
                titles = _toc_titles(archive, opf_path, opf)
            except _NoContents as missing:
                titles = _Toc()
                left_out.append(f"its contents ({missing}) missing or unreadable: chapters read without their titles")
            spine = [hrefs.get(itemref.get("idref")) for itemref in opf.findall("opf:spine/opf:itemref", _NS)]
            # A book of one file is never all front matter.
            front = _front_matter(opf, opf_path, titles, spine) if len(spine) > 1 else _FrontMatter()
            gone = []
            for member in spine:
                if member is None or member in front.files:
                    continue
                try:
                    page = archive.read(member)
                except KeyError:
                    gone.append(member)
                    continue
                soup = parse_html(page)
                body = soup.body or soup
                if front_matter(body) and len(spine) > 1 and member not in front.kept:
                    continue
                walker.anchors = titles.anchors(member)
                if len(spine) > 1 and _leave_out_marked(body, front, member, set(walker.anchors)):
                    continue
                present = {a for a in walker.anchors if body.find(id=a) is not None}
                chapter = titles.start(member, present)
                own = {squash(h.get_text()) for h in body.find_all(["h1", "h2", "h3", "h4", "h5", "h6"], limit=3)}
                if titles.names(member):
                    walker.headings = HeadingPath()  # a chapter's headings never nest under the last one's
                # else a file the contents do not name goes on with the chapter before: Calibre splits a long chapter
                # into p1.xhtml, p1_split_001.xhtml, ..., and the contents name only the first (its other parts
                # were read under no heading at all)
                if chapter and chapter not in own:
                    walker.open_chapter(chapter)
                walker.walk(body)
                walker.flush()
    except LoaderError:
        raise
    except (KeyError, zipfile.BadZipFile, ElementTree.ParseError, OSError, ValueError) as exc:
        raise LoaderError(
            f"{path}: not a readable .epub file ({type(exc).__name__})", "it may be corrupt or truncated"
        ) from exc
    if gone:
        left_out.append(f"{count_text(len(gone), 'chapter file')} missing from the book, left out: {', '.join(gone)}")
    title = book_title or walker.first_h1 or walker.first_heading or path.stem
    # "Orchard Days — Margaret Lisle", as a mail's title names its sender: every chunk's text is embedded under it.
    loaded = walker.out.build(f"{title} — {', '.join(authors)}" if authors else title)
    return dataclasses.replace(loaded, left_out="; ".join(left_out))
