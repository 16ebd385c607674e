"""One training loop for every estimator: batching, early stopping, clipping, best weights.

The estimators give a :class:`BatchSource` for training (and one for validation) and a loss
function; everything else (the optimiser, the epoch loop, the progress bar, restoring the best
weights, stopping a diverging run, surviving an interrupt, data-parallel training over several
processes) lives here once. In the manner of skorch's ``fit_loop -> run_single_epoch ->
train_step``, the loop is in pieces:

- :func:`train` sets a fit up (device, processes, optimiser, resumed checkpoint) and ends it
  with the best weights;
- ``_fit_loop`` runs the epochs, saves checkpoints, calls the callbacks, stops;
- ``_run_single_epoch`` trains and validates one epoch and checks it for divergence;
- :class:`tsattn.epoch.Run` holds the fit's parts and takes the steps
  (``train_epoch``, ``train_step``, ``validate``);
- :class:`tsattn.stopping.Progress` records the epochs and decides on divergence, the best
  weights and early stopping.

Checkpoints are :mod:`tsattn.checkpoint`'s; learning-rate schedules :mod:`tsattn.schedules`';
the optional allocator setting for long fits is :mod:`tsattn.memory`'s; loggers for
TensorBoard and MLflow, built on :func:`watch_epochs`, :mod:`tsattn.callbacks`'. The epoch
reports, their callbacks and what a fit shows of its epochs are :mod:`tsattn.progress`'s.

What a fit shows (``verbose=True``, rank 0 only): a progress bar over the epochs when standard
error is a terminal or a notebook, else one plain line per epoch (logs, CI, ``nohup``), and
nothing when the environment sets ``TQDM_DISABLE`` (to anything but ``0``, ``false``, ``no``,
``off`` or nothing). Independently of ``verbose``, the loop logs through :mod:`logging` under
the ``tsattn`` logger (``tsattn.training``), which has only a ``NullHandler`` until the
application configures logging: every epoch, the learning rate's reductions, the early stop
and the epoch whose weights are kept at INFO, an interrupt at WARNING. Its warnings
(:func:`warnings.warn`) stay warnings; ``logging.captureWarnings(True)`` sends them to the log.

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

import logging
import math
import os
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from tsattn import distributed
from tsattn.checkpoint import Checkpoint, resume
from tsattn.distributed import resolve_device
from tsattn.epoch import BatchSource, LossSum, Run, capped_validation, mean_loss
from tsattn.fingerprint import checkpoint_fingerprint
from tsattn.progress import EpochDisplay, EpochReport, epoch_watchers, watch_epochs
from tsattn.schedules import LR_SCHEDULES, make_schedule
from tsattn.stopping import Progress

__all__ = [
    "BatchSource",
    "Checkpoint",
    "EpochReport",
    "LR_SCHEDULES",
    "TrainingConfig",
    "TrainingDivergedError",
    "adam",
    "checkpoint_fingerprint",
    "mean_loss",
    "resolve_device",
    "train",
    "watch_epochs",
]

# A library adds no handler of its own but this one, so that its records go nowhere (and
# Python's last-resort handler prints none of them) until the application configures logging.
logging.getLogger("tsattn").addHandler(logging.NullHandler())
logger = logging.getLogger(__name__)


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
    # Validation is then capped too, at epoch.VALID_BATCHES_PER_BATCH times as many batches (the
    # same evenly spread samples every epoch), as evaluating every validation window of a
    # large panel would take far longer than the epoch's capped training steps.
    max_batches_per_epoch: int | None = None
    # An epoch whose training or validation loss exceeds this multiple of the first batch's
    # loss (the untrained model's) has diverged, even while finite: a learning rate far too
    # high gives losses of 1e11 that never overflow, and forecasts to match. None: only NaN
    # and infinity count.
    divergence_factor: float | None = 1e4
    # None: the learning rate stays as given; "cosine" or "plateau": see tsattn.schedules.
    lr_schedule: str | None = None
    verbose: bool = True

    def __post_init__(self):
        if self.lr_schedule is not None and self.lr_schedule not in LR_SCHEDULES:
            raise ValueError(
                f"lr_schedule must be one of {', '.join(map(repr, LR_SCHEDULES))} or None, "
                f"got {self.lr_schedule!r}"
            )


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
        Epochs, batch size, learning rate and its schedule, patience, clipping, divergence,
        verbosity.
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
    device = _module_device(module)
    world = distributed.setup(device)
    if world.size > 1:
        distributed.check_world(train_data, valid_data, config.batch_size, world)
    optimizer = adam(list(module.parameters()), config.learning_rate)
    schedule = make_schedule(config)
    # The training steps call the DDP wrapper (its backward averages the gradients); the
    # estimator keeps the plain module, and evaluation uses it too (no collectives per batch).
    stepped = distributed.wrap(module, device) if world.size > 1 else module
    checkpoint, progress = resume(
        module, optimizer, rng, train_data, valid_data, config, world,
        checkpoint_dir, fingerprint, schedule=schedule,
    )  # fmt: skip
    if progress is None:
        progress = Progress.start(module)
    run = Run(
        module, stepped, loss_fn, train_data, capped_validation(valid_data, config), config,
        optimizer, rng, world, device, schedule,
    )  # fmt: skip
    del stepped
    callbacks = [*epoch_watchers(), *([on_epoch_end] if on_epoch_end is not None else [])]
    try:
        _fit_loop(run, progress, checkpoint, callbacks)
    finally:
        run.stepped = None  # the wrapper's gradient hooks go with it; the module is plain again
    module.load_state_dict(progress.best_state)
    module.eval()
    if world.is_main and progress.history:
        logger.info("keeping the weights of epoch %s", progress.best_epoch())
    return progress.history


def _fit_loop(run: Run, progress: Progress, checkpoint: Checkpoint | None, callbacks) -> None:
    """Train epochs until the last, an early stop, a divergence or an interrupt.

    Epochs restored from a checkpoint are not trained again (a finished checkpoint trains
    none). After each epoch: the best weights and the stop decision
    (:meth:`Progress.record`), the next epoch's learning rate, the checkpoint (so a resumed
    fit starts at that rate), then the callbacks. Ctrl-C ends the loop with a warning; the
    caller restores the best weights.
    """
    config, first_epoch = run.config, len(progress.history) + 1
    epochs = range(first_epoch, config.max_epochs + 1 if not progress.finished else first_epoch)
    display = EpochDisplay(config, run.world, first_epoch)
    try:
        for epoch in display.wrap(epochs):
            report, monitored = _run_single_epoch(run, progress, epoch)
            display.show(report)
            stop = progress.record(run.module, epoch, monitored, config)
            _next_learning_rate(run, epoch, monitored)
            if stop:
                monitored_name = "validation" if run.validated else "training"
                _log_main(run, "early stop after epoch %d: no better %s loss for %d epochs",
                          epoch, monitored_name, progress.stale)  # fmt: skip
            if checkpoint is not None:
                checkpoint.save(run.module, run.optimizer, run.rng, progress, run.schedule)
            for callback in callbacks:
                callback(report)
            if stop:
                break
    except KeyboardInterrupt:
        message = (
            f"training interrupted after {len(progress.history)} epoch(s); keeping the best "
            "weights so far"
        )
        _log_main(run, message, level=logging.WARNING)
        warnings.warn(
            message,
            RuntimeWarning,
            stacklevel=4,  # the caller of train's caller: the estimator's fit
        )
    finally:
        display.close()


def _next_learning_rate(run: Run, epoch: int, monitored: float) -> None:
    """Let the schedule, if any, set the learning rate of the epoch after ``epoch``."""
    if run.schedule is None:
        return
    if run.schedule.step(epoch, monitored):
        _log_main(run, "epoch %d: learning rate lowered to %.3g", epoch, run.schedule.current)
    run.schedule.apply(run.optimizer)


def _log_main(run: Run, message: str, *args, level: int = logging.INFO) -> None:
    """Log on rank 0 only: the other ranks take the same decisions on the same losses."""
    if run.world.is_main:
        logger.log(level, message, *args)


def _run_single_epoch(run: Run, progress: Progress, epoch: int) -> tuple[EpochReport, float]:
    """Train and validate one epoch, check divergence, and add the epoch to the history.

    Returns
    -------
    tuple
        (EpochReport, the monitored loss: validation's, or training's without validation).

    Raises
    ------
    TrainingDivergedError
        With the best weights so far restored.
    """
    started = time.perf_counter()
    train_sum, first_sum = run.train_epoch()
    trained = time.perf_counter()
    valid_sum = run.validate()
    validated_at = time.perf_counter()
    if run.world.size > 1:  # one collective per epoch: every rank sees the same losses
        train_sum, first_sum, valid_sum = LossSum.summed_over_ranks(
            [train_sum, first_sum, valid_sum], run.device
        )
    if epoch == 1:
        progress.reference_loss = first_sum.total / max(first_sum.samples, 1)
    train_loss = train_sum.total / max(train_sum.samples, 1)
    valid_loss = valid_sum.total / valid_sum.samples if valid_sum.samples else math.nan
    monitored = valid_loss if run.validated else train_loss
    diverged = progress.divergence(epoch, train_loss, monitored, run.config)
    if diverged is not None:
        _log_main(run, "%s", diverged)
        run.module.load_state_dict(progress.best_state)
        raise TrainingDivergedError(diverged)
    row = {
        "epoch": epoch,
        "train_loss": train_loss,
        "valid_loss": valid_loss,
        "seconds": time.perf_counter() - started,
    }
    progress.history.append(row)
    report = EpochReport(
        **row,
        train_seconds=trained - started,
        valid_seconds=validated_at - trained,
        train_samples=int(train_sum.samples),
        valid_samples=int(valid_sum.samples),
        learning_rate=float(run.optimizer.param_groups[0]["lr"]),
    )
    return report, monitored


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


def _module_device(module: nn.Module) -> torch.device:
    return next(iter(module.parameters()), torch.empty(0)).device
