"""What a fitted forecaster gives: forecasts, quantiles, calibrated intervals, attention weights.

:class:`OutputsMixin` gives :class:`~tsattn.Seq2SeqForecaster` its prediction methods. Each
reads the trained module (``module_``) and a :class:`~tsattn.forecast.context.ForecastContext`:
the fitted one, or one built from new histories ``y``; never a constructor parameter but
``alias``, which only names the output columns.

Column names follow Nixtla's libraries when ``alias`` is set: the forecast column is the alias,
an interval of level 80 (percent) is ``<alias>-lo-80`` and ``<alias>-hi-80`` (statsforecast's
names, the ``lo`` columns widest first, then the ``hi`` columns narrowest first), a quantile
0.1 is ``<alias>-q-10`` (TimeGPT's).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.utils.validation import check_is_fitted

from tsattn._validation import check_float
from tsattn.estimator import in_chunks
from tsattn.forecast import conformal, distributions, rollout
from tsattn.forecast.context import ForecastContext
from tsattn.forecast.panel.conversion import TARGET_COL, id_values

# The levels predict_quantiles reports for a count likelihood fit without ``quantiles``.
DEFAULT_LEVELS = (0.1, 0.5, 0.9)


def distribution_of(context: ForecastContext) -> str | None:
    """The count likelihood a model was trained on ("poisson", "negbin", "tweedie"), or None."""
    calibration = context.calibration
    return None if calibration is None else calibration.distribution


def point_forecasts(est, X=None, context: ForecastContext | None = None) -> np.ndarray:
    """(n_series, horizon) point forecasts of a fitted forecaster (the median with quantiles).

    Parameters
    ----------
    est : Seq2SeqForecaster
        Fitted.
    X : pandas.DataFrame, numpy.ndarray or None
        As for ``predict``.
    context : ForecastContext or None
        The histories to forecast from; None: the fitted ones.

    Returns
    -------
    numpy.ndarray
    """
    context = est.context_ if context is None else context
    forecasts = forecast_array(est, X, context)
    if forecasts.ndim == 3:
        forecasts = forecasts[..., context.quantiles.index(0.5)]
    return forecasts


def forecast_array(
    est,
    X=None,
    context: ForecastContext | None = None,
    return_weights: bool = False,
    clip: bool = True,
    levels: list | None = None,
):
    """(n_series, horizon) forecasts of a fitted forecaster, or (n_series, horizon, Q) with quantiles.

    A model trained on a count likelihood gives its distribution's medians, or its quantiles at
    ``levels`` when they are given (the other models ignore ``levels``).

    Parameters
    ----------
    est : Seq2SeqForecaster
        Fitted.
    X : pandas.DataFrame, numpy.ndarray or None
        As for ``predict``.
    context : ForecastContext or None
        The histories to forecast from; None: the fitted ones.
    return_weights : bool
        Also return the (n_series, horizon, input_size) attention weights.
    clip : bool
        Clip at 0 when the model was fit with ``nonnegative``.

    Returns
    -------
    numpy.ndarray or tuple of numpy.ndarray
    """
    context = est.context_ if context is None else context
    kind = distribution_of(context)
    batches = context.window_batches(X, est.device_)
    parts, weights = [], []
    for index in in_chunks(len(batches)):
        forecast, attention = rollout.roll_out(
            est.module_, batches.batch(index), context.horizon, return_weights,
            context.quantiles, kind,
        )  # fmt: skip
        parts.append(forecast.cpu().numpy())
        if attention is not None:
            weights.append(attention.cpu().numpy())
    forecasts = np.concatenate(parts).astype(np.float64)
    if kind is not None:  # (n, H, 2) parameters -> quantiles, on the adjusted scale
        forecasts = distributions.quantiles(forecasts, kind, levels or [0.5])
        forecasts = forecasts if levels else forecasts[..., 0]
    forecasts = context.reseasonalize(forecasts)
    if not np.isfinite(forecasts).all():
        raise ValueError(
            "the model's forecasts are not finite: training diverged (lower learning_rate "
            "and fit again) or X lies far outside the values fit saw"
        )
    if context.nonnegative and clip:
        forecasts = np.maximum(forecasts, 0.0)
    if not return_weights:
        return forecasts
    return forecasts, np.concatenate(weights).astype(np.float64)


class OutputsMixin:
    """Prediction methods of :class:`~tsattn.Seq2SeqForecaster`."""

    def predict(self, X=None, *, y=None, static=None, level=None):
        """Forecast ``horizon_`` steps after the end of every series.

        Parameters
        ----------
        X : pandas.DataFrame, numpy.ndarray or None
            The known-in-advance covariates over the ``horizon_`` steps after every series'
            end, in the format ``fit`` got X (other rows are ignored; past-only columns may be
            left out); with new histories ``y``, X covers their history too. An array X is
            indexed as in ``fit``: row 0 is y's row 0, so it holds the history's rows followed
            by the horizon's. Needed when the model was fit with known covariates.
        y : pandas.Series, pandas.DataFrame, numpy.ndarray or None, default=None
            New histories to forecast from, in any format ``fit`` accepts (updated histories
            of fitted series, or series never seen in ``fit``); the forecasts follow each
            series' end and come back in y's format. None: the histories of ``fit``.
        static : pandas.DataFrame or None, default=None
            With ``y``: static features of its series (needed for series not seen in ``fit``
            when the model reads static features).
        level : sequence of float or None, default=None
            Interval levels in percent, e.g. ``[80, 95]``, as statsforecast takes them: each
            adds the columns ``<alias>-lo-<level>`` and ``<alias>-hi-<level>`` (``alias``, or
            ``y`` when it is None) beside the forecast column, the bounds of
            :meth:`predict_interval` at that coverage. Needs a model with intervals
            (``quantiles``, or a count ``loss``).

        Returns
        -------
        pandas.Series, pandas.DataFrame or numpy.ndarray
            The same kind of object ``fit`` got: a Series with the future timestamps (named
            ``alias`` when it is set); a wide DataFrame with one column per series; a long
            DataFrame with ``unique_id`` (of the ids' own type), ``ds`` and the forecasts in
            ``y`` (or ``alias``); or an array of shape (horizon,) or (horizon, n_series). With
            ``level`` the forecast and its bounds: a long frame gets the bound columns; a Series
            y gives a frame indexed by time, columns forecast then bounds; a wide y gives
            columns (series, name) as :meth:`predict_quantiles`; an array y an array with a
            last axis (forecast, bounds) in the columns' order.

        Raises
        ------
        ValueError
            If X does not cover the horizon, or the forecasts are not finite (a diverged model);
            if X holds NaN or inf where it is read, or a known column's value lies more than
            10 spans beyond the range ``fit`` saw in that column (below ``min - 10 * span`` or
            above ``max + 10 * span``, ``span = max - min``, or ``max(|max|, 1)`` for a column
            constant in fit): a price typed in cents instead of dollars is refused, naming the
            column, the range and the value.
        """
        context = self._context(y, X, static)
        if level is None:
            return self._named(context.format(point_forecasts(self, X, context)))
        levels = check_levels(level)
        name = getattr(self, "alias", None) or TARGET_COL
        columns = [name]
        lows, highs = [], []
        for value in levels:
            lower, upper = self._bounds(X, context, value / 100.0)
            lows.append(lower)
            highs.append(upper)
        parts = [point_forecasts(self, X, context), *lows[::-1], *highs]
        columns += [f"{name}-lo-{format(v, 'g')}" for v in levels[::-1]]
        columns += [f"{name}-hi-{format(v, 'g')}" for v in levels]
        return context.format(np.stack(parts, axis=-1), columns)

    def _named(self, forecasts):
        """Point forecasts with the forecast column (long frame) or Series named ``alias``."""
        alias = getattr(self, "alias", None)
        if alias is None:
            return forecasts
        if isinstance(forecasts, pd.Series):
            return forecasts.rename(alias)
        if isinstance(forecasts, pd.DataFrame) and TARGET_COL in forecasts and "ds" in forecasts:
            return forecasts.rename(columns={TARGET_COL: alias})
        return forecasts

    def _bounds(self, X, context: ForecastContext, coverage: float):
        """(lower, upper), each (n, H), of the interval that covers ``coverage``."""
        kind = distribution_of(context)
        if kind is not None:
            levels = [(1 - coverage) / 2, (1 + coverage) / 2]
            bounds = forecast_array(self, X, context, levels=levels)  # (n, H, 2)
            return bounds[..., 0], bounds[..., 1]
        if context.calibration is None:
            raise ValueError(
                "intervals need quantiles below and above 0.5 or a count loss; fit with "
                "quantiles=(0.1, 0.5, 0.9) (say)"
            )
        # The band is scaled as the calibration scored it, from the unclipped quantiles: a lower
        # quantile clipped to 0 first would lift the scaled bound above the zeros it covered.
        forecasts = forecast_array(self, X, context, clip=False)  # (n, H, Q)
        lower, upper = conformal.interval(
            forecasts, context.calibration, context.quantiles, coverage
        )
        if context.nonnegative:
            lower, upper = np.maximum(lower, 0.0), np.maximum(upper, 0.0)
        return lower, upper

    def _context(self, y, X, static) -> ForecastContext:
        """The fitted context, or one of the new histories ``y``."""
        check_is_fitted(self, "context_")
        if y is None:
            if static is not None:
                raise ValueError(
                    "static is read with new histories: pass y too, e.g. "
                    "predict(X, y=histories, static=static)"
                )
            return self.context_
        return self.context_.for_histories(y, X, static)

    def predict_quantiles(self, X=None, *, y=None, static=None):
        """Forecast the quantiles given as ``quantiles`` (the model's own, not calibrated).

        Parameters
        ----------
        X, y, static
            As for :meth:`predict`.

        Returns
        -------
        pandas.DataFrame or numpy.ndarray
            One column per level of ``quantiles``, named like ``"0.1"``, or
            ``"<alias>-q-10"`` when ``alias`` is set: a long frame (``unique_id``, ``ds``,
            levels) for a long y; a frame indexed by time for a Series y; columns
            (series, level) for a wide y; an array (horizon, Q) or (horizon, n_series, Q) for
            arrays. A model trained on a count ``loss`` gives its distribution's quantiles at
            ``quantiles`` (0.1, 0.5 and 0.9 when None).
        """
        context = self._context(y, X, static)
        levels = context.quantiles
        if distribution_of(context) is not None:
            asked = list(context.asked_quantiles or DEFAULT_LEVELS)
            forecasts = forecast_array(self, X, context, levels=asked)
        elif levels is None:
            raise ValueError(
                "this model forecasts points only; fit it with quantiles=(0.1, 0.5, 0.9) (say) "
                "to predict quantiles"
            )
        else:
            asked = context.asked_quantiles
            forecasts = forecast_array(self, X, context)[..., [levels.index(q) for q in asked]]
        alias = getattr(self, "alias", None)
        if alias is None:
            return context.format(forecasts, [format(q, "g") for q in asked])
        return context.format(forecasts, [f"{alias}-q-{format(100 * q, '.10g')}" for q in asked])

    def predict_interval(self, X=None, coverage: float = 0.8, *, y=None, static=None):
        """Forecast a band that holds the actual values with probability ``coverage``.

        The band around the median is the model's quantile band whose nominal coverage is
        closest to ``coverage``, widened or narrowed by one factor so that it covers exactly
        that share of the validation windows' actual values (split conformal calibration). The
        training windows stand in when ``validation_size=0``; the band is then too narrow.

        Parameters
        ----------
        X : pandas.DataFrame, numpy.ndarray or None
            As for :meth:`predict`.
        coverage : float, default=0.8
            Probability in (0, 1).
        y, static
            As for :meth:`predict`.

        Returns
        -------
        pandas.DataFrame or numpy.ndarray
            Columns ``lower`` and ``upper`` (``<alias>-lo-80`` and ``<alias>-hi-80`` at
            ``coverage=0.8`` when ``alias`` is set), laid out as in :meth:`predict_quantiles`.
            Intervals nest: one of higher coverage holds every one of lower coverage. A model
            trained on a count ``loss`` gives its distribution's central interval (the
            quantiles at ``(1 - coverage) / 2`` and ``(1 + coverage) / 2``).
        """
        coverage = check_float("coverage", coverage, 0.0, 1.0, low_open=True)
        context = self._context(y, X, static)
        lower, upper = self._bounds(X, context, coverage)
        alias = getattr(self, "alias", None)
        names = ["lower", "upper"]
        if alias is not None:
            percent = format(100 * coverage, ".10g")
            names = [f"{alias}-lo-{percent}", f"{alias}-hi-{percent}"]
        return context.format(np.stack([lower, upper], axis=-1), names)

    def attention_weights(self, X=None, *, y=None, static=None):
        """Where the decoder looks in the history for the next forecast.

        Parameters
        ----------
        X, y, static
            As for :meth:`predict`.

        Returns
        -------
        pandas.DataFrame
            Tidy: ``unique_id``, ``step`` (1..horizon), ``lag`` (1..input_size, 1 the last
            observed step) and ``weight``; the weights of a (series, step) sum to one, padded
            steps of short series get 0. Draw it with :func:`tsattn.plotting.plot_attention`.
        """
        context = self._context(y, X, static)
        if self.module_.config.attention == "none":
            raise ValueError("attention='none' has no attention weights; fit with attention")
        _, weights = forecast_array(self, X, context, return_weights=True)  # (n, H, I)
        n, horizon, size = weights.shape
        return pd.DataFrame(
            {
                "unique_id": id_values(context.ids, horizon * size),
                "step": np.tile(np.repeat(np.arange(1, horizon + 1), size), n),
                "lag": np.tile(np.arange(size, 0, -1), n * horizon),
                "weight": weights.reshape(-1),
            }
        ).sort_values(["unique_id", "step", "lag"], kind="stable", ignore_index=True)


def check_levels(level) -> list[float]:
    """Interval levels in percent, each in (0, 100), sorted and without repeats."""
    values = [level] if np.ndim(level) == 0 else list(level)
    if not values:
        raise ValueError("level is empty; give levels in percent, e.g. level=[80, 95]")
    checked = []
    for value in values:
        if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
            raise TypeError(f"level must hold numbers in percent, e.g. [80, 95], got {value!r}")
        if not 0 < float(value) < 100:
            raise ValueError(
                f"level must lie strictly between 0 and 100 (percent), got {value!r}; "
                "e.g. level=[80, 95]"
            )
        checked.append(int(value) if float(value).is_integer() else float(value))
    return sorted(set(checked))
