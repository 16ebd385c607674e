"""One training loop for every estimator: batching, early stopping, clipping, best weights.

The estimators give a :class:`BatchSource` for training (and one for validation) and a loss
function; everything else (the optimiser, the epoch loop, the progress bar, restoring the best
weights, surviving an interrupt, data-parallel training over several processes) lives here once.

Distributed training (see :mod:`tsattn.distributed`): when the loop runs in several processes
(``torchrun``, or a process group the user initialised), the module is wrapped in
DistributedDataParallel for the training steps only. Every rank draws the same epoch order
from the same generator (rank 0's, shared at the start) and takes its strided part of every
batch, so ``batch_size`` is the *global* batch: the model takes the same optimiser steps on the
same batches as a single process would (up to float rounding), whatever the number of
processes. Epoch losses are summed over the ranks, so early stopping and the best epoch are
decided alike everywhere; rank 0 alone shows progress and writes checkpoints.
"""

from __future__ import annotations

import contextlib
import ctypes
import functools
import hashlib
import json
import math
import os
import sys
import tempfile
import time
import warnings
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import torch
from torch import nn

from tsattn import distributed
from tsattn.distributed import World

DEVICES = ("auto", "cpu", "cuda")
ALONE = World()  # a process training by itself
# Validation windows per training window of a capped epoch (see TrainingConfig).
VALID_BATCHES_PER_BATCH = 4


class BatchSource(Protocol):
    """Anything that can gather a batch of samples by their indices."""

    def __len__(self) -> int: ...

    def batch(self, index: np.ndarray) -> dict[str, torch.Tensor]:
        """The samples at ``index`` as tensors on the model's device."""
        ...


class TrainingDivergedError(RuntimeError):
    """The loss became NaN or infinite; the model keeps the last good weights."""


@dataclass(frozen=True)
class TrainingConfig:
    """How to train; every field comes from an estimator's constructor."""

    max_epochs: int = 100
    batch_size: int = 256
    learning_rate: float = 1e-3
    early_stopping_patience: int | None = 10  # epochs without improvement; None never stops
    gradient_clip: float | None = 1.0  # max gradient norm; RNNs explode without it
    # A small data set (one series of 100 windows) would give one optimiser step per epoch, and
    # early stopping would then judge the model after a handful of steps: an epoch is at least
    # this many batches, drawn as repeated shuffles of the samples.
    min_batches_per_epoch: int = 20
    # And at most this many (a fresh random subset of the samples each epoch), so that on a
    # large panel validation, early stopping and checkpoints still come every few seconds.
    # Validation is then capped too, at VALID_BATCHES_PER_BATCH times as many batches (the
    # same evenly spread samples every epoch): 30,000 series hold ~400,000 validation windows,
    # whose evaluation would otherwise take 10x longer than the epoch's training steps.
    max_batches_per_epoch: int | None = None
    verbose: bool = True


def resolve_device(device: str | torch.device) -> torch.device:
    """Turn the ``device`` parameter into a :class:`torch.device`.

    Parameters
    ----------
    device : {"auto", "cpu", "cuda"}, "cuda:N" or torch.device
        "auto" picks CUDA where it exists.

    Returns
    -------
    torch.device

    Raises
    ------
    ValueError
        For an unknown value, or CUDA asked for where there is none.
    """
    if isinstance(device, str) and device == "auto":
        # Under torchrun each process takes the GPU of its local rank.
        return distributed.cuda_device() if torch.cuda.is_available() else torch.device("cpu")
    if not isinstance(device, (str, torch.device)):
        raise TypeError(f"device must be a string or torch.device, got {type(device).__name__}")
    try:
        resolved = torch.device(device)
    except RuntimeError:
        raise ValueError(
            f"device must be one of {DEVICES} or a torch.device, got {device!r}"
        ) from None
    if resolved.type not in ("cpu", "cuda"):
        raise ValueError(f"device must be one of {DEVICES} or a torch.device, got {device!r}")
    if resolved.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(
            f"device={device!r} asks for CUDA but torch finds no CUDA GPU here; "
            f"use device='auto' or 'cpu'"
        )
    if resolved.type == "cuda" and resolved.index is None:
        return distributed.cuda_device()
    return resolved


