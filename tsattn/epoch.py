"""One epoch of a fit: its order of samples, its training steps and its validation loss.

The training loop (:mod:`tsattn.training`) builds one :class:`Run` per fit and asks it, every
epoch, for :meth:`Run.train_epoch` (optimiser steps over a fresh shuffle, each one
:meth:`Run.train_step`) and :meth:`Run.validate` (the loss in evaluation mode). Losses come
back as :class:`LossSum` records, sums over samples that the processes of a distributed fit
add up in one collective.

In distributed training every rank draws the same order and takes its strided part of each
batch (:func:`tsattn.distributed.shard`), and validation batch ``k`` is evaluated by rank
``k % size``, so the ranks' sums add up to a single process' sums over the same batches.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
import torch
from torch import nn

from tsattn import distributed
from tsattn.distributed import World
from tsattn.schedules import LearningRateSchedule

__all__ = [
    "ALONE",
    "VALID_BATCHES_PER_BATCH",
    "BatchSource",
    "LossSum",
    "Run",
    "capped_validation",
    "epoch_order",
    "loss_sum",
    "mean_loss",
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


@dataclass
class LossSum:
    """A sum of sample losses and the number of samples in it.

    ``samples`` is an int on one process, a float once summed over the ranks.
    """

    total: float = 0.0
    samples: float = 0

    @staticmethod
    def summed_over_ranks(sums: list[LossSum], device: torch.device) -> list[LossSum]:
        """Each record summed over all ranks, in one collective."""
        values = distributed.all_reduce_sum([x for s in sums for x in (s.total, s.samples)], device)
        return [LossSum(*values[i : i + 2]) for i in range(0, len(values), 2)]


@dataclass
class Run:
    """What every epoch of one fit works with.

    Attributes
    ----------
    module : torch.nn.Module
        The plain module: validated, and whose weights are kept.
    stepped : torch.nn.Module or None
        What the training steps call: the DistributedDataParallel wrapper in distributed
        training (its backward averages the gradients), else ``module``; None once the fit
        is over.
    loss_fn : callable
        ``loss_fn(module, batch) -> scalar tensor``.
    train_data, valid_data : BatchSource
        ``valid_data`` already capped (see :func:`capped_validation`), or None.
    config : TrainingConfig
    optimizer : torch.optim.Optimizer
    rng : numpy.random.Generator
        Shuffles the training samples every epoch.
    world : World
    device : torch.device
    schedule : LearningRateSchedule or None, default=None
        Sets the learning rate after every epoch (:mod:`tsattn.schedules`); None keeps it.
    """

    module: nn.Module
    stepped: nn.Module | None
    loss_fn: Callable[[nn.Module, dict[str, torch.Tensor]], torch.Tensor]
    train_data: BatchSource
    valid_data: BatchSource | None
    config: Any
    optimizer: torch.optim.Optimizer
    rng: np.random.Generator
    world: World
    device: torch.device
    schedule: LearningRateSchedule | None = None

    @property
    def validated(self) -> bool:
        """Whether there are validation samples (else the training loss is monitored)."""
        return self.valid_data is not None and len(self.valid_data) > 0

    def train_epoch(self) -> tuple[LossSum, LossSum]:
        """One epoch of optimiser steps on this rank.

        Returns
        -------
        tuple of LossSum
            The epoch's losses, and its first batch's alone: the first batch's loss is taken
            before its step, so epoch 1's is the untrained model's.
        """
        self.stepped.train()
        batch_size, order = epoch_order(len(self.train_data), self.config, self.rng, self.world)
        total, count = torch.zeros((), device=self.device), 0
        first, first_count = None, 0
        weight = 1.0
        for begin in range(0, len(order), batch_size):
            index = order[begin : begin + batch_size]
            if self.world.size > 1:
                # Only the epoch's last batch can be this short: dropped (at most size - 1
                # samples), as every rank needs a part to take part in the gradient average.
                if len(index) < self.world.size:
                    break
                index, weight = distributed.shard(index, self.world)
            loss = self.train_step(index, weight)
            # Summed on the device: reading the loss every step would wait for the GPU each time.
            total += loss.detach() * len(index)
            count += len(index)
            if first is None:
                first, first_count = total.clone(), count
        return LossSum(float(total), count), LossSum(
            0.0 if first is None else float(first), first_count
        )

    def train_step(self, index: np.ndarray, weight: float = 1.0) -> torch.Tensor:
        """One optimiser step on the training samples at ``index``; their loss before it.

        ``weight`` scales the loss of a rank's part of a batch (see
        :func:`tsattn.distributed.shard`).
        """
        loss = self.loss_fn(self.stepped, self.train_data.batch(index))
        self.optimizer.zero_grad(set_to_none=True)
        (loss if weight == 1.0 else loss * weight).backward()
        if self.config.gradient_clip is not None:
            nn.utils.clip_grad_norm_(self.stepped.parameters(), self.config.gradient_clip)
        self.optimizer.step()
        return loss

    def validate(self) -> LossSum:
        """The validation loss of this rank's share of the batches."""
        return loss_sum(
            self.module, self.loss_fn, self.valid_data, self.config.batch_size, self.world
        )


def epoch_order(n: int, config, rng: np.random.Generator, world: World) -> tuple[int, np.ndarray]:
    """The batch size and the order of the samples an epoch steps through.

    An epoch is ``min_batches_per_epoch`` batches at least (repeated shuffles of the ``n``
    samples) and ``max_batches_per_epoch`` at most.
    """
    # A batch larger than the data is the data: bounding it by the data keeps a huge batch_size
    # from sizing the epoch's index arrays (min_batches_per_epoch * batch_size indices).
    batch_size = min(config.batch_size, max(n, world.size))
    wanted = max(n, config.min_batches_per_epoch * batch_size)
    if config.max_batches_per_epoch is not None:
        wanted = min(wanted, config.max_batches_per_epoch * batch_size)
    repeats = -(-wanted // n)
    return batch_size, np.concatenate([rng.permutation(n) for _ in range(repeats)])[:wanted]


@torch.no_grad()
def mean_loss(module, loss_fn, data: BatchSource | None, batch_size: int) -> float:
    """Mean loss over ``data`` in evaluation mode.

    Parameters
    ----------
    module : torch.nn.Module
    loss_fn : callable
        ``loss_fn(module, batch) -> scalar tensor``, as for :func:`tsattn.training.train`.
    data : BatchSource or None
    batch_size : int

    Returns
    -------
    float
        The mean over samples of the batches' losses; NaN when there is no data.
    """
    summed = loss_sum(module, loss_fn, data, batch_size)
    return summed.total / summed.samples if summed.samples else math.nan


@torch.no_grad()
def loss_sum(module, loss_fn, data, batch_size: int, world: World = ALONE) -> LossSum:
    """The losses of this rank's batches of ``data``, in evaluation mode.

    Batch ``k`` is evaluated by rank ``k % size``: the ranks' sums add up to the single
    process' sum over the very same batches.
    """
    module.eval()
    if data is None or len(data) == 0:
        return LossSum(0.0, 0)
    total, count = 0.0, 0
    for begin in range(world.rank * batch_size, len(data), world.size * batch_size):
        index = np.arange(begin, min(begin + batch_size, len(data)))
        total += float(loss_fn(module, data.batch(index))) * len(index)
        count += len(index)
    return LossSum(total, count)


def capped_validation(data: BatchSource | None, config) -> BatchSource | None:
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
