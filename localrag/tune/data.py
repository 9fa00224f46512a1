"""RAFT chat records -> token ids and labels, rendered exactly as llama.cpp will see them at answer time.

Each record of `train.chat.jsonl` / `validation.chat.jsonl` (from `build_raft`) is a chat: system,
user (question + numbered documents + question again) and the assistant's quoted chain of thought.
The prompt is the tokenizer's chat template (for a GGUF base, the template stored in the GGUF, the same
one `LlamaGenerator` renders) applied to every turn but the last with the generation cue; the answer is
what the full chat adds after that prompt (the assistant text and its end-of-turn marker, so the model
learns to stop). Message text goes through `neutralize_special_tokens` as it does at answer time, and
prompt and answer are tokenized separately, with no BOS added beyond what the template writes, because
llama.cpp tokenizes the rendered prompt alone and generates from there: the training prompt ids are
the answer-time ids.

Token ids: for a GGUF base they come from llama.cpp's own tokenizer (`gguf_encoder`, the vocabulary
alone is loaded), because transformers' GGUF tokenizer conversion is not exact: for SmolLM2 it drops
the digit-splitting pre-tokenizer step, so a newline and two spaces before "30" tokenize differently
than in llama.cpp, and the model would train on token sequences it never sees at answer time. For a
Hugging Face folder base the folder's own tokenizer is the reference.

Labels are -100 (ignored by the loss) on every prompt token, so the loss is on the answer alone.
`final_start` marks where the final answer (the text after `<ANSWER>:`) begins, so the loss can weigh
it above the quote before it (FinetuneConfig.answer_weight).

Too long for `max_tokens`? Document text goes first, never the answer or the question: the documents
the answer does not quote are cut from their ends (longest first), then, only if that is not enough,
the quoted ones, each cut at a word boundary and marked with " …". An example that still does not fit
with every document emptied is skipped and counted. A malformed line is an error naming file:line,
since a RAFT folder is machine-written and a bad line means it is damaged, not that one example is odd.
"""

from __future__ import annotations

import hashlib
import logging
import math
import re
import weakref
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from localrag.generate import neutralize_special_tokens
from localrag.jsonl import read_jsonl
from localrag.raft.dataset import ANSWER_TAG, BEGIN_QUOTE, END_QUOTE
from localrag.tune.config import FinetuneError

IGNORE = -100
DATA_FILES = ("train.chat.jsonl", "validation.chat.jsonl")

# The answer-time user turn (localrag.answer.prompt): documents sit between these two markers, each
# starting a line with "[n] "; the prompt module defuses such line starts inside document text.
_DOCS_START = "Documents:\n\n"
_DOCS_END = "\n\nQuestion again:"
_BLOCK = re.compile(r"(?m)^\[\d+\] ")
_QUOTE = re.compile(re.escape(BEGIN_QUOTE) + r"(.*?)" + re.escape(END_QUOTE), re.DOTALL)
_CUT = " …"

Encoder = Callable[[str], list[int]]


@dataclass
class TokenizedExample:
    input_ids: list[int]
    labels: list[int]
    trimmed: bool = False
    # Index of the first token after `<ANSWER>:` (the final answer); None when the reply has no tag.
    final_start: int | None = None

    @property
    def answer_tokens(self) -> int:
        # Tokens the loss sees after the one-position shift of next-token prediction.
        return sum(1 for label in self.labels[1:] if label != IGNORE)

    def label_weights(self, answer_weight: float) -> list[float]:
        """Per-position loss weight: `answer_weight` from the final answer on, 1 before it (0 where ignored)."""
        start = len(self.labels) if self.final_start is None else self.final_start
        return [0.0 if label == IGNORE else (answer_weight if i >= start else 1.0)
                for i, label in enumerate(self.labels)]

    def weighted_tokens(self, answer_weight: float) -> float:
        """The sum of the loss weights the loss sees (after the next-token shift): its normaliser."""
        return sum(self.label_weights(answer_weight)[1:])


@dataclass
class DataReport:
    examples: int = 0
    trimmed: int = 0
    skipped: Counter[str] = field(default_factory=Counter)


