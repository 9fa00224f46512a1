"""Text generation: the Generator protocol and its llama.cpp implementation.

`LlamaGenerator` renders a chat with the GGUF's own Jinja chat template (the one stored under
`tokenizer.chat_template`), tokenizes the rendered prompt once, and streams a completion of exactly
those tokens. Rendering here rather than inside `create_chat_completion` matters for three reasons:
the prompt that is counted against the context window is the prompt that runs, a GGUF without a
template falls back to ChatML with a warning instead of llama-cpp-python's silent "llama-2" default,
and the rendered text can be inspected in tests (`render`). A template that refuses a system turn
(Gemma-2's) gets the system prompt at the head of the first user turn, as llama.cpp and Ollama give it.

The model file is checked with `read_gguf_header` in the constructor, so a wrong or truncated file
fails with a one-line ModelError before llama.cpp sees it. The weights load on first use, under a
lock, with llama.cpp's logging turned down to errors. Generation holds a second lock for the whole
stream because a llama.cpp context is single-threaded; tokenization only reads the vocabulary and
does not wait for a running answer, so a TUI can build the next prompt while one streams.

The decode loop drives `Llama.generate` (token by token) itself rather than going through
`create_completion`: it counts exactly the tokens it emits (the end-of-turn token excluded), checks
the cancel event between tokens so a cancelled answer stops within one token, decodes UTF-8
incrementally so a character split across tokens is never printed half, and holds back only the
few characters that could still become a stop string. `Llama.generate` keeps the KV cache of the
longest prefix the new prompt shares with the last one, so the system prompt and a follow-up's
history are not read again.
"""

from __future__ import annotations

import atexit
import codecs
import re
import sys
import threading
import time
import warnings
import weakref
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, Protocol

from localrag.cpu import usable_cores, worker_threads
from localrag.errors import ModelError
from localrag.models import read_gguf_header
from localrag.thinking import TEMPLATE_VARIABLES, ThoughtFilter, closed_thinking, held_back
from localrag.types import GenerationStats

# Used only when a GGUF carries no template; ChatML is what most small instruct models were tuned on.
# Prompts are tokenized without BOS (a template places it), so the fallback places it too; `bos_token`
# is empty for a model whose vocabulary does not start a text with BOS.
CHATML_TEMPLATE = (
    "{{ bos_token }}"
    "{% for message in messages %}"
    "{{ '<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>\n' }}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"
)
# A model without ChatML's markers in its vocabulary (gemma) writes them as plain text at the end of
# its turn and runs on into a made-up next turn: under the fallback they end the reply.
CHATML_STOPS = ("<|im_end|>", "<|im_start|>")

# Control-token look-alikes (<|im_end|>, <|eot_id|>, </s>, [INST]) in message text would be parsed as
# real control tokens when the rendered prompt is tokenized, letting a document end its own turn.
_SPECIAL_LIKE = re.compile(r"<\|[^<>|\s]{1,40}\|>|</?s>|\[/?INST\]", re.IGNORECASE)

# With `n_threads` 0 an answer runs on the cores free when it starts (`cpu.worker_threads`), not on all of
# them: llama.cpp's threads spin at a barrier after every layer, so beside one busy core two threads decoded
# a tenth as fast as one, or less (benchmarks/README.md, "Answers beside other work"). The check samples the
# CPU this long, counting the other threads of this process (an ingest in the chat app) as neighbours, and
# holds for THREADS_RECHECK_S so that a graph build's or an evaluation's many short calls do not each wait.
THREADS_SAMPLE_S = 0.1
THREADS_RECHECK_S = 5.0

# Sampling defaults of llama.cpp's own chat completion; temperature 0 turns them into greedy decoding.
# A chat template is code from the model file: rendering is bounded in time (nested loops) and in
# what it may add around the messages (a real template adds a few hundred characters).
RENDER_SECONDS = 5.0
RENDER_EXTRA_CHARS = 100_000


class _TemplateTimeout(Exception):
    pass


