"""The Theta method's forecast from every origin of every series, for the network to correct.

The M4 winner (ES-RNN) let a neural network learn on top of a statistical model. Here the
statistical model is the Theta method (Assimakopoulos & Nikolopoulos, 2000; the M3 winner), in
the form of Hyndman & Billah (2003) that statsmodels' ``ThetaModel`` uses: simple exponential
smoothing (SES) plus half the slope of a linear trend,

    forecast(h) = level_T + b0 / 2 * (h - 1 + (1 - (1 - alpha)^T) / alpha),

with ``b0`` the least-squares slope over the ``T`` values seen, and the SES weight ``alpha``
and initial level those that minimise the one-step squared errors so far. The seasonal
adjustment happens before (the forecaster divides by seasonal indices), as in the original
method.

A training window needs the forecast from its own origin, from all the history before it, so
the statistics are computed once for every prefix of every series: running sums give the
slope; SES runs as one linear filter over time for each weight of a grid, with each weight's
running error from cumulative sums, so no step of the history is a Python loop. The result
is four numbers per panel value (level, weight, slope, count), not a forecast per window.
"""

from __future__ import annotations

import numpy as np
import torch
from scipy.signal import lfilter

from tsattn.forecast.statistics.series_blocks import (
    back_on_time_axis,
    observed_to_left,
    prefix_states,
)

# SES weights tried (finer where series are smooth): a grid of 28 values changes the forecasts
# by far less than their errors, and is evaluated for every window in one vectorised pass where
# a continuous optimiser would run per window. benchmarks/README.md compares it with statsmodels.
ALPHAS = np.concatenate([np.arange(1, 10) / 100, np.arange(10, 101, 5) / 100])
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
    return prefix_states(values, offsets, 4, _block_states, _CHUNK_CELLS)


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
    # SES for every weight, with the initial level that minimises the squared one-step errors
    # (as forecast::thetaf and statsforecast estimate it): the level and every error are linear
    # in the initial level l0, so the errors are tracked as r - c * l0 (r: the error with l0 = 0;
    # c = (1 - alpha)^k, what is left of l0 after k updates) and the best l0 of every prefix
    # comes from three running sums, S_rc / S_cc, with error S_rr - S_rc^2 / S_cc. Missing
    # values change nothing, so the recursion runs over each row's observed values only (moved
    # to the left), as one linear filter over time per weight, and the states are read back at
    # every step from the last observed value before it.
    compact, seen = observed_to_left(block)  # (n, K), (n, T)
    k = np.arange(compact.shape[1], dtype=np.float64)  # (K,)
    best_error = np.full(compact.shape, np.inf)
    best_level = np.zeros(compact.shape)
    best_alpha = np.full(compact.shape, ALPHAS[0])
    # Ascending weights and a strict comparison: ties (too few values to tell weights apart) go
    # to the smallest weight.
    for alpha in ALPHAS:
        level0 = lfilter([alpha], [1.0, alpha - 1.0], compact, axis=1)  # (n, K) level if l0 = 0
        r = compact - np.concatenate([np.zeros((n, 1)), level0[:, :-1]], axis=1)
        left = (1 - alpha) ** k  # (K,) the coefficient of l0 before each update
        s_rc = np.cumsum(r * left, axis=1)
        s_cc = np.cumsum(left * left)  # (K,) at least 1
        start = s_rc / s_cc  # (n, K) best l0
        error = np.cumsum(r * r, axis=1) - s_rc * start
        better = error < best_error
        best_error = np.where(better, error, best_error)
        best_level = np.where(better, level0 + left * (1 - alpha) * start, best_level)
        best_alpha = np.where(better, alpha, best_alpha)
    # Back on the time axis: before any value the level is 0 and the weight the smallest.
    level = back_on_time_axis(best_level, seen, 0.0)
    alpha = back_on_time_axis(best_alpha, seen, ALPHAS[0])
    return np.stack([level, alpha, slope, count], axis=-1).astype(np.float32)


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
