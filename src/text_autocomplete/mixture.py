"""The default light model: the LSTM and the Kneser-Ney n-gram model mixed word by word.

    P(w | h) = (1 - lambda) P_LSTM(w | h) + lambda P_KN(w | h)

A linear interpolation of two next-word distributions over the same vocabulary is itself a distribution; the
n-gram model remembers exact phrases the LSTM smooths over, the LSTM generalises where the n-gram model only
backs off, so the mixture is better than either (Mikolov et al. 2011). lambda is chosen on val perplexity.

Every model here gives, for a batch of texts (word ids, no <bos>/<eos>), the next-word distribution at each
position: before the first word, ..., after the last word (where <eos> is the event). Perplexity and the keyboard
simulation (keyboard.py) read those; generation mixes log-probabilities step by step through the LSTM's
`generate` / `beam_search` (its `mix_in` hook).
"""
from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np
import pandas as pd
import torch
from torch import nn

from text_autocomplete.errors import UserError
from text_autocomplete.lstm_model import GenerationConfig, LSTMLanguageModel
from text_autocomplete.measures import chunks, perplexity
from text_autocomplete.ngram import KneserNey
from text_autocomplete.progress import progress
from text_autocomplete.tokenizer import BOS_ID, EOS_ID, NEVER_GENERATED, PAD_ID


@dataclass
class MixtureConfig:
    """The ``mixture`` section of params.yaml."""

    ngram_weights: list[float]  # lambda candidates, compared on val perplexity

    def __post_init__(self) -> None:
        if not self.ngram_weights or any(not 0.0 <= w <= 1.0 for w in self.ngram_weights):
            raise UserError(f"params.yaml mixture.ngram_weights={self.ngram_weights}: a list of weights in [0, 1]")


class WordDistributions(Protocol):
    """A model that gives the next-word distribution at every position of each text."""

    name: str

    def text_distributions(self, texts: Sequence[Sequence[int]]) -> list[np.ndarray]:
        """For each text of n word ids, an array (n + 1, vocabulary) of probabilities."""
        ...


class LSTMDistributions:
    """The LSTM (fp32 or int8) reading each text once after its <bos>."""

    def __init__(self, model: LSTMLanguageModel, name: str = "LSTM"):
        self.model, self.name = model.eval(), name

    @torch.no_grad()
    def text_distributions(self, texts: Sequence[Sequence[int]]) -> list[np.ndarray]:
        if not texts:
            return []
        rows = [torch.tensor([BOS_ID, *ids]) for ids in texts]
        tokens = nn.utils.rnn.pad_sequence(rows, batch_first=True, padding_value=PAD_ID)
        out, _ = self.model.hidden(tokens, lengths=torch.tensor([len(r) for r in rows]))
        probs = self.model.log_probs(out).exp().numpy()
        return [probs[i, :len(r)] for i, r in enumerate(rows)]


class NgramDistributions:
    def __init__(self, model: KneserNey, name: str = "n-gram"):
        self.model, self.name = model, name

    def text_distributions(self, texts: Sequence[Sequence[int]]) -> list[np.ndarray]:
        return [self.model.distributions([list(ids[:i]) for i in range(len(ids) + 1)]) for ids in texts]


