"""Turn a run folder's records into figures, a Markdown report, a JSON file and a PNG plot.

`summarise` groups the records by (model, mode) and computes every metric as a `Figure` (value, 95 %
bootstrap interval, sample size), only over the questions that every (model, mode) pair answered, so
the rows compare like with like even while a run is still going. For yes/no/maybe sets it adds the
majority-class baseline on the same questions, and for each pair after the first a paired bootstrap
interval of the headline metric's difference (what "is B better than A" actually asks).

`write_report` writes report.md, results.json (summary plus every per-question record) and plot.png
(the modes side by side per model, with the intervals as error bars; matplotlib's Agg backend, so no
display is needed). Runs live in `<data dir>/evals/` unless --out names another folder; `list_runs`
reads their run.json files for `localrag eval list` and the TUI.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from localrag import paths
from localrag.atomic import write_text_atomic
from localrag.evaluate import metrics
from localrag.evaluate.metrics import Figure
from localrag.evaluate.runner import RUN_FILE, read_records
from localrag.safe_text import markdown_escaped
from localrag.sizes import count_text, points_figures

HEADLINE = {"extractive": "f1", "label": "accuracy", "multihop": "hit", "kgqa": "hits@1"}
# Order and labels of the columns in reports; a metric missing for a data set is left out.
METRIC_LABELS = {
    "em": "EM", "f1": "token F1", "hit": "substring hit", "accuracy": "accuracy", "macro_f1": "macro-F1",
    "recall@k": "recall@k", "mrr": "MRR", "citation_precision": "citation precision",
    "citation_support": "citations supported", "quote_rate": "quotes verified",
    "hits@1": "Hits@1", "answer_f1": "answer F1", "path_accuracy": "path accuracy",
    "ttft": "first token (s)", "tok_s": "tokens/s",
}
REPORT_FILE = "report.md"
RESULTS_FILE = "results.json"
PLOT_FILE = "plot.png"


def runs_root() -> Path:
    return paths.data_dir() / "evals"


@dataclass
class Row:
    model: str
    mode: str
    figures: dict[str, Figure]
    refused: int = 0


@dataclass
class Summary:
    run_dir: Path
    info: dict[str, Any]
    rows: list[Row]
    n_questions: int
    headline: str
    baseline: dict[str, Any] = field(default_factory=dict)
    differences: list[dict[str, Any]] = field(default_factory=list)


def load_info(run_dir: Path) -> dict[str, Any]:
    try:
        info: dict[str, Any] = json.loads((Path(run_dir) / RUN_FILE).read_text())
    except (OSError, ValueError) as exc:
        from localrag.evaluate.runner import EvalRunError

        raise EvalRunError(f"{run_dir}: not an evaluation run (no readable {RUN_FILE})",
                           "see `localrag eval list` for the runs") from exc
    return info


def unfinished(info: dict[str, Any]) -> str | None:
    """What a run that did not finish is, in words (None for a finished run): its figures cover only the
    questions answered so far, and the same `localrag eval` command goes on with the rest."""
    status = info.get("status")
    if status == "done":
        return None
    if status == "running" and _gone(info):
        status = "stopped (its process is gone)"
    elif status == "running":
        return f"still running (process {info.get('pid')}): the figures cover the questions answered so far"
    why = f": {info['error']}" if status == "failed" and info.get("error") else ""
    return (f"{status}{why}; the figures cover the questions answered so far, and the same `localrag eval` "
            "command goes on with the rest")


def _gone(info: dict[str, Any]) -> bool:
    """A run recorded as running whose process is gone: killed, so no one marked it stopped."""
    from localrag.processes import process_alive

    pid = info.get("pid")
    return info.get("status") == "running" and not (isinstance(pid, int) and process_alive(pid))


def _figures(records: list[dict[str, Any]], k: int, seed: int) -> dict[str, Figure]:
    out: dict[str, Figure] = {}
    names = {name for r in records for name in r["scores"]}
    for name in names:
        key = "recall@k" if name == f"recall@{k}" else name
        if name == "correct":
            continue
        out[key] = metrics.mean_figure([r["scores"].get(name) for r in records], seed=seed)
    if any(r["gold_label"] is not None for r in records):
        labelled = [r for r in records if r["gold_label"] is not None]
        predicted, gold = [r["label"] for r in labelled], [r["gold_label"] for r in labelled]
        out.update(metrics.label_figures(predicted, gold, seed=seed))
    return out


def _headline_values(records: list[dict[str, Any]], headline: str) -> list[float]:
    key = "correct" if headline == "accuracy" else headline
    return [float(r["scores"].get(key) or 0.0) for r in records]


def summarise(run_dir: Path) -> Summary:
    run_dir = Path(run_dir)
    info = load_info(run_dir)
    config = info.get("config", {})
    k, seed = int(config.get("k", 4)), int(config.get("seed", 0))
    records = read_records(run_dir)
    pairs = list(dict.fromkeys((r["spec"], r["mode"]) for r in records))
    by_pair = {p: {r["qid"]: r for r in records if (r["spec"], r["mode"]) == p} for p in pairs}
    common = [q for q in info.get("questions", []) if all(q in by_pair[p] for p in pairs)] if pairs else []
    headline = HEADLINE.get(info.get("dataset", {}).get("kind", ""), "f1")
    rows = []
    for spec, mode in pairs:
        chosen = [by_pair[(spec, mode)][q] for q in common]
        rows.append(Row(spec, mode, _figures(chosen, k, seed), sum(1 for r in chosen if r.get("refused"))))
    summary = Summary(run_dir, info, rows, len(common), headline)
    if pairs and headline == "accuracy":
        gold = [by_pair[pairs[0]][q]["gold_label"] for q in common]
        label, acc, mf1 = metrics.majority_baseline(gold)
        summary.baseline = {"label": label, "accuracy": acc, "macro_f1": mf1, "n": len(gold)}
    if len(pairs) > 1:
        first = _headline_values([by_pair[pairs[0]][q] for q in common], headline)
        for pair in pairs[1:]:
            diff = metrics.paired_difference(first, _headline_values([by_pair[pair][q] for q in common], headline),
                                             seed=seed)
            said, why = metrics.difference_verdict(diff)
            summary.differences.append({"a": f"{pairs[0][0]}/{pairs[0][1]}", "b": f"{pair[0]}/{pair[1]}",
                                        "metric": headline, **diff.to_json(), "verdict": said, "why": why})
    return summary


def format_figure(figure: Figure | None, name: str) -> str:
    if figure is None or figure.value is None:
        return "–"
    if name in ("ttft", "tok_s"):
        return f"{figure.value:.2f}" if name == "ttft" else f"{figure.value:.1f}"
    return f"{100 * figure.value:.1f} [{100 * figure.low:.1f}, {100 * figure.high:.1f}]"  # type: ignore[operator]


def columns(summary: Summary) -> list[str]:
    present = {name for row in summary.rows for name in row.figures}
    return [name for name in METRIC_LABELS if name in present]


def _setup_line(config: dict[str, Any]) -> str:
    if "planner" in config:  # a graph-mode (KGQA) run: no prompt, no decoding; the planner is the "model"
        return f"- Graph mode: {config['planner']} planner, paths of up to {config.get('max_hops')} hops"
    return (f"- Models: {', '.join(config.get('models', []))}; modes: {', '.join(config.get('modes', []))}; "
            f"k = {config.get('k')}; greedy decoding; max {config.get('max_answer_tokens')} answer tokens")


def _documents(dataset: dict[str, Any]) -> str:
    """"3 documents", or for a graph set its triples files (its documents), "1 triples file"."""
    count = dataset.get("documents")
    if not isinstance(count, int):
        return "? documents"
    return count_text(count, "triples file" if dataset.get("kind") == "kgqa" else "document")


def markdown(summary: Summary, *, by_figure: bool = False) -> str:
    """The run's report. `by_figure`: the figures table with a row per figure and a column per model and mode, for
    a narrow pane (the chat app's): a column per figure cut each cell to one or two characters there."""
    info = summary.info
    dataset = info.get("dataset", {})
    config = info.get("config", {})
    cols = columns(summary)
    lines = [
        # The set's name is its file's, and a model's its path's: shown as named, not read as Markdown (a link).
        f"# Evaluation: {markdown_escaped(str(dataset.get('name', '?')))}",
        "",
        f"- Source: `{dataset.get('source', '?')}` ({dataset.get('kind', '?')}, "
        + (f"asked of the index {markdown_escaped(str(dataset['index']))})" if dataset.get("index")
           else f"{_documents(dataset)})"),
        f"- Questions scored: {summary.n_questions} (answered by every model and mode; side: {config.get('side')})",
        f"- Split: {info.get('split', '?')}",
        *([f"- Not finished: {state}"] if (state := unfinished(info)) else []),
        _setup_line(config),
        f"- Headline metric: {METRIC_LABELS.get(summary.headline, summary.headline)}. Figures in % with 95 % "
        f"bootstrap intervals ({metrics.BOOTSTRAP_SAMPLES} resamples, seed {config.get('seed', 0)}); "
        "times are means.",
        "",
    ]
    labels = [METRIC_LABELS[c].replace("k", str(config.get("k")), 1) if c == "recall@k" else METRIC_LABELS[c]
              for c in cols]
    if by_figure:
        heads = [f"{markdown_escaped(row.model)} {row.mode}" for row in summary.rows]
        lines += ["| figure | " + " | ".join(heads) + " |",
                  "|---|" + "---|" * len(summary.rows)]
        lines += [f"| {label} | " + " | ".join(format_figure(row.figures.get(c), c) for row in summary.rows) + " |"
                  for c, label in zip(cols, labels, strict=True)]
    else:
        lines += ["| model | mode | " + " | ".join(labels) + " |", "|---|---|" + "---|" * len(cols)]
        lines += [f"| {markdown_escaped(row.model)} | {row.mode} | "
                  + " | ".join(format_figure(row.figures.get(c), c) for c in cols) + " |" for row in summary.rows]
    if summary.baseline:
        b = summary.baseline
        lines += ["", f"Majority-class baseline (always \"{b['label']}\") on the same {b['n']} questions: "
                      f"accuracy {100 * b['accuracy']:.1f}, macro-F1 {100 * b['macro_f1']:.1f}."]
    if summary.differences:
        lines += ["", "Paired differences of the headline metric (B - A, same questions):", ""]
        for d in summary.differences:
            lines.append(f"- {d['b']} vs {d['a']}: {difference_text(d)}")
    refusals = [f"{r.model}/{r.mode}: {r.refused}" for r in summary.rows if r.refused]
    if refusals:
        lines += ["", "Refused (nothing relevant retrieved): " + ", ".join(refusals)]
    lines += ["", f"Per-question records: `{RESULTS_FILE}`; plot: `{PLOT_FILE}`.", ""]
    return "\n".join(lines)


def plot(summary: Summary, path: Path) -> None:
    """Bars of the answer and retrieval metrics per (model, mode) with their intervals as error bars."""
    # matplotlib writes a font cache (and makes a settings folder) under the user's home on its first
    # import unless MPLCONFIGDIR says where: localrag keeps what it writes in its own folders.
    os.environ.setdefault("MPLCONFIGDIR", str(paths.cache_dir() / "matplotlib"))
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    names = [c for c in columns(summary) if c not in ("ttft", "tok_s")]
    fig, ax = plt.subplots(figsize=(max(6.0, 1.2 * len(names) * max(1, len(summary.rows)) / 2), 4.0))
    width = 0.8 / max(1, len(summary.rows))
    x = np.arange(len(names))
    for i, row in enumerate(summary.rows):
        values, low, high = [], [], []
        for name in names:
            f = row.figures.get(name)
            v = f.value if f is not None and f.value is not None else 0.0
            values.append(100 * v)
            low.append(100 * (v - f.low) if f is not None and f.low is not None else 0.0)
            high.append(100 * (f.high - v) if f is not None and f.high is not None else 0.0)
        ax.bar(x + i * width - 0.4 + width / 2, values, width, yerr=[low, high], capsize=3,
               label=f"{row.model} / {row.mode}")
    ax.set_xticks(x, [METRIC_LABELS[n] for n in names], rotation=20, ha="right")
    ax.set_ylabel("% (95 % bootstrap CI)")
    ax.set_ylim(0, 100)
    ax.set_title(f"{summary.info.get('dataset', {}).get('name', '')}: {summary.n_questions} questions")
    ax.legend(fontsize="small")
    fig.tight_layout()
    tmp = path.with_name(f".{path.name}.tmp.png")
    fig.savefig(tmp, dpi=100)
    plt.close(fig)
    tmp.replace(path)


def summary_json(summary: Summary) -> dict[str, Any]:
    return {
        "run": summary.info,
        "questions_scored": summary.n_questions,
        "headline": summary.headline,
        "rows": [{"model": r.model, "mode": r.mode, "refused": r.refused,
                  "figures": {k: v.to_json() for k, v in r.figures.items()}} for r in summary.rows],
        "majority_baseline": summary.baseline,
        "differences": summary.differences,
    }


def difference_text(d: dict[str, Any]) -> str:
    """A paired difference of `Summary.differences` with its verdict in words: "-0.6 points [-1.8, +0.2]: too few to
    judge (21 questions; a verdict needs at least 30)", "+4.1 points [+1.2, +7.0]: better (the interval lies above
    0)"; the interval alone left a reader to judge it, and one from few questions promises more than it holds."""
    if d["value"] is None:
        return "–"
    value, low, high = points_figures(d["value"], d["low"], d["high"])
    figure = f"{value} points [{low}, {high}]"
    said, why = d.get("verdict"), d.get("why")
    if not said:
        return figure
    if said == metrics.TOO_FEW:
        why = f"{count_text(int(d['n']), 'question')}; {why}"
    return f"{figure}: {said} ({why})"


def write_report(run_dir: Path) -> Summary:
    run_dir = Path(run_dir)
    summary = summarise(run_dir)
    data = summary_json(summary)
    # A question's newest record, as the figures take it: an answer asked again after an edit was there twice.
    data["records"] = list({(r["spec"], r["mode"], r["qid"]): r for r in read_records(run_dir)}.values())
    write_text_atomic(run_dir / RESULTS_FILE, json.dumps(data, indent=1, ensure_ascii=False))
    write_text_atomic(run_dir / REPORT_FILE, markdown(summary))
    if summary.rows:
        plot(summary, run_dir / PLOT_FILE)
    return summary


@dataclass
class RunInfo:
    path: Path
    dataset: str
    status: str
    started: str
    questions: int
    models: list[str]
    modes: list[str]


def list_runs(root: Path | None = None) -> list[RunInfo]:
    """Runs under `root` (default: the evals folder), newest first; folders without run.json are skipped."""
    root = root or runs_root()
    runs = []
    for run_file in sorted(root.glob(f"*/{RUN_FILE}")) if root.is_dir() else []:
        try:
            info = json.loads(run_file.read_text())
            config = info.get("config", {})
            # A run.json edited by hand is listed as far as it reads; one that does not read as a run is skipped.
            runs.append(RunInfo(run_file.parent, str(info.get("dataset", {}).get("name", "?")),
                                "stopped" if _gone(info) else str(info.get("status", "?")),
                                str(info.get("started") or ""),
                                len(info.get("questions", [])), list(config.get("models", [])),
                                list(config.get("modes", []))))
        except (OSError, ValueError, AttributeError, TypeError):
            continue
    return sorted(runs, key=lambda r: r.started, reverse=True)


def find_run(spec: str, root: Path | None = None) -> Path:
    """A run folder from a path or a run name under the evals folder."""
    path = paths.typed_path(spec)
    if (path / RUN_FILE).is_file():
        return path
    candidate = (root or runs_root()) / spec
    if (candidate / RUN_FILE).is_file():
        return candidate
    from localrag.evaluate.runner import EvalRunError

    raise EvalRunError(f"{spec}: no such evaluation run", "see `localrag eval list` for the runs")
