"""The one evaluation protocol that every model goes through (LSTM, transformer, baseline).

For each text of at least 4 words the prompt is its first 3/4 of words (rounded down) and
the target is the rest. Every model is asked for exactly as many words as the target has;
its completion is cut to that budget and scored with rouge-score F1 (no stemming), an empty
completion scoring 0. Means come with seeded bootstrap confidence intervals.
"""
from __future__ import annotations

import hashlib
import os
import platform
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import pandas as pd
from rouge_score import rouge_scorer
from torch.utils.data import DataLoader

from text_autocomplete.data_utils import (
    DataConfig,
    clean_and_keep,
    clean_text,
    raw_prompt,
    read_pairs,
    read_raw_texts,
    report_bad_rows,
    seeded_sample,
)
from text_autocomplete.errors import UserError
from text_autocomplete.measures import chunks
from text_autocomplete.paths import EXAMPLE_PROMPTS, TEST_CSV, examples_file, prompts_file, scores_file
from text_autocomplete.progress import progress
from text_autocomplete.records import save_record

ROUGE_TYPES = ("rouge1", "rouge2", "rougeL")
MIN_WORDS = 4
# What every model's metrics file holds, in this order: the numbers that compare runs. The same keys in every
# model's file make `dvc metrics show` a table with one row per model, and sorted by name (as `dvc metrics diff`
# lists them) ROUGE comes first. top1/top3: share of texts whose first target word is the first / among the first
# three of the model's own ranking of next words after the prompt (every model ranks whole words); time_ms:
# milliseconds per text when texts come one at a time (what a keyboard waits). The light models add
# val_perplexity (the column dvclive's summary has for the LSTM's training); keys_saved is keystroke savings typing
# whole test texts (keyboard.py); a file holds the keys its model has. The share of completions that begin with
# the first target word (first_word) is in results/ only: one more column would widen `dvc metrics show metrics`
# past 130.
METRIC_KEYS = ("rouge1", "rouge2", "rougeL", "top1", "top3", "val_perplexity", "keys_saved", "size_mb", "time_ms")
# The per-text means a model's scores file holds (results/<key>_scores.csv) for paired comparisons on the same
# texts; a file may hold more columns (the keyboard's per-text taps, keyboard.py).
PER_TEXT_KEYS = (*ROUGE_TYPES, "top1", "top3", "first_word")
# How a prompt reaches a model: the cleaned words (what the LSTM learnt from), or the same words as typed.
PROMPT_FORMS = ("cleaned", "raw")


@dataclass
class EvalConfig:
    """The ``eval`` section of params.yaml."""

    max_texts: int  # 0 = the whole test split; else a seeded sample of that many
    seed: int
    bootstrap_samples: int
    confidence: float
    use_stemmer: bool
    examples: int  # rows written to the examples CSV
    prompt_words: int  # words each model adds to every example prompt of the project (EXAMPLE_PROMPTS)
    latency_texts: int  # texts timed one at a time for the batch-1 latency


@dataclass(frozen=True)
class Example:
    """One text cut into the prompt the model reads and the target it should produce; `raw_prompt` holds the same
    prompt words as typed (casing and punctuation kept), empty where they could not be cut apart. A prompt written
    for the project has no target, only `words`, how many words to ask for."""

    prompt: str
    target: str
    raw_prompt: str = ""
    words: int = 0

    @property
    def budget(self) -> int:
        """How many words the model is asked for: as many as the target has (or `words`, without a target)."""
        return self.words or len(self.target.split())

    @property
    def text(self) -> str:
        """The whole cleaned text, prompt then target: what the keyboard simulation types."""
        return f"{self.prompt} {self.target}"

    @property
    def text_id(self) -> str:
        """Names the text in per-text score files, so that pairing two models' scores can be checked."""
        return hashlib.sha1(f"{self.prompt}\t{self.target}".encode()).hexdigest()[:12]

    def prompt_as(self, form: str) -> str:
        """The prompt in `form` (PROMPT_FORMS); the raw form falls back to the cleaned one where it is missing."""
        return (self.raw_prompt or self.prompt) if form == "raw" else self.prompt


