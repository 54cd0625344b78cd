"""A decoding setting on val: cheapest first within the latency budget, a costlier one only when it is better by the
paired interval of the per-text scores (selection.choose_candidate)."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from text_autocomplete.errors import UserError
from text_autocomplete.evaluation import EvalConfig
from text_autocomplete.selection import CHOSEN, GAIN_LOW, INCUMBENT, LATENCY_COLUMN, choose_candidate

CONFIG = EvalConfig(max_texts=0, seed=0, bootstrap_samples=500, confidence=0.95, use_stemmer=False, examples=0,
                    prompt_words=4, latency_texts=0)
CANDIDATES = [{"name": "mbr32", "mbr_samples": 32}, {"name": "greedy"}, {"name": "beam4", "num_beams": 4}]
rng = np.random.default_rng(0)
BASE = rng.uniform(0, 0.3, 400)
# beam4 differs from greedy text by text both ways, a little better on average (a near-tie); mbr32 is better on
# every fourth text.
NOISE = rng.normal(0.0, 0.03, 400)
PER_TEXT = {"greedy": BASE, "beam4": BASE + NOISE - NOISE.mean() + 0.001,
            "mbr32": BASE + np.where(np.arange(400) % 4 == 0, 0.2, 0.0)}


def table(latencies: dict[str, float]) -> pd.DataFrame:
    """The sweep table as eval_lstm writes it, listed in params order (not by cost)."""
    names = [c["name"] for c in CANDIDATES]
    return pd.DataFrame({"name": names, "rouge1": [PER_TEXT[n].mean() for n in names],
                         LATENCY_COLUMN: [latencies[n] for n in names]})


LATENCIES = {"greedy": 6.0, "beam4": 12.0, "mbr32": 48.0}


@pytest.mark.parametrize("budget, chosen", [(100.0, "mbr32"), (20.0, "greedy"), (10.0, "greedy"), (1.0, "greedy")])
def test_a_costlier_setting_replaces_a_cheaper_one_only_when_better_by_its_paired_interval(budget, chosen):
    """beam4's mean is higher than greedy's, but inside the noise: greedy stays; mbr32 is clearly better, so it
    is used wherever it fits; with nothing within the budget, the fastest."""
    assert PER_TEXT["beam4"].mean() > PER_TEXT["greedy"].mean()  # beam4's mean alone would have replaced greedy
    out, best = choose_candidate(table(LATENCIES), PER_TEXT, CANDIDATES, "rouge1", CONFIG, LATENCY_COLUMN, budget)
    assert best["name"] == chosen
    assert out.loc[out[CHOSEN], "name"].tolist() == [chosen]


def test_the_table_says_what_each_candidate_was_weighed_against():
    out, _ = choose_candidate(table(LATENCIES), PER_TEXT, CANDIDATES, "rouge1", CONFIG, LATENCY_COLUMN, 100.0)
    rows = out.set_index("name")
    assert rows.at["beam4", INCUMBENT] == "greedy" and rows.at["beam4", GAIN_LOW] <= 0
    assert rows.at["mbr32", INCUMBENT] == "greedy" and rows.at["mbr32", GAIN_LOW] > 0
    assert pd.isna(rows.at["greedy", INCUMBENT])


def test_without_a_cost_column_the_listed_order_is_the_cost_order():
    """Listed first, mbr32 is the incumbent; the others are not better than it, so it stays."""
    _, best = choose_candidate(table(LATENCIES), PER_TEXT, CANDIDATES, "rouge1", CONFIG)
    assert best["name"] == "mbr32"
    swapped = [CANDIDATES[1], CANDIDATES[2], CANDIDATES[0]]
    frame = table(LATENCIES).set_index("name").loc[["greedy", "beam4", "mbr32"]].reset_index()
    assert choose_candidate(frame, PER_TEXT, swapped, "rouge1", CONFIG)[1]["name"] == "mbr32"
    near_tie_only = {"greedy": PER_TEXT["greedy"], "beam4": PER_TEXT["beam4"], "mbr32": PER_TEXT["greedy"]}
    assert choose_candidate(frame, near_tie_only, swapped, "rouge1", CONFIG)[1]["name"] == "greedy"


def test_a_table_without_latencies_is_named():
    with pytest.raises(UserError, match=LATENCY_COLUMN):
        choose_candidate(table(LATENCIES).drop(columns=[LATENCY_COLUMN]), PER_TEXT, CANDIDATES, "rouge1", CONFIG,
                         LATENCY_COLUMN, 20.0)
