"""RAFT examples: distractors, oracle rate, verified chain-of-thought quotes, document splits, formats."""

from __future__ import annotations

import json
from collections import Counter

import pytest

from localrag.answer.citations import verify_quotes
from localrag.answer.prompt import SYSTEM_PROMPT
from localrag.embed import SentenceTransformerEmbedder
from localrag.raft.dataset import (
    ANSWER_TAG,
    RaftConfig,
    RaftExample,
    assign_splits,
    build_examples,
    chat_messages,
    completion_record,
    statistics,
    supporting_sentences,
)
from localrag.raft.qa import QAPair
from localrag.types import Chunk, Hit, QuoteStatus


def make_chunk(doc: int, index: int, text: str) -> Chunk:
    path = f"/docs/doc{doc}.txt"
    return Chunk(f"d{doc}:{index}", f"d{doc}", path, index, text, 0, len(text))


POOL = [
    make_chunk(d, i, f"Document {d} part {i} talks about topic {d * 10 + i}. It has a second sentence here.")
    for d in range(10)
    for i in range(3)
]
ORACLE = make_chunk(
    99, 0, "Bees make honey from nectar. A colony keeps one queen. The queen lays two thousand eggs daily."
)
POOL.append(ORACLE)


def pair(question: str = "How many eggs does the queen lay?", answer: str = "two thousand eggs",
         chunk: Chunk = ORACLE) -> QAPair:
    return QAPair(question, answer, chunk)


def test_supporting_sentences_prefer_the_answer_then_overlap() -> None:
    assert supporting_sentences("q", "two thousand eggs", ORACLE) == ["The queen lays two thousand eggs daily."]
    assert supporting_sentences("What makes honey?", "nectar and bees", ORACLE) == ["Bees make honey from nectar."]
    assert supporting_sentences("q", "wasps", ORACLE) == []


def test_a_sentence_wrapped_over_lines_is_quoted_whole_on_one_line() -> None:
    text = "Bees make honey.\nThe queen of a strong colony\nlays two thousand eggs a day in spring."
    wrapped = make_chunk(98, 0, text)
    assert supporting_sentences("q", "two thousand eggs", wrapped) == [
        "The queen of a strong colony lays two thousand eggs a day in spring."
    ]
    examples, report = build_examples([pair(chunk=wrapped)], [*POOL, wrapped], RaftConfig(p_oracle=1.0))
    assert report.examples == 1 and not report.dropped
    # The quote verifies against the wrapped source: the answer-time check reads a line break as a space.
    assert "##begin_quote##The queen of a strong colony lays two thousand eggs a day in spring.##end_quote##" in (
        examples[0].cot
    )


def test_a_quote_of_code_or_data_is_one_line() -> None:
    """RAFT quoted a YAML file's keys glued into one sentence ("name: Carol Diaz role: Marketing lead budget: 40000
    team: Growth"): the evidence rule read them a line each, its quotes did not."""
    text = "name: Carol Diaz\nrole: Marketing lead\nbudget: 40000\nteam: Growth"
    yaml = Chunk("d9:0", "d9", "/team.yaml", 0, text, 0, len(text), file_type="code:yaml")
    assert supporting_sentences("Who leads marketing?", "Carol Diaz", yaml) == ["name: Carol Diaz"]


def test_a_label_answer_is_backed_by_the_sentence_closest_to_its_evidence() -> None:
    question = "Does a colony have a single queen?"
    assert supporting_sentences(question, "yes", ORACLE) == []
    assert supporting_sentences(question, "yes", ORACLE, evidence="Each colony keeps only one queen.") == [
        "A colony keeps one queen."
    ]
    labelled = QAPair(question, "yes", ORACLE, evidence="Each colony keeps only one queen.")
    examples, report = build_examples([labelled], POOL, RaftConfig(p_oracle=1.0))
    assert report.examples == 1 and "##begin_quote##A colony keeps one queen.##end_quote##" in examples[0].cot
    assert examples[0].cot.endswith(f"{ANSWER_TAG} yes")


def test_example_has_k_distractors_from_other_documents_and_a_verified_quote() -> None:
    examples, report = build_examples([pair()], POOL, RaftConfig(k=4, p_oracle=1.0, distractors="random"))
    (example,) = examples
    assert report.examples == 1 and not report.dropped
    assert len(example.documents) == 5
    assert example.oracle_index is not None and example.documents[example.oracle_index] == ORACLE
    assert all(c.doc_id != ORACLE.doc_id for i, c in enumerate(example.documents) if i != example.oracle_index)
    assert example.cot.endswith(f"{ANSWER_TAG} two thousand eggs")
    number = example.oracle_index + 1
    assert f"##begin_quote##The queen lays two thousand eggs daily.##end_quote## [{number}]" in example.cot
    quotes = verify_quotes(example.cot, [Hit(c, 0.0) for c in example.documents])
    assert [(q.status, q.source) for q in quotes] == [(QuoteStatus.VERIFIED, number)]


