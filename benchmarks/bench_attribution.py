"""Which source an uncited answer is attributed to: the model's own pick against rules over the answer's words.

    .venv/bin/python benchmarks/bench_attribution.py [--covid 200] [--select 120]   # answers, then the rules
    .venv/bin/python benchmarks/bench_attribution.py --score                         # the rules on kept answers
    .venv/bin/python benchmarks/bench_attribution.py --latency                       # what each costs, sample corpus

The bundled model rarely cites by itself, so when an answer cites nothing localrag adds a citation. Until
2026-12-04 it asked the model, in a second turn whose grammar admits only "[1]".."[n]", which source holds
the answer; seen as a user: "How many vacation days do employees get?" answered "25 days ... [3]", source 3 a
German note about a coffee machine. This benchmark answers each question once through `Engine.ask` with the
default settings but no added citation, asks the model that second turn itself (`attribution_turn` below,
the turn as it shipped) when the answer cites nothing, keeps the answer, its sources and the model's pick
(benchmarks/results/attribution_answers.json), then scores rules that need no model:

- model: the second turn's pick (what shipped until 2026-12-04);
- first: always source 1;
- answer words: the source holding the largest share of the answer's content words, each weighted by how few
  of the sources hold it, no citation when no source holds any (`localrag.answer.attribution.source_holding`,
  what ships since);
- new words: the same over the answer's content words that the question does not hold (what the answer adds),
  all of the answer's words when it adds none.

A source is right when it holds a gold answer (COVID-QA: a gold span's normalised words; the sample corpus:
the expected words, in the expected document). Scored on the answers the attribution turn cited, where at
least one source is right; also on the correct answers alone (the answer holds a gold answer), where a wrong
citation sends a reader away from the text that confirms it. Sets: the sample corpus's twelve questions and
COVID-QA's 200-question Random(7) draw over the 98-article index that bench_tune_retriever.py ingests; a rule
is chosen on the sample corpus and the first `--select` COVID-QA questions and judged on the rest.
Summary: benchmarks/summaries/attribution.json.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import _corpus  # noqa: E402
from _scratch import scratch_dir
from bench_answer_repeats import covid_items  # noqa: E402
from bench_prompt import QUESTIONS  # noqa: E402

SUMMARIES = Path(__file__).resolve().parent / "summaries"
ANSWERS = _corpus.RESULTS / "attribution_answers.json"
ATTRIBUTION_REQUEST = "Which document number contains that answer? Reply with the number in brackets."


def attribution_turn(engine: Any, answer: Any) -> int:
    """The model's pick of the source holding `answer`: the answering chat, its reply, one more question, and a
    grammar that admits only "[1]".."[n]"."""
    from localrag.answer import build_messages

    generator = engine.generator
    messages, used = build_messages(answer.question, answer.sources, generator,
                                    max_answer_tokens=engine.settings.max_answer_tokens)
    assert len(used) == len(answer.sources)  # the same sources fit again: the same chat as the answer's
    numbers = " | ".join(f'"{n}"' for n in range(1, len(used) + 1))
    reply = generator.complete([*messages, {"role": "assistant", "content": answer.raw_text},
                                {"role": "user", "content": ATTRIBUTION_REQUEST}],
                               max_tokens=6, temperature=0.0, grammar=f'root ::= "[" ({numbers}) "]"')
    return int(reply.strip()[1:-1])


def answered(home: Path, items: list[tuple[str, list[str], str]], model: str) -> list[dict[str, Any]]:
    """Each question answered with the default settings but no added citation; the model's pick when it cited none."""
    os.environ["LOCALRAG_HOME"] = str(home)
    from localrag.config import load_settings
    from localrag.engine import Engine

    engine = Engine(load_settings(model=model or None).replace(attribution_turn=False))
    out = []
    for i, (question, gold, document) in enumerate(items, start=1):
        started = time.perf_counter()
        answer = engine.ask(question)
        text = answer.raw_text
        uncited = bool(answer.sources and text and not answer.cited)
        picked = attribution_turn(engine, answer) if uncited else None
        out.append({"question": question, "gold": gold, "document": document, "text": text,
                    "attributed": uncited, "model": picked, "cited": answer.cited,
                    "sources": [{"path": h.chunk.path, "text": h.chunk.text} for h in answer.sources]})
        print(f"{i}/{len(items)} {time.perf_counter() - started:.1f}s picked {picked} {text[:70]!r}", flush=True)
    return out


def right_sources(record: dict[str, Any]) -> set[int]:
    """The numbers of the sources that hold a gold answer (in the expected document, where one is named)."""
    from localrag.evaluate.metrics import substring_hit

    return {n for n, source in enumerate(record["sources"], start=1)
            if substring_hit(source["text"], record["gold"])
            and record["document"].lower() in Path(source["path"]).name.lower()}


def hits_of(record: dict[str, Any]) -> list[Any]:
    """A kept answer's sources as the hits it was answered from (path and text are all the rules read)."""
    from localrag.types import Chunk, Hit

    return [Hit(Chunk("", "", s["path"], 0, s["text"], 0, len(s["text"])), 0.0) for s in record["sources"]]


