"""Where a fit stands after each epoch, and the loop's three decisions about it.

:class:`Progress` is what the training loop (:mod:`tsattn.training`) carries from epoch to
epoch and what a checkpoint (:mod:`tsattn.checkpoint`) saves: the history, the best monitored
loss and its weights, the epochs since it improved, whether the fit has ended, and the
untrained model's loss that divergence is measured against. Its methods make the decisions
taken after every epoch: has the loss diverged (:meth:`Progress.divergence`), and, once the
epoch is kept, has it improved and must training stop (:meth:`Progress.record`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import nn

__all__ = ["Progress", "copy_state"]

# An epoch resets the early-stopping patience only where its validation loss is below that of
# the epoch that last reset it by this share of it: smaller gains are within the epoch-to-epoch
# noise of a validation loss, and on long histories they kept fits running for 30-70 epochs for
# no measurable accuracy (issue 23, benchmarks/README.md). A training loss (no validation
# windows) falls steadily by small steps that do count (M3 monthly cut to 30 values: sMAPE
# 14.76 against 15.22 with the share), so any gain resets it. The best weights are those of
# the lowest loss, however small the gain.
MIN_GAIN = 0.005
# No early stop before this many times the patience: a barely trained model's flat forecast
# can score a validation low that takes many epochs to beat (seen on AirPassengers and M3).
# One patience instead saved a third of the time on small panels but stopped M3 monthly
# before the network beat its baseline (sMAPE 13.694 -> 13.738 over 3 seeds; issue 23).
MIN_EPOCHS_IN_PATIENCES = 2


@dataclass
class Progress:
    """Where training stands after an epoch: what a checkpoint keeps besides the generators.

    Attributes
    ----------
    history : list of dict
        One row per finished epoch (see :func:`tsattn.training.train`).
    best_loss : float
        The lowest monitored loss so far (``inf`` before the first epoch).
    best_state : dict of str to torch.Tensor
        The module's weights at that epoch.
    stale : int
        Epochs since the last improvement by :data:`MIN_GAIN` or more.
    finished : bool
        True once training ended (early stopping or the last epoch).
    reference_loss : float
        The loss of the first training batch, before any step: the yardstick of divergence.
    """

    history: list[dict]
    best_loss: float
    best_state: dict[str, torch.Tensor]
    stale: int = 0
    finished: bool = False
    reference_loss: float = float("nan")

    @classmethod
    def start(cls, module: nn.Module) -> Progress:
        """The progress of a fit before its first epoch: the module's weights are the best."""
        return cls(history=[], best_loss=math.inf, best_state=copy_state(module))

    def divergence(self, epoch: int, train_loss: float, monitored: float, config) -> str | None:
        """Why this epoch's losses count as diverged, in words; None when they do not.

        A loss diverges when it is NaN or infinite, or above ``config.divergence_factor``
        times :attr:`reference_loss`. The sentence names the best epoch so far, whose weights
        the caller is to restore.
        """
        losses = {"training": train_loss, "validation": monitored}
        bad = next(((name, loss) for name, loss in losses.items() if not math.isfinite(loss)), None)
        factor, reference = config.divergence_factor, self.reference_loss
        if bad is None and factor is not None and reference > 0:
            bad = next(
                ((name, loss) for name, loss in losses.items() if loss > factor * reference), None
            )
        if bad is None:
            return None
        name, loss = bad
        if math.isfinite(loss):
            what = (
                f"the {name} loss rose to {loss:.3g} at epoch {epoch}, over {factor:g} times the "
                f"untrained model's {reference:.3g}"
            )
        else:
            what = f"the loss became {loss} at epoch {epoch}"
        best = self.best_epoch()
        kept = (
            f"the module is left with the weights of epoch {best}, the best before"
            if best is not None
            else "no epoch ended well, so the module is left with its initial, untrained weights"
        )
        return (
            f"training diverged: {what}; {kept}. Likely causes: a learning rate too high (now "
            f"{config.learning_rate}), or extreme values in the data (try scaler='standard')"
        )

    def record(self, module: nn.Module, epoch: int, monitored: float, config) -> bool:
        """Keep the module's weights if ``monitored`` improved; True when training must stop.

        Also sets :attr:`finished` (an early stop or ``config.max_epochs`` reached).
        """
        reference = self._patience_reference()
        if monitored < self.best_loss:
            self.best_loss, self.best_state = monitored, copy_state(module)
        validated = bool(self.history) and math.isfinite(self.history[-1]["valid_loss"])
        gain = MIN_GAIN * abs(reference) if validated else 0.0
        if not math.isfinite(reference) or monitored < reference - gain:
            self.stale = 0
        else:
            self.stale += 1
        patience = config.early_stopping_patience
        stop = (
            patience is not None
            and self.stale >= patience
            and epoch >= MIN_EPOCHS_IN_PATIENCES * patience
        )
        self.finished = stop or epoch == config.max_epochs
        return stop

    def _patience_reference(self) -> float:
        """The monitored loss of the epoch that last reset the patience (``inf``: none yet)."""
        before = self.history[:-1]  # the epochs before the one being recorded
        if not before or self.stale >= len(before):
            return math.inf
        row = before[len(before) - 1 - self.stale]
        return row["valid_loss"] if math.isfinite(row["valid_loss"]) else row["train_loss"]

    def best_epoch(self) -> int | None:
        """The epoch whose weights :attr:`best_state` holds (None before any epoch ended)."""
        for row in self.history:
            monitored = row["valid_loss"] if math.isfinite(row["valid_loss"]) else row["train_loss"]
            if monitored == self.best_loss:
                return row["epoch"]
        return None


def copy_state(module: nn.Module) -> dict[str, torch.Tensor]:
    """A detached copy of the module's weights, on their device."""
    return {name: tensor.detach().clone() for name, tensor in module.state_dict().items()}
