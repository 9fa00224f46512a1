"""The fine-tuning commands: `raft build`, `finetune`, `export`, and `tune` which chains them.

Each is a thin shell over a library function (`build_raft`, `finetune`, `export_model`,
`run_tune`): parse, show a progress bar on stderr, print a summary that says where the files are
and what to run next. Long stages run in a worker thread while the main thread waits, so Ctrl-C (or
SIGTERM) becomes the stage's cancel event (`localrag.cli.cancellable`): the RAFT build
keeps what it finished, training stops after saving a checkpoint, and the summary says how to
resume. A second Ctrl-C stops at once (the files are written atomically, so nothing is left half
written). Export has no cancel point; interrupting it leaves no partial model in models/.

Only argparse and rich at import, like every CLI module: the libraries load inside the handlers.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.console import Console
from rich.text import Text

from localrag.cli.argtypes import count, integer, model_arg, number, path_arg, positive, probability, whole
from localrag.cli.cancellable import run_cancellable
from localrag.cli.collections import add_collection_flag
from localrag.cli.common import print_json, progress_bar
from localrag.config import setting_range
from localrag.raft import MAX_DISTRACTORS

if TYPE_CHECKING:
    from localrag.engine import Engine
    from localrag.raft.qa import RaftProgress
    from localrag.tune.gate import GateResult
    from localrag.tune.stages import TuneResult

QUANTS = ("Q8_0", "Q4_K_M", "Q5_K_M", "F16")
INFO = "{task.fields[info]}"  # the progress bar's detail: what each task is doing
# argparse dest -> FinetuneConfig field, for the training flags shared by `finetune` and `tune`.
_TRAIN_FLAGS = {
    "steps": "steps", "lr": "learning_rate", "batch_size": "batch_size", "grad_accum": "grad_accum",
    "max_tokens": "max_tokens", "lora_r": "lora_r", "lora_alpha": "lora_alpha", "lora_dropout": "lora_dropout",
    "warmup_steps": "warmup_steps", "eval_every": "eval_every", "save_every": "save_every", "seed": "seed",
    "backend": "backend", "answer_weight": "answer_weight",
}


def _raft_flags(p: argparse.ArgumentParser) -> None:
    p.add_argument("--qa-file", action="append", default=[], type=path_arg, metavar="FILE",
                   help="your own Q&A pairs (JSONL or CSV: question, answer, path or passage); repeatable")
    p.add_argument("--generate", action="store_true",
                   help="also have the model write Q&A from chunks (the default when no --qa-file is given)")
    p.add_argument("--model", help="GGUF that writes the questions (default: the configured model); "
                                   "a larger local model writes better ones")
    p.add_argument("--max-chunks", type=count, metavar="N", help="write questions from at most N chunks")
    p.add_argument("--k", type=whole(0, MAX_DISTRACTORS), metavar="N",
                   help=f"distractor documents per example, 0 to {MAX_DISTRACTORS} (default 3; tune --quick: 2)")
    p.add_argument("--p-oracle", type=probability, metavar="P",
                   help="share of examples that keep the answering document (default 1.0)")
    p.add_argument("--distractors", choices=("hard", "random"),
                   help="hard: the retriever's near misses (default); random: any other chunks")
    p.add_argument("--cot", choices=("full", "short", "cite-first"),
                   help="short: one quote, then the answer (default); full: up to two quotes and a line of reasoning; "
                        "cite-first: short, with the document's number before the quote")
    p.add_argument("--prompt-sentences", type=whole(*map(int, setting_range("prompt_sentences"))), metavar="N",
                   help="examples show the documents' N best sentences, as answers with prompt_sentences = N read "
                        "them; 0: whole documents (default: the prompt_sentences setting, 4)")


def _train_flags(p: argparse.ArgumentParser) -> None:
    p.add_argument("--base", type=model_arg, help="base model: a local Hugging Face folder, or a GGUF as --model "
                   "names it (a file, a models/ name, one `localrag models` lists, e.g. ollama:llama3.2:3b); "
                   "default: the configured model, else the bundled SmolLM2")
    p.add_argument("--steps", type=integer, metavar="N", help="optimizer steps (default 200)")
    p.add_argument("--lr", type=number, metavar="X", help="learning rate (default 1e-4)")
    p.add_argument("--batch-size", type=integer, metavar="N")
    p.add_argument("--grad-accum", type=integer, metavar="N", help="examples per update = batch size x this")
    p.add_argument("--max-tokens", type=integer, metavar="N", help="longest example; documents are cut, never answers")
    p.add_argument("--lora-r", type=integer, metavar="N")
    p.add_argument("--lora-alpha", type=integer, metavar="N")
    p.add_argument("--lora-dropout", type=number, metavar="X")
    p.add_argument("--warmup-steps", type=integer, metavar="N")
    p.add_argument("--eval-every", type=integer, metavar="N", help="validation loss every N steps")
    p.add_argument("--save-every", type=integer, metavar="N", help="checkpoint every N steps")
    p.add_argument("--seed", type=int)
    p.add_argument("--answer-weight", type=number, metavar="X",
                   help="loss weight of the final answer (after <ANSWER>:) against the quote's 1 (default 1)")
    p.add_argument("--backend", choices=("auto", "peft", "unsloth"),
                   help="auto: Unsloth on a CUDA GPU when installed, else transformers + peft")


def _export_flags(p: argparse.ArgumentParser) -> None:
    p.add_argument("--quant", choices=QUANTS, default="Q8_0", help="quantization of the GGUF (default Q8_0)")
    p.add_argument("--lora-gguf", action="store_true", help="also write the adapter as a LoRA GGUF")
    p.add_argument("--force", action="store_true", help="replace an existing model of that name")
    p.add_argument("--ollama", action="store_true",
                   help="also write a Modelfile beside the GGUF and run `ollama create` (or print the command)")


def add_commands(sub: argparse._SubParsersAction) -> None:
    raft = sub.add_parser("raft", help="RAFT training data from the indexed documents")
    raft_sub = raft.add_subparsers(dest="raft_command", metavar="COMMAND", required=True)
    build = raft_sub.add_parser("build", help="write Q&A pairs and a RAFT set (resumable)")
    _raft_flags(build)
    build.add_argument("--out", type=path_arg, help="output folder (default: DATA_DIR/raft)")
    _json_flag(build)
    add_collection_flag(build)
    build.set_defaults(handler=_raft_build)

    finetune = sub.add_parser("finetune", help="LoRA fine-tuning on a RAFT set (resumable)")
    finetune.add_argument("--data", type=path_arg, required=True, help="a `localrag raft build` folder")
    finetune.add_argument("--run", type=path_arg,
                          help="run folder (default: one per --data folder, under DATA_DIR/runs)")
    _train_flags(finetune)
    _json_flag(finetune)
    finetune.set_defaults(handler=_finetune)

    export = sub.add_parser("export", help="merge a fine-tuned run into a verified, quantized models/NAME.gguf")
    export.add_argument("--run", type=path_arg, help="a finished `localrag finetune` run folder "
                        "(without it, --ollama hands the existing model --name names to Ollama)")
    export.add_argument("--name", required=True, help="model name: writes models/NAME.gguf and NAME.json")
    export.add_argument("--base", type=model_arg, help="the run's base model here, as tune --base names it, when the "
                        "run was trained on another machine (it must be the same file: its sha256 is checked)")
    _export_flags(export)
    _json_flag(export)
    export.set_defaults(handler=_export)

    tune = sub.add_parser(
        "tune", help="documents -> Q&A -> RAFT set -> fine-tune -> export -> verify, in one resumable command"
    )
    tune.add_argument("--name", required=True, help="model name: ends as models/NAME.gguf, used as --model NAME")
    tune.add_argument("--quick", action="store_true",
                      help="a first try that finishes in minutes on a CPU (12 chunks, 10 steps, 512 tokens)")
    tune.add_argument("--restart", action="store_true", help="throw away this name's unfinished run and start over")
    tune.add_argument("--retriever", action="store_true",
                      help="tune the embedder on the questions instead of the model: saved as models/embedders/NAME, "
                           "and the index switches to it only if it beats the current one on held-out documents")
    tune.add_argument("--retriever-epochs", type=number, metavar="X", help="embedder training epochs (default 1)")
    tune.add_argument("--retriever-pairs", choices=("model", "ict", "both"),
                      help="embedder training pairs: the written questions (model, default), a sentence of each "
                           "chunk -> its chunk (ict: inverse cloze, no language model), or both")
    tune.add_argument("--gate-questions", type=positive, metavar="N",
                      help="held-out questions the gate asks at most, two answers each (default 100); more narrow "
                           "its interval. A finished run asked again with another N judges again, keeping the "
                           "answers it has")
    tune.add_argument("--force-default", action="store_true",
                      help="make the tuned model the default for ask and chat even when it is not better than its base")
    _json_flag(tune, "each stage's figures, the gate's verdict, whether the default changed")
    _raft_flags(tune)
    _train_flags(tune)
    _export_flags(tune)
    add_collection_flag(tune)
    tune.set_defaults(handler=_tune)


# -- shared helpers ------------------------------------------------------------------------------


def _json_flag(p: argparse.ArgumentParser, what: str = "") -> None:
    p.add_argument("--json", action="store_true",
                   help=f"print the result as one JSON document on stdout{f' ({what})' if what else ''}; "
                        "progress and messages go to stderr")


def _result_json(result: Any) -> dict[str, Any]:
    """A result dataclass for --json, its paths as strings."""
    import dataclasses

    return {k: str(v) if isinstance(v, Path) else v for k, v in dataclasses.asdict(result).items()}


def _train_overrides(args: argparse.Namespace) -> dict[str, Any]:
    return {field: getattr(args, flag) for flag, field in _TRAIN_FLAGS.items() if getattr(args, flag, None) is not None}


def _finetune_command(args: argparse.Namespace, data: Path, run_dir: Path) -> str:
    """The `finetune` command that resumes this run: its folders and every training flag it was given."""
    import shlex

    words = ["localrag"] + (["--config", str(args.config)] if getattr(args, "config", None) else [])
    words += ["finetune", "--data", str(data), "--run", str(run_dir)]
    if args.base is not None:
        words += ["--base", str(args.base)]
    for flag in _TRAIN_FLAGS:
        if getattr(args, flag, None) is not None:
            words += [f"--{flag.replace('_', '-')}", str(getattr(args, flag))]
    return shlex.join(words)


def _raft_overrides(args: argparse.Namespace) -> dict[str, Any]:
    values = {"k": args.k, "p_oracle": args.p_oracle, "distractors": args.distractors, "cot": args.cot,
              "prompt_sentences": args.prompt_sentences}
    return {k: v for k, v in values.items() if v is not None}


def new_recipe(args: argparse.Namespace, prompt_sentences: int, answer_language: str = "question") -> dict[str, Any]:
    """The RAFT fields of a set begun now: the measured recipe (`COMMAND_RECIPE`, less its distractor count under
    `tune --quick`, which has its own), its examples in the layout that answers show the model (the
    `prompt_sentences` and `answer_language` settings; the default language left out, as plans before it were),
    and the flags over both."""
    from localrag.raft.dataset import COMMAND_RECIPE

    quick = getattr(args, "quick", False)
    recipe = {k: v for k, v in COMMAND_RECIPE.items() if not (quick and k == "k")}
    language = {} if answer_language == "question" else {"answer_language": answer_language}
    return {**recipe, "prompt_sentences": prompt_sentences, **language, **_raft_overrides(args)}


def tune_recipe(args: argparse.Namespace, prompt_sentences: int, answer_language: str = "question") -> dict[str, Any]:
    """The RAFT fields of `tune`'s plan. A run resumes with the recipe it began with (one begun before a default
    changed keeps the old one), flags over it; a new run takes `new_recipe`."""
    from localrag.tune.chain import recorded_recipe
    from localrag.tune.runs import tune_dir

    recorded = None if args.restart else recorded_recipe(tune_dir(args.name))
    return {**recorded, **_raft_overrides(args)} if recorded else new_recipe(args, prompt_sentences, answer_language)


def _default_base(engine: Engine, base: str | None) -> Path:
    """The base --base names (`resolve_base`), else the configured model."""
    from localrag.tune.base import resolve_base

    if base is None:
        return engine.resolve_model(engine.settings.model)
    return resolve_base(base, engine.models_dir, engine.settings.model_dirs)


def _tune_base(engine: Engine, args: argparse.Namespace, recorded: dict[str, Any] | None, err: Console) -> Path:
    """`tune`'s base: --base, else the one its run recorded, else the configured model, never the model it tunes."""
    from localrag.tune.runs import TuneError, own_base

    if args.base is not None:
        return _default_base(engine, args.base)
    if recorded is not None and isinstance(recorded.get("base"), str):
        # Looked for: a base moved or deleted since went on to a gate that could not answer with it ("not compared |
        # the base is a Hugging Face folder…"), written over a verdict that had said "better".
        base = Path(recorded["base"])
        if not base.exists():
            raise TuneError(f"the base '{base}' that tune run '{args.name}' recorded is gone",
                            f"put it back there to resume, or begin again from another with "
                            f"`localrag tune --name {args.name} --base MODEL --restart`")
        return base
    configured = _default_base(engine, None)
    base = own_base(args.name, configured, engine.models_dir)
    if base != configured:
        err.print(Text(f"base: {base} ('{args.name}' was tuned from it; the default model is '{args.name}' itself)",
                       style="dim"))
    return base


