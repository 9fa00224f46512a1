"""QA pairs: grammar-held generation with a fake generator, the grounding filters, and file import."""

from __future__ import annotations

import json
import threading
from collections.abc import Sequence
from pathlib import Path

import pytest

from localrag.errors import ModelError
from localrag.raft.qa import (
    ANSWER_CHARS,
    QA_GRAMMAR,
    QUESTION_CHARS,
    QAImportError,
    QAPair,
    content_words,
    cut_off,
    generate_qa,
    import_qa,
    rejection,
    support,
)
from localrag.types import Chunk


def chunk(text: str, path: str = "/docs/bees.txt", index: int = 0) -> Chunk:
    return Chunk(f"{path}:{index}", "id-" + path, path, index, text, 0, len(text))


BEES = chunk("A honey bee colony has one queen. The queen lays up to two thousand eggs a day in summer.")
LIGHT = chunk("Kestrel Point lighthouse was first lit in 1874 and automated in 1988.", "/docs/light.md")


class FakeGenerator:
    name = "fake"
    n_ctx = 2048

    def __init__(self, replies: Sequence[str | Exception]) -> None:
        self.replies = list(replies)
        self.grammars: list[str | None] = []

    def complete(self, messages: list[dict[str, str]], *, max_tokens: int, temperature: float = 0.0,
                 grammar: str | None = None, **_: object) -> str:
        self.grammars.append(grammar)
        reply = self.replies.pop(0)
        if isinstance(reply, Exception):
            raise reply
        return reply


def qa(question: str, answer: str) -> str:
    return json.dumps({"question": question, "answer": answer})


def test_support_verbatim_and_word_share() -> None:
    assert support("two thousand eggs", BEES.text) == 1.0
    assert support("Two  THOUSAND eggs!", BEES.text) == 1.0
    assert support("two thousand wasps", BEES.text) == pytest.approx(2 / 3)
    assert support("the of", BEES.text) == 0.0


@pytest.mark.parametrize(
    ("question", "answer", "reason"),
    [
        ("Queens here?", "one", "question too short"),
        ("How many queens does a colony have?", "", "empty answer"),
        ("What is the answer to the question?", "a", "answer has no content word"),
        ("Which insects does the text describe?", "it is", "answer has no content word"),
        ("The queen lays up to two thousand eggs", "two thousand eggs", "question copied from the chunk"),
        ("How many eggs does the queen lay each day?", "fifty wasps", "answer not supported by the chunk"),
        ("one queen bee colony", "one queen bee colony", "question repeats the answer"),
    ],
)
def test_rejections(question: str, answer: str, reason: str) -> None:
    assert rejection(question, answer, BEES) == reason


def test_one_foreign_word_leaves_english_its_words() -> None:
    """"Seine" (German "his") made any text holding it German: "the war" became two stop words, and RAFT rejected the
    answer "the Seine" as having no content word."""
    assert content_words("The war damaged every bridge over the Seine.") == [
        "war", "damaged", "every", "bridge", "over", "seine"]
    paris = chunk("The war damaged every bridge over the Seine in Paris.")
    assert rejection("Which river runs through Paris in the text?", "the Seine", paris) is None
    # One marker word in a long English sentence leaves it English; a short question in German stays German.
    assert "die" in content_words("Mais is what the farmers of the valley grow, and they die poor for it every year.")
    assert content_words("Was ist die Hauptstadt von Australien?") == ["hauptstadt", "australien"]
    assert content_words("Der Hund ist auf dem Sofa und schläft nicht.") == ["hund", "sofa", "schläft"]


def test_chinese_and_japanese_function_characters_are_no_content_words() -> None:
    """Read a character to a word, "董事长的妻子是谁？" was eight content words, 的, 是 and 谁 among them."""
    assert content_words("董事长的妻子是谁？") == ["董", "事", "长", "妻", "子"]
    assert content_words("公司の猫の名前は何ですか？") == ["公", "司", "猫", "名", "前", "す"]
    # English text has none of these characters: its words are what they were.
    assert content_words("Who is the chairman's wife?") == ["chairman", "s", "wife"]


