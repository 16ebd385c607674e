"""Count likelihoods: Poisson, negative binomial and Tweedie on the data's own scale.

With ``loss="poisson"``, ``"negbin"`` or ``"tweedie"`` the network's outputs are the parameters
of a distribution of every forecast value, and training minimises its negative log-likelihood.
Windows are scaled as for every loss (:mod:`~tsattn.forecast.windows.batches`); the first output,
taken back to the data's units as for the other losses (``x``, the forecast the MAE loss would
train), becomes a positive mean ``mean = s * softplus(x / s)`` with ``s`` a tenth of the
window's ``unit`` (its level with the log scaler, what "auto" picks for data that are never
negative; its scale with the others): about ``x`` wherever ``x`` is above a tenth of the level,
so training starts from the baseline forecast as the other losses do, and a small positive mean
where ``x`` is at or below 0.

The second output (negative binomial, Tweedie) is the dispersion: the negative binomial's
``alpha`` (variance ``mean + alpha * mean**2``) is ``softplus(o) / sqrt(unit)``, Tweedie's ``phi``
(variance ``phi * mean**1.5``) is ``softplus(o) * unit**0.5``, ``unit`` the window's level (log
scaler) or scale, as DeepAR scales them, so that one network serves series of every size. Each
window's negative log-likelihood is divided by its ``unit``, so large series do not drown small
ones. Tweedie's zero mass is exact; its density of positive values is Dunn and Smyth's
saddlepoint approximation. Quantiles are exact for Poisson and the negative binomial (scipy)
and drawn from 2,000 seeded samples of the compound Poisson-gamma for Tweedie.
"""

from __future__ import annotations

import math

import numpy as np
import torch

COUNT_LOSSES = ("poisson", "negbin", "tweedie")
TWEEDIE_POWER = 1.5
TWEEDIE_SAMPLES = 2000
# Where the log link's exponent is cut: exp(30) times the level is beyond any count.
MAX_LOG_MEAN = 30.0
MIN_MEAN = 1e-8
# The mean is softplus-smoothed over this share of the window's unit (see the module docstring).
SOFTNESS = 0.1


def output_width(kind: str) -> int:
    """Outputs per step of a distribution: the mean, and the dispersion where there is one."""
    return 1 if kind == "poisson" else 2


def parameters(
    outputs: torch.Tensor, batch: dict[str, torch.Tensor], kind: str
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Mean, dispersion and unit, each (B, H), from (B, H, O) scaled outputs (baseline added).

    The dispersion of a Poisson is 0. See the module docstring for the mappings.
    """
    loc, scale = batch["loc"], batch["scale"]  # (B, 1)
    first = outputs[..., 0] * scale + loc  # (B, H) unscaled but for the log
    if "level" in batch:
        unit = batch["level"]  # (B, 1)
        first = unit * torch.expm1(first.clamp(max=MAX_LOG_MEAN))
    else:
        unit = scale
    softness = SOFTNESS * unit
    mean = softness * torch.nn.functional.softplus(first / softness)
    mean = mean.clamp(min=MIN_MEAN)
    unit = unit.expand_as(mean)
    if kind == "poisson":
        return mean, torch.zeros_like(mean), unit
    raw = torch.nn.functional.softplus(outputs[..., 1]) + 1e-4  # (B, H)
    if kind == "negbin":
        return mean, raw / unit.sqrt(), unit
    return mean, raw * unit ** (2.0 - TWEEDIE_POWER), unit


def negative_log_likelihood(
    actual: torch.Tensor, mean: torch.Tensor, dispersion: torch.Tensor, kind: str
) -> torch.Tensor:
    """(B, H) negative log-likelihood of ``actual`` (>= 0, no NaN) under the distribution."""
    if kind == "poisson":
        return mean - actual * torch.log(mean) + torch.lgamma(actual + 1.0)
    if kind == "negbin":
        r = 1.0 / dispersion
        log_total = torch.log(r + mean)
        return -(
            torch.lgamma(actual + r)
            - torch.lgamma(r)
            - torch.lgamma(actual + 1.0)
            + r * (torch.log(r) - log_total)
            + actual * (torch.log(mean) - log_total)
        )
    p, phi = TWEEDIE_POWER, dispersion
    zero = mean ** (2.0 - p) / (phi * (2.0 - p))  # -log P(y = 0): the Poisson count of jumps
    y = actual.clamp(min=MIN_MEAN)
    deviance = 2.0 * (
        y ** (2.0 - p) / ((1.0 - p) * (2.0 - p))
        - y * mean ** (1.0 - p) / (1.0 - p)
        + mean ** (2.0 - p) / (2.0 - p)
    )
    positive = 0.5 * torch.log(2.0 * math.pi * phi * y**p) + deviance / (2.0 * phi)
    return torch.where(actual > 0, positive, zero)


def window_loss(
    outputs: torch.Tensor, batch: dict[str, torch.Tensor], actual: torch.Tensor, kind: str
) -> torch.Tensor:
    """(B, H) negative log-likelihood per unit of each window's level; NaN where ``actual`` is."""
    mean, dispersion, unit = parameters(outputs, batch, kind)
    return negative_log_likelihood(actual.clamp(min=0.0), mean, dispersion, kind) / unit


def quantiles(params: np.ndarray, kind: str, levels: list) -> np.ndarray:
    """(n, H, Q) quantiles at ``levels`` from (n, H, 2) means and dispersions."""
    from scipy import stats

    mean, dispersion = params[..., 0], params[..., 1]
    q = np.asarray(levels, dtype=np.float64)
    if kind == "poisson":
        return stats.poisson.ppf(q, mean[..., None]).astype(np.float64)
    if kind == "negbin":
        r = 1.0 / dispersion[..., None]
        return stats.nbinom.ppf(q, r, r / (r + mean[..., None])).astype(np.float64)
    draws = tweedie_samples(mean, dispersion, TWEEDIE_SAMPLES)  # (n, H, S)
    return np.moveaxis(np.quantile(draws, q, axis=-1), 0, -1)


def tweedie_samples(mean: np.ndarray, phi: np.ndarray, count: int, seed: int = 0) -> np.ndarray:
    """(…, count) draws of the compound Poisson-gamma with power 1.5, seeded."""
    p = TWEEDIE_POWER
    rng = np.random.default_rng(seed)
    rate = mean ** (2.0 - p) / (phi * (2.0 - p))  # Poisson mean of the number of jumps
    shape = (2.0 - p) / (p - 1.0)  # gamma shape of one jump
    jump_scale = phi * (p - 1.0) * mean ** (p - 1.0)
    jumps = rng.poisson(np.broadcast_to(rate[..., None], (*rate.shape, count)))
    sums = rng.gamma(np.maximum(jumps * shape, 1e-12)) * jump_scale[..., None]
    return np.where(jumps > 0, sums, 0.0)
