"""What every stage entry point shares: run from the project root, turn known errors into one line, and, for
tests/test_dvc_graph.py, record what the stage really read and wrote."""
from __future__ import annotations

import argparse
import atexit
import os
import sys
from collections.abc import Callable
from pathlib import Path

from text_autocomplete.errors import UserError
from text_autocomplete.params import trace_reads
from text_autocomplete.paths import RESULTS_DIR
from text_autocomplete.records import write_json

# Set to a folder, a stage writes there `<stage>.json`: the params keys it read and the files it opened.
TRACE_ENV = "TEXT_AUTOCOMPLETE_TRACE"


def _start_trace(folder: Path, stage: str) -> None:
    """Record params keys read (params.trace_reads) and every file opened (Python's audit hook "open")."""
    params_read = trace_reads()
    order: list[str] = []  # every open, in order: "r path" / "w path"

    def record(kind: str, path: str | bytes | os.PathLike) -> None:
        order.append(f"{kind[0]} {os.path.abspath(os.fsdecode(path))}")

    def hook(event: str, args: tuple) -> None:
        if event == "open" and isinstance(args[0], (str, bytes, os.PathLike)):
            mode = args[1] if isinstance(args[1], str) else "r"
            flags = args[2] if len(args) > 2 and isinstance(args[2], int) else 0
            writes = any(c in mode for c in "wax+") or bool(flags & (os.O_WRONLY | os.O_RDWR | os.O_CREAT))
            record("write" if writes else "read", args[0])
        elif event == "os.rename":  # os.rename and os.replace: a file written aside and moved into place
            record("write", args[1])

    def dump() -> None:
        # Files the stage deleted again (temporary and .tmp files renamed into place) are not its inputs or outputs.
        existing = {kind: sorted({p for k, p in (line.split(" ", 1) for line in order)
                                  if k == kind[0] and os.path.isfile(p)}) for kind in ("read", "write")}
        write_json(folder / f"{stage}.json", {"cwd": os.getcwd(), "params": sorted(params_read), **existing,
                                              "order": order})

    sys.addaudithook(hook)
    atexit.register(dump)


def run_stage(main: Callable[[], None]) -> None:
    """Call `main`; an expected error (bad file, bad parameter, missing model) ends with its message and exit 1."""
    if os.environ.get(TRACE_ENV):
        _start_trace(Path(os.environ[TRACE_ENV]), Path(sys.argv[0]).stem)
    try:
        main()
    except UserError as exc:
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(1)


def eval_arguments(description: str) -> argparse.Namespace:
    """`--texts PATH --out DIR`: score any file of raw texts with the same cleaning and protocol."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--texts", type=Path, default=None,
                        help="raw texts (one per line, or a CSV) instead of the test split")
    parser.add_argument("--out", type=Path, default=Path("."),
                        help="folder to write metrics/ and results/ under (default: the project's own)")
    args = parser.parse_args()
    (args.out / RESULTS_DIR).mkdir(parents=True, exist_ok=True)
    return args