def _fmt(value: Any, spec: str = ".3f") -> str:
    return "–" if value is None else format(value, spec)


def _eta(seconds: float | None) -> str:
    return "" if seconds is None else f"ETA {int(seconds) // 60}:{int(seconds) % 60:02d}"


def _raft_info(p: RaftProgress) -> tuple[str, str]:
    label = "Writing Q&A" if p.stage == "qa" else "Building examples"
    return label, f"{Path(p.current).name}  {_eta(p.eta)}".strip()


def _train_info(p: Any) -> str:
    return (f"loss {_fmt(p.loss)}  val {_fmt(p.val_loss)}  {_fmt(p.steps_per_second, '.2f')} steps/s  "
            f"{_eta(p.eta_seconds)}  {p.message}").strip()


def _print_raft_summary(summary: dict[str, Any], out_dir: Path, out: Console) -> None:
    skipped = ", ".join(f"{n} {why}" for why, n in summary["qa_skipped"].items()) or "none"
    dropped = ", ".join(f"{n} {why}" for why, n in summary["examples_dropped"].items()) or "none"
    splits = summary["splits"]
    out.print(Text(f"Q&A pairs: {summary['qa_made']} made; skipped: {skipped}; errors: {summary['qa_errors']}"))
    out.print(Text(f"RAFT examples: {summary['examples']} (dropped: {dropped}); "
                   f"train {splits['train']} / validation {splits['validation']} / test {splits['test']}"))
    out.print(Text(f"files in {out_dir}"))


