"""How long `dvc repro` takes on this machine, stage by stage, and what that means for the full corpus.

    python benchmarks/pipeline_time.py            # runs `dvc repro --force`: every stage (budget: TARGET_MINUTES)

Writes reports/benchmarks/pipeline_time.json, with whether the whole run kept within TARGET_MINUTES (what a
change to the pipeline has to fit on this 2-core CPU). The full-corpus figure is an extrapolation, not a run: prepare,
split and train_lstm grow with the number of tweets (the train and val splits are fixed shares of the corpus);
the evaluation stages score a fixed number of texts (eval.max_texts and the sweep sizes), so they do not.
"""
from __future__ import annotations

import json
import re
import subprocess
import sys
import time
from pathlib import Path

from text_autocomplete.paths import DATA_COUNTS

from _results import write_results
from full_corpus_data import FULL_CORPUS_TWEETS

GROWS_WITH_CORPUS = ("prepare", "split", "train_lstm")
TARGET_MINUTES = 60  # the whole `dvc repro` on this 2-core CPU, so that a session can re-run it and still work


def timed_repro() -> dict[str, float]:
    """Seconds per stage of `dvc repro --force`, from when DVC announces a stage to when the next begins."""
    started: dict[str, float] = {}
    process = subprocess.Popen(["dvc", "repro", "--force"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               text=True)
    for line in process.stdout:
        sys.stdout.write(line)
        if match := re.match(r"Running stage '(\w+)'", line):
            started[match.group(1)] = time.perf_counter()
    end = time.perf_counter()
    if process.wait() != 0:
        raise SystemExit("dvc repro failed")
    names = list(started)
    return {name: round((started[names[i + 1]] if i + 1 < len(names) else end) - started[name], 1)
            for i, name in enumerate(names)}


def main() -> None:
    stages = timed_repro()
    counts = json.loads(Path(DATA_COUNTS).read_text())
    scale = FULL_CORPUS_TWEETS / counts["read"]
    full = {name: round(seconds * (scale if name in GROWS_WITH_CORPUS else 1), 1) for name, seconds in stages.items()}
    minutes = sum(stages.values()) / 60
    write_results("pipeline_time", {
        "stage_seconds": stages, "total_minutes": round(minutes, 1),
        "target_minutes": TARGET_MINUTES, "within_target": minutes <= TARGET_MINUTES,
        "tweets_read": counts["read"], "full_corpus_tweets": FULL_CORPUS_TWEETS, "scale": round(scale, 2),
        "full_corpus_estimate_stage_seconds": full,
        "full_corpus_estimate_hours": round(sum(full.values()) / 3600, 1)})


if __name__ == "__main__":
    main()
