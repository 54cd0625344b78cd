"""Word and phrase completion, the mid-word metric, and the `autocomplete` command's exit codes."""
from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from text_autocomplete.autocomplete import (
    AutocompleteConfig,
    Autocompleter,
    MidWordExample,
    OneTokenLSTMStep,
    last_words,
    make_midword_examples,
    midword_metrics,
    split_partial_word,
)
from text_autocomplete.cli import main
from text_autocomplete.paths import PHONE_NGRAM_FILE, PHONE_PROGRAM_FILE

from conftest import ROOT, project_config, run_command
from tiny_light_model import TEXTS, save_test_model, tiny_autocompleter


@pytest.fixture(scope="module")
def completer() -> Autocompleter:
    return tiny_autocompleter()


@pytest.mark.parametrize("proj_size", [0, 8])
def test_one_token_step_equals_nn_lstm(proj_size):
    torch.manual_seed(0)
    lstm = torch.nn.LSTM(16, 12, num_layers=2, batch_first=True, proj_size=proj_size).eval()
    tokens = torch.randn(1, 5, 16)
    with torch.no_grad():
        expected, (h, c) = lstm(tokens)
        state = (torch.zeros_like(h), torch.zeros_like(c))
        step = OneTokenLSTMStep(lstm)
        for t in range(5):
            output, state = step(tokens[0, t], state)
    assert torch.allclose(output, expected[0, -1], atol=1e-6)
    assert torch.allclose(state[0], h, atol=1e-6) and torch.allclose(state[1], c, atol=1e-6)


def test_word_by_word_and_whole_text_reach_the_same_suggestions(completer):
    completer.reset()
    completer.feed("going to the")
    whole = completer.log_probs.clone()
    completer.reset()
    for word in ("going", "to", "the"):  # one token at a time takes the one-step path
        completer.feed(word)
    assert torch.allclose(completer.log_probs, whole, atol=1e-5)
    assert "<unk>" not in completer.next_words(10) and "<eos>" not in completer.next_words(10)


def test_split_partial_word():
    assert split_partial_word("going to the bea") == ("going to the", "bea")
    assert split_partial_word("going to the ") == ("going to the ", "")
    assert split_partial_word("") == ("", "")


def test_known_prefix_completes_to_vocabulary_words(completer):
    words = completer.next_words(5, "bea")
    assert set(words) == {"beach", "beauty"}
    for suggestion in completer.suggest("going to the bea", n_suggestions=3, n_words=3):
        assert suggestion.split()[0] in {"beach", "beauty"} and len(suggestion.split()) == 3


def test_unknown_prefix_and_empty_input(completer):
    assert completer.suggest("going to the xyz", 3, 2) == []
    assert len(completer.suggest("", 2, 2)) == 2  # nothing typed: how tweets start


def test_punctuation_is_cleaned_like_the_corpus(completer):
    assert completer.suggest("Going to the BEA", 2, 1) == completer.suggest("going to the bea", 2, 1)
    assert completer.suggest("going to the... ", 2, 2) == completer.suggest("going to the ", 2, 2)


def test_state_is_kept_between_words(completer):
    completer.reset()
    completer.feed("going to")
    completer.feed("the")
    incremental = completer.log_probs.clone()
    completer.reset()
    completer.feed("going to the")
    assert torch.allclose(incremental, completer.log_probs, atol=1e-5)


def test_midword_examples_are_seeded_cuts_inside_words():
    examples = make_midword_examples(TEXTS, seed=3)
    assert examples == make_midword_examples(TEXTS, seed=3)
    assert examples != make_midword_examples(TEXTS, seed=4)
    for ex, text in zip(examples, TEXTS):
        assert ex.word.startswith(ex.prefix) and 1 <= len(ex.prefix) < len(ex.word)
        assert text.startswith(f"{ex.context} {ex.word}")


class ScriptedSuggestions:
    """An autocompleter whose suggestions for each typed prefix are given, to check the metric's arithmetic."""

    def __init__(self, suggestions: dict[str, list[str]]):
        self.suggestions = suggestions

    def reset(self) -> None:
        pass

    def feed(self, text: str) -> None:
        pass

    def next_words(self, k: int, prefix: str = "") -> list[str]:
        return self.suggestions[prefix][:k]


