"""Is the light model short of data or of capacity? Both arms, measured on the same val texts with intervals.

    python benchmarks/data_scaling.py [--shares 16 8 4 2 1] [--seeds 2] [--hidden 1024 1536] [--hidden-shares 2 1]
    OMP_NUM_THREADS=1 python benchmarks/data_scaling.py --part 1/2 --work /tmp/scaling &
    OMP_NUM_THREADS=1 python benchmarks/data_scaling.py --part 2/2 --work /tmp/scaling    # two processes side by side

- **The data arm**: train_lstm's recipe as params.yaml holds it (tokenizer, LSTM, regularisers, epochs with early
  stopping, the n-gram order and the mixture weight chosen on val) on 1/s of data/train.csv for each share s, with
  `--seeds` training seeds per share (train.seed, train.seed + 1, ...; below all of train each seed also draws
  its own nested share, `lstm_train.train_share`). The whole split with train.seed is the committed model (models/lstm/), not
  trained again.
- **The capacity arm**: the same recipe with more LSTM units (`--hidden`, still projected to lstm.embedding_dim)
  at the shares `--hidden-shares`, with train.seed.

Every run's models are scored on the same val texts: next-word top-3 at the 3/4 cut (eval.max_texts texts), the
LSTM + n-gram and the LSTM alone, and ROUGE-1 with the committed decoding (the first lstm_eval.sweep_texts).
Perplexities are not compared: each share has its own vocabulary. Intervals are seeded paired bootstraps over the
val texts (eval.bootstrap_samples, eval.confidence), the same resampled texts for every run. A share's figure is
the mean over its seeds; its interval draws the seeds with replacement as well as the texts (with two seeds that
spans about the two seeds' figures: it shows their spread, it does not estimate a seed spread in general). The
gain per doubling is a least-squares line in log2(training texts), refitted in every resample, and so is its
value at the full corpus's train split (reports/benchmarks/full_corpus_data.json), given as that interval; beside
it, the last doubling's own paired gain shows whether the line still holds at its end. A wider LSTM's gain is its
paired difference from the recipe's shape at the same share and seed; it counts only when its interval lies
above the difference that another seed of the recipe's shape alone makes there (`capacity_pays`). At all of train
that other seed's run is trained here while train.seed's is the committed model, so the yardstick also holds any
difference between train_lstm and this script's training (there should be none: the same Trainer). Whether width
could pay as much as one more doubling of data is read the other way round: excluded only when every wider LSTM's
interval top, raised by that seed difference, stays below the low end of the gain per doubling's interval
(`against_a_doubling`). Until the capacity arm has run at all of train, the conclusion says this at the largest
share it has reached and leaves data against capacity open.

Each finished run's per-text scores are kept in reports/benchmarks/data_scaling_runs/<run>.json (numbers only,
keyed by a hash of the recipe and the decoding; the scoring's size is checked, the val split is DVC's), so an
interrupted benchmark resumes, run by run, and the arms can
run in separate sessions; with `--work DIR` a run cut off mid-training resumes from its last epoch too. Writes
reports/benchmarks/data_scaling.json once every planned run is kept; the report stage turns it into the report's
section on data and capacity, which the README holds word for word.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import math
import shutil
import tempfile
import time
from contextlib import nullcontext
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

import numpy as np
import torch
from dvclive import Live

from text_autocomplete.data_utils import DataConfig, read_texts
from text_autocomplete.eval_lstm import DecodingCompleter, LSTMDecoding, LSTMEvalConfig
from text_autocomplete.evaluation import EvalConfig, evaluate, first_word_hits, load_examples, next_word_candidates
from text_autocomplete.light_model import LSTMCompleter, load_light_model
from text_autocomplete.lstm_model import LSTMConfig, load_model
from text_autocomplete.lstm_train import TokenizerConfig, TrainConfig, Trainer, train_share
from text_autocomplete.mixture import LSTMWithNgram, MixtureConfig, choose_ngram_weight
from text_autocomplete.ngram import NgramConfig, fit_best_order
from text_autocomplete.params import load_config
from text_autocomplete.paths import LSTM_DIR, MODEL_FILE, TRAIN_CSV, VAL_CSV, results_file
from text_autocomplete.registry import SHIPPED
from text_autocomplete.report import DATA_SCALING, SCALING_FIELDS, with_interval
from text_autocomplete.tokenizer import Tokenizer, encode_texts

from _results import ADDED_FIELDS, RESULTS_DIR, write_results
from full_corpus_data import full_corpus_train_texts

RUNS_DIR = RESULTS_DIR / f"{Path(DATA_SCALING).stem}_runs"
assert Path(DATA_SCALING).parent == RESULTS_DIR, "the report reads the file this benchmark writes"
MODELS = ("mixture", "lstm")  # the shipped LSTM + n-gram, the LSTM alone
METRICS = ("top3", "rouge1")
CAPACITY_HIDDEN = (1024, 1536)  # the capacity arm's widths (benchmarks/capacity_cuda.py trains the widest on a GPU)


def recipe() -> dict:
    """params.yaml's training recipe: what a kept run must have been trained with to be reused."""
    return {"lstm": asdict(load_config(LSTMConfig, "lstm")), "tokenizer": asdict(load_config(TokenizerConfig, "tokenizer")),
            "train": asdict(load_config(TrainConfig, "train")), "ngram": asdict(load_config(NgramConfig, "ngram")),
            "mixture": asdict(load_config(MixtureConfig, "mixture"))}


