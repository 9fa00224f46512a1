"""A student's course files (slides with speaker notes, a PDF, an HTML page, a Markdown note) asked and summarised:
each quote is cited at the page and heading it lies under, and a speaker note is quoted without a label."""

from __future__ import annotations

from pathlib import Path

import pytest

from localrag.config import load_settings
from localrag.embed import SentenceTransformerEmbedder
from localrag.engine import Engine
from localrag.types import HEADING_JOIN

SLIDES = [("First-Come First-Served", "Processes run in the order they arrive.",
           "FCFS suffers from the convoy effect when a long job arrives first."),
          ("Round Robin", "Each process gets a fixed time quantum in turn.",
           "A quantum that is too large makes Round Robin behave like FCFS."),
          ("Shortest Job First", "The shortest next CPU burst runs first.",
           "The exponential averaging formula uses alpha, usually set to 0.5.")]
PAGES = ["Deadlocks arise when processes wait on each other for resources held in a cycle.",
         "A safe state is one from which every process can finish in some order.",
         "The banker's algorithm checks each request against the safe state before granting it."]
MEMORY = """<html><head><title>Memory</title></head><body>
<h1>7 Virtual Memory</h1><p>Virtual memory lets a process use more memory than is physically present.</p>
<h2>7.1 Paging</h2><p>Paging splits memory into fixed-size frames and pages.</p>
<h2>7.2 Page Replacement</h2><p>When no frame is free, a victim page is chosen by the replacement policy.</p>
<h2>7.3 Thrashing</h2><p>Thrashing happens when a process spends more time paging than executing.</p>
</body></html>"""


@pytest.fixture
def course(localrag_home: Path, tmp_path: Path, real_embedder: SentenceTransformerEmbedder) -> Engine:
    from fpdf import FPDF
    from pptx import Presentation

    folder = tmp_path / "course"
    folder.mkdir()
    deck = Presentation()
    title = deck.slides.add_slide(deck.slide_layouts[0])
    title.shapes.title.text = "CPU Scheduling"
    title.placeholders[1].text = "Lecture 3"
    for heading, body, note in SLIDES:
        slide = deck.slides.add_slide(deck.slide_layouts[1])
        slide.shapes.title.text = heading
        slide.placeholders[1].text = body
        slide.notes_slide.notes_text_frame.text = note
    deck.save(str(folder / "lecture03_scheduling.pptx"))
    pdf = FPDF()
    pdf.set_font("Helvetica", size=12)
    for text in PAGES:
        pdf.add_page()
        pdf.multi_cell(0, 10, text)
    pdf.output(str(folder / "week05_deadlocks.pdf"))
    (folder / "memory.html").write_text(MEMORY)
    engine = Engine(load_settings(answer_mode="extract"), embedder=real_embedder)
    engine.ingest([folder])
    return engine


@pytest.mark.parametrize(("question", "quote", "page", "heading"), [
    ("What is a safe state?", PAGES[1], 2, ""),
    ("What happens when the quantum is too large in Round Robin?", SLIDES[1][2], 3, "Round Robin"),
    ("What value is alpha usually set to in the exponential averaging formula?", SLIDES[2][2], 4,
     "Shortest Job First"),
    ("When does thrashing happen?", "Thrashing happens when a process spends more time paging than executing.", None,
     "7 Virtual Memory > 7.3 Thrashing"),
])
def test_a_quote_is_cited_where_it_lies(course: Engine, question: str, quote: str, page: int | None,
                                        heading: str) -> None:
    # Hits were joined with the next chunk across a page break or a section change and kept the first one's place:
    # the safe state was cited "page 1", slide 3's note "page 2 — First-Come First-Served", thrashing under "7.2 Page
    # Replacement"; and a speaker note was quoted "Notes: The exponential averaging formula ...".
    answer = course.ask(question)
    assert answer.evidence is not None and answer.evidence.text == quote
    cited = answer.sources[answer.evidence.source - 1].chunk
    assert (cited.page, cited.heading) == (page, heading)
    for hit in answer.sources:  # every source's text lies where it is cited
        _, chunks = course.document_chunks(hit.chunk.doc_id)
        for chunk in chunks:
            if hit.chunk.start <= chunk.start < hit.chunk.end:
                assert chunk.page == hit.chunk.page
                assert not hit.chunk.heading or (chunk.heading + HEADING_JOIN).startswith(
                    hit.chunk.heading + HEADING_JOIN)


def test_a_summary_quotes_a_speaker_note_without_a_label(course: Engine, tmp_path: Path) -> None:
    _, summary = course.summarize(tmp_path / "course" / "lecture03_scheduling.pptx", sentences=8)
    notes = {(s.text, s.page, s.heading) for s in summary.sentences if "Speaker notes" in s.heading}
    assert (SLIDES[2][2], 4, "Shortest Job First > Speaker notes") in notes
    assert not any(s.text.startswith("Notes:") for s in summary.sentences)


SECTIONS = [("Processes", "A process is a program in execution.", [
                ("Process states", "A process moves between ready, running and waiting states."),
                ("Process control block", "The process control block stores the registers and the state of each "
                                          "process.")]),
            ("Threads", "A thread is a unit of execution inside a process.", [
                ("User threads", "User threads are managed by a library without kernel support.")])]


@pytest.mark.parametrize("suffix", ["html", "md"])
def test_a_summary_labels_each_sentence_with_its_own_heading(localrag_home: Path, tmp_path: Path, suffix: str,
                                                             real_embedder: SentenceTransformerEmbedder) -> None:
    # A chunk holds an h1's h2 sections together; each sentence was labelled with the chunk's first heading,
    # "The process control block stores ..." with "Processes".
    if suffix == "html":
        text = "<html><body>" + "".join(
            f"<h1>{h1}</h1><p>{intro}</p>" + "".join(f"<h2>{h2}</h2><p>{p}</p>" for h2, p in subs)
            for h1, intro, subs in SECTIONS) + "</body></html>"
    else:
        text = "".join(f"# {h1}\n{intro}\n" + "".join(f"## {h2}\n{p}\n" for h2, p in subs)
                       for h1, intro, subs in SECTIONS)
    path = tmp_path / f"os.{suffix}"
    path.write_text(text)
    engine = Engine(load_settings(), embedder=real_embedder)
    engine.ingest([path])
    _, summary = engine.summarize(path, sentences=10)
    expected = [(intro, h1) for h1, intro, _ in SECTIONS[:1]] + [
        (p, f"{h1}{HEADING_JOIN}{h2}") for h1, _, subs in SECTIONS[:1] for h2, p in subs] + [
        (SECTIONS[1][1], "Threads"), (SECTIONS[1][2][0][1], "Threads > User threads")]
    assert [(s.text, s.heading) for s in summary.sentences] == expected
