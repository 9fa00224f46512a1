"""Web pages (and the HTML inside e-books and mails) as sections: `HtmlWalker` reads a parsed page's blocks,
headings, lists and tables as a reader sees them, leaving out scripts, styles, forms and what a page hides. A web page
(`load_html`) is read without its furniture as well (`page_roots`): the site's menus, banner, sidebars, cookie notice
and footer.

Split from loaders.py, which had grown past the house's size with every format's reader in it.
"""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path
from typing import TYPE_CHECKING

from localrag.errors import LoaderError
from localrag.ingest.encodings import decode_file, html_label
from localrag.ingest.pictures import office_alt_text, picture_line, said_in
from localrag.ingest.structure import SPACES, HeadingPath, TextBuilder, authored_title, squash
from localrag.types import LoadedText

if TYPE_CHECKING:
    from bs4 import BeautifulSoup, Tag


_DROP_TAGS = frozenset(
    {"script", "style", "nav", "noscript", "template", "svg", "canvas", "iframe", "object", "head", "button",
     "select", "input", "textarea", "form",
     # A formula's source beside the formula (Wikipedia's TeX): MathML's annotations, which no browser shows, were
     # read after it, "E=mc2{\\displaystyle E=mc^{2}}".
     "annotation", "annotation-xml"}
)
# MediaWiki's parts a browser does not show as the article: a heading's "[edit]" link (every heading and source was
# "History[edit]") and the "Retrieved from" line, shown on paper only. By class: the category links (Wikipedia marks
# them with no role: "Categorías: - Tecnologías Java EE ... Categoría oculta: - ..." ended an article's last chunk),
# the page's status icons, the "Jump to" links and the footer.
_WIKI_CHROME = frozenset({"mw-editsection", "printfooter", "catlinks", "mw-indicators", "mw-jump", "mw-jump-link",
                          "mw-footer"})
# By id, as skins write them with no role (an older MediaWiki writes none at all, not even role="main", so its whole
# body is read): the menus around the article, the "From Wikipedia" and "(Redirected from ...)" lines and the
# footer's lists ("This page was last edited on ..."). Its contents box, `<table id="toc" class="toc">` or a <div> so
# marked, by both: an e-book's `<div id="toc">` is left out only where the book marks it as its contents.
_WIKI_CHROME_IDS = frozenset({"catlinks", "mw-navigation", "mw-head", "mw-panel", "p-personal", "sitesub",
                              "contentsub", "contentsub2", "jump-to-nav", "footer-info", "footer-places",
                              "footer-icons"})
# Blocks read whole (by get_text, or as a list or table), not walked child by child.
_READ_WHOLE = frozenset({"ul", "ol", "dl", "pre", "table"})
_BLOCK_TAGS = frozenset(
    {"html", "body", "main", "article", "section", "div", "header", "footer", "aside", "blockquote",
     "figure", "figcaption", "address", "details", "summary", "fieldset", "center", "hr", "li", "dd", "dt"}
)


