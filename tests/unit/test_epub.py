"""EPUB books as real publishing tools lay them out (Calibre's split files, Gutenberg's anchors, footnotes), each
written here with zipfile as the EPUB spec says."""

from __future__ import annotations

import zipfile
from pathlib import Path

from localrag.ingest.loaders import load_file
from localrag.types import LoadedText

_PAGE = ('<?xml version="1.0"?><html xmlns="http://www.w3.org/1999/xhtml" xmlns:epub="http://www.idpf.org/2007/ops">'
         "<head><title>t</title></head><body{}>{}</body></html>")


def make_book(path: Path, files: list[tuple[str, str]], toc: list[tuple[str, str]], *, leave_out: tuple[str, ...] = (),
              metadata: str = "", body: dict[str, str] | None = None, guide: str = "", nav: str = "") -> Path:
    """An EPUB 2 book: `files` (href, body) in spine order, an NCX of `toc` (title, href); the members in `leave_out`
    not written; `body`: a file's <body> attributes; `nav`: the body of an EPUB 3 nav document, which then names
    the contents."""
    manifest = "".join(f'<item id="i{n}" href="{href}" media-type="application/xhtml+xml"/>'
                       for n, (href, _) in enumerate(files))
    opf = ('<package xmlns="http://www.idpf.org/2007/opf" version="2.0"><metadata xmlns:dc="http://purl.org/dc/elements/'
           f'1.1/" xmlns:opf="http://www.idpf.org/2007/opf"><dc:title>Orchard Days</dc:title>{metadata}</metadata>'
           f'<manifest>{manifest}{NAV_ITEM if nav else ""}'
           '<item id="ncx" href="toc.ncx" media-type="application/x-dtbncx+xml"/></manifest>'
           '<spine toc="ncx">' + "".join(f'<itemref idref="i{n}"/>' for n in range(len(files))) +
           f"</spine>{guide}</package>")
    ncx = ('<ncx xmlns="http://www.daisy.org/z3986/2005/ncx/"><navMap>' + "".join(
        f'<navPoint id="p{n}"><navLabel><text>{title}</text></navLabel><content src="{href}"/></navPoint>'
        for n, (title, href) in enumerate(toc)) + "</navMap></ncx>")
    members = {"META-INF/container.xml": '<container xmlns="urn:oasis:names:tc:opendocument:xmlns:container" '
               'version="1.0"><rootfiles><rootfile full-path="content.opf"/></rootfiles></container>',
               "content.opf": opf, "toc.ncx": ncx}
    if nav:
        members["nav.xhtml"] = _PAGE.format("", nav)
    members |= {href: _PAGE.format((body or {}).get(href, ""), text) for href, text in files}
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("mimetype", "application/epub+zip")
        for name, text in members.items():
            if name not in leave_out:
                archive.writestr(name, text)
    return path


NAV_ITEM = '<item id="nav" href="nav.xhtml" media-type="application/xhtml+xml" properties="nav"/>'


def read(loaded: LoadedText) -> list[tuple[str, tuple[str, ...]]]:
    return [(loaded.text[s.start : s.end], s.headings) for s in loaded.sections]


def test_note_references_are_left_out_and_the_note_follows_its_paragraph(tmp_path: Path) -> None:
    # Read, a note's number was glued onto the word before: "March of 19303", "6000 BC.1 Trade followed".
    page = ('<h1>Salt</h1><p>Gandhi led the Salt March of 1930<sup><a epub:type="noteref" href="#n3">3</a></sup>, a '
            'protest. Salt dates to 6000 BC.<a epub:type="noteref" href="#n1">1</a> Trade followed.</p>'
            '<aside epub:type="footnote" id="n3"><p>Dalton 1993.</p></aside>')
    book = make_book(tmp_path / "notes.epub", [("c.xhtml", page)], [("Salt", "c.xhtml")])
    assert read(load_file(book)) == [
        ("Salt", ("Salt",)),
        ("Gandhi led the Salt March of 1930, a protest. Salt dates to 6000 BC. Trade followed.", ("Salt",)),
        ("Dalton 1993.", ("Salt",)),
    ]



def test_note_links_around_a_sup_as_calibre_writes_them_are_left_out(tmp_path: Path) -> None:
    # Before: "since 12904 across the valley, by 1350[5] in the north", and search 1290 missed the chunk.
    page = ('<p class="calibre1">Wool trade grew since 1290<a href="#fn1" class="footnote"><sup class="calibre2">4'
            '</sup></a> across the valley, by 1350<a href="notes.xhtml#fn2"><sup>[5]</sup></a> in the north.</p>'
            '<p id="fn1"><a href="#r1">4</a> Dalton 1993.</p>')
    book = make_book(tmp_path / "calibre.epub", [("c.xhtml", page)], [("Wool", "c.xhtml")])
    assert read(load_file(book))[1:] == [
        ("Wool trade grew since 1290 across the valley, by 1350 in the north.", ("Wool",)),
        ("4 Dalton 1993.", ("Wool",)),
    ]

