"""The JSON summary a benchmark prints and, with `--summary FILE`, keeps (benchmarks/summaries/): which script,
how many cores, the load when it started (a peer's figures are compared only within one run), the peak memory,
and its rows."""

from __future__ import annotations

import json
import os
import resource
from pathlib import Path
from typing import Any


def load_at_start() -> float:
    """The 1-minute load average, read before the benchmark's own work raises it."""
    return round(os.getloadavg()[0], 2)


def write_summary(script: str, load: float, rows: list[Any], path: Path | None) -> dict[str, Any]:
    summary = {
        "benchmark": script, "cores": os.cpu_count(), "load_average_1m_at_start": load,
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1), "runs": rows,
    }
    print(json.dumps(summary, indent=1))
    if path is not None:
        path.write_text(json.dumps(summary, indent=1) + "\n")
    return summary
