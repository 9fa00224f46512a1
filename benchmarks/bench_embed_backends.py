"""Embedding runtimes side by side: torch (sentence-transformers) vs ONNX Runtime float32 vs quantized exports.

    .venv/bin/python benchmarks/bench_embed_backends.py [--sets covid,hotpotqa,musique] [--speed-chunks 300]
        [--rounds 3] [--threads N] [--recipes dyn-pc,nbits8-b32,...] [--summary PATH]

Sets. HotpotQA and MuSiQue: every corpus paragraph is one chunk ("title\\ntext", what ingest embeds),
scored as bench_recall.py does (recall@5 of the gold paragraphs, MRR of the first one). COVID-QA: the
98 articles read by localrag's text loader and cut by its chunker with the default settings (what
ingest embeds: `embedding_text`); 200 of the 1,380 questions drawn with random.Random(7)
(bench_tune_retriever.gold_questions); article-level hit@5 (a top-5 chunk from the question's
article) and the MRR of the first such chunk.

Speed: the runtimes embed the same first `--speed-chunks` chunks in alternating rounds (torch, onnx,
onnx-int8, each recipe, then again on the next slice), so a change in the machine's load hits all
alike; chunks/s is chunks over the summed seconds of each runtime. Query p50: each question
embedded alone. `--threads N` gives torch and ONNX Runtime N intra-op threads (0: their defaults).

Quality: every chunk embedded by each ONNX runtime (vectors cached in benchmarks/results/) goes into
a real Store; the dense leg's and the engine's hybrid search's recall@5 / MRR. Torch's quality is the
float ONNX one: their vectors agree to the `onnx_vs_torch_max_abs_diff` measured on the speed chunks.

`--runtimes` may add `torch-bf16` (sentence-transformers with bf16 weights, on a CPU with native bf16),
`openvino` and `openvino-bf16` (OpenVINO compiling the float export): each is timed like the others and
scored on its own vectors like the quantized exports.

Recipes (`--recipes`, candidates for the `onnx-int8` export, made here from the cached float export and
kept in benchmarks/results/int8_recipes/): `onnx-int8` is the product's own export; RECIPES below are
the alternatives tried. The `nbits` ones need the onnx-ir package (ONNX Runtime's MatMulNBits quantizer
imports it), which localrag itself does not depend on. Writes benchmarks/summaries/embed_backends.json
unless `--summary` says otherwise.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import _corpus  # noqa: E402
import bench_recall  # noqa: E402
import bench_tune_retriever  # noqa: E402

from localrag.embed import load_embedder  # noqa: E402
from localrag.embed_onnx import OnnxEmbedder, ensure_export  # noqa: E402
from localrag.models import bundled_embedder_path  # noqa: E402
from localrag.retrieve import Retriever  # noqa: E402
from localrag.store import Store  # noqa: E402
from localrag.types import Chunk, Document  # noqa: E402

SUMMARY = Path(__file__).resolve().parent / "summaries" / "embed_backends.json"
RECIPE_DIR = _corpus.RESULTS / "int8_recipes"
# (docs, chunks, embedded texts, questions with their gold doc ids)
Corpus = tuple[list[Document], list[Chunk], list[str], list[tuple[str, set[str]]]]


def _paragraph_set(loader: Callable[[], tuple[list[tuple[str, str]], list[tuple[str, set[str]]]]], tag: str) -> Corpus:
    paragraphs, questions = loader()
    docs, chunks = bench_recall.paragraph_chunks(paragraphs, tag)
    return docs, chunks, [f"{title}\n{text}" for title, text in paragraphs], questions


def covid(embedder) -> Corpus:  # type: ignore[no-untyped-def]
    """The 98 COVID-QA articles as ingest reads, cuts and embeds them; gold = the question's article."""
    from localrag.config import Settings
    from localrag.ingest.chunker import chunk_document
    from localrag.ingest.loaders import load_file
    from localrag.ingest.pipeline import embedding_text
    from localrag.ingest.readings import chunk_size

    settings = Settings()
    docs: list[Document] = []
    chunks: list[Chunk] = []
    texts: list[str] = []
    with tempfile.TemporaryDirectory() as tmp:
        bench_tune_retriever.write_articles(Path(tmp), 98)
        for path in sorted(Path(tmp).iterdir()):
            article = str(bench_tune_retriever.article_of(str(path)))
            loaded = load_file(path, ocr=False)
            cut = chunk_document(loaded, doc_id=article, path=f"/covid/{path.name}", file_type="txt",
                                 token_counts=embedder.token_counts,
                                 max_tokens=chunk_size(settings, embedder.max_tokens),
                                 overlap=settings.chunk_overlap)
            docs.append(Document(article, f"/covid/{path.name}", "txt", article, len(loaded.text), 0.0,
                                 loaded.title, len(cut)))
            chunks += cut
            texts += [embedding_text(c, loaded.title) for c in cut]
    questions = [(q, {str(article)}) for q, article in bench_tune_retriever.gold_questions(98)]
    return docs, chunks, texts, questions