def _print_skipped_lines(summary: dict[str, Any], err: Console) -> None:
    """Why lines of the Q&A files (or chunks) gave no pair, `file:line: why`, as the summary keeps the first few."""
    for error in summary.get("qa_error_lines", []):  # absent from a summary an older localrag recorded
        err.print(Text(f"skipped: {error}", style="yellow"))


# -- raft build ----------------------------------------------------------------------------------


def _raft_build(args: argparse.Namespace, out: Console, err: Console) -> int:
    from localrag.cli.common import engine_from_args
    from localrag.raft.build import build_raft
    from localrag.raft.dataset import RaftConfig
    from localrag.tune.runs import default_raft_dir
    from localrag.tune.stages import ingested_chunks, raft_summary

    engine = engine_from_args(args)
    chunks = ingested_chunks(engine.store)
    config = RaftConfig(**new_recipe(args, engine.settings.prompt_sentences, engine.settings.answer_language))
    generator = engine.generator if args.generate or not args.qa_file else None
    search = engine.retriever.search if config.distractors == "hard" else None
    out_dir = args.out or default_raft_dir()
    with progress_bar(err, INFO) as bar:
        task = bar.add_task("Building RAFT set", total=None, info="")

        def on_progress(p: RaftProgress) -> None:
            label, info = _raft_info(p)
            bar.update(task, description=label, completed=p.done, total=p.total, info=info)

        report = run_cancellable(
            lambda cancel: build_raft(
                out_dir, chunks, generator=generator, qa_files=args.qa_file, search=search,
                embedder=engine.embedder if config.prompt_sentences else None, config=config,
                count_tokens=generator.count_tokens if generator is not None else None,
                max_chunks=args.max_chunks, progress=on_progress, cancel=cancel,
            ),
            err, "stopping after the current chunk…",
        )
    if report.cancelled:
        err.print(Text(f"stopped; what was finished is kept in {out_dir}: run the same command to go on",
                       style="yellow"))
        if args.json:
            print_json({"out_dir": str(out_dir), "cancelled": True})
        return 130
    # A set with nothing to train on is an error that names the skipped lines itself.
    summary = raft_summary(report, qa_files=bool(args.qa_file), generated=generator is not None)
    _print_skipped_lines(summary, err)
    if report.skipped_stages:
        err.print(Text(f"already built with the same inputs: {', '.join(report.skipped_stages)}", style="dim"))
    for note in report.notes:
        err.print(Text(note, style="dim"))
    if args.json:
        print_json({"out_dir": str(out_dir), "cancelled": False, **summary})
        return 0
    _print_raft_summary(summary, out_dir, out)
    out.print(Text(f"next: localrag finetune --data {out_dir}", style="bold"))
    return 0


