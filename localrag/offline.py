"""Switch the Hugging Face libraries to offline mode before they are imported.

transformers and huggingface_hub read these variables at import time; setting them here, once,
keeps any code path from trying a hub download or sending telemetry. Every module that imports
sentence_transformers, transformers, peft or unsloth calls `enforce_offline()` first.
"""

from __future__ import annotations

import os

_VARS = {
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "HF_DATASETS_OFFLINE": "1",
    "HF_HUB_DISABLE_TELEMETRY": "1",
    "DO_NOT_TRACK": "1",
    "TOKENIZERS_PARALLELISM": "false",
    # Progress bars and warnings from model loading would land in the middle of CLI and TUI output.
    "HF_HUB_DISABLE_PROGRESS_BARS": "1",
    "HF_DATASETS_DISABLE_PROGRESS_BARS": "1",
    "TRANSFORMERS_VERBOSITY": "error",
    "TRANSFORMERS_NO_ADVISORY_WARNINGS": "1",
}


def enforce_offline() -> None:
    for key, value in _VARS.items():
        os.environ[key] = value
