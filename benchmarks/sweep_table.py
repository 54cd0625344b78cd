"""Turn `dvc exp show --json` into the sweep table: one row per experiment, its changed params, val metrics and
how its training went (best epoch from dvclive's summary; epochs run, parameters, seconds: results/train.json).

    python benchmarks/sweep_table.py base hidden512 ... > reports/lstm_sweep.csv   # the experiments named
"""
from __future__ import annotations

import json
import subprocess
import sys

import pandas as pd

from text_autocomplete.paths import TRAIN_LIVE_SUMMARY, TRAIN_RECORD

PARAMS = ("tokenizer.vocab_size", "lstm.embedding_dim", "lstm.hidden_dim", "lstm.num_layers", "lstm.dropout",
          "train.lr", "train.epochs")
METRICS = ("val_perplexity",)  # the best epoch's val figures, under `best` in dvclive's summary
RUN = ("val_loss", "epoch", "epochs_run", "parameters", "train_seconds")  # the best epoch's val_loss and epoch
# (dvclive's summary), the rest from results/train.json


def training_record(revision: str) -> dict:
    shown = subprocess.run(["git", "show", f"{revision}:{TRAIN_RECORD}"], capture_output=True,
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
                metrics = data.get("metrics", {}).get(TRAIN_LIVE_SUMMARY, {}).get("data", {}).get("best", {})
                name = revision.get("name") or exp.get("name")
                if not metrics or (wanted and name not in wanted):
                    continue
                run = {**training_record(revision["rev"]), **metrics}  # the best epoch's val_loss and perplexity
                rows.append({"experiment": name, **{p: params.get(p) for p in PARAMS},
                             **{key: run.get(key) for key in (*METRICS, *RUN)}})
    missing = wanted - {row["experiment"] for row in rows}
    if missing:  # e.g. an experiment from before dvclive's summary kept the best epoch under `best`
        sys.exit(f"no training metrics ({TRAIN_LIVE_SUMMARY}: best) for experiments {sorted(missing)}")
    if not rows:
        sys.exit("no finished experiments in `dvc exp show`")
    table = pd.DataFrame(rows).sort_values("val_perplexity")
    table.to_csv(sys.stdout, index=False, float_format="%.5g")


if __name__ == "__main__":
    main()
