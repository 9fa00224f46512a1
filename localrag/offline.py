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
}


def enforce_offline() -> None:
    for key, value in _VARS.items():
        os.environ[key] = value
