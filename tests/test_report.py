"""The recommendation paragraph and the sentences that compare models (the rule itself: tests/test_decision.py)."""
from __future__ import annotations

import json

import pytest

from text_autocomplete.comparison import Difference
from text_autocomplete.registry import SHIPPED as LSTM
from text_autocomplete.registry import TRANSFORMER as GPT2
from text_autocomplete.decision import Decision, rule_text
from text_autocomplete.errors import UserError
from text_autocomplete.report import ReportConfig, lookup_in, recommendation
from text_autocomplete.selection import BudgetConfig

CONFIG = ReportConfig(primary_metrics=["rouge1", "keys_saved"], examples=3, phone_tolerance=0.005,
                      phone_max_memory_mb=20.0, phone_max_word_ms=2.0, phone_min_agreement=0.99)
BUDGET = BudgetConfig(max_model_mb=10.0, max_memory_mb=50.0, max_latency_ms=20.0)


def lstm_minus_gpt2(low: float, high: float) -> Difference:
    return Difference(LSTM, GPT2, "rouge1", round((low + high) / 2, 5), low, high, 0.95)


LIGHT_BETTER, HEAVY_BETTER, NO_DIFFERENCE = (lstm_minus_gpt2(0.01, 0.03), lstm_minus_gpt2(-0.03, -0.01),
                                             lstm_minus_gpt2(-0.01, 0.016))


def test_the_recommendation_prints_the_rule_and_the_reasons():
    decision = Decision(LSTM, ("Over budget: the transformer does not fit.", "The LSTM + n-gram ships."))
    shipped = recommendation(decision, CONFIG, BUDGET, 0.95)
    assert shipped == ("**Recommendation: ship the LSTM + n-gram.** The rule, applied to every model below: "
                       + rule_text(CONFIG.primary_metrics, BUDGET, 0.95) + ".\n\n" + " ".join(decision.reasons))
    assert recommendation(Decision(None, ("x",)), CONFIG, BUDGET, 0.95).startswith(
        "**Recommendation: no model fits the budgets.**")


def test_a_pair_is_read_either_way_round():
    lookup = lookup_in([[LIGHT_BETTER]])
    assert lookup(LSTM, GPT2, "rouge1") == LIGHT_BETTER
    assert lookup(GPT2, LSTM, "rouge1") == Difference(GPT2, LSTM, "rouge1", -0.02, -0.03, -0.01, 0.95)
    assert lookup(GPT2, LSTM, "keys_saved") is None


@pytest.mark.parametrize("metrics", [[], ["rouge1", "perplexity"]])
def test_an_unknown_primary_metric_is_named(metrics):
    with pytest.raises(UserError, match="report.primary_metrics"):
        ReportConfig(primary_metrics=metrics, examples=3, phone_tolerance=0.005,
                      phone_max_memory_mb=20.0, phone_max_word_ms=2.0, phone_min_agreement=0.99)


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


def test_keystroke_savings_pair_as_a_ratio_of_summed_taps():
    """keys_saved is sum(saved) / sum(without) over the texts: the pair's mean is the difference of the two models'
    figures, its interval a paired bootstrap of that ratio; a model without a keyboard run is not paired on it."""
    import numpy as np
    import pandas as pd

    from text_autocomplete.comparison import differences
    from text_autocomplete.evaluation import EvalConfig
    from text_autocomplete.measures import TAPS_SAVED, TAPS_WITHOUT

    rng = np.random.default_rng(0)
    without = rng.integers(10, 80, 300)
    saved_b = (without * rng.uniform(0.2, 0.5, 300)).astype(int)
    saved_a = np.minimum(saved_b + rng.integers(0, 4, 300), without)
    base = {"text_id": [str(i) for i in range(300)], "rouge1": rng.random(300)}
    a = pd.DataFrame({**base, TAPS_SAVED: saved_a, TAPS_WITHOUT: without})
    b = pd.DataFrame({**base, TAPS_SAVED: saved_b, TAPS_WITHOUT: without})
    config = EvalConfig(max_texts=0, seed=0, bootstrap_samples=500, confidence=0.95, use_stemmer=False, examples=0,
                        prompt_words=4, latency_texts=0)
    found = {d.metric: d for d in differences(LSTM, GPT2, a, b, ".", config)}
    keys = found["keys_saved"]
    assert keys.mean == pytest.approx(saved_a.sum() / without.sum() - saved_b.sum() / without.sum(), abs=1e-5)
    assert 0 < keys.low < keys.mean < keys.high and keys.winner == LSTM
    assert set(found) == {"rouge1", "keys_saved"} and found["rouge1"].mean == 0.0
    assert "keys_saved" not in {d.metric for d in differences(LSTM, GPT2, a, b.drop(columns=[TAPS_SAVED]), ".", config)}


