"""The phone n-gram file against the Kneser-Ney model it is made from, and against README.md's description of its
bytes, read by a reader written from that description alone. Every model here is fitted to made-up id sequences."""
from __future__ import annotations

import bisect
from pathlib import Path

import numpy as np
import pytest

from text_autocomplete.errors import UserError
from text_autocomplete.ngram import KneserNey
from text_autocomplete.phone_ngram import PhoneNgram, choose_min_count, quantise, write_phone_ngram

PAD, BOS, EOS = 0, 1, 2
VOCAB = 60  # ids 3..49 are words of the made-up texts; 50..59 are never seen
ORDER = 4
MAX_RELATIVE_ERROR = 0.08  # the 8-bit bins' rounding, after renormalisation


def made_up_texts(n: int = 700, seed: int = 0) -> list[list[int]]:
    """Id sequences with repeated "phrases", so that n-grams recur (pruning has something to keep) among random
    fillers (so that many are seen once)."""
    rng = np.random.default_rng(seed)
    phrases = [list(rng.integers(3, 50, size=rng.integers(2, 6))) for _ in range(30)]
    texts = []
    for _ in range(n):
        words: list[int] = []
        for _ in range(rng.integers(1, 4)):
            words += phrases[rng.integers(len(phrases))] if rng.random() < 0.7 else list(rng.integers(3, 50, size=2))
        texts.append([int(w) for w in words])
    return texts


def fit(texts: list[list[int]], order: int = ORDER) -> KneserNey:
    return KneserNey(order, vocab_size=VOCAB, bos_id=BOS, eos_id=EOS, excluded=[PAD, BOS]).fit(texts)


@pytest.fixture(scope="module")
def texts() -> list[list[int]]:
    return made_up_texts()


@pytest.fixture(scope="module")
def model(texts) -> KneserNey:
    return fit(texts)


@pytest.fixture(scope="module")
def files(model, tmp_path_factory) -> dict[int, Path]:
    """The model written at a few cut-offs."""
    folder = tmp_path_factory.mktemp("phone")
    paths = {}
    for min_count in (1, 2, 3, 6):
        paths[min_count] = folder / f"min{min_count}.bin"
        write_phone_ngram(model, paths[min_count], min_count)
    return paths


def contexts_of(texts: list[list[int]]) -> list[list[int]]:
    """Every prefix of some texts (the empty one, shorter than order - 1, and longer), contexts never seen
    (unseen words, seen words in an unseen order), and contexts holding <eos> or <bos>."""
    seen = [t[:i] for t in texts[:40] for i in range(len(t) + 1)]
    return seen + [[], [BOS], [55], [55, 56, 57], [3, 55], [55, 3], [EOS], [EOS, EOS, EOS], [BOS, BOS, BOS, 3],
                   [49, 48, 47, 46, 45], texts[0] + texts[1] + texts[2]]


def assert_distributions(dists: np.ndarray) -> None:
    assert dists.dtype == np.float64 and (dists >= 0).all()
    assert dists.sum(axis=1) == pytest.approx(np.ones(len(dists)), abs=1e-12)
    assert (dists[:, [PAD, BOS]] == 0).all()


# --------------------------------------------------------------------------- 1. unpruned: Kneser-Ney, up to the bins
def test_unpruned_file_gives_kneser_neys_distributions_up_to_the_bins(model, files, texts):
    phone = PhoneNgram(files[1])
    contexts = contexts_of(texts)
    exact, read = model.distributions(contexts), phone.distributions(contexts)
    assert_distributions(read)
    predicted = exact > 0
    assert ((read > 0) == predicted).all()
    assert np.abs(read[predicted] / exact[predicted] - 1).max() < MAX_RELATIVE_ERROR
    # the ranking survives wherever Kneser-Ney's own ranks are further apart than the bins' rounding
    top = np.sort(exact, axis=1)[:, ::-1]
    clear_first = top[:, 0] > top[:, 1] * (1 + 2 * MAX_RELATIVE_ERROR)
    assert clear_first.sum() > len(contexts) / 2
    assert (read.argmax(1) == exact.argmax(1))[clear_first].all()
    clear_three = top[:, 2] > top[:, 3] * (1 + 2 * MAX_RELATIVE_ERROR)
    for e, r in zip(exact[clear_three], read[clear_three]):
        assert set(np.argsort(-e)[:3]) == set(np.argsort(-r)[:3])
    assert phone.order == ORDER and phone.vocab_size == VOCAB and (phone.bos_id, phone.eos_id) == (BOS, EOS)