def recipe_hash(decoding: LSTMDecoding) -> str:
    """What a kept run's record is keyed by: the training recipe and the decoding it was scored with."""
    return hashlib.sha256(json.dumps([recipe(), asdict(decoding)], sort_keys=True).encode()).hexdigest()[:16]


def train_on(texts: list[str], val_texts: list[str], folder: Path, seed: int,
             hidden: int | None, live: Any = None) -> tuple[LSTMWithNgram, Tokenizer]:
    """train_lstm's recipe on `texts` with training seed `seed` (and `hidden` LSTM units, if given), logging its
    epochs to `live` (anything with dvclive's step, log_metric, next_step and summary; default: a dvclive Live in
    `folder`)."""
    lstm = load_config(LSTMConfig, "lstm")
    trainer = Trainer(texts, val_texts, replace(lstm, hidden_dim=hidden or lstm.hidden_dim),
                      load_config(TokenizerConfig, "tokenizer"), replace(load_config(TrainConfig, "train"), seed=seed,
                                                                          max_texts=0),
                      load_config(EvalConfig, "eval"), load_config(DataConfig, "data"), folder / "model",
                      folder / "checkpoint.pt")
    with Live(str(folder / "live"), save_dvc_exp=False, dvcyaml=False) if live is None else nullcontext(live) as log:
        trainer.fit(log)
    tokenizer = trainer.tokenizer
    train_ids, val_ids = (encode_texts(tokenizer, t, add_bos=False, add_eos=False) for t in (texts, val_texts))
    ngram, _ = fit_best_order(train_ids, val_ids, load_config(NgramConfig, "ngram"), tokenizer.get_vocab_size())
    model = load_model(folder / "model" / MODEL_FILE, vocab=tokenizer.get_vocab())
    weight, _ = choose_ngram_weight(model, ngram, val_ids, load_config(MixtureConfig, "mixture"))
    return LSTMWithNgram(model, ngram, weight), tokenizer


def committed_decoding() -> LSTMDecoding:
    """The decoding eval_lstm chose for the committed light model (its results file)."""
    lstm_eval = load_config(LSTMEvalConfig, "lstm_eval")
    chosen = json.loads(results_file(SHIPPED).read_text())["decoding"]["name"]
    return dict(zip((c["name"] for c in lstm_eval.candidates), lstm_eval.decodings()))[chosen]


