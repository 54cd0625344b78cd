"""The LSTM for a phone: int8 weights, and a TorchScript file that runs without this project's code (the shipped
light model mixes it with the n-gram model, whose counts the phone reads from the same ngram.npz).

* The LSTM layers get PyTorch's dynamic int8 quantisation (int8 weights, activations quantised on the fly);
  PyTorch has no such kernel for an LSTM with projections, which then stays fp32.
* The embedding, which is also the output layer (weight tying) and most of the parameters, is stored once
  as int8 with one fp32 scale per word (symmetric, per row). A lookup turns back into floats only the rows
  it reads; scoring runs fbgemm's int8 matrix product on packed copies of the same rows, one per
  adaptive-softmax segment, instead of rebuilding the 10 MB float table for every word.
* `export_torchscript` traces one inference step, tokens + state -> next-word log-probs + state, into a
  file that `torch.jit.load` runs on its own.
"""
from __future__ import annotations

import itertools
import warnings
from pathlib import Path

import torch
import torch.ao.nn.quantized.dynamic as quantized_dynamic
import torch.nn.functional as F
from torch import nn

from text_autocomplete.lstm_model import LSTMLanguageModel
from text_autocomplete.mixture import LSTMWithNgram


class Int8WordTable(nn.Module):
    """The tied embedding / output table as int8 rows with a per-row scale.

    `forward` looks words up; `scores(h, segment)` gives the output scores of one adaptive-softmax segment
    (the frequent words, then each rare-word cluster) through a dynamically quantised linear layer.
    """

    def __init__(self, weight: torch.Tensor, bias: torch.Tensor, bounds: list[int]):
        super().__init__()
        scale = weight.abs().amax(dim=1).clamp(min=1e-8) / 127.0
        self.register_buffer("q_weight", torch.round(weight / scale[:, None]).to(torch.int8))
        self.register_buffer("scale", scale.float())
        self.segments = nn.ModuleList()
        for lo, hi in itertools.pairwise(bounds):
            with warnings.catch_warnings():  # quantized tensors are deprecated in favour of torchao, not broken
                warnings.simplefilter("ignore")
                rows = torch._make_per_channel_quantized_tensor(self.q_weight[lo:hi], scale[lo:hi].double(),
                                                                torch.zeros(hi - lo, dtype=torch.long), 0)
            linear = quantized_dynamic.Linear(weight.shape[1], hi - lo, dtype=torch.qint8)
            linear.set_weight_bias(rows, bias[lo:hi].detach().clone())
            self.segments.append(linear)
        # The packed copies are made from q_weight and scale: the saved file holds the table once.
        self.register_state_dict_post_hook(_drop_packed_copies)

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        return self.q_weight[tokens].float() * self.scale[tokens].unsqueeze(-1)

    def scores(self, h: torch.Tensor, segment: int) -> torch.Tensor:
        flat = h.reshape(-1, h.shape[-1])  # the quantised linear wants a batch dimension
        return self.segments[segment](flat).reshape(*h.shape[:-1], -1)


def _drop_packed_copies(module: nn.Module, state_dict: dict, prefix: str, local_metadata: dict) -> None:
    for key in [k for k in state_dict if k.startswith(f"{prefix}segments.")]:
        del state_dict[key]


class Int8LSTMLanguageModel(LSTMLanguageModel):
    """The LSTM language model with an `Int8WordTable` as embedding and output layer."""

    embedding: Int8WordTable

    def _head_logits(self, h: torch.Tensor) -> torch.Tensor:
        return torch.cat([self.embedding.scores(h, 0), F.linear(h, self.cluster_vectors, self.cluster_bias)], dim=-1)

    def _cluster_log_probs(self, h: torch.Tensor, cluster: int) -> torch.Tensor:
        return F.log_softmax(self.embedding.scores(h, cluster + 1), dim=-1)


def quantize_int8(model: LSTMLanguageModel) -> Int8LSTMLanguageModel:
    """A copy of `model` with int8 LSTM weights and an int8 embedding / output table."""
    if model.output_vectors is not None:
        raise ValueError("int8 export expects a tied model (lstm.tie_weights: true)")
    quantized = Int8LSTMLanguageModel(model.config)
    quantized.load_state_dict(model.state_dict())
    quantized.eval()
    quantized.embedding = Int8WordTable(model.embedding.weight.detach(), model.output_bias.detach(), quantized.bounds)
    if quantized.lstm.proj_size:
        # PyTorch's dynamic int8 LSTM has no projection; such an LSTM stays fp32 (its embedding is int8).
        warnings.warn("LSTM with proj_size: only the embedding is quantised to int8", stacklevel=2)
        return quantized
    with warnings.catch_warnings():  # torch.ao's eager quantisation is deprecated in favour of torchao, not broken
        warnings.simplefilter("ignore")
        quantized.lstm = torch.ao.quantization.quantize_dynamic(
            nn.Sequential(quantized.lstm), {nn.LSTM}, dtype=torch.qint8)[0]
    return quantized


def int8_parts(model: LSTMLanguageModel) -> str:
    """What `quantize_int8` made int8 in `model`, in words."""
    if getattr(model.lstm, "proj_size", 0):  # the quantised LSTM module has no such attribute
        return "int8 word table, fp32 LSTM (PyTorch has no int8 LSTM with a projection)"
    return "int8 word table and LSTM"


def quantize_light_model(model: LSTMWithNgram) -> LSTMWithNgram:
    """The shipped light model for a phone: its LSTM int8, the same n-gram model and weight."""
    return LSTMWithNgram(quantize_int8(model.lstm), model.ngram, model.ngram_weight, name=f"{model.name} int8")


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
