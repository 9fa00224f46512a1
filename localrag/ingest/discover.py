"""File discovery: which files an ingest of some paths means, in a stable order.

Folders are walked recursively with `os.walk`, pruning tool and dependency folders (`SKIP_DIRS`) and
hidden folders before descending, so a project's `.git` or `node_modules` costs nothing. Symlinked
folders are not followed (no cycles, no escaping the tree). A symlinked file whose target lies
inside the folder being walked adds nothing: the walk takes the target itself, under its real path,
where its own place passes the rules (a link does not carry a hidden, excluded or `node_modules` file
past them). A link that leaves the folder is skipped and named by default (in `links_out`, else in
`problems`): it would index a file the user did not point at. It is a setting's choice, not a failure: an
ingest names it in its notes, and its exit status stays 0. With `follow_links_outside` (a setting) it is taken
under the link's own path, so deleting the link, or `forget` of the folder holding it, removes it
like any file there. A sub-folder that cannot be listed and a file whose path the OS refuses (too
long) are reported to `problems` too, never skipped silently. Inside folders, hidden files and what editors,
office suites and downloaders leave beside a file while saving (`leftover`: `~$report.docx`, `notes.md~`,
`#notes.md#`, `x.pdf.part`) are skipped as well, and not counted as types passed over: they are half-written
or not the user's text. So is a Logseq graph's own `logseq` folder (its page backups in `bak/`, settings, CSS),
which put old versions of a page beside the page in search results, and what Windows writes on a drive (its recycle
bin, `System Volume Information`, `desktop.ini`, `Thumbs.db`) or a browser beside a saved page (`X_files` next to
`X.html`): such a folder is named in `links_out`, and a recycle bin's binary record of each deleted file
(`deletion_record`) is passed over. A file named explicitly is taken if its type is supported, hidden or not, unless
it is such a leftover, a file Windows writes or a deletion record (a shell's `docs/*` or a drive's `*` names them),
and `System Volume Information` is never read, named or not; a link named
explicitly is taken under its own path, wherever it points (the user named it). localrag's own folders
(`paths.own_folders`: data, config, cache, models) are pruned too, wherever `LOCALRAG_HOME` puts them, and a
path given inside one of them is skipped and named in `problems`. What a `.gitignore` names is left out as git
leaves it out (`ingest.gitignore`; the `respect_gitignore` setting), and what a `.localragignore` names always: an
ignored folder is pruned whole, and what was left out, a folder or a file of a type localrag reads, is listed in
`gitignored`, at its highest level.

`include`/`exclude` are glob patterns matched both against the path relative to the root that was
given and against the bare name, in any case, so `*.md`, `notes/*` and `drafts` all work and `*.txt` takes
`MEETIN~1.TXT`; an exclude pattern that names a folder prunes the whole folder, and one ending in `/` (`*_files/`)
names folders alone, as in `.gitignore`. The result is sorted and de-duplicated on the resolved path,
so ingest order (and therefore chunk ids and progress) is the same from run to run.
"""

from __future__ import annotations

import errno
import os
import re
import shlex
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from fnmatch import translate
from functools import cache
from importlib import resources
from pathlib import Path

from localrag import paths as paths_
from localrag.errors import LoaderError
from localrag.ingest.gitignore import Ignores
from localrag.ingest.loaders import SUPPORTED_EXTENSIONS
from localrag.ingest.rotated import reads_as

