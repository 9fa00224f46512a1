"""Graph mode against plain RAG over the same facts, on WC-P2 (two-hop football questions).

    .venv/bin/python benchmarks/bench_graph_vs_rag.py [--limit 300] [--link text|topic] [--reasoner paths|model]
        [--skip-rag] [--skip-graph] [--rag-limit N] [--max-answer-tokens 96] [--quick]

Graph mode: WC2014.txt (6,482 triples) imported into a GraphStore in a temp dir, and each question
answered by `localrag.graph.kgqa.run_kgqa`: linking from the question text (`--link text`, the
default, as the assistant does; `--link topic` takes the data set's topic entity), the embedding
planner with the bundled MiniLM, paths followed, the answer ranked from the paths (`--reasoner
model` lets the bundled SmolLM2-135M pick the path instead). Scored by Hits@1 (top answer in the
answer set), answer F1 and path accuracy (top-1 planned relation path == the gold one).

Plain RAG: the same facts written as one sentence each ("Alan PULIDO plays in club Tigres UANL.";
a triple and its `_inverse` are one fact, so 3,977 sentences), each sentence one document, ingested
with `Engine.ingest` into a fresh store (LOCALRAG_HOME in the temp dir), then `Engine.ask` (hybrid
retrieval, top_k and temperature from the default settings, the bundled SmolLM2-135M; the answer
budget is `--max-answer-tokens`, 96 by default instead of the settings' 320, since the answer is one
name and a 135M model fills any budget it is given: on 2 shared cores 320 made a 50-question run
take over 20 minutes). A hit: any gold answer name (underscores as spaces, case-insensitive, whole words)
appears in the answer text: more lenient than Hits@1, so the comparison favours RAG. RAG has no
relation path, so no path accuracy; "answer in sources" says whether retrieval put a sentence
naming the answer into the prompt. `--quick` = 50 questions. The data is read in place.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from localrag.graph.kgqa import KGQAQuestion, fact_sentences, load_wc2014, read_triples, run_kgqa  # noqa: E402

DATA = ROOT.parent / "shared" / "data" / "wc2014_kgqa" / "data"


def mentions(text: str, names: tuple[str, ...]) -> bool:
    """Whether any name (underscores as spaces) occurs in the text as whole words, ignoring case."""
    low = " ".join(text.lower().replace("_", " ").split())
    return any(re.search(rf"(?<!\w){re.escape(n.lower().replace('_', ' '))}(?!\w)", low) for n in names)


def run_graph(questions: list[KGQAQuestion], work: Path, args: argparse.Namespace) -> None:
    from localrag.embed import SentenceTransformerEmbedder
    from localrag.models import bundled_embedder_path, bundled_generator_path

    embedder = SentenceTransformerEmbedder(bundled_embedder_path())
    generator = None
    if args.reasoner == "model":
        from localrag.generate import LlamaGenerator

        generator = LlamaGenerator(bundled_generator_path(), n_ctx=2048)
    started = time.perf_counter()
    result = run_kgqa(questions[:1], embedder=embedder, work_dir=work, generator=generator, reasoner=args.reasoner,
                      link=args.link)
    print(f"graph: triples imported and index loaded in {time.perf_counter() - started:.1f} s")
    result = run_kgqa(questions, embedder=embedder, work_dir=work, generator=generator, reasoner=args.reasoner,
                      link=args.link)
    s = result.summary
    print(
        f"graph mode (planner=embedding, link={s.link}, reasoner={s.reasoner}): Hits@1 {s.hits_at_1:.3f}, "
        f"answer F1 {s.answer_f1:.3f}, path accuracy {s.path_accuracy:.3f}, topic linked {s.linked:.3f}, "
        f"{s.seconds_per_question * 1000:.0f} ms/question over {s.questions} questions"
    )


def run_rag(questions: list[KGQAQuestion], home: Path, max_answer_tokens: int) -> None:
    os.environ["LOCALRAG_HOME"] = str(home)
    from localrag.config import load_settings
    from localrag.engine import Engine

    facts = fact_sentences(read_triples(DATA / "WC2014.txt"))
    docs = home / "facts"
    docs.mkdir(parents=True)
    for number, sentence in enumerate(facts.values(), start=1):
        (docs / f"fact-{number:05d}.txt").write_text(sentence + "\n", encoding="utf-8")
    engine = Engine(load_settings(max_answer_tokens=max_answer_tokens))
    started = time.perf_counter()
    report = engine.ingest([docs])
    ingest_s = time.perf_counter() - started
    print(f"rag: {len(facts)} fact sentences ingested as documents in {ingest_s:.1f} s ({report})"[:300])
    hits = in_sources = refused = 0
    seconds: list[float] = []
    misses: list[str] = []
    for done, q in enumerate(questions, start=1):
        if done % 10 == 0:
            print(f"  rag: {done - 1} questions, {hits} hits so far", flush=True)
        t0 = time.perf_counter()
        answer = engine.ask(q.question)
        seconds.append(time.perf_counter() - t0)
        hit = mentions(answer.text, q.answers)
        hits += hit
        refused += answer.refused
        in_sources += any(mentions(h.chunk.text, q.answers) for h in answer.sources)
        if not hit and len(misses) < 3:
            misses.append(f"  miss: {q.question!r} -> {answer.text.strip()[:160]!r} (gold {q.answers[0]})")
    n = len(questions)
    print(
        f"plain RAG (bundled {engine.model_name()}, top_k {engine.settings.top_k}): hit {hits / n:.3f}, "
        f"answer in sources {in_sources / n:.3f}, refused {refused / n:.3f}, "
        f"{statistics.median(seconds):.2f} s/question median over {n} questions"
    )
    print("\n".join(misses))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--limit", type=int, default=300)
    parser.add_argument("--link", choices=["text", "topic"], default="text")
    parser.add_argument("--reasoner", choices=["paths", "model"], default="paths")
    parser.add_argument("--skip-rag", action="store_true")
    parser.add_argument("--skip-graph", action="store_true")
    parser.add_argument("--max-answer-tokens", type=int, default=96)
    parser.add_argument("--rag-limit", type=int, default=None, help="RAG on only the first N of the questions")
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    questions = load_wc2014(DATA / "WC-P2.txt", limit=50 if args.quick else args.limit)
    with tempfile.TemporaryDirectory() as tmp:
        if not args.skip_graph:
            run_graph(questions, Path(tmp) / "kg", args)
        if not args.skip_rag:
            run_rag(questions[: args.rag_limit], Path(tmp) / "home", args.max_answer_tokens)


if __name__ == "__main__":
    main()
