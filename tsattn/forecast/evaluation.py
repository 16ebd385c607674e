"""Evaluating a forecaster: rolling-origin backtests (with or without refits), scores, importance.

:class:`EvaluationMixin` gives :class:`~tsattn.Seq2SeqForecaster` its evaluation methods; the
work is done by :func:`score` here and by :mod:`tsattn.forecast.rolling_origin` (the forecasts
from several cutoffs, :func:`backtest` and :func:`cross_validation`), which use only the
forecaster's fitted context and forecasts.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.utils.validation import check_is_fitted

from tsattn._validation import check_int, check_quantiles
from tsattn.forecast import model_setup
from tsattn.forecast.outputs import check_levels, point_forecasts
from tsattn.forecast.panel.conversion import ID_COL, TARGET_COL, TIME_COL, to_panel
from tsattn.forecast.panel.timegrid import time_keys
from tsattn.forecast.panel.types import Layout
from tsattn.forecast.rolling_origin import (
    BACKTEST_METRICS,
    backtest,
    cross_validation,
    forecast_frame,
)

__all__ = ["BACKTEST_METRICS", "EvaluationMixin", "backtest", "cross_validation", "score"]


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
        predicted = forecast_frame(context, forecasts)
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
        if not isinstance(refit, (bool, np.bool_)):
            raise TypeError(f"refit must be True or False, got {refit!r}")
        if refit:
            self._check_params()
            if level is not None and not _has_intervals(self):
                check_levels(level)
                raise ValueError(
                    "level needs intervals: quantiles below and above 0.5 or a count loss; set "
                    "quantiles=(0.1, 0.5, 0.9) (say) or loss='poisson', or drop level"
                )
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


def _has_intervals(estimator) -> bool:
    """Whether a fit with ``estimator``'s parameters gives intervals.

    It does with a count loss, or with quantiles on both sides of the median.
    """
    if model_setup.distribution(estimator.loss):
        return True
    levels, _ = check_quantiles(estimator.quantiles)
    return bool(levels) and min(levels) < 0.5 < max(levels)
