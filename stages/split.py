"""Stage `split`: data/dataset_processed.csv -> data/{train,val,test}.csv and results/split.json."""
from text_autocomplete.data_utils import SplitConfig, split_dataset
from text_autocomplete.params import load_config
from text_autocomplete.paths import PROCESSED_CSV, SPLIT_CSVS, SPLIT_SIZES
from text_autocomplete.records import write_json

from _common import run_stage


def main() -> None:
    sizes = split_dataset(load_config(SplitConfig, "split"), PROCESSED_CSV, SPLIT_CSVS)
    write_json(SPLIT_SIZES, sizes)
    print(", ".join(f"{k}={v}" for k, v in sizes.items()))


if __name__ == "__main__":
    run_stage(main)
