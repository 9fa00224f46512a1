"""What the extraction model is shown and held to: the prompts, their worked examples and the grammar.

Both methods of localrag/graph/extract.py ask the model here: "single" for a JSON list of triples under
`TRIPLES_GRAMMAR` (read back by `parse_triples`), "focused" for one object's subject and relation words
(`focused_messages`; its grammar is `focused.fact_grammar`). Kept apart from the build so the words a
135M model was measured on change in one place, and only on purpose.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence

from localrag.generate import neutralize_special_tokens
from localrag.graph.focused import NO_RELATION, heading_entity, mentions, relation_lines, resolve_pronouns
from localrag.graph.vocabulary import RelationVocabulary
from localrag.types import Chunk

MAX_TRIPLES = 5
MAX_ENTITY_CHARS = 48
MAX_RELATION_CHARS = 32

TRIPLES_GRAMMAR = f"""root ::= "[" ws ( triple ( "," ws triple ){{0,{MAX_TRIPLES - 1}}} )? ws "]"
triple ::= ( "{{" ws "\\"subject\\":" ws entity "," ws "\\"relation\\":" ws relation ","
  ws "\\"object\\":" ws entity ws "}}" )
entity ::= "\\"" char{{1,{MAX_ENTITY_CHARS}}} "\\""
relation ::= "\\"" [a-zA-Z] [a-zA-Z_ ]{{0,{MAX_RELATION_CHARS - 1}}} "\\""
char ::= [^"\\\\\\n]
ws ::= [ \\n]?
"""


EXTRACT_SYSTEM = (
    "You extract facts from a passage as a JSON list of triples. Each triple is "
    '{"subject": ..., "relation": ..., "object": ...}. Subject and object are short names copied '
    "from the passage. Relations: {relations}. At most {max} triples."
)

EXAMPLE_PASSAGE = (
    "The Harwick Bridge crosses the River Sell in Tamford. It was designed by the engineer Ruth Okafor "
    "and opened in 1902. Okafor also designed the Tamford Library, which is part of Tamford University."
)
EXAMPLE_REPLY = (
    '[{"subject": "Harwick Bridge", "relation": "located_in", "object": "Tamford"},\n'
    '{"subject": "Harwick Bridge", "relation": "created_by", "object": "Ruth Okafor"},\n'
    '{"subject": "Harwick Bridge", "relation": "date", "object": "1902"},\n'
    '{"subject": "Tamford Library", "relation": "created_by", "object": "Ruth Okafor"},\n'
    '{"subject": "Tamford Library", "relation": "part_of", "object": "Tamford University"}]'
)

# The focused method's prompt (see localrag/graph/focused.py) and its worked example: the object
# -> (subject, relation) of each fact the example passage states; its other names get `none`.
FOCUSED_SYSTEM = (
    "For the Object, say which other name of the passage it is a fact about and the words that relate "
    "them, or none when the passage states no such fact. A fact about the Topic has the Topic as its "
    "subject. Relations and the words that mean them:\n{relations}"
)
EXAMPLE_TOPIC = "Harwick Bridge"
EXAMPLE_FACTS = {
    "Tamford": ("Harwick Bridge", "in"),
    "Ruth Okafor": ("Harwick Bridge", "designed by"),
    "River Sell": ("Harwick Bridge", NO_RELATION),
    "1902": ("Harwick Bridge", "opened"),
    "Okafor": ("Tamford Library", "designed by"),
    "Tamford University": ("Tamford Library", "part of"),
}
FACT_TOKENS = 24

_OBJECT = re.compile(r"\{[^{}]*\}")


def parse_triples(reply: str) -> list[dict[str, str]] | None:
    """The triples in a reply, or None when nothing parses; a cut-off list keeps its whole objects."""
    try:
        data = json.loads(reply)
    except json.JSONDecodeError:
        data = []
        for match in _OBJECT.findall(reply):
            try:
                data.append(json.loads(match))
            except json.JSONDecodeError:
                continue
        if not data:
            return None
    if not isinstance(data, list):
        return None
    out = []
    for item in data:
        if isinstance(item, dict) and all(isinstance(item.get(k), str) for k in ("subject", "relation", "object")):
            out.append({k: item[k] for k in ("subject", "relation", "object")})
    return out


def extraction_messages(chunk: Chunk, vocabulary: RelationVocabulary) -> list[dict[str, str]]:
    system = EXTRACT_SYSTEM.replace("{relations}", ", ".join(vocabulary.names)).replace("{max}", str(MAX_TRIPLES))
    passage = neutralize_special_tokens(chunk.text)
    return [
        {"role": "system", "content": system},
        {"role": "user", "content": f"Passage: {EXAMPLE_PASSAGE}\nTriples:"},
        {"role": "assistant", "content": EXAMPLE_REPLY},
        {"role": "user", "content": f"Passage: {passage}\nTriples:"},
    ]


def focused_messages(
    chunk: Chunk, entities: Sequence[str], obj: str, vocabulary: RelationVocabulary
) -> list[dict[str, str]]:
    """The relation turn for one object: relations and phrasings, the worked example, then the chunk and object.

    Everything before the object is the same for all objects of a chunk, so the prompt cache holds it.
    """
    relations = relation_lines((name, vocabulary.canonical.get(name, ())) for name in vocabulary.names)
    topic = heading_entity(chunk.heading)
    example_entities = [EXAMPLE_TOPIC, *mentions(EXAMPLE_PASSAGE)]
    example = (f"Topic: {EXAMPLE_TOPIC}\nNames: {json.dumps(list(dict.fromkeys(example_entities)))}\n"
               f"Passage: {resolve_pronouns(EXAMPLE_PASSAGE, EXAMPLE_TOPIC)}\n")
    messages = [{"role": "system", "content": FOCUSED_SYSTEM.replace("{relations}", relations)}]
    for i, (name, (subject, phrase)) in enumerate(EXAMPLE_FACTS.items()):
        messages.append({"role": "user", "content": f"{example if i == 0 else ''}Object: {name}"})
        messages.append({"role": "assistant", "content": f"{subject} | {phrase}"})
    passage = resolve_pronouns(neutralize_special_tokens(chunk.text), topic)
    messages.append({
        "role": "user",
        "content": f"Topic: {neutralize_special_tokens(topic) or 'none'}\n"
                   f"Names: {json.dumps(list(entities), ensure_ascii=False)}\nPassage: {passage}\nObject: {obj}",
    })
    return messages
