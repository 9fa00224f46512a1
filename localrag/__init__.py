"""localrag: an offline assistant over your own documents.

Importing the package is cheap on purpose: heavy libraries (torch, llama_cpp, lancedb,
sentence_transformers) load inside the functions that need them, so `localrag --help` and the
TUI's first frame do not wait for them.
"""

from localrag.lancedb_import import defer_namespace_client
from localrag.offline import block_telemetry

# Before anything can import OpenVINO, whose import would otherwise send a usage event (see offline.py).
block_telemetry()
# Before anything can import lancedb, which would otherwise load a REST client it never uses (lancedb_import.py).
defer_namespace_client()

__version__ = "0.1.0"
