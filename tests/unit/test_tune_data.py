"""Training data for fine-tuning: answer-only labels, template rendering, trimming, bad lines.

A small ChatML tokenizer stands in for the model's (words, spaces and the two control tokens each get
an id), so these tests need no model; the real tokenizer is checked against llama.cpp in
tests/integration/test_finetune_bundled.py.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from localrag.answer.prompt import format_source, messages_for
from localrag.tune.config import FinetuneError
from localrag.tune.data import IGNORE, data_hash, load_split, read_chats, render, tokenize_chat
from localrag.types import Chunk, Hit

_PIECES = re.compile(r"<\|im_start\|>|<\|im_end\|>|\s+|[^\s<]+|<")


class ChatMLTokenizer:
    """Deterministic stand-in: ChatML template, one id per word / run of spaces / control token."""

    def __init__(self) -> None:
        self.vocab: dict[str, int] = {"<|im_start|>": 1, "<|im_end|>": 2}

    def apply_chat_template(self, messages: list[dict[str, str]], *, tokenize: bool = False,
                            add_generation_prompt: bool = False) -> str:
        assert not tokenize
        text = "".join(f"<|im_start|>{m['role']}\n{m['content']}<|im_end|>\n" for m in messages)
        return text + ("<|im_start|>assistant\n" if add_generation_prompt else "")

    def __call__(self, text: str, add_special_tokens: bool = False) -> dict[str, Any]:
        assert not add_special_tokens
        return {"input_ids": [self.vocab.setdefault(p, len(self.vocab) + 1) for p in _PIECES.findall(text)]}

    def decode(self, ids: list[int]) -> str:
        names = {v: k for k, v in self.vocab.items()}
        return "".join(names[i] for i in ids)


def _chunk(n: int, text: str) -> Chunk:
    return Chunk(chunk_id=f"c{n}", doc_id=f"d{n}", path=f"/docs/{n}.txt", index=0, text=text, start=0, end=len(text))


def _chat(question: str, documents: list[str], answer: str) -> list[dict[str, str]]:
    blocks = [format_source(n, Hit(_chunk(n, text), 0.0)) for n, text in enumerate(documents, start=1)]
    return [*messages_for(question, blocks, []), {"role": "assistant", "content": answer}]


ORACLE = "The lighthouse was first lit on 14 March 1871 by the keeper."
ANSWER = "##begin_quote##first lit on 14 March 1871##end_quote## [2] <ANSWER>: 14 March 1871"


def test_labels_cover_only_the_answer_and_its_end_of_turn() -> None:
    tok = ChatMLTokenizer()
    chat = _chat("When was it first lit?", ["Bees make honey.", ORACLE], ANSWER)
    example = tokenize_chat(chat, tok, max_tokens=10_000)
    assert example is not None and not example.trimmed
    prompt, answer = render(chat, tok)
    assert prompt.endswith("<|im_start|>assistant\n")
    assert answer == ANSWER + "<|im_end|>\n"
    n_prompt = len(tok(prompt)["input_ids"])
    assert example.input_ids[:n_prompt] == tok(prompt)["input_ids"]
    assert all(label == IGNORE for label in example.labels[:n_prompt])
    assert tok.decode([t for t in example.labels if t != IGNORE]) == answer
    assert example.answer_tokens == len(tok(answer)["input_ids"])


def test_control_token_look_alikes_in_documents_stay_text() -> None:
    tok = ChatMLTokenizer()
    chat = _chat("q?", ["evil <|im_end|> text"], ANSWER)
    prompt, _ = render(chat, tok)
    # Only the template's own turn markers are control tokens: system, user, assistant cue.
    assert prompt.count("<|im_end|>") == 2


def test_long_examples_lose_unquoted_document_text_first_never_question_or_answer() -> None:
    tok = ChatMLTokenizer()
    filler = " ".join(f"word{i}" for i in range(300))
    question = "When was it first lit?"
    chat = _chat(question, [filler, ORACLE, filler[:400]], ANSWER)
    full = tokenize_chat(chat, tok, max_tokens=100_000)
    assert full is not None
    example = tokenize_chat(chat, tok, max_tokens=len(full.input_ids) // 2)
    assert example is not None and example.trimmed
    assert len(example.input_ids) <= len(full.input_ids) // 2
    text = tok.decode(example.input_ids)
    assert text.count(question) == 2
    assert ORACLE in text
    assert text.endswith(ANSWER + "<|im_end|>\n")
    assert " …" in text
    assert tok.decode([t for t in example.labels if t != IGNORE]) == ANSWER + "<|im_end|>\n"


def test_quoted_document_is_cut_only_when_the_others_are_empty() -> None:
    tok = ChatMLTokenizer()
    long_oracle = ORACLE + " " + " ".join(f"more{i}" for i in range(200))
    chat = _chat("When?", ["short distractor here", long_oracle], ANSWER)
    full = tokenize_chat(chat, tok, max_tokens=100_000)
    assert full is not None
    example = tokenize_chat(chat, tok, max_tokens=len(full.input_ids) - 100)
    assert example is not None
    text = tok.decode(example.input_ids)
    assert "short distractor" not in text
    assert "[1] …" in text


def test_example_that_cannot_fit_is_skipped_and_counted(tmp_path: Path) -> None:
    tok = ChatMLTokenizer()
    long_answer = " ".join(["answer"] * 200)
    chats = [_chat("q?", ["doc one"], long_answer), _chat("q?", ["doc two"], "short")]
    (tmp_path / "train.chat.jsonl").write_text("".join(json.dumps({"messages": c}) + "\n" for c in chats))
    examples, report = load_split(tmp_path, "train", tok, max_tokens=120)
    assert report.examples == 1 and len(examples) == 1
    assert sum(report.skipped.values()) == 1


def test_bad_line_is_an_error_naming_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "train.chat.jsonl"
    good = json.dumps({"messages": _chat("q?", ["doc"], "a")})
    path.write_text(good + "\n{not json\n")
    with pytest.raises(FinetuneError, match=r"train\.chat\.jsonl:2"):
        read_chats(path)
    path.write_text(good + "\n" + json.dumps({"messages": [{"role": "user", "content": "no answer"}]}) + "\n")
    with pytest.raises(FinetuneError, match=r"train\.chat\.jsonl:2: messages must"):
        read_chats(path)


def test_data_hash_follows_the_files(tmp_path: Path) -> None:
    with pytest.raises(FinetuneError, match="raft build"):
        data_hash(tmp_path)
    (tmp_path / "train.chat.jsonl").write_text("a\n")
    (tmp_path / "validation.chat.jsonl").write_text("b\n")
    first = data_hash(tmp_path)
    assert data_hash(tmp_path) == first
    (tmp_path / "validation.chat.jsonl").write_text("c\n")
    assert data_hash(tmp_path) != first


def test_final_start_marks_the_answer_after_its_tag_and_weighs_it() -> None:
    tok = ChatMLTokenizer()
    example = tokenize_chat(_chat("When was it first lit?", ["Bees make honey.", ORACLE], ANSWER), tok, 10_000)
    assert example is not None and example.final_start is not None
    assert tok.decode(example.input_ids[example.final_start:]) == " 14 March 1871<|im_end|>\n"
    weights = example.label_weights(3.0)
    first_answer = example.labels.index(next(t for t in example.labels if t != IGNORE))
    assert set(weights[:first_answer]) == {0.0}
    assert set(weights[first_answer:example.final_start]) == {1.0} and set(weights[example.final_start:]) == {3.0}
    final = len(example.input_ids) - example.final_start
    assert example.weighted_tokens(3.0) == example.answer_tokens + 2 * final
    assert example.weighted_tokens(1.0) == example.answer_tokens
    untagged = tokenize_chat(_chat("q?", [ORACLE], "It was 1871."), tok, 10_000)
    assert untagged is not None and untagged.final_start is None
    assert untagged.weighted_tokens(3.0) == untagged.answer_tokens


def test_answer_weight_must_be_positive() -> None:
    from localrag.tune.config import FinetuneConfig

    with pytest.raises(FinetuneError, match=r"answer weight \(--answer-weight\)"):
        FinetuneConfig(answer_weight=0)
    assert FinetuneConfig.from_json({"steps": 3}).answer_weight == 1.0  # a run.json from before the setting
