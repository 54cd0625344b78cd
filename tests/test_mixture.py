"""The LSTM + n-gram mixture against references computed by hand from each model alone: its distributions, its
generation (greedy, beam) and its choice of weight."""
from __future__ import annotations

import itertools
from dataclasses import replace

import numpy as np
import pytest
import torch
from test_lstm import CONFIG, TRAIN_TEXTS, VAL_TEXTS

from text_autocomplete.autocomplete import Autocompleter
from text_autocomplete.data_utils import DataConfig
from text_autocomplete.errors import UserError
from text_autocomplete.eval_lstm import DecodingCompleter, LSTMDecoding
from text_autocomplete.light_model import LSTMCompleter, load_light_model
from text_autocomplete.lstm_model import LSTMLanguageModel, save_model
from text_autocomplete.mixture import (
    LSTMDistributions,
    LSTMWithNgram,
    MixtureConfig,
    NgramDistributions,
    choose_ngram_weight,
    event_probabilities,
    load_weight,
    save_weight,
)
from text_autocomplete.mixture import events_perplexity as perplexity
from text_autocomplete.ngram import KneserNey, NgramCompleter
from text_autocomplete.tokenizer import BOS_ID, EOS_ID, PAD_ID, encode_texts, train_tokenizer

from conftest import project_config

PROMPTS = ["i like cats", "i like tea and me a", "dogs"]


@pytest.fixture(scope="module")
def parts():
    tokenizer = train_tokenizer(TRAIN_TEXTS, vocab_size=100, min_frequency=1)
    torch.manual_seed(0)
    lstm = LSTMLanguageModel(replace(CONFIG, vocab_size=tokenizer.get_vocab_size(), softmax_cutoffs=(8,))).eval()
    ids = encode_texts(tokenizer, TRAIN_TEXTS, add_bos=False, add_eos=False)
    ngram = KneserNey(3, tokenizer.get_vocab_size(), BOS_ID, EOS_ID, excluded=[PAD_ID, BOS_ID]).fit(ids)
    return tokenizer, lstm, ngram


def reference_distribution(lstm, ngram, weight: float, history: list[int]) -> np.ndarray:
    """The mixture after `history` (word ids), from the LSTM's forward over <bos> + history and the n-gram model."""
    with torch.no_grad():
        lstm_probs = lstm(torch.tensor([[BOS_ID, *history]]))[0][0, -1].exp().numpy()
    return (1 - weight) * lstm_probs + weight * ngram.distribution(history)


def test_distributions_are_the_weighted_sum_at_every_position(parts):
    tokenizer, lstm, ngram = parts
    texts = encode_texts(tokenizer, VAL_TEXTS + ["dogs"], add_bos=False, add_eos=False)
    mixture = LSTMWithNgram(lstm, ngram, 0.3)
    for ids, dist in zip(texts, mixture.text_distributions(texts)):
        assert dist.shape == (len(ids) + 1, tokenizer.get_vocab_size())
        np.testing.assert_allclose(dist.sum(axis=1), 1.0, rtol=1e-5)
        for i in range(len(ids) + 1):
            np.testing.assert_allclose(dist[i], reference_distribution(lstm, ngram, 0.3, ids[:i]), rtol=1e-4,
                                       atol=1e-7)


def greedy_reference(lstm, ngram, weight, tokenizer, prompt: str, budget: int) -> str:
    """One word at a time: the most probable real word of the mixture after everything so far."""
    history = encode_texts(tokenizer, [prompt], add_bos=False, add_eos=False)[0]
    new = []
    for _ in range(budget):
        dist = reference_distribution(lstm, ngram, weight, history + new)
        dist[[PAD_ID, 1, BOS_ID, EOS_ID]] = -1
        new.append(int(dist.argmax()))
    return tokenizer.decode(new)


@pytest.mark.parametrize("weight", [0.0, 0.4, 1.0])
def test_greedy_generation_follows_the_mixture_word_by_word(parts, weight):
    tokenizer, lstm, ngram = parts
    budgets = [3, 2, 4]
    completer = LSTMCompleter(LSTMWithNgram(lstm, ngram, weight), tokenizer)
    expected = [greedy_reference(lstm, ngram, weight, tokenizer, p, b) for p, b in zip(PROMPTS, budgets)]
    assert completer.complete(PROMPTS, budgets) == expected
    beam_of_one = DecodingCompleter(LSTMWithNgram(lstm, ngram, weight), tokenizer, LSTMDecoding(num_beams=2))
    assert [len(c.split()) for c in beam_of_one.complete(PROMPTS, budgets)] == budgets
    # The ends of the scale are the two models alone.
    if weight == 0.0:
        assert expected == LSTMCompleter(lstm, tokenizer).complete(PROMPTS, budgets)
    if weight == 1.0:
        assert expected == NgramCompleter(ngram, tokenizer).complete(PROMPTS, budgets)


def test_beam_search_of_the_mixture_one_beam_is_greedy_and_batches_equal_singles(parts):
    tokenizer, lstm, ngram = parts
    mixture = LSTMWithNgram(lstm, ngram, 0.4)
    greedy = LSTMCompleter(mixture, tokenizer).complete(PROMPTS, [3, 2, 4])
    assert DecodingCompleter(mixture, tokenizer, LSTMDecoding(num_beams=1)).complete(PROMPTS, [3, 2, 4]) == greedy
    beam = DecodingCompleter(mixture, tokenizer, LSTMDecoding(num_beams=3))
    assert beam.complete(PROMPTS, [3, 2, 4]) == [beam.complete([p], [b])[0] for p, b in zip(PROMPTS, [3, 2, 4])]