def _matmuls(float_file: Path, keep: Callable[[str], bool]) -> list[str]:
    """Names of the float export's MatMul nodes for which `keep(name)` holds."""
    import onnx

    graph = onnx.load(str(float_file), load_external_data=False).graph
    return [n.name for n in graph.node if n.op_type == "MatMul" and keep(n.name)]


def _is_ffn_out(name: str) -> bool:
    return "/output/dense/" in name and "/attention/" not in name


def _dynamic(exclude: Callable[[str], bool] | None = None, ops: tuple[str, ...] = ("MatMul",),
             **options: object) -> Callable[[Path, Path], None]:
    def make(float_file: Path, target: Path) -> None:
        import onnx
        from onnxruntime.quantization import QuantType, quantize_dynamic

        # The fused graph's contrib ops defeat shape inference; their tensors are float.
        kwargs: dict[str, object] = {"per_channel": True, "weight_type": QuantType.QInt8,
                                     "extra_options": {"DefaultTensorType": onnx.TensorProto.FLOAT}, **options}
        if kwargs["weight_type"] == "u8":
            kwargs["weight_type"] = QuantType.QUInt8
        excluded = _matmuls(float_file, exclude) if exclude else []
        if exclude and not excluded:
            raise SystemExit(f"no MatMul of {float_file} is to be kept in float: the node names changed")
        print(f"kept in float: {excluded}", file=sys.stderr, flush=True)
        quantize_dynamic(str(float_file), str(target), op_types_to_quantize=list(ops),
                         nodes_to_exclude=excluded, **kwargs)
    return make


def _nbits(bits: int, block: int, level: int = 4, only: Callable[[str], bool] | None = None,
           then: Callable[[Path, Path], None] | None = None) -> Callable[[Path, Path], None]:
    """Weight-only blockwise quantization (MatMulNBits); `only`: of these MatMuls; then `then` on the rest."""
    def make(float_file: Path, target: Path) -> None:
        import onnx
        from onnxruntime.quantization.matmul_nbits_quantizer import MatMulNBitsQuantizer

        include = _matmuls(float_file, only) if only else None
        quantizer = MatMulNBitsQuantizer(onnx.load(str(float_file)), bits=bits, block_size=block,
                                         is_symmetric=True, accuracy_level=level, op_types_to_quantize=("MatMul",),
                                         nodes_to_include=include)
        quantizer.process()
        middle = target.with_suffix(".nbits.tmp") if then else target
        quantizer.model.save_model_to_file(str(middle), False)
        if then:
            try:
                then(middle, target)
            finally:
                middle.unlink(missing_ok=True)
    return make


def _fused(then: Callable[[Path, Path], None] | None = None) -> Callable[[Path, Path], None]:
    """ONNX Runtime's offline BERT fusions (attention, layer norms, GELU) first; then `then`, if any."""
    def make(float_file: Path, target: Path) -> None:
        from onnxruntime.transformers.optimizer import optimize_model

        fused = optimize_model(str(float_file), model_type="bert", num_heads=12, hidden_size=384)
        print(f"fused: {fused.get_fused_operator_statistics()}", file=sys.stderr, flush=True)
        if then is None:
            fused.save_model_to_file(str(target))
            return
        middle = target.with_suffix(".fused.tmp")
        fused.save_model_to_file(str(middle))
        try:
            then(middle, target)
        finally:
            middle.unlink(missing_ok=True)
    return make


RECIPES: dict[str, Callable[[Path, Path], None]] = {
    "fused": _fused(),
    "fused-dyn-pc": _fused(_dynamic(ops=("MatMul", "Attention"))),
    "fused-nbits8-b32": _fused(_nbits(8, 32)),
    "fused-dyn-pc-keep-ffn-out": _fused(_dynamic(exclude=_is_ffn_out)),
    "fused-ffn-out-nbits8-dyn-pc": _fused(_nbits(8, 32, only=_is_ffn_out, then=_dynamic())),
    "fused-dyn-pc-keep-last": _fused(_dynamic(exclude=lambda name: "layer.5/" in name)),
    "dyn-pc": _dynamic(),  # what onnx-int8 was before this round: MatMul weights int8 per channel
    "dyn-pt": _dynamic(per_channel=False),
    "dyn-pc-u8": _dynamic(weight_type="u8"),
    "dyn-pc-rr": _dynamic(reduce_range=True),
    "dyn-pc-keep-ffn-out": _dynamic(exclude=_is_ffn_out),
    "dyn-pc-keep-last": _dynamic(exclude=lambda name: "layer.5/" in name),
    "dyn-pc-keep-first-last": _dynamic(exclude=lambda name: "layer.5/" in name or "layer.0/" in name),
    "nbits8-b32": _nbits(8, 32),
    "nbits8-b128": _nbits(8, 128),
    "nbits4-b32": _nbits(4, 32),
}


