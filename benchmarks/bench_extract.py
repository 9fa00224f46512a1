"""The best source sentence (`answer_mode = "extract"`) against the bundled model's generated answer.

    .venv/bin/python benchmarks/bench_extract.py [--covid 120] [--select 60] [--model PATH]
    .venv/bin/python benchmarks/bench_extract.py --evidence-cost     # the rule's own time in an answer, with the
                                                                     # sentence vectors cached and without
    .venv/bin/python benchmarks/bench_extract.py --citation-marks    # sources' reference marks read as citations

Every question is answered twice through `Engine.stream` on the same index: with the default settings
(the model writes the answer; greedy, repeat guard on, attribution turn on) and with `answer_mode =
"extract"` (localrag/answer/evidence.py picks one sentence of the sources; no model). The generated
answer's own `evidence` (the same rule over the sources that fitted in its prompt) is scored too.

Sets: the sample corpus's twelve questions (bench_prompt.py: does the answer hold the expected words),
and COVID-QA's 200 questions drawn with random.Random(7) over the 98-article index that
bench_tune_retriever.py ingests (token F1 against the gold answers; "contains": the answer holds a gold
answer's normalised words). The rule in evidence.py was chosen on the sample corpus and the first
`--select` COVID-QA questions; the rest are reported apart as held out. Paired 95 % bootstrap intervals
(localrag.evaluate.metrics.paired_difference). Summary: benchmarks/summaries/extract_vs_generate.json.
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

import _corpus  # noqa: E402
from _scratch import scratch_dir
from bench_answer_repeats import covid_items  # noqa: E402
from bench_prompt import QUESTIONS  # noqa: E402

SUMMARIES = Path(__file__).resolve().parent / "summaries"


def answers(home: Path, questions: list[str], model: str) -> list[dict[str, Any]]:
    """Each question answered by the model, then extracted; texts, seconds and the evidence kept."""
    os.environ["LOCALRAG_HOME"] = str(home)
    from localrag.config import load_settings
    from localrag.engine import Engine

    settings = load_settings(model=model or None)
    engines = {"generate": Engine(settings), "extract": Engine(settings.replace(answer_mode="extract"))}
    out = []
    for i, question in enumerate(questions, start=1):
        record: dict[str, Any] = {"question": question}
        for mode, engine in engines.items():
            started = time.perf_counter()
            answer = engine.ask(question)
            record[mode] = {"text": answer.text, "seconds": round(time.perf_counter() - started, 3),
                            "verified_quotes": sum(q.status.value == "verified" for q in answer.quotes)}
            if mode == "generate":
                record["evidence"] = answer.evidence.text if answer.evidence is not None else ""
        out.append(record)
        print(f"{i}/{len(questions)} {record['generate']['seconds']:.1f}s / {record['extract']['seconds']:.2f}s",
              file=sys.stderr, flush=True)
    return out


def scored(records: list[dict[str, Any]], judge: Any, label: str) -> dict[str, Any]:
    """Each answer kind's mean score and time, and extract / evidence against generate, paired."""
    from localrag.evaluate.metrics import paired_difference

    kinds = {"generate": [r["generate"]["text"] for r in records], "extract": [r["extract"]["text"] for r in records],
             "evidence of the generated answer": [r["evidence"] for r in records]}
    scores = {kind: [judge(r, text) for r, text in zip(records, texts, strict=True)] for kind, texts in kinds.items()}
    out: dict[str, Any] = {"questions": len(records), "metric": label}
    for kind, values in scores.items():
        out[kind] = {"score": round(sum(values) / len(values), 4) if values else 0.0}
        if kind != "generate":
            diff = paired_difference(scores["generate"], values).to_json()
            out[kind]["vs generate"] = diff
            out[kind]["higher"] = sum(b > a for a, b in zip(scores["generate"], values, strict=True))
            out[kind]["lower"] = sum(b < a for a, b in zip(scores["generate"], values, strict=True))
    for mode in ("generate", "extract"):
        seconds = sorted(r[mode]["seconds"] for r in records)
        out[mode].update(seconds=round(sum(seconds), 1), median_s=seconds[len(seconds) // 2] if seconds else 0.0)
    return out


def _place(evidence: Any) -> tuple[int, int] | None:
    return None if evidence is None else (evidence.source, evidence.start)


def evidence_cost(home: Path, questions: list[str], summary: Path) -> None:
    """Time the rule where a generated answer runs it: over each question's sources for the prompt's sentences
    (`prompt_texts`, before the first token), then over the sources that went in for the evidence (`best_sentence`,
    after the reply), with the sentence vectors the first call cached and, for the figure before the cache, with
    none. The cache is emptied before each question, so no question reuses another's vectors. Both are given the
    question's vector, as `Engine.stream` gives it (embedded once, for retrieval); embedding it is timed apart
    (`question_embed`), the cost each of the two paid before they were given it."""
    os.environ["LOCALRAG_HOME"] = str(home)
    from localrag.answer.evidence import best_sentence, candidate_sentences, prompt_sentences
    from localrag.answer.vector_cache import SENTENCE_VECTORS
    from localrag.config import load_settings
    from localrag.engine import Engine

    engine = Engine(load_settings())
    engine.search("warm up", k=4)
    times: dict[str, list[float]] = {"question_embed_s": [], "prompt_s": [], "evidence_cached_s": [],
                                     "evidence_uncached_s": []}
    sentences, changed = [], 0
    for question in questions:
        started = time.perf_counter()
        vector = engine.embedder.embed_queries([question])[0]
        times["question_embed_s"].append(time.perf_counter() - started)
        hits = engine.retriever.search(question, engine.settings.top_k, query_vector=vector)
        SENTENCE_VECTORS.clear()
        started = time.perf_counter()
        used = [hit for hit, _ in prompt_sentences(question, hits, engine.embedder, engine.settings.prompt_sentences,
                                                   vector)]
        times["prompt_s"].append(time.perf_counter() - started)
        started = time.perf_counter()
        cached = best_sentence(question, used, engine.embedder, vector)
        times["evidence_cached_s"].append(time.perf_counter() - started)
        SENTENCE_VECTORS.clear()
        started = time.perf_counter()
        uncached = best_sentence(question, used, engine.embedder, vector)
        times["evidence_uncached_s"].append(time.perf_counter() - started)
        changed += _place(cached) != _place(uncached)
        sentences.append(len(candidate_sentences(used)))
    data = json.loads(summary.read_text()) if summary.is_file() else {}
    figures: dict[str, Any] = {"questions": len(questions), "prompt_sentences": engine.settings.prompt_sentences}
    for key, values in times.items():
        values.sort()
        figures[f"{key.removesuffix('_s')}_median_s"] = round(values[len(values) // 2], 4)
        figures[f"{key.removesuffix('_s')}_p90_s"] = round(values[int(len(values) * 0.9)], 4)
    figures |= {"evidence_changed_by_cache": changed,
                "evidence_sentences_median": sorted(sentences)[len(sentences) // 2], "embed_threads": "default",
                "load_average": os.getloadavg()}
    data["evidence_after_prompt"] = figures
    summary.write_text(json.dumps(data, indent=1, ensure_ascii=False) + "\n")
    print(figures)


def citation_marks(home: Path, summary: Path) -> None:
    """On the answers a summary holds: how many would a plain citation parse read differently from the answer
    check, which leaves out the sources' own reference marks inside verbatim quotes (answer_citations)."""
    os.environ["LOCALRAG_HOME"] = str(home)
    from localrag.answer import answer_citations, parse_citations
    from localrag.config import load_settings
    from localrag.engine import Engine

    engine = Engine(load_settings())
    data = json.loads(summary.read_text())
    counts = {mode: {"answers": 0, "read_differently": 0, "invalid_by_plain_parse": 0, "invalid_now": 0}
              for mode in ("generate", "extract")}
    for record in data["records"]:
        hits = engine.search(record["question"], k=engine.settings.top_k)
        for mode, count in counts.items():
            text = record[mode]["text"]
            plain, checked = parse_citations(text, len(hits)), answer_citations(text, hits)
            count["answers"] += 1
            count["read_differently"] += plain != checked
            count["invalid_by_plain_parse"] += bool(plain[1])
            count["invalid_now"] += bool(checked[1])
    data["citation_marks"] = counts
    summary.write_text(json.dumps(data, indent=1, ensure_ascii=False) + "\n")
    print(counts)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--covid", type=int, default=120, help="COVID-QA questions (0: none)")
    parser.add_argument("--select", type=int, default=60, help="the first N COVID-QA questions chose the rule")
    parser.add_argument("--home", type=Path, default=_corpus.RESULTS / "tune_retriever_home_98")
    parser.add_argument("--model", default="")
    parser.add_argument("--summary", type=Path, default=SUMMARIES / "extract_vs_generate.json")
    parser.add_argument("--evidence-cost", action="store_true",
                        help="only time the evidence rule over the COVID-QA questions' sources, into --summary")
    parser.add_argument("--citation-marks", action="store_true",
                        help="only count, on the COVID-QA answers in --summary, the sources' reference marks that a "
                        "plain citation parse would read as citations")
    args = parser.parse_args()
    if args.citation_marks:
        citation_marks(args.home.resolve(), args.summary)
        return
    if args.evidence_cost:
        evidence_cost(args.home.resolve(), [q for q, _ in covid_items(args.covid)], args.summary)
        return
    from localrag.config import load_settings
    from localrag.engine import Engine
    from localrag.evaluate.metrics import substring_hit, token_f1
    from localrag.ingest.discover import sample_corpus_dir

    summary: dict[str, Any] = {"command": " ".join(sys.argv), "sets": {}}
    sample_home = Path(scratch_dir(prefix="localrag-extract-"))
    os.environ["LOCALRAG_HOME"] = str(sample_home)
    Engine(load_settings(model=args.model or None)).ingest([sample_corpus_dir()])
    sample = answers(sample_home, [q for q, _, _ in QUESTIONS], args.model)
    expected = {q: e.split("|") for q, e, _ in QUESTIONS}
    summary["sets"]["sample corpus"] = scored(
        sample, lambda r, text: float(any(e in text.lower() for e in expected[r["question"]])), "expected words")
    summary["sets"]["sample corpus"]["records"] = sample
    if args.covid:
        items = covid_items(args.covid)
        gold = dict(items)
        covid = answers(args.home.resolve(), [q for q, _ in items], args.model)
        for name, part in (("COVID-QA, rule chosen here", covid[:args.select]),
                           ("COVID-QA, held out", covid[args.select:])):
            if not part:
                continue
            summary["sets"][name] = scored(part, lambda r, text: token_f1(text, gold[r["question"]]), "token F1")
            summary["sets"][name]["contains"] = {
                kind: sum(substring_hit(r[key]["text"] if key != "evidence" else r[key], gold[r["question"]])
                          for r in part)
                for kind, key in (("generate", "generate"), ("extract", "extract"), ("evidence", "evidence"))}
        summary["records"] = covid
    summary["load_average"] = os.getloadavg()
    args.summary.write_text(json.dumps(summary, indent=1, ensure_ascii=False) + "\n")
    for name, s in summary["sets"].items():
        print(name, {k: v for k, v in s.items() if k != "records"})


if __name__ == "__main__":
    main()