# -- finetune ------------------------------------------------------------------------------------


def _finetune(args: argparse.Namespace, out: Console, err: Console) -> int:
    from localrag.cli.common import engine_from_args
    from localrag.tune.config import FinetuneConfig
    from localrag.tune.finetune import finetune
    from localrag.tune.runs import TuneError, default_run_dir

    data = args.data
    if not (data / "train.chat.jsonl").is_file():
        raise TuneError(f"{data} is not a RAFT set (it has no train.chat.jsonl)",
                        "build one with `localrag raft build`, then pass its folder to --data")
    engine = engine_from_args(args)
    base = _default_base(engine, args.base)
    config = FinetuneConfig(**_train_overrides(args))
    run_dir = args.run or default_run_dir(data)
    err.print(Text(f"Fine-tuning {base.name} on {data} into {run_dir}", style="bold"))
    with progress_bar(err, INFO) as bar:
        task = bar.add_task("Training", total=config.steps, info="")

        def on_progress(p: Any) -> None:
            bar.update(task, completed=p.step, total=p.total, info=_train_info(p))

        result = run_cancellable(
            lambda cancel: finetune(data, run_dir, base, config, progress=on_progress, cancel=cancel),
            err, "stopping: saving a checkpoint…",
        )
    if args.json:
        print_json(_result_json(result))
        return 130 if result.stopped else 0
    resumed = f", resumed from step {result.resumed_from}" if result.resumed_from else ""
    out.print(Text(f"backend: {result.backend}{resumed}"))
    out.print(Text(f"{result.steps} steps in {result.seconds:.0f}s; train loss {_fmt(result.train_loss)}, "
                   f"validation loss {_fmt(result.val_loss)}"))
    if result.stopped:
        out.print(Text(f"stopped at step {result.steps}; the checkpoint is in {run_dir / 'checkpoints'}. "
                       f"Resume with the same command: {_finetune_command(args, data, run_dir)}", style="yellow"))
        return 130
    out.print(Text(f"adapter in {result.adapter_dir}"))
    out.print(Text(f"next: localrag export --run {run_dir} --name NAME", style="bold"))
    return 0


