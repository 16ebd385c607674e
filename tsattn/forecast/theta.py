"""The Theta method's forecast from every origin of every series, for the network to correct.

The M4 winner (ES-RNN) let a neural network learn on top of a statistical model. Here the
statistical model is the Theta method (Assimakopoulos & Nikolopoulos, 2000; the M3 winner), in
the form of Hyndman & Billah (2003) that statsmodels' ``ThetaModel`` uses: simple exponential
smoothing (SES) plus half the slope of a linear trend,

    forecast(h) = level_T + b0 / 2 * (h - 1 + (1 - (1 - alpha)^T) / alpha),

with ``b0`` the least-squares slope over the ``T`` values seen and ``alpha`` the SES weight
that minimises the one-step squared error so far. The seasonal adjustment happens before (the
forecaster divides by seasonal indices), as in the original method.

A training window needs the forecast from its own origin, from all the history before it, so
the statistics are computed once for every prefix of every series: running sums give the
slope; SES runs over a grid of weights at once, keeping each weight's running error. The result
is three numbers per panel value (level, weight, slope), not a forecast per window.
"""

from __future__ import annotations

import numpy as np
import torch

# SES weights tried; statsmodels estimates alpha by maximum likelihood, a grid this fine
# changes the forecasts by far less than the forecast errors.
ALPHAS = np.linspace(0.05, 1.0, 20)
# Series are smoothed in chunks of this many (series x time) cells, to bound the memory.
_CHUNK_CELLS = 1 << 21


def theta_states(values: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    """The Theta method's state after every value of every series.

    Parameters
    ----------
    values : numpy.ndarray
        (rows,) the panel's values, series after series; NaN is a missing value (skipped).
    offsets : numpy.ndarray
        (n_series + 1,) series boundaries.

    Returns
    -------
    numpy.ndarray
        (rows, 4) float32: SES level, SES weight ``alpha``, trend slope ``b0`` and the number
        of values seen, after each row's value. A forecast from origin ``t`` (the first value
        not seen) reads row ``start + t - 1``.
    """
    values = np.asarray(values, dtype=np.float64)
    offsets = np.asarray(offsets, dtype=np.int64)
    lengths = np.diff(offsets)
    states = np.zeros((len(values), 4), dtype=np.float32)
    if len(values) == 0:
        return states
    order = np.argsort(lengths, kind="stable")  # similar lengths share a padded chunk
    begin = 0
    while begin < len(order):
        end = begin + 1
        # grow the chunk while the padded (series x longest length) block stays small
        while end < len(order) and (end - begin + 1) * int(lengths[order[end]]) <= _CHUNK_CELLS:
            end += 1
        chunk = order[begin:end]
        width = int(lengths[chunk].max())
        block = np.full((len(chunk), width), np.nan)  # (n, T) padded with NaN
        rows = offsets[chunk][:, None] + np.arange(width)  # (n, T)
        inside = np.arange(width) < lengths[chunk][:, None]  # (n, T)
        block[inside] = values[rows[inside]]
        states[rows[inside]] = _block_states(block)[inside]
        begin = end
    return states


def _block_states(block: np.ndarray) -> np.ndarray:
    """:func:`theta_states` of a padded (n, T) block (NaN: missing or padding): (n, T, 4)."""
    n, width = block.shape
    observed = ~np.isnan(block)  # (n, T)
    y = np.nan_to_num(block)  # (n, T)
    # Least-squares slope of y on its time index over the observed values of each prefix.
    t = np.arange(width, dtype=np.float64)[None, :]  # (1, T)
    w = observed.astype(np.float64)
    count = np.cumsum(w, axis=1)  # (n, T)
    sum_t, sum_y = np.cumsum(w * t, axis=1), np.cumsum(y, axis=1)
    sum_tt, sum_ty = np.cumsum(w * t * t, axis=1), np.cumsum(t * y, axis=1)
    denominator = count * sum_tt - sum_t**2
    slope = np.divide(
        count * sum_ty - sum_t * sum_y,
        denominator,
        out=np.zeros_like(denominator),
        where=denominator > 1e-12,
    )
    # SES for every weight at once; the first observed value starts the level.
    alphas = ALPHAS[None, :]  # (1, A)
    level = np.zeros((n, len(ALPHAS)))  # (n, A)
    error = np.zeros((n, len(ALPHAS)))  # (n, A) running one-step squared error
    started = np.zeros(n, dtype=bool)
    best_level = np.zeros((n, width))
    best_alpha = np.ones((n, width))
    for step in range(width):
        seen, value = observed[:, step], y[:, step][:, None]  # (n,), (n, 1)
        update = seen & started
        miss = value - level  # (n, A)
        error = np.where(update[:, None], error + miss**2, error)
        level = np.where(update[:, None], level + alphas * miss, level)
        first = seen & ~started
        level = np.where(first[:, None], value, level)
        started |= seen
        choice = np.argmin(error, axis=1)  # (n,) ties (no error yet): the smallest weight
        best_level[:, step] = level[np.arange(n), choice]
        best_alpha[:, step] = ALPHAS[choice]
    return np.stack([best_level, best_alpha, slope, count], axis=-1).astype(np.float32)


def theta_forecast(states: torch.Tensor, horizon: int) -> torch.Tensor:
    """The Theta forecasts of ``horizon`` steps from states read at each window's origin.

    Parameters
    ----------
    states : torch.Tensor
        (B, 4) rows of :func:`theta_states` (level, alpha, slope, count).
    horizon : int
        Steps to forecast.

    Returns
    -------
    torch.Tensor
        (B, horizon) forecasts in the units of the values.
    """
    level, alpha, slope, count = states.unbind(-1)  # (B,) each
    steps = torch.arange(horizon, device=states.device, dtype=states.dtype)  # (H,) = h - 1
    drift = (1 - (1 - alpha) ** count) / alpha  # (B,)
    return level[:, None] + 0.5 * slope[:, None] * (steps[None, :] + drift[:, None])  # (B, H)
