"""From retrieved hits to a checked answer, as events: what `Engine.stream` runs after retrieval.

Refuse when nothing relevant came back: no source close enough (`min_similarity`) or no sentence of
them that scores `min_evidence` (`refusal` says which; the closest passages and their best sentence go with
it), unless the settings allow answering from the model's memory. Then fit the sources into the context by
the model's own token counts, stream the answer with the repeat guard, cite the source holding most of each
sentence's words when the model cited none (`attribution.py`), then parse the citations and check every quote
against the cited source. In `answer_mode = "extract"` the sources' best sentence, quoted and cited, is the
answer and no model is loaded; sources without a sentence to quote are a refusal that says so
(`evidence.extracted_answer`).
"""

from __future__ import annotations

import dataclasses
import inspect
import math
import re
import threading
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING

from localrag.answer import (
    NO_ANSWER_TEXT,
    answer_citations,
    build_messages,
    finish_answer,
)
from localrag.answer.attribution import sources_holding
from localrag.answer.evidence import (
    EXTRACT_MODEL,
    best_sentence,
    extracted_answer,
    prompt_sentences,
    scored_sentences,
    shown_text,
)
from localrag.answer.prompt import ECHO_STOPS, history_messages
from localrag.answer.repeats import RepeatGuard
from localrag.clause_marks import holds_clause
from localrag.exact_terms import clauses
from localrag.query_syntax import QuerySyntax
from localrag.raft.quote_grammar import shown_quote_grammar
from localrag.types import Answer, AnswerEvent, DoneEvent, GenerationStats, Hit, SourcesEvent, TokenEvent

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray

    from localrag.config import Settings
    from localrag.embed import Embedder
    from localrag.generate import Generator

# Words that make a follow-up lean on the conversation before it: pronouns and words pointing back, in English and in
# the other languages questions are read in (README, "Languages"). Before 2026-12-08 only English ones: "Wie hoch ist
# er?" after a question on a water tower was searched as asked and answered with a lighthouse's height. Only words
# that are no article or common word in another of these languages: not "die", "le", "la", "lo", "es" (Spanish "is"),
# "son" (Spanish "are"), "su" (Italian "on"), French "y" (Spanish "and").
_FOLLOW_UP = re.compile(
    r"\b(it|its|they|them|their|this|that|these|those|he|him|she|his|her|there|then|one|ones|same|also|"
    r"more|else|other|former|latter|"
    r"er|ihn|ihm|dort|dorthin|dafür|davon|dazu|darüber|dessen|deren|seine[mnrs]?|"  # German
    r"ils|elle|elles|lui|leurs?|sa|ses|là|cela|ça|celui|celle|ceux|"  # French
    r"esso|essa|essi|esse|lì|quello|quella|"  # Italian
    r"él|ella|ellos|ellas|allí|allá|ahí|eso|"  # Spanish
    r"ele|ela|eles|elas|dele|dela|deles|delas|nele|nela|lá|ali|aí|isso|disso|nisso|seus?|suas?)\b",  # Portuguese
    re.IGNORECASE,
)
# German pronouns that are also the polite "you" when capitalised ("Können Sie ...?"): only lower case leans. French
# "il", but not the impersonal one ("il faut", "faut-il", "y a-t-il": "there is").
_FOLLOW_UP_LOWER = re.compile(r"\b(sie|ihr|ihre[mnrs]?)\b|"
                              r"(?<!faut-)(?<!(?i:y) a-t-)\b(?i:il)\b(?!\s+(?:faut|y\s+a|s['’]agit)\b)")
# How a short question opens that goes on from the last one: "And in 2023?", "What about Lisbon?", "Und in Köln?",
# "Et à Paris ?", "E a Roma?", "¿Y en Madrid?". Such a question alone can find something that does not answer it
# (before 2026-12-08 "and in 2023?" after a question on 2022's revenue quoted what caused 2023's growth).
_FOLLOW_UP_OPENING = re.compile(
    r"^[\s¿¡\"'«„“]*(?:and|but|what about|how about|und|aber|was ist mit|et|mais|qu'en est-il d|e|ma|y(?!\s+a-t-)|pero|"
    r"qué hay de|e quanto a|e sobre)(?:\s|')",
    re.IGNORECASE,
)
# At most this many words for an opening alone to mark a follow-up: a longer question says what it asks about.
FOLLOW_UP_OPENING_WORDS = 6


