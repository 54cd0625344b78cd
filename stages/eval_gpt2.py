"""Stage `eval_gpt2`: choose how the pretrained transformer reads prompts and generates on val, then score it on
the test texts: its completions, and its ranking of whole next words at the cut (beams over the first word)."""
from text_autocomplete.data_utils import DataConfig
from text_autocomplete.eval_transformer_pipeline import (
    PROMPT_KEYS,
    GPT2Config,
    load_transformer,
    make_completer,
    model_size_mb,
    sweep_settings,
)
from text_autocomplete.evaluation import (
    EvalConfig,
    evaluate,
    load_examples,
    next_word_candidates,
    read_example_prompts,
    time_batch_of_one,
    write_eval_outputs,
    write_prompt_completions,
)
from text_autocomplete.measures import parameter_count, weights_in_memory_mb
from text_autocomplete.params import load_config
from text_autocomplete.paths import GPT2_GENERATION_SWEEP, GPT2_PROMPT_SWEEP, VAL_CSV, results_file
from text_autocomplete.registry import TRANSFORMER

from _common import eval_arguments, run_stage


def main() -> None:
    args = eval_arguments(__doc__)
    cleaning, gpt2, config = load_config(DataConfig, "data"), load_config(GPT2Config, "gpt2"), load_config(
        EvalConfig, "eval")
    model, tokenizer = load_transformer(gpt2.model)

    val_examples = load_examples(None, cleaning, config, VAL_CSV)[:gpt2.sweep_texts]
    print(f"prompt and generation settings on {len(val_examples)} val texts:")
    prompt_table, generation_table, best = sweep_settings(model, tokenizer, gpt2, config, cleaning, val_examples)
    prompt_table.to_csv(results_file(GPT2_PROMPT_SWEEP, args.out, ".csv"), index=False)
    generation_table.to_csv(results_file(GPT2_GENERATION_SWEEP, args.out, ".csv"), index=False)
    print(f"chosen on val {gpt2.select_by}, a later candidate only when better by its paired interval: {best}")

    examples = load_examples(args.texts, cleaning, config)
    completer = make_completer(model, tokenizer, cleaning, gpt2, best)
    ranked = next_word_candidates(completer, examples, k=3, batch_size=gpt2.batch_size)
    result = evaluate(completer, examples, config, gpt2.batch_size, cleaning, ranked, desc="test, transformer")
    time_ms = time_batch_of_one(completer, examples, config.latency_texts)
    # The first (cheapest) generation candidate with the same prompt setting: latency for like-for-like decoding.
    first = {**gpt2.candidates[0], **{key: best[key] for key in PROMPT_KEYS}}
    first_time_ms = time_ms if first == best else time_batch_of_one(
        make_completer(model, tokenizer, cleaning, gpt2, first), examples, config.latency_texts)
    size_mb, memory_mb = model_size_mb(gpt2.model, model), weights_in_memory_mb(model)
    dtype = str(next(model.parameters()).dtype).removeprefix("torch.")
    write_eval_outputs(result, {
        "model": gpt2.model, "generation": best, "parameters": parameter_count(model),
        "select_by": gpt2.select_by, "sweep_cost": None,  # the listed order (params.yaml: cheapest first)
        "next_word_ranking": (f"the {gpt2.next_word_beams} likeliest tokens that begin a new word, each grown "
                              f"greedily to at most {gpt2.max_tokens_per_word} tokens, ranked by the probability of "
                              f"the word and the break after it"),
        "setup": (f"{best['name']} on {best['prompt_form']} prompts{', new word first' if best['new_word_first'] else ''}"
                  f"; weights file {size_mb:.1f} MB, run in {dtype} ({memory_mb:,.1f} MB)"),
        "size_mb": size_mb, "weights_in_memory_mb": memory_mb,
        "raw_prompts_missing": sum(1 for ex in examples if not ex.raw_prompt),
        "time_ms": time_ms, "first_candidate": first["name"], "time_ms_first_candidate": first_time_ms},
        TRANSFORMER, args.out, config)
    write_prompt_completions(completer, read_example_prompts(), TRANSFORMER, args.out, config, cleaning,
                             gpt2.batch_size)
    print(f"{gpt2.model}: {result.metrics}")


if __name__ == "__main__":
    run_stage(main)
