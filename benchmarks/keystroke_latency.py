"""Autocomplete latency per key press at batch 1 on this CPU: the phone model (models/mobile, phone.py: the int8
ExecuTorch program through ExecuTorch's runtime and the memory-mapped 8-bit n-gram), or with --model lstm the fp32
light model it is made from (models/lstm: the LSTM mixed with the n-gram model in PyTorch).

    python benchmarks/keystroke_latency.py [--texts 300] [--model phone|lstm]

Each test text is typed from its start (autocomplete.typing_times, the figures eval_lstm also records):
* per word: a finished word is read (one model step) and the top-3 next words ranked - what a space costs;
* per letter: the top-3 words with the typed prefix (no model step);
* fresh prompt: a 10-word text read from scratch, then the top-3 next words.
Prints p50 and p95 in milliseconds and writes reports/benchmarks/keystroke_latency_<model>.json.
"""
from __future__ import annotations

import argparse
import time

import numpy as np
import torch

from text_autocomplete.autocomplete import typing_times
from text_autocomplete.cli import MODEL_FOLDERS, PHONE, light_autocompleter
from text_autocomplete.data_utils import DataConfig, read_texts
from text_autocomplete.evaluation import seeded_sample
from text_autocomplete.params import load_config
from text_autocomplete.paths import TEST_CSV

from _results import write_results


def report(name: str, values: np.ndarray) -> dict[str, float]:
    p50, p95 = np.percentile(values, [50, 95])
    print(f"{name:40s} p50 {p50:6.3f} ms   p95 {p95:6.3f} ms   ({len(values)} runs)")
    return {"p50_ms": round(float(p50), 3), "p95_ms": round(float(p95), 3), "runs": len(values)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--texts", type=int, default=300)
    parser.add_argument("--model", choices=tuple(MODEL_FOLDERS), default=PHONE)
    args = parser.parse_args()
    completer = light_autocompleter(MODEL_FOLDERS[args.model], load_config(DataConfig, "data"),
                                    phone=args.model == PHONE)
    texts = [t for t in seeded_sample(read_texts(TEST_CSV), 5 * args.texts, seed=0) if len(t.split()) >= 11]
    texts = texts[:args.texts]
    print(f"{args.model} model ({MODEL_FOLDERS[args.model]}), {len(texts)} test texts, "
          f"{torch.get_num_threads()} threads")
    typing_times(completer, texts[:10])  # warm-up

    def fresh(prompt: str) -> float:
        start = time.perf_counter()
        completer.reset()
        completer.feed(prompt)
        completer.next_words(3)
        return 1000 * (time.perf_counter() - start)

    figures = {"fresh_prompt": report("fresh 10-word prompt + top-3",
                                      np.array([fresh(" ".join(t.split()[:10])) for t in texts]))}
    times = typing_times(completer, texts)
    figures["word"] = report("each word while typing a text + top-3", times["word"])
    figures["letter"] = report("one more letter: top-3 prefix completions", times["letter"])
    write_results(f"keystroke_latency_{args.model}", {"texts": len(texts), **figures})


if __name__ == "__main__":
    main()
