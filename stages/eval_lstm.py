"""Stage `eval_lstm`: choose the light model's decoding on val (selection.py: within the latency budget, cheapest
first, a costlier one only when better by its paired interval), then score on
test every light model of the registry (registry.py: the LSTM + n-gram mixture that ships, its LSTM alone, the
n-gram model alone, the int8 phone version), each built from the parts train_lstm saved, and the most-frequent-words
baseline; perplexities on val and test and a keyboard simulation for every light model."""
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tokenizers import Tokenizer

from text_autocomplete.autocomplete import Autocompleter, make_midword_examples, midword_metrics
from text_autocomplete.data_utils import DataConfig, read_texts
from text_autocomplete.eval_lstm import DecodingCompleter, LSTMDecoding, LSTMEvalConfig
from text_autocomplete.evaluation import (
    EvalConfig,
    Example,
    MostFrequentWords,
    evaluate,
    load_eval_texts,
    load_examples,
    make_examples,
    next_word_candidates,
    read_example_prompts,
    sweep_on_val,
    time_batch_of_one,
    write_eval_outputs,
    write_prompt_completions,
)
from text_autocomplete.keyboard import WordCounts, simulate
from text_autocomplete.light_model import load_light_model
from text_autocomplete.lstm_model import save_model
from text_autocomplete.measures import file_size_mb, weights_in_memory_mb
from text_autocomplete.mixture import LSTMDistributions, LSTMWithNgram, NgramDistributions, event_probabilities
from text_autocomplete.mixture import events_perplexity as perplexity
from text_autocomplete.mobile import export_torchscript, int8_parts, quantize_int8
from text_autocomplete.ngram import NgramCompleter
from text_autocomplete.params import load_config
from text_autocomplete.paths import (
    INT8_MODEL,
    LSTM_DECODING_SWEEP,
    LSTM_DIR,
    MODEL_FILE,
    NGRAM_FILE,
    TORCHSCRIPT_STEP,
    TRAIN_CSV,
    VAL_CSV,
    results_file,
)
from text_autocomplete.registry import BASELINE, LSTM_INT8_PART, LSTM_PART, MODELS, NGRAM_PART, Model
from text_autocomplete.selection import LATENCY_COLUMN, BudgetConfig, choose_candidate
from text_autocomplete.tokenizer import encode_texts

from _common import eval_arguments, run_stage

SPLITS = ("val", "test")


@dataclass
class Parts:
    """What every light model is built from: train_lstm's LSTM, its int8 version, the n-gram model, the weight."""

    lstm: Any
    lstm_int8: Any
    ngram: Any
    ngram_weight: float
    tokenizer: Tokenizer

    def lstm_of(self, model: Model):
        return self.lstm_int8 if LSTM_INT8_PART in model.parts else self.lstm

    def has_lstm(self, model: Model) -> bool:
        return LSTM_PART in model.parts or LSTM_INT8_PART in model.parts

    def build(self, model: Model):
        """The model to complete with and to take distributions from: an LSTM, an n-gram model or their mixture."""
        if not self.has_lstm(model):
            return self.ngram
        if NGRAM_PART in model.parts:
            return LSTMWithNgram(self.lstm_of(model), self.ngram, self.ngram_weight, name=model.label)
        return self.lstm_of(model)

    def describe(self, model: Model) -> str:
        words = {LSTM_PART: f"word LSTM ({LSTM_DIR}/{MODEL_FILE})", LSTM_INT8_PART: f"word LSTM, int8 ({INT8_MODEL})",
                 NGRAM_PART: f"Kneser-Ney {self.ngram.order}-gram ({LSTM_DIR}/{NGRAM_FILE})"}
        mixed = f", n-gram weight {self.ngram_weight}" if len(model.parts) > 1 else ""
        return " + ".join(words[part] for part in model.parts) + mixed


