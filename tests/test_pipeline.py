"""The whole DVC pipeline in a copy of the repository (tiny sizes, a tiny local GPT-2): on made-up tweets
everywhere, and on 3,000 real tweets when the sample is beside the repository. Then the report and the notebook."""
from __future__ import annotations

import json
import re

import pandas as pd
import pytest
import yaml

from text_autocomplete.comparison import METRIC_NAMES, pair_name, read_comparison
from text_autocomplete.evaluation import METRIC_KEYS, EvalConfig
from text_autocomplete.measures import TAPS_SAVED, TAPS_WITHOUT
from text_autocomplete.paths import (
    MOBILE_DIR,
    PHONE_FILES,
    PHONE_NGRAM_FILE,
    PHONE_PROGRAM_FILE,
    metrics_file,
    scores_file,
)
from text_autocomplete.records import read_record
from text_autocomplete.registry import BASELINE, LABELS, LIGHT_MODELS, PAIRS, PHONE, PHONE_SOURCE, SHIPPED, SHOWN_PAIRS
from text_autocomplete.decision import decide
from text_autocomplete.report import (
    PHONE_METRICS,
    ReportConfig,
    build_report,
    fmt,
    load_metrics,
    lookup_in,
    recommendation,
)
from text_autocomplete.selection import BudgetConfig

from conftest import ROOT, project_config, sh


def test_every_stage_writes_its_metrics(pipeline):
    for name in LABELS:
        record = read_record(name, pipeline)
        keys = list(yaml.safe_load(metrics_file(name, pipeline).read_text()))
        assert keys[:2] == ["rouge1", "rouge2"] and keys == [k for k in METRIC_KEYS if k in keys]
        for key in ("rouge1", "rouge2", "rougeL"):
            assert 0.0 <= record[key] <= 1.0
            low, high = record[f"{key}_ci"]
            assert low <= record[key] <= high
        assert record["n_texts"] > 50
        assert {"model", "parameters", "size_mb", "weights_in_memory_mb", "time_ms", "ms_per_text_batched"} <= set(record)
        # Next word at the cut from each model's own ranking, the transformer's too; the completion's first word apart.
        assert {"top1", "top3"} <= set(yaml.safe_load(metrics_file(name, pipeline).read_text()))
        assert 0 <= record["first_word"] <= 1  # in results/: the metrics files stay narrow
        assert 0 <= record["top1"] <= record["top3"] <= 1
    for name in LIGHT_MODELS:  # language models: perplexities and the keyboard simulation
        record = read_record(name, pipeline)
        assert {"val_perplexity", "keys_saved"} <= set(yaml.safe_load(metrics_file(name, pipeline).read_text()))
        assert 1 < record["val_perplexity"] and 1 < record["test_perplexity"] and 0 < record["keys_saved"] < 1
        assert (pd.read_csv(scores_file(name, pipeline))[[TAPS_SAVED, TAPS_WITHOUT]] >= 0).all().all()
        assert 0 <= record["all_positions_top1"] <= record["all_positions_top3"] <= 1
    phone, fp32 = read_record(PHONE, pipeline), read_record(SHIPPED, pipeline)
    phone_files = {name: (pipeline / MOBILE_DIR / name).stat().st_size for name in PHONE_FILES}
    assert phone["files_bytes"] == phone_files and phone["size_mb"] == round(sum(phone_files.values()) / 1e6, 3)
    # In the decision's memory column the phone counts like every model, its weights and n-gram arrays: the program
    # (its int8 weights) and the mapped n-gram file; its process memory is a figure of its own.
    assert phone["weights_in_memory_mb"] == round(
        (phone_files[PHONE_PROGRAM_FILE] + phone_files[PHONE_NGRAM_FILE]) / 1e6, 1)
    assert phone["n_texts"] == fp32["n_texts"] and phone["parity_contexts"] == phone["n_texts"]
    assert phone["top3_same_as_source"] >= 0.9 and 0 < phone["memory_after_load_mb"]
    assert 0 < phone["ms_per_word_p50"] <= phone["ms_per_word_p95"]
    assert 0 <= fp32["midword_top1"] <= fp32["midword_top3"] <= 1
    assert (pipeline / "reports" / "report.md").exists()
    assert (pipeline / "plots" / "learning_curves.png").stat().st_size > 1000  # `dvc metrics show`: test_card.py


