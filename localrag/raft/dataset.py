"""RAFT examples from grounded QA pairs: oracle plus distractor documents and a quoted chain of thought.

For each QA pair (RAFT, Zhang et al. 2024): the oracle chunk plus `k` distractor chunks, the oracle
kept with probability `p_oracle` (otherwise the model sees only distractors and has to answer from
what it learnt), the documents shuffled. Distractors are hard negatives by default: the retriever's
best hits for the question from OTHER documents, which look relevant but do not hold the answer, so
the model learns to tell them apart; random chunks of other documents are the option (and fill up
when the retriever finds too few). Everything draws from a `random.Random` seeded by the config seed
and the pair itself, so a re-run gives the same set whatever the order of the pairs.

The chain-of-thought answer is built, not generated: the oracle sentences that contain the gold
answer (normalised), or failing that the one sharing most of its content words, are quoted between
`##begin_quote##` and `##end_quote##`, cited by document number when the oracle is present, and
the answer ends with `<ANSWER>: ...`. Every quote is then checked with the answer-time verifier
(`localrag.answer.citations.verify_quotes`); an example with a quote that is not verbatim in the
oracle is dropped, so the model is never trained to invent a quote.

In the sentence layout (`prompt_sentences = N`, what `localrag tune` builds by default: the engine's own
`prompt_sentences` setting), each document shows only those of the N best-scored sentences of all the
example's documents that it holds (`localrag.answer.evidence.prompt_texts`, the rule answers are built
with), and a document holding none is left out. The chain then quotes a supporting sentence the prompt
shows; a pair whose supporting sentences the rule did not choose is dropped ("answer sentence not among
the shown sentences"), since nothing shown answers it. Measured on COVID-QA (benchmarks/README.md, "RAFT
in the sentence layout, replicated"): the first RAFT set after which the tuned model was better than the base,
+2.5 [+0.1, +4.9] token F1 points on 600 held-out questions, with less precise citations.

The split is by document (no document's questions on two sides), so validation and test measure
reading unseen documents rather than recall of trained ones: documents are ordered by a seeded hash
and each goes to the split furthest below its target share of questions. The user turn is laid out
by `localrag.answer.prompt`, the same numbered-document layout the model sees at answer time.
"""

from __future__ import annotations

import hashlib
import random
import re
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from localrag.answer.citations import verify_quotes
from localrag.answer.evidence import prompt_texts
from localrag.answer.prompt import SYSTEM_PROMPT, format_sources, messages_for
from localrag.raft import MAX_DISTRACTORS
from localrag.raft.qa import ProgressCallback, QAPair, RaftProgress, content_words, normalise
from localrag.sentences import chunk_sentences, one_line
from localrag.types import Chunk, Hit, QuoteStatus

if TYPE_CHECKING:
    from localrag.embed import Embedder

SPLITS = ("train", "validation", "test")
BEGIN_QUOTE = "##begin_quote##"
END_QUOTE = "##end_quote##"
ANSWER_TAG = "<ANSWER>:"
MAX_QUOTED_SENTENCES = 2
COT_STYLES = ("full", "short", "cite-first")

_TAGGED = re.compile(r"(?:\[\d+\] )?" + re.escape(BEGIN_QUOTE) + r".*?" + re.escape(END_QUOTE) + r"(?: \[\d+\])?",
                     re.DOTALL)

Search = Callable[[str, int], list[Hit]]
TokenCounter = Callable[[str], int]


# What `localrag tune` and `raft build` use where the user gives no flag, over RaftConfig's paper defaults: the recipe
# of the sentence layout's measurement (benchmarks/README.md, "RAFT in the sentence layout": one quote, three hard
# distractors, the oracle always shown), the only one measured in that layout and the best of every recipe run.
COMMAND_RECIPE: dict[str, Any] = {"cot": "short", "k": 3, "p_oracle": 1.0}
# The fields a user sets by flag or setting, and so those a resumed `tune` run keeps from the run it resumes.
RECIPE_FIELDS = ("k", "p_oracle", "distractors", "cot", "prompt_sentences", "answer_language")


