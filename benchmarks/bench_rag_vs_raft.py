"""The issue's result: the bundled 135M model with RAG versus the same model RAFT-tuned, also with RAG.

    .venv/bin/python benchmarks/bench_rag_vs_raft.py --quick            # minutes: the chain runs end to end
    .venv/bin/python benchmarks/bench_rag_vs_raft.py --dataset covidqa --pairs 400 --steps 200 --questions 100
    # a second configuration beside the first, reusing its base-model answers (same questions and prompt):
    .venv/bin/python benchmarks/bench_rag_vs_raft.py --dataset covidqa --name raft-covidqa-2 --p-oracle 1.0 \
        --out benchmarks/results/raft-covidqa-2 --base-records benchmarks/results/raft-covidqa/eval

1. The data set's documents are split with `localrag.evaluate.datasets.split_documents` (seeded hash
   of the document id; PubMedQA: its official test list). Only train-side documents are ingested for
   training, and only train-side questions become Q&A pairs.
2. The gold Q&A of the train side -> a JSONL file (question, answer, document file name) ->
   `build_raft(qa_files=...)`: the import attaches each pair to the chunk holding the answer, adds 4
   hard distractors from the train-side index with P(oracle) = 0.8, CoT with verified quotes.
   For PubMedQA the "answer" is the yes/no/maybe label (with the eval's " Answer yes, no or maybe."
   on the question, so the training prompt is the evaluation prompt) and the abstract's conclusion
   (LONG_ANSWER, which is not part of the abstract text) is the pair's evidence: the chain of thought
   quotes the abstract sentence closest to it, and the pair is located by that sentence.
3. `finetune()` (transformers + peft on CPU here) for --steps steps -> `export_model()` to Q8_0 GGUF.
4. `run_eval` over test-side questions with the full corpus in a fresh index, models bundled and
   the tuned one, mode rag, the same RAG prompt; the tuned model's text after `<ANSWER>:` is scored.
   The report's paired bootstrap interval of (tuned - base) on the headline metric is the result.

Everything is cached under --out (default benchmarks/results/raft-<dataset>[-quick]): each stage
resumes (RAFT build, fine-tune checkpoints, eval records), so the command can be re-run after a stop.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from localrag.config import Settings, load_settings  # noqa: E402
from localrag.evaluate.datasets import EvalDataset, load_dataset, side, split_documents  # noqa: E402
from localrag.evaluate.report import format_figure, write_report  # noqa: E402
from localrag.evaluate.runner import (  # noqa: E402
    LABEL_INSTRUCTION,
    RECORDS_FILE,
    EvalConfig,
    append_record,
    prepare,
    read_records,
    run_eval,
    score_record,
)
from localrag.jsonl import write_jsonl  # noqa: E402
from localrag.raft.qa import content_words  # noqa: E402
from localrag.sentences import sentence_spans  # noqa: E402

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
FOLDERS = {"covidqa": "covidqa", "pubmedqa": "pubmedqa_pqal"}
_SENTENCE = re.compile(r"(?<=[.!?])\s+")
QUOTE_SUFFIX = "+quote"


def _log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def train_index(dataset: EvalDataset, out: Path, settings: Settings, max_documents: int | None = None):  # type: ignore[no-untyped-def]
    """Train-side documents in their own store; returns (store, embedder, name -> doc id).

    With `max_documents`, only the first that many train-side documents holding questions (quick runs)."""
    from localrag.embed import SentenceTransformerEmbedder
    from localrag.evaluate.runner import build_index
    from localrag.models import bundled_embedder_path

    sides = split_documents(dataset)
    train_docs = [d for d in dataset.documents if sides[d.doc_id] == "train"]
    if max_documents is not None:
        wanted = list(dict.fromkeys(q.gold_ids[0] for q in side(dataset, "train").questions))[:max_documents]
        train_docs = [d for d in train_docs if d.doc_id in set(wanted)]
    train = EvalDataset(dataset.name, dataset.kind, dataset.source, [], train_docs)
    embedder = SentenceTransformerEmbedder(bundled_embedder_path(), batch_size=32)
    store = build_index(train, out, embedder, settings)
    names = json.loads((out / "corpus.json").read_text())
    return store, embedder, names


def closest_sentence(text: str, evidence: str) -> str:
    """The sentence of `text` sharing most content words with `evidence` (the first one on a tie)."""
    wanted = set(content_words(evidence))
    found = [text[a:b] for a, b in sentence_spans(text)] or [text]
    return max(found, key=lambda s: (len(wanted & set(content_words(s))), -found.index(s)))


def conclusions(dataset: EvalDataset) -> dict[str, str]:
    """PubMedQA: PMID -> the abstract's conclusion (LONG_ANSWER), the evidence for its label."""
    if dataset.name != "pubmedqa":
        return {}
    items = json.loads((Path(dataset.source) / "data" / "ori_pqal.json").read_text(encoding="utf-8"))
    return {pmid: str(item.get("LONG_ANSWER", "")) for pmid, item in items.items()}


