"""The report stage: read the runs (metrics/ and results/), draw the figures, write reports/report.md with a
recommendation, and the model comparison that `dvc plots` draws.

Every number in the report is read from those files at build time (never typed in), so
rebuilding the report from the same files gives the same text.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from text_autocomplete.errors import UserError
from text_autocomplete.paths import (
    BASELINE,
    DATA_COUNTS,
    GPT2,
    GPT2_GENERATION_SWEEP,
    LSTM,
    LSTM_DECODING_SWEEP,
    LSTM_INT8,
    MODEL_COMPARISON,
    PLOTS_DIR,
    SPLIT_SIZES,
    TRAIN_LIVE_DIR,
    TRAIN_RUN,
    results_file,
)
from text_autocomplete.records import read_record

MODELS = {LSTM: "LSTM", GPT2: "transformer", BASELINE: "baseline"}
ROUGE = ("rouge1", "rouge2", "rougeL")


@dataclass
class ReportConfig:
    """The ``report`` section of params.yaml: the decision rule and the examples shown."""

    primary_metric: str
    min_size_ratio: float  # the LSTM must be this many times smaller ...
    min_speed_ratio: float  # ... and this many times faster at batch 1 to win a tie
    max_model_mb: float  # what a mobile app can ship
    examples: int

    def __post_init__(self) -> None:
        if self.primary_metric not in ROUGE:
            raise UserError(f"params.yaml report.primary_metric={self.primary_metric!r}: use one of {', '.join(ROUGE)}")


def fmt(value: float, digits: int = 4) -> str:
    return f"{value:.{digits}f}"


def load_metrics(root: Path) -> dict[str, dict[str, Any]]:
    """Each compared model's record (its metrics and results), by key."""
    return {key: read_record(key, root) for key in MODELS}


# --------------------------------------------------------------------------- the decision
def recommend(metrics: dict[str, dict[str, Any]], config: ReportConfig) -> tuple[str, str]:
    """(model to ship, the reason), by the rule stated in the report."""
    m = config.primary_metric
    lstm, gpt2 = metrics["lstm"], metrics["gpt2"]
    size_ratio = gpt2["size_mb"] / max(lstm["size_mb"], 1e-9)
    speed_ratio = gpt2["time_ms"] / max(lstm["time_ms"], 1e-9)
    if lstm[f"{m}_ci"][0] > gpt2[f"{m}_ci"][1]:
        return "LSTM", (f"the LSTM's {m} is higher than the transformer's beyond both confidence intervals "
                        f"({fmt(lstm[m])} vs {fmt(gpt2[m])}), and it is {size_ratio:.0f}x smaller "
                        f"and {speed_ratio:.0f}x faster")
    if gpt2[f"{m}_ci"][0] > lstm[f"{m}_ci"][1]:
        if gpt2["size_mb"] > config.max_model_mb:
            return "LSTM", (f"the transformer's {m} is higher ({fmt(gpt2[m])} vs {fmt(lstm[m])}), but at "
                            f"{gpt2['size_mb']:.0f} MB it exceeds the {config.max_model_mb:.0f} MB mobile budget; "
                            f"the LSTM fits it and the quality gap is the price")
        return "transformer", (f"the transformer's {m} is higher beyond both confidence intervals "
                               f"({fmt(gpt2[m])} vs {fmt(lstm[m])}) and it fits the mobile budget")
    if size_ratio >= config.min_size_ratio and speed_ratio >= config.min_speed_ratio:
        return "LSTM", (f"the {m} difference is inside the confidence intervals ({fmt(lstm[m])} vs {fmt(gpt2[m])}) "
                        f"and the LSTM is {size_ratio:.0f}x smaller and {speed_ratio:.0f}x faster")
    return "transformer", (f"the {m} difference is inside the confidence intervals and the LSTM is not "
                           f"{config.min_size_ratio:.0f}x smaller and {config.min_speed_ratio:.0f}x faster")


