"""A tiny synthetic llama as a GGUF that llama.cpp loads: for the export and generation tests."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import gguf
import numpy as np

from localrag.tune.gguf_writer import gguf_tensor_names, permute_qk

HIDDEN, HEADS, KV_HEADS, FFN, VOCAB, LAYERS = 32, 4, 2, 64, 16, 2
HEAD_DIM = HIDDEN // HEADS
LETTERS = "abcdefghijklm"  # the vocabulary after its three control tokens: VOCAB - 3 single characters
CHAT_TEMPLATE = "{% for m in messages %}<|im_start|>{{ m['content'] }}<|im_end|>{% endfor %}"


def tiny_state_dict(seed: int = 0, vocab: int = VOCAB) -> dict[str, np.ndarray]:
    """HF-named float32 weights of a 2-layer llama with grouped-query attention."""
    rng = np.random.default_rng(seed)
    kv = KV_HEADS * HEAD_DIM
    shapes = {"model.embed_tokens.weight": (vocab, HIDDEN), "model.norm.weight": (HIDDEN,)}
    for i in range(LAYERS):
        p = f"model.layers.{i}"
        shapes |= {
            f"{p}.self_attn.q_proj.weight": (HIDDEN, HIDDEN),
            f"{p}.self_attn.k_proj.weight": (kv, HIDDEN),
            f"{p}.self_attn.v_proj.weight": (kv, HIDDEN),
            f"{p}.self_attn.o_proj.weight": (HIDDEN, HIDDEN),
            f"{p}.mlp.gate_proj.weight": (FFN, HIDDEN),
            f"{p}.mlp.up_proj.weight": (FFN, HIDDEN),
            f"{p}.mlp.down_proj.weight": (HIDDEN, FFN),
            f"{p}.input_layernorm.weight": (HIDDEN,),
            f"{p}.post_attention_layernorm.weight": (HIDDEN,),
        }
    return {name: rng.standard_normal(shape).astype(np.float32) for name, shape in shapes.items()}


def write_tiny_base(
    path: Path,
    state: dict[str, np.ndarray],
    *,
    chat_template: str | None = CHAT_TEMPLATE,
    add_bos: bool | None = None,
    letters: Sequence[str] = LETTERS,
) -> Path:
    """A 'quantized' llama GGUF base as a downloaded model would be: F32 tensors, Q4_1 file-type key.

    `chat_template` None: a GGUF without one; `add_bos`: the vocabulary's tokenizer.ggml.add_bos_token (None: unset);
    `letters`: the tokens after the control ones, in GPT-2 byte form (Ċ is a newline), as many as `state` has rows
    less 3; single characters by default (llama.cpp takes the merges "a b" and "c d" without "ab" and "cd", transformers
    does not).
    """
    writer = gguf.GGUFWriter(path, "llama")
    writer.add_name("tiny base")
    writer.add_block_count(LAYERS)
    writer.add_context_length(128)
    writer.add_embedding_length(HIDDEN)
    writer.add_feed_forward_length(FFN)
    writer.add_head_count(HEADS)
    writer.add_head_count_kv(KV_HEADS)
    writer.add_rope_dimension_count(HEAD_DIM)
    writer.add_layer_norm_rms_eps(1e-5)
    writer.add_file_type(gguf.LlamaFileType.MOSTLY_Q4_1)
    writer.add_quantization_version(2)
    writer.add_tokenizer_model("gpt2")
    writer.add_tokenizer_pre("smollm")
    writer.add_token_list(["<|endoftext|>", "<|im_start|>", "<|im_end|>", *letters])
    writer.add_token_types([3, 3, 3] + [1] * len(letters))
    writer.add_token_merges(["a b", "c d"])
    writer.add_bos_token_id(1)
    writer.add_eos_token_id(2)
    if add_bos is not None:
        writer.add_add_bos_token(add_bos)
    if chat_template is not None:
        writer.add_chat_template(chat_template)
    mapping = gguf_tensor_names(state, "llama", LAYERS)
    for name in sorted(mapping):
        data = state[mapping[name]]
        if ".attn_q." in name:
            data = permute_qk(data, HEADS, HEADS)
        elif ".attn_k." in name:
            data = permute_qk(data, HEADS, KV_HEADS)
        writer.add_tensor(name, np.ascontiguousarray(data))
    writer.add_tensor("rope_freqs.weight", np.linspace(1, 2, HEAD_DIM // 2, dtype=np.float32))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return path
