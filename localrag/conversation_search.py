"""Finding saved conversations by their words: `localrag conversations search` and the chat app's `/`.

A conversation matches when every word of the query is somewhere in its title, questions or answers (any
case, accents and ligatures folded as `search` folds them, apostrophes left out, so "dont" and "don't" find "don’t"
and "cafe" finds "café"; a word matches inside a longer one, so "hotel" finds "hotels"). The sources' text is not
searched: what a user remembers of a conversation is what was asked and answered, and a source's whole passage would
match far more than that. Matches come most recently updated first, as the list does, each with the line of
the turn that holds most of the words.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterable
from dataclasses import dataclass

from localrag.conversations import Conversation
from localrag.fts_terms import folded
from localrag.safe_text import plain_text, plain_text_offsets

# Characters of the matching line shown before its first matching word and from it: few before, so that the
# word is in sight in the chat app's narrow panel too.
_BEFORE, _FROM = 12, 100


@dataclass
class ConversationMatch:
    conversation: Conversation
    turn: int  # the index in `conversation.turns` of the turn that holds most of the words
    snippet: str  # one line of that turn around its first matching word ("…" where cut)


# Apostrophes, straight, curly and the modifier letter: "don't", "don’t" and "dont" are one word.
_APOSTROPHES = str.maketrans("", "", "'\u2018\u2019\u02bc")


def _fold(text: str) -> str:
    return _fold_plain(plain_text(text))


def _fold_plain(text: str) -> str:
    # Lowered before folding: lower() writes a word's last Σ as ς, which folded() then makes σ as it makes a lone
    # Σ's σ; lowered after, "ΟΔΟΣ" kept its ς and neither found "οδος" nor its own snippet.
    return folded(text.lower()).lower().translate(_APOSTROPHES)


def query_words(query: str) -> list[str]:
    return _fold(query).split()


def search_conversations(conversations: Iterable[Conversation], query: str) -> list[ConversationMatch]:
    """The conversations holding every word of `query`, in the order given; none for an empty query."""
    words = query_words(query)
    if not words:
        return []
    found = []
    for conversation in conversations:
        texts = [_fold(turn.text) for turn in conversation.turns]
        everything = " ".join([_fold(conversation.title), *texts])
        if not all(word in everything for word in words):
            continue
        counts = [sum(word in text for word in words) for text in texts]
        best = max(range(len(texts)), key=lambda i: counts[i], default=-1)
        if best < 0 or counts[best] == 0:  # the title alone holds them
            found.append(ConversationMatch(conversation, -1, conversation.title))
            continue
        found.append(ConversationMatch(conversation, best, _snippet(conversation.turns[best].text, words)))
    return found


def _snippet(text: str, words: list[str]) -> str:
    flat = " ".join(text.split())
    # Looked for in the plain text (what the whole text was folded from): a joiner plain_text drops between letters
    # is kept when a character is made plain alone, and "cafeteria" then missed "cafe\u200dteria" here.
    plain, moved = plain_text_offsets(flat)
    # Folded a character at a time, each folded character knowing the one of `plain` it came from.
    lowered, origin = "", []
    for i, char in enumerate(plain):
        one = _fold_plain(char)
        lowered += one
        origin += [i] * len(one)
    # A fold that reads more than one character could still differ a character at a time: the line's start then.
    found = min((i for i in (lowered.find(word) for word in words) if i >= 0), default=-1)
    # Back in `flat`, which is shown as written (a ligature kept): the first offset that maps to it or past it.
    at = bisect_left(range(len(flat)), origin[found], key=moved) if found >= 0 else 0
    start, end = max(0, at - _BEFORE), min(len(flat), at + _FROM)
    # Cut between words: by characters alone it read "…hen was the Greywater Dam".
    if start and flat[start - 1] != " ":
        space = flat.find(" ", start, at)
        start = space + 1 if space >= 0 else at
    if end < len(flat) and flat[end] != " ":
        space = flat.rfind(" ", at, end)
        end = space if space > at else end
    return ("…" if start else "") + flat[start:end].strip() + ("…" if end < len(flat) else "")