def test_midword_metrics_count_hits_and_saved_keystrokes():
    examples = [MidWordExample("going to the", "beach", "be"),  # first suggestion: 3 letters left, 2 saved
                MidWordExample("i love", "summer", "su"),  # second suggestion: top-3 only, nothing saved
                MidWordExample("see you", "tomorrow", "tom"),  # not suggested: 5 letters left, none saved
                MidWordExample("good", "night", "n")]  # first suggestion: 4 letters left, 3 saved
    scripted = ScriptedSuggestions({"be": ["beach", "beauty"], "su": ["sun", "summer", "sushi"],
                                    "tom": ["tom", "tomato", "tomb", "tomorrow"], "n": ["night", "now"]})
    assert midword_metrics(scripted, examples) == {"midword_top1": 0.5, "midword_top3": 0.75,
                                                   "midword_keystrokes_saved": round(5 / 16, 5), "midword_texts": 4}


def test_command_exit_codes(tmp_path, completer, capsys):
    assert main([""]) == 2 and "prompt is empty" in capsys.readouterr().err
    assert main(["--model-dir", str(tmp_path / "none"), "hello"]) == 1
    assert "tokenizer file not found" in capsys.readouterr().err

    save_test_model(completer, tmp_path)
    for model in ("lstm", "phone"):  # the phone model: its files beside the LSTM's (tiny_light_model.py)
        assert main(["--model", model, "--model-dir", str(tmp_path), "-n", "2", "-w", "2", "going to the bea"]) == 0
        lines = capsys.readouterr().out.split("\n")
        assert lines[0].split()[0] in {"beach", "beauty"} and len(lines[0].split()) == 2


def answers(stdout: bytes) -> list[list[str]]:
    """The interactive output as one list of suggestion lines per input line (each answer ends with a blank line)."""
    blocks, current = [], []
    for line in stdout.decode().split("\n")[:-1]:
        if line:
            current.append(line)
        else:
            blocks.append(current)
            current = []
    assert current == [], "the last answer is not closed by a blank line"
    return blocks


def test_command_is_installed_and_interactive(tmp_path, completer):
    save_test_model(completer, tmp_path / "model")
    result = run_command(["-n", "1"], tmp_path, b"going to the bea\n\nsee you\n",
                         AUTOCOMPLETE_MODEL_DIR=str(tmp_path / "model"))
    assert result.returncode == 0, result.stderr
    blocks = answers(result.stdout)
    assert len(blocks) == 3 and blocks[0][0].split()[0] in {"beach", "beauty"}  # one answer per line typed
    assert blocks[1] == [] and len(blocks[2]) == 1 and len(blocks[2][0].split()) == 3


def test_command_finds_the_project_from_any_folder(tmp_path, completer):
    """From a folder outside any project: the model from the option, else the environment variable, else the
    project's models/lstm (the project being --project, else $AUTOCOMPLETE_PROJECT, else this checkout)."""
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    save_test_model(completer, tmp_path / "project" / "models" / "lstm")
    shutil.copy(ROOT / "params.yaml", tmp_path / "project" / "params.yaml")
    by_option = run_command(["--model-dir", str(tmp_path / "project" / "models" / "lstm"), "going to the bea"],
                            elsewhere)
    by_env = run_command(["going to the bea"], elsewhere, AUTOCOMPLETE_PROJECT=str(tmp_path / "project"))
    by_project = run_command(["--project", str(tmp_path / "project"), "going to the bea"], elsewhere)
    assert by_option.returncode == by_env.returncode == by_project.returncode == 0, by_env.stderr
    assert by_option.stdout == by_env.stdout == by_project.stdout
    assert by_option.stdout.decode().split()[0] in {"beach", "beauty"}

    missing = run_command(["going to the bea"], elsewhere, AUTOCOMPLETE_PROJECT=str(tmp_path / "none"))
    assert missing.returncode == 1 and str(tmp_path / "none" / "params.yaml") in missing.stderr.decode()


