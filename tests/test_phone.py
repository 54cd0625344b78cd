"""The phone model (phone.py): its step is the LSTM's arithmetic, the `.pte` run by ExecuTorch's runtime agrees with
its PyTorch source, and the phone's files run as a completer, a keyboard model and an autocompleter that mix the
program with the phone n-gram. Made-up phrases only."""
from __future__ import annotations

import re
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch

from text_autocomplete.data_utils import DataConfig
from text_autocomplete.errors import UserError
from text_autocomplete.lstm_model import LEVERS_OFF, LSTMConfig, LSTMLanguageModel
from text_autocomplete.ngram import KneserNey
from text_autocomplete.paths import MIXTURE_FILE, PHONE_NGRAM_FILE, PHONE_PROGRAM_FILE
from text_autocomplete.phone import (
    PhoneAutocompleter,
    PhoneConfig,
    PhoneModel,
    PhoneProgram,
    PhoneStep,
    export_program,
    memory_after_load_mb,
    read_tokens,
    state_shapes,
)
from text_autocomplete.phone_ngram import PhoneNgram, write_phone_ngram
from text_autocomplete.tokenizer import BOS_ID, EOS_ID, NEVER_SUGGESTED, PAD_ID, encode_texts, train_tokenizer

from conftest import ROOT, project_config
from tiny_light_model import save_test_model, tiny_autocompleter

PHRASES = ["the cat sat on the warm mat", "a dog ran to the park today", "we ate soup and bread at noon",
           "the park was warm and green", "a cat and a dog at the park", "see you at noon for soup"] * 3


def trained_model(proj: bool, clusters: tuple[int, ...], layers: int, steps: int = 60) -> tuple:
    """A small LSTM trained a few steps on the phrases, so its next words are peaked (a fair parity test)."""
    tokenizer = train_tokenizer(PHRASES, vocab_size=100, min_frequency=1)
    torch.manual_seed(0)
    config = LSTMConfig(vocab_size=tokenizer.get_vocab_size(), embedding_dim=16, hidden_dim=40 if proj else 16,
                        num_layers=layers, dropout=0.0, tie_weights=True, **LEVERS_OFF, softmax_cutoffs=clusters)
    model = LSTMLanguageModel(config)
    rows = [torch.tensor([BOS_ID, *ids, EOS_ID]) for ids in encode_texts(tokenizer, PHRASES, False, False)]
    tokens = torch.nn.utils.rnn.pad_sequence(rows, batch_first=True, padding_value=PAD_ID)
    optimizer = torch.optim.Adam(model.parameters(), lr=0.02)
    for _ in range(steps):
        optimizer.zero_grad()
        model.loss(tokens[:, :-1], tokens[:, 1:], tokens[:, 1:] != PAD_ID).backward()
        optimizer.step()
    return model.eval(), tokenizer


@pytest.fixture(scope="module")
def projected():
    return trained_model(proj=True, clusters=(8, 20), layers=2)


def contexts(tokenizer) -> list[list[int]]:
    """Every prefix of every phrase, <bos> first."""
    return [[BOS_ID, *ids[:i]] for ids in encode_texts(tokenizer, PHRASES[:6], False, False)
            for i in range(len(ids) + 1)]


@pytest.mark.parametrize("proj, clusters, layers", [(True, (8, 20), 2), (False, (), 1)])
def test_the_step_is_the_models_arithmetic_at_batch_1(proj, clusters, layers):
    model, tokenizer = trained_model(proj, clusters, layers, steps=5)
    # The step reads its input rows in int8: a model whose table holds those rows already (they quantise to
    # themselves) must agree with its step to float precision.
    rows = PhoneStep(model)
    with torch.no_grad():
        model.embedding.weight.copy_(rows.input_rows.float() * rows.input_scale[:, None])
        step = PhoneStep(model).eval()
        assert torch.equal(step.input_rows, rows.input_rows)
        h_shape, c_shape = state_shapes(model)
        for ids in contexts(tokenizer)[:12]:
            log_probs, (h, c) = read_tokens(step, ids, (torch.zeros(h_shape), torch.zeros(c_shape)))
            out, (h_ref, c_ref) = model.hidden(torch.tensor([ids]))
            assert torch.allclose(log_probs, model.log_probs(out[0, -1]), atol=1e-5)
            assert torch.allclose(h, h_ref[:, 0], atol=1e-6) and torch.allclose(c, c_ref[:, 0], atol=1e-6)


