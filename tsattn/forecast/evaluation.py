"""Evaluating a forecaster: rolling-origin backtests (with or without refits), scores, importance.

:class:`EvaluationMixin` gives :class:`~tsattn.Seq2SeqForecaster` its evaluation methods; the
work is done by the functions of this module, which use only the forecaster's fitted context
and forecasts.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.base import clone
from sklearn.utils.validation import check_is_fitted

from tsattn._validation import check_int
from tsattn.forecast.comparison import as_matrix, baseline_models
from tsattn.forecast.metrics import evaluate
from tsattn.forecast.outputs import check_levels, point_forecasts
from tsattn.forecast.panel.checks import first_short
from tsattn.forecast.panel.conversion import ID_COL, TARGET_COL, TIME_COL, id_values, to_panel
from tsattn.forecast.panel.timegrid import make_grid, time_keys
from tsattn.forecast.panel.types import Layout, Panel
from tsattn.forecast.statistics.seasonal import season_from_axis

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
        frame = _forecast_frame(context, point_forecasts(model, X, context), name)
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
        frame = _forecast_frame(context, point_forecasts(model, X, context), name)
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


def score(estimator, y, X=None) -> float:
    """Minus the MAE of the fitted ``estimator``'s forecast against the actual values ``y``.

    ``y`` is read in the format ``fit`` got, without inferring a frequency (a test fold may
    hold a single step per series): long rows are matched on (unique_id, ds), Series and wide
    rows on their index, and array rows are the steps right after each series' end.
    """
    context = estimator.context_
    forecasts = point_forecasts(estimator, X)  # (n, H)
    layout = context.layout
    if layout.is_array:
        actual = np.asarray(y, dtype=np.float64)
        actual = actual.reshape(len(actual), -1).T  # (n, steps)
        if actual.shape[0] != context.n_series:
            raise ValueError(
                f"y has {actual.shape[0]} series, the model {context.n_series}: give the actual "
                "values of the steps after the fitted histories, one column per series"
            )
        steps = min(actual.shape[1], context.horizon)
        errors = np.abs(actual[:, :steps] - forecasts[:, :steps])
        errors = errors[~np.isnan(errors)]
    else:
        predicted = _forecast_frame(context, forecasts)
        actual = _actual_rows(y, layout)
        keys = [ID_COL, "key"]
        predicted["key"] = time_keys(predicted[TIME_COL], context.axis, "the forecast steps")
        actual["key"] = time_keys(actual[TIME_COL], context.axis, "y's timestamps")
        pairs = predicted.merge(actual.drop(columns=TIME_COL), on=keys).dropna(subset=["y"])
        errors = np.abs(pairs["y"].to_numpy(np.float64) - pairs["forecast"].to_numpy())
    if not len(errors):
        raise ValueError(
            "y holds no value at the forecast steps (the horizon after each fitted series' "
            "end): give the actual values of those steps"
        )
    return -float(errors.mean())


def _actual_rows(y, layout: Layout) -> pd.DataFrame:
    """Actual values as rows of unique_id, ds, y, read as the fitted layout says."""
    if layout.is_long:
        if not isinstance(y, pd.DataFrame) or not {ID_COL, TIME_COL, TARGET_COL} <= set(y):
            raise TypeError(
                f"the model was fit on a long frame: give y as one too ({ID_COL}, {TIME_COL}, "
                f"{TARGET_COL})"
            )
        return y[[ID_COL, TIME_COL, TARGET_COL]].rename(columns={TARGET_COL: "y"})
    if layout.kind == "series":
        if not isinstance(y, pd.Series):
            raise TypeError(f"the model was fit on a Series: give y as one, got {type(y).__name__}")
        ids = [layout.name if layout.name is not None else 0] * len(y)
        return pd.DataFrame({ID_COL: ids, TIME_COL: y.index, "y": y.to_numpy(np.float64)})
    if not isinstance(y, pd.DataFrame):
        raise TypeError(f"the model was fit on a wide frame: give y as one, got {type(y).__name__}")
    stacked = y.rename_axis(index=TIME_COL, columns=ID_COL).stack(future_stack=True)
    return stacked.rename("y").reset_index()[[ID_COL, TIME_COL, "y"]]


class EvaluationMixin:
    """The forecaster's evaluation methods (see :class:`~tsattn.Seq2SeqForecaster`)."""

    def backtest(
        self, y, X=None, static=None, n_windows: int = 3, step: int | None = None, *, refit=True
    ):
        """Rolling-origin evaluation: forecast from several cutoffs and compare with the actuals.

        Window ``k`` (1..n_windows) cuts ``horizon + step * (n_windows - k)`` values off the
        end of every series and forecasts the next ``horizon`` steps from the rest. With
        ``refit`` (the default) a clone of this estimator is fitted on the rest first and
        ``self`` is left as it is; with ``refit=False`` this fitted model forecasts every cutoff
        (as :meth:`historical_forecasts`), which takes seconds instead of ``n_windows`` fits.

        Parameters
        ----------
        y, X, static
            As for :meth:`fit`; X must cover the whole of y (it serves every window's fit and
            forecast).
        n_windows : int, default=3
            Number of cutoffs.
        step : int or None, default=None
            Steps between cutoffs; None means ``horizon`` (windows do not overlap).
        refit : bool, default=True
            Fit a clone at every cutoff, or forecast them all with this fitted model.

        Returns
        -------
        forecasts : pandas.DataFrame
            Long: ``unique_id``, ``ds``, ``cutoff`` (the last timestamp the model saw), ``y``
            (actual), ``forecast`` (the median with quantiles; named ``alias`` when it is set).
            Time-zone-aware timestamps come back naive (local time).
        metrics : pandas.DataFrame
            One row per window: ``window``, ``cutoff`` (the latest over series), and ``mae``,
            ``rmse``, ``smape`` and ``mase`` (seasonal period from the frequency) as computed
            by :func:`tsattn.forecast.metrics.evaluate`.
        """
        if refit:
            self._check_params()
        else:
            check_is_fitted(self, "context_")
        return backtest(self, y, X, static, n_windows, step, refit=bool(refit))

    def historical_forecasts(
        self, y, X=None, static=None, n_windows: int = 3, step: int | None = None
    ):
        """Forecasts from several cutoffs of ``y`` with this fitted model, without refitting.

        Every cutoff's histories are encoded and forecast in one batch over all series; see
        :meth:`backtest` for the cutoffs and the arguments.

        Returns
        -------
        pandas.DataFrame
            Long: ``unique_id``, ``ds``, ``cutoff``, ``y`` (actual) and ``forecast`` (or
            ``alias``).
        """
        check_is_fitted(self, "context_")
        return backtest(self, y, X, static, n_windows, step, refit=False, metrics=False)[0]

    def cross_validation(
        self, y, X=None, static=None, *, n_windows: int, step: int | None = None, level=None,
        baselines=(), refit: bool = True,
    ):  # fmt: skip
        """Forecasts of this model and statistical baselines from several cutoffs, as statsforecast's.

        Window ``k`` (1..n_windows) cuts ``horizon + step * (n_windows - k)`` values off the end
        of every series; from the rest, this model and every baseline forecast ``horizon``
        steps. As statsforecast's ``cross_validation`` (whose default it follows), ``refit``
        fits a clone of this model at every cutoff (``self`` is left as it is); ``refit=False``
        forecasts every cutoff with this fitted model (seconds instead of ``n_windows`` fits; the
        model has seen the later windows' values in its own fit). Baselines are fitted at every
        cutoff either way (they are cheap). Score the result with
        :func:`tsattn.evaluate` (``evaluate(cv, train=y)``).

        Parameters
        ----------
        y, X, static
            As for :meth:`fit`; X must cover the whole of y.
        n_windows : int
            Number of cutoffs.
        step : int or None, default=None
            Steps between cutoffs; None means ``horizon`` (windows do not overlap).
        level : sequence of float or None, default=None
            Interval levels in percent (``[80, 95]``): this model's bounds come in
            ``<name>-lo-<level>`` and ``<name>-hi-<level>`` columns, as :meth:`predict` gives
            them (needs ``quantiles`` or a count ``loss``). The baselines give points only.
        baselines : sequence, default=()
            Statistical forecasters to compare with: instances
            (``tsattn.SeasonalNaive(season_length=52)``, ``ThetaForecaster``,
            ``ETSForecaster``; their horizon is set to this model's) or names ("SeasonalNaive",
            "Naive", "Theta", "ETS"; their season is ``season_length``, or the frequency's).
        refit : bool, default=True
            Fit a clone at every cutoff, or forecast them all with this fitted model.

        Returns
        -------
        pandas.DataFrame
            Long: ``unique_id`` (of the ids' own type), ``ds``, ``cutoff`` (each series' last
            timestamp before the window), ``y`` (actual), this model's forecasts in a column
            named ``alias`` (``"Seq2SeqForecaster"`` when it is None), its bounds, and one
            column per baseline named by its class (``SeasonalNaive``, ``ThetaForecaster``,
            ``ETSForecaster``; ``Naive`` for that name). Time-zone-aware timestamps come back
            naive.
        """
        if refit:
            self._check_params()
        else:
            check_is_fitted(self, "context_")
        return cross_validation(self, y, X, static, n_windows, step, level, baselines, bool(refit))

    def fitted_values(self, y, X=None, static=None, *, step: int | None = None, n_windows=None):
        """In-sample forecasts of the training histories, as NeuralForecast's ``predict_insample``.

        The fitted model (no refit) forecasts ``horizon_`` steps from cutoffs ``step`` apart
        that end at each series' end, from the history up to each cutoff: the forecasts it
        would have made over its own training data. The model keeps only each series' last
        values, so ``y`` (and X, static) are given again, as to ``fit``. Residuals are
        ``y`` minus the forecast column.

        Parameters
        ----------
        y, X, static
            As given to :meth:`fit` (or any histories of the model's series).
        step : int or None, default=None
            Steps between cutoffs; None means ``horizon_`` (every value forecast once).
        n_windows : int or None, default=None
            Number of cutoffs; None: as many as the shortest series allows (each cutoff needs
            one value of history).

        Returns
        -------
        pandas.DataFrame
            Long: ``unique_id``, ``ds``, ``cutoff``, ``y`` (actual) and the forecasts in
            ``alias`` (``"Seq2SeqForecaster"`` when it is None).
        """
        check_is_fitted(self, "context_")
        horizon = self.context_.horizon
        step = horizon if step is None else check_int("step", step)
        if n_windows is None:
            shortest = int(to_panel(y, allow_nan=self.context_.observed_feature).lengths.min())
            n_windows = max((shortest - 1 - horizon) // step + 1, 1)
        frame = backtest(self, y, X, static, n_windows, step, refit=False, metrics=False)[0]
        name = getattr(self, "alias", None) or type(self).__name__
        return frame.rename(columns={frame.columns[-1]: name})

    def score(self, y, X=None):
        """Minus the mean absolute error of :meth:`predict` against the actual values ``y``.

        Greater is better, as for scikit-learn's scorers, so ``GridSearchCV`` and
        ``cross_validate`` can tune the forecaster with a time-axis splitter such as
        :class:`tsattn.model_selection.PanelTimeSplit`.

        Parameters
        ----------
        y : pandas.Series, pandas.DataFrame or numpy.ndarray
            The actual values of the steps after the fitted histories, in y's format (e.g. the
            rows of a long frame after the cutoff). Only the steps the forecast covers count.
        X : pandas.DataFrame, numpy.ndarray or None
            As for :meth:`predict`.

        Returns
        -------
        float
            ``-MAE`` over every series and forecast step that ``y`` holds.
        """
        check_is_fitted(self, "context_")
        return score(self, y, X)

    def covariate_importance(
        self, y, X=None, static=None, *, n_repeats: int = 5, random_state=None
    ):
        """Permutation importance of every covariate, calendar and static feature.

        The increase of the model's loss on the validation windows of ``y`` (cut as ``fit``
        cut them) when one feature is shuffled: an X or calendar column across every series
        and time step, a static feature across series. About 0 means the model ignores it.
        Draw it with :func:`tsattn.plotting.plot_importance`.

        Parameters
        ----------
        y, X, static
            As given to :meth:`fit` (the model keeps only each series' tail, so the windows
            are cut from these again).
        n_repeats : int, default=5
            Shuffles per feature.
        random_state : int, numpy.random.RandomState or None, default=None
            Seeds the shuffles.

        Returns
        -------
        pandas.DataFrame
            ``feature``, ``kind`` ("known", "past", "calendar", "static"), ``importance``
            (mean loss increase), ``std`` and ``relative`` (the increase over the unshuffled
            loss, held in ``attrs["loss"]``), most important first.
        """
        from tsattn.forecast.importance import permutation_importance

        check_is_fitted(self, "context_")
        return permutation_importance(self, y, X, static, n_repeats, random_state)


def _forecast_frame(context, forecasts: np.ndarray, name: str = "forecast") -> pd.DataFrame:
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
