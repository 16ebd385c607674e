"""One training loop for every estimator: batching, early stopping, clipping, best weights.

The estimators give a :class:`BatchSource` for training (and one for validation) and a loss
function; everything else (the optimiser, the epoch loop, the progress bar, restoring the best
weights, stopping a diverging run, surviving an interrupt, data-parallel training over several
processes) lives here once. Checkpoints are :mod:`tsattn.checkpoint`'s; the optional allocator
setting for long fits is :mod:`tsattn.memory`'s.

Distributed training (see :mod:`tsattn.distributed`): when the loop runs in several processes
(``torchrun``, or a process group the user initialised), the module is wrapped in
DistributedDataParallel for the training steps only. Every rank draws the same epoch order
from the same generator (rank 0's, shared at the start) and takes its strided part of every
batch, so ``batch_size`` is the *global* batch: the model takes the same optimiser steps on the
same batches as a single process would (up to float rounding), whatever the number of
processes. Epoch losses are summed over the ranks, so early stopping, divergence and the best
epoch are decided alike everywhere; rank 0 alone shows progress and writes checkpoints.
"""

from __future__ import annotations

import contextlib
import contextvars
import math
import os
import time
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Protocol

import numpy as np
import torch
from torch import nn

from tsattn import distributed
from tsattn.checkpoint import Checkpoint, Progress, checkpoint_fingerprint, resume
from tsattn.distributed import World, resolve_device

__all__ = [
    "BatchSource",
    "Checkpoint",
    "EpochReport",
    "TrainingConfig",
    "TrainingDivergedError",
    "adam",
    "checkpoint_fingerprint",
    "mean_loss",
    "resolve_device",
    "train",
    "watch_epochs",
]

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
    """The loss became NaN, infinite, or orders of magnitude above the untrained model's.

    The module is left with the weights of the best epoch before, or with its initial weights
    when no epoch ended well; the message says which.
    """


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
    # same evenly spread samples every epoch), as evaluating every validation window of a
    # large panel would take far longer than the epoch's capped training steps.
    max_batches_per_epoch: int | None = None
    # An epoch whose training or validation loss exceeds this multiple of the first batch's
    # loss (the untrained model's) has diverged, even while finite: a learning rate far too
    # high gives losses of 1e11 that never overflow, and forecasts to match. None: only NaN
    # and infinity count.
    divergence_factor: float | None = 1e4
    verbose: bool = True


@dataclass(frozen=True)
class EpochReport:
    """What an epoch did, as given to ``on_epoch_end`` and :func:`watch_epochs` callbacks.

    Losses and sample counts are over all processes in distributed training; times are this
    process'.

    Attributes
    ----------
    epoch : int
        1-based.
    train_loss, valid_loss : float
        Mean losses (``valid_loss`` is NaN without validation).
    seconds : float
        The whole epoch: training steps, validation and bookkeeping.
    train_seconds, valid_seconds : float
        The training steps, and the validation loss, alone.
    train_samples, valid_samples : int
        Training samples drawn, and validation samples evaluated.
    """

    epoch: int
    train_loss: float
    valid_loss: float
    seconds: float
    train_seconds: float
    valid_seconds: float
    train_samples: int
    valid_samples: int


_watchers: contextvars.ContextVar[tuple[Callable[[EpochReport], None], ...]] = (
    contextvars.ContextVar("tsattn_epoch_watchers", default=())
)


@contextlib.contextmanager
def watch_epochs(callback: Callable[[EpochReport], None]) -> Iterator[None]:
    """Call ``callback`` after every epoch any fit trains inside the block.

    It sees the epochs of fits that an estimator runs (whose ``train`` call the caller does
    not make), for timing or logging; epochs restored from a checkpoint are not trained and
    not reported. The callback runs after the epoch's checkpoint is written; an exception it
    raises ends the fit (``KeyboardInterrupt`` as an interrupt does).

    Parameters
    ----------
    callback : callable
        ``callback(report: EpochReport) -> None``.

    Examples
    --------
    >>> from tsattn.training import watch_epochs
    >>> seconds = []
    >>> with watch_epochs(lambda report: seconds.append(report.train_seconds)):  # doctest: +SKIP
    ...     model.fit(y)
    """
    if not callable(callback):
        raise TypeError(f"callback must be callable, got {type(callback).__name__}")
    token = _watchers.set((*_watchers.get(), callback))
    try:
        yield
    finally:
        _watchers.reset(token)


