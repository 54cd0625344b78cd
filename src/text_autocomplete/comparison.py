"""Paired comparisons: two models scored on the same texts, compared text by text.

Every model's eval stage writes its score on each text (results/<key>_scores.csv). For a pair (a, b) and each
metric, the difference a - b is taken per text and its mean comes with a seeded bootstrap interval that resamples
texts once for both models: a paired bootstrap, which two separate intervals are not (they can overlap while
the paired interval excludes 0). The report stage writes each pair's mean differences to metrics/<a>-<b>.yml and
the intervals to results/<a>-<b>.json; every sentence that compares two models is made here from them.

Keystroke savings is a ratio over all texts (taps saved / taps without the keyboard, keyboard.py), so its paired
difference resamples texts and takes the ratio of the summed per-text differences; its mean is exactly the
difference of the two models' figures. A pair where a model has no keyboard run is not compared on it.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from text_autocomplete.errors import UserError
from text_autocomplete.evaluation import METRIC_KEYS, PER_TEXT_KEYS, EvalConfig, paired_difference
from text_autocomplete.measures import TAPS_SAVED, TAPS_WITHOUT
from text_autocomplete.paths import scores_file
from text_autocomplete.records import read_record, save_record
from text_autocomplete.registry import LABELS, PAIRS

KEYS_SAVED = "keys_saved"
COMPARED = (*PER_TEXT_KEYS, KEYS_SAVED)  # what a pair may be compared on, in this order
# What a pair's metrics file holds (the rest, with the intervals, is in its results file): the models' metric keys.
PAIR_METRIC_KEYS = tuple(key for key in COMPARED if key in METRIC_KEYS)
METRIC_NAMES = {"rouge1": "ROUGE-1", "rouge2": "ROUGE-2", "rougeL": "ROUGE-L", "top1": "next-word top-1",
                "top3": "next-word top-3", "first_word": "first word of the completion",
                KEYS_SAVED: "keystroke savings"}


def percent(fraction: float) -> str:
    """0.95 -> "95%", 0.975 -> "97.5%": a confidence level as prose prints it."""
    return f"{fraction * 100:g}%"


def pair_name(a: str, b: str) -> str:
    """`a-b`: the file names say what the numbers are, a minus b."""
    return f"{a}-{b}"


@dataclass(frozen=True)
class Difference:
    """Model `a` minus model `b` on `metric`, per text, averaged; its paired interval [low, high] at `confidence`."""

    a: str
    b: str
    metric: str
    mean: float
    low: float
    high: float
    confidence: float

    @property
    def level(self) -> str:
        """The interval's confidence level as the sentences print it: 0.95 -> "95%"."""
        return percent(self.confidence)

    def flipped(self) -> Difference:
        """The same comparison read the other way, b minus a."""
        return Difference(self.b, self.a, self.metric, -self.mean, -self.high, -self.low, self.confidence)

    @property
    def winner(self) -> str | None:
        """The model better beyond the interval (it excludes 0), else None."""
        return self.a if self.low > 0 else self.b if self.high < 0 else None

    def sentence(self) -> str:
        """The comparison in words, made from the interval alone."""
        a, b, metric = LABELS[self.a], LABELS[self.b], METRIC_NAMES[self.metric]
        if self.winner == self.a:
            return (f"the {a} is better than the {b} on {metric} by {self.mean:.4f} "
                    f"({self.level} paired interval [{self.low:.4f}, {self.high:.4f}])")
        if self.winner == self.b:
            return (f"the {b} is better than the {a} on {metric} by {-self.mean:.4f} "
                    f"({self.level} paired interval [{-self.high:.4f}, {-self.low:.4f}])")
        return (f"no measurable difference between the {a} and the {b} on {metric} ({a} minus {b}: "
                f"{self.mean:+.4f}, {self.level} paired interval [{self.low:+.4f}, {self.high:+.4f}] holds 0)")


def read_scores(name: str, root: Path | str) -> pd.DataFrame:
    path = scores_file(name, root)
    if not path.is_file():
        raise UserError(f"{path} not found: run `dvc repro` first")
    return pd.read_csv(path)


