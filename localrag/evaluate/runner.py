"""Run modes x models over the same questions, one cached record per question, resumable.

A run folder holds everything about one evaluation:

    run.json         the data set, the config, the split statement, the question ids, status
    corpus/          the data set's documents as text files (one per document; corpus.json maps names to ids)
    index/           a fresh LanceDB store of that corpus, built with localrag's own ingest pipeline
    records.jsonl    one JSON line per (model, mode, question), appended as each one finishes

A set without a corpus is asked of the user's own index instead (`run_eval(store=...)`,
`localrag.evaluate.datasets.on_index`): nothing is copied or written to it, and documents are named by
their paths.

Modes: "model" asks the model the bare question (no retrieval); "rag" goes through `Engine.stream`,
the same answer path as `localrag ask` (hybrid retrieval, the cited-answer prompt, citation and quote
checks), against the run's own store; "extract" goes the same way with `answer_mode = "extract"`: the
sources' best sentence is the answer and no model is asked (`localrag ask --extract`). A tuned RAFT
model runs the same RAG prompt; only the part of its reply after `<ANSWER>:` is scored. Decoding is
greedy (temperature 0) with llama.cpp's fixed seed, so a run is reproducible. Yes/no/maybe questions get
" Answer yes, no or maybe." appended in every mode and the first of those words in the reply is the label
(no grammar: a constrained label would hide whether the model can answer in the product's own prompt).

Each record is appended with one `write` of a whole line and fsynced, so a killed run loses at most the
question in flight; a torn last line is cut off when the run starts again, and questions whose record is
present are skipped. run.json carries a fingerprint of the data set and config: resuming with other
settings is refused (use another --out), while a larger --limit simply extends the run.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from localrag import paths
from localrag.atomic import write_text_atomic
from localrag.config import Settings, load_settings
from localrag.errors import LocalRagError, QuestionTooLongError
from localrag.evaluate import metrics
from localrag.evaluate.datasets import EvalDataset, EvalQuestion, select, side, split_description
from localrag.jsonl import append_jsonl, read_jsonl
from localrag.models import BUNDLED_NAME, resolve_generator
from localrag.types import GenerationStats

if TYPE_CHECKING:
    from localrag.embed import Embedder
    from localrag.engine import Engine
    from localrag.generate import Generator
    from localrag.store import Store

MODES = ("model", "rag", "extract")
# The modes that retrieve from the run's index (and are scored on retrieval and citations too).
RETRIEVAL_MODES = ("rag", "extract")
BUNDLED = BUNDLED_NAME
RUN_FILE = "run.json"
RECORDS_FILE = "records.jsonl"
LABEL_INSTRUCTION = " Answer yes, no or maybe."
NO_RETRIEVAL_SYSTEM = "You are a helpful assistant. Answer the question briefly."


class EvalRunError(LocalRagError):
    title = "Evaluation run"


@dataclass(frozen=True)
class EvalConfig:
    modes: tuple[str, ...] = ("model", "rag")
    models: tuple[str, ...] = (BUNDLED,)
    limit: int | None = None
    k: int = 4  # sources in the RAG prompt; the product's default top_k
    side: str = "test"  # which side of the document split is scored: "test", "train" or "all"
    test_fraction: float = 0.5  # share of documents on the test side (sets without an official split)
    seed: int = 0  # split hash and bootstrap seed
    max_answer_tokens: int = 128  # answers here are a phrase or a sentence; 320 only costs time on CPU
    max_documents: int | None = None  # cut the corpus (gold documents first) for quick runs
    # The RAG prompt's layout, the setting of that name (0: whole sources); the product's default unless told.
    prompt_sentences: int = Settings.prompt_sentences

    def fingerprint(self, dataset: EvalDataset) -> str:
        """What a run is known by."""
        return self.fingerprints(dataset)[0]

    def fingerprints(self, dataset: EvalDataset) -> tuple[str, ...]:
        """The names a run of `dataset` may be found under: its own, then those older localrags gave it (an upgrade
        that started such runs anew had their "the same command resumes it" lie)."""
        # A run made with whole sources, the only layout before the setting, keeps the fingerprint it had then.
        settings = {k: v for k, v in asdict(self).items()
                    if k != "limit" and not (k == "prompt_sentences" and v == 0)}
        retrieval = [dataset.retrieval] if dataset.retrieval else []
        # A run on the user's index names it, by its collection and what it holds.
        index = [dataset.index] if dataset.index else []
        # Older runs were named by the data's path as written and the data folder's path, then without retrieval.
        names = [[dataset.name, dataset.identity or dataset.source, settings, *index, *retrieval]]
        for source in (dataset.source, *dataset.spellings):
            before = [dataset.name, source, settings, *([dataset.located_index] if dataset.index else [])]
            names += [[*before, *retrieval], before]
        return tuple(dict.fromkeys(hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()
                                   for parts in names))


@dataclass
class EvalProgress:
    done: int
    total: int
    model: str
    mode: str
    message: str = ""


@dataclass
class EvalRun:
    run_dir: Path
    records: list[dict[str, Any]] = field(default_factory=list)
    skipped: int = 0
    cancelled: bool = False


def record_key(model: str, mode: str, qid: str) -> str:
    return f"{model}|{mode}|{qid}"


def read_records(run_dir: Path) -> list[dict[str, Any]]:
    """Every complete record of a run (a torn last line is ignored)."""
    path = Path(run_dir) / RECORDS_FILE
    if not path.is_file():
        return []
    return [record for _, record in read_jsonl(path, error=EvalRunError, complete_only=True)]


def cut_torn_tail(path: Path) -> None:
    """Drop a last line a killed run left half written, so appending starts on a fresh line."""
    if not path.is_file():
        return
    data = path.read_bytes()
    if data and not data.endswith(b"\n"):
        write_text_atomic(path, data[: data.rfind(b"\n") + 1].decode("utf-8"))


def append_record(run_dir: Path, record: dict[str, Any]) -> None:
    append_jsonl(Path(run_dir) / RECORDS_FILE, record)


def prepare(dataset: EvalDataset, config: EvalConfig) -> EvalDataset:
    """The questions this config scores: one side of the split, then --limit and the corpus cut."""
    chosen = dataset if config.side == "all" else side(
        dataset, config.side, test_fraction=config.test_fraction, seed=config.seed)
    return select(chosen, config.limit, max_documents=config.max_documents)


def _start(run_dir: Path, dataset: EvalDataset, config: EvalConfig, questions: Sequence[EvalQuestion]) -> None:
    info = {
        "version": 1,
        "dataset": {"name": dataset.name, "kind": dataset.kind, "source": dataset.source,
                    "documents": len(dataset.documents),
                    **({"index": dataset.located_index} if dataset.index else {}),
                    **({"retrieval": dataset.retrieval} if dataset.retrieval else {})},
        "config": asdict(config),
        "split": split_description(dataset, test_fraction=config.test_fraction, seed=config.seed)
        if config.side != "all" else dataset.split_note or "no split: every question scored",
        "questions": [q.qid for q in questions],
    }
    start_run(run_dir, info, config.fingerprint(dataset), also=config.fingerprints(dataset))


def holds_other_run(run_dir: Path, fingerprint: str, also: tuple[str, ...] = ()) -> bool:
    """Whether `run_dir` holds a run of another data set or config (its run.json has another fingerprint than
    `fingerprint` or those `also` names)."""
    run_file = run_dir / RUN_FILE
    return run_file.is_file() and json.loads(run_file.read_text()).get("fingerprint") not in (fingerprint, *also)


def start_run(run_dir: Path, info: dict[str, Any], fingerprint: str, also: tuple[str, ...] = ()) -> None:
    """Write run.json (status running) for a new run or a resumed one (recorded under `fingerprint` from then on);
    a run of other settings is refused."""
    run_file = run_dir / RUN_FILE
    if holds_other_run(run_dir, fingerprint, also):
        raise EvalRunError(f"{run_dir}: holds a run of {_what_differs(json.loads(run_file.read_text()), info)}",
                           "pick a new --out folder, or delete that one to run it again")
    now = time.strftime("%Y-%m-%dT%H:%M:%S")
    try:
        earlier = json.loads(run_file.read_text()).get("started") if run_file.is_file() else None
    except (OSError, ValueError):
        earlier = None
    # A resumed run keeps the time it was started (`eval list` showed the resumption's) and says when it resumed.
    info = {**info, "fingerprint": fingerprint, "status": "running", "started": earlier or now,
            **({"resumed": now} if earlier else {}), "pid": os.getpid()}
    write_text_atomic(run_file, json.dumps(info, indent=2))


def _what_differs(held: dict[str, Any], info: dict[str, Any]) -> str:
    """How the run in a folder differs from the one asked: "rerun with the same options" was all it said, to a
    user who had, when what changed was the index (an ingest since, another embedder)."""
    then, now = held.get("dataset") or {}, info.get("dataset") or {}
    if then.get("name") != now.get("name") or then.get("source") != now.get("source"):
        return f"another data set ({then.get('name') or '?'} from {then.get('source') or '?'})"
    if then.get("retrieval") != now.get("retrieval") and then.get("retrieval"):
        return (f"the index searched another way ({then.get('retrieval')}, {now.get('retrieval') or 'not said'} "
                "now)")
    if then.get("index") != now.get("index"):
        return "the index as it was then: documents were ingested, read again or forgotten since"
    asked = json.loads(json.dumps(info.get("config") or {}))  # as run.json holds it: lists, not tuples
    changed = [name for name, value in asked.items()
               if name != "limit" and (held.get("config") or {}).get(name, value) != value]
    if changed:
        return f"other options ({', '.join(changed)})"
    return "another data set or config"


def unfinished_run(root: Path, fingerprint: str | tuple[str, ...]) -> Path | None:
    """The newest run under `root` of this data set and config that did not finish: stopped, failed, or
    running in a process that is gone (killed). The same command resumes it instead of starting afresh.
    `fingerprint`: its name, or the names it may have (`EvalConfig.fingerprints`)."""
    names = (fingerprint,) if isinstance(fingerprint, str) else fingerprint
    from localrag.processes import process_alive

    found = []
    for run_file in root.glob(f"*/{RUN_FILE}") if root.is_dir() else []:
        try:
            info = json.loads(run_file.read_text())
        except (OSError, ValueError):
            continue
        if info.get("fingerprint") not in names or info.get("status") == "done":
            continue
        pid = info.get("pid")
        if info.get("status") == "running" and isinstance(pid, int) and process_alive(pid):
            continue  # another process is answering it now
        found.append((str(info.get("started", "")), run_file.parent))
    return max(found)[1] if found else None


def check_modes(config: EvalConfig) -> None:
    """Every mode known, and at least one: checked before a front end names the run it would start."""
    unknown = [m for m in config.modes if m not in MODES]
    if unknown or not config.modes:
        raise EvalRunError(f"unknown mode {unknown[0] if unknown else '(none)'}", f"use one of {', '.join(MODES)}")


def older_spellings(root: Path, path: Path, asked: Mapping[str, str]) -> tuple[str, ...]:
    """The other ways the runs under `root` wrote `path`: an older localrag named a run by the path as written
    (`data/q.jsonl` from one folder, the whole path from another), and only that spelling found it again. `asked`:
    the questions by id; a relative spelling counts only for a run that answered one of them as it reads now (the
    same `eval/q.jsonl` of another project would take the run over)."""
    whole = path.resolve()
    found: list[str] = []
    for run_file in root.glob(f"*/{RUN_FILE}") if root.is_dir() else []:
        try:
            source = json.loads(run_file.read_text())["dataset"]["source"]
        except (OSError, ValueError, KeyError, TypeError):
            continue
        if not isinstance(source, str) or source == str(path) or source in found:
            continue
        given = Path(source)
        if given.is_absolute():
            if given.resolve() == whole:
                found.append(source)
        elif _ends_with(whole, given) and any(asked.get(str(r.get("qid"))) == r.get("question")
                                               for r in read_records(run_file.parent)):
            found.append(source)
    return tuple(found)


def _ends_with(whole: Path, given: Path) -> bool:
    """Whether the relative path `given`, written from some folder, may have named the file at `whole`."""
    parts = [part for part in given.parts if part != "."]
    return ".." not in parts and 0 < len(parts) <= len(whole.parts) and list(whole.parts[-len(parts):]) == parts


def run_fingerprint(dataset: EvalDataset, config: EvalConfig) -> tuple[str, ...]:
    """What `run_eval` records a run of `dataset` under `config` by, then the older name such a run may have: a run
    with another is not resumed."""
    return config.fingerprints(prepare(dataset, config))


@contextmanager
def marked_when_cut(run_dir: Path) -> Iterator[None]:
    """A run cut short by Ctrl-C (or failing) is marked stopped (failed) in run.json, not left running."""
    started = time.perf_counter()
    try:
        yield
    except BaseException as exc:
        if (Path(run_dir) / RUN_FILE).is_file():
            failed = not isinstance(exc, KeyboardInterrupt)
            finish_run(run_dir, "failed" if failed else "stopped", time.perf_counter() - started,
                       error=(str(exc) or type(exc).__name__) if failed else None)
        raise


def finish_run(run_dir: Path, status: str, seconds: float, error: str | None = None) -> None:
    """Mark run.json done, stopped or failed (with why), adding this session's seconds to the run's total."""
    run_file = run_dir / RUN_FILE
    info = json.loads(run_file.read_text())
    info["status"] = status
    info.pop("error", None)
    if error:
        info["error"] = error
    info["seconds"] = round(info.get("seconds", 0.0) + seconds, 1)
    info["finished"] = time.strftime("%Y-%m-%dT%H:%M:%S")
    write_text_atomic(run_file, json.dumps(info, indent=2))


def write_corpus(dataset: EvalDataset, run_dir: Path) -> Path:
    """The corpus as text files (the ingest pipeline reads files) and a name -> document id map."""
    folder = run_dir / "corpus"
    folder.mkdir(parents=True, exist_ok=True)
    names: dict[str, str] = {}
    for i, doc in enumerate(dataset.documents):
        name = f"{i:06d}"
        names[name] = doc.doc_id
        path = folder / f"{name}.txt"
        text = f"{doc.title}\n\n{doc.text}" if doc.title else doc.text
        if not path.is_file() or path.read_text(encoding="utf-8") != text:
            write_text_atomic(path, text)
    # A document the set no longer holds (its file edited since the run stopped) leaves the corpus, and so the index.
    for stale in folder.glob("*.txt"):
        if stale.stem not in names:
            stale.unlink()
    write_text_atomic(run_dir / "corpus.json", json.dumps(names))
    return folder


def build_index(dataset: EvalDataset, run_dir: Path, embedder: Embedder, settings: Settings) -> Store:
    """A store of the data set's corpus in the run folder; incremental, so a resumed run reuses it."""
    from localrag.ingest.pipeline import run_ingest
    from localrag.store import Store

    folder = write_corpus(dataset, run_dir)
    store = Store(run_dir / "index", embedder_name=embedder.name, dim=embedder.dim)
    report = run_ingest([folder], store=store, embedder=embedder, settings=settings, own_roots=True)
    if report.errors:
        raise EvalRunError(f"{run_dir / 'corpus'}: {len(report.errors)} documents failed to ingest "
                           f"({report.errors[0].reason})", "check the corpus texts")
    return store


