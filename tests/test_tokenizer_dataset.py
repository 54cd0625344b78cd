"""Tokenizer round trip, padding collate, masks and length bucketing."""
from __future__ import annotations

import pytest
import torch

from text_autocomplete.next_token_dataset import BucketBatchSampler, NextTokenDataset, collate_next_token, make_loader
from text_autocomplete.tokenizer import (
    BOS_ID,
    EOS_ID,
    PAD_ID,
    UNK_ID,
    TokenizerError,
    encode_texts,
    load_tokenizer,
    train_tokenizer,
)

TEXTS = ["i love my dog", "my dog loves me", "i can't wait to see you", "see you soon my love"]


def test_tokenizer_round_trip_and_specials(tmp_path):
    tokenizer = train_tokenizer(TEXTS, vocab_size=100, min_frequency=1)
    path = tmp_path / "tokenizer.json"
    tokenizer.save(str(path))
    loaded = load_tokenizer(path)
    for text in TEXTS:
        ids = encode_texts(loaded, [text])[0]
        assert ids[0] == BOS_ID and ids[-1] == EOS_ID
        assert loaded.decode(ids[1:-1]) == text
    assert encode_texts(loaded, ["i love zebras"], add_bos=False, add_eos=False)[0][-1] == UNK_ID
    vocab = loaded.get_vocab()
    assert vocab["my"] < vocab["soon"]  # ids ordered by frequency: the adaptive softmax relies on it


def test_tokenizer_vocab_size_is_respected():
    tokenizer = train_tokenizer(TEXTS, vocab_size=8, min_frequency=1)
    assert tokenizer.get_vocab_size() == 8


def test_load_tokenizer_errors(tmp_path):
    with pytest.raises(TokenizerError, match="not found"):
        load_tokenizer(tmp_path / "none.json")
    (tmp_path / "bad.json").write_text("{not json")
    with pytest.raises(TokenizerError, match="not a readable tokenizer"):
        load_tokenizer(tmp_path / "bad.json")


def test_collate_shapes_targets_and_mask():
    batch = collate_next_token([torch.tensor([2, 5, 6, 3]), torch.tensor([2, 7, 3])])
    assert batch.inputs.tolist() == [[2, 5, 6], [2, 7, 3]]
    assert batch.targets.tolist() == [[5, 6, 3], [7, 3, PAD_ID]]
    assert batch.mask.tolist() == [[True, True, True], [True, True, False]]


def test_dataset_truncates_and_drops_too_short():
    dataset = NextTokenDataset([[2, 5, 6, 7, 3], [2], [2, 3]], max_len=3)
    assert [s.tolist() for s in dataset.sequences] == [[2, 5, 6], [2, 3]]


def test_bucketing_covers_every_index_once_with_little_padding():
    generator = torch.Generator().manual_seed(0)
    lengths = torch.randint(3, 40, (5000,), generator=generator).tolist()
    sampler = BucketBatchSampler(lengths, batch_size=32, seed=1, pool_batches=20)
    batches = list(sampler)
    assert len(batches) == len(sampler)
    assert sorted(i for b in batches for i in b) == list(range(5000))

    def padding_share(batch_list):
        padded = sum(max(lengths[i] for i in b) * len(b) for b in batch_list)
        return 1 - sum(lengths) / padded

    random_batches = torch.randperm(5000, generator=generator).split(32)
    assert padding_share(batches) < 0.05 < 0.3 < padding_share([b.tolist() for b in random_batches])
    assert list(BucketBatchSampler(lengths, 32, seed=1, pool_batches=20)) == batches  # seeded
    sampler.set_epoch(1)
    assert list(sampler) != batches  # a new order each epoch


def test_loader_yields_batches_of_similar_length():
    """Through the DataLoader: every text once per epoch, the rows of a batch at most one token apart, so padding
    is a small share of the tokens; plain random batches of the same texts pad far more."""
    sequences = [[2] + [5] * n + [3] for n in range(2, 60)] * 4  # lengths 4..61, four texts each
    real_tokens = sum(len(s) - 1 for s in sequences)

    def rows_and_padding(loader) -> tuple[list[list[int]], float]:
        rows, padding = [], 0
        for batch in loader:
            assert batch.inputs.shape == batch.targets.shape == batch.mask.shape
            rows.append((batch.mask.sum(dim=1) + 1).tolist())  # real targets + the <bos> input = text length
            padding += int((~batch.mask).sum())
        return rows, padding / real_tokens

    rows, padding = rows_and_padding(make_loader(NextTokenDataset(sequences), batch_size=8, seed=0))
    assert sorted(n for row in rows for n in row) == sorted(len(s) for s in sequences)  # each text exactly once
    assert all(max(row) - min(row) <= 1 for row in rows)
    assert padding < 0.02
    _, plain_padding = rows_and_padding(make_loader(NextTokenDataset(sequences), batch_size=8, seed=0, bucket=False))
    assert plain_padding > 0.3
