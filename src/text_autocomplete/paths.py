"""Every file the pipeline reads or writes, named once, relative to the project root.

dvc.yaml has to spell the same paths for DVC; tests/test_dvc_graph.py runs the stages and checks that the
files they open are exactly the ones dvc.yaml declares, so the two cannot drift apart.
"""
from __future__ import annotations

from pathlib import Path

PARAMS_FILE = "params.yaml"
DVC_FILE = "dvc.yaml"  # with PARAMS_FILE, what marks a project folder (the `autocomplete` command looks for both)

# metrics/: only what dvc.yaml declares as metrics, numbers that compare runs (`dvc metrics show`, `dvc exp show`).
# results/: everything else a stage measures or records: counts, intervals, settings, examples, sweeps, logs.
METRICS_DIR = "metrics"
RESULTS_DIR = "results"


def metrics_file(name: str, root: Path | str = ".") -> Path:
    """YAML, `.yml`: `dvc exp show` names a column `metrics/mix.yml:rouge1`, and with `.json` the light model's
    and the transformer's ROUGE-1/2 took 122 columns, two more than a 120-column terminal shows."""
    return Path(root) / METRICS_DIR / f"{name}.yml"


def results_file(name: str, root: Path | str = ".", suffix: str = ".json") -> Path:
    return Path(root) / RESULTS_DIR / f"{name}{suffix}"


def examples_file(name: str, root: Path | str = ".") -> Path:
    """Run `name`'s completions of a seeded sample of test texts, for people to read. Real tweets: DVC caches
    these files and git ignores them (no part of the corpus is committed); `dvc repro` writes them locally."""
    return results_file(f"{name}_examples", root, ".csv")


def prompts_file(name: str, root: Path | str = ".") -> Path:
    """Run `name`'s completions of the project's own example prompts (EXAMPLE_PROMPTS): what the report shows."""
    return results_file(f"{name}_prompts", root, ".csv")


def scores_file(name: str, root: Path | str = ".") -> Path:
    """Run `name`'s score on every text, for paired comparisons."""
    return results_file(f"{name}_scores", root, ".csv")


# Tweet-like beginnings written for this project, one per line: every model completes them for the report, README
# and notebook, which never show a real tweet.
EXAMPLE_PROMPTS = "examples/prompts.txt"

# prepare, split
PROCESSED_CSV = "data/dataset_processed.csv"
TRAIN_CSV, VAL_CSV, TEST_CSV = "data/train.csv", "data/val.csv", "data/test.csv"
SPLIT_CSVS = {"train": TRAIN_CSV, "val": VAL_CSV, "test": TEST_CSV}  # what `split` writes, by split name
DATA_COUNTS = "results/data.json"
SPLIT_SIZES = "results/split.json"

# train_lstm
LSTM_DIR = "models/lstm"
MODEL_FILE, TOKENIZER_FILE = "model.pt", "tokenizer.json"  # inside LSTM_DIR
NGRAM_FILE = "ngram.npz"  # inside LSTM_DIR: the Kneser-Ney model over the LSTM's vocabulary
NGRAM_ORDERS = "results/ngram_orders.csv"  # the n-gram orders compared on val perplexity
MIXTURE_FILE = "mixture.json"  # inside LSTM_DIR: the n-gram weight of the shipped light model (LSTM + n-gram)
MIXTURE_WEIGHTS = "results/mixture_weights.csv"  # the weights compared on val perplexity
CHECKPOINT = "models/checkpoints/train_lstm.pt"  # deleted when training ends; only an interrupted run leaves it
TRAIN_LIVE_DIR = "results/train_lstm"  # dvclive: metrics.json (its summary) and plots/ (every epoch)
# dvclive's summary, the training's declared DVC metric: the last epoch's figures, and the best epoch's under `best`.
TRAIN_LIVE_SUMMARY = f"{TRAIN_LIVE_DIR}/metrics.json"
TRAIN_RECORD = "results/train.json"  # the rest of the run: best epoch, epochs run, parameters, seconds

# eval_lstm, eval_gpt2
# The phone model (phone.py), made by eval_lstm from the shipped light model: what a phone app ships, one folder.
MOBILE_DIR = "models/mobile"
PHONE_PROGRAM_FILE = "lstm_step.pte"  # inside MOBILE_DIR: the int8 LSTM step, an ExecuTorch program
PHONE_NGRAM_FILE = "ngram.bin"  # inside MOBILE_DIR: the pruned 8-bit n-gram (README: its byte layout)
# What a phone app ships, inside MOBILE_DIR: the program, the n-gram, and copies of the light model's tokenizer and
# n-gram weight (the same names as in LSTM_DIR).
PHONE_FILES = (PHONE_PROGRAM_FILE, PHONE_NGRAM_FILE, TOKENIZER_FILE, MIXTURE_FILE)
PHONE_NGRAM_SWEEP = "phone_ngram_sweep"  # results/<name>.csv: the phone n-gram cut-offs compared on val within its size
# Each model's run is named by its key (registry.py): metrics/<key>.yml, results/<key>.json,
# results/<key>_examples.csv, results/<key>_scores.csv.
LSTM_DECODING_SWEEP = "lstm_decoding_sweep"  # results/<name>.csv: the candidates scored on val
GPT2_PROMPT_SWEEP = "gpt2_prompt_sweep"
GPT2_GENERATION_SWEEP = "gpt2_generation_sweep"

# report
# A paired comparison of two models (a minus b, registry.PAIRS) is named "<a>-<b>": metrics/<a>-<b>.yml,
# results/<a>-<b>.json.
PLOTS_DIR = "plots"
MODEL_COMPARISON = "results/model_comparison.csv"  # ROUGE with intervals per model, for `dvc plots`
REPORT = "reports/report.md"