def per_text_scores(shipped: LSTMWithNgram, tokenizer: Tokenizer, examples, decoding: LSTMDecoding) -> dict:
    """Per val text and model: top-3 hits at the cut (all `examples`), ROUGE-1 (the first lstm_eval.sweep_texts)."""
    lstm_eval, config = load_config(LSTMEvalConfig, "lstm_eval"), load_config(EvalConfig, "eval")
    targets = [ex.target for ex in examples]
    scores = {}
    for name, model in (("mixture", shipped), ("lstm", shipped.lstm)):
        ranked = next_word_candidates(LSTMCompleter(model, tokenizer), examples)
        result = evaluate(DecodingCompleter(model, tokenizer, decoding), examples[:lstm_eval.sweep_texts], config,
                          lstm_eval.batch_size, load_config(DataConfig, "data"), intervals=False, desc=f"val, {name}")
        scores[name] = {"top3": first_word_hits(targets, ranked, 3).tolist(),
                        "rouge1": np.round(result.scores["rouge1"], 6).tolist()}
    return scores


def run_file(share: int, seed: int, hidden: int | None) -> Path:
    return RUNS_DIR / (f"share{share}_seed{seed}" + (f"_hidden{hidden}" if hidden else "") + ".json")


def kept_record(path: Path, kept: str) -> dict | None:
    """The run kept at `path` under the recipe hash `kept`; None when there is none or it was kept under another."""
    try:
        record = json.loads(path.read_text()) if path.exists() else None
    except json.JSONDecodeError as error:
        raise SystemExit(f"{path}: not a kept run ({error}): delete it to run it again") from None
    return record if record is not None and record["recipe"] == kept else None


def run(share: int, seed: int, hidden: int | None, train_texts, val_texts, examples, decoding, kept: str,
        train: bool = True, work: str | None = None) -> dict | None:
    """One run's record (kept in RUNS_DIR under the recipe's hash, so a later call reuses it); None when it is not
    kept and `train` is off (another process's part). Trained in `work`/<run> when given, so that a run cut off
    (by the end of a session) resumes from its last epoch's checkpoint; else in a temporary folder."""
    base = load_config(TrainConfig, "train").seed
    path = run_file(share, seed, hidden)
    name = path.stem
    if (record := kept_record(path, kept)) is not None:
        return record
    if not train:
        return None
    texts = train_share(train_texts, len(train_texts) // share, seed)
    print(f"--- {name}: {len(texts):,} training texts", flush=True)
    began = time.perf_counter()
    if share == 1 and seed == base and hidden is None:  # the committed model is this very run
        shipped, tokenizer = load_light_model(LSTM_DIR)
    else:
        with tempfile.TemporaryDirectory() as scratch:
            folder = Path(work or scratch) / f"{name}_{kept}"  # a kept folder resumes from its checkpoint
            shipped, tokenizer = train_on(texts, val_texts, folder, seed, hidden)
        if work:
            shutil.rmtree(folder, ignore_errors=True)
    record = {"recipe": kept, "share": share, "seed": seed, "hidden": hidden or load_config(LSTMConfig, "lstm").hidden_dim,
              "train_texts": len(texts), "vocab_size": tokenizer.get_vocab_size(), "ngram_order": shipped.ngram.order,
              "ngram_weight": shipped.ngram_weight, "parameters": shipped.lstm.parameter_count(),
              "scores": per_text_scores(shipped, tokenizer, examples, decoding),
              "seconds": round(time.perf_counter() - began), "threads": torch.get_num_threads()}
    RUNS_DIR.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".partial")  # written whole, then renamed: a cut-off write leaves no half record
    partial.write_text(json.dumps(record) + "\n")
    partial.replace(path)
    return record


def assign_parts(plan: list[tuple], parts: int, base: int, hidden_dim: int) -> list[set[tuple]]:
    """Split the runs between `parts` processes of about equal cost: a run costs its share of train times its LSTM
    width relative to the recipe's (the committed model costs nothing); the dearest run goes to the least loaded part
    first."""
    def cost(key: tuple) -> float:
        share, seed, hidden = key
        if share == 1 and seed == base and hidden is None:
            return 0.0
        return (1 + (hidden or hidden_dim) / hidden_dim) / 2 / share

    loads, assigned = [0.0] * parts, [set() for _ in range(parts)]
    for key in sorted(plan, key=lambda k: (-cost(k), plan.index(k))):
        lightest = loads.index(min(loads))
        assigned[lightest].add(key)
        loads[lightest] += cost(key)
    return assigned