def test_generate_keeps_grounded_pairs_and_counts_the_rest() -> None:
    generator = FakeGenerator([
        qa("How many eggs does the queen lay a day?", "up to two thousand eggs"),
        "{not json",
        ModelError("boom"),
        qa("When was Kestrel Point lighthouse automated?", "in 1999 by robots"),
    ])
    pairs, report = generate_qa([BEES, BEES, LIGHT, LIGHT], generator)
    assert [p.answer for p in pairs] == ["up to two thousand eggs"]
    assert pairs[0].chunk == BEES and pairs[0].origin == "generated"
    assert report.made == 1
    assert report.skipped == {"reply not valid JSON": 1, "generation failed": 1, "answer not supported by the chunk": 1}
    assert report.errors and "light.md" in report.errors[0]
    assert generator.grammars == [QA_GRAMMAR] * 4


POLICY = chunk("Claims submitted later than 90 days after the trip are not paid. Company credit card holders must "
               "reconcile their claims within 30 days. Upgrades of flights and rail tickets are not reimbursed.",
               "/docs/policy.md")


def test_a_pair_the_grammars_length_caps_cut_off_is_dropped_under_its_own_reason() -> None:
    """The caps stop a looping model, and the grammar then closes the string wherever it is: the bundled model's
    pairs were kept cut mid-word ("What is not reimbursed: Claiming expenses, ... rail tickets, and?" and "Claims
    ... must reconcile their claims", 106 and 120 characters) and became RAFT examples and gold answers."""
    body = "is not reimbursed: Claiming expenses, and what is reimbursed: Upgrades of flights, rail tickets, and"
    assert len(body) == 100
    cut_answer = POLICY.text[:120]
    assert rejection(f"What {body}?", cut_answer, POLICY) is None  # grounded: only the cut tells them apart
    generator = FakeGenerator([
        qa(f"What {body}?", "Upgrades of flights and rail tickets"),
        qa("How many days do card holders have to reconcile their claims?", cut_answer),
        qa("How many days do card holders have to reconcile claims?", cut_answer[:-1] + " "),  # a space at the cap
        qa(f"What {body[:-1]}?", POLICY.text[:119]),  # one short of each cap: whole, kept
    ])
    pairs, report = generate_qa([POLICY] * 4, generator)
    assert [p.answer for p in pairs] == [POLICY.text[:119]]
    assert report.made == 1
    assert report.skipped == {"question cut off at its length limit": 1, "answer cut off at its length limit": 2}
    assert f"qchar{{8,{QUESTION_CHARS}}}" in QA_GRAMMAR and f"char{{1,{ANSWER_CHARS}}}" in QA_GRAMMAR


def test_an_escape_is_one_of_the_answers_capped_characters_as_it_is_one_decoded_character() -> None:
    # QA_GRAMMAR's cap counts `char`s, and an escape (`\/`, `\t`) is one `char`: 119 letters and one escape fill
    # the cap (121 characters of JSON, 120 decoded) and 118 and one do not, so the decoded length is the count.
    question = "How many days do card holders have to reconcile their claims?"
    full = json.dumps({"question": question, "answer": "a" * 119 + "/"}).replace("a/", "a\\/")
    assert "\\/" in full and cut_off(full) == "answer cut off at its length limit"
    short = json.dumps({"question": question, "answer": "a" * 118 + "\t"})
    assert cut_off(short) is None


def test_generate_drops_duplicate_questions_and_reports_progress() -> None:
    generator = FakeGenerator([qa("How many queens does a colony have?", "one queen")] * 2)
    seen: list[int] = []
    pairs, report = generate_qa([BEES, BEES], generator, progress=lambda p: seen.append(p.done))
    assert len(pairs) == 1 and report.skipped == {"duplicate question": 1}
    assert seen == [1, 2]


