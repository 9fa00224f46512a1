"""Generation overhead of localrag's llama.cpp path against llama-cpp-python used directly.

    .venv/bin/python benchmarks/bench_generation.py [--quick] [--threads N] [--repeats N]

Both sides load the bundled SmolLM2-135M GGUF with the same context, threads and batch size and
decode greedily (temperature 0, no repeat penalty) from the same chat messages: a RAG prompt of
four numbered sources and a question, built by `build_messages`. The two runs of each repeat are
interleaved and the prompt cache is cleared before every run, so both read the full prompt; the
table reports medians.

(1) decoding speed: `LlamaGenerator.stream_chat` tokens/s over the tokens/s of
`Llama.create_chat_completion(stream=True)` over the same continuation (goal >= 0.95). Tokens/s
is counted from the first streamed piece to the last, so prompt reading is left out.
(2) overhead before the first token: the time from calling the answer path (build_messages +
stream_chat) to its first piece, minus the time llama.cpp itself needs to read the same prompt
tokens and sample the first token (`Llama.generate`, nothing else); goal <= 50 ms. On a busy
machine the difference of two multi-second timings is noisier than the overhead itself, so the
overhead is also timed directly: build_messages plus the render and tokenization stream_chat does
before llama.cpp starts reading (median of 100). Retrieval is not included (the engine benchmark
adds it).
`--quick`: 3 repeats and 48 new tokens instead of 7 and 96.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from localrag.answer import build_messages  # noqa: E402
from localrag.generate import LlamaGenerator  # noqa: E402
from localrag.models import bundled_generator_path  # noqa: E402
from localrag.types import Chunk, GenerationStats, Hit  # noqa: E402

N_CTX = 2048
SOURCES = [
    (
        "lighthouse.md",
        "The Skerry Point lighthouse stands on a basalt reef two miles off the coast. It was first lit on "
        "14 March 1871, after six years of construction. The tower is 38 metres tall and its light can be "
        "seen from 24 nautical miles. Three keepers lived on the reef in shifts of six weeks until the light "
        "was automated in 1987.",
    ),
    (
        "keepers.md",
        "The keepers kept a log of every ship that passed the reef, the weather at each watch and the oil "
        "burned by the lamp. The logs from 1871 to 1987 are kept in the harbour museum, where visitors can "
        "read them on Saturdays.",
    ),
    (
        "harbour.md",
        "The harbour museum opened in 1964 in the old customs house. Its collection includes the original "
        "lens of the Skerry Point light, a first-order Fresnel lens made in Paris in 1869.",
    ),
    (
        "storms.md",
        "The worst storm on record struck the coast in January 1953, when waves broke over the lantern "
        "room of the lighthouse. The keepers kept the light burning through the night.",
    ),
]
QUESTION = "Tell me everything the sources say about the Skerry Point lighthouse and its keepers."


def make_hits() -> list[Hit]:
    hits = []
    for rank, (name, text) in enumerate(SOURCES, start=1):
        chunk = Chunk(f"c{rank}", f"d{rank}", f"/docs/{name}", 0, text, 0, len(text))
        hits.append(Hit(chunk=chunk, score=1.0 / rank))
    return hits


def time_raw_chat(llama: object, messages: list[dict[str, str]], max_tokens: int) -> tuple[float, float, int, str]:
    """(seconds to first piece, decode tokens/s, pieces, text) for create_chat_completion(stream=True)."""
    llama.reset()  # type: ignore[attr-defined]
    started = time.perf_counter()
    first = 0.0
    pieces: list[str] = []
    stream = llama.create_chat_completion(  # type: ignore[attr-defined]
        messages, stream=True, temperature=0.0, repeat_penalty=1.0, max_tokens=max_tokens
    )
    for chunk in stream:
        content = chunk["choices"][0]["delta"].get("content")
        if content:
            if not pieces:
                first = time.perf_counter()
            pieces.append(content)
    end = time.perf_counter()
    return first - started, (len(pieces) - 1) / (end - first), len(pieces), "".join(pieces)


def time_ours(generator: LlamaGenerator, hits: list[Hit], max_tokens: int) -> tuple[float, float, float, int, str, int]:
    """(seconds to first piece, of which build_messages, decode tokens/s, pieces, text, prompt tokens)."""
    generator.forget_prompt_cache()
    started = time.perf_counter()
    messages, _ = build_messages(QUESTION, hits, generator, max_answer_tokens=max_tokens)
    built = time.perf_counter()
    stats = GenerationStats()
    first = 0.0
    pieces: list[str] = []
    for piece in generator.stream_chat(messages, max_tokens=max_tokens, stats=stats):
        if not pieces:
            first = time.perf_counter()
        pieces.append(piece)
    end = time.perf_counter()
    rate = (len(pieces) - 1) / (end - first)
    return first - started, built - started, rate, len(pieces), "".join(pieces), stats.prompt_tokens


def time_prompt_eval(llama: object, prompt: list[int]) -> float:
    """Seconds llama.cpp needs to read `prompt` from scratch and sample the first token."""
    llama.reset()  # type: ignore[attr-defined]
    started = time.perf_counter()
    tokens = llama.generate(prompt, temp=0.0)  # type: ignore[attr-defined]
    next(tokens)
    elapsed = time.perf_counter() - started
    tokens.close()
    return elapsed


def time_preparation(generator: LlamaGenerator, hits: list[Hit], max_tokens: int, runs: int) -> float:
    """Median seconds of the work our path adds before llama.cpp reads the prompt: build_messages, then
    the template render and tokenization that stream_chat does (`prompt_tokens` is exactly that)."""
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        messages, _ = build_messages(QUESTION, hits, generator, max_answer_tokens=max_tokens)
        generator.prompt_tokens(messages)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="3 repeats, 48 new tokens")
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--repeats", type=int, default=0, help="override the number of repeats")
    args = parser.parse_args()
    repeats = args.repeats or (3 if args.quick else 7)
    max_tokens = 48 if args.quick else 96

    import llama_cpp

    path = bundled_generator_path()
    generator = LlamaGenerator(path, n_ctx=N_CTX, n_threads=args.threads)
    raw = llama_cpp.Llama(str(path), n_ctx=N_CTX, n_threads=args.threads, n_threads_batch=args.threads, verbose=False)
    hits = make_hits()
    messages, used = build_messages(QUESTION, hits, generator, max_answer_tokens=max_tokens)
    prompt_ids = raw.tokenize(generator.render(messages).encode(), add_bos=False, special=True)
    # Warm both (page in the weights, build the graph) before timing anything.
    time_raw_chat(raw, messages, 8)
    time_ours(generator, hits, 8)

    raw_ttft, raw_rate, raw_eval_s, eval_s, our_ttft, build_s, our_rate = [], [], [], [], [], [], []
    texts: set[str] = set()
    pieces = prompt_tokens = 0
    for _ in range(repeats):
        ttft, rate, pieces, raw_text = time_raw_chat(raw, messages, max_tokens)
        raw_ttft.append(ttft)
        raw_rate.append(rate)
        raw_eval_s.append(time_prompt_eval(raw, prompt_ids))
        # Our generator holds its own Llama; read the prompt on that one, just before our run, so
        # both sides of the subtraction run on the same weights in the same cache state.
        eval_s.append(time_prompt_eval(generator._load(), prompt_ids))
        ttft, built, rate, _, text, prompt_tokens = time_ours(generator, hits, max_tokens)
        our_ttft.append(ttft)
        build_s.append(built)
        our_rate.append(rate)
        texts.update((raw_text, text))

    med = statistics.median
    preparation_ms = time_preparation(generator, hits, max_tokens, 100) * 1000
    overhead_ms = (med(our_ttft) - med(eval_s)) * 1000
    ratio = med(our_rate) / med(raw_rate)
    from llama_cpp.llama_chat_format import Jinja2ChatFormatter

    eos, bos = raw.detokenize([raw.token_eos()], special=True), raw.detokenize([raw.token_bos()], special=True)
    raw_prompt = Jinja2ChatFormatter(raw.metadata["tokenizer.chat_template"], eos.decode(), bos.decode())(
        messages=messages
    ).prompt
    print(
        f"model {path.name}, threads {args.threads}, n_ctx {N_CTX}, {len(used)} sources, prompt "
        f"{prompt_tokens} tokens, {pieces} pieces generated, {repeats} repeats, median shown"
    )
    print(
        f"llama-cpp-python picks chat format {raw.chat_format!r}; its prompt equals ours: "
        f"{raw_prompt == generator.render(messages)}; both paths wrote the same text: {len(texts) == 1}"
    )
    rows = [
        ("decode tokens/s, llama-cpp-python create_chat_completion", f"{med(raw_rate):.1f}", ""),
        ("decode tokens/s, LlamaGenerator.stream_chat", f"{med(our_rate):.1f}", ""),
        ("(1) ratio ours / raw", f"{ratio:.3f}", ">= 0.95"),
        ("prompt read + first token, llama.cpp only, raw's Llama (ms)", f"{med(raw_eval_s) * 1000:.1f}", ""),
        ("prompt read + first token, llama.cpp only, our Llama (ms)", f"{med(eval_s) * 1000:.1f}", ""),
        ("time to first token, raw create_chat_completion (ms)", f"{med(raw_ttft) * 1000:.1f}", ""),
        ("time to first token, build_messages + stream_chat (ms)", f"{med(our_ttft) * 1000:.1f}", ""),
        ("  of which build_messages (ms)", f"{med(build_s) * 1000:.1f}", ""),
        ("(2) overhead before first token: ours - llama.cpp only (ms)", f"{overhead_ms:.1f}", "<= 50"),
        ("(2) the same measured directly: build + render + tokenize (ms)", f"{preparation_ms:.1f}", "<= 50"),
    ]
    width = max(len(r[0]) for r in rows)
    print(f"{'measure':<{width}}  {'value':>9}  goal")
    for name, value, goal in rows:
        print(f"{name:<{width}}  {value:>9}  {goal}")


if __name__ == "__main__":
    main()
