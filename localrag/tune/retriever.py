"""`localrag tune --retriever`: fine-tune the embedder on questions written from the user's own chunks.

    pairs      qa.jsonl of a RAFT build: (question -> the chunk it was written from); or, needing no
               language model, inverse-cloze pairs (a sentence -> its chunk, `tune.ict`); or both
    filter     a pair is kept only if its own chunk is in the top `top` of the vector or the BM25 leg:
               a question that neither leg can find is clumsy or off-chunk (the 135M model writes many)
    negatives  per pair, the best-ranked chunk of another document from either leg (vector and BM25
               ranks interleaved): the near misses the index actually confuses it with
    split      by document: a share of the documents (hash order) is held out, so the held-out
               questions are about text the training never saw; the gate judges on the held-out
               written questions, whatever the pairs trained on, since they are phrased as users ask
               (inverse-cloze sentences are copies of the text), and on the held-out inverse-cloze
               pairs as well when too few written ones are held out to show a difference; a run on
               written questions alone draws those from the documents no training pair came from
    train      sentence-transformers' trainer, CachedMultipleNegativesRankingLoss (in-batch negatives
               plus the hard negative, the batch worked through in mini-batches to bound memory),
               no-duplicates batches, CPU
    gate       held-out hit@5 and MRR of the vector leg over the whole index, current embedder (the
               index's own vectors) against the tuned one (every chunk embedded again); the verdict is
               the generator gate's (`localrag.evaluate.metrics.difference_verdict`): "better" only
               when the paired bootstrap interval of tuned - current hit@5 over the same questions lies
               above zero and at least `localrag.evaluate.metrics.MIN_QUESTIONS` questions were judged.
               The index is switched only then, and the card (and `localrag models`) says so either
               way, with the difference, its interval and both embedders' figures
    save       models/embedders/NAME (written beside, then renamed into place) with localrag-card.json
               and localrag-card.md; switching re-embeds the index (localrag.reembed, resumable)

Training and embedding every chunk for the gate are the slow parts; benchmarks/bench_tune_retriever.py
times them on COVID-QA.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import shutil
import threading
import time
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from localrag.atomic import write_text_atomic
from localrag.disk_errors import as_disk_trouble
from localrag.evaluate.metrics import MIN_QUESTIONS
from localrag.ingest.pipeline import embedding_text
from localrag.models import EMBEDDER_CARD, EMBEDDERS_DIR, gate_summary
from localrag.offline import enforce_offline
from localrag.raft.qa import QAPair, read_qa_jsonl
from localrag.sizes import count_text
from localrag.tune.arenas import limit_malloc_arenas
from localrag.tune.ict import ICT_ORIGIN, MIN_WORDS
from localrag.tune.runs import TuneError, check_model_name

if TYPE_CHECKING:
    from localrag.embed import Embedder
    from localrag.store import Store
    from localrag.types import Chunk

CARD_JSON = EMBEDDER_CARD
CARD_MD = "localrag-card.md"
HIT_K = 5
# Hard negatives are looked for at least this deep, even when the filter depth is shallower.
NEGATIVE_DEPTH = 20
# `tune --quick --retriever`: enough optimizer steps to show the stage working, in seconds.
QUICK_MAX_STEPS = 10


@dataclass(frozen=True)
class RetrieverConfig:
    """Embedder tuning; each field says why it has its default."""

    # One pass over a few thousand pairs moves MiniLM measurably; more epochs overfit model-written questions.
    epochs: float = 1.0
    # 0: run the epochs; otherwise stop after this many optimizer steps (the quick plan).
    max_steps: int = 0
    # In-batch negatives: a larger batch is a harder task; 32 fits 2 cores and a few GB.
    batch_size: int = 32
    # CachedMultipleNegativesRankingLoss works through the batch this many pairs at a time: the same
    # in-batch negatives, at the memory of a small batch (plain MNRL at batch 32 peaked at 7.7 GB of RSS).
    mini_batch_size: int = 8
    # The usual fine-tuning rate for MiniLM-sized sentence encoders.
    learning_rate: float = 2e-5
    # Share of documents held out for the gate.
    held_out: float = 0.2
    # A pair whose chunk is below this rank in both legs is dropped (the top 50).
    top: int = 50
    seed: int = 0
    # Training pairs: "model" (questions written per chunk), "ict" (inverse-cloze sentences) or "both".
    pairs: str = "model"
    # Inverse-cloze pairs drawn (0: one per chunk that has two sentences): training time grows with them.
    ict_limit: int = 1000
    # A checkpoint (model and optimizer, ~270 MB for MiniLM, the last one kept) every this many steps, and at a
    # stop: a killed or stopped training resumes from it. A step at batch 32 takes seconds on 2 cores.
    save_every: int = 20


PAIR_SOURCES = ("model", "ict", "both")


@dataclass
class MinedPair:
    question: str
    chunk: Chunk
    positive: str
    negative: str | None
    held_out: bool
    origin: str = "generated"


@dataclass
class MiningReport:
    pairs: list[MinedPair] = field(default_factory=list)
    dropped_not_found: int = 0
    dropped_missing_chunk: int = 0
    no_negative: int = 0


@dataclass
class GateFigures:
    hit_at_5: float
    mrr: float
    questions: int


def read_pairs(raft_dir: Path) -> list[QAPair]:
    """The written questions of a RAFT build folder. Where there are none, the hint names the build that writes
    them there: a bare `localrag raft build` writes to DATA_DIR/raft, so followed, the same command failed again."""
    import shlex

    path = Path(raft_dir) / "qa.jsonl"
    build = f"localrag raft build --out {shlex.quote(str(raft_dir))}"
    if not Path(raft_dir).exists():
        raise TuneError(f"{raft_dir}: no such folder", f"build the questions there first: {build}")
    if not path.is_file():
        raise TuneError(f"{raft_dir} has no qa.jsonl", f"build the questions there first: {build}")
    return read_qa_jsonl(path, error=TuneError)


def held_out_documents(doc_ids: Sequence[str], share: float) -> set[str]:
    """A stable share of the documents (at least one, never all) by hash order."""
    unique = sorted(set(doc_ids), key=lambda d: hashlib.sha1(d.encode()).hexdigest())
    if len(unique) < 2:
        raise TuneError(
            f"the questions come from {len(unique)} document(s); the held-out check needs two or more",
            "ingest more documents and build the questions again",
        )
    count = min(len(unique) - 1, max(1, round(share * len(unique))))
    return set(unique[:count])


def mine_pairs(
    pairs: Sequence[QAPair], store: Store, embedder: Embedder, *, top: int = 50, held_out: float = 0.2,
    held: Collection[str] | None = None,
) -> MiningReport:
    """Filter pairs by whether either leg finds their chunk, attach one hard negative, split by document: the
    `held` documents are held out, by default a `held_out` share of the pairs' documents."""
    report = MiningReport()
    titles = {d.doc_id: d.title for d in store.documents()}
    live = {c.chunk_id: c for c in store.chunks([p.chunk.chunk_id for p in pairs])}
    kept = [p for p in pairs if p.chunk.chunk_id in live]
    report.dropped_missing_chunk = len(pairs) - len(kept)
    if not kept:
        return report
    if held is None:
        held = held_out_documents([p.chunk.doc_id for p in kept], held_out)
    vectors = embedder.embed_queries([p.question for p in kept])
    depth = max(top, NEGATIVE_DEPTH)
    for pair, vector in zip(kept, vectors, strict=True):
        by_vector = [c for c, _ in store.vector_search(vector, depth)]
        by_text = [c for c, _ in store.text_search(pair.question, depth)]
        own = pair.chunk.chunk_id
        if all(c.chunk_id != own for c in by_vector[:top] + by_text[:top]):
            report.dropped_not_found += 1
            continue
        negative = _hard_negative(by_vector, by_text, pair.chunk.doc_id)
        if negative is None:
            report.no_negative += 1
        chunk = live[own]
        # An inverse-cloze pair's positive is its chunk as the pair gives it: the sentence cut out.
        positive = pair.chunk if pair.origin == ICT_ORIGIN else chunk
        report.pairs.append(
            MinedPair(
                question=pair.question,
                chunk=chunk,
                positive=embedding_text(positive, titles.get(chunk.doc_id, "")),
                negative=embedding_text(negative, titles.get(negative.doc_id, "")) if negative else None,
                held_out=chunk.doc_id in held,
                origin=pair.origin,
            )
        )
    return report


