"""Write a merged Hugging Face model as an F16 GGUF that llama.cpp loads exactly like its base.

How it works. The tensors come from the merged PyTorch model's state dict; their GGUF names come
from the `gguf` library's TensorNameMap for the architecture (the same table llama.cpp's converter
uses), so `model.layers.3.self_attn.q_proj.weight` becomes `blk.3.attn_q.weight`. Matrices are
written as F16 and vectors (norms, biases) as F32, as llama.cpp's converter does, because norms in
F16 lose precision for no real saving.

When the base is a GGUF (the default: the bundled SmolLM2) everything except the weights is copied
from it: every metadata key/value (hyper-parameters, tokenizer tokens, merges, token types, special
ids, chat template) apart from the file-type and quantization keys, which describe the old weights.
Copying rather than re-deriving is what makes the tuned model tokenize and chat exactly as the base
did. The tensor set must equal the base's, name for name and shape for shape; a difference means the
name mapping is wrong and is refused before anything is written. Base tensors that have no PyTorch
counterpart by design (llama3's `rope_freqs`) are copied from the base; any other base tensor
missing from the model is an error, since copying it would silently drop the tuning.

Per-architecture fix-ups, mirrored from what transformers undoes when it loads a GGUF:
- llama (and Mistral, which llama.cpp writes as llama): llama.cpp stores attn_q/attn_k rows permuted
  for its rotary layout and transformers un-permutes them on load, so they are permuted back here.
- gemma, gemma2: llama.cpp stores RMSNorm weights as (1 + w) while transformers keeps w.
- qwen2: q/k/v biases map through the TensorNameMap like any other tensor; no permutation (NeoX rope).
Anything else is refused by name before any work is done.

A local Hugging Face folder base (config.json + tokenizer.json) gets its metadata from the config
and from a BPE tokenizer.json (GPT-2 style byte-level BPE, the kind Llama-3, Qwen2 and SmolLM use).
SentencePiece/Unigram tokenizers (Gemma, Mistral v0.1 `tokenizer.model`) are refused there: export
those from a GGUF base instead.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from localrag.errors import LocalRagError

if TYPE_CHECKING:
    import gguf

    from localrag.tune.gguf_base import BaseGGUF

SUPPORTED_ARCHITECTURES = ("llama", "qwen2", "gemma", "gemma2", "mistral")
# Hugging Face model_type -> the GGUF architecture llama.cpp writes it as.
_HF_TO_GGUF_ARCH = {"llama": "llama", "mistral": "llama", "qwen2": "qwen2", "gemma": "gemma", "gemma2": "gemma2"}
_PERMUTE_QK_ARCHS = ("llama",)
_NORM_PLUS_ONE_ARCHS = ("gemma", "gemma2")
# These describe the base's weights, not the model: they are rewritten for the new file.
_SKIPPED_KEYS = ("general.file_type", "general.quantization_version", "general.architecture", "general.alignment")
# Computed by the converter from the config (rope scaling), not model parameters: copied from the base.
_BASE_ONLY_TENSORS = ("rope_freqs", "rope_factors_long", "rope_factors_short")
# The split regexes of the pre-tokenizers llama.cpp knows by name (its tokenizer re-implements each).
_LLAMA3_SPLIT = (
    r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}"
    r"| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"
)
_QWEN2_SPLIT = _LLAMA3_SPLIT.replace(r"\p{N}{1,3}", r"\p{N}")


class ExportError(LocalRagError):
    title = "Export error"


class UnsupportedArchitectureError(ExportError):
    pass


@dataclass
class WrittenGGUF:
    path: Path
    architecture: str
    tensor_count: int
    bytes_written: int


@dataclass
class PlannedTensor:
    """A tensor announced in the header before its data exists: converted only when written, so the
    F16 copy of the whole model is never in memory at once beside the float32 one."""

    name: str
    shape: tuple[int, ...]
    dtype: np.dtype
    make: Callable[[], np.ndarray]

    @classmethod
    def ready(cls, name: str, data: np.ndarray) -> PlannedTensor:
        return cls(name, tuple(int(d) for d in data.shape), data.dtype, lambda: data)


def _as_numpy(value: Any) -> np.ndarray:
    return value.detach().float().cpu().numpy() if hasattr(value, "detach") else np.asarray(value)


def planned_from_model(name: str, value: Any, arch: str, n_head: int, n_head_kv: int) -> PlannedTensor:
    """`to_gguf_tensor` of a model tensor, deferred until the writer needs its bytes."""
    shape = tuple(int(d) for d in value.shape)
    dtype = np.dtype(np.float32 if len(shape) <= 1 else np.float16)
    return PlannedTensor(name, shape, dtype, lambda: to_gguf_tensor(name, _as_numpy(value), arch, n_head, n_head_kv))


def permute_qk(weights: np.ndarray, n_head: int, n_head_kv: int | None = None) -> np.ndarray:
    """llama.cpp's row order for attn_q/attn_k: within each head, interleave the two rotary halves."""
    heads = n_head_kv if n_head_kv is not None and n_head_kv != n_head else n_head
    return (
        weights.reshape(heads, 2, weights.shape[0] // heads // 2, *weights.shape[1:])
        .swapaxes(1, 2)
        .reshape(weights.shape)
    )


def unpermute_qk(weights: np.ndarray, n_head: int, n_head_kv: int | None = None) -> np.ndarray:
    """The inverse of `permute_qk`: what transformers does when it loads a llama GGUF."""
    heads = n_head_kv if n_head_kv is not None and n_head_kv != n_head else n_head
    return (
        weights.reshape(heads, weights.shape[0] // heads // 2, 2, *weights.shape[1:])
        .swapaxes(1, 2)
        .reshape(weights.shape)
    )


def gguf_architecture(name: str, source: Path) -> str:
    """Map a GGUF or HF architecture name to the GGUF one, or refuse it naming the supported list."""
    arch = _HF_TO_GGUF_ARCH.get(name, name if name in _HF_TO_GGUF_ARCH.values() else "")
    if not arch:
        raise UnsupportedArchitectureError(
            f"{source}: architecture '{name or 'unknown'}' cannot be exported to GGUF",
            f"supported architectures: {', '.join(SUPPORTED_ARCHITECTURES)}",
        )
    return arch


def tensor_name_map(arch: str, n_layers: int) -> gguf.TensorNameMap:
    import gguf

    by_name = {v: k for k, v in gguf.MODEL_ARCH_NAMES.items()}
    return gguf.get_tensor_name_map(by_name[arch], n_layers)


def gguf_tensor_names(hf_names: Iterable[str], arch: str, n_layers: int) -> dict[str, str]:
    """GGUF tensor name -> HF state-dict name for every HF tensor the name map knows."""
    name_map = tensor_name_map(arch, n_layers)
    mapping: dict[str, str] = {}
    for hf_name in hf_names:
        stem, _, suffix = hf_name.rpartition(".")
        if suffix not in ("weight", "bias"):
            continue
        gguf_stem = name_map.get_name(stem)
        if gguf_stem is not None:
            mapping[f"{gguf_stem}.{suffix}"] = hf_name
    return mapping


def to_gguf_tensor(gguf_name: str, tensor: np.ndarray, arch: str, n_head: int, n_head_kv: int) -> np.ndarray:
    """Apply the architecture's fix-up and the F16/F32 storage rule to one HF tensor."""
    data = np.asarray(tensor, dtype=np.float32)
    if arch in _PERMUTE_QK_ARCHS and gguf_name.endswith(".weight"):
        if ".attn_q." in gguf_name:
            data = permute_qk(data, n_head, n_head)
        elif ".attn_k." in gguf_name:
            data = permute_qk(data, n_head, n_head_kv)
    if arch in _NORM_PLUS_ONE_ARCHS and gguf_name.endswith("norm.weight"):
        data = data + 1.0
    return np.ascontiguousarray(data if data.ndim <= 1 else data.astype(np.float16))


def base_metadata(base: BaseGGUF) -> dict[str, tuple[Any, Any, Any]]:
    """Every key/value of a GGUF worth carrying into a new file of the same model, as add_key_value takes them."""
    import gguf

    return {
        name: (value, gguf.GGUFValueType(vtype), None if sub is None else gguf.GGUFValueType(sub))
        for name, (value, vtype, sub) in base.metadata.items()
        if name not in _SKIPPED_KEYS
    }


def _hparam(config: Any, *names: str) -> Any:
    for name in names:
        value = getattr(config, name, None)
        if value is not None:
            return value
    return None


def _write(
    out_path: Path,
    arch: str,
    metadata: Mapping[str, tuple[Any, Any, Any]],
    tensors: list[PlannedTensor],
    alignment: int | None,
    progress: Callable[[str, float], None] | None,
) -> WrittenGGUF:
    import gguf

    writer = gguf.GGUFWriter(out_path, arch)
    if alignment:
        writer.add_custom_alignment(alignment)
    for key, (value, vtype, sub_type) in metadata.items():
        writer.add_key_value(key, value, vtype, sub_type)
    writer.add_file_type(gguf.LlamaFileType.MOSTLY_F16)
    writer.add_quantization_version(gguf.GGML_QUANT_VERSION)
    for planned in tensors:
        nbytes = int(np.prod(planned.shape, dtype=np.int64)) * planned.dtype.itemsize
        writer.add_tensor_info(planned.name, planned.shape, planned.dtype, nbytes)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_ti_data_to_file()
    assert writer.fout is not None
    fout = writer.fout[0]
    total = len(tensors)
    # Written tensor by tensor (not write_tensors_to_file) so each is converted only now, and the
    # caller sees progress.
    for i, planned in enumerate(tensors, 1):
        data = planned.make()
        if data.shape != planned.shape or data.dtype != planned.dtype:
            raise ExportError(
                f"tensor {planned.name}: produced {data.dtype}{data.shape}, announced {planned.dtype}{planned.shape}",
                "this is a bug in the exporter; please report it",
            )
        writer.write_tensor_data(data)
        if progress is not None:
            progress("write f16", i / total)
    writer.flush()
    os.fsync(fout.fileno())
    writer.close()
    return WrittenGGUF(out_path, arch, total, out_path.stat().st_size)


def _base_shape(reader: BaseGGUF) -> tuple[str, int, int, int]:
    """(architecture, layers, attention heads, key/value heads) a GGUF base records."""
    arch = gguf_architecture(reader.text("general.architecture"), reader.path)
    n_head = int(reader.value(f"{arch}.attention.head_count"))
    return (arch, int(reader.value(f"{arch}.block_count")), n_head,
            int(reader.value(f"{arch}.attention.head_count_kv", n_head)))


def write_gguf_from_gguf_base(
    state_dict: Mapping[str, Any],
    base: Path,
    out_path: Path,
    *,
    metadata_overrides: Mapping[str, str] | None = None,
    progress: Callable[[str, float], None] | None = None,
) -> WrittenGGUF:
    """F16 GGUF with the base GGUF's metadata and tensor set, the weights taken from `state_dict`."""
    import gguf

    from localrag.tune.gguf_base import read_base_gguf

    reader = read_base_gguf(base)
    arch, n_layers, n_head, n_head_kv = _base_shape(reader)
    mapping = gguf_tensor_names(state_dict.keys(), arch, n_layers)

    tensors: list[PlannedTensor] = []
    missing: list[str] = []
    for base_tensor in reader.tensors:
        name = base_tensor.name
        expected = base_tensor.shape
        if name in mapping:
            planned = planned_from_model(name, state_dict[mapping[name]], arch, n_head, n_head_kv)
        elif name.split(".")[0] in _BASE_ONLY_TENSORS and base_tensor.ggml_type in (
            gguf.GGMLQuantizationType.F32,
            gguf.GGMLQuantizationType.F16,
        ):
            planned = PlannedTensor.ready(name, reader.float_tensor(base_tensor))
        else:
            missing.append(name)
            continue
        if planned.shape != expected:
            raise ExportError(
                f"{base}: tensor {name} has shape {expected} in the base but {planned.shape} in the tuned model",
                "the adapter was trained on a different base model; export with the run's own base",
            )
        tensors.append(planned)
    if missing:
        raise ExportError(
            f"{base}: {len(missing)} base tensors have no counterpart in the tuned model (e.g. {missing[0]})",
            "the tuned model does not match this base; export with the run's own base",
        )
    assert [t.name for t in tensors] == [t.name for t in reader.tensors]

    metadata = base_metadata(reader)
    for key, text in (metadata_overrides or {}).items():
        metadata[key] = (text.encode("utf-8"), gguf.GGUFValueType.STRING, None)
    alignment = reader.value("general.alignment")
    return _write(out_path, arch, metadata, tensors, alignment, progress)


def _token_types(vocab_size: int, tokens: list[str], added: list[dict[str, Any]]) -> list[int]:
    import gguf

    types = [int(gguf.TokenType.NORMAL)] * vocab_size
    for entry in added:
        if entry["id"] < vocab_size:
            kind = gguf.TokenType.CONTROL if entry.get("special") else gguf.TokenType.USER_DEFINED
            types[entry["id"]] = int(kind)
    for i, token in enumerate(tokens):
        if token.startswith("[PAD"):
            types[i] = int(gguf.TokenType.UNUSED)
    return types


def pre_tokenizer_name(spec: Mapping[str, Any], source: Path) -> str:
    """llama.cpp's name for a tokenizer.json pre-tokenizer, or ExportError when it has none."""
    pre = spec.get("pre_tokenizer") or {}
    steps = pre.get("pretokenizers", []) if pre.get("type") == "Sequence" else [pre]
    kinds = [step.get("type") for step in steps]
    if kinds == ["ByteLevel"] and steps[0].get("use_regex", True):
        return "gpt-2"
    if kinds == ["Digits", "ByteLevel"] and steps[0].get("individual_digits") and steps[1].get("use_regex", True):
        return "smollm"
    if kinds == ["Split", "ByteLevel"] and not steps[1].get("use_regex", True):
        pattern = steps[0].get("pattern", {}).get("Regex")
        named = {_LLAMA3_SPLIT: "llama-bpe", _QWEN2_SPLIT: "qwen2"}.get(pattern)
        if named:
            return named
    raise ExportError(
        f"{source}: pre-tokenizer {'+'.join(str(k) for k in kinds) or 'none'} has no llama.cpp equivalent known here",
        "export from a GGUF of the base model instead, which carries llama.cpp's own tokenizer settings",
    )


def _adds_bos(spec: Mapping[str, Any], extra: Mapping[str, Any]) -> bool:
    """Whether the HF tokenizer puts BOS in front of a text, which llama.cpp must then do too."""
    if "add_bos_token" in extra:
        return bool(extra["add_bos_token"])
    post = spec.get("post_processor") or {}
    single = post.get("single") or [{}]
    return post.get("type") == "TemplateProcessing" and "SpecialToken" in single[0]


def hf_folder_metadata(folder: Path, config: Any, arch: str) -> dict[str, tuple[Any, Any, Any]]:
    """GGUF metadata for a local HF model folder: hyper-parameters from config, vocab from tokenizer.json."""
    import gguf

    tok_file = folder / "tokenizer.json"
    if not tok_file.is_file():
        raise ExportError(f"{folder}: no tokenizer.json", "export needs a fast (tokenizer.json) tokenizer")
    spec = json.loads(tok_file.read_text(encoding="utf-8"))
    model = spec.get("model", {})
    if model.get("type") != "BPE" or "ByteLevel" not in json.dumps(spec.get("pre_tokenizer") or spec.get("decoder")):
        raise ExportError(
            f"{tok_file}: tokenizer type '{model.get('type')}' is not byte-level BPE",
            "only GPT-2 style BPE tokenizers export from a folder; use a GGUF of the base model instead",
        )
    vocab: dict[str, int] = dict(model["vocab"])
    added = spec.get("added_tokens", [])
    for entry in added:
        vocab[entry["content"]] = entry["id"]
    vocab_size = max(int(getattr(config, "vocab_size", 0) or 0), max(vocab.values()) + 1)
    tokens = [f"[PAD{i}]" for i in range(vocab_size)]
    for text, idx in vocab.items():
        tokens[idx] = text
    merges = [m if isinstance(m, str) else " ".join(m) for m in model.get("merges", [])]

    s, u32, f32, b, arr = (
        gguf.GGUFValueType.STRING,
        gguf.GGUFValueType.UINT32,
        gguf.GGUFValueType.FLOAT32,
        gguf.GGUFValueType.BOOL,
        gguf.GGUFValueType.ARRAY,
    )
    n_head = int(config.num_attention_heads)
    head_dim = int(_hparam(config, "head_dim") or config.hidden_size // n_head)
    meta: dict[str, tuple[Any, Any, Any]] = {
        "general.type": ("model", s, None),
        "general.name": (folder.name, s, None),
        f"{arch}.context_length": (int(_hparam(config, "max_position_embeddings") or 2048), u32, None),
        f"{arch}.embedding_length": (int(config.hidden_size), u32, None),
        f"{arch}.block_count": (int(config.num_hidden_layers), u32, None),
        f"{arch}.feed_forward_length": (int(config.intermediate_size), u32, None),
        f"{arch}.attention.head_count": (n_head, u32, None),
        f"{arch}.attention.head_count_kv": (int(_hparam(config, "num_key_value_heads") or n_head), u32, None),
        f"{arch}.attention.layer_norm_rms_epsilon": (float(_hparam(config, "rms_norm_eps") or 1e-6), f32, None),
        f"{arch}.rope.dimension_count": (head_dim, u32, None),
        f"{arch}.vocab_size": (vocab_size, u32, None),
        "tokenizer.ggml.model": ("gpt2", s, None),
        "tokenizer.ggml.pre": (pre_tokenizer_name(spec, tok_file), s, None),
        "tokenizer.ggml.add_space_prefix": (False, b, None),
        "tokenizer.ggml.tokens": (tokens, arr, s),
        "tokenizer.ggml.token_type": (_token_types(vocab_size, tokens, added), arr, gguf.GGUFValueType.INT32),
        "tokenizer.ggml.merges": (merges, arr, s),
    }
    rope = getattr(config, "rope_parameters", None) or {}
    theta = _hparam(config, "rope_theta") or (rope.get("rope_theta") if isinstance(rope, dict) else None)
    if theta:
        meta[f"{arch}.rope.freq_base"] = (float(theta), f32, None)
    if arch in ("gemma", "gemma2"):
        meta[f"{arch}.attention.key_length"] = (head_dim, u32, None)
        meta[f"{arch}.attention.value_length"] = (head_dim, u32, None)
    tok_config = folder / "tokenizer_config.json"
    extra = json.loads(tok_config.read_text(encoding="utf-8")) if tok_config.is_file() else {}
    for role in ("bos", "eos", "unk", "pad"):
        token = extra.get(f"{role}_token")
        token = token.get("content") if isinstance(token, dict) else token
        key = "padding" if role == "pad" else ("unknown" if role == "unk" else role)
        if isinstance(token, str) and token in vocab:
            meta[f"tokenizer.ggml.{key}_token_id"] = (vocab[token], u32, None)
    meta["tokenizer.ggml.add_bos_token"] = (_adds_bos(spec, extra), b, None)
    template = extra.get("chat_template")
    template_file = folder / "chat_template.jinja"
    if template_file.is_file():
        template = template_file.read_text(encoding="utf-8")
    if isinstance(template, str) and template:
        meta["tokenizer.chat_template"] = (template, s, None)
    return meta


def write_gguf_from_hf_folder(
    state_dict: Mapping[str, Any],
    config: Any,
    folder: Path,
    out_path: Path,
    *,
    metadata_overrides: Mapping[str, str] | None = None,
    progress: Callable[[str, float], None] | None = None,
) -> WrittenGGUF:
    """F16 GGUF for a base that is a local HF folder: metadata from its config and tokenizer.json."""
    import gguf

    arch = gguf_architecture(str(config.model_type), folder)
    metadata = hf_folder_metadata(folder, config, arch)
    for key, text in (metadata_overrides or {}).items():
        metadata[key] = (text, gguf.GGUFValueType.STRING, None)
    n_head = int(config.num_attention_heads)
    n_head_kv = int(_hparam(config, "num_key_value_heads") or n_head)
    mapping = gguf_tensor_names(state_dict.keys(), arch, int(config.num_hidden_layers))
    if getattr(config, "tie_word_embeddings", False):
        mapping.pop("output.weight", None)
    unmapped = sorted(set(state_dict) - set(mapping.values()) - {"lm_head.weight"})
    if unmapped:
        raise ExportError(f"{folder}: tensor {unmapped[0]} has no GGUF name", "this model layout is not supported")
    tensors = [planned_from_model(name, state_dict[hf], arch, n_head, n_head_kv) for name, hf in mapping.items()]
    return _write(out_path, arch, metadata, tensors, None, progress)


def write_f16_gguf(
    model: Any,
    base: Path,
    out_path: Path,
    *,
    metadata_overrides: Mapping[str, str] | None = None,
    progress: Callable[[str, float], None] | None = None,
) -> WrittenGGUF:
    """Write `model` (a merged transformers model) as F16 GGUF; `base` is the GGUF or HF folder it came from."""
    state_dict = model.state_dict()
    if base.is_dir():
        return write_gguf_from_hf_folder(
            state_dict, model.config, base, out_path, metadata_overrides=metadata_overrides, progress=progress
        )
    # The base GGUF's own hyper-parameters are authoritative, so its config is not consulted.
    return write_gguf_from_gguf_base(
        state_dict, base, out_path, metadata_overrides=metadata_overrides, progress=progress
    )


def _peft_module_name(key: str) -> tuple[str, str] | None:
    """('model.layers.0.self_attn.q_proj', 'a'|'b') for a peft LoRA weight key, else None."""
    for marker, which in ((".lora_A.", "a"), (".lora_B.", "b")):
        if marker in key:
            module = key.split(marker)[0].removeprefix("base_model.model.")
            return module, which
    return None


def write_lora_gguf(adapter_dir: Path, base: Path, out_path: Path) -> WrittenGGUF:
    """A llama.cpp LoRA adapter GGUF (general.type "adapter") from a peft adapter folder.

    llama.cpp computes W x + scale * B (A x) with scale = alpha / r, as peft does; it expects
    `blk.N.<tensor>.weight.lora_a` with ggml shape [in, r] and `.lora_b` with [r, out], which are
    peft's A (r x in) and B (out x r) as stored. For llama q/k the rows of B are permuted like the
    full weight, because B's rows are the output rows that llama.cpp's rotary layout reorders.
    """
    import gguf
    from safetensors.torch import load_file

    settings = json.loads((adapter_dir / "adapter_config.json").read_text(encoding="utf-8"))
    if settings.get("use_dora") or settings.get("rank_pattern") or settings.get("alpha_pattern"):
        raise ExportError(
            f"{adapter_dir}: DoRA and per-module ranks cannot be written as a llama.cpp LoRA adapter",
            "export without --lora-gguf; the merged GGUF carries the tuning either way",
        )
    rank, alpha = int(settings["r"]), float(settings["lora_alpha"])
    if settings.get("use_rslora"):
        # rsLoRA scales by alpha / sqrt(r); llama.cpp divides by r, so fold the difference into alpha.
        alpha = alpha * rank**0.5
    if base.is_dir():
        config = json.loads((base / "config.json").read_text(encoding="utf-8"))
        arch = gguf_architecture(str(config.get("model_type", "")), base)
        n_layers, n_head = int(config["num_hidden_layers"]), int(config["num_attention_heads"])
        n_head_kv = int(config.get("num_key_value_heads") or n_head)
    else:
        from localrag.tune.gguf_base import read_base_gguf

        arch, n_layers, n_head, n_head_kv = _base_shape(read_base_gguf(base))
    name_map = tensor_name_map(arch, n_layers)
    weights = load_file(str(adapter_dir / "adapter_model.safetensors"))
    tensors: list[PlannedTensor] = []
    for key in sorted(weights):
        parsed = _peft_module_name(key)
        gguf_stem = name_map.get_name(parsed[0]) if parsed else None
        if parsed is None or gguf_stem is None:
            raise ExportError(
                f"{adapter_dir}: adapter tensor {key} is not a LoRA on a linear layer llama.cpp knows",
                "export without --lora-gguf",
            )
        data = weights[key].float().numpy()
        if parsed[1] == "b" and arch in _PERMUTE_QK_ARCHS and gguf_stem.endswith((".attn_q", ".attn_k")):
            data = permute_qk(data, n_head, n_head if gguf_stem.endswith(".attn_q") else n_head_kv)
        lora_name = f"{gguf_stem}.weight.lora_{parsed[1]}"
        tensors.append(PlannedTensor.ready(lora_name, np.ascontiguousarray(data, dtype=np.float32)))
    metadata: dict[str, tuple[Any, Any, Any]] = {
        "general.type": ("adapter", gguf.GGUFValueType.STRING, None),
        "adapter.type": ("lora", gguf.GGUFValueType.STRING, None),
        "adapter.lora.alpha": (alpha, gguf.GGUFValueType.FLOAT32, None),
    }
    return _write(out_path, arch, metadata, tensors, None, None)
