"""`prepare` and `split` at the full corpus's size: time and peak memory on a 1.6M-line file.

    python benchmarks/full_corpus_data.py [--lines 1600498] [--keep]

The file is made from the real sample beside the repository (../shared/data/tweets.txt), its lines repeated in
order with " <line number>" appended so that de-duplication keeps every one of them; it is written to a
temporary folder with a params.yaml of the project's own values (data.raw pointing at it) and deleted after,
never inside the project. Each stage runs as its own process; its peak resident memory is the kernel's figure
for that process (os.wait4). Writes reports/benchmarks/full_corpus_data.json.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

from text_autocomplete.paths import DATA_COUNTS, PARAMS_FILE, SPLIT_SIZES

from _results import RESULTS_DIR, write_results

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT.parent / "shared" / "data" / "tweets.txt"
FULL_CORPUS_TWEETS = 1_600_498  # sentiment140 as the course distributes it


def full_corpus_train_texts() -> int:
    """The train split's size when the full corpus goes through prepare and split, as this benchmark measured it."""
    return json.loads((RESULTS_DIR / "full_corpus_data.json").read_text())["split_sizes"]["train"]


def make_corpus(path: Path, lines: int) -> None:
    sample = [line for line in SAMPLE.read_text(encoding="utf-8").split("\n") if line]
    with open(path, "w", encoding="utf-8") as f:
        f.writelines(f"{sample[(number - 1) % len(sample)]} {number}\n" for number in range(1, lines + 1))


def run_stage(stage: str, folder: Path) -> dict[str, float]:
    """Run stages/<stage>.py in `folder`; its wall time and the peak memory of its process."""
    began = time.perf_counter()
    process = subprocess.Popen([sys.executable, str(ROOT / "stages" / f"{stage}.py")], cwd=folder,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - began
    output = process.stdout.read().decode(errors="replace")
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{stage} failed:\n{output[-3000:]}")
    figures = {"seconds": round(seconds, 1), "peak_memory_gb": round(usage.ru_maxrss / 2**20, 3)}  # ru_maxrss: KiB
    print(f"{stage:8s} {figures['seconds']:6.1f} s   peak memory {figures['peak_memory_gb']:.2f} GB")
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lines", type=int, default=FULL_CORPUS_TWEETS)
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder (printed) for a look")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="full-corpus-"))
    try:
        corpus = folder / "tweets.txt"
        make_corpus(corpus, args.lines)
        params = yaml.safe_load((ROOT / PARAMS_FILE).read_text())
        params["data"]["raw"] = str(corpus)
        (folder / PARAMS_FILE).write_text(yaml.safe_dump(params))
        print(f"{args.lines:,} lines, {corpus.stat().st_size / 2**20:.0f} MiB, in {folder}")
        figures = {"lines": args.lines, "file_mb": round(corpus.stat().st_size / 2**20, 1),
                   "prepare": run_stage("prepare", folder), "split": run_stage("split", folder),
                   "counts": json.loads((folder / DATA_COUNTS).read_text()),
                   "split_sizes": json.loads((folder / SPLIT_SIZES).read_text())}
        figures["counts"].pop("raw")  # a temporary path
    finally:
        if args.keep:
            print(f"kept {folder}")
        else:
            shutil.rmtree(folder)
    write_results("full_corpus_data", figures)


if __name__ == "__main__":
    main()