class Completer(Protocol):
    """Anything that finishes prompts: `complete` returns one completion per prompt, `budgets[i]` words long.
    A completer may say, in `prompt_form`, which of PROMPT_FORMS it reads; without it, the cleaned one."""

    name: str

    def complete(self, prompts: list[str], budgets: list[int]) -> list[str]: ...


def split_prompt_target(text: str) -> Example | None:
    """First floor(3/4) of the words as prompt, the rest as target; None under 4 words."""
    words = text.split()
    if len(words) < MIN_WORDS:
        return None
    cut = (3 * len(words)) // 4
    return Example(" ".join(words[:cut]), " ".join(words[cut:]))


def make_examples(texts: Sequence[str], raws: Sequence[str] | None = None,
                  cleaning: DataConfig | None = None) -> list[Example]:
    """Examples of the texts of at least 4 words; given each text's raw form and the cleaning, with raw prompts."""
    examples = []
    for i, text in enumerate(texts):
        example = split_prompt_target(text)
        if example is not None and raws is not None and cleaning is not None:
            typed = raw_prompt(raws[i], len(example.prompt.split()), cleaning)
            example = Example(example.prompt, example.target, typed or "")
        if example is not None:
            examples.append(example)
    return examples


def prompt_form(completer: Completer) -> str:
    return getattr(completer, "prompt_form", "cleaned")


def select_texts(texts: list, config: EvalConfig) -> list:
    """The texts every model is scored on: a seeded sample, so that all stages agree on it."""
    return seeded_sample(texts, config.max_texts, config.seed)


def truncate_words(text: str, n_words: int) -> str:
    return " ".join(text.split()[:n_words])


def normalize_completion(text: str, cleaning: DataConfig) -> str:
    """Clean a completion exactly as the corpus was cleaned, so every model is scored on the same footing."""
    return clean_text(text.replace("\n", " "), cleaning)


# --------------------------------------------------------------------------- scoring
def rouge_f1(targets: Sequence[str], completions: Sequence[str], use_stemmer: bool = False) -> dict[str, np.ndarray]:
    """Per-text ROUGE-1/2/L F1; an empty completion scores 0 (rouge-score already gives 0, we make it explicit)."""
    scorer = rouge_scorer.RougeScorer(list(ROUGE_TYPES), use_stemmer=use_stemmer)
    scores = {kind: np.zeros(len(targets)) for kind in ROUGE_TYPES}
    for i, (target, completion) in enumerate(zip(targets, completions)):
        if not completion.strip():
            continue
        result = scorer.score(target, completion)
        for kind in ROUGE_TYPES:
            scores[kind][i] = result[kind].fmeasure
    return scores


def bootstrap_ci(values: np.ndarray, n_samples: int = 1000, confidence: float = 0.95,
                 seed: int = 0) -> tuple[float, float]:
    """Percentile bootstrap interval of the mean, reproducible with `seed`."""
    values = np.asarray(values, dtype=float)
    if len(values) == 0:
        return (0.0, 0.0)
    rng = np.random.default_rng(seed)
    means = values[rng.integers(0, len(values), size=(n_samples, len(values)))].mean(axis=1)
    alpha = (1 - confidence) / 2
    low, high = np.quantile(means, [alpha, 1 - alpha])
    return (float(low), float(high))


def paired_difference(a: np.ndarray, b: np.ndarray, n_samples: int = 1000, confidence: float = 0.95,
                      seed: int = 0) -> tuple[float, tuple[float, float]]:
    """Mean of the per-text differences a - b and its seeded bootstrap interval: the texts are resampled once for
    both models (a paired bootstrap), so what two models share about a text's difficulty cancels out."""
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if a.shape != b.shape:
        raise ValueError(f"paired scores need the same texts: {a.shape} against {b.shape}")
    differences = a - b
    return float(differences.mean()) if len(differences) else 0.0, bootstrap_ci(differences, n_samples, confidence, seed)


