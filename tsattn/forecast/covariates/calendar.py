"""Calendar features derived from the timestamps: cycles' phases and a country's holidays.

The features are known in advance for every step, so the decoder reads them over the horizon
as it reads known covariates. A cycle is a (sin, cos) pair of its phase, which puts the last day
of a cycle next to the first (31 December beside 1 January), where a plain day number would put
them at opposite ends. A country calendar (``holidays="AU"``) gives a 0/1 flag per step: 1 when a
public holiday of that country falls within the step (the ``holidays`` package, an optional
extra, read as Darts' ``add_holidays`` reads it).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from tsattn.forecast.panel.types import TimeAxis

__all__ = [
    "CALENDAR_FEATURES",
    "calendar_values",
    "check_calendar",
    "check_holidays",
    "holiday_flags",
    "resolve_calendar",
]

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
        False, True (features that fit y's frequency), "auto" (True when the model reads
        covariates known in advance, see :func:`resolve_calendar`) or names from
        :data:`CALENDAR_FEATURES`.

    Returns
    -------
    bool, "auto" or list of str
        The value as a bool, "auto" or a list of distinct names.

    Raises
    ------
    TypeError, ValueError
        For anything else, naming the allowed values.
    """
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, str) and value == "auto" or (
        isinstance(value, (list, tuple)) and list(value) == ["auto"]
    ):
        return "auto"
    names = _name_list(
        value,
        f"calendar_features must be False, True or a list of names from {list(CALENDAR_FEATURES)}",
    )
    unknown = [n for n in names if n not in CALENDAR_FEATURES]
    if unknown or not names or len(set(names)) != len(names):
        raise ValueError(
            f"calendar_features must be False, True or a list of distinct names from "
            f"{list(CALENDAR_FEATURES)} (or 'auto'), got {value!r}"
        )
    return names


def resolve_calendar(value: list | bool | str, axis: TimeAxis, known: bool = False) -> list:
    """The calendar features to use: the list given, or for True those that fit the frequency.

    "auto" is True when the model reads covariates known in advance (``known``) and y has
    timestamps, else False: what a temperature or a holiday does depends on the season and the
    day (heating in winter, cooling in summer), which the network can only take into account
    if it reads them; without X the seasonal adjustment and the baseline carry the calendar.

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
    if value == "auto":
        value = bool(known) and axis.kind in ("datetime", "period") and axis.freq is not None
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


def check_holidays(value: Any) -> tuple:
    """Validate the ``holidays`` parameter.

    Parameters
    ----------
    value : None, str or sequence of str
        Country codes of the ``holidays`` package (``"AU"``, ``"US"``), each optionally with a
        subdivision after a hyphen (``"AU-NSW"``, ``"US-CA"``).

    Returns
    -------
    tuple of str
        The codes, distinct; empty for None.

    Raises
    ------
    TypeError, ValueError
        For anything but strings of that form, or duplicates.
    """
    if value is None:
        return ()
    names = _name_list(
        value, "holidays must be None, a country code such as 'AU' or 'US-CA', or a list of them"
    )
    for name in names:
        parts = name.split("-", 1) if isinstance(name, str) else []
        if len(parts) < 1 or not parts[0].isalpha() or not all(parts):
            raise ValueError(
                f"holidays takes country codes such as 'AU' or 'US-CA' (country-subdivision), "
                f"got {name!r}"
            )
    if len(set(names)) != len(names):
        raise ValueError(f"holidays has duplicate codes: {names}")
    return tuple(names)


def holiday_flags(stamps: pd.Index, codes: list, freq: Any = None) -> np.ndarray:
    """One 0/1 flag per country calendar: 1 where a public holiday falls within the step.

    Parameters
    ----------
    stamps : pandas.DatetimeIndex or pandas.PeriodIndex
        The timestamps.
    codes : list of str
        Checked codes (see :func:`check_holidays`).
    freq : str or None
        The axis' frequency. A step of a day or shorter is flagged on its date; a longer step
        (a week, a month) when any day of the period the stamp labels is a holiday (a week
        stamped on its last day, ``"W-FRI"``, covers the six days before).

    Returns
    -------
    numpy.ndarray
        float64 (len(stamps), len(codes)).

    Raises
    ------
    ImportError
        When the ``holidays`` package is not installed (``pip install tsattn[holidays]``).
    ValueError
        For a country or subdivision the package does not know.
    """
    if not codes:
        return np.zeros((len(stamps), 0))
    try:
        import holidays as holiday_calendars
    except ImportError:
        raise ImportError(
            "holidays=... needs the holidays package: pip install 'tsattn[holidays]'"
        ) from None
    first, last = _day_spans(stamps, freq)
    if not len(first):
        return np.zeros((0, len(codes)))
    years = range(int(first.min().year), int(last.max().year) + 1)
    day = np.timedelta64(1, "D")
    start = first.to_numpy().astype("datetime64[D]")
    end = last.to_numpy().astype("datetime64[D]")
    columns = []
    for code in codes:
        country, _, subdiv = code.partition("-")
        try:
            calendar = holiday_calendars.country_holidays(
                country.upper(), subdiv=subdiv or None, years=years
            )
        except NotImplementedError:
            raise ValueError(
                f"holidays: the holidays package has no calendar for {code!r} (country "
                f"{country!r}{', subdivision ' + repr(subdiv) if subdiv else ''})"
            ) from None
        days = np.sort(np.array(sorted(calendar.keys()), dtype="datetime64[D]"))
        count = np.searchsorted(days, end + day, "left") - np.searchsorted(days, start, "left")
        columns.append((count > 0).astype(np.float64))
    return np.stack(columns, axis=1)


def _day_spans(stamps: pd.Index, freq: Any) -> tuple[pd.DatetimeIndex, pd.DatetimeIndex]:
    """The first and last day of the period every stamp labels (its own day for short steps)."""
    if isinstance(stamps, pd.PeriodIndex):
        periods = stamps
    else:
        stamps = pd.DatetimeIndex(stamps)
        periods = None
        # A period frequency names the span a stamp labels; "MS" (month start) has none, and
        # its stamps label the month of "M"
        for name in () if freq is None else (freq, str(freq).replace("S", "", 1)):
            try:
                periods = stamps.to_period(name)
                break
            except (ValueError, TypeError, AttributeError):
                continue
        if periods is None or _period_days(periods) <= 1:
            return stamps.normalize(), stamps.normalize()
    if _period_days(periods) <= 1:
        days = periods.to_timestamp().normalize()
        return days, days
    return periods.start_time.normalize(), periods.end_time.normalize()


def _period_days(periods: pd.PeriodIndex) -> float:
    """Length of one period of the index, in days."""
    probe = pd.Period("2001-01-01", freq=periods.freq)
    return float((probe.end_time - probe.start_time).total_seconds() / 86_400)


def _name_list(value: Any, expected: str) -> list:
    """``value`` as a list of names (one string is one name); else a TypeError ``expected``."""
    names = [value] if isinstance(value, str) else value
    try:
        return list(names)
    except TypeError:
        raise TypeError(f"{expected}, got {value!r}") from None
