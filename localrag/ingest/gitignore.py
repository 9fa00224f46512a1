"""`.gitignore` and `.localragignore` files, read as git reads `.gitignore`, for ingest's walk and watch's changes.

A code repository's `.gitignore` names what is not its text: build output, minified bundles, generated code,
vendored copies. Indexed, they crowded out the real code (a repo's `dist/app.min.js`, one 200 KB line, was 619
chunks, and `search parse_config` had its top 6 from `build/`); ripgrep, fd and editors' searches leave them out
by default, and so does localrag (the `respect_gitignore` setting).

The rules are git's, by `pathspec.GitIgnoreSpec`: each folder's `.gitignore` applies below it, the nearest one
with a matching pattern decides (the last such pattern in it: `!keep.md` takes a file back), and a file in an
ignored folder stays out whatever a deeper file says. When the folder walked lies inside a git repository, the
`.gitignore` files of the folders above it up to the repository's top (the folder holding `.git`) apply too, as
git applies them; outside one, only those in and below the folder walked. `.git/info/exclude` and git's global
excludes file are not read: they are one user's, not the project's.

A `.localragignore` beside them holds patterns of the same kind for localrag alone, read whatever
`respect_gitignore` says, after its folder's `.gitignore` (so it may take back what that one leaves out): an
`--exclude` lasts one ingest, and a plain ingest of the folder later read the drafts it had left out again; a
folder that is no repository holds what to leave out of it this way, and so do its copies and its watch.
"""

from __future__ import annotations

import os
from pathlib import Path

from pathspec import GitIgnoreSpec

GITIGNORE = ".gitignore"
LOCALRAGIGNORE = ".localragignore"


def repository_top(folder: Path) -> Path | None:
    """The folder holding `.git` (a folder, or a file in a worktree or submodule) at or above `folder`."""
    return next((place for place in (folder, *folder.parents) if (place / ".git").exists()), None)


class Ignores:
    """The `.gitignore` rules for a walk of the (resolved) folder `root`; each file is read once, when first
    needed (a watch makes them again when one changes)."""

    def __init__(self, root: Path, gitignore: bool = True) -> None:
        self.root = root
        self.top = repository_top(root) or root
        self.names = (GITIGNORE, LOCALRAGIGNORE) if gitignore else (LOCALRAGIGNORE,)
        # Each folder's rules with those above it, nearest first, each with the length of its folder's path and a
        # separator: made once a folder, and a path cut as text, not by pathlib (asking each folder on the way for
        # each file, through relative_to, made a walk of 20,000 files twice as long; this adds ~0.1 s).
        self._chains: dict[Path, list[tuple[int, GitIgnoreSpec]]] = {}
        self._named_root = False
        if root != root.parent and self.ignores(root, True):
            # The folder given, named by a rule above it (`localrag ingest repo/build`), is the user's choice, as a
            # file named is: read as nothing before ("0 added"). Only the rules that name it are dropped: dropping
            # every rule above it read its `*.log` and what a `.localragignore` above names (the retest).
            self._named_root, self._chains = True, {}

    def _files(self, folder: Path) -> list[Path]:
        """The ignore files that hold rules for `folder`: its `.gitignore` (when respected) up to the repository's
        top, and its `.localragignore` at any height: a notes folder's own, above a sub-folder ingested alone, is
        no repository's, and was not read."""
        in_repo = folder.is_relative_to(self.top)
        return [folder / name for name in self.names if in_repo or name == LOCALRAGIGNORE]

    def ignores(self, path: Path, is_dir: bool) -> bool:
        """Whether a `.gitignore` names `path` (below `top`) itself (a folder on its way is `below`'s question)."""
        text = str(path).replace(os.sep, "/") + ("/" if is_dir else "")
        for cut, spec in self._chain(path.parent):
            verdict = spec.check_file(text[cut:]).include
            if verdict is not None:
                return verdict
        return False

    def below(self, path: Path, root: Path) -> bool:
        """Whether `path`, or a folder on its way below `root`, is named (watch asks it of each change; the folder
        given itself is the user's choice, as a walk of it takes it)."""
        parts = path.relative_to(root).parts
        return any(self.ignores(root.joinpath(*parts[:depth]), depth < len(parts) or path.is_dir())
                   for depth in range(1, len(parts) + 1))

    def _chain(self, folder: Path) -> list[tuple[int, GitIgnoreSpec]]:
        if folder not in self._chains:
            above_root = folder != self.root and self.root.is_relative_to(folder)
            named = (str(self.root)[len(str(folder).rstrip(os.sep)) + 1:].replace(os.sep, "/") + "/"
                     if self._named_root and above_root else None)
            spec = _read(self._files(folder), named)
            above = [] if folder == folder.parent else self._chain(folder.parent)
            own = [(len(str(folder).rstrip(os.sep)) + 1, spec)] if spec is not None else []
            self._chains[folder] = own + above
        return self._chains[folder]


def _read(files: list[Path], named: str | None = None) -> GitIgnoreSpec | None:
    """The patterns of `files` in their order, as one file's (a later one takes back what an earlier names), but for
    those that name the folder `named` (its path from theirs, ending in "/")."""
    lines: list[str] = []
    for file in files:
        try:
            lines += file.read_text(encoding="utf-8", errors="replace").splitlines()
        except OSError:  # none there (most folders), or unreadable: git goes on without it too
            continue
    if named is not None:
        lines = [line for line in lines if not (_parses(line) and GitIgnoreSpec.from_lines([line]).check_file(
            named).include)]
    if not lines:
        return None
    try:
        return GitIgnoreSpec.from_lines(lines)
    except ValueError:
        # A line git passes over (a Windows user's `bin\`, a lone `!`) stopped every ingest of the folder with a
        # traceback; it is passed over here too.
        return GitIgnoreSpec.from_lines([line for line in lines if _parses(line)])


def _parses(line: str) -> bool:
    try:
        GitIgnoreSpec.from_lines([line])
    except ValueError:
        return False
    return True
