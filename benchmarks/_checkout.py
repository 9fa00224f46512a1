"""Which localrag a benchmark imports: this checkout, or the one `--code DIR` names (a before/after comparison).

Imported before anything imports localrag; the script's own folder is on sys.path already, so this module is.
"""

from __future__ import annotations

import sys
from pathlib import Path

_HERE = Path(__file__).resolve().parent
if "--code" in sys.argv:
    sys.path.insert(0, str(Path(sys.argv[sys.argv.index("--code") + 1]).resolve()))
else:
    sys.path.insert(0, str(_HERE.parent))

# Imported now, while the chosen checkout is first on the path: a benchmark module imported later (bench_fusion,
# bench_recall) puts this checkout first, and the `--code` run measured this code instead.
import localrag  # noqa: E402, F401
