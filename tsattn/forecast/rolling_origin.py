"""Rolling-origin forecasts: a forecaster's forecasts from several cutoffs of the histories.

Window ``k`` of ``n_windows`` cuts ``horizon + step * (n_windows - k)`` values off the end of
every series; from the rest, a clone fitted on it (``refit``) or the fitted forecaster
forecasts the next ``horizon`` steps. :func:`backtest` scores every window,
:func:`cross_validation` sets statistical baselines beside the model, as statsforecast's.
:class:`~tsattn.forecast.evaluation.EvaluationMixin` gives the forecaster its methods on them.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.base import clone

from tsattn._validation import check_int
from tsattn.forecast.comparison import as_matrix, baseline_models
from tsattn.forecast.metrics import evaluate
from tsattn.forecast.outputs import check_levels, point_forecasts
from tsattn.forecast.panel.checks import first_short
from tsattn.forecast.panel.conversion import id_values, to_panel
from tsattn.forecast.panel.timegrid import make_grid, time_keys
from tsattn.forecast.panel.types import Layout, Panel
from tsattn.forecast.statistics.seasonal import season_from_axis

__all__ = ["BACKTEST_METRICS", "backtest", "cross_validation", "forecast_frame"]

BACKTEST_METRICS = ("mae", "rmse", "smape", "mase")


def backtest(
    estimator,
    y,
    X=None,
    static=None,
    n_windows: int = 3,
    step: int | None = None,
    refit: bool = True,
    metrics: bool = True,
):
    """Rolling-origin forecasts and metrics; see ``Seq2SeqForecaster.backtest``.

    With ``refit`` a clone of ``estimator`` is fitted up to every cutoff; without, the fitted
    ``estimator`` forecasts every cutoff from the histories up to it. ``metrics=False`` skips
    the metrics table (None is returned in its place).

    Returns
    -------
    forecasts : pandas.DataFrame
    metrics : pandas.DataFrame or None
    """
    horizon, step, panel = _windows(estimator, y, n_windows, step, refit, "backtest")
    name = getattr(estimator, "alias", None) or "forecast"
    actual = _actual_frame(panel, _actual_values(y, panel))
    season = season_from_axis(panel.axis)
    frames, rows = [], []
    for k in range(1, n_windows + 1):
        cut = horizon + step * (n_windows - k)
        history = _drop_last(y, panel.layout, cut)
        model, context = _at_cutoff(estimator, history, X, static, refit)
        frame = forecast_frame(context, point_forecasts(model, X, context), name)
        frame = frame.merge(actual, on=["unique_id", "ds"], how="left")
        frame = frame[["unique_id", "ds", "cutoff", "y", name]]
        frames.append(frame)
        if not metrics:
            continue
        scored = frame.dropna(subset=["y"])
        train = pd.concat(
            [part.iloc[: len(part) - cut] for _, part in actual.groupby("unique_id", sort=False)]
        ).dropna(subset=["y"])
        pair = (scored[["unique_id", "ds", "y"]], scored[["unique_id", "ds", name]])
        try:
            table = evaluate(*pair, train, season, BACKTEST_METRICS)
        except ValueError:  # mase is undefined where a series is constant in-sample
            table = evaluate(*pair, metrics=BACKTEST_METRICS[:-1]).assign(mase=np.nan)
        rows.append({"window": k, "cutoff": frame["cutoff"].max(), **table.iloc[0].to_dict()})
    return pd.concat(frames, ignore_index=True), pd.DataFrame(rows) if metrics else None


def _windows(estimator, y, n_windows, step, refit: bool, what: str):
    """Checked (horizon, step, panel of y) for ``n_windows`` cutoffs ``step`` apart."""
    if refit:
        horizon = check_int("horizon", estimator.horizon)
        allow_nan = estimator.missing == "mask"
    else:
        horizon = estimator.context_.horizon
        allow_nan = estimator.context_.observed_feature
    n_windows = check_int("n_windows", n_windows)
    step = horizon if step is None else check_int("step", step)
    panel = to_panel(y, allow_nan=allow_nan)
    held_out = horizon + step * (n_windows - 1)
    # A refit needs more than a horizon of history to train on; a forecast needs one value.
    need = horizon if refit else 0
    found = first_short(panel, held_out + need + 1)
    if found is not None:
        i = found[0]
        raise ValueError(
            f"{what} with n_windows={n_windows}, step={step} holds out the last {held_out} values; "
            f"series {panel.ids[i]!r} has {panel.lengths[i]}, and needs more than "
            f"{held_out + need}. Use fewer windows or a smaller step"
        )
    return horizon, step, panel


def _at_cutoff(estimator, history, X, static, refit: bool):
    """(model, context) forecasting after ``history``: a clone fitted on it, or the fitted one."""
    if refit:
        model = clone(estimator).fit(history, X=X, static=static)
        return model, model.context_
    return estimator, estimator.context_.for_histories(history, X, static)


def cross_validation(
    estimator, y, X, static, n_windows, step, level, baselines, refit
) -> pd.DataFrame:
    """Forecasts of the model and the baselines from every cutoff; see the mixin's method."""
    levels = None if level is None else check_levels(level)
    horizon, step, panel = _windows(estimator, y, n_windows, step, refit, "cross_validation")
    name = getattr(estimator, "alias", None) or type(estimator).__name__
    season = estimator.season_length or season_from_axis(panel.axis)
    models = baseline_models(baselines, horizon, season)
    names = [name, *models]
    if len(set(names)) < len(names) or {"y", "cutoff"} & set(names):
        raise ValueError(
            f"the models' columns would be {names}: every model needs a name of its own, other "
            "than y and cutoff (set the forecaster's alias)"
        )
    actual = _actual_frame(panel, _actual_values(y, panel))
    frames = []
    for k in range(1, n_windows + 1):
        cut = horizon + step * (n_windows - k)
        history = _drop_last(y, panel.layout, cut)
        model, context = _at_cutoff(estimator, history, X, static, refit)
        frame = forecast_frame(context, point_forecasts(model, X, context), name)
        for value in levels or []:
            lower, upper = model._bounds(X, context, value / 100.0)
            frame[f"{name}-lo-{format(value, 'g')}"] = lower.reshape(-1)
            frame[f"{name}-hi-{format(value, 'g')}"] = upper.reshape(-1)
        for label, baseline in models.items():
            forecasts = as_matrix(clone(baseline).fit(history).predict(), context.n_series)
            frame[label] = forecasts.reshape(-1)
        frame = frame.merge(actual, on=["unique_id", "ds"], how="left")
        bounds = [f"{name}-{side}-{format(v, 'g')}" for side, order in (("lo", -1), ("hi", 1))
                  for v in (levels or [])[::order]]  # fmt: skip
        frames.append(frame[["unique_id", "ds", "cutoff", "y", name, *bounds, *models]])
    return pd.concat(frames, ignore_index=True)