def train(
    module: nn.Module,
    loss_fn: Callable[[nn.Module, dict[str, torch.Tensor]], torch.Tensor],
    train_data: BatchSource,
    valid_data: BatchSource | None,
    config: TrainingConfig,
    rng: np.random.Generator,
    checkpoint_dir: str | os.PathLike | None = None,
    fingerprint: dict | None = None,
    *,
    on_epoch_end: Callable[[EpochReport], None] | None = None,
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
        Epochs, batch size, learning rate, patience, clipping, divergence, verbosity.
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
    on_epoch_end : callable or None, default=None
        ``on_epoch_end(report: EpochReport)`` after every epoch trained (not after epochs
        restored from a checkpoint), after the callbacks of :func:`watch_epochs`.

    Returns
    -------
    list of dict
        One row per epoch: ``epoch``, ``train_loss``, ``valid_loss`` (NaN without validation),
        ``seconds``; the losses are means over all ranks' samples.

    Raises
    ------
    TrainingDivergedError
        When the loss turns NaN or infinite, or exceeds ``config.divergence_factor`` times the
        first batch's loss (the module is first put back to the best epoch's weights, or to its
        initial weights when no epoch ended well).
    ValueError
        When ``checkpoint_dir`` holds a checkpoint of other parameters or data; in
        distributed training also when the ranks hold different numbers of samples, or
        ``batch_size`` is smaller than the number of processes.
    """
    from tqdm.auto import tqdm

    device = _module_device(module)
    world = distributed.setup(device)
    if world.size > 1:
        distributed.check_world(train_data, valid_data, config.batch_size, world)
    optimizer = adam(list(module.parameters()), config.learning_rate)
    # The training steps call the DDP wrapper (its backward averages the gradients); the
    # estimator keeps the plain module, and evaluation uses it too (no collectives per batch).
    stepped = distributed.wrap(module, device) if world.size > 1 else module
    checkpoint, progress = resume(
        module, optimizer, rng, train_data, valid_data, config, world,
        checkpoint_dir, fingerprint,
    )  # fmt: skip
    if progress is None:
        progress = Progress(history=[], best_loss=math.inf, best_state=_copy_state(module))
    history = progress.history
    first_epoch = len(history) + 1
    callbacks = [*_watchers.get(), *([on_epoch_end] if on_epoch_end is not None else [])]
    valid_data = _capped_validation(valid_data, config)
    validated = valid_data is not None and len(valid_data) > 0
    epochs = tqdm(
        range(first_epoch, config.max_epochs + 1 if not progress.finished else first_epoch),
        initial=first_epoch - 1,
        total=config.max_epochs,
        disable=not (config.verbose and world.is_main),
        unit="epoch",
    )
    try:
        for epoch in epochs:
            started = time.perf_counter()
            sums = _run_epoch(stepped, loss_fn, train_data, config, optimizer, rng, world)
            trained = time.perf_counter()
            sums += _loss_sum(module, loss_fn, valid_data, config.batch_size, world)
            validated_at = time.perf_counter()
            if world.size > 1:  # one collective per epoch: every rank sees the same losses
                sums = tuple(distributed.all_reduce_sum(list(sums), device))
            train_sum, train_count, first_sum, first_count, valid_sum, valid_count = sums
            if epoch == 1:
                progress.reference_loss = first_sum / max(first_count, 1)
            train_loss = train_sum / max(train_count, 1)
            valid_loss = valid_sum / valid_count if valid_count else math.nan
            monitored = valid_loss if validated else train_loss
            _check_divergence(module, progress, epoch, train_loss, monitored, config)
            row = {
                "epoch": epoch,
                "train_loss": train_loss,
                "valid_loss": valid_loss,
                "seconds": time.perf_counter() - started,
            }
            history.append(row)
            epochs.set_postfix(train=f"{train_loss:.4f}", valid=f"{valid_loss:.4f}")
            if monitored < progress.best_loss:
                progress.best_loss, progress.best_state = monitored, _copy_state(module)
                progress.stale = 0
            else:
                progress.stale += 1
            patience = config.early_stopping_patience
            # A barely trained model's flat forecast can score a validation low that takes
            # many epochs to beat (seen on AirPassengers and M3): no stop before 2 * patience.
            stop = patience is not None and progress.stale >= patience and epoch >= 2 * patience
            progress.finished = stop or epoch == config.max_epochs
            if checkpoint is not None:
                checkpoint.save(module, optimizer, rng, progress)
            report = EpochReport(
                **row,
                train_seconds=trained - started,
                valid_seconds=validated_at - trained,
                train_samples=int(train_count),
                valid_samples=int(valid_count),
            )
            for callback in callbacks:
                callback(report)
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
    module.load_state_dict(progress.best_state)
    module.eval()
    return history


def _check_divergence(module, progress: Progress, epoch, train_loss, monitored, config) -> None:
    """Raise TrainingDivergedError, best weights restored, if this epoch's losses diverged."""
    losses = {"training": train_loss, "validation": monitored}
    bad = next(((name, loss) for name, loss in losses.items() if not math.isfinite(loss)), None)
    factor, reference = config.divergence_factor, progress.reference_loss
    if bad is None and factor is not None and reference > 0:
        bad = next(
            ((name, loss) for name, loss in losses.items() if loss > factor * reference), None
        )
    if bad is None:
        return
    module.load_state_dict(progress.best_state)
    name, loss = bad
    if math.isfinite(loss):
        what = (
            f"the {name} loss rose to {loss:.3g} at epoch {epoch}, over {factor:g} times the "
            f"untrained model's {reference:.3g}"
        )
    else:
        what = f"the loss became {loss} at epoch {epoch}"
    best = _best_epoch(progress)
    kept = (
        f"the module is left with the weights of epoch {best}, the best before"
        if best is not None
        else "no epoch ended well, so the module is left with its initial, untrained weights"
    )
    raise TrainingDivergedError(
        f"training diverged: {what}; {kept}. Likely causes: a learning rate too high (now "
        f"{config.learning_rate}), or extreme values in the data (try scaler='standard')"
    )


