"""What an ingest reads of a built documentation site, rotated logs and tiny images, and what it says of the files
it does not read: real folders shaped as Sphinx and MkDocs write them (no Sphinx needed), real logs, real images."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from PIL import Image, ImageDraw

from localrag.config import Settings
from localrag.embed import HashEmbedder
from localrag.engine import Engine
from localrag.errors import NoTextError
from localrag.ingest.discover import discover, takes
from localrag.ingest.gitignore import Ignores
from localrag.ingest.loaders import file_type
from localrag.ingest.ocr import load_image

PAGE = ("<html><head><title>Page {n}</title></head><body><h1>Page {n}</h1><p>How search works, part {n}.</p>"
        "</body></html>")


@pytest.fixture
def engine(localrag_home: Path) -> Engine:
    return Engine(Settings(commit_chunks=2), embedder=HashEmbedder(dim=32))


def _write(root: Path, files: dict[str, str | bytes]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(text, bytes):
            path.write_bytes(text)
        else:
            path.write_text(text, encoding="utf-8")
    return root


def _png(size: tuple[int, int]) -> bytes:
    image = Image.new("RGB", size, "white")
    ImageDraw.Draw(image).line((0, size[1] // 2, size[0], size[1] // 2), fill="black")
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def sphinx_site(root: Path) -> Path:
    """What `sphinx-build -b html` writes: pages, `_static/` (theme, jQuery, search code, icons), `_sources/` (each
    page's source again), `searchindex.js` and the generated index and search pages."""
    return _write(root, {
        **{f"p00{n}.html": PAGE.format(n=n) for n in range(1, 4)},
        "index.html": PAGE.format(n=0),
        "genindex.html": "<html><body><h1>Index</h1></body></html>",
        "search.html": "<html><body><p>Please activate JavaScript to enable the search.</p></body></html>",
        "searchindex.js": 'Search.setIndex({"docnames": ["p001", "p002"], "terms": {"search": [0, 1]}})',
        "objects.inv": b"# Sphinx inventory version 2\n",
        "_static/jquery.js": "/*! jQuery v3.6.0 */ function search(query) { return query; }\n" * 50,
        "_static/searchtools.js": "const Search = { query: function (search) { return search; } };\n",
        "_static/language_data.js": "var stopwords = ['a', 'and'];\n",
        "_static/css/theme.css": "body { font-family: Lato; }\n" * 50,
        "_static/plus.png": _png((11, 11)),
        **{f"_sources/p00{n}.rst.txt": f"Page {n}\n======\n\nHow search works, part {n}.\n" for n in range(1, 4)},
        "_images/diagram.png": _png((400, 200)),
    })


def mkdocs_site(root: Path) -> Path:
    """What `mkdocs build` writes: pages in folders, the theme's css/js (minified), `search/` with lunr and every
    page's text in `search_index.json`, `sitemap.xml` and a 404 page."""
    return _write(root, {
        "index.html": PAGE.format(n=0),
        "guide/index.html": PAGE.format(n=1),
        "404.html": "<html><body><h1>404</h1><p>Page not found</p></body></html>",
        "sitemap.xml": "<?xml version='1.0'?><urlset></urlset>",
        "css/bootstrap.min.css": "body{margin:0}" * 100,
        "css/base.css": "h1 { color: navy; }\n",
        "js/bootstrap.bundle.min.js": "!function(){}();" * 100,
        "js/base.js": "function search() {}\n",
        "search/lunr.js": "var lunr = function () {};\n",
        "search/main.js": "function doSearch() {}\n",
        "search/search_index.json": '{"docs": [{"location": "", "text": "How search works, part 0."}]}',
    })


def test_a_sphinx_site_is_read_as_its_pages(engine: Engine, tmp_path: Path) -> None:
    """Its theme, scripts, search index and `_sources/` copies were most of its chunks (a 100-page site: 222
    documents, ~1,080 of 1,494 chunks theme and vendor code) and outranked the pages; the 11x11 `plus.png` icon was
    OCR'd into a document "+". Now one document per page, and one note says what was left out and why."""
    site = sphinx_site(tmp_path / "html")
    report = engine.ingest([site])
    assert (report.errors, report.blank_paths) == ([], [str(site / "_images" / "diagram.png")])  # OCR'd, no text
    assert sorted(Path(d.path).relative_to(site).as_posix() for d in engine.documents()) == [
        "index.html", "p001.html", "p002.html", "p003.html"]
    note = next(n for n in report.notes if n.startswith("left out 2 folders and 3 files of built documentation"))
    assert f"{site}/_sources/, {site}/_static/, {site}/genindex.html, ..." in note
    assert note.endswith("(name a file to read it)")
    # A file named is read: the user asked for it.
    assert engine.ingest([site / "_static" / "searchtools.js"]).added == 1


def test_a_mkdocs_site_is_read_as_its_pages(engine: Engine, tmp_path: Path) -> None:
    """bootstrap.min.css was 757 chunks, and `search/search_index.json` every page's text again."""
    site = mkdocs_site(tmp_path / "site")
    report = engine.ingest([site])
    assert sorted(Path(d.path).relative_to(site).as_posix() for d in engine.documents()) == [
        "guide/index.html", "index.html"]
    assert any(n.startswith("left out 1 folder and 5 files of built documentation") for n in report.notes)


def test_minified_code_anywhere_and_a_folder_like_a_site_that_is_none(tmp_path: Path) -> None:
    """A vendored `*.min.js` is never anyone's text; a folder with a `_static/` and no search index or page sources
    is not a site: its scripts are read."""
    root = _write(tmp_path / "proj", {"app.js": "run()\n", "vendor/jquery.min.js": "!function(){}();",
                                      "theme/x.min.css": "a{b:c}", "_static/app.js": "go()\n", "notes.md": "# N\n"})
    built: list[Path] = []
    found = [p.relative_to(root).as_posix() for p in discover([root], built=built)]
    assert found == ["_static/app.js", "app.js", "notes.md"]
    assert sorted(p.relative_to(root).as_posix() for p in built) == ["theme/x.min.css", "vendor/jquery.min.js"]


def test_a_watch_takes_no_site_machinery(tmp_path: Path) -> None:
    """`takes` judges a changed file as the walk does: a watched site's rebuilt jquery.js is no document."""
    site = sphinx_site(tmp_path / "html")
    ignores = Ignores(site, True)
    assert takes(site / "p001.html", site, [], [], ignores)
    assert not takes(site / "_static" / "jquery.js", site, [], [], ignores)
    assert not takes(site / "_sources" / "p001.rst.txt", site, [], [], ignores)
    assert not takes(site / "searchindex.js", site, [], [], ignores)


def test_rotated_logs_are_read_as_logs(engine: Engine, tmp_path: Path) -> None:
    """Before, `app.log.1` and `syslog.1` were "passed over ... (.1 2, .2 1, ...)", and `--include '*.log.*'` said it
    "took in nothing: a pattern is matched ..." though it matched them. A man page's source `syslog.3` stays unread,
    and a compressed log too."""
    line = "Dec  7 13:43:52 host backup[12]: checksum mismatch in ledger\n"
    logs = _write(tmp_path / "logs", {
        "app.log": "2026-12-07T10:00:00Z started\n", "app.log.1": "2026-12-06T10:00:00Z disk full on /var\n",
        "backup.log.2": "2026-12-05T10:00:00Z backup failed\n", "syslog.1": line, "messages.1": line,
        "syslog.3": '.\\" Copyright\n.TH SYSLOG 3\n', "app.log.3.gz": b"\x1f\x8b\x08\x00",
    })
    assert file_type(logs / "app.log.1") == "txt"
    assert file_type(logs / "syslog.1") == "txt"
    report = engine.ingest([logs])
    assert report.added == 5
    assert report.notes[0].startswith("passed over 2 files of types localrag does not read (.3 1, .gz 1)")
    assert engine.search("disk full", k=1)[0].chunk.path == str(logs / "app.log.1")


def test_an_include_matching_only_unread_types_says_so(engine: Engine, tmp_path: Path) -> None:
    folder = _write(tmp_path / "f", {"a.gz": b"\x1f\x8b", "b.gz": b"\x1f\x8b", "c.md": "# C\n"})
    report = engine.ingest([folder], include=["*.gz", "*.zzz"])
    assert "include '*.gz' matched 2 files of types localrag does not read, and took in nothing" in " ".join(
        report.notes)
    assert any(n.startswith("include '*.zzz' took in nothing: a pattern is matched") for n in report.notes)


def test_env_and_dockerfile_named_get_no_rename_advice(engine: Engine, tmp_path: Path) -> None:
    """"name it .txt to read it as text" was given for a .env (secrets) and a Dockerfile (renamed, docker build
    fails), and a .env was said to have "no file extension"."""
    env, docker = tmp_path / ".env", tmp_path / "Dockerfile"
    env.write_text("DB_PASSWORD=hunter2\n")
    docker.write_text("FROM python:3.12\n")
    report = engine.ingest([env, docker])
    assert (report.added, report.errors) == (0, [])
    assert sorted(report.notes) == sorted([
        f"skipped {docker}: no file extension, so no file type localrag reads (README, \"What it reads\", lists them)",
        f"skipped {env}: an environment file, which usually holds secrets (passwords, keys): left out, not read",
    ])


def test_an_icon_is_too_small_to_read(tmp_path: Path) -> None:
    """An 11x11 theme icon was OCR'd into a document whose text was "+"."""
    icon = tmp_path / "plus.png"
    icon.write_bytes(_png((11, 11)))
    with pytest.raises(NoTextError, match="an image of 11x11 pixels, too small to hold readable text"):
        load_image(icon)
