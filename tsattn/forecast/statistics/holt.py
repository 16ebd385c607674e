"""Holt's damped-trend method from every origin of every series, as :mod:`theta` does for Theta.

Damped Holt (Gardner & McKenzie, 1985) is exponential smoothing of a level and a trend whose
forecast flattens out:

    forecast(h) = level_T + (phi + phi^2 + ... + phi^h) * trend_T,

with one-step updates ``e = y - (l + phi * b)``, ``l <- l + phi * b + alpha * e``,
``b <- phi * b + beta * e``. It is the trend model ETS chooses most often on yearly and
non-seasonal data, where the Theta method's straight half-slope keeps rising: in the M3 and
M4 competitions the mean of the two forecasts is more accurate than either, since their
errors differ where trends bend.

As in :func:`tsattn.forecast.theta.theta_states`, a training window needs the forecast from
its own origin, so the method runs once over every series for a fixed grid of ``(alpha, beta,
phi)`` at once, and after every value keeps the combination with the smallest squared
one-step error so far. The initial level and trend are those that minimise that error: level,
trend and every error are linear in them, so running sums of the errors' coefficients give
the best initial state of every prefix in closed form (a 2 x 2 least-squares problem).
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

# The smoothing grid: level weights from slow to naive, trend weights as shares of the level
# weight (beta <= alpha, as ETS requires), damping in ETS's usual range [0.8, 0.98]. The first
# combination, the most conservative, is kept where the history cannot tell them apart.
_ALPHAS = (0.05, 0.1, 0.2, 0.3, 0.5, 0.7, 0.9, 1.0)
_BETA_SHARES = (0.01, 0.05, 0.2, 0.5)
_PHIS = (0.8, 0.9, 0.95, 0.98)
_GRID = np.meshgrid(np.array(_ALPHAS), np.array(_BETA_SHARES), np.array(_PHIS), indexing="ij")
ALPHAS = _GRID[0].ravel()  # (G,) level weights
BETAS = (_GRID[0] * _GRID[1]).ravel()  # (G,) trend weights
PHIS = _GRID[2].ravel()  # (G,) damping
# The initial trend is shrunk towards 0 by this share of the level's weight in the errors, so
# that one or two values (which any trend fits exactly) start flat instead of undetermined.
_TREND_RIDGE = 1e-6
# Series are smoothed in chunks of at most this many (series x time) cells and this many
# series: every step holds about twenty (series x grid) arrays.
_CHUNK_CELLS = 1 << 19
_CHUNK_SERIES = 2048
HOLT_STATE_SIZE = 3
# Blocks of at most this many series take the linear filters, larger ones the time steps:
# a step costs ~100 us of Python whatever the block's width, a filter pass ~10 us per series.
_FILTER_MAX_SERIES = 8


def holt_states(values: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    """Damped Holt's state after every value of every series.

    Parameters
    ----------
    values : numpy.ndarray
        (rows,) the panel's values, series after series; NaN is a missing value (skipped).
    offsets : numpy.ndarray
        (n_series + 1,) series boundaries.

    Returns
    -------
    numpy.ndarray
        (rows, 3) float32: level, trend and damping ``phi`` of the best grid combination after
        each row's value. A forecast from origin ``t`` reads row ``start + t - 1``.
    """
    return prefix_states(
        values, offsets, HOLT_STATE_SIZE, _block_states, _CHUNK_CELLS, _CHUNK_SERIES
    )


def _block_states(block: np.ndarray) -> np.ndarray:
    """:func:`holt_states` of a padded (n, T) block (NaN: missing or padding): (n, T, 3).

    A Python step over time costs the same whatever the number of series, so a block of many
    series runs one (:func:`_stepwise_block_states`), and one of a few long series (where
    those steps are most of the cost: 51,000 half-hours took 5.3 s) runs linear filters
    (:func:`_filtered_block_states`, 2.8 s there). Both give the same states.
    """
    if block.shape[0] <= _FILTER_MAX_SERIES:
        return _filtered_block_states(block)
    return _stepwise_block_states(block)


def _stepwise_block_states(block: np.ndarray) -> np.ndarray:
    """:func:`_block_states` one step at a time, every series and combination at once."""
    n, width = block.shape
    observed = ~np.isnan(block)  # (n, T)
    y = np.nan_to_num(block)  # (n, T)
    alpha, beta, phi = ALPHAS[None], BETAS[None], PHIS[None]  # (1, G) each
    shape = (n, len(ALPHAS))
    # Level and trend as (value with a zero initial state) + coefficients of (l0, b0).
    level, trend = np.zeros(shape), np.zeros(shape)  # (n, G)
    level_l0, level_b0 = np.ones(shape), np.zeros(shape)
    trend_l0, trend_b0 = np.zeros(shape), np.ones(shape)
    # Running sums of the errors r - c1 * l0 - c2 * b0: r r, r c1, r c2, c1 c1, c1 c2, c2 c2.
    s_rr, s_r1, s_r2, s_11, s_12, s_22 = (np.zeros(shape) for _ in range(6))
    out = np.zeros((n, width, HOLT_STATE_SIZE))
    rows = np.arange(n)
    for step in range(width):
        seen, value = observed[:, step][:, None], y[:, step][:, None]  # (n, 1) each
        r = value - (level + phi * trend)  # (n, G)
        c1, c2 = level_l0 + phi * trend_l0, level_b0 + phi * trend_b0  # (n, G) each
        s_rr = np.where(seen, s_rr + r * r, s_rr)
        s_r1 = np.where(seen, s_r1 + r * c1, s_r1)
        s_r2 = np.where(seen, s_r2 + r * c2, s_r2)
        s_11 = np.where(seen, s_11 + c1 * c1, s_11)
        s_12 = np.where(seen, s_12 + c1 * c2, s_12)
        s_22 = np.where(seen, s_22 + c2 * c2, s_22)
        level, trend = (
            np.where(seen, level + phi * trend + alpha * r, level),
            np.where(seen, phi * trend + beta * r, trend),
        )
        # e = r - c1 l0 - c2 b0, so the l0 and b0 coefficients move by -alpha c and -beta c.
        level_l0, level_b0, trend_l0, trend_b0 = (
            np.where(seen, (1 - alpha) * c1, level_l0),
            np.where(seen, (1 - alpha) * c2, level_b0),
            np.where(seen, phi * trend_l0 - beta * c1, trend_l0),
            np.where(seen, phi * trend_b0 - beta * c2, trend_b0),
        )
        # The best (l0, b0): solve [[s_11, s_12], [s_12, s_22 + ridge]] x = [s_r1, s_r2].
        d22 = s_22 + _TREND_RIDGE * s_11
        det = s_11 * d22 - s_12 * s_12
        ok = det > 0
        l0 = np.divide(d22 * s_r1 - s_12 * s_r2, det, out=np.zeros(shape), where=ok)
        b0 = np.divide(s_11 * s_r2 - s_12 * s_r1, det, out=np.zeros(shape), where=ok)
        error = s_rr - 2 * (l0 * s_r1 + b0 * s_r2) + l0 * l0 * s_11 + 2 * l0 * b0 * s_12
        error = error + b0 * b0 * s_22  # (n, G)
        # Errors within rounding of the best are ties, which go to the earliest combination.
        best = error.min(axis=1, keepdims=True)  # (n, 1)
        tolerance = 1e-9 * np.abs(s_rr).max(axis=1, keepdims=True)  # (n, 1)
        choice = np.argmax(error <= best + tolerance, axis=1)  # (n,)
        out[:, step, 0] = (level + level_l0 * l0 + level_b0 * b0)[rows, choice]
        out[:, step, 1] = (trend + trend_l0 * l0 + trend_b0 * b0)[rows, choice]
        out[:, step, 2] = PHIS[choice]
    return out


def _filtered_block_states(block: np.ndarray) -> np.ndarray:
    """:func:`_block_states` by linear filters over time, one grid combination at a time.

    Damped Holt is linear: with a zero initial state, its level and trend are the values
    passed through one second-order linear filter per grid combination (the transition
    matrix ``A`` below; one ``lfilter`` over time, no Python loop over the steps), and the
    initial state's share after ``k`` updates is ``A^k`` applied to it, the same for every
    series. Missing values change nothing, so the filters run over each row's observed values
    moved to the left, and the states are read back at every step from the last value seen.
    Two passes over the grid keep the tie rule (the earliest combination within rounding of
    the smallest error) without holding every combination's errors at once.
    """
    compact, seen = observed_to_left(block)  # (n, K), (n, T)
    smallest = np.full(compact.shape, np.inf)  # the best error of every prefix
    largest_rr = np.zeros(compact.shape)  # max over the grid of |S_rr|, the tie tolerance's unit
    for combination in range(len(ALPHAS)):
        error, s_rr, _, _ = _combination(compact, combination)
        smallest = np.minimum(smallest, error)
        largest_rr = np.maximum(largest_rr, np.abs(s_rr))
    limit = smallest + 1e-9 * largest_rr
    level, trend = np.zeros(compact.shape), np.zeros(compact.shape)
    phi = np.zeros(compact.shape)
    chosen = np.zeros(compact.shape, dtype=bool)
    for combination in range(len(ALPHAS)):
        error, _, best_level, best_trend = _combination(compact, combination)
        take = ~chosen & (error <= limit)
        level = np.where(take, best_level, level)
        trend = np.where(take, best_trend, trend)
        phi = np.where(take, PHIS[combination], phi)
        chosen |= take
    # Back on the time axis: before any value the state is zero with the first damping.
    return np.stack(
        [
            back_on_time_axis(level, seen, 0.0),
            back_on_time_axis(trend, seen, 0.0),
            back_on_time_axis(phi, seen, PHIS[0]),
        ],
        axis=-1,
    )


def _combination(compact: np.ndarray, combination: int):
    """One grid combination of damped Holt over (n, K) compacted values.

    Returns the squared one-step error of every prefix at its best initial state, the
    errors' S_rr (their sum from a zero initial state), and the level and trend after each
    value from that best initial state, each (n, K).
    """
    alpha, beta, phi = ALPHAS[combination], BETAS[combination], PHIS[combination]
    # The state (level, trend) after a value y: x' = A x + (alpha, beta) y.
    a11, a12, a21, a22 = 1 - alpha, (1 - alpha) * phi, -beta, phi * (1 - beta)
    trace, determinant = a11 + a22, a11 * a22 - a12 * a21
    denominator = [1.0, -trace, determinant]
    # Both filters share the denominator: filter once, then combine the input and its delay.
    filtered = lfilter([1.0], denominator, compact, axis=1)  # (n, K)
    delayed = np.zeros_like(filtered)
    delayed[:, 1:] = filtered[:, :-1]
    level0 = alpha * filtered + (a12 * beta - a22 * alpha) * delayed
    trend0 = beta * filtered + (a21 * alpha - a11 * beta) * delayed
    forecast = np.zeros_like(compact)
    forecast[:, 1:] = level0[:, :-1] + phi * trend0[:, :-1]
    r = compact - forecast  # (n, K) the one-step errors from a zero initial state
    # A^k entries for k = 0..K: each obeys u_k = tr u_{k-1} - det u_{k-2} (Cayley-Hamilton),
    # so each is u_0 h_k + (u_1 - tr u_0) h_(k-1) with h the filter's impulse response.
    steps = compact.shape[1] + 1
    impulse = np.zeros(steps)
    impulse[0] = 1.0
    response = lfilter([1.0], denominator, impulse)
    response_delayed = np.concatenate([[0.0], response[:-1]])

    def power(u0: float, u1: float) -> np.ndarray:
        return u0 * response + (u1 - trace * u0) * response_delayed

    p11, p12, p21, p22 = power(1, a11), power(0, a12), power(0, a21), power(1, a22)
    # The forecast of value k reads A^k x0: its l0 and b0 coefficients, (K,) each.
    c1 = p11[:-1] + phi * p21[:-1]
    c2 = p12[:-1] + phi * p22[:-1]
    s_rr = np.cumsum(r * r, axis=1)
    s_r1, s_r2 = np.cumsum(r * c1, axis=1), np.cumsum(r * c2, axis=1)
    s_11, s_12, s_22 = np.cumsum(c1 * c1), np.cumsum(c1 * c2), np.cumsum(c2 * c2)  # (K,) each
    # The best (l0, b0): solve [[s_11, s_12], [s_12, s_22 + ridge]] x = [s_r1, s_r2].
    d22 = s_22 + _TREND_RIDGE * s_11
    det = s_11 * d22 - s_12 * s_12
    ok = np.broadcast_to(det > 0, r.shape)
    l0 = np.divide(d22 * s_r1 - s_12 * s_r2, det, out=np.zeros_like(r), where=ok)
    b0 = np.divide(s_11 * s_r2 - s_12 * s_r1, det, out=np.zeros_like(r), where=ok)
    error = s_rr - 2 * (l0 * s_r1 + b0 * s_r2) + l0 * l0 * s_11 + 2 * l0 * b0 * s_12
    error = error + b0 * b0 * s_22
    # After value k the initial state's share is A^(k + 1) x0.
    level = level0 + p11[1:] * l0 + p12[1:] * b0
    trend = trend0 + p21[1:] * l0 + p22[1:] * b0
    return error, s_rr, level, trend


def holt_forecast(states: torch.Tensor, horizon: int) -> torch.Tensor:
    """Damped Holt forecasts of ``horizon`` steps from states read at each window's origin.

    Parameters
    ----------
    states : torch.Tensor
        (B, 3) rows of :func:`holt_states` (level, trend, phi).
    horizon : int
        Steps to forecast.

    Returns
    -------
    torch.Tensor
        (B, horizon) forecasts in the units of the values.
    """
    level, trend, phi = states.unbind(-1)  # (B,) each
    steps = torch.arange(1, horizon + 1, device=states.device, dtype=states.dtype)  # (H,)
    damping = torch.cumsum(phi[:, None] ** steps[None, :], dim=1)  # (B, H)
    return level[:, None] + trend[:, None] * damping  # (B, H)