def test_the_program_agrees_with_its_pytorch_source_and_is_int8(projected, tmp_path):
    model, tokenizer = projected
    source = export_program(model, tmp_path / PHONE_PROGRAM_FILE)
    program = PhoneProgram(tmp_path / PHONE_PROGRAM_FILE)
    same, fp32_same, largest = [], [], 0.0
    for ids in contexts(tokenizer):
        ours, _ = read_tokens(program.step, ids, program.initial_state())
        theirs, _ = read_tokens(source, ids, program.initial_state())
        with torch.no_grad():
            fp32 = model.log_probs(model.hidden(torch.tensor([ids]))[0][0, -1])
        largest = max(largest, float((ours - theirs).abs().max()))
        same.append(torch.equal(ours.topk(3).indices, theirs.topk(3).indices))
        fp32_same.append(ours.argmax() == fp32.argmax())
    assert np.mean(same) >= 0.99 and largest < 1e-3
    assert np.mean(fp32_same) >= 0.8  # int8 moves the scores a little, not the ranking of a peaked model


def test_the_programs_weights_are_int8(tmp_path):
    """Every product's weight is stored in one byte: a model of ~0.7 MB of fp32 weights makes a program of about a
    quarter of that (plus the scales and the program itself)."""
    torch.manual_seed(0)
    model = LSTMLanguageModel(LSTMConfig(vocab_size=500, embedding_dim=64, hidden_dim=256, num_layers=1, dropout=0.0,
                                         tie_weights=True, softmax_cutoffs=(100,), **LEVERS_OFF)).eval()
    export_program(model, tmp_path / PHONE_PROGRAM_FILE)
    fp32_bytes = 4 * sum(p.numel() for p in PhoneStep(model).parameters())
    assert fp32_bytes > 700_000 and (tmp_path / PHONE_PROGRAM_FILE).stat().st_size < 0.35 * fp32_bytes


@pytest.fixture(scope="module")
def phone_folder(tmp_path_factory):
    """The phone's files of the tiny light model (tests/tiny_light_model.py), as eval_lstm makes them."""
    folder = tmp_path_factory.mktemp("phone")
    save_test_model(tiny_autocompleter(), folder)
    return folder


def test_the_phone_mixes_the_program_with_the_phone_ngram(phone_folder):
    phone = PhoneModel(phone_folder)
    ngram, weight = PhoneNgram(phone_folder / PHONE_NGRAM_FILE), phone.ngram_weight
    assert weight == 0.3
    ids = encode_texts(phone.tokenizer, ["going to the beach"], False, False)[0]
    rows = phone.text_distributions([ids])[0]
    assert rows.shape == (len(ids) + 1, phone.tokenizer.get_vocab_size())
    for i, row in enumerate(rows):
        lstm, _ = read_tokens(phone.program.step, [BOS_ID, *ids[:i]], phone.program.initial_state())
        assert np.allclose(row, (1 - weight) * lstm.exp().double().numpy() + weight * ngram.distribution(ids[:i]))
        assert abs(row.sum() - 1) < 1e-5


def test_greedy_completion_follows_the_mixture_and_batches_equal_singles(phone_folder):
    phone = PhoneModel(phone_folder)
    prompts, budgets = ["going to the", "i love", "see you at the beach"], [3, 1, 4]
    completions = phone.complete(prompts, budgets)
    assert completions == [phone.complete([p], [b])[0] for p, b in zip(prompts, budgets)]
    for prompt, budget, completion in zip(prompts, budgets, completions):
        words = completion.split()
        assert len(words) == budget
        ids = encode_texts(phone.tokenizer, [f"{prompt} {completion}"], False, False)[0]
        rows = phone.text_distributions([ids])[0]
        start = len(ids) - budget
        for i in range(start, len(ids)):  # each word the best of the mixture after the words before it
            allowed = np.delete(np.arange(rows.shape[1]), list(NEVER_SUGGESTED))
            assert ids[i] == allowed[rows[i, allowed].argmax()]


