"""Stage `train_lstm`: data/train.csv + data/val.csv -> models/lstm/ (model.pt, tokenizer.json), dvclive logs,
metrics/train.yml and results/train.json."""
from dvclive import Live

from text_autocomplete.data_utils import DataConfig, read_texts
from text_autocomplete.evaluation import EvalConfig
from text_autocomplete.lstm_model import LSTMConfig
from text_autocomplete.lstm_train import TRAIN_METRIC_KEYS, TokenizerConfig, TrainConfig, Trainer
from text_autocomplete.params import load_config
from text_autocomplete.paths import (
    CHECKPOINT,
    LSTM_DIR,
    TRAIN_CSV,
    TRAIN_LIVE_DIR,
    TRAIN_RUN,
    VAL_CSV,
)
from text_autocomplete.records import save_record

from _common import run_stage


def main() -> None:
    trainer = Trainer(read_texts(TRAIN_CSV), read_texts(VAL_CSV),
                      lstm=load_config(LSTMConfig, "lstm"), tok=load_config(TokenizerConfig, "tokenizer"),
                      train=load_config(TrainConfig, "train"), eval_config=load_config(EvalConfig, "eval"),
                      cleaning=load_config(DataConfig, "data"), out_dir=LSTM_DIR, checkpoint_path=CHECKPOINT)
    with Live(TRAIN_LIVE_DIR, save_dvc_exp=False, dvcyaml=False) as live:
        summary = trainer.fit(live)
    save_record(summary, TRAIN_METRIC_KEYS, TRAIN_RUN)
    print(", ".join(f"{k}={v}" for k, v in summary.items()))


if __name__ == "__main__":
    run_stage(main)