# --------------------------------------------------------------------------- tables
def headline_table(metrics: dict[str, dict[str, Any]]) -> str:
    lines = ["| model | ROUGE-1 [95% CI] | ROUGE-2 [95% CI] | ROUGE-L [95% CI] | next-word top-1 | parameters "
             "| size MB | ms/text batch 1 | ms/text batched | texts |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for key, label in MODELS.items():
        r = metrics[key]
        cells = [f"{fmt(r[k])} [{fmt(r[k + '_ci'][0])}, {fmt(r[k + '_ci'][1])}]" for k in ROUGE]
        name = f"{label}: {r['model']}"
        lines.append(f"| {name} | {' | '.join(cells)} | {fmt(r['top1'])} | {r['parameters']:,} "
                     f"| {r['size_mb']:.1f} | {r['time_ms']:.2f} | {r['ms_per_text_batched']:.2f} "
                     f"| {r['n_texts']} |")
    return "\n".join(lines)


def mobile_table(fp32: dict[str, Any], int8: dict[str, Any]) -> str:
    """fp32 against int8 LSTM (quality, size, latency; their records) and the mid-word completion metric."""
    rows = ["| LSTM | ROUGE-1 [95% CI] | size MB | ms/text batch 1 | next word = fp32's |", "|---|---|---|---|---|"]
    for name, r in (("fp32", fp32), ("int8", int8)):
        same = fmt(r.get("next_word_top1_same_as_fp32", 1.0))
        rows.append(f"| {name} | {fmt(r['rouge1'])} [{fmt(r['rouge1_ci'][0])}, {fmt(r['rouge1_ci'][1])}] "
                    f"| {r['size_mb']:.1f} | {r['time_ms']:.2f} | {same} |")
    rows.append("")
    rows.append(f"The int8 model is also exported as TorchScript ({int8['torchscript_size_mb']:.1f} MB), which runs "
                f"without this project's code. Finishing the word being typed, on {fp32['midword_texts']:,} test "
                f"texts cut inside a word at a seeded random point: top-1 {fmt(fp32['midword_top1'])}, top-3 "
                f"{fmt(fp32['midword_top3'])}, {fmt(fp32['midword_keystrokes_saved'])} of the remaining keystrokes "
                f"saved (the transformer was not measured here: its subword vocabulary has no word list to filter).")
    return "\n".join(rows)


def markdown_table(frame: pd.DataFrame) -> str:
    frame = frame.astype(object).where(frame.notna(), "")
    head = "| " + " | ".join(map(str, frame.columns)) + " |"
    rule = "|" + "---|" * len(frame.columns)
    rows = ["| " + " | ".join(_cell(v) for v in row) + " |" for row in frame.itertuples(index=False)]
    return "\n".join([head, rule, *rows])


def _cell(value: Any) -> str:
    if isinstance(value, float):
        return fmt(value) if abs(value) < 10 else f"{value:.1f}"
    return str(value).replace("|", "\\|")


def side_by_side(root: Path, n: int) -> pd.DataFrame:
    """Rows both eval stages picked by the same seeded rule on the same texts, joined by prompt."""
    table = None
    for key, label in MODELS.items():
        frame = pd.read_csv(results_file(f"{key}_examples", root, ".csv"), keep_default_na=False)
        frame = frame[["prompt", "target", "completion"]].rename(columns={"completion": label})
        table = frame if table is None else table.merge(frame, on=["prompt", "target"], how="inner")
    return table.head(n)


# --------------------------------------------------------------------------- figures
def _pyplot():
    import matplotlib

    matplotlib.use("Agg")  # files only, no display
    import matplotlib.pyplot as plt

    return plt


def read_training_history(live_dir: Path) -> pd.DataFrame:
    """The per-epoch values that dvclive logged, one column per metric, indexed by epoch."""
    tsv_dir = Path(live_dir) / "plots" / "metrics"
    columns = {}
    for tsv in sorted(tsv_dir.glob("*.tsv")):
        frame = pd.read_csv(tsv, sep="\t")
        columns[tsv.stem] = frame.set_index("step")[tsv.stem]
    if not columns:
        raise UserError(f"{tsv_dir}: no training logs; run `dvc repro train_lstm` first")
    history = pd.DataFrame(columns)
    history.index.name = "epoch"  # dvclive's step is the epoch
    return history


def plot_learning_curves(history: pd.DataFrame, path: Path) -> None:
    plt = _pyplot()
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4))
    for name in ("train_loss", "val_loss"):
        left.plot(history.index, history[name], marker="o", label=name)
    left.set(xlabel="epoch", ylabel="cross-entropy per word", title="LSTM loss")
    left.legend()
    for name in ("val_rouge1", "val_rouge2", "val_rougeL"):
        right.plot(history.index, history[name], marker="o", label=name)
    right.set(xlabel="epoch", ylabel="F1", title="LSTM val ROUGE (generated completions)")
    right.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def comparison_table(metrics: dict[str, dict[str, Any]]) -> pd.DataFrame:
    """One row per model and ROUGE type: the mean and its interval (what `dvc plots` draws as bars with whiskers)."""
    return pd.DataFrame([{"model": label, "metric": kind, "value": metrics[key][kind],
                          "low": metrics[key][f"{kind}_ci"][0], "high": metrics[key][f"{kind}_ci"][1]}
                         for key, label in MODELS.items() for kind in ROUGE])