SKIP_DIRS: frozenset[str] = frozenset(
    {
        ".git", ".hg", ".svn", "node_modules", "__pycache__", ".venv", "venv", ".tox", ".nox",
        ".mypy_cache", ".pytest_cache", ".ruff_cache", ".ipynb_checkpoints", ".idea", ".vscode",
        "site-packages", ".eggs", ".cache", ".Trash",
    }
)
# Folders Windows keeps on each drive it writes to, which a user's stick or external drive carries. Its recycle bin
# holds a copy of each deleted file (`$R7QK2ZD.txt`) beside a binary record of it, same extension (`$I7QK2ZD.txt`):
# read, the records failed every ingest and deleted text was cited as a source. `$Recycle.Bin` (as on C:) in any case;
# XP's `RECYCLER` and FAT's `RECYCLED` only as Windows writes them, capitals, so that a user's "Recycled" is read.
_RECYCLE_BIN = "Windows' recycle bin (deleted files, and a binary record of each)"
SYSTEM_VOLUME = "system volume information"
SYSTEM_FOLDERS: dict[str, str] = {
    "$recycle.bin": _RECYCLE_BIN, "RECYCLER": _RECYCLE_BIN, "RECYCLED": _RECYCLE_BIN,
    SYSTEM_VOLUME: "Windows' own folder (restore points, the search indexer's files)",
}
# The record Windows' recycle bin keeps of each deleted file, `$I` and the 6 characters of the copy's name
# (`$R7QK2ZD.txt`), its extension too: a format version (1 or 2, 8 bytes little-endian), then the file's size,
# deletion time and original path. Binary, it failed every ingest of a recycle bin the user named to recover a file.
_DELETION_RECORD = re.compile(r"\$I[0-9A-Za-z]{6}(\..*)?")
_DELETION_HEADS = (b"\x01" + bytes(7), b"\x02" + bytes(7))
# Files Windows writes into folders it shows: a customised folder's view settings (`desktop.ini` was read as code:ini)
# and thumbnail caches. Never a document, in any case.
SYSTEM_FILES = frozenset({"desktop.ini", "thumbs.db", "ehthumbs.db"})
# The folder a browser's "Save Page As…, complete" writes beside `X.html`: `X_files` with the page's scripts, styles,
# images and its ads' frames (`saved_resource.html`), which were 348 of a tester's saved page's 358 chunks. Its suffix
# follows the browser's language; these are the ones known here (English, German, Spanish, French, Danish and
# Norwegian, Swedish, Dutch, Portuguese, Italian): a folder with another suffix is read as any folder is.
SAVED_PAGE_SUFFIXES = ("_files", "-Dateien", "_archivos", "_fichiers", "-filer", "_filer", "_bestanden", "_arquivos",
                       "_file")
_PAGE_TYPES = (".html", ".htm", ".HTML", ".HTM")


# A documentation site as Sphinx or MkDocs builds it, downloaded or built in place: beside its pages, the theme's
# styles and scripts (jquery.js, theme.css, bootstrap.min.css), its search index (Sphinx's searchindex.js, MkDocs'
# search/search_index.json, every page's text again) and Sphinx's `_sources/` copy of each page's source. Read, they
# were ~1,080 of a 100-page Sphinx site's 1,494 chunks, a search about searching found only the site's code, and `ask`
# cited `_sources/p003.rst.txt` over p003.html. Told by what each tool writes at the site's top: Sphinx its `_static/`
# folder beside `searchindex.js` or `_sources/`, MkDocs its `sitemap.xml` beside `search/search_index.json`. In such
# a site its pages and their images are read; below it, scripts, styles and JSON are its machinery, as are the
# folders and the generated pages (index of terms, search page, not-found page) named here. `.gitignore` does not
# help a site that was downloaded, and a page is never such a file.
_SITE_FOLDERS = {"Sphinx": frozenset({"_static", "_sources"}), "MkDocs": frozenset({"search"})}
_SITE_PAGES = {"Sphinx": frozenset({"genindex.html", "search.html", "py-modindex.html"}),
               "MkDocs": frozenset({"404.html"})}
_SITE_CODE = frozenset({".js", ".mjs", ".css", ".json"})
# Minified scripts and styles, in a site or anywhere (a project's vendored bootstrap.min.css): one line of code
# thousands of characters long, never anyone's text.
_MINIFIED = (".min.js", ".min.css")


def _site_kind(folder: Path) -> str:
    """"Sphinx" or "MkDocs" when `folder` is the top of a documentation site that tool built, else ""."""
    if (folder / "_static").is_dir() and ((folder / "searchindex.js").is_file() or (folder / "_sources").is_dir()):
        return "Sphinx"
    if (folder / "sitemap.xml").is_file() and (folder / "search" / "search_index.json").is_file():
        return "MkDocs"
    return ""


def _site_part(kind: str, name: str, is_dir: bool, at_top: bool) -> bool:
    """Whether the file or folder `name` is the machinery of a built site of `kind` (`_SITE_FOLDERS`), not a page:
    `at_top` when it lies in the site's own top folder."""
    if is_dir:
        return at_top and name in _SITE_FOLDERS[kind]
    return Path(name).suffix.lower() in _SITE_CODE or (at_top and name.lower() in _SITE_PAGES[kind])


def site_machinery(path: Path, root: Path) -> bool:
    """Whether a walk of `root` leaves out `path` (or a folder on its way) as a built documentation site's theme,
    scripts, search index or source copies (`_SITE_FOLDERS`), or as a minified script or style."""
    parts = path.relative_to(root).parts
    if parts and not path.is_dir() and parts[-1].lower().endswith(_MINIFIED):
        return True
    for depth in range(len(parts)):
        kind = _site_kind(root.joinpath(*parts[:depth]))
        if kind:
            return any(_site_part(kind, part, root.joinpath(*parts[:depth + 1 + below]).is_dir(), below == 0)
                       for below, part in enumerate(parts[depth:]))
    return False


