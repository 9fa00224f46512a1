"""Web pages as a browser saves them: the article read, the page's furniture (menus, banners, sidebars, cookie
notices, footers) and MediaWiki's edit links left out, and a charset declared late in the head honoured."""

from __future__ import annotations

from pathlib import Path

from localrag.ingest.html import HtmlWalker, parse_html
from localrag.ingest.loaders import load_file
from localrag.types import LoadedText

# A blog post as a browser saves it: no <main>, the post an <article> between the site's header, sidebar and footer.
BLOG = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Brewing a better cup at home | The Kettle Log</title></head>
<body class="post-template">
<a class="skip-link screen-reader-text" href="#content">Skip to content</a>
<div id="cookie-consent" class="cookie-consent" role="dialog" aria-label="Cookies">
  <p>We use cookies to improve your experience and to show you personalised ads.</p>
  <button>Accept all</button></div>
<header class="site-header"><p class="site-title"><a href="/">The Kettle Log</a></p>
  <ul class="menu"><li><a href="/">Home</a></li><li><a href="/about">About us</a></li></ul></header>
<div class="wrap" id="content">
<article class="post">
  <header class="entry-header"><h1>Brewing a better cup at home</h1>
    <p class="byline">By Ines Marlow, 3 March 2026</p></header>
  <p>Good tea starts with fresh water brought just to the boil; water boiled twice tastes flat.</p>
  <aside class="callout"><p>Tip: warm the pot with a splash of hot water first.</p></aside>
  <h2>A timer script</h2>
  <p>Steep black tea for four minutes and green tea for two.</p>
  <pre>sleep 240 &amp;&amp; echo "tea is ready"</pre>
  <footer class="entry-footer"><p>Ines Marlow has run the tasting room at Harrow Tea since 2019.</p></footer>
</article>
<aside class="sidebar" id="secondary">
  <section class="widget"><h2>Popular posts</h2><ul><li><a href="/p/1">Ten teapots we love</a></li></ul></section>
  <section class="widget"><h2>Subscribe to our newsletter</h2><p>One mail a month, no spam.</p></section>
