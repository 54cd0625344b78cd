"""The whole DVC pipeline on a small real sample with a tiny local GPT-2, then the report and the notebook.

This is the check that the six stages fit together: it runs `dvc repro` in a copy of the
repository, so nothing in the working tree is touched.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import ROOT, TWEETS, write_params
from tiny_gpt2 import save_tiny_gpt2

TINY_PARAMS = {
    "data": {"max_texts": 3000},
    "tokenizer": {"vocab_size": 1500, "min_frequency": 1},
    "lstm": {"embedding_dim": 32, "hidden_dim": 32, "num_layers": 1, "dropout": 0.1, "softmax_cutoffs": [300]},
    "train": {"epochs": 2, "batch_size": 32, "val_rouge_texts": 40, "warmup_steps": 10, "show_examples": 2},
    "eval": {"max_texts": 120, "bootstrap_samples": 200, "latency_texts": 5, "examples": 8},
    "lstm_eval": {"sweep_texts": 16, "candidates": [{"name": "greedy"}, {"name": "mbr4", "mbr_samples": 4}]},
    "gpt2": {"sweep_texts": 16, "batch_size": 16,
             "candidates": [{"name": "greedy"}, {"name": "sampled", "do_sample": True, "top_k": 20}]},
    "report": {"examples": 5},
}


def sh(command: list[str], cwd: Path) -> str:
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
           "DVC_NO_ANALYTICS": "1", "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t", "GIT_COMMITTER_NAME": "t",
           "GIT_COMMITTER_EMAIL": "t@t"}
    result = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, f"{' '.join(command)} failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    return result.stdout + result.stderr


@pytest.fixture(scope="module")
def pipeline(tmp_path_factory) -> Path:
    """A copy of the repository after a full `dvc repro` on 3,000 real tweets."""
    if not TWEETS.exists():
        pytest.skip("no real data beside the repository")
    work = tmp_path_factory.mktemp("pipeline") / "repo"
    files = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard"], cwd=ROOT,
                           capture_output=True, text=True, check=True).stdout.split()
    for name in files:
        if (ROOT / name).is_file():
            (work / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, work / name)
    save_tiny_gpt2(work / "models" / "tiny-gpt2")
    write_params(work, **{**TINY_PARAMS, "data": {**TINY_PARAMS["data"], "raw": str(TWEETS)},
                          "gpt2": {**TINY_PARAMS["gpt2"], "model": "models/tiny-gpt2"}})
    sh(["git", "init", "-q"], work)
    sh(["git", "add", "-A"], work)
    sh(["git", "commit", "-qm", "tiny run"], work)
    sh(["dvc", "repro"], work)
    return work


def test_every_stage_writes_its_metrics(pipeline):
    for name in ("lstm", "gpt2", "baseline"):
        metrics = json.loads((pipeline / "metrics" / f"{name}.json").read_text())
        for key in ("rouge1", "rouge2", "rougeL"):
            assert 0.0 <= metrics[key] <= 1.0
            low, high = metrics[f"{key}_ci"]
            assert low <= metrics[key] <= high
        assert metrics["n_texts"] > 50
        assert {"model", "parameters", "size_mb", "ms_per_text_batched"} <= set(metrics)
    int8, fp32 = (json.loads((pipeline / "metrics" / f"{n}.json").read_text()) for n in ("lstm_int8", "lstm"))
    assert int8["size_mb"] <= fp32["size_mb"] / 3 and int8["n_texts"] == fp32["n_texts"]
    assert 0 <= fp32["midword_top1"] <= fp32["midword_top3"] <= 1
    assert (pipeline / "models" / "mobile" / "lstm_int8_step.ts").exists()
    assert (pipeline / "reports" / "report.md").exists()
    assert (pipeline / "plots" / "learning_curves.png").stat().st_size > 1000
    shown = sh(["dvc", "metrics", "show"], pipeline)
    for name in ("lstm.json", "gpt2.json", "baseline.json", "train_lstm/metrics.json"):
        assert name in shown


def test_training_logged_every_epoch(pipeline):
    import pandas as pd

    for name in ("train_loss", "val_loss", "val_rouge1", "val_rouge2", "val_rougeL"):
        history = pd.read_csv(pipeline / "metrics" / "train_lstm" / "plots" / "metrics" / f"{name}.tsv", sep="\t")
        assert history["step"].tolist() == [0, 1]  # one row per epoch


def test_second_repro_runs_nothing_and_a_training_param_reruns_only_its_stages(pipeline):
    assert "up to date" in sh(["dvc", "repro"], pipeline)
    out = sh(["dvc", "exp", "run", "-S", "train.lr=0.001"], pipeline)
    assert set(re.findall(r"Running stage '(\w+)'", out)) == {"train_lstm", "eval_lstm", "report"}
    table = sh(["dvc", "exp", "show", "--csv", "--no-pager"], pipeline).splitlines()
    header = table[0].split(",")
    assert "lr" in header and "metrics/lstm.json:rouge1" in header and "metrics/gpt2.json:rouge1" in header


def test_report_numbers_equal_the_metric_files(pipeline):
    """Rebuild the report from the metric files; every number in its headline table is one of theirs."""
    sys.path.insert(0, str(pipeline))
    from src.report import ReportConfig, build_report, fmt

    report = build_report(pipeline / "metrics", pipeline / "plots", ReportConfig(examples=3))
    assert report == build_report(pipeline / "metrics", pipeline / "plots", ReportConfig(examples=3))
    rows = [line for line in report.splitlines() if line.startswith(("| LSTM:", "| transformer:", "| baseline:"))]
    assert len(rows) == 3
    for row, name in zip(rows, ("lstm", "gpt2", "baseline")):
        metrics = json.loads((pipeline / "metrics" / f"{name}.json").read_text())
        expected = []
        for key in ("rouge1", "rouge2", "rougeL"):
            expected += [fmt(metrics[key]), fmt(metrics[f"{key}_ci"][0]), fmt(metrics[f"{key}_ci"][1])]
        expected += [fmt(metrics["next_word_top1"]), f"{metrics['parameters']:,}", f"{metrics['size_mb']:.1f}",
                     f"{metrics['ms_per_text_batch1']:.2f}" if "ms_per_text_batch1" in metrics else "0.00",
                     f"{metrics['ms_per_text_batched']:.2f}", str(metrics["n_texts"])]
        cells = row.split(" | ", 1)[1]
        numbers = re.findall(r"\d[\d,]*(?:\.\d+)?", cells)
        assert numbers == expected, row


def test_notebook_executes(pipeline):
    import nbformat
    from nbclient import NotebookClient

    notebook = nbformat.read(pipeline / "solution.ipynb", as_version=4)
    client = NotebookClient(notebook, timeout=300, kernel_name="python3",
                            resources={"metadata": {"path": str(pipeline)}})
    client.execute()
    outputs = [o for cell in notebook.cells if cell.cell_type == "code" for o in cell.get("outputs", [])]
    assert not [o for o in outputs if o.get("output_type") == "error"]
