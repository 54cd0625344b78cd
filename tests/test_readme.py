"""The README as a newcomer reads it: the committed report's headline table number for number, its two set-up
commands, every module in its Layout, and every benchmark figure as the benchmark scripts wrote it."""
from __future__ import annotations

import json
import re

import pytest

from conftest import ROOT

README = (ROOT / "README.md").read_text()
BENCHMARKS = ROOT / "reports" / "benchmarks"


def table_rows(text: str) -> list[str]:
    return [line for line in text.splitlines() if re.match(r"\| (LSTM|transformer|baseline):", line)]


def test_readme_headline_table_is_the_reports():
    report = (ROOT / "reports" / "report.md").read_text()
    assert len(table_rows(report)) == 3
    assert table_rows(README) == table_rows(report)
    recommendation = report.split("\n\n")[1]
    assert recommendation.startswith("**Recommendation:") and recommendation in README
    assert "reports/report.md" in README


def test_ci_runs_the_readme_test_command():
    commands = re.findall(r"```bash\n(.+?)\n```", README)
    assert commands[0].endswith("pip install -r requirements.txt && dvc repro")
    test_command = commands[1].split("&& ")[-1]
    assert test_command in (ROOT / ".ci" / "run").read_text()


def test_layout_lists_every_module():
    layout = README[README.index("## Layout"):]
    files = [p for folder in ("src/text_autocomplete", "stages", "benchmarks") for p in (ROOT / folder).iterdir()
             if p.suffix in (".py", ".sh") and p.name != "__init__.py"]
    missing = [p.name for p in files if not re.search(rf"(?<![\w/]){re.escape(p.name)}\b", layout)]
    assert not missing, f"README Layout does not list {missing}"


def _load(name: str) -> dict:
    return json.loads((BENCHMARKS / f"{name}.json").read_text())


def _quoted() -> list[tuple[str, str]]:
    """(benchmark file, the text the README must hold), formatted from the committed benchmark figures."""
    time, train, generation = _load("pipeline_time"), _load("train_speed"), _load("generation_speed")
    fp32, int8 = _load("keystroke_latency_fp32"), _load("keystroke_latency_int8")
    return [
        ("pipeline_time", f"about {time['total_minutes']:.0f} minutes"),
        ("pipeline_time", f"about {time['full_corpus_estimate_hours']:.0f} hours"),
        ("train_speed", (f"{train['project_tokens_per_s']:,} vs {train['plain_tokens_per_s']:,} target tokens/s "
                         f"({train['speedup']}x)")),
        ("generation_speed", (f"{generation['project_ms_per_text']} ms per text against "
                              f"{generation['pipeline_ms_per_text']} ms one by one")),
        ("generation_speed", f"({generation['speedup']}x"),
        *[(f"keystroke_latency_{name}", (f"{name} model: {r['fresh_prompt']['p50_ms']:.2f} ms for a fresh 10-word "
                                         f"prompt, {r['word_after_prompt']['p50_ms']:.2f} ms for one more word, "
                                         f"{r['word_while_typing']['p50_ms']:.2f} ms per word while typing, "
                                         f"{r['letter']['p50_ms']:.2f} ms per letter"))
          for name, r in (("int8", int8), ("fp32", fp32))],
    ]


@pytest.mark.parametrize("index", range(7))
def test_readme_figures_are_the_benchmarks(index):
    source, text = _quoted()[index]
    assert text in README, f"README should quote reports/benchmarks/{source}.json as: {text}"
    assert f"reports/benchmarks/{source}.json" in README or "reports/benchmarks/*.json" in README
