"""Stage `train_lstm`: data/train.csv + data/val.csv -> models/lstm/ (model.pt, tokenizer.json), dvclive logs."""
from dvclive import Live

from src.data_utils import DataConfig, read_texts
from src.evaluation import EvalConfig
from src.lstm_model import LSTMConfig
from src.lstm_train import TokenizerConfig, TrainConfig, Trainer
from src.params import load_config

from _common import run_stage, write_json

LIVE_DIR = "metrics/train_lstm"


def main() -> None:
    trainer = Trainer(read_texts("data/train.csv"), read_texts("data/val.csv"),
                      lstm=load_config(LSTMConfig, "lstm"), tok=load_config(TokenizerConfig, "tokenizer"),
                      train=load_config(TrainConfig, "train"), eval_config=load_config(EvalConfig, "eval"),
                      cleaning=load_config(DataConfig, "data"), out_dir="models/lstm",
                      checkpoint_path="models/checkpoints/train_lstm.pt")
    with Live(LIVE_DIR, save_dvc_exp=False, dvcyaml=False) as live:
        summary = trainer.fit(live)
    write_json("metrics/train_summary.json", summary)
    print(", ".join(f"{k}={v}" for k, v in summary.items()))


if __name__ == "__main__":
    run_stage(main)
