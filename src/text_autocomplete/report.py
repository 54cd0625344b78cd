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

from text_autocomplete.comparison import METRIC_NAMES, Difference, percent, read_comparison
from text_autocomplete.decision import PRIMARY_CHOICES, Decision, decide, rule_text
from text_autocomplete.errors import UserError
from text_autocomplete.evaluation import MIN_WORDS, EvalConfig
from text_autocomplete.evaluation import ROUGE_TYPES as ROUGE
from text_autocomplete.paths import (
    DATA_COUNTS,
    EXAMPLE_PROMPTS,
    GPT2_GENERATION_SWEEP,
    GPT2_PROMPT_SWEEP,
    LSTM_DECODING_SWEEP,
    MIXTURE_WEIGHTS,
    MODEL_COMPARISON,
    NGRAM_ORDERS,
    PHONE_NGRAM_FILE,
    PHONE_NGRAM_SWEEP,
    PLOTS_DIR,
    SPLIT_SIZES,
    TRAIN_LIVE_DIR,
    TRAIN_LIVE_SUMMARY,
    TRAIN_RECORD,
    prompts_file,
    results_file,
)
from text_autocomplete.records import read_record
from text_autocomplete.registry import (
    BASELINE,
    LABELS,
    LIGHT_MODELS,
    LSTM_ALONE,
    MODELS,
    PAIRS,
    PHONE,
    PHONE_SOURCE,
    SHIPPED,
    SHOWN_PAIRS,
    TRANSFORMER,
)
from text_autocomplete.selection import CHOSEN, BudgetConfig

LIGHT, HEAVY = SHIPPED, TRANSFORMER  # the default light model and the transformer, set side by side
# Between these markers the report holds its summary; the README holds the same block (tests/test_readme.py).
SUMMARY_START, SUMMARY_END = "<!-- summary: made by the report stage -->", "<!-- end of summary -->"
# Likewise the section on data against capacity, made from the figures benchmarks/data_scaling.py writes here.
DATA_SCALING = "reports/benchmarks/data_scaling.json"
SCALING_START = f"<!-- data and capacity: made by the report stage from {DATA_SCALING} -->"
SCALING_END = "<!-- end of data and capacity -->"
SCALING_MODELS = {"mixture": LABELS[SHIPPED], "lstm": LABELS[LSTM_ALONE]}  # the benchmark's models, as labelled
# The sweep tables benchmarks/lstm_sweep.sh writes (short: sizes and rates at 2 epochs; long: 10 epochs; awd:
# regularisers, shapes and rates at reduced cost; confirm: the best of those at full length; vocab: 10k, 20k and 30k
# words at full length), and two levers measured beside them: a seed ensemble (benchmarks/seed_ensemble.py) and the
# vocabulary on the phone (benchmarks/phone_vocab.py). Read by the report stage alone, so they are named here and
# not in paths.py, which every stage depends on: a new table re-runs the report, not the pipeline.
VOCAB_SWEEP = "reports/lstm_sweep_vocab.csv"
LSTM_SWEEPS = ("reports/lstm_sweep.csv", "reports/lstm_sweep_long.csv", "reports/lstm_sweep_awd.csv",
               "reports/lstm_sweep_confirm.csv", VOCAB_SWEEP)
SEED_ENSEMBLE = "reports/benchmarks/seed_ensemble.json"
PHONE_VOCAB = "reports/benchmarks/phone_vocab.json"
# The vocabulary sweep's verdict and the two levers beside it, in words, between these markers: the README holds the
# same block (tests/test_readme.py).
LEVERS_START = "<!-- levers: made by the report stage from the vocabulary sweep and the benchmarks beside it -->"
LEVERS_END = "<!-- end of levers -->"
# What data_scaling_section reads from that file: benchmarks/data_scaling.py checks that it writes each of them.
SCALING_FIELDS = ("command", "date", "recipe_hash", "confidence", "val_texts_top3", "val_texts_rouge",
                  "full_corpus_train_texts", "rows", "trend", "capacity", "conclusion")


@dataclass
class ReportConfig:
    """The ``report`` section of params.yaml: the decision rule and the examples shown."""

    primary_metrics: list[str]  # the paired differences on these decide between the models that fit (decision.py)
    examples: int
    # The phone model's targets (its size budget is phone.max_mb, which eval_lstm cuts its n-gram to fit):
    phone_tolerance: float  # its quality within this of the fp32 model's (the paired difference, and its interval)
    phone_max_memory_mb: float  # its process memory once loaded
    phone_max_word_ms: float  # p95 time per finished word while typing
    phone_min_agreement: float  # share of test contexts whose top-3 equal its PyTorch source's

    def __post_init__(self) -> None:
        unknown = [m for m in self.primary_metrics if m not in PRIMARY_CHOICES]
        if not self.primary_metrics or unknown:
            raise UserError(f"params.yaml report.primary_metrics={self.primary_metrics}: a list of "
                            f"{', '.join(PRIMARY_CHOICES)}")
        for name in ("phone_tolerance", "phone_max_memory_mb", "phone_max_word_ms"):
            if not getattr(self, name) > 0:
                raise UserError(f"params.yaml report.{name}={getattr(self, name)}: must be above 0")
        if not 0 < self.phone_min_agreement <= 1:
            raise UserError(f"params.yaml report.phone_min_agreement={self.phone_min_agreement}: a share in (0, 1]")


def fmt(value: float, digits: int = 4) -> str:
    return f"{value:.{digits}f}"


def load_metrics(root: Path) -> dict[str, dict[str, Any]]:
    """Each compared model's record (its metrics and results), by key."""
    return {model.key: read_record(model.key, root) for model in MODELS}


# --------------------------------------------------------------------------- the decision
def lookup_in(comparisons: list[list[Difference]]):
    """decision.Lookup over the pairs written: a minus b on a metric, read either way round; None when the pair
    was not compared on it."""
    table = {(d.a, d.b, d.metric): d for differences in comparisons for d in differences}

    def lookup(a: str, b: str, metric: str) -> Difference | None:
        if (a, b, metric) in table:
            return table[a, b, metric]
        return table[b, a, metric].flipped() if (b, a, metric) in table else None

    return lookup


