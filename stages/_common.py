"""What every stage entry point shares: run from the project root, turn known errors into one line."""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any, Callable

from src.errors import UserError


def write_json(path: Path, data: dict[str, Any]) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n")


def run_stage(main: Callable[[], None]) -> None:
    """Call `main`; an expected error (bad file, bad parameter, missing model) ends with its message and exit 1."""
    try:
        main()
    except UserError as exc:
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(1)


def eval_arguments(description: str, default_out: str) -> argparse.Namespace:
    """`--texts PATH --out PATH`: score any file of raw texts with the same cleaning and protocol."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--texts", type=Path, default=None,
                        help="raw texts (one per line, or a CSV) instead of the test split")
    parser.add_argument("--out", type=Path, default=Path(default_out), help="metrics JSON to write")
    args = parser.parse_args()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    return args
