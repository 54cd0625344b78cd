"""An interpolated modified Kneser-Ney n-gram model over word ids (Chen & Goodman 1998, section 3.5).

Texts are id sequences framed as the LSTM frames them: `order - 1` copies of `<bos>` before the words and
`<eos>` after, so that both models predict the same events (every word, then the end). For a context h of
n - 1 words and its shortened context h' (the first word dropped):

    P(w | h) = max(c(h w) - D(c(h w)), 0) / c(h .)  +  gamma(h) * P(w | h'),
    gamma(h) = (D1 N1(h .) + D2 N2(h .) + D3 N3+(h .)) / c(h .)

where c is the raw count at the highest order and, below it, the continuation count (how many different
words precede the n-gram), N1/N2/N3+ count the words seen after h once / twice / three times or more, and the
three discounts of each order come from its count-of-counts: Y = n1 / (n1 + 2 n2), D1 = 1 - 2Y n2/n1,
D2 = 2 - 3Y n3/n2, D3 = 3 - 4Y n4/n3. A context never seen passes all its mass to h'. Below the unigrams is
the uniform distribution over the words that can be predicted (every id but `excluded`, e.g. `<pad>`, `<bos>`),
so every distribution sums to 1 and an unseen word keeps a small probability.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from tokenizers import Tokenizer

from text_autocomplete.errors import UserError
from text_autocomplete.measures import perplexity
from text_autocomplete.progress import progress
from text_autocomplete.tokenizer import BOS_ID, EOS_ID, NEVER_SUGGESTED, PAD_ID, encode_texts


@dataclass
class NgramConfig:
    """The ``ngram`` section of params.yaml."""

    orders: list[int]  # compared on val perplexity; the best is saved beside the LSTM

    def __post_init__(self) -> None:
        if not self.orders or any(not isinstance(n, int) or n < 1 for n in self.orders):
            raise UserError(f"params.yaml ngram.orders={self.orders}: a list of orders, each at least 1")


# How save() lays out the arrays; load() refuses a file of another layout rather than misread it.
SAVED_LAYOUT = "columns"


def pack(ids, bits: int):
    """Word ids as one integer key, `bits` per id, the first id highest: contexts become sortable, searchable
    numbers. `ids` holds ints (one context: an int back) or equal-length int64 arrays, one per position (many
    contexts at once: an array of keys back)."""
    key = 0
    for column in ids:
        key = (key << bits) | column
    return key


def pack_rows(rows: np.ndarray, bits: int) -> np.ndarray:
    """Each row of word ids (N, k) as one int64 key (`pack` column by column)."""
    return np.zeros(len(rows), dtype=np.int64) | pack([rows[:, c].astype(np.int64) for c in range(rows.shape[1])],
                                                      bits)


@dataclass
class _Level:
    """One order's n-grams grouped by context: contexts sorted by packed key, each with its slice of next words,
    their discounted (continuation) counts, the context's total and its discounted mass."""

    keys: np.ndarray  # (C,) int64, sorted
    starts: np.ndarray  # (C + 1,) context i owns words[starts[i]:starts[i + 1]]
    words: np.ndarray  # (N,) int32
    discounted: np.ndarray  # (N,) max(c - D(c), 0)
    totals: np.ndarray  # (C,) c(h .)
    backoff_mass: np.ndarray  # (C,) D1 N1 + D2 N2 + D3 N3+; gamma = backoff_mass / total

    def find(self, key: int) -> int | None:
        i = int(np.searchsorted(self.keys, key))
        return i if i < len(self.keys) and self.keys[i] == key else None

    def nbytes(self) -> int:
        return sum(a.nbytes for a in (self.keys, self.starts, self.words, self.discounted, self.totals,
                                      self.backoff_mass))


