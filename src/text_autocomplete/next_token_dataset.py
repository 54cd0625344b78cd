"""Token-id sequences served for next-token training: Dataset, padding collate, length buckets."""
from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import torch
from torch.utils.data import DataLoader, Dataset, Sampler

from text_autocomplete.measures import chunks
from text_autocomplete.tokenizer import PAD_ID


class NextTokenDataset(Dataset):
    """Each item is one text's ids (<bos> ... <eos>); the model predicts ids[1:] from ids[:-1]."""

    def __init__(self, sequences: Sequence[Sequence[int]], max_len: int = 0):
        # Truncating keeps the <bos> start; a cut tweet simply loses its end-of-text target.
        self.sequences = [torch.tensor(s[:max_len] if max_len else s, dtype=torch.long) for s in sequences]
        self.sequences = [s for s in self.sequences if len(s) >= 2]

    def __len__(self) -> int:
        return len(self.sequences)

    def __getitem__(self, index: int) -> torch.Tensor:
        return self.sequences[index]

    def lengths(self) -> list[int]:
        return [len(s) for s in self.sequences]


@dataclass
class Batch:
    inputs: torch.Tensor  # (B, T) ids, padded with PAD_ID
    targets: torch.Tensor  # (B, T) the next id at each position
    mask: torch.Tensor  # (B, T) True where the target is a real token

    def to(self, device: torch.device | str) -> Batch:
        return Batch(self.inputs.to(device), self.targets.to(device), self.mask.to(device))


def collate_next_token(sequences: list[torch.Tensor]) -> Batch:
    """Right-pad to the longest sequence of the batch and shift by one for the targets."""
    padded = torch.nn.utils.rnn.pad_sequence(sequences, batch_first=True, padding_value=PAD_ID)
    inputs, targets = padded[:, :-1], padded[:, 1:]
    return Batch(inputs, targets, targets != PAD_ID)


class BucketBatchSampler(Sampler[list[int]]):
    """Batches of similar lengths, so that padding stays small, in a seeded random order.

    Indices are shuffled, cut into pools of `pool_batches` batches, each pool sorted by length
    and cut into batches; the batches are shuffled again so an epoch does not go short to long.

    With `world_size` processes, every process draws the same epoch's batches (same seed and epoch) and takes
    every `world_size`-th from its `rank`: disjoint shares of equal size, so that all take as many steps. The
    last few batches (fewer than `world_size`) sit the epoch out; another epoch's shuffle brings them back.
    """

    def __init__(self, lengths: Sequence[int], batch_size: int, seed: int = 0, pool_batches: int = 50,
                 shuffle: bool = True, rank: int = 0, world_size: int = 1):
        if not 0 <= rank < world_size:
            raise ValueError(f"rank {rank} is not one of {world_size} processes")
        self.lengths = torch.as_tensor(lengths)
        self.batch_size = batch_size
        self.seed = seed
        self.pool_size = batch_size * pool_batches
        self.shuffle = shuffle
        self.rank, self.world_size = rank, world_size
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def _batches(self) -> list[list[int]]:
        generator = torch.Generator().manual_seed(self.seed + self.epoch)
        n = len(self.lengths)
        order = torch.randperm(n, generator=generator) if self.shuffle else torch.arange(n)
        batches = []
        for start in range(0, n, self.pool_size):
            pool = order[start:start + self.pool_size]
            pool = pool[torch.argsort(self.lengths[pool], stable=True)]
            batches += [batch.tolist() for batch in chunks(pool, self.batch_size)]
        if self.shuffle:
            batches = [batches[i] for i in torch.randperm(len(batches), generator=generator).tolist()]
        return batches[self.rank:len(self) * self.world_size:self.world_size]

    def __iter__(self) -> Iterator[list[int]]:
        return iter(self._batches())

    def __len__(self) -> int:
        """Batches per epoch for this process (all of them for one process)."""
        full_pools, rest = divmod(len(self.lengths), self.pool_size)
        return (full_pools * (self.pool_size // self.batch_size) + -(-rest // self.batch_size)) // self.world_size


def make_loader(dataset: NextTokenDataset, batch_size: int, seed: int = 0, shuffle: bool = True,
                bucket: bool = True, rank: int = 0, world_size: int = 1) -> DataLoader:
    """A DataLoader over `dataset` (this process's share of it, of `world_size`); `bucket=False` gives plain
    random batches (the padding-heavy baseline, one process only)."""
    if bucket:
        sampler = BucketBatchSampler(dataset.lengths(), batch_size, seed=seed, shuffle=shuffle, rank=rank,
                                     world_size=world_size)
        return DataLoader(dataset, batch_sampler=sampler, collate_fn=collate_next_token)
    if world_size > 1:
        raise ValueError("plain random batches (train.bucket: false) are for one process; set train.nproc: 1")
    generator = torch.Generator().manual_seed(seed)
    return DataLoader(dataset, batch_size=batch_size, shuffle=shuffle, generator=generator,
                      collate_fn=collate_next_token)