def read_chats(path: Path) -> list[list[dict[str, str]]]:
    """The chats of a `*.chat.jsonl` file; FinetuneError naming file:line for a bad line."""
    path = Path(path)
    if not path.is_file():
        raise FinetuneError(f"{path}: no such training file", "run `localrag raft build` to make the RAFT folder")
    chats: list[list[dict[str, str]]] = []
    rebuild = "rebuild the RAFT folder with `localrag raft build`"
    for number, record in read_jsonl(path, error=FinetuneError, hint=rebuild):
        messages = record.get("messages")
        if messages is None:
            raise FinetuneError(f'{path}:{number}: not a JSON record with "messages"', rebuild)
        valid = (
            isinstance(messages, list)
            and len(messages) >= 2
            and all(
                isinstance(m, dict) and isinstance(m.get("role"), str) and isinstance(m.get("content"), str)
                for m in messages
            )
        )
        if not valid or messages[-1]["role"] != "assistant":
            raise FinetuneError(
                f"{path}:{number}: messages must be role/content turns ending with the assistant",
                rebuild,
            )
        chats.append([{"role": m["role"], "content": m["content"]} for m in messages])
    return chats


def data_hash(data_dir: Path) -> str:
    """sha256 over the training and validation files: a run is tied to exactly this data."""
    digest = hashlib.sha256()
    for name in DATA_FILES:
        file = Path(data_dir) / name
        if not file.is_file():
            raise FinetuneError(
                f"{file}: no such training file", "point --data at a folder made by `localrag raft build`"
            )
        digest.update(name.encode() + b"\x00")
        with file.open("rb") as f:
            digest.update(hashlib.file_digest(f, "sha256").digest())
    return digest.hexdigest()


def render(messages: Sequence[dict[str, str]], tokenizer: Any) -> tuple[str, str]:
    """(prompt, answer) text: the prompt llama.cpp reads at answer time, and what the model must write."""
    safe = [{"role": m["role"], "content": neutralize_special_tokens(m["content"])} for m in messages]
    prompt = tokenizer.apply_chat_template(safe[:-1], tokenize=False, add_generation_prompt=True)
    full = tokenizer.apply_chat_template(safe, tokenize=False, add_generation_prompt=False)
    if not full.startswith(prompt):
        raise FinetuneError(
            "the model's chat template renders a chat that does not extend its own prompt",
            "fine-tune a model with a standard chat template (ChatML, Llama 3, Gemma, Mistral)",
        )
    return prompt, full[len(prompt) :]


def hf_encoder(tokenizer: Any) -> Encoder:
    """Encode rendered chat text with a Hugging Face tokenizer: template markers as control tokens, no BOS added."""
    return lambda text: list(tokenizer(text, add_special_tokens=False)["input_ids"])


def gguf_encoder(path: Path) -> Encoder:
    """Encode rendered chat text exactly as `LlamaGenerator` does, with the GGUF's own vocabulary.

    Through llama.cpp's C API, not `Llama(vocab_only=True)`: that also makes a context, which warns of a
    "possible training context overflow" (a vocabulary has no training context) in the middle of `tune`.
    """
    import llama_cpp

    # Model loading logs at warning level and up only, as `Llama(verbose=False)` has it.
    logging.getLogger("llama-cpp-python").setLevel(logging.ERROR)
    params = llama_cpp.llama_model_default_params()
    params.vocab_only = True
    model = llama_cpp.llama_model_load_from_file(str(path).encode(), params)
    if not model:
        raise FinetuneError(
            f"{path}: llama.cpp could not read the GGUF's vocabulary", "check that it is a complete GGUF file"
        )
    vocab = llama_cpp.llama_model_get_vocab(model)

    def encode(text: str) -> list[int]:
        data = text.encode("utf-8")
        room = len(data) + 2  # a token is at least one byte, plus what the vocabulary may add
        tokens = (llama_cpp.llama_token * room)()
        n = llama_cpp.llama_tokenize(vocab, data, len(data), tokens, room, False, True)
        if n < 0:  # too little room: llama.cpp says how much it needs
            tokens = (llama_cpp.llama_token * -n)()
            n = llama_cpp.llama_tokenize(vocab, data, len(data), tokens, -n, False, True)
        return list(tokens[:n])

    weakref.finalize(encode, llama_cpp.llama_model_free, model)
    return encode


def _split_documents(user: str) -> tuple[str, list[str], str] | None:
    start = user.find(_DOCS_START)
    end = user.rfind(_DOCS_END)
    if start < 0 or end < start:
        return None
    body = user[start + len(_DOCS_START) : end]
    starts = [m.start() for m in _BLOCK.finditer(body)]
    if not starts or starts[0] != 0:
        return None
    blocks = [body[a:b].removesuffix("\n\n") for a, b in zip(starts, [*starts[1:], len(body)], strict=True)]
    return user[: start + len(_DOCS_START)], blocks, user[end:]