# -- export --------------------------------------------------------------------------------------


def _check_new_model(models_dir: Path, name: str, force: bool) -> Path:
    from localrag.tune.runs import TuneError, check_model_name

    target = models_dir / f"{check_model_name(name)}.gguf"
    if target.exists() and not force:
        raise TuneError(f"a model named '{name}' already exists: {target}",
                        "pick another --name, or add --force to replace it")
    return target


def _print_export(result: Any, out: Console) -> None:
    out.print(Text(f"top-1 agreement with the merged model: F16 {result.agreement_f16:.1%}, "
                   f"{result.quant} {result.agreement_quant:.1%}"))
    if result.perplexity_f16 is not None or result.perplexity_quant is not None:
        out.print(Text(f"validation perplexity: F16 {_fmt(result.perplexity_f16, '.2f')}, "
                       f"{result.quant} {_fmt(result.perplexity_quant, '.2f')}"))
    out.print(Text(f"wrote {result.path} and its card {result.card_path}"))
    if result.lora_path is not None:
        out.print(Text(f"LoRA adapter GGUF: {result.lora_path}"))


def _export(args: argparse.Namespace, out: Console, err: Console) -> int:
    from localrag.cli.common import engine_from_args
    from localrag.cli.models import hand_to_ollama, ollama_json
    from localrag.tune.checkpoint import finetune_command
    from localrag.tune.runs import TuneError

    engine = engine_from_args(args)
    if args.run is None:
        if not args.ollama:
            raise TuneError("export needs --run, a finished `localrag finetune` run folder",
                            "or pass --ollama to hand the existing model --name to Ollama")
        handed = hand_to_ollama(engine.resolve_model(args.name), engine, err if args.json else out, args.name)
        if args.json:
            print_json({"ollama": ollama_json(handed)})
        return 0
    run_dir = args.run
    _check_new_model(engine.models_dir, args.name, args.force)
    if not run_dir.is_dir():
        raise TuneError(f"{run_dir}: no such run folder", "name the folder `localrag finetune --run` trained in")
    if not (run_dir / "adapter").is_dir():
        raise TuneError(f"{run_dir} has no finished adapter (no adapter/ folder)",
                        f"finish its training first: {finetune_command(run_dir)}")
    from localrag.tune.export import export_model

    base = _default_base(engine, args.base) if args.base is not None else None
    with progress_bar(err, INFO) as bar:
        task = bar.add_task("Exporting", total=100, info="")

        def on_progress(stage: str, fraction: float) -> None:
            bar.update(task, completed=round(100 * fraction), info=stage)

        result = export_model(run_dir, args.name, models_dir=engine.models_dir, quant=args.quant,
                              lora_gguf=args.lora_gguf, progress=on_progress, base=base)
    if args.json:
        made = hand_to_ollama(result.path, engine, err) if args.ollama else None
        print_json(_result_json(result) | {"ollama": ollama_json(made) if made else None})
        return 0
    _print_export(result, out)
    out.print(Text(f"exported in {result.seconds:.0f}s; try: localrag ask --model {args.name} \"...\"", style="bold"))
    if args.ollama:
        hand_to_ollama(result.path, engine, out)
    return 0


