"""The README shows the committed report's headline table, number for number, and its two set-up commands."""
from __future__ import annotations

import re

from conftest import ROOT


def table_rows(text: str) -> list[str]:
    return [line for line in text.splitlines() if re.match(r"\| (LSTM|transformer|baseline):", line)]


def test_readme_headline_table_is_the_reports():
    report = (ROOT / "reports" / "report.md").read_text()
    readme = (ROOT / "README.md").read_text()
    assert len(table_rows(report)) == 3
    assert table_rows(readme) == table_rows(report)
    assert "reports/report.md" in readme


def test_ci_runs_the_readme_test_command():
    readme = (ROOT / "README.md").read_text()
    commands = re.findall(r"```bash\n(.+?)\n```", readme)
    assert commands[0].endswith("pip install -r requirements.txt && dvc repro")
    test_command = commands[1].split("&& ")[-1]
    assert test_command in (ROOT / ".ci" / "run").read_text()