# glibc's mallopt parameters (malloc.h)
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3
_MMAP_THRESHOLD = 32 * 2**20  # the most glibc allows, and where its own adaptive threshold ends
_TRIM_DURING_FIT = 256 * 2**20
_TRIM_AFTER_FIT = 2 * _MMAP_THRESHOLD  # what glibc's adaptive rule sets beside that threshold


@contextlib.contextmanager
def _reuse_freed_memory():
    """Let glibc keep freed memory for the next training step instead of unmapping it.

    A training step allocates and frees tensors of a few MB (the attention's (B, T, S, A)
    scores, the LSTMs' workspaces). With glibc's defaults the freed top of the heap is handed
    back to the kernel every step and touched again the next, which measured 800-2,900 page
    faults per step on M3 monthly, 5-10% of the step on this project's CPU and the main source
    of its run-to-run spread; with these settings, under 60. This is what PyTorch's CPU
    performance guide gets from jemalloc or tcmalloc, done in-process and only while training.
    Afterwards the trim threshold goes back to glibc's own adaptive value and what the fit held
    is released. Elsewhere than glibc (macOS, Windows, musl) nothing changes.
    """
    libc = _glibc()
    if libc is None:
        yield
        return
    libc.mallopt(_M_MMAP_THRESHOLD, _MMAP_THRESHOLD)
    libc.mallopt(_M_TRIM_THRESHOLD, _TRIM_DURING_FIT)
    try:
        yield
    finally:
        libc.mallopt(_M_TRIM_THRESHOLD, _TRIM_AFTER_FIT)
        libc.malloc_trim(0)


