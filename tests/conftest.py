"""Shared fixtures: the real tweets beside the repository (skipped cleanly when absent) and small helpers."""
from __future__ import annotations

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
                          capture_output=True, text=True, timeout=600)


def write_params(workdir: Path, **sections: dict) -> None:
    """A params.yaml in `workdir`: the project's own, with `sections` merged over it."""
    params = yaml.safe_load((ROOT / "params.yaml").read_text())
    for name, values in sections.items():
        params.setdefault(name, {}).update(values)
    (workdir / "params.yaml").write_text(yaml.safe_dump(params))
