"""A keyboard simulation: how many taps a user saves typing whole texts with a model's suggestions.

The user types each cleaned text letter by letter. Before every letter of a word the keyboard shows the 3 words
the model ranks highest among the vocabulary words that begin with the letters typed so far of that word (at the
start of a word: any word), from the model's next-word distribution given all the words before. When the word
the user means is shown, one tap enters it and the space after it; otherwise the user types the next letter.
A word the model cannot suggest (outside its vocabulary, <unk>) is typed in full, then a space.

    keystroke savings = 1 - taps with the keyboard / taps without it,   taps without = letters + one space per word

Ties in probability are broken alphabetically, as a stable suggestion bar would show them. The same counting
gives next-word top-1 / top-3 at every word position (before its first letter), not only at the 3/4 cut. Each
text's taps are kept too (taps saved, taps without the keyboard: measures.TAPS_SAVED, TAPS_WITHOUT), so that two
models' savings compare text by text (comparison.py).

The trivial baseline types with `WordCounts`: the same ranking of words (by a count) whatever came before.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from tokenizers import Tokenizer

from text_autocomplete.autocomplete import WordIndex
from text_autocomplete.measures import TAPS_SAVED, TAPS_WITHOUT, chunks
from text_autocomplete.mixture import WordDistributions
from text_autocomplete.progress import progress
from text_autocomplete.tokenizer import UNK_ID, encode_texts


@dataclass
class KeyboardCounts:
    words: int = 0
    taps_without: int = 0  # letters + one space per word
    taps: int = 0  # with the suggestions
    top1: int = 0  # the word was the first suggestion before its first letter
    top3: int = 0  # ... among the 3 suggestions

    def metrics(self) -> dict[str, float]:
        return {"keys_saved": round(1 - self.taps / max(self.taps_without, 1), 5),
                "all_positions_top1": round(self.top1 / max(self.words, 1), 5),
                "all_positions_top3": round(self.top3 / max(self.words, 1), 5),
                "keyboard_words": self.words, "keyboard_characters": self.taps_without}


class SuggestionBar:
    """The vocabulary in alphabetical order, so that the words with a typed prefix are one slice of it."""

    def __init__(self, tokenizer: Tokenizer, shown: int = 3):
        self.index = WordIndex(tokenizer)
        self.ids = self.index.ids.numpy()
        self.position = {int(i): p for p, i in enumerate(self.ids)}  # word id -> alphabetical position
        self.shown = shown

    def rank(self, sorted_probs: np.ndarray, target: int, prefix: str) -> int:
        """How many words with `prefix` come before the `target` position in the bar (0 = shown first)."""
        lo, hi = self.index.bounds(prefix)
        p = sorted_probs[target]
        window = sorted_probs[lo:hi]
        return int((window > p).sum() + (window[:target - lo] == p).sum())

    def type_word(self, word: str, word_id: int, probs: np.ndarray) -> tuple[int, int]:
        """Taps to enter `word` (letters, then the suggestion or the space) and its rank before the first letter."""
        target = self.position.get(word_id) if word_id != UNK_ID else None
        if target is None:
            return len(word) + 1, len(self.ids)
        sorted_probs = probs[self.ids]
        first_rank = self.rank(sorted_probs, target, "")
        for typed in range(len(word)):
            if (first_rank if typed == 0 else self.rank(sorted_probs, target, word[:typed])) < self.shown:
                return typed + 1, first_rank
        return len(word) + 1, first_rank


class WordCounts:
    """The same next-word distribution at every position: words in proportion to `counts` (word -> count)."""

    def __init__(self, counts: dict[str, int], tokenizer: Tokenizer, name: str = "word counts"):
        self.name = name
        self.probs = np.zeros(tokenizer.get_vocab_size())
        for word, count in counts.items():
            word_id = tokenizer.token_to_id(word)
            if word_id is not None and word_id != UNK_ID:
                self.probs[word_id] += count
        self.probs /= max(self.probs.sum(), 1)

    def text_distributions(self, texts: Sequence[Sequence[int]]) -> list[np.ndarray]:
        return [np.broadcast_to(self.probs, (len(ids) + 1, len(self.probs))) for ids in texts]


def simulate(model: WordDistributions, texts: Sequence[str], tokenizer: Tokenizer, batch_size: int = 64,
             shown: int = 3) -> tuple[dict[str, float], dict[str, np.ndarray]]:
    """Type every text of `texts` (cleaned, space-separated words) with `model`'s suggestions; see the module.
    Returns the figures over all texts and each text's taps (TAPS_SAVED, TAPS_WITHOUT), in the texts' order."""
    bar, counts = SuggestionBar(tokenizer, shown), KeyboardCounts()
    per_text: dict[str, list[int]] = {TAPS_SAVED: [], TAPS_WITHOUT: []}
    ids = encode_texts(tokenizer, list(texts), add_bos=False, add_eos=False)
    meter = progress(total=len(texts), desc=f"keyboard, {model.name}", unit="text")
    for text_batch, id_batch in zip(chunks(list(texts), batch_size), chunks(ids, batch_size)):
        for text, word_ids, distributions in zip(text_batch, id_batch, model.text_distributions(id_batch)):
            taps_without, taps_before = counts.taps_without, counts.taps
            for word, word_id, probs in zip(text.split(), word_ids, distributions):
                taps, first_rank = bar.type_word(word, word_id, probs)
                counts.words += 1
                counts.taps_without += len(word) + 1
                counts.taps += taps
                counts.top1 += first_rank < 1
                counts.top3 += first_rank < shown
            per_text[TAPS_WITHOUT].append(counts.taps_without - taps_without)
            per_text[TAPS_SAVED].append(per_text[TAPS_WITHOUT][-1] - (counts.taps - taps_before))
        meter.update(len(text_batch))
    meter.close()
    return ({**counts.metrics(), "keyboard_suggestions": shown},
            {key: np.array(values) for key, values in per_text.items()})