class HtmlWalker:
    """HTML as sections. `anchors`: element id -> a chapter title that starts there (an e-book's table of
    contents pointing into the middle of a page); the walk opens that chapter at the element."""

    def __init__(self, anchors: dict[str, str] | None = None) -> None:
        self.out = TextBuilder()
        self.headings = HeadingPath()
        self.first_h1 = ""
        self.first_heading = ""
        self.anchors = anchors or {}
        self._inline: list[str] = []
        # The pictures' texts in `_inline`, and whether it holds words of its own: a paragraph of pictures alone is
        # read as they are announced (`picture_line`).
        self._pictures: list[str] = []
        self._worded = False
        # The chapter title just opened: the chapter's own first heading, when it repeats it, is not added twice.
        self._opened = ""

    def open_chapter(self, title: str) -> None:
        """A chapter from the table of contents: its headings never nest under the last chapter's."""
        self.flush()
        self.headings = HeadingPath()
        self.out.add(title, "heading", self.headings.enter(0, title))
        self._opened = title

    def flush(self) -> None:
        text = re.sub(r" *\n *", "\n", re.sub(r"[^\S\n]+", " ", "".join(self._inline)))
        if self._pictures and not self._worded:
            text = "\n".join(picture_line(said) for said in self._pictures)
        self._inline.clear()
        self._pictures.clear()
        self._worded = False
        if text.strip():
            self._opened = ""
        self.out.add(text, "paragraph", self.headings.path)

    def walk(self, element: Tag, depth: int = 0) -> None:
        from bs4 import NavigableString, Tag

        if depth > MAX_HTML_DEPTH:
            # Below this the elements' text is read flat, without walking (a valid page of 5,000 nested <div>s
            # took Python past its recursion limit and was refused, "RecursionError"), and by the walk's rules:
            # what it drops stays dropped, and an inline element stays inside its paragraph.
            self._inline.append(" ".join(_shown_strings(element)))
            self._worded = True
            return
        for child in element.children:
            if isinstance(child, NavigableString):
                if type(child) is NavigableString:  # not a comment, doctype or CDATA
                    self._inline.append(SPACES.sub(" ", str(child)))
                    self._worded = self._worded or bool(child.strip())
                continue
            if not isinstance(child, Tag):
                continue
            if child.name in _STAND_INS:
                said = _stand_in(child)
                self._inline.append(said)
                if said.strip():
                    self._pictures.append(said)
                continue
            if _dropped(child):
                continue
            name = child.name
            anchor = child.get("id")
            if isinstance(anchor, str) and anchor in self.anchors:
                self.open_chapter(self.anchors[anchor])
            if self.anchors and (name in _READ_WHOLE or re.fullmatch(r"h[1-6]", name)):
                # A block read whole, not walked: a chapter anchored inside it (`<h2><a id="c2"></a>II.</h2>`, as
                # many books mark theirs) opens before it. Its contents title was lost, the chapter headed "II.".
                for inner in child.find_all(id=True):
                    if isinstance(inner["id"], str) and inner["id"] in self.anchors:
                        self.open_chapter(self.anchors[inner["id"]])
            if name == "br":
                self._inline.append("\n")
            elif re.fullmatch(r"h[1-6]", name):
                self.flush()
                title = squash("".join(_shown_strings(child)))  # by the walk's rules: no "[edit]", no note number
                if title and title != self._opened:
                    self.first_h1 = self.first_h1 or (title if name == "h1" else "")
                    self.first_heading = self.first_heading or title
                    self.out.add(title, "heading", self.headings.enter(int(name[1]), title))
                self._opened = ""
            elif name in ("ul", "ol", "dl"):
                self.flush()
                self.out.add("\n".join(_html_list(child, 0)), "list", self.headings.path)
            elif name == "pre":
                self.flush()
                self.out.add(child.get_text(), "code", self.headings.path)
            elif name == "table":
                self.flush()
                self.out.add("\n".join(_html_table(child)), "table", self.headings.path)
            elif name == "p" or name in _BLOCK_TAGS:
                self.flush()
                self.walk(child, depth + 1)
                self.flush()
            else:
                self.walk(child, depth + 1)


# Elements read by what they stand for, not by their text: a picture by its alt text, an inline SVG by its name and its
# <text> (`_stand_in`).
_STAND_INS = frozenset({"img", "svg"})
# What an SVG holds that is no text of its drawing: its definitions (a <text> there is drawn only where used), its
# style sheet and scripts.
_SVG_UNDRAWN = frozenset({"defs", "style", "script", "symbol", "mask", "clippath", "pattern", "marker", "metadata"})


