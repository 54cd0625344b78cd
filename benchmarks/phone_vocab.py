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

from text_autocomplete.data_utils import read_texts
from text_autocomplete.errors import UserError
from text_autocomplete.evaluation import EvalConfig
from text_autocomplete.light_model import load_light_model
from text_autocomplete.params import load_config
from text_autocomplete.paths import PHONE_FILES, PHONE_NGRAM_FILE, PHONE_PROGRAM_FILE, TOKENIZER_FILE, VAL_CSV
from text_autocomplete.phone import PhoneConfig, PhoneModel, export_program, file_bytes, write_phone_files
from text_autocomplete.phone_ngram import choose_min_count, write_phone_ngram
from text_autocomplete.report import PHONE_VOCAB
from text_autocomplete.tokenizer import encode_texts

from _results import RESULTS_DIR, write_results
from sweep_table import check_pairs, experiments, model_folder, model_scores, rounded, task_differences, task_means, \
    val_task_texts

assert Path(PHONE_VOCAB).parent == RESULTS_DIR, "the report reads the file this benchmark writes"
DEFAULT_RUNS = ("base10k", "vocab20k")


def phone_files(model_dir: Path, mobile: Path, phone: PhoneConfig, val_texts: list[str]) -> dict:
    """The phone files of the light model in `model_dir`, written to `mobile`: their bytes, whether they fit, and
    the n-gram cut-offs compared (eval_lstm.make_phone_files' rule, scored without the budget where none fits)."""
    shipped, tokenizer = load_light_model(model_dir)
    export_program(shipped.lstm, mobile / PHONE_PROGRAM_FILE)
    write_phone_files(model_dir / TOKENIZER_FILE, shipped.ngram_weight, mobile)
    others = sum((mobile / name).stat().st_size for name in PHONE_FILES if name != PHONE_NGRAM_FILE)
    val_ids = encode_texts(tokenizer, val_texts, add_bos=False, add_eos=False)
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
    config, phone = load_config(EvalConfig, "eval"), load_config(PhoneConfig, "phone")
    examples, keyboard_texts = val_task_texts()
    val_texts = read_texts(VAL_CSV)  # the n-gram cut-off's val perplexity, in each run's own tokens
    runs, base = {}, None
    for row in experiments(names):
        print(f"the phone model of {row['experiment']}", file=sys.stderr, flush=True)
        with tempfile.TemporaryDirectory() as tmp:
            mobile = Path(tmp) / "mobile"
            figures = phone_files(model_folder(row["rev"], Path(tmp) / "lstm"), mobile, phone, val_texts)
            model = PhoneModel(mobile)
            scores = model_scores(model, model, model.tokenizer, examples, keyboard_texts)
        base = base or scores
        check_pairs(row["experiment"], scores, base)
        means, gains = rounded(task_means(scores)), rounded(task_differences(scores, base, config))
        figures |= {"val_top3": means["top3"], "val_keys_saved": means["keys_saved"],
                    "top3_vs_base": gains["top3"], "keys_saved_vs_base": gains["keys_saved"]}
        runs[row["experiment"]] = figures
    write_results(Path(PHONE_VOCAB).stem, {"base": names[0], "val_texts_top3": len(examples),
                                  "val_texts_keyboard": len(keyboard_texts), "confidence": config.confidence,
                                  "runs": runs})


if __name__ == "__main__":
    main()
