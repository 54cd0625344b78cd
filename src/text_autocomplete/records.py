"""A run's record on disk, named once by its run name: its metrics (numbers DVC compares across runs) in
metrics/<name>.yml, everything else it measured or recorded in results/<name>.json."""
from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml

from text_autocomplete.errors import UserError
from text_autocomplete.paths import metrics_file, results_file


def write_json(path: Path | str, data: dict[str, Any]) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n")


def save_record(record: dict[str, Any], metric_keys: Sequence[str], name: str, root: Path | str = ".") -> None:
    """Split run `name`'s record under `root`: the numbers named in `metric_keys` to its metrics file, in that
    order; everything else (intervals, counts, settings, names) to its results file."""
    metrics_path = metrics_file(name, root)
    metrics = {key: record[key] for key in metric_keys if key in record}
    strings = [key for key, value in metrics.items() if isinstance(value, bool) or not isinstance(value, (int, float))]
    if strings:
        raise ValueError(f"{metrics_path}: metrics must be numbers, got {strings}")
    metrics_path.parent.mkdir(parents=True, exist_ok=True)
    metrics_path.write_text(yaml.safe_dump(metrics, sort_keys=False))
    write_json(results_file(name, root), {k: v for k, v in record.items() if k not in metrics})


def read_record(name: str, root: Path | str = ".") -> dict[str, Any]:
    """Run `name`'s metrics and results as one record again (what the report and the notebook read)."""
    paths = (results_file(name, root), metrics_file(name, root))
    for path in paths:
        if not path.is_file():
            raise UserError(f"{path} not found: run `dvc repro` first")
    return {**json.loads(paths[0].read_text()), **yaml.safe_load(paths[1].read_text())}
