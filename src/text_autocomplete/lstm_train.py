"""Train the LSTM: AdamW, warm-up + cosine LR, gradient clipping, early stopping on val loss.

Every epoch logs train/val loss, val perplexity and val ROUGE (by the shared evaluator) with
dvclive and prints a few completions. The best model is saved as soon as it appears; a
checkpoint of the latest epoch lets an interrupted run resume where it stopped.

Under torchrun with several processes (distributed.py) the model is wrapped in DistributedDataParallel: each
process trains on its share of every epoch's batches and the gradients are averaged, so one step takes
`train.nproc` batches and the schedule counts those steps. Rank 0 alone validates, logs, prints and writes;
the others receive its figures, so that all stop at the same epoch.
"""
from __future__ import annotations

import contextlib
import hashlib
import json
import math
import random
import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch.nn.parallel import DistributedDataParallel

from text_autocomplete.data_utils import DataConfig
from text_autocomplete.distributed import World, device_for, from_main, gathered
from text_autocomplete.errors import UserError
from text_autocomplete.evaluation import EvalConfig, evaluate, make_examples
from text_autocomplete.light_model import LSTMCompleter
from text_autocomplete.lstm_model import LSTMConfig, LSTMLanguageModel, save_model, vocabulary_fingerprint
from text_autocomplete.next_token_dataset import BucketBatchSampler, NextTokenDataset, make_loader
from text_autocomplete.paths import MODEL_FILE, TOKENIZER_FILE
from text_autocomplete.progress import progress
from text_autocomplete.tokenizer import encode_texts, train_tokenizer

# The epoch figures dvclive's summary (results/train_lstm/metrics.json, a declared DVC metric) also keeps for the
# best epoch, under `best`: dvclive itself keeps the last epoch's, so `dvc metrics diff` compares both across runs.
BEST_EPOCH_KEYS = ("epoch", "train_loss", "val_loss", "val_perplexity", "val_rouge1", "val_rouge2", "val_rougeL")


@dataclass
class TokenizerConfig:
    """The ``tokenizer`` section of params.yaml (the LSTM's word vocabulary)."""

    vocab_size: int
    min_frequency: int


@dataclass
class TrainConfig:
    """The ``train`` section of params.yaml."""

    epochs: int
    batch_size: int  # also the batch size of the val ROUGE pass
    lr: float
    weight_decay: float
    warmup_steps: int
    grad_clip: float
    patience: int  # epochs without a better val loss before stopping
    max_len: int  # tokens per text, <bos>/<eos> included
    seed: int
    val_rouge_texts: int  # fixed val subset scored every epoch
    show_examples: int
    num_threads: int  # 0 = torch's default
    bucket: bool  # length-bucketed batches (False: plain random batches)
    nproc: int  # processes training together (torchrun, dvc.yaml); batch_size is per process
    ema_decay: float  # 0 = off; else the weights validated, saved and shipped are this moving average of them
    max_texts: int  # 0 = all of train; else the first n of a seeded shuffle (sweeps at reduced cost)


def train_share(texts: list[str], n: int, seed: int) -> list[str]:
    """The first `n` texts of one seeded shuffle of `texts` (all of them, in order, for n = 0): shares of
    several sizes are nested, each holding the smaller ones."""
    if not n or n >= len(texts):
        return texts
    return [texts[i] for i in np.random.default_rng(seed).permutation(len(texts))[:n]]


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def warmup_cosine(step: int, warmup: int, total: int) -> float:
    """LR multiplier: linear warm-up, then cosine decay to 10% by the last step."""
    if step < warmup:
        return (step + 1) / warmup
    progress = min(1.0, (step - warmup) / max(1, total - warmup))
    return 0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * progress))


class WeightAverage:
    """An exponential moving average of a model's weights, updated after every optimiser step: a cheap stand-in
    for AWD-LSTM's averaged SGD, whose averaged weights generalise better than the last step's. The decay warms
    up, min(decay, (1 + t) / (10 + t)) at update t, so the first steps' random weights fade out quickly."""

    def __init__(self, model: torch.nn.Module, decay: float):
        self.decay, self.updates = decay, 0
        self.averaged = [p.detach().clone() for p in model.parameters()]

    def update(self, model: torch.nn.Module) -> None:
        self.updates += 1
        decay = min(self.decay, (1 + self.updates) / (10 + self.updates))
        torch._foreach_lerp_(self.averaged, [p.detach() for p in model.parameters()], 1 - decay)

    @contextlib.contextmanager
    def swapped_in(self, model: torch.nn.Module):
        """The model holds the averaged weights inside the block and its own again after it."""
        own = [p.detach().clone() for p in model.parameters()]
        with torch.no_grad():
            for p, averaged in zip(model.parameters(), self.averaged):
                p.copy_(averaged)
        try:
            yield model
        finally:
            with torch.no_grad():
                for p, kept in zip(model.parameters(), own):
                    p.copy_(kept)

    def state_dict(self) -> dict[str, Any]:
        return {"updates": self.updates, "averaged": self.averaged}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.updates = state["updates"]
        for mine, saved in zip(self.averaged, state["averaged"]):
            mine.copy_(saved)