def first_word_hits(targets: Sequence[str], candidates: Sequence[Sequence[str]], k: int) -> np.ndarray:
    """Per text, 1 when its first target word is among the first `k` candidate next words, else 0."""
    return np.array([t.split()[0] in list(c)[:k] for t, c in zip(targets, candidates)], dtype=float)


def first_word_accuracy(targets: Sequence[str], candidates: Sequence[Sequence[str]], k: int) -> float:
    """Share of texts whose first target word is among the first `k` candidate next words."""
    hits = first_word_hits(targets, candidates, k)
    return float(hits.mean()) if len(hits) else 0.0


@dataclass
class EvalResult:
    metrics: dict[str, Any]
    examples: list[Example]
    completions: list[str]
    scores: dict[str, np.ndarray]  # per text: ROUGE_TYPES, first_word, and top1 / top3 when ranked (0 or 1)

    def score_table(self) -> pd.DataFrame:
        """Every per-text score by text id, in the examples' order."""
        table = pd.DataFrame({"text_id": [ex.text_id for ex in self.examples]})
        for key, values in self.scores.items():
            table[key] = np.round(values, 6)
        return table

    def example_rows(self, n: int, seed: int) -> list[dict[str, str]]:
        """`n` rows picked by a seeded rule (never by hand), in test order."""
        chosen = sorted(np.random.default_rng(seed).choice(len(self.examples), min(n, len(self.examples)),
                                                           replace=False).tolist())
        return [{"prompt": self.examples[i].prompt, "target": self.examples[i].target,
                 "completion": self.completions[i], "rouge1": round(float(self.scores["rouge1"][i]), 4)}
                for i in chosen]


def complete_all(completer: Completer, examples: list[Example], batch_size: int, desc: str = "") -> list[str]:
    """Run `completer` over DataLoader batches of similar prompt length; return completions in input order.

    Length is the completer's own `prompt_length` where it has one (a transformer counts subword tokens: in
    batches of 256 of the 2,000 test texts, sorting by words left 43% of its prefill as padding, by tokens 16%),
    else the word count.
    """
    length = getattr(completer, "prompt_length", lambda prompt: len(prompt.split()))
    prompts = [ex.prompt_as(prompt_form(completer)) for ex in examples]
    order = sorted(range(len(examples)), key=lambda i: length(prompts[i]))
    loader = DataLoader(order, batch_size=batch_size, shuffle=False, collate_fn=list)
    completions: list[str] = [""] * len(examples)
    with progress(desc=desc or completer.name, total=len(examples)) as bar:
        for batch in loader:
            outputs = completer.complete([prompts[i] for i in batch], [examples[i].budget for i in batch])
            for i, text in zip(batch, outputs):
                completions[i] = text
            bar.update(len(batch))
    return completions


def evaluate(completer: Completer, examples: list[Example], config: EvalConfig, batch_size: int,
             cleaning: DataConfig | None = None, next_word_candidates: list[list[str]] | None = None,
             intervals: bool = True, desc: str = "") -> EvalResult:
    """Score `completer` on `examples` by the protocol above; time it batched too. `desc` labels the progress bar.

    `intervals=False` skips the bootstrap (training's per-epoch val ROUGE needs only the means), so that
    such a caller does not depend on the bootstrap settings.
    """
    start = time.perf_counter()
    raw = complete_all(completer, examples, batch_size, desc)
    seconds = time.perf_counter() - start
    cleaned = [normalize_completion(c, cleaning) if cleaning else c for c in raw]
    completions = [truncate_words(c, ex.budget) for c, ex in zip(cleaned, examples)]
    targets = [ex.target for ex in examples]
    scores = rouge_f1(targets, completions, config.use_stemmer)
    scores["first_word"] = first_word_hits(targets, [c.split()[:1] for c in completions], 1)
    if next_word_candidates is not None:  # the model's ranking of whole next words
        scores["top1"] = first_word_hits(targets, next_word_candidates, 1)
        scores["top3"] = first_word_hits(targets, next_word_candidates, 3)
    metrics: dict[str, Any] = {}
    for kind in ROUGE_TYPES:
        metrics[kind] = round(float(scores[kind].mean()), 5)
        if intervals:
            low, high = bootstrap_ci(scores[kind], config.bootstrap_samples, config.confidence, config.seed)
            metrics[f"{kind}_ci"] = [round(low, 5), round(high, 5)]
    metrics["n_texts"] = len(examples)
    metrics["empty_completions"] = sum(1 for c in completions if not c)
    for key in ("top1", "top3", "first_word"):
        if key in scores:
            metrics[key] = round(float(scores[key].mean()) if len(examples) else 0.0, 5)
    metrics["ms_per_text_batched"] = round(1000 * seconds / max(len(examples), 1), 3)
    return EvalResult(metrics, examples, completions, scores)


