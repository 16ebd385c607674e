"""Time keys and the shared time grid that X, calendar features and backtests are aligned on.

Timestamps of every kind y may have are turned into one int64 key each (nanoseconds for
datetimes, ordinals for periods, the integers themselves otherwise), so that rows of X are
matched to the panel's steps by integer lookups. The :class:`Grid` lays every series' history
and its forecast steps on one run of regular stamps, from the earliest history step to
``horizon`` steps after the latest end, so series that end on different dates share it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from tsattn.forecast.panel.axis import check_datetime_range
from tsattn.forecast.panel.types import TimeAxis

__all__ = ["Grid", "key_label", "make_grid", "time_keys"]


def time_keys(stamps: Any, axis: TimeAxis, what: str) -> np.ndarray:
    """int64 keys of timestamps of the axis' kind.

    Parameters
    ----------
    stamps : array-like
        Timestamps, periods or integers (an Index, a Series or a list).
    axis : TimeAxis
        y's time axis: says which kind ``stamps`` must be.
    what : str
        The stamps' name in error messages (``"X's index"``).

    Returns
    -------
    numpy.ndarray
        int64 (len(stamps),): nanoseconds (aware datetimes as UTC instants, naive ones as
        they are), period ordinals, or the integers.

    Raises
    ------
    TypeError
        When ``stamps`` are not of the axis' kind.
    ValueError
        When they hold NaT, dates beyond nanosecond timestamps' range, or are naive where y's
        are time-zone aware (or aware where y's are naive).
    """
    index = pd.Index(stamps)
    if axis.kind in ("datetime", "period") and index.hasnans:
        raise ValueError(f"{what} has missing timestamps (NaT); drop those rows")
    if axis.kind == "datetime":
        if not pd.api.types.is_datetime64_any_dtype(index.dtype):
            try:
                index = pd.DatetimeIndex(pd.to_datetime(index))
            except (TypeError, ValueError):
                raise TypeError(
                    f"{what} must hold datetimes like y's, got dtype {index.dtype}"
                ) from None
        index = pd.DatetimeIndex(index)
        if axis.aware is not None and axis.aware != (index.tz is not None):
            # Keys of aware stamps are UTC instants, of naive ones wall times: mixed, covariates
            # would be shifted by the zone's offset (pandas refuses to compare the two).
            if axis.aware:
                problem = "naive timestamps but y's are time-zone aware; localize them to y's zone"
                fix = "(.tz_localize(zone))"
            else:
                problem = "time-zone aware timestamps but y's are naive; make them naive"
                fix = "(.tz_convert(zone).tz_localize(None)), as y's wall times"
            raise ValueError(f"{what} holds {problem} {fix}, or give y and X in one form")
        if len(index):
            check_datetime_range(index.min(), index.max(), what)
        if index.tz is not None:
            # Aware stamps are instants: across a DST change two hours share a wall time.
            index = index.tz_convert("UTC").tz_localize(None)
        return index.as_unit("ns").asi8.astype(np.int64)
    if axis.kind == "period":
        if not isinstance(index, pd.PeriodIndex):
            try:
                index = pd.PeriodIndex(index, freq=axis.freq)
            except (TypeError, ValueError):
                raise TypeError(
                    f"{what} must hold periods like y's (freq {axis.freq!r}), got dtype "
                    f"{index.dtype}"
                ) from None
        return index.asi8.astype(np.int64)
    if not pd.api.types.is_integer_dtype(index.dtype):
        raise TypeError(f"{what} must hold integers like y's, got dtype {index.dtype}")
    return index.to_numpy().astype(np.int64)


def key_label(key: int, axis: TimeAxis) -> Any:
    """A time key back as a readable timestamp, for error messages.

    Parameters
    ----------
    key : int
        A key from :func:`time_keys`.
    axis : TimeAxis
        The axis it was made on.

    Returns
    -------
    str or int
        The date (``"2021-03-01"``), the timestamp, the period, or the integer.
    """
    if axis.kind == "datetime":
        stamp = pd.Timestamp(key)
        return str(stamp.date()) if stamp == stamp.normalize() else str(stamp)
    if axis.kind == "period":
        return str(pd.Period(ordinal=int(key), freq=axis.freq))
    return int(key)


@dataclass(frozen=True)
class Grid:
    """Every series' timestamps as positions in one shared grid of stamps.

    Attributes
    ----------
    stamps : pandas.Index
        The grid: a DatetimeIndex, a PeriodIndex or an integer Index, regular at y's frequency.
    keys : numpy.ndarray
        int64 (G,) the stamps' :func:`time_keys`.
    end : numpy.ndarray
        int64 (n_series,) grid position of every series' last timestamp.
    """

    stamps: pd.Index
    keys: np.ndarray
    end: np.ndarray

    def history(self, lengths: np.ndarray) -> np.ndarray:
        """Grid positions of every series' history, concatenated in panel order.

        Parameters
        ----------
        lengths : numpy.ndarray
            Length of every series.

        Returns
        -------
        numpy.ndarray
            int64 (sum(lengths),).
        """
        counts = np.asarray(lengths, dtype=np.int64)
        first = self.end - counts + 1
        offsets = np.concatenate([[0], np.cumsum(counts)[:-1]])
        return np.arange(counts.sum()) - np.repeat(offsets, counts) + np.repeat(first, counts)

    def future(self, horizon: int) -> np.ndarray:
        """(n_series, horizon) grid positions of the steps after every series' end.

        Parameters
        ----------
        horizon : int
            Steps ahead.

        Returns
        -------
        numpy.ndarray
            int64 (n_series, horizon).
        """
        return self.end[:, None] + np.arange(1, horizon + 1)


def make_grid(axis: TimeAxis, last: list, lengths: np.ndarray, horizon: int) -> Grid:
    """The grid from the earliest history step to ``horizon`` steps after the latest end.

    Parameters
    ----------
    axis : TimeAxis
        y's time axis.
    last : list
        Every series' last timestamp (Timestamp, Period or int).
    lengths : numpy.ndarray
        Every series' length.
    horizon : int
        Steps the grid runs on after the latest end (0 for the history alone).

    Returns
    -------
    Grid
    """
    lengths = np.asarray(lengths, dtype=np.int64)
    if axis.kind in ("integer", "position"):
        step = int(axis.freq or 1)
        last_keys = np.array([int(t) for t in last], dtype=np.int64)
        first = int((last_keys - step * (lengths - 1)).min())
        keys = np.arange(first, int(last_keys.max()) + step * horizon + 1, step, dtype=np.int64)
        return Grid(pd.Index(keys), keys, (last_keys - first) // step)
    last_index = pd.Index(last)
    last_keys = time_keys(last_index, axis, "y's timestamps")
    latest = last_index[int(np.argmax(last_keys))]
    if axis.kind == "datetime":
        earliest = last_index[int(np.argmin(last_keys))]
        span = len(pd.date_range(earliest, latest, freq=axis.freq))
        past = pd.date_range(end=latest, periods=span + int(lengths.max()) - 1, freq=axis.freq)
        future = pd.date_range(start=latest, periods=horizon + 1, freq=axis.freq)[1:]
    else:
        span = int(last_keys.max() - last_keys.min()) + 1
        latest = pd.Period(latest, freq=axis.freq)
        past = pd.period_range(end=latest, periods=span + int(lengths.max()) - 1, freq=axis.freq)
        future = pd.period_range(start=latest + 1, periods=horizon, freq=axis.freq)
    stamps = past.append(future)
    keys = time_keys(stamps, axis, "the time grid")
    return Grid(stamps, keys, np.searchsorted(keys, last_keys).astype(np.int64))
