"""The light model's decodings, compared on val by eval_lstm: greedy or sampled generation (light_model.py), minimum
Bayes risk over sampled completions, or beam search; the `lstm_eval` section of params.yaml lists them."""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, replace
from typing import Any

from tokenizers import Tokenizer

from text_autocomplete.errors import UserError
from text_autocomplete.light_model import LSTMCompleter
from text_autocomplete.lstm_model import GenerationConfig, LSTMLanguageModel
from text_autocomplete.mixture import LSTMWithNgram
from text_autocomplete.params import build_config


@dataclass
class LSTMDecoding(GenerationConfig):
    """One decoding setting of eval_lstm: a `GenerationConfig`, or minimum-Bayes-risk decoding, or beam search.

    mbr_samples > 0: draw that many sampled completions and return, of them and the greedy one, the
    completion with the highest mean unigram F1 against the samples - the one they agree with most.
    num_beams > 1 with mbr_beams: the same choice over the beam's final n-best list, against itself (no sampling).
    """

    mbr_samples: int = 0
    num_beams: int = 1  # > 1: beam search (`LSTMLanguageModel.beam_search`) instead of greedy or sampling
    mbr_beams: bool = False  # with num_beams > 1: minimum Bayes risk over the n-best instead of the best beam

    def __post_init__(self) -> None:
        if self.mbr_beams and (self.num_beams <= 1 or self.mbr_samples):
            raise UserError(f"params.yaml lstm_eval: a candidate with mbr_beams: true needs num_beams > 1 and no "
                            f"mbr_samples (it has num_beams {self.num_beams}, mbr_samples {self.mbr_samples})")


@dataclass
class LSTMEvalConfig:
    """The ``lstm_eval`` section of params.yaml: decoding settings compared on val, the best used on test."""

    batch_size: int
    sweep_texts: int
    select_by: str
    candidates: list[dict[str, Any]]

    def decodings(self) -> list[LSTMDecoding]:
        return [build_config(LSTMDecoding, {k: v for k, v in c.items() if k != "name"}, f"lstm_eval.candidates[{i}]")
                for i, c in enumerate(self.candidates)]


class DecodingCompleter(LSTMCompleter):
    """The light model with one of eval_lstm's decodings: greedy or sampled (as `LSTMCompleter`), minimum Bayes
    risk over samples, or beam search."""

    def __init__(self, model: LSTMLanguageModel | LSTMWithNgram, tokenizer: Tokenizer,
                 decoding: LSTMDecoding | None = None, name: str = "LSTM"):
        self.decoding = decoding or LSTMDecoding()
        super().__init__(model, tokenizer, self.decoding, name)

    def complete(self, prompts: list[str], budgets: list[int]) -> list[str]:
        if self.decoding.mbr_samples == 0 and self.decoding.num_beams <= 1:
            return super().complete(prompts, budgets)
        prompt_ids = self.prompt_ids(prompts)
        if self.decoding.mbr_samples > 0:
            new_ids = self._minimum_bayes_risk(prompt_ids, budgets)
        elif self.decoding.mbr_beams:
            new_ids = [consensus(n_best, n_best) for n_best in
                       self.model.beam_hypotheses(prompt_ids, budgets, self.decoding.num_beams, self.decoding.banned_ids)]
        else:
            new_ids = self.model.beam_search(prompt_ids, budgets, self.decoding.num_beams, self.decoding.banned_ids)
        return [self.tokenizer.decode(ids) for ids in new_ids]

    def _minimum_bayes_risk(self, prompt_ids: list[list[int]], budgets: list[int]) -> list[list[int]]:
        k = self.decoding.mbr_samples
        greedy = self.model.generate(prompt_ids, budgets, budgets)
        repeated = [b for b in budgets for _ in range(k)]
        samples = self.model.generate([p for p in prompt_ids for _ in range(k)], repeated, repeated,
                                      replace(self.decoding, do_sample=True))
        return [consensus([greedy[i], *samples[i * k:(i + 1) * k]], samples[i * k:(i + 1) * k])
                for i in range(len(prompt_ids))]


def unigram_f1(a: Counter, b: Counter) -> float:
    overlap = sum((a & b).values())
    return 0.0 if overlap == 0 else 2 * overlap / (sum(a.values()) + sum(b.values()))


def consensus(candidates: list[list[int]], evidence: list[list[int]]) -> list[int]:
    """The candidate with the highest total unigram F1 against `evidence` (ties: the earliest candidate)."""
    evidence_counts = [Counter(e) for e in evidence]
    scores = [sum(unigram_f1(Counter(c), e) for e in evidence_counts) for c in candidates]
    return candidates[max(range(len(candidates)), key=scores.__getitem__)]
