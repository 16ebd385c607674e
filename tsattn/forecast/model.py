"""The numeric side of the shared core, used by both the forecaster and the regressor.

What they share: checking the model's parameters, building the :class:`~tsattn.core.Seq2Seq`
from them, the loss on scaled targets, and the batched roll-out that feeds the model its own
outputs at prediction time.
"""

from __future__ import annotations

import numpy as np
import torch

from tsattn._validation import check_float, check_int, check_option
from tsattn.core.attention import ATTENTIONS
from tsattn.core.encoder import CELLS
from tsattn.core.seq2seq import CoreConfig, Seq2Seq
from tsattn.training import TrainingConfig

LOSSES = ("mae", "mse", "huber")


def check_model_params(est) -> None:
    """Validate the parameters every numeric estimator shares; raise before any training."""
    check_int("hidden_size", est.hidden_size)
    check_int("num_layers", est.num_layers)
    check_option("cell", est.cell, CELLS)
    if not isinstance(est.bidirectional, (bool, np.bool_)):
        raise TypeError(f"bidirectional must be True or False, got {est.bidirectional!r}")
    check_float("dropout", est.dropout, 0.0, 1.0)
    check_option("attention", est.attention, ATTENTIONS)
    check_option("loss", est.loss, LOSSES)
    check_int("max_epochs", est.max_epochs)
    check_int("batch_size", est.batch_size)
    check_float("learning_rate", est.learning_rate, 0.0, float("inf"), low_open=True)
    check_int("early_stopping_patience", est.early_stopping_patience, allow_none=True)
    check_float("validation_size", est.validation_size, 0.0, 1.0)


def build_core(est, source_features: int, target_features: int, output_size: int) -> Seq2Seq:
    """The torch module sized from the data and the estimator's parameters."""
    return Seq2Seq(
        CoreConfig(
            source_features=source_features,
            target_features=target_features,
            output_size=output_size,
            hidden_size=est.hidden_size,
            num_layers=est.num_layers,
            cell=est.cell,
            bidirectional=bool(est.bidirectional),
            dropout=float(est.dropout),
            attention=est.attention,
        )
    )


def training_config(est) -> TrainingConfig:
    """The training loop's settings from the estimator's parameters."""
    return TrainingConfig(
        max_epochs=est.max_epochs,
        batch_size=est.batch_size,
        learning_rate=est.learning_rate,
        early_stopping_patience=est.early_stopping_patience,
        verbose=bool(est.verbose),
    )


def make_loss(kind: str):
    """Loss on scaled targets, ignoring NaN targets (steps past a series' end).

    Parameters
    ----------
    kind : {"mae", "mse", "huber"}
        Point loss.

    Returns
    -------
    callable
        ``loss(module, batch) -> scalar``, as the training loop expects.
    """

    def loss(module: Seq2Seq, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        outputs, _ = module(batch["source"], batch["target_in"], batch.get("mask"))  # (B, H, 1)
        prediction, target = outputs[..., 0], batch["target"]  # (B, H)
        observed = ~torch.isnan(target)
        error = (prediction - torch.nan_to_num(target))[observed]
        if kind == "mae":
            return error.abs().mean()
        if kind == "mse":
            return (error**2).mean()
        return torch.nn.functional.huber_loss(error, torch.zeros_like(error))

    return loss


@torch.no_grad()
def roll_out(
    module: Seq2Seq, batch: dict[str, torch.Tensor], horizon: int, return_weights: bool = False
) -> tuple[torch.Tensor, torch.Tensor | None]:
    """Forecast ``horizon`` steps, feeding the model its own outputs; unscaled.

    Returns
    -------
    forecasts : torch.Tensor
        (B, horizon) in the data's own units.
    weights : torch.Tensor or None
        (B, horizon, input_size) attention weights when asked for.
    """
    module.eval()
    # The target is feature 0 of the source; any further features are covariates the decoder
    # does not read.
    start = batch["source"][:, -1:, :1]  # (B, 1, 1) the last observed (scaled) target value
    target_in = start.expand(-1, horizon, -1)  # (B, H, 1); only step 0 is read

    def feedback(previous: torch.Tensor, t: int) -> torch.Tensor:
        return previous[:, :1]  # (B, 1)

    outputs, weights = module(
        batch["source"], target_in, batch.get("mask"), feedback, return_weights
    )
    forecasts = outputs[..., 0] * batch["scale"] + batch["loc"]  # (B, H)
    if "level" in batch:  # scaler="log": undo log(1 + x / level)
        forecasts = batch["level"] * torch.expm1(forecasts)
    return forecasts, weights
