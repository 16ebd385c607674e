"""Calendar features derived from the timestamps: the phase of each cycle as a (sin, cos) pair.

The features are known in advance for every step, so the decoder reads them over the horizon
as it reads known covariates. A (sin, cos) pair puts the last day of a cycle next to the first
(31 December beside 1 January), which a plain day number would put at opposite ends.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from tsattn.forecast.panel.types import TimeAxis

__all__ = ["CALENDAR_FEATURES", "calendar_values", "check_calendar", "resolve_calendar"]

# The names ``calendar_features`` accepts, each with its cycle:
# name -> (cycle length in days, how many steps one cycle has).
CALENDAR_FEATURES = {
    "hour": (1.0, 24.0),
    "dayofweek": (7.0, 7.0),
    "dayofmonth": (30.44, 30.44),
    "dayofyear": (365.25, 365.25),
    "week": (365.25, 52.18),
    "month": (365.25, 12.0),
    "quarter": (365.25, 4.0),
}
DAY_NS = 86_400 * 10**9


def check_calendar(value: Any) -> list | bool:
    """Validate the ``calendar_features`` parameter.

    Parameters
    ----------
    value : bool, str or sequence of str
        False, True (features that fit y's frequency) or names from :data:`CALENDAR_FEATURES`.

    Returns
    -------
    bool or list of str
        The value as a bool or a list of distinct names.

    Raises
    ------
    TypeError, ValueError
        For anything else, naming the allowed values.
    """
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    names = [value] if isinstance(value, str) else value
    try:
        names = list(names)
    except TypeError:
        raise TypeError(
            f"calendar_features must be False, True or a list of names from "
            f"{list(CALENDAR_FEATURES)}, got {value!r}"
        ) from None
    unknown = [n for n in names if n not in CALENDAR_FEATURES]
    if unknown or not names or len(set(names)) != len(names):
        raise ValueError(
            f"calendar_features must be False, True or a list of distinct names from "
            f"{list(CALENDAR_FEATURES)}, got {value!r}"
        )
    return names


def resolve_calendar(value: list | bool, axis: TimeAxis) -> list:
    """The calendar features to use: the list given, or for True those that fit the frequency.

    True gives: hourly data hour, dayofweek, week; daily dayofweek, week; weekly week; monthly
    month; quarterly quarter; none for yearly data (an error).

    Parameters
    ----------
    value : bool or list of str
        The checked ``calendar_features`` (see :func:`check_calendar`).
    axis : TimeAxis
        y's time axis; calendar features need datetimes or periods.

    Returns
    -------
    list of str
    """
    if value is False:
        return []
    if axis.kind not in ("datetime", "period"):
        raise ValueError(
            "calendar_features need timestamps (a DatetimeIndex, PeriodIndex or datetime ds); "
            f"y is indexed by {axis.kind}s. Set calendar_features=False"
        )
    if value is not True:
        return list(value)
    step = _step_days(axis)
    # The day's and the week's cycles where a step is shorter than them; the year's cycle by
    # its finest unit that is not shorter than a step (week, month, quarter).
    chosen = [name for name, longest in (("hour", 0.25), ("dayofweek", 1.0)) if step <= longest]
    yearly = next(
        (
            name
            for name, longest in (("week", 27), ("month", 85), ("quarter", 180))
            if step <= longest
        ),
        None,
    )
    chosen += [yearly] if yearly else []
    if not chosen:
        raise ValueError(
            f"calendar_features=True finds no calendar feature that varies at frequency "
            f"{axis.freq!r}; set calendar_features=False"
        )
    return chosen


def _step_days(axis: TimeAxis) -> float:
    """The length of one step of the axis, in days."""
    if axis.kind == "period":
        stamps = pd.period_range("2001-01-01", periods=3, freq=axis.freq).to_timestamp()
    else:
        stamps = pd.date_range("2001-01-01", periods=3, freq=axis.freq)
    return float(np.diff(stamps.as_unit("ns").asi8).mean() / DAY_NS)


def calendar_values(stamps: pd.Index, names: list) -> np.ndarray:
    """The sin and cos of every feature's phase at every stamp.

    Parameters
    ----------
    stamps : pandas.DatetimeIndex or pandas.PeriodIndex
        The timestamps.
    names : list of str
        Names from :data:`CALENDAR_FEATURES`.

    Returns
    -------
    numpy.ndarray
        float64 (len(stamps), 2 * len(names)): sin then cos of each feature in turn.
    """
    if isinstance(stamps, pd.PeriodIndex):
        stamps = stamps.to_timestamp()
    stamps = pd.DatetimeIndex(stamps)
    columns = []
    for name in names:
        if name == "hour":
            phase = (stamps.hour + stamps.minute / 60) / 24
        elif name == "dayofweek":
            phase = stamps.day_of_week / 7
        elif name == "dayofmonth":
            phase = (stamps.day - 1) / stamps.days_in_month
        elif name == "dayofyear":
            phase = (stamps.day_of_year - 1) / 365.25
        elif name == "week":
            phase = (stamps.isocalendar().week.to_numpy() - 1) / 52.18
        elif name == "month":
            phase = (stamps.month - 1) / 12
        else:
            phase = (stamps.quarter - 1) / 4
        angle = 2 * np.pi * np.asarray(phase, dtype=np.float64)
        columns += [np.sin(angle), np.cos(angle)]
    return np.stack(columns, axis=1) if columns else np.zeros((len(stamps), 0))
