"""Autocomplete as a keyboard uses it: finish the word being typed, then suggest how the phrase goes on.

The LSTM reads the text once and keeps its state; each further word costs one LSTM step, and
completing a half-typed word costs no model call at all: the scores of the next word are already
there and are only restricted to the vocabulary entries with that prefix. The shipped light model
(mixture.LSTMWithNgram) mixes the n-gram model's distribution for the words read into those scores.
"""
from __future__ import annotations

import bisect
import time
from dataclasses import dataclass

import numpy as np
import torch
from tokenizers import Tokenizer
from torch import nn

from text_autocomplete.data_utils import DataConfig, clean_text
from text_autocomplete.lstm_model import LSTMLanguageModel, State
from text_autocomplete.mixture import LSTMWithNgram
from text_autocomplete.progress import progress
from text_autocomplete.tokenizer import BOS_ID, NEVER_SUGGESTED


@dataclass
class AutocompleteConfig:
    """The ``autocomplete`` section of params.yaml: how much of a typed text the `autocomplete` command reads."""

    context_words: int  # the last this many words; the LSTM trained on tweets of at most train.max_len tokens


def last_words(text: str, n: int) -> str:
    """The last `n` whitespace-separated words of `text`, as typed: a trailing space (the last word is complete)
    is kept. Splits from the right only, so a 20,000-word input costs about as much as a tweet."""
    if n < 1:
        raise ValueError(f"context_words={n}: must be at least 1")
    words = text.rsplit(None, n)[-n:]
    return " ".join(words) + (" " if text[-1:].isspace() and words else "")


def split_partial_word(text: str) -> tuple[str, str]:
    """('the words typed so far', 'the word being typed'); the second is empty when the text ends with a space."""
    if not text or text[-1].isspace():
        return text, ""
    head, _, last = text.rpartition(" ")
    return head, last


class WordIndex:
    """Vocabulary words in sorted order, to find every word with a given prefix by binary search."""

    def __init__(self, tokenizer: Tokenizer):
        entries = sorted((w, i) for w, i in tokenizer.get_vocab().items() if i not in NEVER_SUGGESTED)
        self.words = [w for w, _ in entries]
        self.ids = torch.tensor([i for _, i in entries], dtype=torch.long)

    def bounds(self, prefix: str) -> tuple[int, int]:
        """The slice of `words` (and `ids`) that begins with `prefix`."""
        return bisect.bisect_left(self.words, prefix), bisect.bisect_left(self.words, prefix + "\U0010ffff")

    def ids_with_prefix(self, prefix: str) -> torch.Tensor:
        lo, hi = self.bounds(prefix)
        return self.ids[lo:hi]


