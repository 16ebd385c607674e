"""The decoder rolled out over the horizon, its loss on scaled targets, and unscaling.

Shared by the forecaster and the regressor: :func:`make_loss` is what the training loop
minimises, :func:`roll_out` what prediction runs (feeding the model its own outputs where the
decoder is recursive), :func:`unscale` takes scaled outputs back to the data's units.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

from tsattn.core.seq2seq import Seq2Seq
from tsattn.forecast import distributions


def make_loss(kind: str, quantiles: Sequence[float] | None = None, free_running: bool = False):
    """Loss on scaled targets, ignoring NaN targets (steps past a series' end, missing values).

    Parameters
    ----------
    kind : {"mae", "mse", "huber", "poisson", "negbin", "tweedie"}
        Point loss on scaled targets, or a count likelihood on the data's own scale
        (:mod:`~tsattn.forecast.distributions`).
    quantiles : sequence of float or None
        Sorted quantile levels, 0.5 among them: the model then has one output per level and
        the loss is the mean pinball loss of the monotone quantiles (``kind`` is not used).

    Returns
    -------
    callable
        ``loss(module, batch) -> scalar``, as the training loop expects.
    """
    levels = None if quantiles is None else torch.tensor(list(quantiles), dtype=torch.float32)
    median = None if quantiles is None else list(quantiles).index(0.5)
    on_device: dict[torch.device, torch.Tensor] = {}

    def loss(module: Seq2Seq, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        outputs, _ = decode(
            module, batch, batch["target_in"], median or 0, free_running=free_running
        )  # (B, H, O)
        target = batch["target"]  # (B, H)
        observed = ~torch.isnan(target)  # (B, H)
        # Masked sums over a count, not boolean indexing or `if observed.any()`: both read
        # the GPU's result back (a sync) every step. All targets missing gives a zero loss.
        count = observed.sum().clamp(min=1)
        target = torch.nan_to_num(target)
        if levels is not None:
            predicted = monotone_quantiles(outputs, median)  # (B, H, Q)
            diff = target[..., None] - predicted  # (B, H, Q)
            # Moved once and kept: a copy from host memory every step waits for the GPU.
            q = on_device.get(diff.device)
            if q is None:
                q = on_device[diff.device] = levels.to(diff.device)  # (Q,)
            pinball = torch.maximum(q * diff, (q - 1) * diff).mean(-1)  # (B, H)
            return torch.where(observed, pinball, 0.0).sum() / count
        if kind in distributions.COUNT_LOSSES:
            actual = unscale(target, batch)  # (B, H) the counts, as the data hold them
            nll = distributions.window_loss(outputs, batch, actual, kind)  # (B, H)
            return torch.where(observed, nll, 0.0).sum() / count
        error = torch.where(observed, outputs[..., 0] - target, 0.0)  # (B, H)
        if kind == "mae":
            return error.abs().sum() / count
        if kind == "mse":
            return error.square().sum() / count
        huber = torch.nn.functional.huber_loss(error, torch.zeros_like(error), reduction="sum")
        return huber / count

    return loss


def decode(
    module: Seq2Seq,
    batch: dict[str, torch.Tensor],
    target_in: torch.Tensor,
    median: int = 0,
    free_running: bool = False,
    return_weights: bool = False,
) -> tuple[torch.Tensor, torch.Tensor | None]:
    """Scaled outputs of every decoder step, the baseline (if any) added.

    Parameters
    ----------
    module : Seq2Seq
        The model.
    batch : dict
        From a batch source; ``future`` and ``base`` are read when present.
    target_in : torch.Tensor
        (B, H, F_dec) decoder inputs, feature 0 the previous target; with ``free_running``
        only step 0 is read, and with the direct decoder feature 0 of step 0 stands for all
        steps.
    median : int
        The output column that is the point forecast (fed back, and shifted by the baseline).
    free_running : bool
        Feed every step the model's own previous point forecast, as at prediction time,
        instead of the true previous value (teacher forcing).
    return_weights : bool
        Also return the attention weights.

    Returns
    -------
    outputs : torch.Tensor
        (B, H, O).
    weights : torch.Tensor or None
        (B, H, S) when asked for and attention is on.
    """
    base, future = batch.get("base"), batch.get("future")
    core = getattr(module, "module", module)  # the Seq2Seq inside a DistributedDataParallel
    if core.direct:
        # The direct decoder reads every step's input at once, so none may hold a target the
        # forecast would not know: the value slot keeps the last observed value throughout.
        start = target_in[:, :1, :1].expand(-1, target_in.shape[1], -1)  # (B, H, 1)
        target_in = torch.cat([start, target_in[..., 1:]], dim=-1)
    feedback = None
    if free_running:

        def feedback(previous: torch.Tensor, t: int) -> torch.Tensor:
            value = previous[:, median : median + 1]  # (B, 1) the point forecast of step t - 1
            if base is not None:  # the network's output is a correction of the baseline
                value = value + base[:, t - 1 : t]
            return value if future is None else torch.cat([value, future[:, t]], dim=-1)

    outputs, weights = module(
        batch["source"], target_in, batch.get("mask"), feedback, return_weights
    )
    return add_base(outputs, batch, median), weights


def add_base(outputs: torch.Tensor, batch: dict[str, torch.Tensor], column: int) -> torch.Tensor:
    """Add the batch's scaled baseline forecast, if any, to the point (median) output.

    With a baseline the network's outputs are corrections to it; the quantile increments
    around the median stay as they are.

    Parameters
    ----------
    outputs : torch.Tensor
        (B, T, O) raw outputs.
    batch : dict
        A batch; ``base`` (B, H) with ``H >= T`` when there is a baseline.
    column : int
        The output that is the point forecast.

    Returns
    -------
    torch.Tensor
        (B, T, O).
    """
    base = batch.get("base")
    if base is None:
        return outputs
    if outputs.shape[-1] == 1:
        return outputs + base[:, : outputs.shape[1], None]
    shift = torch.zeros_like(outputs)  # (B, T, O)
    shift[..., column] = base[:, : outputs.shape[1]]
    return outputs + shift


def monotone_quantiles(raw: torch.Tensor, median: int) -> torch.Tensor:
    """Quantiles that never cross: the median output plus (minus) softplus increments.

    Parameters
    ----------
    raw : torch.Tensor
        (..., Q) head outputs.
    median : int
        Position of the 0.5 level among the Q sorted levels.

    Returns
    -------
    torch.Tensor
        (..., Q), increasing along the last axis (strictly, but for float rounding).
    """
    centre = raw[..., median : median + 1]  # (..., 1)
    above = centre + torch.nn.functional.softplus(raw[..., median + 1 :]).cumsum(-1)
    below = centre - torch.nn.functional.softplus(raw[..., :median]).flip(-1).cumsum(-1).flip(-1)
    return torch.cat([below, centre, above], dim=-1)  # (..., Q)


def unscale(values: torch.Tensor, batch: dict[str, torch.Tensor]) -> torch.Tensor:
    """Scaled values, (B, H) or (B, H, Q), back in the data's units."""
    loc, scale = batch["loc"], batch["scale"]  # (B, 1)
    if values.ndim == 3:
        loc, scale = loc[..., None], scale[..., None]  # (B, 1, 1)
    values = values * scale + loc
    if "level" in batch:  # scaler="log": undo log(1 + x / level)
        level = batch["level"] if values.ndim == 2 else batch["level"][..., None]
        values = level * torch.expm1(values)
    return values


@torch.no_grad()
def roll_out(
    module: Seq2Seq,
    batch: dict[str, torch.Tensor],
    horizon: int,
    return_weights: bool = False,
    quantiles: Sequence[float] | None = None,
    distribution: str | None = None,
) -> tuple[torch.Tensor, torch.Tensor | None]:
    """Forecast ``horizon`` steps, feeding the model its own outputs; unscaled.

    Parameters
    ----------
    module : Seq2Seq
        The trained model.
    batch : dict
        From a batch source; ``future`` (B, H, F) holds the decoder's inputs besides the
        target (known covariates, static features) when the model reads any.
    horizon : int
        Steps to forecast.
    return_weights : bool
        Also return the attention weights.
    quantiles : sequence of float or None
        The model's sorted quantile levels (0.5 among them); its median is fed back.
    distribution : {"poisson", "negbin", "tweedie"} or None
        The count likelihood the model was trained on: its parameters are returned.

    Returns
    -------
    forecasts : torch.Tensor
        (B, horizon) in the data's own units, (B, horizon, Q) with quantiles, or
        (B, horizon, 2) means and dispersions with a distribution.
    weights : torch.Tensor or None
        (B, horizon, input_size) attention weights when asked for.
    """
    module.eval()
    # The target is feature 0 of the source; further features are covariates the decoder
    # reads from ``future`` instead.
    start = batch["source"][:, -1:, :1]  # (B, 1, 1) the last observed (scaled) target value
    target_in = start.expand(-1, horizon, -1)  # (B, H, 1); only step 0 is read
    future = batch.get("future")
    if future is not None:
        target_in = torch.cat([target_in, future[:, :horizon]], dim=-1)  # (B, H, 1 + F)
    median = 0 if quantiles is None else list(quantiles).index(0.5)
    outputs, weights = decode(module, batch, target_in, median, True, return_weights)
    if distribution is not None:
        mean, dispersion, _ = distributions.parameters(outputs, batch, distribution)
        return torch.stack([mean, dispersion], dim=-1), weights  # (B, H, 2)
    if quantiles is None:
        return unscale(outputs[..., 0], batch), weights  # (B, H)
    return unscale(monotone_quantiles(outputs, median), batch), weights  # (B, H, Q)