def qa_file(dataset: EvalDataset, names: dict[str, str], path: Path, pairs: int) -> int:
    """Train-side gold Q&A as an import file for build_raft; returns how many lines were written."""
    by_id = {doc_id: name for name, doc_id in names.items()}
    texts = {d.doc_id: d.text for d in dataset.documents}
    evidence = conclusions(dataset)
    rows = []
    for q in side(dataset, "train").questions:
        doc = q.gold_ids[0]
        if doc not in by_id:
            continue
        if q.label is not None:
            because = evidence.get(doc, "")
            passage = closest_sentence(texts[doc], because) if because else _SENTENCE.split(texts[doc].strip())[0]
            rows.append({"question": q.question + LABEL_INSTRUCTION, "answer": q.label, "path": f"{by_id[doc]}.txt",
                         "passage": passage, "evidence": because})
        else:
            rows.append({"question": q.question, "answer": q.answers[0], "path": f"{by_id[doc]}.txt"})
        if len(rows) >= pairs:
            break
    write_jsonl(path, rows)
    return len(rows)


def reuse_base_records(source: Path, run_dir: Path) -> None:
    """Copy the bundled model's records of an earlier run into `run_dir` (resume then skips them), and its index."""
    if not (source / RECORDS_FILE).is_file():
        sys.exit(f"{source}: no {RECORDS_FILE} to reuse; give the eval folder of an earlier run")
    run_dir.mkdir(parents=True, exist_ok=True)
    have = {(r["spec"], r["mode"], r["qid"]) for r in read_records(run_dir)}
    copied = 0
    for record in read_records(source):
        if record["spec"] == "bundled" and (record["spec"], record["mode"], record["qid"]) not in have:
            append_record(run_dir, record)
            copied += 1
    _log(f"reused {copied} bundled-model records from {source}")
    # The same corpus indexed again costs ~10 minutes of one core. The index stores each document by its
    # resolved path, so this run's corpus folder is a link to the earlier one (its files, its paths) and the
    # index a copy of it: the ingest then finds every document unchanged. A real folder would add them twice.
    fresh = not (run_dir / "index").exists() and not (run_dir / "corpus").exists()
    if fresh and (source / "index").is_dir() and (source / "corpus").is_dir():
        (run_dir / "corpus").symlink_to((source / "corpus").resolve(), target_is_directory=True)
        shutil.copytree(source / "index", run_dir / "index")
        _log(f"reused the evaluation index of {source}")


