"""X in any format -> rows keyed by (series, time), and lookups of those rows.

X mirrors y's format (see :mod:`tsattn.forecast.covariates.design`). :func:`x_rows` turns every format
into one :class:`Rows`: a series code per row (or none, when a row is shared by all series), an
int64 time key per row (:func:`~tsattn.forecast.timegrid.time_keys`) and the covariate columns.
:func:`lookup` then reads the values at exactly the (series, time) pairs the model needs, with an
error naming the first pair X lacks, so X may hold any further rows in any order.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from tsattn.forecast.panel.conversion import ID_COL, TIME_COL
from tsattn.forecast.panel.timegrid import key_label, time_keys
from tsattn.forecast.panel.types import TimeAxis

__all__ = ["NamedColumns", "Rows", "array_column_names", "lookup", "rows_of_series", "x_rows"]


class NamedColumns(np.ndarray):
    """An array X whose columns (its last axis) are named ``names``, not ``x0, x1, ...``.

    What remains of an array X when some of its columns are left out (covariate selection):
    the kept ones keep the names, and so the positions, they have in the whole X.
    """

    names: tuple = ()

    @classmethod
    def of(cls, values: np.ndarray, names: list) -> NamedColumns:
        """``values`` viewed with its columns named ``names``."""
        if np.shape(values)[-1] != len(names):
            raise ValueError(f"{len(names)} names for {np.shape(values)[-1]} columns")
        named = np.asarray(values).view(cls)
        named.names = tuple(names)
        return named


def array_column_names(X: np.ndarray, n_columns: int) -> list:
    """The names of an array X's columns: its own (:class:`NamedColumns`) or x0, x1, ..."""
    names = getattr(X, "names", ())
    return list(names) if len(names) == n_columns else [f"x{j}" for j in range(n_columns)]


@dataclass(frozen=True)
class Rows:
    """X as rows: series codes (None: every row is shared by all series), time keys, values."""

    codes: np.ndarray | None
    keys: np.ndarray
    frame: pd.DataFrame  # covariate columns only


def x_rows(X: Any, panel_layout: dict, ids: list, axis: TimeAxis) -> Rows:
    """Turn ``X`` into :class:`Rows`, mirroring ``y``'s format.

    Parameters
    ----------
    X : pandas.DataFrame or numpy.ndarray
        Covariates, in the format of y (see :mod:`tsattn.forecast.covariates.design`).
    panel_layout : Layout
        The fitted panel's layout (its ``kind`` says y's format).
    ids : list
        The series ids seen in ``fit``.
    axis : TimeAxis
        y's time axis.

    Returns
    -------
    Rows
    """
    kind = panel_layout.kind
    if kind in ("array1d", "array2d"):
        return _array_rows(X, kind, len(ids))
    if isinstance(X, np.ndarray):
        raise TypeError(
            "X is an array but y was a pandas object; pass X in y's format (see "
            "Seq2SeqForecaster.fit)"
        )
    if kind == "series" and isinstance(X, pd.Series):
        X = X.to_frame(X.name if X.name is not None else "x")
    if not isinstance(X, pd.DataFrame):
        raise TypeError(f"X must be a pandas DataFrame like y, got {type(X).__name__}")
    if kind == "long":
        return _long_rows(X, ids, axis)
    if kind == "wide" and isinstance(X.columns, pd.MultiIndex):
        return _wide_rows(X, ids, axis)
    if ID_COL in X.columns and TIME_COL in X.columns:
        raise ValueError(
            f"X is a long DataFrame ({ID_COL}, {TIME_COL}, ...) but y was a {kind} object; "
            f"pass X indexed by time like y"
        )
    if isinstance(X.columns, pd.MultiIndex):
        raise ValueError(
            "X has MultiIndex columns, which only a wide y takes; pass one column per covariate"
        )
    keys = time_keys(X.index, axis, "X's index")
    codes = np.zeros(len(X), dtype=np.int64) if kind == "series" else None
    return Rows(codes, keys, X)


def _long_rows(X: pd.DataFrame, ids: list, axis: TimeAxis) -> Rows:
    missing = [c for c in (ID_COL, TIME_COL) if c not in X.columns]
    if missing:
        raise ValueError(
            f"y is a long DataFrame, so X must be one too: columns {ID_COL}, {TIME_COL} and one "
            f"column per covariate; X lacks {missing}"
        )
    codes = _codes(X[ID_COL].to_numpy(), ids)
    keys = time_keys(X[TIME_COL], axis, f"X[{TIME_COL!r}]")
    return Rows(codes, keys, X.drop(columns=[ID_COL, TIME_COL]))


def _wide_rows(X: pd.DataFrame, ids: list, axis: TimeAxis) -> Rows:
    if X.columns.nlevels != 2:
        raise ValueError(
            f"a wide X needs two column levels (series, covariate), got {X.columns.nlevels}"
        )
    keys = time_keys(X.index, axis, "X's index")
    series = list(dict.fromkeys(X.columns.get_level_values(0)))
    codes = _codes(np.asarray(series, dtype=object), ids)
    blocks, block_codes = [], []
    for sid, code in zip(series, codes, strict=True):
        block = X[sid]
        blocks.append(block.reset_index(drop=True))
        block_codes.append(np.full(len(block), code, dtype=np.int64))
    frame = pd.concat(blocks, ignore_index=True)
    if frame.columns.has_duplicates:
        raise ValueError("X has duplicate (series, covariate) columns")
    return Rows(np.concatenate(block_codes), np.tile(keys, len(series)), frame)


