"""Every accepted input format -> one validated panel of series, and forecasts back again.

Accepted: a pandas Series (DatetimeIndex, PeriodIndex or integer index), a wide DataFrame (a column
per series), a long DataFrame (``unique_id``, ``ds``, ``y`` as in Nixtla's libraries), a 1-D array
(one series) or a 2-D array (time x series). The panel holds all values once, as one float32 array
with offsets per series; forecasts are turned back into the kind of object the user gave.

This module is the panel's public face: :func:`to_panel` picks the reader of ``y``'s format
(:mod:`~tsattn.forecast.panel.readers`), :func:`from_forecasts` gives forecasts back; the types live
in :mod:`~tsattn.forecast.panel.types` and the checks of the numbers in
:mod:`~tsattn.forecast.panel.checks`, and are importable from here too.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from tsattn.forecast.panel.checks import MAX_ABS_VALUE, check_magnitude
from tsattn.forecast.panel.readers import from_array, from_long, from_masked, from_series, from_wide
from tsattn.forecast.panel.types import (
    ID_COL,
    LONG_COLUMNS,
    TARGET_COL,
    TIME_COL,
    Layout,
    Panel,
    TimeAxis,
)

__all__ = [
    "Layout",
    "ID_COL",
    "LONG_COLUMNS",
    "MAX_ABS_VALUE",
    "TARGET_COL",
    "TIME_COL",
    "Panel",
    "TimeAxis",
    "check_magnitude",
    "from_forecasts",
    "id_values",
    "to_panel",
]


def to_panel(y: Any, *, name: str = "y", allow_nan: bool = False, freq: Any = None) -> Panel:
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
    freq : str, int or None, default=None
        The frequency a fitted model knows: it dates histories of one or two timestamps, too
        few to infer one from.

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
        return from_series(y, name, allow_nan, freq)
    if isinstance(y, pd.DataFrame):
        if any(col in y.columns for col in LONG_COLUMNS[:2]):
            return from_long(y, name, allow_nan, freq)
        return from_wide(y, name, allow_nan, freq)
    if isinstance(y, (list, tuple)):
        raise TypeError(
            f"{name} must be a pandas Series, a DataFrame or a numpy array, got a {type(y).__name__};"
            f" wrap it with np.asarray({name}) or pd.Series({name})"
        )
    if isinstance(y, np.ma.MaskedArray):
        return from_masked(y, name, allow_nan)
    if isinstance(y, np.ndarray):
        return from_array(y, name, allow_nan)
    raise TypeError(
        f"{name} must be a pandas Series, a wide or long (unique_id, ds, y) DataFrame, or a numpy "
        f"array, got {type(y).__name__}"
    )


def from_forecasts(
    forecasts: np.ndarray,
    *,
    ids: list,
    last: list,
    axis: TimeAxis,
    layout: Layout,
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
    kind = layout.kind
    horizon = forecasts.shape[1]
    if kind == "array1d" and columns is None:
        return forecasts[0]
    if kind == "array2d" and columns is None:
        return forecasts.T
    if kind in ("array1d", "array2d"):  # (horizon, k) or (horizon, n_series, k)
        return forecasts.transpose(1, 0, 2) if kind == "array2d" else forecasts[0]
    if kind == "series" and columns is None:
        return pd.Series(forecasts[0], index=axis.future(last[0], horizon), name=layout.name)
    if kind == "series":
        return pd.DataFrame(
            forecasts[0], index=axis.future(last[0], horizon), columns=pd.Index(columns)
        )
    if kind == "wide" and columns is None:
        return pd.DataFrame(
            forecasts.T, index=axis.future(last[0], horizon), columns=_names(list(layout.columns))
        )
    if kind == "wide":  # columns (series, name), as a wide X
        n, k = forecasts.shape[0], forecasts.shape[2]
        return pd.DataFrame(
            forecasts.transpose(1, 0, 2).reshape(horizon, n * k),
            index=axis.future(last[0], horizon),
            columns=pd.MultiIndex.from_product([list(layout.columns), list(columns)]),
        )
    return _long_frame(forecasts, ids, last, axis, layout, columns)


def _names(names: list) -> pd.Index:
    """Series names as an Index that gives each back as it was (7 and 3.5, not 7.0 and 3.5)."""
    index = pd.Index(names)
    same = [type(v) for v in index.tolist()] == [type(v) for v in names]
    return index if same else pd.Index(names, dtype=object)


def id_values(ids: list, repeats: Any = 1) -> np.ndarray:
    """Series ids, each repeated, as a column of the ids' own kind.

    Integer ids give an integer column and strings an object column, as the ``unique_id`` of
    a long ``y`` held them; ids of mixed kinds stay objects.
    """
    return np.repeat(_names(list(ids)).to_numpy(), repeats)


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
    if layout.unit:
        ds = ds.as_unit(layout.unit)
        if layout.tz:  # aware when the stamps continue an aware ``last``
            ds = ds.tz_localize(layout.tz) if ds.tz is None else ds.tz_convert(layout.tz)
    frame = pd.DataFrame({ID_COL: id_values(ids, horizon), TIME_COL: ds})
    if layout.kind == "series" and columns is None:
        frame[TARGET_COL] = forecasts.reshape(-1)
    elif columns is None:
        frame[TARGET_COL] = forecasts.reshape(-1)
    else:
        for j, col in enumerate(columns):
            frame[col] = forecasts[:, :, j].reshape(-1)
    return frame
