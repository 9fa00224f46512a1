"""The prompt's sources as their best sentences (`prompt_sentences = N`) against whole chunks (N = 0), generated.

    .venv/bin/python benchmarks/bench_prompt_sentences.py --home /tmp/cov/after                 # choose: 0, 4, 8
    .venv/bin/python benchmarks/bench_prompt_sentences.py --home /tmp/cov/after --held-out 8    # judge 8, once

Every question is answered through `Engine.ask` with the bundled model and default settings (greedy, k = 4,
repeat guard and attribution on) but for `prompt_sentences`: 0 puts each retrieved chunk in the prompt whole;
N puts only the N sentences of the sources that the best-sentence rule (answer/evidence.py) scores highest,
each under its source's number, sources holding none left out. Why it might help: latency is prompt length on
a small model, and the bundled 135M model answers worse than the best sentence alone (benchmarks/README.md,
"The best source sentence"), as if the rest of the chunks distracted it.

Sets: the sample corpus's twelve questions (bench_prompt.py: does the answer hold the expected words) and
COVID-QA's `random.Random(7)` draw over the 98-article index that bench_tune_retriever.py ingests (`--home`;
token F1 against the gold answers). N is chosen on the sample corpus and COVID-QA questions 1-60; questions
121-200, on which no N was chosen, judge the chosen N once against 0 (`--held-out N`). Paired 95 % bootstrap
intervals (localrag.evaluate.metrics.paired_difference). Summary: benchmarks/summaries/prompt_sentences.json.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _scratch import scratch_dir
from bench_answer_repeats import covid_items  # noqa: E402
from bench_prompt import QUESTIONS  # noqa: E402

SUMMARY = Path(__file__).resolve().parent / "summaries" / "prompt_sentences.json"
CHOICES = (0, 4, 8)


def answers(home: Path, questions: list[str], n: int, k: int | None = None, mode: str = "generate",
            ) -> list[dict[str, Any]]:
    """Each question's answer with `prompt_sentences = n` (and `top_k = k`, `answer_mode = mode`): its text, prompt
    tokens, first token and total time."""
    os.environ["LOCALRAG_HOME"] = str(home)
    from localrag.config import load_settings
    from localrag.engine import Engine

    engine = Engine(load_settings(prompt_sentences=n, top_k=k, answer_mode=mode))
    engine.ask("warm up")
    out = []
    for question in questions:
        started = time.perf_counter()
        answer = engine.ask(question)
        out.append({"question": question, "text": answer.text, "seconds": round(time.perf_counter() - started, 3),
                    "prompt_tokens": answer.stats.prompt_tokens,
                    "first_token_s": round(answer.stats.time_to_first_token, 3),
                    "quotes_verified": sum(q.status.value == "verified" for q in answer.quotes),
                    "quotes": len(answer.quotes)})
        print(f"n={n} {len(out)}/{len(questions)} {out[-1]['seconds']:.1f}s", file=sys.stderr, flush=True)
    return out


def compared(runs: dict[int, list[dict[str, Any]]], judge: Any) -> dict[str, Any]:
    """Each N's mean score, median prompt tokens and seconds, and its paired difference against N = 0."""
    from localrag.evaluate.metrics import paired_difference

    scores = {n: [judge(r) for r in records] for n, records in runs.items()}
    out: dict[str, Any] = {}
    for n, records in runs.items():
        def median(key: str, rows: list[dict[str, Any]] = records) -> float:
            return float(sorted(r[key] for r in rows)[len(rows) // 2])

        row: dict[str, Any] = {"score": round(sum(scores[n]) / len(scores[n]), 4),
                               "median_prompt_tokens": median("prompt_tokens"),
                               "median_first_token_s": median("first_token_s"), "median_s": median("seconds"),
                               "total_s": round(sum(r["seconds"] for r in records), 1),
                               "quotes_verified / quotes": [sum(r["quotes_verified"] for r in records),
                                                            sum(r["quotes"] for r in records)]}
        if n:
            row["vs 0"] = paired_difference(scores[0], scores[n]).to_json()
            row["higher / lower"] = [sum(b > a for a, b in zip(scores[0], scores[n], strict=True)),
                                     sum(b < a for a, b in zip(scores[0], scores[n], strict=True))]
        out[str(n)] = row
    out["records"] = {str(n): records for n, records in runs.items()}
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--home", type=Path, required=True, help="the 98-article COVID-QA home")
    parser.add_argument("--held-out", type=int, default=0, metavar="N", help="judge N on COVID-QA 121-200 against 0")
    parser.add_argument("--select", type=int, default=60, help="COVID-QA questions 1..SELECT choose N")
    parser.add_argument("--top-k", type=int, default=0, metavar="K",
                        help="with 4 sentences, K sources retrieved against the default 4, generated and extracted, "
                             "on COVID-QA 1-60 (choose) and 61-120 (judge)")
    args = parser.parse_args()
    from localrag.config import load_settings
    from localrag.engine import Engine
    from localrag.evaluate.metrics import token_f1
    from localrag.ingest.discover import sample_corpus_dir

    summary = json.loads(SUMMARY.read_text()) if SUMMARY.is_file() else {}
    items = covid_items(200)
    gold = dict(items)

    def f1(record: dict[str, Any]) -> float:
        return token_f1(record["text"], gold[record["question"]])

    if args.top_k:
        for name, chosen in (("1-60", items[:60]), ("61-120", items[60:120])):
            questions = [q for q, _ in chosen]
            for mode in ("generate", "extract"):
                runs = {0: answers(args.home.resolve(), questions, 4, None, mode),
                        args.top_k: answers(args.home.resolve(), questions, 4, args.top_k, mode)}
                summary[f"top_k {args.top_k} against 4, {mode}: COVID-QA {name}"] = compared(runs, f1)
    elif args.held_out:
        held = [q for q, _ in items[120:]]
        runs = {n: answers(args.home.resolve(), held, n) for n in (0, args.held_out)}
        summary["held out: COVID-QA 121-200"] = compared(runs, f1)
    else:
        sample_home = Path(scratch_dir(prefix="localrag-prompt-sentences-"))
        os.environ["LOCALRAG_HOME"] = str(sample_home)
        Engine(load_settings()).ingest([sample_corpus_dir()])
        expected = {q: e.split("|") for q, e, _ in QUESTIONS}
        sample = {n: answers(sample_home, [q for q, _, _ in QUESTIONS], n) for n in CHOICES}
        summary["sample corpus"] = compared(
            sample, lambda r: float(any(e in r["text"].lower() for e in expected[r["question"]])))
        chosen = [q for q, _ in items[:args.select]]
        summary[f"COVID-QA 1-{args.select}"] = compared(
            {n: answers(args.home.resolve(), chosen, n) for n in CHOICES}, f1)
    summary["command"] = " ".join(sys.argv)
    summary["load_average"] = os.getloadavg()
    SUMMARY.write_text(json.dumps(summary, indent=1, ensure_ascii=False) + "\n")
    for name, part in summary.items():
        if isinstance(part, dict):
            print(name, {k: row for k, row in part.items() if k != "records"})


if __name__ == "__main__":
    main()
