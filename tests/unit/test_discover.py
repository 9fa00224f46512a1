"""discover(): recursion, order, de-duplication, skipped folders, include/exclude globs."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from localrag.errors import LoaderError
from localrag.ingest.discover import SKIP_DIRS, discover, sample_corpus_dir


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    files = [
        "a.md", "b.txt", "sound.wav", "README", ".hidden.md", "~$draft.docx",
        "docs/guide.pdf", "docs/deep/notes.md", "docs/deep/script.py",
        "drafts/wip.md", ".git/config.txt", "node_modules/pkg/readme.md", ".obsidian/cache.md",
        "__pycache__/x.txt", "src/.venv/lib.py",
    ]
    for name in files:
        path = tmp_path / "root" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("x", encoding="utf-8")
    return tmp_path / "root"


def names(paths: list[Path], root: Path) -> list[str]:
    return [p.relative_to(root).as_posix() for p in paths]


def test_walks_recursively_sorted_and_skips(tree: Path) -> None:
    found = list(discover([tree]))
    assert all(p.is_absolute() for p in found)
    assert names(found, tree) == [
        "a.md", "b.txt", "docs/deep/notes.md", "docs/deep/script.py", "docs/guide.pdf", "drafts/wip.md",
    ]
    assert {".git", "node_modules", "__pycache__", ".venv"} <= SKIP_DIRS


def test_files_of_types_it_does_not_read_are_listed_as_passed_over(tree: Path) -> None:
    # A folder of them ingested as "0 added, 0 failed" and said no more. Hidden ones, those in skipped folders and
    # those the patterns leave out are not listed.
    passed_over: list[Path] = []
    list(discover([tree], passed_over=passed_over))
    assert sorted(names(passed_over, tree)) == ["README", "sound.wav"]
    passed_over.clear()
    list(discover([tree], exclude=["*.wav"], passed_over=passed_over))
    assert names(passed_over, tree) == ["README"]


def test_deduplicates_overlapping_paths(tree: Path) -> None:
    found = list(discover([tree / "docs", tree, tree / "a.md", tree / "docs" / ".." / "a.md"]))
    assert len(found) == len(set(found)) == 6


def test_include_patterns_match_name_or_relative_path(tree: Path) -> None:
    assert names(list(discover([tree], include=["*.md"])), tree) == ["a.md", "docs/deep/notes.md", "drafts/wip.md"]
    assert names(list(discover([tree], include=["docs/*"])), tree) == [
        "docs/deep/notes.md", "docs/deep/script.py", "docs/guide.pdf",
    ]


def test_exclude_patterns_prune_files_and_folders(tree: Path) -> None:
    assert names(list(discover([tree], exclude=["drafts", "*.py"])), tree) == [
        "a.md", "b.txt", "docs/deep/notes.md", "docs/guide.pdf",
    ]
    assert names(list(discover([tree], include=["*.md"], exclude=["docs/deep/*"])), tree) == ["a.md", "drafts/wip.md"]


def test_explicit_files(tree: Path) -> None:
    assert list(discover([tree / "docs" / "guide.pdf"])) == [(tree / "docs" / "guide.pdf").resolve()]
    assert list(discover([tree / ".hidden.md"])) == [(tree / ".hidden.md").resolve()]
    assert list(discover([tree / "sound.wav"])) == []
    assert list(discover([tree / "a.md"], exclude=["*.md"])) == []


def test_given_root_inside_hidden_or_skipped_folder_is_walked(tree: Path) -> None:
    assert names(list(discover([tree / ".obsidian"])), tree) == [".obsidian/cache.md"]


def test_missing_path_raises_before_yielding(tree: Path) -> None:
    with pytest.raises(LoaderError, match=r"no-such-folder.*no such file or folder"):
        discover([tree, tree / "no-such-folder"])


def test_symlinked_folders_are_not_followed(tree: Path) -> None:
    (tree / "docs" / "loop").symlink_to(tree, target_is_directory=True)
    found = list(discover([tree]))
    assert len(found) == 6


def test_sample_corpus_dir() -> None:
    folder = sample_corpus_dir()
    assert folder.is_dir() and (folder / "SOURCE.md").is_file()
    suffixes = {p.suffix for p in discover([folder])}
    assert {".md", ".pdf", ".html", ".txt", ".docx"} <= suffixes


def test_symlinked_files_leaving_the_folder_are_skipped(tmp_path: Path) -> None:
    inside, outside = tmp_path / "in", tmp_path / "out"
    inside.mkdir()
    outside.mkdir()
    (outside / "secret.txt").write_text("outside")
    (inside / "real.txt").write_text("inside")
    (inside / "out-link.txt").symlink_to(outside / "secret.txt")
    (inside / "in-link.txt").symlink_to(inside / "real.txt")
    problems: list[tuple[str, str]] = []
    assert list(discover([inside], problems=problems)) == [(inside / "real.txt").resolve()]
    [(where, why)] = problems
    assert where == str(inside.resolve() / "out-link.txt") and "outside" in why and "follow_links_outside" in why
    problems, links_out = [], []
    assert list(discover([inside], problems=problems, links_out=links_out)) == [(inside / "real.txt").resolve()]
    assert problems == [] and [where for where, _ in links_out] == [str(inside.resolve() / "out-link.txt")]


def test_links_leaving_the_folder_are_taken_under_the_links_path_when_asked(tmp_path: Path) -> None:
    inside, outside = (tmp_path / "in").resolve(), (tmp_path / "out").resolve()
    (inside / "sub").mkdir(parents=True)
    outside.mkdir()
    (outside / "secret.txt").write_text("outside")
    (inside / "real.txt").write_text("inside")
    (inside / "sub" / "out-link.txt").symlink_to(outside / "secret.txt")
    (inside / "in-link.txt").symlink_to(inside / "real.txt")
    problems: list[tuple[str, str]] = []
    found = list(discover([inside], problems=problems, follow_links_outside=True))
    assert found == [inside / "real.txt", inside / "sub" / "out-link.txt"] and problems == []


def test_paths_past_the_os_limit_are_named(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "ok.txt").write_text("fine")
    (tmp_path / "long.txt").write_text("x")
    real_is_file = Path.is_file

    def is_file(self: Path, *args: object, **kwargs: object) -> bool:
        # Building a path past PATH_MAX needs a deep tree; the OS's answer to one is this error.
        if self.name == "long.txt":
            raise OSError(36, "File name too long", str(self))
        return real_is_file(self)

    monkeypatch.setattr(Path, "is_file", is_file)
    problems: list[tuple[str, str]] = []
    assert list(discover([tmp_path], problems=problems)) == [(tmp_path / "ok.txt").resolve()]
    assert problems == [(str(tmp_path.resolve() / "long.txt"), "cannot be read (File name too long)")]


def test_unreadable_folders_are_named(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "ok.txt").write_text("fine")
    locked = tmp_path / "locked"
    locked.mkdir()
    (locked / "hidden-from-us.txt").write_text("x")
    locked.chmod(0)
    real_scandir = os.scandir

    def scandir(path: object) -> object:
        # Tests run as root here, which reads any folder: refuse this one the way the OS refuses a user.
        if Path(str(path)) == locked:
            raise PermissionError(13, "Permission denied", str(path))
        return real_scandir(path)  # type: ignore[arg-type]

    monkeypatch.setattr(os, "scandir", scandir)
    problems: list[tuple[str, str]] = []
    try:
        found = list(discover([tmp_path], problems=problems))
    finally:
        locked.chmod(0o755)
    assert found == [(tmp_path / "ok.txt").resolve()]
    assert problems == [(str(locked), "cannot list the folder (Permission denied) (make it readable to this user, or "
                                      "exclude it)")]


def test_localrag_own_folders_are_left_out_wherever_its_home_is(localrag_home: Path, tmp_path: Path) -> None:
    # LOCALRAG_HOME inside the folder ingested: its saved conversations, tables' version files and model cards
    # are localrag's own, not the user's documents.
    (localrag_home / "data" / "conversations").mkdir(parents=True)
    (localrag_home / "data" / "conversations" / "20261205-000000-aaaaaa.json").write_text("{}")
    (localrag_home / "data" / "lancedb" / "chunks.lance" / "_versions").mkdir(parents=True)
    (localrag_home / "data" / "lancedb" / "chunks.lance" / "_versions" / "latest_version_hint.json").write_text("{}")
    (localrag_home / "models").mkdir()
    (localrag_home / "models" / "mydocs.md").write_text("# mydocs")
    (localrag_home / "config").mkdir()
    (localrag_home / "config" / "watched.json").write_text("{}")
    (localrag_home / "notes.md").write_text("# a note kept beside localrag's folders")
    (tmp_path / "letter.txt").write_text("Dear Ada,")
    assert [p.relative_to(tmp_path).as_posix() for p in discover([tmp_path])] == [
        "letter.txt", "localrag-home/notes.md"]
    # Started inside one of them (`cd $LOCALRAG_HOME/data && localrag ingest .`), nothing is taken, and it says so.
    problems: list[tuple[str, str]] = []
    assert list(discover([localrag_home / "data"], problems=problems)) == []
    assert problems == [(str(localrag_home / "data"), "inside localrag's own folders (its index, settings, cache or "
                                                       "models)")]


def test_a_link_inside_the_folder_carries_nothing_past_the_rules(tree: Path) -> None:
    """A link whose target the walk would leave out (hidden, excluded, node_modules, another type) adds nothing;
    one whose target the walk takes adds nothing either: the target is taken once, under its own path."""
    (tree / "private").mkdir()
    (tree / "private" / "plan.md").write_text("x")
    (tree / "blob.dat").write_text("x")
    for link, target in (("shortcut.md", ".obsidian/cache.md"), ("plan-link.md", "private/plan.md"),
                         ("vendored.md", "node_modules/pkg/readme.md"), ("blob.txt", "blob.dat"),
                         ("a-link.md", "a.md")):
        (tree / link).symlink_to(tree / target)
    problems: list[tuple[str, str]] = []
    found = names(list(discover([tree], exclude=["private/*"], problems=problems)), tree.resolve())
    assert found == ["a.md", "b.txt", "docs/deep/notes.md", "docs/deep/script.py", "docs/guide.pdf",
                     "drafts/wip.md"] and problems == []


def test_a_named_link_that_loops_or_leads_nowhere_is_one_clear_error(tmp_path: Path) -> None:
    (tmp_path / "a.txt").symlink_to(tmp_path / "b.txt")
    (tmp_path / "b.txt").symlink_to(tmp_path / "a.txt")
    (tmp_path / "dangling.txt").symlink_to(tmp_path / "gone.txt")
    for name in ("a.txt", "dangling.txt"):
        with pytest.raises(LoaderError, match=rf"{name}: a link that leads nowhere .*\(point it at a file"):
            discover([tmp_path / name])


def test_links_in_a_folder_that_loop_or_lead_nowhere_are_named(tmp_path: Path) -> None:
    # They were passed over in silence: `ingest bad` said "1 added ... 0 failed" and nothing of them.
    folder = tmp_path.resolve()
    (folder / "ok.md").write_text("# Fine\n")
    (folder / "dangling.md").symlink_to("/nonexistent/x.md")
    (folder / "loop1.md").symlink_to("loop2.md")
    (folder / "loop2.md").symlink_to("loop1.md")
    problems: list[tuple[str, str]] = []
    links_out: list[tuple[str, str]] = []
    assert list(discover([folder], problems=problems, links_out=links_out)) == [folder / "ok.md"]
    assert problems == [] and sorted(links_out) == [
        (str(folder / "dangling.md"), "a link leading nowhere (its target /nonexistent/x.md is missing)"),
        (str(folder / "loop1.md"), "a link loop (it leads back to a link, never to a file)"),
        (str(folder / "loop2.md"), "a link loop (it leads back to a link, never to a file)"),
    ]


def _files(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text, encoding="utf-8")
    return root


def test_what_gitignore_names_is_left_out_as_git_leaves_it_out(tmp_path: Path) -> None:
    # A repo's build/ and dist/ were indexed (dist/app.min.js: 619 chunks) and crowded out its code in search.
    repo = _files(tmp_path / "repo", {
        ".git/HEAD": "ref: refs/heads/main\n", ".gitignore": "build/\ndist\n*.gen.md\n# a comment\n",
        "src/app.py": "x", "build/gen.py": "x", "dist/app.min.js": "x", "notes.gen.md": "x", "local.md": "x",
        "sub/.gitignore": "!keep.gen.md\nlocal.md\n", "sub/keep.gen.md": "x", "sub/x.gen.md": "x",
        "sub/local.md": "x", "app.pyc": "never read",
    })
    gitignored: list[Path] = []
    assert names(list(discover([repo], gitignored=gitignored)), repo) == [
        "local.md", "src/app.py", "sub/keep.gen.md"]
    # What was left out, at its highest level: a folder whole, and only files of a type localrag reads.
    assert sorted(names(gitignored, repo)) == ["build", "dist", "notes.gen.md", "sub/local.md", "sub/x.gen.md"]
    # All but the minified dist/app.min.js, which no walk takes (`site_machinery`).
    assert len(list(discover([repo], respect_gitignore=False))) == 7
    # A file named is taken (the user asked for it), as a hidden one is.
    assert list(discover([repo / "dist" / "app.min.js"])) == [repo / "dist" / "app.min.js"]


def test_a_gitignore_above_the_folder_applies_up_to_the_repository_top(tmp_path: Path) -> None:
    repo = _files(tmp_path / "repo", {".git/HEAD": "x", ".gitignore": "generated/\n", "docs/a.md": "x",
                                      "docs/generated/b.md": "x"})
    gitignored: list[Path] = []
    assert names(list(discover([repo / "docs"], gitignored=gitignored)), repo) == ["docs/a.md"]
    assert gitignored == [repo / "docs" / "generated"]
    # Outside a repository only the folder's own and those below it are read: the one above is no rule of it.
    plain = _files(tmp_path / "plain", {".gitignore": "generated/\n", "docs/a.md": "x", "docs/generated/b.md": "x"})
    assert names(list(discover([plain / "docs"])), plain) == ["docs/a.md", "docs/generated/b.md"]
    assert names(list(discover([plain])), plain) == ["docs/a.md"]


def test_a_folder_given_that_a_rule_above_names_is_read_and_a_bad_line_is_passed_over(tmp_path: Path) -> None:
    # `localrag ingest repo/build` read nothing ("0 added"): the user named it, as a file named is read.
    repo = _files(tmp_path / "repo", {".git/HEAD": "x", ".gitignore": "build/\n", "build/notes.md": "x",
                                      "build/out/o.md": "x"})
    assert names(list(discover([repo / "build"])), repo) == ["build/notes.md", "build/out/o.md"]
    # A Windows user's `bin\` (and a lone `!`) stopped every ingest with a pattern error; git passes them over.
    folder = _files(tmp_path / "win", {"sub/.gitignore": "bin\\\n!\nobj/\n", "a.md": "x", "sub/obj/b.md": "x",
                                       "sub/c.md": "x"})
    assert names(list(discover([folder])), folder) == ["a.md", "sub/c.md"]


def test_a_folder_named_by_a_rule_above_keeps_the_other_rules_and_a_localragignore_applies_from_above(
        tmp_path: Path) -> None:
    # The retest: `ingest repo/build` dropped every rule above it (its *.log and a .localragignore's *.secret.md
    # were read), and a notes folder's .localragignore did not apply to a sub-folder ingested alone.
    repo = _files(tmp_path / "repo", {".git/HEAD": "x", ".gitignore": "build/\n*.log\n",
                                      ".localragignore": "*.secret.md\n", "build/notes.md": "x",
                                      "build/debug.log": "x", "build/b.secret.md": "x"})
    assert names(list(discover([repo / "build"])), repo) == ["build/notes.md"]
    notes = _files(tmp_path / "notes", {".localragignore": "*.tmp.md\n", "sub/a.tmp.md": "x", "sub/b.md": "x"})
    assert names(list(discover([notes / "sub"])), notes) == ["sub/b.md"]


def _made(root: Path, names_: list[str]) -> Path:
    return _files(root, dict.fromkeys(names_, "x"))


def test_windows_own_folders_and_files_on_a_drive_are_left_out_and_named(tmp_path: Path) -> None:
    # A stick a Windows machine wrote to: its recycle bin's copy of a deleted file ($R…) was cited as a source, the
    # binary record beside it ($I…) failed every ingest, and desktop.ini was read as code:ini.
    drive = _made(tmp_path / "USBSTICK", [
        "$RECYCLE.BIN/S-1-5-21-1/$R7QK2ZD.txt", "$RECYCLE.BIN/S-1-5-21-1/$I7QK2ZD.txt",
        "$RECYCLE.BIN/S-1-5-21-1/desktop.ini", "System Volume Information/IndexerVolumeGuid.txt",
        "RECYCLER/S-1-5-21-2/Dc1.txt", "old/$Recycle.Bin/x.md", "Photos/desktop.ini", "Photos/Thumbs.db",
        "Photos/Desktop.INI", "Recycled/ideas.md", "notes.txt"])
    noted: list[tuple[str, str]] = []
    passed: list[Path] = []
    assert names(list(discover([drive], links_out=noted, passed_over=passed)), drive) == [
        "Recycled/ideas.md", "notes.txt"]  # a folder of the user's called "Recycled" is read
    assert passed == []  # Thumbs.db is no type passed over: Windows', not the user's
    bin_ = "Windows' recycle bin (deleted files, and a binary record of each), left out"
    assert sorted(noted) == [
        (str(drive / "$RECYCLE.BIN"), bin_), (str(drive / "RECYCLER"), bin_),
        (str(drive / "System Volume Information"),
         "Windows' own folder (restore points, the search indexer's files), left out"),
        (str(drive / "old" / "$Recycle.Bin"), bin_)]


def test_a_saved_pages_resources_folder_is_left_out_only_beside_its_page(tmp_path: Path) -> None:
    root = _made(tmp_path / "web", [
        "Cheap flights.html", "Cheap flights_files/startup.js", "Cheap flights_files/saved_resource.html",
        "Wetter.htm", "Wetter-Dateien/style.css", "Wetter-Dateien/load.php.html",
        "project_files/plan.md", "Notes_archivos/notes.md"])
    noted: list[tuple[str, str]] = []
    found = names(list(discover([root], links_out=noted)), root)
    # A folder named as a page's resources but with no such page beside it is the user's.
    assert found == ["Cheap flights.html", "Notes_archivos/notes.md", "Wetter.htm", "project_files/plan.md"]
    assert sorted(noted) == [
        (str(root / "Cheap flights_files"), "what a browser saved with the page Cheap flights.html (its scripts, "
                                            "styles, images and ads' frames), left out"),
        (str(root / "Wetter-Dateien"), "what a browser saved with the page Wetter.htm (its scripts, styles, images "
                                       "and ads' frames), left out")]


def test_patterns_match_names_in_any_case_and_an_include_that_takes_nothing_is_named(tmp_path: Path) -> None:
    root = _made(tmp_path / "stick", ["MEETIN~1.TXT", "README.MD", "BUDGET.CSV", "notes.txt"])
    unmatched: list[str] = []
    # BUDGET.CSV was indexed, and the note said the pattern left out nothing.
    assert names(list(discover([root], exclude=["*.csv"], unmatched=unmatched)), root) == [
        "MEETIN~1.TXT", "README.MD", "notes.txt"]
    assert unmatched == []
    # Only notes.txt was taken: `*.txt` did not match MEETIN~1.TXT, though the walk reads it as text.
    assert names(list(discover([root], include=["*.txt", "*.md"])), root) == ["MEETIN~1.TXT", "README.MD", "notes.txt"]
    unused: list[str] = []
    assert len(list(discover([root], include=["*.txt", "*.rst"], unmatched_include=unused))) == 2
    assert unused == ["*.rst"]


def test_a_pattern_ending_in_a_slash_names_folders_as_in_gitignore(tmp_path: Path) -> None:
    root = _made(tmp_path / "r", ["Page_files/a.md", "Page_old/b.md", "keep/c.md", "top.md", "x_files"])
    for pattern, left in (("*_files/", ["Page_old/b.md", "keep/c.md", "top.md"]),
                          ("Page_*/", ["keep/c.md", "top.md"]), ("*/", ["top.md"]),
                          ("Page_files/", ["Page_old/b.md", "keep/c.md", "top.md"])):
        unmatched: list[str] = []
        assert names(list(discover([root], exclude=[pattern], unmatched=unmatched)), root) == left, pattern
        assert unmatched == [], pattern
    # A file is no folder: `top.md/` leaves it in, and says so.
    unmatched = []
    assert "top.md" in names(list(discover([root], exclude=["top.md/"], unmatched=unmatched)), root)
    assert unmatched == ["top.md/"]
