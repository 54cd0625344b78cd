"""The capacity arm's widest LSTM trained on a GPU: the GPU training path run once, beside the same run on the CPU.

    python benchmarks/capacity_cuda.py [--hidden 1536]

data_scaling.py's capacity run at all of train (train.seed, `--hidden` units projected to lstm.embedding_dim),
trained by the same code (data_scaling.train_on, the project's Trainer) on CUDA, where the Trainer trains with bf16
autocast, then scored by the same code on the same val texts. Paired over those texts (eval.bootstrap_samples,
eval.confidence, the resamples data_scaling.py draws) against:
- the CPU run of that very shape, seed and data (fp32, kept in reports/benchmarks/data_scaling_runs/): whether the
  bf16 GPU path trains a model of the same quality, read beside what another seed of the recipe moves;
- the recipe's shape at the same seed, as data_scaling.py pairs its capacity arm.
Writes reports/benchmarks/capacity_cuda.json, with each epoch's seconds and val loss. benchmarks/gpu_check.sh
runs it with the full-corpus epoch on a lent GPU machine.
"""
from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from text_autocomplete.data_utils import DataConfig, read_texts
from text_autocomplete.evaluation import EvalConfig, load_examples
from text_autocomplete.lstm_train import TrainConfig
from text_autocomplete.params import load_config
from text_autocomplete.paths import TRAIN_CSV, VAL_CSV

from _results import write_results
from data_scaling import (CAPACITY_HIDDEN, METRICS, MODELS, committed_decoding, kept_record, paired_gain,
                          per_text_scores, recipe_hash, run_file, text_resamples, train_on)

EPOCH_FIGURES = ("train_loss", "val_loss", "val_perplexity", "val_rouge1", "epoch_seconds")


class EpochLog:
    """Takes the Trainer's dvclive calls (step, log_metric, next_step, summary) and keeps each epoch's figures for
    the JSON: a GPU machine has no DVC project for dvclive to log into."""

    def __init__(self):
        self.step, self.summary, self.epochs, self._row = 0, {}, [], {}

    def log_metric(self, name: str, value: float) -> None:
        self._row[name] = value

    def next_step(self) -> None:
        self.epochs.append({"epoch": self.step, **{k: self._row[k] for k in EPOCH_FIGURES}})
        self._row = {}


def kept_run(share: int, seed: int, hidden: int | None, kept: str) -> dict:
    """A run data_scaling.py kept under today's recipe and decoding; its absence is an error, not a retraining."""
    path = run_file(share, seed, hidden)
    if (record := kept_record(path, kept)) is None:
        raise SystemExit(f"{path}: {'kept under another recipe' if path.exists() else 'missing'}; run "
                         f"benchmarks/data_scaling.py first (the CPU runs this one is paired with)")
    return record


def means(record: dict) -> dict:
    return {model: {m: round(float(np.mean(record["scores"][model][m])), 5) for m in METRICS} for model in MODELS}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--hidden", type=int, default=max(CAPACITY_HIDDEN), help="LSTM units (a capacity arm width)")
    args = parser.parse_args()
    if not torch.cuda.is_available():
        raise SystemExit("no CUDA device: this benchmark is the GPU path (benchmarks/data_scaling.py trains the same "
                         "run on the CPU)")
    config = load_config(EvalConfig, "eval")
    decoding = committed_decoding()
    kept = recipe_hash(decoding)
    seed = load_config(TrainConfig, "train").seed
    cpu, recipe_shape, other_seed = (kept_run(1, seed, args.hidden, kept), kept_run(1, seed, None, kept),
                                     kept_run(1, seed + 1, None, kept))
    train_texts, val_texts = read_texts(TRAIN_CSV), read_texts(VAL_CSV)
    examples = load_examples(None, load_config(DataConfig, "data"), config, VAL_CSV)
    log = EpochLog()
    began = time.perf_counter()
    with tempfile.TemporaryDirectory() as folder:
        # the Trainer picks the GPU itself (distributed.device_for)
        shipped, tokenizer = train_on(train_texts, val_texts, Path(folder), seed, args.hidden, live=log)
    trained = time.perf_counter()
    cuda = {"scores": per_text_scores(shipped, tokenizer, examples, decoding)}
    scored = time.perf_counter()
    n_texts = {m: len(cpu["scores"]["mixture"][m]) for m in METRICS}
    if n_texts != {m: len(cuda["scores"]["mixture"][m]) for m in METRICS}:
        raise SystemExit(f"{run_file(1, seed, args.hidden)}: scored on {n_texts} val texts, the parameters now give "
                         f"another count (eval or lstm_eval changed): run benchmarks/data_scaling.py again")
    rows = text_resamples(np.random.default_rng(config.seed), n_texts, config.bootstrap_samples)
    figures = {"device": torch.cuda.get_device_name(0), "bf16": True, "recipe_hash": kept, "hidden": args.hidden,
               "seed": seed, "train_texts": len(train_texts), "parameters": shipped.lstm.parameter_count(),
               "ngram_weight": {"cuda": shipped.ngram_weight, "cpu": cpu["ngram_weight"]},
               "epochs": [{k: round(float(v), 5) for k, v in e.items()} for e in log.epochs],
               # the LSTM's epochs, then the n-gram's fit and its mixture weight; then the val scoring (on the CPU)
               "train_seconds": round(trained - began, 1), "score_seconds": round(scored - trained, 1),
               "cpu_run_seconds": cpu["seconds"], "cpu_run_threads": cpu["threads"],
               "val": {"cuda": means(cuda), "cpu": means(cpu)},
               "cuda_vs_cpu": paired_gain(cuda, cpu, rows, config.confidence),
               "cuda_vs_recipe_shape": paired_gain(cuda, recipe_shape, rows, config.confidence),
               "other_seed_vs_recipe_shape": paired_gain(other_seed, recipe_shape, rows, config.confidence),
               "confidence": config.confidence, "bootstrap_samples": config.bootstrap_samples}
    write_results("capacity_cuda", figures)


if __name__ == "__main__":
    main()