def _stand_in(element: Tag) -> str:
    """The text a screen reader reads for the picture `element` (an <img> or an inline <svg>), spaced from the text
    beside it, else "": an <img>'s alt text (its `aria-label`, else its `alt`); an SVG's `aria-label`, else its
    <title>, then the text it draws (its <text>s). Nothing for a decoration: an empty or missing alt, an element
    hidden, `aria-hidden`, `role="presentation"` or `"none"`, inside a hidden SVG. Nor the description Office wrote
    itself (`office_alt_text`), nor a figure's alt text its caption says already (`said_in`: it was read twice).
    Before 2026-12-08 pictures were read as nothing: a figure's "Diagram of the impeller with the Quokka seal ring"
    and a drawing's labels ("Max pressure 7.5 bar") were never found."""
    from bs4 import Tag

    roles = _tokens(element, "role")
    if element.has_attr("hidden") or "presentation" in roles or "none" in roles or _aria_hidden(element):
        return ""
    label = squash(str(element.get("aria-label") or ""))
    if element.name == "img" or label:
        alt = label or squash(str(element.get("alt") or ""))
        figure = element.find_parent("figure")
        caption = figure.find("figcaption") if figure is not None else None
        if office_alt_text(alt) or (caption is not None and said_in(alt, caption.get_text(" "))):
            return ""
        return f" {alt} "
    title = element.find("title", recursive=False)
    said = [title.get_text()] if title is not None else []
    for drawn in element.find_all("text"):
        if not any(isinstance(up, Tag) and up.name.lower() in _SVG_UNDRAWN for up in drawn.parents):
            said.append(drawn.get_text())
    return f" {squash(' '.join(said))} "


def _dropped(element: Tag) -> bool:
    """Whether the walk leaves `element` and all it holds out: a script, a form, navigation (`<nav>`,
    `role="navigation"`: a wiki's menus, contents box and navboxes), a hidden element, an inline element hidden from
    screen readers (`_aria_hidden`), MediaWiki's edit links, category links and menus (`_WIKI_CHROME`), a note
    reference."""
    if element.name in _DROP_TAGS or element.has_attr("hidden") or "navigation" in _tokens(element, "role") \
            or _aria_hidden(element):
        return True
    classes, ids = _tokens(element, "class"), _tokens(element, "id")
    return (not _WIKI_CHROME.isdisjoint(classes) or not _WIKI_CHROME_IDS.isdisjoint(ids)
            or "toc" in ids and "toc" in classes
            or _note_reference(element) or (element.name in _BLOCK_TAGS and front_matter(element)))


def _aria_hidden(element: Tag) -> bool:
    """An inline element marked `aria-hidden="true"`: an icon, a separator, a picture of what the text beside it says.
    A block so marked is read: a dialog library marks the whole page behind an open dialog aria-hidden, and a page
    saved with its cookie notice open would have been read as nothing."""
    return (str(element.get("aria-hidden") or "").strip().lower() == "true" and element.name not in _BLOCK_TAGS
            and element.name not in _READ_WHOLE and element.name != "p" and not re.fullmatch(r"h[1-6]", element.name))


# A book's front matter left out of its text, as EPUB names it (`epub:type` on a page's body or section, the nav
# document's landmarks, the OPF's <guide>): a contents page repeats the chapters' headings, and came back as a
# source ("Contents > Table of Contents"); a copyright page is boilerplate, the same in all of a publisher's books.
# A dedication is kept: the author's own words, and what a reader may ask about.
FRONT_MATTER = frozenset({"toc", "copyright-page"})


def front_matter(element: Tag) -> bool:
    """Whether the block is a book's contents page or copyright page (`FRONT_MATTER`, or `role="doc-toc"`)."""
    return bool(FRONT_MATTER & set(_tokens(element, "epub:type"))) or "doc-toc" in _tokens(element, "role")


