"""Every file the pipeline reads or writes, named once, relative to the project root.

dvc.yaml has to spell the same paths for DVC; tests/test_dvc_graph.py runs the stages and checks that the
files they open are exactly the ones dvc.yaml declares, so the two cannot drift apart.
"""
from __future__ import annotations

import os
from pathlib import Path

PARAMS_FILE = "params.yaml"

# prepare, split
PROCESSED_CSV = "data/dataset_processed.csv"
SPLIT_DIR = "data"
TRAIN_CSV, VAL_CSV, TEST_CSV = "data/train.csv", "data/val.csv", "data/test.csv"
DATA_COUNTS = "metrics/data.json"
SPLIT_SIZES = "metrics/split.json"

# train_lstm
LSTM_DIR = "models/lstm"
MODEL_FILE, TOKENIZER_FILE = "model.pt", "tokenizer.json"  # inside LSTM_DIR
CHECKPOINT = "models/checkpoints/train_lstm.pt"  # deleted when training ends; only an interrupted run leaves it
TRAIN_LIVE_DIR = "metrics/train_lstm"  # dvclive: metrics.json and plots/
TRAIN_SUMMARY = "metrics/train_summary.json"

# eval_lstm, eval_gpt2
MOBILE_DIR = "models/mobile"
INT8_MODEL = "models/mobile/lstm_int8.pt"
TORCHSCRIPT_STEP = "models/mobile/lstm_int8_step.ts"
LSTM_METRICS = "metrics/lstm.json"
GPT2_METRICS = "metrics/gpt2.json"

# report
METRICS_DIR = "metrics"
PLOTS_DIR = "plots"
REPORT = "reports/report.md"
LSTM_SWEEP = "reports/lstm_sweep.csv"  # written by benchmarks/lstm_sweep.sh, read by the report

# Where the project lives when a command runs outside it (the `autocomplete` command).
PROJECT_ENV = "AUTOCOMPLETE_PROJECT"


def project_root() -> Path:
    """$AUTOCOMPLETE_PROJECT, else the checkout this package was installed from (pip install -e .), else '.'."""
    if os.environ.get(PROJECT_ENV):
        return Path(os.environ[PROJECT_ENV])
    checkout = Path(__file__).resolve().parents[2]
    return checkout if (checkout / PARAMS_FILE).is_file() else Path(".")