def test_the_lstm_learns_the_made_up_grammar(synthetic_pipeline):
    """Even tiny and trained for two epochs, the LSTM learns which kind of word comes next in the made-up
    grammar, which the most-frequent-words baseline cannot: a trainer or decoder that does not learn (or a
    model fed the wrong state) guesses next words at about 1/vocabulary and fails here."""
    lstm, baseline = read_record(SHIPPED, synthetic_pipeline), read_record(BASELINE, synthetic_pipeline)
    assert lstm["top1"] > baseline["top1"] + 0.05
    assert lstm["top3"] > 0.2 and lstm["rouge1"] > baseline["rouge1"]


def test_report_numbers_equal_the_metric_files(pipeline):
    """Rebuild the report from the metric files; every number in its headline table is one of theirs."""
    config = project_config(ReportConfig, "report", examples=3)
    budget, eval_config = project_config(BudgetConfig, "budget"), project_config(EvalConfig, "eval")
    report = build_report(pipeline, config, budget, eval_config).text
    assert report == build_report(pipeline, config, budget, eval_config).text
    rows = [line for line in report.splitlines() if line.startswith(tuple(f"| {label}:" for label in LABELS.values()))]
    assert len(rows) == len(LABELS) == 6
    for row, name in zip(rows, LABELS):
        record = read_record(name, pipeline)
        expected = []
        for key in ("rouge1", "rouge2", "rougeL"):
            expected += [fmt(record[key]), fmt(record[f"{key}_ci"][0]), fmt(record[f"{key}_ci"][1])]
        expected += [fmt(record["top1"]), fmt(record["top3"]), fmt(record["first_word"])]
        expected += [f"{record['keys_saved'] * 100:.1f}"] if "keys_saved" in record else []
        expected += [f"{record['parameters']:,}", f"{record['size_mb']:.1f}", f"{record['weights_in_memory_mb']:,.1f}",
                     str(record["n_texts"])]
        cells = " | ".join(row.split(" | ")[1:-1])  # the last column states the setup in words
        numbers = re.findall(r"\d[\d,]*(?:\.\d+)?", cells)
        assert numbers == expected, row
        assert (f"| {LABELS[name]} | {record['size_mb']:.1f} | {record['weights_in_memory_mb']:,.1f} "
                f"| {record['time_ms']:.2f} | {record['ms_per_text_batched']:.2f} |") in report  # the costs table
    for a, b in PAIRS:  # every pair in the table, the summary's pairs in words too
        differences = {d.metric: d for d in read_comparison(a, b, pipeline)}
        cells = [f"{d.mean:+.4f} [{d.low:+.4f}, {d.high:+.4f}]" if (d := differences.get(m)) else "-"
                 for m in METRIC_NAMES]
        assert f"| {LABELS[a]} - {LABELS[b]} | " + " | ".join(cells) + " |" in report
        assert ((a, b) in SHOWN_PAIRS) == all(f"- {d.sentence()}." in report for d in differences.values())
    # The decision is the rule applied to every model of the registry, each one named in its reasons.
    decision = decide(load_metrics(pipeline), lookup_in([read_comparison(a, b, pipeline) for a, b in PAIRS]),
                      config.primary_metrics, budget)
    assert recommendation(decision, config, budget, eval_config.confidence) in report
    reasons = " ".join(decision.reasons).lower()
    assert all(f"the {label.lower()}" in reasons for label in LABELS.values()), decision.reasons
    # The phone table: each quality figure's paired difference from the fp32 model it is made from, and whether it,
    # and its whole interval, lie within report.phone_tolerance, as the intervals say.
    lookup = lookup_in([read_comparison(a, b, pipeline) for a, b in PAIRS])
    for metric in PHONE_METRICS:
        d = lookup(PHONE, PHONE_SOURCE, metric)
        close = "yes" if abs(d.mean) <= config.phone_tolerance else "**no**"
        within = "yes" if -config.phone_tolerance <= d.low and d.high <= config.phone_tolerance else "**no**"
        assert f"| {d.mean:+.4f} [{d.low:+.4f}, {d.high:+.4f}] | {close} | {within} |" in report, metric
    # ... and each of its targets marked met as its record and the parameters say.
    phone, lines = read_record(PHONE, pipeline), report.splitlines()
    for start, met in (("| files on disk |", phone["size_mb"] <= phone["max_mb"]),
                       ("| memory after load", phone["memory_after_load_mb"] <= config.phone_max_memory_mb),
                       ("| per finished word", phone["ms_per_word_p95"] <= config.phone_max_word_ms),
                       ("| the program's top-3", phone["top3_same_as_source"] >= config.phone_min_agreement)):
        row = next(line for line in lines if line.startswith(start))
        assert row.endswith("| yes |" if met else "| **no** |"), row