</aside>
</div>
<footer class="site-footer"><p>&copy; 2026 The Kettle Log. <a href="/privacy">Privacy policy</a></p></footer>
</body></html>
"""

# A MediaWiki article as a browser saves it (the Vector skin): the article in role="main", the wiki's menus, the
# contents box and a navbox marked role="navigation", the page footer role="contentinfo"; the category links, the
# "From Wikipedia" line and the page's indicators carry no role, as Wikipedia writes them.
WIKI = """<!DOCTYPE html>
<html class="client-nojs" lang="en" dir="ltr"><head><meta charset="UTF-8">
<title>Tidewater Lighthouse - Wikipedia</title></head>
<body class="mediawiki ltr skin-vector">
<div id="mw-page-base" class="noprint"></div>
<div id="content" class="mw-body" role="main">
  <a id="top"></a>
  <h1 id="firstHeading" class="firstHeading">Tidewater Lighthouse</h1>
  <div class="mw-indicators"><div id="mw-indicator-featured-star" class="mw-indicator"><a href="/wiki/WP:FA"
    title="This is a featured article.">Featured article</a></div></div>
  <div id="bodyContent" class="vector-body">
    <div id="siteSub" class="noprint">From Wikipedia, the free encyclopedia</div>
    <div id="contentSub"><div id="mw-content-subtitle"><span class="mw-redirectedfrom">(Redirected from <a
      href="/w/index.php?title=Tidewater_Light&amp;redirect=no">Tidewater Light</a>)</span></div></div>
    <a class="mw-jump-link" href="#mw-head">Jump to navigation</a>
    <a class="mw-jump-link" href="#searchInput">Jump to search</a>
    <div id="mw-content-text" class="mw-body-content" lang="en" dir="ltr"><div class="mw-parser-output">
      <p>The <b>Tidewater Lighthouse</b> is a granite tower on Gull Point, first lit in 1852.</p>
      <p>Its keeper measured the lamp's energy as
        <span class="mwe-math-element"><span class="mwe-math-mathml-inline mwe-math-mathml-a11y"
        style="display: none;"><math xmlns="http://www.w3.org/1998/Math/MathML" alttext="{\\displaystyle E=mc^{2}}">
        <semantics><mrow><mi>E</mi><mo>=</mo><mi>m</mi><msup><mi>c</mi><mn>2</mn></msup></mrow>
        <annotation encoding="application/x-tex">{\\displaystyle E=mc^{2}}</annotation></semantics></math></span>
        <img src="e.svg" class="mwe-math-fallback-image-inline" aria-hidden="true"
        alt="{\\displaystyle E=mc^{2}}"></span> in jest.</p>
      <div id="toc" class="toc" role="navigation" aria-labelledby="mw-toc-heading">
        <div class="toctitle" lang="en" dir="ltr"><h2 id="mw-toc-heading">Contents</h2></div>
        <ul><li class="toclevel-1"><a href="#History"><span class="tocnumber">1</span>
          <span class="toctext">History</span></a></li></ul></div>
      <h2><span class="mw-headline" id="History">History</span><span class="mw-editsection"><span
        class="mw-editsection-bracket">[</span><a
        href="/w/index.php?title=Tidewater_Lighthouse&amp;action=edit&amp;section=1"
        title="Edit section: History">edit</a><span
        class="mw-editsection-bracket">]</span></span></h2>
      <p>The first keeper, Amos Pell, kept the light for 31 years.</p>
      <div class="mw-heading mw-heading2"><h2 id="Automation">Automation</h2><span class="mw-editsection"><span
        class="mw-editsection-bracket">[</span><a href="/w/index.php?action=edit&amp;section=2">edit</a><span
        class="mw-editsection-bracket">]</span></span></div>
      <p>The light was automated in 1969 and its lens moved to the county museum.</p>
      <div role="navigation" class="navbox" aria-labelledby="Lighthouses"><table class="nowraplinks">
        <tr><th id="Lighthouses">Lighthouses of the Gull Coast</th></tr>
        <tr><td><a href="/wiki/Gull_Point">Gull Point</a> &#183; <a href="/wiki/Harrow_Head">Harrow Head</a></td></tr>
      </table></div>
    </div></div>
    <div class="printfooter" data-nosnippet="">Retrieved from "https://en.wikipedia.org/w/index.php?title=Tidewater_Lighthouse"</div>
    <div id="catlinks" class="catlinks" data-mw="interface"><div id="mw-normal-catlinks" class="mw-normal-catlinks"><a
      href="/wiki/Help:Category">Categories</a>: <ul><li><a href="/wiki/Category:Lighthouses">Lighthouses</a></li></ul>
    </div><div id="mw-hidden-catlinks" class="mw-hidden-catlinks mw-hidden-cats-hidden">Hidden categories: <ul><li><a
      href="/wiki/Category:Articles_with_short_description">Articles with short description</a></li></ul></div></div>
  </div>
</div>
<div id="mw-navigation"><h2>Navigation menu</h2>
  <div id="mw-head">
    <nav id="p-personal" class="vector-menu" aria-labelledby="p-personal-label" role="navigation">
      <h3 id="p-personal-label">Personal tools</h3><ul><li><a href="/login">Log in</a></li></ul></nav>
  </div>
  <div id="mw-panel">
    <div class="portal" role="navigation" id="p-navigation" aria-labelledby="p-navigation-label">
      <h3 id="p-navigation-label">Navigation</h3>
      <ul><li><a href="/wiki/Main_Page">Main page</a></li>
        <li><a href="/wiki/Special:Random">Random article</a></li></ul>
    </div>
    <div class="portal" role="navigation" id="p-lang" aria-labelledby="p-lang-label">
      <h3 id="p-lang-label">Languages</h3><ul><li><a href="https://de.wikipedia.org/">Deutsch</a></li></ul></div>
  </div>
</div>
<div id="footer" role="contentinfo"><ul id="footer-places"><li><a href="/privacy">Privacy policy</a></li>
  <li>This page was last edited on 2 May 2026.</li></ul></div>
