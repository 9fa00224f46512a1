"""`localrag models` (every model on this machine, grouped by where it lives) and `localrag models pull`.

The listing reads other tools' stores in place (see localrag/discover_models.py); in a terminal it is
one table per source, in a pipe one tab-separated line per model (source, --model name, architecture,
quantization, parameters, trained context, size in bytes, estimated bytes needed at the configured
n_ctx, loadable, path, and "yes" for the default model: the one ask and chat use without --model), and `--json`
gives every field (`default` among them).
`pull` is the only command that uses the network.
"""

from __future__ import annotations

import argparse
import dataclasses
import shlex
from typing import TYPE_CHECKING, Any

from rich.console import Console
from rich.table import Column, Table
from rich.text import Text

from localrag.cli.common import print_json, progress_bar
from localrag.cli.tables import Rows, plain

if TYPE_CHECKING:
    from pathlib import Path

    from localrag.engine import Engine
    from localrag.models import EmbedderInfo, ModelInfo
    from localrag.ollama_export import OllamaExport


def add_commands(sub: argparse._SubParsersAction) -> None:
    models = sub.add_parser(
        "models",
        help="list models: bundled, models/, Ollama, LM Studio, GPT4All, the Hugging Face cache, model_dirs",
        description="List every GGUF model on this machine (read in place, never copied). "
                    "Use a listed name with --model, e.g. --model ollama:llama3.2:3b.",
    )
    models.add_argument("--json", action="store_true", help="every field of every model as JSON")
    models.set_defaults(handler=_list)
    models_sub = models.add_subparsers(dest="models_command", metavar="COMMAND")
    pull = models_sub.add_parser(
        "pull",
        help="download a GGUF into models/ (the only command that uses the network)",
        description="Download a GGUF model into models/ with a progress bar, resuming an interrupted "
                    "download, checking size and sha256, and writing a model card. This is the only "
                    "localrag command that uses the network, and only when you run it.",
    )
    pull.add_argument("source", metavar="SOURCE", help="hf:OWNER/REPO[/FILE.gguf] or an https URL of a .gguf file")
    pull.add_argument("--name", help="model name in models/ (default: the file name)")
    pull.add_argument("--revision", default="main", help="hf: branch, tag or commit (default main)")
    pull.add_argument("--force", action="store_true", help="replace a model of that name")
    pull.add_argument("--json", action="store_true", help="print the pulled model (path, card, size, sha256) as JSON")
    pull.set_defaults(handler=_pull)


def _use(m: ModelInfo) -> str:
    """What --model takes for this model, in every form of the listing: the bundled one by the name that is it
    whatever the `model` setting says."""
    from localrag.discover_models import full_name
    from localrag.models import BUNDLED_NAME

    return BUNDLED_NAME if m.source == "bundled" else full_name(m)


def _row(m: ModelInfo, default: ModelInfo | None) -> dict[str, Any]:
    return {**dataclasses.asdict(m), "path": str(m.path), "use": _use(m), "default": m is default}


def _loads(m: ModelInfo) -> str:
    return {True: "yes", False: "no", None: "?"}[m.loadable]


def _notes(m: ModelInfo) -> str:
    """Why a model does not load, else what it was tuned from and its gate's figures."""
    from localrag.models import card_summary

    base, figures = card_summary(m.card) if m.card else ("", "")
    return m.error or ", ".join(x for x in (f"tuned from {base}" if base else "", figures) if x)


def _embedder_row(e: EmbedderInfo) -> dict[str, Any]:
    from localrag.models import gate_summary

    return {"kind": "embedder", "name": e.name, "use": e.name, "path": str(e.path), "source": "embedders/",
            "card": e.card, "gate": gate_summary(e.card) or e.card.get("error", "")}