class OneTokenLSTMStep:
    """The model's LSTM advanced by one token at batch 1, written as matrix-vector products.

    A keyboard feeds one word at a time. For that, nn.LSTM's fused kernel spends ~0.3 ms per layer on
    set-up around ~0.05 ms of arithmetic; this does the same arithmetic in ~0.06 ms per layer. Same weights
    and state layout (layers, 1, size) as nn.LSTM, so the two can take turns (tested equal).
    """

    def __init__(self, lstm: nn.LSTM):
        def weights(layer: int) -> tuple[torch.Tensor, ...]:
            ih, hh, b_ih, b_hh = (getattr(lstm, f"{name}_l{layer}").detach()
                                  for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"))
            return ih, hh, b_ih + b_hh, getattr(lstm, f"weight_hr_l{layer}").detach() if lstm.proj_size else None

        self.layers = [weights(layer) for layer in range(lstm.num_layers)]

    def __call__(self, x: torch.Tensor, state: State) -> tuple[torch.Tensor, State]:
        hidden, cell = state
        new_hidden, new_cell = [], []
        for layer, (w_ih, w_hh, bias, projection) in enumerate(self.layers):
            gates = torch.addmv(torch.addmv(bias, w_ih, x), w_hh, hidden[layer, 0])
            i, f, g, o = gates.chunk(4)  # nn.LSTM's gate order
            c = torch.sigmoid(f) * cell[layer, 0] + torch.sigmoid(i) * torch.tanh(g)
            x = torch.sigmoid(o) * torch.tanh(c)
            if projection is not None:
                x = projection @ x
            new_hidden.append(x)
            new_cell.append(c)
        return x, (torch.stack(new_hidden)[:, None], torch.stack(new_cell)[:, None])


@dataclass
class Reading:
    """Where the model stands after the text so far: its last output vector, its LSTM state, the token ids read
    (<bos> first), and the next-word log-probabilities once something asked for them."""

    output: torch.Tensor
    state: State
    history: tuple[int, ...]
    log_probs: torch.Tensor | None = None


class Autocompleter:
    """Holds the LSTM state of the text typed so far; `feed` adds words, `next_words` ranks what comes next.

    Scores are computed only when suggestions are asked for, once per position: feeding several
    words, or resetting, costs no vocabulary scoring.
    """

    def __init__(self, model: LSTMLanguageModel | LSTMWithNgram, tokenizer: Tokenizer, cleaning: DataConfig):
        self.mixture = model if isinstance(model, LSTMWithNgram) else None
        self.model = (model.lstm if self.mixture else model).eval()
        self.tokenizer, self.cleaning = tokenizer, cleaning
        self.index = WordIndex(tokenizer)
        self.one_step = OneTokenLSTMStep(self.model.lstm) if type(self.model.lstm) is nn.LSTM else None
        with torch.no_grad():
            out, state = self.model.hidden(torch.tensor([[BOS_ID]]))
        self.start = Reading(out[0, -1], state, (BOS_ID,))  # every text begins here; computed once
        self.reset()

    def reset(self) -> None:
        """Forget the text: the state after <bos>."""
        self.restore(self.start)

    def restore(self, reading: Reading) -> None:
        self.reading = reading

    @torch.no_grad()
    def _read(self, ids: list[int]) -> None:
        state = self.reading.state
        if len(ids) == 1 and self.one_step is not None:
            output, state = self.one_step(self.model.embedding(torch.tensor(ids))[0], state)
        else:
            out, state = self.model.hidden(torch.tensor([ids]), state)
            output = out[0, -1]
        self.restore(Reading(output, state, self.reading.history + tuple(ids)))

    @property
    def log_probs(self) -> torch.Tensor:
        """Next-word log-probabilities after the text so far (scored on first use, then kept with the reading)."""
        if self.reading.log_probs is None:
            with torch.no_grad():
                log_probs = self.model.log_probs(self.reading.output)
                if self.mixture is not None:
                    log_probs = self.mixture.mix_in(log_probs[None], [list(self.reading.history)])[0]
            self.reading.log_probs = log_probs
        return self.reading.log_probs

    def feed(self, text: str) -> None:
        """Read more words (cleaned like the corpus); unknown words still move the state, as <unk>."""
        words = clean_text(text, self.cleaning)
        if words:
            self._read(self.tokenizer.encode(words, add_special_tokens=False).ids)

    def next_words(self, k: int, prefix: str = "") -> list[str]:
        """The `k` most likely next words; with `prefix`, only words that start with it."""
        if prefix:
            candidates = self.index.ids_with_prefix(prefix)
            best = candidates[self.log_probs[candidates].topk(min(k, len(candidates))).indices]
        else:  # every word is a candidate: blank out the few non-words rather than gather ~all ids
            scores = self.log_probs.clone()
            scores[list(NEVER_SUGGESTED)] = float("-inf")
            best = scores.topk(min(k, len(self.index.ids))).indices
        return [self.tokenizer.id_to_token(int(i)) for i in best]

    def read_typed(self, text: str) -> str:
        """Read `text` from its start up to the word being typed; return that word's letters, cleaned ("" when
        the text ends between words)."""
        typed, partial = split_partial_word(text)
        self.reset()
        self.feed(typed)
        return clean_text(partial, self.cleaning) if partial else ""

    def continue_phrase(self, phrase: list[str], n_words: int) -> list[str]:
        """`phrase` extended to `n_words` with the most likely word each time; the model has read every word
        of `phrase` but the last."""
        phrase = list(phrase)
        for _ in range(n_words - len(phrase)):
            self.feed(phrase[-1])
            phrase += self.next_words(1)
        return phrase

    def suggest(self, text: str, n_suggestions: int = 3, n_words: int = 3) -> list[str]:
        """Phrase suggestions for `text`: the current word finished first if the text ends inside one."""
        first_words = self.next_words(n_suggestions, self.read_typed(text))
        typed_so_far = self.reading
        suggestions = []
        for word in first_words:
            self.restore(typed_so_far)
            suggestions.append(" ".join(self.continue_phrase([word], n_words)))
        self.restore(typed_so_far)
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
    for ex in progress(examples, desc="mid-word suggestions"):
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


# --------------------------------------------------------------------------- what a key press costs
def typing_times(autocompleter: Autocompleter, texts: list[str], shown: int = 3) -> dict[str, np.ndarray]:
    """Milliseconds per key press while each text is typed from its start, as a keyboard calls the model:
    `word` = a finished word read and the next `shown` words ranked (what a space costs), `letter` = the `shown`
    words with the typed prefix ranked (what a letter costs: no model step)."""
    per_word, per_letter = [], []
    for text in texts:
        autocompleter.reset()
        for word in text.split():
            for typed in range(1, len(word)):
                start = time.perf_counter()
                autocompleter.next_words(shown, word[:typed])
                per_letter.append(time.perf_counter() - start)
            start = time.perf_counter()
            autocompleter.feed(word)
            autocompleter.next_words(shown)
            per_word.append(time.perf_counter() - start)
    return {"word": 1000 * np.array(per_word), "letter": 1000 * np.array(per_letter)}