_GLOB = re.compile(r"[*?\[]")
# Names editors, office suites and downloaders write beside or instead of the real file while saving: Word's owner
# file `~$x.docx`, Emacs's lock `.#x` and autosave `#x#`, Vim's swap files, backups `x~` and `x.bak`, partial downloads.
LEFTOVER_PREFIXES = ("~$", ".#")
LEFTOVER_SUFFIXES = (".swp", ".swo", ".swx", ".tmp", ".temp", ".bak", ".part", ".crdownload", ".kate-swp", "~", "#")


def readable(path: Path) -> bool:
    """Whether the file at `path` is of a type localrag reads, by its extension (`reads_as`: `app.log.1` is a log)."""
    return reads_as(path) in SUPPORTED_EXTENSIONS


def leftover(name: str) -> bool:
    """Whether a file of this name is an editor's or a download's leftover, never a document whatever its type."""
    return name.startswith(LEFTOVER_PREFIXES) or name.endswith(LEFTOVER_SUFFIXES)


def system_file(name: str) -> bool:
    """Whether a file of this name is one Windows writes into a folder it shows (`SYSTEM_FILES`)."""
    return name.lower() in SYSTEM_FILES


def deletion_record(path: Path) -> bool:
    """Whether the file at `path` is a recycle bin's record of a deleted file (`_DELETION_RECORD`), by its name and
    its first bytes, so that a user's file that only looks so named is read."""
    if not _DELETION_RECORD.fullmatch(path.name):
        return False
    try:
        with path.open("rb") as record:
            return record.read(8) in _DELETION_HEADS
    except OSError:  # read as any file, its failure said there
        return False


def in_system_volume(path: Path) -> bool:
    """Whether `path` is Windows' `System Volume Information` or lies in it: never content, even named (`ingest *` at
    a drive's root names it)."""
    return any(part.lower() == SYSTEM_VOLUME for part in path.parts)


def never_taken(path: Path) -> bool:
    """Whether no ingest takes the file at `path`, however it is named: a file Windows writes (`system_file`) or one
    in `System Volume Information`. Such a document was taken by an older localrag and leaves the index at the next
    ingest of a folder holding it, as if deleted. A file of a recycle bin, a saved page's or a Logseq graph's own
    folder may be one the user named (`ingest /media/USB/$RECYCLE.BIN` to recover a deleted file): the index keeps no
    record of how a document came in, so it stays, as a hidden file does."""
    return system_file(path.name) or in_system_volume(path)


def app_folder(folder: Path) -> str | None:
    """What `folder` holds when it is an application's or the system's own folder inside the user's, else None: a
    Logseq graph's `logseq` (settings, CSS, and in `bak/` a copy of each page as it was before each edit), Windows'
    recycle bin and its own folder (`SYSTEM_FOLDERS`), a saved web page's resources (`SAVED_PAGE_SUFFIXES`, only
    beside the page: a folder just named `project_files` is the user's)."""
    name = folder.name
    if name == "logseq" and (folder / "config.edn").is_file():
        return "a Logseq graph's own folder (its settings, and copies of pages as they were)"
    system = SYSTEM_FOLDERS.get(name) or SYSTEM_FOLDERS.get(name.lower())
    if system:
        return system
    page = next((f"{name.removesuffix(suffix)}{kind}" for suffix in SAVED_PAGE_SUFFIXES if name.endswith(suffix)
                 for kind in _PAGE_TYPES if (folder.parent / f"{name.removesuffix(suffix)}{kind}").is_file()), None)
    if page:
        return f"what a browser saved with the page {page} (its scripts, styles, images and ads' frames)"
    return None


def app_folder_below(path: Path, root: Path) -> Path | None:
    """The application's or the system's own folder (`app_folder`) that holds `path` below `root`, else None. Only
    below: the folder the user named (`ingest dl/Page_files`, `watch /media/USB/$RECYCLE.BIN` to recover what was
    deleted) and the folders above it are the user's choice, and a walk of it takes its files."""
    parts = path.relative_to(root).parts
    return next((folder for folder in (root.joinpath(*parts[:depth]) for depth in range(1, len(parts)))
                 if app_folder(folder)), None)