def choose_decoding(shipped: LSTMWithNgram, tokenizer: Tokenizer, lstm_eval: LSTMEvalConfig, config: EvalConfig,
                    cleaning: DataConfig, budget: BudgetConfig, out: Path) -> tuple[dict[str, Any], LSTMDecoding]:
    """The decoding candidate chosen on val by selection.choose_candidate within the latency budget, as params.yaml
    lists it and as a decoding (its sweep table written to results/)."""
    val_examples = load_examples(None, cleaning, config, VAL_CSV)[:lstm_eval.sweep_texts]
    print(f"decoding sweep of the light model on {len(val_examples)} val texts:")
    decodings = dict(zip((c["name"] for c in lstm_eval.candidates), lstm_eval.decodings()))
    table, per_text = sweep_on_val(lambda c: DecodingCompleter(shipped, tokenizer, decodings[c["name"]]),
                                   lstm_eval.candidates, val_examples, config, lstm_eval.batch_size, cleaning,
                                   lstm_eval.select_by)
    table[LATENCY_COLUMN] = [time_batch_of_one(DecodingCompleter(shipped, tokenizer, decodings[name]), val_examples,
                                               config.latency_texts) for name in table["name"]]
    table, best = choose_candidate(table, per_text, lstm_eval.candidates, lstm_eval.select_by, config,
                                   cost_column=LATENCY_COLUMN, max_cost=budget.max_latency_ms)
    table.to_csv(results_file(LSTM_DECODING_SWEEP, out, ".csv"), index=False)
    print(f"chosen on val {lstm_eval.select_by} within {budget.max_latency_ms:g} ms at batch 1, a costlier "
          f"candidate only when better by its paired interval: {best}")
    return best, decodings[best["name"]]


def part_probabilities(parts: Parts, splits: dict[str, list[list[int]]], batch_size: int) -> dict[str, dict]:
    """Each part's probability of every val and test event, computed once; the mixtures mix these."""
    bases = {LSTM_PART: LSTMDistributions(parts.lstm), LSTM_INT8_PART: LSTMDistributions(parts.lstm_int8, "LSTM int8"),
             NGRAM_PART: NgramDistributions(parts.ngram)}
    return {part: {split: event_probabilities(base, ids, batch_size, f"{split} probabilities, {base.name}")
                   for split, ids in splits.items()} for part, base in bases.items()}


def model_probabilities(model: Model, built, probabilities: dict[str, dict], split: str):
    """A light model's probability of every event of `split`: its part's, or its parts' mixed."""
    if len(model.parts) == 1:
        return probabilities[model.parts[0]][split]
    lstm_part = next(part for part in model.parts if part != NGRAM_PART)
    return built.mix(probabilities[lstm_part][split], probabilities[NGRAM_PART][split])


def model_record(model: Model, parts: Parts, decoding: dict[str, Any], select_by: str) -> dict[str, Any]:
    """What a light model's results record says of it beyond its scores: what it is, its size and setup."""
    record: dict[str, Any] = {"model": parts.describe(model)}
    if parts.has_lstm(model):  # the n-gram model alone always completes greedily
        record |= {"decoding": decoding, "select_by": select_by, "sweep_cost": LATENCY_COLUMN}
    if len(model.parts) > 1:
        record["ngram_weight"] = parts.ngram_weight
    # The int8 LSTM holds the same weights as the fp32 one, so it counts the same parameters.
    record["parameters"] = ((parts.lstm.parameter_count() if parts.has_lstm(model) else 0)
                            + (parts.ngram.n_grams() if NGRAM_PART in model.parts else 0))
    precision = int8_parts(parts.lstm) if LSTM_INT8_PART in model.parts else "fp32" if parts.has_lstm(model) else ""
    names = ", ".join(Path(f).name for f in model.files)
    record["setup"] = (f"{decoding['name'] if parts.has_lstm(model) else 'greedy'} on cleaned prompts; {names}"
                       + (f", {precision}" if precision else ""))
    record["weights_in_memory_mb"] = round((weights_in_memory_mb(parts.lstm_of(model)) if parts.has_lstm(model) else 0)
                                           + (parts.ngram.memory_mb() if NGRAM_PART in model.parts else 0), 1)
    record["size_mb"] = file_size_mb(*model.files)
    return record


def save_phone_files(parts: Parts) -> None:
    """The int8 LSTM and its one-step TorchScript program, the files the phone model ships beside the n-gram's."""
    save_model(parts.lstm_int8, INT8_MODEL, parts.tokenizer.get_vocab())
    export_torchscript(parts.lstm_int8, TORCHSCRIPT_STEP)


