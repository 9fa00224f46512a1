"""Answers that repeat themselves: how often the bundled model loops, and what ending them there changes.

    .venv/bin/python benchmarks/bench_answer_repeats.py [--covid 60] [--model PATH] [--online]
    .venv/bin/python benchmarks/bench_answer_repeats.py --rescore   # the recorded replies, the guard's code now

Every question is answered once through `Engine.stream` with `stop_repeats` off (greedy, no attribution
turn), and the whole reply is kept. Greedy decoding makes a guarded answer exactly a prefix of that
reply, so each rule of `localrag/answer/repeats.py` (a run of W words seen T times) is scored on the
same replies: how many it cuts, the tokens and estimated seconds it saves (tokens cut / the reply's
own decoding rate), and the answer measures before and after the cut. `--online` also answers each
question with the guard on, right after, and times both: the seconds it saves as run, and whether
each guarded answer is exactly the cut reply. `--guard-cost` times the guard alone over the replies a
summary holds.

Sets: the sample corpus's twelve questions (bench_prompt.py: does the answer hold the expected words),
and the first N of COVID-QA's 200 questions drawn with random.Random(7) over the 98-article index
that bench_tune_retriever.py ingests (token F1 against the gold answer; article hit of the sources).
Summary: benchmarks/summaries/answer_repeats.json.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import _corpus  # noqa: E402
import bench_tune_retriever as tuning  # noqa: E402
from _scratch import scratch_dir
from bench_prompt import QUESTIONS  # noqa: E402

SUMMARIES = Path(__file__).resolve().parent / "summaries"
RULES = ((8, 3), (6, 3), (10, 3), (8, 2), (8, 4))


def covid_items(n: int) -> list[tuple[str, list[str]]]:
    """bench_tune_retriever.gold_questions' draw, with each question's gold answers."""
    every = [(qa["question"], [a["text"] for a in qa["answers"]])
             for a in tuning._articles(98) for p in a["paragraphs"] for qa in p["qas"]]
    return random.Random(7).sample(every, min(200, len(every)))[:n]


def replies(home: Path, questions: list[str], model: str, online: bool) -> list[dict[str, Any]]:
    """Each question answered without the guard; with `online`, right after it with the guard as well."""
    os.environ["LOCALRAG_HOME"] = str(home)
    from localrag.config import load_settings
    from localrag.engine import Engine
    from localrag.generate import LlamaGenerator

    settings = load_settings(model=model or None).replace(stop_repeats=False, attribution_turn=False)
    engine = Engine(settings)
    generator = engine.generator
    assert isinstance(generator, LlamaGenerator)  # the prompt cache to forget is llama.cpp's
    out = []
    for i, question in enumerate(questions, start=1):
        record: dict[str, Any] = {"question": question}
        for guard in (False, True) if online else (False,):
            engine.settings = settings.replace(stop_repeats=guard)
            generator.forget_prompt_cache()  # the second answer must read its prompt too
            started = time.perf_counter()
            answer = engine.ask(question)
            stats, seconds = answer.stats, time.perf_counter() - started
            run = {"text": answer.raw_text, "completion_tokens": stats.completion_tokens,
                   "tok_s": stats.tokens_per_second, "seconds": seconds, "stopped": stats.stopped_repeating}
            record.update(run) if not guard else record.update(guarded=run)
            print(f"{i}/{len(questions)} guard {guard}: {stats.completion_tokens} tokens {seconds:.1f} s", flush=True)
        out.append(record)
    return out


def online_figures(records: list[dict[str, Any]]) -> dict[str, Any]:
    """The guarded answers as run: seconds against the unguarded ones, and whether each was the expected prefix."""
    from localrag.answer.repeats import loop_start

    prefix = 0
    for r in records:
        at = loop_start(r["text"], complete_only=True)
        prefix += r["guarded"]["text"] == (r["text"][:at].rstrip() if at is not None else r["text"])
    return {"seconds_without": round(sum(r["seconds"] for r in records), 1),
            "seconds_with": round(sum(r["guarded"]["seconds"] for r in records), 1),
            "tokens_with": sum(r["guarded"]["completion_tokens"] for r in records),
            "stopped": sum(r["guarded"]["stopped"] for r in records),
            "guarded_equals_the_cut_reply": prefix}


def score(records: list[dict[str, Any]], judge: Any, count_tokens: Any, cap: int) -> dict[str, Any]:
    from localrag.answer.repeats import loop_start

    rules: dict[str, Any] = {}
    for words, times in ((0, 0), *RULES):
        cut = saved_tokens = 0
        saved_s = 0.0
        marks = []
        for r in records:
            text = r["text"]
            at = loop_start(text, words, times, complete_only=True) if words else None
            if at is not None:
                kept = text[:at].rstrip()
                cut += 1
                tokens = max(0, r["completion_tokens"] - count_tokens(kept))
                saved_tokens += tokens
                saved_s += tokens / r["tok_s"] if r["tok_s"] else 0.0
                text = kept
            marks.append(judge(r, text))
        label = f"{words} words x{times}" if words else "no guard"
        rules[label] = {"cut": cut, "tokens_saved": saved_tokens, "seconds_saved_est": round(saved_s, 1),
                        "score": round(sum(marks) / len(marks), 4), "scores": [round(m, 4) for m in marks]}
    return {"answers": len(records), "tokens": sum(r["completion_tokens"] for r in records),
            "seconds": round(sum(r["seconds"] for r in records), 1),
            "at_cap": sum(r["completion_tokens"] >= cap for r in records), "rules": rules, "records": records}


def guard_cost(summary: Path) -> None:
    """Time the guard alone over a summary's recorded replies, fed a word at a time as a stream is."""
    import re

    from localrag.answer.repeats import RepeatGuard

    data = json.loads(summary.read_text())
    fed, seconds = 0, 0.0
    for s in data["sets"].values():
        for r in s["records"]:
            guard = RepeatGuard()
            started = time.perf_counter()
            for piece in re.findall(r"\s*\S+", r["text"]):
                guard.feed(piece)
                fed += 1
                if guard.looping:
                    break
            seconds += time.perf_counter() - started
    data["guard_cost"] = {"pieces": fed, "seconds": round(seconds, 4), "us_per_piece": round(seconds / fed * 1e6, 1),
                          "load_average": os.getloadavg()}
    summary.write_text(json.dumps(data, indent=1, ensure_ascii=False) + "\n")
    print(data["guard_cost"])


