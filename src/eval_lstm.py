"""The LSTM as a `Completer`, and the eval_lstm stage's work: score it and the baseline on the test texts."""
from __future__ import annotations

from pathlib import Path

import torch
from tokenizers import Tokenizer

from src.evaluation import Example
from src.lstm_model import GenerationConfig, LSTMLanguageModel, NEVER_GENERATED, load_model
from src.tokenizer import EOS_ID, encode_texts, load_tokenizer

MODEL_FILE, TOKENIZER_FILE = "model.pt", "tokenizer.json"


class LSTMCompleter:
    """Finishes prompts with exactly the asked number of words (<eos> is held back until then)."""

    def __init__(self, model: LSTMLanguageModel, tokenizer: Tokenizer, generation: GenerationConfig | None = None,
                 name: str = "LSTM"):
        self.model = model.eval()
        self.tokenizer = tokenizer
        self.generation = generation or GenerationConfig()
        self.name = name

    @classmethod
    def from_dir(cls, model_dir: Path, generation: GenerationConfig | None = None) -> "LSTMCompleter":
        tokenizer = load_tokenizer(Path(model_dir) / TOKENIZER_FILE)
        model = load_model(Path(model_dir) / MODEL_FILE, vocab=tokenizer.get_vocab())
        return cls(model, tokenizer, generation)

    def _prompt_ids(self, prompts: list[str]) -> list[list[int]]:
        return encode_texts(self.tokenizer, prompts, add_bos=True, add_eos=False)

    def complete(self, prompts: list[str], budgets: list[int]) -> list[str]:
        new_ids = self.model.generate(self._prompt_ids(prompts), max_new_tokens=budgets, min_new_tokens=budgets,
                                      generation=self.generation)
        return [self.tokenizer.decode(ids) for ids in new_ids]

    @torch.no_grad()
    def next_words(self, prompts: list[str], k: int) -> list[list[str]]:
        """The `k` most likely next words of each prompt (never a special token, never end-of-text)."""
        log_probs, _ = self.model.prompt_state(self._prompt_ids(prompts))
        log_probs[:, [*NEVER_GENERATED, EOS_ID]] = float("-inf")
        top = log_probs.topk(k, dim=-1).indices.tolist()
        return [[self.tokenizer.id_to_token(i) for i in row] for row in top]


def next_word_candidates(completer: LSTMCompleter, examples: list[Example], k: int = 3,
                         batch_size: int = 256) -> list[list[str]]:
    prompts = [ex.prompt for ex in examples]
    return [words for start in range(0, len(prompts), batch_size)
            for words in completer.next_words(prompts[start:start + batch_size], k)]
