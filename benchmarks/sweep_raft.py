"""A resumable sweep of RAFT recipes: each one tuned and compared with the base by bench_rag_vs_raft.py.

    .venv/bin/python benchmarks/sweep_raft.py --list                 # the recipes and which are done
    .venv/bin/python benchmarks/sweep_raft.py                        # run every recipe not yet in the table
    .venv/bin/python benchmarks/sweep_raft.py --only short-aw3       # one recipe (repeatable)
    .venv/bin/python benchmarks/sweep_raft.py --questions 50         # a smaller evaluation for every run
    .venv/bin/python benchmarks/sweep_raft.py --quick                # the chain's smallest size, for a smoke run

First the base model's answers (`bench_rag_vs_raft.py --base-only`, folder base/), once; then each recipe,
a set of `bench_rag_vs_raft.py` flags, in its own folder benchmarks/results/sweep[-quick]/NAME/, reusing
those base answers and their evaluation index (same questions, k, prompt and answer budget: `--questions`
and `--answer-tokens` are passed to every run alike). When a recipe finishes, one line with its figures is appended to
table.jsonl and the Markdown table.md is rewritten from it: per model (base, tuned, and the tuned
model's replies read with its verified quote as the answer, "+quote") the headline metric, citation
precision and quotes verified (the share of a reply's quotes found verbatim, over replies that quote)
with their intervals, and each one's paired difference with the base on the headline metric.

Resuming: a recipe with a line in table.jsonl is skipped; an unfinished one is started again and the
benchmark resumes inside it (RAFT build, training checkpoints, eval records), so a killed sweep loses
at most the step or question in flight. A line is appended with one write and fsync, and a torn last
line (a kill during that write) is ignored, so the table never holds half a run.

The recipes are the issue's cheap candidates: a lower learning rate over more epochs; P(oracle) and
the distractor count matched to evaluation's k = 4; a short chain of thought (one quote, then the
answer: `--cot short`); the loss on the final answer weighted above the quote (`--answer-weight`);
questions the model writes instead of the gold train-side ones (`--qa-source model`). The answer span
taken from the verified quote at inference time needs no recipe of its own: every run reports it.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
# name -> bench_rag_vs_raft.py flags. 400 pairs x 0.9 train share at 4 examples per step: ~90 steps an epoch.
_MATCHED = ["--distractors", "3", "--p-oracle", "1.0", "--max-tokens", "768"]  # 4 documents shown, as at eval
RECIPES: dict[str, list[str]] = {
    "baseline-lr1e-4": ["--lr", "1e-4", "--steps", "200"],
    "lr1e-4-3ep": ["--lr", "1e-4", "--steps", "270"],
    "lr5e-5-3ep": ["--lr", "5e-5", "--steps", "270"],
    "lr5e-5-3ep-k3-oracle1": ["--lr", "5e-5", "--steps", "270", "--distractors", "3", "--p-oracle", "1.0"],
    # 48 examples: what a 2-core machine shared at load ~22 could train and evaluate in the hour it had.
    "short-aw3": [*_MATCHED, "--cot", "short", "--answer-weight", "3", "--lr", "2e-4", "--pairs", "200",
                  "--steps", "24", "--grad-accum", "2"],
    # The full chain (the one that learned to quote) with the answer weighted 3x, scored both ways; sized for
    # ~45 minutes of one shared core: 250 pairs, 48 steps of 4 examples (under one epoch).
    "full-aw3": [*_MATCHED, "--answer-weight", "3", "--lr", "2e-4", "--pairs", "250", "--steps", "48",
                 "--eval-examples", "16"],
    # The short chain at full-aw3's size: one quote then the tag, so the reply reaches its answer in the budget.
    "short-aw1": [*_MATCHED, "--cot", "short", "--lr", "2e-4", "--pairs", "250", "--steps", "48", "--eval-examples",
                  "16"],
    "short-aw3-lr1e-4-2ep": [*_MATCHED, "--cot", "short", "--answer-weight", "3", "--lr", "1e-4", "--steps", "180"],
    "short-aw3-modelqa": [*_MATCHED, "--cot", "short", "--answer-weight", "3", "--lr", "2e-4", "--steps", "60",
                          "--qa-source", "model"],
    # The brief's untried recipe on the best format so far: the short chain at half the learning rate over two
    # epochs. 200 pairs -> 168 train examples (run of 2026-12-02): 86 steps of 4 = 344 examples, 2.05 epochs.
    "short-aw1-lr1e-4-2ep": [*_MATCHED, "--cot", "short", "--lr", "1e-4", "--pairs", "200", "--steps", "86",
                             "--eval-examples", "16"],
    # The brief's other untried rate: lr 5e-5 over three epochs. The same 200 pairs gave 156 train examples on
    # main 9681701 (run of 2026-12-02; 168 in the fourth round): 117 steps of 4 = 468 examples, 3.0 epochs.
    "short-aw1-lr5e-5-3ep": [*_MATCHED, "--cot", "short", "--lr", "5e-5", "--pairs", "200", "--steps", "117",
                             "--eval-examples", "16"],
}
BASE = "base"
# The answer budget of every run: the base's answers are reused only under the same one.
ANSWER_TOKENS = "192"
TABLE = "table.jsonl"


def read_table(folder: Path) -> list[dict[str, Any]]:
    """The finished recipes' lines; a torn last line (a kill mid-write) is left out."""
    path = folder / TABLE
    if not path.is_file():
        return []
    rows = []
    for line in path.read_text(encoding="utf-8").split("\n")[:-1]:
        try:
            rows.append(json.loads(line))
        except ValueError:
            continue
    return rows