class NextWordGuesser(Protocol):
    """A model that names its `k` most likely next words (light_model.LSTMCompleter, ngram.NgramCompleter,
    eval_transformer_pipeline.TransformerCompleter)."""

    def next_words(self, prompts: list[str], k: int) -> list[list[str]]: ...


def next_word_candidates(completer: NextWordGuesser, examples: list[Example], k: int = 3,
                         batch_size: int = 256) -> list[list[str]]:
    """Each example's `k` most likely next words after its prompt (read in the completer's prompt form), by the
    model's own ranking; batched by prompt length like `complete_all`, returned in the examples' order."""
    length = getattr(completer, "prompt_length", lambda prompt: len(prompt.split()))
    prompts = [ex.prompt_as(prompt_form(completer)) for ex in examples]
    order = sorted(range(len(examples)), key=lambda i: length(prompts[i]))
    ranked: list[list[str]] = [[] for _ in examples]
    for batch in chunks(order, batch_size):
        for i, words in zip(batch, completer.next_words([prompts[i] for i in batch], k)):
            ranked[i] = words
    return ranked


def sweep_on_val(make_completer: Callable[[dict[str, Any]], Completer], candidates: list[dict[str, Any]],
                 examples: list[Example], config: EvalConfig, batch_size: int, cleaning: DataConfig | None,
                 select_by: str) -> tuple[pd.DataFrame, dict[str, np.ndarray]]:
    """Score each candidate setting on val `examples`: a table (one row per candidate, its mean ROUGE and batched
    time) and each candidate's per-text `select_by`, by name, for the paired choice (selection.choose_candidate)."""
    if select_by not in ROUGE_TYPES:
        raise UserError(f"params.yaml select_by={select_by!r}: use one of {', '.join(ROUGE_TYPES)}")
    rows, per_text = [], {}
    for candidate in candidates:
        result = evaluate(make_completer(candidate), examples, config, batch_size, cleaning,
                          desc=f"val, {candidate['name']}")
        rows.append({**candidate, **{k: result.metrics[k] for k in (*ROUGE_TYPES, "ms_per_text_batched")}})
        per_text[candidate["name"]] = result.scores[select_by]
        print(f"  {candidate['name']}: " + ", ".join(f"{k}={result.metrics[k]}" for k in ROUGE_TYPES), flush=True)
    return pd.DataFrame(rows), per_text


def time_batch_of_one(completer: Completer, examples: list[Example], n: int) -> float:
    """Milliseconds per completion when texts arrive one at a time (what a keyboard sees)."""
    subset = examples[:n]
    if not subset:
        return 0.0
    form = prompt_form(completer)
    completer.complete([subset[0].prompt_as(form)], [subset[0].budget])  # warm-up: first call pays for allocation
    start = time.perf_counter()
    for ex in progress(subset, desc=f"{completer.name}, one text at a time"):
        completer.complete([ex.prompt_as(form)], [ex.budget])
    return round(1000 * (time.perf_counter() - start) / len(subset), 3)


