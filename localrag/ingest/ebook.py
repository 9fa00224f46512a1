"""EPUB e-books: the chapters in reading order, each headed by its title from the table of contents.

An EPUB is a zip: `META-INF/container.xml` names the package file (OPF), whose spine lists the
chapter documents in reading order and whose table of contents (an EPUB 3 nav document or an EPUB 2
NCX) names them. Each chapter is XHTML, read by the same walker as HTML files, so headings, lists,
tables and code come out alike. The TOC title becomes a heading above the chapter's own headings
(unless the chapter already opens with it), so every chunk knows which chapter it is from.

The standard library parses the package files (ebooklib, the usual library, is AGPL-licensed);
`zipguard` checks the archive first. DRM-protected books cannot be read: their chapters are
encrypted (`META-INF/encryption.xml`), which is reported as such.
"""

from __future__ import annotations

import posixpath
import zipfile
from pathlib import Path
from urllib.parse import unquote
from xml.etree import ElementTree

from localrag.errors import LoaderError
from localrag.ingest.structure import HeadingPath, squash
from localrag.ingest.zipguard import guard_zip
from localrag.types import LoadedText

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


def _toc_titles(archive: zipfile.ZipFile, opf_path: str, opf: ElementTree.Element) -> dict[str, str]:
    """Member name -> the first table-of-contents title that points into it."""
    titles: dict[str, str] = {}
    manifest = opf.findall("opf:manifest/opf:item", _NS)
    nav = next((i for i in manifest if "nav" in (i.get("properties") or "").split()), None)
    if nav is not None:
        nav_path = _resolve(opf_path, nav.get("href", ""))
        root = ElementTree.fromstring(archive.read(nav_path))
        for element in root.iter(f"{{{_NS['x']}}}nav"):
            if element.get(f"{{{_NS['epub']}}}type") not in (None, "toc"):
                continue
            for link in element.iter(f"{{{_NS['x']}}}a"):
                title = squash("".join(link.itertext()))
                if title and link.get("href"):
                    titles.setdefault(_resolve(nav_path, link.get("href", "")), title)
        return titles
    spine = opf.find("opf:spine", _NS)
    toc_id = spine.get("toc") if spine is not None else None
    ncx = next((i for i in manifest if i.get("id") == toc_id), None)
    if ncx is not None:
        ncx_path = _resolve(opf_path, ncx.get("href", ""))
        root = ElementTree.fromstring(archive.read(ncx_path))
        for point in root.iter(f"{{{_NS['ncx']}}}navPoint"):
            label = point.find("ncx:navLabel/ncx:text", _NS)
            content = point.find("ncx:content", _NS)
            if label is not None and content is not None and label.text:
                titles.setdefault(_resolve(ncx_path, content.get("src", "")), squash(label.text))
    return titles


def load_epub(path: Path) -> LoadedText:
    from bs4 import BeautifulSoup

    from localrag.ingest.loaders import HtmlWalker

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
            hrefs = {
                item.get("id"): _resolve(opf_path, item.get("href", ""))
                for item in opf.findall("opf:manifest/opf:item", _NS)
                if "nav" not in (item.get("properties") or "").split()
            }
            titles = _toc_titles(archive, opf_path, opf)
            for itemref in opf.findall("opf:spine/opf:itemref", _NS):
                member = hrefs.get(itemref.get("idref"))
                if member is None:
                    continue
                soup = BeautifulSoup(archive.read(member), "html.parser")
                body = soup.body or soup
                chapter = titles.get(member, "")
                own = {squash(h.get_text()) for h in body.find_all(["h1", "h2", "h3", "h4", "h5", "h6"], limit=3)}
                walker.headings = HeadingPath()  # a chapter's headings never nest under the last one's
                if chapter and chapter not in own:
                    walker.out.add(chapter, "heading", walker.headings.enter(0, chapter))
                walker.walk(body)
                walker.flush()
    except LoaderError:
        raise
    except (KeyError, zipfile.BadZipFile, ElementTree.ParseError, OSError, ValueError) as exc:
        raise LoaderError(
            f"{path}: not a readable .epub file ({type(exc).__name__})", "it may be corrupt or truncated"
        ) from exc
    return walker.out.build(book_title or walker.first_h1 or path.stem)