def test_a_beam_as_wide_as_all_sequences_finds_the_mixtures_most_probable_completion():
    """As for the LSTM alone (test_lstm): with 8 words and a beam of 64 nothing is pruned before the last of up to
    3 steps, so the beam must return the sequence the mixture scores highest, here found by scoring every
    sequence with each model alone. Each beam must carry its own history into the n-gram model."""
    small = replace(CONFIG, vocab_size=12, embedding_dim=8, hidden_dim=12, softmax_cutoffs=())
    torch.manual_seed(0)
    lstm = LSTMLanguageModel(small).eval()
    with torch.no_grad():
        for parameter in lstm.parameters():
            parameter.mul_(4)
    rng = np.random.default_rng(0)
    ngram = KneserNey(3, 12, BOS_ID, EOS_ID, excluded=[PAD_ID, BOS_ID]).fit(
        [list(rng.integers(4, 12, size=rng.integers(2, 6))) for _ in range(40)])
    mixture = LSTMWithNgram(lstm, ngram, 0.6)
    words = list(range(4, 12))
    prompts, budgets = [[BOS_ID, 5, 6], [BOS_ID, 7], [BOS_ID, 4, 9, 10]], [3, 1, 3]

    def score(prompt: list[int], sequence: tuple[int, ...]) -> float:
        history = prompt[1:]
        return sum(np.log(reference_distribution(lstm, ngram, 0.6, history + list(sequence[:i]))[w])
                   for i, w in enumerate(sequence))

    expected = [list(max(itertools.product(words, repeat=b), key=lambda seq: score(p, seq)))
                for p, b in zip(prompts, budgets)]
    assert mixture.beam_search(prompts, budgets, num_beams=len(words) ** 2) == expected


def test_next_words_and_the_autocompleter_rank_by_the_mixture(parts):
    tokenizer, lstm, ngram = parts
    mixture = LSTMWithNgram(lstm, ngram, 0.5)
    keyboard = Autocompleter(mixture, tokenizer, project_config(DataConfig, "data"))
    for prompt in PROMPTS:
        dist = reference_distribution(lstm, ngram, 0.5, encode_texts(tokenizer, [prompt], False, False)[0])
        dist[[PAD_ID, 1, BOS_ID, EOS_ID]] = -1
        expected = [tokenizer.id_to_token(int(i)) for i in np.argsort(-dist)[:3]]
        assert LSTMCompleter(mixture, tokenizer).next_words([prompt], 3) == [expected]
        keyboard.reset()
        keyboard.feed(prompt)
        assert keyboard.next_words(3) == expected


def test_perplexity_and_the_chosen_weight(parts):
    tokenizer, lstm, ngram = parts
    val = encode_texts(tokenizer, VAL_TEXTS, add_bos=False, add_eos=False)
    lstm_probs = event_probabilities(LSTMDistributions(lstm), val, batch_size=1)
    with torch.no_grad():  # the LSTM's own loss over the same events (every word and <eos>)
        nll = [lstm.loss(torch.tensor([[BOS_ID, *ids]]), torch.tensor([[*ids, EOS_ID]]),
                         torch.ones(1, len(ids) + 1, dtype=torch.bool)).item() * (len(ids) + 1) for ids in val]
    assert perplexity(lstm_probs) == pytest.approx(np.exp(sum(nll) / sum(len(i) + 1 for i in val)), rel=1e-4)
    ngram_probs = event_probabilities(NgramDistributions(ngram), val)
    assert perplexity(ngram_probs) == pytest.approx(
        np.exp(-sum(ngram.text_log_prob(ids)[0] for ids in val) / sum(len(i) + 1 for i in val)), rel=1e-6)

    weight, table = choose_ngram_weight(lstm, ngram, val, MixtureConfig([0.0, 0.5, 0.9, 1.0]))
    assert list(table["ngram_weight"]) == [0.0, 0.5, 0.9, 1.0]
    assert table["val_perplexity"].iloc[0] == pytest.approx(perplexity(lstm_probs), rel=1e-3)
    assert table["val_perplexity"].iloc[-1] == pytest.approx(perplexity(ngram_probs), rel=1e-3)
    assert weight == table.loc[table["val_perplexity"].idxmin(), "ngram_weight"]
    # The n-gram model has memorised these phrases, the untrained LSTM has not: mixing in the n-gram model pays.
    assert weight > 0


def test_saved_light_model_loads_and_bad_weights_are_named(parts, tmp_path):
    tokenizer, lstm, ngram = parts
    tokenizer.save(str(tmp_path / "tokenizer.json"))
    save_model(lstm, tmp_path / "model.pt", tokenizer.get_vocab())
    ngram.save(tmp_path / "ngram.npz")
    with pytest.raises(UserError, match="mixture.json: mixture weight not found"):
        load_light_model(tmp_path)
    save_weight(tmp_path / "mixture.json", 0.25)
    model, _ = load_light_model(tmp_path)
    assert model.ngram_weight == 0.25 and model.ngram.order == 3
    for text, message in (('{"ngram_weight": 1.5}', "outside"), ("{}", "expected"), ("nonsense", "expected")):
        (tmp_path / "mixture.json").write_text(text)
        with pytest.raises(UserError, match=message):
            load_weight(tmp_path / "mixture.json")
    with pytest.raises(UserError, match="mixture.ngram_weights"):
        MixtureConfig([0.2, 1.2])