def _system_in_user_turns(messages: list[dict[str, str]]) -> list[dict[str, str]]:
    """The chat with each system message put at the head of the user turn after it (a user turn of its own where
    none follows), for a template that has no system role."""
    out: list[dict[str, str]] = []
    pending: list[str] = []
    for message in messages:
        if message["role"] == "system":
            pending.append(message["content"])
            continue
        if pending and message["role"] == "user":
            message = {**message, "content": "\n\n".join([*pending, message["content"]])}
        elif pending:
            out.append({"role": "user", "content": "\n\n".join(pending)})
        pending = []
        out.append(message)
    if pending:
        out.append({"role": "user", "content": "\n\n".join(pending)})
    return out


def _within(seconds: float, work: Callable[[], Any]) -> Any:
    """Run `work` in this thread, raising _TemplateTimeout once it has run `seconds`.

    Jinja compiles a template to Python, so a trace function sees every line it runs and can stop
    it; a thread or a signal could not (a signal works in the main thread only).
    """
    deadline = time.monotonic() + seconds

    def tracer(frame: Any, event: str, arg: Any) -> Any:
        if time.monotonic() > deadline:
            raise _TemplateTimeout
        return tracer

    previous = sys.gettrace()
    sys.settrace(tracer)
    try:
        return work()
    finally:
        sys.settrace(previous)


GRAMMAR_CACHE = 32  # compiled grammars kept; see LlamaGenerator._grammar

_TOP_K = 40
_TOP_P = 0.95
_MIN_P = 0.05
# Repeating a source's words is the point of a grounded answer, so no repeat penalty.
_REPEAT_PENALTY = 1.0


def _split_at_stops(pending: str, stops: Sequence[str]) -> tuple[str, str, bool]:
    """(text to keep waiting on, text safe to emit, whether a stop string was reached)."""
    cuts = [i for i in (pending.find(s) for s in stops) if i >= 0]
    if cuts:
        return "", pending[: min(cuts)], True
    # Hold back a tail that could still grow into a stop string, so a stop never leaks half-printed.
    hold = max((held_back(pending, s) for s in stops), default=0)
    return pending[len(pending) - hold :], pending[: len(pending) - hold], False


def neutralize_special_tokens(text: str) -> str:
    """Break control-token look-alikes so they tokenize as plain text, not as chat structure."""
    return _SPECIAL_LIKE.sub(lambda m: m.group(0)[0] + "\u200b" + m.group(0)[1:], text)


class Generator(Protocol):
    name: str
    n_ctx: int

    def count_tokens(self, text: str) -> int: ...

    def prompt_tokens(self, messages: list[dict[str, str]]) -> int:
        """Tokens of the chat prompt as the model's template renders it (with the assistant cue)."""
        ...

    def stream_chat(
        self,
        messages: list[dict[str, str]],
        *,
        max_tokens: int,
        temperature: float = 0.0,
        stop: Sequence[str] = (),
        grammar: str | None = None,
        cancel: threading.Event | None = None,
        stats: GenerationStats | None = None,
    ) -> Iterator[str]: ...

    def complete(
        self,
        messages: list[dict[str, str]],
        *,
        max_tokens: int,
        temperature: float = 0.0,
        stop: Sequence[str] = (),
        grammar: str | None = None,
        cancel: threading.Event | None = None,
        stats: GenerationStats | None = None,
    ) -> str: ...


def gpu_offload_supported() -> bool:
    """Whether this llama.cpp build can put layers on a GPU (False for the portable CPU build)."""
    import llama_cpp

    return bool(llama_cpp.llama_supports_gpu_offload())


def _token_text(llama: Any, token: int) -> str:
    if token < 0:
        return ""
    return bytes(llama.detokenize([token], special=True)).decode("utf-8", errors="replace")


def _close_at_exit(generator: weakref.ref[LlamaGenerator]) -> None:
    """Close a llama.cpp model still loaded as the interpreter ends, unless it is answering: freed under a thread
    still generating (a second Ctrl-C runs the exit functions while the work's thread goes on), it crashed the
    process (SIGSEGV)."""
    loaded = generator()
    if loaded is None or loaded._llama is None or not loaded._generate_lock.acquire(blocking=False):
        return
    try:
        loaded._llama.close()
    finally:
        loaded._generate_lock.release()


