"""Every accepted input format -> one validated panel of series, and forecasts back again.

Accepted: a pandas Series (DatetimeIndex, PeriodIndex or integer index), a wide DataFrame (a column
per series), a long DataFrame (``unique_id``, ``ds``, ``y`` as in Nixtla's libraries), a 1-D array
(one series) or a 2-D array (time x series). The panel holds all values once, as one float32 array
with offsets per series; forecasts are turned back into the kind of object the user gave.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

ID_COL, TIME_COL, TARGET_COL = "unique_id", "ds", "y"
LONG_COLUMNS = (ID_COL, TIME_COL, TARGET_COL)
# Values are held and trained on in float32 (max 3.4e38). Window sums of up to 1e8 values of this
# size stay finite there, so nothing downstream overflows to inf.
MAX_ABS_VALUE = 1e30


@dataclass
class TimeAxis:
    """How timestamps continue past a series' end.

    ``kind`` is "datetime" (``freq`` an offset alias), "period" (``freq`` a period alias),
    "integer" (``freq`` an integer step) or "position" (numpy input: no timestamps).
    """

    kind: str
    freq: str | int | None = None

    def future(self, last: Any, horizon: int) -> pd.Index:
        """The ``horizon`` timestamps after ``last``."""
        if self.kind == "datetime":
            return pd.date_range(start=pd.Timestamp(last), periods=horizon + 1, freq=self.freq)[1:]
        if self.kind == "period":
            return pd.period_range(start=pd.Period(last, freq=self.freq) + 1, periods=horizon)
        step = int(self.freq or 1)
        return pd.Index(int(last) + step * np.arange(1, horizon + 1))

    def to_json(self) -> dict:
        """JSON-ready description (for saved models)."""
        return {"kind": self.kind, "freq": self.freq}


@dataclass
class Panel:
    """Many series of different lengths held once.

    Attributes
    ----------
    values : numpy.ndarray
        float32, all series one after another.
    offsets : numpy.ndarray
        int64 of length ``n_series + 1``; series ``i`` is ``values[offsets[i]:offsets[i+1]]``.
    ids : list
        Series identifiers (column names, unique_id values, or positions).
    last : list
        Each series' last timestamp (a Timestamp, Period or int).
    axis : TimeAxis
        How the timestamps continue.
    layout : dict
        What is needed to give forecasts back in the input's format (JSON-ready).
    """

    values: np.ndarray
    offsets: np.ndarray
    ids: list
    last: list
    axis: TimeAxis
    layout: dict = field(default_factory=dict)

    @property
    def lengths(self) -> np.ndarray:
        """Length of every series."""
        return np.diff(self.offsets)

    @property
    def n_series(self) -> int:
        """Number of series."""
        return len(self.ids)

    def series(self, i: int) -> np.ndarray:
        """The values of series ``i`` (a view)."""
        return self.values[self.offsets[i] : self.offsets[i + 1]]


# ----------------------------------------------------------------------------------------------
# Input -> Panel


def to_panel(y: Any, *, name: str = "y", allow_nan: bool = False) -> Panel:
    """Validate ``y`` and convert it to a :class:`Panel`; ``y`` itself is never modified.

    Parameters
    ----------
    y : pandas.Series, pandas.DataFrame or numpy.ndarray
        The series to forecast, in any accepted format (see module docstring).
    name : str
        The argument's name, used in error messages.
    allow_nan : bool, default=False
        Keep NaN inside the series (missing values to be masked); only a series with no
        observed value is then an error.

    Returns
    -------
    Panel

    Raises
    ------
    TypeError
        For an unsupported type or non-numeric values.
    ValueError
        For empty input, NaN or inf, duplicate or irregular timestamps, missing columns.
    """
    if isinstance(y, pd.Series):
        return _from_series(y, name, allow_nan)
    if isinstance(y, pd.DataFrame):
        if any(col in y.columns for col in LONG_COLUMNS[:2]):
            return _from_long(y, name, allow_nan)
        return _from_wide(y, name, allow_nan)
    if isinstance(y, (list, tuple)):
        raise TypeError(
            f"{name} must be a pandas Series, a DataFrame or a numpy array, got a {type(y).__name__};"
            f" wrap it with np.asarray({name}) or pd.Series({name})"
        )
    if isinstance(y, np.ma.MaskedArray):
        return _from_array(_unmasked(y, name, allow_nan), name, allow_nan)
    if isinstance(y, np.ndarray):
        return _from_array(y, name, allow_nan)
    raise TypeError(
        f"{name} must be a pandas Series, a wide or long (unique_id, ds, y) DataFrame, or a numpy "
        f"array, got {type(y).__name__}"
    )


def _numeric(values: Any, what: str) -> np.ndarray:
    """Float64 copy of ``values`` with a clear error for non-numeric or non-finite content."""
    array = np.asarray(values)
    if array.dtype.kind in "mM":  # numpy counts timedelta64 as an integer type
        raise TypeError(
            f"{what} must be numeric, got dtype {array.dtype}; convert durations to a number of "
            f"one unit first, e.g. y.dt.total_seconds() / 3600 for hours"
        )
    if array.dtype == bool or not (np.issubdtype(array.dtype, np.number) or array.dtype == object):
        raise TypeError(f"{what} must be numeric, got dtype {array.dtype}")
    if np.issubdtype(array.dtype, np.complexfloating):
        raise TypeError(
            f"{what} must be real numbers, got dtype {array.dtype}; pass np.real or np.abs"
        )
    if array.dtype == object:  # pandas' nullable Float64/Int64 give pd.NA: a missing value
        missing = pd.isna(array)
        if missing.any():
            array = np.where(missing, np.nan, array)
    if array.dtype == object and any(isinstance(v, (str, bytes)) for v in array.flat):
        # numpy would parse "12" as 12.0; text in a numeric series is a data error to show.
        raise TypeError(
            f"{what} holds strings (dtype object); convert them with pd.to_numeric first"
        )
    try:
        array = array.astype(np.float64)
    except (TypeError, ValueError):
        raise TypeError(
            f"{what} must be numeric, but it holds values that are not numbers (dtype "
            f"{array.dtype}); convert them with pd.to_numeric first"
        ) from None
    return array


def _check_finite(values: np.ndarray, what: str) -> None:
    """Reject inf and values too large for float32 training; NaN is left to the caller."""
    if np.isinf(values).any():
        where = int(np.flatnonzero(np.isinf(values))[0])
        raise ValueError(
            f"{what} contains inf (first at position {where}); replace it with a finite value"
        )
    check_magnitude(values, what)


def check_magnitude(values: np.ndarray, what: str) -> None:
    """Raise a ValueError for values beyond +-:data:`MAX_ABS_VALUE` (NaN passes).

    Parameters
    ----------
    values : numpy.ndarray
        Numeric values of any shape.
    what : str
        Their name in the error message (``"y series 'a'"``, ``"X"``).
    """
    too_large = np.abs(values) > MAX_ABS_VALUE
    if too_large.any():
        first = np.unravel_index(int(np.flatnonzero(too_large)[0]), values.shape)
        where = int(first[0]) if len(first) == 1 else tuple(int(i) for i in first)
        raise ValueError(
            f"{what} has a value of {values[first]:.3g} at position {where}, beyond the +-"
            f"{MAX_ABS_VALUE:.0e} tsattn trains on in float32; rescale it (e.g. divide by 1e6)"
        )


def _check_no_nan(values: np.ndarray, what: str, allow_nan: bool = False) -> None:
    if allow_nan:
        if np.isnan(values).all():
            raise ValueError(f"{what} has no observed values; drop it")
        return
    if np.isnan(values).any():
        where = int(np.flatnonzero(np.isnan(values))[0])
        raise ValueError(
            f"{what} contains NaN (first at position {where}); pass missing='mask' to the "
            f"forecaster to mask missing values out of its inputs and loss, or fill them first "
            f"(e.g. y.interpolate())"
        )


def _index_axis(index: pd.Index, what: str) -> TimeAxis:
    """The time axis of a Series' or wide DataFrame's index."""
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
        if not index.is_monotonic_increasing:
            raise ValueError(f"{what} has unsorted timestamps; sort it first (sort_index())")
        freq = index.freqstr if index.freq is not None else _infer_freq(index, what)
        return TimeAxis("datetime", freq)
    if pd.api.types.is_integer_dtype(index.dtype):
        steps = np.diff(index.to_numpy())
        if len(steps) and (steps <= 0).any():
            raise ValueError(f"{what} has an unsorted or duplicate integer index; sort it first")
        if len(steps) and not (steps == steps[0]).all():
            raise ValueError(f"{what} has an integer index with uneven steps; reindex it regularly")
        return TimeAxis("integer", int(steps[0]) if len(steps) else 1)
    raise TypeError(
        f"{what} must be indexed by time (DatetimeIndex, PeriodIndex) or by integers, got "
        f"{type(index).__name__} of dtype {index.dtype}"
    )


def _infer_freq(index: pd.DatetimeIndex, what: str) -> str:
    with warnings.catch_warnings():
        # pandas 3 warns that infer_freq will return an offset; either answer works below.
        warnings.filterwarnings("ignore", message=".*infer_freq.*")
        freq = pd.infer_freq(index) if len(index) >= 3 else None
    if freq is not None and not isinstance(freq, str):
        freq = freq.freqstr
    if freq is None:
        raise ValueError(
            f"cannot infer the frequency of {what}'s timestamps (irregular, with gaps, or fewer "
            f"than 3); make them regular, e.g. y.asfreq('MS'), or set index.freq"
        )
    return freq


def _from_series(y: pd.Series, name: str, allow_nan: bool = False) -> Panel:
    if len(y) == 0:
        raise ValueError(f"{name} is empty; pass at least horizon + 1 observations")
    values = _numeric(y.to_numpy(), f"{name}")
    _check_finite(values, name)
    _check_no_nan(values, f"{name}", allow_nan)
    axis = _index_axis(y.index, name)
    series_name = None if y.name is None else _plain_id(y.name, f"{name}.name")
    return Panel(
        values=values.astype(np.float32),
        offsets=np.array([0, len(values)], dtype=np.int64),
        ids=[series_name if series_name is not None else 0],
        last=[y.index[-1]],
        axis=axis,
        layout={"kind": "series", "name": series_name},
    )


def _trim_leading_nan(column: np.ndarray, what: str, allow_nan: bool = False) -> np.ndarray:
    """Drop a column's leading NaN (a series that starts later); other NaN are an error.

    With ``allow_nan`` later NaN stay in the series as missing values.
    """
    _check_finite(column, what)
    observed = np.flatnonzero(~np.isnan(column))
    if len(observed) == 0:
        raise ValueError(f"{what} has no observed values; drop it")
    if observed[-1] != len(column) - 1 and not allow_nan:
        raise ValueError(
            f"{what} ends with NaN; in a wide table every series must reach the last row. "
            f"Use a long DataFrame (unique_id, ds, y) for series that end at different times"
        )
    trimmed = column[observed[0] :]
    _check_no_nan(trimmed, what, allow_nan)
    return trimmed


def _from_columns(
    columns: list[np.ndarray], ids: list, last, axis, layout, name, allow_nan: bool = False
) -> Panel:
    trimmed = [
        _trim_leading_nan(col, f"{name} series {sid!r}", allow_nan)
        for col, sid in zip(columns, ids, strict=True)
    ]
    lengths = np.array([len(t) for t in trimmed], dtype=np.int64)
    return Panel(
        values=np.concatenate(trimmed).astype(np.float32),
        offsets=np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64),
        ids=ids,
        last=[last] * len(ids),
        axis=axis,
        layout=layout,
    )


def _from_wide(y: pd.DataFrame, name: str, allow_nan: bool = False) -> Panel:
    if y.shape[0] == 0 or y.shape[1] == 0:
        raise ValueError(
            f"{name} is empty (shape {y.shape}); pass a row per time step and a column per series"
        )
    if isinstance(y.columns, pd.MultiIndex):
        raise TypeError(
            f"{name} has MultiIndex columns; a wide DataFrame has one level of series names: "
            f"flatten them, e.g. {name}.columns = ['_'.join(map(str, c)) for c in {name}.columns]"
        )
    if y.columns.has_duplicates:
        raise ValueError(f"{name} has duplicate column names; each series needs its own name")
    for col in y.columns:
        if not pd.api.types.is_numeric_dtype(y[col]) or pd.api.types.is_bool_dtype(y[col]):
            raise TypeError(
                f"{name} column {col!r} is not numeric (dtype {y[col].dtype}); a wide DataFrame "
                f"holds one numeric column per series. For a long table use columns unique_id, ds, y"
            )
    axis = _index_axis(y.index, name)
    values = _numeric(y.to_numpy(), name)
    ids = [_plain_id(c, f"{name} column name") for c in y.columns]
    layout = {"kind": "wide", "columns": [_jsonable(c) for c in ids]}
    return _from_columns(list(values.T), ids, y.index[-1], axis, layout, name, allow_nan)


def _from_array(y: np.ndarray, name: str, allow_nan: bool = False) -> Panel:
    if y.ndim not in (1, 2):
        raise ValueError(f"{name} must be 1-D (one series) or 2-D (time x series), got {y.ndim}-D")
    if y.size == 0:
        raise ValueError(
            f"{name} is empty (shape {y.shape}); pass at least horizon + 1 observations"
        )
    values = _numeric(y, name)
    columns = [values] if y.ndim == 1 else list(values.T)
    axis = TimeAxis("position", 1)
    layout = {"kind": "array1d" if y.ndim == 1 else "array2d"}
    return _from_columns(
        columns, list(range(len(columns))), y.shape[0] - 1, axis, layout, name, allow_nan
    )


def _from_long(y: pd.DataFrame, name: str, allow_nan: bool = False) -> Panel:
    repeated = sorted({str(c) for c in y.columns[y.columns.duplicated()]})
    if repeated:
        raise ValueError(
            f"{name} has more than one column named {', '.join(map(repr, repeated))}; keep one of "
            f"each, e.g. {name}.loc[:, ~{name}.columns.duplicated()]"
        )
    missing = [c for c in LONG_COLUMNS if c not in y.columns]
    if missing:
        raise ValueError(
            f"{name} looks like a long DataFrame but lacks column(s) {missing}; a long table needs "
            f"columns {list(LONG_COLUMNS)} (found {list(y.columns)[:10]})"
        )
    if len(y) == 0:
        raise ValueError(f"{name} is empty; pass at least horizon + 1 rows per series")
    if y[ID_COL].isna().any():
        raise ValueError(f"{name}[{ID_COL!r}] contains missing ids; every row needs a series id")
    if y[TIME_COL].isna().any():
        raise ValueError(f"{name}[{TIME_COL!r}] contains missing timestamps")
    values = _numeric(y[TARGET_COL].to_numpy(), f"{name}[{TARGET_COL!r}]")
    ids_col = y[ID_COL].to_numpy()
    ds = y[TIME_COL]
    time_format: dict = {}
    if pd.api.types.is_datetime64_any_dtype(ds.dtype):
        # Timestamps are compared as naive nanoseconds, aware ones in UTC: a wall clock repeats
        # an hour when daylight saving time ends, and those hours are not duplicates. The unit
        # and zone are given back on output.
        time_format = {"unit": ds.dt.unit, "tz": None if ds.dt.tz is None else str(ds.dt.tz)}
        times = ds.dt.tz_convert("UTC").dt.tz_localize(None) if ds.dt.tz is not None else ds
        times = times.to_numpy()
        times = times.astype("datetime64[ns]").astype(np.int64)
        kind = "datetime"
    elif pd.api.types.is_integer_dtype(ds.dtype):
        times, kind = ds.to_numpy().astype(np.int64), "integer"
    else:
        raise TypeError(
            f"{name}[{TIME_COL!r}] must hold datetimes or integers, got dtype {ds.dtype}; "
            f"convert it with pd.to_datetime"
        )
    # Sort by (id, time) without touching the user's frame; ids keep their first-seen order.
    codes, uniques = pd.factorize(ids_col, sort=False)
    order = np.lexsort((times, codes))
    codes, times, values = codes[order], times[order], values[order]
    same_series = codes[1:] == codes[:-1]
    steps = np.diff(times)
    duplicate = same_series & (steps == 0)
    if duplicate.any():
        sid = _jsonable(uniques[codes[1:][duplicate][0]])
        raise ValueError(
            f"{name} has duplicate timestamps for series {sid!r}; aggregate them first, e.g. "
            f"y.groupby(['unique_id', 'ds'], as_index=False)['y'].sum()"
        )
    counts = np.bincount(codes, minlength=len(uniques))
    offsets = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
    for i in np.flatnonzero(np.add.reduceat(~(np.abs(values) <= MAX_ABS_VALUE), offsets[:-1])):
        what = f"{name} series {_jsonable(uniques[i])!r}"
        _check_finite(values[offsets[i] : offsets[i + 1]], what)
        _check_no_nan(values[offsets[i] : offsets[i + 1]], what, allow_nan)
    tz = time_format.get("tz")
    axis = _long_axis(
        times, offsets, steps[same_series], kind, uniques, codes[1:][same_series], name, tz
    )
    last_raw = times[offsets[1:] - 1]
    if kind == "datetime" and tz is not None:
        last = list(pd.to_datetime(last_raw).tz_localize("UTC").tz_convert(tz))
    elif kind == "datetime":
        last = list(pd.to_datetime(last_raw))
    else:
        last = [int(t) for t in last_raw]
    ids = [_plain_id(u, f"{name}[{ID_COL!r}] value") for u in uniques]
    return Panel(
        values=values.astype(np.float32),
        offsets=offsets,
        ids=ids,
        last=last,
        axis=axis,
        layout={"kind": "long", "time_kind": kind, **time_format},
    )


def _long_axis(times, offsets, steps, kind, uniques, step_codes, name, tz=None) -> TimeAxis:
    """Infer one frequency for all series of a long table and reject gaps.

    ``times`` are int64 nanoseconds, in UTC when ``tz`` names the timestamps' zone: the
    frequency and its grid are then taken in that zone (a day is 23 or 25 hours across a change
    of daylight saving time, an hour is always one).
    """
    lengths = np.diff(offsets)
    longest = int(np.argmax(lengths))
    if kind == "integer":
        step = int(np.min(steps)) if len(steps) else 1
        allowed = np.array([step])
        freq: str | int = step
    else:
        span = pd.DatetimeIndex(times[offsets[longest] : offsets[longest + 1]])
        span = span if tz is None else span.tz_localize("UTC").tz_convert(tz)
        freq = _infer_freq(span, f"{name} series {_jsonable(uniques[longest])!r}")
        # Month, quarter and year steps vary in length; take every step length the frequency has.
        start, end = pd.Timestamp(times.min()), pd.Timestamp(times.max())
        if tz is not None:
            start, end = (t.tz_localize("UTC").tz_convert(tz) for t in (start, end))
        grid = pd.date_range(start, end, freq=freq)
        grid_keys = grid.as_unit("ns").asi8
        allowed = np.unique(np.diff(grid_keys)) if len(grid) > 1 else np.unique(steps)
    bad = ~np.isin(steps, allowed)
    if bad.any():
        sid = _jsonable(uniques[step_codes[bad][0]])
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
        sid = _jsonable(uniques[int(np.searchsorted(offsets, first, side="right")) - 1])
        ref = _jsonable(uniques[longest])
        stamp = int(times[first]) if kind == "integer" else pd.Timestamp(int(times[first]))
        raise ValueError(
            f"{name} series {sid!r} is not on the time grid of series {ref!r} (frequency "
            f"{freq!r}): its timestamp {stamp} falls between two steps of that grid. Series on "
            f"different anchors (month start and month end, weeks ending on different days, odd "
            f"and even integers) cannot share one model's dates; move them onto one anchor "
            f"(e.g. ds.dt.to_period('M').dt.to_timestamp()) or forecast them separately"
        )
    return TimeAxis(kind, freq)


def _jsonable(value: Any) -> Any:
    """Plain Python value for ids and names (numpy scalars do not go into JSON)."""
    return value.item() if isinstance(value, np.generic) else value


def _plain_id(value: Any, what: str) -> str | int | float:
    """A series id as the plain str, int or float it is; other kinds are refused.

    Ids are saved with a model and given back on every forecast, so they must survive JSON as
    what they were: 3.5 stays 3.5 and np.int64(7) becomes 7, while a tuple or a Timestamp would
    come back as something else.
    """
    plain = _jsonable(value)
    if isinstance(plain, (str, int, float)) and not (isinstance(plain, float) and plain != plain):
        return plain
    raise TypeError(
        f"{what} {value!r} is a {type(value).__name__}; series ids must be strings or numbers. "
        f"Convert them first, e.g. with .astype(str), or '_'.join(map(str, key)) for tuples"
    )


def _unmasked(y: np.ma.MaskedArray, name: str, allow_nan: bool) -> np.ndarray:
    """A masked array's masked entries as NaN: missing values, never the numbers under the mask."""
    mask = np.ma.getmaskarray(y)
    if mask.any() and not allow_nan:
        where = int(np.argwhere(np.atleast_1d(mask))[0][0])
        raise ValueError(
            f"{name} is a masked array with {int(mask.sum())} masked value(s) (first in row "
            f"{where}); pass missing='mask' to the forecaster to leave them out of its inputs and "
            f"loss, or fill them first ({name}.filled(value))"
        )
    values = _numeric(np.ma.getdata(y), name)  # a float64 copy: y is not modified
    values[mask] = np.nan
    return values