def _engine(settings: Settings, store: Store | None, embedder: Embedder, generator: Generator | None) -> Engine:
    from localrag.engine import Engine

    # The run's own store instead of the user's index; Engine builds the retriever over it lazily.
    return Engine(settings, embedder=embedder, generator=generator, store=store)


def _doc_key(path: str, names: dict[str, str] | None) -> str:
    """A retrieved document's id: the corpus id its file was written for, or on the user's index (`names`
    None) its path."""
    if names is None:
        return path
    return names.get(Path(path).stem, Path(path).name)


def score_record(record: dict[str, Any], question: EvalQuestion, k: int) -> dict[str, float | None]:
    """The record's scores from its `scored` text, retrieval and checks."""
    scored = record["scored"]
    scores: dict[str, float | None] = {}
    if question.answers:
        scores["em"] = metrics.exact_match(scored, question.answers)
        scores["f1"] = metrics.token_f1(scored, question.answers)
        scores["hit"] = metrics.substring_hit(scored, question.answers)
    if question.label is not None:
        scores["correct"] = float(record["label"] == question.label)
    if record["mode"] in RETRIEVAL_MODES:
        scores[f"recall@{k}"] = metrics.recall_at_k(record["retrieved"], question.gold_ids, k)
        scores["mrr"] = metrics.reciprocal_rank(record["retrieved"], question.gold_ids)
        scores["citation_precision"] = metrics.citation_precision(record["cited"], question.gold_ids)
        if "unsupported" in record:  # records of runs from before the check have none
            scores["citation_support"] = metrics.citation_support(record["cited"], record["unsupported"])
        scores["quote_rate"] = metrics.quote_rate(record["quotes"])
    scores["ttft"] = record["ttft"] if record["completion_tokens"] else None
    scores["tok_s"] = record["tok_s"] if record["completion_tokens"] else None
    return scores


