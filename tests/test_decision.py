"""The decision rule (decision.py) over three or more models, on hand-made records and paired differences: one case
per branch of the rule, and the rule's words made from the config."""
from __future__ import annotations

import pytest

from text_autocomplete.comparison import Difference
from text_autocomplete.decision import decide, over_budget, rule_text
from text_autocomplete.errors import UserError
from text_autocomplete.registry import BASELINE, GPT2, LSTM_ALONE, MIX, NGRAM
from text_autocomplete.selection import BudgetConfig

BUDGET = BudgetConfig(max_model_mb=10.0, max_memory_mb=50.0, max_latency_ms=20.0)
PRIMARY = ("rouge1", "keys_saved")
BETTER, WORSE, TIE = (0.01, 0.03), (-0.03, -0.01), (-0.01, 0.02)  # intervals of a minus b


def record(size_mb: float = 5.0, memory_mb: float = 10.0, time_ms: float = 5.0, keyboard: bool = True) -> dict:
    return {"size_mb": size_mb, "weights_in_memory_mb": memory_mb, "time_ms": time_ms, "rouge1": 0.1,
            **({"keys_saved": 0.4} if keyboard else {})}


def lookup_of(pairs: dict[tuple[str, str, str], tuple[float, float]]):
    """decision.Lookup over hand-made intervals (a minus b), read either way round; a pair not listed is a tie."""
    def lookup(a: str, b: str, metric: str) -> Difference | None:
        for (x, y, m), (low, high) in pairs.items():
            if m == metric and {x, y} == {a, b}:
                d = Difference(x, y, m, round((low + high) / 2, 5), low, high, 0.95)
                return d if x == a else d.flipped()
        return Difference(a, b, metric, 0.005, *TIE, 0.95)
    return lookup


def test_no_model_fits_none_ships():
    records = {MIX: record(size_mb=17.2), NGRAM: record(memory_mb=166.6), GPT2: record(time_ms=600.0)}
    decision = decide(records, lookup_of({}), PRIMARY, BUDGET)
    assert decision.choice is None
    text = " ".join(decision.reasons)
    assert "the LSTM + n-gram does not fit (its 17.2 MB of files exceed 10 MB)" in text
    assert "the n-gram does not fit (its 166.6 MB in memory exceed 50 MB)" in text
    assert "the transformer does not fit (its time per suggestion at batch 1 exceeds 20 ms)" in text


def test_the_one_model_no_fitting_model_beats_ships_though_it_is_the_largest():
    records = {MIX: record(size_mb=9.0), LSTM_ALONE: record(size_mb=6.0), BASELINE: record(size_mb=0.0)}
    pairs = {(MIX, LSTM_ALONE, "rouge1"): BETTER, (MIX, BASELINE, "rouge1"): BETTER}
    decision = decide(records, lookup_of(pairs), PRIMARY, BUDGET)
    assert decision.choice == MIX
    text = " ".join(decision.reasons)
    assert "The LSTM alone is beaten: the LSTM + n-gram is better than the LSTM alone on ROUGE-1 by 0.0200" in text
    assert "No model that fits beats the LSTM + n-gram on ROUGE-1 and keystroke savings; the LSTM + n-gram ships" in text


def test_among_the_unbeaten_the_smallest_ships():
    records = {MIX: record(size_mb=9.0), LSTM_ALONE: record(size_mb=6.4), NGRAM: record(size_mb=8.0),
               BASELINE: record(size_mb=0.0)}
    pairs = {(m, BASELINE, "rouge1"): BETTER for m in (MIX, LSTM_ALONE, NGRAM)}
    decision = decide(records, lookup_of(pairs), PRIMARY, BUDGET)
    assert decision.choice == LSTM_ALONE
    assert ("of them the LSTM alone's files are the smallest (6.4 MB against 9.0 MB, 8.0 MB), so it ships"
            in decision.reasons[-1])


def test_a_better_model_over_a_budget_is_not_weighed():
    records = {MIX: record(memory_mb=172.8), LSTM_ALONE: record(size_mb=6.4), BASELINE: record(size_mb=0.0)}
    pairs = {(MIX, LSTM_ALONE, "rouge1"): BETTER, (LSTM_ALONE, BASELINE, "keys_saved"): BETTER}
    decision = decide(records, lookup_of(pairs), PRIMARY, BUDGET)
    assert decision.choice == LSTM_ALONE
    assert decision.reasons[:2] == ("Over budget: the LSTM + n-gram does not fit (its 172.8 MB in memory exceed 50 MB).",
                                    "Fitting: the LSTM alone and the baseline.")
    assert "the LSTM alone is better than the baseline on keystroke savings" in " ".join(decision.reasons)


