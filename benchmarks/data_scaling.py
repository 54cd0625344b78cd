"""How the light model's quality grows with its training data: is the shipped model short of the transformer for
want of data (the course's 1.6M tweets; this machine holds a 125k sample) or for want of capacity?

    python benchmarks/data_scaling.py [--shares 16 8 4 2]

For each share 1/s of data/train.csv (nested: the first n texts of one seeded shuffle), train_lstm's recipe is
run on it as the stage runs it (params.yaml: tokenizer, LSTM, 15 epochs with early stopping, the n-gram order and
the mixture weight chosen on val), and the three light models are scored on the same val texts: next-word top-3
at the 3/4 cut (eval.max_texts texts) and ROUGE-1/2 with the committed decoding (lstm_eval.sweep_texts texts).
The whole train split is the committed model (models/lstm/, trained by the same recipe), not trained again.
Perplexities are not compared across shares: each share has its own vocabulary.

A straight line in log2(training texts) through the points gives the gain per doubling, and its extrapolation to
the full corpus's train split (reports/benchmarks/full_corpus_data.json). Writes
reports/benchmarks/data_scaling.json.
"""
from __future__ import annotations

import argparse
import json
import math
import tempfile
import time
from pathlib import Path

import numpy as np
from dvclive import Live

from text_autocomplete.data_utils import DataConfig, read_texts
from text_autocomplete.eval_lstm import DecodingCompleter, LSTMDecoding, LSTMEvalConfig
from text_autocomplete.evaluation import (
    EvalConfig,
    Example,
    evaluate,
    first_word_accuracy,
    load_examples,
    next_word_candidates,
)
from text_autocomplete.light_model import load_light_model
from text_autocomplete.lstm_model import LSTMConfig, load_model
from text_autocomplete.lstm_train import TokenizerConfig, TrainConfig, Trainer, train_share
from text_autocomplete.mixture import LSTMWithNgram, MixtureConfig, choose_ngram_weight
from text_autocomplete.ngram import NgramCompleter, NgramConfig, fit_best_order
from text_autocomplete.params import load_config
from text_autocomplete.paths import LSTM_DIR, MODEL_FILE, TRAIN_CSV, VAL_CSV, results_file
from text_autocomplete.registry import SHIPPED
from text_autocomplete.tokenizer import Tokenizer, encode_texts

from _results import write_results
from full_corpus_data import full_corpus_train_texts

MODELS = ("mixture", "lstm", "ngram")  # the shipped LSTM + n-gram, the LSTM alone, the n-gram model alone


def train_on(texts: list[str], val_texts: list[str], folder: Path) -> tuple[LSTMWithNgram, Tokenizer]:
    """train_lstm's recipe on `texts`: the LSTM (best epoch), the n-gram order and the mixture weight from val."""
    trainer = Trainer(texts, val_texts, load_config(LSTMConfig, "lstm"), load_config(TokenizerConfig, "tokenizer"),
                      load_config(TrainConfig, "train"), load_config(EvalConfig, "eval"),
                      load_config(DataConfig, "data"), folder / "model", folder / "checkpoint.pt")
    with Live(str(folder / "live"), save_dvc_exp=False, dvcyaml=False) as live:
        trainer.fit(live)
    tokenizer = trainer.tokenizer
    train_ids, val_ids = (encode_texts(tokenizer, t, add_bos=False, add_eos=False) for t in (texts, val_texts))
    ngram, _ = fit_best_order(train_ids, val_ids, load_config(NgramConfig, "ngram"), tokenizer.get_vocab_size())
    lstm = load_model(folder / "model" / MODEL_FILE, vocab=tokenizer.get_vocab())
    weight, _ = choose_ngram_weight(lstm, ngram, val_ids, load_config(MixtureConfig, "mixture"))
    return LSTMWithNgram(lstm, ngram, weight), tokenizer


def committed_decoding() -> LSTMDecoding:
    """The decoding eval_lstm chose for the committed light model (its results file)."""
    lstm_eval = load_config(LSTMEvalConfig, "lstm_eval")
    chosen = json.loads(results_file(SHIPPED).read_text())["decoding"]["name"]
    return dict(zip((c["name"] for c in lstm_eval.candidates), lstm_eval.decodings()))[chosen]


