"""Switch the Hugging Face libraries to offline mode, and OpenVINO's telemetry off, before they are imported.

transformers and huggingface_hub read these variables at import time; setting them here, once,
keeps any code path from trying a hub download or sending telemetry. Every module that imports
sentence_transformers, transformers, peft or unsloth calls `enforce_offline()` first.

Two runtimes localrag embeds with report usage unless stopped, and `block_telemetry` stops both. The
package's import calls it, so every front end, and any program that imports localrag, has it before
either runtime loads:
- OpenVINO (the default embedding runtime) sends a usage event to Google Analytics from a forked child
  on every `import openvino` (`openvino.tools.ovc`, through the `openvino_telemetry` package it
  requires), and writes a client id under ~/intel, unless it believes it runs in CI or finds an
  opt-out file in the user's home. Neither is ours to set, so `openvino_telemetry` is made
  unimportable in this process (None in sys.modules), and OpenVINO falls back to the no-op stub it
  ships for when that package is missing.
- ONNX Runtime (1.32) writes a device id and queues usage events (OS, CPU, memory, the Python
  executable's path) in a SQLite file under ~/.cache/Microsoft/DeveloperTools/.onnxruntime for its
  telemetry client to upload, unless ORT_DISABLE_TELEMETRY is set before it starts.
tests/network_probe.py runs the CLI as a user would (no CI variable, a home of its own) and fails on
a network attempt or a file written to that home.
"""

from __future__ import annotations

import os
import sys

# Packages that phone home on import and that their users may do without: their importers handle an
# ImportError (checked: openvino.tools.ovc.telemetry_utils falls back to its telemetry_stub).
_TELEMETRY_MODULES = ("openvino_telemetry",)

_VARS = {
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "HF_DATASETS_OFFLINE": "1",
    "HF_HUB_DISABLE_TELEMETRY": "1",
    # Unsloth downloads a file from the hub to count its users unless this is set (HF_HUB_OFFLINE also stops it).
    "UNSLOTH_DISABLE_STATISTICS": "1",
    "DO_NOT_TRACK": "1",
    "TOKENIZERS_PARALLELISM": "false",
    # Progress bars and warnings from model loading would land in the middle of CLI and TUI output.
    "HF_HUB_DISABLE_PROGRESS_BARS": "1",
    "HF_DATASETS_DISABLE_PROGRESS_BARS": "1",
    "TRANSFORMERS_VERBOSITY": "error",
    "TRANSFORMERS_NO_ADVISORY_WARNINGS": "1",
}


def block_telemetry() -> None:
    """Stop the runtimes' telemetry (see above); a package imported before localrag is left alone."""
    for name in _TELEMETRY_MODULES:
        sys.modules.setdefault(name, None)  # type: ignore[arg-type]
    os.environ["ORT_DISABLE_TELEMETRY"] = "1"


def enforce_offline() -> None:
    block_telemetry()
    for key, value in _VARS.items():
        os.environ[key] = value
