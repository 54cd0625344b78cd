"""Turn `dvc exp show --json` into the sweep table: one row per experiment, its changed params, how its training
went (best epoch from dvclive's summary; epochs run, parameters, seconds: results/train.json) and, with --task,
its models scored on val by the task's own metrics, which compare across vocabularies (perplexity does not):

- next-word top-3 at the 3/4 cut (eval.max_texts val texts), the LSTM alone and the shipped mixture;
- keystroke savings of the keyboard simulation over the first lstm_eval.sweep_texts of those texts, both models;
- val ROUGE-1 of greedy completions (training's own per-epoch figure, 500 val texts, the best epoch's);
- each against the first experiment named (the sweep's base): the paired difference of top-3 and keystroke savings
  over the same texts, the LSTM alone's and the mixture's, with its seeded bootstrap interval
  (eval.bootstrap_samples, eval.confidence). Tables written before the mixture's pairs were added
  (lstm_sweep_awd.csv, lstm_sweep_confirm.csv) have the LSTM alone's only.

Each experiment's models are read from the DVC cache by the hashes in its dvc.lock.

    python benchmarks/sweep_table.py base hidden512 ... > reports/lstm_sweep.csv           # the experiments named
    python benchmarks/sweep_table.py --task base awd ... > reports/lstm_sweep_awd.csv      # and scored on val
    python benchmarks/sweep_table.py --task git:1719f15 confirm ...                          # a commit's run first
"""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

from text_autocomplete.comparison import paired_ratio_difference
from text_autocomplete.data_utils import DataConfig
from text_autocomplete.eval_lstm import LSTMEvalConfig
from text_autocomplete.evaluation import EvalConfig, first_word_hits, load_examples, next_word_candidates, \
    paired_difference
from text_autocomplete.keyboard import simulate
from text_autocomplete.light_model import LSTMCompleter, load_light_model
from text_autocomplete.measures import TAPS_SAVED, TAPS_WITHOUT
from text_autocomplete.mixture import LSTMDistributions
from text_autocomplete.params import load_config
from text_autocomplete.paths import LSTM_DIR, TRAIN_LIVE_SUMMARY, TRAIN_RECORD, VAL_CSV

PARAMS = ("tokenizer.vocab_size", "tokenizer.min_frequency", "lstm.embedding_dim", "lstm.hidden_dim",
          "lstm.num_layers", "lstm.dropout", "lstm.embedding_dropout", "lstm.locked_dropout", "lstm.weight_drop",
          "train.ema_decay", "train.lr", "train.epochs", "train.max_texts")
METRICS = ("val_perplexity", "val_rouge1")  # the best epoch's val figures, under `best` in dvclive's summary
RUN = ("val_loss", "epoch", "epochs_run", "parameters", "train_seconds")  # the best epoch's val_loss and epoch
# (dvclive's summary), the rest from results/train.json
CACHE = Path(".dvc/cache/files/md5")


def git_show(revision: str, path: str) -> str:
    return subprocess.run(["git", "show", f"{revision}:{path}"], capture_output=True, text=True, check=True).stdout


