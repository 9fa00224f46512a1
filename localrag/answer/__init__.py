"""Answer assembly: the prompt that goes to the model and the checks on what comes back.

`prompt` builds numbered-source chat messages that fit the context window; `citations` parses the
[n] citations and verifies the quotes against the retrieved chunk text; `claims` checks that a cited
source holds the words of the sentence citing it. `finish_answer` joins them into the `Answer` the
engine returns, so the CLI, TUI and evaluation judge answers alike.
"""

from __future__ import annotations

from localrag.answer.citations import (
    answer_citations,
    extract_quotes,
    parse_citations,
    quoted_answer,
    split_raft_answer,
    tidy_raft_text,
    verify_quotes,
)
from localrag.answer.claims import unsupported_citations
from localrag.answer.prompt import (
    NO_ANSWER_TEXT,
    SYSTEM_PROMPT,
    build_messages,
    format_source,
    format_sources,
)
from localrag.types import Answer, Evidence, GenerationStats, Hit

__all__ = [
    "NO_ANSWER_TEXT",
    "SYSTEM_PROMPT",
    "answer_citations",
    "build_messages",
    "extract_quotes",
    "finish_answer",
    "format_source",
    "format_sources",
    "parse_citations",
    "quoted_answer",
    "split_raft_answer",
    "tidy_raft_text",
    "verify_quotes",
]


def finish_answer(
    question: str, text: str, hits: list[Hit], stats: GenerationStats, model: str, *, added_citation: str = "",
    answer_from_quote: bool = False, evidence: Evidence | None = None,
) -> Answer:
    """The Answer for generated `text` over `hits` (the sources as numbered in the prompt).

    `refused` marks the no-sources case where the engine did not ask the model and passes
    NO_ANSWER_TEXT as the text; an answer from model knowledge (no hits, real text) is not refused.
    Citations and quotes are read from the raw text, where RAFT quote tags still mark the claims;
    `text` is the tidied version (see `tidy_raft_text`) and `raw_text` the model's own. With
    `answer_from_quote`, a RAFT reply's first verified quote is its final answer (`quoted_answer`).
    `added_citation` is the mark localrag appended to an answer citing nothing (`attribution.py`, " [1, 2]"): it
    is in the answer's text and citations, and `attributed`, not in `raw_text` (before 2026-12-08 it was, so the
    "model's raw text" held a mark the model never wrote).
    """
    raw_text = text.strip()
    text = (text + added_citation).strip()
    attributed = bool(added_citation)
    cited, invalid = answer_citations(text, hits)
    unsupported = unsupported_citations(question, text, hits, attributed=attributed)
    quotes = verify_quotes(text, hits)
    final = quoted_answer(text, quotes) if answer_from_quote else None
    return Answer(
        question=question,
        text=tidy_raft_text(text, final),
        raw_text=raw_text,
        sources=list(hits),
        cited=cited,
        invalid_citations=invalid,
        quotes=quotes,
        refused=not hits and text == NO_ANSWER_TEXT,
        model=model,
        stats=stats,
        attributed=attributed,
        evidence=evidence,
        unsupported_citations=unsupported,
    )
