"""Multiplicative seasonal adjustment per series, as the M3 winner (Theta) and ES-RNN did.

The network then learns level and trend from deseasonalised values, and the forecasts are
reseasonalised with each series' own indices. Phases are counted back from each series' end, so
the indices need no calendar: step ``j`` (0-based) after the end has phase ``j % m``.

The indices come from the last :data:`RECENT_SEASONS` (8) seasons of each series (all of them
when it has fewer), and whether a series is seasonal (the autocorrelation test, positive values)
is decided on its last :data:`TESTED_SEASONS` (10): seasons drift over decades, and the next
season looks like the last few, not like the average of forty years; a series that was zero
for years long ago can be seasonal now. The number of recent seasons trades a long history's
drift against the noise of a short one; benchmarks/README.md ("Long histories") has the
measurements, made by ``benchmarks/long_series.py``.

Sub-daily data has two seasons, the day and the week (:func:`seasons_from_axis`). Their
indices are estimated one after the other, as MSTL removes one season after the other: first
the week's pattern of day levels (indices of period 7 on the series summed day by day), then
the day's shape on what that leaves; their product is one index per step of the week, so the
rest of the package reads them as one season of ``7 * day`` steps.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from tsattn.forecast.statistics.series_blocks import length_chunks, padded_block

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

# Sub-daily frequencies: the season is the day (the number of steps in 24 hours) and the long
# season the week.
_SUBDAILY_SECONDS = {"h": 3600, "H": 3600, "min": 60, "T": 60, "s": 1, "S": 1}
DAYS_PER_WEEK = 7
# Days of more steps than this (finer than 5 minutes) get no season from the axis: the
# autocorrelation test and the indices would run over tens of thousands of phases.
MAX_DAY_STEPS = 288
# Seasonal indices are estimated on the values of this many seasons before each series' end.
RECENT_SEASONS = 8
# ... and tested (for a season, and for positive values) on this many.
TESTED_SEASONS: int | None = 10

# One-sided 90% critical value of the autocorrelation test (Hyndman & Billah's thetaf).
_Z90 = 1.645


def is_seasonal(values: np.ndarray, season_length: int) -> bool:
    """Whether the autocorrelation at lag ``season_length`` is significant at 90%.

    The test of the M3 Theta method: ``|r_m| > 1.645 * sqrt((1 + 2 * sum_{k<m} r_k^2) / n)``,
    asked of series with at least two seasons of strictly positive values (as statsforecast's
    Theta asks it).
    """
    n, m = len(values), season_length
    if m < 2 or n < 2 * m or not (values > 0).all():
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
        (m,) indices; ``values[i]`` has phase ``(i - len(values)) % m``. Only the ratios of
        the last :data:`RECENT_SEASONS` seasons (``values[n - RECENT_SEASONS * m:]``) count.
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
    position = np.arange(half, half + len(trend))
    recent = position >= n - RECENT_SEASONS * m + half  # the centred averages of the last seasons
    ratios, position = ratios[recent], position[recent]
    phases = (position - n) % m
    sums = np.bincount(phases, weights=ratios, minlength=m)
    counts = np.bincount(phases, minlength=m)
    indices = sums / np.maximum(counts, 1)
    indices[counts == 0] = 1.0
    return indices / indices.mean()


def panel_indices(values: np.ndarray, offsets: np.ndarray, season_length: int) -> np.ndarray:
    """Indices of every series of a panel: (n_series, m), all ones where not seasonal.

    The rule, by each series' length n in seasons of m positive values (n counted on the last
    :data:`TESTED_SEASONS` seasons, the indices from the last :data:`RECENT_SEASONS`):

    * two seasons or more: :func:`seasonal_indices` where :func:`is_seasonal`'s test finds a
      season;
    * more than one season but fewer than two: the indices of the one season there is, untested.
      No test has the power to find a season in so little, yet last year's peak is the best
      evidence of the next one (a new product's first Christmas, a store's first year);
    * one season or less, or any value <= 0: all ones.

    Computed for many series at once: series of similar lengths are padded into one block, so
    the cost is a few array operations per block rather than per series (equal to the
    per-series functions up to rounding in the last bits).
    """
    n_series = len(offsets) - 1
    indices = np.ones((n_series, max(season_length, 1)))
    if season_length < 2:
        return indices
    offsets = np.asarray(offsets, dtype=np.int64)
    lengths = np.diff(offsets)
    if TESTED_SEASONS is not None:
        # Only the last seasons are tested and must be positive (a series zero for years
        # decades ago can be seasonal now); the indices come from the last RECENT_SEASONS.
        keep = np.minimum(lengths, TESTED_SEASONS * season_length)
        rows = np.repeat(offsets[1:] - keep, keep) + (
            np.arange(keep.sum()) - np.repeat(np.cumsum(keep) - keep, keep)
        )
        values = np.asarray(values)[rows]
        offsets = np.concatenate([[0], np.cumsum(keep)]).astype(np.int64)
        lengths = keep
    # Series of more than one season get indices (tested from two seasons on); similar lengths
    # share a padded block.
    order = np.flatnonzero(lengths > season_length)
    order = order[np.argsort(lengths[order], kind="stable")]
    for chunk in length_chunks(lengths, order, _CHUNK_CELLS):
        block, _, inside = padded_block(values, offsets, chunk, 0.0)
        seasonal = _seasonal_rows(block, inside, season_length)
        short = lengths[chunk] < 2 * season_length
        positive = ((block > 0) | ~inside).all(axis=1)
        seasonal = np.where(short, positive, seasonal)
        if seasonal.any():
            rows = chunk[seasonal]
            indices[rows] = _block_indices(block[seasonal], lengths[rows], season_length)
    return indices


# Series are tested in blocks of at most this many (series x time) cells, to bound the memory.
_CHUNK_CELLS = 1 << 21


def _seasonal_rows(block: np.ndarray, inside: np.ndarray, m: int) -> np.ndarray:
    """:func:`is_seasonal` of every row of a padded block (rows of at least ``2 m`` values)."""
    n = inside.sum(axis=1)  # (k,)
    positive = ((block > 0) | ~inside).all(axis=1)  # NaN is not positive
    centred = np.where(inside, block - block.sum(axis=1, keepdims=True) / n[:, None], 0.0)
    denominator = np.einsum("ij,ij->i", centred, centred)  # (k,)
    width = block.shape[1]
    # The padding is 0, so each lag's products need no mask: a pair outside a series adds 0.
    products = [
        np.einsum("ij,ij->i", centred[:, k:], centred[:, : width - k]) for k in range(1, m + 1)
    ]
    valid = positive & (denominator > 0)
    acf = np.stack(products, axis=1) / np.where(valid, denominator, 1.0)[:, None]  # (k, m)
    limit = _Z90 * np.sqrt((1 + 2 * np.sum(acf[:, : m - 1] ** 2, axis=1)) / n)
    return valid & (np.abs(acf[:, m - 1]) > limit)


def _block_indices(block: np.ndarray, lengths: np.ndarray, m: int) -> np.ndarray:
    """:func:`seasonal_indices` of every row of a left-aligned padded block: (k, m)."""
    if m % 2:
        kernel = np.ones(m) / m
    else:
        kernel = np.r_[0.5, np.ones(m - 1), 0.5] / m
    half = m // 2
    windows = np.lib.stride_tricks.sliding_window_view(block, len(kernel), axis=1)
    trend = windows @ kernel  # (k, T - len(kernel) + 1): trend[:, j] centred on j + half
    count = lengths - 2 * half  # (k,) valid trend values of each row
    j = np.arange(trend.shape[1])
    # The ratios whose centred averages lie within the last RECENT_SEASONS seasons.
    valid = (j < count[:, None]) & (j >= (lengths - RECENT_SEASONS * m)[:, None])  # (k, J)
    ratios = block[:, half : half + trend.shape[1]] / np.where(valid, trend, 1.0)
    phases = (j + half - lengths[:, None]) % m  # (k, J)
    cells = (np.arange(len(block))[:, None] * m + phases)[valid]
    sums = np.bincount(cells, weights=ratios[valid], minlength=len(block) * m).reshape(-1, m)
    counts = np.bincount(cells, minlength=len(block) * m).reshape(-1, m)
    indices = sums / np.maximum(counts, 1)
    indices[counts == 0] = 1.0
    return indices / indices.mean(axis=1, keepdims=True)


def phase_of_history(offsets: np.ndarray, season_length: int) -> np.ndarray:
    """Phase of every value of a panel (aligned at each series' end)."""
    lengths = np.diff(offsets)
    position = np.arange(offsets[-1]) - np.repeat(offsets[:-1], lengths)
    return (position - np.repeat(lengths, lengths)) % season_length


def season_from_axis(axis) -> int:
    """The seasonal period implied by a time axis' frequency; 1 where there is none.

    A year of months, quarters or weeks, a week of days; for sub-daily data the day (the steps
    in 24 hours: 24 hourly, 48 half-hourly).
    """
    return seasons_from_axis(axis)[0]


def seasons_from_axis(axis) -> tuple[int, ...]:
    """The seasons of a time axis: ``(m,)``, or ``(day, week)`` for sub-daily data.

    Sub-daily frequencies (hours, minutes, seconds whose multiple divides a day, of 5 minutes
    or more) have a day of ``86400 / step`` steps and a week of 7 days; other frequencies one
    season from :data:`SEASONS` (1 where there is none, or for multiples such as "2MS").
    """
    if axis.kind not in ("datetime", "period") or not isinstance(axis.freq, str):
        return (1,)
    if axis.kind == "period":
        offset = pd.Period("2000-01-01", freq=axis.freq).freq  # period aliases ("M") differ
    else:
        offset = pd.tseries.frequencies.to_offset(axis.freq)
    code = offset.rule_code.split("-")[0]
    unit = _SUBDAILY_SECONDS.get(code)
    if unit is not None:
        step = unit * offset.n
        if 0 < step < 86400 and 86400 % step == 0 and 86400 // step <= MAX_DAY_STEPS:
            day = 86400 // step
            return (day, DAYS_PER_WEEK * day)
        return (1,)
    if offset.n != 1:
        return (1,)
    return (SEASONS.get(code, 1),)


def adjustment_seasons(period: int, axis) -> tuple[int, ...]:
    """The seasons an adjustment of period ``period`` estimates on data of this time axis.

    ``(day, period)`` where the axis is sub-daily and ``period`` is its week (the day's shape
    and the week's day levels, estimated one after the other); ``(period,)`` otherwise.
    """
    seasons = seasons_from_axis(axis)
    if len(seasons) == 2 and period == seasons[1]:
        return seasons
    return (int(period),)


def deseasonalize(values: np.ndarray, offsets: np.ndarray, season_length):
    """Every seasonal series of a panel divided by its own indices.

    ``season_length``: the period m, or ``(day, week)`` for two seasons (see the module
    docstring; the week a multiple of the day). Returns the adjusted float32 values and the
    (n_series, m) indices (m the week for two seasons; all ones, and the values unchanged, where
    a series is not seasonal or ``m < 2``).
    """
    seasons = tuple(np.atleast_1d(season_length).astype(int).tolist())
    if len(seasons) == 2 and seasons[0] > 1 and seasons[1] > seasons[0]:
        indices = _two_season_indices(values, offsets, seasons[0], seasons[1])
        season_length = seasons[1]
    else:
        season_length = seasons[-1]
        indices = panel_indices(values, offsets, season_length)
    if season_length < 2:
        return values, indices
    phase = phase_of_history(offsets, season_length)
    row = np.repeat(np.arange(len(offsets) - 1), np.diff(offsets))
    return (values / indices[row, phase]).astype(np.float32), indices


def apply_indices(values: np.ndarray, offsets: np.ndarray, indices: np.ndarray) -> np.ndarray:
    """Every series divided by given (n_series, m) indices, phases counted from its end."""
    m = indices.shape[1]
    if m < 2:
        return values
    phase = phase_of_history(offsets, m)
    row = np.repeat(np.arange(len(offsets) - 1), np.diff(offsets))
    return (values / indices[row, phase]).astype(np.float32)


def _two_season_indices(values: np.ndarray, offsets: np.ndarray, day: int, week: int):
    """(n, week) indices: the week's day levels times the day's shape (module docstring)."""
    if week % day:
        raise ValueError(f"the long season ({week}) must be a multiple of the short one ({day})")
    days_per_week = week // day
    offsets = np.asarray(offsets, dtype=np.int64)
    lengths = np.diff(offsets)
    n = len(lengths)
    # Whole days counted back from each series' end, summed: the day-level series.
    n_days = lengths // day
    day_offsets = np.concatenate([[0], np.cumsum(n_days)]).astype(np.int64)
    first = offsets[1:] - n_days * day  # (n,) where each series' whole days begin
    starts = np.repeat(first, n_days) + day * (
        np.arange(day_offsets[-1]) - np.repeat(day_offsets[:-1], n_days)
    )
    cells = starts[:, None] + np.arange(day)  # (days, day)
    totals = np.asarray(values, dtype=np.float64)[cells].sum(axis=1)
    levels = panel_indices(totals, day_offsets, days_per_week)  # (n, 7): phase 0 the next day
    by_step = np.repeat(levels, day, axis=1)  # (n, week)
    phase = phase_of_history(offsets, week)
    row = np.repeat(np.arange(n), lengths)
    shape = panel_indices(values / by_step[row, phase], offsets, day)  # (n, day)
    return by_step * np.tile(shape, days_per_week)
