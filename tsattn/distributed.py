"""Data-parallel training on PyTorch's own distributed engine (``torchrun``, DDP).

Every estimator's ``fit`` trains with :class:`~torch.nn.parallel.DistributedDataParallel` when
it runs in several processes: processes started by ``torchrun`` (which sets ``RANK``,
``WORLD_SIZE``, ``LOCAL_RANK``, ``MASTER_ADDR`` and ``MASTER_PORT``), or processes whose
group the user initialised with :func:`torch.distributed.init_process_group`. Every process
calls ``fit`` with the same data and parameters; the training loop (:mod:`tsattn.training`)
then splits every batch among them, averages the gradients, and reduces the epoch losses so
that all of them take the same early-stopping decision and end with the same weights.

Who owns the process group: one the user initialised is the user's to destroy. One that
tsattn initialised itself (from torchrun's variables, backend gloo on CPU and nccl on CUDA)
stays up for the rest of the process, so that later fits reuse it; :func:`shutdown` destroys
it, and an ``atexit`` hook does so at the latest when the process ends.
"""

from __future__ import annotations

import atexit
import os
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
import torch.distributed as dist
from torch import nn

__all__ = [
    "World",
    "available_devices",
    "current_world",
    "is_main_process",
    "launched",
    "launcher_world",
    "mps_available",
    "resolve_device",
    "setup",
    "shutdown",
]

# True once tsattn itself has initialised the default process group (then it destroys it).
_owned = False
DEVICES = ("auto", "cpu", "cuda", "cuda:N", "mps")


@dataclass(frozen=True)
class World:
    """A process' place among those training together.

    Attributes
    ----------
    rank : int
        0 .. size - 1; rank 0 writes files and shows progress.
    size : int
        Number of processes; 1 without distributed training.
    """

    rank: int = 0
    size: int = 1

    @property
    def is_main(self) -> bool:
        """True for the process that writes files and prints (rank 0)."""
        return self.rank == 0


def launched() -> bool:
    """True in a process that ``torchrun`` started among several (``WORLD_SIZE`` > 1).

    Returns
    -------
    bool
    """
    try:
        return int(os.environ.get("WORLD_SIZE", "1")) > 1 and "RANK" in os.environ
    except ValueError:
        return False


def current_world() -> World:
    """The initialised process group's rank and size, or ``World(0, 1)`` without one.

    Returns
    -------
    World
    """
    if dist.is_available() and dist.is_initialized():
        return World(dist.get_rank(), dist.get_world_size())
    return World()


def launcher_world() -> World | None:
    """The rank and size a launcher's environment gives this process, or None outside one.

    ``torchrun`` (and the launchers that follow its convention) sets ``WORLD_SIZE``, ``RANK``
    and ``LOCAL_RANK`` before the process starts, long before any process group exists. A
    launcher that sets only ``LOCAL_RANK`` gives that rank (one node).

    Returns
    -------
    World or None
        None when ``WORLD_SIZE`` is unset or 1, or the variables are not a rank in range (as
        :func:`launched`, which then trains the process alone).
    """
    rank_text = os.environ.get("RANK", os.environ.get("LOCAL_RANK"))
    try:
        size = int(os.environ.get("WORLD_SIZE", "1"))
        rank = int(rank_text) if rank_text is not None else None
    except ValueError:
        return None
    if size <= 1 or rank is None or not 0 <= rank < size:
        return None
    return World(rank, size)


def is_main_process() -> bool:
    """True in rank 0 or outside distributed training: guard ``save`` and prints with it.

    Rank 0 of the initialised process group; before any group exists (before the first fit
    under ``torchrun``), rank 0 of the launcher's environment (:func:`launcher_world`), so
    that code run before training writes from one process only.

    Returns
    -------
    bool

    Examples
    --------
    >>> from tsattn.distributed import is_main_process
    >>> is_main_process()
    True
    """
    if dist.is_available() and dist.is_initialized():
        return current_world().is_main
    world = launcher_world()
    return world is None or world.is_main


