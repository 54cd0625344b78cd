"""The n-gram model as a phone ships it: pruned, quantised to 8 bits, one binary file mapped with no unpacking.

The Kneser-Ney model (ngram.py) keeps every n-gram with float64 counts: the committed 5-gram model holds 3.4M
n-grams, 10.7 MB compressed and 160+ MB once indexed, far over a keyboard's budget. The phone version

- prunes: an n-gram of order >= 2 whose count (raw at the top order, continuation count below: `counts[n - 1]`)
  is below `min_count` is dropped, and the context of every kept n-gram is kept (the trie reaches an entry
  through its context);
- stores the model in back-off form (as ARPA files and KenLM do): for a context h found in the file,
  P(w | h) = p(h w) if (h w) is kept, else alpha(h) P(w | h'), h' being h without its first word. For the
  unpruned model p(h w) is Kneser-Ney's own P(w | h) and alpha(h) its gamma(h), so nothing changes; after pruning
  alpha(h) = (1 - sum_kept P(w | h)) / (1 - sum_kept P_pruned(w | h')) gives each context its missing mass back;
- quantises log10 probabilities and back-off weights of orders >= 2 to 8-bit codes, one 256-entry float32 table
  per order and kind (KenLM's bins, bounded in width: `quantise`); the unigrams stay float32, as in KenLM. The
  reader renormalises every distribution, so the bins cost a little accuracy and never normalisation;
- lays everything out as a trie of flat little-endian arrays behind a fixed header (README.md, "The phone
  n-gram file", documents the bytes), so an app in any language maps the file and reads it as it is: nothing is
  decoded at load and only the pages a lookup touches are read.
"""
from __future__ import annotations

import bisect
import struct
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from text_autocomplete.errors import UserError
from text_autocomplete.measures import perplexity
from text_autocomplete.ngram import KneserNey, pack_rows
from text_autocomplete.progress import progress

MAGIC = b"TAPNGRM1"
VERSION = 1
# magic, version, order, vocab_size, bos_id, eos_id, excluded count, excluded offset, file bytes (48 bytes)
HEADER = struct.Struct("<8s6I2Q")
# one per order: entries, the child pointers' block, the offsets of FIELDS' arrays (0 for an array the order
# does not have) and a reserved 0 (80 bytes)
ORDER_RECORD = struct.Struct("<10Q")
ALIGN = 8  # every array starts at a multiple of 8, so any reader can map it as its type
CODES = 256
WORD_DTYPE, CODE_DTYPE, TABLE_DTYPE, ID_DTYPE = (np.dtype(t) for t in ("<u2", "u1", "<f4", "<u4"))
BASE_DTYPE, DELTA_DTYPE = np.dtype("<u4"), np.dtype("<u2")  # child pointers: a uint32 per block + a uint16 each
MAX_BLOCK = 256
NO_PROB = -np.inf  # prob code 0: probability 0 (excluded ids, and the <bos> runs that are only contexts)
NO_BACKOFF = 0.0  # backoff code 0: log10 alpha = 0, alpha = 1 (an entry that is no context)
TINY = 1e-12  # floor of the back-off masses, so that rounding never gives a weight of 0 or a division by 0


# --------------------------------------------------------------------------- pruning into a trie
@dataclass
class _Order:
    """One order's kept entries while the file is built, sorted by (parent entry, word): each context's children
    are then one contiguous run sorted by word, which is the trie the phone walks."""

    rows: np.ndarray  # (N, k) int64 word ids
    keys: np.ndarray  # (N,) the rows packed (ngram.pack), sorted; empty at the top order (its rows may not fit)
    child_keys: np.ndarray  # (N,) parent entry * vocab_size + word, sorted (orders >= 2)
    parent: np.ndarray  # (N,) entry of rows[:, :-1] in the order below (orders >= 2)
    prob: np.ndarray  # (N,) the unpruned model's P(last word | the others)
    alpha: np.ndarray | None = None  # (N,) back-off weight (orders below the top)


def _unpack(keys: np.ndarray, width: int, bits: int) -> np.ndarray:
    """The id rows (N, width) of keys that ngram.pack made, `bits` per id, the first id highest."""
    shifts = bits * np.arange(width - 1, -1, -1, dtype=np.int64)
    return (keys[:, None] >> shifts) & ((1 << bits) - 1)