@functools.cache
def _glibc():
    """The C library when it is glibc (it has mallopt and malloc_trim), else None."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(None)
    except OSError:
        return None
    return libc if hasattr(libc, "gnu_get_libc_version") else None  # musl lacks it


@_reuse_freed_memory()
def train(
    module: nn.Module,
    loss_fn: Callable[[nn.Module, dict[str, torch.Tensor]], torch.Tensor],
    train_data: BatchSource,
    valid_data: BatchSource | None,
    config: TrainingConfig,
    rng: np.random.Generator,
    checkpoint_dir: str | os.PathLike | None = None,
    fingerprint: dict | None = None,
) -> list[dict]:
    """Train ``module`` in place and leave it with its best weights.

    Parameters
    ----------
    module : torch.nn.Module
        The model, already on its device.
    loss_fn : callable
        ``loss_fn(module, batch) -> scalar tensor``; it must call ``module(...)`` (not one of
        its methods), so that a DistributedDataParallel wrapper passed in its place is seen.
    train_data, valid_data : BatchSource
        Training samples, and validation samples (or None: the training loss then decides).
    config : TrainingConfig
        Epochs, batch size, learning rate, patience, clipping, verbosity.
    rng : numpy.random.Generator
        Shuffles the training samples every epoch. In distributed training rank 0's state is
        copied to every rank first, so all ranks draw the same order.
    checkpoint_dir : str, os.PathLike or None, default=None
        Save the progress there after every epoch (see :class:`Checkpoint`); a checkpoint
        already there is resumed from, so a killed run started again with the same directory
        ends with the same weights as an uninterrupted one. In distributed training rank 0
        alone reads and writes it (the others get its contents through the process group, so
        the directory needs to be on rank 0's machine only).
    fingerprint : dict or None, default=None
        JSON-ready description of the estimator's parameters and data (see
        :func:`checkpoint_fingerprint`) that a checkpoint must match to be resumed.

    Returns
    -------
    list of dict
        One row per epoch: ``epoch``, ``train_loss``, ``valid_loss`` (NaN without validation),
        ``seconds``; the losses are means over all ranks' samples.

    Raises
    ------
    TrainingDivergedError
        When the loss turns NaN or infinite (the best weights so far are restored first).
    ValueError
        When ``checkpoint_dir`` holds a checkpoint of other parameters or data; in
        distributed training also when the ranks hold different numbers of samples, or
        ``batch_size`` is smaller than the number of processes.
    """
    from tqdm.auto import tqdm

    device = _module_device(module)
    world = distributed.setup(device)
    if world.size > 1:
        _check_world(train_data, valid_data, config, world)
    optimizer = _adam(list(module.parameters()), config.learning_rate)
    # The training steps call the DDP wrapper (its backward averages the gradients); the
    # estimator keeps the plain module, and evaluation uses it too (no collectives per batch).
    stepped = distributed.wrap(module, device) if world.size > 1 else module
    history: list[dict] = []
    best_loss, stale = math.inf, 0
    first_epoch, finished = 1, False
    checkpoint, progress = _resume(
        module, optimizer, rng, train_data, valid_data, config, world,
        checkpoint_dir, fingerprint,
    )  # fmt: skip
    best_state = _copy_state(module)
    if progress is not None:
        history, best_loss, best_state, stale, finished = progress
        first_epoch = len(history) + 1
    valid_data = _capped_validation(valid_data, config)
    epochs = tqdm(
        range(first_epoch, config.max_epochs + 1 if not finished else first_epoch),
        initial=first_epoch - 1,
        total=config.max_epochs,
        disable=not (config.verbose and world.is_main),
        unit="epoch",
    )
    try:
        for epoch in epochs:
            started = time.perf_counter()
            train_sum = _run_epoch(stepped, loss_fn, train_data, config, optimizer, rng, world)
            valid_sum = _loss_sum(module, loss_fn, valid_data, config.batch_size, world)
            if world.size > 1:  # one collective per epoch: every rank sees the same losses
                reduced = distributed.all_reduce_sum([*train_sum, *valid_sum], device)
                train_sum, valid_sum = (reduced[0], reduced[1]), (reduced[2], reduced[3])
            train_loss = train_sum[0] / max(train_sum[1], 1)
            valid_loss = valid_sum[0] / valid_sum[1] if valid_sum[1] else math.nan
            monitored = valid_loss if valid_data is not None and len(valid_data) else train_loss
            if not math.isfinite(train_loss) or not math.isfinite(monitored):
                module.load_state_dict(best_state)
                bad = train_loss if not math.isfinite(train_loss) else monitored
                raise TrainingDivergedError(
                    f"the loss became {bad} at epoch {epoch}; the weights of the best epoch "
                    f"are kept. Likely causes: a learning rate too high (now "
                    f"{config.learning_rate}), or extreme values in the data (try scaler='standard')"
                )
            history.append(
                {
                    "epoch": epoch,
                    "train_loss": train_loss,
                    "valid_loss": valid_loss,
                    "seconds": time.perf_counter() - started,
                }
            )
            epochs.set_postfix(train=f"{train_loss:.4f}", valid=f"{valid_loss:.4f}")
            if monitored < best_loss:
                best_loss, best_state, stale = monitored, _copy_state(module), 0
            else:
                stale += 1
            patience = config.early_stopping_patience
            # A barely trained model's flat forecast can score a validation low that takes
            # many epochs to beat (seen on AirPassengers and M3): no stop before 2 * patience.
            stop = patience is not None and stale >= patience and epoch >= 2 * patience
            if checkpoint is not None:
                checkpoint.save(
                    module,
                    optimizer,
                    rng,
                    history,
                    best_loss,
                    best_state,
                    stale,
                    finished=stop or epoch == config.max_epochs,
                )
            if stop:
                break
    except KeyboardInterrupt:
        warnings.warn(
            f"training interrupted after {len(history)} epoch(s); keeping the best weights so far",
            RuntimeWarning,
            stacklevel=3,
        )
    finally:
        epochs.close()
        # The wrapper's gradient hooks go with it; the module is plain again.
        del stepped
    module.load_state_dict(best_state)
    module.eval()
    return history


def _capped_validation(data: BatchSource | None, config: TrainingConfig) -> BatchSource | None:
    """At most ``VALID_BATCHES_PER_BATCH * max_batches_per_epoch`` batches of validation.

    The samples kept are evenly spread over the source (windows are ordered by series, so
    every part of the panel stays represented) and the same every epoch, so that the epochs'
    losses compare.
    """
    if data is None or config.max_batches_per_epoch is None:
        return data
    cap = VALID_BATCHES_PER_BATCH * config.max_batches_per_epoch * config.batch_size
    if len(data) <= cap:
        return data
    return _Subset(data, np.unique(np.linspace(0, len(data) - 1, cap).round().astype(np.int64)))


class _Subset:
    """The samples of a batch source at fixed positions, as a batch source."""

    def __init__(self, data: BatchSource, index: np.ndarray):
        self.data, self.index = data, index

    def __len__(self) -> int:
        return len(self.index)

    def batch(self, index: np.ndarray) -> dict[str, torch.Tensor]:
        return self.data.batch(self.index[index])


def _check_world(train_data, valid_data, config, world: World) -> None:
    """Refuse, on every rank alike, what would make the ranks' epochs differ or hang."""
    sizes = (len(train_data), 0 if valid_data is None else len(valid_data))
    gathered = distributed.gather_object(sizes, world)
    if len(set(gathered)) > 1:
        raise ValueError(
            f"every process must fit the same data, but the ranks hold different numbers of "
            f"(training, validation) samples: {gathered}; give each process the whole data set "
            f"(the training loop splits every batch among them)"
        )
    if config.batch_size < world.size:
        raise ValueError(
            f"batch_size={config.batch_size} is smaller than the {world.size} processes: "
            f"batch_size is the global batch, split among the processes; make it at least "
            f"{world.size}"
        )


