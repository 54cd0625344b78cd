"""Cleaning steps on real tricky lines, raw layouts, bad input, sampling and splitting."""
from __future__ import annotations

import csv
import json
from dataclasses import replace

import pytest

from text_autocomplete.data_utils import (
    DataConfig,
    DataError,
    SplitConfig,
    clean_and_keep,
    clean_text,
    detect_layout,
    finish_cleaning,
    fix_mojibake,
    light_clean,
    normalize_whitespace,
    prepare_dataset,
    raw_prompt,
    read_pairs,
    read_raw_texts,
    replace_mentions,
    replace_urls,
    seeded_sample,
    split_dataset,
    split_texts,
    strip_punctuation,
    unescape_html,
)
from text_autocomplete.paths import DATA_COUNTS

from conftest import project_config, run_stage, write_params

CONFIG = project_config(DataConfig, "data")


# --------------------------------------------------------------------------- each step on real lines
# The real lines are picked from ../shared at run time by what they hold; no text of the corpus is written here.
def first_line_with(lines: list[str], fragment: str) -> str:
    return next(line for line in lines if fragment in line)


def test_unescape_html_on_real_lines(tweet_lines):
    line = first_line_with(tweet_lines, "&quot;")
    out = unescape_html(line)
    assert "&quot;" not in out and "&amp;" not in out and out.count('"') >= line.count("&quot;")
    assert unescape_html("she said &quot;see you&quot; &amp; left") == 'she said "see you" & left'
    assert unescape_html("&amp;quot;") == '"'  # double-escaped text in the corpus


def test_fix_mojibake_on_real_lines(tweet_lines):
    line = first_line_with(tweet_lines, "\u00e2\u0080\u0093")  # an en dash exported as latin-1 and read as UTF-8
    fixed = fix_mojibake(line)
    assert "\u00e2" not in fixed and "\u2013" in fixed
    assert fix_mojibake("a caf\u00c3\u00a9 \u00e2\u0099\u00ab song") == "a caf\u00e9 \u266b song"
    assert fix_mojibake("plain ascii") == "plain ascii"


def test_urls_removed_or_replaced(tweet_lines):
    line = first_line_with(tweet_lines, "http://")
    assert "http" not in replace_urls(line)
    assert replace_urls("see www.example.com/x now", "xxurl").split() == ["see", "xxurl", "now"]


def test_mentions_removed_or_replaced(tweet_lines):
    line = next(line for line in tweet_lines if line.startswith("@"))
    assert "@" not in replace_mentions(line)
    assert normalize_whitespace(replace_mentions("@friend Nice one. ")) == "Nice one."
    assert replace_mentions("hi @bob's dog", "xxuser").split() == ["hi", "xxuser", "dog"]


def test_punctuation_keeps_inword_apostrophes():
    assert strip_punctuation("can't stop!!! 'quoted' ok...").split() == ["can't", "stop", "quoted", "ok"]


def test_lowercase_happens_before_the_character_filter():
    line = "off to the GYM now  I Really Miss You! &lt;3"
    assert clean_text(line, CONFIG) == "off to the gym now i really miss you 3"


def test_each_step_can_be_switched_off():
    config = replace(CONFIG, lowercase=False, strip_punctuation=False, urls="keep", mentions="placeholder")
    assert clean_text("@Bob Look: http://x.y/z !", config) == "xxuser Look: http://x.y/z !"


def test_cleaning_counts_every_drop_and_keeps_the_raw_form(tweet_lines):
    texts = [tweet_lines[55], tweet_lines[56], "", "   ", tweet_lines[18], tweet_lines[18]]
    kept, counts = clean_and_keep(texts, CONFIG)
    assert counts == {"read": 6, "dropped_short": 2, "dropped_empty": 2, "dropped_duplicate": 1, "kept": 1}
    assert kept == [(clean_text(tweet_lines[18], CONFIG), tweet_lines[18])]


def test_bad_cleaning_parameter_is_named():
    with pytest.raises(DataError, match="data.urls"):
        replace(CONFIG, urls="delete")


