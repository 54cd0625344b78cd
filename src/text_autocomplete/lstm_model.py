"""A word-level LSTM language model that reads a tweet and predicts its next words.

embedding -> LSTM layers -> tied adaptive softmax. The output layer reuses the input
embedding as its word vectors (weight tying: fewer parameters, better perplexity on small
data) and is *adaptive*: frequent words are scored for every position, rare words only for
positions whose target is rare, so training cost does not grow with the whole vocabulary.
"""
from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from text_autocomplete.errors import UserError
from text_autocomplete.measures import parameter_count
from text_autocomplete.tokenizer import EOS_ID, NEVER_GENERATED, PAD_ID

State = tuple[torch.Tensor, torch.Tensor]
# Evidence from another model to combine with the LSTM's next-word log-probs (B, V), given each row's history (the
# token ids read so far, <bos> first): mixture.LSTMWithNgram mixes in an n-gram model this way.
MixIn = Callable[[torch.Tensor, list[list[int]]], torch.Tensor]


class CheckpointError(UserError):
    """A model file that is missing, damaged or made for another vocabulary."""


@dataclass
class LSTMConfig:
    """The ``lstm`` section of params.yaml (vocab_size comes from the tokenizer)."""

    embedding_dim: int
    hidden_dim: int
    num_layers: int
    dropout: float  # on the embedding output and the LSTM output (and between layers, always per element)
    # AWD-LSTM's regularisers (Merity et al. 2018), training only; 0 / false = off.
    embedding_dropout: float  # drops whole words: all uses of a word in a batch lose its vector together
    locked_dropout: bool  # `dropout` with one mask per sequence, the same at every step (variational dropout)
    weight_drop: float  # DropConnect on the recurrent weights (weight_hh), one mask per batch
    tie_weights: bool
    # Adaptive-softmax cluster starts, in frequency-ordered ids; [] = one full softmax.
    softmax_cutoffs: tuple[int, ...]
    vocab_size: int = field(default=0, metadata={"derived": "the trained tokenizer's size"})


@dataclass
class GenerationConfig:
    """How `generate` picks each next word: greedy when do_sample is false."""

    do_sample: bool = False
    temperature: float = 1.0
    top_k: int = 0
    top_p: float = 1.0
    seed: int = 0
    banned_ids: tuple[int, ...] = field(default=NEVER_GENERATED)


# The regularisers' values that train as the model did before they existed (and as loading an older file assumes).
LEVERS_OFF = {"embedding_dropout": 0.0, "locked_dropout": False, "weight_drop": 0.0}


