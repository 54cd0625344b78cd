"""One progress bar for every step that can run longer than a few seconds: training epochs, scoring passes,
latency timing, model loading. tqdm shows the rate and the time left; on a terminal it redraws every 2 s, in a
log (DVC's output piped to a file, CI) it writes a line at most every 30 s so the log stays short."""
from __future__ import annotations

import sys
from collections.abc import Iterable
from typing import Any

from tqdm import tqdm


def progress(iterable: Iterable[Any] | None = None, desc: str = "", total: int | None = None,
             unit: str = "text", unit_scale: bool = False) -> tqdm:
    return tqdm(iterable, desc=desc, total=total, unit=unit, unit_scale=unit_scale, leave=False, dynamic_ncols=True,
                mininterval=2 if sys.stderr.isatty() else 30)
