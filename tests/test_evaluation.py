"""The shared evaluation protocol: the 3/4 split, ROUGE by hand, empty predictions, bootstrap, baseline."""
from __future__ import annotations

import numpy as np
import pytest

from text_autocomplete.data_utils import DataConfig
from text_autocomplete.evaluation import (
    EvalConfig,
    Example,
    PER_TEXT_KEYS,
    MostFrequentWords,
    bootstrap_ci,
    complete_all,
    evaluate,
    make_examples,
    paired_difference,
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


def test_next_word_top1_and_top3_from_the_ranking_first_word_from_the_completion():
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
    assert result.metrics["first_word"] == round(1 / 3, 5)  # only "go" starts its completion right
    assert result.metrics["top1"] == round(1 / 3, 5)  # only "soon" is ranked first
    assert result.metrics["top3"] == round(2 / 3, 5)  # "the" is fourth: not in the top 3
    unranked = evaluate(echo, examples, project_config(EvalConfig, "eval", bootstrap_samples=10), 2)
    assert "top1" not in unranked.metrics and "top3" not in unranked.metrics and "first_word" in unranked.metrics


def test_most_frequent_words_baseline():
    train = ["i am going to the shop", "she went to the beach", "we go to the park", "they like the sea"]
    baseline = MostFrequentWords(train)
    # targets (last quarter): "the shop", "the beach", "the park", "sea"; ties keep first-seen order
    assert baseline.words == ["the", "shop", "beach", "park", "sea"]
    assert baseline.complete(["x", "y"], [1, 3]) == ["the", "the shop beach"]


# --------------------------------------------------------------------------- per-text scores and paired differences
def test_paired_difference_sees_a_gap_that_two_separate_intervals_hide():
    """Texts differ a lot in difficulty and model a is better by 0.02 on each: the per-model intervals overlap,
    the paired interval of the differences does not hold 0."""
    rng = np.random.default_rng(0)
    difficulty = rng.random(400)
    a, b = difficulty + 0.02 + rng.normal(0, 0.01, 400), difficulty
    mean, (low, high) = paired_difference(a, b, 1000, 0.95, seed=3)
    assert mean == pytest.approx(a.mean() - b.mean()) and 0 < low < mean < high < 0.03
    assert bootstrap_ci(a, 1000, 0.95, 3)[0] < bootstrap_ci(b, 1000, 0.95, 3)[1]  # overlapping: looks like a tie
    assert paired_difference(a, b, 1000, 0.95, seed=3) == (mean, (low, high))  # seeded
    assert paired_difference(b, b) == (0.0, (0.0, 0.0))
    shifted = paired_difference(b + 0.25, b)  # every text 0.25 better: no uncertainty at all
    assert shifted[0] == pytest.approx(0.25) and shifted[1] == pytest.approx((0.25, 0.25))
    with pytest.raises(ValueError, match="same texts"):
        paired_difference(a[:10], b)


def test_per_text_scores_average_to_the_metrics():
    examples = [Example("i want to", "go home"), Example("see you", "soon"), Example("a b c", "the end")]
    echo = Echo({"i want to": "go there", "see you": "", "a b c": "then the end"})
    ranked = [["go", "come"], ["later", "now", "soon"], ["a", "b", "c"]]
    result = evaluate(echo, examples, project_config(EvalConfig, "eval", bootstrap_samples=10), 2,
                      project_config(DataConfig, "data"), ranked)
    table = result.score_table()
    assert table["text_id"].tolist() == [ex.text_id for ex in examples] and table["text_id"].is_unique
    assert table["first_word"].tolist() == [1.0, 0.0, 0.0]  # the completion's first word
    assert table["top1"].tolist() == [1.0, 0.0, 0.0] and table["top3"].tolist() == [1.0, 1.0, 0.0]  # the ranking's
    for key in PER_TEXT_KEYS:
        assert table[key].mean() == pytest.approx(result.metrics[key], abs=1e-5)
    assert Example("i want to", "go home").text_id == examples[0].text_id != Example("i want", "to go home").text_id


class Recorder:
    """Remembers the prompts it was given."""

    name = "recorder"

    def __init__(self, prompt_form: str | None = None):
        if prompt_form:
            self.prompt_form = prompt_form
        self.seen: list[str] = []

    def complete(self, prompts, budgets):
        self.seen += prompts
        return ["x"] * len(prompts)


def test_a_completer_reads_the_prompt_form_it_asks_for():
    examples = [Example("hello world", "again", "Hello, World!"), Example("no raw form here", "ok")]
    for completer, expected in ((Recorder("raw"), {"Hello, World!", "no raw form here"}),
                                (Recorder("cleaned"), {"hello world", "no raw form here"}),
                                (Recorder(), {"hello world", "no raw form here"})):
        complete_all(completer, examples, batch_size=1)
        assert set(completer.seen) == expected


def test_examples_carry_the_typed_prompt():
    cleaning = project_config(DataConfig, "data")
    texts, raws = ["so happy to see you all", "we met at the end start now"], \
        ["So HAPPY to see, you all!", "we met at the end.start now"]
    first, second = make_examples(texts, raws, cleaning)
    assert (first.prompt, first.raw_prompt, first.target) == ("so happy to see", "So HAPPY to see,", "you all")
    assert (second.prompt, second.raw_prompt) == ("we met at the end", "")  # no typed cut there: cleaned it is
    assert second.prompt_as("raw") == second.prompt and first.prompt_as("raw") == "So HAPPY to see,"
    assert make_examples(texts) == [Example(e.prompt, e.target) for e in (first, second)]