def append_row(folder: Path, row: dict[str, Any]) -> None:
    path = folder / TABLE
    data = path.read_bytes() if path.is_file() else b""
    if data and not data.endswith(b"\n"):  # cut a torn tail before adding a whole line after it
        path.write_bytes(data[: data.rfind(b"\n") + 1])
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, (json.dumps(row) + "\n").encode("utf-8"))
        os.fsync(fd)
    finally:
        os.close(fd)


def _figure(f: dict[str, Any] | None) -> str:
    if not f or f.get("value") is None:
        return "–"
    return f"{100 * f['value']:.1f} [{100 * f['low']:.1f}, {100 * f['high']:.1f}]"


def _difference(d: dict[str, Any] | None) -> str:
    if not d or d.get("value") is None:
        return "–"
    return f"{100 * d['value']:+.1f} [{100 * d['low']:+.1f}, {100 * d['high']:+.1f}]"


def markdown(rows: list[dict[str, Any]]) -> str:
    lines = ["| recipe | model | headline (95 % CI) | citation precision | quotes verified "
             "| tuned - base, paired (points) | flags |",
             "|---|---|---|---|---|---|---|"]
    for row in rows:
        for model in row.get("models", []):
            lines.append(f"| {row['recipe']} | {model['model']} | {_figure(model.get('headline'))} "
                         f"({row.get('metric')}) | {_figure(model.get('citation_precision'))} | "
                         f"{_figure(model.get('quote_rate'))} | "
                         f"{_difference(model.get('difference'))} | `{' '.join(row['flags'])}` |")
    return "\n".join(lines) + "\n"


def result_row(recipe: str, flags: list[str], eval_dir: Path) -> dict[str, Any]:
    """The table line of a finished recipe, from its eval folder's results.json: every model's figures."""
    results = json.loads((eval_dir / "results.json").read_text(encoding="utf-8"))
    headline = results["headline"]
    # eval reports each model's difference with the first one in its records: the base, whose were copied first.
    differences = {d["b"].rsplit("/", 1)[0]: d for d in results.get("differences") or []}
    models = [{"model": "base" if row["model"] == "bundled" else row["model"],
               "headline": row["figures"].get(headline), "citation_precision": row["figures"].get("citation_precision"),
               "quote_rate": row["figures"].get("quote_rate"), "difference": differences.get(row["model"])}
              for row in results["rows"]]
    return {"recipe": recipe, "flags": flags, "metric": headline, "questions": results.get("questions"),
            "models": models}


def run_bench(flags: list[str], out: Path, runner: list[str], label: str) -> None:
    command = [*runner, *flags, "--out", str(out)]
    print(f"[sweep] {label}: {' '.join(command)}", file=sys.stderr, flush=True)
    subprocess.run(command, check=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="every recipe at the benchmark's --quick size")
    parser.add_argument("--only", action="append", choices=tuple(RECIPES), help="run just this recipe (repeatable)")
    parser.add_argument("--list", action="store_true", help="print the recipes and whether each is done")
    parser.add_argument("--questions", type=int, default=100, help="test-side questions per evaluation")
    parser.add_argument("--out", type=Path, help="sweep folder (default benchmarks/results/sweep[-quick])")
    parser.add_argument("--summary", type=Path,
                        help="also write the table as JSON here (and as Markdown beside it, .md)")
    parser.add_argument("--runner", help=argparse.SUPPRESS)  # tests: a stand-in for bench_rag_vs_raft.py
    args = parser.parse_args(argv)
    folder = args.out or HERE / "results" / ("sweep-quick" if args.quick else "sweep")
    folder.mkdir(parents=True, exist_ok=True)
    done = {row["recipe"]: row for row in read_table(folder)}
    if args.list:
        for name, flags in RECIPES.items():
            print(f"{name:<26} {'done' if name in done else 'to run':<7} {' '.join(flags)}")
        return 0
    runner = [sys.executable, args.runner or str(HERE / "bench_rag_vs_raft.py")]
    common = ["--quick"] if args.quick else ["--questions", str(args.questions)]
    common += ["--answer-tokens", ANSWER_TOKENS]
    base_records = folder / BASE / "eval"
    todo = [name for name in args.only or list(RECIPES) if name not in done]
    if todo and not (base_records / "results.json").is_file():
        run_bench([*common, "--base-only"], folder / BASE, runner, BASE)
    for name in args.only or list(RECIPES):
        if name in done:
            print(f"[sweep] {name}: already in {folder / TABLE}", file=sys.stderr)
            continue
        flags = RECIPES[name]
        started = load_average()
        run_bench([*common, *flags, "--name", f"sweep-{name}", "--base-records", str(base_records)],
                  folder / name, runner, name)
        append_row(folder, {**result_row(name, flags, folder / name / "eval"),
                            "load_average": [started, load_average()]})
        (folder / "table.md").write_text(markdown(read_table(folder)), encoding="utf-8")
    if args.summary:
        rows = read_table(folder)
        args.summary.write_text(json.dumps({"questions": args.questions, "rows": rows}, indent=1) + "\n",
                                encoding="utf-8")
        args.summary.with_suffix(".md").write_text(markdown(rows), encoding="utf-8")
    return 0


def load_average() -> float | None:
    """The 1-minute load average (Linux), stated beside the figures of a shared machine."""
    try:
        return float(Path("/proc/loadavg").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None


if __name__ == "__main__":
    sys.exit(main())