def _kept_rows(model: KneserNey, min_count: int) -> list[np.ndarray]:
    """Each order's kept id rows: every unigram; above, the n-grams counted at least `min_count` times and, going
    down from the top, the context of every kept n-gram (a trie reaches an entry through its context; this also
    brings in the runs of <bos> that are contexts but never predicted words)."""
    n, bits = model.order, model.bits
    kept = [np.arange(model.vocab_size, dtype=np.int64)[:, None]]
    if n == 1:
        return kept
    above = model.grams[n - 1][model.counts[n - 1] >= min_count].astype(np.int64)
    top_down = [above]
    for k in range(n - 1, 1, -1):
        own = model.grams[k - 1][model.counts[k - 1] >= min_count].astype(np.int64)
        keys = np.unique(np.concatenate([pack_rows(own, bits), pack_rows(above[:, :-1], bits)]))
        above = _unpack(keys, k, bits)
        top_down.append(above)
    return kept + top_down[::-1]


def _lookup(sorted_keys: np.ndarray, queries: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The position of each query in `sorted_keys` (clipped to a valid index) and whether it is there."""
    if len(sorted_keys) == 0:
        return np.zeros(len(queries), dtype=np.int64), np.zeros(len(queries), dtype=bool)
    at = np.minimum(np.searchsorted(sorted_keys, queries), len(sorted_keys) - 1)
    return at, sorted_keys[at] == queries


def _entry_keys(model: KneserNey) -> list[np.ndarray]:
    """For each level, (context index * vocab_size + word) of its entries: sorted, since a level's words are
    grouped by context and sorted within it, so one binary search finds (context, word) for many rows at once."""
    return [np.repeat(np.arange(len(level.keys), dtype=np.int64), np.diff(level.starts)) * model.vocab_size
            + level.words for level in model.levels]


def _kneser_ney_probs(model: KneserNey, entry_keys: list[np.ndarray], rows: np.ndarray) -> np.ndarray:
    """The unpruned model's P(last id | the ids before it) for each row, all rows at once: the recursion of
    KneserNey.distribution (uniform floor, then each level whose context is found scales by gamma and adds its
    discounted count) evaluated at one word per row instead of over the whole vocabulary."""
    width, words = rows.shape[1], rows[:, -1]
    p = model.uniform[words].copy()
    for length, (level, keys) in enumerate(zip(model.levels[:width], entry_keys)):
        context = rows[:, width - 1 - length:width - 1]
        at, found = _lookup(level.keys, pack_rows(context, model.bits))
        if not found.any():
            continue  # an unseen context hands all its mass to the shorter one
        entry, has = _lookup(keys, at * model.vocab_size + words)
        totals = level.totals[at]
        p = np.where(found, p * level.backoff_mass[at] / totals, p)
        p += np.where(found & has, level.discounted[entry] / totals, 0.0)
    return p


def _backoff_probs(orders: list[_Order], rows: np.ndarray, vocab_size: int, bits: int) -> np.ndarray:
    """P(last id | the ids before it) as the phone computes it from the kept entries (before quantisation and
    renormalisation): the unigram, then for each longer suffix of the context found in the trie, the kept
    child's probability, else the back-off weight times the shorter suffix's. Reads the weights of the orders
    below the rows' width only."""
    width, words = rows.shape[1], rows[:, -1]
    p = orders[0].prob[words]
    for length in range(1, width):
        below, here = orders[length - 1], orders[length]
        node, found = _lookup(below.keys, pack_rows(rows[:, width - 1 - length:width - 1], bits))
        child, has = _lookup(here.child_keys, node * vocab_size + words)
        p = np.where(found & has, here.prob[child], np.where(found, p * below.alpha[node], p))
    return p


def _backoff_weights(orders: list[_Order], k: int, vocab_size: int, bits: int) -> np.ndarray:
    """alpha(h) for every entry h of order k: the mass its pruned children leave, over the mass those children
    have under the shorter context, so that P(. | h) sums to 1 (for the unpruned model, Kneser-Ney's gamma(h)).
    An entry without children backs off whole (alpha = 1)."""
    children = orders[k]
    count = len(orders[k - 1].rows)
    kept_mass = np.bincount(children.parent, weights=children.prob, minlength=count)
    lower = _backoff_probs(orders, children.rows[:, 1:], vocab_size, bits)
    lower_mass = np.bincount(children.parent, weights=lower, minlength=count)
    alpha = np.maximum(1.0 - kept_mass, TINY) / np.maximum(1.0 - lower_mass, TINY)
    alpha[np.bincount(children.parent, minlength=count) == 0] = 1.0
    return alpha


def _pruned_trie(model: KneserNey, min_count: int) -> list[_Order]:
    """The kept entries of every order with their parents, exact probabilities and back-off weights."""
    vocab, bits = model.vocab_size, model.bits
    entry_keys = _entry_keys(model)
    orders: list[_Order] = []
    for k, rows in enumerate(_kept_rows(model, min_count), start=1):
        parent = child_keys = np.zeros(0, dtype=np.int64)
        if k > 1:
            parent, _ = _lookup(orders[-1].keys, pack_rows(rows[:, :-1], bits))  # kept: the prefix closure
            child_keys = parent * vocab + rows[:, -1]
            by_trie = np.argsort(child_keys, kind="stable")
            rows, parent, child_keys = rows[by_trie], parent[by_trie], child_keys[by_trie]
        keys = pack_rows(rows, bits) if k < model.order else np.zeros(0, dtype=np.int64)
        orders.append(_Order(rows, keys, child_keys, parent, _kneser_ney_probs(model, entry_keys, rows)))
    for k in range(1, model.order):  # upwards: order k's weights read those below it
        orders[k - 1].alpha = _backoff_weights(orders, k, vocab, bits)
    return orders


# --------------------------------------------------------------------------- 8-bit codes
def _bin_edges(ordered: np.ndarray) -> np.ndarray:
    """At most 254 edges between the 255 bins of sorted values: half of them at equal counts (KenLM's bins,
    fine where values are dense) and half at equal widths over the range (KenLM's bins alone lump a sparse tail
    into one bin: on the committed model a back-off weight of 0.01 read back as 0.40, a 50x error)."""
    half = (CODES - 1) // 2 + 1
    by_count = ordered[(np.arange(1, half) * len(ordered)) // half]
    by_width = np.linspace(ordered[0], ordered[-1], half + 1)[1:-1]
    return np.unique(np.concatenate([by_count, by_width]))


def quantise(values: np.ndarray, coded: np.ndarray, reserved: float) -> tuple[np.ndarray, np.ndarray]:
    """8-bit codes of `values` where `coded`, and the 256-entry table of what each code stands for. Code 0 is
    `reserved` (probability 0, or no back-off); codes 1..255 are bins (`_bin_edges`), each standing for the mean
    of its members as in KenLM. Up to 255 distinct values are kept exactly."""
    codes = np.zeros(len(values), dtype=CODE_DTYPE)
    table = np.full(CODES, reserved, dtype=np.float64)
    members = values[coded]
    distinct = np.unique(members)
    if len(distinct) < CODES:
        table[1:1 + len(distinct)] = distinct
        codes[coded] = 1 + np.searchsorted(distinct, members)
        return codes, table.astype(TABLE_DTYPE)
    edges = _bin_edges(np.sort(members))
    bins = 1 + np.searchsorted(edges, members, side="right")  # equal values share a bin
    sizes = np.bincount(bins, minlength=CODES)
    means = np.bincount(bins, weights=members, minlength=CODES) / np.maximum(sizes, 1)
    table[1:] = np.where(sizes[1:] > 0, means[1:], distinct[-1])  # an unused code is never read
    codes[coded] = bins
    return codes, table.astype(TABLE_DTYPE)


def _log10(values: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore"):
        return np.log10(values)


# --------------------------------------------------------------------------- the file
FIELDS = ("words", "prob", "backoff", "child_base", "child_delta", "prob_table", "backoff_table")


def _order_arrays(order: _Order, k: int, top: int) -> dict[str, np.ndarray]:
    """What the file holds for order k, in the file's types (an array the order lacks is left out). Unigrams
    keep float32 log10 values, as KenLM keeps them: every backed-off probability passes through them, and on the
    committed model KenLM's 8-bit bins of them alone cost 1.3% of val perplexity, to save 60 kB."""
    arrays: dict[str, np.ndarray] = {}
    log_prob = _log10(order.prob)
    if k == 1:
        arrays["prob"] = log_prob.astype(TABLE_DTYPE)
    else:
        arrays["words"] = order.rows[:, -1].astype(WORD_DTYPE)
        arrays["prob"], arrays["prob_table"] = quantise(log_prob, np.isfinite(log_prob), NO_PROB)
    if k < top:
        log_alpha = _log10(order.alpha)
        if k == 1:
            arrays["backoff"] = log_alpha.astype(TABLE_DTYPE)
        else:
            arrays["backoff"], arrays["backoff_table"] = quantise(log_alpha, log_alpha != 0.0, NO_BACKOFF)
    return arrays


def _child_pointers(parent: np.ndarray, count: int) -> tuple[int, np.ndarray, np.ndarray]:
    """Where each of `count` entries' children start in the order above (entry i's children: first_child(i) to
    first_child(i + 1) - 1), stored as first_child(i) = base[i // block] + delta[i]: 2 bytes an entry instead of
    4 (the pointers were 43% of the file), with the largest block (a power of 2, at most 256) whose deltas fit
    in 16 bits."""
    first = np.searchsorted(parent, np.arange(count + 1))
    block = MAX_BLOCK
    while True:
        starts = first[::block]
        delta = first - np.repeat(starts, block)[:len(first)]
        if block == 1 or delta.max() <= np.iinfo(DELTA_DTYPE).max:
            return block, starts.astype(BASE_DTYPE), delta.astype(DELTA_DTYPE)
        block //= 2


def _aligned(offset: int) -> int:
    return -(-offset // ALIGN) * ALIGN


def _serialise(model: KneserNey, orders: list[_Order]) -> bytes:
    """The file's bytes: header, one record per order, the excluded ids, then each order's arrays, every array
    at an 8-byte boundary."""
    top = model.order
    per_order = [_order_arrays(order, k, top) for k, order in enumerate(orders, start=1)]
    blocks_of = [0] * top  # the child pointers' block of each order (0 at the top: no children)
    for k in range(1, top):
        blocks_of[k - 1], per_order[k - 1]["child_base"], per_order[k - 1]["child_delta"] = _child_pointers(
            orders[k].parent, len(orders[k - 1].rows))
    excluded = np.asarray(model.excluded, dtype=ID_DTYPE)
    placed: list[tuple[int, np.ndarray]] = []  # (offset, array), in file order
    end = HEADER.size + ORDER_RECORD.size * top
    for array in [excluded] + [arrays[f] for arrays in per_order for f in FIELDS if f in arrays]:
        placed.append((_aligned(end), array))
        end = placed[-1][0] + array.nbytes
    at = iter(offset for offset, _ in placed[1:])
    offsets = [{f: next(at) if f in arrays else 0 for f in FIELDS} for arrays in per_order]
    out = bytearray(end)
    out[:HEADER.size] = HEADER.pack(MAGIC, VERSION, top, model.vocab_size, model.bos_id, model.eos_id,
                                    len(excluded), placed[0][0], end)
    for k, (order, where) in enumerate(zip(orders, offsets)):
        record = HEADER.size + ORDER_RECORD.size * k
        out[record:record + ORDER_RECORD.size] = ORDER_RECORD.pack(len(order.rows), blocks_of[k],
                                                                   *(where[f] for f in FIELDS), 0)
    for offset, array in placed:
        out[offset:offset + array.nbytes] = array.tobytes()
    return bytes(out)


def write_phone_ngram(model: KneserNey, path: Path | str, min_count: int) -> dict:
    """Prune `model` (n-grams of order >= 2 whose count -- raw at the top order, continuation count below, i.e.
    model.counts[n - 1] -- is below `min_count` are dropped; min_count=1 keeps everything), convert it to back-off
    form, quantise it to 8 bits and write one file. Returns {"min_count", "n_grams" (kept, all orders), "bytes"}."""
    if isinstance(min_count, bool) or not isinstance(min_count, (int, np.integer)) or min_count < 1:
        raise UserError(f"min_count={min_count!r}: a count cut-off, an integer of at least 1 (1 keeps every n-gram)")
    if model.vocab_size > np.iinfo(WORD_DTYPE).max + 1:
        raise UserError(f"a {model.vocab_size:,}-word vocabulary: the phone n-gram file stores word ids in 16 bits "
                        f"(at most {np.iinfo(WORD_DTYPE).max + 1:,} words)")
    orders = _pruned_trie(model, int(min_count))
    data = _serialise(model, orders)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")  # a reader never maps a half-written file
    partial.write_bytes(data)
    partial.replace(path)
    return {"min_count": int(min_count), "n_grams": sum(len(order.rows) for order in orders), "bytes": len(data)}


# --------------------------------------------------------------------------- the phone's reader
class PhoneNgram:
    """Next-word distributions read from a phone n-gram file, which stays mapped (np.memmap): the arrays are
    views of the file, never copied, so loading costs the header and only the pages a lookup touches are read.
    What is decoded at load is small: the 256-entry code tables and the unigram distribution (vocabulary floats),
    which every lookup starts from."""

    def __init__(self, path: Path | str, name: str = "phone n-gram"):
        self.path, self.name = Path(path), name
        if not self.path.is_file():
            raise UserError(f"{self.path}: phone n-gram file not found")
        self._bytes = self.path.stat().st_size
        if self._bytes < HEADER.size:
            raise UserError(f"{self.path}: {self._bytes} bytes, shorter than the {HEADER.size}-byte header of a "
                            f"phone n-gram file (truncated?)")
        self._map = np.memmap(self.path, dtype=np.uint8, mode="r")
        self._raw = self._map.view(np.ndarray)  # plain ndarray views (cheaper slicing), still backed by the map
        self._read_header()
        self._read_orders()

    def _read_header(self) -> None:
        magic, version, order, vocab, bos, eos, excluded, excluded_at, size = HEADER.unpack(
            self._raw[:HEADER.size].tobytes())
        if magic != MAGIC:
            raise UserError(f"{self.path}: not a phone n-gram file (starts {magic!r}, expected {MAGIC!r})")
        if version != VERSION:
            raise UserError(f"{self.path}: phone n-gram file version {version}; this code reads version {VERSION} "
                            f"(write it again with write_phone_ngram)")
        if size != self._bytes:
            raise UserError(f"{self.path}: {self._bytes:,} bytes where its header says {size:,}: truncated or "
                            f"damaged; write it again")
        if order < 1 or HEADER.size + ORDER_RECORD.size * order > size:
            raise UserError(f"{self.path}: a header of order {order} does not fit the file: damaged")
        self.order, self.vocab_size, self.bos_id, self.eos_id = order, vocab, bos, eos
        self.excluded = self._array(excluded_at, ID_DTYPE, excluded, "excluded ids").astype(np.int64)

    def _array(self, offset: int, dtype: np.dtype, count: int, what: str) -> np.ndarray:
        """A view of `count` values of `dtype` at `offset`, after checking that they lie inside the file."""
        end = offset + count * dtype.itemsize
        if offset % ALIGN or offset < HEADER.size or end > self._bytes:
            raise UserError(f"{self.path}: {what} at bytes {offset:,}..{end:,} of a {self._bytes:,}-byte file: "
                            f"damaged or truncated; write it again")
        return self._raw[offset:end].view(dtype)

    def _read_orders(self) -> None:
        """Views of every order's arrays, and the decoded tables: 10**table per code (orders >= 2), and the
        unigram probabilities and weights (float32 log10 in the file)."""
        self._entries, self._words, self._probs, self._backoffs = [], [], [], []
        self._blocks, self._child_base, self._child_delta = [], [], []
        self._prob_values, self._alpha_values = [], []
        for k in range(1, self.order + 1):
            record = HEADER.size + ORDER_RECORD.size * (k - 1)
            count, block, *offsets, _ = ORDER_RECORD.unpack(self._raw[record:record + ORDER_RECORD.size].tobytes())
            at = dict(zip(FIELDS, offsets))
            if k == 1 and count != self.vocab_size:
                raise UserError(f"{self.path}: {count:,} unigrams for a {self.vocab_size:,}-word vocabulary: damaged")
            self._entries.append(count)
            code = TABLE_DTYPE if k == 1 else CODE_DTYPE  # unigrams: the log10 values themselves
            self._words.append(self._array(at["words"], WORD_DTYPE, count, f"order {k} words") if k > 1 else None)
            self._probs.append(self._array(at["prob"], code, count, f"order {k} prob"))
            self._prob_values.append(self._decoded(at["prob_table"], k, "prob"))
            if k < self.order:
                self._backoffs.append(self._array(at["backoff"], code, count, f"order {k} backoff"))
                if block < 1:
                    raise UserError(f"{self.path}: order {k}'s child pointers have a block of {block}: damaged")
                self._blocks.append(block)
                self._child_base.append(self._array(at["child_base"], BASE_DTYPE, count // block + 1,
                                                    f"order {k} child_base"))
                self._child_delta.append(self._array(at["child_delta"], DELTA_DTYPE, count + 1,
                                                     f"order {k} child_delta"))
                self._alpha_values.append(self._decoded(at["backoff_table"], k, "backoff"))
        self._unigram = 10.0 ** self._probs[0].astype(np.float64)
        self._unigram_alpha = 10.0 ** self._backoffs[0].astype(np.float64) if self.order > 1 else None
        self._scalar_views()

    def _decoded(self, offset: int, k: int, kind: str) -> np.ndarray | None:
        """10 ** a 256-entry code table (orders >= 2), what a code stands for."""
        if k == 1:
            return None
        return 10.0 ** self._array(offset, TABLE_DTYPE, CODES, f"order {k} {kind} table").astype(np.float64)

    # ----------------------------------------------------------------------- lookups
    def _scalar_views(self) -> None:
        """memoryviews of the arrays a lookup reads one value at a time (child pointers, words, backoff codes):
        still the mapped bytes, but indexing one gives a Python int in tens of nanoseconds where a numpy scalar
        costs hundreds, and bisect searches one in place; a lookup makes a dozen such reads."""
        self._base_at = [memoryview(a) for a in self._child_base]
        self._delta_at = [memoryview(a) for a in self._child_delta]
        self._word_at = [memoryview(a) if a is not None else None for a in self._words]
        self._backoff_at = [memoryview(a) for a in self._backoffs[1:]]
        self._alpha_of = [None] + [list(values) for values in self._alpha_values[1:]]

    def _children(self, k: int, entry: int) -> tuple[int, int]:
        """The children of an entry of order k + 1: entries lo..hi-1 of order k + 2."""
        base, delta, block = self._base_at[k], self._delta_at[k], self._blocks[k]
        return base[entry // block] + delta[entry], base[(entry + 1) // block] + delta[entry + 1]

    def _find(self, ids: Sequence[int]) -> int:
        """The entry of the id sequence in its order (len(ids)), or -1: from the unigram ids[0], a binary search
        for each next id among the children of the entry so far."""
        entry = ids[0]
        if not 0 <= entry < self.vocab_size:
            return -1
        for k, word in enumerate(ids[1:]):
            lo, hi = self._children(k, entry)
            words = self._word_at[k + 1]
            entry = bisect.bisect_left(words, word, lo, hi)
            if entry == hi or words[entry] != word:
                return -1
        return entry

    def _history(self, context: Sequence[int]) -> list[int]:
        """The last order - 1 ids of `context`, padded with <bos> in front as at a text's start."""
        width = self.order - 1
        if width == 0:
            return []
        tail = [int(i) for i in list(context)[-width:]]
        return [self.bos_id] * (width - len(tail)) + tail

    def distribution(self, context: Sequence[int]) -> np.ndarray:
        """P(. | context) over the vocabulary (float64, sums to 1, 0 on excluded ids); `context` as for
        KneserNey.distribution: only its last order - 1 ids are read, a shorter one is padded with <bos>.

        Back-off from the unigrams upwards: each longer suffix of the context found in the file multiplies what
        is there by its weight and sets its children's stored probabilities. The weights are kept as one scale
        (the array holds the distribution divided by it) so that each step touches only the children, not the
        whole vocabulary; the final division by the sum removes the scale and the bins' rounding at once."""
        history = self._history(context)
        p, scale = self._unigram.copy(), 1.0
        for length in range(1, self.order):
            entry = self._find(history[len(history) - length:])
            if entry < 0:
                continue
            k = length - 1
            scale *= self._alpha_of[k][self._backoff_at[k - 1][entry]] if k else self._unigram_alpha[entry]
            lo, hi = self._children(k, entry)
            if hi > lo:
                p[self._words[k + 1][lo:hi]] = self._prob_values[k + 1][self._probs[k + 1][lo:hi]] / scale
        p[self.excluded] = 0.0
        p *= 1.0 / p.sum()
        return p

    def distributions(self, contexts: Sequence[Sequence[int]]) -> np.ndarray:
        """`distribution` for a batch of contexts: an array (batch, vocabulary)."""
        if not len(contexts):
            return np.zeros((0, self.vocab_size))
        return np.stack([self.distribution(c) for c in contexts])

    def text_distributions(self, texts: Sequence[Sequence[int]]) -> list[np.ndarray]:
        """For each text of n word ids (no <bos>/<eos>), (n + 1, vocabulary): the distribution before the first
        word, ..., after the last (where <eos> is the event), as mixture.NgramDistributions gives them."""
        return [self.distributions([list(ids[:i]) for i in range(len(ids) + 1)]) for ids in texts]

    def text_log_probs(self, ids: Sequence[int]) -> np.ndarray:
        """The natural log-probability of each of a text's words and of its <eos>."""
        events = [*map(int, ids), self.eos_id]
        return np.log([self.distribution(events[:i])[word] for i, word in enumerate(events)])

    # ----------------------------------------------------------------------- sizes
    def n_grams(self) -> int:
        """Entries stored, all orders (the unigrams: one per vocabulary id)."""
        return int(sum(self._entries))

    def file_bytes(self) -> int:
        return self._bytes

    def memory_mb(self) -> float:
        """MB of the mapped file: all of it could be paged in (the decoded tables add a vocabulary of floats)."""
        return self._bytes / 1e6


# --------------------------------------------------------------------------- choosing the cut-off on val
def texts_perplexity(model: PhoneNgram, texts: Sequence[Sequence[int]], desc: str = "") -> float:
    """The perplexity of every word and <eos> of `texts`, as ngram.texts_perplexity counts them."""
    log_probs = [model.text_log_probs(ids)
                 for ids in progress(texts, desc=desc or f"val perplexity, {model.name}", unit="text")]
    return perplexity(np.concatenate(log_probs) if log_probs else np.zeros(0))


def choose_min_count(model: KneserNey, val: Sequence[Sequence[int]], candidates: Sequence[int], max_bytes: int,
                     folder: Path) -> tuple[int, pd.DataFrame]:
    """Write one file per candidate cut-off into `folder` (ngram_min<c>.bin) and measure its val perplexity and
    bytes; return the candidate with the lowest val perplexity among those of at most `max_bytes` (the smaller
    file on a tie), and the table (min_count, n_grams, bytes, val_perplexity)."""
    if not len(candidates):
        raise UserError("min_count candidates: an empty list; give at least one count cut-off")
    folder = Path(folder)
    rows = []
    for min_count in candidates:
        path = folder / f"ngram_min{min_count}.bin"
        written = write_phone_ngram(model, path, min_count)
        phone = PhoneNgram(path, name=f"phone n-gram, min_count {min_count}")
        rows.append({**written, "val_perplexity": round(texts_perplexity(phone, val), 3)})
        print(f"  min_count {min_count}: {written['n_grams']:,} n-grams, {written['bytes']:,} bytes, "
              f"val perplexity {rows[-1]['val_perplexity']}", flush=True)
    table = pd.DataFrame(rows, columns=["min_count", "n_grams", "bytes", "val_perplexity"])
    fitting = table[table["bytes"] <= max_bytes]
    if fitting.empty:
        raise UserError(f"max_bytes={max_bytes:,}: no phone n-gram file fits (min_count candidates "
                        f"{list(candidates)}, the smallest file {int(table['bytes'].min()):,} bytes); raise the "
                        f"byte budget or add a larger min_count")
    best = fitting.sort_values(["val_perplexity", "bytes"], kind="stable").iloc[0]
    return int(best["min_count"]), table