@dataclass(frozen=True)
class RaftConfig:
    """How the RAFT set is drawn; the defaults are the RAFT paper's training settings."""

    # Distractor documents per example; RAFT trained with 4.
    k: int = 4
    # Probability that the oracle is among the documents; RAFT found 0.8 better than always (1.0).
    p_oracle: float = 0.8
    # "hard": retriever hits from other documents; "random": any chunks of other documents.
    distractors: str = "hard"
    # Seeds every random choice so a re-run builds the same set.
    seed: int = 0
    # Target shares of questions for train / validation / test; documents are never split.
    split: tuple[float, float, float] = (0.8, 0.1, 0.1)
    # "full": "Document [n] answers this. It says: <up to 2 quotes> So the answer is: ..." then the tag;
    # "short": one quote, then the tag. The short form leaves the loss fewer copied tokens to spend
    # itself on (the 135M model learned to copy quotes, not to pick the answer span; benchmarks/README.md).
    # "cite-first": the short form with the document's number before the quote instead of after it, so the
    # model names a document and then copies from it. A model trained on "short" copied the right sentence under
    # another document's number in 73 of 78 answers whose quote was not found; trained on "cite-first", 69 % of its
    # quotes verified against 39 %, at 1.8 token F1 points less (benchmarks/README.md, "The number before the quote").
    cot: str = "full"
    # 0: every document whole. N: only the N best-scored sentences of the documents, as the answer-time prompt
    # shows them with `prompt_sentences = N` (answer/evidence.py), so a tuned model trains on what it will read.
    # 0 here keeps sets built before the layout existed as they were; `tune` and `raft build` pass the setting.
    prompt_sentences: int = 0
    # The `answer_language` setting the prompts state ("Answer in German."), as answering states it: trained with
    # the default's sentence, a model tuned for German answers read a system prompt at answer time it never saw.
    answer_language: str = "question"

    def __post_init__(self) -> None:
        if not 0 <= self.k <= MAX_DISTRACTORS or not 0.0 <= self.p_oracle <= 1.0:
            raise ValueError(f"k must be from 0 to {MAX_DISTRACTORS} and p_oracle within [0, 1]")
        if self.distractors not in ("hard", "random"):
            raise ValueError('distractors must be "hard" or "random"')
        if len(self.split) != 3 or min(self.split) < 0 or sum(self.split) <= 0:
            raise ValueError("split needs three non-negative shares")
        if self.cot not in COT_STYLES:
            raise ValueError(f"cot must be one of {', '.join(COT_STYLES)}")
        if self.prompt_sentences < 0:
            raise ValueError("prompt_sentences must be 0 (whole documents) or more")

    def fingerprint(self) -> dict[str, object]:
        """The settings that decide the set; a whole-document layout leaves its key out, so sets built before the
        sentence layout existed keep their hash and are not rebuilt."""
        data = asdict(self)
        if not self.prompt_sentences:
            del data["prompt_sentences"]
        if data["answer_language"] == "question":  # the language set too: sets built before it keep their hash
            del data["answer_language"]
        return data


@dataclass
class RaftExample:
    """One training example: `documents` in prompt order, the oracle at `oracle_index` (None: left out).

    `texts`, when set, is what the prompt shows of each document (its chosen sentences); None: whole documents.
    `answer_language`: the setting its prompt states the answer's language by (`RaftConfig.answer_language`)."""

    question: str
    answer: str
    cot: str
    oracle: Chunk
    documents: list[Chunk]
    oracle_index: int | None
    split: str = "train"
    origin: str = ""
    texts: list[str] | None = None
    answer_language: str = "question"

    def to_json(self) -> dict[str, object]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, object]) -> RaftExample:
        raw = dict(data)
        oracle = raw.pop("oracle")
        documents = raw.pop("documents")
        assert isinstance(oracle, dict) and isinstance(documents, list)
        return cls(oracle=Chunk(**oracle), documents=[Chunk(**d) for d in documents], **raw)  # type: ignore[arg-type]


@dataclass
class DatasetReport:
    examples: int = 0
    dropped: Counter[str] = field(default_factory=Counter)


def supporting_sentences(question: str, answer: str, oracle: Chunk, evidence: str = "") -> list[str]:
    """Oracle sentences that contain the answer, else the one sharing most content words with the
    answer and its `evidence` (a label such as "yes" has none of its own, its rationale does). The sentences are
    the evidence rule's (`sentences.chunk_sentences`): one wrapped over lines is read whole, a quote never spans a
    paragraph break, and in code and data never a line (a YAML file's keys were quoted five to a sentence)."""
    found = [one_line(oracle.text[s:e]) for s, e in chunk_sentences(oracle)]
    key = normalise(answer)
    containing = [s for s in found if key and f" {key} " in f" {normalise(s)} "]
    if containing:
        return containing[:MAX_QUOTED_SENTENCES]
    answer_words, question_words = set(content_words(f"{answer} {evidence}")), set(content_words(question))
    scored = [
        (len(answer_words & set(content_words(s))), len(question_words & set(content_words(s))), -i, s)
        for i, s in enumerate(found)
    ]
    best = max(scored, default=None)
    return [best[3]] if best is not None and best[0] > 0 else []