def leans(question: str) -> bool:
    """Whether `question` leans on the conversation before it: it holds a word pointing back (`_FOLLOW_UP`), opens
    as a follow-up and is short ("And in London?"), or is an ellipsis, no content word beyond numbers and codes
    ("Why?", "2023?", "And E7?")."""
    from localrag.raft.qa import content_words

    if _FOLLOW_UP.search(question) or _FOLLOW_UP_LOWER.search(question):
        return True
    if _FOLLOW_UP_OPENING.match(question) and len(question.split()) <= FOLLOW_UP_OPENING_WORDS:
        return True
    return all(any(c.isdigit() for c in word) for word in content_words(question))


def follow_up_query(question: str, history: list[dict[str, str]]) -> str:
    """A standalone retrieval query for a follow-up question.

    A 135M model rewrites unreliably, so the rewrite is deterministic: a question that leans on
    the conversation (`leans`: a pronoun, "also", "more", a short "And in 2023?", a bare "Why?") is searched for
    after what the conversation is about (`leaning_query`), which carries its subject into both the BM25 and the
    vector query. A question without such a mark may still lean on it ("And on the first day of a trip?"):
    `Engine.stream` reads it so when, alone, it would be refused.
    """
    if not history or not leans(question):  # the cheap test first: the history is read only for a follow-up
        return question
    leaning = leaning_query(question, history)
    return leaning if leaning is not None else question


def leaning_query(question: str, history: list[dict[str, str]]) -> str | None:
    """`question` read as leaning on the conversation: what the last answered question was about in front of it;
    None when no question was answered."""
    lead = _subject(history)[0]
    return f"{lead} {question}" if lead else None


def _subject(history: list[dict[str, str]]) -> tuple[str, list[dict[str, str]]]:
    """What a follow-up of `history` leans on, and the exchange that says it (the last answered question and its
    answer); ("", []) when no question was answered.

    The last answered question, after the last one answered that stood alone when it leant on another: three
    follow-ups in a row keep the subject ("How many steps does it have?" after "How tall is it?" after "When was
    Kestrel Point first lit?"), where the previous question alone lost it, and a query never holds more than three
    questions. A refused question, one stopped or one an error left unanswered is passed over: before 2026-12-07
    "Who built it?" was searched after a refused "What was its character?" and refused too. Each answer's `query`
    (a saved conversation's) says how its question was searched; messages without one (an API client's) are read
    by the same rule, a question searched as asked when it does not lean (`leans`).
    """
    root = previous = ""
    exchange: list[dict[str, str]] = []
    asked: dict[str, str] | None = None
    for message in history:
        if message.get("role") == "user":
            asked = message
            continue
        if message.get("role") != "assistant" or asked is None:
            continue
        question, answer = asked.get("content", "").strip(), message.get("content", "").strip()
        asked = None
        if not question or not answer or answer == NO_ANSWER_TEXT:
            continue
        lead = root if previous == root else f"{root} {previous}"
        query = message.get("query") or (f"{lead} {question}" if root and leans(question) else question)
        if query == question or not root:
            root = previous = query
        else:
            previous = question
        exchange = [{"role": "user", "content": question}, {"role": "assistant", "content": answer}]
    if not root:
        return "", []
    return (root if previous == root else f"{root} {previous}"), exchange


def follow_up_subject(question: str, query: str) -> str:
    """What the retrieval query `query` adds to `question`: the subject a follow-up was searched for after
    (`leaning_query` puts it in front); "" for a question searched as asked."""
    # A question whose search operators were taken out is no suffix of its query: the whole query is the subject, and
    # `evidence.subject_shares` reads only its words the question does not ask.
    return "" if query == question else query.removesuffix(question).strip()


def prompt_history(question: str, query: str, history: list[dict[str, str]] | None) -> list[dict[str, str]]:
    """The history the answer's prompt gets: none for a question searched as asked, which does not lean on the
    conversation, and the exchange a follow-up leans on for one that does.

    The bundled model copies what its prompt holds: fed the older turns, from about the fifth question of a
    conversation its answers repeated an earlier answer word for word, also on a new subject (before 2026-12-07,
    7 of 22 answers of a chat over three documents; benchmarks/README.md, "Long conversations answered").
    """
    if not history or query == question:
        return []
    return _subject(history)[1]


def holds_own_words(question: str, hits: list[Hit]) -> bool:
    """Whether the passages hold one of `question`'s own content words (True when it has none: "And?"): what a
    question asked after the previous one must still find of itself to be answered."""
    from localrag.raft.qa import content_words

    own = set(content_words(question))
    return not own or any(own & set(content_words(h.chunk.text)) for h in hits)


def _best_cosine(hits: list[Hit]) -> float | None:
    return max((h.vector_score for h in hits if h.vector_score is not None), default=None)


