"""Raw tweets -> cleaned texts -> train/val/test splits.

Three raw layouts are recognised by content, not by file name, because the course
ships a one-tweet-per-line file under a `.csv` name:

* ``lines``        one tweet per line (the course's ``tweets.txt``), UTF-8;
* ``sentiment140`` the original Stanford CSV: no header, 6 quoted columns, latin-1;
* ``csv``          any CSV with a header row that contains ``text_column``.

Every cleaning step is a small pure function so that it can be tested on its own
and switched off from ``params.yaml``.
"""
from __future__ import annotations

import contextlib
import csv
import html
import io
import os
import re
import sys
import tempfile
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

import numpy as np
import pandas as pd

from text_autocomplete.errors import UserError
from text_autocomplete.progress import progress

SENTIMENT140_COLUMNS = ("target", "id", "date", "flag", "user", "text")
_SENTIMENT140_FIRST_ROW = re.compile(r'^"[0-4]","\d+","')
_HEADER_FIELD = re.compile(r"^[A-Za-z_][A-Za-z0-9_ .-]{0,40}$")
_URL = re.compile(r"(?:https?://|www\.)\S+", re.IGNORECASE)
_MENTION = re.compile(r"@\w+(?:'s)?")
# Anything that is not a letter, digit, apostrophe or whitespace; `_` is in \w, so add it.
_PUNCTUATION = re.compile(r"[^\w\s']|_")
_LONE_APOSTROPHES = re.compile(r"(?<!\w)'+|'+(?!\w)")
_WHITESPACE = re.compile(r"\s+")
MAX_REPORTED_BAD_ROWS = 20
T = TypeVar("T")
TEXT_COLUMN, RAW_COLUMN = "text", "raw"  # the processed CSVs: the cleaned text, and the tweet as read


class DataError(UserError):
    """Input that cannot be used; the message names the file (and line) and the fix."""


@dataclass
class DataConfig:
    """The ``data`` section of params.yaml: where the raw tweets are and how to clean them."""

    raw: str  # a local file, or an http(s) URL that DVC tracks and prepare downloads
    text_column: str  # for a CSV with a header row
    max_texts: int  # 0 = all; otherwise a seeded sample of the cleaned texts
    seed: int
    unescape_html: bool
    fix_mojibake: bool
    urls: str  # remove | placeholder | keep
    mentions: str  # remove | placeholder | keep
    # Plain words, so that they survive the punctuation filter and stay one token each.
    url_placeholder: str
    mention_placeholder: str
    lowercase: bool
    strip_punctuation: bool
    min_words: int
    drop_duplicates: bool

    def __post_init__(self) -> None:
        for name in ("urls", "mentions"):
            value = getattr(self, name)
            if value not in ("remove", "placeholder", "keep"):
                raise DataError(f"params.yaml data.{name}={value!r}: use remove, placeholder or keep")
        if self.min_words < 1:
            raise DataError(f"params.yaml data.min_words={self.min_words}: must be at least 1")


@dataclass
class RawData:
    """Texts read from a raw file, with what could not be read."""

    texts: list[str]
    layout: str
    bad_rows: list[str] = field(default_factory=list)


# --------------------------------------------------------------------------- cleaning steps
def unescape_html(text: str) -> str:
    """`&quot;` -> `"`; twice, because the corpus holds double-escaped `&amp;quot;`."""
    return html.unescape(html.unescape(text)) if "&" in text else text


def fix_mojibake(text: str) -> str:
    """Repair UTF-8 read as latin-1 (`â€™` -> `'`). ASCII text cannot hold mojibake: skip it fast."""
    if text.isascii():
        return text
    import ftfy

    return ftfy.fix_text(text, normalization="NFKC")


def replace_urls(text: str, placeholder: str = "") -> str:
    return _URL.sub(f" {placeholder} " if placeholder else " ", text)


def replace_mentions(text: str, placeholder: str = "") -> str:
    return _MENTION.sub(f" {placeholder} " if placeholder else " ", text)


def strip_punctuation(text: str) -> str:
    """Keep letters, digits and in-word apostrophes (`can't`); punctuation would split ROUGE words anyway."""
    text = _PUNCTUATION.sub(" ", text)
    return _LONE_APOSTROPHES.sub(" ", text)