@pytest.mark.parametrize("order", [1, 2, 3])
def test_lower_orders_read_back(texts, tmp_path, order):
    model = fit(texts, order)
    write_phone_ngram(model, tmp_path / "low.bin", 1)
    contexts = contexts_of(texts)
    exact, read = model.distributions(contexts), PhoneNgram(tmp_path / "low.bin").distributions(contexts)
    assert_distributions(read)
    assert np.abs(read[exact > 0] / exact[exact > 0] - 1).max() < MAX_RELATIVE_ERROR


def test_the_back_off_form_is_kneser_ney_exactly_before_the_bins(model):
    """Without pruning, the back-off weight of every context is Kneser-Ney's gamma (the file's only loss is the
    8-bit rounding)."""
    from text_autocomplete.phone_ngram import _pruned_trie

    orders = _pruned_trie(model, 1)
    for length in range(1, ORDER):
        level, entries = model.levels[length], orders[length - 1]
        contexts = np.searchsorted(entries.keys, level.keys)
        assert (entries.keys[contexts] == level.keys).all()  # every context of the model is in the trie
        assert entries.alpha[contexts] == pytest.approx(level.backoff_mass / level.totals, rel=1e-9)


# --------------------------------------------------------------------------- 2. pruning
def test_pruned_files_are_smaller_and_still_normalised(model, files, texts):
    contexts = contexts_of(texts)
    sizes = []
    for min_count in (1, 2, 3, 6):
        phone = PhoneNgram(files[min_count])
        assert_distributions(phone.distributions(contexts))
        sizes.append((phone.n_grams(), phone.file_bytes()))
        assert phone.file_bytes() == files[min_count].stat().st_size
        assert phone.memory_mb() == pytest.approx(phone.file_bytes() / 1e6)
    assert sizes == sorted(sizes, reverse=True) and len(set(sizes)) == len(sizes)
    assert sizes[0][0] >= model.n_grams()  # unpruned: every n-gram (and the <bos> runs that are only contexts)
    assert sizes[-1][0] < model.n_grams() / 3


def test_write_reports_what_it_wrote(model, tmp_path):
    written = write_phone_ngram(model, tmp_path / "two.bin", 2)
    phone = PhoneNgram(tmp_path / "two.bin")
    assert written == {"min_count": 2, "n_grams": phone.n_grams(), "bytes": (tmp_path / "two.bin").stat().st_size}


def test_a_cut_off_below_every_count_keeps_everything(tmp_path):
    """Every text twice, in a bigram model: each bigram (the top order, raw counts) is counted at least twice,
    so a cut-off of 2 drops nothing and writes the unpruned file byte for byte."""
    texts = made_up_texts(200, seed=1)
    model = fit(texts + texts, order=2)
    assert model.counts[1].min() >= 2
    one, two = write_phone_ngram(model, tmp_path / "1.bin", 1), write_phone_ngram(model, tmp_path / "2.bin", 2)
    assert one["n_grams"] == two["n_grams"]
    assert (tmp_path / "1.bin").read_bytes() == (tmp_path / "2.bin").read_bytes()
    three = write_phone_ngram(model, tmp_path / "3.bin", 3)
    assert three["n_grams"] < one["n_grams"]


@pytest.mark.parametrize("min_count", [0, -1, 1.5, True])
def test_a_cut_off_below_one_is_refused(model, tmp_path, min_count):
    with pytest.raises(UserError, match="min_count"):
        write_phone_ngram(model, tmp_path / "x.bin", min_count)


def test_quantise_bounds_the_rounding_of_sparse_tails():
    """Dense values around 0 and a sparse tail down to -8 (as back-off weights are): every value, tail included,
    comes back within a bin's width; code 0 stays the reserved value."""
    rng = np.random.default_rng(0)
    values = np.concatenate([-np.abs(rng.normal(0, 0.05, 20_000)), rng.uniform(-8, -1, 40), [0.0] * 5])
    coded = values != 0.0
    codes, table = quantise(values, coded, 0.0)
    assert codes.dtype == np.uint8 and table.dtype == np.float32 and table.shape == (256,)
    assert (codes[~coded] == 0).all() and (codes[coded] > 0).all() and table[0] == 0.0
    assert np.abs(table[codes[coded]] - values[coded]).max() < 8 / 128 + 1e-6