def recommendation(decision: Decision, config: ReportConfig, budget: BudgetConfig, confidence: float) -> str:
    verdict = f"ship the {LABELS[decision.choice]}" if decision.choice else "no model fits the budgets"
    return (f"**Recommendation: {verdict}.** The rule, applied to every model below: "
            f"{rule_text(config.primary_metrics, budget, confidence)}.\n\n" + " ".join(decision.reasons))


def costs_sentence(light: dict[str, Any], heavy: dict[str, Any]) -> str:
    """Size and speed side by side, each measured in its own setup (stated in the table), never mixed."""
    cheapest = ("" if heavy["first_candidate"] == heavy["generation"]["name"] else
                f"; with its first (cheapest) generation candidate, {heavy['first_candidate']}, the {LABELS[HEAVY]} "
                f"takes {heavy['time_ms_first_candidate']:.2f} ms")
    return (f"Costs, each model as measured in the setup stated in the table: the {LABELS[LIGHT]}'s files are "
            f"{heavy['size_mb'] / max(light['size_mb'], 1e-9):.0f}x smaller than the {LABELS[HEAVY]}'s file "
            f"({light['size_mb']:.1f} MB against {heavy['size_mb']:.1f} MB; in memory {light['weights_in_memory_mb']:,.1f} "
            f"MB against {heavy['weights_in_memory_mb']:,.1f} MB), and at batch 1 it completes a text "
            f"{heavy['time_ms'] / max(light['time_ms'], 1e-9):.0f}x faster with the decodings chosen on val "
            f"({light['time_ms']:.2f} ms, {light['decoding']['name']}, against {heavy['time_ms']:.2f} ms, "
            f"{heavy['generation']['name']}){cheapest}.")