def test_short_chain_of_thought_is_one_verified_quote_then_the_answer() -> None:
    two = QAPair("Which facts about eggs?", "eggs", make_chunk(98, 0, "Hens lay eggs. Ducks lay eggs too."))
    examples, report = build_examples([pair(), two], POOL, RaftConfig(k=2, p_oracle=1.0, cot="short",
                                                                      distractors="random"))
    assert report.examples == 2
    first, second = examples
    number = first.oracle_index + 1
    assert first.cot == (f"##begin_quote##The queen lays two thousand eggs daily.##end_quote## [{number}]\n\n"
                         f"{ANSWER_TAG} two thousand eggs")
    # Two sentences hold the answer; the short form quotes only the first.
    assert second.cot.count("##begin_quote##") == 1 and "Hens lay eggs." in second.cot
    full, _ = build_examples([two], POOL, RaftConfig(k=2, p_oracle=1.0, distractors="random"))
    assert full[0].cot.count("##begin_quote##") == 2



def test_cite_first_writes_the_documents_number_before_its_quote_and_the_verifier_reads_it_there() -> None:
    # The oracle's sentence also stands in a distractor: the number before the quote, not the first source
    # holding the words, decides which document it is checked against.
    twin = make_chunk(7, 0, "The queen lays two thousand eggs daily. Drones do not sting.")
    examples, report = build_examples([pair()], [twin, *POOL], RaftConfig(k=2, p_oracle=1.0, cot="cite-first",
                                                                          distractors="random", seed=7))
    assert report.examples == 1
    example = examples[0]
    number = example.oracle_index + 1
    assert [c.chunk_id for c in example.documents].index("d7:0") < example.oracle_index
    assert example.cot == (f"[{number}] ##begin_quote##The queen lays two thousand eggs daily.##end_quote##\n\n"
                           f"{ANSWER_TAG} two thousand eggs")
    quotes = verify_quotes(example.cot, [Hit(c, 0.0) for c in example.documents])
    assert [(q.status, q.source) for q in quotes] == [(QuoteStatus.VERIFIED, number)]
    # Without the oracle there is no number to write: the quote stands alone.
    alone, _ = build_examples([pair()], POOL, RaftConfig(k=2, p_oracle=0.0, cot="cite-first", distractors="random"))
    assert alone[0].cot.startswith("##begin_quote##")

def test_hard_negatives_come_from_the_search_other_documents_first() -> None:
    asked: list[tuple[str, int]] = []

    def search(query: str, k: int) -> list[Hit]:
        asked.append((query, k))
        return [Hit(ORACLE, 1.0), Hit(POOL[4], 0.9), Hit(POOL[7], 0.8)]

    examples, _ = build_examples([pair()], POOL, RaftConfig(k=3, p_oracle=0.0), search=search)
    ids = {c.chunk_id for c in examples[0].documents}
    assert asked and asked[0][0] == "How many eggs does the queen lay?"
    assert {POOL[4].chunk_id, POOL[7].chunk_id} <= ids and len(ids) == 3
    assert examples[0].oracle_index is None and ORACLE.chunk_id not in ids
    assert "[" not in examples[0].cot.split(ANSWER_TAG)[0]


def test_oracle_rate_follows_p_and_is_deterministic() -> None:
    pairs = [pair(f"How many eggs in case {n}?", "two thousand eggs") for n in range(400)]
    config = RaftConfig(k=2, p_oracle=0.8, distractors="random", seed=7)
    first, _ = build_examples(pairs, POOL, config)
    again, _ = build_examples(list(reversed(pairs)), POOL, config)
    rate = sum(e.oracle_index is not None for e in first) / len(first)
    assert 0.74 < rate < 0.86
    assert {e.question: e.documents for e in first} == {e.question: e.documents for e in again}
    other, _ = build_examples(pairs, POOL, RaftConfig(k=2, distractors="random", seed=8))
    assert [e.documents for e in other] != [e.documents for e in first]


def test_duplicates_and_unsupported_pairs_are_dropped() -> None:
    pairs = [pair(), pair("How many  EGGS does the queen lay?"), pair("What is the queen's favourite?", "jazz")]
    examples, report = build_examples(pairs, POOL, RaftConfig(distractors="random"))
    assert len(examples) == 1
    assert report.dropped == Counter({"duplicate": 1, "no supporting sentence": 1})


def test_split_is_by_document_and_near_the_target_shares() -> None:
    pairs = [
        pair(f"Question {d} {n} here?", "topic", make_chunk(d, 0, "This chunk is about a topic."))
        for d in range(20)
        for n in range(5)
    ]
    splits = assign_splits(pairs, RaftConfig(split=(0.8, 0.1, 0.1)))
    assert Counter(splits.values()) == {"train": 16, "validation": 2, "test": 2}
    examples, _ = build_examples(pairs, POOL, RaftConfig(k=1, distractors="random"))
    assert len(examples) == 100
    sides: dict[str, set[str]] = {}
    for example in examples:
        sides.setdefault(example.oracle.doc_id, set()).add(example.split)
    assert all(len(s) == 1 for s in sides.values())


