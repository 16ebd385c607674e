"""Point forecast errors: mae, rmse, smape, mape, mase, and the checks and terms they share.

The functions take array-likes of one series (1-D, the horizon) or of many series (2-D,
series x horizon) and average over all values. ``smape`` is on the 0-200 scale of the M3
and M4 competitions and ``mape`` is in percent. ``mase`` scales each series' errors by the
mean absolute seasonal difference of its own history (Hyndman & Koehler, 2006).
The input checks and elementwise terms here serve the probabilistic scores and
:func:`~tsattn.forecast.metrics.evaluate` too, so every metric checks its input and computes
a value the same way.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from tsattn._validation import check_int

# The point metrics by name, in the order evaluate reports them.
METRICS = ("mae", "rmse", "smape", "mape", "mase")

__all__ = ["METRICS", "mae", "mape", "mase", "rmse", "smape"]


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
