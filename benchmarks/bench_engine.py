"""End-to-end engine overheads, each as a ratio against the raw library doing the same work.

1. Ingest throughput: `Engine.ingest` over COVID-QA articles written as text files, against raw
   sentence-transformers `encode` of exactly the chunks the ingest produced (model loaded in both).
   Goal: ours / raw >= 0.85.
2. Ask overhead before the first token: `Engine.stream` from the call to the first token, minus raw
   llama-cpp-python `create_chat_completion(stream=True)` on the very same messages to its first
   token (a separate Llama on the same file and threads). What is left is retrieval, prompt fitting
   and our streaming wrapper. Goal: <= 50 ms at the median.

    .venv/bin/python benchmarks/bench_engine.py            # 40 articles, 12 questions
    .venv/bin/python benchmarks/bench_engine.py --quick    # 10 articles, 6 questions
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

from _scratch import scratch_dir

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data" / "covidqa" / "data" / "question-answering" / "200423_covidQA.json"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    n_articles, n_questions = (10, 6) if args.quick else (40, 12)
    home = scratch_dir(prefix="localrag-bench-")
    os.environ["LOCALRAG_HOME"] = home
    sys.path.insert(0, str(ROOT))

    from llama_cpp import Llama

    from localrag.answer import build_messages
    from localrag.config import load_settings
    from localrag.engine import Engine
    from localrag.ingest.pipeline import embedding_text
    from localrag.models import bundled_generator_path
    from localrag.types import TokenEvent

    covid = json.loads(DATA.read_text())["data"][:n_articles]
    corpus = Path(home) / "corpus"
    corpus.mkdir()
    questions: list[str] = []
    for i, article in enumerate(covid):
        para = article["paragraphs"][0]
        (corpus / f"article_{i:03d}.txt").write_text(para["context"])
        questions.append(para["qas"][0]["question"])

    engine = Engine(load_settings())
    engine.embedder.embed(["warm up"])
    t0 = time.perf_counter()
    report = engine.ingest([corpus])
    ours = time.perf_counter() - t0
    docs = {d.doc_id: d for d in engine.documents()}
    texts = [
        embedding_text(c, docs[c.doc_id].title) for d in docs.values() for c in engine.store.doc_chunks(d.doc_id)
    ]
    model = engine.embedder._load()  # noqa: SLF001 - the raw library is the point of comparison
    t0 = time.perf_counter()
    model.encode(texts, batch_size=engine.settings.embed_batch_size, normalize_embeddings=True)
    raw = time.perf_counter() - t0
    print(f"ingest: {report.added} files, {report.chunks_written} chunks")
    print(f"  ours {report.chunks_written / ours:7.1f} chunks/s   raw encode {len(texts) / raw:7.1f} chunks/s"
          f"   ratio {raw / ours:.3f} (goal >= 0.85)")

    settings = engine.settings
    raw_llm = Llama(model_path=str(bundled_generator_path()), n_ctx=settings.n_ctx,
                    n_threads=settings.n_threads or os.cpu_count(), verbose=False)
    engine.warm_up()
    overheads, ours_ttft, raw_ttft = [], [], []
    for question in questions[:n_questions]:
        t0 = time.perf_counter()
        for event in engine.stream(question):
            if isinstance(event, TokenEvent):
                ours_ttft.append(time.perf_counter() - t0)
                break
        hits = engine.search(question)
        messages, _ = build_messages(question, hits, engine.generator, max_answer_tokens=settings.max_answer_tokens)
        t0 = time.perf_counter()
        for chunk in raw_llm.create_chat_completion(messages=messages, stream=True, max_tokens=8, temperature=0):
            if chunk["choices"][0]["delta"].get("content"):
                raw_ttft.append(time.perf_counter() - t0)
                break
        overheads.append(ours_ttft[-1] - raw_ttft[-1])
    print(f"first token: ours p50 {statistics.median(ours_ttft) * 1000:.0f} ms, "
          f"raw p50 {statistics.median(raw_ttft) * 1000:.0f} ms, "
          f"overhead p50 {statistics.median(overheads) * 1000:.0f} ms (goal <= 50 ms) over {len(overheads)} questions")


if __name__ == "__main__":
    main()
