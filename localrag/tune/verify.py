"""Check that an exported GGUF behaves like the merged PyTorch model it was written from.

How it works. A handful of texts (validation-split conversations rendered with the model's chat
template, or fixed chat prompts when there is no data) are tokenized by the transformers tokenizer
and run teacher-forced through the merged model once; the argmax at every position is kept as the
reference. Each GGUF is then given the same token ids in llama.cpp with `logits_all=True`, and the
share of positions whose argmax agrees is the agreement. The same llama.cpp logits give the GGUF's
perplexity on those texts.

Why greedy top-1 agreement: it is what decides the tokens a user sees, it is insensitive to the
small absolute differences F16 rounding makes, and it collapses when something structural is wrong:
a q/k permutation slip, a tokenizer whose merges or special tokens differ, or a norm offset. The
llama.cpp tokenizer is also run on every text and compared with the transformers ids; a text whose
tokenization differs counts all its positions as disagreements, because a user's prompts would be
read differently by the exported model.

A tie is not a disagreement: where the merged model's best logits lie within `TIE_LOGITS` of each other,
the GGUF choosing any of them agrees. Any rounding flips such a position, and the texts share their chat
template's system prompt, so one tie there counted once per text: a 4-step LoRA of the bundled model
failed at 98.2 % on the fixed chats for a single position whose two best logits were 0.002 apart.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from localrag.cpu import worker_threads
from localrag.jsonl import read_jsonl
from localrag.tune.gguf_writer import ExportError

F16_AGREEMENT_MIN = 0.99
# Logits this close to the best are a tie (F16 rounding moves logits by about 0.01 here); a structural slip moves
# them by whole units and is not hidden by it.
TIE_LOGITS = 0.05
FIXED_CONVERSATIONS: tuple[tuple[str, str], ...] = (
    ("What is the capital of France?", "The capital of France is Paris, on the Seine."),
    ("Summarise why the sky looks blue.", "Sunlight scatters off air molecules, and blue light scatters most."),
    ("Give me two tips for writing clear emails.", "Put the request in the first line and keep it short."),
    ("How many days are there in a leap year?", "A leap year has 366 days; February has 29 of them."),
    ("Translate 'good morning' into German.", "'Good morning' in German is 'Guten Morgen'."),
    ("What does a compiler do?", "It translates source code into machine code that a computer can run."),
)


class ExportVerificationError(ExportError):
    title = "Export verification failed"


@dataclass
class Reference:
    """One text as the merged model sees it: token ids and the greedy prediction after each."""

    text: str
    ids: list[int]
    argmax: np.ndarray
    nll: float
    truncated: bool = False
    # position -> the tokens within TIE_LOGITS of the best there, only at positions with more than one.
    ties: dict[int, frozenset[int]] = field(default_factory=dict)

    def agreeing(self, predicted: np.ndarray) -> int:
        """How many positions' `predicted` token is the reference's best, or tied with it."""
        return sum(int(p) == int(a) or int(p) in self.ties.get(i, ()) for i, (p, a) in
                   enumerate(zip(predicted, self.argmax, strict=True)))


@dataclass
class VerifyResult:
    agreement: float
    perplexity: float | None
    positions: int
    prompts: int
    tokenizer_mismatches: int
    seconds: float
    reference_perplexity: float | None = None
    per_prompt: list[float] = field(default_factory=list)


def validation_conversations(data_dir: Path | None, *, limit: int = 8) -> list[list[dict[str, str]]]:
    """The first `limit` conversations of the validation split, if it holds any (a small set holds none out)."""
    conversations: list[list[dict[str, str]]] = []
    source = data_dir / "validation.chat.jsonl" if data_dir is not None else None
    if source is not None and source.is_file():
        for _, record in read_jsonl(source, error=ExportVerificationError):
            if len(conversations) >= limit:
                break
            if record.get("messages"):
                conversations.append(record["messages"])
    return conversations


def verification_texts(data_dir: Path | None, tokenizer: Any, *, limit: int = 8) -> list[str]:
    """Texts to compare on: validation conversations rendered with the chat template, else fixed chats."""
    conversations = validation_conversations(data_dir, limit=limit)
    if not conversations:
        conversations = [
            [{"role": "user", "content": q}, {"role": "assistant", "content": a}]
            for q, a in FIXED_CONVERSATIONS[:limit]
        ]
    return [str(tokenizer.apply_chat_template(m, tokenize=False)) for m in conversations]


def check_chat_template(gguf_path: Path, tokenizer: Any) -> None:
    """The GGUF must carry the tokenizer's chat template verbatim, or chats would be laid out differently."""
    from localrag.models import read_gguf_header

    expected = getattr(tokenizer, "chat_template", None) or ""
    found = read_gguf_header(gguf_path).chat_template
    if expected and found != expected:
        raise ExportVerificationError(
            f"{gguf_path.name}: the chat template differs from the tuned model's tokenizer",
            "the export would format conversations differently; report this with the base model used",
        )


