"""Stage `eval_lstm`: choose the light model's decoding on val (the best within the latency budget), then score on test the light model that ships (the
LSTM mixed with the Kneser-Ney n-gram model saved beside it), its LSTM alone, its int8 phone version, the n-gram
model alone and the most-frequent-words baseline; perplexities on val and test and a keyboard simulation for
every light model."""
from pathlib import Path

from text_autocomplete.autocomplete import Autocompleter, make_midword_examples, midword_metrics
from text_autocomplete.comparison import LABELS
from text_autocomplete.data_utils import DataConfig, read_texts
from text_autocomplete.eval_lstm import LSTMCompleter, LSTMEvalConfig, load_light_model, next_word_candidates
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
from text_autocomplete.keyboard import simulate
from text_autocomplete.lstm_model import save_model
from text_autocomplete.mixture import (
    LSTMDistributions,
    NgramDistributions,
    event_probabilities,
    perplexity,
)
from text_autocomplete.mobile import export_torchscript, int8_parts, quantize_light_model
from text_autocomplete.ngram import NgramCompleter
from text_autocomplete.params import load_config
from text_autocomplete.paths import (
    BASELINE,
    INT8_MODEL,
    LSTM,
    LSTM_ALONE,
    LSTM_DECODING_SWEEP,
    LSTM_DIR,
    LSTM_INT8,
    MIXTURE_FILE,
    MODEL_FILE,
    NGRAM,
    NGRAM_FILE,
    TOKENIZER_FILE,
    TORCHSCRIPT_STEP,
    TRAIN_CSV,
    VAL_CSV,
    results_file,
)
from text_autocomplete.report import ReportConfig
from text_autocomplete.selection import LATENCY_COLUMN, choose_within_latency
from text_autocomplete.tokenizer import encode_texts

from _common import eval_arguments, run_stage


