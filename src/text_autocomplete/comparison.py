"""Paired comparisons: two models scored on the same texts, compared text by text.

Every model's eval stage writes its score on each text (results/<key>_scores.csv). For a pair (a, b) and each
metric, the difference a - b is taken per text and its mean comes with a seeded bootstrap interval that resamples
texts once for both models: a paired bootstrap, which two separate intervals are not (they can overlap while
the paired interval excludes 0). The report stage writes each pair's mean differences to metrics/<a>-<b>.yml and
the intervals to results/<a>-<b>.json; every sentence that compares two models is made here from them.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from text_autocomplete.errors import UserError
from text_autocomplete.evaluation import PER_TEXT_KEYS, EvalConfig, paired_difference
from text_autocomplete.paths import scores_file
from text_autocomplete.records import read_record, save_record
from text_autocomplete.registry import LABELS, PAIRS

METRIC_NAMES = {"rouge1": "ROUGE-1", "rouge2": "ROUGE-2", "rougeL": "ROUGE-L", "top1": "next-word top-1"}


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
    """`compare` on score tables already read (`root` only names their files in an error)."""
    if scores_a["text_id"].tolist() != scores_b["text_id"].tolist():
        raise UserError(f"{scores_file(a, root)} and {scores_file(b, root)} do not score the same texts in the same "
                        f"order: run both eval stages again (`dvc repro`)")
    found = []
    for metric in PER_TEXT_KEYS:
        mean, (low, high) = paired_difference(scores_a[metric].to_numpy(), scores_b[metric].to_numpy(),
                                              config.bootstrap_samples, config.confidence, config.seed)
        found.append(Difference(a, b, metric, round(mean, 5), round(low, 5), round(high, 5), config.confidence))
    return found


def write_comparisons(root: Path | str, config: EvalConfig) -> None:
    """Every pair in PAIRS: mean differences to metrics/<a>-<b>.yml, intervals and names to results/<a>-<b>.json."""
    scores = {name: read_scores(name, root) for pair in PAIRS for name in pair}  # each file read once
    for a, b in PAIRS:
        record: dict[str, Any] = {"a": a, "b": b, "n_texts": len(scores[a]),
                                  "bootstrap_samples": config.bootstrap_samples, "confidence": config.confidence}
        for d in differences(a, b, scores[a], scores[b], root, config):
            record[d.metric], record[f"{d.metric}_ci"] = d.mean, [d.low, d.high]
        save_record(record, PER_TEXT_KEYS, pair_name(a, b), root)


def read_comparison(a: str, b: str, root: Path | str) -> list[Difference]:
    """A pair's differences as the report stage wrote them."""
    record = read_record(pair_name(a, b), root)
    return [Difference(a, b, metric, record[metric], *record[f"{metric}_ci"], record["confidence"])
            for metric in PER_TEXT_KEYS]
