"""Checkpoints: the whole training state after an epoch, in one file, and what it must match.

A fit given a ``checkpoint_dir`` saves, after every epoch, everything the loop needs to go on
exactly where it stopped: the module's and the best epoch's weights, the optimiser's moments,
the learning-rate schedule's state, the torch and numpy generators' states and the epoch
counters. A fit started again with the same directory resumes from it and ends with the
weights an uninterrupted fit gives; one with other parameters or data is refused, which the
fingerprint (:mod:`tsattn.fingerprint`) decides. The file is written and read by
:mod:`tsattn.files`: atomically, durably, once, checksummed, never a pickle.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from tsattn import distributed, files
from tsattn.fingerprint import checkpoint_fingerprint, fingerprint_difference, full_fingerprint
from tsattn.schedules import LearningRateSchedule
from tsattn.stopping import Progress

__all__ = [
    "CHECKPOINT_FILE",
    "Checkpoint",
    "Progress",
    "checkpoint_fingerprint",
    "full_fingerprint",
    "resume",
]

CHECKPOINT_FILE = files.FileFormat(
    name="tsattn-checkpoint",
    version=2,  # 2: checksummed
    noun="tsattn checkpoint",
    unreadable="delete it or use another checkpoint_dir",
    older="delete it (this tsattn cannot resume it) or use another checkpoint_dir",
    newer="upgrade tsattn or use another checkpoint_dir",
)


class Checkpoint:
    """The training state after the last finished epoch, in ``directory/checkpoint.safetensors``.

    Tensors (module weights, best weights, optimiser moments, torch RNG states) go into the
    safetensors body; everything else (fingerprint, history, epoch counters, the numpy
    generator's state) is JSON in its metadata, so reading a checkpoint never unpickles. Every
    save is atomic and durable (:func:`tsattn.files.write`): a run killed at any moment leaves
    the previous epoch's checkpoint whole.

    Parameters
    ----------
    directory : str or os.PathLike
        Created if missing.
    fingerprint : dict
        JSON-ready; a checkpoint written with another fingerprint is refused.
    """

    FILE = "checkpoint.safetensors"

    def __init__(self, directory: str | os.PathLike, fingerprint: dict):
        if not isinstance(directory, (str, os.PathLike)):
            raise TypeError(
                f"checkpoint_dir must be a path (str or os.PathLike), got {type(directory).__name__}"
            )
        self.directory = Path(directory)
        if self.directory.exists() and not self.directory.is_dir():
            raise ValueError(
                f"checkpoint_dir {str(self.directory)!r} is a file; give a directory (it is "
                f"created if missing)"
            )
        self.path = self.directory / self.FILE
        # Compared after a JSON round trip, as it comes back from the file (tuples -> lists).
        self.fingerprint = json.loads(json.dumps(fingerprint))

    def save(
        self,
        module: nn.Module,
        optimizer,
        rng: np.random.Generator,
        progress: Progress,
        schedule: LearningRateSchedule | None = None,
    ):
        """Write the state after an epoch atomically and durably.

        Parameters
        ----------
        module : torch.nn.Module
        optimizer : torch.optim.Optimizer
        rng : numpy.random.Generator
            The generator that shuffles the epochs.
        progress : Progress
        schedule : LearningRateSchedule or None, default=None
            Its state after the epoch (the next epoch's learning rate).
        """
        tensors = {f"module.{k}": v for k, v in module.state_dict().items()}
        tensors.update({f"best.{k}": v for k, v in progress.best_state.items()})
        scalars: dict[str, dict[str, Any]] = {}
        for param_id, state in optimizer.state_dict()["state"].items():
            for key, value in state.items():
                if isinstance(value, torch.Tensor):
                    tensors[f"optimizer.{param_id}.{key}"] = value
                else:
                    scalars.setdefault(str(param_id), {})[key] = value
        tensors["rng.torch"] = torch.get_rng_state()
        device = _device(module)
        if device.type == "cuda":
            tensors["rng.cuda"] = torch.cuda.get_rng_state(device)
        state = {
            "epoch": len(progress.history),
            "history": progress.history,
            "best_loss": progress.best_loss,
            "stale": progress.stale,
            "finished": bool(progress.finished),
            "reference_loss": progress.reference_loss,
            "numpy_rng": rng.bit_generator.state,
            "optimizer_scalars": scalars,
            "lr_schedule": None if schedule is None else schedule.state_dict(),
        }
        metadata = {
            "fingerprint": json.dumps(self.fingerprint),
            "progress": json.dumps(state, default=_encode_array),
        }
        self.directory.mkdir(parents=True, exist_ok=True)
        files.write(self.path, tensors, metadata, CHECKPOINT_FILE)

    def restore(
        self,
        module: nn.Module,
        optimizer,
        rng: np.random.Generator,
        schedule: LearningRateSchedule | None = None,
    ) -> Progress | None:
        """Load the checkpoint into ``module``, ``optimizer``, ``rng`` and ``schedule``, if any.

        Parameters
        ----------
        module : torch.nn.Module
        optimizer : torch.optim.Optimizer
            Its learning rate is set to the schedule's (unchanged without a schedule).
        rng : numpy.random.Generator
        schedule : LearningRateSchedule or None, default=None

        Returns
        -------
        Progress or None
            None without a checkpoint.

        Raises
        ------
        ValueError
            For an unreadable or damaged checkpoint, another format, or another fingerprint.
        """
        if not self.path.is_file():
            return None
        metadata, tensors = files.read(self.path, CHECKPOINT_FILE)
        try:
            stored = json.loads(metadata["fingerprint"])
            state = json.loads(metadata["progress"], object_hook=_decode_array)
        except (KeyError, ValueError) as error:
            raise ValueError(
                f"cannot read the checkpoint {str(self.path)!r} ({error}); delete it or use "
                f"another checkpoint_dir"
            ) from None
        if stored != self.fingerprint:
            raise ValueError(
                f"the checkpoint in {str(self.directory)!r} was written by a fit with other "
                f"{fingerprint_difference(stored, self.fingerprint)}; it cannot be resumed. Fit with the "
                f"same parameters and data, or use another (or an emptied) checkpoint_dir"
            )
        device = _device(module)
        module.load_state_dict(_prefixed(tensors, "module."))
        best_state = {k: v.to(device) for k, v in _prefixed(tensors, "best.").items()}
        moments: dict[int, dict[str, Any]] = {}
        for name, value in _prefixed(tensors, "optimizer.").items():
            param_id, key = name.split(".", 1)
            moments.setdefault(int(param_id), {})[key] = value
        for param_id, values in state["optimizer_scalars"].items():
            moments.setdefault(int(param_id), {}).update(values)
        optimizer.load_state_dict(
            {"state": moments, "param_groups": optimizer.state_dict()["param_groups"]}
        )
        # The fingerprint holds lr_schedule: a scheduled fit's checkpoint has the state.
        if schedule is not None and state.get("lr_schedule") is not None:
            schedule.load_state_dict(state["lr_schedule"])
            schedule.apply(optimizer)
        torch.set_rng_state(tensors["rng.torch"])
        if device.type == "cuda" and "rng.cuda" in tensors:
            torch.cuda.set_rng_state(tensors["rng.cuda"], device)
        rng.bit_generator.state = state["numpy_rng"]
        return Progress(
            history=state["history"],
            best_loss=state["best_loss"],
            best_state=best_state,
            stale=state["stale"],
            finished=state["finished"],
            reference_loss=state["reference_loss"],
        )


def resume(
    module,
    optimizer,
    rng,
    train_data,
    valid_data,
    config,
    world,
    checkpoint_dir,
    fingerprint,
    *,
    schedule: LearningRateSchedule | None = None,
) -> tuple[Checkpoint | None, Progress | None]:
    """The checkpoint to save to and the progress it restored; shares rank 0's start.

    In distributed training rank 0 alone opens the checkpoint and then sends every rank what
    it holds (weights, optimiser moments and learning rate, the schedule's state, generator
    states, history), together with its
    generator state even without a checkpoint: all ranks must draw the same epoch orders. An
    error on rank 0 (another fit's checkpoint) is sent too and raised everywhere, so no rank
    is left waiting.

    Returns
    -------
    tuple
        (Checkpoint or None, Progress or None): rank 0 saves to the checkpoint, the other
        ranks get None; the progress is None when training starts from scratch.
    """
    checkpoint, progress, error = None, None, None
    if world.is_main and checkpoint_dir is not None:
        try:
            checkpoint = Checkpoint(
                checkpoint_dir,
                full_fingerprint(module, train_data, valid_data, config, fingerprint),
            )
            progress = checkpoint.restore(module, optimizer, rng, schedule)
        except (TypeError, ValueError) as exc:
            if world.size == 1:
                raise
            error = exc
    if world.size == 1:
        return checkpoint, progress
    device = _device(module)
    shared = None
    if world.is_main:
        shared = {"error": error, "rng": rng.bit_generator.state}
        if progress is not None:
            shared["progress"] = Progress(
                **{**vars(progress), "best_state": _cpu(progress.best_state)}
            )
            shared["module"] = _cpu(module.state_dict())
            shared["optimizer"] = optimizer.state_dict()
            shared["torch_rng"] = torch.get_rng_state()
            shared["lr_schedule"] = None if schedule is None else schedule.state_dict()
    shared = distributed.broadcast_object(shared, device)
    if shared["error"] is not None:
        raise shared["error"]
    if world.is_main:
        return checkpoint, progress
    rng.bit_generator.state = shared["rng"]
    if "progress" not in shared:
        return None, None
    module.load_state_dict(shared["module"])
    optimizer.load_state_dict(shared["optimizer"])  # with rank 0's learning rate
    if schedule is not None and shared["lr_schedule"] is not None:
        schedule.load_state_dict(shared["lr_schedule"])
    torch.set_rng_state(shared["torch_rng"])
    progress = shared["progress"]
    progress.best_state = {k: v.to(device) for k, v in progress.best_state.items()}
    return None, progress


def _cpu(state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    return {k: v.detach().cpu() for k, v in state.items()}


def _device(module: nn.Module) -> torch.device:
    return next(iter(module.parameters()), torch.empty(0)).device


def _prefixed(tensors: dict[str, torch.Tensor], prefix: str) -> dict[str, torch.Tensor]:
    return {k[len(prefix) :]: v for k, v in tensors.items() if k.startswith(prefix)}


def _encode_array(value: Any) -> Any:
    # Bit generators other than PCG64 (MT19937) keep numpy arrays in their state.
    if isinstance(value, np.ndarray):
        return {"__ndarray__": value.tolist(), "dtype": value.dtype.str}
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"cannot store {type(value).__name__} in a checkpoint")


def _decode_array(value: dict) -> Any:
    if "__ndarray__" in value:
        return np.asarray(value["__ndarray__"], dtype=value["dtype"])
    return value