def test_formats_use_the_answer_time_layout() -> None:
    (example,), _ = build_examples([pair()], POOL, RaftConfig(k=2, p_oracle=1.0, distractors="random"))
    system, user, assistant = chat_messages(example)
    assert system == {"role": "system", "content": SYSTEM_PROMPT}
    assert user["content"].startswith("Question: How many eggs does the queen lay?\n\nDocuments:\n\n[1] ")
    assert f"[{example.oracle_index + 1}] {ORACLE.text}" in user["content"]
    assert assistant["content"] == example.cot
    record = completion_record(example)
    assert record["prompt"].startswith(SYSTEM_PROMPT) and record["completion"] == example.cot


def test_the_prompts_state_the_answer_language_setting_as_answering_does() -> None:
    # Trained with the default's prompt (nothing said of an English question's language) where answers said
    # "Answer in German.", a tuned model read a system prompt at answer time that it never trained on.
    config = RaftConfig(k=1, p_oracle=1.0, distractors="random", answer_language="German")
    (example,), _ = build_examples([pair()], POOL, config)
    assert chat_messages(example)[0] == {"role": "system", "content": f"{SYSTEM_PROMPT} Answer in German."}
    assert completion_record(example)["prompt"].startswith(f"{SYSTEM_PROMPT} Answer in German.\n\n")
    assert RaftExample.from_json(json.loads(json.dumps(example.to_json()))) == example
    assert config.fingerprint()["answer_language"] == "German" and "answer_language" not in RaftConfig().fingerprint()


def test_example_round_trips_and_statistics_count() -> None:
    examples, _ = build_examples([pair(), pair("Who keeps the colony going?", "one queen")], POOL,
                                 RaftConfig(k=1, p_oracle=1.0, distractors="random"))
    assert [RaftExample.from_json(json.loads(json.dumps(e.to_json()))) for e in examples] == examples
    stats = statistics(examples, count_tokens=len)
    assert stats["all"]["examples"] == 2 and stats["all"]["oracle_rate"] == 1.0  # type: ignore[index]
    assert stats["all"]["prompt_tokens"]["min"] > len(ORACLE.text)  # type: ignore[index]


def test_sentence_layout_shows_the_chosen_sentences_and_quotes_one_of_them(
        real_embedder: SentenceTransformerEmbedder) -> None:
    config = RaftConfig(k=3, p_oracle=1.0, distractors="random", cot="short", prompt_sentences=2)
    (example,), report = build_examples([pair()], POOL, config, embedder=real_embedder)
    assert example.texts is not None and len(example.texts) == len(example.documents) <= 2
    assert example.oracle_index is not None and example.documents[example.oracle_index] == ORACLE
    number = example.oracle_index + 1
    shown = example.texts[example.oracle_index]
    assert "The queen lays two thousand eggs daily." in shown and shown != ORACLE.text
    assert example.cot.startswith(f"##begin_quote##The queen lays two thousand eggs daily.##end_quote## [{number}]")
    user = chat_messages(example)[1]["content"]
    assert f"[{number}] {shown}" in user and ORACLE.text not in user
    assert RaftExample.from_json(json.loads(json.dumps(example.to_json()))) == example


def test_sentence_layout_drops_a_pair_whose_answer_sentence_is_not_shown(
        real_embedder: SentenceTransformerEmbedder) -> None:
    oracle = make_chunk(97, 0, "The beekeeper of the hill hives is Ada Moss. The queen lays two thousand eggs daily.")
    asked = pair("Who is the beekeeper of the hill hives?", "two thousand eggs", oracle)
    config = RaftConfig(k=1, p_oracle=1.0, distractors="random", prompt_sentences=1)
    examples, report = build_examples([asked], [*POOL, oracle], config, embedder=real_embedder)
    assert examples == [] and report.dropped == Counter({"answer sentence not among the shown sentences": 1})
    with pytest.raises(ValueError, match="embedder"):
        build_examples([asked], POOL, config)


def test_a_whole_document_layout_keeps_the_fingerprint_of_sets_built_before_sentences() -> None:
    assert "prompt_sentences" not in RaftConfig().fingerprint()
    assert RaftConfig(prompt_sentences=4).fingerprint()["prompt_sentences"] == 4


def test_config_rejects_bad_values() -> None:
    with pytest.raises(ValueError):
        RaftConfig(p_oracle=1.5)
    with pytest.raises(ValueError):
        RaftConfig(distractors="nearest")
    with pytest.raises(ValueError):
        RaftConfig(cot="long")
    with pytest.raises(ValueError):
        RaftConfig(prompt_sentences=-1)
