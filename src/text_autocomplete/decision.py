"""Which model a mobile team should ship: one rule, applied to every model of the registry.

1. A model can ship only if it fits every budget of params.yaml `budget` (selection.BudgetConfig): its files on
   disk, its weights in memory, its time per suggestion at batch 1 (one completion: what the keyboard shows).
2. Among the models that fit, quality decides on the primary metrics (params.yaml `report.primary_metrics`): a
   model is beaten when another fitting model is better than it on one of them by the paired interval of their
   per-text differences (it excludes 0; comparison.py). The models that no fitting model beats are the candidates,
   and the smallest on disk of them ships.
3. When every fitting model is beaten on some primary metric, the first primary metric alone decides: the
   smallest of the fitting models that none beats on it ships. (One always exists: on one metric the paired means
   add up, so the model with the highest mean is never beaten on it.)
4. A pair is not compared on a metric that one of the two models has no figure for (the transformer has no
   keyboard run); when no model fits, none is recommended.

Every sentence of the decision is generated from the records and the paired differences (`Decision.reasons`).
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from text_autocomplete.comparison import METRIC_NAMES, Difference, percent
from text_autocomplete.errors import UserError
from text_autocomplete.registry import LABELS
from text_autocomplete.selection import BudgetConfig

# The metrics the rule may weigh: a model's per-text scores on them are paired in comparison.py.
PRIMARY_CHOICES = ("rouge1", "rouge2", "rougeL", "top1", "top3", "keys_saved")

# (a, b, metric) -> a minus b on the metric with its paired interval, or None when the two are not compared on it.
Lookup = Callable[[str, str, str], Difference | None]


@dataclass(frozen=True)
class Decision:
    choice: str | None  # the model key to ship; None when no model fits the budgets
    reasons: tuple[str, ...]  # the chain of reasons, in order, each a generated sentence


def _names(metrics: Sequence[str]) -> str:
    names = [METRIC_NAMES[m] for m in metrics]
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def _models(keys: Sequence[str]) -> str:
    labels = [f"the {LABELS[key]}" for key in keys]
    return labels[0] if len(labels) == 1 else ", ".join(labels[:-1]) + " and " + labels[-1]


def rule_text(primary: Sequence[str], budget: BudgetConfig, confidence: float) -> str:
    """The rule `decide` applies, in words (the report prints it beside the decision)."""
    metrics = _names(primary)
    return (f"a model can ship only if it fits every budget: model files of at most {budget.max_model_mb:g} MB on "
            f"disk, at most {budget.max_memory_mb:g} MB in memory once loaded, and at most "
            f"{budget.max_latency_ms:g} ms per suggestion (one completion) at batch 1. Among the models that fit, a "
            f"model is beaten "
            f"when another one that fits is better than it on {'a primary metric' if len(primary) > 1 else ''}"
            f"{' (' + metrics + ')' if len(primary) > 1 else metrics} by the paired {percent(confidence)} interval "
            f"(it excludes 0); of the models that none beats, the smallest on disk ships"
            + (f"; when every model that fits is beaten on some metric, {METRIC_NAMES[primary[0]]} alone decides the "
               f"same way" if len(primary) > 1 else "")
            + ". Two models are not compared on a metric that one of them has no figure for; when no model fits, "
              "none is recommended")


def over_budget(record: dict[str, Any], budget: BudgetConfig) -> list[str]:
    """How `record` breaks the budgets, in words (empty when it fits). The latency is named, not quoted: it moves
    from run to run on a shared machine, and the decision is quoted in the README (the report's tables give it)."""
    problems = []
    if record["size_mb"] > budget.max_model_mb:
        problems.append(f"its {record['size_mb']:.1f} MB of files exceed {budget.max_model_mb:g} MB")
    if record["weights_in_memory_mb"] > budget.max_memory_mb:
        problems.append(f"its {record['weights_in_memory_mb']:,.1f} MB in memory exceed {budget.max_memory_mb:g} MB")
    if record["time_ms"] > budget.max_latency_ms:
        problems.append(f"its time per suggestion at batch 1 exceeds {budget.max_latency_ms:g} ms")
    return problems


def _beaten(fitting: list[str], metrics: Sequence[str], lookup: Lookup,
            records: dict[str, dict[str, Any]]) -> dict[str, list[Difference]]:
    """For each fitting model, the differences by which another fitting model beats it on `metrics`."""
    beaten: dict[str, list[Difference]] = {key: [] for key in fitting}
    for metric in metrics:
        for i, a in enumerate(fitting):
            for b in fitting[i + 1:]:
                difference = lookup(a, b, metric)
                if difference is None and metric in records[a] and metric in records[b]:
                    raise UserError(f"the {LABELS[a]} and the {LABELS[b]} both have {METRIC_NAMES[metric]} but no "
                                    f"paired comparison of it: run `dvc repro` (the report stage writes them)")
                if difference is not None and difference.winner is not None:
                    beaten[b if difference.winner == a else a].append(difference)
    return beaten


def _smallest(keys: list[str], records: dict[str, dict[str, Any]]) -> tuple[str, str]:
    """The smallest model on disk of `keys` (the first listed on a tie), and the sentence that says so."""
    smallest = min(keys, key=lambda key: records[key]["size_mb"])
    if len(keys) == 1:
        return smallest, f"the {LABELS[smallest]} ships"
    others = ", ".join(f"{records[key]['size_mb']:.1f} MB" for key in keys if key != smallest)
    return smallest, (f"of them the {LABELS[smallest]}'s files are the smallest ({records[smallest]['size_mb']:.1f} "
                      f"MB against {others}), so it ships")


def decide(records: dict[str, dict[str, Any]], lookup: Lookup, primary: Sequence[str],
           budget: BudgetConfig) -> Decision:
    """Apply the module's rule to every model of `records` (by key, in the registry's order)."""
    problems = {key: over_budget(record, budget) for key, record in records.items()}
    fitting = [key for key in records if not problems[key]]
    out = [f"the {LABELS[key]} does not fit ({' and '.join(problems[key])})" for key in records if problems[key]]
    reasons = [("Over budget: " + "; ".join(out) + ".") if out else "Every model fits the budgets."]
    if not fitting:
        return Decision(None, tuple(reasons))
    if out:
        reasons.append(f"Fitting: {_models(fitting)}.")
    missing = [f"the {LABELS[key]} has no {METRIC_NAMES[m]}" for key in fitting for m in primary
               if m not in records[key]]
    if missing:
        reasons.append(f"Not compared on a metric it has no figure for: {'; '.join(missing)}.")
    beaten = _beaten(fitting, primary, lookup, records)
    for key in fitting:
        if beaten[key]:
            reasons.append(f"The {LABELS[key]} is beaten: " + "; ".join(d.sentence() for d in beaten[key]) + ".")
    unbeaten = [key for key in fitting if not beaten[key]]
    if unbeaten:
        choice, why = _smallest(unbeaten, records)
        reasons.append(f"No model that fits beats {_models(unbeaten)} on {_names(primary)}; {why}.")
        return Decision(choice, tuple(reasons))
    first = primary[0]
    unbeaten = [key for key in fitting if not any(d.metric == first for d in beaten[key])]
    choice, why = _smallest(unbeaten, records)
    reasons.append(f"Every model that fits is beaten on some primary metric, so {METRIC_NAMES[first]} alone decides: "
                   f"none beats {_models(unbeaten)} on it; {why}.")
    return Decision(choice, tuple(reasons))
