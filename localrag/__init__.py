"""localrag: an offline assistant over your own documents.

Importing the package is cheap on purpose: heavy libraries (torch, llama_cpp, lancedb,
sentence_transformers) load inside the functions that need them, so `localrag --help` and the
TUI's first frame do not wait for them.
"""

from localrag.offline import block_telemetry

# Before anything can import OpenVINO, whose import would otherwise send a usage event (see offline.py).
block_telemetry()

__version__ = "0.1.0"