# --------------------------------------------------------------------------- raw layouts
def test_detects_the_three_layouts(tmp_path, sentiment140_path):
    from conftest import TWEETS

    assert detect_layout(TWEETS) == "lines"
    assert detect_layout(sentiment140_path) == "sentiment140"
    header = tmp_path / "h.csv"
    header.write_text("id,text\n1,hello there my friend\n")
    assert detect_layout(header) == "csv"
    assert read_raw_texts(header).texts == ["hello there my friend"]


def test_sentiment140_is_read_as_latin1(sentiment140_path):
    data = read_raw_texts(sentiment140_path)
    assert len(data.texts) == 20000 and not data.bad_rows
    with open(sentiment140_path, encoding="latin-1", newline="") as f:  # an independent read: the csv module
        expected = [row[5] for row in csv.reader(f)]
    assert data.texts == expected
    # line 252 holds bytes that are not UTF-8: read as latin-1, not lost
    assert not sentiment140_path.read_bytes().splitlines()[251].decode("utf-8", errors="replace").isascii()


def test_non_utf8_bytes_in_a_lines_file(tmp_path):
    path = tmp_path / "tweets.txt"
    path.write_bytes("caf\u00e9 is open today\n".encode() + b"na\xefve bytes here today\n")
    assert read_raw_texts(path).texts == ["caf\u00e9 is open today", "na\u00efve bytes here today"]


def test_broken_csv_row_is_reported_and_counted(tmp_path):
    path = tmp_path / "raw.csv"
    good = '"0","1","Mon","NO_QUERY","u","this is a good tweet"\n'
    path.write_text(good + '"4","2","Mon","broken"\n' + good.replace("good", "second good"), encoding="latin-1")
    data = read_raw_texts(path)
    assert data.texts == ["this is a good tweet", "this is a second good tweet"]
    assert data.bad_rows == [f"{path}:2: expected 6 columns, got 4"]
    counts = prepare_dataset(replace(CONFIG, raw=str(path)), tmp_path / "out.csv")
    assert counts["read"] == 3 and counts["dropped_broken_row"] == 1 and counts["kept"] == 2


@pytest.mark.parametrize("content, message", [
    (b"", "the file is empty"),
    (b"\x00\x01\x02binary", "unknown layout"),
    (b"id,label,body\n1,0,hello\n", "without a 'text' column"),
])
def test_bad_files_name_the_file(tmp_path, content, message):
    path = tmp_path / "raw.csv"
    path.write_bytes(content)
    with pytest.raises(DataError, match=message) as error:
        read_raw_texts(path)
    assert str(path) in str(error.value)


def test_prepare_stage_bad_input_exits_with_one_message(tmp_path):
    write_params(tmp_path, data={"raw": "data/missing.csv"})
    result = run_stage("prepare", tmp_path)
    assert result.returncode == 1
    assert "params.yaml data.raw: data/missing.csv does not exist" in result.stderr
    assert "Traceback" not in result.stderr

    write_params(tmp_path, data={"raw": "http://127.0.0.1:9/tweets.txt"})  # nothing listens on port 9
    result = run_stage("prepare", tmp_path)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert "downloading http://127.0.0.1:9/tweets.txt failed" in result.stderr
    assert list((tmp_path / "data").iterdir()) == []  # no half-written download left behind

    (tmp_path / "empty.txt").write_text("")
    write_params(tmp_path, data={"raw": "empty.txt"})
    result = run_stage("prepare", tmp_path)
    assert result.returncode == 1 and "empty.txt: the file is empty" in result.stderr


def test_unknown_parameter_is_named(tmp_path):
    write_params(tmp_path, data={"max_text": 5})
    result = run_stage("prepare", tmp_path)
    assert result.returncode == 1 and "data.max_text: unknown parameter" in result.stderr


def test_prepare_stage_on_the_real_file(tmp_path):
    from conftest import TWEETS

    if not TWEETS.exists():
        pytest.skip("no real data")
    write_params(tmp_path, data={"raw": str(TWEETS), "max_texts": 5000})
    result = run_stage("prepare", tmp_path)
    assert result.returncode == 0, result.stderr
    counts = json.loads((tmp_path / DATA_COUNTS).read_text())
    assert counts["read"] == 124859
    dropped = sum(v for k, v in counts.items() if k.startswith("dropped_"))
    assert counts["read"] == dropped + counts["kept"] and counts["kept"] == 5000


