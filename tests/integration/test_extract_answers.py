"""`ask --extract` over real files in a real index: headings are not answers, a heading's "not" counts, and sources
without a sentence to quote are a refusal that says why."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from localrag.answer import NO_ANSWER_TEXT
from localrag.answer.evidence import candidate_sentences
from localrag.config import load_settings
from localrag.embed import SentenceTransformerEmbedder
from localrag.engine import Engine
from localrag.ingest.discover import sample_corpus_dir
from localrag.types import Chunk, Hit


@pytest.fixture
def extracting(localrag_home: Path, real_embedder: SentenceTransformerEmbedder) -> Engine:
    return Engine(load_settings().replace(answer_mode="extract"), embedder=real_embedder)


def test_a_heading_inside_a_word_documents_passage_is_not_the_answer(extracting: Engine, tmp_path: Path) -> None:
    """Before, "Who approves travel?" was answered, verified, by the heading "Choosing how to travel"."""
    folder = tmp_path / "policy"
    folder.mkdir()
    shutil.copy(sample_corpus_dir() / "larkspur-travel-policy.docx", folder)
    extracting.ingest([folder])
    answer = extracting.ask("Who approves travel?")
    assert not answer.refused
    assert answer.text.startswith('"Every business trip needs approval from your line manager'), answer.text
    texts = {hit.chunk.text[s:e] for hit in answer.sources for _, s, e in candidate_sentences([hit])}
    assert "Choosing how to travel" not in texts and "Before you travel" not in texts


def _chunk_text() -> str:
    return ("Before you travel\n\nEvery trip needs approval.\n\nChoosing how to travel\n\n- Take the train.\n\n"
            "Hotel limit 150 EUR\n\nReceipts are kept\n\nA closing line without a stop")


def test_what_reads_as_a_heading_line() -> None:
    from localrag.answer.evidence import bare_heading

    text = _chunk_text()

    def heading(line: str, file_type: str = "docx") -> bool:
        start = text.index(line)
        return bare_heading(text, start, start + len(line), file_type)

    assert heading("Choosing how to travel")
    # Marked headings are `sentences.is_label`'s; a plain text's or Markdown's lone line may say something.
    assert not heading("Choosing how to travel", "md") and not heading("Choosing how to travel", "txt")
    assert not heading("Every trip needs approval.")  # a full stop: a sentence
    assert not heading("Hotel limit 150 EUR")  # a number: a record
    assert not heading("A closing line without a stop")  # heads nothing
    hit = Hit(Chunk("c", "d", "/docs/p.docx", 0, text, 0, len(text), heading="Policy > Before you travel",
                    file_type="docx"), 1.0)
    assert [text[s:e] for _, s, e in candidate_sentences([hit])] == [
        "Every trip needs approval.", "Take the train.", "Hotel limit 150 EUR", "A closing line without a stop"]


CHAPTER = """<html><body><main>
<h1>Chapter 7: Virtual Memory</h1>
<p>Virtual memory lets a process use more memory than the machine physically has.</p>
<h2>7.1 Demand Paging</h2>
<p>With demand paging, a page is loaded into memory only when the process first touches it.</p>
<h2>7.2 Page Replacement</h2>
<p>When no frame is free, the kernel must choose a victim page. LRU evicts the page that was least recently used.
Belady's anomaly is the surprising result that FIFO can incur more page faults when given more frames.</p>
<h2>7.3 Thrashing</h2>
<p>Thrashing occurs when a process spends more time paging than executing.</p>
</main></body></html>
"""


def test_a_numbered_heading_of_a_web_page_is_not_the_answer(extracting: Engine, tmp_path: Path) -> None:
    """Before, "Tell me about thrashing" was answered, verified, by the heading "7.3 Thrashing" (and "Tell me about
    page replacement" by "7.2 Page Replacement"): a heading holding a digit was a candidate."""
    folder = tmp_path / "book"
    folder.mkdir()
    (folder / "chapter7.html").write_text(CHAPTER)
    extracting.ingest([folder])
    thrashing = extracting.ask("Tell me about thrashing")
    assert thrashing.text.startswith('"Thrashing occurs when a process spends'), thrashing.text
    # The sentences after a plain heading line read under it: no sentence holds "replacement".
    replacement = extracting.ask("Tell me about page replacement")
    assert not replacement.refused and "7.2" not in replacement.text, replacement.text
    texts = {hit.chunk.text[s:e] for hit in replacement.sources for _, s, e in candidate_sentences([hit])}
    assert not texts & {"Chapter 7: Virtual Memory", "7.1 Demand Paging", "7.2 Page Replacement", "7.3 Thrashing"}


def test_a_question_asked_in_the_wrong_collection_names_the_collection_that_answers_it(
        localrag_home: Path, real_embedder: SentenceTransformerEmbedder, tmp_path: Path) -> None:
    """Before, "What is the convoy effect?" asked of a biology note was told "... the closest scored 0.02, under
    min_similarity 0.25 (this floor lets it through at 0.02: localrag config set min_similarity 0.02)", while the
    os101 collection holds the answer."""
    engines = {}
    for name, file, text in (("os101", "chapter5.html", "<html><body><main><h1>5.4 The Convoy Effect</h1><p>The "
                              "convoy effect happens when many short processes wait behind one long process that "
                              "holds the CPU.</p></main></body></html>"),
                             ("bio", "cells.md", "# Cells\n\nMitochondria produce most of the cell's supply of ATP."
                              "\nRibosomes translate messenger RNA into proteins.\n")):
        folder = tmp_path / name
        folder.mkdir()
        (folder / file).write_text(text)
        engines[name] = Engine(load_settings().replace(answer_mode="extract", collection=name),
                               embedder=real_embedder)
        engines[name].create_collection(name)
        engines[name].ingest([folder])
    refused = engines["bio"].ask("What is the convoy effect?")
    assert refused.refused and refused.refusal.startswith("no passage is close enough: the closest scored ")
    assert refused.refusal.endswith(", under min_similarity 0.25; collection 'os101' holds a passage that answers "
                                    "it: `localrag ask 'What is the convoy effect?' --collection os101`")
    # A follow-up is named as it was searched, rewritten to stand alone: asked as typed, "it" would find nothing.
    history = [{"role": "user", "content": "What is the convoy effect?"},
               {"role": "assistant", "content": "Short processes wait behind a long one."}]
    follow_up = engines["bio"].ask("What holds it up?", history=history)
    assert follow_up.refused and follow_up.refusal.endswith(
        "collection 'os101' holds a passage that answers it: `localrag ask 'What is the convoy effect? What holds it "
        "up?' --collection os101`"), follow_up.refusal
    # Asked there, it is answered; a question no collection answers names none.
    assert not engines["os101"].ask("What is the convoy effect?").refused
    nowhere = engines["os101"].ask("Who won the football world cup in 1954?")
    assert nowhere.refused and "collection" not in nowhere.refusal


def test_what_reads_as_a_numbered_title() -> None:
    from localrag.answer.evidence import numbered_title

    for line in ("7.3 Thrashing", "8.2 Journaling", "2. Installation", "Chapter 7: Virtual Memory", "Article 5",
                 "§ 4 Notice to quit"):
        assert numbered_title(line), line
    # A number of the text, a record line, a quantity or a clause's statement says something.
    for line in ("4 Lemons", "3 eggs", "2026-03-14 Card payment Bakery Lenz -4.50 EUR", "Clause 7: The fee is 100 EUR",
                 "7.3 Subject to clauses 7.1 and 7.2", "Section 4 applies where", "Hotel limit 150 EUR"):
        assert not numbered_title(line), line


def test_a_title_only_note_is_a_refusal_that_says_why(extracting: Engine, tmp_path: Path) -> None:
    """Before, `ask --extract` said "could not find anything", listed the note as a source not cited, and the answer
    said refused false, with no reason."""
    folder = tmp_path / "notes"
    folder.mkdir()
    (folder / "idea94.md").write_text("# Idea 94: Morning Raga\n")
    extracting.ingest([folder])
    answer = extracting.ask("What is idea 94?")
    assert answer.refused and answer.text == NO_ANSWER_TEXT
    assert answer.refusal.startswith("the closest passage holds no sentence to quote, only headings")
    assert answer.evidence is None and answer.cited == [] and len(answer.sources) == 1


DRAFT = ("# Travel Policy (DRAFT - not approved)\n\nThis draft proposes new limits for business travel.\n\n"
         "Hotels may cost at most 180 EUR per night.\n\nEconomy class is required for flights under six hours.\n")
FINAL = ("# Travel Policy - FINAL (approved by the board 2024-03-01)\n\nStatus: approved. This is the policy in "
         "force.\n\nHotels may cost at most 150 EUR per night.\n\nEconomy class is required for flights under six "
         "hours.\n")


def test_a_word_a_heading_negates_is_not_a_match(extracting: Engine, tmp_path: Path) -> None:
    """Before, the draft's 180 EUR was the verified answer: its heading's "not approved" held "approved"."""
    folder = tmp_path / "policy"
    folder.mkdir()
    (folder / "travel_policy_v3_DRAFT.md").write_text(DRAFT)
    (folder / "travel_policy_FINAL_approved.md").write_text(FINAL)
    extracting.ingest([folder])
    approved = extracting.ask("What is the approved hotel limit per night?")
    assert approved.text.startswith('"Hotels may cost at most 150 EUR per night."'), approved.text
    assert [Path(approved.sources[n - 1].chunk.path).name for n in approved.cited] == [
        "travel_policy_FINAL_approved.md"]
    draft = extracting.ask("What is the hotel limit per night in the draft?")
    assert draft.text.startswith('"Hotels may cost at most 180 EUR per night."'), draft.text


def test_what_a_heading_affirms() -> None:
    from localrag.answer.evidence import affirmed

    assert affirmed("Travel Policy (DRAFT - not approved)", "the approved limit?") == "Travel Policy (DRAFT - not)"
    assert affirmed("Non-binding guidance", "binding rules?") == "not guidance"
    # The question negates it too: it counts.
    assert affirmed("What is not reimbursed", "What is not reimbursed?") == "What is not reimbursed"
    assert affirmed("Notes on approved trips", "approved trips?") == "Notes on approved trips"


def test_what_a_heading_negates_of_the_question() -> None:
    from localrag.answer.evidence import negates_asked

    assert negates_asked("Leave policy Sick leave - not approved proposal", "What is the approved sick leave cap?")
    assert negates_asked("Non-binding guidance", "Which bindings apply?")  # a plural asks for the word
    assert not negates_asked("Travel (DRAFT - not approved)", "What is not approved?")  # asked negated too
    assert not negates_asked("Travel (DRAFT - not approved)", "What is the hotel limit in the draft?")


def test_a_line_of_spaces_in_a_web_pages_passage_is_no_heading(tmp_path: Path) -> None:
    """Before, a line of only spaces (a <pre> block's) stripped to "" and `bare_heading` raised IndexError, so any
    check of a sentence's section after it (the evidence floor of a plain ask, ask --extract, summarize) crashed."""
    from localrag.answer.evidence import section
    from localrag.ingest.chunker import chunk_document
    from localrag.ingest.loaders import load_file

    page = tmp_path / "travel.html"
    page.write_text("<html><body><pre>Choosing how to travel\n   \nEvery business trip needs approval from your line "
                    "manager before you book.</pre></body></html>")
    chunks = chunk_document(load_file(page), doc_id="d", path=str(page), file_type="html",
                            token_counts=lambda texts: [len(t.split()) for t in texts], max_tokens=200, overlap=0)
    chunk = next(c for c in chunks if "Every business" in c.text)
    assert "\n   \n" in chunk.text or "\n \n" in chunk.text, repr(chunk.text)
    assert section(chunk, chunk.text.index("Every business"))[-1:] == ["Choosing how to travel"]


def test_a_sentence_under_a_plain_heading_line_stands_below_the_chunks_title() -> None:
    """Before, the answer's evidence read "The OS picks a victim page ..." of an HTML chunk headed "Virtual Memory" as
    under "Page Replacement" alone, while a summary labelled it "Virtual Memory > Page Replacement": two rules."""
    from localrag.answer.evidence import section
    from localrag.answer.summary import _heading_at

    text = "Page Replacement\n\nThe OS picks a victim page when no frame is free."
    start = text.index("The OS")
    chunk = Chunk("c", "d", "/docs/vm.html", 0, text, 0, len(text), heading="Virtual Memory", file_type="html")
    assert section(chunk, start) == ["Virtual Memory", "Page Replacement"]
    assert _heading_at(chunk, start, 1) == "Virtual Memory > Page Replacement"
    # A sibling of the chunk's own section takes its place; the chunk's opening heading line names its own path.
    text = "7.2 Page Replacement\n\nWhen no frame is free, the kernel must choose a victim page."
    chunk = Chunk("c", "d", "/docs/vm.html", 0, text, 0, len(text), heading="Chapter 7 > 7.1 Demand Paging",
                  file_type="html")
    assert section(chunk, text.index("When")) == ["Chapter 7", "7.2 Page Replacement"]
    opening = Chunk("c", "d", "/docs/vm.html", 0, text, 0, len(text), heading="Chapter 7 > 7.2 Page Replacement",
                    file_type="html")
    assert section(opening, text.index("When")) == ["Chapter 7", "7.2 Page Replacement"]
    assert _heading_at(opening, text.index("When"), 2) == "Chapter 7 > 7.2 Page Replacement"


LEAVE = ("<html><body><h1>Leave policy</h1><h2>Sick leave - not approved proposal</h2><p>Sick leave is capped at 20 "
         "days a year under the proposal.</p><h2>Sick leave</h2><p>Sick leave is capped at 30 days a year.</p>"
         "</body></html>")


def test_a_sentence_under_a_heading_that_negates_the_word_asked_comes_after_the_others(
        extracting: Engine, tmp_path: Path) -> None:
    """Before, "What is the approved sick leave cap?" quoted the proposal's 20 days, verified: the heading's "not
    approved" only stopped "approved" counting, and neither section held it otherwise."""
    folder = tmp_path / "leave"
    folder.mkdir()
    (folder / "leave.html").write_text(LEAVE)
    extracting.ingest([folder])
    approved = extracting.ask("What is the approved sick leave cap?")
    assert approved.text.startswith('"Sick leave is capped at 30 days a year."'), approved.text
    # Asked of the proposal, or with the heading's own "not", it is the one.
    proposal = extracting.ask("What is the sick leave cap in the proposal?")
    assert proposal.text.startswith('"Sick leave is capped at 20 days a year under the proposal."'), proposal.text
    unapproved = extracting.ask("What is the sick leave cap that is not approved?")
    assert unapproved.text.startswith('"Sick leave is capped at 20 days'), unapproved.text


ESSAYS = {
    "jones_brian_essay2.txt": "Why clothes matter\n\nMany people say appearance is shallow. I disagree. As Mark Twain "
    "once said, \"Clothes make the man. Naked people have little or no influence on society.\" This quote shows why "
    "my view matters. When we meet someone new we judge them in seconds, and what they wear is the first thing we "
    "see. A job interview is won or lost in the first minute.\n\nIn conclusion, dressing well is a form of respect "
    "for others.\n",
    "roberts_hugo_essay2.txt": "The value of dreaming\n\nSchools focus on facts and tests. As Albert Einstein once "
    "said, \"Imagination is more important than knowledge.\" This quote shows that creativity should be at the heart "
    "of learning. Students who are allowed to play with ideas learn to solve problems that no textbook describes."
    "\n\nTeachers should give pupils time to wonder and to make things.\n",
    "smith_anna_essay1.txt": "Persistence\n\nSuccess rarely comes at the first try. Albert Einstein is often credited "
    "with saying that he stayed with problems longer than others. My grandmother learned to read at sixty because "
    "she never gave up, and she taught me that effort beats talent.\n",
    "garden.txt": "Growing tomatoes\n\nTomatoes need six hours of sun a day. Water them deeply twice a week and feed "
    "them with compost every month. Pinch out the side shoots so the plant puts its energy into fruit.\n",
}


def test_a_quoted_name_of_the_question_is_answered_from_the_essay_that_holds_it(extracting: Engine,
                                                                               tmp_path: Path) -> None:
    """Before 2026-12-08 'What did "Mark Twain" say?' put the essay quoting him first and refused it: "the closest
    scored 0.19, under min_similarity 0.25"."""
    folder = tmp_path / "essays"
    folder.mkdir()
    for name, text in ESSAYS.items():
        (folder / name).write_text(text, encoding="utf-8")
    extracting.ingest([folder])
    for question in ('What did "Mark Twain" say?', "Who quoted Mark Twain?"):
        answer = extracting.ask(question)
        assert not answer.refused, answer.refusal
        assert "Mark Twain" in answer.text and answer.sources[answer.cited[0] - 1].chunk.path.endswith("essay2.txt")
    # A question on nothing the essays hold is still refused.
    assert extracting.ask("How do I fix a flat bicycle tyre?").refused


STATEMENT = """Date,Description,Reference,Amount,Balance
2024-01-30,GROCERY MART,CARD-1102,"-$84.20","$12,410.33"
2024-02-14,ACME CORP INV 2024-109,TRF-88377,"-$2,480.50","$9,929.83"
2024-02-20,SALARY MONTHLY,PAY-2202,"$4,200.00","$14,129.83"
2024-03-07,ACME CORP INV 2024-112,TRF-88590,"-$3,105.25","$11,024.58"
2024-03-12,CITY WATER,DD-3312,"-$61.40","$10,963.18"
2024-03-21,ACME CORP INV 2024-114,TRF-88611,"($975.00)","$9,988.18"
"""


def test_a_month_the_question_names_matches_the_rows_dated_in_it(extracting: Engine, tmp_path: Path) -> None:
    """Before 2026-12-08 "How much did I pay Acme in March?" quoted, verified, the February row: a numeric date holds
    no word "March"."""
    folder = tmp_path / "bank"
    folder.mkdir()
    (folder / "statement.csv").write_text(STATEMENT, encoding="utf-8")
    extracting.ingest([folder])
    for question in ("How much did I pay Acme in March?", "How much did I pay Acme in Mar 2024?"):
        answer = extracting.ask(question)
        assert answer.text.startswith('"2024-03-'), (question, answer.text)
    assert extracting.ask("How much did I pay Acme in February?").text.startswith('"2024-02-14 | ACME')


def test_the_dates_read_as_a_months_words() -> None:
    from localrag.answer.evidence import asked_months, date_words

    assert asked_months("How much did I pay Acme in March?") == {3}
    assert asked_months("Payments in Sept. 2024 and Dec?") == {9, 12}
    # "march" and "may" as verbs, "May" opening a question: no month.
    assert asked_months("May I march on the day we may leave?") == set()
    for written in ("2024-03-07", "2024/03/07", "15.03.2024", "15-03-2024", "03/15/2024", "15/03/2024",
                    "7 March 2024", "Mar 7, 2024"):
        assert date_words(f"Paid {written} to Acme", {3}) == "march mar 2024", written
    # Another month, a code holding a year's digits, a month asked of none: nothing added.
    for written in ("2024-02-14", "INV 2024-03-1234", "05/03/2024"):
        assert date_words(f"Paid {written} to Acme", {3}) == "", written
    # A verb is no month in a sentence either (before 2026-12-08 "may" read as May).
    assert date_words("Acme payments may be late, see terms", {5}) == ""
    assert date_words("Troops march on 7 march 2024", {3}) == ""
    assert date_words("Paid on 2 May 2024, payments may be late", {5}) == "may may 2024"
