"""Turn `dvc exp show --json` into the sweep table: one row per experiment, its changed params, val metrics and
how its training went (best epoch, epochs run, parameters, seconds: results/train.json in the experiment's commit).

    python benchmarks/sweep_table.py base hidden512 ... > reports/lstm_sweep.csv   # the experiments named
"""
from __future__ import annotations

import json
import subprocess
import sys

import pandas as pd

from text_autocomplete.lstm_train import TRAIN_METRIC_KEYS
from text_autocomplete.paths import TRAIN_RUN, metrics_file, results_file

PARAMS = ("tokenizer.vocab_size", "lstm.embedding_dim", "lstm.hidden_dim", "lstm.num_layers", "lstm.dropout",
          "train.lr", "train.epochs")
METRICS = TRAIN_METRIC_KEYS  # the best epoch's val figures, as metrics/train.yml holds them
RUN = ("val_loss", "best_epoch", "epochs_run", "parameters", "train_seconds")  # from results/train.json


def training_record(revision: str) -> dict:
    shown = subprocess.run(["git", "show", f"{revision}:{results_file(TRAIN_RUN).as_posix()}"], capture_output=True,
                           text=True, check=True).stdout
    return json.loads(shown)


def flatten(tree: dict, prefix: str = "") -> dict:
    flat = {}
    for key, value in tree.items():
        if isinstance(value, dict):
            flat.update(flatten(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = value
    return flat


def main() -> None:
    wanted = set(sys.argv[1:])
    shown = json.loads(subprocess.run(["dvc", "exp", "show", "--all-commits", "--json"], capture_output=True, text=True,
                                      check=True).stdout)
    rows = []
    for commit in shown:
        for exp in commit.get("experiments") or []:
            for revision in exp.get("revs", []):
                if revision.get("error"):  # a failed run has no metrics of its own
                    continue
                data = revision.get("data") or {}
                params = flatten(data.get("params", {}).get("params.yaml", {}).get("data", {}))
                metrics = data.get("metrics", {}).get(metrics_file(TRAIN_RUN).as_posix(), {}).get("data", {})
                name = revision.get("name") or exp.get("name")
                if not metrics or (wanted and name not in wanted):
                    continue
                run = {**training_record(revision["rev"]), **metrics}  # (runs before val_loss left metrics/)
                rows.append({"experiment": name, **{p: params.get(p) for p in PARAMS},
                             **{key: run.get(key) for key in (*METRICS, *RUN)}})
    if not rows:
        sys.exit("no finished experiments in `dvc exp show`")
    table = pd.DataFrame(rows).sort_values("val_perplexity")
    table.to_csv(sys.stdout, index=False, float_format="%.5g")


if __name__ == "__main__":
    main()
