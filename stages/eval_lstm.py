"""Stage `eval_lstm`: choose the LSTM's decoding on val, then score it and the most-frequent-words baseline on test."""
from src.autocomplete import Autocompleter, make_midword_examples, midword_metrics
from src.data_utils import DataConfig, read_texts
from src.eval_lstm import MODEL_FILE, TOKENIZER_FILE, LSTMCompleter, LSTMEvalConfig, next_word_candidates
from src.evaluation import (
    EvalConfig,
    MostFrequentWords,
    choose_on_val,
    evaluate,
    file_size_mb,
    load_eval_texts,
    make_examples,
    select_texts,
    time_batch_of_one,
    write_eval_outputs,
)
from src.lstm_model import save_model
from src.mobile import export_torchscript, quantize_int8
from src.params import load_config

from _common import eval_arguments, run_stage

MODEL_DIR, MOBILE_DIR = "models/lstm", "models/mobile"


def main() -> None:
    args = eval_arguments(__doc__, "metrics/lstm.json")
    cleaning, config = load_config(DataConfig, "data"), load_config(EvalConfig, "eval")
    lstm_eval = load_config(LSTMEvalConfig, "lstm_eval")
    lstm = LSTMCompleter.from_dir(MODEL_DIR)

    val_examples = make_examples(select_texts(read_texts("data/val.csv"), config))[:lstm_eval.sweep_texts]
    print(f"decoding sweep on {len(val_examples)} val texts:")
    decodings = dict(zip((c["name"] for c in lstm_eval.candidates), lstm_eval.decodings()))
    table, best = choose_on_val(lambda c: LSTMCompleter(lstm.model, lstm.tokenizer, decodings[c["name"]]),
                                lstm_eval.candidates, val_examples, config, cleaning, lstm_eval.select_by)
    table.to_csv(args.out.with_name(f"{args.out.stem}_decoding_sweep.csv"), index=False)
    print(f"chosen by val {lstm_eval.select_by}: {best}")

    texts = load_eval_texts(args.texts, cleaning, config)
    examples = make_examples(texts)
    lstm.decoding = decodings[best["name"]]
    fp32_top3 = next_word_candidates(lstm, examples, k=3)
    result = evaluate(lstm, examples, config, cleaning, fp32_top3)
    midword = midword_metrics(Autocompleter(lstm.model, lstm.tokenizer, cleaning),
                              make_midword_examples(texts, config.seed))
    write_eval_outputs(result, {
        **midword, "model": f"word LSTM ({MODEL_DIR})", "decoding": best, "parameters": lstm.model.parameter_count(),
        "size_mb": file_size_mb(f"{MODEL_DIR}/{MODEL_FILE}", f"{MODEL_DIR}/{TOKENIZER_FILE}"),
        "ms_per_text_batch1": time_batch_of_one(lstm, examples, config.latency_texts)}, args.out, config)
    print(f"LSTM: {result.metrics}")

    # The same model for a phone: int8 weights, scored by the same protocol, exported to TorchScript.
    int8 = LSTMCompleter(quantize_int8(lstm.model), lstm.tokenizer, lstm.decoding, name="LSTM int8")
    save_model(int8.model, f"{MOBILE_DIR}/lstm_int8.pt", lstm.tokenizer.get_vocab())
    export_torchscript(int8.model, f"{MOBILE_DIR}/lstm_int8_step.ts")
    result = evaluate(int8, examples, config, cleaning)
    int8_top1 = next_word_candidates(int8, examples, k=1)
    agreement = sum(a[:1] == b for a, b in zip(fp32_top3, int8_top1)) / len(examples)  # fp32's top-1 is reused
    write_eval_outputs(result, {
        "next_word_top1_same_as_fp32": round(agreement, 5),
        "model": f"word LSTM, int8 ({MOBILE_DIR}/lstm_int8.pt)", "decoding": best,
        "parameters": lstm.model.parameter_count(), "size_mb": file_size_mb(f"{MOBILE_DIR}/lstm_int8.pt"),
        "torchscript_size_mb": file_size_mb(f"{MOBILE_DIR}/lstm_int8_step.ts"),
        "ms_per_text_batch1": time_batch_of_one(int8, examples, config.latency_texts)},
        args.out.with_name(f"{args.out.stem}_int8.json"), config)
    print(f"LSTM int8: {result.metrics}")

    baseline = MostFrequentWords(read_texts("data/train.csv"))
    result = evaluate(baseline, examples, config)
    baseline_out = args.out.with_name("baseline.json" if args.texts is None else f"{args.out.stem}_baseline.json")
    write_eval_outputs(result, {"model": baseline.name, "parameters": 0, "size_mb": 0.0, "words": baseline.words,
                                "ms_per_text_batch1": time_batch_of_one(baseline, examples, config.latency_texts)},
                       baseline_out, config)
    print(f"baseline: {result.metrics}")


if __name__ == "__main__":
    run_stage(main)