class LlamaGenerator:
    """A local GGUF model run by llama-cpp-python; see the module docstring."""

    def __init__(
        self,
        path: Path,
        *,
        n_ctx: int = 2048,
        n_threads: int = 0,
        n_gpu_layers: int = -1,
        seed: int = 0,
    ) -> None:
        self.path = Path(path)
        self.header = read_gguf_header(self.path)
        self.name = self.path.stem
        trained = self.header.context_length
        # Beyond the trained length RoPE extrapolates and a small model's output degrades to noise.
        self.n_ctx = min(n_ctx, trained) if trained > 0 else n_ctx
        self.trained_ctx = trained  # 0: the file does not say
        # More threads than the CPUs this process may run on only take turns on them, spin-waiting: 1,024 on two
        # cores gave no answer in a minute.
        self.n_threads = min(n_threads, usable_cores()) if n_threads else usable_cores()
        self._free_cores = n_threads == 0
        self._threads_in_use = self.n_threads
        self._threads_checked = -THREADS_RECHECK_S
        self.n_gpu_layers = n_gpu_layers
        self.seed = seed
        self.template = self.header.chat_template
        if not self.template:
            warnings.warn(
                f"{self.path}: the GGUF has no chat template; using ChatML, answers may be poor",
                stacklevel=2,
            )
            self.template = CHATML_TEMPLATE
        self._template_stops: tuple[str, ...] = () if self.header.chat_template else CHATML_STOPS
        self._llama: Any = None
        self._formatter: Any = None
        self._fold_system = False  # the template refuses a system turn (see _render_system_folded)
        self._eos_text = ""
        self._grammars: dict[str, Any] = {}
        self._load_lock = threading.Lock()
        self._generate_lock = threading.Lock()
        self._exit_hook = False  # `_close_at_exit` registered once, whatever the loads

    @property
    def gpu_offload(self) -> bool:
        return gpu_offload_supported()

    @property
    def free_cores_only(self) -> bool:
        """Whether each answer takes the cores free when it starts (`n_threads` 0). Not with every layer on a
        GPU: the CPU threads then only sample, with no barrier to wait at."""
        return self._free_cores and not (self.n_gpu_layers == -1 and self.gpu_offload)

    @property
    def loaded(self) -> bool:
        return self._llama is not None

    def forget_prompt_cache(self) -> None:
        """Drop the reusable prompt prefix, so the next prompt is read from scratch (benchmarks)."""
        if self._llama is not None:
            with self._generate_lock:
                self._llama.reset()

    def _load(self) -> Any:
        if self._llama is not None:
            return self._llama
        with self._load_lock:
            if self._llama is None:
                import llama_cpp
                from llama_cpp.llama_chat_format import Jinja2ChatFormatter

                try:
                    llama = llama_cpp.Llama(
                        str(self.path),
                        n_ctx=self.n_ctx,
                        n_threads=self.n_threads,
                        n_threads_batch=self.n_threads,
                        n_gpu_layers=self.n_gpu_layers if self.gpu_offload else 0,
                        seed=self.seed,
                        verbose=False,
                    )
                except (ValueError, RuntimeError, OSError) as exc:
                    raise ModelError(
                        f"{self.path}: llama.cpp could not load the model ({exc})",
                        "check that it is a complete GGUF of an architecture this llama.cpp supports",
                    ) from exc
                eos = llama.token_eos()
                bos = llama.token_bos()
                # llama.cpp adds BOS to a text only where the model's vocabulary asks for it: the fallback
                # gives it to those models alone (gemma without it writes loops and echoes).
                wants_bos = bool(self.header.chat_template) or bool(llama.tokenize(b"", add_bos=True))
                self._eos_text = _token_text(llama, eos)
                self._formatter = Jinja2ChatFormatter(
                    template=self.template,
                    eos_token=self._eos_text,
                    bos_token=_token_text(llama, bos) if wants_bos else "",
                    stop_token_ids=[eos],
                )
                self._llama = llama
                # Freed at the interpreter's end, llama.cpp's finaliser found its library's functions already gone
                # and printed a 20-line traceback after a script's last line; closed before that, it frees cleanly.
                if not self._exit_hook:
                    atexit.register(_close_at_exit, weakref.ref(self))
                    self._exit_hook = True
        return self._llama

    def render(self, messages: list[dict[str, str]]) -> str:
        """The prompt text the model sees: the chat template applied, ending with the assistant cue."""
        self._load()
        safe = [{**m, "content": neutralize_special_tokens(m.get("content", ""))} for m in messages]
        try:
            prompt = self._apply_template(_system_in_user_turns(safe) if self._fold_system else safe)
        except _TemplateTimeout:
            raise ModelError(
                f"{self.path}: the GGUF's chat template did not finish rendering within {RENDER_SECONDS:g}s",
                "the template loops without end: re-export the model with a working tokenizer.chat_template",
            ) from None
        except Exception as exc:  # jinja2 raises many types
            folded = self._render_system_folded(safe)
            if folded is None:  # it fails without a system turn too: a broken template
                raise ModelError(
                    f"{self.path}: the GGUF's chat template failed to render ({exc})",
                    "re-export the model with a working tokenizer.chat_template",
                ) from exc
            prompt = folded
        limit = sum(len(m.get("content", "")) for m in messages) + RENDER_EXTRA_CHARS
        if len(prompt) > limit:
            raise ModelError(
                f"{self.path}: the GGUF's chat template wrote {len(prompt):,} characters for "
                f"{limit - RENDER_EXTRA_CHARS:,} of messages",
                "re-export the model with a working tokenizer.chat_template",
            )
        return closed_thinking(prompt)

    def _apply_template(self, messages: list[dict[str, str]]) -> str:
        return str(_within(RENDER_SECONDS, lambda: self._formatter(messages=messages, **TEMPLATE_VARIABLES).prompt))

    def _render_system_folded(self, messages: list[dict[str, str]]) -> str | None:
        """The prompt with the system prompt in the first user turn, for a template that refuses the system role
        (Gemma-2's raises "System role not supported", Mistral-7B-Instruct-v0.1's "Only user and assistant roles
        are supported!"), as llama.cpp and Ollama render one; None when the chat has no system turn or the template
        fails without it too. Once it worked, every later render folds at once: answering renders a prompt many
        times to fit it to the context."""
        folded = _system_in_user_turns(messages)
        if folded == messages:
            return None
        try:
            prompt = self._apply_template(folded)
        except Exception:  # the template's first error is the one to report
            return None
        self._fold_system = True
        return prompt

    def _prompt_ids(self, messages: list[dict[str, str]]) -> list[int]:
        return self._ids(self.render(messages))

    def _ids(self, rendered: str) -> list[int]:
        # The template already places BOS where the model wants it, hence add_bos=False; special=True
        # turns the template's own markers into control tokens.
        return list(self._load().tokenize(rendered.encode("utf-8"), add_bos=False, special=True))

    def count_tokens(self, text: str) -> int:
        if not text:
            return 0
        return len(self._load().tokenize(text.encode("utf-8"), add_bos=False, special=False))

    def prompt_tokens(self, messages: list[dict[str, str]]) -> int:
        return len(self._prompt_ids(messages))

    def _grammar(self, grammar: str) -> Any:
        compiled = self._grammars.get(grammar)
        if compiled is not None:
            return compiled
        import llama_cpp
        from llama_cpp.llama_grammar import LlamaGrammar

        # LlamaGrammar.from_string does not parse; a bad grammar would reach llama.cpp's sampler chain
        # as a null pointer, so try it once here and refuse it with a Python error.
        vocab = llama_cpp.llama_model_get_vocab(self._load().model)
        probe = llama_cpp.llama_sampler_init_grammar(vocab, grammar.encode(), b"root")
        if not probe:
            raise ValueError("the GBNF grammar does not parse (llama.cpp logged the reason to stderr)")
        llama_cpp.llama_sampler_free(probe)
        compiled = LlamaGrammar.from_string(grammar, verbose=False)
        # Graph extraction writes a grammar per chunk: keep the recent few, not every one ever used.
        while len(self._grammars) >= GRAMMAR_CACHE:
            self._grammars.pop(next(iter(self._grammars)))
        self._grammars[grammar] = compiled
        return compiled

    def stream_chat(
        self,
        messages: list[dict[str, str]],
        *,
        max_tokens: int,
        temperature: float = 0.0,
        stop: Sequence[str] = (),
        grammar: str | None = None,
        cancel: threading.Event | None = None,
        stats: GenerationStats | None = None,
    ) -> Iterator[str]:
        """Yield the answer piece by piece; see the Generator protocol.

        `stats.generation_seconds` is the time after the first piece, so `stats.tokens_per_second`
        is the decoding speed; prompt reading is in `stats.time_to_first_token`.
        """
        stats = stats if stats is not None else GenerationStats()
        started = time.perf_counter()
        llama = self._load()
        rendered = self.render(messages)
        prompt = self._ids(rendered)
        room = self.n_ctx - len(prompt)
        if room < 1:
            raise ModelError(
                f"{self.name}: the prompt is {len(prompt)} tokens but the context holds {self.n_ctx}",
                "use fewer or shorter sources, or raise n_ctx",
            )
        stats.prompt_tokens = len(prompt)
        stats.completion_tokens = 0
        stats.cancelled = False
        stats.hit_token_limit = False
        stats.thinking_tokens = 0
        stats.still_thinking = False
        compiled = self._grammar(grammar) if grammar else None
        if cancel is not None and cancel.is_set():
            stats.cancelled = True
            return
        import llama_cpp

        vocab = llama_cpp.llama_model_get_vocab(llama.model)
        stops = [s for s in (*stop, *self._template_stops) if s]
        limit = min(max_tokens, room)
        decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        pending = ""
        # Stops apply to the answer alone: a thought may well hold "Question:" or a source's header.
        thoughts = ThoughtFilter()
        stopped = False
        first: float | None = None
        with self._generate_lock:
            stats.threads = self._take_free_cores(llama)
            llama.set_seed(self.seed)
            tokens = llama.generate(
                prompt,
                temp=temperature,
                top_k=_TOP_K,
                top_p=_TOP_P,
                min_p=_MIN_P,
                repeat_penalty=_REPEAT_PENALTY,
                grammar=compiled,
            )
            try:
                for token in tokens:
                    if llama_cpp.llama_vocab_is_eog(vocab, token):
                        break
                    stats.completion_tokens += 1
                    pending += thoughts.feed(decoder.decode(llama.detokenize([token])))
                    stats.thinking_tokens = thoughts.pieces
                    pending, piece, stopped = _split_at_stops(pending, stops)
                    if piece:
                        if first is None:
                            first = time.perf_counter()
                            stats.time_to_first_token = first - started
                        yield piece
                    if stopped:
                        break
                    if stats.completion_tokens >= limit:
                        stats.hit_token_limit = True
                        break
                    if cancel is not None and cancel.is_set():
                        stats.cancelled = True
                        break
                # Text held back as a possible stop-string start is real text once generation ended; the bytes of a
                # character the token limit cut in two are not (flushed, they showed as U+FFFD: "만�").
                if not (stopped or stats.cancelled):
                    stats.still_thinking = thoughts.thinking
                    kept, piece, stopped = _split_at_stops(pending + thoughts.flush(), stops)
                    tail = piece if stopped else piece + kept
                    if tail:
                        yield tail
            finally:
                tokens.close()
                stats.generation_seconds = time.perf_counter() - (first if first is not None else started)

    def _take_free_cores(self, llama: Any) -> int:
        """The threads this call reads and writes with: `n_threads`, or with 0 the cores free now."""
        if time.monotonic() - self._threads_checked >= THREADS_RECHECK_S and self.free_cores_only:
            threads = min(worker_threads(sample_s=THREADS_SAMPLE_S, own=time.thread_time), self.n_threads)
            self._threads_checked = time.monotonic()
            if threads != self._threads_in_use:
                import llama_cpp

                llama_cpp.llama_set_n_threads(llama.ctx, threads, threads)
                self._threads_in_use = threads
        return self._threads_in_use

    def complete(
        self,
        messages: list[dict[str, str]],
        *,
        max_tokens: int,
        temperature: float = 0.0,
        stop: Sequence[str] = (),
        grammar: str | None = None,
        cancel: threading.Event | None = None,
        stats: GenerationStats | None = None,
    ) -> str:
        return "".join(
            self.stream_chat(
                messages,
                max_tokens=max_tokens,
                temperature=temperature,
                stop=stop,
                grammar=grammar,
                cancel=cancel,
                stats=stats,
            )
        )
