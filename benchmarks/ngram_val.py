"""The Kneser-Ney n-gram model on val, by order, over the committed LSTM's vocabulary, and its linear mixture
with the LSTM (a step towards issue 13; the pipeline scores the n-gram model alone, not yet the mixture).

    python benchmarks/ngram_val.py        # needs data/ and models/lstm from `dvc repro`; about 2 minutes

For each order: fit on the train split, then on the eval sample of val texts (eval.max_texts, eval.seed) the
perplexity of whole texts (every word and <eos>, <unk> counted as a word, as the LSTM's val loss counts them) and
next-word top-1 / top-3 at the 3/4 cut (the first target word among the model's most probable words, specials
left out), with the fit time, the saved model's size and the time for one next-word distribution. Then the same
figures for the LSTM alone and for (1 - w) LSTM + w n-gram (the order with the lowest perplexity) at a few
weights w. Writes reports/benchmarks/ngram_val.json.
"""
from __future__ import annotations

import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from text_autocomplete.data_utils import read_texts
from text_autocomplete.evaluation import EvalConfig, make_examples, select_texts
from text_autocomplete.lstm_model import load_model
from text_autocomplete.ngram import NEVER_SUGGESTED, KneserNey
from text_autocomplete.params import load_config
from text_autocomplete.paths import LSTM_DIR, MODEL_FILE, TOKENIZER_FILE, TRAIN_CSV, VAL_CSV
from text_autocomplete.tokenizer import BOS_ID, EOS_ID, PAD_ID, encode_texts, load_tokenizer

from _results import write_results

ORDERS = (2, 3, 4, 5)
MIXTURE_WEIGHTS = (0.0, 0.2, 0.3, 0.4, 0.5)


def next_word_hits(dists: np.ndarray, first_words: list[int]) -> dict[str, float]:
    """Top-1 / top-3 at the cut; <pad>, <unk>, <bos>, <eos> are never suggested as a word."""
    dists = dists.copy()
    dists[:, NEVER_SUGGESTED] = -1.0
    top3 = np.argsort(-dists, axis=1)[:, :3]
    return {"top1": round(float(np.mean(top3[:, 0] == first_words)), 4),
            "top3": round(float(np.mean((top3 == np.array(first_words)[:, None]).any(axis=1))), 4)}


def ngram_figures(order: int, train_ids: list[list[int]], val_ids: list[list[int]], cut_contexts: list[list[int]],
                  vocab_size: int) -> tuple[KneserNey, dict[str, float], np.ndarray, np.ndarray]:
    """The fitted model, its figures, its probability of every val event (text by text, in order), and its
    next-word distributions at the cut."""
    start = time.perf_counter()
    model = KneserNey(order, vocab_size, BOS_ID, EOS_ID, excluded=[PAD_ID, BOS_ID]).fit(train_ids)
    fit_seconds = time.perf_counter() - start
    event_probs = []
    for ids in val_ids:
        framed = model.frame(ids)
        start_at = order - 1
        event_probs.append(np.exp(model.log_prob([framed[:i] for i in range(start_at, len(framed))],
                                                 framed[start_at:])))
    start = time.perf_counter()
    dists = model.distributions(cut_contexts)
    ms_per_distribution = 1000 * (time.perf_counter() - start) / len(cut_contexts)
    with tempfile.TemporaryDirectory() as folder:
        model.save(Path(folder) / "kn.npz")
        size_mb = (Path(folder) / "kn.npz").stat().st_size / 1e6
    figures = {"order": order, "fit_seconds": round(fit_seconds, 1), "size_mb": round(size_mb, 1),
               "ms_per_distribution": round(ms_per_distribution, 3)}
    return model, figures, np.concatenate(event_probs), dists


@torch.no_grad()
def lstm_probabilities(val_ids: list[list[int]], cut_contexts: list[list[int]]) -> tuple[np.ndarray, np.ndarray]:
    """The committed LSTM's probability of every val event (after <bos> + the words before it) and its next-word
    distributions at the cut."""
    model = load_model(Path(LSTM_DIR) / MODEL_FILE).eval()
    event_probs = []
    for ids in val_ids:
        log_probs, _ = model(torch.tensor([[BOS_ID] + ids]))
        event_probs.append(log_probs[0].gather(1, torch.tensor(ids + [EOS_ID])[:, None]).exp().squeeze(1).numpy())
    dists = [model.prompt_state([[BOS_ID] + c for c in cut_contexts[i:i + 256]])[0].exp().numpy()
             for i in range(0, len(cut_contexts), 256)]
    return np.concatenate(event_probs), np.concatenate(dists)


def perplexity(event_probs: np.ndarray) -> float:
    return round(float(np.exp(-np.log(event_probs).mean())), 2)


def main() -> None:
    config = load_config(EvalConfig, "eval")
    tokenizer = load_tokenizer(Path(LSTM_DIR) / TOKENIZER_FILE)
    train_ids = encode_texts(tokenizer, read_texts(TRAIN_CSV), add_bos=False, add_eos=False)
    val_texts = select_texts(read_texts(VAL_CSV), config)
    val_ids = encode_texts(tokenizer, val_texts, add_bos=False, add_eos=False)
    examples = make_examples(val_texts)
    prompts = encode_texts(tokenizer, [ex.prompt for ex in examples], add_bos=False, add_eos=False)
    cut_contexts = prompts  # the words before the cut; the model frames them with <bos> itself
    first_words = [tokenizer.token_to_id(ex.target.split()[0]) or -1 for ex in examples]  # unknown: never hit
    rows, best = [], None
    for order in ORDERS:
        _, figures, events, dists = ngram_figures(order, train_ids, val_ids, cut_contexts, tokenizer.get_vocab_size())
        rows.append({**figures, "val_perplexity": perplexity(events), **next_word_hits(dists, first_words)})
        print(rows[-1], flush=True)
        if best is None or rows[-1]["val_perplexity"] < best[0]["val_perplexity"]:
            best = (rows[-1], events, dists)
    lstm_events, lstm_dists = lstm_probabilities(val_ids, cut_contexts)
    mixtures = []
    for weight in MIXTURE_WEIGHTS:  # weight 0 is the LSTM alone
        events = (1 - weight) * lstm_events + weight * best[1]
        dists = (1 - weight) * lstm_dists + weight * best[2]
        mixtures.append({"ngram_weight": weight, "val_perplexity": perplexity(events),
                         **next_word_hits(dists, first_words)})
        print(mixtures[-1], flush=True)
    write_results("ngram_val", {"train_texts": len(train_ids), "val_texts": len(val_ids),
                                "val_events": len(lstm_events), "cut_examples": len(examples),
                                "vocab_size": tokenizer.get_vocab_size(), "orders": rows,
                                "mixture_order": best[0]["order"], "mixtures_with_the_lstm": mixtures})


if __name__ == "__main__":
    main()
