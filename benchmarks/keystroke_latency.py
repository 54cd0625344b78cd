"""Autocomplete latency at batch 1 on this CPU, with the trained LSTM in models/lstm.

    python benchmarks/keystroke_latency.py [--prompts 300]

* fresh prompt: a 10-word text read from scratch, then the top-3 next words;
* per word: the state of the text so far is kept, one new word is fed, then the top-3 next words;
* per keystroke inside a word: the top-3 completions of the typed prefix (no model call).
Prints p50 and p90 in milliseconds for each.
"""
from __future__ import annotations

import argparse
import time

import numpy as np
import torch

from src.autocomplete import Autocompleter
from src.data_utils import read_texts
from src.eval_lstm import LSTMCompleter
from src.evaluation import seeded_sample


def timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return 1000 * (time.perf_counter() - start)


def report(name: str, values: list[float]) -> None:
    p50, p90 = np.percentile(values, [50, 90])
    print(f"{name:40s} p50 {p50:6.3f} ms   p90 {p90:6.3f} ms   ({len(values)} runs)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--prompts", type=int, default=300)
    parser.add_argument("--model-dir", default="models/lstm")
    args = parser.parse_args()
    lstm = LSTMCompleter.from_dir(args.model_dir)
    completer = Autocompleter(lstm.model, lstm.tokenizer)
    texts = [t for t in seeded_sample(read_texts("data/test.csv"), 5 * args.prompts, seed=0) if len(t.split()) >= 11]
    texts = texts[:args.prompts]
    print(f"{lstm.model.parameter_count():,} parameters, vocabulary {lstm.model.config.vocab_size:,}, "
          f"{torch.get_num_threads()} threads")

    def fresh(prompt: str) -> None:
        completer.reset()
        completer.feed(prompt)
        completer.next_words(3)

    for text in texts[:10]:  # warm-up
        fresh(" ".join(text.split()[:10]))
    report("fresh 10-word prompt + top-3", [timed(lambda: fresh(" ".join(t.split()[:10]))) for t in texts])

    per_word, per_key = [], []
    for text in texts:
        words = text.split()
        completer.reset()
        completer.feed(" ".join(words[:10]))
        per_word.append(timed(lambda: (completer.feed(words[10]), completer.next_words(3))))
        per_key += [timed(lambda: completer.next_words(3, words[10][:n])) for n in range(1, len(words[10]))]
    report("one more word (state kept) + top-3", per_word)
    report("one more letter: top-3 prefix completions", per_key)


if __name__ == "__main__":
    main()
