"""Stage `eval_gpt2`: choose generation settings on val, then score the pretrained transformer on the test texts."""
from text_autocomplete.data_utils import DataConfig, read_texts
from text_autocomplete.eval_transformer_pipeline import (
    GPT2Config,
    TransformerCompleter,
    load_transformer,
    model_size_mb,
    parameter_count,
    sweep_generation,
)
from text_autocomplete.evaluation import (
    EvalConfig,
    evaluate,
    load_eval_texts,
    make_examples,
    select_texts,
    time_batch_of_one,
    write_eval_outputs,
)
from text_autocomplete.params import load_config
from text_autocomplete.paths import GPT2, GPT2_GENERATION_SWEEP, VAL_CSV, results_file

from _common import eval_arguments, run_stage


def main() -> None:
    args = eval_arguments(__doc__)
    cleaning, gpt2, config = load_config(DataConfig, "data"), load_config(GPT2Config, "gpt2"), load_config(
        EvalConfig, "eval")
    model, tokenizer = load_transformer(gpt2.model)

    val_examples = make_examples(select_texts(read_texts(VAL_CSV), config))[:gpt2.sweep_texts]
    print(f"generation sweep on {len(val_examples)} val texts:")
    table, best = sweep_generation(model, tokenizer, gpt2, config, cleaning, val_examples)
    table.to_csv(results_file(GPT2_GENERATION_SWEEP, args.out, ".csv"), index=False)
    print(f"chosen by val {gpt2.select_by}: {best}")

    examples = make_examples(load_eval_texts(args.texts, cleaning, config))
    completer = TransformerCompleter(model, tokenizer, cleaning, best, gpt2.max_tokens_per_word, gpt2.seed)
    result = evaluate(completer, examples, config, gpt2.batch_size, cleaning, desc="test, transformer")
    write_eval_outputs(result, {
        "model": gpt2.model, "generation": best, "parameters": parameter_count(model),
        "size_mb": model_size_mb(gpt2.model, model),
        "time_ms": time_batch_of_one(completer, examples, config.latency_texts)}, GPT2, args.out, config)
    print(f"{gpt2.model}: {result.metrics}")


if __name__ == "__main__":
    run_stage(main)