def plot_rouge_with_ci(metrics: dict[str, dict[str, Any]], path: Path) -> None:
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(8, 4))
    width = 0.25
    for offset, (key, label) in enumerate(MODELS.items()):
        means = [metrics[key][k] for k in ROUGE]
        errors = [[m - metrics[key][k + "_ci"][0] for m, k in zip(means, ROUGE)],
                  [metrics[key][k + "_ci"][1] - m for m, k in zip(means, ROUGE)]]
        ax.bar([i + (offset - 1) * width for i in range(3)], means, width, yerr=errors, capsize=4, label=label)
    ax.set_xticks(range(3), ["ROUGE-1", "ROUGE-2", "ROUGE-L"])
    ax.set(ylabel="F1 (mean, 95% bootstrap CI)", title="Completion quality on the same test texts")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def plot_quality_vs_cost(metrics: dict[str, dict[str, Any]], metric: str, path: Path) -> None:
    plt = _pyplot()
    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    costs = (("size_mb", "size on disk, MB"), ("time_ms", "ms per text, batch 1"))
    for ax, (cost, label) in zip(axes, costs):
        for key, name in MODELS.items():
            if key == "baseline":
                ax.axhline(metrics[key][metric], color="grey", linestyle="--", label="baseline")
                continue
            ax.errorbar(metrics[key][cost], metrics[key][metric], fmt="o", capsize=4, label=name,
                        yerr=[[metrics[key][metric] - metrics[key][metric + "_ci"][0]],
                              [metrics[key][metric + "_ci"][1] - metrics[key][metric]]])
        ax.set(xscale="log", xlabel=label, ylabel=metric, title=f"{metric} against {label}")
        ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def plot_sweep(table: pd.DataFrame, label_column: str, metric: str, title: str, path: Path) -> None:
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(8, 0.4 * len(table) + 1.5))
    ax.barh(table[label_column].astype(str), table[metric])
    ax.set(xlabel=metric, title=title)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