# -- tune ----------------------------------------------------------------------------------------

_STAGE_TITLES = {
    "raft": "Q&A and RAFT set",
    "retriever": "embedder tuning",
    "finetune": "fine-tuning",
    "export": "export to GGUF",
    "verify": "verify and register",
    "gate": "compare with the base model",
}


class _ChainDisplay:
    """One line per stage as it starts, is skipped or finishes, and the running stage's bar below it."""

    def __init__(self, err: Console, stages: tuple[str, ...]) -> None:
        self.bar = progress_bar(err, INFO)
        self.stages = stages
        self.tasks = {
            "raft": self.bar.add_task("Writing Q&A", total=None, visible=False, info=""),
            "retriever": self.bar.add_task("Embedder", total=None, visible=False, info=""),
            "finetune": self.bar.add_task("Training", total=None, visible=False, info=""),
            "export": self.bar.add_task("Exporting", total=100, visible=False, info=""),
            "gate": self.bar.add_task("Comparing", total=None, visible=False, info=""),
        }

    def stage(self, stage: str, state: str, detail: str) -> None:
        number = f"[{self.stages.index(stage) + 1}/{len(self.stages)}]"
        for name, task in self.tasks.items():
            self.bar.update(task, visible=state == "started" and name == stage)
        if state == "started":
            self.bar.console.print(Text(f"{number} {_STAGE_TITLES[stage]}…", style="bold"))
            return
        style = {"skipped": "dim", "done": "green", "stopped": "yellow"}[state]
        self.bar.console.print(Text(f"{number} {_STAGE_TITLES[stage]}: {state}" + (f" ({detail})" if detail else ""),
                                    style=style))

    def note(self, text: str) -> None:
        self.bar.console.print(Text(text, style="yellow"), soft_wrap=True)

    def raft(self, p: RaftProgress) -> None:
        label, info = _raft_info(p)
        self.bar.update(self.tasks["raft"], description=label, completed=p.done, total=p.total, info=info)

    def train(self, p: Any) -> None:
        self.bar.update(self.tasks["finetune"], completed=p.step, total=p.total, info=_train_info(p))

    def export(self, stage: str, fraction: float) -> None:
        self.bar.update(self.tasks["export"], completed=round(100 * fraction), info=stage)

    def retriever(self, step: str, done: int, total: int) -> None:
        labels = {"train": "Training the embedder", "gate": "Judging: embedding the chunks",
                  "reembed": "Re-embedding the index"}
        self.bar.update(self.tasks["retriever"], description=labels.get(step, step), completed=done,
                        total=total or None)

    def gate(self, p: Any) -> None:
        # Only the model's file name: the question text is document data, and this column renders markup.
        self.bar.update(self.tasks["gate"], completed=p.done, total=p.total, info=Path(p.model).name)


