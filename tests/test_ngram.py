"""The Kneser-Ney n-gram model against hand computations, and the properties every distribution must have."""
from __future__ import annotations

import numpy as np
import pytest

from text_autocomplete.errors import UserError
from text_autocomplete.ngram import KneserNey, NgramCompleter, NgramConfig, discounts, fit_best_order
from text_autocomplete.ngram import texts_perplexity as perplexity
from text_autocomplete.tokenizer import BOS_ID, EOS_ID, PAD_ID, UNK_ID, encode_texts, train_tokenizer

PAD, BOS, EOS, A, B, C = range(6)
TOY = [[A, B], [A, C], [B, C]]  # framed for order 2: <bos> a b <eos>, <bos> a c <eos>, <bos> b c <eos>


def toy_bigram_model() -> KneserNey:
    return KneserNey(order=2, vocab_size=6, bos_id=BOS, eos_id=EOS, excluded=[PAD, BOS]).fit(TOY)


def test_discounts_follow_chen_and_goodman():
    # n1 = 4, n2 = 2, n3 = 1, n4 = 1: Y = 4 / 8; D1 = 1 - 2Y(2/4), D2 = 2 - 3Y(1/2), D3 = 3 - 4Y(1/1)
    assert discounts([1, 1, 1, 1, 2, 2, 3, 4]) == pytest.approx((0.5, 1.25, 1.0))


def test_toy_bigram_values_equal_a_hand_computation():
    """Bigram counts: (<bos> a) 2, (<bos> b) 1, (a b) 1, (a c) 1, (b <eos>) 1, (b c) 1, (c <eos>) 2, so n1 = 5,
    n2 = 2, n3 = 0: Y = 5/9, D1 = 1 - 2Y(2/5) = 5/9, D2 = 2 (count-2 bigrams give all their mass to the
    unigrams). Continuation counts (different words before): a 1, b 2, c 2, <eos> 2; total 7, n1 = 1, n2 = 3:
    Y = 1/7, D1 = 1/7, D2 = 2; gamma() = (1/7 + 2*3) / 7 = 43/49, and below it 1/4 for each of a, b, c, <eos>."""
    model = toy_bigram_model()
    unigram = {A: (1 - 1 / 7) / 7 + 43 / 49 / 4, B: 43 / 49 / 4, C: 43 / 49 / 4, EOS: 43 / 49 / 4}
    assert sum(unigram.values()) == pytest.approx(1.0)
    # after a: (a b) 1, (a c) 1, total 2; each keeps (1 - 5/9) / 2, gamma(a) = (5/9 * 2) / 2
    after_a = model.distribution([BOS, A])
    assert after_a[B] == pytest.approx((1 - 5 / 9) / 2 + 5 / 9 * unigram[B])
    assert after_a[A] == pytest.approx(5 / 9 * unigram[A])
    # after <bos>: (<bos> a) 2 loses D2 = 2, (<bos> b) 1 keeps 1 - 5/9; total 3, gamma = (5/9 + 2) / 3
    after_bos = model.distribution([BOS])
    assert after_bos[A] == pytest.approx(0 + (5 / 9 + 2) / 3 * unigram[A])
    assert after_bos[B] == pytest.approx((1 - 5 / 9) / 3 + (5 / 9 + 2) / 3 * unigram[B])
    # <eos> is never a context: everything backs off to the unigrams; <pad> and <bos> are never predicted
    after_eos = model.distribution([EOS])
    assert [after_eos[w] for w in (A, B, C, EOS)] == pytest.approx([unigram[w] for w in (A, B, C, EOS)])
    assert after_eos[PAD] == after_eos[BOS] == after_a[BOS] == 0.0


def made_up_texts(n: int = 300, seed: int = 0) -> list[list[int]]:
    rng = np.random.default_rng(seed)
    return [list(rng.integers(3, 40, size=rng.integers(1, 12))) for _ in range(n)]


@pytest.mark.parametrize("order", [1, 2, 3, 4])
def test_every_distribution_sums_to_one(order):
    texts = made_up_texts()
    model = KneserNey(order, vocab_size=50, bos_id=BOS, eos_id=EOS, excluded=[PAD, BOS]).fit(texts)
    framed = model.frame(texts[0])
    contexts = [[], [BOS], framed[:order], framed[:-1], [45, 46, 47], [3, 45], [EOS, EOS, EOS]]
    dists = model.distributions(contexts)
    assert dists.shape == (len(contexts), 50) and (dists >= 0).all()
    assert dists.sum(axis=1) == pytest.approx(np.ones(len(contexts)))
    assert (dists[:, [PAD, BOS]] == 0).all() and (dists[:, 45:] > 0).all()  # unseen words keep some mass


def test_an_unseen_context_backs_off_to_the_shorter_one():
    texts = made_up_texts()
    model = KneserNey(3, vocab_size=50, bos_id=BOS, eos_id=EOS, excluded=[PAD, BOS]).fit(texts)
    seen = texts[0][0]
    assert model.levels[2].find(model.key((46, seen))) is None  # the trigram context (46, seen) never occurs
    assert model.levels[2].find(model.key((BOS, seen))) is not None  # a text begins with `seen`
    assert model.distribution([46, seen]) == pytest.approx(model.distribution([45, seen]))
    # neither (46, 47) nor (47,) was ever a context: both fall through to the unigrams
    unigrams = model.distribution([48, 49])
    assert model.distribution([46, 47]) == pytest.approx(unigrams)
    assert not np.allclose(model.distribution([BOS, BOS]), unigrams)


