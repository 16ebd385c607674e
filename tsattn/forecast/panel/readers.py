"""The readers of every accepted ``y`` format, each validating its input and giving a Panel.

A pandas Series (DatetimeIndex, PeriodIndex or integer index), a wide DataFrame (a column per
series), a long DataFrame (``unique_id``, ``ds``, ``y``), a 1-D or 2-D array, or a masked array.
Every reader copies what it keeps: the user's object is never modified.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from tsattn.forecast.panel.axis import check_datetime_range, index_axis, long_axis
from tsattn.forecast.panel.checks import (
    MAX_ABS_VALUE,
    check_finite,
    check_no_nan,
    jsonable,
    plain_id,
    to_float64,
)
from tsattn.forecast.panel.types import (
    ID_COL,
    LONG_COLUMNS,
    TARGET_COL,
    TIME_COL,
    Layout,
    Panel,
    TimeAxis,
)


def from_series(y: pd.Series, name: str, allow_nan: bool = False, freq=None) -> Panel:
    """Read one series given as a pandas Series.

    Parameters
    ----------
    y : pandas.Series
        Indexed by a DatetimeIndex, a PeriodIndex or integers.
    name : str
        The argument's name in error messages.
    allow_nan : bool, default=False
        Keep NaN inside the series as missing values; only a series with nothing observed is
        then an error.
    freq : str, int or None, default=None
        The frequency a fitted model knows: dates one or two timestamps.

    Returns
    -------
    Panel
    """
    if len(y) == 0:
        raise ValueError(f"{name} is empty; pass at least horizon + 1 observations")
    values = to_float64(y.to_numpy(), f"{name}")
    check_finite(values, name)
    check_no_nan(values, f"{name}", allow_nan)
    axis = index_axis(y.index, name, freq)
    series_name = None if y.name is None else plain_id(y.name, f"{name}.name")
    return Panel(
        values=values.astype(np.float32),
        offsets=np.array([0, len(values)], dtype=np.int64),
        ids=[series_name if series_name is not None else 0],
        last=[y.index[-1]],
        axis=axis,
        layout=Layout("series", name=series_name),
    )


def _trim_leading_nan(column: np.ndarray, what: str, allow_nan: bool = False) -> np.ndarray:
    """Drop a column's leading NaN (a series that starts later); other NaN are an error.

    With ``allow_nan`` later NaN stay in the series as missing values.
    """
    check_finite(column, what)
    observed = np.flatnonzero(~np.isnan(column))
    if len(observed) == 0:
        raise ValueError(f"{what} has no observed values; drop it")
    if observed[-1] != len(column) - 1 and not allow_nan:
        raise ValueError(
            f"{what} ends with NaN; in a wide table every series must reach the last row. "
            f"Use a long DataFrame (unique_id, ds, y) for series that end at different times"
        )
    trimmed = column[observed[0] :]
    check_no_nan(trimmed, what, allow_nan)
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


def from_wide(y: pd.DataFrame, name: str, allow_nan: bool = False, freq=None) -> Panel:
    """Read a wide DataFrame: a column per series.

    Parameters
    ----------
    y : pandas.DataFrame
        A numeric column per series, indexed by time; leading NaN mark later starts.
    name : str
        The argument's name in error messages.
    allow_nan : bool, default=False
        Keep NaN inside the series as missing values; only a series with nothing observed is
        then an error.
    freq : str, int or None, default=None
        The frequency a fitted model knows: dates one or two timestamps.

    Returns
    -------
    Panel
    """
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
    axis = index_axis(y.index, name, freq)
    values = to_float64(y.to_numpy(), name)
    ids = [plain_id(c, f"{name} column name") for c in y.columns]
    layout = Layout("wide", columns=[jsonable(c) for c in ids])
    return _from_columns(list(values.T), ids, y.index[-1], axis, layout, name, allow_nan)


def from_array(y: np.ndarray, name: str, allow_nan: bool = False) -> Panel:
    """Read a 1-D or 2-D array; positions stand in for timestamps.

    Parameters
    ----------
    y : numpy.ndarray
        1-D (one series) or 2-D (time x series).
    name : str
        The argument's name in error messages.
    allow_nan : bool, default=False
        Keep NaN inside the series as missing values; only a series with nothing observed is
        then an error.

    Returns
    -------
    Panel
    """
    if y.ndim not in (1, 2):
        raise ValueError(f"{name} must be 1-D (one series) or 2-D (time x series), got {y.ndim}-D")
    if y.size == 0:
        raise ValueError(
            f"{name} is empty (shape {y.shape}); pass at least horizon + 1 observations"
        )
    values = to_float64(y, name)
    columns = [values] if y.ndim == 1 else list(values.T)
    axis = TimeAxis("position", 1)
    layout = Layout("array1d" if y.ndim == 1 else "array2d")
    return _from_columns(
        columns, list(range(len(columns))), y.shape[0] - 1, axis, layout, name, allow_nan
    )


def from_long(y: pd.DataFrame, name: str, allow_nan: bool = False, freq=None) -> Panel:
    """Read a long DataFrame: a row per (series, time).

    Parameters
    ----------
    y : pandas.DataFrame
        Columns ``unique_id``, ``ds`` (datetimes or integers) and ``y``, in any order of rows.
    name : str
        The argument's name in error messages.
    allow_nan : bool, default=False
        Keep NaN inside the series as missing values; only a series with nothing observed is
        then an error.
    freq : str, int or None, default=None
        The frequency a fitted model knows: dates series of one or two rows.

    Returns
    -------
    Panel
    """
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
    values = to_float64(y[TARGET_COL].to_numpy(), f"{name}[{TARGET_COL!r}]")
    ids_col = y[ID_COL].to_numpy()
    ds = y[TIME_COL]
    time_format: dict = {}
    if pd.api.types.is_datetime64_any_dtype(ds.dtype):
        # Timestamps are compared as naive nanoseconds, aware ones in UTC: a wall clock repeats
        # an hour when daylight saving time ends, and those hours are not duplicates. The unit
        # and zone are given back on output.
        time_format = {"unit": ds.dt.unit, "tz": None if ds.dt.tz is None else str(ds.dt.tz)}
        check_datetime_range(ds.min(), ds.max(), f"{name}[{TIME_COL!r}]")
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
        sid = jsonable(uniques[codes[1:][duplicate][0]])
        raise ValueError(
            f"{name} has duplicate timestamps for series {sid!r}; aggregate them first, e.g. "
            f"y.groupby(['unique_id', 'ds'], as_index=False)['y'].sum()"
        )
    counts = np.bincount(codes, minlength=len(uniques))
    offsets = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
    for i in np.flatnonzero(np.add.reduceat(~(np.abs(values) <= MAX_ABS_VALUE), offsets[:-1])):
        what = f"{name} series {jsonable(uniques[i])!r}"
        check_finite(values[offsets[i] : offsets[i + 1]], what)
        check_no_nan(values[offsets[i] : offsets[i + 1]], what, allow_nan)
    tz = time_format.get("tz")
    axis = long_axis(
        times,
        offsets,
        steps[same_series],
        kind,
        uniques,
        codes[1:][same_series],
        name,
        tz,
        freq,
    )
    last_raw = times[offsets[1:] - 1]
    if kind == "datetime" and tz is not None:
        last = list(pd.to_datetime(last_raw).tz_localize("UTC").tz_convert(tz))
    elif kind == "datetime":
        last = list(pd.to_datetime(last_raw))
    else:
        last = [int(t) for t in last_raw]
    ids = [plain_id(u, f"{name}[{ID_COL!r}] value") for u in uniques]
    return Panel(
        values=values.astype(np.float32),
        offsets=offsets,
        ids=ids,
        last=last,
        axis=axis,
        layout=Layout("long", time_kind=kind, **time_format),
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
    values = to_float64(np.ma.getdata(y), name)  # a float64 copy: y is not modified
    values[mask] = np.nan
    return values


def from_masked(y: np.ma.MaskedArray, name: str, allow_nan: bool = False) -> Panel:
    """Read a masked array as :func:`from_array` does, its masked entries as missing values.

    Parameters
    ----------
    y : numpy.ma.MaskedArray
        1-D (one series) or 2-D (time x series).
    name : str
        The argument's name in error messages.
    allow_nan : bool, default=False
        Whether missing values are allowed; without it any masked entry is an error.

    Returns
    -------
    Panel
    """
    return from_array(_unmasked(y, name, allow_nan), name, allow_nan)