def test_a_file_the_contents_do_not_name_goes_on_with_the_chapter_before(tmp_path: Path) -> None:
    # Calibre splits a long chapter into files; the contents name the first. The rest were read under no heading.
    book = make_book(tmp_path / "split.epub", [
        ("p1.xhtml", "<h1>Chapter One</h1><p>Eleanor inherited the orchard.</p>"),
        ("p1_split_001.xhtml", "<p>Eleanor planted forty pear trees.</p>"),
        ("p2.xhtml", "<p>Winter came.</p>"),
    ], [("Chapter One", "p1.xhtml"), ("Chapter Two", "p2.xhtml")])
    assert read(load_file(book)) == [
        ("Chapter One", ("Chapter One",)),
        ("Eleanor inherited the orchard.", ("Chapter One",)),
        ("Eleanor planted forty pear trees.", ("Chapter One",)),
        ("Chapter Two", ("Chapter Two",)),
        ("Winter came.", ("Chapter Two",)),
    ]


def test_a_chapter_anchored_inside_a_heading_or_a_list_opens_with_its_contents_title(tmp_path: Path) -> None:
    # Many books put the anchor inside the heading: the contents title was lost, the chapter headed "I.".
    book = make_book(tmp_path / "anchor.epub", [("book.xhtml", '<h2><a id="c1"></a>I.</h2><p>Ahab boarded the ship.</p>'
                     '<h2><a id="c2"></a>II.</h2><p>Queequeg led a mutiny.</p><ul><li id="c3">Starbuck</li></ul>')],
                     [("Chapter I: The Arrival", "book.xhtml#c1"), ("Chapter II: The Mutiny", "book.xhtml#c2"),
                      ("Dramatis Personae", "book.xhtml#c3")])
    assert read(load_file(book)) == [
        ("Chapter I: The Arrival", ("Chapter I: The Arrival",)),
        ("I.", ("Chapter I: The Arrival", "I.")),
        ("Ahab boarded the ship.", ("Chapter I: The Arrival", "I.")),
        ("Chapter II: The Mutiny", ("Chapter II: The Mutiny",)),
        ("II.", ("Chapter II: The Mutiny", "II.")),
        ("Queequeg led a mutiny.", ("Chapter II: The Mutiny", "II.")),
        ("Dramatis Personae", ("Dramatis Personae",)),
        ("- Starbuck", ("Dramatis Personae",)),
    ]


def test_a_file_missing_from_the_book_is_named_and_the_rest_is_read(tmp_path: Path) -> None:
    # One missing file made the whole book "not a readable .epub file (KeyError)".
    files = [("c1.xhtml", "<h1>One</h1><p>The clockmaker repaired the clock.</p>"),
             ("c2.xhtml", "<h1>Two</h1><p>Lost.</p>"), ("c3.xhtml", "<p>The bell rang.</p>")]
    toc = [("One", "c1.xhtml"), ("Two", "c2.xhtml"), ("Three", "c3.xhtml")]
    loaded = load_file(make_book(tmp_path / "nochapter.epub", files, toc, leave_out=("c2.xhtml",)))
    assert read(loaded) == [("One", ("One",)), ("The clockmaker repaired the clock.", ("One",)),
                            ("Three", ("Three",)), ("The bell rang.", ("Three",))]
    assert loaded.left_out == "1 chapter file missing from the book, left out: c2.xhtml"
    loaded = load_file(make_book(tmp_path / "nocontents.epub", files, toc, leave_out=("toc.ncx",)))
    assert read(loaded)[:3] == [("One", ("One",)), ("The clockmaker repaired the clock.", ("One",)),
                                ("Two", ("Two",))]
    assert loaded.left_out == "its contents (toc.ncx) missing or unreadable: chapters read without their titles"


def test_the_author_opens_the_text_and_names_the_title(tmp_path: Path) -> None:
    # The author was read nowhere: a search for "Margaret Lisle" found nothing. An illustrator is not an author.
    creators = ('<dc:creator opf:role="aut">Margaret Lisle</dc:creator><dc:creator id="b">Tom Reed</dc:creator>'
                '<meta refines="#b" property="role" scheme="marc:relators">ill</meta>')
    book = make_book(tmp_path / "orchard.epub", [("c.xhtml", "<h1>One</h1><p>The orchard bloomed.</p>")],
                     [("One", "c.xhtml")], metadata=creators)
    loaded = load_file(book)
    assert loaded.title == "Orchard Days — Margaret Lisle"
    assert read(loaded) == [("Title: Orchard Days\nAuthor: Margaret Lisle", ()), ("One", ("One",)),
                            ("The orchard bloomed.", ("One",))]