def best_evidence(query: str, hits: list[Hit], embedder: Embedder, query_vector: NDArray[np.float32]) -> float | None:
    """The best score a sentence of the sources gets by the evidence rule (`evidence.scored_sentences`: cosine plus
    the weighted share of the query's content words); None when they hold no sentence to score."""
    scored = scored_sentences(query, hits, embedder, query_vector)
    return max((score for score, _ in scored), default=None)


def _under(score: float, floor: float) -> str:
    """`score`, which is under `floor`, with two decimals, or as many more as it takes not to read as the floor
    (0.797 under 0.8 is not "0.80")."""
    digits = 2
    while digits < 6 and float(f"{score:.{digits}f}") >= floor:
        digits += 1
    return f"{score:.{digits}f}"


# Under this share of `min_similarity`, a refusal does not name the floor that would let the closest passage through:
# such a floor lets passages of any subject through. Before 2026-12-07 a question asked of the wrong collection was told
# to set it to 0.02. With MiniLM, questions whose passage was found first scored 0.15-0.24 ("Who is Anna Schröder?"
# 0.16, "What is Belady's anomaly?" 0.15, "What does § 3(2) say?" 0.22), and nine asked of a collection on another
# subject (operating systems of biology notes, and back) -0.16-0.15, six of them under 0.125: half the default keeps
# the advice for the first and drops it for most of the second. The two overlap, so a refusal also names another
# collection that answers (`Engine._answered_elsewhere`) in place of the advice.
FLOOR_ADVICE_SHARE = 0.5


def passing_floor(cosine: float) -> float:
    """The highest `min_similarity` of two decimals that `cosine` passes (`cosine < min_similarity` refuses): its
    value cut, not rounded (0.228 passes 0.22, not 0.23), read past a float's last digit (0.29 passes 0.29)."""
    cut = math.floor(round(cosine * 100, 6)) / 100
    return (cut if cut <= cosine else round(cut - 0.01, 2)) + 0.0  # + 0.0: -0.0 reads "0"


# A word as a name writes it: letters, digits, an apostrophe or a hyphen inside ("O'Brien", "Jean-Paul").
_NAME_WORD = re.compile(r"[^\W_][\w'’-]*")
_POSSESSIVE = re.compile(r"['’]s?$")
# Words a question opens with or asks by, and "I": a run of only these is no name ("Can I", "Did I", "How Do I"),
# however capitalised.
_ASKING_WORDS = frozenset(("I", "Am", "Are", "Is", "Was", "Were", "Do", "Does", "Did", "Can", "Could", "Will", "Would",
                           "Shall", "Should", "May", "Might", "Must", "Have", "Has", "Had", "Who", "Whom", "Whose",
                           "What", "Which", "When", "Where", "Why", "How"))


def asked_names(question: str) -> list[str]:
    """The full names `question` writes: runs of two or more words opening with a capital, with only blanks between
    them ("Who quoted Albert Einstein?": "Albert Einstein"). A run opening the question with question words is read
    without them ("Does Albert Einstein say ...": "Albert Einstein"), one opening with another word also without
    it, capitalised as every question's first ("Find Anna Smith's invoices": "Anna Smith"), and a run of only
    question words and "I" (`_ASKING_WORDS`) is none: before 2026-12-08 "Can I get a refund?" named "Can I", so any
    FAQ passage asking "Can I ..." passed the `min_similarity` floor. A possessive ends a name without its "'s"
    ("Mark Twain's essay": "Mark Twain")."""
    names: list[str] = []
    run: list[str] = []
    opens = False
    end: int | None = None

    def close() -> None:
        asking = 0
        while opens and asking < len(run) and run[asking] in _ASKING_WORDS:
            asking += 1
        for words in ([run[asking:]] if asking else [run, run[1:]] if opens else [run]):
            if len(words) > 1 and not _ASKING_WORDS.issuperset(words):
                names.append(" ".join(words))
        run.clear()

    for match in _NAME_WORD.finditer(question):
        word = _POSSESSIVE.sub("", match.group())
        if not word[:1].isupper():
            close()
        else:
            if run and question[end:match.start()].strip(" \t"):
                close()  # a comma, a quote or a line between: two names, not one
            if not run:
                opens = end is None
            run.append(word)
            if word != match.group():
                close()
        end = match.end()
    close()
    return list(dict.fromkeys(names))