def _prompt(question: EvalQuestion) -> str:
    return question.question + (LABEL_INSTRUCTION if question.label is not None else "")


def answer_question(
    engine: Engine, mode: str, question: EvalQuestion, *, k: int, names: dict[str, str] | None,
    cancel: threading.Event | None = None,
) -> dict[str, Any]:
    """One model's answer to one question in one mode, as a scored record."""
    from localrag.answer import quoted_answer
    from localrag.types import DoneEvent

    prompt = _prompt(question)
    retrieved: list[str] = []
    sources: list[str] = []
    cited: list[str] = []
    unsupported: list[str] = []
    quotes: list[str] = []
    # Kept on every record, so one run can score both ways of reading a RAFT reply (Settings.raft_answer).
    from_quote: str | None = None
    refused = False
    started = time.perf_counter()
    if mode == "model":
        stats = GenerationStats()
        text = engine.generator.complete(
            [{"role": "system", "content": NO_RETRIEVAL_SYSTEM}, {"role": "user", "content": prompt}],
            max_tokens=engine.settings.max_answer_tokens, temperature=0.0, cancel=cancel, stats=stats,
        ).strip()
        raw = text
    else:
        retrieved = [_doc_key(h.chunk.path, names) for h in engine.search(prompt, k=k)]
        answer = None
        for event in engine.stream(prompt, k=k, cancel=cancel):
            if isinstance(event, DoneEvent):
                answer = event.answer
        assert answer is not None, "Engine.stream always ends with a DoneEvent"
        text, stats, refused = answer.text.strip(), answer.stats, answer.refused
        # The shown text of a RAFT-tuned model is tidied ("Answer: ..."); its `<ANSWER>:` part is scored.
        raw = (answer.raw_text or answer.text).strip()
        sources = [_doc_key(h.chunk.path, names) for h in answer.sources]
        cited = [sources[n - 1] for n in answer.cited if 0 < n <= len(sources)]
        unsupported = [sources[n - 1] for n in answer.unsupported_citations if 0 < n <= len(sources)]
        quotes = [q.status.value for q in answer.quotes]
        from_quote = quoted_answer(raw, answer.quotes)
    scored = metrics.answer_part(raw) if metrics.has_answer_tag(raw) else text
    if from_quote is not None and engine.settings.raft_answer == "quote":
        scored = from_quote
    record: dict[str, Any] = {
        "qid": question.qid, "mode": mode, "model": engine.answer_label(), "question": question.question,
        "gold_answers": list(question.answers), "gold_label": question.label, "gold_ids": list(question.gold_ids),
        "answer": text, "scored": scored, "label": metrics.label_of(scored) if question.label is not None else None,
        "retrieved": retrieved, "sources": sources, "cited": cited, "unsupported": unsupported, "quotes": quotes,
        "refused": refused,
        "quote_answer": from_quote,
        "ttft": stats.time_to_first_token, "tok_s": stats.tokens_per_second, "threads": stats.threads,
        "completion_tokens": stats.completion_tokens, "seconds": time.perf_counter() - started,
    }
    record["scores"] = score_record(record, question, k)
    return record