def _body(block: str) -> tuple[str, str]:
    """("[n] ", the document text without an earlier cut mark)."""
    label_end = block.index(" ") + 1
    return block[:label_end], block[label_end:].removesuffix(_CUT).removesuffix(_CUT.strip())


def _text_length(block: str) -> int:
    return len(_body(block)[1].strip())


def _cut_block(block: str, chars: int) -> str:
    """The block shortened by about `chars` characters at a word boundary, its "[n] " label kept."""
    label, text = _body(block)
    keep = max(0, len(text) - chars)
    kept = text[:keep].rsplit(" ", 1)[0].rstrip() if keep else ""
    return label + (kept + _CUT if kept else _CUT.strip())


def tokenize_chat(
    messages: Sequence[dict[str, str]], tokenizer: Any, max_tokens: int, encode: Encoder | None = None
) -> TokenizedExample | None:
    """Token ids and answer-only labels for one chat, trimmed to `max_tokens`; None if it cannot fit.

    `tokenizer` renders the chat template; `encode` (default: the same tokenizer) turns text into ids.
    """
    encode = encode or hf_encoder(tokenizer)
    prompt, answer = render(messages, tokenizer)
    answer_ids = encode(answer)
    prompt_ids = encode(prompt)
    trimmed = len(prompt_ids) + len(answer_ids) > max_tokens
    if trimmed:
        shorter = _trim(list(messages), tokenizer, encode, max_tokens - len(answer_ids), len(prompt_ids))
        if shorter is None:
            return None
        prompt_ids = shorter
    tag = answer.find(ANSWER_TAG)
    final_start = None
    if tag >= 0:
        # The text up to the tag's end is a prefix of answer_ids (BPE splits before the space RAFT writes
        # after the tag); where the tag's last token merges with what follows, the merged token counts as answer.
        head = encode(answer[: tag + len(ANSWER_TAG)])
        shared = next((i for i, (a, b) in enumerate(zip(head, answer_ids, strict=False)) if a != b), len(head))
        final_start = len(prompt_ids) + shared
    return TokenizedExample(prompt_ids + answer_ids, [IGNORE] * len(prompt_ids) + answer_ids, trimmed=trimmed,
                            final_start=final_start)


def _trim(
    messages: list[dict[str, str]], tokenizer: Any, encode: Encoder, budget: int, prompt_tokens: int
) -> list[int] | None:
    """Prompt ids within `budget` after cutting document text (see the module docstring), or None."""
    if budget < 1:
        return None
    user_index = max((i for i, m in enumerate(messages[:-1]) if m["role"] == "user"), default=None)
    if user_index is None:
        return None
    parts = _split_documents(messages[user_index]["content"])
    if parts is None:
        return None
    head, blocks, tail = parts
    quotes = [q.strip() for q in _QUOTE.findall(messages[-1]["content"]) if q.strip()]
    quoted = [any(q in block for q in quotes) for block in blocks]
    chars_per_token = max(1.0, len(messages[user_index]["content"]) / max(1, prompt_tokens))
    tokens = prompt_tokens
    while tokens > budget:
        # Unquoted documents first, and among them the longest: it has the most text to spare.
        candidates = [i for i, block in enumerate(blocks) if _text_length(block) > 0]
        if not candidates:
            return None
        target = max(candidates, key=lambda i: (not quoted[i], len(blocks[i])))
        chars = max(16, math.ceil((tokens - budget) * chars_per_token * 1.1))
        blocks[target] = _cut_block(blocks[target], chars)
        content = head + "\n\n".join(blocks) + tail
        trial = [*messages[:user_index], {**messages[user_index], "content": content}, *messages[user_index + 1 :]]
        prompt, _ = render(trial, tokenizer)
        ids = encode(prompt)
        tokens = len(ids)
        if tokens <= budget:
            return ids
    return None


def load_split(
    data_dir: Path, split: str, tokenizer: Any, max_tokens: int, encode: Encoder | None = None
) -> tuple[list[TokenizedExample], DataReport]:
    """Every chat of `data_dir/SPLIT.chat.jsonl`, tokenized; too-long ones skipped and counted."""
    report = DataReport()
    examples: list[TokenizedExample] = []
    for chat in read_chats(Path(data_dir) / f"{split}.chat.jsonl"):
        example = tokenize_chat(chat, tokenizer, max_tokens, encode)
        if example is None:
            report.skipped["question and answer alone exceed max_tokens"] += 1
            continue
        report.trimmed += example.trimmed
        examples.append(example)
    report.examples = len(examples)
    return examples, report