def cuda_device() -> torch.device:
    """The CUDA device this process trains on: ``cuda:LOCAL_RANK`` under torchrun.

    Several processes on one node each take the GPU of their local rank (modulo the GPUs
    visible, for launchers that show each process a single GPU); outside torchrun it is the
    current CUDA device.
    """
    if launched() or (dist.is_available() and dist.is_initialized()):
        if "LOCAL_RANK" in os.environ:
            index = int(os.environ["LOCAL_RANK"]) % max(torch.cuda.device_count(), 1)
            return torch.device("cuda", index)
        return torch.device("cuda", torch.cuda.current_device())
    return torch.device("cuda")


def mps_available() -> bool:
    """True where this torch build has Apple's Metal backend (MPS) and the machine offers it.

    Returns
    -------
    bool
    """
    mps = getattr(torch.backends, "mps", None)
    return bool(mps is not None and mps.is_available())


def available_devices() -> list[str]:
    """The device names this torch build offers on this machine, for messages.

    Returns
    -------
    list of str
        "cpu"; then "cuda" and "cuda:0" .. "cuda:N-1" where CUDA is available; "mps" where
        MPS is.

    Examples
    --------
    >>> from tsattn.distributed import available_devices
    >>> available_devices()[0]
    'cpu'
    """
    names = ["cpu"]
    if torch.cuda.is_available():
        names += ["cuda"] + [f"cuda:{i}" for i in range(torch.cuda.device_count())]
    if mps_available():
        names.append("mps")
    return names


def resolve_device(device: str | torch.device) -> torch.device:
    """Turn the ``device`` parameter into a :class:`torch.device` that this machine has.

    Parameters
    ----------
    device : {"auto", "cpu", "cuda", "mps"}, "cuda:N" or torch.device
        "auto" picks CUDA, then MPS (Apple GPUs), then the CPU, whichever this torch build
        offers first; under ``torchrun`` "auto" and "cuda" take the GPU of the local rank.

    Returns
    -------
    torch.device

    Raises
    ------
    TypeError
        For a value that is neither a string nor a torch.device.
    ValueError
        For an unknown value, or a device this torch build or machine does not offer (CUDA
        without a GPU, a GPU index beyond those present, MPS outside Apple silicon); the
        message names the devices that are available.
    """
    if isinstance(device, str) and device == "auto":
        if torch.cuda.is_available():
            # Under torchrun each process takes the GPU of its local rank.
            return cuda_device()
        return torch.device("mps") if mps_available() else torch.device("cpu")
    if not isinstance(device, (str, torch.device)):
        raise TypeError(
            f"device must be a string or torch.device, got {type(device).__name__}; "
            f"use one of {DEVICES}"
        )
    try:
        resolved = torch.device(device)
    except RuntimeError:
        resolved = None
    if resolved is None or resolved.type not in ("cpu", "cuda", "mps"):
        raise ValueError(
            f"device must be one of {DEVICES} or a torch.device, got {device!r} (this machine "
            f"offers {_offered()})"
        )
    if resolved.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(
            f"device={device!r} asks for CUDA but torch finds no CUDA GPU here; use "
            f"device='auto' or 'cpu' (this machine offers {_offered()})"
        )
    if resolved.type == "cuda" and resolved.index is not None:
        count = torch.cuda.device_count()
        if resolved.index >= count:
            raise ValueError(
                f"device={device!r} asks for GPU {resolved.index} but torch finds {count} CUDA "
                f"GPU(s) here (this machine offers {_offered()})"
            )
    if resolved.type == "mps" and not mps_available():
        raise ValueError(
            f"device={device!r} asks for Apple's MPS but this torch build or machine has none "
            f"(MPS needs Apple silicon and a torch built with it); use device='auto' or 'cpu' "
            f"(this machine offers {_offered()})"
        )
    if resolved.type == "cuda" and resolved.index is None:
        return cuda_device()
    return resolved


def _offered() -> str:
    """``available_devices()`` with "auto" first, quoted for a message."""
    return ", ".join(repr(name) for name in ["auto", *available_devices()])