def _print_tune(result: Any, out: Console, config: Path, extracting: bool) -> None:
    """The chain's figures; `extracting`: the user already answers with `answer_mode = "extract"`."""
    summaries = result.summaries
    if "raft" in summaries:
        _print_raft_summary(summaries["raft"], result.raft_dir, out)
    if "retriever" in summaries:
        r = summaries["retriever"]
        current, tuned = r["current"], r["tuned"]
        out.print(Text(f"embedder: {r['steps']} steps on {r['train_pairs']} pairs; held-out hit@5 "
                       f"{current['hit_at_5']:.3f} -> {tuned['hit_at_5']:.3f}, MRR {current['mrr']:.3f} -> "
                       f"{tuned['mrr']:.3f} ({r['held_out_pairs']} held-out pairs from unseen documents); {r['path']}"))
        out.print(Text(r.get("verdict", ""), style="green" if r["better"] else "yellow"))
        if r.get("switched"):
            entities = r.get("reembedded_entities", 0)  # absent from a summary an older localrag recorded
            names = f" and {entities} graph entity names" if entities else ""
            line = f"the index now uses it ({r['reembedded_chunks']} chunks{names} re-embedded)"
            out.print(Text(line, style="green"))
            if r.get("fusion"):
                out.print(Text(f"fusion chosen again for the new vectors: {r['fusion']}", style="dim"))
        else:
            # --force-default makes the model the default, not the embedder: it was passed over here in silence.
            out.print(Text(f"the index keeps the current embedder (to use this one anyway: localrag retrieval "
                           f"use-embedder {r['path']})", style="yellow"))
    if "finetune" in summaries:
        f = summaries["finetune"]
        out.print(Text(f"training: {f['steps']} steps on {f['backend']}, train loss {_fmt(f['train_loss'])}, "
                       f"validation loss {_fmt(f['val_loss'])}, run in {result.run_dir}"))
    if "export" in summaries:
        e = summaries["export"]
        out.print(Text(f"export: {e['quant']}, top-1 agreement F16 {e['agreement_f16']:.1%}, "
                       f"{e['quant']} {e['agreement_quant']:.1%}; {e['path']}"))
    if "verify" in summaries:
        v = summaries["verify"]
        # A set too small to hold any question out is checked on a training question, and says so; a check an
        # older localrag recorded does not say which split its question came from.
        which = {"train": "a training question (the set holds none out)", None: "a question"}.get(
            v.get("split"), "a held-out question")
        out.print(Text(f"check on {which}: {v['question']}", style="dim"))
        from localrag.answer.repeats import STOPPED_LABEL

        stopped = f" ({STOPPED_LABEL})" if v.get("stopped_repeating") else ""
        out.print(Text(f"  reply: {v['reply']}{stopped}", style="dim"))
        out.print(Text(f"  gold answer: {v['gold']}; RAFT answer format: {'yes' if v['answer_tag'] else 'no'}; "
                       f"quotes verified {v['quotes_verified']}/{v['quotes']}", style="dim"))
    if "gate" in summaries:
        from localrag.models import extract_summary, extract_wins
        from localrag.tune.gate import GateResult

        gate = GateResult.from_json(summaries["gate"])
        out.print(Text(gate.describe(), style="green" if gate.better else "yellow"))
        for side, figures in gate.figures.items():
            out.print(Text(f"  {side} + RAG: " + ", ".join(f"{k} {v}" for k, v in figures.items()), style="dim"))
        if gate.run_dir:
            out.print(Text(f"  comparison: localrag eval show {gate.run_dir}", style="dim"))
        card = {"gate": gate.to_json()}
        extract = extract_summary(card)
        if extract:
            out.print(Text(f"  {extract}", style="dim"))
        if extract_wins(card) and not extracting:
            out.print(Text("  on these questions the best source sentence answers better than either model: "
                           f"localrag ask --extract, or answer_mode = \"extract\" in {config}", style="yellow"))