def excluded(path: Path, root: Path, patterns: Sequence[str]) -> bool:
    """Whether one of `patterns` (`for_root` made them for `root`) leaves out the file at `path` in a walk of `root`
    (it or a folder on the way)."""
    parts = path.relative_to(root).parts
    return any(_matches(patterns, "/".join(parts[:depth]), parts[depth - 1], None, depth < len(parts) or path.is_dir())
               for depth in range(1, len(parts) + 1))


def for_root(patterns: Sequence[str], root: Path) -> list[str]:
    """`patterns` as a walk of the (resolved) folder `root` matches them. A folder may be written as a path: whole,
    or from the current folder (`./drafts`, `../notes/drafts`, as `--path` reads them, or `notes/drafts` when that
    is there and not below `root`), through links or not, it is made its path below `root`. Such patterns matched
    nothing, without a word. Any other pattern ending in `/` (`drafts/`, `*_files/`, `*/`) names folders alone, as in
    `.gitignore` (`_matches`)."""
    made = []
    for pattern in patterns:
        if os.path.isabs(pattern) or _from_here(pattern, [root]):
            given = Path(os.path.abspath(pattern))
            below = [c for c in dict.fromkeys((given, given.resolve())) if c.is_relative_to(root) and c != root]
            if below:
                pattern = below[0].relative_to(root).as_posix()
        made.append(pattern)
    return made


def _from_here(pattern: str, roots: Sequence[Path]) -> bool:
    """Whether `pattern` is a path written from the current folder: `./x`, `../x`, or, what tab completion gives, a
    relative path that names a folder or file there and none below `roots` (it left out nothing). A bare name still
    means any depth."""
    return pattern.startswith(("./", "../")) or ("/" in pattern and not _GLOB.search(pattern) and Path(
        pattern).exists() and not any((root / pattern).exists() for root in roots))


def anchored(patterns: Sequence[str], roots: Sequence[Path]) -> list[str]:
    """`patterns` for a walk of `roots`, each written from the current folder made whole, so that they mean the
    same read again from another folder (a watch's remembered patterns)."""
    return [os.path.abspath(pattern) if _from_here(pattern, roots) else pattern for pattern in patterns]


def takes(path: Path, root: Path, include: Sequence[str], exclude: Sequence[str], ignores: Ignores) -> bool:
    """Whether a walk of `root` with `include` and `exclude` (`for_root` made them for it) and `ignores` (the
    `.gitignore` and `.localragignore` rules) takes `path` by them: no folder on its way nor itself excluded or
    ignored and, a file of a type ingest reads, included. A folder, or a name of no such type (a folder moved or
    deleted), is judged by `exclude` and `ignores` alone, as the walk judges folders."""
    if excluded(path, root, exclude) or ignores.below(path, root) or site_machinery(path, root):
        return False
    if not include or path.is_dir() or not readable(path):
        return True
    return _matches(include, path.relative_to(root).as_posix(), path.name)


def _matches(patterns: Sequence[str], relative: str, name: str, hit: set[str] | None = None,
             is_dir: bool = False) -> bool:
    """Whether a pattern matches a file's or folder's path `relative` or its `name`; those that do are added to `hit`.
    A pattern ending in `/` matches a folder alone, as in `.gitignore`: `*_files/` matched nothing, its slash compared
    with a name that has none."""
    found = [p for p in patterns if (is_dir or not p.endswith("/")) and (_glob(p)(relative) or _glob(p)(name))]
    if hit is not None:
        hit.update(found)
    return bool(found)


@cache
def _glob(pattern: str) -> Callable[[str], re.Match[str] | None]:
    """`pattern` (without a folder's trailing `/`) as a test of a whole name, in any case: a file's type is its
    extension in any case (the walk takes `README.MD` as Markdown), and a name from Windows or a FAT stick is often in
    capitals, so `*.txt` left out `MEETIN~1.TXT` and `--exclude '*.csv'` indexed `BUDGET.CSV`."""
    return re.compile(translate(pattern.rstrip("/") or pattern), re.IGNORECASE).match


def _wanted(path: Path, relative: str, include: Sequence[str], exclude: Sequence[str], hit: set[str],
            took: set[str] | None = None) -> bool:
    return readable(path) and _patterns_take(path.name, relative, include, exclude, hit,
                                                                         took)


def _patterns_take(name: str, relative: str, include: Sequence[str], exclude: Sequence[str],
                   hit: set[str] | None = None, took: set[str] | None = None) -> bool:
    """Whether `include` takes the file (any file, with none) and `exclude` leaves it in; the `exclude` patterns
    that match are added to `hit`, the `include` ones to `took`."""
    if include and not _matches(include, relative, name, took):
        return False
    return not _matches(exclude, relative, name, hit)