def unasked_record(engine: Engine, mode: str, question: EvalQuestion, *, k: int, why: str) -> dict[str, Any]:
    """The record of a question the model could not be asked: scored as refused (no answer), `why` kept."""
    record: dict[str, Any] = {
        "qid": question.qid, "mode": mode, "model": engine.answer_label(), "question": question.question,
        "gold_answers": list(question.answers), "gold_label": question.label, "gold_ids": list(question.gold_ids),
        "answer": "", "scored": "", "label": None, "retrieved": [], "sources": [], "cited": [], "unsupported": [],
        "quotes": [], "refused": True, "quote_answer": None, "not_asked": why,
        "ttft": None, "tok_s": None, "threads": None, "completion_tokens": 0, "seconds": 0.0,
    }
    record["scores"] = score_record(record, question, k)
    return record


def model_setting(spec: str) -> str:
    """`bundled` -> the settings' empty model (the bundled SmolLM2); anything else as given."""
    return "" if spec == BUNDLED else spec


def check_models(config: EvalConfig, settings: Settings) -> None:
    """ModelError naming the first model of `config` that is not found, where its modes ask a model: each is loaded
    only when its turn comes, and a misspelt second name failed after the first model had answered every question.
    `run_eval` asks before its `announce`: `eval` printed "Evaluating ... into" a folder never made."""
    if any(m in ("model", "rag") for m in config.modes):
        for spec in config.models:
            resolve_generator(model_setting(spec), paths.models_dir(), settings.model_dirs)


