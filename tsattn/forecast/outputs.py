"""The forecaster's outputs beyond the point forecast: quantiles, intervals, attention weights.

:class:`OutputsMixin` gives :class:`~tsattn.Seq2SeqForecaster` these methods; they read the
fitted (or new histories') context and the module through the forecaster's ``_context`` and
``_forecast_array``, as ``predict`` does.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from tsattn._validation import check_float
from tsattn.forecast import conformal


class OutputsMixin:
    """Quantiles, calibrated intervals and attention weights (see :class:`~tsattn.Seq2SeqForecaster`)."""

    def predict_quantiles(self, X=None, *, y=None, static=None):
        """Forecast the quantiles given as ``quantiles`` (the model's own, not calibrated).

        Parameters
        ----------
        X, y, static
            As for :meth:`predict`.

        Returns
        -------
        pandas.DataFrame or numpy.ndarray
            One column per level of ``quantiles``, named like ``"0.1"``: a long frame
            (``unique_id``, ``ds``, levels) for a long y; a frame indexed by time for a Series
            y; columns (series, level) for a wide y; an array (horizon, Q) or
            (horizon, n_series, Q) for arrays.
        """
        context = self._context(y, X, static)
        levels = context.quantiles
        if levels is None:
            raise ValueError(
                "this model forecasts points only; fit it with quantiles=(0.1, 0.5, 0.9) (say) "
                "to predict quantiles"
            )
        asked = context.asked_quantiles
        forecasts = self._forecast_array(X, context)[..., [levels.index(q) for q in asked]]
        return context.format(forecasts, [format(q, "g") for q in asked])

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
            Columns ``lower`` and ``upper``, laid out as in :meth:`predict_quantiles`.
        """
        coverage = check_float("coverage", coverage, 0.0, 1.0, low_open=True)
        context = self._context(y, X, static)
        if context.calibration is None:
            raise ValueError(
                "intervals need quantiles below and above 0.5; fit with quantiles=(0.1, 0.5, 0.9) "
                "(say)"
            )
        # The band is scaled as the calibration scored it, from the unclipped quantiles: a lower
        # quantile clipped to 0 first would lift the scaled bound above the zeros it covered.
        forecasts = self._forecast_array(X, context, clip=False)  # (n, H, Q)
        lower, upper = conformal.interval(
            forecasts, context.calibration, context.quantiles, coverage
        )
        if context.nonnegative:
            lower, upper = np.maximum(lower, 0.0), np.maximum(upper, 0.0)
        return context.format(np.stack([lower, upper], axis=-1), ["lower", "upper"])

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
        _, weights = self._forecast_array(X, context, return_weights=True)  # (n, H, I)
        n, horizon, size = weights.shape
        return pd.DataFrame(
            {
                "unique_id": np.repeat(np.asarray(context.ids, dtype=object), horizon * size),
                "step": np.tile(np.repeat(np.arange(1, horizon + 1), size), n),
                "lag": np.tile(np.arange(size, 0, -1), n * horizon),
                "weight": weights.reshape(-1),
            }
        ).sort_values(["unique_id", "step", "lag"], kind="stable", ignore_index=True)