# --------------------------------------------------------------------------- sampling and splitting
def test_sample_is_seeded_and_keeps_order():
    texts = [f"t{i}" for i in range(100)]
    a, b = seeded_sample(texts, 10, seed=1), seeded_sample(texts, 10, seed=1)
    assert a == b and a == sorted(a, key=texts.index) and seeded_sample(texts, 10, seed=2) != a
    assert seeded_sample(texts, 0, seed=1) == texts


def test_split_is_deterministic_and_disjoint():
    texts = [f"text number {i}" for i in range(1000)]
    first, second = split_texts(texts, 0.1, 0.1, seed=7), split_texts(texts, 0.1, 0.1, seed=7)
    assert first == second
    assert {k: len(v) for k, v in first.items()} == {"val": 100, "test": 100, "train": 800}
    sets = [set(v) for v in first.values()]
    assert set.union(*sets) == set(texts) and sum(map(len, sets)) == len(texts)
    assert split_texts(texts, 0.1, 0.1, seed=8)["test"] != first["test"]


def test_bad_split_ratios_are_named():
    with pytest.raises(DataError, match="val_ratio"):
        split_texts(["a"], 0.6, 0.5, seed=0)


# --------------------------------------------------------------------------- the raw form beside the cleaned text
TYPED = ["Hey @bob, I LOVE it!! See http://x.co/abc now, friends", "&amp;quot;Quoted&amp;quot; don't STOP...",
         "WASUP?! im 'here' ok - bye", "Itâ€™s a cafÃ©, isn't it", "we met at the end.start of it all"]


@pytest.mark.parametrize("text", TYPED)
def test_cleaning_is_light_cleaning_then_finishing_word_by_word(text):
    """raw_prompt relies on it: the last steps change words one at a time, never across a space."""
    light = light_clean(text, CONFIG)
    by_word = " ".join(filter(None, (finish_cleaning(word, CONFIG) for word in light.split())))
    assert clean_text(text, CONFIG) == finish_cleaning(light, CONFIG) == by_word


def test_raw_prompt_is_the_same_words_as_typed():
    raw = TYPED[0]
    cleaned = clean_text(raw, CONFIG).split()
    assert cleaned == ["hey", "i", "love", "it", "see", "now", "friends"]
    for n in range(1, len(cleaned) + 1):
        assert clean_text(raw_prompt(raw, n, CONFIG), CONFIG).split() == cleaned[:n]
    assert raw_prompt(raw, 3, CONFIG) == "Hey , I LOVE"  # the mention goes, as the cleaning says; casing stays
    assert raw_prompt(raw, 4, CONFIG) == "Hey , I LOVE it!!"  # punctuation typed with the last word stays
    assert raw_prompt(raw, 6, CONFIG) == "Hey , I LOVE it!! See now,"  # the URL goes
    # `end.start` cleans to two words: no typed prefix ends between them, so there is no raw prompt
    assert raw_prompt(TYPED[4], 4, CONFIG) == "we met at the"
    assert raw_prompt(TYPED[4], 5, CONFIG) is None
    assert raw_prompt(TYPED[4], 6, CONFIG) == "we met at the end.start"


def test_prepare_and_split_keep_each_texts_raw_form(tmp_path):
    raw = tmp_path / "tweets.txt"
    raw.write_text("\n".join(f"{line} number {i}" for i, line in enumerate(TYPED * 4)) + "\n")
    processed = tmp_path / "processed.csv"
    prepare_dataset(replace(CONFIG, raw=str(raw)), processed)
    pairs = read_pairs(processed)
    assert len(pairs) == 20 and all(clean_text(typed, CONFIG) == text for text, typed in pairs)
    outs = {name: tmp_path / f"{name}.csv" for name in ("train", "val", "test")}
    split_dataset(SplitConfig(0.2, 0.2, seed=1), processed, outs)
    assert sorted(pair for out in outs.values() for pair in read_pairs(out)) == sorted(pairs)


def test_a_processed_file_without_the_raw_column_is_named(tmp_path):
    old = tmp_path / "train.csv"
    old.write_text("text\nhello there my friend\n")
    with pytest.raises(DataError, match=r"train.csv: no \['raw'\] column"):
        read_pairs(old)
