"""Stage `split`: data/dataset_processed.csv -> data/{train,val,test}.csv."""
from src.data_utils import SplitConfig, split_dataset
from src.params import load_config

from _common import run_stage, write_json


def main() -> None:
    sizes = split_dataset(load_config(SplitConfig, "split"), "data/dataset_processed.csv", "data")
    write_json("metrics/split.json", sizes)
    print(", ".join(f"{k}={v}" for k, v in sizes.items()))


if __name__ == "__main__":
    run_stage(main)
