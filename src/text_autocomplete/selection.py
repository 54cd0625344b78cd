"""The budgets a model for a phone keyboard must fit, and choosing a decoding setting on val.

A more expensive setting earns its cost only when it is measurably better: the candidates are taken from the
cheapest up, and one replaces the setting chosen so far only when it is better on val by the paired interval of
their per-text scores (it excludes 0); a gain inside the noise keeps the cheaper one. A keyboard waits for every
completion, so the light model's settings are first held to `budget.max_latency_ms` at batch 1 (the budget the
report's decision applies too); when none fits, the fastest is used.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from text_autocomplete.errors import UserError
from text_autocomplete.evaluation import EvalConfig, paired_difference

LATENCY_COLUMN = "ms_per_text_batch_1"
# What the sweep tables add about the choice: the setting it was weighed against, the paired interval of the gain,
# and which one was used.
INCUMBENT, GAIN, GAIN_LOW, GAIN_HIGH, CHOSEN = "weighed_against", "gain", "gain_low", "gain_high", "chosen"


@dataclass
class BudgetConfig:
    """The ``budget`` section of params.yaml: what a model must fit to ship in a phone keyboard."""

    max_model_mb: float  # the model's files on disk
    max_memory_mb: float  # its weights (and n-gram arrays) in memory once loaded
    max_latency_ms: float  # ms per completion at batch 1 (a keyboard answers each keystroke in ~20 ms)


def choose_candidate(table: pd.DataFrame, per_text: dict[str, np.ndarray], candidates: list[dict[str, Any]],
                     select_by: str, config: EvalConfig, cost_column: str | None = None,
                     max_cost: float | None = None) -> tuple[pd.DataFrame, dict[str, Any]]:
    """The candidate (by `name`) to use, by the module's rule: `table` has one row per candidate with its mean
    `select_by` (and `cost_column`: cheapest first; None = in the listed order, cheapest first), `per_text` each
    candidate's per-text `select_by` on the same val texts. Rows over `max_cost` are left out (the cheapest is used
    when every row is). Returns the table with the rule's columns and the chosen candidate."""
    missing = {select_by, "name", *([cost_column] if cost_column else [])} - set(table.columns)
    if missing:
        raise UserError(f"decoding sweep table lacks {sorted(missing)}")
    table = table.copy()
    order = table.sort_values(cost_column, kind="stable").index if cost_column else table.index
    fitting = [i for i in order if max_cost is None or table.at[i, cost_column] <= max_cost] or [order[0]]
    for column in (INCUMBENT, GAIN, GAIN_LOW, GAIN_HIGH):
        table[column] = None
    chosen = fitting[0]
    for i in fitting[1:]:
        name, incumbent = table.at[i, "name"], table.at[chosen, "name"]
        mean, (low, high) = paired_difference(per_text[name], per_text[incumbent], config.bootstrap_samples,
                                              config.confidence, config.seed)
        table.loc[i, [INCUMBENT, GAIN, GAIN_LOW, GAIN_HIGH]] = [incumbent, round(mean, 5), round(low, 5),
                                                                  round(high, 5)]
        if low > 0:
            chosen = i
    table[CHOSEN] = table.index == chosen
    best = table.at[chosen, "name"]
    return table, next(c for c in candidates if c["name"] == best)
