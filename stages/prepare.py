"""Stage `prepare`: raw tweets (a file, or a URL to download) -> data/dataset_processed.csv and results/data.json."""
from text_autocomplete.data_utils import DataConfig, prepare_dataset
from text_autocomplete.params import load_config
from text_autocomplete.paths import DATA_COUNTS, PROCESSED_CSV
from text_autocomplete.records import write_json

from _common import run_stage


def main() -> None:
    counts = prepare_dataset(load_config(DataConfig, "data"), out_csv=PROCESSED_CSV)
    write_json(DATA_COUNTS, counts)
    print(", ".join(f"{k}={v}" for k, v in counts.items()))


if __name__ == "__main__":
    run_stage(main)
