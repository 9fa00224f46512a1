"""Finding saved conversations by their words: `localrag conversations search` and the chat app's `/`.

A conversation matches when every word of the query is somewhere in its title, questions or answers (any
case, accents and ligatures folded as `search` folds them, apostrophes left out, so "dont" and "don't" find "don’t"
and "cafe" finds "café"; a word matches inside a longer one, so "hotel" finds "hotels"). The sources' text is not
searched: what a user remembers of a conversation is what was asked and answered, and a source's whole passage would
match far more than that. Matches come most recently updated first, as the list does, each with the line of
the turn that holds most of the words.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from collections.abc import Callable, Iterable
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
_APOSTROPHE_CHARS = "'\u2018\u2019\u02bc"
_APOSTROPHES = str.maketrans("", "", _APOSTROPHE_CHARS)


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
        # Each turn on one line, as its snippet shows it; no word holds a space, so the matches are the same.
        flats = [" ".join(turn.text.split()) for turn in conversation.turns]
        plains = [plain_text_offsets(flat) for flat in flats]
        texts = [_fold_plain(plain) for plain, _ in plains]
        everything = " ".join([_fold(conversation.title), *texts])
        if not all(word in everything for word in words):
            continue
        counts = [sum(word in text for word in words) for text in texts]
        best = max(range(len(texts)), key=lambda i: counts[i], default=-1)
        if best < 0 or counts[best] == 0:  # the title alone holds them
            found.append(ConversationMatch(conversation, -1, conversation.title))
            continue
        plain, moved = plains[best]
        found.append(ConversationMatch(conversation, best, _snippet(flats[best], plain, moved, texts[best], words)))
    return found


# Characters whose fold may not be one character: an apostrophe (left out) and anything not ASCII (an "İ" lowers to
# two, a lone combining mark folds to none). Every other character folds to exactly one.
_MAY_CHANGE_LENGTH = re.compile("[^\x00-\x7f]|[" + "".join(_APOSTROPHE_CHARS) + "]")


def _plain_offset(plain: str, folded_at: int) -> int:
    """The offset in `plain` of the character `_fold_plain(plain)[folded_at]` was folded from. Only the characters
    whose fold may change the length are folded one at a time (each distinct one once), and only up to the hit:
    folding every character of a 240,000-character answer a character at a time took 0.37 s per query."""
    lengths: dict[str, int] = {}
    at = seen = 0  # the offset in `plain`, and the length of the fold of plain[:at]
    for match in _MAY_CHANGE_LENGTH.finditer(plain):
        if seen + match.start() - at > folded_at:
            break
        seen, at = seen + match.start() - at, match.start()
        char = plain[at]
        if char not in lengths:
            lengths[char] = len(_fold_plain(char))
        if seen + lengths[char] > folded_at:
            return at
        seen, at = seen + lengths[char], at + 1
    return at + folded_at - seen


def _snippet(flat: str, plain: str, moved: Callable[[int], int], lowered: str, words: list[str]) -> str:
    """The line of `flat` around its first matching word; `plain, moved` are `plain_text_offsets(flat)` (looked for
    in the plain text the whole was folded from: a joiner plain_text drops between letters is kept when a character
    is made plain alone, and "cafeteria" then missed "cafe\u200dteria"), `lowered` its fold."""
    found = min((i for i in (lowered.find(word) for word in words) if i >= 0), default=-1)
    # Back in `flat`, which is shown as written (a ligature kept): the first offset that maps to it or past it.
    at = bisect_left(range(len(flat)), _plain_offset(plain, found), key=moved) if found >= 0 else 0
    start, end = max(0, at - _BEFORE), min(len(flat), at + _FROM)
    # Cut between words: by characters alone it read "…hen was the Greywater Dam".
    if start and flat[start - 1] != " ":
        space = flat.find(" ", start, at)
        start = space + 1 if space >= 0 else at
    if end < len(flat) and flat[end] != " ":
        space = flat.rfind(" ", at, end)
        end = space if space > at else end
    return ("…" if start else "") + flat[start:end].strip() + ("…" if end < len(flat) else "")
