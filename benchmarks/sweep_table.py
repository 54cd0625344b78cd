"""Turn `dvc exp show --json` into the sweep table: one row per experiment, its changed params and val metrics.

    python benchmarks/sweep_table.py > reports/lstm_sweep.csv
"""
from __future__ import annotations

import json
import subprocess
import sys

import pandas as pd

from text_autocomplete.lstm_train import TRAIN_METRIC_KEYS
from text_autocomplete.paths import TRAIN_RUN, metrics_file

PARAMS = ("tokenizer.vocab_size", "lstm.embedding_dim", "lstm.hidden_dim", "lstm.num_layers", "lstm.dropout",
          "train.lr", "train.epochs")
METRICS = TRAIN_METRIC_KEYS  # the best epoch's val figures, as metrics/train.yml holds them


def flatten(tree: dict, prefix: str = "") -> dict:
    flat = {}
    for key, value in tree.items():
        if isinstance(value, dict):
            flat.update(flatten(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = value
    return flat


def main() -> None:
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
                if not metrics:
                    continue
                rows.append({"experiment": revision.get("name") or exp.get("name"),
                             **{p: params.get(p) for p in PARAMS}, **{m: metrics.get(m) for m in METRICS}})
    if not rows:
        sys.exit("no finished experiments in `dvc exp show`")
    table = pd.DataFrame(rows).sort_values("val_loss")
    table.to_csv(sys.stdout, index=False, float_format="%.5g")


if __name__ == "__main__":
    main()