class LossOf(torch.nn.Module):
    """The model's training loss as a module's forward: DistributedDataParallel averages the gradients of what
    goes through forward."""

    def __init__(self, model: LSTMLanguageModel):
        super().__init__()
        self.model = model

    def forward(self, inputs: torch.Tensor, targets: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        return self.model.loss(inputs, targets, mask)


@torch.no_grad()
def estimate_loss(model: LSTMLanguageModel, loader, device: torch.device) -> float:
    """Mean NLL per real target token over a whole loader (eval mode, so no dropout)."""
    was_training = model.training
    model.eval()
    total, count = 0.0, 0
    for batch in progress(loader, desc="val loss", unit="batch"):
        batch = batch.to(device)
        n = int(batch.mask.sum())
        total += float(model.loss(batch.inputs, batch.targets, batch.mask)) * n
        count += n
    model.train(was_training)
    return total / max(count, 1)


def run_fingerprint(*parts: Any) -> str:
    """Identifies a training run (configs + data), so a checkpoint only resumes the run it came from."""
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()[:16]


class Trainer:
    """Owns the model, optimiser and schedule of one run; `fit` trains it to the end or to early stopping."""

    def __init__(self, train_texts: list[str], val_texts: list[str], lstm: LSTMConfig, tok: TokenizerConfig,
                 train: TrainConfig, eval_config: EvalConfig, cleaning: DataConfig, out_dir: Path,
                 checkpoint_path: Path, world: World | None = None):
        world = world or World()
        if train.nproc != world.size:
            raise UserError(f"params.yaml train.nproc={train.nproc}, but {world.size} process(es) run: start the "
                            f"stage through torchrun --nproc_per_node={train.nproc} (`dvc repro` does)")
        if world.distributed and not train.bucket:
            raise UserError("params.yaml train.bucket: false (plain random batches) trains in one process only; "
                            "set train.nproc: 1")
        seed_everything(train.seed)  # every process builds the same model
        if train.num_threads:
            torch.set_num_threads(train.num_threads)
        self.config, self.eval_config, self.cleaning, self.world = train, eval_config, cleaning, world
        self.out_dir, self.checkpoint_path = Path(out_dir), Path(checkpoint_path)
        self.device = device_for(world)
        self.tokenizer = train_tokenizer(train_texts, tok.vocab_size, tok.min_frequency)
        self.vocab = self.tokenizer.get_vocab()
        self.lstm_config = replace(lstm, vocab_size=self.tokenizer.get_vocab_size())
        self.train_loader = make_loader(
            NextTokenDataset(encode_texts(self.tokenizer, train_texts), train.max_len),
            train.batch_size, seed=train.seed, bucket=train.bucket, rank=world.rank, world_size=world.size)
        self.val_loader = make_loader(
            NextTokenDataset(encode_texts(self.tokenizer, val_texts), train.max_len),
            train.batch_size, seed=train.seed, shuffle=False)
        self.val_examples = make_examples(val_texts)[:train.val_rouge_texts]
        self.model = LSTMLanguageModel(self.lstm_config).to(self.device)
        if world.rank:  # its own dropout masks (rank 0 keeps the one-process run's random stream)
            torch.manual_seed(train.seed + world.rank)
        device_ids = [self.device.index] if self.device.type == "cuda" else None
        self.loss_of = (DistributedDataParallel(LossOf(self.model), device_ids=device_ids) if world.distributed
                        else LossOf(self.model))
        self.optimizer = torch.optim.AdamW(self.model.parameters(), lr=train.lr, weight_decay=train.weight_decay,
                                           fused=True)
        total_steps = train.epochs * len(self.train_loader)
        self.scheduler = torch.optim.lr_scheduler.LambdaLR(
            self.optimizer, lambda step: warmup_cosine(step, train.warmup_steps, total_steps))
        self.fingerprint = run_fingerprint(asdict(self.lstm_config), asdict(train), vocabulary_fingerprint(self.vocab),
                                           len(train_texts), train_texts[:50])
        self.average = WeightAverage(self.model, train.ema_decay) if train.ema_decay else None
        self.history: list[dict[str, float]] = []
        self.best_val_loss = float("inf")
        self.epochs_without_improvement = 0

    def before_step(self, step: int) -> None:
        """Called before each optimiser step with the global step count; nothing here (the tests make a process
        fail at a chosen step by replacing it)."""

    # ----------------------------------------------------------------- one epoch
    def train_epoch(self, epoch: int) -> float:
        """One epoch; the train loss returned is this process's (rank 0's is logged)."""
        self.model.train()
        if isinstance(self.train_loader.batch_sampler, BucketBatchSampler):
            self.train_loader.batch_sampler.set_epoch(epoch)  # a new seeded batch order every epoch
        use_amp = self.device.type == "cuda"
        total, count = 0.0, 0
        main = self.world.is_main
        desc = f"epoch {epoch + 1}/{self.config.epochs}"
        bar = progress(self.train_loader, desc=desc, unit="batch") if main else None  # one bar, rank 0's
        for batch in bar if main else self.train_loader:
            self.before_step(self.scheduler.last_epoch)
            batch = batch.to(self.device)
            with torch.autocast(self.device.type, dtype=torch.bfloat16, enabled=use_amp):
                loss = self.loss_of(batch.inputs, batch.targets, batch.mask)
            self.optimizer.zero_grad(set_to_none=True)
            loss.backward()  # under DistributedDataParallel, also averages the gradients of all processes
            torch.nn.utils.clip_grad_norm_(self.model.parameters(), self.config.grad_clip)
            self.optimizer.step()
            self.scheduler.step()
            if self.average:
                self.average.update(self.model)
            n = int(batch.mask.sum())
            total += loss.item() * n
            count += n
            if main:
                bar.set_postfix(loss=f"{total / count:.3f}", refresh=False)
        return total / max(count, 1)

    def validate(self) -> tuple[dict[str, float], list[dict[str, str]]]:
        val_loss = estimate_loss(self.model, self.val_loader, self.device)
        completer = LSTMCompleter(self.model, self.tokenizer)
        result = evaluate(completer, self.val_examples, self.eval_config, self.config.batch_size, self.cleaning,
                          intervals=False)
        metrics = {"val_loss": val_loss, "val_perplexity": math.exp(min(val_loss, 50)),
                   **{f"val_{k}": result.metrics[k] for k in ("rouge1", "rouge2", "rougeL")}}
        return metrics, result.example_rows(self.config.show_examples, self.config.seed)

    def shipped_weights(self):
        """Inside the block the model holds the weights that are validated and saved: the averaged ones when
        train.ema_decay is set, else its own."""
        return self.average.swapped_in(self.model) if self.average else contextlib.nullcontext()

    # ----------------------------------------------------------------- checkpoints
    def save_checkpoint(self, epoch: int) -> None:
        """Rank 0 writes the one checkpoint: the weights and optimiser are the same in every process, the random
        streams (dropout) are gathered from each."""
        rng_by_rank = gathered(torch.get_rng_state(), self.world)
        if not self.world.is_main:
            return
        state = {"fingerprint": self.fingerprint, "epoch": epoch, "model": self.model.state_dict(),
                 "optimizer": self.optimizer.state_dict(), "scheduler": self.scheduler.state_dict(),
                 "history": self.history, "best_val_loss": self.best_val_loss,
                 "epochs_without_improvement": self.epochs_without_improvement,
                 "average": self.average.state_dict() if self.average else None,
                 "torch_rng_by_rank": rng_by_rank}
        self.checkpoint_path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.checkpoint_path.with_suffix(".tmp")
        torch.save(state, tmp)
        tmp.replace(self.checkpoint_path)

    def try_resume(self) -> int:
        """Load the checkpoint of this very run if there is one; return the epoch to start from. Rank 0 decides
        (and alone prints why not); the other processes then load the same file."""
        state = self._usable_checkpoint() if self.world.is_main else None
        if not from_main(state is not None, self.world):
            return 0
        if state is None:
            state = torch.load(self.checkpoint_path, map_location="cpu", weights_only=False)
        self.model.load_state_dict(state["model"])
        self.optimizer.load_state_dict(state["optimizer"])
        self.scheduler.load_state_dict(state["scheduler"])
        self.history = state["history"]
        self.best_val_loss = state["best_val_loss"]
        self.epochs_without_improvement = state["epochs_without_improvement"]
        if self.average:
            self.average.load_state_dict(state["average"])
        torch.set_rng_state(state["torch_rng_by_rank"][self.world.rank])
        if self.world.is_main:
            print(f"resuming from {self.checkpoint_path} after epoch {state['epoch'] + 1}")
        return state["epoch"] + 1

    def _usable_checkpoint(self) -> dict[str, Any] | None:
        """The checkpoint's contents when it exists, reads, and was written by this very run (same fingerprint)."""
        if not self.checkpoint_path.exists():
            return None
        try:
            state = torch.load(self.checkpoint_path, map_location="cpu", weights_only=False)
        except Exception as exc:  # noqa: BLE001 - a damaged checkpoint only costs the progress it held
            print(f"warning: {self.checkpoint_path} is unreadable ({exc}); training from scratch")
            return None
        if state.get("fingerprint") != self.fingerprint:
            print(f"{self.checkpoint_path} belongs to another run (params or data changed); training from scratch")
            return None
        return state

    # ----------------------------------------------------------------- the loop
    def fit(self, live) -> dict[str, Any]:
        """Train, logging to the dvclive `live` (None in the processes other than rank 0), whose summary also gets
        the best epoch's figures; return a record of the run (epochs run, parameters, vocabulary, seconds)."""
        main = self.world.is_main
        if main:
            self.out_dir.mkdir(parents=True, exist_ok=True)
            self.tokenizer.save(str(self.out_dir / TOKENIZER_FILE))
        start_epoch = self.try_resume()
        if main:
            for past in self.history:  # a resumed run re-logs what the interrupted one had logged
                _log_epoch(live, past)
            print(f"model: {self.model.parameter_count():,} parameters, vocab {self.lstm_config.vocab_size}, "
                  f"{len(self.train_loader)} batches/epoch on {self.device}"
                  + (f" in each of {self.world.size} processes" if self.world.distributed else ""))
        for epoch in range(start_epoch, self.config.epochs):
            if self.epochs_without_improvement >= self.config.patience:
                break
            started = time.perf_counter()
            train_loss = self.train_epoch(epoch)
            metrics = examples = None
            if main:  # validated once, by rank 0; the others wait for its figures
                with self.shipped_weights():
                    metrics, examples = self.validate()
                metrics = {"epoch": epoch + 1, "train_loss": train_loss, **metrics,
                           "lr": self.scheduler.get_last_lr()[0], "epoch_seconds": time.perf_counter() - started}
                _log_epoch(live, metrics)
                _print_epoch(metrics, examples)
            metrics = from_main(metrics, self.world)
            self.history.append(metrics)
            if metrics["val_loss"] < self.best_val_loss:
                self.best_val_loss = metrics["val_loss"]
                self.epochs_without_improvement = 0
                if main:
                    with self.shipped_weights():
                        save_model(self.model, self.out_dir / MODEL_FILE, self.vocab,
                                   {"epoch": epoch + 1, "val_loss": metrics["val_loss"]})
            else:
                self.epochs_without_improvement += 1
            self.save_checkpoint(epoch)
        if main:
            self.checkpoint_path.unlink(missing_ok=True)  # finished: nothing to resume
        # DistributedDataParallel keeps the process group alive: freed now, the group ends when it is left
        # (distributed.leave) and not at the interpreter's exit, where gloo's teardown can crash (SIGSEGV in CI).
        self.loss_of = LossOf(self.model)
        best = min(self.history, key=lambda m: m["val_loss"])
        if main:
            live.summary["best"] = {k: round(float(best[k]), 5) if k != "epoch" else int(best[k])
                                    for k in BEST_EPOCH_KEYS}
        return {"epochs_run": len(self.history),  # the best epoch: dvclive's summary, `best.epoch`
                "parameters": self.model.parameter_count(), "vocab_size": self.lstm_config.vocab_size,
                "train_seconds": round(sum(m["epoch_seconds"] for m in self.history), 1)}


def _log_epoch(live, metrics: dict[str, float]) -> None:
    live.step = int(metrics["epoch"])  # dvclive's step is the epoch (from 1), the x axis of `dvc plots`
    for name, value in metrics.items():
        if name != "epoch":
            live.log_metric(name, round(float(value), 5))
    live.next_step()


def _print_epoch(metrics: dict[str, float], examples: list[dict[str, str]]) -> None:
    print(f"epoch {metrics['epoch']}: train_loss {metrics['train_loss']:.4f}  val_loss {metrics['val_loss']:.4f}  "
          f"ppl {metrics['val_perplexity']:.1f}  val ROUGE-1/2/L {metrics['val_rouge1']:.4f} / "
          f"{metrics['val_rouge2']:.4f} / {metrics['val_rougeL']:.4f}  ({metrics['epoch_seconds']:.0f}s)")
    for row in examples:
        print(f"    {row['prompt']} [{row['target']}] -> {row['completion']}")