def _resume(
    module, optimizer, rng, train_data, valid_data, config, world, checkpoint_dir, fingerprint
):
    """(checkpoint to save to or None, restored progress or None); shares rank 0's start.

    In distributed training rank 0 alone opens the checkpoint and then sends every rank what
    it holds (weights, optimiser moments, generator states, history), together with its
    generator state even without a checkpoint: all ranks must draw the same epoch orders. An
    error on rank 0 (another fit's checkpoint) is sent too and raised everywhere, so no rank
    is left waiting.
    """
    checkpoint, progress, error = None, None, None
    if world.is_main and checkpoint_dir is not None:
        try:
            checkpoint = Checkpoint(
                checkpoint_dir,
                _full_fingerprint(module, train_data, valid_data, config, fingerprint),
            )
            progress = checkpoint.restore(module, optimizer, rng)
        except (TypeError, ValueError) as exc:
            if world.size == 1:
                raise
            error = exc
    if world.size == 1:
        return checkpoint, progress
    device = _module_device(module)
    shared = None
    if world.is_main:
        shared = {"error": error, "rng": rng.bit_generator.state}
        if progress is not None:
            history, best_loss, best_state, stale, finished = progress
            shared["progress"] = (history, best_loss, _cpu(best_state), stale, finished)
            shared["module"] = _cpu(module.state_dict())
            shared["optimizer"] = optimizer.state_dict()
            shared["torch_rng"] = torch.get_rng_state()
    shared = distributed.broadcast_object(shared, device)
    if shared["error"] is not None:
        raise shared["error"]
    if world.is_main:
        return checkpoint, progress
    rng.bit_generator.state = shared["rng"]
    if "progress" not in shared:
        return None, None
    module.load_state_dict(shared["module"])
    optimizer.load_state_dict(shared["optimizer"])
    torch.set_rng_state(shared["torch_rng"])
    history, best_loss, best_state, stale, finished = shared["progress"]
    best_state = {k: v.to(device) for k, v in best_state.items()}
    return None, (history, best_loss, best_state, stale, finished)


