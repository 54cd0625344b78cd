"""The LSTM for a phone: int8 weights, and a TorchScript file that runs without this project's code.

* The LSTM layers get PyTorch's dynamic int8 quantisation (int8 weights, activations quantised on the fly);
  PyTorch has no such kernel for an LSTM with projections, which then stays fp32.
* The embedding, which is also the output layer (weight tying) and most of the parameters, is stored as
  int8 with one fp32 scale per word (symmetric, per row) and turned back into floats when used.
* `export_torchscript` traces one inference step, tokens + state -> next-word log-probs + state, into a
  file that `torch.jit.load` runs on its own.
"""
from __future__ import annotations

import copy
import warnings
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from src.lstm_model import LSTMLanguageModel
from src.tokenizer import PAD_ID


class Int8Embedding(nn.Module):
    """An embedding table kept as int8 rows with a per-row scale; `.weight` gives it back in fp32."""

    def __init__(self, weight: torch.Tensor):
        super().__init__()
        scale = weight.abs().amax(dim=1).clamp(min=1e-8) / 127.0
        self.register_buffer("q_weight", torch.round(weight / scale[:, None]).to(torch.int8))
        self.register_buffer("scale", scale.float())
        self.padding_idx = PAD_ID

    @property
    def weight(self) -> torch.Tensor:
        return self.q_weight.float() * self.scale[:, None]

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        return F.embedding(tokens, self.weight, padding_idx=self.padding_idx)


def quantize_int8(model: LSTMLanguageModel) -> LSTMLanguageModel:
    """A copy of `model` with int8 LSTM weights and an int8 embedding / output table."""
    quantized = copy.deepcopy(model).eval()
    if quantized.output_vectors is not None:
        raise ValueError("int8 export expects a tied model (lstm.tie_weights: true)")
    quantized.embedding = Int8Embedding(model.embedding.weight.detach())
    if quantized.lstm.proj_size:
        # PyTorch's dynamic int8 LSTM has no projection; such an LSTM stays fp32 (its embedding is int8).
        warnings.warn("LSTM with proj_size: only the embedding is quantised to int8", stacklevel=2)
        return quantized
    with warnings.catch_warnings():  # torch.ao's eager quantisation is deprecated in favour of torchao, not broken
        warnings.simplefilter("ignore")
        quantized.lstm = torch.ao.quantization.quantize_dynamic(
            nn.Sequential(quantized.lstm), {nn.LSTM}, dtype=torch.qint8)[0]
    return quantized


class InferenceStep(nn.Module):
    """tokens (1, T), h, c -> log-probs of the next word (V,), h, c: everything a keyboard needs."""

    def __init__(self, model: LSTMLanguageModel):
        super().__init__()
        self.model = model.eval()

    def forward(self, tokens: torch.Tensor, h: torch.Tensor, c: torch.Tensor):
        out, (h, c) = self.model.lstm(self.model.embedding(tokens), (h, c))
        return self.model.log_probs(out[0, -1]), h, c


def initial_state(model: LSTMLanguageModel) -> tuple[torch.Tensor, torch.Tensor]:
    config = model.config
    h_size = config.embedding_dim if config.tie_weights else config.hidden_dim
    return torch.zeros(config.num_layers, 1, h_size), torch.zeros(config.num_layers, 1, config.hidden_dim)


def export_torchscript(model: LSTMLanguageModel, path: Path) -> None:
    """Trace one inference step and save it; the file loads with `torch.jit.load` alone."""
    step = InferenceStep(model)
    h, c = initial_state(model)
    example = torch.tensor([[2, 5, 6]])
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # tracer notes on constant loop bounds: the cluster loop is fixed
        traced = torch.jit.trace(step, (example, h, c), check_trace=False)
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    torch.jit.save(traced, str(path))
