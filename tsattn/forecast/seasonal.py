"""Multiplicative seasonal adjustment per series, as the M3 winner (Theta) and ES-RNN did.

The network then learns level and trend from deseasonalised values, and the forecasts are
reseasonalised with each series' own indices. Phases are counted back from each series' end, so
the indices need no calendar: step ``j`` (0-based) after the end has phase ``j % m``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

# Seasonal period by the base of a pandas frequency alias: a year of months, quarters, weeks;
# a week of days; a day of hours.
SEASONS = {
    "M": 12,
    "MS": 12,
    "ME": 12,
    "Q": 4,
    "QS": 4,
    "QE": 4,
    "W": 52,
    "D": 7,
    "B": 5,
    "h": 24,
    "H": 24,
}

# One-sided 90% critical value of the autocorrelation test (Hyndman & Billah's thetaf).
_Z90 = 1.645


def is_seasonal(values: np.ndarray, season_length: int) -> bool:
    """Whether the autocorrelation at lag ``season_length`` is significant at 90%.

    The test of the M3 Theta method: ``|r_m| > 1.645 * sqrt((1 + 2 * sum_{k<m} r_k^2) / n)``,
    asked only of series with at least three seasons of strictly positive values.
    """
    n, m = len(values), season_length
    if m < 2 or n < 3 * m or not (values > 0).all():
        return False
    centred = values - values.mean()
    denominator = float(centred @ centred)
    if denominator == 0:
        return False
    acf = np.array([centred[k:] @ centred[: n - k] for k in range(1, m + 1)]) / denominator
    limit = _Z90 * np.sqrt((1 + 2 * np.sum(acf[: m - 1] ** 2)) / n)
    return bool(abs(acf[m - 1]) > limit)


def seasonal_indices(values: np.ndarray, season_length: int) -> np.ndarray:
    """Classical multiplicative decomposition: one index per phase, with mean 1.

    Phase 0 is the first step after the series' end.

    Parameters
    ----------
    values : numpy.ndarray
        One series, strictly positive, at least two seasons long.
    season_length : int
        The period m.

    Returns
    -------
    numpy.ndarray
        (m,) indices; ``values[i]`` has phase ``(i - len(values)) % m``.
    """
    n, m = len(values), season_length
    # Centred moving average of order m (2 x m for even m) estimates the trend-cycle.
    if m % 2:
        kernel = np.ones(m) / m
    else:
        kernel = np.r_[0.5, np.ones(m - 1), 0.5] / m
    trend = np.convolve(values, kernel, mode="valid")  # length n - 2 * (m // 2)
    half = m // 2
    ratios = values[half : half + len(trend)] / trend
    phases = (np.arange(half, half + len(trend)) - n) % m
    sums = np.bincount(phases, weights=ratios, minlength=m)
    counts = np.bincount(phases, minlength=m)
    indices = sums / np.maximum(counts, 1)
    indices[counts == 0] = 1.0
    return indices / indices.mean()


def panel_indices(values: np.ndarray, offsets: np.ndarray, season_length: int) -> np.ndarray:
    """Indices of every series of a panel: (n_series, m), all ones where not seasonal."""
    n_series = len(offsets) - 1
    indices = np.ones((n_series, max(season_length, 1)))
    if season_length < 2:
        return indices
    for i in range(n_series):
        series = values[offsets[i] : offsets[i + 1]].astype(np.float64)
        if is_seasonal(series, season_length):
            indices[i] = seasonal_indices(series, season_length)
    return indices


def phase_of_history(offsets: np.ndarray, season_length: int) -> np.ndarray:
    """Phase of every value of a panel (aligned at each series' end)."""
    lengths = np.diff(offsets)
    position = np.arange(offsets[-1]) - np.repeat(offsets[:-1], lengths)
    return (position - np.repeat(lengths, lengths)) % season_length


def season_from_axis(axis) -> int:
    """The seasonal period implied by a time axis' frequency; 1 where there is none."""
    if axis.kind not in ("datetime", "period") or not isinstance(axis.freq, str):
        return 1
    if axis.kind == "period":
        offset = pd.Period("2000-01-01", freq=axis.freq).freq  # period aliases ("M") differ
    else:
        offset = pd.tseries.frequencies.to_offset(axis.freq)
    if offset.n != 1:
        return 1
    return SEASONS.get(offset.rule_code.split("-")[0], 1)


def deseasonalize(values: np.ndarray, offsets: np.ndarray, season_length: int):
    """Every seasonal series of a panel divided by its own indices.

    Returns the adjusted float32 values and the (n_series, m) indices (all ones, and the
    values unchanged, where a series is not seasonal or ``season_length < 2``).
    """
    indices = panel_indices(values, offsets, season_length)
    if season_length < 2:
        return values, indices
    phase = phase_of_history(offsets, season_length)
    row = np.repeat(np.arange(len(offsets) - 1), np.diff(offsets))
    return (values / indices[row, phase]).astype(np.float32), indices