def _cpu(state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    return {k: v.detach().cpu() for k, v in state.items()}


def _adam(parameters: list[nn.Parameter], learning_rate: float) -> torch.optim.Adam:
    """Adam, fused into one kernel over all parameters where this torch has it.

    The unfused step runs about ten operations per parameter tensor; with the small tensors of
    these models that was 4% of a CPU training step, and the fused step takes a quarter of it.
    CPU fused Adam came in torch 2.4; older versions (and other devices) refuse it at
    construction and get the default.
    """
    try:
        return torch.optim.Adam(parameters, lr=learning_rate, fused=True)
    except (RuntimeError, TypeError, ValueError):
        return torch.optim.Adam(parameters, lr=learning_rate)


def _run_epoch(
    module, loss_fn, data, config, optimizer, rng, world: World = ALONE
) -> tuple[float, int]:
    """One epoch of optimiser steps; (sum of sample losses, samples) on this rank."""
    module.train()
    wanted = max(len(data), config.min_batches_per_epoch * config.batch_size)
    if config.max_batches_per_epoch is not None:
        wanted = min(wanted, config.max_batches_per_epoch * config.batch_size)
    repeats = -(-wanted // len(data))
    order = np.concatenate([rng.permutation(len(data)) for _ in range(repeats)])[:wanted]
    total, count = torch.zeros((), device=_module_device(module)), 0
    weight = 1.0
    for begin in range(0, len(order), config.batch_size):
        index = order[begin : begin + config.batch_size]
        if world.size > 1:
            # Only the epoch's last batch can be this short: dropped (at most size - 1
            # samples), as every rank needs a part to take part in the gradient average.
            if len(index) < world.size:
                break
            index, weight = distributed.shard(index, world)
        loss = loss_fn(module, data.batch(index))
        optimizer.zero_grad(set_to_none=True)
        (loss if weight == 1.0 else loss * weight).backward()
        if config.gradient_clip is not None:
            nn.utils.clip_grad_norm_(module.parameters(), config.gradient_clip)
        optimizer.step()
        # Summed on the device: reading the loss every step would wait for the GPU each time.
        total += loss.detach() * len(index)
        count += len(index)
    return float(total), count


@torch.no_grad()
def evaluate(module, loss_fn, data: BatchSource | None, batch_size: int) -> float:
    """Mean loss over ``data`` in evaluation mode (NaN when there is no data)."""
    total, count = _loss_sum(module, loss_fn, data, batch_size)
    return total / count if count else math.nan


@torch.no_grad()
def _loss_sum(module, loss_fn, data, batch_size: int, world: World = ALONE) -> tuple[float, int]:
    """(sum of sample losses, samples) over this rank's batches of ``data``.

    Batch ``k`` is evaluated by rank ``k % size``: the ranks' sums add up to the single
    process' sum over the very same batches.
    """
    module.eval()
    if data is None or len(data) == 0:
        return 0.0, 0
    total, count = 0.0, 0
    for begin in range(world.rank * batch_size, len(data), world.size * batch_size):
        index = np.arange(begin, min(begin + batch_size, len(data)))
        total += float(loss_fn(module, data.batch(index))) * len(index)
        count += len(index)
    return total, count


def _copy_state(module: nn.Module) -> dict[str, torch.Tensor]:
    return {name: tensor.detach().clone() for name, tensor in module.state_dict().items()}


# ----------------------------------------------------------------------------------------------
# Checkpoints: the whole training state after an epoch, in one file written atomically


CHECKPOINT_FORMAT = "tsattn-checkpoint"
CHECKPOINT_VERSION = 1


def checkpoint_fingerprint(params: dict, *arrays: np.ndarray) -> dict:
    """What a checkpoint must match to be resumed: the parameters and a hash of the data.

    Parameters
    ----------
    params : dict
        JSON-ready constructor parameters; ``verbose`` is left out (it changes nothing learnt).
    *arrays : numpy.ndarray
        The training data as the estimator holds it.

    Returns
    -------
    dict
        ``{"params": ..., "data": {"shapes": ..., "sha256": ...}}``.
    """
    digest = hashlib.sha256()
    shapes = []
    for array in arrays:
        array = np.ascontiguousarray(array)
        digest.update(f"{array.dtype.str}{array.shape}".encode())
        digest.update(array.reshape(-1).view(np.uint8))
        shapes.append(list(array.shape))
    kept = {key: value for key, value in params.items() if key != "verbose"}
    return {"params": kept, "data": {"shapes": shapes, "sha256": digest.hexdigest()}}


def _full_fingerprint(module, train_data, valid_data, config, fingerprint) -> dict:
    """The caller's fingerprint plus what the loop itself knows (checked even without one)."""
    training = {k: v for k, v in asdict(config).items() if k != "verbose"}
    return {
        **(fingerprint or {}),
        "training": training,
        "samples": [len(train_data), 0 if valid_data is None else len(valid_data)],
        "batches": _batch_source_digest(train_data, valid_data),
        "module": {name: list(t.shape) for name, t in module.state_dict().items()},
    }


def _batch_source_digest(*sources) -> str:
    """Hash of every array a batch source holds (values, covariates, windows, ...).

    Whatever an estimator feeds the loop is covered, even inputs its own fingerprint forgets.
    """
    digest = hashlib.sha256()
    for source in sources:
        for name, value in sorted(getattr(source, "__dict__", {}).items()):
            if isinstance(value, torch.Tensor):
                value = value.detach().cpu().numpy()
            if isinstance(value, np.ndarray):
                value = np.ascontiguousarray(value)
                digest.update(f"{name}{value.dtype.str}{value.shape}".encode())
                digest.update(value.reshape(-1).view(np.uint8))
    return digest.hexdigest()


class Checkpoint:
    """The training state after the last finished epoch, in ``directory/checkpoint.safetensors``.

    Tensors (module weights, best weights, optimiser moments, torch RNG states) go into the
    safetensors body; everything else (format version, fingerprint, history, epoch counters, the
    numpy generator's state) is JSON in its metadata, so reading a checkpoint never unpickles.
    Every save writes a temporary file and renames it into place: a run killed at any moment
    leaves the previous epoch's checkpoint whole.

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

    def save(self, module, optimizer, rng, history, best_loss, best_state, stale, finished):
        """Write the state after an epoch atomically."""
        from safetensors.torch import save_file

        tensors = {f"module.{k}": v for k, v in module.state_dict().items()}
        tensors.update({f"best.{k}": v for k, v in best_state.items()})
        scalars: dict[str, dict[str, Any]] = {}
        for param_id, state in optimizer.state_dict()["state"].items():
            for key, value in state.items():
                if isinstance(value, torch.Tensor):
                    tensors[f"optimizer.{param_id}.{key}"] = value
                else:
                    scalars.setdefault(str(param_id), {})[key] = value
        tensors["rng.torch"] = torch.get_rng_state()
        device = _module_device(module)
        if device.type == "cuda":
            tensors["rng.cuda"] = torch.cuda.get_rng_state(device)
        progress = {
            "epoch": len(history),
            "history": history,
            "best_loss": best_loss,
            "stale": stale,
            "finished": bool(finished),
            "numpy_rng": rng.bit_generator.state,
            "optimizer_scalars": scalars,
        }
        metadata = {
            "format": CHECKPOINT_FORMAT,
            "format_version": str(CHECKPOINT_VERSION),
            "fingerprint": json.dumps(self.fingerprint),
            "progress": json.dumps(progress, default=_encode_array),
        }
        tensors = {k: v.detach().cpu().contiguous() for k, v in tensors.items()}
        self.directory.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(
            dir=self.directory, prefix=".checkpoint.", suffix=".tmp"
        )
        os.close(handle)
        try:
            save_file(tensors, temporary, metadata=metadata)
            os.replace(temporary, self.path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise

    def restore(self, module, optimizer, rng):
        """Load the checkpoint into ``module``, ``optimizer`` and ``rng``, if there is one.

        Returns
        -------
        tuple or None
            ``(history, best_loss, best_state, stale, finished)``, or None without a checkpoint.

        Raises
        ------
        ValueError
            For an unreadable checkpoint, a newer format, or another fingerprint.
        """
        from safetensors import SafetensorError
        from safetensors.torch import load_file, safe_open

        if not self.path.is_file():
            return None
        where = str(self.path)
        try:
            with safe_open(where, framework="pt", device="cpu") as handle:
                metadata = handle.metadata() or {}
            tensors = load_file(where, device="cpu")
            if metadata.get("format") != CHECKPOINT_FORMAT:
                raise ValueError("not a tsattn checkpoint")
            version = int(metadata["format_version"])
            stored = json.loads(metadata["fingerprint"])
            progress = json.loads(metadata["progress"], object_hook=_decode_array)
        except (SafetensorError, OSError, ValueError, KeyError) as error:
            raise ValueError(
                f"cannot read the checkpoint {where!r} ({error}); delete it or use another "
                f"checkpoint_dir"
            ) from None
        if version > CHECKPOINT_VERSION:
            raise ValueError(
                f"the checkpoint {where!r} has format {version}, newer than this tsattn reads "
                f"({CHECKPOINT_VERSION}); upgrade tsattn or use another checkpoint_dir"
            )
        if stored != self.fingerprint:
            raise ValueError(
                f"the checkpoint in {str(self.directory)!r} was written by a fit with other "
                f"{_difference(stored, self.fingerprint)}; it cannot be resumed. Fit with the "
                f"same parameters and data, or use another (or an emptied) checkpoint_dir"
            )
        device = _module_device(module)
        module.load_state_dict(_prefixed(tensors, "module."))
        best_state = {k: v.to(device) for k, v in _prefixed(tensors, "best.").items()}
        state: dict[int, dict[str, Any]] = {}
        for name, value in _prefixed(tensors, "optimizer.").items():
            param_id, key = name.split(".", 1)
            state.setdefault(int(param_id), {})[key] = value
        for param_id, values in progress["optimizer_scalars"].items():
            state.setdefault(int(param_id), {}).update(values)
        optimizer.load_state_dict(
            {"state": state, "param_groups": optimizer.state_dict()["param_groups"]}
        )
        torch.set_rng_state(tensors["rng.torch"])
        if device.type == "cuda" and "rng.cuda" in tensors:
            torch.cuda.set_rng_state(tensors["rng.cuda"], device)
        rng.bit_generator.state = progress["numpy_rng"]
        return (
            progress["history"],
            progress["best_loss"],
            best_state,
            progress["stale"],
            progress["finished"],
        )


def _module_device(module: nn.Module) -> torch.device:
    return next(iter(module.parameters()), torch.empty(0)).device


def _prefixed(tensors: dict[str, torch.Tensor], prefix: str) -> dict[str, torch.Tensor]:
    return {k[len(prefix) :]: v for k, v in tensors.items() if k.startswith(prefix)}


def _difference(stored: dict, current: dict) -> str:
    """Name what differs between two fingerprints, for the error message."""
    old, new = stored.get("params", {}), current.get("params", {})
    changed = [k for k in sorted(set(old) | set(new)) if old.get(k) != new.get(k)]
    if changed:
        return "parameters: " + ", ".join(
            f"{k}={old.get(k)!r} there, {new.get(k)!r} here" for k in changed[:5]
        )
    old, new = stored.get("data", {}), current.get("data", {})
    if old.get("shapes") != new.get("shapes"):
        return f"data (arrays of shapes {old.get('shapes')} there, {new.get('shapes')} here)"
    if old != new or stored.get("batches") != current.get("batches"):
        return "data (same shapes, other values)"
    keys = [k for k in sorted(set(stored) | set(current)) if stored.get(k) != current.get(k)]
    return "training settings (" + ", ".join(keys) + ")"


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
