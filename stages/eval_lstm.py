"""Stage `eval_lstm`: choose the light model's decoding on val (selection.py: within the latency budget, cheapest
first, a costlier one only when better by its paired interval), then score on
test every light model of the registry (registry.py: the LSTM + n-gram mixture that ships, its LSTM alone, the
n-gram model alone, the int8 phone version), each built from the parts train_lstm saved, and the most-frequent-words
baseline; perplexities on val and test and a keyboard simulation for every light model. The phone model's files
(phone.py) are made here from the shipped one and scored as a phone runs them."""
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from tokenizers import Tokenizer

from text_autocomplete.autocomplete import Autocompleter, make_midword_examples, midword_metrics, typing_times
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
from text_autocomplete.measures import file_size_mb, weights_in_memory_mb
from text_autocomplete.mixture import LSTMDistributions, LSTMWithNgram, NgramDistributions, event_probabilities
from text_autocomplete.mixture import events_perplexity as perplexity
from text_autocomplete.ngram import NgramCompleter
from text_autocomplete.params import load_config
from text_autocomplete.paths import (
    LSTM_DECODING_SWEEP,
    LSTM_DIR,
    MOBILE_DIR,
    MODEL_FILE,
    NGRAM_FILE,
    PHONE_FILES,
    PHONE_NGRAM_FILE,
    PHONE_NGRAM_SWEEP,
    PHONE_PROGRAM_FILE,
    TOKENIZER_FILE,
    TRAIN_CSV,
    VAL_CSV,
    results_file,
)
from text_autocomplete.phone import (
    PhoneAutocompleter,
    PhoneConfig,
    PhoneModel,
    export_program,
    file_bytes,
    memory_after_load_mb,
    read_tokens,
    write_phone_files,
)
from text_autocomplete.phone_ngram import choose_min_count, write_phone_ngram
from text_autocomplete.registry import BASELINE, LSTM_PART, MODELS, NGRAM_PART, PHONE_PART, Model
from text_autocomplete.selection import LATENCY_COLUMN, BudgetConfig, choose_candidate
from text_autocomplete.tokenizer import encode_texts

from _common import eval_arguments, run_stage

SPLITS = ("val", "test")


@dataclass
class Parts:
    """What every light model is built from: train_lstm's LSTM, the n-gram model and their weight, and the phone
    model made from them (its files in models/mobile, run as a phone runs them)."""

    lstm: Any
    ngram: Any
    ngram_weight: float
    tokenizer: Tokenizer
    phone: PhoneModel

    def has_lstm(self, model: Model) -> bool:
        return LSTM_PART in model.parts

    def build(self, model: Model):
        """The model to complete with and to take distributions from: an LSTM, an n-gram model, their mixture or
        the phone model."""
        if PHONE_PART in model.parts:
            return self.phone
        if not self.has_lstm(model):
            return self.ngram
        if NGRAM_PART in model.parts:
            return LSTMWithNgram(self.lstm, self.ngram, self.ngram_weight, name=model.label)
        return self.lstm

    def describe(self, model: Model) -> str:
        words = {LSTM_PART: f"word LSTM ({LSTM_DIR}/{MODEL_FILE})",
                 NGRAM_PART: f"Kneser-Ney {self.ngram.order}-gram ({LSTM_DIR}/{NGRAM_FILE})",
                 PHONE_PART: f"int8 word LSTM, ExecuTorch ({MOBILE_DIR}/{PHONE_PROGRAM_FILE}) + pruned 8-bit "
                             f"{self.phone.ngram.order}-gram ({MOBILE_DIR}/{PHONE_NGRAM_FILE})"}
        mixed = f", n-gram weight {self.ngram_weight}" if len(model.parts) > 1 or PHONE_PART in model.parts else ""
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
    bases = {LSTM_PART: LSTMDistributions(parts.lstm), NGRAM_PART: NgramDistributions(parts.ngram),
             PHONE_PART: parts.phone}
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
    if parts.has_lstm(model):  # the n-gram model alone and the phone model always complete greedily
        record |= {"decoding": decoding, "select_by": select_by, "sweep_cost": LATENCY_COLUMN}
    if len(model.parts) > 1 or PHONE_PART in model.parts:
        record["ngram_weight"] = parts.ngram_weight
    # The phone's LSTM holds the same weights as the fp32 one (in int8), so it counts the same parameters.
    record["parameters"] = ((parts.lstm.parameter_count() if parts.has_lstm(model) or PHONE_PART in model.parts else 0)
                            + (parts.ngram.n_grams() if NGRAM_PART in model.parts else 0)
                            + (parts.phone.ngram.n_grams() if PHONE_PART in model.parts else 0))
    names = ", ".join(Path(f).name for f in model.files)
    precision = ("int8 weights, dynamic int8 activations (XNNPACK), 8-bit n-gram probabilities"
                 if PHONE_PART in model.parts else "fp32" if parts.has_lstm(model) else "")
    record["setup"] = (f"{decoding['name'] if parts.has_lstm(model) else 'greedy'} on cleaned prompts; {names}"
                       + (f", {precision}" if precision else ""))
    # Weights and n-gram arrays once loaded, counted the same way for every model: the phone's weights are its
    # program's (int8, with their scales) and its n-gram file is mapped whole. Its process memory is measured apart
    # (phone_figures).
    record["weights_in_memory_mb"] = round(
        (weights_in_memory_mb(parts.lstm) if parts.has_lstm(model) else 0)
        + (parts.ngram.memory_mb() if NGRAM_PART in model.parts else 0)
        + (file_size_mb(*(Path(MOBILE_DIR) / name for name in (PHONE_PROGRAM_FILE, PHONE_NGRAM_FILE)))
           if PHONE_PART in model.parts else 0), 1)
    record["size_mb"] = file_size_mb(*model.files)
    return record