# --------------------------------------------------------------------------- the report
def build_report(root: Path, config: ReportConfig, lstm_sweep: Path | None = None) -> str:
    """Read the runs under the project folder `root`, draw the figures into its plots/, write the model
    comparison for `dvc plots`, and return the report's Markdown."""
    root = Path(root)
    plots_dir = root / PLOTS_DIR
    plots_dir.mkdir(parents=True, exist_ok=True)
    metrics = load_metrics(root)
    data = json.loads((root / DATA_COUNTS).read_text())
    split = json.loads((root / SPLIT_SIZES).read_text())
    training = read_record(TRAIN_RUN, root)
    history = read_training_history(root / TRAIN_LIVE_DIR)
    gpt2_sweep = pd.read_csv(results_file(GPT2_GENERATION_SWEEP, root, ".csv"))
    choice, reason = recommend(metrics, config)
    m = config.primary_metric

    comparison_table(metrics).to_csv(root / MODEL_COMPARISON, index=False)
    plot_learning_curves(history, plots_dir / "learning_curves.png")
    plot_rouge_with_ci(metrics, plots_dir / "rouge_ci.png")
    plot_quality_vs_cost(metrics, m, plots_dir / "quality_vs_cost.png")
    plot_sweep(gpt2_sweep, "name", m, "Transformer generation settings on val",
               plots_dir / "gpt2_generation_sweep.png")
    sections = [
        "# Tweet autocomplete: LSTM against a pretrained transformer",
        f"**Recommendation: ship the {choice}.** Rule ({m}, the primary metric): if one model's {m} is higher "
        f"beyond both 95% confidence intervals, it wins, unless it is the transformer and exceeds the "
        f"{config.max_model_mb:.0f} MB mobile budget; if the intervals overlap, the LSTM wins when it is at least "
        f"{config.min_size_ratio:.0f}x smaller and {config.min_speed_ratio:.0f}x faster at batch 1. "
        f"Here {reason}.",
        "## Setup",
        f"- Data: `{data['raw']}` ({data['layout']} layout): {data['read']:,} tweets read, {data['kept']:,} kept "
        f"after cleaning (dropped: {_drop_counts(data)}); "
        f"split train {split['train']:,} / val {split['val']:,} / test {split['test']:,}.",
        f"- Protocol: each test text of at least 4 words is cut after its first 3/4 of words; every model must "
        f"produce exactly as many words as the rest holds; rouge-score F1 without stemming, an empty completion "
        f"scores 0; {metrics['lstm']['n_texts']:,} texts, the same for every model; 95% bootstrap intervals.",
        f"- LSTM: {metrics['lstm']['model']}, {training['parameters']:,} parameters, vocabulary "
        f"{training['vocab_size']:,}, best epoch {training['best_epoch']} of {training['epochs_run']} "
        f"({training['train_seconds']:.0f} s of training); decoding `{metrics['lstm']['decoding']}` chosen on val.",
        f"- Transformer: `{metrics['gpt2']['model']}` with generation settings `{metrics['gpt2']['generation']}` "
        f"chosen on val.",
        f"- Machine: {metrics['lstm'].get('machine', 'not recorded')}.",
        "## Results on the test texts",
        headline_table(metrics),
        "![ROUGE with confidence intervals](../plots/rouge_ci.png)",
        "![Quality against size and latency](../plots/quality_vs_cost.png)",
        "## Training",
        markdown_table(history.reset_index()[["epoch", "train_loss", "val_loss", "val_perplexity", "val_rouge1",
                                              "val_rouge2", "val_rougeL"]]),
        "![Learning curves](../plots/learning_curves.png)",
        "## Hyper-parameter and generation-setting sweeps",
    ]
    if lstm_sweep is not None and Path(lstm_sweep).exists():
        sweep = pd.read_csv(lstm_sweep)
        sections += ["LSTM hyper-parameters, one `dvc exp run` each, scored on val (`benchmarks/lstm_sweep.sh`):",
                     markdown_table(sweep)]
    sections += [f"LSTM decoding settings on val (chosen by {m}):",
                 markdown_table(pd.read_csv(results_file(LSTM_DECODING_SWEEP, root, ".csv"))),
                 "Transformer generation settings on val:", markdown_table(gpt2_sweep),
                 "![Generation sweep](../plots/gpt2_generation_sweep.png)",
                 "## For the phone",
                 mobile_table(metrics[LSTM], read_record(LSTM_INT8, root)),
                 f"## Examples (the first {config.examples} of a seeded sample of test texts)",
                 markdown_table(side_by_side(root, config.examples))]
    return "\n\n".join(sections) + "\n"


def _drop_counts(data: dict[str, Any]) -> str:
    return ", ".join(f"{k.removeprefix('dropped_').replace('_', ' ')} {v:,}" for k, v in data.items()
                     if k.startswith("dropped_"))