def chain_of_thought(answer: str, quotes: Sequence[str], number: int | None, style: str = "full") -> str:
    """The reasoning text: the quotes (cited by document `number` when present), then the answer.

    `style` "short" keeps the first quote alone before the answer tag, "cite-first" that quote with the number
    written before it (see RaftConfig.cot)."""
    cite = f" [{number}]" if number is not None else ""
    if style == "short":
        return f"{BEGIN_QUOTE}{quotes[0]}{END_QUOTE}{cite}\n\n{ANSWER_TAG} {answer}"
    if style == "cite-first":
        lead = f"[{number}] " if number is not None else ""
        return f"{lead}{BEGIN_QUOTE}{quotes[0]}{END_QUOTE}\n\n{ANSWER_TAG} {answer}"
    quoted = " ".join(f"{BEGIN_QUOTE}{q}{END_QUOTE}{cite}" for q in quotes)
    where = f"Document [{number}] answers this. It says" if number is not None else "The source of this says"
    return f"{where}: {quoted} So the answer is: {answer}\n\n{ANSWER_TAG} {answer}"


def quotes_verified(cot: str, oracle: Chunk, documents: Sequence[Chunk], number: int | None) -> bool:
    """True when every quote in `cot` is verbatim in the oracle (checked by the answer-time verifier)."""
    hits = [Hit(c, 0.0) for c in documents] if number is not None else [Hit(oracle, 0.0)]
    # Only the tagged spans are the claims; a question or answer that has words in double quotes is not.
    tagged = _TAGGED.findall(cot)
    checked = verify_quotes(" ".join(tagged), hits)
    target = number if number is not None else 1
    return (
        len(checked) == len(tagged) > 0
        and all(q.status is QuoteStatus.VERIFIED and q.source == target for q in checked)
    )


def _rng(config: RaftConfig, pair: QAPair) -> random.Random:
    return random.Random(f"{config.seed}\x00{pair.chunk.chunk_id}\x00{pair.question}")


def choose_distractors(
    pair: QAPair, pool: Sequence[Chunk], config: RaftConfig, rng: random.Random, search: Search | None
) -> list[Chunk]:
    """`config.k` chunks of other documents: hard negatives first (if asked and possible), then random."""
    chosen: dict[str, Chunk] = {}
    if config.distractors == "hard" and search is not None and config.k > 0:
        for hit in search(pair.question, 4 * config.k + 8):
            if hit.chunk.doc_id != pair.chunk.doc_id and hit.chunk.chunk_id not in chosen:
                chosen[hit.chunk.chunk_id] = hit.chunk
            if len(chosen) == config.k:
                break
    others = [c for c in pool if c.doc_id != pair.chunk.doc_id and c.chunk_id not in chosen]
    missing = config.k - len(chosen)
    if missing > 0 and others:
        for extra in rng.sample(others, min(missing, len(others))):
            chosen[extra.chunk_id] = extra
    return list(chosen.values())


def split_groups(groups: Sequence[str], split: Sequence[float], seed: int) -> dict[str, str]:
    """group -> split name, whole groups at a time, each split filled toward its share of the items.

    `groups` has one entry per item (a question's document, a question's topic entity), so a group's
    size is how often it occurs; groups are visited in seeded-hash order so the split is reproducible.
    """
    counts = Counter(groups)
    shares = [s / sum(split) for s in split]
    order = sorted(counts, key=lambda g: hashlib.sha256(f"{seed}\x00{g}".encode()).hexdigest())
    filled = [0, 0, 0]
    assigned: dict[str, str] = {}
    for group in order:
        total = sum(filled) + counts[group]
        # The split whose share would fall furthest short of its target without this group.
        gaps = [shares[i] * total - filled[i] if shares[i] > 0 else float("-inf") for i in range(3)]
        choice = max(range(3), key=lambda i: (gaps[i], -i))
        filled[choice] += counts[group]
        assigned[group] = SPLITS[choice]
    return assigned


def assign_splits(pairs: Sequence[QAPair], config: RaftConfig) -> dict[str, str]:
    """doc_id -> split: no document's questions on two sides."""
    return split_groups([p.chunk.doc_id for p in pairs], config.split, config.seed)