def _best_epoch(progress: Progress) -> int | None:
    """The epoch whose weights ``progress.best_state`` holds (None before any epoch ended)."""
    for row in progress.history:
        monitored = row["valid_loss"] if math.isfinite(row["valid_loss"]) else row["train_loss"]
        if monitored == progress.best_loss:
            return row["epoch"]
    return None


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


def adam(parameters: list[nn.Parameter], learning_rate: float) -> torch.optim.Adam:
    """The optimiser every fit uses: Adam, fused into one kernel where this torch has it.

    The unfused step runs about ten operations per parameter tensor, which with the small
    tensors of these models is a noticeable part of a CPU training step; the fused step does
    them in one pass. CPU fused Adam came in torch 2.4; older versions (and other devices)
    refuse it at construction and get the default.

    Parameters
    ----------
    parameters : list of torch.nn.Parameter
    learning_rate : float

    Returns
    -------
    torch.optim.Adam
    """
    try:
        return torch.optim.Adam(parameters, lr=learning_rate, fused=True)
    except (RuntimeError, TypeError, ValueError):
        return torch.optim.Adam(parameters, lr=learning_rate)


def _run_epoch(
    module, loss_fn, data, config, optimizer, rng, world: World = ALONE
) -> tuple[float, int, float, int]:
    """One epoch of optimiser steps on this rank.

    Returns (sum of sample losses, samples, the same two for the epoch's first batch alone):
    the first batch's loss is taken before its step, so epoch 1's is the untrained model's.
    """
    module.train()
    # A batch larger than the data is the data: bounding it by the data keeps a huge batch_size
    # from sizing the epoch's index arrays (min_batches_per_epoch * batch_size indices).
    batch_size = min(config.batch_size, max(len(data), world.size))
    wanted = max(len(data), config.min_batches_per_epoch * batch_size)
    if config.max_batches_per_epoch is not None:
        wanted = min(wanted, config.max_batches_per_epoch * batch_size)
    repeats = -(-wanted // len(data))
    order = np.concatenate([rng.permutation(len(data)) for _ in range(repeats)])[:wanted]
    total, count = torch.zeros((), device=_module_device(module)), 0
    first, first_count = None, 0
    weight = 1.0
    for begin in range(0, len(order), batch_size):
        index = order[begin : begin + batch_size]
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
        if first is None:
            first, first_count = total.clone(), count
    return float(total), count, 0.0 if first is None else float(first), first_count


@torch.no_grad()
def mean_loss(module, loss_fn, data: BatchSource | None, batch_size: int) -> float:
    """Mean loss over ``data`` in evaluation mode.

    Parameters
    ----------
    module : torch.nn.Module
    loss_fn : callable
        ``loss_fn(module, batch) -> scalar tensor``, as for :func:`train`.
    data : BatchSource or None
    batch_size : int

    Returns
    -------
    float
        The mean over samples of the batches' losses; NaN when there is no data.
    """
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


def _module_device(module: nn.Module) -> torch.device:
    return next(iter(module.parameters()), torch.empty(0)).device