def test_when_every_fitting_model_is_beaten_the_first_metric_decides():
    """Beaten in a circle across the two metrics: ROUGE-1 alone decides, and of the models it leaves unbeaten the
    smaller ships."""
    records = {MIX: record(size_mb=9.0), LSTM_ALONE: record(size_mb=6.4), NGRAM: record(size_mb=1.0)}
    pairs = {(MIX, LSTM_ALONE, "rouge1"): BETTER, (MIX, LSTM_ALONE, "keys_saved"): WORSE,
             (MIX, NGRAM, "rouge1"): BETTER, (LSTM_ALONE, NGRAM, "keys_saved"): BETTER}
    decision = decide(records, lookup_of(pairs), PRIMARY, BUDGET)
    assert decision.choice == MIX
    assert decision.reasons[-1].startswith("Every model that fits is beaten on some primary metric, so ROUGE-1 alone "
                                           "decides: none beats the LSTM + n-gram on it")
    tied = {(MIX, LSTM_ALONE, "rouge1"): TIE, (MIX, LSTM_ALONE, "keys_saved"): BETTER,
            (MIX, NGRAM, "rouge1"): BETTER, (LSTM_ALONE, NGRAM, "rouge1"): BETTER, (NGRAM, MIX, "keys_saved"): BETTER}
    decision = decide(records, lookup_of(tied), PRIMARY, BUDGET)
    assert decision.choice == LSTM_ALONE  # MIX and LSTM_ALONE unbeaten on ROUGE-1: the smaller ships
    assert "none beats the LSTM + n-gram and the LSTM alone on it" in decision.reasons[-1]


def test_a_model_without_a_keyboard_run_is_not_compared_on_it():
    records = {LSTM_ALONE: record(size_mb=6.4), GPT2: record(size_mb=3.0, keyboard=False),
               BASELINE: record(size_mb=0.0)}

    def lookup(a: str, b: str, metric: str) -> Difference | None:
        if metric == "keys_saved" and GPT2 in (a, b):
            return None  # the pair file holds no keystroke savings
        return lookup_of({(LSTM_ALONE, BASELINE, "keys_saved"): BETTER, (GPT2, BASELINE, "rouge1"): BETTER})(a, b, metric)

    decision = decide(records, lookup, PRIMARY, BUDGET)
    assert decision.choice == GPT2  # unbeaten on ROUGE-1, never weighed on keystroke savings, the smaller
    assert "Not compared on a metric it has no figure for: the transformer has no keystroke savings." in decision.reasons


@pytest.mark.parametrize("problem, words", [
    (record(size_mb=10.5), "its 10.5 MB of files exceed 10 MB"),
    (record(memory_mb=50.1), "its 50.1 MB in memory exceed 50 MB"),
    (record(time_ms=20.5), "its time per suggestion at batch 1 exceeds 20 ms"),
])
def test_each_budget_is_applied(problem, words):
    assert over_budget(problem, BUDGET) == [words]
    assert over_budget(record(size_mb=10.0, memory_mb=50.0, time_ms=20.0), BUDGET) == []


def test_the_stated_rule_is_made_from_the_config():
    text = rule_text(PRIMARY, BUDGET, 0.95)
    assert ("at most 10 MB on disk, at most 50 MB in memory once loaded, and at most 20 ms per suggestion (one "
            "completion) at batch 1" in text)
    assert "a primary metric (ROUGE-1 and keystroke savings) by the paired 95% interval" in text
    assert "when every model that fits is beaten on some metric, ROUGE-1 alone decides" in text
    other = rule_text(("rouge2",), BudgetConfig(5.0, 20.0, 3.0), 0.9)
    assert "at most 5 MB on disk, at most 20 MB in memory" in other and "at most 3 ms" in other
    assert "better than it on ROUGE-2 by the paired 90% interval" in other and "alone decides" not in other


def test_when_every_model_fits_all_are_weighed():
    records = {MIX: record(size_mb=9.0), LSTM_ALONE: record(size_mb=6.4), BASELINE: record(size_mb=0.0)}
    pairs = {(MIX, BASELINE, "rouge1"): BETTER, (LSTM_ALONE, BASELINE, "rouge1"): BETTER}
    decision = decide(records, lookup_of(pairs), PRIMARY, BUDGET)
    assert decision.reasons[0] == "Every model fits the budgets." and decision.choice == LSTM_ALONE
    assert "No model that fits beats the LSTM + n-gram and the LSTM alone" in decision.reasons[-1]


def test_a_missing_comparison_is_an_error_not_a_tie():
    records = {MIX: record(), LSTM_ALONE: record(), BASELINE: record()}
    with pytest.raises(UserError, match="the LSTM \\+ n-gram and the LSTM alone both have ROUGE-1 but no paired"):
        decide(records, lambda a, b, metric: None, PRIMARY, BUDGET)
