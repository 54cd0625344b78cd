"""The vocabulary arm on the phone: each experiment's phone model made the way eval_lstm makes the shipped one
(phone.export_program, the tokenizer and weight, the n-gram cut-off with the lowest val perplexity among
phone.ngram_min_counts that fits phone.max_mb), and scored on val as the phone runs it, against the first experiment
named, paired over the same texts (the sweep tables' measures: next-word top-3 at the cut on eval.max_texts val texts,
keystroke savings on the first lstm_eval.sweep_texts of them).

Where no cut-off fits the budget (eval_lstm would stop there), the run is marked `fits: false` and scored with the
cut-off the same rule picks without the budget, so that the figures say what the budget costs. Writes reports/benchmarks/phone_vocab.json.

    python benchmarks/phone_vocab.py                       # base10k vocab20k (bash benchmarks/lstm_sweep.sh vocab)
    python benchmarks/phone_vocab.py BASE OTHER ...         # finished dvc experiments, the first the base
"""
from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from text_autocomplete.comparison import paired_ratio_difference
from text_autocomplete.data_utils import DataConfig, read_texts
from text_autocomplete.errors import UserError
from text_autocomplete.eval_lstm import LSTMEvalConfig
from text_autocomplete.evaluation import EvalConfig, first_word_hits, load_examples, next_word_candidates, \
    paired_difference
from text_autocomplete.keyboard import simulate
from text_autocomplete.light_model import load_light_model
from text_autocomplete.measures import TAPS_SAVED, TAPS_WITHOUT
from text_autocomplete.params import load_config
from text_autocomplete.paths import PHONE_FILES, PHONE_NGRAM_FILE, PHONE_PROGRAM_FILE, TOKENIZER_FILE, VAL_CSV
from text_autocomplete.phone import PhoneConfig, PhoneModel, export_program, file_bytes, write_phone_files
from text_autocomplete.phone_ngram import choose_min_count, write_phone_ngram
from text_autocomplete.report import PHONE_VOCAB
from text_autocomplete.tokenizer import encode_texts

from _results import RESULTS_DIR, write_results
from sweep_table import experiments, model_folder

assert Path(PHONE_VOCAB).parent == RESULTS_DIR, "the report reads the file this benchmark writes"
DEFAULT_RUNS = ("base10k", "vocab20k")


def phone_files(model_dir: Path, mobile: Path, phone: PhoneConfig) -> dict:
    """The phone files of the light model in `model_dir`, written to `mobile`: their bytes, whether they fit, and
    the n-gram cut-offs compared (eval_lstm.make_phone_files' rule, scored without the budget where none fits)."""
    shipped, tokenizer = load_light_model(model_dir)
    export_program(shipped.lstm, mobile / PHONE_PROGRAM_FILE)
    write_phone_files(model_dir / TOKENIZER_FILE, shipped.ngram_weight, mobile)
    others = sum((mobile / name).stat().st_size for name in PHONE_FILES if name != PHONE_NGRAM_FILE)
    val_ids = encode_texts(tokenizer, read_texts(VAL_CSV), add_bos=False, add_eos=False)
    with tempfile.TemporaryDirectory() as folder:
        try:  # eval_lstm's choice, within the budget
            min_count, table = choose_min_count(shipped.ngram, val_ids, phone.ngram_min_counts,
                                                int(phone.max_mb * 1e6) - others, Path(folder))
            fits = True
        except UserError:  # where eval_lstm stops: the same choice without the budget, to say what it costs
            min_count, table = choose_min_count(shipped.ngram, val_ids, phone.ngram_min_counts, 10**12, Path(folder))
            fits = False
    write_phone_ngram(shipped.ngram, mobile / PHONE_NGRAM_FILE, min_count)
    files = file_bytes(mobile)
    return {"parameters": shipped.lstm.parameter_count(), "vocab_size": tokenizer.get_vocab_size(),
            "files_bytes": files, "files_mb": round(sum(files.values()) / 1e6, 3), "max_mb": phone.max_mb,
            "fits": fits, "ngram_min_count": min_count, "ngram_cutoffs": table.to_dict("records")}


def main() -> None:
    names = sys.argv[1:] or list(DEFAULT_RUNS)
    config, cleaning = load_config(EvalConfig, "eval"), load_config(DataConfig, "data")
    phone = load_config(PhoneConfig, "phone")
    examples = load_examples(None, cleaning, config, VAL_CSV)
    keyboard_texts = [ex.text for ex in examples[:load_config(LSTMEvalConfig, "lstm_eval").sweep_texts]]
    runs, base = {}, None
    for row in experiments(names):
        print(f"the phone model of {row['experiment']}", file=sys.stderr, flush=True)
        with tempfile.TemporaryDirectory() as tmp:
            mobile = Path(tmp) / "mobile"
            figures = phone_files(model_folder(row["rev"], Path(tmp) / "lstm"), mobile, phone)
            model = PhoneModel(mobile)
            top3 = first_word_hits([ex.target for ex in examples], next_word_candidates(model, examples, k=3), 3)
            _, taps = simulate(model, keyboard_texts, model.tokenizer)
        base = base or (top3, taps)
        if list(taps[TAPS_WITHOUT]) != list(base[1][TAPS_WITHOUT]):  # the same letters to type, text by text
            sys.exit(f"{row['experiment']}: its keyboard texts differ from the base's; they cannot pair")
        figures |= {"val_top3": round(float(top3.mean()), 5),
                    "val_keys_saved": round(float(taps[TAPS_SAVED].sum() / taps[TAPS_WITHOUT].sum()), 5)}
        top3_gain, top3_interval = paired_difference(top3, base[0], config.bootstrap_samples, config.confidence,
                                                     config.seed)
        keys_gain, keys_interval = paired_ratio_difference(taps[TAPS_SAVED], base[1][TAPS_SAVED], taps[TAPS_WITHOUT],
                                                           config)
        figures |= {"top3_vs_base": [round(v, 5) for v in (top3_gain, *top3_interval)],
                    "keys_saved_vs_base": [round(v, 5) for v in (keys_gain, *keys_interval)]}
        runs[row["experiment"]] = figures
    write_results(Path(PHONE_VOCAB).stem, {"base": names[0], "val_texts_top3": len(examples),
                                  "val_texts_keyboard": len(keyboard_texts), "confidence": config.confidence,
                                  "runs": runs})


if __name__ == "__main__":
    main()