def text_resamples(rng: np.random.Generator, n_texts: dict[str, int], samples: int) -> dict[str, np.ndarray]:
    """Per metric, `samples` bootstrap resamples of its val texts (resamples x texts), drawn in METRICS order: every
    figure paired over these texts uses the same resamples."""
    return {m: rng.integers(0, n_texts[m], size=(samples, n_texts[m])) for m in METRICS}


def resampled_means(values: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """Mean of `values` (texts,) in each bootstrap resample of the texts (`rows`: resamples x texts)."""
    return values[rows].mean(axis=1)


def seeds_and_texts_resampled(runs: list[dict], model: str, metric: str, rows: np.ndarray,
                              rng: np.random.Generator) -> np.ndarray:
    """A share's figure in each resample: its seeds drawn with replacement, their per-text scores averaged, then the
    texts resampled (`rows`, the same for every share, so that shares stay paired by text). Drawing the seeds too
    puts the seed-to-seed spread into the interval, which a resample of the texts alone would leave out."""
    scores = np.array([r["scores"][model][metric] for r in runs])  # seeds x texts
    picks = rng.integers(0, len(runs), size=(len(rows), len(runs)))
    return np.take_along_axis(scores[picks].mean(axis=1), rows, axis=1).mean(axis=1)


def interval(samples: np.ndarray, confidence: float) -> list[float]:
    alpha = (1 - confidence) / 2
    return [round(float(q), 5) for q in np.quantile(samples, [alpha, 1 - alpha])]


def share_name(share: int) -> str:
    return f"1/{share}" if share > 1 else "1"


def paired_gain(a: dict, b: dict, rows: dict[str, np.ndarray], confidence: float) -> dict:
    """Run a minus run b on the same val texts, per model and metric: the mean and its paired bootstrap interval."""
    gain = {}
    for model in MODELS:
        gain[model] = {}
        for m in METRICS:
            diff = np.asarray(a["scores"][model][m]) - np.asarray(b["scores"][model][m])
            gain[model][m] = {"mean": round(float(diff.mean()), 5),
                              "interval": interval(resampled_means(diff, rows[m]), confidence)}
    return gain


def summarise(data: dict[int, list[dict]], capacity: list[dict], full_texts: int, config: EvalConfig) -> dict:
    """Share figures (seed means with intervals over seeds and texts), the fitted gain per doubling and its
    extrapolation (the line refitted in each resample), and the capacity arm's paired gains, each beside the
    seed-to-seed difference of the recipe's shape at the same share (what a change of seed alone moves)."""
    shares = sorted(data, reverse=True)  # smallest share of train first
    if len(shares) < 2:
        raise SystemExit(f"--shares {shares}: a line needs at least two shares")
    x = np.log2([data[s][0]["train_texts"] for s in shares])
    rng = np.random.default_rng(config.seed)
    n_texts = {m: len(data[shares[0]][0]["scores"]["mixture"][m]) for m in METRICS}
    rows = text_resamples(rng, n_texts, config.bootstrap_samples)
    resampled = {(s, model, m): seeds_and_texts_resampled(data[s], model, m, rows[m], rng)
                 for model in MODELS for m in METRICS for s in shares}
    mean = {(s, model, m): float(np.mean([np.mean(r["scores"][model][m]) for r in data[s]]))
            for model in MODELS for m in METRICS for s in shares}
    table = [{"share": share_name(s), "train_texts": data[s][0]["train_texts"], "seeds": [r["seed"] for r in data[s]],
              "vocab_size": [r["vocab_size"] for r in data[s]], "ngram_order": [r["ngram_order"] for r in data[s]],
              **{model: {m: {"mean": round(mean[s, model, m], 5),
                             "interval": interval(resampled[s, model, m], config.confidence),
                             "by_seed": [round(float(np.mean(r["scores"][model][m])), 5) for r in data[s]]}
                         for m in METRICS} for model in MODELS}} for s in shares]
    trend = {}
    for model in MODELS:
        trend[model] = {}
        for m in METRICS:
            slope, intercept = np.polyfit(x, [mean[s, model, m] for s in shares], 1)
            slopes, intercepts = np.polyfit(x, np.array([resampled[s, model, m] for s in shares]), 1)
            trend[model][m] = {"per_doubling": round(float(slope), 5),
                               "per_doubling_interval": interval(slopes, config.confidence),
                               "at_full_corpus": round(float(intercept + slope * math.log2(full_texts)), 5),
                               "at_full_corpus_interval": interval(intercepts + slopes * math.log2(full_texts),
                                                                   config.confidence),
                               # the largest two shares' paired difference: does the last doubling still pay?
                               "last_doubling": round(mean[shares[-1], model, m] - mean[shares[-2], model, m], 5),
                               "last_doubling_interval": interval(resampled[shares[-1], model, m]
                                                                  - resampled[shares[-2], model, m],
                                                                  config.confidence)}
    gains = []
    for r in capacity:
        runs = {b["seed"]: b for b in data[r["share"]]}
        other = next((seed for seed in runs if seed != r["seed"]), None)
        gains.append({"share": share_name(r["share"]), "train_texts": r["train_texts"], "hidden": r["hidden"],
                      "parameters": r["parameters"],
                      "against_hidden": runs[r["seed"]]["hidden"], "seed": r["seed"],
                      **paired_gain(r, runs[r["seed"]], rows, config.confidence),
                      "seed_difference": (None if other is None else
                                          {"seed": other, **paired_gain(runs[other], runs[r["seed"]], rows,
                                                                        config.confidence)})})
    return {"rows": table, "trend": trend, "capacity": gains,
            "conclusion": conclusion(trend, gains, full_texts, table, config)}


def points(figure: dict) -> str:
    """A top-3 difference in points with its interval, as the report's tables print it: +1.2 [+0.3, +2.1]."""
    return with_interval(figure, True, signed=True)


def of_train(share: str) -> str:
    return "all" if share == "1" else share


def seed_yardstick(gain: dict) -> float:
    """How far another seed of the recipe's shape alone moves top-3 at the wider LSTM's share (0 with one seed):
    one seed of the wider shape cannot show its own seed spread, so this stands in for it."""
    seed = gain["seed_difference"]
    return 0.0 if seed is None else abs(seed["mixture"]["top3"]["mean"])


def capacity_pays(gain: dict) -> bool:
    """A wider LSTM pays when its paired gain's interval lies above zero and above `seed_yardstick`."""
    return gain["mixture"]["top3"]["interval"][0] > seed_yardstick(gain)


def widest_reach(gains: list[dict]) -> float:
    """The largest top-3 gain the wider LSTMs' intervals leave open: each interval's top, widened by
    `seed_yardstick` the other way."""
    return max(g["mixture"]["top3"]["interval"][1] + seed_yardstick(g) for g in gains)


def doubling_excluded(gains: list[dict], line: dict) -> bool:
    """Whether the wider LSTMs exclude a gain as large as one doubling of the data gives: only when `widest_reach`
    stays below the low end of the slope's interval (its point estimate would claim more than is measured)."""
    return widest_reach(gains) < line["per_doubling_interval"][0]


def against_a_doubling(gains: list[dict], line: dict) -> str:
    """`doubling_excluded` in words, with the figures it compares."""
    return (f"a width gain as large as one doubling's ({line['per_doubling_interval'][0] * 100:+.1f} points, the low "
            f"end of the line's interval) is {'' if doubling_excluded(gains, line) else 'not '}excluded: the wider "
            f"LSTMs' intervals (one seed per width, over texts) widened by another seed's difference reach "
            f"{widest_reach(gains) * 100:+.1f}")


def conclusion(trend: dict, gains: list[dict], full_texts: int, table: list[dict], config: EvalConfig) -> str:
    """The answer in words, from the intervals, on the LSTM + n-gram's next-word top-3 (ROUGE-1 beside it): more
    data pays when the gain per doubling's interval lies above 0; more width when a wider LSTM's gain at all of
    train passes `capacity_pays`; where data pays and width does not, `against_a_doubling` says whether width could
    still pay as much as data, and "short of data rather than of width" is said only when `doubling_excluded` rules
    that out (else the weaker "more width is not shown to"). Until the capacity arm reaches all of train, the same is
    said at the largest share it has reached, and the question stays open. A figure not measurably above 0 is said
    to be so, not to be 0."""
    line, rouge = trend["mixture"]["top3"], trend["mixture"]["rouge1"]
    low, high = line["per_doubling_interval"]
    data_pays = low > 0
    doublings = math.log2(full_texts / table[-1]["train_texts"])
    full, last = line["at_full_corpus_interval"], {"mean": line["last_doubling"],
                                                   "interval": line["last_doubling_interval"]}
    over = "seeds and texts" if max(len(row["seeds"]) for row in table) > 1 else "texts"
    words = [(f"More tweets: {line['per_doubling'] * 100:+.1f} points of next-word top-3 (the LSTM + n-gram, val) per "
              f"doubling of the training texts [{low * 100:+.1f}, {high * 100:+.1f}] ({config.confidence:.0%} interval "
              f"over {over}), {'measurably above' if data_pays else 'not measurably above'} zero; the last doubling "
              f"alone added {points(last)}. ROUGE-1: {rouge['per_doubling']:+.4f} per doubling "
              f"[{rouge['per_doubling_interval'][0]:+.4f}, {rouge['per_doubling_interval'][1]:+.4f}]. The line puts "
              f"the full corpus ({doublings:.1f} doublings on) at {full[0]:.1%} to {full[1]:.1%} top-3, an "
              f"extrapolation that holds only if each doubling keeps paying the same.")]
    for g in gains:
        seed = g["seed_difference"]
        yardstick = "" if seed is None else f"; another seed of {g['against_hidden']:,} units: {points(seed['mixture']['top3'])}"
        measured = "measurable" if capacity_pays(g) else "not measurable"
        words.append(f"More units: {g['hidden']:,} at {of_train(g['share'])} of train, {points(g['mixture']['top3'])} "
                     f"points against {g['against_hidden']:,} (same seed, paired over texts{yardstick}): {measured}.")
    at_all = [g for g in gains if g["share"] == "1"]
    wider = any(capacity_pays(g) for g in at_all)
    if not at_all:
        largest = max((g["train_texts"] for g in gains), default=None)  # None: no capacity runs at all
        reached = [g for g in gains if g["train_texts"] == largest]
        pays = any(capacity_pays(g) for g in reached)
        so_far = "" if not reached else (
            f"At {reached[0]['share']} of train, the largest share the capacity arm has reached, "
            f"{'a wider LSTM pays measurably' if pays else 'no wider LSTM pays measurably'}"
            + (f"; {against_a_doubling(reached, line)}" if data_pays and not pays else "") + ". ")
        verdict = f"{so_far}The capacity arm has not run at all of train yet, so data against capacity stays open."
    elif data_pays and not wider:
        # "rather than of width" only when width is shown to pay less than a doubling; else the weaker claim
        answer = ("the light model is short of data rather than of width at the widths tried"
                  if doubling_excluded(at_all, line) else
                  "more data is measured to pay and more width is not shown to, at the widths tried")
        verdict = (f"On next-word top-3, more tweets pay measurably and the wider LSTMs do not at all of train, so "
                   f"{answer}; {against_a_doubling(at_all, line)}.")
    elif wider and not data_pays:
        verdict = "On next-word top-3, the wider LSTMs pay measurably at all of train and more tweets do not."
    elif wider:
        verdict = "On next-word top-3, both more tweets and a wider LSTM pay measurably."
    else:
        verdict = "On next-word top-3, neither more tweets nor a wider LSTM pays measurably at these sizes."
    return " ".join([*words, verdict])


def check_fields(written: dict) -> None:
    """Every field the report's section reads (report.SCALING_FIELDS) is written: here or by write_results."""
    missing = sorted(set(SCALING_FIELDS) - set(ADDED_FIELDS) - set(written))
    if missing:
        raise SystemExit(f"{DATA_SCALING}: the report's section reads {', '.join(missing)}, which "
                         f"benchmarks/data_scaling.py does not write")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--shares", type=int, nargs="+", default=[16, 8, 4, 2, 1], help="train on 1/s of train")
    parser.add_argument("--seeds", type=int, default=2, help="training seeds per share")
    parser.add_argument("--hidden", type=int, nargs="*", default=list(CAPACITY_HIDDEN),
                        help="the capacity arm's LSTM units")
    parser.add_argument("--hidden-shares", type=int, nargs="*", default=[2, 1], help="shares the capacity arm runs at")
    parser.add_argument("--part", default="1/1", help="K/N: train only the K-th of N parts of about equal cost (N "
                        "processes side by side, e.g. OMP_NUM_THREADS=1 each); the figures are written once every run is kept")
    parser.add_argument("--work", help="a folder for the runs in progress: a run cut off resumes from its last "
                        "epoch there (default: a temporary folder, lost if cut off)")
    args = parser.parse_args()
    part, parts = (int(x) for x in args.part.split("/"))
    if not 1 <= part <= parts:
        parser.error(f"--part {args.part}: K/N with 1 <= K <= N")
    if args.hidden and not set(args.hidden_shares) <= set(args.shares):
        parser.error(f"--hidden-shares {args.hidden_shares}: each must be one of --shares {args.shares} (a wider "
                     f"LSTM is compared with the recipe's shape at the same share)")
    if args.seeds < 1:
        parser.error(f"--seeds {args.seeds}: at least 1")
    config = load_config(EvalConfig, "eval")
    train_texts, val_texts = read_texts(TRAIN_CSV), read_texts(VAL_CSV)
    examples = load_examples(None, load_config(DataConfig, "data"), config, VAL_CSV)
    decoding = committed_decoding()
    kept = recipe_hash(decoding)
    base = load_config(TrainConfig, "train").seed
    seeds = [base + i for i in range(args.seeds)]
    plan = ([(s, seed, None) for s in sorted(args.shares, reverse=True) for seed in seeds]
            + [(s, base, h) for h in args.hidden for s in sorted(args.hidden_shares, reverse=True)])
    mine = assign_parts(plan, parts, base, load_config(LSTMConfig, "lstm").hidden_dim)[part - 1]
    records = {key: run(*key, train_texts, val_texts, examples, decoding, kept, work=args.work)
               for key in plan if key in mine}  # this part's runs first, then whatever the other parts have kept
    records |= {key: run(*key, train_texts, val_texts, examples, decoding, kept, train=False)
                for key in plan if key not in mine}
    if any(r is None for r in records.values()):
        print(f"part {args.part} done; the figures wait for the other parts' runs ({RUNS_DIR}): run this again "
              f"without --part once they are kept")
        return
    sweep_texts = load_config(LSTMEvalConfig, "lstm_eval").sweep_texts
    scored = {"top3": len(examples), "rouge1": min(len(examples), sweep_texts)}
    for key in plan:  # in the plan's order, so every --part names the same stale run first
        counts = {m: len(records[key]["scores"]["mixture"][m]) for m in METRICS}
        if counts != scored:
            raise SystemExit(f"{run_file(*key)}: scored on {counts} val texts, the parameters now give {scored} "
                             f"(eval or lstm_eval changed since it ran): delete it to run it again")
    data = {s: [records[(s, seed, None)] for seed in seeds] for s in sorted(args.shares, reverse=True)}
    capacity = [records[(s, base, h)] for h in args.hidden for s in sorted(args.hidden_shares, reverse=True)]
    full = full_corpus_train_texts()
    figures = summarise(data, capacity, full, config)
    print(figures["conclusion"])
    written = {"recipe_hash": kept, "val_texts_top3": len(examples),
               "val_texts_rouge": sweep_texts,
               "full_corpus_train_texts": full, "confidence": config.confidence, **figures}
    check_fields(written)
    write_results(Path(DATA_SCALING).stem, written)


if __name__ == "__main__":
    main()