def _hard_negative(by_vector: Sequence[Chunk], by_text: Sequence[Chunk], doc_id: str) -> Chunk | None:
    """The best-ranked chunk of another document, taking the two legs' ranks in turn."""
    for rank in range(max(len(by_vector), len(by_text))):
        for leg in (by_vector, by_text):
            if rank < len(leg) and leg[rank].doc_id != doc_id:
                return leg[rank]
    return None


def question_ranks(query_vectors: np.ndarray, chunk_vectors: np.ndarray, gold_rows: Sequence[int]) -> list[int]:
    """Each question's rank (0: first) of its own chunk in exact cosine search over the whole index."""
    if not len(gold_rows):
        return []
    scores = query_vectors @ chunk_vectors.T
    return [int((scores[row] > scores[row, gold]).sum()) for row, gold in enumerate(gold_rows)]


def gate_figures(ranks: Sequence[int]) -> GateFigures:
    """hit@5 and MRR (to rank 20) from the questions' ranks."""
    if not ranks:
        return GateFigures(0.0, 0.0, 0)
    hits = [rank < HIT_K for rank in ranks]
    reciprocal = [1.0 / (rank + 1) if rank < 20 else 0.0 for rank in ranks]
    return GateFigures(round(float(np.mean(hits)), 4), round(float(np.mean(reciprocal)), 4), len(ranks))


