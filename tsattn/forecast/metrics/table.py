"""``evaluate``: point metrics of long forecast frames, per series or overall.

The frames are keyed by (``unique_id``, ``ds``); every forecast column other than the keys
is a model. The elementwise terms are the array metrics' own
(:mod:`~tsattn.forecast.metrics.point`), so both give the same values.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from tsattn._validation import check_int, check_option
from tsattn.forecast.metrics.point import METRICS, _check_no_zero_actuals, _mape_terms, _smape_terms
from tsattn.forecast.panel.conversion import ID_COL, TARGET_COL, TIME_COL

__all__ = ["evaluate"]


def evaluate(
    actual: pd.DataFrame,
    forecast: pd.DataFrame | None = None,
    train: pd.DataFrame | None = None,
    season: int = 1,
    metrics: Sequence[str] = ("smape", "mase"),
    per_series: bool = False,
    models: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Score long forecast frames against the actual values, per series or overall.

    ``actual`` and ``forecast`` are joined on (``unique_id``, ``ds``) and must cover the same
    pairs. Every forecast column other than the keys is a model (a forecaster's ``predict``
    gives one column ``y``; Nixtla-style frames give one column per model); interval and
    quantile columns (``<model>-lo-80``, ``<model>-hi-80``, ``<model>-q-10``) are not models.

    A cross-validation frame (:meth:`tsattn.Seq2SeqForecaster.cross_validation`, or
    statsforecast's) holds both: pass it alone as ``actual``. Each cutoff's window is then
    scored on its own, a series' value is its mean over the cutoffs, and ``train`` gives every
    series' MASE scale.

    Parameters
    ----------
    actual : pandas.DataFrame
        Long frame with ``unique_id``, ``ds`` and the actual values in ``y``; with
        ``forecast`` None, also the models' columns (and a ``cutoff`` column, if any).
    forecast : pandas.DataFrame or None, default=None
        Long frame with ``unique_id``, ``ds`` and one numeric column per model; None when
        ``actual`` holds the forecasts too.
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
    if forecast is None:
        return _evaluate_combined(actual, train, season, metrics, per_series, models)
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


# Interval bounds and quantiles of a model, as Nixtla's libraries name them: not models.
_BOUND_COLUMN = re.compile(r".+-(lo|hi|q)-[0-9.]+$")


def _evaluate_combined(frame, train, season, metrics, per_series, models) -> pd.DataFrame:
    """``evaluate`` of one frame holding the actual values and the forecasts, per cutoff."""
    _check_long(frame, "actual", (ID_COL, TIME_COL, TARGET_COL), keys=())
    keys = [ID_COL, TIME_COL] + (["cutoff"] if "cutoff" in frame.columns else [])
    if models is None:
        models = [
            c for c in frame.columns
            if c not in (*keys, TARGET_COL) and not _BOUND_COLUMN.fullmatch(str(c))
        ]  # fmt: skip
        if not models:
            raise ValueError(
                "actual holds no forecast column: with forecast=None it must hold the models' "
                "columns beside unique_id, ds and y (a cross_validation frame)"
            )
    models = _as_list(models, "models")
    groups = frame.groupby("cutoff", sort=True) if "cutoff" in keys else [(None, frame)]
    parts = []
    for _, part in groups:
        parts.append(
            evaluate(
                part[[ID_COL, TIME_COL, TARGET_COL]],
                part[[ID_COL, TIME_COL, *models]],
                train,
                season,
                metrics,
                per_series=True,
                models=models,
            )
        )
    table = pd.concat(parts, ignore_index=True)
    metric_names = [c for c in table.columns if c not in (ID_COL, "model")]
    table = table.groupby([ID_COL, "model"], sort=False)[metric_names].mean().reset_index()
    if per_series:
        return table
    return table.groupby("model", sort=False)[metric_names].mean()


def _as_list(values: Any, name: str) -> list:
    if isinstance(values, str):
        return [values]
    values = list(values)
    if not values:
        raise ValueError(f"{name} is empty; name at least one of {list(METRICS)}")
    return values


def _check_long(
    frame: Any, name: str, columns: tuple[str, ...], keys: tuple = (ID_COL, TIME_COL)
) -> None:
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
    duplicated = frame.duplicated(list(keys)) if keys else np.zeros(len(frame), dtype=bool)
    if duplicated.any():
        first = frame.loc[duplicated, [ID_COL, TIME_COL]].iloc[0].tolist()
        raise ValueError(
            f"{name} has duplicate (unique_id, ds) pairs, e.g. {first}; each pair needs one row"
        )


def _model_columns(forecast: pd.DataFrame, models: Sequence[str] | None) -> list:
    if models is None:
        names = [
            c for c in forecast.columns
            if c not in (ID_COL, TIME_COL) and not _BOUND_COLUMN.fullmatch(str(c))
        ]  # fmt: skip
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
