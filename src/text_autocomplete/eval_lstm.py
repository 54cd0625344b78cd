"""The light model as a `Completer`: the LSTM alone or the shipped mixture of the LSTM and the n-gram model
(mixture.py), with greedy, sampled, minimum-Bayes-risk or beam-search decoding."""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Protocol

import torch
from tokenizers import Tokenizer

from text_autocomplete.evaluation import Example
from text_autocomplete.lstm_model import NEVER_GENERATED, GenerationConfig, LSTMLanguageModel, load_model
from text_autocomplete.mixture import LSTMWithNgram, load_weight
from text_autocomplete.ngram import KneserNey
from text_autocomplete.params import build_config
from text_autocomplete.paths import MIXTURE_FILE, MODEL_FILE, NGRAM_FILE, TOKENIZER_FILE
from text_autocomplete.tokenizer import EOS_ID, encode_texts, load_tokenizer


@dataclass
class LSTMDecoding(GenerationConfig):
    """One decoding setting of eval_lstm: a `GenerationConfig`, or minimum-Bayes-risk decoding, or beam search.

    mbr_samples > 0: draw that many sampled completions and return, of them and the greedy one, the
    completion with the highest mean unigram F1 against the samples - the one they agree with most.
    """

    mbr_samples: int = 0
    num_beams: int = 1  # > 1: beam search (`LSTMLanguageModel.beam_search`) instead of greedy or sampling


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


def load_light_model(model_dir: Path | str) -> tuple[LSTMWithNgram, Tokenizer]:
    """The shipped light model saved by train_lstm in `model_dir`: the LSTM, the n-gram model and their weight."""
    model_dir = Path(model_dir)
    tokenizer = load_tokenizer(model_dir / TOKENIZER_FILE)
    lstm = load_model(model_dir / MODEL_FILE, vocab=tokenizer.get_vocab())
    return LSTMWithNgram(lstm, KneserNey.load(model_dir / NGRAM_FILE), load_weight(model_dir / MIXTURE_FILE)), tokenizer


class LSTMCompleter:
    """Finishes prompts with exactly the asked number of words (<eos> is held back until then); the model is the
    LSTM or the LSTM mixed with the n-gram model."""

    def __init__(self, model: LSTMLanguageModel | LSTMWithNgram, tokenizer: Tokenizer,
                 decoding: LSTMDecoding | None = None, name: str = "LSTM"):
        self.model = model.eval()
        self.tokenizer = tokenizer
        self.decoding = decoding or LSTMDecoding()
        self.name = name

    @classmethod
    def from_dir(cls, model_dir: Path, decoding: LSTMDecoding | None = None) -> LSTMCompleter:
        """The shipped light model of `model_dir`."""
        model, tokenizer = load_light_model(model_dir)
        return cls(model, tokenizer, decoding, name="LSTM + n-gram")

    def _prompt_ids(self, prompts: list[str]) -> list[list[int]]:
        return encode_texts(self.tokenizer, prompts, add_bos=True, add_eos=False)

    def complete(self, prompts: list[str], budgets: list[int]) -> list[str]:
        prompt_ids = self._prompt_ids(prompts)
        if self.decoding.mbr_samples > 0:
            new_ids = self._minimum_bayes_risk(prompt_ids, budgets)
        elif self.decoding.num_beams > 1:
            new_ids = self.model.beam_search(prompt_ids, budgets, self.decoding.num_beams, self.decoding.banned_ids)
        else:
            new_ids = self.model.generate(prompt_ids, budgets, budgets, self.decoding)
        return [self.tokenizer.decode(ids) for ids in new_ids]

    def _minimum_bayes_risk(self, prompt_ids: list[list[int]], budgets: list[int]) -> list[list[int]]:
        k = self.decoding.mbr_samples
        greedy = self.model.generate(prompt_ids, budgets, budgets)
        repeated = [b for b in budgets for _ in range(k)]
        samples = self.model.generate([p for p in prompt_ids for _ in range(k)], repeated, repeated,
                                      replace(self.decoding, do_sample=True))
        return [consensus([greedy[i], *samples[i * k:(i + 1) * k]], samples[i * k:(i + 1) * k])
                for i in range(len(prompt_ids))]

    @torch.no_grad()
    def next_words(self, prompts: list[str], k: int) -> list[list[str]]:
        """The `k` most likely next words of each prompt (never a special token, never end-of-text)."""
        log_probs, _ = self.model.prompt_state(self._prompt_ids(prompts))
        log_probs[:, [*NEVER_GENERATED, EOS_ID]] = float("-inf")
        top = log_probs.topk(k, dim=-1).indices.tolist()
        return [[self.tokenizer.id_to_token(i) for i in row] for row in top]


def unigram_f1(a: Counter, b: Counter) -> float:
    overlap = sum((a & b).values())
    return 0.0 if overlap == 0 else 2 * overlap / (sum(a.values()) + sum(b.values()))


def consensus(candidates: list[list[int]], evidence: list[list[int]]) -> list[int]:
    """The candidate with the highest total unigram F1 against `evidence` (ties: the earliest candidate)."""
    evidence_counts = [Counter(e) for e in evidence]
    scores = [sum(unigram_f1(Counter(c), e) for e in evidence_counts) for c in candidates]
    return candidates[max(range(len(candidates)), key=scores.__getitem__)]


class NextWordGuesser(Protocol):
    """A model that names its `k` most likely next words (LSTMCompleter, ngram.NgramCompleter)."""

    def next_words(self, prompts: list[str], k: int) -> list[list[str]]: ...


def next_word_candidates(completer: NextWordGuesser, examples: list[Example], k: int = 3,
                         batch_size: int = 256) -> list[list[str]]:
    prompts = [ex.prompt for ex in examples]
    return [words for start in range(0, len(prompts), batch_size)
            for words in completer.next_words(prompts[start:start + batch_size], k)]
