"""Forecast accuracy: point errors, scaled errors, quantile loss, CRPS and interval coverage.

The array functions take array-likes of one series (1-D, the horizon) or of many series (2-D,
series x horizon) and average over all values. ``smape`` is on the 0-200 scale of the M3
and M4 competitions and ``mape`` is in percent. ``mase`` scales each series' errors by the
mean absolute seasonal difference of its own history (Hyndman & Koehler, 2006).
:func:`evaluate` scores long forecast frames (``unique_id``, ``ds``) per series or overall.

The package is the public face; the functions live in ``point`` (point forecasts),
``probabilistic`` (quantiles and intervals) and ``table`` (``evaluate``).
"""

from tsattn.forecast.metrics.point import METRICS, mae, mape, mase, rmse, smape
from tsattn.forecast.metrics.probabilistic import crps, interval_coverage, pinball_loss, scaled_crps
from tsattn.forecast.metrics.table import evaluate

__all__ = [
    "METRICS",
    "crps",
    "evaluate",
    "interval_coverage",
    "mae",
    "mape",
    "mase",
    "pinball_loss",
    "rmse",
    "scaled_crps",
    "smape",
]