# --------------------------------------------------------------------------- tables
def headline_table(metrics: dict[str, dict[str, Any]], confidence: float) -> str:
    """Quality and size per model (what a re-run on the CPU reproduces exactly; the timings are in `costs_table`)."""
    level = percent(confidence)
    lines = [f"| model | ROUGE-1 [{level} CI] | ROUGE-2 [{level} CI] | ROUGE-L [{level} CI] | next-word top-1 "
             f"| next-word top-3 | first word of the completion | keystroke savings | parameters | size MB "
             f"| in memory MB | texts | measured setup |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for model in MODELS:
        r = metrics[model.key]
        cells = [f"{fmt(r[k])} [{fmt(r[k + '_ci'][0])}, {fmt(r[k + '_ci'][1])}]" for k in ROUGE]
        saved = f"{r['keys_saved']:.1%}" if "keys_saved" in r else "-"
        lines.append(f"| {model.label}: {r['model']} | {' | '.join(cells)} | {fmt(r['top1'])} | {fmt(r['top3'])} "
                     f"| {fmt(r['first_word'])} | {saved} | {r['parameters']:,} | {r['size_mb']:.1f} "
                     f"| {r['weights_in_memory_mb']:,.1f} | {r['n_texts']} | {r['setup']} |")
    return "\n".join(lines)


def costs_table(metrics: dict[str, dict[str, Any]]) -> str:
    """Size, memory and time per model, each measured in its setup (headline_table states it)."""
    lines = ["| model | size MB | weights in memory MB | ms/text batch 1 | ms/text batched |", "|---|---|---|---|---|"]
    for model in MODELS:
        r = metrics[model.key]
        lines.append(f"| {model.label} | {r['size_mb']:.1f} | {r['weights_in_memory_mb']:,.1f} | {r['time_ms']:.2f} "
                     f"| {r['ms_per_text_batched']:.2f} |")
    return "\n".join(lines)


def paired_table(comparisons: list[list[Difference]]) -> str:
    """One row per pair: the mean per-text difference a - b and its paired interval, per metric."""
    lines = ["| a - b, on the same texts | " + " | ".join(METRIC_NAMES.values()) + " |",
             "|---|" + "---|" * len(METRIC_NAMES)]
    for differences in comparisons:
        first, by_metric = differences[0], {d.metric: d for d in differences}
        cells = [f"{d.mean:+.4f} [{d.low:+.4f}, {d.high:+.4f}]" if (d := by_metric.get(m)) else "-"
                 for m in METRIC_NAMES]
        lines.append(f"| {LABELS[first.a]} - {LABELS[first.b]} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def light_table(metrics: dict[str, dict[str, Any]]) -> str:
    """Perplexity and what a keyboard user gets, for every light model (their records)."""
    lines = ["| model | val perplexity | test perplexity | keystroke savings | next word top-1 / top-3, every word "
             "| next word top-3 at the 3/4 cut | size MB |", "|---|---|---|---|---|---|---|"]
    for key in LIGHT_MODELS:
        r = metrics[key]
        lines.append(f"| {LABELS[key]} | {r['val_perplexity']:.1f} | {r['test_perplexity']:.1f} "
                     f"| {r['keys_saved']:.1%} | {r['all_positions_top1']:.1%} / {r['all_positions_top3']:.1%} "
                     f"| {r['top3']:.1%} | {r['size_mb']:.1f} |")
    return "\n".join(lines)


def keyboard_sentence(light: dict[str, Any], heavy: dict[str, Any]) -> str:
    """How the keyboard simulation was run, and why the transformer is not in it (with the measured cost)."""
    keystrokes = light["keyboard_characters"]
    bars = keystrokes - light["keyboard_words"]  # one before each letter; a space needs none
    hours = bars * heavy["time_ms"] / 3.6e6
    return (f"Perplexity: every word and the end of each text (an out-of-vocabulary word counts as `<unk>` for "
            f"every model), on the whole val split and on the {light['n_texts']:,} test texts. The keyboard "
            f"simulation (src/text_autocomplete/keyboard.py) types those test texts, {light['keyboard_words']:,} "
            f"words and {keystrokes:,} keystrokes (letters and a space per word), letter by letter with "
            f"{light['keyboard_suggestions']} suggestions before each letter; a tap on a shown word enters it and its "
            f"space. The {LABELS[BASELINE]} types with its word counts (the same ranking after any words). The "
            f"{LABELS[HEAVY]}'s next-word ranking at the cut is its beams over the first word "
            f"({heavy['next_word_ranking']}), but it is not "
            f"simulated: its vocabulary is sub-word pieces, so ranking the words that begin with a typed prefix "
            f"takes a constrained search per suggestion bar; at even one completion's cost per bar "
            f"({heavy['time_ms']:.0f} ms measured), the {bars:,} bars would take {hours:.0f} hours on this machine.")


PHONE_METRICS = ("top3", "keys_saved", "top1", "rouge1")  # the phone table's quality figures, the keyboard's first


def phone_table(fp32: dict[str, Any], phone: dict[str, Any], lookup, confidence: float, config: ReportConfig,
                cutoffs: pd.DataFrame) -> str:
    """The phone model's files, memory and time per key press, each against its target (params.yaml: phone.max_mb,
    report.phone_*), its quality against the fp32 light model it is made from (paired, text by text), the program's
    parity with its PyTorch source, and the n-gram's cut-off."""
    files, level = phone["files_bytes"], percent(confidence)

    def meets(ok: bool) -> str:
        return "yes" if ok else "**no**"

    rows = ["| file (models/mobile) | bytes |", "|---|---|", *(f"| `{name}` | {size:,} |" for name, size in files.items()),
            f"| all | {sum(files.values()):,} |", "",
            "| figure | measured | target | met |", "|---|---|---|---|",
            f"| files on disk | {phone['size_mb']:.2f} MB | at most {phone['max_mb']:g} MB | "
            f"{meets(phone['size_mb'] <= phone['max_mb'])} |",
            f"| memory after load (a fresh process's resident memory, before and after loading and one "
            f"suggestion) | {phone['memory_after_load_mb']:.1f} MB | at most {config.phone_max_memory_mb:g} MB | "
            f"{meets(phone['memory_after_load_mb'] <= config.phone_max_memory_mb)} |",
            f"| per finished word while typing (one program step, the top-3 next words), p50 / p95 "
            f"| {phone['ms_per_word_p50']:.2f} / {phone['ms_per_word_p95']:.2f} ms | p95 at most "
            f"{config.phone_max_word_ms:g} ms | {meets(phone['ms_per_word_p95'] <= config.phone_max_word_ms)} |",
            f"| per letter (the top-3 words with the typed prefix), p50 / p95 | {phone['ms_per_letter_p50']:.3f} / "
            f"{phone['ms_per_letter_p95']:.3f} ms | | |",
            f"| the program's top-3 next words at the cut the same as its PyTorch source's (same int8 weights), of "
            f"{phone['parity_contexts']:,} test texts | {100 * phone['top3_same_as_source']:.1f}% (in the same order "
            f"{100 * phone['top3_in_order_as_source']:.1f}%) | at least {100 * config.phone_min_agreement:g}% | "
            f"{meets(phone['top3_same_as_source'] >= config.phone_min_agreement)} |", "",
            f"Times: {phone['typed_texts']} test texts typed from their start at batch 1 (`autocomplete.typing_times`; "
            f"also `python benchmarks/keystroke_latency.py`). The program's largest difference from its source in a "
            f"log-probability: {phone['max_abs_log_prob_diff_source']:.2f} (activations are quantised per step, "
            f"and a rounding that differs once carries through the state); against the fp32 LSTM, the same top-3 "
            f"for {100 * phone['top3_same_as_fp32']:.1f}% (in order {100 * phone['top3_in_order_as_fp32']:.1f}%).", "",
            f"| figure | {LABELS[PHONE_SOURCE]} (fp32) | {LABELS[PHONE]} | {LABELS[PHONE]} - fp32 [{level} paired] "
            f"| difference within {100 * config.phone_tolerance:g} points | its whole interval within |",
            "|---|---|---|---|---|---|"]
    for metric in PHONE_METRICS:
        d = lookup(PHONE, PHONE_SOURCE, metric)
        rows.append(f"| {METRIC_NAMES[metric]} | {fmt(fp32[metric])} | {fmt(phone[metric])} "
                    f"| {d.mean:+.4f} [{d.low:+.4f}, {d.high:+.4f}] | {meets(abs(d.mean) <= config.phone_tolerance)} "
                    f"| {meets(-config.phone_tolerance <= d.low and d.high <= config.phone_tolerance)} |")
    rows += ["", f"The phone's n-gram: count cut-offs on val perplexity (the phone n-gram alone), the lowest among those "
                 f"whose files fit; {phone['ngram_min_count']} is used:", "",
             markdown_table(cutoffs), "",
             f"Finishing the word being typed ({LABELS[PHONE_SOURCE]}, fp32), on {fp32['midword_texts']:,} test texts "
             f"cut inside a word at a seeded random point: top-1 {fmt(fp32['midword_top1'])}, top-3 "
             f"{fmt(fp32['midword_top3'])}, {fmt(fp32['midword_keystrokes_saved'])} of the remaining keystrokes "
             f"saved (the transformer was not measured here: its subword vocabulary has no word list to filter)."]
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
    """Every model's completions of the project's own example prompts (never a real tweet), one column per model."""
    table = None
    for model in MODELS:
        frame = pd.read_csv(prompts_file(model.key, root), keep_default_na=False)
        frame = frame[["prompt", "completion"]].rename(columns={"completion": model.label})
        table = frame if table is None else table.merge(frame, on="prompt", how="inner", sort=False)
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
                         for key, label in LABELS.items() for kind in ROUGE])


