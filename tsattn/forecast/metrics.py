"""Forecast accuracy: point errors, scaled errors, quantile loss and interval coverage.

The array functions take array-likes of one series (1-D, the horizon) or of many series (2-D,
series x horizon) and average over all values. ``smape`` is on the 0-200 scale of the M3
and M4 competitions and ``mape`` is in percent. ``mase`` scales each series' errors by the
mean absolute seasonal difference of its own history (Hyndman & Koehler, 2006).
:func:`evaluate` scores long forecast frames (``unique_id``, ``ds``) per series or overall.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from tsattn._validation import check_int, check_option
from tsattn.forecast.panel import ID_COL, TARGET_COL, TIME_COL

METRICS = ("mae", "rmse", "smape", "mape", "mase")

__all__ = [
    "METRICS",
    "evaluate",
    "interval_coverage",
    "mae",
    "mape",
    "mase",
    "pinball_loss",
    "rmse",
    "smape",
]


# ----------------------------------------------------------------------------------------------
# Input checks


def _as_values(values: Any, name: str, max_ndim: int = 2) -> np.ndarray:
    """Float64 array of ``values`` with clear errors for wrong dimensions, empty or NaN input."""
    if isinstance(values, (pd.DataFrame, pd.Series)):
        values = values.to_numpy()
    try:
        array = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError):
        raise TypeError(
            f"{name} must hold numbers, got {type(values).__name__}; a ragged list of series "
            f"of different lengths is only accepted as y_train of mase"
        ) from None
    if array.ndim == 0:
        array = array.reshape(1)
    if not 1 <= array.ndim <= max_ndim:
        raise ValueError(
            f"{name} must be 1-D (one series) or 2-D (series x horizon), got {array.ndim}-D "
            f"with shape {array.shape}"
        )
    if array.size == 0:
        raise ValueError(f"{name} is empty (shape {array.shape}); pass at least one value")
    if not np.isfinite(array).all():
        raise ValueError(f"{name} contains NaN or inf; drop or fill those values first")
    return array


def _pair(y_true: Any, y_pred: Any, pred_name: str = "y_pred") -> tuple[np.ndarray, np.ndarray]:
    """``y_true`` and a forecast of the same shape."""
    actual = _as_values(y_true, "y_true")
    forecast = _as_values(y_pred, pred_name)
    if actual.shape != forecast.shape:
        raise ValueError(
            f"y_true and {pred_name} must have the same shape, got {actual.shape} and "
            f"{forecast.shape}"
        )
    return actual, forecast


# ----------------------------------------------------------------------------------------------
# Elementwise terms (shared by the array functions and evaluate)


def _smape_terms(actual: np.ndarray, forecast: np.ndarray) -> np.ndarray:
    """200 |y - f| / (|y| + |f|), with 0 where both are 0 (a perfect forecast of zero)."""
    denominator = np.abs(actual) + np.abs(forecast)
    safe = np.where(denominator > 0, denominator, 1.0)
    return np.where(denominator > 0, 200.0 * np.abs(actual - forecast) / safe, 0.0)


def _mape_terms(actual: np.ndarray, forecast: np.ndarray) -> np.ndarray:
    """100 |y - f| / |y|; the caller rules out zero actuals."""
    return 100.0 * np.abs(actual - forecast) / np.abs(actual)


def _check_no_zero_actuals(actual: np.ndarray) -> None:
    if (actual == 0).any():
        raise ValueError(
            "mape is undefined where an actual value is zero (division by zero); use smape or "
            "mase for series that can be zero"
        )


def _scale(history: np.ndarray, season: int, which: str) -> float:
    """Mean absolute seasonal difference of one in-sample series (period 1 if it is too short)."""
    if len(history) < 2:
        raise ValueError(
            f"{which} has {len(history)} in-sample value(s); mase needs at least 2 to compute "
            f"its scale"
        )
    m = season if len(history) > season else 1
    scale = float(np.mean(np.abs(history[m:] - history[:-m])))
    if scale == 0:
        raise ValueError(
            f"{which} is constant at lag {m} (all in-sample seasonal differences are zero), "
            f"so mase is undefined for it; score it with mae or smape instead"
        )
    return scale


# ----------------------------------------------------------------------------------------------
# Point forecasts


def mae(y_true: Any, y_pred: Any) -> float:
    """Mean absolute error over all values.

    Parameters
    ----------
    y_true, y_pred : array-like of shape (horizon,) or (n_series, horizon)
        Actual values and point forecasts.

    Returns
    -------
    float

    Examples
    --------
    >>> mae([1.0, 2.0, 4.0], [2.0, 2.0, 1.0])
    1.3333333333333333
    """
    actual, forecast = _pair(y_true, y_pred)
    return float(np.mean(np.abs(actual - forecast)))


def rmse(y_true: Any, y_pred: Any) -> float:
    """Root mean squared error, pooled over all values.

    For 2-D input this is the root of the mean squared error over every series and step,
    not the mean of per-series RMSEs (which :func:`evaluate` reports).

    Parameters
    ----------
    y_true, y_pred : array-like of shape (horizon,) or (n_series, horizon)
        Actual values and point forecasts.

    Returns
    -------
    float

    Examples
    --------
    >>> rmse([1.0, 2.0, 4.0, 0.0], [2.0, 2.0, 1.0, 0.0])
    1.5811388300841898
    """
    actual, forecast = _pair(y_true, y_pred)
    return float(np.sqrt(np.mean((actual - forecast) ** 2)))


def smape(y_true: Any, y_pred: Any) -> float:
    """Symmetric mean absolute percentage error on the competitions' 0-200 scale.

    ``200 * mean(|y - f| / (|y| + |f|))``, the M4 definition (for the positive M3 data it
    equals M3's ``|y - f| / ((y + f) / 2)``). A step where actual and forecast are both zero
    counts as 0.

    Parameters
    ----------
    y_true, y_pred : array-like of shape (horizon,) or (n_series, horizon)
        Actual values and point forecasts.

    Returns
    -------
    float
        Between 0 and 200.

    Examples
    --------
    >>> smape([100.0, 100.0], [100.0, 300.0])
    50.0
    """
    actual, forecast = _pair(y_true, y_pred)
    return float(np.mean(_smape_terms(actual, forecast)))


def mape(y_true: Any, y_pred: Any) -> float:
    """Mean absolute percentage error, in percent.

    Parameters
    ----------
    y_true, y_pred : array-like of shape (horizon,) or (n_series, horizon)
        Actual values and point forecasts.

    Returns
    -------
    float

    Raises
    ------
    ValueError
        If an actual value is zero.

    Examples
    --------
    >>> mape([100.0, 200.0], [110.0, 150.0])
    17.5
    """
    actual, forecast = _pair(y_true, y_pred)
    _check_no_zero_actuals(actual)
    return float(np.mean(_mape_terms(actual, forecast)))


def mase(y_true: Any, y_pred: Any, y_train: Any, season: int = 1) -> float:
    """Mean absolute scaled error.

    Each series' absolute errors are divided by the mean absolute seasonal difference
    ``mean(|y_t - y_{t-m}|)`` of its own in-sample series; a series with no more than ``m``
    in-sample values falls back to ``m = 1``. For many series this is the mean over all
    series and steps, which (every series having the same horizon) is the mean of the
    per-series MASEs.

    Parameters
    ----------
    y_true, y_pred : array-like of shape (horizon,) or (n_series, horizon)
        Actual values and point forecasts.
    y_train : array-like
        In-sample values: 1-D for one series; for 2-D ``y_true`` a 2-D array with a row per
        series or a sequence of ``n_series`` 1-D arrays of any lengths.
    season : int, default=1
        Seasonal period ``m`` of the scale (12 for monthly data, 1 for none).

    Returns
    -------
    float

    Raises
    ------
    ValueError
        For mismatched shapes, an in-sample series shorter than 2, or one whose seasonal
        differences are all zero (the scale would be zero).

    Examples
    --------
    >>> mase([5.0, 6.0], [4.0, 8.0], y_train=[1.0, 2.0, 4.0])
    1.0
    """
    actual, forecast = _pair(y_true, y_pred)
    season = check_int("season", season)
    histories = _histories(y_train, actual)
    scales = np.array(
        [
            _scale(h, season, "y_train" if actual.ndim == 1 else f"y_train series {i}")
            for i, h in enumerate(histories)
        ]
    )
    errors = np.abs(actual - forecast).reshape(len(histories), -1)  # (n_series, horizon)
    return float(np.mean(errors / scales[:, None]))


def _histories(y_train: Any, actual: np.ndarray) -> list[np.ndarray]:
    """The in-sample series of ``mase``, one per row of ``actual``."""
    if actual.ndim == 1:
        return [_as_values(y_train, "y_train", max_ndim=1)]
    if isinstance(y_train, np.ndarray | pd.DataFrame) or not isinstance(y_train, Sequence):
        rows = list(_as_values(y_train, "y_train"))
        if np.ndim(rows[0]) == 0:
            raise ValueError(
                "y_train must have a row per series when y_true is 2-D; got a 1-D y_train"
            )
    else:
        if all(np.ndim(h) == 0 for h in y_train):
            raise ValueError(
                "y_train must have a row per series when y_true is 2-D; got a flat sequence"
            )
        rows = [_as_values(h, f"y_train series {i}", max_ndim=1) for i, h in enumerate(y_train)]
    if len(rows) != actual.shape[0]:
        raise ValueError(
            f"y_train has {len(rows)} series but y_true has {actual.shape[0]}; give one "
            f"in-sample series per row of y_true"
        )
    return rows


# ----------------------------------------------------------------------------------------------
# Probabilistic forecasts


def pinball_loss(y_true: Any, q_pred: Any, quantile: float | Sequence[float]) -> float:
    """Mean pinball (quantile) loss.

    For quantile ``q`` and error ``e = y - f`` the loss is ``max(q * e, (q - 1) * e)``:
    under-forecasts cost ``q`` per unit, over-forecasts ``1 - q``.

    Parameters
    ----------
    y_true : array-like of shape (horizon,) or (n_series, horizon)
        Actual values.
    q_pred : array-like
        Quantile forecasts: the shape of ``y_true`` for one quantile, or that shape plus a
        last axis of length k for k quantiles.
    quantile : float or sequence of float
        The quantile level(s), each strictly between 0 and 1.

    Returns
    -------
    float
        The mean over all values (and quantiles).

    Examples
    --------
    >>> pinball_loss([10.0, 10.0], [8.0, 14.0], quantile=0.9)
    1.1
    """
    actual = _as_values(y_true, "y_true")
    levels = np.atleast_1d(np.asarray(quantile, dtype=np.float64))
    if levels.ndim != 1 or levels.size == 0:
        raise ValueError(f"quantile must be a float or a 1-D sequence of floats, got {quantile!r}")
    if not ((levels > 0) & (levels < 1)).all():
        raise ValueError(f"every quantile must lie strictly between 0 and 1, got {quantile!r}")
    forecast = _as_values(q_pred, "q_pred", max_ndim=3)
    expected = actual.shape if np.ndim(quantile) == 0 else (*actual.shape, levels.size)
    if forecast.shape != expected:
        raise ValueError(
            f"q_pred must have shape {expected} (y_true's shape"
            f"{'' if np.ndim(quantile) == 0 else ' plus one column per quantile'}), got "
            f"{forecast.shape}"
        )
    if np.ndim(quantile) == 0:
        forecast = forecast[..., None]
    error = actual[..., None] - forecast  # (..., k)
    return float(np.mean(np.maximum(levels * error, (levels - 1) * error)))


def interval_coverage(y_true: Any, lower: Any, upper: Any) -> float:
    """Share of actual values inside their prediction interval, bounds included.

    Parameters
    ----------
    y_true : array-like of shape (horizon,) or (n_series, horizon)
        Actual values.
    lower, upper : array-like of the same shape
        Interval bounds, ``lower <= upper``.

    Returns
    -------
    float
        Between 0 and 1; compare it with the interval's nominal coverage.

    Raises
    ------
    ValueError
        For mismatched shapes or a lower bound above its upper bound.

    Examples
    --------
    >>> interval_coverage([1.0, 5.0, 3.0, 9.0], [0.0, 0.0, 3.0, 0.0], [2.0, 4.0, 4.0, 8.0])
    0.5
    """
    actual, low = _pair(y_true, lower, "lower")
    _, high = _pair(y_true, upper, "upper")
    if (low > high).any():
        where = tuple(int(i) for i in np.argwhere(low > high)[0])
        raise ValueError(
            f"lower is above upper at position {where}; pass lower <= upper (swapped arguments?)"
        )
    return float(np.mean((actual >= low) & (actual <= high)))


# ----------------------------------------------------------------------------------------------
# Long frames


def evaluate(
    actual: pd.DataFrame,
    forecast: pd.DataFrame,
    train: pd.DataFrame | None = None,
    season: int = 1,
    metrics: Sequence[str] = ("smape", "mase"),
    per_series: bool = False,
    models: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Score long forecast frames against the actual values, per series or overall.

    ``actual`` and ``forecast`` are joined on (``unique_id``, ``ds``) and must cover the same
    pairs. Every forecast column other than the keys is a model (a forecaster's ``predict``
    gives one column ``y``; Nixtla-style frames give one column per model).

    Parameters
    ----------
    actual : pandas.DataFrame
        Long frame with ``unique_id``, ``ds`` and the actual values in ``y``.
    forecast : pandas.DataFrame
        Long frame with ``unique_id``, ``ds`` and one numeric column per model.
    train : pandas.DataFrame or None, default=None
        Long frame (``unique_id``, ``ds``, ``y``) of the in-sample values; needed for
        ``"mase"``, and must hold every forecast series.
    season : int, default=1
        Seasonal period of MASE's scale.
    metrics : sequence of {"mae", "rmse", "smape", "mape", "mase"}, default=("smape", "mase")
        What to compute.
    per_series : bool, default=False
        Return one row per (series, model) instead of one per model.
    models : sequence of str or None, default=None
        The forecast columns to score; None scores every non-key column.

    Returns
    -------
    pandas.DataFrame
        Overall: indexed by ``model``, a column per metric, each the mean over series of the
        per-series values (the competitions' convention). Per series: columns
        ``unique_id``, ``model`` and one per metric.

    Raises
    ------
    ValueError
        For missing columns, duplicate keys, pairs that only one side has, an unknown metric,
        or ``"mase"`` without ``train``.

    Examples
    --------
    >>> import pandas as pd
    >>> actual = pd.DataFrame({"unique_id": ["a", "a"], "ds": [3, 4], "y": [5.0, 6.0]})
    >>> fc = pd.DataFrame({"unique_id": ["a", "a"], "ds": [3, 4], "y": [4.0, 8.0]})
    >>> train = pd.DataFrame({"unique_id": ["a", "a", "a"], "ds": [0, 1, 2], "y": [1.0, 2.0, 4.0]})
    >>> evaluate(actual, fc, train, metrics=("mae", "mase"))  # doctest: +NORMALIZE_WHITESPACE
           mae  mase
    model
    y      1.5   1.0
    """
    metrics = [check_option("metrics", m, METRICS) for m in _as_list(metrics, "metrics")]
    season = check_int("season", season)
    if not isinstance(per_series, bool | np.bool_):
        raise TypeError(f"per_series must be True or False, got {per_series!r}")
    _check_long(actual, "actual", (ID_COL, TIME_COL, TARGET_COL))
    _check_long(forecast, "forecast", (ID_COL, TIME_COL))
    names = _model_columns(forecast, models)
    if "mase" in metrics and train is None:
        raise ValueError("metric 'mase' needs train, the long frame of in-sample values")

    joined = _join(actual, forecast, names)
    ids = joined[ID_COL]
    actual_values = joined["__actual"].to_numpy()
    scale = _scales(train, season, pd.unique(ids)) if "mase" in metrics else None
    rows = []
    for name in names:
        predicted = joined[name].to_numpy()
        error = actual_values - predicted
        terms: dict[str, np.ndarray] = {}
        for metric in metrics:
            if metric == "mae":
                terms[metric] = np.abs(error)
            elif metric == "rmse":
                terms[metric] = error**2
            elif metric == "smape":
                terms[metric] = _smape_terms(actual_values, predicted)
            elif metric == "mape":
                _check_no_zero_actuals(actual_values)
                terms[metric] = _mape_terms(actual_values, predicted)
            else:
                terms[metric] = np.abs(error) / ids.map(scale).to_numpy()
        table = pd.DataFrame(terms, index=ids).groupby(level=0, sort=False).mean()
        if "rmse" in table:
            table["rmse"] = np.sqrt(table["rmse"])
        table.insert(0, "model", name)
        rows.append(table.reset_index())
    result = pd.concat(rows, ignore_index=True)[[ID_COL, "model", *metrics]]
    if per_series:
        return result
    return result.groupby("model", sort=False)[metrics].mean()


def _as_list(values: Any, name: str) -> list:
    if isinstance(values, str):
        return [values]
    values = list(values)
    if not values:
        raise ValueError(f"{name} is empty; name at least one of {list(METRICS)}")
    return values


def _check_long(frame: Any, name: str, columns: tuple[str, ...]) -> None:
    if not isinstance(frame, pd.DataFrame):
        raise TypeError(f"{name} must be a long pandas DataFrame, got {type(frame).__name__}")
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ValueError(
            f"{name} lacks column(s) {missing}; a long frame has columns {list(columns)} "
            f"(found {list(frame.columns)[:10]})"
        )
    if len(frame) == 0:
        raise ValueError(f"{name} is empty; pass at least one row")
    duplicated = frame.duplicated([ID_COL, TIME_COL])
    if duplicated.any():
        first = frame.loc[duplicated, [ID_COL, TIME_COL]].iloc[0].tolist()
        raise ValueError(
            f"{name} has duplicate (unique_id, ds) pairs, e.g. {first}; each pair needs one row"
        )


def _model_columns(forecast: pd.DataFrame, models: Sequence[str] | None) -> list:
    if models is None:
        names = [c for c in forecast.columns if c not in (ID_COL, TIME_COL)]
        if not names:
            raise ValueError(
                "forecast has no forecast column: besides unique_id and ds it needs one numeric "
                "column per model (y for a forecaster's predict)"
            )
    else:
        names = _as_list(models, "models")
        missing = [c for c in names if c not in forecast.columns]
        if missing:
            raise ValueError(f"models {missing} are not columns of forecast")
    for name in names:
        column = forecast[name]
        if not pd.api.types.is_numeric_dtype(column) or pd.api.types.is_bool_dtype(column):
            raise TypeError(
                f"forecast column {name!r} is not numeric (dtype {column.dtype}); pass models=[...] "
                f"to name the forecast columns"
            )
        if not np.isfinite(column.to_numpy(dtype=np.float64)).all():
            raise ValueError(f"forecast column {name!r} contains NaN or inf")
    return names


def _join(actual: pd.DataFrame, forecast: pd.DataFrame, names: list) -> pd.DataFrame:
    """Inner join on the keys after checking that both sides hold the same pairs."""
    left = actual[[ID_COL, TIME_COL, TARGET_COL]].rename(columns={TARGET_COL: "__actual"})
    right = forecast[[ID_COL, TIME_COL, *names]]
    try:
        joined = left.merge(right, on=[ID_COL, TIME_COL], how="outer", indicator=True, sort=False)
    except ValueError as err:
        raise ValueError(
            f"cannot join actual and forecast on (unique_id, ds): {err}. Both need the same kind "
            f"of ds (both datetimes or both integers) and of unique_id"
        ) from None
    for side, label in (("left_only", "forecast lacks"), ("right_only", "actual lacks")):
        unmatched = joined["_merge"] == side
        if unmatched.any():
            first = joined.loc[unmatched, [ID_COL, TIME_COL]].iloc[0].tolist()
            raise ValueError(
                f"{label} {int(unmatched.sum())} (unique_id, ds) pair(s) of the other, e.g. "
                f"{first}; both frames must cover the same series and steps"
            )
    if not np.isfinite(joined["__actual"].to_numpy(dtype=np.float64)).all():
        raise ValueError("actual['y'] contains NaN or inf; drop those rows first")
    return joined.drop(columns="_merge").sort_values([ID_COL, TIME_COL], kind="stable")


def _scales(train: pd.DataFrame, season: int, ids: np.ndarray) -> pd.Series:
    """MASE scale of every series in ``ids``, from the long in-sample frame."""
    _check_long(train, "train", (ID_COL, TIME_COL, TARGET_COL))
    frame = train[[ID_COL, TIME_COL, TARGET_COL]].sort_values([ID_COL, TIME_COL], kind="stable")
    if not np.isfinite(frame[TARGET_COL].to_numpy(dtype=np.float64)).all():
        raise ValueError("train['y'] contains NaN or inf; fill or drop those values first")
    groups = frame.groupby(ID_COL, sort=False)[TARGET_COL]
    size = groups.size()
    # pandas' mean skips the NaN that diff leaves at each series' start.
    seasonal = groups.diff(season).abs().groupby(frame[ID_COL], sort=False).mean()
    first = groups.diff(1).abs().groupby(frame[ID_COL], sort=False).mean()
    scale = seasonal.where(size > season, first)
    absent = [i for i in ids if i not in scale.index]
    if absent:
        raise ValueError(
            f"train lacks {len(absent)} forecast series, e.g. {absent[0]!r}; mase needs every "
            f"series' in-sample values"
        )
    scale = scale.loc[ids]
    short = size.loc[ids] < 2
    if short.any():
        raise ValueError(
            f"train series {short[short].index[0]!r} has fewer than 2 values; mase needs at "
            f"least 2 to compute its scale"
        )
    if (scale == 0).any():
        raise ValueError(
            f"train series {scale[scale == 0].index[0]!r} is constant at its seasonal lag (all "
            f"its in-sample differences are zero), so mase is undefined for it; leave 'mase' "
            f"out of metrics or drop the series"
        )
    return scale
