"""The keyboard simulation against taps counted by hand."""
from __future__ import annotations

import numpy as np
import pytest

from text_autocomplete.keyboard import SuggestionBar, WordCounts, simulate
from text_autocomplete.measures import TAPS_SAVED, TAPS_WITHOUT
from text_autocomplete.tokenizer import train_tokenizer

# Vocabulary words (each seen twice): the, then, they, there, cat, cats, car
TEXTS = ["the cat", "then they", "there cats", "car"] * 2


@pytest.fixture(scope="module")
def tokenizer():
    return train_tokenizer(TEXTS, vocab_size=100, min_frequency=1)


class FixedModel:
    """The same next-word distribution at every position: `weights` by word, the rest tiny."""

    name = "fixed"

    def __init__(self, tokenizer, weights: dict[str, float]):
        self.probs = np.full(tokenizer.get_vocab_size(), 1e-6)
        for word, weight in weights.items():
            self.probs[tokenizer.token_to_id(word)] = weight

    def text_distributions(self, texts):
        return [np.tile(self.probs, (len(ids) + 1, 1)) for ids in texts]


class Oracle:
    """Knows every text: all mass on the next word."""

    name = "oracle"

    def __init__(self, vocab_size: int):
        self.vocab_size = vocab_size

    def text_distributions(self, texts):
        out = []
        for ids in texts:
            dist = np.full((len(ids) + 1, self.vocab_size), 1e-9)
            dist[np.arange(len(ids)), ids] = 1.0
            out.append(dist)
        return out


def test_taps_counted_by_hand(tokenizer):
    # Ranking: cats > car > cat > the > then > they > there.
    model = FixedModel(tokenizer, {"cats": 0.3, "car": 0.2, "cat": 0.15, "the": 0.1, "then": 0.09, "they": 0.08,
                                   "there": 0.07})
    bar = SuggestionBar(tokenizer)
    probs = model.probs
    assert bar.type_word("cat", tokenizer.token_to_id("cat"), probs) == (1, 2)  # shown at once (3rd): 1 tap
    # "the": 4th overall; after "t": the, then, they -> shown: t + tap = 2
    assert bar.type_word("the", tokenizer.token_to_id("the"), probs) == (2, 3)
    # "there": after "t": the/then/they; "th", "the": same three -> after "ther": shown: 4 letters + tap = 5
    assert bar.type_word("there", tokenizer.token_to_id("there"), probs) == (5, 6)
    assert bar.type_word("zebra", 1, probs) == (6, len(bar.ids))  # <unk>: typed in full, then a space

    # "the cat": 2 + 1 taps for 4 + 4 characters; "there cats": 5 + 1 for 6 + 5.
    figures, per_text = simulate(model, ["the cat", "there cats"], tokenizer, batch_size=1)
    assert figures["keys_saved"] == pytest.approx(1 - (3 + 6) / (8 + 11), abs=1e-5)
    assert per_text[TAPS_WITHOUT].tolist() == [8, 11] and per_text[TAPS_SAVED].tolist() == [8 - 3, 11 - 6]
    assert figures["keyboard_suggestions"] == 3
    assert figures["all_positions_top1"] == pytest.approx(1 / 4)  # "cats" only
    assert figures["all_positions_top3"] == pytest.approx(2 / 4)  # "cat" and "cats"
    assert figures["keyboard_words"] == 4 and figures["keyboard_characters"] == 19


def test_ties_are_broken_alphabetically(tokenizer):
    model = FixedModel(tokenizer, {w: 0.1 for w in ("the", "then", "there", "they")})
    bar = SuggestionBar(tokenizer)
    # Equal scores among the th* words, shown alphabetically: the, then, there, they. "there" is shown at once;
    # "they" stays 4th after every prefix of it ("t", "th", "the"), so it is typed in full.
    assert bar.type_word("there", tokenizer.token_to_id("there"), model.probs) == (1, 2)
    assert bar.type_word("they", tokenizer.token_to_id("they"), model.probs) == (5, 3)


def test_a_model_that_knows_the_text_saves_all_but_one_tap_per_word(tokenizer):
    texts = ["the cat", "there cats zebra"]
    figures, per_text = simulate(Oracle(tokenizer.get_vocab_size()), texts, tokenizer, batch_size=2)
    assert per_text[TAPS_SAVED].sum() / per_text[TAPS_WITHOUT].sum() == pytest.approx(figures["keys_saved"], abs=1e-5)
    characters = sum(len(w) + 1 for t in texts for w in t.split())
    taps = 1 + 1 + 1 + 1 + len("zebra") + 1  # one tap per known word, the unknown one typed in full
    assert figures["keys_saved"] == pytest.approx(1 - taps / characters, abs=1e-5)
    assert figures["all_positions_top1"] == pytest.approx(4 / 5)


def test_word_counts_rank_the_same_words_after_any_words(tokenizer):
    """The baseline's keyboard: the word counts' ranking at every position, whatever was typed before."""
    counts = WordCounts({"the": 5, "cat": 3, "zebra-not-in-vocabulary": 9}, tokenizer)
    assert counts.probs.sum() == pytest.approx(1.0) and counts.probs[tokenizer.token_to_id("the")] == pytest.approx(5 / 8)
    first, second = counts.text_distributions([[1, 2], [3]])
    assert first.shape == (3, tokenizer.get_vocab_size()) and (first[0] == second[1]).all()
    figures, per_text = simulate(counts, ["the cat"], tokenizer)
    assert per_text[TAPS_SAVED].tolist() == [8 - 2]  # each word shown before its first letter: one tap each
