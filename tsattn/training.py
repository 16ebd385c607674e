"""One training loop for every estimator: batching, early stopping, clipping, best weights.

The estimators give a :class:`BatchSource` for training (and one for validation) and a loss
function; everything else (the optimiser, the epoch loop, the progress bar, restoring the best
weights, surviving an interrupt) lives here once.
"""

from __future__ import annotations

import math
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import numpy as np
import torch
from torch import nn

DEVICES = ("auto", "cpu", "cuda")


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
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
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
    return resolved


def train(
    module: nn.Module,
    loss_fn: Callable[[nn.Module, dict[str, torch.Tensor]], torch.Tensor],
    train_data: BatchSource,
    valid_data: BatchSource | None,
    config: TrainingConfig,
    rng: np.random.Generator,
) -> list[dict]:
    """Train ``module`` in place and leave it with its best weights.

    Parameters
    ----------
    module : torch.nn.Module
        The model, already on its device.
    loss_fn : callable
        ``loss_fn(module, batch) -> scalar tensor``.
    train_data, valid_data : BatchSource
        Training samples, and validation samples (or None: the training loss then decides).
    config : TrainingConfig
        Epochs, batch size, learning rate, patience, clipping, verbosity.
    rng : numpy.random.Generator
        Shuffles the training samples every epoch.

    Returns
    -------
    list of dict
        One row per epoch: ``epoch``, ``train_loss``, ``valid_loss`` (NaN without validation),
        ``seconds``.

    Raises
    ------
    TrainingDivergedError
        When the loss turns NaN or infinite (the best weights so far are restored first).
    """
    from tqdm.auto import tqdm

    optimizer = torch.optim.Adam(module.parameters(), lr=config.learning_rate)
    history: list[dict] = []
    best_loss, best_state, stale = math.inf, _copy_state(module), 0
    epochs = tqdm(range(1, config.max_epochs + 1), disable=not config.verbose, unit="epoch")
    try:
        for epoch in epochs:
            started = time.perf_counter()
            train_loss = _run_epoch(module, loss_fn, train_data, config, optimizer, rng)
            valid_loss = evaluate(module, loss_fn, valid_data, config.batch_size)
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
                if patience is not None and stale >= patience:
                    break
    except KeyboardInterrupt:
        warnings.warn(
            f"training interrupted after {len(history)} epoch(s); keeping the best weights so far",
            RuntimeWarning,
            stacklevel=3,
        )
    finally:
        epochs.close()
    module.load_state_dict(best_state)
    module.eval()
    return history


def _run_epoch(module, loss_fn, data, config, optimizer, rng) -> float:
    module.train()
    wanted = max(len(data), config.min_batches_per_epoch * config.batch_size)
    repeats = -(-wanted // len(data))
    order = np.concatenate([rng.permutation(len(data)) for _ in range(repeats)])[:wanted]
    total, count = 0.0, 0
    for begin in range(0, len(order), config.batch_size):
        index = order[begin : begin + config.batch_size]
        loss = loss_fn(module, data.batch(index))
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        if config.gradient_clip is not None:
            nn.utils.clip_grad_norm_(module.parameters(), config.gradient_clip)
        optimizer.step()
        # One host sync per batch for the epoch's mean; .item() would be the same cost.
        total += float(loss.detach()) * len(index)
        count += len(index)
    return total / max(count, 1)


@torch.no_grad()
def evaluate(module, loss_fn, data: BatchSource | None, batch_size: int) -> float:
    """Mean loss over ``data`` in evaluation mode (NaN when there is no data)."""
    if data is None or len(data) == 0:
        return math.nan
    module.eval()
    total = 0.0
    for begin in range(0, len(data), batch_size):
        index = np.arange(begin, min(begin + batch_size, len(data)))
        total += float(loss_fn(module, data.batch(index))) * len(index)
    return total / len(data)


def _copy_state(module: nn.Module) -> dict[str, torch.Tensor]:
    return {name: tensor.detach().clone() for name, tensor in module.state_dict().items()}
