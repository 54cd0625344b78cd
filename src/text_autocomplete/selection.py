"""The budgets a model for a phone keyboard must fit, and choosing a decoding setting on val within them.

A keyboard waits for every completion, so a setting that is better on val but too slow at batch 1 is not one the
light model can ship with: eval_lstm picks the best setting by ROUGE among those whose batch-1 latency on val fits
`budget.max_latency_ms` (the budget the report's recommendation applies too), and the fastest if none fits.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd

from text_autocomplete.errors import UserError

LATENCY_COLUMN = "ms_per_text_batch_1"


@dataclass
class BudgetConfig:
    """The ``budget`` section of params.yaml: what a model must fit to ship in a phone keyboard."""

    max_model_mb: float  # the model's files on disk
    max_latency_ms: float  # ms per completion at batch 1 (a keyboard answers each keystroke in ~20 ms)


def choose_within_latency(table: pd.DataFrame, candidates: list[dict[str, Any]], select_by: str,
                          max_latency_ms: float) -> dict[str, Any]:
    """The candidate (by `name`) best on `select_by` among the rows of `table` whose LATENCY_COLUMN is at most
    `max_latency_ms`; the fastest one when none is."""
    missing = {select_by, LATENCY_COLUMN, "name"} - set(table.columns)
    if missing:
        raise UserError(f"decoding sweep table lacks {sorted(missing)}")
    fitting = table[table[LATENCY_COLUMN] <= max_latency_ms]
    best = (fitting.loc[fitting[select_by].idxmax(), "name"] if len(fitting)
            else table.loc[table[LATENCY_COLUMN].idxmin(), "name"])
    return next(c for c in candidates if c["name"] == best)
