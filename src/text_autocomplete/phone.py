"""The phone model: the shipped light model as files an app runs without this project's code.

* `lstm_step.pte`: an ExecuTorch program (XNNPACK delegate) of one keyboard step, token + LSTM state ->
  next-word log-probabilities + state. Its word table, LSTM and projection are int8 (dynamic int8 activations):
  the program is written as `F.linear` calls (`PhoneStep`: the LSTM cell written out, the adaptive softmax one
  linear per segment), because XNNPACK's quantizer quantises linear layers and leaves `nn.LSTM` and `h @ E.T`
  in fp32. The input side of the tied table is a row lookup, which no linear kernel does: it reads its own copy
  of the table in int8 with one scale per word.
* `ngram.bin`: the n-gram model pruned and in 8 bits, memory-mapped (phone_ngram.py, layout in the README).
* `tokenizer.json` and `mixture.json` (the n-gram weight): the same as the fp32 model's.

`PhoneModel` runs those files the way an app would, one word at a time through ExecuTorch's runtime (the C++
runtime apps embed, through its Python bindings), and is a completer, a next-word ranker and a keyboard model like
every light model. `PhoneAutocompleter` is what `autocomplete --model phone` and `autocomplete serve` use.
"""
from __future__ import annotations

import contextlib
import logging
import os
import shutil
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from tokenizers import Tokenizer
from torch import nn

from text_autocomplete.autocomplete import Autocompleter, Reading, WordIndex
from text_autocomplete.data_utils import DataConfig
from text_autocomplete.errors import UserError
from text_autocomplete.lstm_model import LSTMLanguageModel
from text_autocomplete.mixture import load_weight, save_weight
from text_autocomplete.paths import (
    MIXTURE_FILE,
    MOBILE_DIR,
    PHONE_FILES,
    PHONE_NGRAM_FILE,
    PHONE_PROGRAM_FILE,
    TOKENIZER_FILE,
)
from text_autocomplete.phone_ngram import PhoneNgram
from text_autocomplete.tokenizer import BOS_ID, EOS_ID, NEVER_GENERATED, NEVER_SUGGESTED, encode_texts, load_tokenizer


