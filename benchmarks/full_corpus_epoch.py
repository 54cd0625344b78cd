"""One training epoch at the full corpus's size, through the project's own trainer, on a GPU when there is one
(bf16 autocast) or on the CPU: target tokens/s, the epoch's training time and the val loss after it.

    python benchmarks/full_corpus_epoch.py [--tweets N] [--cpu]

The training set is data/train.csv repeated (in order) to --tweets texts, by default the train split of the
full 1.6M-tweet corpus after cleaning and an 80% split (as measured in reports/benchmarks/full_corpus_data.json);
val is data/val.csv. Sizes and optimisation are params.yaml's, one epoch. --cpu hides the GPU, so that the same
data on both gives the val-loss comparison of the bf16 GPU path with fp32 on the CPU. Writes
reports/benchmarks/full_corpus_epoch_<device>.json.
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

if "--cpu" in sys.argv:  # before torch looks for a GPU
    os.environ["CUDA_VISIBLE_DEVICES"] = ""

import torch

from text_autocomplete.data_utils import DataConfig, read_texts
from text_autocomplete.evaluation import EvalConfig
from text_autocomplete.lstm_model import LSTMConfig
from text_autocomplete.lstm_train import TokenizerConfig, TrainConfig, Trainer, estimate_loss
from text_autocomplete.params import load_config
from text_autocomplete.paths import TRAIN_CSV, VAL_CSV

from _results import write_results
from full_corpus_data import full_corpus_train_texts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tweets", type=int, default=full_corpus_train_texts(),
                        help="default: the full corpus's train split, from reports/benchmarks/full_corpus_data.json")
    parser.add_argument("--cpu", action="store_true", help="train on the CPU even where there is a GPU")
    args = parser.parse_args()
    sample, val_texts = read_texts(TRAIN_CSV), read_texts(VAL_CSV)
    train_texts = [sample[i % len(sample)] for i in range(args.tweets)]
    with tempfile.TemporaryDirectory() as folder:
        trainer = Trainer(train_texts, val_texts, load_config(LSTMConfig, "lstm"),
                          load_config(TokenizerConfig, "tokenizer"), replace(load_config(TrainConfig, "train"), epochs=1),
                          load_config(EvalConfig, "eval"), load_config(DataConfig, "data"), Path(folder) / "model",
                          Path(folder) / "checkpoint.pt")
        tokens = sum(len(s) - 1 for s in trainer.train_loader.dataset.sequences)  # targets: all but each <bos>
        device = trainer.device
        name = torch.cuda.get_device_name(device) if device.type == "cuda" else "CPU"
        print(f"{args.tweets:,} training texts ({tokens:,} target tokens), {len(trainer.train_loader):,} batches of "
              f"{trainer.config.batch_size}, on {name}{' with bf16 autocast' if device.type == 'cuda' else ''}")
        began = time.perf_counter()
        train_loss = trainer.train_epoch(0)
        if device.type == "cuda":
            torch.cuda.synchronize()
        seconds = time.perf_counter() - began
        with trainer.shipped_weights():  # the averaged weights, when train.ema_decay averages them
            val_loss = estimate_loss(trainer.model, trainer.val_loader, device)
    figures = {"device": name, "bf16": device.type == "cuda", "tweets": args.tweets, "target_tokens": tokens,
               "epoch_seconds": round(seconds, 1), "target_tokens_per_s": round(tokens / seconds),
               "train_loss": round(train_loss, 5), "val_loss_after_one_epoch": round(val_loss, 5)}
    print(f"one epoch: {seconds:.0f} s of training, {figures['target_tokens_per_s']:,} target tokens/s, "
          f"val loss after it {val_loss:.4f}")
    write_results(f"full_corpus_epoch_{device.type}", figures)


if __name__ == "__main__":
    main()
