"""What every front end does to a question before asking it."""

from __future__ import annotations

from localrag.errors import LocalRagError
from localrag.safe_text import plain_text, valid_text


def checked_question(question: str) -> str:
    """The question as every front end asks it: stripped, valid Unicode written as the index holds documents'
    text (`plain_text`: a soft hyphen or a decomposed accent in it still meets the word), and not empty."""
    question = plain_text(valid_text(question)).strip()
    if not question:
        raise LocalRagError("the question is empty", "type a question about your documents", field="question")
    return question
