"""Word and phrase completion, the mid-word metric, and the `autocomplete` command's exit codes."""
from __future__ import annotations

import subprocess
import sys

import pytest
import torch

from src.autocomplete import (
    Autocompleter,
    OneTokenLSTMStep,
    make_midword_examples,
    midword_metrics,
    split_partial_word,
)
from src.cli import main
from src.lstm_model import LSTMConfig, LSTMLanguageModel, save_model
from src.tokenizer import train_tokenizer

TEXTS = ["going to the beach today", "going to the bar tonight", "i love the beach so much",
         "we went to the beauty salon", "see you at the beach"] * 4


@pytest.fixture(scope="module")
def completer() -> Autocompleter:
    tokenizer = train_tokenizer(TEXTS, vocab_size=100, min_frequency=1)
    torch.manual_seed(0)
    model = LSTMLanguageModel(LSTMConfig(vocab_size=tokenizer.get_vocab_size(), embedding_dim=16, hidden_dim=16,
                                         num_layers=1, dropout=0.0, softmax_cutoffs=()))
    return Autocompleter(model, tokenizer)


@pytest.mark.parametrize("proj_size", [0, 8])
def test_one_token_step_equals_nn_lstm(proj_size):
    torch.manual_seed(0)
    lstm = torch.nn.LSTM(16, 12, num_layers=2, batch_first=True, proj_size=proj_size).eval()
    tokens = torch.randn(1, 5, 16)
    with torch.no_grad():
        expected, (h, c) = lstm(tokens)
        state = (torch.zeros_like(h), torch.zeros_like(c))
        step = OneTokenLSTMStep(lstm)
        for t in range(5):
            output, state = step(tokens[0, t], state)
    assert torch.allclose(output, expected[0, -1], atol=1e-6)
    assert torch.allclose(state[0], h, atol=1e-6) and torch.allclose(state[1], c, atol=1e-6)


def test_word_by_word_and_whole_text_reach_the_same_suggestions(completer):
    completer.reset()
    completer.feed("going to the")
    whole = completer.log_probs.clone()
    completer.reset()
    for word in ("going", "to", "the"):  # one token at a time takes the one-step path
        completer.feed(word)
    assert torch.allclose(completer.log_probs, whole, atol=1e-5)
    assert "<unk>" not in completer.next_words(10) and "<eos>" not in completer.next_words(10)


def test_split_partial_word():
    assert split_partial_word("going to the bea") == ("going to the", "bea")
    assert split_partial_word("going to the ") == ("going to the ", "")
    assert split_partial_word("") == ("", "")


def test_known_prefix_completes_to_vocabulary_words(completer):
    words = completer.next_words(5, "bea")
    assert set(words) == {"beach", "beauty"}
    for suggestion in completer.suggest("going to the bea", n_suggestions=3, n_words=3):
        assert suggestion.split()[0] in {"beach", "beauty"} and len(suggestion.split()) == 3


def test_unknown_prefix_and_empty_input(completer):
    assert completer.suggest("going to the xyz", 3, 2) == []
    assert len(completer.suggest("", 2, 2)) == 2  # nothing typed: how tweets start


def test_punctuation_is_cleaned_like_the_corpus(completer):
    assert completer.suggest("Going to the BEA", 2, 1) == completer.suggest("going to the bea", 2, 1)
    assert completer.suggest("going to the... ", 2, 2) == completer.suggest("going to the ", 2, 2)


def test_state_is_kept_between_words(completer):
    completer.reset()
    completer.feed("going to")
    completer.feed("the")
    incremental = completer.log_probs.clone()
    completer.reset()
    completer.feed("going to the")
    assert torch.allclose(incremental, completer.log_probs, atol=1e-5)


def test_midword_examples_and_metrics(completer):
    examples = make_midword_examples(TEXTS, seed=3)
    assert examples == make_midword_examples(TEXTS, seed=3)
    for ex in examples:
        assert ex.word.startswith(ex.prefix) and 1 <= len(ex.prefix) < len(ex.word)
    metrics = midword_metrics(completer, examples)
    assert 0 <= metrics["midword_top1"] <= metrics["midword_top3"] <= 1
    assert 0 <= metrics["midword_keystrokes_saved"] < 1 and metrics["midword_texts"] == len(examples)


def test_command_exit_codes(tmp_path, completer, capsys):
    assert main([""]) == 2 and "prompt is empty" in capsys.readouterr().err
    assert main(["--model-dir", str(tmp_path / "none"), "hello"]) == 1
    assert "tokenizer file not found" in capsys.readouterr().err

    completer.tokenizer.save(str(tmp_path / "tokenizer.json"))
    save_model(completer.model, tmp_path / "model.pt", completer.tokenizer.get_vocab())
    for model in ("lstm", "lstm-int8"):
        assert main(["--model", model, "--model-dir", str(tmp_path), "-n", "2", "-w", "2", "going to the bea"]) == 0
        lines = capsys.readouterr().out.split("\n")
        assert lines[0].split()[0] in {"beach", "beauty"} and len(lines[0].split()) == 2


def test_command_is_installed_and_interactive(tmp_path, completer):
    completer.tokenizer.save(str(tmp_path / "tokenizer.json"))
    save_model(completer.model, tmp_path / "model.pt", completer.tokenizer.get_vocab())
    result = subprocess.run([sys.executable, "-m", "src.cli", "--model-dir", str(tmp_path), "-n", "1"],
                            input="going to the bea\n\nsee you\n", capture_output=True, text=True, cwd=tmp_path)
    assert result.returncode == 0
    blocks = [b for b in result.stdout.strip().split("\n\n")]
    assert len(blocks) == 2 and blocks[0].split()[0] in {"beach", "beauty"}