</body></html>
"""


def _load(tmp_path: Path, name: str, page: str | bytes) -> LoadedText:
    path = tmp_path / name
    if isinstance(page, str):
        path.write_text(page, encoding="utf-8")
    else:
        path.write_bytes(page)
    return load_file(path)


def _blocks(loaded: LoadedText) -> list[tuple[str, tuple[str, ...]]]:
    return [(loaded.text[s.start : s.end], s.headings) for s in loaded.sections]


def test_a_blog_post_is_read_without_the_sites_menus_sidebar_cookie_notice_and_footer(tmp_path: Path) -> None:
    # All of it was read: the cookie notice was the summary's first key sentence, and the sidebar's headings nested
    # under the post's last section ("Brewing a better cup at home > A timer script > Popular posts").
    loaded = _load(tmp_path, "post.html", BLOG)
    title = "Brewing a better cup at home"
    assert _blocks(loaded) == [
        (title, (title,)),
        ("By Ines Marlow, 3 March 2026", (title,)),  # the post's own header: its title and byline
        ("Good tea starts with fresh water brought just to the boil; water boiled twice tastes flat.", (title,)),
        ("Tip: warm the pot with a splash of hot water first.", (title,)),  # an aside inside the post is the post's
        ("A timer script", (title, "A timer script")),
        ("Steep black tea for four minutes and green tea for two.", (title, "A timer script")),
        ('sleep 240 && echo "tea is ready"', (title, "A timer script")),
        # The post's own footer: who wrote it.
        ("Ines Marlow has run the tasting room at Harrow Tea since 2019.", (title, "A timer script")),
    ]


def test_a_page_with_main_is_read_from_it_and_its_sidebar_left_out(tmp_path: Path) -> None:
    page = BLOG.replace('<div class="wrap" id="content">', '<main class="wrap" id="content">').replace(
        "</aside>\n</div>", "</aside>\n</main>")
    loaded = _load(tmp_path, "post.html", page)
    assert loaded.text.startswith("Brewing a better cup at home\n\nBy Ines Marlow")
    for furniture in ("Popular posts", "newsletter", "cookies", "Skip to content", "Privacy policy", "About us"):
        assert furniture not in loaded.text
    assert "Tip: warm the pot" in loaded.text and "Harrow Tea since 2019" in loaded.text


def test_a_mediawiki_article_is_read_without_menus_contents_edit_links_navboxes_and_categories(tmp_path: Path) -> None:
    # Before: "Personal tools", "Navigation" and "Languages" menus read as text and searchable, the lead filed under
    # the contents box's heading "Contents", every heading "History[edit]", the formula read with its TeX source
    # ("E=mc2{\displaystyle E=mc^{2}}").
    loaded = _load(tmp_path, "Tidewater_Lighthouse.html", WIKI)
    top = "Tidewater Lighthouse"
    assert _blocks(loaded) == [
        (top, (top,)),
        ("The Tidewater Lighthouse is a granite tower on Gull Point, first lit in 1852.", (top,)),
        ("Its keeper measured the lamp's energy as E=mc2 in jest.", (top,)),
        ("History", (top, "History")),
        ("The first keeper, Amos Pell, kept the light for 31 years.", (top, "History")),
        ("Automation", (top, "Automation")),
        ("The light was automated in 1969 and its lens moved to the county museum.", (top, "Automation")),
    ]


# The same page as an older MediaWiki saved it: no landmark roles at all (not even role="main"), so the whole body is
# read, its menus, contents box and footer known by their ids alone.
OLD_WIKI = """<!DOCTYPE html>
<html lang="es" dir="ltr"><head><meta charset="UTF-8"><title>Java EE - Wikipedia, la enciclopedia libre</title></head>
<body class="mediawiki ltr skin-vector">
<div id="content" class="mw-body">
  <h1 id="firstHeading" class="firstHeading">Java EE</h1>
  <div id="bodyContent">
    <div id="siteSub">De Wikipedia, la enciclopedia libre</div>
    <div id="contentSub"></div>
    <div id="jump-to-nav" class="mw-jump">Saltar a: <a href="#mw-head">navegación</a>, <a
      href="#p-search">búsqueda</a></div>
    <div id="mw-content-text" lang="es" dir="ltr" class="mw-content-ltr">
      <p><b>Java EE</b> es una plataforma de programación para desarrollar aplicaciones en Java.</p>
      <table id="toc" class="toc"><tr><td><div id="toctitle"><h2>Índice</h2></div>
        <ul><li class="toclevel-1"><a href="#Historia"><span class="tocnumber">1</span>
          <span class="toctext">Historia</span></a></li></ul></td></tr></table>
      <h2><span class="mw-headline" id="Historia">Historia</span></h2>
      <p>La primera versión, J2EE 1.2, se publicó en diciembre de 1999.</p>
    </div>
    <div class="printfooter">Obtenido de «https://es.wikipedia.org/w/index.php?title=Java_EE»</div>
    <div id="catlinks" class="catlinks"><div id="mw-normal-catlinks" class="mw-normal-catlinks"><a
      href="/wiki/Especial:Categor%C3%ADas">Categorías</a>: <ul><li><a
      href="/wiki/Categor%C3%ADa:Tecnolog%C3%ADas_Java_EE">Tecnologías Java EE</a></li></ul></div></div>
  </div>