# --------------------------------------------------------------------------- the program
class PhoneStep(nn.Module):
    """One keyboard step of a trained LSTM language model: token (1,), h (layers, h size), c (layers, cell size)
    -> log-probabilities of the next word (V,), h, c. The same arithmetic as `LSTMLanguageModel` at batch 1, with
    every product an `F.linear` (what the quantizer makes int8) and the input row read from an int8 table."""

    def __init__(self, model: LSTMLanguageModel):
        super().__init__()
        lstm = model.lstm
        table = model.embedding.weight.detach()
        scale = table.abs().amax(dim=1).clamp(min=1e-8) / 127.0  # symmetric, one scale per word
        self.register_buffer("input_rows", torch.round(table / scale[:, None]).to(torch.int8))
        self.register_buffer("input_scale", scale.float())
        self.w_ih, self.w_hh, self.bias, self.w_hr = (nn.ParameterList() for _ in range(4))
        for layer in range(lstm.num_layers):
            weight = {name: getattr(lstm, f"{name}_l{layer}").detach().clone()
                      for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")}
            self.w_ih.append(nn.Parameter(weight["weight_ih"]))
            self.w_hh.append(nn.Parameter(weight["weight_hh"]))
            self.bias.append(nn.Parameter(weight["bias_ih"] + weight["bias_hh"]))
            if lstm.proj_size:
                self.w_hr.append(nn.Parameter(getattr(lstm, f"weight_hr_l{layer}").detach().clone()))
        # The adaptive softmax: the head scores the frequent words and one entry per rare-word cluster; each
        # cluster's words get their own linear layer, so every product has a constant weight of its own.
        vectors, bias, bounds = model._word_vectors().detach(), model.output_bias.detach(), model.bounds
        self.frequent = bounds[1]
        self.head_weight = nn.Parameter(torch.cat([vectors[:self.frequent], model.cluster_vectors.detach()]))
        self.head_bias = nn.Parameter(torch.cat([bias[:self.frequent], model.cluster_bias.detach()]))
        spans = list(zip(bounds[1:-1], bounds[2:]))
        self.cluster_weight = nn.ParameterList([nn.Parameter(vectors[lo:hi].clone()) for lo, hi in spans])
        self.cluster_bias = nn.ParameterList([nn.Parameter(bias[lo:hi].clone()) for lo, hi in spans])

    def forward(self, token: torch.Tensor, h: torch.Tensor, c: torch.Tensor):
        x = self.input_rows[token].to(torch.float32) * self.input_scale[token][:, None]  # (1, D)
        hs, cs = [], []
        for layer in range(len(self.w_ih)):
            gates = F.linear(x, self.w_ih[layer], self.bias[layer]) + F.linear(h[layer:layer + 1], self.w_hh[layer])
            i, f, g, o = gates.chunk(4, dim=-1)  # nn.LSTM's gate order
            cell = torch.sigmoid(f) * c[layer:layer + 1] + torch.sigmoid(i) * torch.tanh(g)
            x = torch.sigmoid(o) * torch.tanh(cell)
            if len(self.w_hr):
                x = F.linear(x, self.w_hr[layer])
            hs.append(x)
            cs.append(cell)
        head = F.log_softmax(F.linear(x, self.head_weight, self.head_bias), dim=-1)
        parts = [head[:, :self.frequent]]
        for k, (weight, bias) in enumerate(zip(self.cluster_weight, self.cluster_bias)):
            within = F.log_softmax(F.linear(x, weight, bias), dim=-1)
            parts.append(head[:, self.frequent + k:self.frequent + k + 1] + within)
        return torch.cat(parts, dim=-1)[0], torch.cat(hs), torch.cat(cs)


def state_shapes(model: LSTMLanguageModel) -> tuple[tuple[int, int], tuple[int, int]]:
    """(layers, h size), (layers, cell size): the state the step reads and returns."""
    config = model.config
    h_size = model.lstm.proj_size or config.hidden_dim
    return (config.num_layers, h_size), (config.num_layers, config.hidden_dim)


@contextlib.contextmanager
def _quiet_imports():
    """torchao logs every optional CUDA library it cannot load; none is needed on a CPU."""
    logger = logging.getLogger("torchao")
    level = logger.level
    logger.setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        logger.setLevel(level)


def export_program(model: LSTMLanguageModel, path: Path | str) -> torch.fx.GraphModule:
    """Write `model`'s int8 keyboard step as an ExecuTorch program (XNNPACK) to `path`; return its PyTorch source,
    the quantised module the program was lowered from (the same int8 weights, run by PyTorch)."""
    with _quiet_imports():
        from executorch.backends.xnnpack.partition.xnnpack_partitioner import XnnpackPartitioner
        from executorch.backends.xnnpack.quantizer.xnnpack_quantizer import (
            XNNPACKQuantizer,
            get_symmetric_quantization_config,
        )
        from executorch.exir import to_edge_transform_and_lower
        from torchao.quantization.pt2e.quantize_pt2e import convert_pt2e, prepare_pt2e
    step = PhoneStep(model.eval()).eval()
    h_shape, c_shape = state_shapes(model)
    example = (torch.tensor([BOS_ID]), torch.zeros(h_shape), torch.zeros(c_shape))
    quantizer = XNNPACKQuantizer().set_global(get_symmetric_quantization_config(is_per_channel=True, is_dynamic=True))
    with torch.no_grad():
        source = prepare_pt2e(torch.export.export(step, example).module(), quantizer)
        source(*example)  # dynamic quantisation observes nothing, but prepare_pt2e expects one call
        source = convert_pt2e(source)
        lowered = to_edge_transform_and_lower(torch.export.export(source, example),
                                              partitioner=[XnnpackPartitioner()]).to_executorch()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_bytes(lowered.buffer)
    tmp.replace(path)
    return source


class PhoneProgram:
    """The `.pte` run by ExecuTorch's runtime, one step at a time."""

    def __init__(self, path: Path | str):
        path = Path(path)
        if not path.exists():
            raise UserError(f"{path}: phone program not found; run `dvc repro eval_lstm` to export it")
        from executorch.runtime import Runtime
        try:
            self.method = Runtime.get().load_program(path).load_method("forward")
        except Exception as exc:  # the runtime raises RuntimeError/ValueError for a file that is not a program
            raise UserError(f"{path}: not a loadable ExecuTorch program ({type(exc).__name__}: {exc}); "
                            f"run `dvc repro eval_lstm` to export it again") from exc
        meta = self.method.metadata
        self.h_shape = tuple(meta.input_tensor_meta(1).sizes())
        self.c_shape = tuple(meta.input_tensor_meta(2).sizes())
        self.vocab_size = int(meta.output_tensor_meta(0).sizes()[0])

    def initial_state(self) -> tuple[torch.Tensor, torch.Tensor]:
        return torch.zeros(self.h_shape), torch.zeros(self.c_shape)

    def step(self, token: torch.Tensor, h: torch.Tensor, c: torch.Tensor):
        """token (1,) int64 -> (log-probs (V,), h, c), as `PhoneStep` and the program's PyTorch source."""
        log_probs, h, c = self.method.execute([token, h, c])
        return log_probs, h, c


def read_tokens(step, ids: Sequence[int], state: tuple[torch.Tensor, torch.Tensor]):
    """Feed `ids` one at a time to `step(token (1,), h, c)` (the program, its source or `PhoneStep`); the log-probs
    after the last and the state there."""
    log_probs = None
    h, c = state
    with torch.no_grad():
        for token in ids:
            log_probs, h, c = step(torch.tensor([int(token)]), h, c)
    return log_probs, (h, c)


# --------------------------------------------------------------------------- writing the phone's files
def write_phone_files(tokenizer_path: Path | str, ngram_weight: float, folder: Path | str = MOBILE_DIR) -> None:
    """The files beside the program and the n-gram: the tokenizer (copied) and the mixture weight."""
    folder = Path(folder)
    (folder / TOKENIZER_FILE).parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(tokenizer_path, folder / TOKENIZER_FILE)
    save_weight(folder / MIXTURE_FILE, ngram_weight)


def file_bytes(folder: Path | str = MOBILE_DIR) -> dict[str, int]:
    """Each phone file's bytes on disk, by path."""
    return {name: (Path(folder) / name).stat().st_size for name in PHONE_FILES}


# --------------------------------------------------------------------------- running the phone's files
class PhoneModel:
    """The phone's files run one word at a time: the program's next-word distribution mixed with the phone
    n-gram's, (1 - w) P_LSTM + w P_ngram. A completer (greedy: exactly the asked words, never a special token
    nor the end before them), a next-word ranker and a keyboard model (`text_distributions`)."""

    def __init__(self, folder: Path | str = MOBILE_DIR, name: str = "phone"):
        folder = Path(folder)
        self.name = name
        missing = [str(folder / name) for name in PHONE_FILES if not (folder / name).exists()]
        if missing:
            raise UserError(f"{', '.join(missing)}: phone model file not found; run `dvc repro eval_lstm` to make it")
        self.tokenizer: Tokenizer = load_tokenizer(folder / TOKENIZER_FILE)
        self.program = PhoneProgram(folder / PHONE_PROGRAM_FILE)
        self.ngram = PhoneNgram(folder / PHONE_NGRAM_FILE)
        self.ngram_weight = load_weight(folder / MIXTURE_FILE)
        words = self.tokenizer.get_vocab_size()
        for path, size in ((folder / PHONE_NGRAM_FILE, self.ngram.vocab_size),
                           (folder / PHONE_PROGRAM_FILE, self.program.vocab_size)):
            if size != words:  # files of different models in one folder
                raise UserError(f"{path}: {size:,} words, but {folder / TOKENIZER_FILE} has {words:,}")
        self.start = read_tokens(self.program.step, [BOS_ID], self.program.initial_state())

    def mixed(self, lstm_log_probs: torch.Tensor, history: Sequence[int]) -> np.ndarray:
        """The mixture's next-word probabilities after `history` (word ids, no <bos>)."""
        return ((1.0 - self.ngram_weight) * lstm_log_probs.exp().double().numpy()
                + self.ngram_weight * self.ngram.distribution(history))

    def _ids(self, texts: Sequence[str]) -> list[list[int]]:
        return encode_texts(self.tokenizer, list(texts), add_bos=False, add_eos=False)

    def read(self, ids: Sequence[int]):
        """The LSTM's log-probs and state after <bos> and `ids`."""
        log_probs, state = self.start
        return read_tokens(self.program.step, ids, state) if ids else (log_probs, state)

    def text_distributions(self, texts: Sequence[Sequence[int]]) -> list[np.ndarray]:
        out = []
        for ids in texts:
            (log_probs, state), rows = self.start, []
            for i in range(len(ids) + 1):
                rows.append(self.mixed(log_probs, ids[:i]))
                if i < len(ids):
                    log_probs, state = read_tokens(self.program.step, [ids[i]], state)
            out.append(np.stack(rows))
        return out

    def complete(self, prompts: list[str], budgets: list[int]) -> list[str]:
        banned = [*NEVER_GENERATED, EOS_ID]  # <eos> held back: exactly `budget` words, as every model completes
        completions = []
        for ids, budget in zip(self._ids(prompts), budgets):
            ids, new = list(ids), []
            log_probs, state = self.read(ids)
            for step in range(budget):
                probs = self.mixed(log_probs, ids)
                probs[banned] = -1.0
                word = int(probs.argmax())
                new.append(word)
                ids.append(word)
                if step + 1 < budget:
                    log_probs, state = read_tokens(self.program.step, [word], state)
            completions.append(self.tokenizer.decode(new))
        return completions

    def next_words(self, prompts: list[str], k: int) -> list[list[str]]:
        ranked = []
        for ids in self._ids(prompts):
            probs = self.mixed(self.read(ids)[0], ids)
            probs[list(NEVER_SUGGESTED)] = -1.0
            best = np.argsort(-probs, kind="stable")[:k]
            ranked.append([self.tokenizer.id_to_token(int(i)) for i in best])
        return ranked

    def lstm_log_probs(self, prompts: list[str]) -> torch.Tensor:
        """The program's next-word log-probs after each prompt (B, V): what parity checks compare."""
        return torch.stack([self.read(ids)[0] for ids in self._ids(prompts)])


class PhoneAutocompleter(Autocompleter):
    """`Autocompleter` on the phone's files: each word read is one program step; the scores are the mixture's."""

    def __init__(self, phone: PhoneModel, cleaning: DataConfig):
        self.phone, self.tokenizer, self.cleaning = phone, phone.tokenizer, cleaning
        self.index = WordIndex(phone.tokenizer)
        log_probs, state = phone.start
        self.start = Reading(log_probs, state, (BOS_ID,))  # `output` holds the program's log-probs
        self.reset()

    def _read(self, ids: list[int]) -> None:
        log_probs, state = read_tokens(self.phone.program.step, ids, self.reading.state)
        self.restore(Reading(log_probs, state, self.reading.history + tuple(ids)))

    @property
    def log_probs(self) -> torch.Tensor:
        if self.reading.log_probs is None:
            self.reading.log_probs = torch.from_numpy(
                np.log(self.phone.mixed(self.reading.output, self.reading.history[1:]))).float()
        return self.reading.log_probs


# --------------------------------------------------------------------------- memory, as the phone would hold it
MEMORY_PROBE = """
import sys, torch
def rss_mb():
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith("VmRSS:")) / 1024
from text_autocomplete import phone
import executorch.runtime
before = rss_mb()
model = phone.PhoneModel(sys.argv[1])
model.next_words(["how are you doing", "see you"], 3)
print(rss_mb() - before)
"""


def memory_after_load_mb(folder: Path | str = MOBILE_DIR) -> float:
    """MB the phone model adds to a process's resident memory once loaded and used (program, runtime buffers,
    XNNPACK's packed weights, the n-gram pages read), measured in a fresh Python after its imports."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(Path(__file__).parents[1]),
                                                        os.environ.get("PYTHONPATH", "")])}
    done = subprocess.run([sys.executable, "-c", MEMORY_PROBE, str(folder)], capture_output=True, text=True, env=env)
    if done.returncode != 0:
        raise RuntimeError(f"measuring the phone model's memory failed:\n{done.stderr[-2000:]}")
    return round(float(done.stdout.strip().splitlines()[-1]), 1)


# --------------------------------------------------------------------------- the stage's settings
@dataclass
class PhoneConfig:
    """The ``phone`` section of params.yaml."""

    max_mb: float  # the phone's files on disk, in MB (1e6 bytes); the n-gram's cut-off is chosen to fit
    ngram_min_counts: list[int]  # n-gram count cut-offs compared on val perplexity, those that fit

    def __post_init__(self) -> None:
        if not self.max_mb > 0:
            raise UserError(f"params.yaml phone.max_mb={self.max_mb}: a size in MB, above 0")
        if not self.ngram_min_counts or any(not isinstance(n, int) or n < 1 for n in self.ngram_min_counts):
            raise UserError(f"params.yaml phone.ngram_min_counts={self.ngram_min_counts}: a list of counts, each "
                            f"at least 1")