def gate_section(
    current_ranks: Sequence[int], tuned_ranks: Sequence[int], *, current: str, tuned: str
) -> dict[str, Any]:
    """The card's "gate": the paired verdict on held-out hit@5 (the generator gate's rule and fields, which
    `localrag.models.gate_summary` words for every front end) plus both embedders' hit@5 and MRR."""
    from localrag.tune.gate import verdict

    result = verdict([float(r < HIT_K) for r in current_ranks], [float(r < HIT_K) for r in tuned_ranks],
                     metric=f"hit@{HIT_K}", base=current, tuned=tuned)
    return {
        "verdict": result.verdict, "metric": result.metric, "metric_label": f"held-out hit@{HIT_K}",
        "difference": result.difference, "low": result.low, "high": result.high, "questions": result.questions,
        "reason": result.reason, "against": "the current embedder", "better": result.better,
        "current": dataclasses.asdict(gate_figures(current_ranks)),
        "tuned": dataclasses.asdict(gate_figures(tuned_ranks)),
    }


ProgressCallback = Callable[[str, int, int], None]


def train_embedder(
    base: Path,
    pairs: Sequence[MinedPair],
    work_dir: Path,
    config: RetrieverConfig,
    *,
    progress: ProgressCallback | None = None,
    cancel: threading.Event | None = None,
) -> tuple[Any, dict[str, Any]]:
    """(the trained SentenceTransformer, figures); None as model when cancelled."""
    enforce_offline()
    from datasets import Dataset
    from sentence_transformers import SentenceTransformer, SentenceTransformerTrainer
    from sentence_transformers.base.sampler import BatchSamplers
    from sentence_transformers.sentence_transformer.losses import CachedMultipleNegativesRankingLoss
    from sentence_transformers.sentence_transformer.training_args import SentenceTransformerTrainingArguments
    from transformers import PrinterCallback, TrainerCallback

    train = [p for p in pairs if not p.held_out]
    if not train:
        raise TuneError("no training pairs are left after filtering", "write more questions (raise --max-chunks)")
    # A pair without a negative still teaches through the batch's other chunks; its column repeats the positive's
    # neighbour so the table stays rectangular.
    columns = {
        "anchor": [p.question for p in train],
        "positive": [p.positive for p in train],
        "negative": [p.negative or train[(i + 1) % len(train)].positive for i, p in enumerate(train)],
    }
    model = SentenceTransformer(str(base), device="cpu", local_files_only=True)

    class Hooks(TrainerCallback):  # type: ignore[misc]
        def on_step_end(self, args: Any, state: Any, control: Any, **kwargs: Any) -> Any:
            if progress is not None:
                progress("train", int(state.global_step), int(state.max_steps))
            if cancel is not None and cancel.is_set():
                control.should_training_stop = True
                control.should_save = True  # the steps done so far are where the next run resumes
            return control

    output_dir = work_dir / "trainer"
    resume_from = _checkpoint_for(output_dir, [columns, {k: v for k, v in dataclasses.asdict(config).items()
                                                         if k != "save_every"}])
    args = SentenceTransformerTrainingArguments(
        output_dir=str(output_dir),
        num_train_epochs=config.epochs,
        max_steps=config.max_steps if config.max_steps > 0 else -1,
        per_device_train_batch_size=config.batch_size,
        learning_rate=config.learning_rate,
        # A float below 1 is a share of the steps (transformers 5).
        warmup_steps=0.1,
        batch_sampler=BatchSamplers.NO_DUPLICATES,
        save_strategy="steps",
        save_steps=config.save_every,
        save_total_limit=1,
        report_to="none",
        logging_steps=10,
        use_cpu=True,
        seed=config.seed,
        disable_tqdm=True,
        dataloader_num_workers=0,
    )
    class Trainer(SentenceTransformerTrainer):  # type: ignore[misc]
        # The model card callback gathers a hub page's widget examples (we write our own card) and draws a
        # progress bar for it on the user's terminal, into a pipe too; sentence-transformers documents
        # overriding this method to drop the callback.
        def add_model_card_callback(self, default_args_dict: dict[str, Any]) -> None:
            return None

    trainer = Trainer(
        model=model,
        args=args,
        train_dataset=Dataset.from_dict(columns),
        loss=CachedMultipleNegativesRankingLoss(model, mini_batch_size=config.mini_batch_size),
        callbacks=[Hooks()],
    )
    # Its per-step log lines would land in the middle of the CLI's progress display.
    trainer.remove_callback(PrinterCallback)
    if cancel is not None and cancel.is_set():
        return None, {}  # stopped while the model loaded: no step to wait for
    started = time.perf_counter()
    output = trainer.train(resume_from_checkpoint=resume_from)
    if cancel is not None and cancel.is_set():
        return None, {}
    shutil.rmtree(output_dir, ignore_errors=True)  # the trained model is returned; its checkpoints served
    # A resumed training's loss and time are those of the steps this run took: said so, not passed off as the whole.
    resumed = int(Path(resume_from).name.rpartition("-")[2]) if resume_from else 0
    return model, {
        "steps": int(output.global_step),
        "train_loss": round(float(output.training_loss), 4),
        "train_pairs": len(train),
        "train_seconds": round(time.perf_counter() - started, 1),
        "resumed_from_step": resumed,
    }