def _note_reference(element: Tag) -> bool:
    """A note's number in the text: `<a epub:type="noteref">`, `role="doc-noteref"`, a <sup> holding only links into
    the book and brackets (Wikipedia's [3]), or a link into the book whose whole text is a note mark (`_NOTE_MARK`)
    around a <sup> (Calibre's and Word's `<a href="#fn1"><sup>4</sup></a>`) or glued to the word before it
    (Gutenberg's `1883<a href="#f7">[7]</a>`). Read, it was glued onto the word before ("March of 19303", "6000
    BC.1 Trade", "since 12904"), which neither the full-text search nor a quote then matched. A link of words, or
    one after a space (a note's own number linking back, "page <a>12</a>"), is read. The note itself is read where
    the book has it."""
    if "noteref" in _tokens(element, "epub:type") or "doc-noteref" in _tokens(element, "role"):
        return True
    if element.name == "a":
        if not _into_book(element):
            return False
        text = element.get_text().strip()
        if element.find("sup") is not None:  # a superscript letter marks a table's notes
            return _NOTE_MARK.fullmatch(text) is not None or (len(text) == 1 and text.isalpha())
        return _NOTE_MARK.fullmatch(text) is not None and _glued(element)
    if element.name != "sup":
        return False
    links = element.find_all("a")
    if not links or not all(_into_book(link) for link in links):
        return False
    beside = "".join(text for text in element.find_all(string=True) if text.find_parent("a") not in links)
    return _NOTE_MARKS.fullmatch(beside) is not None


# What a note reference may hold beside its links: "[3]", "(3, 4)", "3,4".
_NOTE_MARKS = re.compile(r"[\s\[\](),;]*")
# A note link's whole text: a number or a mark (* † ‡ § ¶), bare or in square brackets, or letters in them ("[b]").
# Not in parentheses: "section 5<a>(a)</a>" is a cross-reference whose "(a)" the text needs.
_NOTE_MARK = re.compile(r"\[?(?:\d{1,4}|[*\u2020\u2021\u00a7\u00b6]{1,3})\]?|\[[A-Za-z]{1,4}\]")


def _into_book(link: Tag) -> bool:
    """Whether `link` points at a place in the page or another of the book's files ("#fn1", "notes.xhtml#fn1"), not
    out of it."""
    href = str(link.get("href") or "")
    return "#" in href and ":" not in href.partition("#")[0]


def _glued(element: Tag) -> bool:
    """Whether text ends right before `element`, with no space between, in the same parent."""
    from bs4 import NavigableString

    before = element.previous_sibling
    text = str(before) if isinstance(before, NavigableString) else before.get_text() if before is not None else ""
    return bool(text) and not text[-1].isspace()


def _tokens(element: Tag, attribute: str) -> list[str]:
    value = element.get(attribute)
    return (" ".join(value) if isinstance(value, list) else value or "").lower().split()


def _shown_strings(element: Tag) -> list[str]:
    """The text `HtmlWalker` would read under `element`, gathered without recursion: plain strings, none under a
    dropped or hidden element."""
    from bs4 import NavigableString, Tag

    strings = []
    for node in element.descendants:
        if type(node) is NavigableString:
            text = SPACES.sub(" ", str(node))
        elif isinstance(node, Tag) and node.name in _STAND_INS:
            text = _stand_in(node)
        else:
            continue
        up = node.parent
        while isinstance(up, Tag) and up is not element and not _dropped(up):
            up = up.parent
        if up is element:
            strings.append(text)
    return strings


def _html_int(value: object, default: int) -> int:
    """An integer attribute as a browser reads it ("3", " 3 "), else `default`."""
    try:
        return int(str(value).strip()) if isinstance(value, str) else default
    except ValueError:
        return default