# --------------------------------------------------------------------------- 3. README.md's description alone
def readme_reader(path: Path):
    """P(. | context) computed from the file as README.md ("The phone n-gram file") describes it: fields at the
    offsets its table gives, arrays mapped with np.memmap at the offsets in the header, and its rule for a
    context, written as the recursion P(w | h) rather than the project reader's loop."""
    def field(offset: int, dtype: str, count: int = 1) -> np.ndarray:
        return np.memmap(path, dtype=dtype, mode="r", offset=offset, shape=(count,))

    assert bytes(field(0, "u1", 8)) == b"TAPNGRM1" and int(field(8, "<u4")[0]) == 1
    order, vocab, bos, _eos, n_excluded = (int(v) for v in field(12, "<u4", 5))
    excluded = set(field(int(field(32, "<u8")[0]), "<u4", n_excluded).tolist()) if n_excluded else set()
    levels = []
    for k in range(1, order + 1):
        entries, block, words, prob, backoff, child_base, child_delta, prob_table, backoff_table, _ = (
            int(v) for v in field(48 + 80 * (k - 1), "<u8", 10))
        level = {"words": field(words, "<u2", entries).tolist() if k > 1 else None}
        if k == 1:  # unigrams: log10 values as float32, entry = word id
            level["log10_prob"] = field(prob, "<f4", entries)
            level["log10_backoff"] = field(backoff, "<f4", entries) if k < order else None
        else:  # 8-bit codes into 256-entry float32 tables
            level["log10_prob"] = field(prob_table, "<f4", 256)[field(prob, "u1", entries)]
            if k < order:
                level["log10_backoff"] = field(backoff_table, "<f4", 256)[field(backoff, "u1", entries)]
        if k < order:
            base, delta = field(child_base, "<u4", entries // block + 1), field(child_delta, "<u2", entries + 1)
            level["first_child"] = [int(base[i // block]) + int(delta[i]) for i in range(entries + 1)]
        levels.append(level)

    def find(ids: tuple[int, ...]) -> int | None:
        entry = ids[0]
        for k, word in enumerate(ids[1:], start=1):  # the children of an order-k entry are in order k + 1
            lo, hi = levels[k - 1]["first_child"][entry], levels[k - 1]["first_child"][entry + 1]
            children = levels[k]["words"][lo:hi]
            at = bisect.bisect_left(children, word)
            if at == len(children) or children[at] != word:
                return None
            entry = lo + at
        return entry

    def p(word: int, history: tuple[int, ...]) -> float:
        if not history:
            return 10.0 ** float(levels[0]["log10_prob"][word])
        context = find(history)
        if context is None:
            return p(word, history[1:])
        entry = find(history + (word,))
        if entry is not None:
            return 10.0 ** float(levels[len(history)]["log10_prob"][entry])
        return 10.0 ** float(levels[len(history) - 1]["log10_backoff"][context]) * p(word, history[1:])

    def distribution(context: list[int]) -> tuple[np.ndarray, float]:
        """P(. | context), and the mass before renormalisation."""
        history = tuple(([bos] * (order - 1) + context)[len(context):]) if order > 1 else ()
        q = np.array([0.0 if w in excluded else p(w, history) for w in range(vocab)])
        return q / q.sum(), float(q.sum())

    return distribution


@pytest.mark.parametrize("min_count", [1, 3, 6])
def test_a_reader_written_from_the_readme_gets_the_projects_probabilities(files, texts, min_count):
    """The same distributions; and before renormalisation they already sum to 1 but for the bins' rounding,
    which holds after pruning only because each context's back-off weight was computed again."""
    by_readme, phone = readme_reader(files[min_count]), PhoneNgram(files[min_count])
    for context in contexts_of(texts)[::9]:
        distribution, mass = by_readme(context)
        assert distribution == pytest.approx(phone.distribution(context), rel=1e-9, abs=1e-15)
        assert mass == pytest.approx(1.0, abs=MAX_RELATIVE_ERROR)


def test_the_readme_reader_follows_child_pointers_in_small_blocks(model, texts, tmp_path, monkeypatch):
    """The tiny model's pointers fit one block of 256; blocks of 4 make every entry's base and delta count."""
    monkeypatch.setattr("text_autocomplete.phone_ngram.MAX_BLOCK", 4)
    write_phone_ngram(model, tmp_path / "blocks.bin", 2)
    by_readme, phone = readme_reader(tmp_path / "blocks.bin"), PhoneNgram(tmp_path / "blocks.bin")
    for context in contexts_of(texts)[::13]:
        assert by_readme(context)[0] == pytest.approx(phone.distribution(context), rel=1e-9, abs=1e-15)


def test_child_pointers_shrink_their_block_until_the_deltas_fit():
    from text_autocomplete.phone_ngram import _child_pointers

    def first_children(children_per_entry: list[int]) -> tuple[int, list[int]]:
        parent = np.repeat(np.arange(len(children_per_entry)), children_per_entry)  # the children's parents
        block, base, delta = _child_pointers(parent, len(children_per_entry))
        return block, [int(base[i // block]) + int(delta[i]) for i in range(len(children_per_entry) + 1)]

    # blocks of 2 hold entry 1's 70,000 children in one delta (from entry 0's start), blocks of 1 hold entry 0's
    assert first_children([3, 70_000, 0, 5, 40_000, 1]) == (2, [0, 3, 70_003, 70_003, 70_008, 110_008, 110_009])
    assert first_children([70_000, 3, 0, 5, 40_000, 1]) == (1, [0, 70_000, 70_003, 70_003, 70_008, 110_008,
                                                               110_009])
    block, base, delta = _child_pointers(np.repeat(np.arange(600), 3), 600)
    assert block == 256 and len(base) == 3 and [int(base[i // 256]) + int(delta[i]) for i in (0, 300, 600)] == [
        0, 900, 1800]


# --------------------------------------------------------------------------- 4. damaged files
def test_a_truncated_file_is_named(files, tmp_path):
    data = files[2].read_bytes()
    for length in (len(data) // 2, len(data) - 1, 20, 0):
        short = tmp_path / f"short{length}.bin"
        short.write_bytes(data[:length])
        with pytest.raises(UserError, match=str(short)):
            PhoneNgram(short)


def test_an_array_outside_the_file_is_named(files, tmp_path):
    """A header whose size field was mended to match a cut file: the arrays it points at are checked too."""
    data = bytearray(files[2].read_bytes())
    cut = data[:len(data) // 2]
    cut[40:48] = np.uint64(len(cut)).tobytes()
    damaged = tmp_path / "cut.bin"
    damaged.write_bytes(bytes(cut))
    with pytest.raises(UserError, match=rf"{damaged}.*truncated"):
        PhoneNgram(damaged)


@pytest.mark.parametrize("start, replacement, message", [(0, b"NOTNGRAM", "not a phone n-gram file"),
                                                         (8, np.uint32(7).tobytes(), "version 7")])
def test_a_wrong_magic_or_version_is_named(files, tmp_path, start, replacement, message):
    data = bytearray(files[1].read_bytes())
    data[start:start + len(replacement)] = replacement
    wrong = tmp_path / "wrong.bin"
    wrong.write_bytes(bytes(data))
    with pytest.raises(UserError, match=rf"{wrong}.*{message}"):
        PhoneNgram(wrong)


def test_a_missing_file_is_named(tmp_path):
    with pytest.raises(UserError, match=str(tmp_path / "none.bin")):
        PhoneNgram(tmp_path / "none.bin")


# --------------------------------------------------------------------------- 5. texts
def test_text_distributions_are_the_distributions_of_the_prefixes(files, texts):
    phone = PhoneNgram(files[2])
    batch = [texts[0], [], [55, 3, 56], texts[3] + texts[4]]
    for ids, dists in zip(batch, phone.text_distributions(batch)):
        assert dists.shape == (len(ids) + 1, VOCAB)
        assert np.array_equal(dists, phone.distributions([ids[:i] for i in range(len(ids) + 1)]))
        events = dists[np.arange(len(ids) + 1), [*ids, EOS]]
        assert phone.text_log_probs(ids) == pytest.approx(np.log(events))
    assert phone.text_distributions([]) == [] and phone.distributions([]).shape == (0, VOCAB)


def test_text_log_probs_follow_kneser_ney(model, files, texts):
    phone = PhoneNgram(files[1])
    for ids in texts[:20]:
        assert phone.text_log_probs(ids) == pytest.approx(model.text_log_probs(ids), abs=MAX_RELATIVE_ERROR)


# --------------------------------------------------------------------------- choosing the cut-off
def test_choose_min_count_takes_the_best_file_that_fits(model, texts, tmp_path):
    val = made_up_texts(60, seed=2)
    best, table = choose_min_count(model, val, [1, 2, 4], max_bytes=10**9, folder=tmp_path)
    assert list(table.columns) == ["min_count", "n_grams", "bytes", "val_perplexity"]
    assert list(table["min_count"]) == [1, 2, 4] and (tmp_path / "ngram_min4.bin").exists()
    assert best == int(table.loc[table["val_perplexity"].idxmin(), "min_count"])
    expected = PhoneNgram(tmp_path / f"ngram_min{best}.bin")
    log_probs = np.concatenate([expected.text_log_probs(ids) for ids in val])
    assert table.loc[table["min_count"] == best, "val_perplexity"].item() == pytest.approx(
        np.exp(-log_probs.mean()), abs=1e-3)
    smallest = int(table["bytes"].min())
    assert choose_min_count(model, val, [1, 2, 4], smallest, tmp_path)[0] == 4
    with pytest.raises(UserError, match="max_bytes"):
        choose_min_count(model, val, [1, 2, 4], smallest - 1, tmp_path)