def build_examples(
    pairs: Sequence[QAPair],
    pool: Sequence[Chunk],
    config: RaftConfig | None = None,
    *,
    search: Search | None = None,
    embedder: Embedder | None = None,
    progress: ProgressCallback | None = None,
) -> tuple[list[RaftExample], DatasetReport]:
    """One RAFT example per usable pair, in pair order, with its split; see the module docstring.

    `embedder` scores the sentences when `config.prompt_sentences` is set, and is needed then."""
    config = config or RaftConfig()
    if config.prompt_sentences and embedder is None:
        raise ValueError("a sentence layout (prompt_sentences) needs the embedder that scores the sentences")
    report = DatasetReport()
    splits = assign_splits(pairs, config)
    seen: set[tuple[str, str]] = set()
    examples: list[RaftExample] = []
    started = time.perf_counter()
    for done, pair in enumerate(pairs, start=1):
        key = (normalise(pair.question), normalise(pair.answer))
        if key in seen:
            report.dropped["duplicate"] += 1
        else:
            seen.add(key)
            example = _example(pair, pool, config, search, embedder, splits[pair.chunk.doc_id], report)
            if example is not None:
                examples.append(example)
        if progress is not None:
            elapsed = time.perf_counter() - started
            progress(RaftProgress("examples", done, len(pairs), pair.chunk.path, elapsed,
                                  elapsed / done * (len(pairs) - done)))
    report.examples = len(examples)
    return examples, report


def _example(
    pair: QAPair, pool: Sequence[Chunk], config: RaftConfig, search: Search | None, embedder: Embedder | None,
    split: str, report: DatasetReport,
) -> RaftExample | None:
    quotes = supporting_sentences(pair.question, pair.answer, pair.chunk, pair.evidence)
    if not quotes:
        report.dropped["no supporting sentence"] += 1
        return None
    rng = _rng(config, pair)
    documents = choose_distractors(pair, pool, config, rng, search)
    keep_oracle = rng.random() < config.p_oracle
    if keep_oracle:
        documents.append(pair.chunk)
    rng.shuffle(documents)
    texts = None
    if config.prompt_sentences and embedder is not None:
        shown = prompt_texts(pair.question, [Hit(c, 0.0) for c in documents], embedder, config.prompt_sentences)
        documents, texts = [hit.chunk for hit, _ in shown], [text for _, text in shown]
        if keep_oracle:
            # The chain quotes only what the prompt shows; a supporting sentence the rule did not choose is
            # not there to quote, and such a pair teaches nothing this layout can answer.
            on_show = texts[documents.index(pair.chunk)] if pair.chunk in documents else ""
            quotes = [q for q in quotes if q in on_show]
            if not quotes:
                report.dropped["answer sentence not among the shown sentences"] += 1
                return None
    oracle_index = documents.index(pair.chunk) if pair.chunk in documents else None
    number = oracle_index + 1 if oracle_index is not None else None
    cot = chain_of_thought(pair.answer, quotes, number, config.cot)
    if not quotes_verified(cot, pair.chunk, documents, number):
        report.dropped["quote not verbatim"] += 1
        return None
    return RaftExample(pair.question, pair.answer, cot, pair.chunk, documents, oracle_index, split, pair.origin,
                       texts, config.answer_language)


def chat_messages(example: RaftExample) -> list[dict[str, str]]:
    """System (with the answer's language as `answer_language` states it), user (the answer-time numbered-document
    layout) and assistant (the chain of thought)."""
    texts: list[str | None] = list(example.texts) if example.texts is not None else [None] * len(example.documents)
    blocks = format_sources(example.question, [Hit(c, 0.0) for c in example.documents], texts)
    return [*messages_for(example.question, blocks, [], example.answer_language),
            {"role": "assistant", "content": example.cot}]


def completion_record(example: RaftExample) -> dict[str, str]:
    """Prompt/completion pair: the system and user turns as plain text, the chain of thought to learn."""
    system, user, assistant = chat_messages(example)
    return {"prompt": f"{system['content']}\n\n{user['content']}\n\n", "completion": assistant["content"]}


def _lengths(values: list[int]) -> dict[str, float]:
    if not values:
        return {"min": 0, "mean": 0.0, "max": 0}
    return {"min": min(values), "mean": round(sum(values) / len(values), 1), "max": max(values)}


def statistics(examples: Sequence[RaftExample], count_tokens: TokenCounter | None = None) -> dict[str, object]:
    """Counts per split, documents per split, oracle rate, and prompt/answer lengths in tokens."""
    count = count_tokens or (lambda text: len(text.split()))
    out: dict[str, object] = {"system_prompt": SYSTEM_PROMPT}
    for split in ("all", *SPLITS):
        chosen = [e for e in examples if split == "all" or e.split == split]
        records = [completion_record(e) for e in chosen]
        out[split] = {
            "examples": len(chosen),
            "documents": len({e.oracle.doc_id for e in chosen}),
            "oracle_rate": round(sum(e.oracle_index is not None for e in chosen) / len(chosen), 3) if chosen else 0.0,
            "prompt_tokens": _lengths([count(r["prompt"]) for r in records]),
            "completion_tokens": _lengths([count(r["completion"]) for r in records]),
        }
    return out


