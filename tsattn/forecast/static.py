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

from tsattn.forecast.panel import ID_COL

__all__ = ["MAX_LEVELS", "encode_static"]

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
        How every column was encoded: ``name``, ``kind`` ("numeric" with ``loc`` and
        ``scale``, or "category" with ``levels``).

    Raises
    ------
    TypeError, ValueError
        For a non-DataFrame, duplicate or missing series, missing values, inf, or a
        categorical column with more than :data:`MAX_LEVELS` levels.
    """
    if not isinstance(static, pd.DataFrame):
        raise TypeError(
            f"static must be a DataFrame indexed by series id, got {type(static).__name__}"
        )
    if static.index.has_duplicates:
        dup = static.index[static.index.duplicated()][0]
        raise ValueError(f"static has duplicate rows for series {dup!r}; keep one per series")
    if static.shape[1] == 0:
        raise ValueError("static has no columns")
    index = static.index
    if isinstance(index, pd.MultiIndex) or ID_COL in static.columns:
        raise ValueError(
            f"static must be indexed by series id (static.set_index({ID_COL!r})), one row per "
            "series"
        )
    missing = [sid for sid in ids if sid not in index]
    if missing:
        raise ValueError(
            f"static lacks series {missing[:5]}{' ...' if len(missing) > 5 else ''} "
            f"({len(missing)} of {len(ids)}); it needs one row per series of y"
        )
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
            loc, scale = values.mean(), values.std()
            scale = scale if scale > 0 else 1.0
            columns.append(((values - loc) / scale)[:, None])
            encoding.append({"name": str(name), "kind": "numeric", "loc": loc, "scale": scale})
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