def test_scores_are_the_distributions_and_a_text_counts_its_end():
    texts = made_up_texts()
    model = KneserNey(3, vocab_size=50, bos_id=BOS, eos_id=EOS, excluded=[PAD, BOS]).fit(texts)
    contexts, targets = [[BOS, BOS], [BOS, BOS, 5]], [5, 6]
    expected = [np.log(model.distribution(c)[t]) for c, t in zip(contexts, targets)]
    assert model.log_prob(contexts, targets) == pytest.approx(expected)
    total, events = model.text_log_prob([5, 6])
    assert events == 3  # two words and <eos>
    assert total == pytest.approx(sum(np.log(model.distribution(model.frame([5, 6])[:i])[w])
                                      for i, w in zip((2, 3, 4), (5, 6, EOS))))


def test_saved_and_loaded_model_gives_the_same_distributions(tmp_path):
    texts = made_up_texts()
    model = KneserNey(3, vocab_size=50, bos_id=BOS, eos_id=EOS, excluded=[PAD, BOS]).fit(texts)
    model.save(tmp_path / "kn.npz")
    loaded = KneserNey.load(tmp_path / "kn.npz")
    contexts = [[BOS, BOS], [3, 4], [45, 46], texts[1][:2]]
    assert np.array_equal(loaded.distributions(contexts), model.distributions(contexts))
    for saved, kept in zip(loaded.grams + loaded.counts, model.grams + model.counts):
        assert np.array_equal(saved, kept) and saved.dtype == np.int32 and saved.flags.c_contiguous
    with np.load(tmp_path / "kn.npz") as data:  # stored small: ids below 50 and counts fit one byte
        assert data["grams3"].dtype == np.uint8 and data["grams3"].shape == (3, len(model.grams[2]))


def test_a_model_saved_in_another_layout_is_refused_with_its_file_named(tmp_path):
    model = KneserNey(2, vocab_size=10, bos_id=BOS, eos_id=EOS).fit(TOY)
    old = {"meta": np.array([2, 10, BOS, EOS]), "excluded": np.array([], dtype=np.int64)}
    for level, (grams, counts) in enumerate(zip(model.grams, model.counts)):  # rows of int32, no layout key
        old[f"grams{level + 1}"], old[f"counts{level + 1}"] = grams, counts
    np.savez_compressed(tmp_path / "old.npz", **old)
    with pytest.raises(UserError, match=r"old\.npz: an n-gram model saved in another layout.*dvc repro train_lstm"):
        KneserNey.load(tmp_path / "old.npz")


# --------------------------------------------------------------------------- on words: the order chosen on val, completions
WORD_TEXTS = ["i like the sea", "i like the sun", "we like the sea a lot", "they like the sun a lot",
              "i love the sea", "we love the sun"] * 5


def test_the_order_with_the_lowest_val_perplexity_is_kept():
    tokenizer = train_tokenizer(WORD_TEXTS, vocab_size=30, min_frequency=1)
    train, val = (encode_texts(tokenizer, texts, add_bos=False, add_eos=False)
                  for texts in (WORD_TEXTS, ["we like the sun", "i love the sea a lot"]))
    model, table = fit_best_order(train, val, NgramConfig(orders=[1, 2, 3]), tokenizer.get_vocab_size())
    assert table["order"].tolist() == [1, 2, 3]
    assert model.order == table.loc[table["val_perplexity"].idxmin(), "order"]
    assert table["val_perplexity"].iloc[0] > table["val_perplexity"].min()  # context helps on this grammar
    assert perplexity(model, val) == pytest.approx(table["val_perplexity"].min(), abs=1e-3)
    with pytest.raises(UserError, match="ngram.orders"):
        NgramConfig(orders=[0])


def test_the_completer_gives_exactly_the_budget_and_never_a_special_token():
    tokenizer = train_tokenizer(WORD_TEXTS, vocab_size=30, min_frequency=1)
    model = KneserNey(3, tokenizer.get_vocab_size(), BOS_ID, EOS_ID, excluded=[PAD_ID, BOS_ID]).fit(
        encode_texts(tokenizer, WORD_TEXTS, add_bos=False, add_eos=False))
    with np.errstate(all="ignore"):
        model.uniform[UNK_ID] *= 1e6  # <unk> would win everywhere if it were allowed (the rows no longer sum to 1)
    completer = NgramCompleter(model, tokenizer)
    completions = completer.complete(["i like the", "we", "they like"], [1, 3, 2])
    assert [len(c.split()) for c in completions] == [1, 3, 2]
    assert not any(token in c.split() for c in completions for token in ("<unk>", "<eos>", "<pad>", "<bos>"))
    assert completer.complete(["i like the"], [1]) == [completer.next_words(["i like the"], 1)[0][0]]
    assert completer.next_words(["i like the"], 2)[0] in (["sea", "sun"], ["sun", "sea"])
