"""The light model as a `Completer`: the LSTM alone or the shipped mixture of the LSTM and the n-gram model
(mixture.py), loaded from the folder train_lstm writes, completing prompts by greedy or sampled generation and
ranking next words. Training scores it this way every epoch; eval_lstm.py adds the decodings compared on val (MBR,
and dispatching to beam search) on top, so that changing those never retrains the LSTM. The LSTM's own
`generate` and `beam_search` are the model's (lstm_model.py, the course's model file): changing them retrains."""
from __future__ import annotations

from pathlib import Path

import torch
from tokenizers import Tokenizer

from text_autocomplete.lstm_model import GenerationConfig, LSTMLanguageModel, load_model
from text_autocomplete.mixture import LSTMWithNgram, load_weight
from text_autocomplete.ngram import KneserNey
from text_autocomplete.paths import MIXTURE_FILE, MODEL_FILE, NGRAM_FILE, TOKENIZER_FILE
from text_autocomplete.tokenizer import NEVER_SUGGESTED, encode_texts, load_tokenizer


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
                 generation: GenerationConfig | None = None, name: str = "LSTM"):
        self.model = model.eval()
        self.tokenizer = tokenizer
        self.generation = generation or GenerationConfig()
        self.name = name

    def prompt_ids(self, prompts: list[str]) -> list[list[int]]:
        return encode_texts(self.tokenizer, prompts, add_bos=True, add_eos=False)

    def complete(self, prompts: list[str], budgets: list[int]) -> list[str]:
        new_ids = self.model.generate(self.prompt_ids(prompts), budgets, budgets, self.generation)
        return [self.tokenizer.decode(ids) for ids in new_ids]

    @torch.no_grad()
    def next_words(self, prompts: list[str], k: int) -> list[list[str]]:
        """The `k` most likely next words of each prompt (never a special token, never end-of-text)."""
        log_probs, _ = self.model.prompt_state(self.prompt_ids(prompts))
        log_probs[:, list(NEVER_SUGGESTED)] = float("-inf")
        top = log_probs.topk(k, dim=-1).indices.tolist()
        return [[self.tokenizer.id_to_token(i) for i in row] for row in top]
