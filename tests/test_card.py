"""The design card's DVC contract, one test per phrase, on made-up tweets in a temporary clone of the project:

1. `dvc repro` rebuilds only changed stages: a second run runs nothing; a parameter reruns its stages and those
   after them, and no other.
2. `dvc exp run -S` for parameter experiments: two runs of `train.epochs` are listed by `dvc exp show` with it.
3. dvclive writes per-epoch loss/ROUGE that `dvc metrics diff` compares across runs: train loss, val loss and val
   ROUGE-1 differ between those two experiments in dvclive's summary, a declared metric.
4. `dvc metrics show` comparisons: every model's ROUGE-1/2/L.
5. dvclive's per-epoch series: one row per epoch for the losses and the ROUGE scores.

What the committed run shows (widths, column order, plots) is in test_dvc_surface.py; what each stage declares, in
test_dvc_graph.py.
"""
from __future__ import annotations

import json
import re
from pathlib import Path

import pandas as pd
import pytest
from test_dvc_surface import EXP_SHOW, HEADLINE, metric_columns

from text_autocomplete.paths import TRAIN_LIVE_DIR, TRAIN_LIVE_SUMMARY, metrics_file
from text_autocomplete.registry import LABELS
from text_autocomplete.report import LEVERS_END, LEVERS_START, SCALING_END, SCALING_START

from conftest import TINY_PARAMS, build_pipeline, sh
from synthetic_tweets import synthetic_tweets

ROUGE = ("rouge1", "rouge2", "rougeL")
EPOCHS = (1, 2)  # the two experiments of phrase 2; the tiny pipeline trains for 2
assert TINY_PARAMS["train"]["epochs"] in EPOCHS


@pytest.fixture(scope="module")
def experiment_pipeline(tmp_path_factory) -> Path:
    """A pipeline of its own: experiments change the workspace they run in."""
    base = tmp_path_factory.mktemp("experiments")
    (base / "tweets.txt").write_text("\n".join(synthetic_tweets(3300, seed=1)) + "\n")
    return build_pipeline(base, base / "tweets.txt")


def stages_run(output: str) -> set[str]:
    return set(re.findall(r"Running stage '(\w+)'", output))


# --------------------------------------------------------------------------- 1. dvc repro rebuilds only what changed
def test_1_a_second_repro_runs_nothing(experiment_pipeline):
    assert stages_run(sh(["dvc", "repro"], experiment_pipeline)) == set()


# --------------------------------------------------------------------------- 2. dvc exp run -S
@pytest.fixture(scope="module")
def epoch_experiments(experiment_pipeline) -> dict[int, str]:
    """`dvc exp run -S train.epochs=N -n epochsN` for each N of EPOCHS, from the committed params: the output of each
    run, by N. (The parameter tests of phrase 1 come after these: their experiments leave their params in the
    workspace.)"""
    return {n: sh(["dvc", "exp", "run", "-S", f"train.epochs={n}", "-n", f"epochs{n}"], experiment_pipeline)
            for n in EPOCHS}


def test_2_experiments_are_listed_with_their_parameter(experiment_pipeline, epoch_experiments):
    assert all("train_lstm" in stages_run(output) for output in epoch_experiments.values())
    rows = json.loads(sh(["dvc", "exp", "show", "--json"], experiment_pipeline))
    listed = {}
    for commit in rows:
        for experiment in commit.get("experiments") or []:
            for revision in experiment.get("revs", []):
                params = revision["data"]["params"]["params.yaml"]["data"]
                listed[revision.get("name") or experiment.get("name")] = params["train"]["epochs"]
    assert {f"epochs{n}": n for n in EPOCHS}.items() <= listed.items(), listed


def test_2_the_documented_exp_show_puts_the_headline_first_then_the_changed_parameter(experiment_pipeline,
                                                                                     epoch_experiments):
    """The README's view after the two experiments: the models' ROUGE-1/2, then `train.epochs` (it changed), and no
    training column (dvclive's keys are not named by file, the command drops them by name)."""
    columns = metric_columns(experiment_pipeline, EXP_SHOW)
    assert columns[:len(HEADLINE)] == HEADLINE and "train.epochs" in columns[len(HEADLINE):], columns
    training = json.loads((experiment_pipeline / TRAIN_LIVE_SUMMARY).read_text())
    assert not {*training, *(f"best.{key}" for key in training["best"])} & set(columns), columns