# ----------------------------------------------------------------------------------------------
# Forecasts -> the user's format


def from_forecasts(
    forecasts: np.ndarray,
    *,
    ids: list,
    last: list,
    axis: TimeAxis,
    layout: dict,
    columns: list[str] | None = None,
) -> Any:
    """Turn forecasts of shape (n_series, horizon[, k]) into the kind of object ``fit`` got.

    Parameters
    ----------
    forecasts : numpy.ndarray
        (n_series, horizon) point forecasts, or (n_series, horizon, k) with ``columns`` naming k.
    ids, last, axis, layout
        As stored from the fitted :class:`Panel`.
    columns : list of str or None
        Names of the k values per step (e.g. quantiles); None for point forecasts.

    Returns
    -------
    pandas.Series, pandas.DataFrame or numpy.ndarray
        Point forecasts in y's own format. With ``columns``: a DataFrame indexed by time with
        those columns (Series y), with columns (series, name) (wide y), a long frame with
        ``unique_id``, ``ds`` and those columns (long y), or an array (horizon, k) or
        (horizon, n_series, k) (array y).
    """
    kind = layout["kind"]
    horizon = forecasts.shape[1]
    if kind == "array1d" and columns is None:
        return forecasts[0]
    if kind == "array2d" and columns is None:
        return forecasts.T
    if kind in ("array1d", "array2d"):  # (horizon, k) or (horizon, n_series, k)
        return forecasts.transpose(1, 0, 2) if kind == "array2d" else forecasts[0]
    if kind == "series" and columns is None:
        return pd.Series(forecasts[0], index=axis.future(last[0], horizon), name=layout["name"])
    if kind == "series":
        return pd.DataFrame(
            forecasts[0], index=axis.future(last[0], horizon), columns=pd.Index(columns)
        )
    if kind == "wide" and columns is None:
        return pd.DataFrame(
            forecasts.T, index=axis.future(last[0], horizon), columns=_names(layout["columns"])
        )
    if kind == "wide":  # columns (series, name), as a wide X
        n, k = forecasts.shape[0], forecasts.shape[2]
        return pd.DataFrame(
            forecasts.transpose(1, 0, 2).reshape(horizon, n * k),
            index=axis.future(last[0], horizon),
            columns=pd.MultiIndex.from_product([layout["columns"], list(columns)]),
        )
    return _long_frame(forecasts, ids, last, axis, layout, columns)