def test_a_contents_page_and_a_copyright_page_are_left_out_a_dedication_is_read(tmp_path: Path) -> None:
    # A contents page written as a plain list came back as a source ("Contents > Table of Contents").
    files = [("toc.xhtml", "<h1>Table of Contents</h1><ul><li>One</li><li>Two</li></ul>"),
             ("rights.xhtml", "<p>All rights reserved.</p>"),
             ("marked.xhtml", "<p>Printed in Lisbon.</p>"),
             ("front.xhtml", '<section epub:type="dedication"><p>For Anna.</p></section>'
                             '<section epub:type="toc"><p>One ... 1</p></section>'),
             ("c1.xhtml", "<h1>One</h1><p>The orchard bloomed.</p>")]
    guide = ('<guide><reference type="toc" href="toc.xhtml#start" title="Contents"/>'
             '<reference type="copyright-page" href="rights.xhtml"/><reference type="text" href="c1.xhtml"/></guide>')
    book = make_book(tmp_path / "front.epub", files, [("Contents", "toc.xhtml"), ("One", "c1.xhtml")], guide=guide,
                     body={"marked.xhtml": ' epub:type="copyright-page"'})
    assert read(load_file(book)) == [("For Anna.", ()), ("One", ("One",)), ("The orchard bloomed.", ("One",))]


def test_a_book_of_one_file_is_read_whatever_its_guide_says(tmp_path: Path) -> None:
    # The guide's contents page is the top of the one file that holds the whole book: that list alone is left out.
    files = [("book.xhtml", '<ul id="toc"><li>One</li></ul><h1 id="c1">One</h1><p>The orchard bloomed.</p>'),
             ("end.xhtml", "<p>The end.</p>")]
    book = make_book(tmp_path / "one.epub", files, [("One", "book.xhtml#c1")],
                     guide='<guide><reference type="toc" href="book.xhtml#toc"/></guide>')
    assert [text for text, _ in read(load_file(book))] == ["One", "The orchard bloomed.", "The end."]


def test_the_nav_documents_landmarks_mark_front_matter(tmp_path: Path) -> None:
    files = [("contents.xhtml", "<p>One ... 1</p>"), ("c1.xhtml", "<h1>One</h1><p>The orchard bloomed.</p>")]
    nav = ('<nav epub:type="toc"><ol><li><a href="c1.xhtml">One</a></li></ol></nav><nav epub:type="landmarks"><ol>'
           '<li><a epub:type="toc" href="contents.xhtml">Contents</a></li></ol></nav>')
    book = make_book(tmp_path / "nav.epub", files, [], nav=nav)
    assert read(load_file(book)) == [("One", ("One",)), ("The orchard bloomed.", ("One",))]


def test_a_contents_page_inside_the_chapter_file_leaves_the_book_read(tmp_path: Path) -> None:
    # The guide marked the contents page at the top of the file holding the whole book: before, the book's text was
    # 'Cover image' alone, nothing said left out.
    files = [("cover.xhtml", "<p>Cover image</p>"),
             ("book.xhtml", '<div id="toc"><p>One ... 1</p><p>Two ... 9</p></div>'
                            "<h1>One</h1><p>The orchard bloomed.</p><h1>Two</h1><p>The pears fell.</p>")]
    for href, kept in (("book.xhtml#toc", []), ("book.xhtml", ["One ... 1", "Two ... 9"])):
        book = make_book(tmp_path / "inside.epub", files, [("Start", "book.xhtml")],
                         guide=f'<guide><reference type="toc" href="{href}"/></guide>')
        loaded = load_file(book)
        assert [text for text, _ in read(loaded)] == ["Cover image", "Start", *kept, "One", "The orchard bloomed.",
                                                      "Two", "The pears fell."], href
        assert loaded.left_out == ""


def test_a_body_marked_contents_that_holds_the_chapters_is_read(tmp_path: Path) -> None:
    # `<body epub:type="toc">` on the file the contents end at (the whole book after its contents page): before, the
    # file was left out whole, the book read as 'Cover image' alone, though a guide's mark of it kept it.
    files = [("cover.xhtml", "<p>Cover image</p>"),
             ("book.xhtml", "<p>One ... 1</p><h1>One</h1><p>The orchard bloomed.</p>")]
    book = make_book(tmp_path / "body.epub", files, [("Start", "book.xhtml")], body={"book.xhtml": ' epub:type="toc"'})
    assert [text for text, _ in read(load_file(book))] == ["Cover image", "Start", "One ... 1", "One",
                                                           "The orchard bloomed."]
