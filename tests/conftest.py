"""Shared fixtures: the real tweets beside the repository (skipped cleanly when absent), the whole pipeline run
in a copy of the repository (on made-up tweets, and on the real sample), and small helpers."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
SHARED_DATA = ROOT.parent / "shared" / "data"
TWEETS = SHARED_DATA / "tweets.txt"
SENTIMENT140 = SHARED_DATA / "sentiment140_sample.6col.csv"


@pytest.fixture(scope="session")
def tweet_lines() -> list[str]:
    """The real course file, one raw tweet per line (line N is index N-1)."""
    if not TWEETS.exists():
        pytest.skip(f"{TWEETS} not present")
    return TWEETS.read_text(encoding="utf-8").split("\n")


@pytest.fixture(scope="session")
def sentiment140_path() -> Path:
    if not SENTIMENT140.exists():
        pytest.skip(f"{SENTIMENT140} not present")
    return SENTIMENT140


def run_stage(stage: str, workdir: Path, *args: str) -> subprocess.CompletedProcess:
    """Run `stages/<stage>.py` with `workdir` as the project root (its params.yaml, data/, metrics/)."""
    return subprocess.run([sys.executable, str(ROOT / "stages" / f"{stage}.py"), *args], cwd=workdir,
                          capture_output=True, text=True, timeout=600, check=False)


def run_command(args: list[str], cwd, stdin: bytes = b"", **env: str) -> subprocess.CompletedProcess:
    """The installed `autocomplete` command, run from `cwd`."""
    command = str(Path(sys.executable).parent / "autocomplete")
    return subprocess.run([command, *args], input=stdin, capture_output=True, cwd=cwd, timeout=120, check=False,
                          env={**os.environ, **env})


def project_config(cls, section: str, **overrides):
    """The config of `section` as the project's params.yaml holds it, with `overrides` (the one source of values)."""
    from dataclasses import replace

    from text_autocomplete.params import load_config

    return replace(load_config(cls, section, ROOT / "params.yaml"), **overrides)


def write_params(workdir: Path, **sections: dict) -> None:
    """A params.yaml in `workdir`: the project's own, with `sections` merged over it."""
    params = yaml.safe_load((ROOT / "params.yaml").read_text())
    for name, values in sections.items():
        params.setdefault(name, {}).update(values)
    (workdir / "params.yaml").write_text(yaml.safe_dump(params))


# --------------------------------------------------------------------------- the whole pipeline, in a copy
TINY_PARAMS = {
    "data": {"max_texts": 3000},
    "tokenizer": {"vocab_size": 1500, "min_frequency": 1},
    "lstm": {"embedding_dim": 32, "hidden_dim": 32, "num_layers": 1, "dropout": 0.1, "softmax_cutoffs": [300]},
    "train": {"epochs": 2, "batch_size": 32, "val_rouge_texts": 40, "warmup_steps": 10, "show_examples": 2},
    "eval": {"max_texts": 120, "bootstrap_samples": 200, "latency_texts": 5, "examples": 8},
    "lstm_eval": {"sweep_texts": 16, "candidates": [{"name": "greedy"}, {"name": "mbr4", "mbr_samples": 4}]},
    "gpt2": {"sweep_texts": 16, "batch_size": 16,
             "candidates": [{"name": "greedy"}, {"name": "sampled", "do_sample": True, "top_k": 20}]},
    "report": {"examples": 5},
}


def sh(command: list[str], cwd: Path, check: bool = True, **env: str) -> str:
    """Run a command in a pipeline copy: its own code first on the path, DVC without analytics, a git identity."""
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
           "PYTHONPATH": str(cwd / "src"), "DVC_NO_ANALYTICS": "1", "GIT_AUTHOR_NAME": "t",
           "GIT_AUTHOR_EMAIL": "t@t", "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@t", **env}
    result = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=900, check=False)
    if check:
        assert result.returncode == 0, f"{' '.join(command)} failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    return result.stdout + result.stderr


def copy_repository(work: Path) -> Path:
    """The tracked and untracked-but-not-ignored files of the working tree, as a fresh git repository."""
    files = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard"], cwd=ROOT,
                           capture_output=True, text=True, check=True).stdout.split()
    for name in files:
        if (ROOT / name).is_file():
            (work / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, work / name)
    sh(["git", "init", "-q"], work)
    sh(["git", "add", "-A"], work)
    sh(["git", "commit", "-qm", "copy"], work)
    return work


def build_pipeline(base: Path, raw: Path) -> Path:
    """A copy of the repository after a full, traced `dvc repro` on `raw` with tiny sizes and a tiny GPT-2.

    The trace (what each stage read and wrote) lands in base/trace, the tiny GPT-2 in base/tiny-gpt2: both
    outside the copy, so that they are not files of the project.
    """
    from tiny_gpt2 import save_tiny_gpt2

    work = base / "repo"
    work.mkdir(parents=True)
    save_tiny_gpt2(base / "tiny-gpt2")
    copy_repository(work)
    write_params(work, **{**TINY_PARAMS, "data": {**TINY_PARAMS["data"], "raw": str(raw)},
                          "gpt2": {**TINY_PARAMS["gpt2"], "model": str(base / "tiny-gpt2")}})
    sh(["git", "commit", "-qam", "tiny run"], work)
    sh(["dvc", "repro"], work, TEXT_AUTOCOMPLETE_TRACE=str(base / "trace"))
    return work


@pytest.fixture(scope="session")
def synthetic_pipeline(tmp_path_factory) -> Path:
    """The pipeline on 3,000 made-up tweets: runs wherever the tests run, no data beside the repository needed."""
    from synthetic_tweets import synthetic_tweets

    base = tmp_path_factory.mktemp("synthetic")
    raw = base / "tweets.txt"
    raw.write_text("\n".join(synthetic_tweets(3300)) + "\n")
    return build_pipeline(base, raw)


@pytest.fixture(scope="session")
def real_pipeline(tmp_path_factory) -> Path:
    """The pipeline on 3,000 real tweets of the sample beside the repository."""
    if not TWEETS.exists():
        pytest.skip("no real data beside the repository")
    return build_pipeline(tmp_path_factory.mktemp("real"), TWEETS)


@pytest.fixture(params=["synthetic", "real"])
def pipeline(request) -> Path:
    """Each test that takes it runs on both pipelines (the real one skips without the sample)."""
    return request.getfixturevalue(f"{request.param}_pipeline")