def flatten(tree: dict, prefix: str = "") -> dict:
    flat = {}
    for key, value in tree.items():
        if isinstance(value, dict):
            flat.update(flatten(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = value
    return flat


def table_row(name: str, revision: str, params: dict, best: dict) -> dict:
    """One run's row: its params, its best epoch's figures (dvclive's summary) and its training record."""
    run = {**json.loads(git_show(revision, TRAIN_RECORD)), **best}
    return {"experiment": name, "rev": revision, **{p: params.get(p) for p in PARAMS},
            **{key: run.get(key) for key in (*METRICS, *RUN)}}


def experiments(wanted: list[str]) -> list[dict]:
    """The finished experiments named, in the order named: name, revision, params and training figures."""
    shown = json.loads(subprocess.run(["dvc", "exp", "show", "--all-commits", "--json"], capture_output=True,
                                      text=True, check=True).stdout)
    found = {}
    for commit in shown:
        for exp in commit.get("experiments") or []:
            for revision in exp.get("revs", []):
                if revision.get("error"):  # a failed run has no metrics of its own
                    continue
                data = revision.get("data") or {}
                params = flatten(data.get("params", {}).get("params.yaml", {}).get("data", {}))
                metrics = data.get("metrics", {}).get(TRAIN_LIVE_SUMMARY, {}).get("data", {}).get("best", {})
                name = revision.get("name") or exp.get("name")
                if metrics and (not wanted or name in wanted):
                    found[name] = table_row(name, revision["rev"], params, metrics)
    for name in wanted:  # git:<revision>, a committed run (its params, metrics and models), e.g. the base
        if name.startswith("git:"):
            revision = subprocess.run(["git", "rev-parse", name[4:]], capture_output=True, text=True,
                                      check=True).stdout.strip()
            found[name] = table_row(f"{revision[:7]} (committed)", revision,
                                    flatten(yaml.safe_load(git_show(revision, "params.yaml"))),
                                    json.loads(git_show(revision, TRAIN_LIVE_SUMMARY))["best"])
    missing = [name for name in wanted if name not in found]
    if missing:  # e.g. an experiment from before dvclive's summary kept the best epoch under `best`
        sys.exit(f"no training metrics ({TRAIN_LIVE_SUMMARY}: best) for experiments {missing}")
    if not found:
        sys.exit("no finished experiments in `dvc exp show`")
    return [found[name] for name in wanted] if wanted else list(found.values())


def model_folder(revision: str, folder: Path) -> Path:
    """The experiment's models/lstm, copied out of the DVC cache by the directory hash in its dvc.lock."""
    lock = yaml.safe_load(git_show(revision, "dvc.lock"))
    (out,) = [o for o in lock["stages"]["train_lstm"]["outs"] if o["path"] == LSTM_DIR]
    listing = json.loads((CACHE / out["md5"][:2] / out["md5"][2:]).read_text())
    folder.mkdir(parents=True, exist_ok=True)
    for entry in listing:
        shutil.copyfile(CACHE / entry["md5"][:2] / entry["md5"][2:], folder / entry["relpath"])
    return folder


# The task's measures on val, shared by the sweeps' benchmarks (this table, seed_ensemble.py, phone_vocab.py): one
# model's per-text scores, their means, and two models' paired differences over the same texts.

def val_task_texts() -> tuple[list, list[str]]:
    """The val examples scored for top-3 at the cut (eval.max_texts) and the first lstm_eval.sweep_texts of them as
    the keyboard's texts."""
    examples = load_examples(None, load_config(DataConfig, "data"), load_config(EvalConfig, "eval"), VAL_CSV)
    return examples, [ex.text for ex in examples[:load_config(LSTMEvalConfig, "lstm_eval").sweep_texts]]


def model_scores(completer, keyboard_model, tokenizer, examples, keyboard_texts: list[str]) -> dict[str, np.ndarray]:
    """Per val text: top-3 hits at the cut (`completer`'s next words), and the keyboard's taps saved and taps without
    suggestions (`keyboard_model`'s distributions)."""
    ranked = next_word_candidates(completer, examples)
    _, taps = simulate(keyboard_model, keyboard_texts, tokenizer)
    return {"top3": first_word_hits([ex.target for ex in examples], ranked, 3), TAPS_SAVED: taps[TAPS_SAVED],
            TAPS_WITHOUT: taps[TAPS_WITHOUT]}


def check_pairs(name: str, scores: dict[str, np.ndarray], base: dict[str, np.ndarray]) -> None:
    if not np.array_equal(scores[TAPS_WITHOUT], base[TAPS_WITHOUT]):  # the same letters to type, text by text
        sys.exit(f"{name}: its keyboard texts differ from the base's; they cannot pair")


def task_means(scores: dict[str, np.ndarray]) -> dict[str, float]:
    """Top-3 over the texts and keystroke savings (taps saved over taps without, all texts together)."""
    return {"top3": float(scores["top3"].mean()),
            "keys_saved": float(scores[TAPS_SAVED].sum() / scores[TAPS_WITHOUT].sum())}


def task_differences(a: dict[str, np.ndarray], b: dict[str, np.ndarray], config: EvalConfig) -> dict[str, list]:
    """a - b over the same texts, top-3 and keystroke savings, each [difference, low, high] (seeded bootstrap)."""
    top3, top3_interval = paired_difference(a["top3"], b["top3"], config.bootstrap_samples, config.confidence,
                                            config.seed)
    keys, keys_interval = paired_ratio_difference(a[TAPS_SAVED], b[TAPS_SAVED], b[TAPS_WITHOUT], config)
    return {"top3": [top3, *top3_interval], "keys_saved": [keys, *keys_interval]}


def rounded(figures: dict[str, Any]) -> dict[str, Any]:
    """`task_means` or `task_differences` to 5 decimals, as the benchmarks' JSON files hold them."""
    return {k: [round(v, 5) for v in f] if isinstance(f, list) else round(f, 5) for k, f in figures.items()}


def task_scores(folder: Path, examples, keyboard_texts: list[str]) -> dict[str, dict[str, np.ndarray]]:
    """`model_scores` of the light model in `folder`: the LSTM alone and the shipped mixture."""
    shipped, tokenizer = load_light_model(folder)
    return {"lstm": model_scores(LSTMCompleter(shipped.lstm, tokenizer), LSTMDistributions(shipped.lstm), tokenizer,
                                 examples, keyboard_texts),
            "mix": model_scores(LSTMCompleter(shipped, tokenizer), shipped, tokenizer, examples, keyboard_texts)}


def scored(rows: list[dict]) -> list[dict]:
    config = load_config(EvalConfig, "eval")
    examples, keyboard_texts = val_task_texts()
    base = None
    for row in rows:
        print(f"scoring {row['experiment']} on val", file=sys.stderr, flush=True)
        with tempfile.TemporaryDirectory() as tmp:
            scores = task_scores(model_folder(row["rev"], Path(tmp)), examples, keyboard_texts)
        base = base or scores
        check_pairs(row["experiment"], scores["lstm"], base["lstm"])
        for name in ("lstm", "mix"):
            means = rounded(task_means(scores[name]))
            row[f"{name}_val_top3"], row[f"{name}_val_keys_saved"] = means["top3"], means["keys_saved"]
        # The same texts for every experiment, whatever its vocabulary: hits and taps pair text by text.
        for name in ("lstm", "mix"):
            for metric, (gain, low, high) in task_differences(scores[name], base[name], config).items():
                row[f"{name}_{metric}_vs_base"] = f"{gain:+.4f} [{low:+.4f}, {high:+.4f}]"
    return rows


def main() -> None:
    args = sys.argv[1:]
    task = "--task" in args
    wanted = [a for a in args if a != "--task"]
    rows = experiments(wanted)
    if task:
        rows = scored(rows)
    table = pd.DataFrame(rows).drop(columns="rev")
    if task:  # the base first (the row the others are paired against), the rest best first
        table = pd.concat([table.iloc[:1], table.iloc[1:].sort_values("lstm_val_top3", ascending=False)])
    else:
        table = table.sort_values("val_perplexity")
    table.to_csv(sys.stdout, index=False, float_format="%.5g")


if __name__ == "__main__":
    main()
