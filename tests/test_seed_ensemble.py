"""benchmarks/seed_ensemble.py's ensemble against references computed by hand from each model's own forward pass:
its distributions at every position, its next-word ranking, and a one-model ensemble equal to the shipped mixture."""
from __future__ import annotations

import sys
from dataclasses import replace

import numpy as np
import pytest
import torch
from test_lstm import CONFIG, TRAIN_TEXTS, VAL_TEXTS

from text_autocomplete.evaluation import EvalConfig
from text_autocomplete.light_model import LSTMCompleter
from text_autocomplete.lstm_model import LSTMLanguageModel
from text_autocomplete.measures import TAPS_SAVED, TAPS_WITHOUT
from text_autocomplete.mixture import LSTMWithNgram
from text_autocomplete.ngram import KneserNey
from text_autocomplete.tokenizer import BOS_ID, EOS_ID, NEVER_SUGGESTED, PAD_ID, encode_texts, train_tokenizer

from conftest import ROOT, project_config

sys.path.insert(0, str(ROOT / "benchmarks"))
from seed_ensemble import LSTMEnsemble
from sweep_table import rounded, task_differences

PROMPTS = ["i like cats", "i like tea and me a", "dogs"]


@pytest.fixture(scope="module")
def parts():
    tokenizer = train_tokenizer(TRAIN_TEXTS, vocab_size=100, min_frequency=1)
    config = replace(CONFIG, vocab_size=tokenizer.get_vocab_size(), softmax_cutoffs=(8,))
    lstms = []
    for seed in (0, 1):  # two seeds of one shape: different weights, one vocabulary
        torch.manual_seed(seed)
        lstms.append(LSTMLanguageModel(config).eval())
    ids = encode_texts(tokenizer, TRAIN_TEXTS, add_bos=False, add_eos=False)
    ngram = KneserNey(3, tokenizer.get_vocab_size(), BOS_ID, EOS_ID, excluded=[PAD_ID, BOS_ID]).fit(ids)
    return tokenizer, lstms, ngram


def reference(lstms, ngram, weight: float, history: list[int]) -> np.ndarray:
    """(1 - w) * the mean of each LSTM's next-word probabilities after <bos> + history + w * the n-gram's."""
    with torch.no_grad():
        each = [m(torch.tensor([[BOS_ID, *history]]))[0][0, -1].exp().numpy() for m in lstms]
    return (1 - weight) * np.mean(each, axis=0) + weight * ngram.distribution(history)


@pytest.mark.parametrize("weight", [0.0, 0.3])
def test_the_ensemble_averages_the_lstms_then_mixes_in_the_ngram_at_every_position(parts, weight):
    tokenizer, lstms, ngram = parts
    texts = encode_texts(tokenizer, VAL_TEXTS + ["dogs"], add_bos=False, add_eos=False)
    for ids, dist in zip(texts, LSTMEnsemble(lstms, ngram, weight).text_distributions(texts)):
        assert dist.shape == (len(ids) + 1, tokenizer.get_vocab_size())
        for i in range(len(ids) + 1):
            np.testing.assert_allclose(dist[i], reference(lstms, ngram, weight, ids[:i]), rtol=1e-4, atol=1e-7)


@pytest.mark.parametrize("weight", [0.0, 0.3])  # the n-gram's weight: 0, the averaged LSTMs alone rank
def test_the_ensembles_next_words_rank_by_its_mixture(parts, weight):
    tokenizer, lstms, ngram = parts
    completer = LSTMCompleter(LSTMEnsemble(lstms, ngram, weight), tokenizer)
    got = completer.next_words(PROMPTS, 3)  # batched, prompts of different lengths
    for prompt, words in zip(PROMPTS, got):
        dist = reference(lstms, ngram, weight, encode_texts(tokenizer, [prompt], False, False)[0])
        dist[list(NEVER_SUGGESTED)] = -1
        assert words == [tokenizer.id_to_token(int(i)) for i in np.argsort(-dist)[:3]]


def test_an_ensemble_of_one_is_the_shipped_mixture(parts):
    tokenizer, lstms, ngram = parts
    texts = encode_texts(tokenizer, VAL_TEXTS, add_bos=False, add_eos=False)
    one, mixture = LSTMEnsemble(lstms[:1], ngram, 0.3), LSTMWithNgram(lstms[0], ngram, 0.3)
    for a, b in zip(one.text_distributions(texts), mixture.text_distributions(texts)):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-8)
    assert (LSTMCompleter(one, tokenizer).next_words(PROMPTS, 3)
            == LSTMCompleter(mixture, tokenizer).next_words(PROMPTS, 3))


def test_paired_figures_are_differences_over_the_same_texts():
    config = project_config(EvalConfig, "eval")
    base = {"top3": np.array([0.0, 1.0, 0.0, 1.0]), TAPS_SAVED: np.array([4, 2, 0, 6]),
            TAPS_WITHOUT: np.array([10, 10, 10, 10])}
    better = {"top3": np.array([1.0, 1.0, 0.0, 1.0]), TAPS_SAVED: np.array([6, 2, 2, 6]),
              TAPS_WITHOUT: base[TAPS_WITHOUT]}
    figures = rounded(task_differences(better, base, config))
    assert figures["top3"][0] == 0.25 and figures["keys_saved"][0] == 0.1  # (2 + 2) taps of 40
    assert figures["top3"][1] <= 0.25 <= figures["top3"][2]
    assert rounded(task_differences(base, base, config)) == {"top3": [0.0, 0.0, 0.0], "keys_saved": [0.0, 0.0, 0.0]}
