"""Data-parallel training across processes: where this process stands among those torchrun started, and the few
collective steps the trainer needs.

torchrun (`torchrun --standalone --nproc_per_node=N stages/train_lstm.py`, or with its rendezvous flags across
machines) starts N copies of the stage and tells each its RANK, LOCAL_RANK and WORLD_SIZE. Run without
torchrun, or with N = 1, this is one process and nothing here communicates: the one-process run is today's.
An error in one process ends it; torchrun then stops the others and reports that process's error.
"""
from __future__ import annotations

import gc
import os
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import torch
import torch.distributed as dist

# A collective waits this long for the other processes (rank 0 validating alone included) before failing.
COLLECTIVE_TIMEOUT = timedelta(minutes=30)


@dataclass(frozen=True)
class World:
    rank: int = 0  # this process among all of them
    size: int = 1  # how many processes train together
    local_rank: int = 0  # this process among those on its machine (its GPU)

    @property
    def is_main(self) -> bool:
        """Rank 0 alone logs, prints and writes files."""
        return self.rank == 0

    @property
    def distributed(self) -> bool:
        return self.size > 1


def world_from_env() -> World:
    """The world torchrun describes in the environment; one process when not started by torchrun."""
    return World(int(os.environ.get("RANK", "0")), int(os.environ.get("WORLD_SIZE", "1")),
                 int(os.environ.get("LOCAL_RANK", "0")))


def device_for(world: World) -> torch.device:
    """This process's GPU (by local rank) when there is one, else the CPU."""
    if torch.cuda.is_available():
        torch.cuda.set_device(world.local_rank)
        return torch.device("cuda", world.local_rank)
    return torch.device("cpu")


def join(world: World, device: torch.device) -> None:
    """Join the other processes: NCCL between GPUs, gloo on CPUs. Nothing to join for one process."""
    if world.distributed and not dist.is_initialized():
        dist.init_process_group("nccl" if device.type == "cuda" else "gloo", rank=world.rank,
                                world_size=world.size, timeout=COLLECTIVE_TIMEOUT)


def leave() -> None:
    """Leave the group once every process is here (one tearing down its connections while another still finishes
    its last collective crashed), after whatever holds it is freed (a DistributedDataParallel wrapper in a
    reference cycle would otherwise end it during the interpreter's exit)."""
    if dist.is_initialized():
        gc.collect()
        dist.barrier()
        dist.destroy_process_group()


def from_main(value: Any, world: World) -> Any:
    """Rank 0's `value` on every rank (e.g. the val figures only rank 0 computed)."""
    if not world.distributed:
        return value
    box = [value]
    dist.broadcast_object_list(box, src=0)
    return box[0]


def gathered(value: Any, world: World) -> list[Any]:
    """Every rank's `value`, in rank order, on every rank."""
    if not world.distributed:
        return [value]
    values: list[Any] = [None] * world.size
    dist.all_gather_object(values, value)
    return values