def test_next_words_and_the_autocompleter_rank_by_the_mixture(phone_folder):
    phone = PhoneModel(phone_folder)
    cleaning = project_config(DataConfig, "data")
    completer = PhoneAutocompleter(phone, cleaning)
    ids = encode_texts(phone.tokenizer, ["going to the"], False, False)[0]
    row = phone.text_distributions([ids])[0][-1]
    row[list(NEVER_SUGGESTED)] = -1
    expected = [phone.tokenizer.id_to_token(int(i)) for i in np.argsort(-row, kind="stable")[:3]]
    assert phone.next_words(["going to the"], 3) == [expected]
    completer.reset()
    completer.feed("going to the")
    assert completer.next_words(3) == expected
    completer.reset()
    for word in ("going", "to", "the"):  # word by word reaches the same state as the whole text
        completer.feed(word)
    assert completer.next_words(3) == expected
    assert all(s.startswith("bea") for s in completer.suggest("going to the bea")[:1])


def test_bad_phone_files_are_named(phone_folder, tmp_path):
    with pytest.raises(UserError, match=re.escape(str(tmp_path / "missing.pte"))):
        PhoneProgram(tmp_path / "missing.pte")
    (tmp_path / "bad.pte").write_bytes(b"not a program at all")
    with pytest.raises(UserError, match="bad.pte: not a loadable ExecuTorch program"):
        PhoneProgram(tmp_path / "bad.pte")
    with pytest.raises(UserError, match="phone.max_mb"):
        PhoneConfig(0, [2])
    with pytest.raises(UserError, match="phone.ngram_min_counts"):
        PhoneConfig(5.0, [0])
    mixed = tmp_path / "mixed"  # an n-gram of another vocabulary beside the program and tokenizer
    shutil.copytree(phone_folder, mixed)
    tokenizer = PhoneModel(phone_folder).tokenizer
    other = KneserNey(3, tokenizer.get_vocab_size() + 5, BOS_ID, EOS_ID, excluded=[PAD_ID, BOS_ID])
    write_phone_ngram(other.fit([[5, 6, 7, 8]] * 3), mixed / PHONE_NGRAM_FILE, min_count=1)
    with pytest.raises(UserError, match=f"{re.escape(str(mixed / PHONE_NGRAM_FILE))}: "
                                        f"{tokenizer.get_vocab_size() + 5:,} words, but"):
        PhoneModel(mixed)
    for name in (MIXTURE_FILE, PHONE_NGRAM_FILE):  # a folder without one of its files says which, and what makes it
        folder = tmp_path / name
        shutil.copytree(phone_folder, folder)
        (folder / name).unlink()
        with pytest.raises(UserError, match=f"{re.escape(str(folder / name))}: phone model file not found; run "
                                            f"`dvc repro eval_lstm`"):
            PhoneModel(folder)


def test_memory_after_load_is_measured_in_a_fresh_process(phone_folder):
    assert 0 < memory_after_load_mb(phone_folder) < 50  # a tiny model: the runtime's buffers and the tokenizer


def test_no_torchscript_and_no_torch_ao_quantisation_left():
    """The phone model is ExecuTorch's; PyTorch Mobile (TorchScript) and torch.ao's eager quantisation are gone."""
    banned = re.compile(r"torch\.jit|torch\.ao\b|quantize_dynamic|torchscript|\.ts\b", re.IGNORECASE)
    files = [p for folder in ("src", "stages", "benchmarks", "tests") for p in (ROOT / folder).rglob("*.py")
             if p != Path(__file__)] + [ROOT / "solution.ipynb", ROOT / ".ci" / "run", ROOT / "dvc.yaml"]
    found = [f"{p.relative_to(ROOT)}:{n}" for p in files for n, line in enumerate(p.read_text().splitlines(), 1)
             if banned.search(line)]
    assert found == []