def test_a_sweep_across_vocabularies_is_compared_on_its_task_metric_not_perplexity():
    import pandas as pd

    from text_autocomplete.report import vocabulary_sentence

    table = pd.DataFrame({"experiment": ["a", "b", "big"], "tokenizer.vocab_size": [10000, 10000, 20000],
                          "train.lr": [0.1, 0.2, 0.2], "best_val_perplexity": [180.0, 170.0, 226.0],
                          "best_val_rouge1": [0.13, 0.10, 0.12]})
    sentence = vocabulary_sentence(table)
    assert "big (20,000 words) 0.1200 against b (10,000 words, otherwise the same) 0.1000" in sentence
    assert "same vocabulary only" in sentence and "against a (" not in sentence  # a differs in the lr too
    assert vocabulary_sentence(table[table["tokenizer.vocab_size"] == 10000]).startswith("Every row has the same")
    assert "no two rows differ in the vocabulary alone" in vocabulary_sentence(table.drop(index=1))


def test_a_vocabulary_sweep_against_its_base_quotes_the_paired_interval_and_the_minimum_count():
    import pandas as pd

    from text_autocomplete.report import vocabulary_sentence

    table = pd.DataFrame({"experiment": ["base", "v20k", "v30k"], "tokenizer.vocab_size": [10000, 20000, 30000],
                          "tokenizer.min_frequency": [2, 2, 1], "train.lr": [0.006] * 3,
                          "lstm_val_top3": [0.28, 0.29, 0.27],
                          "lstm_top3_vs_base": ["+0.0000 [+0.0000, +0.0000]", "+0.0100 [+0.0010, +0.0190]",
                                                "-0.0100 [-0.0200, -0.0010]"]})
    sentence = vocabulary_sentence(table)
    assert ("v20k (20,000 words, min_frequency 2) 0.2900 against base (10,000 words, min_frequency 2, otherwise the "
            "same) 0.2800, paired differences over the same texts in top-3 (the LSTM alone +0.0100 [+0.0010, "
            "+0.0190])") in sentence
    assert "keystroke savings" not in sentence  # a table without those columns quotes none
    assert "v30k (30,000 words, min_frequency 1) 0.2700 against base" in sentence and "no interval" not in sentence
    # the minimum count alone makes another vocabulary: the rows are not compared on perplexity
    same_size = table.assign(**{"tokenizer.vocab_size": 10000})
    assert vocabulary_sentence(same_size).startswith("Perplexity compares rows of the same vocabulary only")


