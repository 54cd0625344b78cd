"""stages/train_lstm.py with one process made to fail: `torchrun ... tests/failing_train_lstm.py RANK STEP` runs the
stage, and the process of rank RANK raises before global step STEP (for tests/test_distributed.py)."""
import runpy
import sys
from pathlib import Path

from text_autocomplete.lstm_train import Trainer

STAGES = Path(__file__).resolve().parent.parent / "stages"
FAILING_RANK, FAILING_STEP = map(int, sys.argv[1:3])


def fail_at_the_chosen_step(trainer: Trainer, step: int) -> None:
    if trainer.world.rank == FAILING_RANK and step == FAILING_STEP:
        raise RuntimeError(f"rank {FAILING_RANK}: failure injected before step {FAILING_STEP}")


if __name__ == "__main__":
    Trainer.before_step = fail_at_the_chosen_step
    sys.argv = [str(STAGES / "train_lstm.py")]
    sys.path.insert(0, str(STAGES))  # the stage imports its helper `_common`
    runpy.run_path(str(STAGES / "train_lstm.py"), run_name="__main__")
