"""Where localrag keeps its files.

LOCALRAG_HOME, when set, holds everything (data, config, models): tests point it at a temp dir.
Otherwise the XDG base directories apply. Functions only, so nothing touches the disk at import.
"""

from __future__ import annotations

import errno
import os
import stat
import unicodedata
from collections.abc import Iterable
from pathlib import Path

from localrag.errors import ConfigError, LocalRagError
from localrag.safe_text import valid_text


def typed_path(given: str | Path) -> Path:
    """A path a person or a client typed: `~` and `~/…` name the home folder, and `~user…` that user's where such a
    user exists; any other name starting with `~` is the file so named. pathlib's expanduser() read Word's lock file
    `~$Report.docx` (which a shell's `docs/*` names) or a `~notes.txt` as the home of a user `$Report.docx` and
    raised RuntimeError, a traceback from ingest, forget, summarize, watch and `--path`. A shell has already
    expanded any `~` it meant, so the literal name is what the user meant.

    A Path is a path already, returned as it is: it has dropped the `./` of `./~root`, which named a file here, so
    read as typed it named root's home (`localrag ingest ./~root` walked it). The command line's paths are made
    Paths by this (`cli.argtypes.path_arg`) from their text."""
    return given if isinstance(given, Path) else Path(os.path.expanduser(given))


def _home() -> Path | None:
    value = os.environ.get("LOCALRAG_HOME")
    return typed_path(value) if value else None


def data_dir() -> Path:
    """LanceDB tables, conversations and evaluation runs."""
    home = _home()
    if home is not None:
        return home / "data"
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "localrag"


def config_dir() -> Path:
    home = _home()
    if home is not None:
        return home / "config"
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "localrag"


def config_file() -> Path:
    return config_dir() / "config.toml"


def cache_dir() -> Path:
    """Files localrag derives and can always make again (ONNX exports, a GGUF base's de-quantized copy for
    training); LOCALRAG_CACHE_DIR moves it.

    The tests point it at one folder for the whole session, so the embedder is exported and the bundled
    model converted once, not once per test home.
    """
    explicit = os.environ.get("LOCALRAG_CACHE_DIR")
    return typed_path(explicit) if explicit else data_dir() / "cache"


def file_in_the_way() -> Path | None:
    """A file standing where localrag's data, config or cache folder is, or a folder above one must be (a
    LOCALRAG_HOME naming a file); None when each is a folder or can be made. Read-only commands would
    otherwise report an empty index there instead of the mistake."""
    for folder in (data_dir(), config_dir(), cache_dir()):
        for path in (folder, *folder.parents):
            if path.exists():
                if not path.is_dir():
                    return path
                break
    return None


def check_places() -> None:
    """A ConfigError when localrag's folders cannot be folders: a file stands where one must be (a LOCALRAG_HOME
    naming a file), or a name holds what LanceDB cannot take. Every front end and a script's Engine ask it before
    the index is opened (a script got an empty index from a file, then a NotADirectoryError traceback)."""
    in_the_way = file_in_the_way()
    if in_the_way is not None:
        raise ConfigError(f"{in_the_way}: a file where localrag keeps a folder",
                          "point LOCALRAG_HOME (or LOCALRAG_CACHE_DIR) at a folder, or move the file away")
    for place in (data_dir(), cache_dir()):
        if valid_text(str(place)) != str(place) or any(unicodedata.category(c) == "Cc" for c in str(place)):
            # LanceDB takes its store's path as a URL: bytes that are not UTF-8 (held as surrogates) failed as an
            # ONNX export's TypeError or a UnicodeEncodeError, a newline as "Failed to parse path".
            raise ConfigError(f"{place}: a folder name localrag cannot keep its index under (it "
                              "holds bytes that are not UTF-8, or a control character such as a newline)",
                              "point LOCALRAG_HOME (or LOCALRAG_CACHE_DIR) at a folder with a plainer name")


def ready_places(*, create: bool) -> None:
    """`check_places`, then with `create` `make_private_roots`: as the CLI does before any command, an Engine does
    before it opens or writes the index (a script's Engine made the folders 0755, where the README says 0700, and
    from a LOCALRAG_HOME naming a file got an empty index, then a NotADirectoryError traceback)."""
    check_places()
    if create:
        make_private_roots()


def db_dir() -> Path:
    return data_dir() / "lancedb"


def scratch_dir() -> Path:
    """Copies of documents a loader must read from a file for a moment (a mail's attachment): in the data folder,
    the user's alone, never the shared temp folder, where a killed ingest left the copy (the document's text) for
    every account on the machine to read, and for good."""
    return data_dir() / "scratch"


def checkout_models_dir() -> Path | None:
    """The project's own `models/` folder, when localrag runs from a source checkout."""
    candidate = Path(__file__).resolve().parent.parent / "models"
    return candidate if (candidate / "README.md").is_file() else None


def models_dir() -> Path:
    """GGUF files a user added or `localrag export` wrote.

    LOCALRAG_MODELS_DIR wins; under LOCALRAG_HOME it is HOME/models, so tests never write into the
    checkout; from a checkout it is the repository's `models/`; otherwise it sits in the data dir.
    """
    explicit = os.environ.get("LOCALRAG_MODELS_DIR")
    if explicit:
        return typed_path(explicit)
    home = _home()
    if home is not None:
        return home / "models"
    return checkout_models_dir() or data_dir() / "models"


