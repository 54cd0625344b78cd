"""Autocomplete latency at batch 1 on this CPU, with the shipped light model in models/lstm (the LSTM mixed with
the n-gram model).

    python benchmarks/keystroke_latency.py [--prompts 300] [--int8]

--int8 measures the phone model (`src/text_autocomplete/mobile.py`: int8 LSTM and int8 output layer, the same
n-gram model) instead of the fp32 one.

* fresh prompt: a 10-word text read from scratch, then the top-3 next words;
* per word: the state of the text so far is kept, one new word is fed, then the top-3 next words -
  measured once for the 11th word right after a fresh 10-word prompt, and once for every word while a
  whole text is typed word after word (what a keyboard does between two spaces);
* per keystroke inside a word: the top-3 completions of the typed prefix (no model call).
Prints p50 and p90 in milliseconds for each.
"""
from __future__ import annotations

import argparse
import time

import numpy as np
import torch

from text_autocomplete.autocomplete import Autocompleter
from text_autocomplete.data_utils import DataConfig, read_texts
from text_autocomplete.evaluation import seeded_sample
from text_autocomplete.light_model import load_light_model
from text_autocomplete.mobile import quantize_light_model
from text_autocomplete.params import load_config
from text_autocomplete.paths import LSTM_DIR, TEST_CSV

from _results import write_results


def timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return 1000 * (time.perf_counter() - start)


def report(name: str, values: list[float]) -> dict[str, float]:
    p50, p90 = np.percentile(values, [50, 90])
    print(f"{name:40s} p50 {p50:6.3f} ms   p90 {p90:6.3f} ms   ({len(values)} runs)")
    return {"p50_ms": round(float(p50), 3), "p90_ms": round(float(p90), 3), "runs": len(values)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--prompts", type=int, default=300)
    parser.add_argument("--model-dir", default=LSTM_DIR)
    parser.add_argument("--int8", action="store_true", help="the int8 model of src/text_autocomplete/mobile.py")
    args = parser.parse_args()
    model, tokenizer = load_light_model(args.model_dir)
    model = quantize_light_model(model) if args.int8 else model
    completer = Autocompleter(model, tokenizer, load_config(DataConfig, "data"))
    texts = [t for t in seeded_sample(read_texts(TEST_CSV), 5 * args.prompts, seed=0) if len(t.split()) >= 11]
    texts = texts[:args.prompts]
    print(f"{'int8' if args.int8 else 'fp32'} model, {model.parameter_count():,} parameters (LSTM and n-grams), "
          f"vocabulary {model.lstm.config.vocab_size:,}, {torch.get_num_threads()} threads")

    def fresh(prompt: str) -> None:
        completer.reset()
        completer.feed(prompt)
        completer.next_words(3)

    for text in texts[:10]:  # warm-up
        fresh(" ".join(text.split()[:10]))
    figures = {"fresh_prompt": report("fresh 10-word prompt + top-3",
                                      [timed(lambda: fresh(" ".join(t.split()[:10]))) for t in texts])}  # noqa: B023

    def add_word(word: str) -> None:
        completer.feed(word)
        completer.next_words(3)

    after_prompt, while_typing, per_key = [], [], []
    for text in texts:
        words = text.split()
        completer.reset()
        completer.feed(" ".join(words[:10]))
        after_prompt.append(timed(lambda: add_word(words[10])))  # noqa: B023 - called at once, in this iteration
        completer.reset()
        for word in words:
            per_key += [timed(lambda: completer.next_words(3, word[:n])) for n in range(1, len(word))]  # noqa: B023
            while_typing.append(timed(lambda: add_word(word)))  # noqa: B023
    figures["word_after_prompt"] = report("one more word after the prompt + top-3", after_prompt)
    figures["word_while_typing"] = report("each word while typing a text + top-3", while_typing)
    figures["letter"] = report("one more letter: top-3 prefix completions", per_key)
    write_results(f"keystroke_latency_{'int8' if args.int8 else 'fp32'}", {"prompts": len(texts), **figures})


if __name__ == "__main__":
    main()
