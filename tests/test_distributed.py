"""Data-parallel training: the sampler's shares, and `train_lstm` run by torchrun as 2 gloo processes on a tiny
model and a small real sample, against a one-process reference, through a failure and a resume."""
from __future__ import annotations

import os
import re
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest
import torch

from text_autocomplete.data_utils import DataConfig, clean_text, read_texts, write_texts
from text_autocomplete.evaluation import EvalConfig
from text_autocomplete.lstm_model import LSTMConfig, load_model
from text_autocomplete.lstm_train import TokenizerConfig, TrainConfig, Trainer, warmup_cosine
from text_autocomplete.next_token_dataset import BucketBatchSampler, collate_next_token
from text_autocomplete.params import load_config
from text_autocomplete.paths import CHECKPOINT, LSTM_DIR, MODEL_FILE, TRAIN_CSV, TRAIN_LIVE_DIR, VAL_CSV

from conftest import ROOT, TINY_PARAMS, project_config, write_params

TORCHRUN = str(Path(sys.executable).parent / "torchrun")


def test_ranks_get_disjoint_equal_shares_that_change_each_epoch():
    lengths = [3 + (i * 7) % 20 for i in range(1003)]
    whole = BucketBatchSampler(lengths, 10, seed=1, pool_batches=4)
    shares = [BucketBatchSampler(lengths, 10, seed=1, pool_batches=4, rank=r, world_size=3) for r in range(3)]
    for epoch in (0, 1):
        for sampler in [whole, *shares]:
            sampler.set_epoch(epoch)
        batches = list(whole)
        taken = [list(s) for s in shares]
        assert [len(t) for t in taken] == [len(s) for s in shares] == [len(batches) // 3] * 3
        assert sorted(b for t in taken for b in t) == sorted(batches[:len(batches) // 3 * 3])  # each batch once
        assert taken[1] == batches[1::3][:len(batches) // 3]
    assert list(shares[0]) != (shares[0].set_epoch(0) or list(shares[0]))  # reshuffled with the epoch seed
    with pytest.raises(ValueError, match="rank 3"):
        BucketBatchSampler(lengths, 10, rank=3, world_size=3)


# --------------------------------------------------------------------------- torchrun, 2 processes
AWD_LEVERS = {"weight_drop": 0.4, "embedding_dropout": 0.1, "locked_dropout": True}


def make_project(folder: Path, texts: list[str], **train) -> Path:
    """A project folder with data/train.csv, data/val.csv (cleaned real tweets) and tiny params."""
    cleaning = project_config(DataConfig, "data")
    pairs = [(clean_text(t, cleaning), t) for t in texts]
    pairs = [p for p in pairs if len(p[0].split()) >= 4]
    folder.mkdir(parents=True)
    write_texts(folder / TRAIN_CSV, pairs[:800])
    write_texts(folder / VAL_CSV, pairs[800:900])
    write_params(folder, lstm={**TINY_PARAMS["lstm"], "dropout": train.pop("dropout"), **train.pop("levers", {})},
                 train={**TINY_PARAMS["train"], "batch_size": 16, "val_rouge_texts": 8, "nproc": 2, **train})
    return folder


def torchrun(folder: Path, nproc: int = 2, fail_at: tuple[int, int] | None = None) -> subprocess.CompletedProcess:
    """The stage under torchrun; with `fail_at` (rank, step), that rank fails before that step."""
    script = [str(ROOT / "stages" / "train_lstm.py")] if fail_at is None else [
        str(ROOT / "tests" / "failing_train_lstm.py"), *map(str, fail_at)]
    return subprocess.run([TORCHRUN, "--standalone", f"--nproc_per_node={nproc}", *script],
                          cwd=folder, capture_output=True, text=True, timeout=300, check=False,
                          env={**os.environ, "PYTHONFAULTHANDLER": "1"})  # a crash prints its stack


def read_curve(folder: Path, name: str) -> list[str]:
    """The rows of one dvclive curve (a header, then one row per epoch)."""
    return (folder / TRAIN_LIVE_DIR / "plots" / "metrics" / f"{name}.tsv").read_text().splitlines()


def final_weights(folder: Path) -> dict[str, torch.Tensor]:
    return load_model(folder / LSTM_DIR / MODEL_FILE).state_dict()


@pytest.fixture(scope="module")
def sample(tweet_lines) -> list[str]:
    return [line for line in tweet_lines[:2000] if len(line.split()) >= 5][:1000]


def test_two_processes_equal_one_process_on_the_same_global_batches(tmp_path, sample):
    """2 processes, each its share of every step's two batches, gradients averaged = one process taking the
    same two batches per step and averaging their gradients (dropout off)."""
    folder = make_project(tmp_path / "ddp", sample, epochs=1, dropout=0.0)
    result = torchrun(folder)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "in each of 2 processes" in result.stdout

    # The reference: one process, the same seeded model, the global batch order, steps taken by hand.
    torch.set_num_threads(1)  # as torchrun gives each of its processes
    params_file = folder / "params.yaml"
    train = load_config(TrainConfig, "train", params_file)
    trainer = Trainer(read_texts(folder / TRAIN_CSV), read_texts(folder / VAL_CSV),
                      load_config(LSTMConfig, "lstm", params_file), load_config(TokenizerConfig, "tokenizer",
                                                                                params_file),
                      replace(train, nproc=1), load_config(EvalConfig, "eval", params_file),
                      load_config(DataConfig, "data", params_file), tmp_path / "reference", tmp_path / "ckpt.pt")
    model, dataset = trainer.model, trainer.train_loader.dataset
    batches = list(trainer.train_loader.batch_sampler)  # epoch 0, all batches, as one process sees them
    steps = len(batches) // 2
    optimizer = torch.optim.AdamW(model.parameters(), lr=train.lr, weight_decay=train.weight_decay, fused=True)
    parameters = list(model.parameters())
    for step in range(steps):
        grads = []
        for indices in batches[2 * step:2 * step + 2]:
            batch = collate_next_token([dataset[i] for i in indices])
            model.zero_grad(set_to_none=True)
            model.loss(batch.inputs, batch.targets, batch.mask).backward()
            grads.append([p.grad.clone() for p in parameters])
        for p, g0, g1 in zip(parameters, *grads):
            p.grad = (g0 + g1) / 2
        torch.nn.utils.clip_grad_norm_(parameters, train.grad_clip)
        for group in optimizer.param_groups:
            group["lr"] = train.lr * warmup_cosine(step, train.warmup_steps, train.epochs * steps)
        optimizer.step()
    trained = final_weights(folder)
    for name, tensor in model.state_dict().items():
        assert torch.allclose(tensor, trained[name], atol=1e-6, rtol=0), (name, (tensor - trained[name]).abs().max())


def test_a_failing_process_stops_all_and_the_run_resumes_to_the_uninterrupted_weights(tmp_path, sample):
    """Rank 1 fails in the second epoch: torchrun ends both processes with its message (no hang); one checkpoint
    and one dvclive log exist; the rerun resumes from the checkpoint to the uninterrupted run's weights. With
    AWD-LSTM's regularisers on, so that weight drop runs under DistributedDataParallel and the averaged weights
    (saved, and kept in the checkpoint) resume too."""
    awd = {"levers": AWD_LEVERS, "ema_decay": 0.9}
    straight = make_project(tmp_path / "straight", sample, epochs=2, dropout=0.1, **awd)
    result = torchrun(straight)
    assert result.returncode == 0, result.stderr[-3000:]
    steps_per_epoch = int(re.search(r"(\d+) batches/epoch", result.stdout).group(1))

    resumed = make_project(tmp_path / "resumed", sample, epochs=2, dropout=0.1, **awd)
    failed = torchrun(resumed, fail_at=(1, steps_per_epoch + 2))
    assert failed.returncode != 0
    assert f"rank 1: failure injected before step {steps_per_epoch + 2}" in failed.stdout + failed.stderr
    checkpoints = list((resumed / CHECKPOINT).parent.iterdir())
    assert checkpoints == [resumed / CHECKPOINT]  # one checkpoint, written by rank 0 alone
    assert len(read_curve(resumed, "train_loss")) == 2  # the first epoch, logged once

    rerun = torchrun(resumed)
    assert rerun.returncode == 0, rerun.stderr[-3000:]
    assert "resuming from" in rerun.stdout and rerun.stdout.count("resuming from") == 1
    live_files = sorted(p.relative_to(resumed) for p in resumed.rglob("metrics.json"))
    assert live_files == [Path(TRAIN_LIVE_DIR) / "metrics.json"]  # one dvclive log
    assert len(read_curve(resumed, "train_loss")) == 3  # a header and one row per epoch: nothing logged twice
    for curve in ("train_loss", "val_loss"):  # every epoch's figures, the resumed epoch's included
        assert read_curve(resumed, curve) == read_curve(straight, curve), curve
    expected = final_weights(straight)  # the best epoch's
    for name, tensor in final_weights(resumed).items():
        assert torch.allclose(tensor, expected[name], atol=1e-6, rtol=0), name
    assert not (resumed / CHECKPOINT).exists()