def _per_context(values: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """Sums of `values` over each context's slice (contexts start at `starts`)."""
    return np.add.reduceat(values, starts) if len(values) else values


def discounts(counts: Sequence[int] | np.ndarray) -> tuple[float, float, float]:
    """D1, D2, D3+ from the count-of-counts of one order (Chen & Goodman's estimates); where a count-of-count is
    zero (tiny corpora) the estimate falls back to an absolute discount of Y, clipped to the count it discounts."""
    values = np.asarray(counts)
    n1, n2, n3, n4 = (int((values == k).sum()) for k in (1, 2, 3, 4))
    y = n1 / (n1 + 2 * n2) if n1 + 2 * n2 > 0 else 0.5
    d1 = 1 - 2 * y * n2 / n1 if n1 else y
    d2 = 2 - 3 * y * n3 / n2 if n2 else min(2 * y, 2.0)
    d3 = 3 - 4 * y * n4 / n3 if n3 else min(3 * y, 3.0)
    return (float(np.clip(d1, 0, 1)), float(np.clip(d2, 0, 2)), float(np.clip(d3, 0, 3)))


class KneserNey:
    """Next-word distributions and scores from an interpolated modified Kneser-Ney model of `order`.

    The n-grams live in numpy arrays, contexts looked up by binary search on packed keys: a 5-gram model of a
    92k-tweet corpus takes ~0.1 GB and loads in seconds (Python dicts of tuples took 2 GB and 40 s).
    """

    def __init__(self, order: int, vocab_size: int, bos_id: int, eos_id: int, excluded: Sequence[int] = ()):
        if order < 1:
            raise ValueError(f"n-gram order {order}: must be at least 1")
        self.order, self.vocab_size, self.bos_id, self.eos_id = order, vocab_size, bos_id, eos_id
        self.bits = max(1, (vocab_size - 1).bit_length())
        if (order - 1) * self.bits > 63:
            raise UserError(f"an n-gram order of {order} with a {vocab_size:,}-word vocabulary needs contexts of "
                            f"{(order - 1) * self.bits} bits; at most 63 (lower ngram.orders or tokenizer.vocab_size)")
        self.excluded = sorted(set(excluded))
        self.uniform = np.full(vocab_size, 1.0 / (vocab_size - len(self.excluded)))
        self.uniform[self.excluded] = 0.0
        # grams[n - 1]: the distinct n-grams (rows of ids) and their (continuation) counts; levels[n - 1]: indexed
        self.grams = [np.zeros((0, n), dtype=np.int32) for n in range(1, order + 1)]
        self.counts = [np.zeros(0, dtype=np.int32) for _ in range(order)]
        self.levels: list[_Level] = []

    # ----------------------------------------------------------------------- building
    def frame(self, ids: Sequence[int]) -> list[int]:
        return [self.bos_id] * (self.order - 1) + list(ids) + [self.eos_id]

    def fit(self, texts: Sequence[Sequence[int]]) -> KneserNey:
        """Count the framed texts (word ids without `<bos>`/`<eos>`) and set every order's discounts."""
        n = self.order
        windows = [np.lib.stride_tricks.sliding_window_view(np.array(self.frame(ids), dtype=np.int32), n)
                   for ids in texts]
        rows = np.concatenate(windows) if windows else np.zeros((0, n), dtype=np.int32)
        self.grams[n - 1], self.counts[n - 1] = np.unique(rows, axis=0, return_counts=True)
        # Below the top order: continuation counts, the number of different words seen before each n-gram.
        for level in range(n - 1, 0, -1):
            self.grams[level - 1], self.counts[level - 1] = np.unique(self.grams[level][:, 1:], axis=0,
                                                                      return_counts=True)
        self._index()
        return self

    def _index(self) -> None:
        """Group each order's n-grams by context and precompute totals and backoff masses."""
        self.levels = []
        for grams, raw_counts in zip(self.grams, self.counts):
            d1, d2, d3 = discounts(raw_counts)
            contexts = pack_rows(grams[:, :-1], self.bits)
            order = np.lexsort((grams[:, -1], contexts))
            contexts, counts = contexts[order], raw_counts[order].astype(np.float64)
            keys, starts = np.unique(contexts, return_index=True)
            discount = np.where(counts == 1, d1, np.where(counts == 2, d2, d3))
            self.levels.append(_Level(keys, np.append(starts, len(counts)).astype(np.int32), grams[order, -1],
                                      np.maximum(counts - discount, 0.0), _per_context(counts, starts),
                                      _per_context(np.minimum(discount, counts), starts)))

    def key(self, context: Sequence[int]) -> int:
        return pack(map(int, context), self.bits)

    def n_grams(self) -> int:
        """How many n-grams (of every order) the model stores, each with a count."""
        return sum(len(g) for g in self.grams)

    def memory_mb(self) -> float:
        """MB of the arrays the model holds: its n-grams and counts, and their index."""
        return (sum(g.nbytes + c.nbytes for g, c in zip(self.grams, self.counts))
                + sum(level.nbytes() for level in self.levels)) / 1e6

    # ----------------------------------------------------------------------- probabilities
    def distribution(self, context: Sequence[int]) -> np.ndarray:
        """P(. | context) over the whole vocabulary; `context` is the framed history (only its last
        `order - 1` ids are read; shorter is padded with `<bos>` as at a text's start)."""
        history = ([self.bos_id] * (self.order - 1) + list(context))[len(context):] if self.order > 1 else []
        p = self.uniform
        for level, known in enumerate(self.levels):
            i = known.find(self.key(history[len(history) - level:]) if level else 0)
            if i is None:
                continue  # an unseen context hands all its mass to the shorter one
            lower = p
            p = lower * (known.backoff_mass[i] / known.totals[i])
            span = slice(known.starts[i], known.starts[i + 1])
            p[known.words[span]] += known.discounted[span] / known.totals[i]
        return p if p is not self.uniform else p.copy()  # callers may write into it

    def distributions(self, contexts: Sequence[Sequence[int]]) -> np.ndarray:
        """`distribution` for a batch of contexts: an array (batch, vocabulary)."""
        return np.stack([self.distribution(context) for context in contexts]) if contexts else \
            np.zeros((0, self.vocab_size))

    def log_prob(self, contexts: Sequence[Sequence[int]], targets: Sequence[int]) -> np.ndarray:
        """Natural log of P(target | context) for each pair."""
        return np.log([self.distribution(context)[target] for context, target in zip(contexts, targets)])

    def text_log_probs(self, ids: Sequence[int]) -> np.ndarray:
        """The log-probability of each of a text's words and of its `<eos>`."""
        framed = self.frame(ids)
        start = self.order - 1
        return self.log_prob([framed[:i] for i in range(start, len(framed))], framed[start:])

    def text_log_prob(self, ids: Sequence[int]) -> tuple[float, int]:
        """Sum of log-probabilities of a text's words and its `<eos>`, and how many events that is."""
        log_probs = self.text_log_probs(ids)
        return float(log_probs.sum()), len(log_probs)

    # ----------------------------------------------------------------------- saving
    def save(self, path: Path | str) -> None:
        """Every order's n-grams and counts (numpy's compressed .npz), with the framing ids. Each order's n-grams
        are stored column by column in the smallest integer type that holds them: the columns of sorted n-grams
        repeat long runs, which compress to two thirds of the row-by-row int32 file."""
        arrays = {"meta": np.array([self.order, self.vocab_size, self.bos_id, self.eos_id]),
                  "excluded": np.array(self.excluded, dtype=np.int64), "layout": np.array(SAVED_LAYOUT)}
        ids = np.min_scalar_type(self.vocab_size - 1)
        for level, (grams, counts) in enumerate(zip(self.grams, self.counts)):
            arrays[f"grams{level + 1}"] = np.ascontiguousarray(grams.T, dtype=ids)  # a row per column
            arrays[f"counts{level + 1}"] = counts.astype(np.min_scalar_type(int(counts.max(initial=0))))
        np.savez_compressed(path, **arrays)

    @classmethod
    def load(cls, path: Path | str) -> KneserNey:
        with np.load(path) as data:
            if "layout" not in data or str(data["layout"]) != SAVED_LAYOUT:
                raise UserError(f"{path}: an n-gram model saved in another layout (an older version of this "
                                f"project); run `dvc repro train_lstm` to save it again")
            order, vocab_size, bos_id, eos_id = (int(v) for v in data["meta"])
            model = cls(order, vocab_size, bos_id, eos_id, data["excluded"].tolist())
            model.grams = [np.ascontiguousarray(data[f"grams{level + 1}"].T, dtype=np.int32) for level in range(order)]
            model.counts = [data[f"counts{level + 1}"].astype(np.int32) for level in range(order)]
        model._index()
        return model


# --------------------------------------------------------------------------- fitting on train, choosing on val
def texts_perplexity(model: KneserNey, texts: Sequence[Sequence[int]], desc: str = "") -> float:
    """The perplexity of every word and <eos> of `texts` (word ids, <unk> a word)."""
    log_probs = [model.text_log_probs(ids)
                 for ids in progress(texts, desc=desc or f"val perplexity, {model.order}-gram", unit="text")]
    return perplexity(np.concatenate(log_probs) if log_probs else np.zeros(0))


def fit_best_order(train: Sequence[Sequence[int]], val: Sequence[Sequence[int]], config: NgramConfig,
                   vocab_size: int) -> tuple[KneserNey, pd.DataFrame]:
    """Fit one model per order on `train`; return the one with the lowest val perplexity and the table."""
    rows, best = [], None
    for order in config.orders:
        model = KneserNey(order, vocab_size, BOS_ID, EOS_ID, excluded=[PAD_ID, BOS_ID]).fit(train)
        rows.append({"order": order, "val_perplexity": round(texts_perplexity(model, val), 3),
                     "ngrams": model.n_grams()})
        print(f"  {order}-gram: val perplexity {rows[-1]['val_perplexity']}", flush=True)
        if best is None or rows[-1]["val_perplexity"] < best[1]:
            best = (model, rows[-1]["val_perplexity"])
    return best[0], pd.DataFrame(rows)


# --------------------------------------------------------------------------- as a completer
class NgramCompleter:
    """Completes cleaned prompts word by word with the most probable next word (greedy), exactly `budget` words,
    never <pad>, <unk>, <bos> or <eos>; the same protocol as every model."""

    def __init__(self, model: KneserNey, tokenizer: Tokenizer, name: str = "n-gram"):
        self.model, self.tokenizer, self.name = model, tokenizer, name

    def _ids(self, prompts: list[str]) -> list[list[int]]:
        return encode_texts(self.tokenizer, prompts, add_bos=False, add_eos=False)

    def _suggestable(self, distributions: np.ndarray) -> np.ndarray:
        distributions[..., list(NEVER_SUGGESTED)] = -1.0
        return distributions

    def complete(self, prompts: list[str], budgets: list[int]) -> list[str]:
        completions = []
        for history, budget in zip(self._ids(prompts), budgets):
            new: list[int] = []
            for _ in range(budget):
                new.append(int(self._suggestable(self.model.distribution(history + new)).argmax()))
            completions.append(self.tokenizer.decode(new))
        return completions

    def next_words(self, prompts: list[str], k: int) -> list[list[str]]:
        """The `k` most probable next words of each prompt."""
        top = np.argsort(-self._suggestable(self.model.distributions(self._ids(prompts))), axis=1)[:, :k]
        return [[self.tokenizer.id_to_token(int(i)) for i in row] for row in top]