def _walk(
    root: Path,
    include: Sequence[str],
    exclude: Sequence[str],
    problems: list[tuple[str, str]],
    follow_links_outside: bool,
    passed_over: list[Path],
    links_out: list[tuple[str, str]],
    hit: set[str],
    ignores: Ignores,
    gitignored: list[Path],
    took: set[str],
    untyped: Counter[str],
    built: list[Path],
) -> Iterator[Path]:
    """Absolute paths to ingest under `root`: real paths, or a link's own path when it leaves the root. Files of
    types localrag does not read that the patterns would take are added to `passed_over`; the
    `exclude` patterns that left something out are added to `hit`, the `include` ones that took a file in to `took`
    (and those that matched a file of a type not read are counted in `untyped`);
    what `ignores` leaves out goes to `gitignored` (a folder whole, not walked: a `target/` or `build/` can hold more
    files than the code); an application's or the system's own folder (`app_folder`) is named in `links_out`; a built
    documentation site's machinery and minified code (`site_machinery`) go to `built`, a folder whole."""
    def unreadable(exc: OSError) -> None:
        problems.append((str(exc.filename or root), cannot("list the folder", exc)))

    own = paths_.own_folders()
    sites: dict[Path, str] = {}  # the built sites met so far (`_site_kind`), by their top folder
    for folder, dirnames, filenames in os.walk(root, onerror=unreadable):
        here = Path(folder)
        base = here.relative_to(root).as_posix()
        prefix = "" if base == "." else f"{base}/"
        dirnames[:] = [
            d
            for d in dirnames
            if d not in SKIP_DIRS and not d.startswith(".") and not _matches(exclude, prefix + d, d, hit, True)
            and here / d not in own and not _said(here / d, links_out)
        ]
        dirnames[:] = [d for d in dirnames if not _ignored(here / d, True, ignores, gitignored)]
        site = next(((top, kind) for top, kind in sites.items() if here.is_relative_to(top)), None)
        if site is None and (kind := _site_kind(here)):
            sites[here] = kind
            site = here, kind
        if site is not None:
            parts = {d: _site_part(site[1], d, True, here == site[0]) for d in dirnames}
            built += [here / d for d in dirnames if parts[d]]
            dirnames[:] = [d for d in dirnames if not parts[d]]
        for filename in filenames:
            path = here / filename
            if filename.startswith(".") or leftover(filename) or system_file(filename) or deletion_record(path):
                continue
            if _ignored(path, False, ignores, []):
                # Only a file localrag would have read is worth a word: a `*.pyc` or `*.o` was never taken.
                if _wanted(path, prefix + filename, include, exclude, hit, took):
                    gitignored.append(path)
                continue
            if not _wanted(path, prefix + filename, include, exclude, hit, took):
                matched: set[str] = set()
                if not readable(path) and _patterns_take(filename, prefix + filename, include, exclude, None,
                                                         matched):
                    passed_over.append(path)
                    untyped.update(matched)
                continue
            if filename.lower().endswith(_MINIFIED) or (site is not None and _site_part(site[1], filename, False,
                                                                                         here == site[0])):
                built.append(path)
                continue
            try:
                if not path.is_file():
                    # Passed over in silence, the folder's ingest said "0 failed" and no more; a link to a FIFO or a
                    # device is passed over as those files are.
                    why = leads_nowhere(path) if path.is_symlink() else ""
                    if why:
                        links_out.append((str(path), why))
                    continue
                if not path.is_symlink():
                    yield path
                    continue
                target = path.resolve()
            except OSError as exc:  # a path past the OS length limit, a link loop
                problems.append((str(path), f"cannot be read ({exc.strerror or exc})"))
                continue
            if target.is_relative_to(root):
                # The walk takes the target itself if its own place passes the rules (a link must not carry a
                # hidden, excluded or node_modules file, or an unsupported type, past them).
                continue
            if follow_links_outside:
                yield path
            else:
                links_out.append((str(path), link_outside(target, root)))


def _said(folder: Path, links_out: list[tuple[str, str]]) -> bool:
    """Whether `folder` is an application's or the system's own (`app_folder`); if so it is named in `links_out`, as a
    link not followed is: a recycle bin's deleted files left out without a word would be missed."""
    what = app_folder(folder)
    if what:
        links_out.append((str(folder), f"{what}, left out"))
    return bool(what)


def _ignored(path: Path, is_dir: bool, ignores: Ignores, gitignored: list[Path]) -> bool:
    """Whether `ignores` leaves out `path`; a folder left out is added to `gitignored`."""
    if not ignores.ignores(path, is_dir):
        return False
    if is_dir:
        gitignored.append(path)
    return True