def recipe_file(folder: Path, name: str) -> Path:
    """The recipe's export of `folder`'s float export (made once, kept in results/)."""
    float_file = ensure_export(folder, "onnx")
    target = RECIPE_DIR / f"{float_file.parent.name}-{name}.onnx"
    if not target.is_file():
        RECIPE_DIR.mkdir(parents=True, exist_ok=True)
        tmp = target.with_suffix(".tmp")
        RECIPES[name](float_file, tmp)
        tmp.replace(target)
    return target


def timed_embedding(embedders: dict, texts: list[str], rounds: int) -> tuple[dict, dict, dict]:  # type: ignore[type-arg]
    """(wall seconds, CPU seconds of this process, vectors) per runtime."""
    seconds = dict.fromkeys(embedders, 0.0)
    cpu = dict.fromkeys(embedders, 0.0)
    parts: dict[str, list[np.ndarray]] = {name: [] for name in embedders}
    bounds = np.linspace(0, len(texts), rounds + 1).astype(int)
    for start, end in zip(bounds[:-1], bounds[1:], strict=True):
        for name, embedder in embedders.items():
            began, began_cpu = time.perf_counter(), time.process_time()
            parts[name].append(embedder.embed(texts[start:end]))
            seconds[name] += time.perf_counter() - began
            cpu[name] += time.process_time() - began_cpu
    return seconds, cpu, {name: np.concatenate(p) for name, p in parts.items()}


def query_p50(embedder, questions: list[str]) -> float:  # type: ignore[no-untyped-def]
    times = []
    for question in questions:
        began = time.perf_counter()
        embedder.embed_queries([question])
        times.append(time.perf_counter() - began)
    return statistics.median(times) * 1000


def corpus_store(folder: Path, embedder_name: str, corpus: Corpus, vectors: np.ndarray) -> Store:
    """A real Store in `folder` holding the corpus's documents and chunks with `vectors`, in 256-document commits."""
    docs, chunks, _, _ = corpus
    of_doc: dict[str, list[Chunk]] = {}
    for chunk in chunks:
        of_doc.setdefault(chunk.doc_id, []).append(chunk)
    store = Store(folder / "db", embedder_name=embedder_name, dim=vectors.shape[1])
    row = 0
    for start in range(0, len(docs), 256):
        batch = docs[start : start + 256]
        batch_chunks = [c for d in batch for c in of_doc.get(d.doc_id, [])]
        store.write_batch(batch, batch_chunks, vectors[row : row + len(batch_chunks)])
        row += len(batch_chunks)
    store.refresh_indexes()
    return store


