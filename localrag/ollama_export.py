"""Hand a localrag model to Ollama: a Modelfile beside the GGUF, and `ollama create` when Ollama is here.

GGUF files carry their chat template as Jinja; Ollama wants a Go template. Jinja is a language, so
instead of translating arbitrary templates the template is recognised by its markers and replaced
by the Go template of the same chat format, for the families localrag supports: ChatML
(`<|im_start|>`, as in SmolLM2 and Qwen) and Llama 3 (`<|start_header_id|>`). Anything else is
refused with a message, because a wrong template silently ruins every answer. The stop tokens are
the format's turn markers; the parameters are localrag's own settings (temperature, context size),
so the model answers in Ollama as it does here.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from localrag.errors import ModelError
from localrag.models import read_gguf_header

# Ollama hands a template the request's system messages twice, joined in `.System` and still in `.Messages`
# (template.go's collate): the loop passes them over, as Ollama's own library templates do, or every client that
# sends a system prompt had it read twice.
CHATML_TEMPLATE = """{{- if .System }}<|im_start|>system
{{ .System }}<|im_end|>
{{ end }}
{{- range .Messages }}{{ if ne .Role "system" }}<|im_start|>{{ .Role }}
{{ .Content }}<|im_end|>
{{ end }}{{ end }}<|im_start|>assistant
"""

LLAMA3_TEMPLATE = """{{- if .System }}<|start_header_id|>system<|end_header_id|>

{{ .System }}<|eot_id|>
{{- end }}
{{- range .Messages }}{{ if ne .Role "system" }}<|start_header_id|>{{ .Role }}<|end_header_id|>

{{ .Content }}<|eot_id|>
{{- end }}{{ end }}<|start_header_id|>assistant<|end_header_id|>

"""


@dataclass(frozen=True)
class ChatFormat:
    name: str
    marker: str
    template: str
    stops: tuple[str, ...]


FORMATS = (
    ChatFormat("chatml", "<|im_start|>", CHATML_TEMPLATE, ("<|im_start|>", "<|im_end|>")),
    ChatFormat("llama3", "<|start_header_id|>", LLAMA3_TEMPLATE,
               ("<|start_header_id|>", "<|end_header_id|>", "<|eot_id|>")),
)


def chat_format(jinja: str, source: str) -> ChatFormat:
    for fmt in FORMATS:
        if fmt.marker in jinja:
            return fmt
    raise ModelError(
        f"{source}: its chat template is neither ChatML nor Llama 3, the formats localrag can hand to Ollama",
        "write the TEMPLATE of its Modelfile by hand",
    )


def ollama_name(stem: str) -> str:
    """Ollama model names are lower case letters, digits and . _ -."""
    return re.sub(r"[^a-z0-9._-]+", "-", stem.lower()).strip("-._") or "localrag-model"


def _quoted(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def modelfile_text(gguf: Path, *, temperature: float, num_ctx: int) -> str:
    header = read_gguf_header(gguf)
    fmt = chat_format(header.chat_template, str(gguf))
    lines = [f"# Written by localrag for {gguf.name} ({fmt.name} chat format)", f"FROM {gguf.resolve()}", ""]
    lines.append(f'TEMPLATE """{fmt.template}"""')
    lines.append("")
    lines += [f"PARAMETER stop {_quoted(stop)}" for stop in fmt.stops]
    lines.append(f"PARAMETER temperature {temperature:g}")
    lines.append(f"PARAMETER num_ctx {num_ctx}")
    return "\n".join(lines) + "\n"


@dataclass
class OllamaExport:
    modelfile: Path
    name: str
    command: list[str]
    created: bool
    output: str


def export_to_ollama(gguf: Path, *, name: str = "", temperature: float = 0.0, num_ctx: int = 2048,
                     run: bool = True, modelfile: Path | None = None) -> OllamaExport:
    """Write the Modelfile (by default GGUF_STEM.Modelfile beside the file); run `ollama create` if an `ollama`
    is on PATH. `name`: the Ollama model's (default: the file's stem)."""
    from localrag.atomic import write_text_atomic

    modelfile = modelfile or gguf.with_suffix(".Modelfile")
    write_text_atomic(modelfile, modelfile_text(gguf, temperature=temperature, num_ctx=num_ctx))
    model_name = ollama_name(name or gguf.stem)
    command = ["ollama", "create", model_name, "-f", str(modelfile)]
    executable = shutil.which("ollama") if run else None
    if executable is None:
        return OllamaExport(modelfile, model_name, command, False, "")
    result = subprocess.run([executable, *command[1:]], capture_output=True, text=True, timeout=3600)
    if result.returncode != 0:
        raise ModelError(
            f"`{' '.join(command)}` failed: {(result.stderr or result.stdout).strip().splitlines()[-1:]}",
            "is the Ollama server running (`ollama serve`)?",
        )
    return OllamaExport(modelfile, model_name, command, True, result.stdout.strip())
