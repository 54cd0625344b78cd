"""Where benchmark figures go: one committed JSON file per benchmark in reports/benchmarks/, which the README
quotes (tests/test_readme.py checks every quoted figure against these files)."""
from __future__ import annotations

import json
import sys
from datetime import date
from pathlib import Path
from typing import Any

from text_autocomplete.evaluation import machine_description

RESULTS_DIR = Path("reports/benchmarks")
ADDED_FIELDS = ("command", "machine", "date")  # what write_results adds to every benchmark's figures


def write_results(name: str, figures: dict[str, Any]) -> Path:
    """reports/benchmarks/<name>.json: the figures, with the command that measured them, the machine and the day."""
    path = RESULTS_DIR / f"{name}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    record = dict(zip(ADDED_FIELDS, (" ".join(["python", *sys.argv]), machine_description(), date.today().isoformat())))
    record |= figures
    path.write_text(json.dumps(record, indent=2) + "\n")
    print(f"wrote {path}")
    return path