def _checkpoint_for(output_dir: Path, inputs: object) -> str | None:
    """The checkpoint a stopped or killed training of these same inputs (pairs and settings) left, to resume from;
    None to start. They are fingerprinted beside the checkpoints: a checkpoint of others (an ingest since, another
    learning rate) is removed."""
    from transformers.trainer_utils import get_last_checkpoint

    fingerprint = hashlib.sha256(json.dumps(inputs, sort_keys=True).encode()).hexdigest()
    marker = output_dir / "pairs.sha256"
    if output_dir.is_dir() and (not marker.is_file() or marker.read_text().strip() != fingerprint):
        shutil.rmtree(output_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    write_text_atomic(marker, fingerprint + "\n")
    found = get_last_checkpoint(str(output_dir))
    return str(found) if found else None


def embedders_dir(models_dir: Path) -> Path:
    return Path(models_dir) / EMBEDDERS_DIR


def stage_embedder(model: Any, target: Path, *, force: bool = False) -> Path:
    """Save the model beside `target` (a hidden folder), to be judged and then committed."""
    if target.exists() and not force:
        raise TuneError(f"an embedder named '{target.name}' already exists: {target}",
                        "pick another --name, or add --force to replace it")
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = target.with_name(f".{target.name}.partial")
    if staging.exists():
        shutil.rmtree(staging)
    try:
        model.save(str(staging), create_model_card=False)
    except Exception as exc:
        # A half-saved model is 90 MB of nothing on what is often a full disk; safetensors says "disk full"
        # with its own error type, which the CLI's one line for a full disk would not recognise.
        shutil.rmtree(staging, ignore_errors=True)
        raise as_disk_trouble(exc) from exc
    return staging


def commit_embedder(staging: Path, target: Path, card: dict[str, Any]) -> Path:
    """Add the card, then rename the staged folder into place: never half a folder under its name."""
    write_text_atomic(staging / CARD_JSON, json.dumps(card, indent=2) + "\n")
    write_text_atomic(staging / CARD_MD, card_markdown(card))
    if target.exists():
        retired = target.with_name(f".{target.name}.replaced")
        if retired.exists():
            shutil.rmtree(retired)
        target.rename(retired)
        staging.rename(target)
        shutil.rmtree(retired)
    else:
        staging.rename(target)
    return target


def card_markdown(card: dict[str, Any]) -> str:
    gate = card["gate"]
    lines = [
        f"# {card['name']}: a tuned embedder",
        "",
        f"- base: {card['base']}",
        f"- data: {card['data']['train_pairs']} training pairs from {card['data']['source']} "
        f"({card['data']['held_out_pairs']} held out, split by document)",
        f"- training: {card['training']['steps']} steps, loss {card['training']['train_loss']}, "
        f"{card['training']['train_seconds']} s" + _resumed_text(card['training']),
        f"- held-out hit@5: current {gate['current']['hit_at_5']:.3f}, tuned {gate['tuned']['hit_at_5']:.3f}; "
        f"MRR current {gate['current']['mrr']:.3f}, tuned {gate['tuned']['mrr']:.3f} "
        f"({gate['current']['questions']} questions)",
        f"- verdict: {gate_summary(card)}",
        "",
    ]
    return "\n".join(lines)


def _resumed_text(training: dict[str, Any]) -> str:
    resumed = int(training.get("resumed_from_step") or 0)  # absent from a card an older localrag wrote
    if not resumed:
        return ""
    return f" (loss and time of steps {resumed + 1}-{training['steps']}: resumed from step {resumed})"


def _gate_vectors(embedder: Embedder, texts: list[str], progress: Callable[[str, int, int], None] | None) -> Any:
    """`texts` embedded a slice at a time, each said: the gate's bar sat at 0 of the chunks for minutes."""
    from localrag.ingest.pipeline import embedded_in_steps

    def said(done: int, total: int) -> None:
        if progress is not None:
            progress("gate", done, total)

    vectors = embedded_in_steps(texts, embedder, said, 256, lambda: False)
    said(len(texts), len(texts))  # one slice is embedded whole, with no step said
    return vectors


def _default_load(folder: Path) -> Embedder:
    from localrag.embed import load_embedder

    return load_embedder(folder)


def _gold_rows(pairs: Sequence[MinedPair], chunk_ids: Sequence[str]) -> tuple[list[str], list[int]]:
    row_of = {cid: i for i, cid in enumerate(chunk_ids)}
    held = [p for p in pairs if p.held_out and p.chunk.chunk_id in row_of]
    return [p.question for p in held], [row_of[p.chunk.chunk_id] for p in held]


def source_pairs(raft_dir: Path, store: Store, config: RetrieverConfig) -> tuple[list[QAPair], list[QAPair]]:
    """(written questions, inverse-cloze pairs) for `config.pairs`. The written ones are read whenever the
    build has them, also for "ict": the gate judges on them."""
    from localrag.raft.qa import store_chunks
    from localrag.tune.ict import ict_pairs

    if config.pairs not in PAIR_SOURCES:
        raise TuneError(f"unknown pair source '{config.pairs}'", f"use one of: {', '.join(PAIR_SOURCES)}")
    has_written = (Path(raft_dir) / "qa.jsonl").is_file()
    written = read_pairs(raft_dir) if config.pairs != "ict" or has_written else []
    cloze = ict_pairs(store_chunks(store), limit=config.ict_limit, seed=config.seed) if config.pairs != "model" else []
    return written, cloze


def _nothing_to_judge(written: int, cloze: int) -> TuneError:
    """No held-out pair to judge a tuned embedder on, and what would give some: more written questions, or (for
    inverse-cloze pairs alone, which no flag of question writing changes) more documents of longer chunks."""
    if written:
        return TuneError("no held-out question survived the filter, so a tuned embedder could not be judged",
                         "write more questions (raise --max-chunks), or use a larger --model to write them")
    return TuneError(
        f"the documents gave {count_text(cloze, 'inverse-cloze pair')} and none held out, so a tuned embedder could "
        "not be judged", f"a pair needs a chunk of two or more sentences of {MIN_WORDS} words or more, in two or "
        "more documents: ingest more documents, or have a model write questions (--retriever-pairs model or both)")


def unseen_cloze(pairs: Sequence[MinedPair], store: Store, embedder: Embedder, config: RetrieverConfig
                 ) -> list[MinedPair]:
    """Held-out inverse-cloze pairs for the gate of a run trained on written questions alone, from the documents
    no training pair came from, mined as the others are; none when enough written questions are held out. Without
    them the default run (`model`) judged on the few written questions held out: 2 with `--quick`, "too few to
    judge" whatever the training did."""
    from localrag.raft.qa import store_chunks
    from localrag.tune.ict import ict_pairs

    if sum(p.held_out for p in pairs) >= MIN_QUESTIONS:
        return []
    trained = {p.chunk.doc_id for p in pairs if not p.held_out}
    unseen = [c for c in store_chunks(store) if c.doc_id not in trained]
    cloze = ict_pairs(unseen, limit=config.ict_limit, seed=config.seed)
    if not cloze:
        return []
    return mine_pairs(cloze, store, embedder, top=config.top, held={c.doc_id for c in unseen}).pairs


def judged_pairs(pairs: Sequence[MinedPair]) -> list[MinedPair]:
    """The held-out pairs the gate judges on: the written questions when there are enough of them to show a
    difference, else every held-out pair (inverse-cloze ones too)."""
    held = [p for p in pairs if p.held_out]
    written = [p for p in held if p.origin != ICT_ORIGIN]
    # Fewer held-out written questions than MIN_QUESTIONS cannot show a gain; then the held-out inverse-cloze pairs
    # judge as well.
    return written if len(written) >= MIN_QUESTIONS else held


def _judged_on(held: Sequence[MinedPair]) -> str:
    kinds = {p.origin == ICT_ORIGIN for p in held}
    return {frozenset({False}): "written questions", frozenset({True}): "inverse-cloze pairs"}.get(
        frozenset(kinds), "written questions and inverse-cloze pairs")


def training_pairs(pairs: Sequence[MinedPair], source: str) -> list[MinedPair]:
    """The pairs `source` trains on ("model", "ict" or "both"; held-out ones are left to train_embedder)."""
    if source == "both":
        return list(pairs)
    return [p for p in pairs if (p.origin == ICT_ORIGIN) == (source == "ict")]


def tune_retriever(
    *,
    name: str,
    raft_dir: Path,
    store: Store,
    embedder: Embedder,
    base: Path,
    models_dir: Path,
    work_dir: Path,
    config: RetrieverConfig | None = None,
    run: str = "",
    load: Callable[[Path], Embedder] | None = None,
    force: bool = False,
    progress: ProgressCallback | None = None,
    cancel: threading.Event | None = None,
) -> dict[str, Any] | None:
    """Mine, train, gate and save; returns the stage summary (None when cancelled). Does not switch the index.

    `load` makes an Embedder of a model folder for the gate (default: ONNX Runtime).
    """
    config = config or RetrieverConfig()
    check_model_name(name)
    limit_malloc_arenas()
    written, cloze = source_pairs(raft_dir, store, config)
    pairs = [*written, *cloze]
    # Mined together, so both kinds share one split by document.
    mined = mine_pairs(pairs, store, embedder, top=config.top, held_out=config.held_out)
    gate_cloze: list[MinedPair] = []
    if config.pairs == "model":
        # Judged on held-out inverse-cloze pairs too when few written questions are held out, as with ict/both.
        gate_cloze = unseen_cloze(mined.pairs, store, embedder, config)
        mined.pairs += gate_cloze
    held = judged_pairs(mined.pairs)
    if not held:
        raise _nothing_to_judge(len(written), len(cloze))
    train = training_pairs(mined.pairs, config.pairs)
    if cancel is not None and cancel.is_set():
        return None  # stopped while the pairs were mined: loading the model and a first step took a minute more
    model, training = train_embedder(base, train, work_dir, config, progress=progress, cancel=cancel)
    if model is None:
        return None
    chunk_ids, current_vectors = store.vectors()
    questions, gold = _gold_rows(held, chunk_ids)
    current_ranks = question_ranks(embedder.embed_queries(questions), current_vectors, gold)
    by_id = {c.chunk_id: c for c in store.chunks(chunk_ids)}
    titles = {d.doc_id: d.title for d in store.documents()}
    texts = [embedding_text(by_id[cid], titles.get(by_id[cid].doc_id, "")) for cid in chunk_ids]
    if progress is not None:
        progress("gate", 0, len(texts))
    target = embedders_dir(models_dir) / name
    staging = stage_embedder(model, target, force=force)
    try:
        # Judged through the runtime the index would use (ONNX by default: the export is cached by the
        # folder's model files, so the switch that may follow reuses it).
        candidate = (load or _default_load)(staging)
        vectors = _gate_vectors(candidate, texts, progress)
        tuned_ranks = question_ranks(candidate.embed_queries(questions), vectors, gold)
        gate = gate_section(current_ranks, tuned_ranks, current=embedder.name, tuned=name)
        card = {
            "name": name,
            "kind": "embedder",
            "base": str(base),
            "data": {
                "source": str(Path(raft_dir) / "qa.jsonl") if config.pairs == "model" else
                f"{config.pairs}: inverse-cloze sentences of the index's chunks"
                + (f" and {Path(raft_dir) / 'qa.jsonl'}" if config.pairs == "both" else ""),
                "pairs_read": len(written),
                # Made from the index, before mining (ict, both); the gate's own of unseen documents (model) are
                # counted apart, after mining: before 2026-12-08 `ict_pairs` was either, by the pair source.
                "ict_pairs": len(cloze),
                "gate_ict_pairs": len(gate_cloze),
                "judged_on": _judged_on(held),
                "dropped_not_found_in_top": mined.dropped_not_found,
                "dropped_chunk_gone": mined.dropped_missing_chunk,
                "without_hard_negative": mined.no_negative,
                "train_pairs": training["train_pairs"],
                "held_out_pairs": len(held),
            },
            "config": dataclasses.asdict(config),
            "training": training,
            "gate": gate,
            "created": time.strftime("%Y-%m-%dT%H:%M:%S"),
            # The tune folder that made it: a resumed run reuses it instead of training again.
            "run": run,
        }
        commit_embedder(staging, target, card)
    except BaseException:
        # The gate's ONNX export or the card failed (a full disk, Ctrl-C): no hidden 90 MB folder stays behind.
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return {"path": str(target), "better": gate["better"], "current": gate["current"], "tuned": gate["tuned"],
            "verdict": gate_summary(card), "train_pairs": training["train_pairs"],
            "held_out_pairs": len(held), "steps": training["steps"], "train_loss": training["train_loss"],
            "resumed_from_step": training["resumed_from_step"]}