# --------------------------------------------------------------------------- the trivial baseline
class MostFrequentWords:
    """Completes every prompt with the words most frequent in the train targets, cut to the budget."""

    name = "most-frequent-words baseline"

    def __init__(self, train_texts: Sequence[str], k: int = 20):
        self.counts = Counter(w for ex in make_examples(train_texts) for w in ex.target.split())
        self.words = [w for w, _ in self.counts.most_common(k)]

    def complete(self, prompts: list[str], budgets: list[int]) -> list[str]:
        return [" ".join(self.words[:b]) for b in budgets]


# --------------------------------------------------------------------------- what the eval stages share
def load_eval_texts(path: Path | None, cleaning: DataConfig, config: EvalConfig,
                    default: Path | str = TEST_CSV) -> tuple[list[str], list[str]]:
    """The texts to score and their raw forms: the (already clean) test split, or any raw file cleaned the same
    way; `make_examples(*load_eval_texts(...), cleaning)` cuts them into examples."""
    if path is None:
        pairs = read_pairs(default)
    else:
        raw = read_raw_texts(Path(path), cleaning.text_column)
        report_bad_rows(raw.bad_rows)
        pairs, _ = clean_and_keep(raw.texts, cleaning)
    chosen = select_texts(pairs, config)
    return [text for text, _ in chosen], [raw for _, raw in chosen]


def load_examples(path: Path | None, cleaning: DataConfig, config: EvalConfig,
                  default: Path | str = TEST_CSV) -> list[Example]:
    """`load_eval_texts` cut into examples, with raw prompts."""
    return make_examples(*load_eval_texts(path, cleaning, config, default), cleaning)


def machine_description() -> str:
    """Where the timings were taken: the GPU, or the CPU model and core count."""
    import torch

    if torch.cuda.is_available():
        return f"GPU {torch.cuda.get_device_name()}"
    cpu = platform.machine()
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        names = [line.split(":", 1)[1].strip() for line in cpuinfo.read_text().splitlines()
                 if line.startswith("model name")]
        cpu = names[0] if names else cpu
    return f"CPU {cpu}, {os.cpu_count()} cores, torch {torch.__version__}, {torch.get_num_threads()} threads"


def read_example_prompts(path: Path | str = EXAMPLE_PROMPTS) -> list[str]:
    """The project's own example prompts, one per line (blank lines skipped)."""
    path = Path(path)
    if not path.is_file():
        raise UserError(f"{path} not found: the example prompts, one per line, are part of the project")
    prompts = [line.strip() for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    if not prompts:
        raise UserError(f"{path}: no prompts (one per line)")
    return prompts


def write_prompt_completions(completer: Completer, typed: list[str], name: str, root: Path | str,
                             config: EvalConfig, cleaning: DataConfig, batch_size: int) -> None:
    """Run `name`'s completions of the example prompts, read as the model reads text (the cleaned words, or the
    words as typed), `config.prompt_words` words each, cleaned like every scored completion."""
    examples = [Example(clean_text(text, cleaning), "", text, words=config.prompt_words) for text in typed]
    completions = complete_all(completer, examples, batch_size, desc=f"example prompts, {completer.name}")
    rows = [{"prompt": text, "completion": truncate_words(normalize_completion(c, cleaning), config.prompt_words)}
            for text, c in zip(typed, completions)]
    pd.DataFrame(rows).to_csv(prompts_file(name, root), index=False)


def write_eval_outputs(result: EvalResult, info: dict[str, Any], name: str, root: Path | str,
                       config: EvalConfig) -> None:
    """A model's run under `root`: its metrics (METRIC_KEYS), its results (all else, with the machine), an
    examples CSV and its per-text scores."""
    save_record({**result.metrics, **info, "machine": machine_description()}, METRIC_KEYS, name, root)
    rows = result.example_rows(config.examples, config.seed)
    pd.DataFrame(rows).to_csv(examples_file(name, root), index=False)
    result.score_table().to_csv(scores_file(name, root), index=False)