def main() -> None:
    args = eval_arguments(__doc__)
    cleaning, config = load_config(DataConfig, "data"), load_config(EvalConfig, "eval")
    lstm_eval = load_config(LSTMEvalConfig, "lstm_eval")
    batch_size = lstm_eval.batch_size
    model_dir = Path(LSTM_DIR)
    shipped, tokenizer = load_light_model(model_dir)
    lstm, ngram, weight = shipped.lstm, shipped.ngram, shipped.ngram_weight
    light_files = [model_dir / name for name in (MODEL_FILE, NGRAM_FILE, MIXTURE_FILE, TOKENIZER_FILE)]

    val_examples = load_examples(None, cleaning, config, VAL_CSV)[:lstm_eval.sweep_texts]
    print(f"decoding sweep of the light model on {len(val_examples)} val texts:")
    decodings = dict(zip((c["name"] for c in lstm_eval.candidates), lstm_eval.decodings()))
    table, _ = choose_on_val(lambda c: LSTMCompleter(shipped, tokenizer, decodings[c["name"]]),
                             lstm_eval.candidates, val_examples, config, batch_size, cleaning, lstm_eval.select_by)
    table[LATENCY_COLUMN] = [time_batch_of_one(LSTMCompleter(shipped, tokenizer, decodings[name]), val_examples,
                                               config.latency_texts) for name in table["name"]]
    budget = load_config(ReportConfig, "report").max_latency_ms
    best = choose_within_latency(table, lstm_eval.candidates, lstm_eval.select_by, budget)
    table.to_csv(results_file(LSTM_DECODING_SWEEP, args.out, ".csv"), index=False)
    print(f"chosen by val {lstm_eval.select_by} among those within {budget:g} ms at batch 1: {best}")
    decoding = decodings[best["name"]]

    texts, raws = load_eval_texts(args.texts, cleaning, config)
    examples = make_examples(texts, raws, cleaning)
    phone = quantize_light_model(shipped)  # the shipped model with int8 weights (mobile.int8_parts says which)
    int8 = phone.lstm
    # Perplexity: each base model's probability of every val / test event once; the mixtures mix those.
    val_ids, test_ids = (encode_texts(tokenizer, t, add_bos=False, add_eos=False) for t in (read_texts(VAL_CSV), texts))
    events = {name: {split: event_probabilities(base, ids, batch_size, f"{split} probabilities, {base.name}")
                     for split, ids in (("val", val_ids), ("test", test_ids))}
              for name, base in (("lstm", LSTMDistributions(lstm)), ("int8", LSTMDistributions(int8, "LSTM int8")),
                                 ("ngram", NgramDistributions(ngram)))}
    events["mixture"] = {s: shipped.mix(events["lstm"][s], events["ngram"][s]) for s in ("val", "test")}
    events["int8 mixture"] = {s: shipped.mix(events["int8"][s], events["ngram"][s]) for s in ("val", "test")}

    def light_model(key: str, completer, distributions, probabilities: str, info: dict,
                    top3: list[list[str]] | None = None) -> list[list[str]]:
        """Score a light model by the protocol, type the test texts with it, and write its run."""
        top3 = top3 or next_word_candidates(completer, examples, k=3)
        result = evaluate(completer, examples, config, batch_size, cleaning, top3, desc=f"test, {completer.name}")
        write_eval_outputs(result, {
            "val_perplexity": round(perplexity(events[probabilities]["val"]), 3),
            "test_perplexity": round(perplexity(events[probabilities]["test"]), 3),
            **simulate(distributions, texts, tokenizer, batch_size), **info,
            "time_ms": time_batch_of_one(completer, examples, config.latency_texts)}, key, args.out, config)
        print(f"{completer.name}: {result.metrics}")
        return top3

    light = LSTMCompleter(shipped, tokenizer, decoding, name=LABELS[LSTM])
    fp32_top3 = light_model(LSTM, light, shipped, "mixture", {
        **midword_metrics(Autocompleter(shipped, tokenizer, cleaning), make_midword_examples(texts, config.seed)),
        "model": f"word LSTM + Kneser-Ney {ngram.order}-gram, n-gram weight {weight} ({LSTM_DIR})",
        "decoding": best, "ngram_weight": weight, "parameters": shipped.parameter_count(),
        "setup": f"{best['name']} on cleaned prompts; {', '.join(p.name for p in light_files)}, fp32",
        "weights_in_memory_mb": round(weights_in_memory_mb(lstm) + ngram.memory_mb(), 1),
        "size_mb": file_size_mb(*light_files)})

    light_model(LSTM_ALONE, LSTMCompleter(lstm, tokenizer, decoding, name=LABELS[LSTM_ALONE]), LSTMDistributions(lstm),
                "lstm", {"model": f"word LSTM ({LSTM_DIR}/{MODEL_FILE})", "decoding": best,
                         "parameters": lstm.parameter_count(),
                         "setup": f"{best['name']} on cleaned prompts; {MODEL_FILE} + {TOKENIZER_FILE}, fp32",
                         "weights_in_memory_mb": weights_in_memory_mb(lstm),
                         "size_mb": file_size_mb(model_dir / MODEL_FILE, model_dir / TOKENIZER_FILE)})

    # The shipped model for a phone: int8 weights where PyTorch has kernels (its LSTM step exported to TorchScript too),
    # with the same n-gram model.
    save_model(int8, INT8_MODEL, tokenizer.get_vocab())
    export_torchscript(int8, TORCHSCRIPT_STEP)
    phone_files = [INT8_MODEL, *light_files[1:]]
    phone_completer = LSTMCompleter(phone, tokenizer, decoding, name=LABELS[LSTM_INT8])
    int8_top3 = next_word_candidates(phone_completer, examples, k=3)
    agreement = sum(a[:1] == b[:1] for a, b in zip(fp32_top3, int8_top3)) / len(examples)
    light_model(LSTM_INT8, phone_completer, phone, "int8 mixture", {
        "next_word_top1_same_as_fp32": round(agreement, 5),
        "model": f"word LSTM, int8 ({INT8_MODEL}) + Kneser-Ney {ngram.order}-gram, n-gram weight {weight}",
        "decoding": best, "ngram_weight": weight, "parameters": shipped.parameter_count(),  # int8 weights, same count
        "setup": f"{best['name']} on cleaned prompts; {', '.join(Path(p).name for p in phone_files)}, "
                 f"{int8_parts(lstm)}",
        "size_mb": file_size_mb(*phone_files), "torchscript_size_mb": file_size_mb(TORCHSCRIPT_STEP)}, int8_top3)

    ngram_completer = NgramCompleter(ngram, tokenizer)
    light_model(NGRAM, ngram_completer, NgramDistributions(ngram), "ngram", {
        "model": f"Kneser-Ney {ngram.order}-gram ({LSTM_DIR}/{NGRAM_FILE})",
        "parameters": ngram.n_grams(),  # the n-grams it stores, each with a count
        "weights_in_memory_mb": round(ngram.memory_mb(), 1),
        "setup": f"greedy on cleaned prompts; {NGRAM_FILE} + {TOKENIZER_FILE}",
        "size_mb": file_size_mb(model_dir / NGRAM_FILE, model_dir / TOKENIZER_FILE)})

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
