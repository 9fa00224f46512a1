"""A resumable sweep of RAFT recipes: each one tuned and compared with the base by bench_rag_vs_raft.py.

    .venv/bin/python benchmarks/sweep_raft.py --list                 # the recipes and which are done
    .venv/bin/python benchmarks/sweep_raft.py                        # run every recipe not yet in the table
    .venv/bin/python benchmarks/sweep_raft.py --only lr5e-5-3ep      # one recipe
    .venv/bin/python benchmarks/sweep_raft.py --quick                # the chain's smallest size, for a smoke run

Each recipe is a set of `bench_rag_vs_raft.py` flags (learning rate, steps, P(oracle), distractors, ...)
run in its own folder, benchmarks/results/sweep[-quick]/NAME/, with the base model's answers reused
from the first finished recipe (same questions, k and answer budget). When a recipe finishes, one
line with its figures (the report's paired difference tuned - base on the headline metric, and each
row's figures) is appended to table.jsonl and the Markdown table.md is rewritten from it.

Resuming: a recipe with a line in table.jsonl is skipped; an unfinished one is started again and the
benchmark resumes inside it (RAFT build, training checkpoints, eval records), so a killed sweep loses
at most the step or question in flight. A line is appended with one write and fsync, and a torn last
line (a kill during that write) is ignored, so the table never holds half a run.

The recipes are the issue's cheap first candidates that the benchmark's flags can express (a lower
learning rate over more epochs, P(oracle) and the distractor count matched to evaluation's k = 4);
recipes that need new training formats (a shorter chain of thought, answer-weighted loss) are not here.
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
RECIPES: dict[str, list[str]] = {
    "baseline-lr1e-4": ["--lr", "1e-4", "--steps", "200"],
    "lr1e-4-3ep": ["--lr", "1e-4", "--steps", "270"],
    "lr5e-5-3ep": ["--lr", "5e-5", "--steps", "270"],
    "lr5e-5-3ep-k3-oracle1": ["--lr", "5e-5", "--steps", "270", "--distractors", "3", "--p-oracle", "1.0"],
}
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


def markdown(rows: list[dict[str, Any]]) -> str:
    lines = ["| recipe | flags | difference tuned - base (points, 95 % CI) | base | tuned |", "|---|---|---|---|---|"]
    for row in rows:
        d = row.get("difference") or {}
        diff = "–" if d.get("value") is None else (
            f"{100 * d['value']:+.1f} [{100 * d['low']:+.1f}, {100 * d['high']:+.1f}] ({row.get('metric')})")
        figures = row.get("figures", {})
        lines.append(f"| {row['recipe']} | `{' '.join(row['flags'])}` | {diff} | {figures.get('base', '–')} | "
                     f"{figures.get('tuned', '–')} |")
    return "\n".join(lines) + "\n"


def result_row(recipe: str, flags: list[str], eval_dir: Path) -> dict[str, Any]:
    """The table line of a finished recipe, from its eval folder's results.json."""
    results = json.loads((eval_dir / "results.json").read_text(encoding="utf-8"))
    headline = results["headline"]
    figures = {}
    for row in results["rows"]:
        f = row["figures"].get(headline) or {}
        side = "base" if row["model"] == "bundled" else "tuned"
        if f.get("value") is not None:
            figures[side] = f"{100 * f['value']:.1f} [{100 * f['low']:.1f}, {100 * f['high']:.1f}]"
    differences = results.get("differences") or [{}]
    return {"recipe": recipe, "flags": flags, "metric": headline, "difference": differences[0], "figures": figures}


def run_recipe(name: str, flags: list[str], folder: Path, base_records: Path | None, runner: list[str]) -> Path:
    out = folder / name
    command = [*runner, *flags, "--name", f"sweep-{name}", "--out", str(out)]
    if base_records is not None:
        command += ["--base-records", str(base_records)]
    print(f"[sweep] {name}: {' '.join(command)}", file=sys.stderr, flush=True)
    subprocess.run(command, check=True)
    return out / "eval"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="every recipe at the benchmark's --quick size")
    parser.add_argument("--only", action="append", choices=tuple(RECIPES), help="run just this recipe (repeatable)")
    parser.add_argument("--list", action="store_true", help="print the recipes and whether each is done")
    parser.add_argument("--out", type=Path, help="sweep folder (default benchmarks/results/sweep[-quick])")
    parser.add_argument("--runner", help=argparse.SUPPRESS)  # tests: a stand-in for bench_rag_vs_raft.py
    args = parser.parse_args(argv)
    folder = args.out or HERE / "results" / ("sweep-quick" if args.quick else "sweep")
    folder.mkdir(parents=True, exist_ok=True)
    done = {row["recipe"]: row for row in read_table(folder)}
    if args.list:
        for name, flags in RECIPES.items():
            print(f"{name:<26} {'done' if name in done else 'to run':<7} {' '.join(flags)}")
        return 0
    runner = [sys.executable, args.runner or str(HERE / "bench_rag_vs_raft.py")] + (["--quick"] if args.quick else [])
    base_records = next((folder / name / "eval" for name in done if (folder / name / "eval").is_dir()), None)
    for name in args.only or list(RECIPES):
        if name in done:
            print(f"[sweep] {name}: already in {folder / TABLE}", file=sys.stderr)
            continue
        eval_dir = run_recipe(name, RECIPES[name], folder, base_records, runner)
        append_row(folder, result_row(name, RECIPES[name], eval_dir))
        base_records = base_records or eval_dir
        (folder / "table.md").write_text(markdown(read_table(folder)), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