def score_baseline(examples: list[Example], prompts: list[str], tokenizer: Tokenizer, config: EvalConfig,
                   cleaning: DataConfig, batch_size: int, out: Path) -> None:
    """The most-frequent-words baseline: its completions, its next words (the same three), and as a keyboard its
    word counts (the same ranking after any words)."""
    baseline = MostFrequentWords(read_texts(TRAIN_CSV))
    result = evaluate(baseline, examples, config, batch_size, next_word_candidates=[baseline.words[:3]] * len(examples),
                      desc="test, baseline")
    counts = WordCounts(baseline.counts, tokenizer, name=baseline.name)
    keyboard = type_examples(counts, examples, tokenizer, batch_size, result)
    write_eval_outputs(result, {"model": baseline.name, "parameters": 0, "size_mb": 0.0, "words": baseline.words,
                                "weights_in_memory_mb": round(counts.probs.nbytes / 1e6, 1), **keyboard,
                                "setup": f"the same {len(baseline.words)} words for every prompt, cut to the budget",
                                "time_ms": time_batch_of_one(baseline, examples, config.latency_texts)},
                       BASELINE, out, config)
    write_prompt_completions(baseline, prompts, BASELINE, out, config, cleaning, batch_size)
    print(f"baseline: {result.metrics}")


def type_examples(model, examples: list[Example], tokenizer: Tokenizer, batch_size: int, result) -> dict[str, Any]:
    """The keyboard simulation over the examples' whole texts: its figures, and each text's taps added to the
    per-text scores of `result` (so that two models' keystroke savings pair text by text)."""
    figures, per_text = simulate(model, [f"{ex.prompt} {ex.target}" for ex in examples], tokenizer, batch_size)
    result.scores |= per_text
    return figures


def main() -> None:
    args = eval_arguments(__doc__)
    cleaning, config = load_config(DataConfig, "data"), load_config(EvalConfig, "eval")
    lstm_eval = load_config(LSTMEvalConfig, "lstm_eval")
    batch_size = lstm_eval.batch_size
    shipped, tokenizer = load_light_model(LSTM_DIR)
    best, decoding = choose_decoding(shipped, tokenizer, lstm_eval, config, cleaning,
                                     load_config(BudgetConfig, "budget"), args.out)

    texts, raws = load_eval_texts(args.texts, cleaning, config)
    examples, prompts = make_examples(texts, raws, cleaning), read_example_prompts()
    parts = Parts(shipped.lstm, quantize_int8(shipped.lstm), shipped.ngram, shipped.ngram_weight, tokenizer)
    save_phone_files(parts)
    ids = {split: encode_texts(tokenizer, t, add_bos=False, add_eos=False)
           for split, t in zip(SPLITS, (read_texts(VAL_CSV), texts))}
    probabilities = part_probabilities(parts, ids, batch_size)
    top3: dict[str, list[list[str]]] = {}
    for model in (m for m in MODELS if m.is_light):
        built = parts.build(model)
        completer = (NgramCompleter(built, tokenizer, name=model.label) if not parts.has_lstm(model)
                     else DecodingCompleter(built, tokenizer, decoding, name=model.label))
        top3[model.key] = next_word_candidates(completer, examples, k=3)
        result = evaluate(completer, examples, config, batch_size, cleaning, top3[model.key],
                          desc=f"test, {model.label}")
        distributions = built if isinstance(built, LSTMWithNgram) else (
            LSTMDistributions(built) if parts.has_lstm(model) else NgramDistributions(built))
        record = model_record(model, parts, best, lstm_eval.select_by)
        if model.ships:  # finishing the word being typed, as the keyboard does
            record |= midword_metrics(Autocompleter(built, tokenizer, cleaning),
                                      make_midword_examples(texts, config.seed))
        if model.int8_of:
            same = sum(a[:1] == b[:1] for a, b in zip(top3[model.int8_of], top3[model.key])) / len(examples)
            record |= {"next_word_top1_same_as_fp32": round(same, 5),
                       "torchscript_size_mb": file_size_mb(TORCHSCRIPT_STEP)}
        write_eval_outputs(result, {
            **{f"{split}_perplexity": round(perplexity(model_probabilities(model, built, probabilities, split)), 3)
               for split in SPLITS},
            **type_examples(distributions, examples, tokenizer, batch_size, result), **record,
            "time_ms": time_batch_of_one(completer, examples, config.latency_texts)}, model.key, args.out, config)
        write_prompt_completions(completer, prompts, model.key, args.out, config, cleaning, batch_size)
        print(f"{model.label}: {result.metrics}")
    score_baseline(examples, prompts, tokenizer, config, cleaning, batch_size, args.out)


if __name__ == "__main__":
    run_stage(main)