def _array_rows(X: Any, kind: str, n_series: int) -> Rows:
    """Rows of an array X: row ``r`` is time step ``r`` of y's axis, in fit and predict alike."""
    if not isinstance(X, np.ndarray):
        raise TypeError(f"y was an array, so X must be an array too, got {type(X).__name__}")
    shared = X.ndim == 2 or (X.ndim == 1 and kind == "array1d")
    if X.ndim == 1 and kind == "array1d":
        X = X[:, None]
    if X.ndim not in (2, 3) or (X.ndim == 3 and X.shape[1] != n_series):
        raise ValueError(
            f"X must have shape (rows, covariates) shared by all series or (rows, {n_series}, "
            f"covariates), got {X.shape}"
        )
    rows = X.shape[0]
    keys = np.arange(rows, dtype=np.int64)
    names = array_column_names(X, X.shape[-1])
    X = np.asarray(X)
    if shared or kind == "array1d":
        values = X if X.ndim == 2 else X[:, 0]
        frame = pd.DataFrame(values, columns=names)
        return Rows(None if kind == "array2d" else np.zeros(rows, dtype=np.int64), keys, frame)
    values = X.transpose(1, 0, 2).reshape(n_series * rows, X.shape[2])  # series-major
    frame = pd.DataFrame(values, columns=names)
    codes = np.repeat(np.arange(n_series, dtype=np.int64), rows)
    return Rows(codes, np.tile(keys, n_series), frame)


def _codes(series_ids: np.ndarray, ids: list) -> np.ndarray:
    """Positions of ``series_ids`` among the fitted ``ids``; unknown ids are an error."""
    position = {sid: i for i, sid in enumerate(ids)}
    codes = np.fromiter((position.get(s, -1) for s in series_ids), np.int64, len(series_ids))
    if (codes < 0).any():
        unknown = list(dict.fromkeys(series_ids[codes < 0].tolist()))
        raise ValueError(
            f"X has series ids that y does not have: {unknown[:5]}"
            f"{' ...' if len(unknown) > 5 else ''} ({len(unknown)}); drop them, e.g. "
            f"X[X['{ID_COL}'].isin(ids)]"
        )
    return codes


def lookup(
    rows: Rows,
    columns: list,
    codes: np.ndarray,
    keys: np.ndarray,
    ids: list,
    axis: TimeAxis,
    needed: str,
) -> np.ndarray:
    """The values of ``columns`` at every (code, key), float64 (n, len(columns)).

    Raises a ValueError naming the first missing (series, time) or the first NaN.
    """
    if rows.codes is None:
        index = pd.Index(rows.keys)
        if index.has_duplicates:
            raise ValueError(
                f"X has duplicate timestamps ({key_label(index[index.duplicated()][0], axis)}); "
                "keep one row per time step"
            )
        found = index.get_indexer(keys)
    else:
        index = pd.MultiIndex.from_arrays([rows.codes, rows.keys])
        if index.has_duplicates:
            code, key = index[index.duplicated()][0]
            raise ValueError(
                f"X has duplicate rows for series {ids[code]!r} at {key_label(key, axis)}; keep one "
                "row per (series, time)"
            )
        found = index.get_indexer(pd.MultiIndex.from_arrays([codes, keys]))
    if (found < 0).any():
        first = int(np.flatnonzero(found < 0)[0])
        n_series = len(np.unique(codes[found < 0]))
        raise ValueError(
            f"X does not cover {needed}: it lacks series {ids[codes[first]]!r} at "
            f"{key_label(keys[first], axis)} (missing: {int((found < 0).sum())} time step(s) of "
            f"{n_series} series)"
        )
    values = _numeric_columns(rows.frame, columns).to_numpy(dtype=np.float64)[found]
    bad = ~np.isfinite(values)
    if bad.any():
        row, col = np.argwhere(bad)[0]
        what = "NaN" if np.isnan(values[row, col]) else "inf"
        raise ValueError(
            f"X column {columns[col]!r} has {what} for series {ids[codes[row]]!r} at "
            f"{key_label(keys[row], axis)} ({int(bad.sum())} such values where the model reads X); "
            f"fill them (e.g. X.ffill()) or drop the column"
        )
    return values


def _numeric_columns(frame: pd.DataFrame, columns: list) -> pd.DataFrame:
    absent = [col for col in columns if col not in frame.columns]
    if absent:
        raise ValueError(
            f"X lacks the column(s) {absent}, which the model was fit with and reads over the "
            f"history (X has {list(frame.columns)[:10]}); pass them"
        )
    out = {}
    for col in columns:
        series = frame[col]
        if pd.api.types.is_bool_dtype(series.dtype):
            series = series.astype(np.float64)
        elif not pd.api.types.is_numeric_dtype(series.dtype):
            raise TypeError(
                f"X column {col!r} is not numeric (dtype {series.dtype}); encode it as numbers "
                f"(e.g. pd.get_dummies), or pass per-series attributes as static features"
            )
        out[col] = series
    return pd.DataFrame(out)


def rows_of_series(X: Any, layout: Any, ids: list) -> Any:
    """X without the rows of series other than ``ids``, where X holds rows of every one of them.

    ``predict(y=...)`` forecasts the series of y: an X of every series the model knows serves
    it, its other series ignored as its other dates are. An X lacking a series of y is left as
    it is, so that its lookup names what is missing (and any id X has that y has not, a typo).
    Long and wide (series, covariate) frames only: other formats are not keyed by series id.
    """
    if not isinstance(X, pd.DataFrame):
        return X
    if layout.kind == "long" and ID_COL in X.columns:
        present = X[ID_COL]
    elif layout.kind == "wide" and isinstance(X.columns, pd.MultiIndex):
        present = pd.Series(X.columns.get_level_values(0))
    else:
        return X
    inside = present.isin(ids).to_numpy()
    if inside.all() or not pd.Index(ids).isin(present).all():
        return X
    return X[inside] if layout.kind == "long" else X.loc[:, inside]
