"""The "focused" extraction prompts: entities first, then relations among only those entities.

A 135M model asked for free-text triples invents names, copies pronouns ("He") as subjects and
spends its few triples on the first sentence. This method narrows what it can say, in two passes:
1. Entities: the model lists the passage's names under a grammar whose words are only the
   passage's own words (`entities_grammar`); the list is joined with the chunk's heading entity and
   with the capitalised runs and numbers found by rule (`mentions`), each kept only if it occurs in
   the passage as written.
2. Relations: the model writes triples under a grammar whose subject and object can only be one of
   those entities and whose relation can only be a vocabulary name (`triples_grammar`); the prompt
   shows each relation with one phrasing, names the heading as the passage's topic, and the passage
   has its personal pronouns replaced by the heading entity (`resolve_pronouns`), so "He wears
   number 10" under the heading "Karim Benzema" offers the model the subject it needs.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

# Words that start a sentence with a capital without naming anything.
_NOT_NAMES = frozenset(
    "a an the he she it they his her its their this that these those at in on for of from with by to and "
    "or but as after before when while there here then also his i we you our your".split()
)
# Lower-case words allowed inside a capitalised run: "Bank of England", "Vasco da Gama".
_JOINERS = frozenset("of de da do del della di du la le van von der den y".split())
_TOKEN = re.compile(r"[^\W_](?:[\w'.&-]*[^\W_])?")
_SUBJECT_PRONOUN = re.compile(r"\b(?:he|she)\b", re.IGNORECASE)
_POSSESSIVE = re.compile(r"\b(?:his|her)\b", re.IGNORECASE)
_IT = re.compile(r"(^|[.!?]\s+)(It|Its)\b")

NO_RELATION = "none"
MAX_ENTITIES = 12
MAX_NAME_WORDS = 6


def heading_entity(heading: str) -> str:
    """The innermost heading of a chunk's heading path ("Players > Karim Benzema" -> "Karim Benzema")."""
    return heading.rsplit(" > ", 1)[-1].strip(" \t#*") if heading else ""


def mentions(text: str) -> list[str]:
    """Capitalised word runs and numbers in `text`, in order of first appearance, each once.

    A run may hold lower-case joiners ("Bank of England") but not end on one; a lone capitalised
    word that is a function word ("He", "At") is not a name.
    """
    out: dict[str, None] = {}
    for sentence in re.split(r"(?<=[.!?;:])\s+|\n+", text):
        run: list[str] = []
        for token in [*_TOKEN.findall(sentence), ""]:
            capital = bool(token) and (token[0].isupper() or token[0].isdigit())
            if capital or (run and token.lower() in _JOINERS):
                run.append(token)
                continue
            while run and run[-1].lower() in _JOINERS:
                run.pop()
            if run and not (len(run) == 1 and run[0].lower() in _NOT_NAMES):
                if run[0].lower() in _NOT_NAMES:
                    run = run[1:]
                out.setdefault(" ".join(run[:MAX_NAME_WORDS]).rstrip("."), None)
            run = []
    return [m for m in out if m]


def resolve_pronouns(text: str, entity: str) -> str:
    """`text` with he/she -> `entity`, his/her -> `entity`'s, and sentence-initial It/Its likewise.

    Only for a chunk under a heading that names one entity: there the pronouns almost always mean it.
    """
    if not entity:
        return text
    text = _POSSESSIVE.sub(f"{entity}'s", text)
    text = _SUBJECT_PRONOUN.sub(entity, text)
    return _IT.sub(lambda m: m.group(1) + (f"{entity}'s" if m.group(2) == "Its" else entity), text)


def _literal(text: str) -> str:
    """A GBNF string literal for `text` (already free of quotes, backslashes and newlines)."""
    return '"' + text + '"'


def _json_quote(text: str) -> str:
    """`text` inside a JSON string, written as GBNF literal content: quotes escaped for both."""
    return '\\"' + text + '\\"'


def _json_safe(name: str) -> bool:
    return bool(name) and not any(c in name for c in '"\\\n\r\t')


def triples_grammar(entities: Sequence[str], relations: Sequence[str]) -> str:
    """One entry per entity after the first, in order, as the object: the model picks its subject and relation.

    The objects are written by the grammar, so the model cannot repeat itself or skip an entity;
    it only decides, for each, which entity it is said of and how, or `none`.
    """
    safe = [e for e in entities if _json_safe(e)]
    names = " | ".join(_literal(e) for e in safe)
    rels = " | ".join(_literal(r) for r in [*relations, NO_RELATION])
    entries = ' "," ws '.join(
        '"{\\"object\\": " ' + _literal(_json_quote(e)) + ' ", \\"subject\\": \\"" entity "\\", '
        '\\"relation\\": \\"" relation "\\"}"'
        for e in safe[1:]
    )
    return (
        f'root ::= "[" ws {entries} ws "]"\n'
        f"entity ::= {names}\n"
        f"relation ::= {rels}\n"
        'ws ::= [ \\n]?\n'
    )


def relation_lines(vocabulary: Iterable[tuple[str, Sequence[str]]]) -> str:
    """One line per relation with its first phrasing as the example: `- located_in: "located in"`."""
    lines = []
    for name, synonyms in vocabulary:
        example = next((s for s in synonyms if s.replace(" ", "_") != name), synonyms[0] if synonyms else "")
        lines.append(f'- {name}: "{example}"' if example else f"- {name}")
    return "\n".join(lines)