def own_folders() -> frozenset[Path]:
    """localrag's own folders (data, config, cache, models), resolved: an ingest or a watch of a folder holding
    them leaves them out, or the index would hold its own files: saved conversations (text a purge erased
    would be found again), its tables' version files (which each ingest rewrites, so a watch never rests)."""
    return frozenset(folder.resolve() for folder in (data_dir(), config_dir(), cache_dir(), models_dir()))


def make_private_roots() -> None:
    """Make localrag's own top folders that do not exist yet readable by the user alone (0700, as the XDG base
    directory spec asks): they hold the documents' text, the conversations and models tuned on them, and under
    the usual umask (022) every other account on the machine could read them all. Folders that exist keep the
    mode their user gave them.

    A LOCALRAG_HOME its user shared with a group on purpose, as a shared folder is made (`chmod 2770`: the group may
    write, and what is made in it stays the group's), gives its group access to the folders made in it: they came
    out 0700, and the next member of the group was refused "data/cache: Permission denied". A home only readable
    by its group (0755, any umask 022 `mkdir`) is no such choice: its folders stay private, as the default home's."""
    home = _home()
    # Inside a LOCALRAG_HOME its user made, the folders localrag makes there too (they came out 0755, the API
    # token's settings file readable by all); the models folder with them, for models tuned on the documents.
    roots = [*([home] if home is not None else []), data_dir(), config_dir()]
    models = models_dir()
    if any(models.parent == root for root in roots):
        roots.append(models)
    for root in roots:
        if not root.exists():
            try:
                make_private_folder(root, share=home is not None and root.parent == home)
            except OSError as exc:
                # A home on a read-only disk (a backup mounted read-only) or one this user may only read: a
                # command that only reads needs none of the folders missing there (a backup leaves the models
                # folder out), and one that writes into a folder fails where it writes, naming it. Refused here,
                # `search` was refused "the disk is read-only" for the models folder it never reads.
                if exc.errno in (errno.EROFS, errno.EACCES, errno.EPERM):
                    continue
                raise


def make_private_folder(folder: Path, *, share: bool = True) -> None:
    """Make `folder` (and the folders above it that are missing) unless it exists: readable by the user alone
    (0700), or with `share` by its group too where the folder above it is shared with its group on purpose
    (`_group_shared`), as `make_private_roots` makes the data folder in a home shared so. A folder localrag makes
    in the data folder goes by this one rule: the scratch folder came out 2700 in a shared data folder (2770), and
    every other member's ingest then failed listing it."""
    folder.parent.mkdir(parents=True, exist_ok=True)
    try:
        folder.mkdir(mode=0o700)
    except FileExistsError:
        return  # made by another process (another member's) meanwhile: its mode is theirs to keep
    shared = _group_shared(folder.parent) if share else 0
    if shared:
        folder.chmod(0o700 | shared)  # the umask (022) would have taken the group's write away


def shared_root(place: Path) -> Path | None:
    """localrag's own folder (data, config, models) holding `place` when it is shared with its group on purpose
    (`_group_shared`), or sits in a LOCALRAG_HOME so shared (`make_private_roots` gives such a home's folders to
    the group); else None: a folder merely owned by a group its user is in (all users' `users`) is no such choice."""
    home = _home()
    for root in (data_dir(), config_dir(), models_dir()):
        if not place.absolute().is_relative_to(root.absolute()):
            continue
        try:
            shared = _group_shared(root) or (home is not None and root.parent == home and _group_shared(home))
        except OSError:  # a folder above it this user cannot enter: nothing says it is shared
            return None
        return root if shared else None
    return None


def _group_shared(folder: Path) -> int:
    """The group's bits and the setgid bit of `folder` when it is shared with its group on purpose (setgid, the
    group may write), else 0."""
    mode = folder.stat().st_mode
    shared = mode & stat.S_ISGID and mode & stat.S_IWGRP
    return (mode & (stat.S_IRWXG | stat.S_ISGID)) if shared else 0


EMPTY_PATH = "an empty path (an unset shell variable?)", "name a file or folder, `.` for the current one"


def refuse_unusable(given: Iterable[str | Path], field: str = "paths") -> None:
    """An empty path is refused where a person or a client gave it: as a Path it is the current folder, and
    `localrag forget "$DIR"` with DIR unset forgot every document under it. So is one holding a NUL byte, which
    no file name holds, one longer than the OS takes or one holding half of a UTF-16 pair (an API or MCP client's,
    or a CLI user's: the OS call failed deep inside, a traceback or an internal error). The OS is asked how long a
    name may be: a file system mounted from Windows or macOS takes 255 characters, not 255 bytes. `field`: the
    request's field at fault, which the API names as `param`."""
    given = list(given)
    if any(isinstance(p, str) and not p.strip() for p in given):
        raise LocalRagError(*EMPTY_PATH, field=field)
    for path in given:
        if "\0" in str(path):
            raise LocalRagError(f"{str(path).replace(chr(0), '␀')!r}: a path holding a NUL byte",
                                "no file name holds one: send the path without it", field=field)
        try:
            os.lstat(typed_path(path))
        except UnicodeEncodeError as exc:
            raise LocalRagError(f"{str(path)!r}: a path holding half of a UTF-16 pair, which no file name holds",
                                "send the path as the file is named", field=field) from exc
        except OSError as exc:
            if exc.errno == errno.ENAMETOOLONG:
                raise LocalRagError(f"{str(path)!r}: a path longer than this system's files can have (a name or the "
                                    "whole path)", "no file has such a path: check the path you gave",
                                    field=field) from exc
