"""Learning-rate schedules of the training loop, one step per epoch.

A fit's learning rate is ``TrainingConfig.learning_rate`` throughout unless
``TrainingConfig.lr_schedule`` names a schedule (:data:`LR_SCHEDULES`):

- ``"cosine"``: cosine annealing over ``max_epochs``. Epoch ``e`` (1-based) trains at
  ``learning_rate * (1 + cos(pi * (e - 1) / max_epochs)) / 2``: the full rate at epoch 1, close
  to zero at the last. An early stop ends the fit wherever the curve is.
- ``"plateau"``: the rate is halved whenever the monitored loss (validation's, or training's
  without validation) has not improved for :func:`plateau_patience` epochs, and never goes
  below ``learning_rate / 1000``. Improvement is what early stopping counts as one (a loss
  strictly below the best so far), and the count restarts after each halving, so that with
  early stopping on, the rate is halved once or twice before training stops.

The schedule's state is small and JSON-ready (:meth:`LearningRateSchedule.state_dict`):
checkpoints (:mod:`tsattn.checkpoint`) save it with the epoch, so a resumed fit trains its
remaining epochs at the rates an uninterrupted fit would.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

__all__ = ["LR_SCHEDULES", "LearningRateSchedule", "make_schedule", "plateau_patience"]

LR_SCHEDULES = ("cosine", "plateau")
# "plateau": the rate is multiplied by this after a plateau, down to MIN_SCALE times the start.
PLATEAU_FACTOR = 0.5
MIN_SCALE = 1e-3
# Plateau patience without early stopping: half the default early_stopping_patience (10).
PLATEAU_PATIENCE_WITHOUT_EARLY_STOPPING = 5


def plateau_patience(early_stopping_patience: int | None) -> int:
    """Epochs without improvement before ``"plateau"`` halves the learning rate.

    Half the early-stopping patience (at least 1), so the rate drops before training stops;
    5 when early stopping is off.

    Parameters
    ----------
    early_stopping_patience : int or None

    Returns
    -------
    int
    """
    if early_stopping_patience is None:
        return PLATEAU_PATIENCE_WITHOUT_EARLY_STOPPING
    return max(1, early_stopping_patience // 2)


@dataclass
class LearningRateSchedule:
    """The learning rate of every epoch of a fit, and the state that decides it.

    Parameters
    ----------
    kind : {"cosine", "plateau"}
    learning_rate : float
        The rate of epoch 1.
    max_epochs : int
        The length of the cosine curve.
    patience : int
        ``"plateau"``'s epochs without improvement before halving.
    scale : float, default=1.0
        The current rate over ``learning_rate``.
    best : float, default=inf
        ``"plateau"``: the lowest monitored loss so far.
    stale : int, default=0
        ``"plateau"``: epochs since the last improvement or halving.
    """

    kind: str
    learning_rate: float
    max_epochs: int
    patience: int
    scale: float = 1.0
    best: float = math.inf
    stale: int = 0

    @property
    def current(self) -> float:
        """The learning rate of the next epoch."""
        return self.learning_rate * self.scale

    def step(self, epoch: int, monitored: float) -> bool:
        """Decide the rate of epoch ``epoch + 1`` after ``epoch`` ended with ``monitored``.

        Returns
        -------
        bool
            True when ``"plateau"`` lowered the rate (the loop notes it in the log).
        """
        if self.kind == "cosine":
            self.scale = (1.0 + math.cos(math.pi * epoch / self.max_epochs)) / 2.0
            return False
        if monitored < self.best:
            self.best, self.stale = monitored, 0
            return False
        self.stale += 1
        if self.stale < self.patience or self.scale <= MIN_SCALE:
            return False
        self.scale, self.stale = max(self.scale * PLATEAU_FACTOR, MIN_SCALE), 0
        return True

    def apply(self, optimizer: torch.optim.Optimizer) -> None:
        """Set the optimiser's learning rate to :attr:`current`."""
        for group in optimizer.param_groups:
            group["lr"] = self.current

    def state_dict(self) -> dict:
        """The state a checkpoint keeps (JSON-ready)."""
        return {"scale": self.scale, "best": self.best, "stale": self.stale}

    def load_state_dict(self, state: dict) -> None:
        """Take back a state from :meth:`state_dict`."""
        self.scale = float(state["scale"])
        self.best = float(state["best"])
        self.stale = int(state["stale"])


def make_schedule(config) -> LearningRateSchedule | None:
    """The schedule ``config.lr_schedule`` names, or None for a constant rate.

    Parameters
    ----------
    config : TrainingConfig

    Returns
    -------
    LearningRateSchedule or None

    Raises
    ------
    ValueError
        For a name other than those of :data:`LR_SCHEDULES` or None.
    """
    kind = getattr(config, "lr_schedule", None)
    if kind is None:
        return None
    if kind not in LR_SCHEDULES:
        raise ValueError(
            f"lr_schedule must be one of {', '.join(map(repr, LR_SCHEDULES))} or None, got {kind!r}"
        )
    return LearningRateSchedule(
        kind=kind,
        learning_rate=config.learning_rate,
        max_epochs=config.max_epochs,
        patience=plateau_patience(config.early_stopping_patience),
    )