def quality(embedder, corpus: Corpus, vectors: np.ndarray, queries=None) -> dict[str, float]:  # type: ignore[no-untyped-def]
    """Retrieval over `vectors` (made by `embedder`); the questions embedded by `queries` (default: the same)."""
    queries = queries or embedder
    questions = corpus[3]
    with tempfile.TemporaryDirectory() as tmp:
        store = corpus_store(Path(tmp), embedder.name, corpus, vectors)
        retriever = Retriever(store, queries)
        dense, hybrid = [], []
        query_vectors = queries.embed_queries([q for q, _ in questions])
        for (question, gold), vector in zip(questions, query_vectors, strict=True):
            dense.append(bench_recall.score([c.doc_id for c, _ in store.vector_search(vector, 20)], gold))
            top = [h.chunk.doc_id for h in retriever.search(question, 5)]
            deep = [h.chunk.doc_id for h in retriever.search(question, 20)]
            hybrid.append((bench_recall.score(top, gold)[0], bench_recall.score(deep, gold)[1]))
    return {
        "dense_recall@5": round(float(np.mean([r for r, _ in dense])), 4),
        "dense_mrr": round(float(np.mean([m for _, m in dense])), 4),
        "hybrid_recall@5": round(float(np.mean([r for r, _ in hybrid])), 4),
        "hybrid_mrr": round(float(np.mean([m for _, m in hybrid])), 4),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sets", default="hotpotqa", help="comma-separated: covid, hotpotqa, musique")
    parser.add_argument("--speed-chunks", type=int, default=300, help="chunks timed with every runtime")
    parser.add_argument("--rounds", type=int, default=3, help="alternating timing rounds")
    parser.add_argument("--threads", type=int, default=0, help="intra-op threads of every runtime (0: defaults)")
    parser.add_argument("--runtimes", default="torch,onnx,onnx-int8",
                        help="localrag's own runtimes to include (torch and onnx are the references)")
    parser.add_argument("--recipes", default="", help=f"comma-separated quantization candidates: {', '.join(RECIPES)}")
    parser.add_argument("--speed-only", action="store_true", help="timing and cosines on the speed chunks only")
    parser.add_argument("--quality-only", action="store_true", help="retrieval only: skip the timing")
    parser.add_argument("--summary", type=Path, default=SUMMARY)
    args = parser.parse_args()
    if args.threads:
        import torch

        torch.set_num_threads(args.threads)
    folder = bundled_embedder_path()
    embedders = {name: load_embedder(folder, name, batch_size=32, threads=args.threads)
                 for name in args.runtimes.split(",")}
    # OpenVINO compiles the float export into vectors of its own: its cache tag is its name, not the file.
    exports = {name: ensure_export(folder, name) for name in embedders if name.startswith("onnx")}
    for name in filter(None, args.recipes.split(",")):
        exports[name] = recipe_file(folder, name)
        embedders[name] = OnnxEmbedder(folder, onnx_file=exports[name], threads=args.threads)
        embedders[name].name += f"+{name}"
    for embedder in embedders.values():
        embedder.embed(["warm up: loads the model, makes the ONNX export if it is not cached"])
    summary: dict[str, object] = {"command": " ".join(["benchmarks/bench_embed_backends.py", *sys.argv[1:]]),
                                  "threads": args.threads, "sets": {}}
    loaders = {
        "covid": lambda: covid(embedders["onnx"]),
        "hotpotqa": lambda: _paragraph_set(bench_recall.hotpot, "hotpotqa"),
        "musique": lambda: _paragraph_set(bench_recall.musique, "musique"),
    }
    for set_name in args.sets.split(","):
        corpus = loaders[set_name]()
        texts, questions = corpus[2], corpus[3]
        row: dict[str, object] = {"chunks": len(texts), "questions": len(questions), "backends": {}}
        backends: dict[str, dict[str, object]] = row["backends"]  # type: ignore[assignment]
        if not args.quality_only:
            sample = texts[: args.speed_chunks]
            seconds, cpu, vectors = timed_embedding(embedders, sample, args.rounds)
            row["speed_chunks"] = len(sample)
            row["load_average"] = " ".join(Path("/proc/loadavg").read_text().split()[:3])
            row["onnx_vs_torch_max_abs_diff"] = float(np.abs(vectors["onnx"] - vectors["torch"]).max())
            for name, embedder in embedders.items():
                backends[name] = {
                    "chunks_per_s": round(len(sample) / seconds[name], 1),
                    "speedup_vs_torch": round(seconds["torch"] / seconds[name], 2),
                    # With one thread each (--threads 1), CPU time is the work done, whatever the load.
                    "cpu_s_per_chunk": round(cpu[name] / len(sample), 4),
                    "cpu_speedup_vs_torch": round(cpu["torch"] / cpu[name], 2),
                    "query_p50_ms": round(query_p50(embedder, [q for q, _ in questions]), 2),
                }
                if name not in ("torch", "onnx"):
                    cosines = (vectors[name] * vectors["onnx"]).sum(axis=1)
                    backends[name]["speed_chunks_cosine_to_float_mean"] = round(float(cosines.mean()), 5)
                    backends[name]["speed_chunks_cosine_to_float_min"] = round(float(cosines.min()), 5)
                print(f"{set_name} {name}: {json.dumps(backends[name])}", flush=True)
        float_vectors = None
        for name, embedder in embedders.items():
            if name == "torch" or args.speed_only:
                continue
            # Keyed by the export file, so a changed recipe is never scored with an older one's vectors.
            export = exports.get(name)
            tag = f"{set_name}-{export.parent.name}-{export.stem}" if export else f"{set_name}-{name}"
            everything = _corpus.cached_vectors(texts, tag, embedder)
            if name == "onnx":
                float_vectors = everything
            entry = backends.setdefault(name, {})
            entry.update(quality(embedder, corpus, everything))
            if float_vectors is not None and name != "onnx":  # only the chunks quantized, the questions float
                mixed = quality(embedder, corpus, everything, queries=embedders["onnx"])
                entry.update({f"float_queries_{key}": value for key, value in mixed.items()})
            if float_vectors is not None and name != "onnx":
                cosines = (everything * float_vectors).sum(axis=1)
                entry["cosine_to_float_mean"] = round(float(cosines.mean()), 4)
                entry["cosine_to_float_min"] = round(float(cosines.min()), 4)
            print(f"{set_name} {name}: {json.dumps(entry)}", flush=True)
        summary["sets"][set_name] = row  # type: ignore[index]
        print(json.dumps({set_name: row}, indent=2), flush=True)
        args.summary.parent.mkdir(parents=True, exist_ok=True)
        args.summary.write_text(json.dumps(summary, indent=2) + "\n")


if __name__ == "__main__":
    main()
