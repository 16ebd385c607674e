"""Rolling-origin evaluation of a forecaster: refit up to each cutoff, forecast, compare."""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.base import clone

from tsattn._validation import check_int
from tsattn.forecast.metrics import evaluate
from tsattn.forecast.panel import Panel, to_panel
from tsattn.forecast.seasonal import season_from_axis
from tsattn.forecast.timegrid import make_grid, time_keys

BACKTEST_METRICS = ("mae", "rmse", "smape", "mase")


def backtest(estimator, y, X=None, static=None, n_windows: int = 3, step: int | None = None):
    """Rolling-origin forecasts of clones of ``estimator``; see ``Seq2SeqForecaster.backtest``.

    Returns
    -------
    forecasts, metrics : pandas.DataFrame
    """
    horizon = check_int("horizon", estimator.horizon)
    n_windows = check_int("n_windows", n_windows)
    step = horizon if step is None else check_int("step", step)
    panel = to_panel(y, allow_nan=estimator.missing == "mask")
    held_out = horizon + step * (n_windows - 1)
    short = np.flatnonzero(panel.lengths - held_out <= horizon)
    if len(short):
        i = int(short[0])
        raise ValueError(
            f"backtest with n_windows={n_windows}, step={step} holds out the last "
            f"{held_out} values; series {panel.ids[i]!r} has {panel.lengths[i]}, and needs "
            f"more than {held_out + horizon}. Use fewer windows or a smaller step"
        )
    grid = make_grid(panel.axis, panel.last, panel.lengths, 0)
    actual = pd.DataFrame(
        {
            "unique_id": np.repeat(np.asarray(panel.ids, dtype=object), panel.lengths),
            "ds": grid.stamps[grid.history(panel.lengths)],
            "y": _actual_values(y, panel),
        }
    )
    season = season_from_axis(panel.axis)
    frames, rows = [], []
    for k in range(1, n_windows + 1):
        cut = horizon + step * (n_windows - k)
        model = clone(estimator).fit(_drop_last(y, panel.layout, cut), X=X, static=static)
        forecasts = model._point_forecasts(_rows_up_to(X, y, panel.layout, cut - horizon))
        context = model.context_
        future = make_grid(context.axis, context.last, np.ones(panel.n_series), horizon)
        frame = pd.DataFrame(
            {
                "unique_id": np.repeat(np.asarray(panel.ids, dtype=object), horizon),
                "ds": future.stamps[future.future(horizon).reshape(-1)],
                "cutoff": np.repeat(future.stamps[future.end], horizon),
                "forecast": forecasts.reshape(-1),
            }
        )
        frame = frame.merge(actual, on=["unique_id", "ds"], how="left")
        frame = frame[["unique_id", "ds", "cutoff", "y", "forecast"]]
        frames.append(frame)
        scored = frame.dropna(subset=["y"])
        train = pd.concat(
            [part.iloc[: len(part) - cut] for _, part in actual.groupby("unique_id", sort=False)]
        ).dropna(subset=["y"])
        pair = (scored[["unique_id", "ds", "y"]], scored[["unique_id", "ds", "forecast"]])
        try:
            table = evaluate(*pair, train, season, BACKTEST_METRICS)
        except ValueError:  # mase is undefined where a series is constant in-sample
            table = evaluate(*pair, metrics=BACKTEST_METRICS[:-1]).assign(mase=np.nan)
        rows.append({"window": k, "cutoff": frame["cutoff"].max(), **table.iloc[0].to_dict()})
    return pd.concat(frames, ignore_index=True), pd.DataFrame(rows)


def _actual_values(y, panel: Panel) -> np.ndarray:
    """The values of y in float64 (the panel holds float32), in the panel's order."""
    kind = panel.layout["kind"]
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


def _drop_last(y, layout: dict, cut: int):
    """``y`` without the last ``cut`` steps of every series, in y's own format."""
    if layout["kind"] == "long":
        ds_order = y.sort_values(["unique_id", "ds"], kind="stable")
        from_end = ds_order.groupby("unique_id", sort=False).cumcount(ascending=False)
        return ds_order[from_end.to_numpy() >= cut]
    return y.iloc[:-cut] if isinstance(y, (pd.Series, pd.DataFrame)) else y[:-cut]


def _rows_up_to(X, y, layout: dict, cut: int):
    """X for a backtest forecast: an array X ends at the last forecast step, so cut it there."""
    if X is None or layout["kind"] not in ("array1d", "array2d"):
        return X
    return X[: len(y) - cut]