def add_quote_records(dataset: EvalDataset, run_dir: Path, name: str, config: EvalConfig) -> int:
    """Records of `name` read the other way (Settings.raft_answer "quote"), as model NAME+quote.

    Each tuned record keeps its first verified quote (`quote_answer`); scored with that quote as the final
    answer (the model's own answer where it quoted nothing verifiable), the same replies give the
    inference-time option's figures and its paired difference with the base, with no second generation."""
    questions = {q.qid: q for q in prepare(dataset, config).questions}
    spec = f"{name}{QUOTE_SUFFIX}"
    have = {r["qid"] for r in read_records(run_dir) if r["spec"] == spec}
    added = 0
    for record in read_records(run_dir):
        if record["spec"] != name or record["qid"] in have or record["qid"] not in questions:
            continue
        derived = {**record, "spec": spec, "scored": record.get("quote_answer") or record["scored"]}
        derived["scores"] = score_record(derived, questions[record["qid"]], config.k)
        append_record(run_dir, derived)
        added += 1
    return added


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dataset", choices=tuple(FOLDERS), default="covidqa")
    parser.add_argument("--quick", action="store_true",
                        help="tiny budget: 3 train documents, 24 pairs, 4 steps, 4 questions over 8 documents")
    parser.add_argument("--pairs", type=int, default=400, help="train-side Q&A pairs for the RAFT set")
    parser.add_argument("--steps", type=int, default=200, help="optimizer steps")
    parser.add_argument("--lr", type=float, default=1e-4)
    parser.add_argument("--grad-accum", type=int, default=4, help="examples per optimizer step")
    parser.add_argument("--max-tokens", type=int, default=1024, help="training example length cap")
    parser.add_argument("--answer-tokens", type=int, default=128,
                        help="answer budget at evaluation; a RAFT chain of thought needs ~150 before <ANSWER>:")
    parser.add_argument("--questions", type=int, default=100, help="test-side questions evaluated")
    parser.add_argument("--max-documents", type=int, help="cut the evaluation corpus (quick runs)")
    parser.add_argument("--train-documents", type=int, help="index only this many train-side documents")
    parser.add_argument("--p-oracle", type=float, default=0.8, help="share of examples whose oracle is shown")
    parser.add_argument("--distractors", type=int, default=4, help="distractor documents per example")
    parser.add_argument("--cot", choices=("full", "short", "cite-first"), default="full",
                        help="chain of thought: full (up to two quotes and reasoning), short (one quote) or "
                             "cite-first (one quote after its document number)")
    parser.add_argument("--prompt-sentences", type=int, default=0,
                        help="RAFT examples in the sentence layout: the N best-scored sentences of the documents, as "
                             "the answer-time prompt shows them (0: whole documents)")
    parser.add_argument("--qa-source", choices=("gold", "model"), default="gold",
                        help="training questions: the data set's train-side gold pairs (written like the test "
                             "questions), or questions the bundled model writes from --pairs train-side chunks")
    parser.add_argument("--answer-weight", type=float, default=1.0,
                        help="loss weight of the final answer against the quote's 1")
    parser.add_argument("--eval-examples", type=int, default=32,
                        help="validation examples per validation pass during training (fewer: less CPU)")
    parser.add_argument("--name", help="the tuned model's name (default raft-DATASET)")
    parser.add_argument("--base-records", type=Path,
                        help="an earlier eval folder of this benchmark (same questions, k, answer tokens): "
                             "its bundled-model records are reused instead of answered again")
    parser.add_argument("--out", type=Path)
    parser.add_argument("--base-only", action="store_true",
                        help="only the bundled model's answers (no RAFT set, no training): records for --base-records")
    args = parser.parse_args()
    if args.quick:
        args.pairs, args.steps, args.questions = 24, 4, 4
        args.max_documents = args.max_documents or 8
        args.train_documents = args.train_documents or 3
    suffix = "-quick" if args.quick else ""
    out = args.out or Path(__file__).resolve().parent / "results" / f"raft-{args.dataset}{suffix}"
    out.mkdir(parents=True, exist_ok=True)
    if not DATA.is_dir():
        sys.exit(f"evaluation data not found at {DATA}")

    from localrag.models import bundled_generator_path
    from localrag.raft.build import build_raft
    from localrag.raft.dataset import RaftConfig
    from localrag.raft.qa import store_chunks
    from localrag.retrieve import Retriever
    from localrag.tune.config import FinetuneConfig
    from localrag.tune.export import export_model
    from localrag.tune.finetune import finetune

    started = time.perf_counter()
    dataset = load_dataset(DATA / FOLDERS[args.dataset], args.dataset)
    # Defaults and LOCALRAG_ variables (LOCALRAG_N_THREADS: a job given one core), never a user's config file.
    settings = load_settings(out / "no-config.toml", max_answer_tokens=args.answer_tokens)
    sides = split_documents(dataset)
    _log(f"{dataset.name}: {sum(v == 'train' for v in sides.values())} train / "
         f"{sum(v == 'test' for v in sides.values())} test documents")

    if args.base_only:
        base_config = EvalConfig(modes=("rag",), models=("bundled",), limit=args.questions,
                                 max_documents=args.max_documents, max_answer_tokens=args.answer_tokens)
        run_eval(dataset, out / "eval", base_config, settings=settings)
        write_report(out / "eval")
        print(f"base records: {out / 'eval'}; total {time.perf_counter() - started:.0f}s")
        return

    _log("indexing the train-side documents")
    store, embedder, names = train_index(dataset, out / "train", settings, args.train_documents)
    written = qa_file(dataset, names, out / "train_qa.jsonl", args.pairs)
    _log(f"{written} train-side Q&A pairs -> RAFT set")
    retriever = Retriever(store, embedder)
    if args.qa_source == "model":
        from localrag.generate import LlamaGenerator

        sources = {"generator": LlamaGenerator(bundled_generator_path(), n_ctx=2048), "max_chunks": args.pairs}
    else:
        sources = {"qa_files": [out / "train_qa.jsonl"]}
    raft = build_raft(out / "raft", store_chunks(store), **sources,  # type: ignore[arg-type]
                      search=lambda q, k: retriever.search(q, k), embedder=embedder,
                      config=RaftConfig(k=args.distractors, p_oracle=args.p_oracle, split=(0.9, 0.1, 0.0),
                                        cot=args.cot, prompt_sentences=args.prompt_sentences))
    _log(f"RAFT: {raft.qa.made} pairs kept, skipped {dict(raft.qa.skipped)}; examples per split "
         f"{ {k: v.get('examples') for k, v in raft.stats.items() if isinstance(v, dict) and 'examples' in v} }")

    config = FinetuneConfig(steps=args.steps, learning_rate=args.lr, grad_accum=args.grad_accum,
                            answer_weight=args.answer_weight, eval_examples=args.eval_examples,
                            max_tokens=args.max_tokens, eval_every=max(1, min(25, args.steps)),
                            save_every=max(1, min(25, args.steps)), warmup_steps=min(10, max(1, args.steps // 10)))
    t0 = time.perf_counter()

    def on_step(p) -> None:  # type: ignore[no-untyped-def]
        if p.step and (p.step % 5 == 0 or p.step == p.total):
            _log(f"step {p.step}/{p.total} loss {p.loss} val {p.val_loss} {p.steps_per_second:.3f} steps/s")

    tuned = finetune(out / "raft", out / "finetune", bundled_generator_path(), config, progress=on_step)
    train_seconds = time.perf_counter() - t0
    _log(f"fine-tune: {tuned.steps} steps, train loss {tuned.train_loss}, val loss {tuned.val_loss}, "
         f"{tuned.backend}, {tuned.seconds:.0f}s")
    models_dir = out / "models"
    name = args.name or f"raft-{args.dataset}"
    if not (models_dir / f"{name}.gguf").is_file():
        exported = export_model(out / "finetune", name, models_dir=models_dir, quant="Q8_0")
        _log(f"export: {exported.path} agreement F16 {exported.agreement_f16:.3f} Q8_0 {exported.agreement_quant:.3f}")
    os.environ["LOCALRAG_MODELS_DIR"] = str(models_dir)

    _log("evaluating base+RAG and tuned+RAG on the test side")
    eval_config = EvalConfig(modes=("rag",), models=("bundled", name), limit=args.questions,
                             max_documents=args.max_documents, max_answer_tokens=args.answer_tokens)
    if args.base_records:
        reuse_base_records(args.base_records, out / "eval")
    run_eval(dataset, out / "eval", eval_config, settings=settings)
    _log(f"{add_quote_records(dataset, out / 'eval', name, eval_config)} records scored with the quote as answer")
    summary = write_report(out / "eval")
    print(f"dataset {dataset.name}; split: {summary.info['split']}")
    train_stats = raft.stats.get("train")
    train_examples = train_stats.get("examples", "?") if isinstance(train_stats, dict) else "?"
    print(f"RAFT set: {train_examples} training examples from {written} train-side pairs; "
          f"fine-tune {tuned.steps} steps lr {args.lr} ({tuned.backend}) in {train_seconds:.0f}s")
    for row in summary.rows:
        f = row.figures[summary.headline]
        print(f"{row.model:>18} + RAG  {summary.headline} {format_figure(f, summary.headline)}  n={f.n}")
    for d in summary.differences:
        if d["value"] is not None:
            print(f"difference {d['b']} - {d['a']}: {100 * d['value']:+.1f} points "
                  f"[{100 * d['low']:+.1f}, {100 * d['high']:+.1f}]")
    if summary.baseline:
        print(f"majority baseline: {summary.baseline}")
    print(f"report: {out / 'eval' / 'report.md'}; total {time.perf_counter() - started:.0f}s")


if __name__ == "__main__":
    main()