def compare(a: str, b: str, root: Path | str, config: EvalConfig) -> list[Difference]:
    """a - b on every per-text metric, from their score files; the texts must be the same, in the same order."""
    return differences(a, b, read_scores(a, root), read_scores(b, root), root, config)


def differences(a: str, b: str, scores_a: pd.DataFrame, scores_b: pd.DataFrame, root: Path | str,
                config: EvalConfig) -> list[Difference]:
    """`compare` on score tables already read (`root` only names their files in an error): every metric of
    COMPARED that both tables hold."""
    if scores_a["text_id"].tolist() != scores_b["text_id"].tolist():
        raise UserError(f"{scores_file(a, root)} and {scores_file(b, root)} do not score the same texts in the same "
                        f"order: run both eval stages again (`dvc repro`)")
    found = []
    for metric in COMPARED:
        if metric == KEYS_SAVED:
            if not {TAPS_SAVED, TAPS_WITHOUT} <= set(scores_a.columns) & set(scores_b.columns):
                continue
            if scores_a[TAPS_WITHOUT].tolist() != scores_b[TAPS_WITHOUT].tolist():
                raise UserError(f"{scores_file(a, root)} and {scores_file(b, root)} typed the same texts with "
                                f"different keystrokes ({TAPS_WITHOUT}): run both eval stages again (`dvc repro`)")
            mean, (low, high) = paired_ratio_difference(scores_a[TAPS_SAVED].to_numpy(),
                                                        scores_b[TAPS_SAVED].to_numpy(),
                                                        scores_a[TAPS_WITHOUT].to_numpy(), config)
        elif metric in scores_a.columns and metric in scores_b.columns:
            mean, (low, high) = paired_difference(scores_a[metric].to_numpy(), scores_b[metric].to_numpy(),
                                                  config.bootstrap_samples, config.confidence, config.seed)
        else:
            continue
        found.append(Difference(a, b, metric, round(mean, 5), round(low, 5), round(high, 5), config.confidence))
    return found


def paired_ratio_difference(saved_a: np.ndarray, saved_b: np.ndarray, without: np.ndarray,
                            config: EvalConfig) -> tuple[float, tuple[float, float]]:
    """sum(saved_a - saved_b) / sum(without) over the texts, and its seeded paired bootstrap interval (the texts
    resampled once for both models, the ratio taken in each resample)."""
    gained, without = np.asarray(saved_a, float) - np.asarray(saved_b, float), np.asarray(without, float)
    if not len(without):
        return 0.0, (0.0, 0.0)
    rng = np.random.default_rng(config.seed)
    rows = rng.integers(0, len(without), size=(config.bootstrap_samples, len(without)))
    ratios = gained[rows].sum(axis=1) / np.maximum(without[rows].sum(axis=1), 1)
    alpha = (1 - config.confidence) / 2
    low, high = np.quantile(ratios, [alpha, 1 - alpha])
    return float(gained.sum() / max(without.sum(), 1)), (float(low), float(high))


def write_comparisons(root: Path | str, config: EvalConfig) -> None:
    """Every pair in PAIRS: mean differences to metrics/<a>-<b>.yml, intervals and names to results/<a>-<b>.json."""
    scores = {name: read_scores(name, root) for pair in PAIRS for name in pair}  # each file read once
    for a, b in PAIRS:
        record: dict[str, Any] = {"a": a, "b": b, "n_texts": len(scores[a]),
                                  "bootstrap_samples": config.bootstrap_samples, "confidence": config.confidence}
        for d in differences(a, b, scores[a], scores[b], root, config):
            record[d.metric], record[f"{d.metric}_ci"] = d.mean, [d.low, d.high]
        save_record(record, PAIR_METRIC_KEYS, pair_name(a, b), root)


def read_comparison(a: str, b: str, root: Path | str) -> list[Difference]:
    """A pair's differences as the report stage wrote them."""
    record = read_record(pair_name(a, b), root)
    return [Difference(a, b, metric, record[metric], *record[f"{metric}_ci"], record["confidence"])
            for metric in COMPARED if metric in record]
