"""No real tweet in the project's files: the corpus is read from ../shared, never committed, raw or cleaned. Every
committed text file is checked for a run of 8 consecutive words of any tweet of the sample, raw or cleaned (words
read as lowercase letters, digits and in-word apostrophes), so that neither a raw tweet nor a cleaned one passes."""
from __future__ import annotations

import re
import subprocess

import pytest

from conftest import ROOT, SENTIMENT140, SHARED_DATA, TWEETS

MANUAL_TEST = SHARED_DATA / "testdata.manual.2009.06.14.csv"

RUN = 8  # words in a row that no committed file may share with a tweet
WORD = re.compile(r"[a-z0-9]+(?:'[a-z0-9]+)*")
MAX_BYTES = 5_000_000  # larger files are data (none is committed as text)


def runs(text: str) -> set[str]:
    """Every run of RUN consecutive words of `text`, read across lines and table cells as a reader would."""
    words = WORD.findall(text.lower())
    return {" ".join(words[i:i + RUN]) for i in range(len(words) - RUN + 1)}


@pytest.fixture(scope="module")
def tweet_runs() -> set[str]:
    if not TWEETS.exists():
        pytest.skip(f"{TWEETS} not present")
    from text_autocomplete.data_utils import DataConfig, clean_text

    from conftest import project_config

    from text_autocomplete.data_utils import read_raw_texts

    cleaning = project_config(DataConfig, "data")
    texts = TWEETS.read_text(encoding="utf-8").splitlines()
    for other in (SENTIMENT140, MANUAL_TEST):  # the other files of ../shared the tests and the README use
        if other.exists():
            texts += read_raw_texts(other).texts
    found: set[str] = set()
    for line in texts:
        found |= runs(line) | runs(clean_text(line, cleaning))  # as typed, and as the pipeline cleans it
    return found


def committed_texts(root) -> dict[str, str]:
    """The text files git tracks in `root` (binary files, and files that are not UTF-8, are not text)."""
    names = subprocess.run(["git", "ls-files", "-z"], cwd=root, capture_output=True, text=True,
                           check=True).stdout.split("\0")
    texts = {}
    for name in filter(None, names):
        path = root / name
        if path.is_file() and path.stat().st_size <= MAX_BYTES:
            try:
                texts[name] = path.read_text(encoding="utf-8")
            except UnicodeDecodeError:
                continue
    return texts


def shared_runs(texts: dict[str, str], tweet_runs: set[str]) -> dict[str, list[str]]:
    return {name: sorted(found)[:3] for name, text in texts.items() if (found := runs(text) & tweet_runs)}


def test_no_committed_file_holds_a_real_tweet(tweet_runs):
    assert shared_runs(committed_texts(ROOT), tweet_runs) == {}


def test_a_pasted_tweet_is_caught(tweet_runs):
    """A cleaned tweet pasted into a report, and a raw one into a test fixture, are both found."""
    from text_autocomplete.data_utils import DataConfig, clean_text

    from conftest import project_config

    tweet = next(line for line in TWEETS.read_text(encoding="utf-8").splitlines()[1000:] if len(line.split()) >= 12)
    cleaned = clean_text(tweet, project_config(DataConfig, "data"))
    texts = {"reports/report.md": f"| prompt | {cleaned} |\n", "tests/test_x.py": f"TEXT = {tweet!r}\n"}
    assert set(shared_runs(texts, tweet_runs)) == set(texts)
    assert shared_runs({"README.md": "a tweet-like phrase of our own, written for the project, eight words"},
                       tweet_runs) == {}
