"""The decision rule and the sentences that compare models, on small hand-made metric sets: one case per branch."""
from __future__ import annotations

import pytest

from text_autocomplete.comparison import Difference
from text_autocomplete.registry import SHIPPED as LSTM
from text_autocomplete.registry import TRANSFORMER as GPT2
from text_autocomplete.report import ReportConfig, recommend, recommendation, rule_text
from text_autocomplete.selection import BudgetConfig

CONFIG = ReportConfig(primary_metric="rouge1", examples=3)
BUDGET = BudgetConfig(max_model_mb=100.0, max_latency_ms=20.0)


def model(size_mb: float, time_ms: float) -> dict:
    return {"size_mb": size_mb, "time_ms": time_ms}


def lstm_minus_gpt2(low: float, high: float) -> Difference:
    return Difference(LSTM, GPT2, "rouge1", round((low + high) / 2, 5), low, high, 0.95)


LIGHT_BETTER, HEAVY_BETTER, NO_DIFFERENCE = (lstm_minus_gpt2(0.01, 0.03), lstm_minus_gpt2(-0.03, -0.01),
                                             lstm_minus_gpt2(-0.01, 0.016))
FITS, SMALLER_FITS = model(15.0, 4.0), model(8.0, 12.0)
TOO_LARGE, TOO_SLOW, BOTH_OVER = model(253.1, 15.0), model(50.0, 900.0), model(253.1, 985.7)

# (what the rule says happens, LSTM, transformer, difference, the model shipped, words the reason must hold)
BRANCHES = [
    ("both fit, the transformer is better: it ships", FITS, SMALLER_FITS, HEAVY_BETTER, GPT2,
     ["transformer is better than the LSTM + n-gram on ROUGE-1 by 0.0200", "fits the budgets"]),
    ("both fit, the LSTM + n-gram is better: it ships", SMALLER_FITS, FITS, LIGHT_BETTER, LSTM,
     ["LSTM + n-gram is better than the transformer on ROUGE-1 by 0.0200", "fits the budgets"]),
    ("both fit, no measurable difference: the smaller file ships (the LSTM)", FITS, model(50.0, 15.0),
     NO_DIFFERENCE, LSTM, ["no measurable difference", "the LSTM + n-gram's file is the smaller (15.0 MB against 50.0 MB)"]),
    ("both fit, no measurable difference: the smaller file ships (the transformer)", FITS, SMALLER_FITS,
     NO_DIFFERENCE, GPT2, ["no measurable difference", "the transformer's file is the smaller"]),
    ("the transformer is better but too large: the LSTM ships", FITS, TOO_LARGE, HEAVY_BETTER, LSTM,
     ["transformer is better", "its 253.1 MB file exceeds 100 MB", "the quality gap is the price"]),
    ("the transformer is better but too slow: the LSTM ships", FITS, TOO_SLOW, HEAVY_BETTER, LSTM,
     ["transformer is better", "its time per completion at batch 1 exceeds 20 ms", "the quality gap is the price"]),
    ("the LSTM + n-gram is better but does not fit: the transformer ships", TOO_LARGE, FITS, LIGHT_BETTER, GPT2,
     ["LSTM + n-gram is better", "the LSTM + n-gram does not fit (its 253.1 MB file exceeds 100 MB)", "the quality gap is the price"]),
    ("no measurable difference, only the transformer fits: it ships", TOO_SLOW, FITS, NO_DIFFERENCE, GPT2,
     ["no measurable difference", "the LSTM + n-gram does not fit", "the transformer fits them"]),
    ("no model fits: none ships", TOO_LARGE, BOTH_OVER, HEAVY_BETTER, None,
     ["the LSTM + n-gram does not fit (its 253.1 MB file exceeds 100 MB)",
      "the transformer does not fit (its 253.1 MB file exceeds 100 MB and its time per completion at batch 1 exceeds "
      "20 ms)",
      "On quality, the transformer is better"]),
]


@pytest.mark.parametrize("case, lstm, gpt2, difference, choice, words", BRANCHES, ids=[b[0] for b in BRANCHES])
def test_each_branch_of_the_rule(case, lstm, gpt2, difference, choice, words):
    decision = recommend({LSTM: lstm, GPT2: gpt2}, difference, BUDGET)
    assert decision.choice == choice, case
    for phrase in words:
        assert phrase in decision.reason, decision.reason


def test_the_stated_rule_names_the_budgets_and_the_metric():
    text = rule_text(CONFIG, BUDGET, 0.95)
    assert "at most 100 MB" in text and "at most 20 ms per completion at batch 1" in text
    assert "ROUGE-1 by the paired 95% interval" in text and "the smaller model file ships" in text
    other = rule_text(ReportConfig("rouge2", 3), BudgetConfig(50.0, 5.0), 0.9)
    assert "at most 50 MB" in other and "at most 5 ms" in other and "ROUGE-2 by the paired 90% interval" in other


def test_the_recommendation_prints_the_rule_and_the_decision():
    shipped = recommendation({LSTM: FITS, GPT2: TOO_LARGE}, HEAVY_BETTER, CONFIG, BUDGET)
    assert shipped.startswith("**Recommendation: ship the LSTM + n-gram.** The rule: " + rule_text(CONFIG, BUDGET, 0.95)
                              + ". Here ")
    nothing = recommendation({LSTM: TOO_LARGE, GPT2: TOO_LARGE}, HEAVY_BETTER, CONFIG, BUDGET)
    assert nothing.startswith("**Recommendation: no model fits the budgets.**")


@pytest.mark.parametrize("difference, sentence", [
    (LIGHT_BETTER, "the LSTM + n-gram is better than the transformer on ROUGE-1 by 0.0200 (95% paired interval [0.0100, "
                   "0.0300])"),
    (HEAVY_BETTER, "the transformer is better than the LSTM + n-gram on ROUGE-1 by 0.0200 (95% paired interval [0.0100, "
                   "0.0300])"),
    (NO_DIFFERENCE, "no measurable difference between the LSTM + n-gram and the transformer on ROUGE-1 (LSTM + n-gram minus "
                    "transformer: +0.0030, 95% paired interval [-0.0100, +0.0160] holds 0)"),
    (Difference(LSTM, GPT2, "top1", 0.004, 0.0, 0.008, 0.95), "no measurable difference between the LSTM + n-gram and "
     "the transformer on next-word top-1 (LSTM + n-gram minus transformer: +0.0040, 95% paired interval [+0.0000, +0.0080] "
     "holds 0)"),
    (Difference(LSTM, GPT2, "rouge1", 0.02, 0.01, 0.03, 0.9), "the LSTM + n-gram is better than the transformer on "
     "ROUGE-1 by 0.0200 (90% paired interval [0.0100, 0.0300])"),  # the level is the config's, never typed
])
def test_a_comparison_in_words_follows_its_interval(difference, sentence):
    assert difference.sentence() == sentence