def discover(
    paths: Sequence[Path],
    include: Sequence[str] = (),
    exclude: Sequence[str] = (),
    problems: list[tuple[str, str]] | None = None,
    follow_links_outside: bool = False,
    own_roots: bool = False,
    passed_over: list[Path] | None = None,
    links_out: list[tuple[str, str]] | None = None,
    unmatched: list[str] | None = None,
    respect_gitignore: bool = True,
    gitignored: list[Path] | None = None,
    unmatched_include: list[str] | None = None,
    include_untyped: Counter[str] | None = None,
    built: list[Path] | None = None,
) -> Iterator[Path]:
    """Supported files under `paths` (files or folders), absolute, sorted and de-duplicated.

    Every path is checked before anything is yielded: one that does not exist raises LoaderError.
    Folders and files that could not be read are appended to `problems` as (path, reason). `own_roots`: a path
    inside localrag's own folders is localrag's own corpus (an eval run's) and walked, not skipped. Files of types
    localrag does not read, met in a folder, are added to `passed_over` (a folder of LaTeX and
    org files ingested as "0 added, 0 failed" and said no more). `unmatched`: the `exclude` patterns that left out
    nothing in the folders walked (a mistyped one changed nothing, without a word); a leftover named (a shell's
    `docs/*` names `~$plan.docx`), a `desktop.ini`, a recycle bin's record of a deleted file and `System Volume
    Information` (a drive's `*` names them) go to `links_out`: skipped and said, not failed; so does a file named of
    a type localrag does not read (a folder's are passed over, and the exit status stays 0 for them too), and an
    application's or the system's own folder met in a walk (a recycle bin, a saved page's `_files`).
    `unmatched_include`: the `include` patterns that took in no file in the folders walked (`--include '*.txt'` read
    one file of four, in silence, before patterns matched in any case); `include_untyped`: how many files of types
    localrag does not read each `include` pattern matched (`--include '*.gz'` took in nothing, and said no more).
    `built`: the folders and files of a built documentation site that are not its pages, and minified scripts and
    styles (`site_machinery`), left out of a walk; a file named is read.
    `respect_gitignore`: what a `.gitignore` names in a folder walked is left out, and listed in `gitignored` (a
    file named is still taken).
    """
    problems = [] if problems is None else problems
    roots = []
    for given in paths:
        path = paths_.typed_path(given)
        if not path.exists():
            if path.is_symlink():
                raise LoaderError(f"{path}: a link that leads nowhere (its target is missing, or links loop)",
                                  "point it at a file, or give the file itself")
            raise LoaderError(f"{path}: no such file or folder", "check the path")
        roots.append(_named_path(path))
    found: set[Path] = set()
    own = paths_.own_folders()
    walked, matched, took = False, set[str](), set[str]()
    for root in roots:
        if not own_roots and any(root.is_relative_to(folder) for folder in own):
            problems.append((str(root), "inside localrag's own folders (its index, settings, cache or models)"))
            continue
        unwanted = _not_content(root)
        if unwanted:
            # Skipped and said, not failed: a shell's `*` at a drive's root names these beside the user's files.
            (problems if links_out is None else links_out).append((str(root), unwanted))
        elif root.is_dir():
            patterns, hit = for_root(exclude, root), set[str]()
            takers, taken, untyped = for_root(include, root), set[str](), Counter[str]()
            found.update(_walk(root, takers, patterns, problems, follow_links_outside,
                               [] if passed_over is None else passed_over,
                               problems if links_out is None else links_out, hit,
                               Ignores(root, respect_gitignore), [] if gitignored is None else gitignored, taken,
                               untyped, [] if built is None else built))
            if include_untyped is not None:
                include_untyped.update({given: untyped[pattern] for given, pattern in zip(include, takers, strict=True)
                                        if untyped[pattern]})
            walked = True
            matched.update(given for given, pattern in zip(exclude, patterns, strict=True) if pattern in hit)
            took.update(given for given, pattern in zip(include, takers, strict=True) if pattern in taken)
        elif _wanted(root, root.name, include, exclude, set()):
            found.add(root)
        elif not readable(root):
            # Named, not met in a folder: the user asked for it, so it is not passed over in silence. Skipped, not
            # failed, as a folder's are: a failure is a file of a type localrag reads that it could not read, so a
            # shell's `docs/*` naming a Makefile does not make the exit status say a document is broken.
            (problems if links_out is None else links_out).append((str(root), _not_read(root)))
    if unmatched is not None and walked:
        unmatched.extend(pattern for pattern in exclude if pattern not in matched)
    if unmatched_include is not None and walked:
        unmatched_include.extend(pattern for pattern in include if pattern not in took)
    return iter(sorted(found))