def normalize_whitespace(text: str) -> str:
    return _WHITESPACE.sub(" ", text).strip()


def light_clean(text: str, config: DataConfig) -> str:
    """The cleaning steps that keep a text as it was typed (HTML entities, mojibake, URLs, mentions, spaces):
    what a cased, punctuation-reading model may be given instead of the fully cleaned text."""
    if config.unescape_html:
        text = unescape_html(text)
    if config.fix_mojibake:
        text = fix_mojibake(text)
    # Each setting is read whatever its value, so that a stage that cleans depends on all of them.
    url_placeholder, mention_placeholder = config.url_placeholder, config.mention_placeholder
    if config.urls != "keep":
        text = replace_urls(text, url_placeholder if config.urls == "placeholder" else "")
    if config.mentions != "keep":
        text = replace_mentions(text, mention_placeholder if config.mentions == "placeholder" else "")
    return normalize_whitespace(text)


def finish_cleaning(text: str, config: DataConfig) -> str:
    """The steps after `light_clean`: lowercasing before the character filter, so no capital is lost. Both work
    within words (whitespace separates what they change), so they can be applied word by word."""
    if config.lowercase:
        text = text.lower()
    if config.strip_punctuation:
        text = strip_punctuation(text)
    return normalize_whitespace(text)


def clean_text(text: str, config: DataConfig) -> str:
    """Apply every configured step."""
    return finish_cleaning(light_clean(text, config), config)


def raw_prompt(raw: str, n_words: int, config: DataConfig) -> str | None:
    """The first words of `raw` as typed (after `light_clean`) that clean to exactly the first `n_words` words of
    its cleaned text; None when no such cut exists (a typed word that cleans into words on both sides of the cut,
    like `end.start`)."""
    count, typed = 0, light_clean(raw, config).split()
    for i, word in enumerate(typed):
        count += len(finish_cleaning(word, config).split())
        if count == n_words:
            return " ".join(typed[:i + 1])
        if count > n_words:
            return None
    return None


def clean_and_keep(texts: list[str], config: DataConfig) -> tuple[list[tuple[str, str]], dict[str, int]]:
    """Clean every text and drop empty, too short and duplicate ones; return the kept texts as (cleaned, raw)
    pairs, and the counts."""
    counts = Counter(read=len(texts))
    kept: list[tuple[str, str]] = []
    seen: set[str] = set()
    for raw in progress(texts, desc="cleaning", unit="tweet"):
        text = clean_text(raw, config)
        n_words = len(text.split())
        if n_words == 0:
            counts["dropped_empty"] += 1
        elif n_words < config.min_words:
            counts["dropped_short"] += 1
        elif config.drop_duplicates and text in seen:
            counts["dropped_duplicate"] += 1
        else:
            seen.add(text)
            kept.append((text, raw))
    counts["kept"] = len(kept)
    return kept, dict(counts)


# --------------------------------------------------------------------------- reading raw files
def is_url(raw: str) -> bool:
    return raw.startswith(("http://", "https://"))