def _html_list(element: Tag, depth: int) -> list[str]:
    from bs4 import Tag

    lines: list[str] = []
    items = [item for item in element.find_all(["li", "dt", "dd"], recursive=False)
             if not _dropped(item)]  # a hidden item was read
    # An <ol> counts as a browser does: from its start (steps split around a note go on at 3), down where it
    # is reversed, and from an item's own value on.
    step = -1 if element.name == "ol" and element.has_attr("reversed") else 1
    number = _html_int(element.get("start"), len(items) if step < 0 else 1) - step
    for item in items:
        own: list[str] = []
        nested: list[Tag] = []
        for child in item.children:
            if isinstance(child, Tag) and child.name in ("ul", "ol", "dl"):
                nested.append(child)
            else:
                # As a cell's: an item's table or blocks joined bare ran together ("CellAlphaCellBeta").
                own.append(_child_text(child, depth))
        number = _html_int(item.get("value"), number + step) if item.name == "li" else number + step
        marker = f"{number}." if element.name == "ol" else ("-" if item.name != "dd" else " ")
        text = squash("".join(own))
        if text:
            lines.append(f"{'  ' * depth}{marker} {text}")
        for sub in nested:
            # Lists nested past the depth a page could mean are read flat (the walk's own limit, for the same cause).
            if depth < MAX_HTML_DEPTH:
                lines.extend(_html_list(sub, depth + 1))
            else:
                lines.append(squash(" ".join(_shown_strings(sub))))
    return lines


def _html_table(table: Tag, depth: int = 0) -> list[str]:
    """The table's caption, then a line per row. Its own rows only: a nested table is read in the cell that holds it
    (listed again as rows, its text came twice, and a page of tables nested n deep grew n times over). A hidden row
    or row group is left out, as a hidden cell is (they were read)."""
    rows = []
    caption = table.find("caption", recursive=False)
    if caption is not None and not _dropped(caption):
        rows.append(squash(_cell_text(caption, depth)))  # often the only name a table has; it was dropped
    own = [part for part in table.find_all(["tr", "thead", "tbody", "tfoot"], recursive=False)  # the page's order
           if not _dropped(part)]
    for row in (row for part in own for row in ([part] if part.name == "tr" else part.find_all("tr", recursive=False))
                if not _dropped(row)):
        cells = [squash(_cell_text(cell, depth)) for cell in row.find_all(["th", "td"], recursive=False)
                 if not _dropped(cell)]
        if any(cells):
            rows.append(" | ".join(cells))
    return [row for row in rows if row]


def _cell_text(element: Tag, depth: int) -> str:
    """A table cell's text by the walk's rules, a nested table's rows ("a | b; c | d") and blocks kept apart: joined
    bare, a layout table's inner cells ran together ("AlphaBeta") and could not be found."""
    return "".join(_child_text(child, depth) for child in element.children)


def _child_text(child: object, depth: int) -> str:
    """One child's text in a cell or a list item (`_cell_text`)."""
    from bs4 import NavigableString, Tag

    if type(child) is NavigableString:
        return str(child)
    if isinstance(child, Tag) and child.name in _STAND_INS:
        return _stand_in(child)
    if not isinstance(child, Tag) or _dropped(child):
        return ""
    if depth >= MAX_HTML_DEPTH:
        return " " + " ".join(_shown_strings(child)) + " "
    if child.name == "table":
        return " " + "; ".join(_html_table(child, depth + 1)) + " "
    if child.name in _BLOCK_TAGS or child.name in ("p", "br", "ul", "ol", "dl", "pre"):
        return " " + _cell_text(child, depth + 1) + " "
    return _cell_text(child, depth + 1)


# Nesting past which an element's text is read flat: no page means 200 levels, and Python's recursion limit is 1,000.
MAX_HTML_DEPTH = 200

# BeautifulSoup's tree costs ~750 bytes per tag (a 1.9 MB page of 400k tags took 300 MB), so a page
# is refused by its number of tags, not its size: long text and inline images cost little.
MAX_HTML_TAGS = 1_000_000


def parse_html(markup: str | bytes) -> BeautifulSoup:
    """`markup` parsed as a browser reads it (Python's html.parser), bs4's XMLParsedAsHTMLWarning kept from the
    user: a page or note that opens with `<?xml` (XHTML, Evernote's notes, an export renamed .html) is read right
    as HTML, and the warning printed a 15-line block telling the user to install lxml among the ingest's lines.
    Filtered for the process, not in a catch_warnings block, which does not hold across threads."""
    import warnings

    from bs4 import BeautifulSoup, XMLParsedAsHTMLWarning

    warnings.filterwarnings("ignore", category=XMLParsedAsHTMLWarning)
    return BeautifulSoup(markup, "html.parser")