def by_words(words: str, record: dict[str, Any]) -> int | None:
    from localrag.answer.attribution import source_holding

    # With the question, ties go to the source holding what `words` add to it, as an answer's citation does.
    return source_holding(words, hits_of(record), record["question"])


def new_words(record: dict[str, Any]) -> int | None:
    from localrag.raft.qa import content_words

    asked = set(content_words(record["question"]))
    added = [w for w in content_words(record["text"]) if w not in asked]
    return by_words(" ".join(added) if added else record["text"], record)


RULES: dict[str, Callable[[dict[str, Any]], int | None]] = {
    "model": lambda r: r["model"],
    "first": lambda r: 1,
    "answer words": lambda r: by_words(r["text"], r),
    "new words": new_words,
}


def scored(records: list[dict[str, Any]]) -> dict[str, Any]:
    """Each rule's right citations on the attributed answers that have a right source, and on the correct ones."""
    from localrag.evaluate.metrics import substring_hit

    right = {i: right_sources(r) for i, r in enumerate(records) if r["attributed"]}
    attributed = [i for i, numbers in right.items() if numbers]
    correct = {i for i in attributed if substring_hit(records[i]["text"], records[i]["gold"])}
    out: dict[str, Any] = {"answers": len(records), "attributed": len(right),
                           "attributed with a right source": len(attributed), "of them correct": len(correct)}
    for name, rule in RULES.items():
        picks = {i: rule(records[i]) for i in attributed}
        out[name] = {
            "right": sum(picks[i] in right[i] for i in attributed),
            "no citation": sum(p is None for p in picks.values()),
            "right when correct": sum(picks[i] in right[i] for i in correct),
        }
    return out


def latency(model: str) -> dict[str, Any]:
    """Seconds of the model's second turn against the rule's, on the sample corpus's uncited answers."""
    from statistics import median

    from localrag.answer.attribution import source_holding
    from localrag.config import load_settings
    from localrag.engine import Engine
    from localrag.ingest.discover import sample_corpus_dir

    os.environ["LOCALRAG_HOME"] = scratch_dir(prefix="localrag-attribution-")
    engine = Engine(load_settings(model=model or None).replace(attribution_turn=False))
    engine.ingest([sample_corpus_dir()])
    answers, turns, rules = [], [], []
    for question, _, _ in QUESTIONS:
        started = time.perf_counter()
        answer = engine.ask(question)
        answers.append(time.perf_counter() - started)
        if answer.cited or not answer.raw_text:
            continue
        started = time.perf_counter()
        attribution_turn(engine, answer)
        turns.append(time.perf_counter() - started)
        started = time.perf_counter()
        source_holding(answer.raw_text, answer.sources)
        rules.append(time.perf_counter() - started)
    return {"questions": len(QUESTIONS), "uncited": len(turns), "answer median s": round(median(answers), 3),
            "model turn median s": round(median(turns), 3), "model turn max s": round(max(turns), 3),
            "rule median ms": round(median(rules) * 1000, 2), "load_average": os.getloadavg()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--covid", type=int, default=200, help="COVID-QA questions (0: none)")
    parser.add_argument("--select", type=int, default=120, help="the first N COVID-QA questions choose the rule")
    parser.add_argument("--home", type=Path, default=_corpus.RESULTS / "tune_retriever_home_98")
    parser.add_argument("--model", default="")
    parser.add_argument("--score", action="store_true", help=f"only score the rules on {ANSWERS.name}")
    parser.add_argument("--summary", type=Path, default=SUMMARIES / "attribution.json")
    parser.add_argument("--latency", action="store_true", help="time the model's turn and the rule instead")
    args = parser.parse_args()
    if args.latency:
        figures = latency(args.model)
        (SUMMARIES / "attribution_latency.json").write_text(json.dumps(figures, indent=1) + "\n")
        print(json.dumps(figures, indent=1))
        return
    if not args.score:
        from localrag.config import load_settings
        from localrag.engine import Engine
        from localrag.ingest.discover import sample_corpus_dir

        sample_home = Path(scratch_dir(prefix="localrag-attribution-"))
        os.environ["LOCALRAG_HOME"] = str(sample_home)
        Engine(load_settings(model=args.model or None)).ingest([sample_corpus_dir()])
        sample = answered(sample_home, [(q, e.split("|"), d) for q, e, d in QUESTIONS], args.model)
        covid = answered(args.home.resolve(), [(q, g, "") for q, g in covid_items(args.covid)], args.model)
        ANSWERS.write_text(json.dumps({"command": " ".join(sys.argv), "load_average": os.getloadavg(),
                                       "sample": sample, "covid": covid}, ensure_ascii=False) + "\n")
    kept = json.loads(ANSWERS.read_text())
    summary = {"command": kept["command"], "load_average": kept["load_average"], "sets": {
        "sample corpus": scored(kept["sample"]),
        f"COVID-QA 1-{args.select}": scored(kept["covid"][:args.select]),
        f"COVID-QA {args.select + 1}-{len(kept['covid'])}, held out": scored(kept["covid"][args.select:]),
    }}
    args.summary.write_text(json.dumps(summary, indent=1, ensure_ascii=False) + "\n")
    print(json.dumps(summary["sets"], indent=1))


if __name__ == "__main__":
    main()