@contextlib.contextmanager
def downloaded(url: str, directory: Path) -> Iterator[Path]:
    """Download `url` into a temporary file inside `directory` (never outside the project), with a progress
    bar; yield its path and delete it afterwards. Under DVC the URL is the stage's dependency, so DVC has
    already checked that it is reachable and skips the stage while the file there is unchanged."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(dir=directory, prefix="download-", suffix=".part")
    try:
        try:
            with urllib.request.urlopen(url, timeout=30) as response, os.fdopen(fd, "wb") as out:
                total = int(response.headers.get("Content-Length") or 0) or None
                with progress(desc=url.rsplit("/", 1)[-1], total=total, unit="B", unit_scale=True) as bar:
                    while chunk := response.read(1 << 20):
                        out.write(chunk)
                        bar.update(len(chunk))
        except (urllib.error.URLError, OSError) as exc:
            raise DataError(f"params.yaml data.raw: downloading {url} failed ({exc}); without network, point "
                            f"data.raw at a local copy, e.g. `dvc exp run -S data.raw=../shared/data/tweets.txt`"
                            ) from exc
        yield Path(tmp_name)
    finally:
        if os.path.exists(tmp_name):
            os.remove(tmp_name)


def _decode_line(raw: bytes, encoding: str) -> str:
    """Decode one line; a line that is not valid in `encoding` falls back to latin-1, which never fails."""
    try:
        return raw.decode(encoding)
    except UnicodeDecodeError:
        return raw.decode("latin-1")


def detect_layout(path: Path, text_column: str = "text") -> str:
    """Return 'lines', 'sentiment140' or 'csv' from the first non-empty line, or raise DataError."""
    with open(path, "rb") as f:
        head = f.read(1 << 16)
    if not head.strip():
        raise DataError(f"{path}: the file is empty; expected tweets, one per line, or a CSV of them")
    if b"\x00" in head:
        raise DataError(f"{path}: unknown layout (binary data, NUL bytes); expected text or CSV")
    first = _decode_line(head.lstrip().split(b"\n", 1)[0].rstrip(b"\r"), "utf-8")
    if _SENTIMENT140_FIRST_ROW.match(first):
        return "sentiment140"
    fields = next(csv.reader([first]))
    if text_column in fields:
        return "csv"
    if len(fields) >= 2 and all(_HEADER_FIELD.match(f.strip()) for f in fields) and "," in first and " " not in first:
        raise DataError(
            f"{path}:1: unknown layout: looks like a CSV header {fields} without a {text_column!r} column; "
            f"set params.yaml data.text_column to the column that holds the tweets"
        )
    return "lines"


def _iter_lines(path: Path, encoding: str) -> Iterator[tuple[int, str]]:
    with open(path, "rb") as f:
        for number, raw in enumerate(f, start=1):
            yield number, _decode_line(raw.rstrip(b"\r\n"), encoding)


def _read_csv_column(path: Path, encoding: str, column: int | None, header_name: str | None,
                     n_columns: int | None) -> RawData:
    """Read one column of a CSV; a row with the wrong number of fields is reported, counted and skipped."""
    texts: list[str] = []
    bad: list[str] = []
    with open(path, "rb") as f:
        stream = io.TextIOWrapper(f, encoding=encoding, errors="replace", newline="")
        reader = csv.reader(stream)
        if header_name is not None:
            header = next(reader)
            column = header.index(header_name)
            n_columns = len(header)
        start_line = reader.line_num + 1
        for row in reader:
            if len(row) != n_columns:
                bad.append(f"{path}:{start_line}: expected {n_columns} columns, got {len(row)}")
            else:
                texts.append(row[column])
            start_line = reader.line_num + 1
    return RawData(texts, "", bad)


def read_raw_texts(path: Path, text_column: str = "text") -> RawData:
    """Read every tweet of a raw file in any supported layout."""
    path = Path(path)
    layout = detect_layout(path, text_column)
    if layout == "lines":
        data = RawData([line for _, line in _iter_lines(path, "utf-8")], layout)
    elif layout == "sentiment140":
        data = _read_csv_column(path, "latin-1", column=5, header_name=None, n_columns=len(SENTIMENT140_COLUMNS))
    else:
        data = _read_csv_column(path, "utf-8", column=None, header_name=text_column, n_columns=None)
    data.layout = layout
    if not data.texts:
        raise DataError(f"{path}: no tweets could be read (layout {layout}, {len(data.bad_rows)} broken rows)")
    return data


def report_bad_rows(bad_rows: list[str]) -> None:
    for message in bad_rows[:MAX_REPORTED_BAD_ROWS]:
        print(f"warning: {message} (row dropped)", file=sys.stderr)
    if len(bad_rows) > MAX_REPORTED_BAD_ROWS:
        print(f"warning: ... and {len(bad_rows) - MAX_REPORTED_BAD_ROWS} more broken rows", file=sys.stderr)


# --------------------------------------------------------------------------- sampling and splitting
def seeded_sample(texts: list[T], max_texts: int, seed: int) -> list[T]:
    """`max_texts` texts (or (text, raw) pairs) drawn without replacement, in their original order (0 = all)."""
    if max_texts <= 0 or max_texts >= len(texts):
        return texts
    chosen = np.sort(np.random.default_rng(seed).choice(len(texts), size=max_texts, replace=False))
    return [texts[i] for i in chosen]


def split_texts(texts: list[T], val_ratio: float, test_ratio: float, seed: int) -> dict[str, list[T]]:
    """Shuffle texts (or (text, raw) pairs) with `seed` and cut into train/val/test; texts are unique, so no text
    lands in two splits."""
    if not (0 <= val_ratio < 1 and 0 <= test_ratio < 1 and val_ratio + test_ratio < 1):
        raise DataError(f"params.yaml split: val_ratio={val_ratio}, test_ratio={test_ratio} must be in [0, 1) "
                        f"and leave texts for training")
    order = np.random.default_rng(seed).permutation(len(texts))
    n_val, n_test = int(len(texts) * val_ratio), int(len(texts) * test_ratio)
    parts = {"val": order[:n_val], "test": order[n_val:n_val + n_test], "train": order[n_val + n_test:]}
    return {name: [texts[i] for i in idx] for name, idx in parts.items()}


def write_texts(path: Path, pairs: list[tuple[str, str]]) -> None:
    """(cleaned, raw) pairs as a CSV: `text` is what the models learn from and are scored on, `raw` the tweet as
    it was read (a model that reads casing and punctuation gets its prompt from there)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    pd.DataFrame(pairs, columns=[TEXT_COLUMN, RAW_COLUMN]).to_csv(path, index=False)