def _names(names: list) -> pd.Index:
    """Series names as an Index that gives each back as it was (7 and 3.5, not 7.0 and 3.5)."""
    index = pd.Index(names)
    same = [type(v) for v in index.tolist()] == [type(v) for v in names]
    return index if same else pd.Index(names, dtype=object)


def _long_frame(forecasts, ids, last, axis, layout, columns) -> pd.DataFrame:
    """A long frame: unique_id, ds and the forecast column(s)."""
    n, horizon = forecasts.shape[:2]
    future_by_last: dict[Any, pd.Index] = {}
    stamps = []
    for end in last:  # series sharing an end share their future dates: compute each once
        if end not in future_by_last:
            future_by_last[end] = axis.future(end, horizon)
        stamps.append(future_by_last[end])
    ds = stamps[0].append(stamps[1:]) if n > 1 else stamps[0]
    if layout.get("unit"):
        ds = ds.as_unit(layout["unit"])
        if layout.get("tz"):  # aware when the stamps continue an aware ``last``
            ds = ds.tz_localize(layout["tz"]) if ds.tz is None else ds.tz_convert(layout["tz"])
    frame = pd.DataFrame({ID_COL: np.repeat(np.asarray(ids, dtype=object), horizon), TIME_COL: ds})
    if layout["kind"] == "series" and columns is None:
        frame[TARGET_COL] = forecasts.reshape(-1)
    elif columns is None:
        frame[TARGET_COL] = forecasts.reshape(-1)
    else:
        for j, col in enumerate(columns):
            frame[col] = forecasts[:, :, j].reshape(-1)
    return frame
