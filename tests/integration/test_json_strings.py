"""A `.json` file's strings are read as text: their escapes (`\\u00fc`, a surrogate pair, `\\n`) decoded, so its words
are found by keyword and quoted, and a passage still names the file's lines, with the bundled MiniLM and a real
LanceDB."""

from __future__ import annotations

import json
from pathlib import Path

from localrag.config import load_settings
from localrag.embed import SentenceTransformerEmbedder
from localrag.engine import Engine
from localrag.ingest.json_strings import readable_json
from localrag.ingest.loaders import load_file

CHAT = {"messages": [
    {"sender": "Zo\u00eb Brandt",
     "text": "The caf\u00e9 meeting moved to Friday.\nBring the M\u00fcnchen contract. \U0001f44d"},
    {"sender": "Jonas Weber", "text": "Noted, I will print it."},
]}


def test_a_chat_export_is_found_by_its_words_with_its_lines(
    localrag_home: Path, tmp_path: Path, real_embedder: SentenceTransformerEmbedder
) -> None:
    folder = tmp_path / "export"
    folder.mkdir()
    written = json.dumps(CHAT, indent=1)  # ensure_ascii: "Zo\u00eb", "\ud83d\udc4d", "\n" as Python writes them
    assert "\\u00eb" in written and "\\ud83d\\udc4d" in written
    (folder / "chat.json").write_text(written, encoding="utf-8")

    text = load_file(folder / "chat.json").text
    assert '"text": "The café meeting moved to Friday. Bring the München contract. 👍"' in text
    assert text.count("\n") == written.count("\n")  # a line break in a string is a space: the file's lines stay

    engine = Engine(load_settings(), embedder=real_embedder)
    engine.ingest([folder])
    for word in ("München", "Zoë", "Bring"):
        [hit, *_] = engine.search(word)
        assert hit.text_rank == 1, word
        # Its lines are the file's: the chunk is read from the file again through the same decoding.
        assert (hit.chunk.line_start, hit.chunk.line_end) == (1, written.count("\n") + 1), word
        assert "Bring the München contract." in hit.chunk.text


def test_escapes_that_would_break_the_string_stay_escaped() -> None:
    written = (r'{"path": "C:\\u00e9t\u00e9", "quote": "say \"hi\"", "nul": "a\u0000b", "lone": "\ud83d!", '
               r'"url": "a\/b"}')
    assert readable_json(written) == (
        r'{"path": "C:\\u00e9té", "quote": "say \"hi\"", "nul": "a\u0000b", "lone": "\ud83d!", "url": "a/b"}')
    # Outside a string nothing changes, and a file with no backslash is returned as it is.
    assert readable_json('{"a": 1} // \\u00e9 "') == '{"a": 1} // \\u00e9 "'
    assert readable_json('["line\\r\\nbreak\\ttab"]') == '["line break\ttab"]'
