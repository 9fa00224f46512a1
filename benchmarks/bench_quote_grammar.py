"""A RAFT-tuned model answering free against answering under the shown-quote grammar (Settings.quote_grammar).

    .venv/bin/python benchmarks/bench_quote_grammar.py /tmp/rs/full raft-sentences --questions 600
    .venv/bin/python benchmarks/bench_quote_grammar.py /tmp/rs/full raft-sentences --speed 40

RUN is the --out folder of a `bench_rag_vs_raft.py` run in the sentence layout with the short chain of thought: its
models/ hold the tuned model, its eval/ the base's and the free tuned model's answers. The tuned model answers the
same questions again, in the same prompt, under the grammar (`localrag.raft.quote_grammar`): its quote is a run of
three or more words of a sentence the prompt shows, under the number of that sentence's source. The eval index is
reused (copied; the corpus folder a link to the earlier one), so the sources are the same. Resumable: answers are
kept in RUN/eval-grammar. Prints JSON: token F1, exact match, citation precision and quotes verified for the base,
the free tuned model and the tuned model under the grammar (each also read with its quote as the answer,
`raft_answer = "quote"`), and the paired differences of token F1 and citation precision, with 95 % bootstrap
intervals. `--speed N` instead times the first N questions' answers without and with the grammar, in turns
(decoding tokens/s, each prompt read from scratch).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from localrag.config import load_settings  # noqa: E402
from localrag.evaluate.datasets import load_dataset  # noqa: E402
from localrag.evaluate.metrics import Figure, mean_figure, paired_difference  # noqa: E402
from localrag.evaluate.runner import EvalConfig, read_records, run_eval, score_record  # noqa: E402

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


def _points(figure: Figure) -> dict[str, Any]:
    if figure.value is None or figure.low is None or figure.high is None:
        return {"value": None, "n": 0}
    return {"value": round(100 * figure.value, 1), "low": round(100 * figure.low, 1),
            "high": round(100 * figure.high, 1), "n": figure.n}


def _figures(records: list[dict[str, Any]]) -> dict[str, Any]:
    statuses = [s for r in records for s in r["quotes"]]
    return {
        "token_f1": _points(mean_figure([r["scores"]["f1"] for r in records])),
        "exact_match": _points(mean_figure([r["scores"]["em"] for r in records])),
        "citation_precision": _points(mean_figure([r["scores"]["citation_precision"] for r in records])),
        "quotes": len(statuses),
        "quotes_verified": statuses.count("verified"),
    }


def _as_quote(records: list[dict[str, Any]], questions: dict[str, Any], k: int) -> list[dict[str, Any]]:
    """The records read with the first verified quote as the final answer (the model's own where it has none)."""
    out = []
    for record in records:
        derived = {**record, "scored": record.get("quote_answer") or record["scored"]}
        derived["scores"] = score_record(derived, questions[record["qid"]], k)
        out.append(derived)
    return out


def _paired(a: list[dict[str, Any]], b: list[dict[str, Any]], metric: str) -> dict[str, Any]:
    both = [(x["scores"][metric], y["scores"][metric]) for x, y in zip(a, b, strict=True)
            if x["scores"][metric] is not None and y["scores"][metric] is not None]
    figure = _points(paired_difference([x for x, _ in both], [y for _, y in both]))
    figure["better"] = sum(y > x for x, y in both)
    figure["worse"] = sum(y < x for x, y in both)
    return figure


def speed(run_dir: Path, tuned: str, questions: list[str]) -> dict[str, Any]:
    """The tuned model answering each question twice in a row, without and with the grammar (the order
    alternating), on the eval index: decoding tokens/s, first token and whole answer, and the paired ratios."""
    import statistics

    from localrag.embed import open_embedder
    from localrag.engine import Engine
    from localrag.store import Store

    # The evaluation's settings (evaluate.runner.run_eval), with this model.
    settings = load_settings(run_dir / "no-config.toml", model=str(run_dir / "models" / f"{tuned}.gguf"),
                             temperature=0.0, top_k=4, max_answer_tokens=128, allow_model_knowledge=True,
                             min_evidence=0.0)
    embedder = open_embedder(settings.embedder, settings.embed_backend, settings.embed_batch_size)
    store = Store(run_dir / "eval-grammar" / "index", embedder_name=embedder.name, dim=embedder.dim)
    engine = Engine(settings, embedder=embedder, store=store)
    engine.ask(questions[0])  # loads the model
    load = [os.getloadavg()[0]]
    runs: dict[str, list[Any]] = {"off": [], "grammar": []}
    for n, question in enumerate(questions):
        for kind in (("off", "grammar") if n % 2 == 0 else ("grammar", "off")):
            engine.settings = settings.replace(quote_grammar=kind == "grammar")
            engine.generator.forget_prompt_cache()  # type: ignore[attr-defined]  # each reads its prompt whole
            runs[kind].append(engine.ask(question).stats)
        load.append(os.getloadavg()[0])

    def median(kind: str, field: str) -> float:
        return round(statistics.median(getattr(stats, field) for stats in runs[kind]), 3)

    return {
        "questions": len(questions), "load_average": [min(load), max(load)],
        **{kind: {"tokens_per_s": median(kind, "tokens_per_second"),
                  "first_token_s": median(kind, "time_to_first_token"),
                  "completion_tokens": median(kind, "completion_tokens"),
                  "answer_s": round(statistics.median(s.time_to_first_token + s.generation_seconds
                                                      for s in runs[kind]), 3)}
           for kind in runs},
        "tokens_per_s_ratio_median": round(statistics.median(
            b.tokens_per_second / a.tokens_per_second for a, b in zip(runs["off"], runs["grammar"], strict=True)), 3),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("run", type=Path, help="a bench_rag_vs_raft.py --out folder")
    parser.add_argument("tuned", help="the tuned model's name in RUN/models")
    parser.add_argument("--questions", type=int, default=100)
    parser.add_argument("--dataset", default="covidqa")
    parser.add_argument("--speed", type=int, metavar="N",
                        help="only time the first N questions' answers without and with the grammar, in turns")
    args = parser.parse_args()
    if args.speed:
        order = json.loads((args.run / "eval" / "run.json").read_text())["questions"][: args.speed]
        dataset = load_dataset(DATA / args.dataset, args.dataset)
        asked = {q.qid: q.question for q in dataset.questions}
        print(json.dumps(speed(args.run, args.tuned, [asked[q] for q in order]), indent=1))
        return
    source, grammar_dir = args.run / "eval", args.run / "eval-grammar"
    run = json.loads((source / "run.json").read_text())
    config = run["config"]
    if config.get("prompt_sentences", 0) == 0:
        sys.exit(f"{source}: answered with whole sources; the grammar needs the sentence layout")
    grammar_dir.mkdir(exist_ok=True)
    if not (grammar_dir / "index").exists():
        (grammar_dir / "corpus").symlink_to((source / "corpus").resolve(), target_is_directory=True)
        shutil.copytree(source / "index", grammar_dir / "index")
    os.environ["LOCALRAG_MODELS_DIR"] = str(args.run / "models")
    dataset = load_dataset(DATA / args.dataset, args.dataset)
    eval_config = EvalConfig(modes=("rag",), models=(args.tuned,), limit=args.questions, k=config["k"],
                             max_answer_tokens=config["max_answer_tokens"],
                             prompt_sentences=config["prompt_sentences"])
    settings = load_settings(args.run / "no-config.toml", max_answer_tokens=config["max_answer_tokens"],
                             quote_grammar=True)
    started = time.perf_counter()
    run_eval(dataset, grammar_dir, eval_config, settings=settings)
    seconds = time.perf_counter() - started
    order = run["questions"][: args.questions]
    earlier = {(r["spec"], r["qid"]): r for r in read_records(source) if r["mode"] == "rag"}
    constrained = {r["qid"]: r for r in read_records(grammar_dir) if r["mode"] == "rag"}
    missing = [q for q in order if ("bundled", q) not in earlier or (args.tuned, q) not in earlier]
    if missing:
        sys.exit(f"{source}: no answer to question {missing[0]}; run bench_rag_vs_raft.py with this --questions first")
    base = [earlier[("bundled", q)] for q in order]
    free = [earlier[(args.tuned, q)] for q in order]
    under = [constrained[q] for q in order]
    questions = {q.qid: q for q in dataset.questions}
    free_quote, under_quote = _as_quote(free, questions, config["k"]), _as_quote(under, questions, config["k"])
    print(json.dumps({
        "questions": len(order),
        "seconds_answering": round(seconds),
        "base": _figures(base),
        "free": _figures(free),
        "free_quote_as_answer": _figures(free_quote),
        "grammar": _figures(under),
        "grammar_quote_as_answer": _figures(under_quote),
        "grammar_minus_free": {m: _paired(free, under, m) for m in ("f1", "citation_precision")},
        "grammar_minus_base": {m: _paired(base, under, m) for m in ("f1", "citation_precision")},
        "grammar_quote_minus_base": {m: _paired(base, under_quote, m) for m in ("f1", "citation_precision")},
    }, indent=1))


if __name__ == "__main__":
    main()
