"""Autocomplete as a keyboard uses it: finish the word being typed, then suggest how the phrase goes on.

The LSTM reads the text once and keeps its state; each further word costs one LSTM step, and
completing a half-typed word costs no model call at all: the scores of the next word are already
there and are only restricted to the vocabulary entries with that prefix.
"""
from __future__ import annotations

import bisect
from dataclasses import dataclass

import numpy as np
import torch
from tokenizers import Tokenizer

from src.data_utils import DataConfig, clean_text
from src.lstm_model import NEVER_GENERATED, LSTMLanguageModel, State
from src.tokenizer import BOS_ID, EOS_ID

NOT_A_WORD = (*NEVER_GENERATED, EOS_ID)


def split_partial_word(text: str) -> tuple[str, str]:
    """('the words typed so far', 'the word being typed'); the second is empty when the text ends with a space."""
    if not text or text[-1].isspace():
        return text, ""
    head, _, last = text.rpartition(" ")
    return head, last


class WordIndex:
    """Vocabulary words in sorted order, to find every word with a given prefix by binary search."""

    def __init__(self, tokenizer: Tokenizer):
        entries = sorted((w, i) for w, i in tokenizer.get_vocab().items() if i not in NOT_A_WORD)
        self.words = [w for w, _ in entries]
        self.ids = torch.tensor([i for _, i in entries], dtype=torch.long)

    def ids_with_prefix(self, prefix: str) -> torch.Tensor:
        lo = bisect.bisect_left(self.words, prefix)
        hi = bisect.bisect_left(self.words, prefix + "\U0010ffff")
        return self.ids[lo:hi]


class Autocompleter:
    """Holds the LSTM state of the text typed so far; `feed` adds words, `next_words` ranks what comes next."""

    def __init__(self, model: LSTMLanguageModel, tokenizer: Tokenizer, cleaning: DataConfig | None = None):
        self.model, self.tokenizer = model.eval(), tokenizer
        self.cleaning = cleaning or DataConfig()
        self.index = WordIndex(tokenizer)
        self.word_mask = torch.zeros(model.config.vocab_size, dtype=torch.bool)
        self.word_mask[self.index.ids] = True
        self.reset()

    def reset(self) -> None:
        """Forget the text: the state after <bos>."""
        self.state: State | None = None
        self.log_probs = self._step([BOS_ID])

    @torch.no_grad()
    def _step(self, ids: list[int]) -> torch.Tensor:
        out, self.state = self.model.hidden(torch.tensor([ids]), self.state)
        # Only the last position is scored: the earlier ones are never asked for.
        return self.model.log_probs(out[0, -1])

    def feed(self, text: str) -> None:
        """Read more words (cleaned like the corpus); unknown words still move the state, as <unk>."""
        words = clean_text(text, self.cleaning)
        if words:
            self.log_probs = self._step(self.tokenizer.encode(words, add_special_tokens=False).ids)

    def next_words(self, k: int, prefix: str = "") -> list[str]:
        """The `k` most likely next words; with `prefix`, only words that start with it."""
        candidates = self.index.ids_with_prefix(prefix) if prefix else self.index.ids
        if len(candidates) == 0:
            return []
        scores = self.log_probs[candidates]
        best = candidates[scores.topk(min(k, len(candidates))).indices]
        return [self.tokenizer.id_to_token(int(i)) for i in best]

    def suggest(self, text: str, n_suggestions: int = 3, n_words: int = 3) -> list[str]:
        """Phrase suggestions for `text`: the current word finished first if the text ends inside one."""
        typed, partial = split_partial_word(text)
        prefix = clean_text(partial, self.cleaning) if partial else ""
        self.reset()
        self.feed(typed)
        first_words = self.next_words(n_suggestions, prefix)
        saved_state, saved_log_probs = self.state, self.log_probs
        suggestions = []
        for word in first_words:
            self.state, self.log_probs = saved_state, saved_log_probs
            phrase = [word]
            for _ in range(n_words - 1):
                self.feed(phrase[-1])
                phrase += self.next_words(1)
            suggestions.append(" ".join(phrase))
        self.state, self.log_probs = saved_state, saved_log_probs
        return suggestions


# --------------------------------------------------------------------------- the mid-word metric
@dataclass(frozen=True)
class MidWordExample:
    context: str  # the words before
    word: str  # the word being typed
    prefix: str  # what of it is typed


def make_midword_examples(texts: list[str], seed: int) -> list[MidWordExample]:
    """Each text cut inside a word at a seeded random point: a word after the first, and 1..len-1 of its letters."""
    rng = np.random.default_rng(seed)
    examples = []
    for text in texts:
        words = text.split()
        positions = [i for i in range(1, len(words)) if len(words[i]) >= 2]
        if not positions:
            continue
        i = positions[rng.integers(len(positions))]
        cut = int(rng.integers(1, len(words[i])))
        examples.append(MidWordExample(" ".join(words[:i]), words[i], words[i][:cut]))
    return examples


def midword_metrics(autocompleter: Autocompleter, examples: list[MidWordExample]) -> dict[str, float]:
    """Top-1/top-3 accuracy of finishing the typed word, and the share of its remaining keystrokes saved.

    Keystrokes saved: when the right word is the first suggestion, accepting it (one key) replaces typing
    the rest of the word; the share is taken over all the letters that were still to type.
    """
    top1 = top3 = saved = to_type = 0
    for ex in examples:
        autocompleter.reset()
        autocompleter.feed(ex.context)
        suggestions = autocompleter.next_words(3, ex.prefix)
        remaining = len(ex.word) - len(ex.prefix)
        to_type += remaining
        if suggestions[:1] == [ex.word]:
            top1 += 1
            saved += remaining - 1
        top3 += ex.word in suggestions
    n = max(len(examples), 1)
    return {"midword_top1": round(top1 / n, 5), "midword_top3": round(top3 / n, 5),
            "midword_keystrokes_saved": round(saved / max(to_type, 1), 5), "midword_texts": len(examples)}
