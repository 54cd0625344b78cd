"""int8 quantisation and the TorchScript export of the LSTM."""
from __future__ import annotations

import subprocess
import sys
from dataclasses import replace

import pytest
import torch

from text_autocomplete.lstm_model import LSTMConfig, LSTMLanguageModel, save_model
from text_autocomplete.mobile import export_torchscript, initial_state, int8_parts, quantize_int8
from text_autocomplete.tokenizer import BOS_ID


def trained_size_model() -> LSTMLanguageModel:
    torch.manual_seed(0)
    return LSTMLanguageModel(LSTMConfig(vocab_size=3000, embedding_dim=64, hidden_dim=64, num_layers=2,
                                        dropout=0.0, tie_weights=True, softmax_cutoffs=(500,))).eval()


def test_int8_file_is_at_most_a_third_of_fp32(tmp_path):
    model = trained_size_model()
    vocab = {f"w{i}": i for i in range(3000)}
    save_model(model, tmp_path / "fp32.pt", vocab)
    save_model(quantize_int8(model), tmp_path / "int8.pt", vocab)
    assert (tmp_path / "int8.pt").stat().st_size <= (tmp_path / "fp32.pt").stat().st_size / 3


def test_int8_scores_stay_close_to_fp32():
    model = trained_size_model()
    prompts = [[BOS_ID, *torch.randint(4, 3000, (n,)).tolist()] for n in range(1, 9)]
    fp32, _ = model.prompt_state(prompts)
    int8, _ = quantize_int8(model).prompt_state(prompts)
    assert (fp32 - int8).abs().max() < 0.05


def test_exported_file_runs_alone_and_matches_the_pytorch_model_on_100_prompts(tmp_path):
    model = quantize_int8(trained_size_model())
    export_torchscript(model, tmp_path / "step.ts")
    generator = torch.Generator().manual_seed(1)
    prompts = [[BOS_ID, *torch.randint(4, 3000, (int(n),), generator=generator).tolist()]
               for n in torch.randint(1, 12, (100,), generator=generator)]
    # One prompt at a time, as a keyboard runs it (dynamic int8 quantises activations per call).
    expected = [int(model.prompt_state([p])[0].argmax()) for p in prompts]
    h, c = initial_state(model)
    # A fresh interpreter with only torch: the file needs none of this project's code.
    script = ("import sys, json, torch\n"
              "step = torch.jit.load(sys.argv[1])\n"
              f"h, c = torch.zeros({tuple(h.shape)}), torch.zeros({tuple(c.shape)})\n"
              "prompts = json.loads(sys.stdin.read())\n"
              "print(json.dumps([int(step(torch.tensor([p]), h, c)[0].argmax()) for p in prompts]))\n")
    import json

    result = subprocess.run([sys.executable, "-c", script, str(tmp_path / "step.ts")], input=json.dumps(prompts),
                            capture_output=True, text=True, cwd=tmp_path, check=True)
    assert json.loads(result.stdout) == expected
    assert len(set(expected)) > 1  # not a constant model


def test_the_int8_parts_are_named_as_quantised():
    """A projected LSTM (Gboard's shape) keeps fp32 LSTM weights: the records must not call it an int8 LSTM."""
    config = LSTMConfig(vocab_size=60, embedding_dim=8, hidden_dim=8, num_layers=1, dropout=0.0, tie_weights=True,
                        softmax_cutoffs=())
    plain = quantize_int8(LSTMLanguageModel(config).eval())
    with pytest.warns(UserWarning, match="proj_size"):
        projected = quantize_int8(LSTMLanguageModel(replace(config, hidden_dim=24)).eval())
    assert int8_parts(plain) == "int8 word table and LSTM"
    assert type(plain.lstm) is not torch.nn.LSTM and type(projected.lstm) is torch.nn.LSTM
    assert int8_parts(projected).startswith("int8 word table, fp32 LSTM")
