"""The light model's decoding: the best on val among the settings that fit the latency budget."""
from __future__ import annotations

import pandas as pd
import pytest

from text_autocomplete.errors import UserError
from text_autocomplete.selection import LATENCY_COLUMN, choose_within_latency

CANDIDATES = [{"name": "greedy"}, {"name": "beam4", "num_beams": 4}, {"name": "mbr32", "mbr_samples": 32}]
TABLE = pd.DataFrame({"name": ["greedy", "beam4", "mbr32"], "rouge1": [0.111, 0.112, 0.116],
                      LATENCY_COLUMN: [6.0, 12.0, 48.0]})


@pytest.mark.parametrize("budget, chosen", [(100.0, "mbr32"), (20.0, "beam4"), (10.0, "greedy"), (1.0, "greedy")])
def test_the_best_that_fits_else_the_fastest(budget, chosen):
    assert choose_within_latency(TABLE, CANDIDATES, "rouge1", budget)["name"] == chosen


def test_a_table_without_latencies_is_named():
    with pytest.raises(UserError, match=LATENCY_COLUMN):
        choose_within_latency(TABLE.drop(columns=[LATENCY_COLUMN]), CANDIDATES, "rouge1", 20.0)
