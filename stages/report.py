"""Stage `report`: metrics/ and results/ -> the paired comparisons (metrics/<a>-<b>.yml, results/<a>-<b>.json),
reports/report.md, the figures in plots/, results/model_comparison.csv."""
from pathlib import Path

from text_autocomplete.comparison import write_comparisons
from text_autocomplete.evaluation import EvalConfig
from text_autocomplete.params import load_config
from text_autocomplete.paths import REPORT
from text_autocomplete.report import (DATA_SCALING, LSTM_SWEEPS, PHONE_VOCAB, SEED_ENSEMBLE, VOCAB_SWEEP,
                                      ReportConfig, build_report)
from text_autocomplete.selection import BudgetConfig

from _common import run_stage


def main() -> None:
    eval_config = load_config(EvalConfig, "eval")
    write_comparisons(Path("."), eval_config)
    report = build_report(Path("."), load_config(ReportConfig, "report"), load_config(BudgetConfig, "budget"),
                          eval_config, lstm_sweeps=LSTM_SWEEPS,
                          data_scaling=DATA_SCALING, vocab_sweep=VOCAB_SWEEP, seed_ensemble=SEED_ENSEMBLE,
                          phone_vocab=PHONE_VOCAB)
    Path(REPORT).parent.mkdir(exist_ok=True)
    Path(REPORT).write_text(report.text)
    print(report.recommendation)


if __name__ == "__main__":
    run_stage(main)
