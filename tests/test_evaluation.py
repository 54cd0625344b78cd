"""The shared evaluation protocol: the 3/4 split, ROUGE by hand, empty predictions, bootstrap, baseline."""
from __future__ import annotations

import numpy as np
import pytest

from text_autocomplete.data_utils import DataConfig
from text_autocomplete.evaluation import (
    EvalConfig,
    Example,
    MostFrequentWords,
    bootstrap_ci,
    evaluate,
    make_examples,
    rouge_f1,
    split_prompt_target,
)

from conftest import project_config


@pytest.mark.parametrize("text, prompt, target", [
    ("one two three four", "one two three", "four"),
    ("one two three four five", "one two three", "four five"),
    ("a b c d e f g", "a b c d e", "f g"),
])
def test_three_quarter_split(text, prompt, target):
    assert split_prompt_target(text) == Example(prompt, target)


def test_short_texts_are_not_examples():
    assert split_prompt_target("only three words") is None
    assert make_examples(["only three words", "now there are four"]) == [Example("now there are", "four")]


def test_rouge_matches_hand_computed_values():
    scores = rouge_f1(["the cat sat", "a b c d"], ["the cat ran", "d c b a"])
    # unigrams: 2 of 3 shared -> P = R = F = 2/3; bigrams: "the cat" of 2 -> 1/2; LCS "the cat" -> 2/3
    assert scores["rouge1"][0] == pytest.approx(2 / 3)
    assert scores["rouge2"][0] == pytest.approx(1 / 2)
    assert scores["rougeL"][0] == pytest.approx(2 / 3)
    # all 4 unigrams shared, no bigram shared, longest common subsequence of length 1
    assert scores["rouge1"][1] == pytest.approx(1.0)
    assert scores["rouge2"][1] == 0.0
    assert scores["rougeL"][1] == pytest.approx(1 / 4)


def test_empty_prediction_scores_zero():
    scores = rouge_f1(["the cat sat", "the cat sat"], ["", "   "])
    assert all(scores[k].tolist() == [0.0, 0.0] for k in scores)


def test_bootstrap_ci_contains_the_mean_and_is_seeded():
    values = np.random.default_rng(0).random(300)
    low, high = bootstrap_ci(values, 500, 0.95, seed=3)
    assert low < values.mean() < high
    assert (low, high) == bootstrap_ci(values, 500, 0.95, seed=3)
    assert (low, high) != bootstrap_ci(values, 500, 0.95, seed=4)
    narrow = bootstrap_ci(values, 500, 0.5, seed=3)
    assert low < narrow[0] < narrow[1] < high


class Echo:
    """A completer that returns fixed text, to check what the evaluator does with it."""

    name = "echo"

    def __init__(self, outputs: dict[str, str]):
        self.outputs = outputs
        self.calls: list[list[int]] = []

    def complete(self, prompts, budgets):
        self.calls.append(list(budgets))
        return [self.outputs[p] for p in prompts]


def test_evaluate_cuts_to_budget_cleans_and_counts_empty_as_zero():
    examples = [Example("i want to", "go home"), Example("see you", "soon"), Example("a b c", "d")]
    echo = Echo({"i want to": "Go HOME now please", "see you": "", "a b c": "d!"})
    result = evaluate(echo, examples, project_config(EvalConfig, "eval", bootstrap_samples=100), 2,
                      project_config(DataConfig, "data"))
    assert result.completions == ["go home", "", "d"]
    assert result.scores["rouge1"].tolist() == [1.0, 0.0, 1.0]
    assert result.metrics["rouge1"] == pytest.approx(2 / 3, abs=1e-4)
    assert result.metrics["empty_completions"] == 1 and result.metrics["n_texts"] == 3
    assert sorted(b for call in echo.calls for b in call) == [1, 1, 2]  # each model is asked for the target length
    assert all(len(call) <= 2 for call in echo.calls)  # in DataLoader batches


def test_next_word_accuracy_top1_from_completions_and_top3_from_candidates():
    from text_autocomplete.evaluation import first_word_accuracy

    targets = ["go home", "soon", "the end", "was fun"]
    assert first_word_accuracy(targets, [["go"], ["later"], ["the"], []], k=1) == 0.5
    candidates = [["went", "go", "come"], ["now", "later", "then"], ["a", "an", "the"], ["is", "fun", "was"]]
    assert first_word_accuracy(targets, candidates, k=3) == 0.75
    assert first_word_accuracy(targets, candidates, k=2) == 0.25
    assert first_word_accuracy([], [], k=3) == 0.0

    examples = [Example("i want to", "go home"), Example("see you", "soon"), Example("a b c", "the end")]
    echo = Echo({"i want to": "Go there", "see you": "", "a b c": "then the end"})
    result = evaluate(echo, examples, project_config(EvalConfig, "eval", bootstrap_samples=10), 2,
                      project_config(DataConfig, "data"), [["went", "go", "x"], ["soon"], ["a", "b", "c", "the"]])
    assert result.metrics["top1"] == round(1 / 3, 5)  # only "go" starts its completion right
    assert result.metrics["top3"] == round(2 / 3, 5)  # "the" is fourth: not in the top 3


def test_most_frequent_words_baseline():
    train = ["i am going to the shop", "she went to the beach", "we go to the park", "they like the sea"]
    baseline = MostFrequentWords(train)
    # targets (last quarter): "the shop", "the beach", "the park", "sea"; ties keep first-seen order
    assert baseline.words == ["the", "shop", "beach", "park", "sea"]
    assert baseline.complete(["x", "y"], [1, 3]) == ["the", "the shop beach"]
