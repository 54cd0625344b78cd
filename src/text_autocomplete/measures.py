"""Small measurements every layer shares: batches of a list, perplexity, parameter counts and sizes."""
from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TypeVar

import numpy as np

T = TypeVar("T")
# A keyboard run's per-text columns in a model's scores file (keyboard.py writes them, comparison.py pairs them):
# keystroke savings = sum(taps saved) / sum(taps without the keyboard).
TAPS_SAVED, TAPS_WITHOUT = "taps_saved", "taps_without"


def chunks(items: Sequence[T], size: int) -> Iterator[Sequence[T]]:
    """`items` in consecutive slices of `size` (the last one shorter)."""
    for start in range(0, len(items), size):
        yield items[start:start + size]


def perplexity(log_probs: np.ndarray) -> float:
    """exp of the mean negative log-probability of the events (in the array's own precision)."""
    return float(np.exp(-np.mean(log_probs))) if len(log_probs) else 1.0


def parameter_count(model) -> int:
    """The weights of a torch module (every parameter's elements)."""
    return sum(p.numel() for p in model.parameters())


def weights_in_memory_mb(model) -> float:
    """Bytes of a torch model's parameters and buffers as loaded (a GGUF file's 4-bit weights are dequantized to
    fp32)."""
    return round(sum(t.numel() * t.element_size() for t in [*model.parameters(), *model.buffers()]) / 1e6, 1)


def file_size_mb(*paths: Path | str) -> float:
    return round(sum(Path(p).stat().st_size for p in paths if Path(p).is_file()) / 1e6, 3)