def read_pairs(path: Path) -> list[tuple[str, str]]:
    """Read a processed CSV written by `write_texts`: its (cleaned, raw) pairs."""
    if not Path(path).exists():
        raise DataError(f"{path} does not exist; run `dvc repro` to build it")
    frame = pd.read_csv(path, keep_default_na=False, dtype=str)
    missing = {TEXT_COLUMN, RAW_COLUMN} - set(frame.columns)
    if missing:
        raise DataError(f"{path}: no {sorted(missing)} column (written by an older version); run `dvc repro`")
    return list(zip(frame[TEXT_COLUMN], frame[RAW_COLUMN]))


def read_texts(path: Path) -> list[str]:
    """The cleaned texts of a processed CSV."""
    return [text for text, _ in read_pairs(path)]


# --------------------------------------------------------------------------- the two data stages
@dataclass
class SplitConfig:
    """The ``split`` section of params.yaml."""

    val_ratio: float
    test_ratio: float
    seed: int


def prepare_dataset(config: DataConfig, out_csv: Path) -> dict[str, int | str]:
    """Read (downloading `data.raw` when it is a URL), clean, deduplicate and sample the raw tweets; return the
    counts."""
    if is_url(config.raw):
        print(f"downloading {config.raw}")
        source = downloaded(config.raw, Path(out_csv).parent)
    elif Path(config.raw).exists():
        source = contextlib.nullcontext(Path(config.raw))
    else:
        raise DataError(f"params.yaml data.raw: {config.raw} does not exist; point data.raw at the raw tweets "
                        f"(one per line, or the sentiment140 CSV), or at their URL to download them")
    with source as path:
        raw = read_raw_texts(path, config.text_column)
    report_bad_rows(raw.bad_rows)
    pairs, counts = clean_and_keep(raw.texts, config)
    counts["read"] += len(raw.bad_rows)
    counts["dropped_broken_row"] = len(raw.bad_rows)
    sampled = seeded_sample(pairs, config.max_texts, config.seed)
    counts["dropped_by_max_texts"] = len(pairs) - len(sampled)
    counts["kept"] = len(sampled)
    write_texts(out_csv, sampled)
    return {"raw": config.raw, "layout": raw.layout, **counts}


def split_dataset(config: SplitConfig, processed_csv: Path, out_csvs: dict[str, Path | str]) -> dict[str, int]:
    """Write the train, val and test texts to `out_csvs[name]`; return their sizes."""
    splits = split_texts(read_pairs(processed_csv), config.val_ratio, config.test_ratio, config.seed)
    for name, texts in splits.items():
        write_texts(out_csvs[name], texts)
    return {name: len(texts) for name, texts in splits.items()}