def _not_content(path: Path) -> str:
    """Why `path`, named, is never content, else "": `System Volume Information` or a file in it, a file Windows writes
    into a folder (`desktop.ini`), a recycle bin's record of a deleted file, an editor's or a download's leftover. A
    recycle bin or a saved page's folder named is read: its user may be recovering a deleted file."""
    if in_system_volume(path):
        return f"{SYSTEM_FOLDERS[SYSTEM_VOLUME]}, never read"
    if path.is_dir():
        return ""
    if system_file(path.name):
        return "a file Windows writes into a folder it shows (its view settings or thumbnails), not a document"
    if deletion_record(path):
        return "the recycle bin's record of a deleted file (its size, time and place), not a document"
    if leftover(path.name):
        return "an editor's, office suite's or download's leftover, not a document"
    return ""


def link_outside(target: Path, root: Path) -> str:
    """Why a link in a walked folder is not followed (ingest's note, and watch's when one is made)."""
    return f"a link to {target}, outside {root} (set follow_links_outside = true to index it under the link's path)"


def cannot(what: str, exc: OSError) -> str:
    """Why an ingest or a watch could not `what` ("read", "list the folder") a file or folder, with the fix, as one
    message says it wherever it is met: "cannot read (Permission denied)" said no more, where a FIFO's failure
    named its fix."""
    if exc.errno in (errno.EACCES, errno.EPERM):
        fix = "make it readable to this user, or exclude it"
    else:
        fix = "check the drive it is on, or exclude it"  # EIO, a network share gone: the next ingest tries again
    return f"cannot {what} ({exc.strerror or exc}) ({fix})"


def _not_read(path: Path) -> str:
    """Why a file named on the command line is no file localrag reads."""
    if not path.is_file():
        return "not a regular file (a FIFO, socket or device)"
    if path.name == ".env" or path.name.startswith(".env."):
        # No advice to rename it: what it holds is a project's passwords and keys, which an index would quote.
        return "an environment file, which usually holds secrets (passwords, keys): left out, not read"
    if not path.suffix:
        # A Dockerfile or a Makefile, as a folder's are passed over: renamed, docker or make would not find it.
        return "no file extension, so no file type localrag reads (README, \"What it reads\", lists them)"
    return f"{path.suffix} is no file type localrag reads (README, \"What it reads\", lists them{as_text([path])})"


# Plain-text formats localrag has no reader of its own for: named .txt, each is read as text. RIS reference lists are
# `KEY  - value` lines, read so. (Calendars and contact cards have a reader, `cards`: named .txt, a calendar was titled
# `BEGIN:VCALENDAR` and quoted as one blob.)
TEXT_TYPES = frozenset({".nfo", ".ris", ".me", ".1st"})
# Markup read as text when named .txt, but with its markup in the text: a .tex file named .txt was titled
# `\documentclass{article}` and answered with `\textbf{...}` and `\cite{...}`. Converted first, it reads as its words:
# the command that converts each (`{name}` the file's name, `{out}` the .txt to write). No LaTeX reader is written
# here: a converter reads LaTeX's macros as no pattern would.
_CONVERT: dict[str, str] = {
    ".tex": "pandoc -t plain {name} -o {out}",
    ".textile": "pandoc -t plain {name} -o {out}",
    ".wiki": "pandoc -f mediawiki -t plain {name} -o {out}",
    ".mediawiki": "pandoc -f mediawiki -t plain {name} -o {out}",
    ".pod": "pod2text {name} {out}",
    "man": "man -l {name} > {out}",
}
# Markup without a command here that is known to convert it, and the advice in its place. A .bib's was `pandoc
# /dev/null --citeproc --bibliography refs.bib -M nocite='[@*]' -t plain -o refs.txt`, which writes an empty
# bibliography (pandoc reads a -M value as a plain string, not as Markdown's citation: pandoc issue #10858).
_CONVERT_BY_HAND: dict[str, str] = {
    ".bib": "{name}: export it as plain text from your reference manager, as {out}",
}
_MAN_SUFFIXES = frozenset({".man", *(f".{section}" for section in range(1, 10))})
# How a man page's source opens: a comment, its title line, or mdoc's date.
_ROFF_START = re.compile(rb"\s*(?:\.\\\"|'\\\"|\.TH\b|\.Dd\b)")