def setup(device: torch.device) -> World:
    """The processes training together, initialising the process group under torchrun.

    Parameters
    ----------
    device : torch.device
        Where this process trains: the backend is nccl for CUDA, gloo for the CPU.

    Returns
    -------
    World
        ``World(0, 1)`` when the process trains alone.

    Raises
    ------
    RuntimeError
        When torchrun started several processes but this torch has no ``torch.distributed``.
    """
    global _owned
    if launched() and not (dist.is_available() and dist.is_initialized()):
        if not dist.is_available():
            raise RuntimeError(
                f"torchrun started {os.environ['WORLD_SIZE']} processes, but this build of "
                f"torch has no torch.distributed; run a single process (python -m tsattn) or "
                f"install a torch with distributed support"
            )
        if device.type == "cuda":
            torch.cuda.set_device(device)
        dist.init_process_group("nccl" if device.type == "cuda" else "gloo")
        if not _owned:
            atexit.register(shutdown)
        _owned = True
    return current_world()


def shutdown() -> None:
    """Destroy the process group if tsattn initialised it; one the user made is left alone."""
    global _owned
    if _owned and dist.is_available() and dist.is_initialized():
        dist.destroy_process_group()
    _owned = False


# ----------------------------------------------------------------------------------------------
# What the training loop needs: the wrapper, the shard of a batch, two collectives


def wrap(module: nn.Module, device: torch.device) -> nn.Module:
    """``module`` in DistributedDataParallel: its backward averages the gradients of all ranks.

    The wrapper shares the module's parameters; it broadcasts rank 0's weights when built, so
    every rank starts from the same model whatever its seed.
    """
    from torch.nn.parallel import DistributedDataParallel

    return DistributedDataParallel(
        module, device_ids=[device.index] if device.type == "cuda" else None
    )


def shard(index: np.ndarray, world: World) -> tuple[np.ndarray, float]:
    """A rank's part of a global batch, and the weight of its loss.

    Rank ``r`` takes every ``size``-th sample from the ``r``-th (as DistributedSampler does),
    so the parts differ in size by at most one. DDP averages the ranks' gradients with equal
    weights; scaling a part's mean loss by ``size * len(part) / len(index)`` makes that
    average the gradient of the whole batch's mean loss (the weight is exactly 1 when the
    batch divides evenly).
    """
    part = index[world.rank :: world.size]
    return part, world.size * len(part) / len(index)


def all_reduce_sum(values: list[float], device: torch.device) -> list[float]:
    """The sum over all ranks of each value (float64, one collective)."""
    tensor = torch.tensor(values, dtype=torch.float64, device=device)
    dist.all_reduce(tensor)
    return tensor.tolist()


def broadcast_object(value: Any, device: torch.device) -> Any:
    """Rank 0's ``value`` on every rank (the others' ``value`` is ignored)."""
    box = [value]
    dist.broadcast_object_list(box, src=0, device=device if device.type == "cuda" else None)
    return box[0]


def gather_object(value: Any, world: World) -> list:
    """Every rank's ``value``, in rank order, on every rank."""
    values: list = [None] * world.size
    dist.all_gather_object(values, value)
    return values


def check_world(train_data, valid_data, batch_size: int, world: World) -> None:
    """Refuse, on every rank alike, what would make the ranks' epochs differ or hang.

    Raises
    ------
    ValueError
        When the ranks hold different numbers of samples, or ``batch_size`` is smaller than
        the number of processes.
    """
    sizes = (len(train_data), 0 if valid_data is None else len(valid_data))
    gathered = gather_object(sizes, world)
    if len(set(gathered)) > 1:
        raise ValueError(
            f"every process must fit the same data, but the ranks hold different numbers of "
            f"(training, validation) samples: {gathered}; give each process the whole data set "
            f"(the training loop splits every batch among them)"
        )
    if batch_size < world.size:
        raise ValueError(
            f"batch_size={batch_size} is smaller than the {world.size} processes: "
            f"batch_size is the global batch, split among the processes; make it at least "
            f"{world.size}"
        )