# --- a web page's furniture ---------------------------------------------------------------------------------------

# Landmarks that are the site's, not the page's text: its banner, footer, search box and sidebars, as a screen reader
# names them. A <header>, <footer> or <aside> is one when it is the page's: inside no article, section, aside or
# navigation, nor (a header or footer) the main part. An <aside> in the main part is the text's (docutils' sidebars and
# topics, rst2html5's footnotes), unless the main part wraps an article it stands beside: a blog's sidebar. Only on a
# page that marks its text (a <main>, role="main" or an <article>): a plain document's <header> ("Minutes of ...,
# present: ...") and <footer> ("Next meeting: ...") were its text, and were lost.
_SITE_ROLES = frozenset({"search", "dialog", "alertdialog"})
_PART_SCOPES = frozenset({"article", "aside", "main", "nav", "section"})
_SITE_PARTS = frozenset({"header", "footer", "aside"})
# A document's notes, never furniture wherever they are: by role, or by a class or id opening with "footnote" or
# "endnote" (docutils' `<aside class="footnote-list">`, Pandoc's `<aside id="footnotes" class="footnotes">`).
_NOTE_ROLES = frozenset({"doc-footnote", "doc-endnote", "doc-endnotes", "doc-footnote-list"})
_NOTE_NAMES = ("footnote", "endnote")
# The element a landmark's role stands for: `<div role="contentinfo">` is scoped as a <footer> is.
_ROLE_TAGS = {"banner": "header", "contentinfo": "footer", "complementary": "aside", "main": "main",
              "navigation": "nav", "article": "article", "region": "section"}
# A cookie or consent notice by its id or class, as the common consent tools name it: "cookie-consent",
# "cookie_banner", "gdpr-notice", "CybotCookiebotDialog", "onetrust-banner-sdk". Not a bare "cookie": a recipe's.
_CONSENT = re.compile(r"(?:cookie|consent|gdpr)[-_]?(?:banner|bar|consent|notice|popup|modal|dialog|overlay|wall|law)"
                      r"|cookiebot|onetrust|cookieconsent|cookielaw")
# A link that moves the focus past the menus ("Skip to content", MediaWiki's "Jump to navigation"): by its words, or
# its class where they are another language's.
_SKIP_WORDS = re.compile(r"(?:skip|jump) to\b", re.IGNORECASE)
_SKIP_CLASS = re.compile(r"skip-?link|jump-link|skip-to")


def _part(element: Tag) -> str:
    """The element `element` is as a landmark: its tag, or the one its role stands for (`_ROLE_TAGS`)."""
    return next((_ROLE_TAGS[role] for role in _tokens(element, "role") if role in _ROLE_TAGS), element.name)


def _furniture(element: Tag, marked: bool) -> bool:
    """Whether `element` is the site's part of a web page, not the page's text (`_SITE_ROLES`, a page-level part
    (`_page_level`) where the page is `marked`, a <dialog>, a consent notice, a skip link). Never a document's notes
    (`_NOTE_ROLES`, `_NOTE_NAMES`), nor a block around the page's main part, an article or an <h1>: a <header> left
    open holds the whole page, a wrapper whose class names a notice's state ("cookie-notice-shown") its text."""
    name = _part(element)
    ids = [*_tokens(element, "id"), *_tokens(element, "class")]
    names = " ".join(ids)
    if name == "a":
        return str(element.get("href") or "").startswith("#") and (
            _SKIP_WORDS.match(element.get_text().strip()) is not None or _SKIP_CLASS.search(names) is not None)
    if not _NOTE_ROLES.isdisjoint(_tokens(element, "role")) or any(word.startswith(_NOTE_NAMES) for word in ids):
        return False
    site = (marked and name in _SITE_PARTS and _page_level(element, name)) or name == "dialog" \
        or not _SITE_ROLES.isdisjoint(_tokens(element, "role")) or _CONSENT.search(names) is not None
    return site and element.find(lambda inner: _part(inner) in ("main", "article", "h1")) is None


