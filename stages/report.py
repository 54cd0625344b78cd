"""Stage `report`: metrics/ and results/ -> the paired comparisons (metrics/<a>-<b>.yml, results/<a>-<b>.json),
reports/report.md, the figures in plots/, results/model_comparison.csv."""
from pathlib import Path

from text_autocomplete.comparison import write_comparisons
from text_autocomplete.evaluation import EvalConfig
from text_autocomplete.params import load_config
from text_autocomplete.paths import LSTM_SWEEPS, REPORT
from text_autocomplete.report import ReportConfig, build_report

from _common import run_stage


def main() -> None:
    write_comparisons(Path("."), load_config(EvalConfig, "eval"))
    report = build_report(Path("."), load_config(ReportConfig, "report"), lstm_sweeps=LSTM_SWEEPS)
    Path(REPORT).parent.mkdir(exist_ok=True)
    Path(REPORT).write_text(report)
    print(report.split("\n\n")[2])  # the recommendation


if __name__ == "__main__":
    run_stage(main)