def rescore(summary: Path) -> None:
    """Score the replies a summary holds again with the guard's current code (no model run), beside the
    recorded figures: for a change to the rule that greedy replies already recorded can show."""
    from localrag.answer.repeats import loop_start
    from localrag.evaluate.metrics import paired_difference, token_f1

    data = json.loads(summary.read_text())
    covid = data["sets"].get("COVID-QA")
    if covid is None:
        raise SystemExit(f"{summary}: no COVID-QA replies to score")
    gold = dict(covid_items(len(covid["records"])))
    count: dict[str, list[float]] = {"no guard": [], "8 words x3": []}
    cut = 0
    for r in covid["records"]:
        at = loop_start(r["text"], complete_only=True)
        cut += at is not None
        count["no guard"].append(token_f1(r["text"], gold[r["question"]]))
        count["8 words x3"].append(token_f1(r["text"][:at].rstrip() if at is not None else r["text"],
                                            gold[r["question"]]))
    base, guarded = count["no guard"], count["8 words x3"]
    data["rescored"] = {"cut": cut, "score": round(sum(guarded) / len(guarded), 4),
                        "vs no guard": paired_difference(base, guarded).to_json(),
                        "higher": sum(b > a for a, b in zip(base, guarded, strict=True)),
                        "lower": sum(b < a for a, b in zip(base, guarded, strict=True))}
    summary.write_text(json.dumps(data, indent=1, ensure_ascii=False) + "\n")
    print(data["rescored"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--covid", type=int, default=60, help="COVID-QA questions (0: none)")
    parser.add_argument("--home", type=Path, default=_corpus.RESULTS / "tune_retriever_home_98")
    parser.add_argument("--model", default="")
    parser.add_argument("--online", action="store_true", help="also answer each question with the guard on, timed")
    parser.add_argument("--summary", type=Path, default=SUMMARIES / "answer_repeats.json")
    parser.add_argument("--guard-cost", action="store_true",
                        help="only time the guard over the replies already in --summary, and add that figure to it")
    parser.add_argument("--rescore", action="store_true",
                        help="only score the COVID-QA replies already in --summary with the guard's current code")
    args = parser.parse_args()
    if args.rescore:
        rescore(args.summary)
        return
    if args.guard_cost:
        guard_cost(args.summary)
        return
    from localrag.config import load_settings
    from localrag.engine import Engine
    from localrag.evaluate.metrics import token_f1
    from localrag.ingest.discover import sample_corpus_dir

    sample_home = Path(scratch_dir(prefix="localrag-repeats-"))
    os.environ["LOCALRAG_HOME"] = str(sample_home)
    engine = Engine(load_settings(model=args.model or None))
    engine.ingest([sample_corpus_dir()])
    count = engine.generator.count_tokens
    cap = engine.settings.max_answer_tokens
    summary: dict[str, Any] = {"command": " ".join(sys.argv), "max_answer_tokens": cap, "sets": {}}

    sample = replies(sample_home, [q for q, _, _ in QUESTIONS], args.model, args.online)
    expected = {q: e.split("|") for q, e, _ in QUESTIONS}
    summary["sets"]["sample corpus"] = score(
        sample, lambda r, text: float(any(e in text.lower() for e in expected[r["question"]])), count, cap)
    if args.covid:
        items = covid_items(args.covid)
        gold = dict(items)
        covid = replies(args.home.resolve(), [q for q, _ in items], args.model, args.online)
        summary["sets"]["COVID-QA"] = score(covid, lambda r, text: token_f1(text, gold[r["question"]]), count, cap)
    if args.online:
        for s in summary["sets"].values():
            s["online"] = online_figures(s["records"])
    summary["load_average"] = os.getloadavg()
    args.summary.write_text(json.dumps(summary, indent=1, ensure_ascii=False) + "\n")
    for name, s in summary["sets"].items():
        print(f"{name}: {s['answers']} answers, {s['tokens']} tokens, {s['at_cap']} at the cap")
        for label, r in s["rules"].items():
            print(f"  {label:14s} cut {r['cut']:3d}  tokens saved {r['tokens_saved']:5d} (~{r['seconds_saved_est']} s)"
                  f"  score {r['score']:.4f}")
        if "online" in s:
            print("  online:", s["online"])


if __name__ == "__main__":
    main()
