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

import math
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from tokenizers import Tokenizer

from text_autocomplete.errors import UserError
from text_autocomplete.progress import progress
from text_autocomplete.tokenizer import BOS_ID, EOS_ID, PAD_ID, UNK_ID, encode_texts

NEVER_SUGGESTED = [PAD_ID, UNK_ID, BOS_ID, EOS_ID]  # as a word of a completion or a next-word guess


@dataclass
class NgramConfig:
    """The ``ngram`` section of params.yaml."""

    orders: list[int]  # compared on val perplexity; the best is saved beside the LSTM

    def __post_init__(self) -> None:
        if not self.orders or any(not isinstance(n, int) or n < 1 for n in self.orders):
            raise UserError(f"params.yaml ngram.orders={self.orders}: a list of orders, each at least 1")


@dataclass
class _Context:
    """What one order knows after one context: the words seen, their (continuation) counts, and the backoff."""

    words: np.ndarray
    counts: np.ndarray
    total: float
    backoff_mass: float  # D1 N1 + D2 N2 + D3 N3+, the discounted mass; gamma = backoff_mass / total


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
    """Next-word distributions and scores from an interpolated modified Kneser-Ney model of `order`."""

    def __init__(self, order: int, vocab_size: int, bos_id: int, eos_id: int, excluded: Sequence[int] = ()):
        if order < 1:
            raise ValueError(f"n-gram order {order}: must be at least 1")
        self.order, self.vocab_size, self.bos_id, self.eos_id = order, vocab_size, bos_id, eos_id
        self.excluded = sorted(set(excluded))
        self.uniform = np.full(vocab_size, 1.0 / (vocab_size - len(self.excluded)))
        self.uniform[self.excluded] = 0.0
        # levels[n - 1]: contexts of n - 1 words -> what order n knows after them
        self.levels: list[dict[tuple[int, ...], _Context]] = [{} for _ in range(order)]
        self.ngram_counts: list[dict[tuple[int, ...], int]] = [{} for _ in range(order)]

    # ----------------------------------------------------------------------- building
    def frame(self, ids: Sequence[int]) -> list[int]:
        return [self.bos_id] * (self.order - 1) + list(ids) + [self.eos_id]

    def fit(self, texts: Sequence[Sequence[int]]) -> KneserNey:
        """Count the framed texts (word ids without `<bos>`/`<eos>`) and set every order's discounts."""
        top: Counter[tuple[int, ...]] = Counter()
        n = self.order
        for ids in texts:
            framed = self.frame(ids)
            for end in range(n, len(framed) + 1):
                top[tuple(framed[end - n:end])] += 1
        self.ngram_counts[n - 1] = dict(top)
        # Below the top order: continuation counts, the number of different words seen before each n-gram.
        for level in range(n - 1, 0, -1):
            continuation: Counter[tuple[int, ...]] = Counter(gram[1:] for gram in self.ngram_counts[level])
            self.ngram_counts[level - 1] = dict(continuation)
        self._index()
        return self

    def _index(self) -> None:
        """Group each order's n-grams by context and precompute totals and backoff masses."""
        for level, grams in enumerate(self.ngram_counts):
            d1, d2, d3 = discounts(list(grams.values()))
            by_context: dict[tuple[int, ...], list[tuple[int, int]]] = defaultdict(list)
            for gram, count in grams.items():
                by_context[gram[:-1]].append((gram[-1], count))
            contexts = {}
            for context, pairs in by_context.items():
                words = np.array([w for w, _ in pairs], dtype=np.int64)
                counts = np.array([c for _, c in pairs], dtype=np.float64)
                discount = np.where(counts == 1, d1, np.where(counts == 2, d2, d3))
                contexts[context] = _Context(words, np.maximum(counts - discount, 0.0), float(counts.sum()),
                                             float(discount.clip(max=counts).sum()))
            self.levels[level] = contexts

    # ----------------------------------------------------------------------- probabilities
    def distribution(self, context: Sequence[int]) -> np.ndarray:
        """P(. | context) over the whole vocabulary; `context` is the framed history (only its last
        `order - 1` ids are read; shorter is padded with `<bos>` as at a text's start)."""
        history = ([self.bos_id] * (self.order - 1) + list(context))[len(context):] if self.order > 1 else []
        p = self.uniform
        for level in range(self.order):
            known = self.levels[level].get(tuple(history[len(history) - level:]) if level else ())
            if known is None:
                continue  # an unseen context hands all its mass to the shorter one
            lower = p
            p = lower * (known.backoff_mass / known.total)
            p[known.words] += known.counts / known.total
        return p

    def distributions(self, contexts: Sequence[Sequence[int]]) -> np.ndarray:
        """`distribution` for a batch of contexts: an array (batch, vocabulary)."""
        return np.stack([self.distribution(context) for context in contexts]) if contexts else \
            np.zeros((0, self.vocab_size))

    def log_prob(self, contexts: Sequence[Sequence[int]], targets: Sequence[int]) -> np.ndarray:
        """Natural log of P(target | context) for each pair."""
        return np.log([self.distribution(context)[target] for context, target in zip(contexts, targets)])

    def text_log_prob(self, ids: Sequence[int]) -> tuple[float, int]:
        """Sum of log-probabilities of a text's words and its `<eos>`, and how many events that is."""
        framed = self.frame(ids)
        start = self.order - 1
        contexts = [framed[:i] for i in range(start, len(framed))]
        return float(self.log_prob(contexts, framed[start:]).sum()), len(framed) - start

    # ----------------------------------------------------------------------- saving
    def save(self, path: Path | str) -> None:
        """Every order's n-grams and counts as integer arrays (numpy's .npz), with the framing ids."""
        arrays = {"meta": np.array([self.order, self.vocab_size, self.bos_id, self.eos_id]),
                  "excluded": np.array(self.excluded, dtype=np.int64)}
        for level, grams in enumerate(self.ngram_counts):
            arrays[f"grams{level + 1}"] = np.array(list(grams), dtype=np.int32).reshape(len(grams), level + 1)
            arrays[f"counts{level + 1}"] = np.array(list(grams.values()), dtype=np.int32)
        np.savez_compressed(path, **arrays)

    @classmethod
    def load(cls, path: Path | str) -> KneserNey:
        with np.load(path) as data:
            order, vocab_size, bos_id, eos_id = (int(v) for v in data["meta"])
            model = cls(order, vocab_size, bos_id, eos_id, data["excluded"].tolist())
            for level in range(order):
                grams, counts = data[f"grams{level + 1}"], data[f"counts{level + 1}"]
                model.ngram_counts[level] = {tuple(map(int, g)): int(c) for g, c in zip(grams, counts)}
        model._index()
        return model


# --------------------------------------------------------------------------- fitting on train, choosing on val
def perplexity(model: KneserNey, texts: Sequence[Sequence[int]], desc: str = "") -> float:
    """exp of the mean negative log-probability of every word and <eos> of `texts` (word ids, <unk> a word)."""
    log_prob, events = 0.0, 0
    for ids in progress(texts, desc=desc or f"val perplexity, {model.order}-gram", unit="text"):
        total, n = model.text_log_prob(ids)
        log_prob, events = log_prob + total, events + n
    return math.exp(-log_prob / max(events, 1))


def fit_best_order(train: Sequence[Sequence[int]], val: Sequence[Sequence[int]], config: NgramConfig,
                   vocab_size: int) -> tuple[KneserNey, pd.DataFrame]:
    """Fit one model per order on `train`; return the one with the lowest val perplexity and the table."""
    rows, best = [], None
    for order in config.orders:
        model = KneserNey(order, vocab_size, BOS_ID, EOS_ID, excluded=[PAD_ID, BOS_ID]).fit(train)
        rows.append({"order": order, "val_perplexity": round(perplexity(model, val), 3),
                     "ngrams": sum(map(len, model.ngram_counts))})
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
        distributions[..., NEVER_SUGGESTED] = -1.0
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
