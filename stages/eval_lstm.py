"""Stage `eval_lstm`: choose the LSTM's decoding on val, then score it, its int8 phone model, the Kneser-Ney n-gram
model saved beside it and the most-frequent-words baseline on test."""
from text_autocomplete.autocomplete import Autocompleter, make_midword_examples, midword_metrics
from text_autocomplete.data_utils import DataConfig, read_texts
from text_autocomplete.eval_lstm import LSTMCompleter, LSTMEvalConfig, next_word_candidates
from text_autocomplete.evaluation import (
    EvalConfig,
    MostFrequentWords,
    choose_on_val,
    evaluate,
    file_size_mb,
    load_eval_texts,
    load_examples,
    make_examples,
    time_batch_of_one,
    weights_in_memory_mb,
    write_eval_outputs,
)
from text_autocomplete.lstm_model import save_model
from text_autocomplete.mobile import export_torchscript, quantize_int8
from text_autocomplete.ngram import KneserNey, NgramCompleter
from text_autocomplete.params import load_config
from text_autocomplete.paths import (
    BASELINE,
    INT8_MODEL,
    LSTM,
    LSTM_DECODING_SWEEP,
    LSTM_DIR,
    LSTM_INT8,
    MODEL_FILE,
    NGRAM,
    NGRAM_FILE,
    TOKENIZER_FILE,
    TORCHSCRIPT_STEP,
    TRAIN_CSV,
    VAL_CSV,
    results_file,
)

from _common import eval_arguments, run_stage


def main() -> None:
    args = eval_arguments(__doc__)
    cleaning, config = load_config(DataConfig, "data"), load_config(EvalConfig, "eval")
    lstm_eval = load_config(LSTMEvalConfig, "lstm_eval")
    batch_size = lstm_eval.batch_size
    lstm = LSTMCompleter.from_dir(LSTM_DIR)

    val_examples = load_examples(None, cleaning, config, VAL_CSV)[:lstm_eval.sweep_texts]
    print(f"decoding sweep on {len(val_examples)} val texts:")
    decodings = dict(zip((c["name"] for c in lstm_eval.candidates), lstm_eval.decodings()))
    table, best = choose_on_val(lambda c: LSTMCompleter(lstm.model, lstm.tokenizer, decodings[c["name"]]),
                                lstm_eval.candidates, val_examples, config, batch_size, cleaning, lstm_eval.select_by)
    table.to_csv(results_file(LSTM_DECODING_SWEEP, args.out, ".csv"), index=False)
    print(f"chosen by val {lstm_eval.select_by}: {best}")

    texts, raws = load_eval_texts(args.texts, cleaning, config)
    examples = make_examples(texts, raws, cleaning)
    lstm.decoding = decodings[best["name"]]
    fp32_top3 = next_word_candidates(lstm, examples, k=3)
    result = evaluate(lstm, examples, config, batch_size, cleaning, fp32_top3, desc="test, LSTM")
    midword = midword_metrics(Autocompleter(lstm.model, lstm.tokenizer, cleaning),
                              make_midword_examples(texts, config.seed))
    write_eval_outputs(result, {
        **midword, "model": f"word LSTM ({LSTM_DIR})", "decoding": best, "parameters": lstm.model.parameter_count(),
        "setup": f"{best['name']} on cleaned prompts; {MODEL_FILE} + {TOKENIZER_FILE}, fp32",
        "weights_in_memory_mb": weights_in_memory_mb(lstm.model),
        "size_mb": file_size_mb(f"{LSTM_DIR}/{MODEL_FILE}", f"{LSTM_DIR}/{TOKENIZER_FILE}"),
        "time_ms": time_batch_of_one(lstm, examples, config.latency_texts)}, LSTM, args.out, config)
    print(f"LSTM: {result.metrics}")

    # The same model for a phone: int8 weights, scored by the same protocol, exported to TorchScript.
    int8 = LSTMCompleter(quantize_int8(lstm.model), lstm.tokenizer, lstm.decoding, name="LSTM int8")
    save_model(int8.model, INT8_MODEL, lstm.tokenizer.get_vocab())
    export_torchscript(int8.model, TORCHSCRIPT_STEP)
    int8_top3 = next_word_candidates(int8, examples, k=3)
    result = evaluate(int8, examples, config, batch_size, cleaning, int8_top3, desc="test, LSTM int8")
    agreement = sum(a[:1] == b[:1] for a, b in zip(fp32_top3, int8_top3)) / len(examples)
    write_eval_outputs(result, {
        "next_word_top1_same_as_fp32": round(agreement, 5),
        "model": f"word LSTM, int8 ({INT8_MODEL})", "decoding": best,
        "setup": f"{best['name']} on cleaned prompts; {INT8_MODEL}, int8 weights",
        "parameters": lstm.model.parameter_count(), "size_mb": file_size_mb(INT8_MODEL),
        "torchscript_size_mb": file_size_mb(TORCHSCRIPT_STEP),
        "time_ms": time_batch_of_one(int8, examples, config.latency_texts)}, LSTM_INT8, args.out, config)
    print(f"LSTM int8: {result.metrics}")

    ngram_file = f"{LSTM_DIR}/{NGRAM_FILE}"
    ngram = NgramCompleter(KneserNey.load(ngram_file), lstm.tokenizer)
    result = evaluate(ngram, examples, config, batch_size, cleaning, next_word_candidates(ngram, examples, k=3),
                      desc="test, n-gram")
    write_eval_outputs(result, {
        "model": f"Kneser-Ney {ngram.model.order}-gram ({ngram_file})",
        "parameters": sum(map(len, ngram.model.ngram_counts)),  # the n-grams it stores, each with a count
        "setup": f"greedy on cleaned prompts; {NGRAM_FILE} + {TOKENIZER_FILE}",
        "size_mb": file_size_mb(ngram_file, f"{LSTM_DIR}/{TOKENIZER_FILE}"),
        "time_ms": time_batch_of_one(ngram, examples, config.latency_texts)}, NGRAM, args.out, config)
    print(f"n-gram: {result.metrics}")

    baseline = MostFrequentWords(read_texts(TRAIN_CSV))
    result = evaluate(baseline, examples, config, batch_size, next_word_candidates=[baseline.words[:3]] * len(examples),
                      desc="test, baseline")
    write_eval_outputs(result, {"model": baseline.name, "parameters": 0, "size_mb": 0.0, "words": baseline.words,
                                "setup": f"the same {len(baseline.words)} words for every prompt, cut to the budget",
                                "time_ms": time_batch_of_one(baseline, examples, config.latency_texts)},
                       BASELINE, args.out, config)
    print(f"baseline: {result.metrics}")


if __name__ == "__main__":
    run_stage(main)