# --------------------------------------------------------------------------- 3. dvc metrics diff: dvclive's loss/ROUGE
def test_3_metrics_diff_compares_the_training_loss_and_rouge_of_two_runs(experiment_pipeline, epoch_experiments):
    first, second = (f"epochs{n}" for n in EPOCHS)
    diff = json.loads(sh(["dvc", "metrics", "diff", first, second, "--json"], experiment_pipeline))
    training = diff.get(TRAIN_LIVE_SUMMARY, {})
    for key in ("train_loss", "val_loss", "val_rouge1", "best.train_loss", "best.val_loss", "best.val_rouge1"):
        assert key in training and training[key]["old"] != training[key]["new"], (key, training)
    table = sh(["dvc", "metrics", "diff", first, second], experiment_pipeline)
    assert re.search(rf"^{re.escape(TRAIN_LIVE_SUMMARY)}\s+val_loss\s", table, re.MULTILINE), table
    every = json.loads(sh(["dvc", "metrics", "diff", first, second, "--all", "--json"], experiment_pipeline))
    assert {"val_rouge2", "val_rougeL", "best.val_rouge2", "best.val_rougeL"} <= set(every[TRAIN_LIVE_SUMMARY])


# --------------------------------------------------------------------------- 1. (after the experiments above)
@pytest.mark.parametrize("change, expected", [
    ("eval.latency_texts=4", {"eval_lstm", "eval_gpt2", "report"}),  # a timing parameter: no training
    ("train.lr=0.001", {"train_lstm", "eval_lstm", "report"}),
    ("gpt2.max_tokens_per_word=3", {"eval_gpt2", "report"}),
    ("report.examples=4", {"report"}),
])
def test_1_a_parameter_reruns_its_stages_and_those_after_only(experiment_pipeline, change, expected):
    assert stages_run(sh(["dvc", "exp", "run", "-S", change], experiment_pipeline)) == expected


def test_1_the_confidence_level_the_report_prints_is_the_parameter(experiment_pipeline):
    """No level is typed into the report: with eval.confidence at 0.9 every interval it names is a 90% one."""
    assert stages_run(sh(["dvc", "exp", "run", "-S", "eval.confidence=0.9"], experiment_pipeline)) == {
        "eval_lstm", "eval_gpt2", "report"}
    report = (experiment_pipeline / "reports" / "report.md").read_text()
    assert "by the paired 90% interval" in report and "ROUGE-1 [90% CI]" in report and "90% paired" in report
    # The data-scaling section and the levers' block quote benchmarks, run outside the pipeline at their own level:
    # they say so.
    scaling, levers = (report[report.index(a):report.index(b)] for a, b in ((SCALING_START, SCALING_END),
                                                                             (LEVERS_START, LEVERS_END)))
    assert "95%" not in report.replace(scaling, "").replace(levers, "")
    assert "These intervals are the benchmark's 95%, not eval.confidence's 90%" in scaling
    assert "These benchmarks' intervals are 95%, not eval.confidence's 90%" in levers


# --------------------------------------------------------------------------- 4. dvc metrics show
def test_4_metrics_show_lists_every_models_rouge(synthetic_pipeline):
    shown = json.loads(sh(["dvc", "metrics", "show", "--json"], synthetic_pipeline))
    files = shown[""]["data"]  # DVC names the workspace ""
    table = sh(["dvc", "metrics", "show"], synthetic_pipeline)
    header = table[table.index("Path "):].splitlines()[0].split()
    assert set(ROUGE) <= set(header)
    for name in LABELS:
        path = metrics_file(name).as_posix()
        values = files[path]["data"]
        assert all(isinstance(values[key], float) for key in ROUGE), (path, values)
        assert re.search(rf"^{re.escape(path)}\s", table, re.MULTILINE), path
    assert {"train_loss", "val_loss", "val_rouge1", "best.val_loss"} <= set(files[TRAIN_LIVE_SUMMARY]["data"]) | {
        f"best.{key}" for key in files[TRAIN_LIVE_SUMMARY]["data"]["best"]}  # and dvclive's summary beside them


# --------------------------------------------------------------------------- 5. dvclive's per-epoch series
def test_5_dvclive_logs_one_row_per_epoch(pipeline):
    epochs = json.loads((pipeline / TRAIN_LIVE_SUMMARY).read_text())["step"]
    assert epochs == TINY_PARAMS["train"]["epochs"]
    for name in ("train_loss", "val_loss", "val_rouge1", "val_rouge2", "val_rougeL"):
        history = pd.read_csv(pipeline / TRAIN_LIVE_DIR / "plots" / "metrics" / f"{name}.tsv", sep="\t")
        assert history["step"].tolist() == list(range(1, epochs + 1)), name  # the step is the epoch
