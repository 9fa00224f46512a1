"""The verify stage of `localrag tune`: the exported model, as a user will touch it.

It is listed by `list_models` with its card, loads in llama.cpp, and answers one held-out question
of the RAFT set; the reply is judged like any answer (RAFT format present, quotes verified against
the documents it was shown), and its figures go into the chain's record. As in `ask`, a reply that
begins repeating itself is ended there (`localrag.answer.repeats`).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from localrag.jsonl import read_jsonl
from localrag.tune.runs import TuneError

if TYPE_CHECKING:
    from localrag.generate import Generator

# The answer: long enough for a quote and the <ANSWER>: line, short enough to be quick.
VERIFY_MAX_TOKENS = 160


def held_out_example(raft_dir: Path) -> Any:
    """The first test example of the RAFT set (else validation, else train), as a RaftExample."""
    from localrag.raft.dataset import RaftExample

    path = raft_dir / "examples.jsonl"
    examples = [RaftExample.from_json(record) for _, record in read_jsonl(path, error=TuneError)]
    for split in ("test", "validation", "train"):
        for example in examples:
            if example.split == split:
                return example
    raise TuneError(f"{path} holds no examples", "rebuild the RAFT set with `localrag tune --restart`")


def smoke_test(
    model_path: Path,
    raft_dir: Path,
    models_dir: Path,
    *,
    generator_factory: Callable[[Path], Generator] | None = None,
    n_threads: int = 0,
) -> dict[str, Any]:
    """Listed with its card, loads in llama.cpp, answers a RAFT question (held out, unless the set has none): the
    reply's figures, and the question's split."""
    from localrag.answer import finish_answer, split_raft_answer
    from localrag.answer.repeats import until_repeating
    from localrag.models import list_models
    from localrag.raft.dataset import chat_messages
    from localrag.types import GenerationStats, Hit, QuoteStatus

    listed = [m for m in list_models(models_dir) if m.path.resolve() == model_path.resolve()]
    if not listed or listed[0].error:
        why = listed[0].error if listed else "not listed"
        raise TuneError(f"{model_path}: the exported model is not usable ({why})", "run the export again with --force")
    if not listed[0].card or "error" in listed[0].card:
        raise TuneError(
            f"{model_path.with_suffix('.json')}: the model card is missing or unreadable",
            "run the export again with --force",
        )
    example = held_out_example(raft_dir)
    if generator_factory is None:
        from localrag.generate import LlamaGenerator

        generator: Generator = LlamaGenerator(model_path, n_ctx=4096, n_threads=n_threads)
    else:
        generator = generator_factory(model_path)
    stats = GenerationStats()
    messages = chat_messages(example)[:2]
    stream = generator.stream_chat(messages, max_tokens=VERIFY_MAX_TOKENS, temperature=0.0, stats=stats)
    try:
        reply, stats.stopped_repeating = until_repeating(stream)
    finally:
        # A generator left suspended holds the model's lock until it is collected.
        if inspect.isgenerator(stream):
            stream.close()
    hits = [Hit(chunk, 0.0) for chunk in example.documents]
    answer = finish_answer(example.question, reply, hits, stats, model_path.stem)
    return {
        "question": example.question,
        "split": example.split,
        "gold": example.answer,
        "reply": answer.text,
        "stopped_repeating": stats.stopped_repeating,
        "answer_tag": split_raft_answer(answer.raw_text) is not None,
        "quotes": len(answer.quotes),
        "quotes_verified": sum(q.status is QuoteStatus.VERIFIED for q in answer.quotes),
        "tokens_per_second": round(stats.tokens_per_second, 1),
    }
