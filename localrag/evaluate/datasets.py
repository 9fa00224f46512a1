"""Question sets for `localrag eval`: one simple JSONL format, adapters for the shared sets, a document split.

Every source becomes an `EvalDataset`: questions (with gold answers or a label and the ids of the gold
documents) and a corpus of `EvalDocument`s (id, text) that the runner ingests into a fresh store in the
run folder, so a score never depends on what the user happens to have indexed.

The simple format (`--format jsonl`), one JSON object per line:

    {"id": "q1", "question": "...", "answers": ["...", "..."], "gold_ids": ["doc-3"]}
    {"id": "q2", "question": "...", "label": "yes", "gold_ids": ["doc-7"]}

`answers` (or a single `answer` string) holds the accepted answers; `label` a yes/no/maybe class;
`gold_ids` (aliases `gold_docs`, `passage_ids`) the documents that hold the answer. The corpus is a
JSONL file of `{"id": "...", "text": "...", "title": "..."}` lines, given with `--corpus`, or found next
to the questions as `NAME.corpus.jsonl`; a line `{"corpus": "path"}` as the first line names it too. A
malformed line stops the load with `file:line: reason`, because a silently skipped question changes
the score. The same questions may come as a CSV file with a header row (`question`, `answer`, `label`,
`path`, `id` columns; one answer per row).

Without a corpus the questions are asked of the user's own index (`on_index`): their `path` (a
document's path, the end of it, or its file name; a list for several) names the gold documents, which
are then the ingested documents' paths, so recall@k and citation precision are measured on what the
user indexed.

Adapters (each read in place, never copied):
- COVID-QA (SQuAD-style JSON): 98 articles are the corpus; answers are the annotated spans. 234
  spans have a wrong `answer_start`, so only the text is used.
- PubMedQA-L: the 1000 expert-labelled abstracts are the corpus (sections joined), one question each
  with its `final_decision` label; the official 500-PMID test list is the test side, the rest train.
- HotpotQA / MuSiQue subsets: the paragraph corpus; gold = the supporting paragraphs (by title for
  HotpotQA, by title + text for MuSiQue, whose titles repeat).

`split_documents` is the one document-level split: a document goes to the test side when a seeded
hash of its id falls below `test_fraction` (PubMedQA uses its official split instead). A question is
evaluated only when all its gold documents are on the test side, and the RAFT benchmark trains only on
train-side documents, so no evaluated document is ever seen in training.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path

from localrag.csv_rows import is_table, read_csv
from localrag.errors import LocalRagError
from localrag.jsonl import read_jsonl
from localrag.paths import typed_path

FORMATS = ("covidqa", "pubmedqa", "hotpotqa", "musique", "jsonl")
LABELS = ("yes", "no", "maybe")
# Where dataset names such as `covidqa` are looked up when DATASET is not a path.
DATA_ENV = "LOCALRAG_EVAL_DATA"

_COVID_FILE = "data/question-answering/200423_covidQA.json"
_PUBMED_FILE = "data/ori_pqal.json"
_PUBMED_TEST = "data/test_ground_truth.json"
_FOLDERS = {"covidqa": "covidqa", "pubmedqa": "pubmedqa_pqal", "hotpotqa": "hotpotqa_musique",
            "musique": "hotpotqa_musique"}


class DatasetError(LocalRagError):
    title = "Could not read the evaluation set"


@dataclass(frozen=True)
class EvalDocument:
    doc_id: str
    text: str
    title: str = ""


@dataclass(frozen=True)
class EvalQuestion:
    qid: str
    question: str
    answers: tuple[str, ...] = ()
    label: str | None = None
    gold_ids: tuple[str, ...] = ()
    # The gold documents as the question file names them (`path`), for a set asked of the user's index.
    gold_paths: tuple[str, ...] = ()
    line: int = 0  # where a user's question file has it (the line a table's row starts on); 0 for a data set's

    def where(self, source: str) -> str:
        """The question as a note names it: FILE:LINE in a user's file ("question 5" was its line, not the fifth
        question), else by its id."""
        return f"{source}:{self.line}" if self.line else f"{source}, question {self.qid}"


@dataclass
class EvalDataset:
    """`kind` picks the headline metric: extractive -> token F1, label -> accuracy, multihop -> substring hit.

    `preset_split` maps doc id -> "train"/"test" when the set has an official split (PubMedQA).
    """

    name: str
    kind: str
    source: str
    questions: list[EvalQuestion]
    documents: list[EvalDocument]
    preset_split: dict[str, str] = field(default_factory=dict)
    split_note: str = ""
    # What the loader saw worth telling but not refusing (a question asked twice: scored twice).
    notes: list[str] = field(default_factory=list)
    # The user's index the questions are asked of (its collection and what it holds), "" for a set with a corpus.
    index: str = ""
    # The data folder that index is in: in the name of runs made before the name left it out.
    index_folder: str = ""
    # How that index is searched: its embedder and the fusion chosen for it. Part of a run's name, so a run is not
    # resumed across a switch of embedder; runs made before it was recorded (2026-12-06) lack it.
    retrieval: str = ""
    # What a run of the set is known by, wherever the command runs: the set's whole path (a run stopped under
    # `eval data/q.jsonl` was started anew by `eval ./data/q.jsonl`, or from another folder), so an edited file
    # is the same run, its changed questions asked again; for tune's own held-out set, what it holds (`digested`),
    # so a data folder moved elsewhere resumes a stopped gate. "" for a set made elsewhere (`source` names it).
    identity: str = ""
    # Other ways runs an older localrag made wrote `source` (`runner.older_spellings`): they were named by the path
    # as written, and only the same spelling, from the same folder, found them.
    spellings: tuple[str, ...] = ()

    @property
    def located_index(self) -> str:
        """The index with the data folder it is in, as run.json shows it (and older runs were named)."""
        return f"{self.index_folder} ({self.index})" if self.index_folder else self.index


def digested(dataset: EvalDataset) -> EvalDataset:
    """`dataset` known by what it holds: every question and document as loaded, before a side or a limit is taken."""
    digest = hashlib.sha256(json.dumps([dataset.name, dataset.kind, sorted(dataset.preset_split.items())]).encode())
    for q in dataset.questions:
        digest.update(json.dumps([q.qid, q.question, q.answers, q.label, q.gold_ids, q.gold_paths]).encode())
    for d in dataset.documents:
        digest.update(json.dumps([d.doc_id, d.title, d.text]).encode())
    return replace(dataset, identity=digest.hexdigest())


# -- the split ------------------------------------------------------------------------------------


def document_side(doc_id: str, *, test_fraction: float = 0.5, seed: int = 0) -> str:
    """"test" or "train" for one document, from a seeded hash of its id: stable across runs and machines."""
    digest = hashlib.sha256(f"{seed}:{doc_id}".encode()).digest()
    return "test" if int.from_bytes(digest[:8], "big") / 2**64 < test_fraction else "train"


def split_documents(dataset: EvalDataset, *, test_fraction: float = 0.5, seed: int = 0) -> dict[str, str]:
    """doc id -> "train"/"test" for every document of the corpus (the official split where there is one)."""
    if dataset.preset_split:
        return {d.doc_id: dataset.preset_split.get(d.doc_id, "train") for d in dataset.documents}
    return {d.doc_id: document_side(d.doc_id, test_fraction=test_fraction, seed=seed) for d in dataset.documents}


def split_description(dataset: EvalDataset, *, test_fraction: float = 0.5, seed: int = 0) -> str:
    if dataset.preset_split:
        return dataset.split_note or "official split of the data set"
    return (f"by document: sha256('{seed}:' + doc id) < {test_fraction:g} of the hash range -> test side; "
            "questions evaluated only when all their gold documents are on the test side")


def side(dataset: EvalDataset, which: str, *, test_fraction: float = 0.5, seed: int = 0) -> EvalDataset:
    """The questions whose gold documents all lie on `which` side; the corpus stays whole for retrieval."""
    sides = split_documents(dataset, test_fraction=test_fraction, seed=seed)
    kept = [q for q in dataset.questions if q.gold_ids and all(sides.get(g) == which for g in q.gold_ids)]
    return replace(dataset, questions=kept)


def select(dataset: EvalDataset, limit: int | None = None, *, max_documents: int | None = None) -> EvalDataset:
    """The first `limit` questions; with `max_documents`, a corpus cut to their gold documents plus others
    in corpus order up to that many (small, fast runs for tests; scores are then easier than on the full corpus)."""
    questions = dataset.questions[:limit] if limit is not None else list(dataset.questions)
    documents = dataset.documents
    if max_documents is not None:
        gold = {g for q in questions for g in q.gold_ids}
        keep = [d for d in documents if d.doc_id in gold]
        for d in documents:
            if len(keep) >= max_documents:
                break
            if d.doc_id not in gold:
                keep.append(d)
        order = {d.doc_id: i for i, d in enumerate(documents)}
        documents = sorted(keep, key=lambda d: order[d.doc_id])
    return replace(dataset, questions=questions, documents=documents)


# -- loading --------------------------------------------------------------------------------------


def resolve_dataset(spec: str, fmt: str | None = None, data_dir: Path | None = None) -> tuple[Path, str]:
    """A path (file or folder) or a set name looked up under `data_dir` / $LOCALRAG_EVAL_DATA -> (path, format)."""
    path = typed_path(spec)
    if not path.exists() and spec in _FOLDERS:
        root = data_dir or (Path(os.environ[DATA_ENV]) if os.environ.get(DATA_ENV) else None)
        if root is None:
            raise DatasetError(f"{spec}: no such file", f"give a path, or set {DATA_ENV} to the folder holding {spec}")
        path = root / _FOLDERS[spec]
        fmt = fmt or spec
    if not path.exists():
        raise DatasetError(f"{path}: no such file or folder", "give a JSONL file or one of the data set folders")
    if fmt is None:
        fmt = _detect(path)
    if fmt not in FORMATS:
        raise DatasetError(f"{path}: unknown format {fmt!r}", f"use one of {', '.join(FORMATS)}")
    return path, fmt


def _detect(path: Path) -> str:
    if path.is_file():
        return "jsonl"
    if (path / _COVID_FILE).is_file():
        return "covidqa"
    if (path / _PUBMED_FILE).is_file():
        return "pubmedqa"
    raise DatasetError(f"{path}: cannot tell the data set's format",
                       f"pass --format ({', '.join(FORMATS)})")


def load_dataset(path: Path, fmt: str, *, corpus: Path | None = None) -> EvalDataset:
    loaders = {"covidqa": load_covidqa, "pubmedqa": load_pubmedqa, "hotpotqa": load_hotpotqa,
               "musique": load_musique}
    loaded = load_jsonl(path, corpus=corpus) if fmt == "jsonl" else loaders[fmt](path)
    return replace(loaded, identity=str(path.resolve()))


def _read_json(path: Path) -> object:
    try:
        return json.loads(path.read_text(encoding="utf-8-sig"))
    except OSError as exc:
        raise DatasetError(f"{path}: cannot read ({exc.strerror})", "check the path") from exc
    except ValueError as exc:
        raise DatasetError(f"{path}: not valid JSON ({exc})", "is this the right file?") from exc


def _file(folder: Path, name: str, fmt: str) -> Path:
    path = folder / name if folder.is_dir() else folder
    if not path.is_file():
        raise DatasetError(f"{path}: missing", f"point DATASET at the {fmt} folder that holds {name}")
    return path


def load_covidqa(folder: Path) -> EvalDataset:
    data = _read_json(_file(folder, _COVID_FILE, "covidqa"))
    documents: list[EvalDocument] = []
    questions: list[EvalQuestion] = []
    for article in data["data"]:  # type: ignore[index]
        for para in article["paragraphs"]:
            doc_id = str(para["document_id"])
            documents.append(EvalDocument(doc_id, para["context"]))
            for qa in para["qas"]:
                answers = tuple(dict.fromkeys(a["text"].strip() for a in qa["answers"] if a["text"].strip()))
                if answers:
                    questions.append(EvalQuestion(str(qa["id"]), qa["question"].strip(), answers, None, (doc_id,)))
    return EvalDataset("covidqa", "extractive", str(folder), questions, documents)


def load_pubmedqa(folder: Path) -> EvalDataset:
    items = _read_json(_file(folder, _PUBMED_FILE, "pubmedqa"))
    test = _read_json(_file(folder, _PUBMED_TEST, "pubmedqa"))
    assert isinstance(items, dict) and isinstance(test, dict)
    documents = [EvalDocument(pmid, "\n\n".join(item["CONTEXTS"])) for pmid, item in items.items()]
    # All 1000 questions, test side first, both in ori_pqal order: test_ground_truth.json is sorted by label
    # (all "yes" first), so its own order would make every --limit slice one class.
    order = [p for p in items if p in test] + [p for p in items if p not in test]
    questions = [
        EvalQuestion(pmid, items[pmid]["QUESTION"].strip(), (), str(items[pmid]["final_decision"]).lower(), (pmid,))
        for pmid in order
    ]
    split = {pmid: ("test" if pmid in test else "train") for pmid in items}
    note = "official PQA-L split: the 500 PMIDs of test_ground_truth.json are the test side, the other 500 train"
    return EvalDataset("pubmedqa", "label", str(folder), questions, documents, split, note)


def _paragraph_id(title: str, text: str) -> str:
    return f"{title} #{hashlib.sha1(text.encode()).hexdigest()[:8]}"


def load_hotpotqa(folder: Path) -> EvalDataset:
    corpus = _read_json(_file(folder, "data/hotpotqa_train_corpus.json", "hotpotqa"))
    items = _read_json(_file(folder, "data/hotpotqa_train.json", "hotpotqa"))
    assert isinstance(corpus, dict) and isinstance(items, list)
    documents = [EvalDocument(title, "".join(sentences), title) for title, sentences in corpus.items()]
    questions = []
    for item in items:
        gold = tuple(dict.fromkeys(title for title, _ in item["supporting_facts"]))
        questions.append(EvalQuestion(item["_id"], item["question"].strip(), (item["answer"],), None, gold))
    return EvalDataset("hotpotqa", "multihop", str(folder), questions, documents)


def load_musique(folder: Path) -> EvalDataset:
    corpus = _read_json(_file(folder, "data/musique_train_corpus.json", "musique"))
    items = _read_json(_file(folder, "data/musique_train.json", "musique"))
    assert isinstance(corpus, list) and isinstance(items, list)
    documents = list({(d := EvalDocument(_paragraph_id(p["title"], p["text"]), p["text"], p["title"])).doc_id: d
                      for p in corpus}.values())
    questions = []
    for item in items:
        gold = tuple(_paragraph_id(p["title"], p["paragraph_text"]) for p in item["paragraphs"] if p["is_supporting"])
        answers = (item["answer"], *item.get("answer_aliases", []))
        questions.append(EvalQuestion(item["id"], item["question"].strip(), tuple(dict.fromkeys(answers)), None, gold))
    return EvalDataset("musique", "multihop", str(folder), questions, documents)


def _jsonl_lines(path: Path) -> Iterable[tuple[int, dict[str, object]]]:
    return read_jsonl(path, error=DatasetError, hint="one JSON object per line")


def _strings(value: object, where: str, key: str) -> tuple[str, ...]:
    values = [value] if isinstance(value, str) else value
    if not isinstance(values, list) or not all(isinstance(v, str | int) for v in values):
        raise DatasetError(f"{where}: {key!r} must be a string or a list of strings", "fix that line")
    return tuple(str(v).strip() for v in values if str(v).strip())


def _question_rows(path: Path) -> Iterable[tuple[int, dict[str, object]]]:
    """(line number, row) of a JSONL question file, or of a table (CSV, TSV, "Unicode Text") with a header row."""
    if not is_table(path):
        yield from _jsonl_lines(path)
        return
    checked = False
    for number, row in read_csv(path, DatasetError):
        if not checked:
            # A row holds every column the header names: a table without a gold column is one fault, said of its
            # header, not of its first row in the key a JSONL file would use.
            checked = True
            if not {"answer", "answers", "label"} & set(row):
                shown = ", ".join(repr(name) for name in row if name)
                raise DatasetError(f"{path}: no \"answer\" or \"label\" column (its first row names {shown})",
                                   "the first row names the columns: question, answer, path (or label: yes, no "
                                   "or maybe)")
        cells = {k: v for k, v in row.items() if v.strip()}
        if cells:
            yield number, dict(cells)


def load_jsonl(path: Path, *, corpus: Path | None = None) -> EvalDataset:
    questions: list[EvalQuestion] = []
    seen: set[str] = set()
    asked: dict[str, int] = {}  # a question's words -> the line that asked them first
    notes: list[str] = []
    for number, row in _question_rows(path):
        where = f"{path}:{number}"
        if "corpus" in row and "question" not in row:
            corpus = corpus or (path.parent / str(row["corpus"]))
            continue
        question = row.get("question")
        if not isinstance(question, str) or not question.strip():
            raise DatasetError(f"{where}: no \"question\" string", "every line needs a non-empty question")
        answers = _strings(row.get("answers", row.get("answer", [])), where, "answers")
        label = row.get("label")
        if label is not None:
            label = str(label).strip().lower()
            if label not in LABELS:
                raise DatasetError(f"{where}: label {label!r} is not one of {', '.join(LABELS)}", "fix that line")
        if not answers and label is None:
            # A table's column is "answer"; a JSON line's key "answers" (a list).
            column = "answer" if is_table(path) else "answers"
            raise DatasetError(f"{where}: no \"{column}\" and no \"label\"", "give the gold answer(s) or a label")
        gold = _strings(row.get("gold_ids", row.get("gold_docs", row.get("passage_ids", []))), where, "gold_ids")
        qid = str(row.get("id", number))
        if qid in seen:
            raise DatasetError(f"{where}: id {qid!r} used twice", "give each question its own id")
        seen.add(qid)
        words = " ".join(question.split()).casefold()
        if words in asked:
            notes.append(f"{where}: the question of line {asked[words]} again; each is scored")
        asked.setdefault(words, number)
        questions.append(EvalQuestion(qid, question.strip(), answers, label, gold,
                                      _strings(row.get("path", []), where, "path"), number))
    if not questions:
        raise DatasetError(f"{path}: no questions", "a row under the header question, answer, path"
                           if is_table(path) else "one JSON object per line with a \"question\"")
    if corpus is None and path.with_suffix(".corpus.jsonl").is_file():
        corpus = path.with_suffix(".corpus.jsonl")
    documents: list[EvalDocument] = []
    if corpus is not None:
        for number, row in _jsonl_lines(corpus):
            text, doc_id = row.get("text"), row.get("id")
            if not isinstance(text, str) or not text.strip() or doc_id is None:
                raise DatasetError(f"{corpus}:{number}: needs \"id\" and a non-empty \"text\"", "fix that line")
            documents.append(EvalDocument(str(doc_id), text, str(row.get("title", ""))))
    labelled = [q for q in questions if q.label is not None]
    kind = "label" if len(labelled) == len(questions) else "extractive"
    return EvalDataset(path.stem, kind, str(path), questions, documents, notes=notes)


def on_index(dataset: EvalDataset, paths: Iterable[str], index: str, base: Path,
             retrieval: str = "", index_folder: str = "") -> tuple[EvalDataset, list[str]]:
    """`dataset` asked of the user's index, whose documents are `paths`; and a note per `path` that names no
    ingested document (that question is then scored without gold documents: no recall, no citation precision).

    A question's `path` matches a document whose path is it (relative ones from `base`, the question
    file's folder), ends with it after a "/", or has it as its file name; every match is gold.
    """
    documents = list(paths)
    notes: list[str] = []
    questions = []
    for question in dataset.questions:
        gold: list[str] = []
        for given in question.gold_paths:
            whole = str((base / typed_path(given)).resolve())
            tail = "/" + given.replace("\\", "/").lstrip("./")
            found = [d for d in documents if d == whole or d.endswith(tail)]
            if not found:
                words = question.question
                asked = words if len(words) <= 50 else words[:49].rsplit(" ", 1)[0] + "…"
                notes.append(f"{question.where(dataset.source)} ({asked!r}): no ingested document "
                             f"matches path {given!r}; it is scored without a gold document")
            gold += [d for d in found if d not in gold]
        questions.append(replace(question, gold_ids=tuple(gold)))
    return replace(dataset, questions=questions, documents=[], index=index, retrieval=retrieval,
                   index_folder=index_folder), notes