def _markup(path: Path) -> str:
    """The `_CONVERT` key of a file of markup that is read as text when named .txt, else "". A man page's own
    suffix (.1 ... .9) is a rotated log's too (`syslog.1`): taken only where its source opens as roff's does."""
    suffix = path.suffix.lower()
    if suffix in _CONVERT or suffix in _CONVERT_BY_HAND:
        return suffix
    if suffix in _MAN_SUFFIXES:
        try:
            with path.open("rb") as file:
                return "man" if _ROFF_START.match(file.read(256)) else ""
        except OSError:
            return ""
    return ""


def as_text(paths: Sequence[Path]) -> str:
    """The advice for `paths` of plain-text types localrag has no reader for (`TEXT_TYPES`), to rename them, and of
    markup (`_CONVERT`), to convert them first, each type named in the order of its first file; else "": a Makefile
    or a LICENSE is no document, and an .mp3 or a .zip no text at all. Folded into a note's parentheses, after what
    it says there. Before 2026-12-07 only the first file's type was advised: a .bib and a .tex had the .bib's
    command alone."""
    markups: dict[str, Path] = {}  # each kind of markup, by the first of its files by name
    plain: list[str] = []
    for path in paths:
        markup = _markup(path)
        if markup:
            # The command names a file by name: a folder's walk lists them in the disk's order.
            if markup not in markups or path.name < markups[markup].name:
                markups[markup] = path
        elif path.suffix.lower() in TEXT_TYPES and path.suffix.lower() not in plain:
            plain.append(path.suffix.lower())
    advice = ""
    if markups:
        kinds = ["a man page" if markup == "man" else f"a {markup} file" for markup in markups]
        commands = ", ".join(
            f"`{_CONVERT[markup].format(name=shlex.quote(path.name), out=shlex.quote(f'{path.stem}.txt'))}`"
            if markup in _CONVERT else _CONVERT_BY_HAND[markup].format(name=path.name, out=f"{path.stem}.txt")
            for markup, path in markups.items())
        each, that = ("it", "that") if len(markups) == 1 else ("each", "those")
        advice += (f"; {_either(kinds)} named .txt is read with its markup in the text: convert {each} to plain text "
                   f"first ({commands}) and ingest {that}")
    if plain:
        advice += f"; a plain-text file of another type, such as {_either(plain)}, is read when named .txt"
    return advice


def _either(words: list[str]) -> str:
    """`words` as "a, b or c"."""
    return f"{', '.join(words[:-1])} or {words[-1]}" if len(words) > 1 else words[0]


def walk_takes(path: Path, root: Path, follow_links_outside: bool = False) -> bool:
    """Whether a walk of the folder `root` takes the file or folder at `path` under that path (`watch` asks it of
    each change, which its watcher reports through links the walk does not follow): no folder link on the way,
    not localrag's own, and a file link only when it leaves `root` and `follow_links_outside` allows it."""
    try:
        if path.parent.resolve() != path.parent or any(path.is_relative_to(f) for f in paths_.own_folders()):
            return False
        if not path.is_symlink():
            return True
    except (OSError, RuntimeError):  # a link loop on the way
        return False
    return follow_links_outside and leads_out(path, root) is not None


def leads_nowhere(link: Path) -> str:
    """Why the link `link` leads to no file, its target missing or the links looping; "" when its target exists."""
    try:
        os.stat(link)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            return "a link loop (it leads back to a link, never to a file)"
        try:
            target = os.readlink(link)
        except OSError:
            return "a link leading nowhere (its target is missing)"
        return f"a link leading nowhere (its target {target} is missing)"
    return ""


def leads_out(path: Path, root: Path) -> Path | None:
    """The target of the file link `path` when it lies outside `root`; None for anything else (a link loop too)."""
    try:
        if not path.is_symlink():
            return None
        target = path.resolve()
    except (OSError, RuntimeError):  # a link loop
        return None
    return target if target.is_file() and not target.is_relative_to(root) else None


def _named_path(path: Path) -> Path:
    """The absolute path a named file is indexed under: a link to a file keeps its own name (in its
    real folder), so deleting the link or `forget LINK` removes it, as for a link found in a folder;
    a folder (linked or not) and anything else are resolved."""
    if path.is_symlink() and path.is_file():
        return path.absolute().parent.resolve() / path.name
    return path.resolve()


def sample_corpus_dir() -> Path:
    """The folder of the small sample corpus shipped inside the package."""
    folder = Path(str(resources.files("localrag").joinpath("sample_corpus")))
    if not folder.is_dir():
        raise LoaderError(f"{folder}: the bundled sample corpus is missing", "reinstall localrag")
    return folder