def plot_rouge_with_ci(metrics: dict[str, dict[str, Any]], confidence: float, path: Path) -> None:
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(8, 4))
    width = 0.8 / len(MODELS)
    for offset, (key, label) in enumerate(LABELS.items()):
        means = [metrics[key][k] for k in ROUGE]
        errors = [[m - metrics[key][k + "_ci"][0] for m, k in zip(means, ROUGE)],
                  [metrics[key][k + "_ci"][1] - m for m, k in zip(means, ROUGE)]]
        ax.bar([i + (offset - (len(MODELS) - 1) / 2) * width for i in range(3)], means, width, yerr=errors,
               capsize=4, label=label)
    ax.set_xticks(range(3), ["ROUGE-1", "ROUGE-2", "ROUGE-L"])
    ax.set(ylabel=f"F1 (mean, {percent(confidence)} bootstrap CI)", title="Completion quality on the same test texts")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def log_ticks(values: list[float]) -> list[float]:
    """1-2-5 ticks covering `values` on a log axis: few enough that their labels never overlap."""
    low, high = min(values), max(values)
    ticks = [m * 10.0 ** e for e in range(-3, 6) for m in (1, 2, 5)]
    inside = [t for t in ticks if low / 2 <= t <= high * 2]
    return inside[::-(-len(inside) // 6)]  # at most 6


def plot_quality_vs_cost(metrics: dict[str, dict[str, Any]], metric: str, path: Path) -> None:
    """Every model's `metric` (with its interval) against its file size and its latency; the baseline, which has
    no file and no model, is a line."""
    plt = _pyplot()
    from matplotlib.ticker import NullLocator

    fig, axes = plt.subplots(1, 2, figsize=(12, 5))
    costs = (("size_mb", "size on disk, MB"), ("time_ms", "ms per text, batch 1"))
    models = [model.key for model in MODELS if model.key != BASELINE]
    for ax, (cost, label) in zip(axes, costs):
        ax.axhline(metrics[BASELINE][metric], color="grey", linestyle="--", label=LABELS[BASELINE])
        for key in models:
            r = metrics[key]
            ax.errorbar(r[cost], r[metric], fmt="o", capsize=4, label=LABELS[key],
                        yerr=[[r[metric] - r[metric + "_ci"][0]], [r[metric + "_ci"][1] - r[metric]]])
        ax.set(xscale="log", xlabel=label, ylabel=metric, title=f"{metric} against {label}")
        values = [metrics[key][cost] for key in models]
        ticks = log_ticks(values)
        ax.xaxis.set_minor_locator(NullLocator())  # minor labels on a log axis are what overlapped
        ax.set_xticks(ticks, [f"{t:g}" for t in ticks])
        ax.set_xlim(min(values) / 2, max(values) * 2)
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=len(labels), fontsize=9, frameon=False)
    fig.tight_layout(rect=(0, 0.07, 1, 1))  # the shared legend below, off every point
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
@dataclass(frozen=True)
class Report:
    text: str  # the Markdown of reports/report.md
    recommendation: str  # its recommendation, one paragraph (what the stage prints)


def summary(root: Path, config: ReportConfig, budget: BudgetConfig) -> str:
    """The results in brief (`brief`), read from the files under `root`."""
    return brief(load_metrics(root), [read_comparison(a, b, root) for a, b in PAIRS], config, budget)[0]


def brief(metrics: dict[str, dict[str, Any]], comparisons: list[list[Difference]], config: ReportConfig,
          budget: BudgetConfig) -> tuple[str, str]:
    """The results in brief, from the runs' records and the comparisons of PAIRS (in its order): the decision, the
    headline table, the shown pairs' differences and the light models as language models and keyboards; and the
    decision alone. The report opens with the summary and the README holds the same block, so it quotes no timing
    (a re-run moves those; the report's costs table has them)."""
    confidence = comparisons[0][0].confidence
    shown = comparisons[:len(SHOWN_PAIRS)]
    light_vs_heavy = next(c for c in shown if (c[0].a, c[0].b) == (LIGHT, HEAVY))
    decision = decide(metrics, lookup_in(comparisons), config.primary_metrics, budget)
    decided = recommendation(decision, config, budget, confidence)
    suggestions = metrics[LIGHT]["keyboard_suggestions"]
    return "\n\n".join([
        SUMMARY_START,
        decided,
        headline_table(metrics, confidence),
        f"Paired differences on the same {metrics[LIGHT]['n_texts']:,} test texts (mean of per-text a - b, "
        f"{percent(confidence)} paired bootstrap interval; an interval that holds 0 is no measurable difference; "
        f"every other pair is in reports/report.md):",
        paired_table(shown),
        "In words: " + "; ".join(d.sentence() for d in light_vs_heavy) + ".",
        f"The light models as language models (perplexity of every word and text end, val split and the test "
        f"texts) and as a keyboard (keystroke savings typing the {metrics[LIGHT]['n_texts']:,} test texts letter by "
        f"letter with {suggestions} suggestions; next word at every position; src/text_autocomplete/keyboard.py):",
        light_table(metrics),
        "Timings (they move from run to run on a shared machine): the costs table of reports/report.md.",
        SUMMARY_END,
    ]), decided


def with_interval(figure: dict[str, Any], percentage: bool, signed: bool = False) -> str:
    """A figure and its interval as the data-scaling tables print it: 29.4% [28.1, 30.6] or 0.1113 [0.1001, 0.1220];
    `signed` for a difference (+1.2 [+0.3, +2.1] points)."""
    scale, digits = (100, 1) if percentage else (1, 4)
    sign = "+" if signed else ""
    low, high = (f"{v * scale:{sign}.{digits}f}" for v in figure["interval"])
    unit = "%" if percentage and not signed else ""
    return f"{figure['mean'] * scale:{sign}.{digits}f}{unit} [{low}, {high}]"


def paired_points(figure: list[float], name: str) -> str:
    """A paired difference [mean, low, high] of a share, in points, and what its interval says: 'top-3 +0.15 points
    [-0.90, +1.20], no measurable difference'."""
    mean, low, high = (100 * v for v in figure)
    verdict = "higher" if low > 0 else "lower" if high < 0 else "no measurable difference"
    return f"{name} {mean:+.2f} points [{low:+.2f}, {high:+.2f}], {verdict}"


def seed_ensemble_sentence(figures: dict[str, Any], source: str = SEED_ENSEMBLE) -> str:
    """The seed ensemble's figures (benchmarks/seed_ensemble.py) in words, each difference worded from its interval."""
    runs, seeds, level = figures["runs"], figures["seeds"], percent(figures["confidence"])
    perplexity = figures["lstm_alone_val_perplexity"]

    def both(key: str) -> str:
        return (paired_points(figures[key]["top3"], "top-3") + "; "
                + paired_points(figures[key]["keys_saved"], "keystroke savings"))

    weights = figures["ngram_weights"]
    return (f"A seed ensemble (`{figures['command']}`, `{source}`): the {runs['base']} and {runs['other']} LSTMs, the "
            f"recipe at seeds {seeds['base']} and {seeds['other']} ({figures['parameters_each']:,} parameters each), "
            f"averaged word by word and mixed with the n-gram model at weight {weights['ensemble']:g} (chosen for the "
            f"pair on val perplexity), against {runs['base']}'s mixture (weight {weights['base']:g}), paired over the "
            f"same val texts ({figures['val_texts_top3']:,} for top-3, {figures['val_texts_keyboard']:,} for keystroke "
            f"savings; {level} intervals): {both('ensemble_vs_base')}. The yardstick of a seed, {runs['other']}'s LSTM "
            f"in {runs['base']}'s mixture against {runs['base']}'s: {both('other_seed_vs_base')}. Val perplexity of "
            f"the LSTMs alone (one vocabulary, so it compares): {runs['base']} {perplexity['base']:.2f}, "
            f"{runs['other']} {perplexity['other']:.2f}, the two averaged {perplexity['ensemble']:.2f}. The ensemble "
            f"runs both LSTMs for every suggestion, {2 * figures['parameters_each']:,} parameters in all: twice one "
            f"LSTM's size and work.")


def phone_vocab_sentence(figures: dict[str, Any], source: str = PHONE_VOCAB) -> str:
    """The vocabulary arm on the phone (benchmarks/phone_vocab.py) in words: each run's phone files against the
    budget, and its val figures paired with the base's phone."""
    runs, base = figures["runs"], figures["base"]

    def files(run: dict[str, Any]) -> str:
        without = sum(b for name, b in run["files_bytes"].items() if name != PHONE_NGRAM_FILE) / 1e6
        at = f"{run['files_mb']:.2f} MB of phone files at n-gram cut-off {run['ngram_min_count']}"
        return (f"{at}, within the {run['max_mb']:g} MB budget" if run["fits"] else
                f"{at} (the lowest val perplexity), over the {run['max_mb']:g} MB budget, which no cut-off meets: the "
                f"files other than the n-gram are {without:.2f} MB already")

    others = [f"{name} ({run['vocab_size']:,} words, {run['parameters']:,} LSTM parameters): {files(run)}; "
              + paired_points(run["top3_vs_base"], "top-3") + "; "
              + paired_points(run["keys_saved_vs_base"], "keystroke savings")
              for name, run in runs.items() if name != base]
    return (f"The vocabulary on the phone (`{figures['command']}`, `{source}`): each run's phone model made as "
            f"eval_lstm makes the shipped one (where it fits the budget; eval_lstm stops where none fits), run as "
            f"the phone runs it and paired over the same val texts "
            f"({figures['val_texts_top3']:,} for top-3, {figures['val_texts_keyboard']:,} for keystroke savings; "
            f"{percent(figures['confidence'])} intervals) with {base}'s ({files(runs[base])}): "
            + "; ".join(others) + ".")


def levers_section(root: Path, vocab_sweep: Path | None = VOCAB_SWEEP, seed_ensemble: Path | None = SEED_ENSEMBLE,
                   phone_vocab: Path | None = PHONE_VOCAB, confidence: float | None = None) -> str | None:
    """The vocabulary sweep's verdict (`vocabulary_sentence`), the seed ensemble and the vocabulary on the phone, from
    those of their files that exist under `root`, between the LEVERS markers (the README holds the same block);
    None when none exists. Each benchmark's intervals are at the level it ran with; where eval.confidence
    (`confidence`) is now another, the block says so."""
    parts, levels = [], set()
    if vocab_sweep and (root / vocab_sweep).exists():
        parts.append(f"The vocabulary (`{vocab_sweep}`, the report's sweep table of that name): "
                     + vocabulary_sentence(pd.read_csv(root / vocab_sweep)))
    for path, sentence in ((seed_ensemble, seed_ensemble_sentence), (phone_vocab, phone_vocab_sentence)):
        if path and (root / path).exists():
            figures = json.loads((root / path).read_text())
            parts.append(sentence(figures, str(path)))
            levels.add(figures["confidence"])
    if not parts:
        return None
    if confidence is not None and levels - {confidence}:
        parts.append(f"These benchmarks' intervals are {', '.join(percent(level) for level in sorted(levels))}, not "
                     f"eval.confidence's {percent(confidence)}: run them again for those.")
    return "\n\n".join([LEVERS_START, *parts, LEVERS_END])


def data_scaling_section(figures: dict[str, Any], confidence: float | None = None,
                         source: str = DATA_SCALING) -> str:
    """The data-scaling benchmark's figures as tables: every share (means over its seeds), the fitted gain per
    doubling and its value at the full corpus's size, the capacity arm's paired gains, and the benchmark's
    conclusion, between the SCALING markers (the README holds the same block). Its intervals are at the level the
    benchmark ran with; where eval.confidence (`confidence`) is now another, the section says so. `source` is the
    file the figures were read from, named in the section and in its errors."""
    missing = [key for key in SCALING_FIELDS if key not in figures]
    if missing:
        raise UserError(f"{source}: no {', '.join(missing)} (written by an older benchmarks/data_scaling.py); "
                        f"run python benchmarks/data_scaling.py again")
    level = percent(figures["confidence"])
    rows, models = figures["rows"], list(SCALING_MODELS)
    counts = sorted({len(row["seeds"]) for row in rows})
    seeds = str(counts[0]) if len(counts) == 1 else f"{counts[0]} to {counts[-1]}"
    over = "seeds and texts" if counts[-1] > 1 else "texts"
    shares = "\n".join(
        f"| {row['share']} | {row['train_texts']:,} | {' / '.join(f'{v:,}' for v in row['vocab_size'])} | "
        + " | ".join(with_interval(row[model]["top3"], True) for model in models) + " | "
        + " | ".join(with_interval(row[model]["rouge1"], False) for model in models) + " |" for row in rows)
    trend = "\n".join(
        f"| {SCALING_MODELS[model]} | {with_interval(_line(t['top3'], 'per_doubling'), True, signed=True)} points | "
        f"{with_interval(_line(t['top3'], 'last_doubling'), True, signed=True)} points | "
        f"{with_interval(_line(t['rouge1'], 'per_doubling'), False, signed=True)} | "
        f"{with_interval(_line(t['top3'], 'at_full_corpus'), True)} | "
        f"{with_interval(_line(t['rouge1'], 'at_full_corpus'), False)} |"
        for model, t in ((model, figures["trend"][model]) for model in models))
    capacity = "\n".join(
        f"| {g['hidden']:,} | {g['share']} | {g['parameters']:,} | "
        + " | ".join(with_interval(g[model]["top3"], True, signed=True) for model in models) + " | "
        + with_interval(g["mixture"]["rouge1"], False, signed=True) + " | "
        + ("-" if g["seed_difference"] is None else with_interval(g["seed_difference"]["mixture"]["top3"], True,
                                                                    signed=True)) + " |"
        for g in figures["capacity"])
    mix, alone = (SCALING_MODELS[model] for model in models)
    return "\n\n".join([
        SCALING_START,
        f"`{figures['command']}` ({figures['date']}; recipe `{figures['recipe_hash']}`) trains train_lstm's recipe "
        f"as params.yaml held it on shares of the train split ({seeds} seeds per share; below all of train each "
        f"seed draws its own share) and "
        f"scores every run on the same val texts: next-word top-3 at the 3/4 cut on {figures['val_texts_top3']:,} "
        f"texts, ROUGE-1 with the committed decoding on {figures['val_texts_rouge']:,}. Means over the seeds, "
        f"{level} intervals over {over}; perplexity is not compared, each share having its own vocabulary "
        f"({source}):",
        f"| share of train | training texts | vocabulary | top-3: {mix} | top-3: {alone} | ROUGE-1: {mix} | "
        f"ROUGE-1: {alone} |\n|---|---|---|---|---|---|---|\n{shares}",
        f"A straight line in log2(training texts), refitted in every resample: the gain per doubling, and where it "
        f"puts the course's full corpus ({figures['full_corpus_train_texts']:,} training texts):",
        f"| model | top-3 per doubling | top-3, the last doubling alone | ROUGE-1 per doubling | top-3 at the full "
        f"corpus | ROUGE-1 at the full corpus |\n|---|---|---|---|---|---|\n{trend}",
        "More LSTM units (projected to the same embedding), paired with the recipe's shape at the same share and "
        "seed on the same texts; beside it, what another seed of the recipe's shape moves at that share:",
        (f"| LSTM units | share of train | parameters | top-3 gain (points): {mix} | top-3 gain (points): {alone} | "
         f"ROUGE-1 gain: {mix} | another seed (points): top-3, {mix} |\n|---|---|---|---|---|---|---|\n{capacity}"
         if capacity else "None has run yet."),
        figures["conclusion"],
        *([] if confidence in (None, figures["confidence"]) else
          [f"These intervals are the benchmark's {level}, not eval.confidence's {percent(confidence)}: run "
           f"`python benchmarks/data_scaling.py` again for those (its kept runs are reused)."]),
        SCALING_END,
    ])


def _line(trend: dict[str, Any], name: str) -> dict[str, Any]:
    """One fitted figure of the data-scaling trend (`per_doubling` or `at_full_corpus`) as {mean, interval}."""
    return {"mean": trend[name], "interval": trend[f"{name}_interval"]}


def protocol_sentence(n_texts: int, eval_config: EvalConfig) -> str:
    """The evaluation protocol in words, from the constants and parameters that define it."""
    stemming = "with" if eval_config.use_stemmer else "without"
    level = percent(eval_config.confidence)
    return (f"- Protocol: each test text of at least {MIN_WORDS} words is cut after its first 3/4 of words; every "
            f"model must produce exactly as many words as the rest holds; its completion is cleaned like the corpus "
            f"and cut to that many words; rouge-score F1 {stemming} stemming, an empty completion scores 0; "
            f"{n_texts:,} texts, the same for every model; {level} bootstrap intervals per model, and paired ones "
            f"for differences.")


def build_report(root: Path, config: ReportConfig, budget: BudgetConfig, eval_config: EvalConfig,
                 lstm_sweeps: tuple[Path, ...] = (), data_scaling: Path | None = None, vocab_sweep: Path | None = None,
                 seed_ensemble: Path | None = None, phone_vocab: Path | None = None) -> Report:
    """Read the runs under the project folder `root` (with the paired comparisons already written), draw the
    figures into its plots/, write the model comparison for `dvc plots`, and return the report. The sweep tables
    `lstm_sweeps` are shown in turn, each with what it can compare across vocabularies; for `vocab_sweep`, one of
    them, that goes into `levers_section` with the benchmarks `seed_ensemble` and `phone_vocab`."""
    root = Path(root)
    plots_dir = root / PLOTS_DIR
    plots_dir.mkdir(parents=True, exist_ok=True)
    metrics = load_metrics(root)
    data = json.loads((root / DATA_COUNTS).read_text())
    split = json.loads((root / SPLIT_SIZES).read_text())
    training = json.loads((root / TRAIN_RECORD).read_text())
    best_epoch = json.loads((root / TRAIN_LIVE_SUMMARY).read_text())["best"]["epoch"]
    history = read_training_history(root / TRAIN_LIVE_DIR)
    gpt2_sweep = pd.read_csv(results_file(GPT2_GENERATION_SWEEP, root, ".csv"))
    prompt_sweep = pd.read_csv(results_file(GPT2_PROMPT_SWEEP, root, ".csv"))
    m = next((metric for metric in config.primary_metrics if metric in ROUGE), ROUGE[0])  # the figures' ROUGE
    light, heavy = metrics[LIGHT], metrics[HEAVY]

    comparison_table(metrics).to_csv(root / MODEL_COMPARISON, index=False)
    plot_learning_curves(history, plots_dir / "learning_curves.png")
    plot_rouge_with_ci(metrics, eval_config.confidence, plots_dir / "rouge_ci.png")
    plot_quality_vs_cost(metrics, m, plots_dir / "quality_vs_cost.png")
    plot_sweep(gpt2_sweep, "name", heavy["select_by"], "Transformer generation settings on val",
               plots_dir / "gpt2_generation_sweep.png")
    comparisons = [read_comparison(a, b, root) for a, b in PAIRS]  # each pair's file read once
    summary_block, decided = brief(metrics, comparisons, config, budget)
    sections = [
        "# Tweet autocomplete: light models (an LSTM, an n-gram model, their mixture) against a pretrained transformer",
        summary_block,
        "## Setup",
        f"- Data: `{data['raw']}` ({data['layout']} layout): {data['read']:,} tweets read, {data['kept']:,} kept "
        f"after cleaning (dropped: {_drop_counts(data)}); "
        f"split train {split['train']:,} / val {split['val']:,} / test {split['test']:,}.",
        protocol_sentence(light["n_texts"], eval_config),
        f"- Default light model ({LABELS[LIGHT]}): {light['model']}; next-word distributions mixed word by word, "
        f"(1 - w) LSTM + w n-gram, w chosen on val perplexity; decoding `{light['decoding']}` chosen on val with it "
        f"and used by every model with an LSTM. Its LSTM: "
        f"{training['parameters']:,} parameters, vocabulary {training['vocab_size']:,}, best epoch "
        f"{best_epoch} of {training['epochs_run']} ({training['train_seconds']:.0f} s of training). "
        f"Scored beside it: " + ", ".join(f"the {LABELS[key]}" for key in LIGHT_MODELS if key != LIGHT) + ".",
        f"- Transformer: `{heavy['model']}` with the setting `{heavy['generation']}` chosen on val: "
        f"{_prompt_reading(heavy)}.",
        f"- Machine: {light.get('machine', 'not recorded')}.",
        "## Results on the test texts",
        "![ROUGE with confidence intervals](../plots/rouge_ci.png)",
        "![Quality against size and latency](../plots/quality_vs_cost.png)",
        "Costs, each model as measured in its setup (this machine; the timings move from run to run):",
        costs_table(metrics),
        costs_sentence(light, heavy),
        keyboard_sentence(light, heavy),
        f"Every pair of models on the same test texts (a - b, {percent(eval_config.confidence)} paired intervals; "
        f"the decision weighs the pairs of the models that fit the budgets):",
        paired_table(comparisons),
        "The pairs of the summary in words:",
        "\n".join(f"- {d.sentence()}." for differences in comparisons[:len(SHOWN_PAIRS)] for d in differences),
        "## Training",
        markdown_table(history.reset_index()[["epoch", "train_loss", "val_loss", "val_perplexity", "val_rouge1",
                                              "val_rouge2", "val_rougeL"]]),
        "![Learning curves](../plots/learning_curves.png)",
        "## Hyper-parameter and generation-setting sweeps",
    ]
    for sweep in (root / sweep for sweep in lstm_sweeps):  # paths under root, like every other file read here
        if sweep.exists():
            table = pd.read_csv(sweep)
            whose = ("both models' paired differences" if "mix_top3_vs_base" in table.columns else
                     "the LSTM alone's paired difference")
            scored = ("; the models also scored on val by the task: next-word top-3 at the cut and keystroke "
                      f"savings, the LSTM alone (`lstm_`) and the mixture (`mix_`), and {whose} from the first row "
                      f"named in the sweep (`_vs_base`, with its {percent(eval_config.confidence)} interval)"
                      if "lstm_val_top3" in table.columns else "")
            sections += [f"LSTM hyper-parameters, one `dvc exp run` each, scored on val (`benchmarks/lstm_sweep.sh`, "
                         f"`{sweep.name}`{scored}):", markdown_table(table)]
            if not (vocab_sweep and sweep == root / vocab_sweep):  # that one's verdict is in the levers' block
                sections.append(vocabulary_sentence(table))
    if levers := levers_section(root, vocab_sweep, seed_ensemble, phone_vocab, eval_config.confidence):
        sections.append(levers)
    sections += ["Kneser-Ney n-gram orders on val perplexity (every word and end of text; the lowest is used):",
                 markdown_table(pd.read_csv(root / NGRAM_ORDERS)),
                 "The n-gram weight of the light model on val perplexity (the lowest is used):",
                 markdown_table(pd.read_csv(root / MIXTURE_WEIGHTS)),
                 f"Decoding settings of the light model on val: {sweep_rule(light, eval_config)}:",
                 markdown_table(pd.read_csv(results_file(LSTM_DECODING_SWEEP, root, ".csv"))),
                 f"How the transformer reads the prompt, on val with its first generation candidate "
                 f"({sweep_rule(heavy, eval_config, listed=True)}): "
                 f"the cleaned words or the words as typed, and whether the first new token must begin a new word:",
                 markdown_table(prompt_sweep),
                 f"Transformer generation settings on val, with the prompt setting chosen above: "
                 f"{sweep_rule(heavy, eval_config)}:",
                 markdown_table(gpt2_sweep),
                 "![Generation sweep](../plots/gpt2_generation_sweep.png)",
                 "## Short of data or of capacity?",
                 (data_scaling_section(json.loads((root / data_scaling).read_text()), eval_config.confidence, str(data_scaling))
                  if data_scaling and (root / data_scaling).exists() else
                  "Not measured for this report: `python benchmarks/data_scaling.py` measures it."),
                 "## For the phone",
                 phone_table(metrics[PHONE_SOURCE], metrics[PHONE], lookup_in(comparisons), eval_config.confidence,
                             config, pd.read_csv(results_file(PHONE_NGRAM_SWEEP, root, ".csv"))),
                 f"## Examples: the first {config.examples} of the project's own prompts ({EXAMPLE_PROMPTS}), "
                 f"{eval_config.prompt_words} words from each model",
                 f"Written for the project, not taken from the corpus (no real tweet enters the project's files); "
                 f"each model's completions of {eval_config.examples} seeded test texts are in "
                 f"results/<model>_examples.csv after `dvc repro` (DVC caches them, git ignores them).",
                 markdown_table(side_by_side(root, config.examples))]
    return Report("\n\n".join(sections) + "\n", decided)


def vocabulary_sentence(table: pd.DataFrame) -> str:
    """What a sweep table can compare across vocabularies: perplexity only within one (a larger vocabulary has fewer
    `<unk>` events, so its perplexity is higher by construction), a task metric across them, between two runs that
    differ in the vocabulary alone (its size and, where the table has it, the minimum count of a word). In a table
    paired against its base (its first row, where the table has `lstm_top3_vs_base`) the rows are compared with the
    base, quoting the paired intervals of top-3 and of keystroke savings that the table has (the LSTM alone's, and the
    mixture's)."""
    size, frequency = "tokenizer.vocab_size", "tokenizer.min_frequency"
    vocabulary = [c for c in (size, frequency) if c in table.columns]
    task = next((c for c in ("lstm_val_top3", "best_val_rouge1", "val_rouge1") if c in table.columns), None)
    if size not in table.columns or len(table[vocabulary].drop_duplicates()) < 2:
        return "Every row has the same vocabulary, so their perplexities compare."
    lead = ("Perplexity compares rows of the same vocabulary only (a larger vocabulary has fewer `<unk>` events, so "
            "its perplexity is higher by construction)")
    if task is None:
        return f"{lead}; this table has no task metric to compare across vocabularies."
    paired = task == "lstm_val_top3" and "lstm_top3_vs_base" in table.columns
    settings = [c for c in table.columns if "." in c and c not in vocabulary]  # the swept parameters

    def words(row: pd.Series) -> str:
        seen = (f", min_frequency {int(row[frequency])}" if frequency in vocabulary and pd.notna(row[frequency])
                else "")
        return f"{int(row[size]):,} words{seen}"

    # A row's vocabulary and settings as text, so that a value missing from both rows (NaN) matches itself
    def key(columns: list[str]) -> pd.Series:
        return table[columns].apply(lambda row: "/".join(map(str, row)), axis=1) if columns else pd.Series(
            "", table.index)

    vocab_key, setting_key = key(vocabulary), key(settings)
    common = vocab_key.iloc[0] if paired else vocab_key.value_counts().idxmax()  # the base, else the commonest
    # The paired columns the table has, metric by metric: [(metric's words, [(model's words, column)])]
    intervals = [(label, found) for label, metric in (("top-3", "top3"), ("keystroke savings", "keys_saved"))
                 if (found := [(who, f"{part}_{metric}_vs_base") for who, part in (("the LSTM alone", "lstm"),
                                                                                   ("the mixture", "mix"))
                               if f"{part}_{metric}_vs_base" in table.columns])]
    pairs = []  # (words, whether quoted with the paired interval)
    for index, row in table[vocab_key != common].iterrows():
        for other_index, other in table[(vocab_key == common) & (setting_key == setting_key[index])].iterrows():
            interval = paired and other_index == table.index[0]
            quoted = (", paired differences over the same texts in " + " and in ".join(
                f"{label} (" + ", ".join(f"{who} {row[column]}" for who, column in found) + ")"
                for label, found in intervals) if interval else "")
            pairs.append((f"{row['experiment']} ({words(row)}) {fmt(row[task])} against {other['experiment']} "
                          f"({words(other)}, otherwise the same) {fmt(other[task])}{quoted}", interval))
    if not pairs:
        return f"{lead}; no two rows differ in the vocabulary alone."
    note = ("pairs without an interval are means on the sweep's val texts, which kept no per-text scores"
            if any(interval for _, interval in pairs) else
            "means on the sweep's val texts, which kept no per-text scores: no paired interval")
    return (f"{lead}; across vocabularies the task metric does, {task.replace('_', ' ')}: "
            + "; ".join(text for text, _ in pairs) + ("." if all(interval for _, interval in pairs) else f" ({note})."))


def sweep_rule(record: dict[str, Any], eval_config: EvalConfig, listed: bool = False) -> str:
    """How a model's sweep chose (selection.choose_candidate), in words: its metric and cost order from its record."""
    order = ("in the listed order" if listed or not record["sweep_cost"] else
             f"cheapest first by `{record['sweep_cost']}`")
    return (f"{order}, a candidate replaces the one chosen so far only when it is better on val "
            f"{METRIC_NAMES[record['select_by']]} by the paired {percent(eval_config.confidence)} interval "
            f"(`{CHOSEN}` marks the one used)")


def _prompt_reading(record: dict[str, Any]) -> str:
    """How the transformer's prompts reached it on test, in words."""
    setting = record["generation"]
    if setting["prompt_form"] == "raw":
        form = (f"it read the prompt words as typed ({record['raw_prompts_missing']} of {record['n_texts']:,} test "
                f"prompts could not be cut apart as typed and went cleaned)")
    else:
        form = "it read the cleaned prompt words, as the LSTM does"
    rule = ("its first new token had to begin a new word" if setting["new_word_first"]
            else "its first new token could continue the prompt's last word")
    return f"{form}; {rule}"


def _drop_counts(data: dict[str, Any]) -> str:
    return ", ".join(f"{k.removeprefix('dropped_').replace('_', ' ')} {v:,}" for k, v in data.items()
                     if k.startswith("dropped_"))