class LSTMLanguageModel(nn.Module):
    def __init__(self, config: LSTMConfig):
        super().__init__()
        if config.vocab_size <= len(NEVER_GENERATED) + 1:
            raise CheckpointError(f"lstm vocab_size={config.vocab_size} is too small")
        self.config = config
        dim = config.embedding_dim
        self.embedding = nn.Embedding(config.vocab_size, dim, padding_idx=PAD_ID)
        # With tying, the LSTM must emit vectors of the embedding's size: a projection does it cheaply.
        project = config.tie_weights and config.hidden_dim != dim
        self.lstm = nn.LSTM(dim, config.hidden_dim, num_layers=config.num_layers, batch_first=True,
                            dropout=config.dropout if config.num_layers > 1 else 0.0,
                            proj_size=dim if project else 0)
        out_dim = dim if config.tie_weights else config.hidden_dim
        self.dropout = nn.Dropout(config.dropout)
        self.output_vectors = None if config.tie_weights else nn.Parameter(torch.empty(config.vocab_size, out_dim))
        self.output_bias = nn.Parameter(torch.zeros(config.vocab_size))
        self.bounds = [0, *[c for c in config.softmax_cutoffs if 0 < c < config.vocab_size], config.vocab_size]
        n_clusters = len(self.bounds) - 2
        self.cluster_vectors = nn.Parameter(torch.empty(n_clusters, out_dim))
        self.cluster_bias = nn.Parameter(torch.zeros(n_clusters))
        self._init_weights()

    def _init_weights(self) -> None:
        nn.init.uniform_(self.embedding.weight, -0.1, 0.1)
        with torch.no_grad():
            self.embedding.weight[PAD_ID].zero_()
        for tensor in (self.output_vectors, self.cluster_vectors):
            if tensor is not None:
                nn.init.uniform_(tensor, -0.1, 0.1)

    # ----------------------------------------------------------------- the network
    def _word_vectors(self) -> torch.Tensor:
        return self.embedding.weight if self.output_vectors is None else self.output_vectors

    def hidden(self, tokens: torch.Tensor, state: State | None = None,
               lengths: torch.Tensor | None = None) -> tuple[torch.Tensor, State]:
        """LSTM outputs (B, T, D) and the state after each row's last real token (`lengths`, if padded)."""
        x = self._drop(self._embed(tokens))
        if lengths is None:
            out, state = self._recur(x, state)
        else:
            packed = nn.utils.rnn.pack_padded_sequence(x, lengths.cpu(), batch_first=True, enforce_sorted=False)
            out, state = self._recur(packed, state)
            out, _ = nn.utils.rnn.pad_packed_sequence(out, batch_first=True, total_length=tokens.shape[1])
        return self._drop(out), state

    # ----------------------------------------------------------------- regularisers (training only)
    def _embed(self, tokens: torch.Tensor) -> torch.Tensor:
        """Word vectors; in training, embedding dropout zeroes whole words of the vocabulary for this batch (the
        others scaled up), so the model cannot lean on any one word being seen. Only the input side: the tied
        output layer keeps every word's vector."""
        x = self.embedding(tokens)
        p = self.config.embedding_dropout
        if self.training and p > 0:
            kept = x.new_empty(self.config.vocab_size).bernoulli_(1 - p) / (1 - p)
            x = x * kept[tokens].unsqueeze(-1)
        return x

    def _drop(self, x: torch.Tensor) -> torch.Tensor:
        """`dropout` on (B, T, D) vectors: a new mask per element, or with locked_dropout one mask per sequence,
        reused at every step, as the recurrence sees the same units missing throughout a text."""
        if not self.config.locked_dropout:
            return self.dropout(x)
        p = self.config.dropout
        if not self.training or p == 0:
            return x
        return x * x.new_empty(x.shape[0], 1, x.shape[2]).bernoulli_(1 - p) / (1 - p)

    def _recur(self, x: torch.Tensor | nn.utils.rnn.PackedSequence, state: State | None) -> tuple[Any, State]:
        """The LSTM; in training, weight drop runs it with a dropped-out copy of each layer's hidden-to-hidden
        weights (one mask per batch, gradients reach the kept weights). In eval the weights are used whole."""
        p = self.config.weight_drop
        if not self.training or p == 0:
            return self.lstm(x, state)
        dropped = {name: F.dropout(weight, p) for name, weight in self.lstm.named_parameters()
                   if name.startswith("weight_hh")}
        return torch.func.functional_call(self.lstm, dropped, (x, state))

    def forward(self, tokens: torch.Tensor, state: State | None = None) -> tuple[torch.Tensor, State]:
        """Next-token log-probabilities (B, T, V) at every position, and the LSTM state."""
        out, state = self.hidden(tokens, state)
        return self.log_probs(out), state

    # ----------------------------------------------------------------- the adaptive softmax
    def _head_logits(self, h: torch.Tensor) -> torch.Tensor:
        """Scores of the frequent words plus one score per rare-word cluster."""
        c0 = self.bounds[1]
        weight = torch.cat([self._word_vectors()[:c0], self.cluster_vectors])
        bias = torch.cat([self.output_bias[:c0], self.cluster_bias])
        return F.linear(h, weight, bias)

    def _cluster_log_probs(self, h: torch.Tensor, cluster: int) -> torch.Tensor:
        lo, hi = self.bounds[cluster + 1], self.bounds[cluster + 2]
        return F.log_softmax(F.linear(h, self._word_vectors()[lo:hi], self.output_bias[lo:hi]), dim=-1)

    def log_probs(self, h: torch.Tensor) -> torch.Tensor:
        """Log-probabilities over the whole vocabulary for hidden vectors (..., D)."""
        head = F.log_softmax(self._head_logits(h), dim=-1)
        c0 = self.bounds[1]
        parts = [head[..., :c0]]
        for cluster in range(len(self.bounds) - 2):
            parts.append(head[..., c0 + cluster, None] + self._cluster_log_probs(h, cluster))
        return torch.cat(parts, dim=-1)

    def token_nll(self, h: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        """Negative log-likelihood of each target (N,) given hidden vectors (N, D), without scoring all words."""
        head = F.log_softmax(self._head_logits(h), dim=-1)
        c0 = self.bounds[1]
        head_targets = targets.clone()
        log_likelihood = torch.zeros_like(targets, dtype=head.dtype)
        for cluster in range(len(self.bounds) - 2):
            lo, hi = self.bounds[cluster + 1], self.bounds[cluster + 2]
            rows = ((targets >= lo) & (targets < hi)).nonzero(as_tuple=True)[0]
            if rows.numel():
                head_targets[rows] = c0 + cluster
                within = self._cluster_log_probs(h[rows], cluster)
                log_likelihood[rows] = within.gather(1, (targets[rows] - lo)[:, None]).squeeze(1)
        return -(log_likelihood + head.gather(1, head_targets[:, None]).squeeze(1))

    def loss(self, inputs: torch.Tensor, targets: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """Mean next-token NLL over real (unpadded) positions; padded positions are never scored."""
        out, _ = self.hidden(inputs)
        return self.token_nll(out[mask], targets[mask]).mean()

    # ----------------------------------------------------------------- inference
    @torch.no_grad()
    def prompt_state(self, prompts: list[list[int]]) -> tuple[torch.Tensor, State]:
        """Read right-padded prompts; return log-probs after each prompt's last real token and the state there."""
        device = self.output_bias.device
        lengths = torch.tensor([len(p) for p in prompts])
        if (lengths == 0).any():
            raise ValueError("every prompt needs at least one token (its <bos>)")
        tokens = nn.utils.rnn.pad_sequence([torch.tensor(p) for p in prompts], batch_first=True,
                                           padding_value=PAD_ID).to(device)
        out, state = self.hidden(tokens, lengths=lengths)
        last = out[torch.arange(len(prompts), device=device), (lengths - 1).to(device)]
        return self.log_probs(last), state

    @torch.no_grad()
    def generate(self, prompts: list[list[int]], max_new_tokens: int | list[int], min_new_tokens: int | list[int] = 0,
                 generation: GenerationConfig | None = None, mix_in: MixIn | None = None) -> list[list[int]]:
        """New token ids for each prompt: up to `max_new_tokens`, stopping at <eos> (not returned).

        <eos> is forbidden before `min_new_tokens` (so a completion can be asked for an exact
        length); <pad>, <unk> and <bos> are never produced. Both budgets may be given per prompt.
        With `mix_in`, each step picks from the LSTM's scores combined with another model's (see MixIn).
        """
        generation = generation or GenerationConfig()
        was_training = self.training
        self.eval()
        device = self.output_bias.device
        n = len(prompts)
        max_new = torch.as_tensor(max_new_tokens, device=device).expand(n)
        min_new = torch.as_tensor(min_new_tokens, device=device).expand(n)
        generator = torch.Generator(device=device).manual_seed(generation.seed) if generation.do_sample else None
        log_probs, state = self.prompt_state(prompts)
        banned = torch.tensor(generation.banned_ids, device=device, dtype=torch.long)
        new_tokens = torch.full((n, int(max_new.max().item()) if n else 0), PAD_ID, device=device)
        finished = max_new <= 0
        for step in range(new_tokens.shape[1]):
            if mix_in is not None:
                log_probs = mix_in(log_probs, [p + row[:step] for p, row in zip(prompts, new_tokens.tolist())])
            scores = log_probs.clone()
            scores[:, banned] = float("-inf")
            scores[step < min_new, EOS_ID] = float("-inf")
            next_token = pick_next_token(scores, generation, generator)
            next_token = torch.where(finished, PAD_ID, next_token)
            new_tokens[:, step] = next_token
            finished |= (next_token == EOS_ID) | (step + 1 >= max_new)
            if finished.all():
                break
            out, state = self.hidden(next_token[:, None], state)
            log_probs = self.log_probs(out[:, -1])
        self.train(was_training)
        # After <eos> a row holds only <pad>: dropping both leaves exactly the words generated.
        return [[t for t in row if t not in (PAD_ID, EOS_ID)] for row in new_tokens.tolist()]

    def beam_search(self, prompts: list[list[int]], budgets: list[int], num_beams: int,
                    banned_ids: tuple[int, ...] = NEVER_GENERATED, mix_in: MixIn | None = None) -> list[list[int]]:
        """Exactly `budgets[i]` new words for prompt i, the most probable sequence a beam of `num_beams` finds
        (the first of `beam_hypotheses`)."""
        return [found[0] for found in self.beam_hypotheses(prompts, budgets, num_beams, banned_ids, mix_in)]

    @torch.no_grad()
    def beam_hypotheses(self, prompts: list[list[int]], budgets: list[int], num_beams: int,
                        banned_ids: tuple[int, ...] = NEVER_GENERATED,
                        mix_in: MixIn | None = None) -> list[list[list[int]]]:
        """Each prompt's final beam: up to `num_beams` sequences of exactly `budgets[i]` new words, most probable
        first (the n-best list; fewer when the prompt has fewer distinct continuations).

        The beams of every prompt run in one batch (prompt i's beams are rows i*k .. i*k + k - 1). <eos> is held
        back, as in `generate` with min = max budget, so all hypotheses of a prompt have the same length and
        their summed log-probabilities compare without a length penalty. A prompt whose budget is reached keeps
        its beams unchanged while longer ones go on. A beam of 1 is greedy decoding. `mix_in` as in `generate`.
        """
        was_training = self.training
        self.eval()
        device = self.output_bias.device
        n, k = len(prompts), num_beams
        log_probs, state = self.prompt_state(prompts)
        vocab = log_probs.shape[-1]
        log_probs = log_probs.repeat_interleave(k, dim=0)
        state = tuple(part.repeat_interleave(k, dim=1) for part in state)
        scores = torch.full((n, k), float("-inf"), device=device)
        scores[:, 0] = 0.0  # every beam starts as the same prompt: let only one of them expand at first
        budget = torch.tensor(budgets, device=device)
        steps = int(budget.max().item()) if n else 0
        tokens = torch.full((n * k, steps), PAD_ID, device=device)
        banned = torch.tensor([*banned_ids, EOS_ID], device=device, dtype=torch.long)
        first_row = torch.arange(n, device=device)[:, None] * k
        for step in range(steps):
            if mix_in is not None:
                log_probs = mix_in(log_probs, [prompts[row // k] + words[:step]
                                               for row, words in enumerate(tokens.tolist())])
            candidates = log_probs.clone()
            candidates[:, banned] = float("-inf")
            totals = (scores.reshape(n * k, 1) + candidates).reshape(n, k * vocab)
            best, index = totals.topk(k, dim=1)
            active = (step < budget)[:, None]
            source = torch.where(active, first_row + index // vocab, first_row + torch.arange(k, device=device))
            words = torch.where(active, index % vocab, PAD_ID).reshape(-1)
            scores = torch.where(active, best, scores)
            tokens = tokens[source.reshape(-1)]
            tokens[:, step] = words
            state = tuple(part[:, source.reshape(-1)] for part in state)
            out, state = self.hidden(words[:, None], state)
            log_probs = self.log_probs(out[:, -1])
        self.train(was_training)
        ranked = scores.argsort(dim=1, descending=True, stable=True)  # ties: the lower beam, as argmax takes
        rows, finite = tokens.tolist(), (scores > float("-inf")).tolist()
        return [[rows[first + beam][:length] for beam in order if finite[i][beam]]
                for i, (first, order, length) in enumerate(zip(first_row[:, 0].tolist(), ranked.tolist(), budgets))]

    def parameter_count(self) -> int:
        return parameter_count(self)


def pick_next_token(scores: torch.Tensor, generation: GenerationConfig,
                    generator: torch.Generator | None) -> torch.Tensor:
    """Greedy arg-max, or a seeded sample after temperature, top-k and top-p (nucleus) filtering."""
    if not generation.do_sample:
        return scores.argmax(dim=-1)
    scores = scores / max(generation.temperature, 1e-6)
    if generation.top_k > 0:
        kth = scores.topk(min(generation.top_k, scores.shape[-1]), dim=-1).values[:, -1:]
        scores = scores.masked_fill(scores < kth, float("-inf"))
    if generation.top_p < 1.0:
        sorted_scores, order = scores.sort(dim=-1, descending=True)
        cumulative = sorted_scores.softmax(dim=-1).cumsum(dim=-1)
        # Drop a word when the words before it already cover top_p; the best word always stays.
        drop_sorted = (cumulative - sorted_scores.softmax(dim=-1)) >= generation.top_p
        scores = scores.masked_fill(drop_sorted.scatter(1, order, drop_sorted), float("-inf"))
    return torch.multinomial(scores.softmax(dim=-1), 1, generator=generator).squeeze(1)


# --------------------------------------------------------------------------- checkpoints
def vocabulary_fingerprint(vocab: dict[str, int]) -> str:
    """A short hash of the word -> id table, stored with the weights to catch a mismatched tokenizer."""
    ordered = json.dumps(sorted(vocab.items(), key=lambda kv: kv[1]), ensure_ascii=False)
    return hashlib.sha256(ordered.encode()).hexdigest()[:16]


def save_model(model: LSTMLanguageModel, path: Path, vocab: dict[str, int],
               extra: dict[str, Any] | None = None) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    torch.save({"config": asdict(model.config), "state_dict": model.state_dict(),
                "vocab_fingerprint": vocabulary_fingerprint(vocab), **(extra or {})}, tmp)
    tmp.replace(path)  # never leave a half-written model behind


def load_model(path: Path, vocab: dict[str, int] | None = None,
               map_location: str | torch.device = "cpu") -> LSTMLanguageModel:
    """Load weights saved by `save_model`; with `vocab`, check they were trained on that vocabulary."""
    path = Path(path)
    if not path.exists():
        raise CheckpointError(f"{path}: model file not found; run `dvc repro train_lstm` to train it")
    try:
        checkpoint = torch.load(path, map_location=map_location, weights_only=True)
        saved = {**LEVERS_OFF, **checkpoint["config"]}  # a model saved before the regularisers trained without
        config = LSTMConfig(**{**saved, "softmax_cutoffs": tuple(saved["softmax_cutoffs"])})
        model = LSTMLanguageModel(config)
        model.load_state_dict(checkpoint["state_dict"])
    except CheckpointError:
        raise
    except Exception as exc:  # torch raises many types for a truncated or foreign file
        raise CheckpointError(f"{path}: not a readable LSTM checkpoint ({type(exc).__name__}: {exc}); "
                              f"retrain with `dvc repro train_lstm`") from exc
    if vocab is not None and checkpoint.get("vocab_fingerprint") != vocabulary_fingerprint(vocab):
        raise CheckpointError(f"{path}: the model was trained with another vocabulary than the tokenizer given; "
                              f"use the tokenizer saved beside it")
    model.eval()
    return model