def holds_name_or_phrase(hit: Hit, names: Sequence[str], phrases: Sequence[str]) -> bool:
    """Whether `hit`'s heading or text holds one of `names` as written (in its case, any blanks between the words) or
    one of the quoted `phrases` (`query_syntax.QuerySyntax.holds_phrases`: in any case)."""
    text = f"{hit.chunk.heading}\n{hit.chunk.text}"
    if any(re.search(r"(?<!\w)" + r"\s+".join(map(re.escape, name.split())) + r"(?!\w)", text) for name in names):
        return True
    return bool(phrases) and QuerySyntax("", phrases=tuple(phrases)).holds_phrases(text) > 0


def refusal(query: str, hits: list[Hit], embedder: Embedder, query_vector: NDArray[np.float32],
            settings: Settings, *, floor_advice: bool = True, phrases: Sequence[str] = ()) -> str:
    """Why the sources cannot answer the question, in words; "" when they may.

    Two floors: the best vector cosine (`min_similarity`), and the best sentence's score by the evidence rule
    (`min_evidence`, not judged when it is 0 or the sources hold no sentence to score: the model reads such sources
    whole, and in extract mode `evidence.extracted_answer` refuses them). The second is asked with
    the retrieval query, so a follow-up carries the subject it leans on. Asked of documents on the same subjects
    that do not hold their answers, the first stopped 0-2 % of four sets' questions; the second at 0.58 stops
    4-27 % and lets through 97.8-100 % of those whose document was retrieved (benchmarks/README.md, "Saying not
    found"). A passage holding a clause the question names ("What does § 3(2) say?": "§ 3" over its "(2) ..."
    line, `clause_marks.holds_clause`) passes the first: a question of a clause's number alone is far from its text
    in meaning, and before 2026-12-07 such a question was refused (0.22) with that clause found first. No question
    of the measured sets names a clause, so their figures stand. So does a passage holding a full name the question
    writes (`asked_names`: "Albert Einstein") or a phrase it quotes (`phrases`, `query_syntax`'s, taken out of
    `query`): a name says little to the embedder, and before 2026-12-08 'What did "Mark Twain" say?' was refused
    (0.16) with the essay quoting him found first. `floor_advice` False: the vector floor's refusal does not name
    the value that lets it through (another collection answers the question)."""
    cosine = _best_cosine(hits)
    held = False
    if cosine is None or cosine < settings.min_similarity:  # only a refusal asks what the passages hold
        asked = clauses(query)
        names = asked_names(query)
        held = any(holds_clause(hit.chunk.text, hit.chunk.heading, clause) for hit in hits for clause in asked) or (
            bool(names or phrases) and any(holds_name_or_phrase(hit, names, phrases) for hit in hits))
    if cosine is None and not held:
        # BM25 alone is no evidence: passages found only by their words count as none.
        return "no passage is close enough: only passages sharing words were found" if hits else (
            "nothing in the index matched the question")
    if cosine is not None and cosine < settings.min_similarity and not held:
        # The score as the floor that lets it through, both cut to two decimals: before 2026-12-07 the score was
        # rounded ("the closest scored 0.23") and the floor cut ("lets it through at 0.22").
        passes = passing_floor(cosine)
        why = (f"no passage is close enough: the closest scored {passes:.2f}, under min_similarity "
               f"{settings.min_similarity:g}")
        if not floor_advice or cosine < FLOOR_ADVICE_SHARE * settings.min_similarity:
            return why  # about something the collection does not hold: a lower floor would let anything through
        # The value that answers, as the evidence floor's refusal says its own: before 2026-12-07 a user told only
        # the score had to find the setting and its command.
        return f"{why} (this floor lets it through at {passes:g}: localrag config set min_similarity {passes:g})"
    if settings.min_evidence <= 0:
        return ""
    best = best_evidence(query, hits, embedder, query_vector)
    if best is not None and best < settings.min_evidence:
        return (f"no sentence of the {len(hits)} closest passages answers it: the best scored "
                f"{_under(best, settings.min_evidence)}, under "
                f"min_evidence {settings.min_evidence:g} (set to 0, it answers anyway)")
    return ""


