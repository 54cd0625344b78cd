"""Stage `report`: metrics/ -> reports/report.md and the figures in plots/."""
from pathlib import Path

from src.params import load_config
from src.report import ReportConfig, build_report

from _common import run_stage


def main() -> None:
    report = build_report("metrics", "plots", load_config(ReportConfig, "report"), lstm_sweep="reports/lstm_sweep.csv")
    Path("reports").mkdir(exist_ok=True)
    Path("reports/report.md").write_text(report)
    print(report.split("\n\n")[1])  # the recommendation


if __name__ == "__main__":
    run_stage(main)
