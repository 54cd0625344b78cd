"""A word-level tokenizer trained on the train split with Hugging Face `tokenizers`.

Ids are ordered by frequency (specials first), which the LSTM's adaptive softmax relies on:
its cheap head covers the lowest ids.
"""
from __future__ import annotations

from pathlib import Path

from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

from text_autocomplete.errors import UserError

PAD, UNK, BOS, EOS = "<pad>", "<unk>", "<bos>", "<eos>"
SPECIAL_TOKENS = [PAD, UNK, BOS, EOS]
PAD_ID, UNK_ID, BOS_ID, EOS_ID = range(4)
NEVER_GENERATED = (PAD_ID, UNK_ID, BOS_ID)  # never a generated token; <eos> is, once a completion's words are in
NEVER_SUGGESTED = (*NEVER_GENERATED, EOS_ID)  # never a word shown to a user or ranked as a next word


class TokenizerError(UserError):
    """A tokenizer file that is missing or not one of ours."""


def train_tokenizer(texts: list[str], vocab_size: int, min_frequency: int = 2) -> Tokenizer:
    """Learn the `vocab_size` most frequent words (specials included); rarer words become <unk>."""
    tokenizer = Tokenizer(models.WordLevel(unk_token=UNK))
    tokenizer.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    tokenizer.decoder = decoders.WordPiece(prefix="##", cleanup=False)  # joins words with spaces
    trainer = trainers.WordLevelTrainer(vocab_size=vocab_size, min_frequency=min_frequency,
                                        special_tokens=SPECIAL_TOKENS, show_progress=False)
    tokenizer.train_from_iterator(texts, trainer=trainer)
    return tokenizer


def load_tokenizer(path: Path) -> Tokenizer:
    path = Path(path)
    if not path.exists():
        raise TokenizerError(f"{path}: tokenizer file not found; run `dvc repro train_lstm` to build it")
    try:
        tokenizer = Tokenizer.from_file(str(path))
    except Exception as exc:  # tokenizers raises a bare Exception on malformed JSON
        raise TokenizerError(f"{path}: not a readable tokenizer file ({exc})") from exc
    for expected_id, token in enumerate(SPECIAL_TOKENS):
        if tokenizer.token_to_id(token) != expected_id:
            raise TokenizerError(f"{path}: special token {token} is not id {expected_id}; "
                                 f"not a text-autocomplete tokenizer")
    return tokenizer


def encode_texts(tokenizer: Tokenizer, texts: list[str], add_bos: bool = True, add_eos: bool = True) -> list[list[int]]:
    """Token ids of each text, framed by <bos>/<eos> so the model learns how tweets start and end."""
    head = [BOS_ID] if add_bos else []
    tail = [EOS_ID] if add_eos else []
    return [head + enc.ids + tail for enc in tokenizer.encode_batch(texts, add_special_tokens=False)]
