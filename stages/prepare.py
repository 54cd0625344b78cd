"""Stage `prepare`: raw tweets -> data/dataset_processed.csv and metrics/data.json."""
from src.data_utils import DataConfig, prepare_dataset
from src.params import load_config

from _common import run_stage, write_json


def main() -> None:
    counts = prepare_dataset(load_config(DataConfig, "data"), out_csv="data/dataset_processed.csv")
    write_json("metrics/data.json", counts)
    print(", ".join(f"{k}={v}" for k, v in counts.items()))


if __name__ == "__main__":
    run_stage(main)