def test_generate_stops_on_cancel() -> None:
    cancel = threading.Event()
    cancel.set()
    pairs, report = generate_qa([BEES], FakeGenerator([]), cancel=cancel)
    assert pairs == [] and report.cancelled


def test_pair_round_trips_through_json() -> None:
    pair = QAPair("How many queens are there?", "one", BEES, "x.jsonl:3")
    assert QAPair.from_json(json.loads(json.dumps(pair.to_json()))) == pair
    backed = QAPair("Is there one queen?", "yes", BEES, "x.jsonl:4", evidence="A hive has a single queen.")
    assert QAPair.from_json(json.loads(json.dumps(backed.to_json()))) == backed


def test_import_keeps_the_evidence_of_a_label_answer(tmp_path: Path) -> None:
    file = tmp_path / "qa.jsonl"
    file.write_text(json.dumps({"question": "Is there one queen?", "answer": "yes", "path": "/docs/bees.txt",
                                "rationale": "A hive has a single queen."}) + "\n")
    pairs, _ = import_qa([file], [BEES, LIGHT])
    assert [(p.answer, p.evidence) for p in pairs] == [("yes", "A hive has a single queen.")]


def test_import_jsonl_by_path_name_and_passage(tmp_path: Path) -> None:
    file = tmp_path / "qa.jsonl"
    file.write_text("\n".join([
        json.dumps({"question": "How many eggs a day?", "answer": "two thousand", "path": "/docs/bees.txt"}),
        "{broken",
        json.dumps({"question": "When was it first lit?", "answer": "1874", "document": "light.md"}),
        json.dumps({"question": "Who lays the eggs?", "answer": "the queen", "passage": "one queen. The queen lays"}),
        json.dumps({"question": "What is missing here?", "answer": "x"}),
        json.dumps({"question": "What about unknown docs?", "answer": "x", "path": "/nope.txt"}),
        json.dumps(["a", "list"]),
    ]) + "\n")
    pairs, report = import_qa([file], [BEES, LIGHT])
    assert [(p.chunk.path, p.origin) for p in pairs] == [
        ("/docs/bees.txt", f"{file}:1"), ("/docs/light.md", f"{file}:3"), ("/docs/bees.txt", f"{file}:4")
    ]
    assert report.skipped == {"malformed line": 3, "document not ingested": 1}
    assert f"{file}:2: not valid JSON" in report.errors[0]
    assert any(e.startswith(f"{file}:5:") for e in report.errors)


def test_import_csv_reports_line_numbers(tmp_path: Path) -> None:
    file = tmp_path / "qa.csv"
    file.write_text('question,answer,path\n"When was the lighthouse automated?",1988,/docs/light.md\n'
                    'How many eggs a day?,lots of honey,/docs/bees.txt\n')
    pairs, report = import_qa([file], [BEES, LIGHT])
    assert [p.answer for p in pairs] == ["1988"]
    assert report.skipped == {"no chunk holds the answer": 1}
    assert report.errors[0].startswith(f"{file}:3:")


@pytest.mark.parametrize("name", ["qa.csv", "qa.jsonl"])
def test_import_accepts_a_utf8_bom(tmp_path: Path, name: str) -> None:
    file = tmp_path / name
    row = {"question": "When was it first lit?", "answer": "1874", "document": "light.md"}
    csv_text = "question,answer,document\nWhen was it first lit?,1874,light.md\n"
    text = csv_text if name.endswith(".csv") else json.dumps(row)
    file.write_bytes(b"\xef\xbb\xbf" + text.encode())
    pairs, report = import_qa([file], [BEES, LIGHT])
    assert [p.answer for p in pairs] == ["1874"] and report.errors == []


