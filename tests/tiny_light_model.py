"""A tiny light model for tests: an untrained LSTM with its tokenizer and a Kneser-Ney model of a few texts,
saved as train_lstm saves the shipped model, with its phone files beside (as eval_lstm makes them in models/mobile),
so that `autocomplete`, `autocomplete --model phone` and `autocomplete serve` can load it."""
from __future__ import annotations

import hashlib
from pathlib import Path

import torch

from text_autocomplete.autocomplete import Autocompleter
from text_autocomplete.data_utils import DataConfig
from text_autocomplete.lstm_model import LEVERS_OFF, LSTMConfig, LSTMLanguageModel, save_model
from text_autocomplete.mixture import save_weight
from text_autocomplete.ngram import KneserNey
from text_autocomplete.paths import (
    MIXTURE_FILE,
    MODEL_FILE,
    NGRAM_FILE,
    PHONE_NGRAM_FILE,
    PHONE_PROGRAM_FILE,
    TOKENIZER_FILE,
)
from text_autocomplete.phone import export_program
from text_autocomplete.phone_ngram import write_phone_ngram
from text_autocomplete.tokenizer import BOS_ID, EOS_ID, PAD_ID, encode_texts, train_tokenizer

from conftest import project_config

TEXTS = ["going to the beach today", "going to the bar tonight", "i love the beach so much",
         "we went to the beauty salon", "see you at the beach"] * 4


def tiny_autocompleter() -> Autocompleter:
    tokenizer = train_tokenizer(TEXTS, vocab_size=100, min_frequency=1)
    torch.manual_seed(0)
    model = LSTMLanguageModel(LSTMConfig(vocab_size=tokenizer.get_vocab_size(), embedding_dim=16, hidden_dim=16,
                                         num_layers=1, dropout=0.0, tie_weights=True, **LEVERS_OFF, softmax_cutoffs=()))
    return Autocompleter(model, tokenizer, project_config(DataConfig, "data"))


def save_test_model(completer: Autocompleter, directory: Path, ngram_texts: list[str] = TEXTS,
                    ngram_weight: float = 0.3) -> None:
    """The light model as train_lstm saves it: the LSTM, its tokenizer, an n-gram model (of `ngram_texts`) and the
    weight mixing them."""
    directory.mkdir(parents=True, exist_ok=True)
    tokenizer = completer.tokenizer
    tokenizer.save(str(directory / TOKENIZER_FILE))
    save_model(completer.model, directory / MODEL_FILE, tokenizer.get_vocab())
    ids = encode_texts(tokenizer, ngram_texts, add_bos=False, add_eos=False)
    ngram = KneserNey(3, tokenizer.get_vocab_size(), BOS_ID, EOS_ID, excluded=[PAD_ID, BOS_ID]).fit(ids)
    ngram.save(directory / NGRAM_FILE)
    save_weight(directory / MIXTURE_FILE, ngram_weight)
    # The phone's files share the tokenizer and the weight; the program and the n-gram are its own.
    (directory / PHONE_PROGRAM_FILE).write_bytes(phone_program(completer.model, directory))
    write_phone_ngram(ngram, directory / PHONE_NGRAM_FILE, min_count=1)


_PROGRAMS: dict[bytes, bytes] = {}  # exporting takes seconds: once per weights in a test run


def phone_program(model: LSTMLanguageModel, directory: Path) -> bytes:
    """The bytes of `model`'s phone program (phone.export_program), exported once per weights."""
    key = hashlib.sha256(b"".join(t.detach().numpy().tobytes() for t in model.state_dict().values())).digest()
    if key not in _PROGRAMS:
        export_program(model, directory / PHONE_PROGRAM_FILE)
        _PROGRAMS[key] = (directory / PHONE_PROGRAM_FILE).read_bytes()
    return _PROGRAMS[key]