def test_a_paired_vocabulary_sweep_pairs_with_its_base_even_where_another_vocabulary_is_commoner():
    import pandas as pd

    from text_autocomplete.report import vocabulary_sentence

    # The base (10k) is not the commonest vocabulary; a setting empty in old tables (NaN) matches itself; the 20k row
    # at another rate pairs with the 10k row at that rate, a mean without an interval.
    table = pd.DataFrame({"experiment": ["base", "v20k", "v20k_lr", "lr"], "tokenizer.vocab_size": [1e4, 2e4, 2e4, 1e4],
                          "tokenizer.min_frequency": [2, 2, 2, 2], "train.lr": [0.006, 0.006, 0.01, 0.01],
                          "lstm.weight_drop": [float("nan")] * 4, "lstm_val_top3": [0.28, 0.29, 0.30, 0.27],
                          "lstm_top3_vs_base": ["+0.0000 [+0.0000, +0.0000]", "+0.0100 [+0.0010, +0.0190]",
                                                "+0.0200 [+0.0100, +0.0300]", "-0.0100 [-0.0200, +0.0000]"],
                          "mix_top3_vs_base": ["+0.0000 [+0.0000, +0.0000]", "+0.0050 [-0.0040, +0.0140]",
                                               "+0.0100 [+0.0000, +0.0200]", "-0.0050 [-0.0100, +0.0000]"],
                          "lstm_keys_saved_vs_base": ["+0.0000 [+0.0000, +0.0000]", "+0.0090 [+0.0060, +0.0120]",
                                                      "+0.0010 [-0.0020, +0.0040]", "-0.0010 [-0.0040, +0.0020]"],
                          "mix_keys_saved_vs_base": ["+0.0000 [+0.0000, +0.0000]", "+0.0080 [+0.0050, +0.0110]",
                                                     "+0.0020 [-0.0010, +0.0050]", "-0.0020 [-0.0050, +0.0010]"]})
    sentence = vocabulary_sentence(table)
    assert ("v20k (20,000 words, min_frequency 2) 0.2900 against base (10,000 words, min_frequency 2, otherwise the "
            "same) 0.2800, paired differences over the same texts in top-3 (the LSTM alone +0.0100 [+0.0010, +0.0190], "
            "the mixture +0.0050 [-0.0040, +0.0140]) and in keystroke savings (the LSTM alone +0.0090 [+0.0060, "
            "+0.0120], the mixture +0.0080 [+0.0050, +0.0110])") in sentence
    assert "v20k_lr (20,000 words, min_frequency 2) 0.3000 against lr (10,000 words" in sentence
    assert "pairs without an interval are means" in sentence and "against v20k" not in sentence


def test_an_unpaired_sweep_compares_with_the_commonest_vocabulary_as_a_whole_not_column_by_column():
    import pandas as pd

    from text_autocomplete.report import vocabulary_sentence

    # Column by column the commonest size is 10k and the commonest min_frequency 2: a vocabulary no row has.
    table = pd.DataFrame({"experiment": ["a", "b", "c", "d", "e"], "tokenizer.vocab_size": [1e4, 1e4, 2e4, 3e4, 4e4],
                          "tokenizer.min_frequency": [1, 1, 2, 2, 2], "train.lr": [0.006, 0.01, 0.006, 0.006, 0.006],
                          "val_rouge1": [0.11, 0.10, 0.12, 0.13, 0.14]})
    sentence = vocabulary_sentence(table)
    assert "c (20,000 words, min_frequency 2) 0.1200 against a (10,000 words, min_frequency 1, otherwise" in sentence
    assert sentence.endswith("which kept no per-text scores: no paired interval).")


def test_the_seed_ensembles_sentence_words_each_difference_from_its_interval():
    from text_autocomplete.report import paired_points, seed_ensemble_sentence

    figures = {"command": "python benchmarks/seed_ensemble.py", "runs": {"base": "a", "other": "b"},
               "seeds": {"base": 42, "other": 43}, "parameters_each": 1554434,
               "ngram_weights": {"base": 0.3, "other": 0.3, "ensemble": 0.2},
               "val_texts_top3": 2000, "val_texts_keyboard": 500, "confidence": 0.95,
               "ensemble_vs_base": {"top3": [0.005, 0.001, 0.009], "keys_saved": [-0.001, -0.003, 0.001]},
               "other_seed_vs_base": {"top3": [-0.004, -0.008, -0.0005], "keys_saved": [0.001, -0.002, 0.004]},
               "lstm_alone_val_perplexity": {"base": 127.43, "other": 127.9, "ensemble": 120.12}}
    sentence = seed_ensemble_sentence(figures, "reports/benchmarks/seed_ensemble.json")
    assert ("mixed with the n-gram model at weight 0.2 (chosen for the pair on val perplexity), against a's mixture "
            "(weight 0.3), paired over the same val texts (2,000 for top-3, 500 for keystroke savings; 95% intervals): "
            "top-3 +0.50 points [+0.10, +0.90], higher; keystroke savings -0.10 points [-0.30, +0.10], no measurable "
            "difference.") in sentence
    assert ("The yardstick of a seed, b's LSTM in a's mixture against a's: top-3 -0.40 points [-0.80, -0.05], lower; "
            "keystroke savings +0.10 points [-0.20, +0.40], no measurable difference.") in sentence
    assert "a 127.43, b 127.90, the two averaged 120.12." in sentence and "seeds 42 and 43" in sentence
    assert sentence.endswith("for every suggestion, 3,108,868 parameters in all: twice one LSTM's size and work.")
    assert paired_points([0.0, 0.0, 0.0], "x") == "x +0.00 points [+0.00, +0.00], no measurable difference"