def _page_level(element: Tag, name: str) -> bool:
    """Whether the <header>, <footer> or <aside> `element` (`name`, by its role too) is the page's, not a part's of
    it (`_SITE_PARTS`'s comment)."""
    scopes = [up for up in element.parents if _part(up) in _PART_SCOPES]
    if name != "aside" or any(_part(up) != "main" for up in scopes):
        return not scopes
    return not scopes or any(main.find(lambda inner: _part(inner) == "article") is not None for main in scopes)


def page_roots(soup: BeautifulSoup) -> list[Tag]:
    """The parts of a web page to read, its furniture (`_furniture`) taken out of `soup`: its main part (`<main>`,
    `role="main"`, where MediaWiki puts the article) whatever its size, else its articles (the outermost
    `<article>`s), else the whole body. Articles that hold less than half of the page's prose (its text outside
    links) are read with the rest: a page that marks a small card as an article would have lost its text. Prose, not
    all text: a site's menu is links, and where it carries no mark (MkDocs' `<div class="navbar">`) it is still no
    text of the page. Before 2026-12-08 the main part too was measured, against all the page's text: a 120-page
    MkDocs site's menu outweighed each page's `role="main"`, and every page was read with the whole menu."""
    body = soup.body or soup
    marked = body.find(lambda element: _part(element) in ("main", "article")) is not None
    for part in [element for element in body.find_all(True) if _furniture(element, marked)]:
        if not part.decomposed:  # inside a part already taken out
            part.decompose()
    for wanted in ("main", "article"):
        found = [element for element in body.find_all(True) if _part(element) == wanted and _shown(element)]
        outermost = [element for element in found
                     if not any(_part(up) == wanted for up in element.parents)]
        if outermost and (wanted == "main" and any(_shown_length(element) for element in outermost)
                          or 2 * sum(_shown_length(element, prose=True) for element in outermost)
                          >= _shown_length(body, prose=True)):
            return outermost
    return [body]


def _shown(element: Tag) -> bool:
    """Whether the walk reads `element`: neither it nor a block around it is dropped."""
    return not any(_dropped(up) for up in (element, *element.parents))


def _shown_length(element: Tag, *, prose: bool = False) -> int:
    """How many characters, spaces not counted, the walk reads under `element` (walked without recursion); with
    `prose`, only those outside links (`page_roots`)."""
    from bs4 import NavigableString, Tag

    total = 0
    stack = [element]
    while stack:
        for child in stack.pop().children:
            if type(child) is NavigableString:
                total += len("".join(child.split()))
            elif isinstance(child, Tag) and not _dropped(child) and not (prose and child.name == "a"):
                stack.append(child)
    return total


def load_html(path: Path, data: bytes) -> LoadedText:
    """The page in `data` (the file at `path`) as sections, titled by its <title>, else its first heading."""
    tags = data.count(b"<")
    if tags > MAX_HTML_TAGS:
        raise LoaderError(
            f"{path}: too many HTML tags to parse safely ({tags:,}; limit {MAX_HTML_TAGS:,})",
            "split the page, or save it as text or PDF",
        )
    # The page's own charset, as a browser reads it: UnicodeDammit's guess read a UTF-8 page with one stray byte
    # as cp932 ("Stadtfﾃｼhrung"), and iso-8859-1 as Latin-1, its € and smart quotes control characters.
    read = decode_file(data, path, html_label(data))
    soup = parse_html(read.text)
    walker = HtmlWalker()
    for root in page_roots(soup):
        walker.walk(root)
        walker.flush()
    page_title = authored_title(soup.title.get_text()) if soup.title else ""
    loaded = walker.out.build(page_title or walker.first_h1 or walker.first_heading or path.stem)
    return dataclasses.replace(loaded, note=read.note)