def scores(shipped: LSTMWithNgram, tokenizer: Tokenizer, examples: list[Example],
           decoding: LSTMDecoding) -> dict[str, dict[str, float]]:
    """Each light model's val top-3 at the cut (all `examples`) and val ROUGE with `decoding` (the first
    lstm_eval.sweep_texts of them, the texts eval_lstm chooses the decoding on)."""
    cleaning, config = load_config(DataConfig, "data"), load_config(EvalConfig, "eval")
    lstm_eval = load_config(LSTMEvalConfig, "lstm_eval")
    targets = [ex.target for ex in examples]
    completers = {"mixture": DecodingCompleter(shipped, tokenizer, decoding),
                  "lstm": DecodingCompleter(shipped.lstm, tokenizer, decoding),
                  "ngram": NgramCompleter(shipped.ngram, tokenizer)}
    figures = {}
    for name, completer in completers.items():
        result = evaluate(completer, examples[:lstm_eval.sweep_texts], config, lstm_eval.batch_size, cleaning,
                          intervals=False, desc=f"val, {name}")
        figures[name] = {"top3": round(first_word_accuracy(targets, next_word_candidates(completer, examples), 3), 5),
                         "rouge1": round(result.metrics["rouge1"], 5), "rouge2": round(result.metrics["rouge2"], 5)}
    return figures


def trend(rows: list[dict], full_texts: int) -> dict[str, dict[str, dict[str, float]]]:
    """Per model and metric: the least-squares slope per doubling of training texts, and the line's value at the
    full corpus's train split."""
    x = np.log2([r["train_texts"] for r in rows])
    fits = {}
    for model in MODELS:
        fits[model] = {}
        for metric in ("top3", "rouge1", "rouge2"):
            slope, intercept = np.polyfit(x, [r[model][metric] for r in rows], 1)
            fits[model][metric] = {"per_doubling": round(float(slope), 5),
                                   "at_full_corpus": round(float(intercept + slope * math.log2(full_texts)), 5)}
    return fits


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--shares", type=int, nargs="+", default=[16, 8, 4, 2],
                        help="train on 1/s of the train split for each s (the whole split is the committed model)")
    args = parser.parse_args()
    train_texts, val_texts = read_texts(TRAIN_CSV), read_texts(VAL_CSV)
    seed = load_config(TrainConfig, "train").seed
    examples = load_examples(None, load_config(DataConfig, "data"), load_config(EvalConfig, "eval"), VAL_CSV)
    decoding = committed_decoding()
    rows = []
    for share in sorted(args.shares, reverse=True):
        texts = train_share(train_texts, len(train_texts) // share, seed)
        print(f"--- 1/{share} of train: {len(texts):,} texts", flush=True)
        began = time.perf_counter()
        with tempfile.TemporaryDirectory() as folder:
            shipped, tokenizer = train_on(texts, val_texts, Path(folder))
        rows.append({"share": f"1/{share}", "train_texts": len(texts), "vocab_size": tokenizer.get_vocab_size(),
                     "ngram_order": shipped.ngram.order, "ngram_weight": shipped.ngram_weight,
                     "seconds": round(time.perf_counter() - began), **scores(shipped, tokenizer, examples, decoding)})
        print(rows[-1], flush=True)
    shipped, tokenizer = load_light_model(LSTM_DIR)
    rows.append({"share": "1 (committed model)", "train_texts": len(train_texts),
                 "vocab_size": tokenizer.get_vocab_size(), "ngram_order": shipped.ngram.order,
                 "ngram_weight": shipped.ngram_weight, **scores(shipped, tokenizer, examples, decoding)})
    print(rows[-1], flush=True)
    full = full_corpus_train_texts()
    write_results("data_scaling", {"val_texts_top3": len(examples),
                                   "val_texts_rouge": load_config(LSTMEvalConfig, "lstm_eval").sweep_texts,
                                   "full_corpus_train_texts": full, "rows": rows, "trend": trend(rows, full)})


if __name__ == "__main__":
    main()