</div>
<div id="mw-navigation"><h2>Menú de navegación</h2>
  <div id="mw-head"><div id="p-personal"><h3>Herramientas personales</h3><ul><li><a
    href="/login">Acceder</a></li></ul></div></div>
  <div id="mw-panel"><div class="portal" id="p-navigation"><h3>Navegación</h3><div class="body"><ul><li><a
    href="/wiki/Portada">Portada</a></li></ul></div></div></div>
</div>
<div id="footer"><ul id="footer-info"><li id="footer-info-lastmod"> Esta página se editó por última vez el 2 may
  2026.</li></ul><ul id="footer-places"><li><a href="/privacidad">Política de privacidad</a></li></ul></div>
</body></html>
"""


def test_an_older_mediawiki_page_without_roles_is_read_without_its_chrome(tmp_path: Path) -> None:
    # Before: the category links closed the article ("Categorías: - Tecnologías Java EE"), the contents box's
    # "Índice" headed the lead's tail, and the menus and footer were read as its last section.
    loaded = _load(tmp_path, "Java_EE.html", OLD_WIKI)
    top = "Java EE"
    assert _blocks(loaded) == [
        (top, (top,)),
        ("Java EE es una plataforma de programación para desarrollar aplicaciones en Java.", (top,)),
        ("Historia", (top, "Historia")),
        ("La primera versión, J2EE 1.2, se publicó en diciembre de 1999.", (top, "Historia")),
    ]


def test_a_page_furniture_rule_never_loses_the_content(tmp_path: Path) -> None:
    # An <article> used for a small card while the page's text is in plain <div>s is no article to read alone: the
    # page is read whole (its page-level header and footer still left out).
    cards = ("<html><head><title>Opening hours</title></head><body><header><p>Town Library</p></header>"
             "<div class='content'><h1>Opening hours</h1><p>The library opens at nine on weekdays and at ten on "
             "Saturdays; it is closed on Sundays and on public holidays, and late on Thursdays until eight.</p>"
             "<p>The reading room closes half an hour before the library does.</p></div>"
             "<div class='side'><article class='card'><p>New: audio books.</p></article></div>"
             "<footer><p>Contact the desk</p></footer></body></html>")
    loaded = _load(tmp_path, "hours.html", cards)
    assert "at nine on weekdays" in loaded.text and "half an hour" in loaded.text and "audio books" in loaded.text
    assert "Town Library" not in loaded.text and "Contact the desk" not in loaded.text
    # A dialog library marks the whole page behind an open dialog aria-hidden: a block so marked is read (an inline
    # one, an icon or a separator, is not); a collapsed answer (display:none until clicked) is the page's text.
    modal = ("<html><body><div id='app' aria-hidden='true'><h1>FAQ</h1><p>Where do I park? "
             "<span aria-hidden='true'>&#9733;</span>Behind the hall.</p>"
             "<div class='answer' style='display:none'><p>Dogs are welcome on a lead.</p></div></div>"
             "<div role='dialog' aria-modal='true'><p>Sign up for our newsletter</p></div></body></html>")
    loaded = _load(tmp_path, "faq.html", modal)
    assert loaded.text == "FAQ\n\nWhere do I park? Behind the hall.\n\nDogs are welcome on a lead."
    # A <header> left open holds the whole page: it is no banner (the page's footer in it still is, on a page that
    # marks its text, here by a card's <article>).
    loaded = _load(tmp_path, "notes.html", "<html><body><header><h1>Parish notes</h1><p>The fete is on Saturday, "
                                           "on the green behind the church, from noon until six.</p><article><p>"
                                           "Raffle</p></article><footer><p>Printed by the vicarage</p></footer>"
                                           "</body></html>")
    assert loaded.text == "Parish notes\n\nThe fete is on Saturday, on the green behind the church, from noon until " \
                          "six.\n\nRaffle"


MINUTES = ("<html><head><title>Board minutes</title></head><body><header><p>Minutes of the board meeting, 3 March. "
           "Present: Alice Chen, Omar Haddad.</p></header><h2>Decisions</h2><p>The board approved the budget.</p>"
           "<footer><p>Next meeting: 7 April, in the library.</p></footer></body></html>")


def test_a_documents_header_footer_and_notes_are_its_text_not_furniture(tmp_path: Path) -> None:
    # A page that marks no main part and no article is a document, not a site: its header and footer are its text.
    # Before, read as furniture, they were left out: "Decisions\n\nThe board approved the budget." alone.
    assert _load(tmp_path, "minutes.html", MINUTES).text == (
        "Minutes of the board meeting, 3 March. Present: Alice Chen, Omar Haddad.\n\nDecisions\n\nThe board "
        "approved the budget.\n\nNext meeting: 7 April, in the library.")
    # docutils (rst2html5) writes its footnotes as an <aside> in <main>; Pandoc (--reference-location=block) as one
    # at the body's level. Both notes were lost.
    docutils = ("<html><body><main id='report'><h1>Report</h1><p>The budget rose sharply.<a class='footnote-reference "
                "brackets' href='#f1' id='r1' role='doc-noteref'>1</a></p><aside class='footnote-list brackets'>"
                "<aside class='footnote brackets' id='f1' role='doc-footnote'><span class='label'>1</span><p>Source: "
                "the finance committee minutes of May.</p></aside></aside></main></body></html>")
    assert _load(tmp_path, "report.html", docutils).text == (
        "Report\n\nThe budget rose sharply.\n\n1\n\nSource: the finance committee minutes of May.")
    pandoc = ("<html><body><article><h1>Report</h1><p>The budget rose sharply.<a href='#fn1' class='footnote-ref' "
              "role='doc-noteref'><sup>1</sup></a></p></article><aside id='footnotes' class='footnotes "
              "footnotes-end-of-block' role='doc-footnote'><ol><li id='fn1'><p>Source: the finance committee minutes "
              "of May.</p></li></ol></aside></body></html>")
    assert _load(tmp_path, "pandoc.html", pandoc).text == (
        "Report\n\nThe budget rose sharply.\n\n1. Source: the finance committee minutes of May.")
    # An <aside> in a <main> that holds no article is the text's (a docutils sidebar or topic); beside an article
    # in it, a site's sidebar (test_a_page_with_main_is_read_from_it_and_its_sidebar_left_out).
    sidebar = ("<html><body><nav><a href='/'>Home</a></nav><main><h1>Guide</h1><p>Install the package first.</p>"
               "<aside class='sidebar'><p>Windows users need the C++ runtime.</p></aside></main>"
               "<footer><p>Built with Sphinx</p></footer></body></html>")
    assert _load(tmp_path, "guide.html", sidebar).text == (
        "Guide\n\nInstall the package first.\n\nWindows users need the C++ runtime.")


def test_the_page_rules_are_a_web_pages_only() -> None:
    # An e-book's chapter or a mail may open with a <header> at body level: its heading is the text's.
    walker = HtmlWalker()
    walker.walk(parse_html("<body><header><h1>Chapter One</h1></header><p>It rained.</p><footer><p>Fin</p></footer>"
                           "</body>"))
    walker.flush()
    assert walker.out.build("Book").text == "Chapter One\n\nIt rained.\n\nFin"


def test_a_charset_declared_after_a_long_style_in_the_head_is_the_pages(tmp_path: Path) -> None:
    # Past the first 1,024 bytes it was not looked for: "read as windows-1250, a guess".
    style = "<style>" + "".join(f".c{n} {{ color: #{n:06x}; margin: 0 auto; }}\n" for n in range(100)) + "</style>"
    page = (f"<html><head><title>Menu</title>{style}<meta http-equiv='Content-Type' "
            "content='text/html; charset=iso-8859-2'></head><body><p>Zupa ogórkowa, 12 zł</p></body></html>")
    assert page.index("charset") > 3000
    loaded = _load(tmp_path, "menu.html", page.encode("iso-8859-2"))
    assert loaded.text == "Zupa ogórkowa, 12 zł" and loaded.note == ""
    # A declaration in the body, where no browser looks, or in a comment, is not the page's.
    late = (f"<html><head>{style}<!-- <meta charset='koi8-r'> --></head><body><p>Caf\xe9</p>"
            "<p>&lt;meta charset='koi8-r'&gt; <meta charset='koi8-r'></p></body></html>")
    loaded = _load(tmp_path, "late.html", late.encode("cp1252"))
    assert loaded.text.startswith("Café") and loaded.note == "read as windows-1252, a guess"


def _mkdocs_page(pages: int) -> str:
    """A page as MkDocs' default theme writes it: the site's menu an unmarked `<div class="navbar">` of a link per
    page, the page's contents a `bs-sidebar`, the text in `role="main"`."""
    menu = "".join(f"<li><a href='../topic{i}/' class='dropdown-item'>Configuration topic {i} explained</a></li>"
                   for i in range(pages))
    return ("<!DOCTYPE html><html><head><title>Setup - Pump Docs</title></head><body>"
            "<div class='navbar fixed-top navbar-expand-lg navbar-dark bg-primary'><div class='container'>"
            "<a class='navbar-brand' href='..'>Pump Docs</a><ul class='nav navbar-nav'><li class='dropdown'>"
            f"<a href='#' class='nav-link dropdown-toggle'>Guide</a><ul class='dropdown-menu'>{menu}</ul></li></ul>"
            "</div></div><div class='container'><div class='row'><div class='col-md-3'>"
            "<div class='navbar-light bs-sidebar hidden-print affix' role='complementary'><ul class='nav'>"
            "<li><a href='#setup'>Setup</a></li></ul></div></div>"
            "<div class='col-md-9' role='main'><h1 id='setup'>Setup</h1><p>Turn the valve a quarter turn clockwise "
            "before starting the pump.</p><p>Drain the tank every spring.</p></div></div></div>"
            "<footer class='col-md-12'><p>Documentation built with MkDocs.</p></footer></body></html>")


def test_a_marked_main_part_is_read_alone_however_large_the_sites_menu(tmp_path: Path) -> None:
    # Before, a main part holding less than half the page's text was read with the rest: a 120-page MkDocs site's
    # menu outweighed each page, every page became 6 chunks led by the menu, and menu chunks outranked real pages.
    # Adding pages to the site must not change how a page is read.
    expected = ("Setup\n\nTurn the valve a quarter turn clockwise before starting the pump.\n\n"
                "Drain the tank every spring.")
    for pages in (3, 120):
        assert _load(tmp_path, f"site{pages}.html", _mkdocs_page(pages)).text == expected
    # Articles are weighed against the page's prose, its text outside links: an unmarked menu of links outweighs no
    # article, while a small card beside the page's paragraphs is still read with them
    # (test_a_page_furniture_rule_never_loses_the_content).
    blog = _mkdocs_page(120).replace("role='main'", "").replace("<h1 id='setup'>", "<article><h1>") \
        .replace("spring.</p></div>", "spring.</p></article></div>")
    assert _load(tmp_path, "blog.html", blog).text == expected