def test_paired_differences_are_those_of_the_score_files(pipeline):
    """metrics/<a>-<b>.yml: the mean per-text difference of the two models' score files on the same texts,
    equal to the difference of their means, inside its paired interval; listed by `dvc metrics show`."""
    shown = sh(["dvc", "metrics", "show"], pipeline)
    for a, b in PAIRS:
        scores_a, scores_b = (pd.read_csv(scores_file(name, pipeline)) for name in (a, b))
        assert scores_a["text_id"].tolist() == scores_b["text_id"].tolist()
        assert len(scores_a) == read_record(a, pipeline)["n_texts"]
        record = read_record(pair_name(a, b), pipeline)
        for metric in ("rouge1", "rouge2", "rougeL", "top1", "top3", "first_word"):
            assert record[metric] == pytest.approx(scores_a[metric].mean() - scores_b[metric].mean(), abs=2e-5)
            assert record[f"{metric}_ci"][0] <= record[metric] <= record[f"{metric}_ci"][1]
            assert scores_a[metric].mean() == pytest.approx(read_record(a, pipeline)[metric], abs=2e-5)
        both_typed = all("keys_saved" in read_record(name, pipeline) for name in (a, b))
        assert ("keys_saved" in record) == both_typed  # keystroke savings: for every pair of typed models
        if both_typed:  # the difference of the two models' figures, inside its paired interval
            assert record["keys_saved"] == pytest.approx(read_record(a, pipeline)["keys_saved"]
                                                         - read_record(b, pipeline)["keys_saved"], abs=2e-5)
            assert record["keys_saved_ci"][0] <= record["keys_saved"] <= record["keys_saved_ci"][1]
        assert metrics_file(pair_name(a, b)).as_posix() in shown


def test_notebook_executes(synthetic_pipeline):
    import nbformat
    from nbclient import NotebookClient

    notebook = nbformat.read(synthetic_pipeline / "solution.ipynb", as_version=4)
    client = NotebookClient(notebook, timeout=300, kernel_name="python3",
                            resources={"metadata": {"path": str(synthetic_pipeline)}})
    client.execute()
    outputs = [o for cell in notebook.cells if cell.cell_type == "code" for o in cell.get("outputs", [])]
    assert not [o for o in outputs if o.get("output_type") == "error"]


def test_every_model_completes_the_projects_own_prompts(synthetic_pipeline):
    """The examples people read: every registry model's completions of examples/prompts.txt (written for the
    project), in order, `eval.prompt_words` words at most, side by side in the report; no real test text."""
    from text_autocomplete.evaluation import read_example_prompts
    from text_autocomplete.paths import EXAMPLE_PROMPTS, prompts_file

    prompts = read_example_prompts(synthetic_pipeline / EXAMPLE_PROMPTS)
    words = project_config(EvalConfig, "eval").prompt_words
    for key in LABELS:
        frame = pd.read_csv(prompts_file(key, synthetic_pipeline), keep_default_na=False)
        assert frame["prompt"].tolist() == prompts, key
        assert all(len(c.split()) <= words for c in frame["completion"]) and frame["completion"].str.len().sum(), key
    report = (synthetic_pipeline / "reports" / "report.md").read_text()
    assert "| prompt | " + " | ".join(LABELS.values()) + " |" in report
    assert f"| {prompts[0]} | " in report


def test_the_report_reads_its_benchmark_files_under_its_root(pipeline):
    """build_report reads the sweep tables and the data-scaling figures under the project folder it is given, not
    the working directory: files that exist only in the pipeline's copy must reach its report."""
    from text_autocomplete.report import DATA_SCALING, SCALING_START

    config = project_config(ReportConfig, "report", examples=3)
    budget, eval_config = project_config(BudgetConfig, "budget"), project_config(EvalConfig, "eval")
    sweep, scaling = "reports/made_up_sweep.csv", "reports/benchmarks/made_up_scaling.json"
    table = pd.read_csv(ROOT / sweep.replace("made_up_sweep", "lstm_sweep"))  # the repository's, as a template
    table["experiment"] = [f"made_up_arm{i}" for i in range(len(table))]
    figures = json.loads((ROOT / DATA_SCALING).read_text()) | {"conclusion": "A made-up conclusion."}
    (pipeline / scaling).parent.mkdir(parents=True, exist_ok=True)
    table.to_csv(pipeline / sweep, index=False)
    (pipeline / scaling).write_text(json.dumps(figures))
    try:
        report = build_report(pipeline, config, budget, eval_config, lstm_sweeps=(sweep,), data_scaling=scaling).text
    finally:
        (pipeline / sweep).unlink()
        (pipeline / scaling).unlink()
    assert "made_up_arm0" in report and SCALING_START in report and "A made-up conclusion." in report