def run_eval(
    dataset: EvalDataset,
    run_dir: Path,
    config: EvalConfig | None = None,
    *,
    settings: Settings | None = None,
    embedder: Embedder | None = None,
    generator_for: Callable[[str], Generator] | None = None,
    progress: Callable[[EvalProgress], None] | None = None,
    cancel: threading.Event | None = None,
    store: Store | None = None,
    announce: Callable[[], None] | None = None,
) -> EvalRun:
    """Run (or finish) an evaluation in `run_dir`; see the module docstring.

    `embedder` and `generator_for(model spec)` replace the configured models (tests use fakes). `store`:
    the user's index, for a set made with `on_index` (then `embedder` must be the one that built it). `announce`
    is called once the run can go (its questions, corpus and models found), before `run_dir` is made: a front end
    names the folder then, and never one a misspelt model kept from being made.
    """
    config = config or EvalConfig()
    check_modes(config)
    chosen = prepare(dataset, config)
    if not chosen.questions:
        raise EvalRunError(f"{dataset.name}: no questions on the {config.side} side", "use --side all or more data")
    retrieving = [m for m in config.modes if m in RETRIEVAL_MODES]
    if retrieving and not chosen.documents and store is None:
        raise EvalRunError(f"{dataset.source}: the data set has no corpus to retrieve from",
                           "give a corpus file (--corpus) or use --modes model")
    settings = settings or load_settings()
    if generator_for is None:
        check_models(config, settings)
    if announce is not None:
        announce()
    run_dir = Path(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    _start(run_dir, chosen, config, chosen.questions)
    cut_torn_tail(run_dir / RECORDS_FILE)
    # Every question is answered from its sources: how often answering refuses is measured apart
    # (benchmarks/bench_refusal.py), and runs before `min_evidence` stay comparable.
    base = settings.replace(
        temperature=0.0, top_k=config.k, max_answer_tokens=config.max_answer_tokens, allow_model_knowledge=True,
        min_evidence=0.0, prompt_sentences=config.prompt_sentences,
        # The modes say who answers: with the user's `answer_mode = "extract"`, "rag" extracted in silence and
        # "model" records were labelled as extracted.
        answer_mode="generate")
    done = _made_newest(run_dir, chosen.questions)
    total = len(config.models) * len(config.modes) * len(chosen.questions)
    result = EvalRun(run_dir)
    started = time.perf_counter()
    count = 0
    names: dict[str, str] | None = None if store is not None else {}
    with marked_when_cut(run_dir):
        for spec in config.models:
            todo = [(m, q) for m in config.modes for q in chosen.questions if record_key(spec, m, q.qid) not in done]
            count += len(config.modes) * len(chosen.questions) - len(todo)
            result.skipped += len(config.modes) * len(chosen.questions) - len(todo)
            if not todo:
                continue
            if embedder is None:
                from localrag.embed import open_embedder

                embedder = open_embedder(base.embedder, base.embed_backend, base.embed_batch_size)
            if store is None and retrieving:
                if progress:
                    indexing = f"indexing {len(chosen.documents)} documents"
                    progress(EvalProgress(count, total, spec, retrieving[0], indexing))
                store = build_index(chosen, run_dir, embedder, base)
                names = json.loads((run_dir / "corpus.json").read_text())
            generator = generator_for(spec) if generator_for else None
            engine = _engine(base.replace(model=model_setting(spec)), store, embedder, generator)
            engines = {mode: engine for mode in MODES}
            if "extract" in config.modes:
                engines["extract"] = _engine(engine.settings.replace(answer_mode="extract"), store, embedder, generator)
            for mode, question in todo:
                if cancel is not None and cancel.is_set():
                    result.cancelled = True
                    break
                try:
                    record = answer_question(engines[mode], mode, question, k=config.k, names=names, cancel=cancel)
                except QuestionTooLongError as exc:
                    # One question a user pasted whole stopped the run there, and every resumption with it.
                    record = unasked_record(engines[mode], mode, question, k=config.k, why=str(exc))
                if cancel is not None and cancel.is_set():
                    result.cancelled = True
                    break
                record["spec"] = spec
                append_record(run_dir, record)
                count += 1
                if progress:
                    progress(EvalProgress(count, total, spec, mode, question.question))
            if result.cancelled:
                break
    finish_run(run_dir, "stopped" if result.cancelled else "done", time.perf_counter() - started)
    wanted = {record_key(s, m, q.qid) for s in config.models for m in config.modes for q in chosen.questions}
    result.records = [r for key, r in _current_records(run_dir, chosen.questions).items() if key in wanted]
    return result


def _made_newest(run_dir: Path, questions: Sequence[EvalQuestion]) -> set[str]:
    """The keys answered as the question file has them now. An older answer current again (an edit undone since) is
    recorded again, last: the report takes a key's newest record, and scored the question against the undone edit."""
    current = _current_records(run_dir, questions)
    newest = {record_key(r["spec"], r["mode"], r["qid"]): r for r in read_records(run_dir)}
    for key, record in current.items():
        if newest.get(key) != record:
            append_record(run_dir, record)
    return set(current)


def _current_records(run_dir: Path, questions: Sequence[EvalQuestion]) -> dict[str, dict[str, Any]]:
    """The run's records by key, each the answer to its question as the question file has it now: a question's
    id is its line in a user's file, so a question added above it, or its gold answer corrected, between a
    stopped run and its resumption made the old answer count for another question, or against the old gold.
    Those are asked again; the newest record of a key wins."""
    asked = {q.qid: (q.question, list(q.answers), q.label, list(q.gold_ids)) for q in questions}
    current: dict[str, dict[str, Any]] = {}
    for record in read_records(run_dir):
        gold = (record.get("question"), record.get("gold_answers"), record.get("gold_label"), record.get("gold_ids"))
        if asked.get(record["qid"]) == gold:
            current[record_key(record["spec"], record["mode"], record["qid"])] = record
    return current
