"""Static features: per-series attributes (category, store, size) encoded once per series.

Static features are a DataFrame indexed by series id. Numeric columns are standardised across
series; categorical ones (strings, categories) are one-hot encoded. The forecaster concatenates
them to every encoder and decoder step, so a one-hot column times the RNN's input weights is a
learned embedding of its category (one vector per category and gate), with no extra module.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from tsattn.forecast.covariates.scaling import RANGE_SPANS, range_limits
from tsattn.forecast.panel.checks import check_magnitude
from tsattn.forecast.panel.conversion import ID_COL

__all__ = ["MAX_LEVELS", "apply_static", "encode_static"]

# Most levels a static categorical column may have: each level is one input feature per step.
MAX_LEVELS = 100


def encode_static(static: Any, ids: list) -> tuple[np.ndarray, list]:
    """Encode static features for the series ``ids``.

    Parameters
    ----------
    static : pandas.DataFrame
        One row per series, indexed by series id; numeric, boolean or categorical columns.
    ids : list
        The series to encode, in panel order; ``static`` may hold further series.

    Returns
    -------
    matrix : numpy.ndarray
        (n_series, S) float32.
    encoding : list of dict
        How every column was encoded: ``name``, ``kind`` ("numeric" with ``loc``, ``scale``,
        the range ``low`` to ``high`` and whether it is a 0/1 ``flag``, or "category" with
        ``levels``).

    Raises
    ------
    TypeError, ValueError
        For a non-DataFrame, duplicate or missing series, missing values, inf, or a
        categorical column with more than :data:`MAX_LEVELS` levels.
    """
    _check_frame(static)
    if static.shape[1] == 0:
        raise ValueError("static has no columns")
    index = static.index
    if isinstance(index, pd.MultiIndex) or ID_COL in static.columns:
        raise ValueError(
            f"static must be indexed by series id (static.set_index({ID_COL!r})), one row per "
            "series"
        )
    _check_covers(index, ids)
    rows = static.loc[list(ids)] if len(ids) else static.iloc[:0]
    columns, encoding = [], []
    for name in static.columns:
        column = rows[name]
        if column.isna().any():
            sid = column.index[column.isna().to_numpy()][0]
            raise ValueError(f"static column {name!r} has a missing value for series {sid!r}")
        if pd.api.types.is_bool_dtype(column.dtype) or pd.api.types.is_numeric_dtype(column.dtype):
            values = column.to_numpy(dtype=np.float64)
            if not np.isfinite(values).all():
                raise ValueError(f"static column {name!r} has inf")
            # Standardising values near float64's limit overflows (std = inf turns all to 0).
            check_magnitude(values, f"static column {name!r}")
            loc, scale = values.mean(), values.std()
            scale = scale if scale > 0 else 1.0
            columns.append(((values - loc) / scale)[:, None])
            encoding.append({
                "name": str(name), "kind": "numeric", "loc": loc, "scale": scale,
                "low": float(values.min()), "high": float(values.max()),
                "flag": set(np.unique(values).tolist()) == {0.0, 1.0},
            })  # fmt: skip
            continue
        levels = sorted(map(str, pd.unique(column)))
        if len(levels) > MAX_LEVELS:
            raise ValueError(
                f"static column {name!r} has {len(levels)} categories, more than {MAX_LEVELS}; "
                "an id-like column adds nothing the series' own history does not give: drop it "
                "or group rare categories"
            )
        codes = pd.Categorical(column.astype(str), categories=levels).codes
        columns.append(np.eye(len(levels))[codes])
        encoding.append({"name": str(name), "kind": "category", "levels": levels})
    return np.concatenate(columns, axis=1).astype(np.float32), encoding


def apply_static(encoding: list, static: Any, ids: list) -> np.ndarray:
    """Encode the static features of ``ids`` as :func:`encode_static` learnt in ``fit``.

    Numeric columns are standardised with fit's mean and deviation; a category never seen in
    ``fit`` gets all zeros (no level's embedding), as a new store would. As for X, a numeric
    value must lie within ``RANGE_SPANS`` spans of the range ``fit`` saw, and a 0/1 flag of
    ``fit`` must be 0 or 1.

    Parameters
    ----------
    encoding : list of dict
        From :func:`encode_static`.
    static : pandas.DataFrame
        One row per series, indexed by series id, with the columns of ``fit``.
    ids : list
        The series to encode, in panel order.

    Returns
    -------
    numpy.ndarray
        (n_series, S) float32.

    Raises
    ------
    TypeError, ValueError
        As :func:`encode_static`; and for a value far outside fit's range, or other than 0 and
        1 in a column that was a 0/1 flag in fit.
    """
    _check_frame(static)
    _check_covers(static.index, ids)
    absent = [item["name"] for item in encoding if item["name"] not in map(str, static.columns)]
    if absent:
        raise ValueError(f"static lacks the columns {absent} the model was fit with")
    frame = static.set_axis([str(c) for c in static.columns], axis=1)
    frame = frame.loc[list(ids)]
    columns = []
    for item in encoding:
        column = frame[item["name"]]
        if column.isna().any():
            sid = column.index[column.isna().to_numpy()][0]
            raise ValueError(f"static column {item['name']!r} has a missing value for {sid!r}")
        if item["kind"] == "numeric":
            values = column.to_numpy(dtype=np.float64)
            if not np.isfinite(values).all():
                raise ValueError(f"static column {item['name']!r} has inf")
            _check_fitted_range(item, values, list(ids))
            columns.append(((values - item["loc"]) / item["scale"])[:, None])
        else:
            codes = pd.Categorical(column.astype(str), categories=item["levels"]).codes
            onehot = np.zeros((len(codes), len(item["levels"])))
            seen = codes >= 0
            onehot[np.flatnonzero(seen), codes[seen]] = 1.0
            columns.append(onehot)
    return np.concatenate(columns, axis=1).astype(np.float32)


def _check_fitted_range(item: dict, values: np.ndarray, ids: list) -> None:
    """Refuse values a numeric column never had in fit, as X's are refused.

    A 0/1 flag (a column fit saw at 0 and 1 and nothing else) takes 0 or 1 only; other values
    must lie within ``RANGE_SPANS`` spans of the range fit saw (models saved without the range
    skip this).
    """
    name = item["name"]
    if item.get("flag"):
        bad = (values != 0) & (values != 1)
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise ValueError(
                f"static column {name!r} was a 0/1 flag in fit but is {values[i]:g} for series "
                f"{ids[i]!r}; give it 0 or 1"
            )
    if "low" not in item or "high" not in item:
        return
    low, high = np.array([item["low"]]), np.array([item["high"]])
    lower, upper = range_limits(low, high)
    bad = (values < lower[0]) | (values > upper[0])
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise ValueError(
            f"static column {name!r} is {values[i]:g} for series {ids[i]!r}, far outside the "
            f"range fit saw ({low[0]:g} to {high[0]:g}; accepted: {lower[0]:g} to {upper[0]:g}, "
            f"{RANGE_SPANS} spans beyond it); check its units, or fit again on data that holds "
            f"such values ({int(bad.sum())} value(s) outside)"
        )


def _check_frame(static: Any) -> None:
    """Refuse static features that are not a DataFrame with one row per series id."""
    if not isinstance(static, pd.DataFrame):
        raise TypeError(
            f"static must be a DataFrame indexed by series id, got {type(static).__name__}"
        )
    if static.index.has_duplicates:
        dup = static.index[static.index.duplicated()][0]
        raise ValueError(f"static has duplicate rows for series {dup!r}; keep one per series")


def _check_covers(index: pd.Index, ids: list) -> None:
    """Refuse static features without a row for every series of ``ids``."""
    missing = [sid for sid in ids if sid not in index]
    if missing:
        raise ValueError(
            f"static lacks series {missing[:5]}{' ...' if len(missing) > 5 else ''} "
            f"({len(missing)} of {len(ids)}); it needs one row per series of y"
        )
