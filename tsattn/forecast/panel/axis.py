"""The time axis of ``y``: from a Series' or wide frame's index, or from a long frame's stamps.

A :class:`~tsattn.forecast.panel.types.TimeAxis` says what the stamps are (datetime, period or
integer) and their step (a frequency, or an integer step); readers of every format call these.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from tsattn.forecast.panel.checks import jsonable
from tsattn.forecast.panel.types import TimeAxis


def index_axis(index: pd.Index, what: str, freq: str | int | None = None) -> TimeAxis:
    """The time axis of a Series' or wide DataFrame's index.

    ``freq``: the frequency the stamps are known to have (a fitted model's), which dates a
    history too short to infer it from (one or two stamps).
    """
    if isinstance(index, (pd.PeriodIndex, pd.DatetimeIndex)) and index.hasnans:
        raise ValueError(
            f"{what} has missing timestamps (NaT) at {int(index.isna().sum())} row(s); drop "
            "those rows or give them their dates"
        )
    if isinstance(index, pd.PeriodIndex):
        if index.has_duplicates:
            raise ValueError(
                f"{what} has duplicate timestamps; aggregate them (e.g. groupby().sum())"
            )
        if len(index) > 1 and not (np.diff(index.asi8) == 1).all():
            raise ValueError(f"{what} has gaps or is unsorted; sort it and reindex to a full range")
        return TimeAxis("period", index.freqstr)
    if isinstance(index, pd.DatetimeIndex):
        if index.has_duplicates:
            raise ValueError(
                f"{what} has duplicate timestamps; aggregate them (e.g. groupby().sum())"
            )
        check_datetime_range(index.min(), index.max(), what)
        if not index.is_monotonic_increasing:
            raise ValueError(f"{what} has unsorted timestamps; sort it first (sort_index())")
        freq = index.freqstr if index.freq is not None else infer_freq(index, what, freq)
        return TimeAxis("datetime", freq, aware=index.tz is not None)
    if pd.api.types.is_integer_dtype(index.dtype):
        steps = np.diff(index.to_numpy())
        if len(steps) and (steps <= 0).any():
            raise ValueError(f"{what} has an unsorted or duplicate integer index; sort it first")
        if len(steps) and not (steps == steps[0]).all():
            raise ValueError(f"{what} has an integer index with uneven steps; reindex it regularly")
        return TimeAxis("integer", int(steps[0]) if len(steps) else _known_step(freq))
    raise TypeError(
        f"{what} must be indexed by time (DatetimeIndex, PeriodIndex) or by integers, got "
        f"{type(index).__name__} of dtype {index.dtype}"
    )


def check_datetime_range(first, last, what: str) -> None:
    """Refuse datetimes outside what nanosecond timestamps hold (1677-09-21 to 2262-04-11).

    Time keys are int64 nanoseconds: a later date converted to them wraps round to an earlier
    century, and forecasts would be dated there.
    """
    first, last = (
        t if t.tz is None else t.tz_convert("UTC").tz_localize(None) for t in (first, last)
    )
    if first < pd.Timestamp.min or last > pd.Timestamp.max:
        bad = first if first < pd.Timestamp.min else last
        raise ValueError(
            f"{what} has the date {bad}, outside the dates tsattn can key by nanoseconds "
            f"({pd.Timestamp.min.date()} to {pd.Timestamp.max.date()}); shift the dates into "
            "that range, or use integer or period time stamps"
        )


def infer_freq(index: pd.DatetimeIndex, what: str, known: str | int | None = None) -> str:
    """The frequency string of regular timestamps; ValueError naming ``what`` otherwise.

    ``known``: the frequency the stamps should have (a fitted model's); stamps too few to
    infer one from are accepted when they lie on it.
    """
    with warnings.catch_warnings():
        # pandas 3 warns that infer_freq will return an offset; either answer works below.
        warnings.filterwarnings("ignore", message=".*infer_freq.*")
        freq = pd.infer_freq(index) if len(index) >= 3 else None
    if freq is not None and not isinstance(freq, str):
        freq = freq.freqstr
    if freq is None and isinstance(known, str) and _on_frequency(index, known):
        return known
    if freq is None:
        raise ValueError(
            f"cannot infer the frequency of {what}'s timestamps (irregular, with gaps, or fewer "
            f"than 3); make them regular, e.g. y.asfreq('MS'), or set index.freq"
        )
    return freq


def long_axis(
    times, offsets, steps, kind, uniques, step_codes, name, tz=None, known=None
) -> TimeAxis:
    """Infer one frequency for all series of a long table and reject gaps.

    ``times`` are int64 nanoseconds, in UTC when ``tz`` names the timestamps' zone: the
    frequency and its grid are then taken in that zone (a day is 23 or 25 hours across a change
    of daylight saving time, an hour is always one). ``known``: the frequency a fitted model
    knows, for series too short to infer one from.
    """
    lengths = np.diff(offsets)
    longest = int(np.argmax(lengths))
    if kind == "integer":
        step = int(np.min(steps)) if len(steps) else _known_step(known)
        allowed = np.array([step])
        freq: str | int = step
    else:
        span = pd.DatetimeIndex(times[offsets[longest] : offsets[longest + 1]])
        span = span if tz is None else span.tz_localize("UTC").tz_convert(tz)
        freq = infer_freq(span, f"{name} series {jsonable(uniques[longest])!r}", known)
        # Month, quarter and year steps vary in length; take every step length the frequency has.
        start, end = pd.Timestamp(times.min()), pd.Timestamp(times.max())
        if tz is not None:
            start, end = (t.tz_localize("UTC").tz_convert(tz) for t in (start, end))
        grid = pd.date_range(start, end, freq=freq)
        grid_keys = grid.as_unit("ns").asi8
        allowed = np.unique(np.diff(grid_keys)) if len(grid) > 1 else np.unique(steps)
    bad = ~np.isin(steps, allowed)
    if bad.any():
        sid = jsonable(uniques[step_codes[bad][0]])
        raise ValueError(
            f"{name} series {sid!r} has gaps or irregular timestamps (frequency {freq!r} inferred); "
            f"fill the missing dates (e.g. with 0 sales) so that every series is regular"
        )
    # Regular steps are not enough: every series must sit on the one grid that the forecasts
    # and X are dated on, or a month-end series among month-start ones (a Wednesday series
    # among Sunday ones, odd integers among even ones) is shifted by part of a step.
    if kind == "integer":
        off_grid = (times - times[offsets[longest]]) % step != 0
    else:
        off_grid = ~np.isin(times, grid_keys)
    if off_grid.any():
        first = int(np.flatnonzero(off_grid)[0])
        sid = jsonable(uniques[int(np.searchsorted(offsets, first, side="right")) - 1])
        ref = jsonable(uniques[longest])
        stamp = int(times[first]) if kind == "integer" else pd.Timestamp(int(times[first]))
        raise ValueError(
            f"{name} series {sid!r} is not on the time grid of series {ref!r} (frequency "
            f"{freq!r}): its timestamp {stamp} falls between two steps of that grid. Series on "
            f"different anchors (month start and month end, weeks ending on different days, odd "
            f"and even integers) cannot share one model's dates; move them onto one anchor "
            f"(e.g. ds.dt.to_period('M').dt.to_timestamp()) or forecast them separately"
        )
    return TimeAxis(kind, freq, aware=None if kind != "datetime" else tz is not None)


def _known_step(known) -> int:
    """The integer step a fitted model knows, 1 where it knows none."""
    return known if isinstance(known, int) and not isinstance(known, bool) else 1


def _on_frequency(index: pd.DatetimeIndex, freq: str) -> bool:
    """Whether ``index`` is the run of stamps at ``freq`` from its first one."""
    try:
        expected = pd.date_range(index[0], periods=len(index), freq=freq)
    except (TypeError, ValueError):
        return False
    return bool(expected.as_unit("ns").equals(index.as_unit("ns")))