def _log_softmax(logits: np.ndarray) -> np.ndarray:
    shifted = logits.astype(np.float64) - logits.max(axis=-1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))


def _nll(logits: np.ndarray, ids: Sequence[int]) -> float:
    """Summed negative log-likelihood of ids[1:] under the logits at positions [:-1]."""
    if len(ids) < 2:
        return 0.0
    logp = _log_softmax(logits[:-1])
    return float(-logp[np.arange(len(ids) - 1), np.asarray(ids[1:])].sum())


def reference_predictions(
    model: Any, tokenizer: Any, texts: Sequence[str], *, max_tokens: int = 256
) -> list[Reference]:
    """Run the merged model teacher-forced over each text (the last `max_tokens` tokens of it)."""
    import torch

    refs: list[Reference] = []
    model.eval()
    previous = torch.get_num_threads()
    torch.set_num_threads(worker_threads())
    try:
        with torch.no_grad():
            for text in texts:
                full = list(tokenizer(text)["input_ids"])
                ids = full[-max_tokens:]
                logits = model(torch.tensor([ids])).logits[0].float().numpy()
                truncated = len(full) > len(ids)
                refs.append(Reference(text, ids, logits.argmax(-1), _nll(logits, ids), truncated=truncated,
                                      ties=_ties(logits)))
    finally:
        torch.set_num_threads(previous)
    return refs


def _ties(logits: np.ndarray) -> dict[int, frozenset[int]]:
    near = logits >= logits.max(axis=-1, keepdims=True) - TIE_LOGITS
    return {int(i): frozenset(int(t) for t in np.nonzero(near[i])[0]) for i in np.nonzero(near.sum(axis=-1) > 1)[0]}


def _perplexity(nll: float, count: int) -> float | None:
    return math.exp(nll / count) if count else None


def check_gguf(
    gguf_path: Path, references: Sequence[Reference], *, min_agreement: float | None = None, label: str = "GGUF"
) -> VerifyResult:
    """Agreement and perplexity of `gguf_path` against the references; raises below `min_agreement`."""
    import llama_cpp

    start = time.monotonic()
    n_ctx = max(len(r.ids) for r in references) + 8
    threads = worker_threads()
    try:
        llm = llama_cpp.Llama(
            model_path=str(gguf_path),
            n_ctx=n_ctx,
            n_batch=n_ctx,
            logits_all=True,
            n_threads=threads,
            n_threads_batch=threads,
            verbose=False,
        )
    except ValueError as exc:
        raise ExportVerificationError(
            f"{gguf_path.name}: llama.cpp cannot load {label} ({exc})",
            "the file's metadata is incomplete for this architecture; report this with the base model used",
        ) from exc
    agree = positions = mismatches = 0
    nll = 0.0
    ref_nll = 0.0
    per_prompt: list[float] = []
    try:
        for ref in references:
            full = llm.tokenize(ref.text.encode("utf-8"), add_bos=True, special=True)
            same_tokens = (full[-len(ref.ids) :] if ref.truncated else full) == ref.ids
            llm.reset()
            llm.eval(ref.ids)
            scores = np.array(llm.scores[: len(ref.ids)], dtype=np.float32)
            hits = ref.agreeing(scores.argmax(-1)) if same_tokens else 0
            mismatches += 0 if same_tokens else 1
            agree += hits
            positions += len(ref.ids)
            per_prompt.append(hits / len(ref.ids))
            nll += _nll(scores, ref.ids)
            ref_nll += ref.nll
    finally:
        llm.close()
    predicted = sum(max(0, len(r.ids) - 1) for r in references)
    result = VerifyResult(
        agreement=agree / positions if positions else 0.0,
        perplexity=_perplexity(nll, predicted),
        positions=positions,
        prompts=len(references),
        tokenizer_mismatches=mismatches,
        seconds=time.monotonic() - start,
        reference_perplexity=_perplexity(ref_nll, predicted),
        per_prompt=per_prompt,
    )
    if min_agreement is not None and result.agreement < min_agreement:
        cause = (
            f"{mismatches} of {len(references)} texts tokenize differently in llama.cpp (tokenizer metadata)"
            if mismatches
            else "the weights differ (q/k permutation, norm offset or tensor mapping)"
        )
        raise ExportVerificationError(
            f"{gguf_path.name}: {label} agrees with the merged model on {result.agreement:.1%} of next tokens, "
            f"below {min_agreement:.0%}; likely {cause}",
            "the export would answer differently from the tuned model; report this with the base model used",
        )
    return result
