"""The whole DVC pipeline in a copy of the repository (tiny sizes, a tiny local GPT-2): on made-up tweets
everywhere, and on 3,000 real tweets when the sample is beside the repository. Then the report and the notebook."""
from __future__ import annotations

import json
import re

import pandas as pd

from text_autocomplete.report import ReportConfig, build_report, fmt

from conftest import project_config, sh


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
    assert int8["size_mb"] < fp32["size_mb"] / 2 and int8["n_texts"] == fp32["n_texts"]  # tiny vocabularies here
    assert 0 <= fp32["midword_top1"] <= fp32["midword_top3"] <= 1
    assert (pipeline / "models" / "mobile" / "lstm_int8_step.ts").exists()
    assert (pipeline / "reports" / "report.md").exists()
    assert (pipeline / "plots" / "learning_curves.png").stat().st_size > 1000
    shown = sh(["dvc", "metrics", "show"], pipeline)
    for name in ("lstm.json", "gpt2.json", "baseline.json", "train_lstm/metrics.json"):
        assert name in shown


def test_the_lstm_learns_the_made_up_grammar(synthetic_pipeline):
    """Even tiny and trained for two epochs, the LSTM learns which kind of word comes next in the made-up
    grammar, which the most-frequent-words baseline cannot: a trainer or decoder that does not learn (or a
    model fed the wrong state) guesses next words at about 1/vocabulary and fails here."""
    lstm, baseline = (json.loads((synthetic_pipeline / "metrics" / f"{n}.json").read_text())
                      for n in ("lstm", "baseline"))
    assert lstm["next_word_top1"] > baseline["next_word_top1"] + 0.05
    assert lstm["next_word_top3"] > 0.2 and lstm["rouge1"] > baseline["rouge1"]


def test_training_logged_every_epoch(pipeline):
    for name in ("train_loss", "val_loss", "val_rouge1", "val_rouge2", "val_rougeL"):
        history = pd.read_csv(pipeline / "metrics" / "train_lstm" / "plots" / "metrics" / f"{name}.tsv", sep="\t")
        assert history["step"].tolist() == [0, 1]  # one row per epoch


def test_report_numbers_equal_the_metric_files(pipeline):
    """Rebuild the report from the metric files; every number in its headline table is one of theirs."""
    config = project_config(ReportConfig, "report", examples=3)
    report = build_report(pipeline / "metrics", pipeline / "plots", config)
    assert report == build_report(pipeline / "metrics", pipeline / "plots", config)
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


def test_notebook_executes(synthetic_pipeline):
    import nbformat
    from nbclient import NotebookClient

    notebook = nbformat.read(synthetic_pipeline / "solution.ipynb", as_version=4)
    client = NotebookClient(notebook, timeout=300, kernel_name="python3",
                            resources={"metadata": {"path": str(synthetic_pipeline)}})
    client.execute()
    outputs = [o for cell in notebook.cells if cell.cell_type == "code" for o in cell.get("outputs", [])]
    assert not [o for o in outputs if o.get("output_type") == "error"]