def test_command_answers_from_the_project_it_runs_in(tmp_path, completer):
    """Two clones of a project, each with its own model (one n-gram saw beaches, the other beauty salons): run
    inside either (or a folder below it), `autocomplete` answers from that clone's model, whatever
    $AUTOCOMPLETE_PROJECT says; --project still wins. `autocomplete serve` says which project it serves, and the
    error of a project without a model names it."""
    words = {"beach": "see you at the beach", "beauty": "we went to the beauty salon"}
    for (word, text), other in zip(words.items(), reversed(words)):
        project = tmp_path / word
        save_test_model(completer, project / "models" / "lstm", ngram_texts=[text] * 10, ngram_weight=0.9)
        # The phone's folder (autocomplete serve's default) holds a model of the other word, and only it does.
        save_test_model(completer, project / "models" / "mobile", ngram_texts=[words[other]] * 10, ngram_weight=0.9)
        for name in (PHONE_PROGRAM_FILE, PHONE_NGRAM_FILE):
            (project / "models" / "lstm" / name).unlink()
        shutil.copy(ROOT / "params.yaml", project / "params.yaml")
        shutil.copy(ROOT / "dvc.yaml", project / "dvc.yaml")
        (project / "notebooks").mkdir()

    def first_word(cwd: Path, *options: str, **env: str) -> str:
        result = run_command([*options, "going to the bea"], cwd, **env)
        assert result.returncode == 0, result.stderr
        return result.stdout.decode().split()[0]

    for word, other in (("beach", "beauty"), ("beauty", "beach")):
        assert first_word(tmp_path / word) == word
        assert first_word(tmp_path / word / "notebooks", AUTOCOMPLETE_PROJECT=str(tmp_path / other)) == word
        assert first_word(tmp_path / word, "--project", str(tmp_path / other)) == other
        assert first_word(tmp_path / word, "--model", "phone") == other  # models/mobile
        # The LSTM's variable does not move the phone's folder; the phone's own does.
        assert first_word(tmp_path / word, "--model", "phone",
                          AUTOCOMPLETE_MODEL_DIR=str(tmp_path / word / "models" / "lstm")) == other
        assert first_word(tmp_path / word, "--model", "phone",
                          AUTOCOMPLETE_PHONE_DIR=str(tmp_path / other / "models" / "mobile")) == word

    with subprocess.Popen([str(Path(sys.executable).parent / "autocomplete"), "serve", "--port", "0"],
                          cwd=tmp_path / "beach" / "notebooks", stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                          text=True) as server:
        try:
            first = server.stdout.readline()
        finally:
            server.kill()
    assert f"project {(tmp_path / 'beach').resolve()} (the project around the working folder)" in first, first

    bare = tmp_path / "bare"  # a project folder without a model
    bare.mkdir()
    shutil.copy(ROOT / "params.yaml", bare / "params.yaml")
    shutil.copy(ROOT / "dvc.yaml", bare / "dvc.yaml")
    for command in ([], ["serve", "--port", "0"]):
        missing = run_command([*command, "going to the bea"] if not command else command, bare)
        assert missing.returncode == 1
        assert f"project {bare.resolve()} (the project around the working folder)" in missing.stderr.decode()


def test_command_reports_a_line_that_is_not_utf8_and_answers_the_others(tmp_path, completer):
    save_test_model(completer, tmp_path / "model")
    result = run_command(["-n", "1"], tmp_path, b"going to the bea\ncaf\xe9 au lait\nsee you\n",
                         AUTOCOMPLETE_MODEL_DIR=str(tmp_path / "model"))
    assert result.returncode == 3
    assert "standard input line 2 is not UTF-8" in result.stderr.decode()
    blocks = answers(result.stdout)
    assert len(blocks) == 3 and blocks[0][0].split()[0] in {"beach", "beauty"}
    assert blocks[1] == [] and len(blocks[2][0].split()) == 3


def test_last_words_keeps_the_end_as_typed():
    assert last_words("one two three four", 2) == "three four"
    assert last_words("one two three four ", 2) == "three four "  # the last word is complete
    assert last_words("  one  two ", 5) == "one two "
    assert last_words("", 3) == ""
    assert last_words("going to the bea", 10) == "going to the bea"


def test_command_reads_only_the_last_context_words(tmp_path, completer, monkeypatch, capsys):
    """A 20,000-word paste reaches the model as its last `autocomplete.context_words` words."""
    from text_autocomplete import cli

    seen: list[str] = []

    class Recorder:
        def suggest(self, text: str, n: int, w: int) -> list[str]:
            seen.append(text)
            return []

    monkeypatch.setattr(cli, "light_autocompleter", lambda *args, **kwargs: Recorder())
    huge = " ".join(["word"] * 20_000 + ["going", "to", "the", "bea"])
    assert main([huge]) == 0
    limit = project_config(AutocompleteConfig, "autocomplete").context_words
    assert seen == [" ".join(huge.split()[-limit:])] and len(seen[0].split()) == limit < 20_000


def test_the_package_is_text_autocomplete_and_no_top_level_src(tmp_path):
    """Installed as `text_autocomplete` (src layout); a package called `src` would clash with other projects."""
    def importable(name: str) -> bool:
        return subprocess.run([sys.executable, "-c", f"import {name}"], cwd=tmp_path, capture_output=True,
                              check=False).returncode == 0

    assert importable("text_autocomplete.cli") and not importable("src")