def make_phone_files(shipped: LSTMWithNgram, val_ids: list[list[int]], phone: PhoneConfig, out: Path):
    """The phone model's files in models/mobile, from the shipped light model: the int8 program, the tokenizer and
    weight, and the n-gram at the cut-off with the lowest val perplexity among those that fit phone.max_mb (the
    table to results/). Returns the program's PyTorch source (phone.export_program) and the chosen cut-off's row."""
    source = export_program(shipped.lstm, Path(MOBILE_DIR) / PHONE_PROGRAM_FILE)
    write_phone_files(Path(LSTM_DIR) / TOKENIZER_FILE, shipped.ngram_weight, MOBILE_DIR)
    others = sum((Path(MOBILE_DIR) / name).stat().st_size for name in PHONE_FILES if name != PHONE_NGRAM_FILE)
    with tempfile.TemporaryDirectory() as folder:
        min_count, table = choose_min_count(shipped.ngram, val_ids, phone.ngram_min_counts,
                                            int(phone.max_mb * 1e6) - others, Path(folder))
    table.to_csv(results_file(PHONE_NGRAM_SWEEP, out, ".csv"), index=False)
    write_phone_ngram(shipped.ngram, Path(MOBILE_DIR) / PHONE_NGRAM_FILE, min_count)
    print(f"phone n-gram: count cut-off {min_count} (val perplexity, within {phone.max_mb:g} MB of phone files)")
    return source, min_count


def phone_figures(phone: PhoneModel, source, shipped: LSTMWithNgram, examples: list[Example], texts: list[str],
                  cleaning: DataConfig, config: EvalConfig) -> dict[str, Any]:
    """What the phone table reports beyond the shared scores: each file's bytes, ms per word and per letter while
    typing (p50, p95), and the program's parity at the cut of every test text: its top-3 next words against its
    PyTorch source (the same int8 weights) and against the fp32 LSTM."""
    times = typing_times(PhoneAutocompleter(phone, cleaning), texts[:config.latency_texts])
    figures: dict[str, Any] = {"files_bytes": file_bytes(MOBILE_DIR), "memory_after_load_mb": memory_after_load_mb(),
                               "typed_texts": min(config.latency_texts, len(texts))}
    for kind, values in times.items():
        figures |= {f"ms_per_{kind}_p50": round(float(np.percentile(values, 50)), 3),
                    f"ms_per_{kind}_p95": round(float(np.percentile(values, 95)), 3)}
    prompts = [ex.prompt for ex in examples]
    program = phone.lstm_log_probs(prompts)
    with_bos = encode_texts(phone.tokenizer, prompts, add_bos=True, add_eos=False)
    reference = torch.stack([read_tokens(source, ids, phone.program.initial_state())[0] for ids in with_bos])
    fp32, _ = shipped.lstm.prompt_state(with_bos)

    return figures | {"parity_contexts": len(prompts),
                      "top3_same_as_source": same_top3(program, reference),
                      "top3_in_order_as_source": same_top3(program, reference, ordered=True),
                      "top3_same_as_fp32": same_top3(program, fp32),
                      "top3_in_order_as_fp32": same_top3(program, fp32, ordered=True),
                      "max_abs_log_prob_diff_source": round(float((program - reference).abs().max()), 6)}


def same_top3(a: torch.Tensor, b: torch.Tensor, ordered: bool = False) -> float:
    """The share of rows whose 3 highest scores are the same words in `a` and `b` (the suggestion bar's words; with
    `ordered`, also in the same order)."""
    top_a, top_b = a.topk(3).indices, b.topk(3).indices
    if not ordered:
        top_a, top_b = top_a.sort(dim=1).values, top_b.sort(dim=1).values
    return round(float((top_a == top_b).all(dim=1).float().mean()), 5)


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
    figures, per_text = simulate(model, [ex.text for ex in examples], tokenizer, batch_size)
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
    ids = {split: encode_texts(tokenizer, t, add_bos=False, add_eos=False)
           for split, t in zip(SPLITS, (read_texts(VAL_CSV), texts))}
    phone_config = load_config(PhoneConfig, "phone")
    source, min_count = make_phone_files(shipped, ids["val"], phone_config, args.out)
    parts = Parts(shipped.lstm, shipped.ngram, shipped.ngram_weight, tokenizer, PhoneModel(MOBILE_DIR))
    probabilities = part_probabilities(parts, ids, batch_size)
    top3: dict[str, list[list[str]]] = {}
    for model in (m for m in MODELS if m.is_light):
        built = parts.build(model)
        completer = (built if PHONE_PART in model.parts
                     else NgramCompleter(built, tokenizer, name=model.label) if not parts.has_lstm(model)
                     else DecodingCompleter(built, tokenizer, decoding, name=model.label))
        top3[model.key] = next_word_candidates(completer, examples, k=3)
        result = evaluate(completer, examples, config, batch_size, cleaning, top3[model.key],
                          desc=f"test, {model.label}")
        distributions = built if isinstance(built, LSTMWithNgram | PhoneModel) else (
            LSTMDistributions(built) if parts.has_lstm(model) else NgramDistributions(built))
        record = model_record(model, parts, best, lstm_eval.select_by)
        if model.ships:  # finishing the word being typed, as the keyboard does
            record |= midword_metrics(Autocompleter(built, tokenizer, cleaning),
                                      make_midword_examples(texts, config.seed))
        if model.phone_of:
            record |= {"ngram_min_count": min_count, "max_mb": phone_config.max_mb,
                       **phone_figures(built, source, shipped, examples, texts, cleaning, config)}
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
