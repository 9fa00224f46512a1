"""`localrag raft build` as one resumable function: QA pairs -> RAFT examples -> training files.

Three stages, each writing its files atomically (a temporary file renamed over the target) and then
recording itself in `manifest.json` with a hash of its inputs:

    qa        qa.jsonl, qa_report.json         chunks (ids and text), generator, Q&A files, prompt
    examples  examples.jsonl, dataset_report.json   the qa stage's hash, the chunk pool, RaftConfig
    formats   {train,validation,test}.chat.jsonl and .completion.jsonl, stats.json, hf/ (optional)

A re-run with the same inputs finds each stage's hash in the manifest and its files on disk and
skips it, so a build stopped during the formats stage does not regenerate hours of QA. Changing an
input (a re-ingested document, another model, a different k) changes that stage's hash and every
later one's, since each stage hashes the one before it. A cancelled stage records nothing and
leaves its previous files, if any, untouched; the qa stage keeps the replies it had (raft/qa_journal.py), so
its re-run asks the model only for the chunks it had not reached.

The Hugging Face `datasets` folder is written only when that package is installed; it is not a
dependency, and the report says it was skipped and how to get it.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import shutil
import threading
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from localrag.atomic import write_text_atomic
from localrag.generate import Generator
from localrag.ingest.pipeline import file_hash
from localrag.jsonl import read_jsonl, write_jsonl
from localrag.raft.dataset import (
    SPLITS,
    DatasetReport,
    RaftConfig,
    RaftExample,
    Search,
    TokenCounter,
    build_examples,
    chat_messages,
    completion_record,
    statistics,
)
from localrag.raft.qa import (
    QA_GRAMMAR,
    QA_SYSTEM_PROMPT,
    ProgressCallback,
    QAReport,
    generate_qa,
    import_qa,
    normalise,
    read_qa_jsonl,
)
from localrag.raft.qa_journal import QAJournal, resumed_note
from localrag.types import Chunk

if TYPE_CHECKING:
    from localrag.embed import Embedder

MANIFEST = "manifest.json"
HF_MISSING = "Hugging Face datasets folder skipped: the `datasets` package is not installed (pip install datasets)"


@dataclass
class RaftBuildReport:
    """What a build made: `skipped_stages` were already done with the same inputs."""

    out_dir: Path
    qa: QAReport = field(default_factory=QAReport)
    dataset: DatasetReport = field(default_factory=DatasetReport)
    stats: dict[str, object] = field(default_factory=dict)
    files: list[Path] = field(default_factory=list)
    skipped_stages: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    cancelled: bool = False
    resumed_chunks: int = 0  # chunks whose Q&A reply a stopped run had kept


def _hash(*parts: object) -> str:
    digest = hashlib.sha256()
    for part in parts:
        digest.update(json.dumps(part, sort_keys=True, default=str).encode())
        digest.update(b"\x00")
    return digest.hexdigest()


class _Manifest:
    def __init__(self, out_dir: Path) -> None:
        self.path = out_dir / MANIFEST
        try:
            self.stages: dict[str, dict[str, object]] = json.loads(self.path.read_text())["stages"]
        except (OSError, ValueError, KeyError, TypeError):
            self.stages = {}

    def done(self, stage: str, inputs: str) -> bool:
        entry = self.stages.get(stage)
        if not entry or entry.get("inputs") != inputs:
            return False
        files = entry.get("files")
        return isinstance(files, list) and all((self.path.parent / f).exists() for f in files)

    def record(self, stage: str, inputs: str, files: Sequence[str]) -> None:
        self.stages[stage] = {"inputs": inputs, "files": list(files)}
        write_text_atomic(self.path, json.dumps({"version": 1, "stages": self.stages}, indent=2))


def _qa_report_json(report: QAReport) -> dict[str, object]:
    # Not dataclasses.asdict: it rebuilds a Counter from (key, value) pairs and so corrupts it.
    return {"made": report.made, "skipped": dict(report.skipped), "errors": report.errors}


def _write_hf(out_dir: Path, examples: Sequence[RaftExample]) -> str | None:
    """The splits as a `datasets.DatasetDict` folder "hf", or a note when `datasets` is missing."""
    try:
        import datasets  # type: ignore[import-not-found]
    except ImportError:
        return HF_MISSING
    columns = {
        split: {
            "messages": [chat_messages(e) for e in examples if e.split == split],
            "question": [e.question for e in examples if e.split == split],
            "answer": [e.answer for e in examples if e.split == split],
        }
        for split in SPLITS
    }
    dataset = datasets.DatasetDict({s: datasets.Dataset.from_dict(c) for s, c in columns.items()})
    tmp, final = out_dir / ".hf.tmp", out_dir / "hf"
    shutil.rmtree(tmp, ignore_errors=True)
    # datasets draws a bar per split while saving; it would land in the middle of `tune`'s own progress.
    bars = datasets.is_progress_bar_enabled()
    datasets.disable_progress_bars()
    try:
        dataset.save_to_disk(str(tmp))
    finally:
        if bars:
            datasets.enable_progress_bars()
    shutil.rmtree(final, ignore_errors=True)
    os.replace(tmp, final)
    return None


def spread(chunks: Sequence[Chunk], limit: int) -> list[Chunk]:
    """Up to `limit` chunks taken round-robin over the documents, so a quick build sees all of them."""
    by_doc: dict[str, list[Chunk]] = {}
    for chunk in chunks:
        by_doc.setdefault(chunk.doc_id, []).append(chunk)
    picked: list[Chunk] = []
    for depth in range(max((len(v) for v in by_doc.values()), default=0)):
        for doc_chunks in by_doc.values():
            if depth < len(doc_chunks) and len(picked) < limit:
                picked.append(doc_chunks[depth])
    return picked


def build_raft(
    out_dir: Path,
    chunks: Sequence[Chunk],
    *,
    generator: Generator | None = None,
    qa_files: Sequence[Path] = (),
    search: Search | None = None,
    embedder: Embedder | None = None,
    config: RaftConfig | None = None,
    count_tokens: TokenCounter | None = None,
    max_chunks: int | None = None,
    progress: ProgressCallback | None = None,
    cancel: threading.Event | None = None,
) -> RaftBuildReport:
    """Build (or finish building) a RAFT set in `out_dir` from `chunks`; see the module docstring.

    QA pairs come from `generator` over `max_chunks` chunks spread over the documents (all when None), and from
    `qa_files`; at least one source is needed. `search` (e.g. `Retriever.search`) gives the hard
    negatives; without it distractors are random. `embedder` scores the sentences of a sentence layout
    (`config.prompt_sentences`). `count_tokens` (e.g. the generator's) measures
    lengths for the statistics; by default whitespace-separated words are counted.
    """
    config = config or RaftConfig()
    if generator is None and not qa_files:
        raise ValueError("build_raft needs a generator or Q&A files")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    report = RaftBuildReport(out_dir)
    manifest = _Manifest(out_dir)
    chosen = list(chunks) if max_chunks is None else spread(chunks, max_chunks)
    pool_hash = _hash([(c.chunk_id, hashlib.sha256(c.text.encode()).hexdigest()) for c in chunks])

    qa_inputs = _hash(
        "qa", pool_hash, [c.chunk_id for c in chosen], generator.name if generator else None,
        str(getattr(generator, "path", "")), QA_GRAMMAR, QA_SYSTEM_PROMPT,
        [(str(f), file_hash(Path(f))) for f in qa_files if Path(f).is_file()],
    )
    qa_path, qa_report_path = out_dir / "qa.jsonl", out_dir / "qa_report.json"
    if manifest.done("qa", qa_inputs):
        report.skipped_stages.append("qa")
        pairs = read_qa_jsonl(qa_path)
        saved = json.loads(qa_report_path.read_text())
        report.qa = QAReport(saved["made"], Counter(saved["skipped"]), saved["errors"])
    else:
        pairs = []
        if qa_files:
            imported, imported_report = import_qa(qa_files, chunks)
            pairs.extend(imported)
            report.qa.skipped.update(imported_report.skipped)
            report.qa.errors.extend(imported_report.errors)
        if generator is not None:
            journal = QAJournal(out_dir, qa_inputs)
            report.resumed_chunks = journal.resumed
            if journal.resumed:
                report.notes.append(resumed_note(journal.resumed))
            try:
                made, made_report = generate_qa(chosen, generator, progress=progress, cancel=cancel,
                                                journal=journal)
            finally:
                journal.close()
            known = {normalise(p.question) for p in pairs}
            pairs.extend(p for p in made if normalise(p.question) not in known)
            report.qa.skipped.update(made_report.skipped)
            report.qa.errors.extend(made_report.errors)
            if made_report.cancelled:
                report.cancelled = True
                return report
        report.qa.made = len(pairs)
        write_jsonl(qa_path, [p.to_json() for p in pairs])
        write_text_atomic(qa_report_path, json.dumps(_qa_report_json(report.qa), indent=2))
        manifest.record("qa", qa_inputs, [qa_path.name, qa_report_path.name])
        QAJournal(out_dir, qa_inputs).remove()

    search_kind = "hard" if config.distractors == "hard" and search is not None else "random"
    examples_inputs = _hash("examples", qa_inputs, pool_hash, config.fingerprint(), search_kind)
    examples_path, dataset_report_path = out_dir / "examples.jsonl", out_dir / "dataset_report.json"
    if manifest.done("examples", examples_inputs):
        report.skipped_stages.append("examples")
        examples = [RaftExample.from_json(r) for _, r in read_jsonl(examples_path)]
        saved = json.loads(dataset_report_path.read_text())
        report.dataset = DatasetReport(saved["examples"], Counter(saved["dropped"]))
    else:
        examples, report.dataset = build_examples(pairs, chunks, config, search=search, embedder=embedder,
                                                  progress=progress)
        write_jsonl(examples_path, [e.to_json() for e in examples])
        saved_report = {"examples": report.dataset.examples, "dropped": dict(report.dataset.dropped)}
        write_text_atomic(dataset_report_path, json.dumps(saved_report, indent=2))
        manifest.record("examples", examples_inputs, [examples_path.name, dataset_report_path.name])

    counter_name = getattr(count_tokens, "__qualname__", None) if count_tokens else "words"
    has_datasets = importlib.util.find_spec("datasets") is not None
    formats_inputs = _hash("formats", examples_inputs, counter_name, getattr(generator, "name", None), has_datasets)
    names = [f"{s}.{kind}.jsonl" for s in SPLITS for kind in ("chat", "completion")] + ["stats.json"]
    if manifest.done("formats", formats_inputs):
        report.skipped_stages.append("formats")
        report.stats = json.loads((out_dir / "stats.json").read_text())
        if has_datasets:
            names.append("hf")
        else:
            report.notes.append(HF_MISSING)
    else:
        for split in SPLITS:
            chosen_examples = [e for e in examples if e.split == split]
            write_jsonl(out_dir / f"{split}.chat.jsonl", [{"messages": chat_messages(e)} for e in chosen_examples])
            write_jsonl(out_dir / f"{split}.completion.jsonl", [completion_record(e) for e in chosen_examples])
        report.stats = statistics(examples, count_tokens)
        # The layout the set shows, which `export_model` copies to the model's card (0: whole documents).
        report.stats["prompt_sentences"] = config.prompt_sentences
        # The chain of thought it teaches, copied to the card too: `quote_grammar` suits a "short" model only.
        report.stats["cot"] = config.cot
        report.stats["qa_skipped"] = dict(report.qa.skipped)
        report.stats["examples_dropped"] = dict(report.dataset.dropped)
        write_text_atomic(out_dir / "stats.json", json.dumps(report.stats, indent=2))
        note = _write_hf(out_dir, examples)
        if note is None:
            names.append("hf")
        else:
            report.notes.append(note)
        manifest.record("formats", formats_inputs, names)
    report.files = [out_dir / n for n in names]
    return report
