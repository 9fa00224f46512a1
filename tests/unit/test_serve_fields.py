"""The refusal of a field a request does not take (`serve/fields.py`), without a server."""

from __future__ import annotations

from localrag.serve.fields import misnamed_in_chat, unknown_field

CHAT_OWN = ("k", "path_glob", "file_types")

# What OpenAI's and other clients (llama.cpp's, LangChain's) send beside localrag's fields: passed over.
SENT_BY_CLIENTS = ("model", "messages", "stream", "stream_options", "temperature", "top_p", "n", "stop", "max_tokens",
                   "max_completion_tokens", "presence_penalty", "frequency_penalty", "logit_bias", "logprobs",
                   "top_logprobs", "user", "seed", "tools", "tool_choice", "parallel_tool_calls", "response_format",
                   "functions", "function_call", "modalities", "audio", "metadata", "store", "service_tier",
                   "reasoning_effort", "prediction", "top_k", "min_p", "repeat_penalty", "typical_p", "cache_prompt",
                   "a_field_openai_adds_next_year")


def test_a_near_miss_of_a_chats_own_field_is_refused_and_openais_fields_are_not() -> None:
    # Only a fixed list of misnamings was refused: `path_glb` or `path-glob` lost the filter in silence, and the
    # answer came from every document.
    misspelt = ["path_glb", "path_globs", "file_typs", "pathglob", "path-glob", "filetypes", "PATH_GLOB", "fileTypes"]
    assert misnamed_in_chat(misspelt, CHAT_OWN) == misspelt
    assert misnamed_in_chat(["collection", "type", "path"], CHAT_OWN) == ["collection", "type", "path"]
    assert misnamed_in_chat(SENT_BY_CLIENTS, CHAT_OWN) == []
    assert misnamed_in_chat([*SENT_BY_CLIENTS, "encoding_format", "dimensions", "input_type"], ("input",)) == []
    for name, meant in (("path-glob", "path_glob"), ("filetypes", "file_types"), ("PATH_GLOB", "path_glob")):
        refused = unknown_field([name], CHAT_OWN, "POST /v1/chat/completions", lambda: "default", "serve")
        assert refused is not None and f"(did you mean `{meant}`?)" in refused[1]


def test_a_tool_with_no_arguments_says_so() -> None:
    # "`x` is not taken by the tool `status`; it takes " ended there.
    refused = unknown_field(["x"], {}, "the tool `status`", lambda: "default", "mcp")
    assert refused == ("x", "`x` is not taken by the tool `status`; it takes no arguments")