def forecast_frame(context, forecasts: np.ndarray, name: str = "forecast") -> pd.DataFrame:
    """(n, H) forecasts as a long frame: unique_id, ds, cutoff and the forecasts in ``name``."""
    horizon = context.horizon
    future = make_grid(context.axis, context.last, np.ones(context.n_series), horizon)
    return pd.DataFrame(
        {
            "unique_id": id_values(context.ids, horizon),
            "ds": future.stamps[future.future(horizon).reshape(-1)],
            "cutoff": np.repeat(future.stamps[future.end], horizon),
            name: forecasts.reshape(-1),
        }
    )


def _actual_frame(panel: Panel, values: np.ndarray) -> pd.DataFrame:
    """A panel's values as a long frame: unique_id, ds, y."""
    grid = make_grid(panel.axis, panel.last, panel.lengths, 0)
    return pd.DataFrame(
        {
            "unique_id": id_values(panel.ids, panel.lengths),
            "ds": grid.stamps[grid.history(panel.lengths)],
            "y": values,
        }
    )


def _actual_values(y, panel: Panel) -> np.ndarray:
    """The values of y in float64 (the panel holds float32), in the panel's order."""
    kind = panel.layout.kind
    if kind == "long":  # ordered as the panel orders them: ids as first seen, then time
        codes = pd.factorize(y["unique_id"].to_numpy(), sort=False)[0]
        order = np.lexsort((time_keys(y["ds"], panel.axis, "y['ds']"), codes))
        return y["y"].to_numpy(dtype=np.float64)[order]
    values = np.asarray(y, dtype=np.float64)
    if kind in ("series", "array1d"):
        return values
    # wide: every column without its leading NaN (series that start later)
    return np.concatenate(
        [col[len(col) - n :] for col, n in zip(values.T, panel.lengths, strict=True)]
    )


def _drop_last(y, layout: Layout, cut: int):
    """``y`` without the last ``cut`` steps of every series, in y's own format."""
    if layout.is_long:
        ds_order = y.sort_values(["unique_id", "ds"], kind="stable")
        from_end = ds_order.groupby("unique_id", sort=False).cumcount(ascending=False)
        return ds_order[from_end.to_numpy() >= cut]
    return y.iloc[:-cut] if isinstance(y, (pd.Series, pd.DataFrame)) else y[:-cut]