def _list(args: argparse.Namespace, out: Console, err: Console) -> int:
    from localrag.cli.common import engine_from_args
    from localrag.discover_models import SOURCE_TITLES

    engine = engine_from_args(args)
    models = engine.models()
    embedders = engine.embedders()
    n_ctx = engine.settings.n_ctx
    default = engine.default_model(models)
    if args.json:
        print_json([{"kind": "generator", **_row(m, default)} for m in models]
                   + [_embedder_row(e) for e in embedders])
        return 0
    if plain(out):
        # One header and one line a model, embedders included, so `cut -f` finds a column in every row; the
        # default column last, so the columns before it keep their numbers.
        rows = Rows("source", "model", "arch", "quant", "params", "context", "size", f"memory at n_ctx {n_ctx}",
                    "loads", "notes", "path", "default")
        for m in models:
            rows.add(m.source, _use(m), m.architecture or "?",
                     m.quantization, m.parameters, str(m.context_length or ""), str(m.size), str(m.memory or ""),
                     _loads(m), _notes(m), str(m.path), "yes" if m is default else "")
        for row in map(_embedder_row, embedders):
            rows.add(row["source"], row["name"], "", "", "", "", "", "", "", row["gate"], row["path"], "")
        rows.print(out)
        return 0
    for source, title in SOURCE_TITLES.items():
        group = [m for m in models if m.source == source]
        if not group:
            continue
        # The name is what a user copies into --model: folded onto a second line, never cut short.
        table = Table(Column("--model", overflow="fold"), "arch", "quant", "params", "context", "size",
                      f"memory at n_ctx {n_ctx}", "loads", "notes", Column("path", overflow="fold"),
                      title=Text(title, style="bold"), title_justify="left")
        for m in group:
            # The bundled row was named "(default)" whatever the `model` setting said: now the default is marked
            # where it is, and the bundled model by the name --model takes.
            name = Text(_use(m))
            if m is default:
                name.append(" (default)", style="bold green")
            table.add_row(name, Text(m.architecture or "?"),
                          Text(m.quantization), Text(m.parameters), Text(str(m.context_length or "")),
                          Text(f"{m.size / 1e9:.2f} GB"), Text(f"{m.memory / 1e9:.2f} GB" if m.memory else ""),
                          Text(_loads(m)), Text(_notes(m)), Text(str(m.path)))
        out.print(table)
    if embedders:
        table = Table(Column("--embedder", overflow="fold"), "verdict", Column("path", overflow="fold"),
                      title=Text("Tuned embedders (localrag models/embedders/)", style="bold"), title_justify="left")
        for row in map(_embedder_row, embedders):
            table.add_row(Text(row["name"]), Text(row["gate"]), Text(row["path"]))
        out.print(table)
    return 0


def _pull(args: argparse.Namespace, out: Console, err: Console) -> int:
    from localrag import paths
    from localrag.model_pull import pull

    with progress_bar(err, download=True) as bar:
        task = bar.add_task("Downloading", total=None)

        def on_progress(done: int, total: int | None) -> None:
            bar.update(task, completed=done, total=total)

        try:
            result = pull(args.source, paths.models_dir(), name=args.name or "", revision=args.revision,
                          force=args.force, progress=on_progress)
        except KeyboardInterrupt:
            err.print(Text("interrupted: run the same command again to resume the download"))
            raise
    checked = "size and sha256 checked" if result.checked else "size checked (the server states no sha256)"
    resumed = f", resumed at {result.resumed_from} bytes" if result.resumed_from else ""
    err.print(Text(f"{result.size / 1e6:.1f} MB in {result.seconds:.1f}s, {checked}{resumed}"))
    if args.json:
        print_json({**dataclasses.asdict(result), "path": str(result.path), "card": str(result.card),
                    "model": result.path.stem})
        return 0
    out.print(Text(f"pulled {result.path} (card {result.card}); use it with --model {result.path.stem}"),
              soft_wrap=True)
    return 0


def hand_to_ollama(gguf: Path, engine: Engine, out: Console, name: str = "") -> OllamaExport:
    """`export --ollama` / `tune --ollama`: a Modelfile, `ollama create` when Ollama is here. `name`: what the user
    called a model found elsewhere (`hf:OWNER/REPO/FILE`), whose last part names it in Ollama.

    The Modelfile goes beside a GGUF in localrag's models/, else into models/: another tool's store is that
    tool's to write. A model in Ollama's own store is refused: Ollama has it already."""
    from localrag.discover_models import SOURCES, ollama_root
    from localrag.errors import ModelError
    from localrag.ollama_export import export_to_ollama, ollama_name

    if gguf.is_relative_to(ollama_root()) or gguf.resolve().is_relative_to(ollama_root().resolve()):
        tag = name.removeprefix("ollama:") or gguf.name
        raise ModelError(f"{name or gguf}: a model in Ollama's own store already", f"run it there: ollama run {tag}")
    settings = engine.settings
    source, _, rest = name.partition(":")
    named = rest if source in SOURCES else name
    label = ollama_name(named.rsplit("/", 1)[-1].removesuffix(".gguf") if named else gguf.stem)
    mine = gguf.resolve().parent == engine.models_dir.resolve()
    if not mine:
        engine.models_dir.mkdir(parents=True, exist_ok=True)
    result = export_to_ollama(gguf, name=label, temperature=settings.temperature, num_ctx=settings.n_ctx,
                              modelfile=None if mine else engine.models_dir / f"{label}.Modelfile")
    out.print(Text(f"wrote {result.modelfile}"), soft_wrap=True)
    command = shlex.join(result.command)
    if result.created:
        out.print(Text(f"ran `{command}`: run it with `ollama run {result.name}`"), soft_wrap=True)
    else:
        out.print(Text(f"ollama is not on PATH here; to add the model to Ollama run:\n  {command}"), soft_wrap=True)
    return result


def ollama_json(result: OllamaExport) -> dict[str, Any]:
    """The hand-off in `export --json` and `tune --json`: a script learns the Modelfile, the name and whether
    `ollama create` ran (the text went to stderr, or with no --run, stdout was not JSON)."""
    return {"modelfile": str(result.modelfile), "name": result.name, "command": result.command,
            "created": result.created}