class LSTMWithNgram:
    """The mixture: distributions for perplexity and the keyboard, and LSTM-style generation with the n-gram
    model mixed in at every step (greedy, sampling, beam search), so that `LSTMCompleter` and `Autocompleter`
    take it where they take the LSTM."""

    def __init__(self, lstm: LSTMLanguageModel, ngram: KneserNey, ngram_weight: float, name: str = "LSTM + n-gram"):
        self.lstm, self.ngram, self.ngram_weight, self.name = lstm.eval(), ngram, float(ngram_weight), name

    # ----------------------------------------------------------------------- probabilities
    def mix(self, lstm_probs: np.ndarray, ngram_probs: np.ndarray) -> np.ndarray:
        return (1.0 - self.ngram_weight) * lstm_probs + self.ngram_weight * ngram_probs

    def text_distributions(self, texts: Sequence[Sequence[int]]) -> list[np.ndarray]:
        lstm = LSTMDistributions(self.lstm).text_distributions(texts)
        ngram = NgramDistributions(self.ngram).text_distributions(texts)
        return [self.mix(a, b) for a, b in zip(lstm, ngram)]

    def mix_in(self, lstm_log_probs: torch.Tensor, histories: list[list[int]]) -> torch.Tensor:
        """log of the mixture, from the LSTM's log-probs (B, V) and each row's history (<bos> first)."""
        ngram = torch.from_numpy(self.ngram.distributions([h[1:] for h in histories])).to(lstm_log_probs)
        return torch.logaddexp(lstm_log_probs + _log(1.0 - self.ngram_weight), ngram.log() + _log(self.ngram_weight))

    # ----------------------------------------------------------------------- what LSTMCompleter calls
    def eval(self) -> LSTMWithNgram:
        return self

    def prompt_state(self, prompts: list[list[int]]) -> tuple[torch.Tensor, tuple]:
        log_probs, state = self.lstm.prompt_state(prompts)
        return self.mix_in(log_probs, prompts), state

    def generate(self, prompts: list[list[int]], max_new_tokens: int | list[int], min_new_tokens: int | list[int] = 0,
                 generation: GenerationConfig | None = None) -> list[list[int]]:
        return self.lstm.generate(prompts, max_new_tokens, min_new_tokens, generation, mix_in=self.mix_in)

    def beam_search(self, prompts: list[list[int]], budgets: list[int], num_beams: int,
                    banned_ids: tuple[int, ...] = NEVER_GENERATED) -> list[list[int]]:
        return self.lstm.beam_search(prompts, budgets, num_beams, banned_ids, mix_in=self.mix_in)

    def beam_hypotheses(self, prompts: list[list[int]], budgets: list[int], num_beams: int,
                        banned_ids: tuple[int, ...] = NEVER_GENERATED) -> list[list[list[int]]]:
        return self.lstm.beam_hypotheses(prompts, budgets, num_beams, banned_ids, mix_in=self.mix_in)

    def parameter_count(self) -> int:
        """The LSTM's weights and the n-gram model's stored counts (one per n-gram)."""
        return self.lstm.parameter_count() + self.ngram.n_grams()


def _log(weight: float) -> float:
    return math.log(weight) if weight > 0 else -math.inf  # a weight of 0 leaves the other model alone


# --------------------------------------------------------------------------- perplexity, and choosing lambda
def event_probabilities(model: WordDistributions, texts: Sequence[Sequence[int]], batch_size: int = 64,
                        desc: str = "") -> np.ndarray:
    """The probability the model gave each event of `texts`: every word (<unk> included, as a word) and the
    end of each text, in order."""
    probs = []
    bar = progress(total=len(texts), desc=desc or f"probabilities, {model.name}", unit="text")
    for batch in chunks(texts, batch_size):
        for ids, dist in zip(batch, model.text_distributions(batch)):
            probs.append(dist[np.arange(len(ids) + 1), [*ids, EOS_ID]])
        bar.update(len(batch))
    bar.close()
    return np.concatenate(probs) if probs else np.zeros(0)


def events_perplexity(event_probs: np.ndarray) -> float:
    """The perplexity of events given their probabilities (event_probabilities)."""
    return perplexity(np.log(event_probs))


def choose_ngram_weight(lstm: LSTMLanguageModel, ngram: KneserNey, val: Sequence[Sequence[int]],
                        config: MixtureConfig, batch_size: int = 64) -> tuple[float, pd.DataFrame]:
    """The candidate lambda with the lowest val perplexity, and the table of all candidates. Both models' event
    probabilities are computed once; every lambda mixes them."""
    lstm_probs = event_probabilities(LSTMDistributions(lstm), val, batch_size, "val probabilities, LSTM")
    ngram_probs = event_probabilities(NgramDistributions(ngram), val, batch_size, "val probabilities, n-gram")
    rows = [{"ngram_weight": w,
             "val_perplexity": round(events_perplexity(LSTMWithNgram(lstm, ngram, w).mix(lstm_probs, ngram_probs)), 3)}
            for w in config.ngram_weights]
    table = pd.DataFrame(rows)
    return float(table.loc[table["val_perplexity"].idxmin(), "ngram_weight"]), table


def save_weight(path: Path | str, ngram_weight: float) -> None:
    Path(path).write_text(json.dumps({"ngram_weight": ngram_weight}) + "\n")


def load_weight(path: Path | str) -> float:
    path = Path(path)
    if not path.exists():
        raise UserError(f"{path}: mixture weight not found; run `dvc repro train_lstm` to choose it")
    try:
        weight = float(json.loads(path.read_text())["ngram_weight"])
    except (ValueError, KeyError, TypeError) as exc:
        raise UserError(f"{path}: expected {{\"ngram_weight\": <number in [0, 1]>}} ({exc})") from exc
    if not 0.0 <= weight <= 1.0:
        raise UserError(f"{path}: ngram_weight={weight} is outside [0, 1]")
    return weight