def test_the_phone_vocabulary_sentence_says_which_runs_fit_the_budget():
    from text_autocomplete.report import phone_vocab_sentence

    def run(mb: float, fits: bool, cut: int, vocab: int) -> dict:
        files = {"lstm_step.pte": int(mb * 1e6) - 1_600_000, "ngram.bin": 1_600_000}
        return {"files_mb": mb, "files_bytes": files, "max_mb": 5.0, "fits": fits, "ngram_min_count": cut,
                "vocab_size": vocab,
                "parameters": vocab * 100, "top3_vs_base": [0.0015, -0.009, 0.012],
                "keys_saved_vs_base": [0.0092, 0.0064, 0.0121]}

    figures = {"command": "python benchmarks/phone_vocab.py", "base": "v10", "val_texts_top3": 2000,
               "val_texts_keyboard": 500, "confidence": 0.95,
               "runs": {"v10": run(4.516, True, 2, 10000), "v20": run(6.824, False, 2, 20000)}}
    sentence = phone_vocab_sentence(figures, "reports/benchmarks/phone_vocab.json")
    assert "with v10's (4.52 MB of phone files at n-gram cut-off 2, within the 5 MB budget)" in sentence
    assert ("v20 (20,000 words, 2,000,000 LSTM parameters): 6.82 MB of phone files at n-gram cut-off 2 (the lowest "
            "val perplexity), over the 5 MB budget, which no cut-off meets: the files other than the n-gram are "
            "5.22 MB already; top-3 +0.15 points [-0.90, +1.20], no measurable difference; keystroke savings +0.92 "
            "points [+0.64, +1.21], higher.") in sentence
    assert "v10 (10,000 words" not in sentence  # the base is the yardstick, not a row of its own


def test_the_levers_block_names_its_benchmarks_level_when_the_parameter_differs(tmp_path):
    """The ensemble's and the phone's intervals are their benchmarks' level: at another eval.confidence the block says
    so, at the same one it adds nothing."""
    from text_autocomplete.report import LEVERS_END, LEVERS_START, levers_section

    figures = {"command": "python benchmarks/seed_ensemble.py", "runs": {"base": "a", "other": "b"},
               "seeds": {"base": 42, "other": 43}, "parameters_each": 10,
               "ngram_weights": {"base": 0.3, "other": 0.3, "ensemble": 0.2},
               "val_texts_top3": 20, "val_texts_keyboard": 5, "confidence": 0.95,
               "ensemble_vs_base": {"top3": [0.0, -0.1, 0.1], "keys_saved": [0.0, -0.1, 0.1]},
               "other_seed_vs_base": {"top3": [0.0, -0.1, 0.1], "keys_saved": [0.0, -0.1, 0.1]},
               "lstm_alone_val_perplexity": {"base": 1.0, "other": 1.0, "ensemble": 1.0}}
    (tmp_path / "ensemble.json").write_text(json.dumps(figures))
    same = levers_section(tmp_path, None, "ensemble.json", None, confidence=0.95)
    other = levers_section(tmp_path, None, "ensemble.json", None, confidence=0.9)
    assert same.startswith(LEVERS_START) and same.endswith(LEVERS_END) and "not eval.confidence" not in same
    assert "These benchmarks' intervals are 95%, not eval.confidence's 90%: run them again for those." in other
    assert levers_section(tmp_path, None, "missing.json", None) is None