def _tune(args: argparse.Namespace, out: Console, err: Console) -> int:
    from localrag.cli.common import engine_from_args
    from localrag.tune.chain import recorded_plan, run_tune
    from localrag.tune.gate import GATE_QUESTIONS
    from localrag.tune.plan import make_plan, planned_stages
    from localrag.tune.runs import check_model_name, tune_dir
    from localrag.tune.stages import ChainHooks

    check_model_name(args.name)
    recorded = None if args.restart else recorded_plan(tune_dir(args.name))
    # A run keeps the model that writes its questions and the base it trains from as it recorded them: both default
    # to the `model` setting, which `--force-default` (or `config set model`) changes between two runs of the same
    # command. "" is the bundled model.
    if recorded is not None and args.model is None and isinstance(recorded.get("qa_model"), str):
        args.model = recorded["qa_model"]
    engine = engine_from_args(args)
    base = _tune_base(engine, args, recorded, err)
    if not args.retriever:
        from localrag.tune.base import base_architecture

        # A base that cannot be fine-tuned is refused here, before the Q&A stage (minutes when the model writes
        # the questions) and before the run records it; the fine-tune stage found it only after that.
        base_architecture(base)
    raft = tune_recipe(args, engine.settings.prompt_sentences, engine.settings.answer_language)
    plan = make_plan(
        args.name, base, quick=args.quick, qa_files=args.qa_file, generate=args.generate,
        qa_model=engine.settings.model, max_chunks=args.max_chunks, raft=raft,
        finetune=_train_overrides(args), quant=args.quant, lora_gguf=args.lora_gguf,
        retriever=_retriever_overrides(args) if args.retriever else None, model=not args.retriever,
    )
    stages = planned_stages(plan)
    source = f"{len(plan.qa_files)} Q&A file(s)" if plan.qa_files else ""
    if plan.generate and "raft" in stages:
        source += (" and " if source else "") + f"questions written by {engine.model_name()}"
    if plan.retriever is not None and plan.retriever.pairs != "model":
        source += (" and " if source else "") + "inverse-cloze pairs from the indexed chunks"
    # `--retriever` tunes the embedder: the model only writes questions, if it does anything.
    tuned = f"the embedder {engine.embedder.name}" if plan.retriever is not None else plan.base.name
    err.print(Text(f"Tuning '{plan.name}' from {tuned} ({source}"
                   + (", quick size" if plan.quick else "") + ")", style="bold"))
    display = _ChainDisplay(err, stages)
    hooks = ChainHooks(stage=display.stage, raft=display.raft, train=display.train, export=display.export,
                       retriever=display.retriever, gate=display.gate, note=display.note)
    with display.bar:
        result = run_cancellable(
            lambda cancel: run_tune(engine, plan, force=args.force, restart=args.restart, hooks=hooks, cancel=cancel,
                                    n_threads=engine.settings.n_threads,
                                    gate_questions=args.gate_questions or GATE_QUESTIONS),
            err, "stopping after the current step…",
        )
    if "raft" in result.ran:
        _print_skipped_lines(result.summaries["raft"], err)
    # With --json, stdout carries the JSON document alone: every line for a person goes to stderr.
    said = err if args.json else out
    if not args.json:
        from localrag.paths import config_file

        _print_tune(result, out, Path(args.config) if args.config else config_file(),
                    engine.settings.answer_mode == "extract")
    if result.stopped:
        said.print(Text(f"stopped during {_STAGE_TITLES[result.stopped]}; its work so far is in {result.directory}. "
                        "Run the same command again to resume.", style="yellow"))
        if args.json:
            print_json({**_result_json(result), "default_changed": False})
        return 130
    default_changed = False
    handed = None
    if plan.model:
        said.print(Text(f"'{result.name}' is ready ({result.seconds:.0f}s): localrag ask --model {result.name} \"...\"",
                        style="bold green"))
        default_changed = _apply_gate(result, args, said)
        if args.ollama:
            from localrag.cli.models import hand_to_ollama

            handed = hand_to_ollama(result.model_path, engine, said)
    if args.json:
        from localrag.cli.models import ollama_json

        # A run that tunes the embedder alone writes no model file: its path would name nothing.
        print_json({**_result_json(result), "default_changed": default_changed,
                    "ollama": ollama_json(handed) if handed else None}
                   | ({} if plan.model else {"model_path": None}))
    return 0


def _retriever_overrides(args: argparse.Namespace) -> dict[str, Any]:
    overrides: dict[str, Any] = {}
    if args.retriever_epochs is not None:
        overrides["epochs"] = args.retriever_epochs
    if args.retriever_pairs is not None:
        overrides["pairs"] = args.retriever_pairs
    if args.batch_size is not None:
        overrides["batch_size"] = args.batch_size
    if args.lr is not None:
        overrides["learning_rate"] = args.lr
    if args.seed is not None:
        overrides["seed"] = args.seed
    return overrides


def _apply_gate(result: TuneResult, args: argparse.Namespace, out: Console) -> bool:
    """Make the model the default when the gate says it is better, or when --force-default asks for it;
    whether it became the default."""
    from localrag.tune.gate import GateResult, make_default

    if "gate" not in result.summaries:
        return False
    gate = GateResult.from_json(result.summaries["gate"])
    # A rerun that skipped the gate leaves the default as the user has it since, unless forced now.
    if "gate" not in result.ran and not args.force_default:
        return False
    card = result.model_path.with_suffix(".json")
    if make_default(result.name, gate, force=args.force_default, card_path=card, config_file=args.config):
        why = "it is better than its base" if gate.better else "--force-default"
        out.print(Text(f"'{result.name}' is now the default model for ask and chat ({why})", style="bold"))
        return True
    out.print(Text(f"the default model stays as it was; use it with --model {result.name}, "
                   "or rerun with --force-default to make it the default anyway", style="yellow"))
    if gate.reason.startswith("too few"):
        out.print(Text(f"to compare the two on questions you write: localrag eval QUESTIONS.csv --modes rag "
                       f"--models {_base_spec(gate)},{result.name} (columns question, answer, path)", style="dim"))
    elif gate.verdict == "not better" and gate.available > gate.questions:
        out.print(Text(f"the gate asked {gate.questions} of {gate.available} held-out questions; more narrow the "
                       f"interval: localrag tune --name {result.name} --gate-questions {gate.available} "
                       "(two answers each; nothing else runs again)", style="dim"))
    return False


def _base_spec(gate: GateResult) -> str:
    """The base model as `eval --models` takes it: the bundled one by its word, any other by its file."""
    from localrag.models import bundled_generator_path

    bundled = Path(gate.base).resolve() == bundled_generator_path().resolve() if gate.base else True
    return "bundled" if bundled else gate.base