def test_import_reads_a_semicolon_csv_and_names_one_not_utf8(tmp_path: Path) -> None:
    file = tmp_path / "qa.csv"
    file.write_text("Question;Answer;Document\r\nWhen was it first lit?;1874;light.md\r\n", encoding="utf-8")
    pairs, report = import_qa([file], [BEES, LIGHT])
    assert [p.answer for p in pairs] == ["1874"] and report.errors == []
    # A column named as eval's files name it, and the rows a spreadsheet emptied but kept (";;"): no complaint.
    file.write_text("question;answers;document\nWhen was it first lit?;1874;light.md\n;;\n;;\n", encoding="utf-8")
    pairs, report = import_qa([file], [BEES, LIGHT])
    assert [p.answer for p in pairs] == ["1874"] and report.errors == []
    file.write_text("Frage;Antwort;Pfad\nWann?;1874;light.md\n", encoding="utf-8")
    with pytest.raises(QAImportError, match="no .question. column .its first row names .frage."):
        import_qa([file], [BEES, LIGHT])
    for name in ("qa.csv", "qa.jsonl"):
        file = tmp_path / name
        file.write_bytes("question,answer,document\nWhen was it first lit?,1874 \u2013 by hand,light.md\n"
                         .encode("cp1252"))
        with pytest.raises(QAImportError, match=f"{name}: not UTF-8 text"):
            import_qa([file], [BEES, LIGHT])


def test_import_missing_file_is_a_user_error(tmp_path: Path) -> None:
    with pytest.raises(QAImportError, match="no such Q&A file"):
        import_qa([tmp_path / "nope.jsonl"], [BEES])


@pytest.mark.parametrize(("name", "text", "hint"), [
    ("qa.csv", "question,answer,path\n", "a row under the header question, answer, path"),
    ("qa.tsv", "question\tanswer\tpath\n\t\t\n", "a row under the header question, answer, path"),
    ("qa.jsonl", "\n\n", 'one JSON object per line with "question", "answer", "path"'),
])
def test_import_of_a_file_without_questions_says_so(tmp_path: Path, name: str, text: str, hint: str) -> None:
    """A header alone ended the build in "no training examples ... pass --qa-file", the option just used."""
    file = tmp_path / name
    file.write_text(text)
    with pytest.raises(QAImportError) as refused:
        import_qa([file], [BEES])
    assert refused.value.message == f"{file}: no questions" and refused.value.hint == hint


def test_a_clock_time_is_one_content_word() -> None:
    """"07:15" was the words "07" and "15": a timetable's 07:15 and 09:15 rows shared as many words with a question
    about the 07:15 train, and "7:15" matched neither."""
    assert content_words("When does the 07:15 train from Lindenau arrive?") == [
        "does", "7:15", "train", "lindenau", "arrive"]
    assert content_words("7:15, 07:15:00, 23:59:30, 10:30-11:00") == ["7:15", "7:15", "23:59:30", "10:30", "11:00"]
    # Not an address's, a ratio's or a link's colons.
    assert content_words("fe80::1 00:1a:2b 3:1 http://host:8080 12:30:45:10") == [
        "fe80", "1", "00", "1a", "2b", "3", "1", "http", "host", "8080", "12", "30", "45", "10"]
    assert support("7:15", "The first train leaves at 07:15 from platform 2.") == 1.0


def test_a_number_joined_by_dots_is_one_content_word() -> None:
    """"clause 7.3" was the words "7" and "3", held by "clauses 7.1 and 7.2" and by another contract's clause 3.2."""
    assert content_words("What does clause 7.3 say?") == ["does", "clause", "7.3", "say"]
    assert content_words("Subject to clauses 7.1 and 7.2, see 7.3.") == [
        "subject", "clauses", "7.1", "7.2", "see", "7.3"]
    assert content_words("v2.0.1 costs 2.5 mg, 7.3a") == ["v2.0.1", "costs", "2.5", "mg", "7", "3a"]