def answer_events(
    question: str,
    query: str,
    hits: list[Hit],
    *,
    generator: Generator | None,
    embedder: Embedder,
    settings: Settings,
    history: list[dict[str, str]] | None = None,
    cancel: threading.Event | None = None,
    query_vector: NDArray[np.float32] | None = None,
    refused_why: str | None = None,
) -> Iterator[AnswerEvent]:
    """SourcesEvent, TokenEvent..., DoneEvent for `question`; `generator` None: extract mode. `query_vector`:
    `query` as `embedder.embed_queries` embeds it, when retrieval embedded it already; `refused_why`: what
    `refusal` said of these hits, when the caller asked it already ("" for none)."""
    # Embedded once here, not once per use: the answerability check, choosing the prompt's sentences and the
    # evidence all score sentences against it.
    if query_vector is None:
        query_vector = embedder.embed_queries([query])[0]
    why = refusal(query, hits, embedder, query_vector, settings) if refused_why is None else refused_why
    found = not why
    if not found and (generator is None or not settings.allow_model_knowledge):
        # What came closest goes with the refusal, so the user can judge it: the passages, uncited, and their best
        # sentence (its vectors cached by the refusal check when the sentence floor was the one that refused).
        yield SourcesEvent(hits, query)
        model = EXTRACT_MODEL if generator is None else generator.name
        closest = best_sentence(query, hits, embedder, query_vector)
        yield DoneEvent(Answer(question, NO_ANSWER_TEXT, sources=list(hits), refused=True, model=model, refusal=why,
                               evidence=closest, query=query))
        return
    # A rewritten follow-up's sentences are chosen for the question as asked, with the words of the subject it leans
    # on (`follow_up_subject`): scored for the question alone, "how many people work there?" after a question on the
    # Berlin office quoted the Paris office's head count before 2026-12-08. A refusal never needs its vector.
    question_vector = query_vector if query == question else embedder.embed_queries([question])[0]
    subject = follow_up_subject(question, query)
    if generator is None:
        yield SourcesEvent(hits, query)
        answer = extracted_answer(question, best_sentence(question, hits, embedder, question_vector, subject=subject),
                                  hits)
        if not answer.refused:  # a refusal streams no tokens: the front ends show the refused answer's text once
            yield TokenEvent(answer.text)
        yield DoneEvent(dataclasses.replace(answer, query=query))
        return
    sources = hits if found else []
    texts = None
    quotable: list[list[str]] = []
    if sources and settings.prompt_sentences:
        chosen = prompt_sentences(question, sources, embedder, settings.prompt_sentences, question_vector,
                                  subject=subject)
        if chosen:  # sources without a sentence of three words go in whole
            sources, texts = [hit for hit, _ in chosen], [shown_text(sentences) for _, sentences in chosen]
            quotable = [[e.text for e in sentences] for _, sentences in chosen]
    history = prompt_history(question, query, history)
    messages, used = build_messages(
        question,
        sources,
        generator,
        max_answer_tokens=settings.max_answer_tokens,
        history=history,
        texts=texts,
        answer_language=settings.answer_language,
        headings=settings.prompt_headings,
    )
    yield SourcesEvent(used, query)
    grammar = shown_quote_grammar(quotable[: len(used)]) if settings.quote_grammar else None
    # What the context had no room for, said with the answer: a long chat or a large -k was cut without a word.
    stats = GenerationStats(sources_left_out=len(sources) - len(used),
                            history_left_out=history_messages(history) - (len(messages) - 2))
    pieces: list[str] = []
    guard = RepeatGuard() if settings.stop_repeats else None
    stream = generator.stream_chat(
        messages,
        max_tokens=settings.max_answer_tokens,
        temperature=settings.temperature,
        stop=ECHO_STOPS,
        grammar=grammar,
        cancel=cancel,
        stats=stats,
    )
    try:
        for piece in stream:
            shown = guard.feed(piece) if guard is not None else piece
            if shown:
                pieces.append(shown)
                yield TokenEvent(shown)
            if guard is not None and guard.looping:
                stats.stopped_repeating = True
                break
    finally:
        # A generator left suspended holds the model's lock until it is collected; the next question needs it.
        if inspect.isgenerator(stream):
            stream.close()
    rest = guard.flush() if guard is not None else ""
    if rest:
        pieces.append(rest)
        yield TokenEvent(rest)
    text = "".join(pieces).strip()
    mark = ""
    if settings.attribution_turn and used and text and not stats.cancelled and not answer_citations(text, used)[0]:
        numbers = sources_holding(text, used, question)
        if numbers:
            # One mark after the answer (its text is streamed already), read as citing the whole answer
            # (`claims.unsupported_citations`).
            mark = f" [{', '.join(map(str, numbers))}]"
            yield TokenEvent(mark)
    # After the reply, so the first token does not wait for it (benchmarks/README.md, "The best source sentence").
    evidence = (best_sentence(question, used, embedder, question_vector, subject=subject)
                if used and not stats.cancelled else None)
    answer = finish_answer(question, "".join(pieces), used, stats, generator.name, added_citation=mark,
                           answer_from_quote=settings.raft_answer == "quote", evidence=evidence)
    yield DoneEvent(dataclasses.replace(answer, query=query))
