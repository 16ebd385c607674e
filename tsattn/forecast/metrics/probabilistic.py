"""Probabilistic forecast scores: pinball (quantile) loss, CRPS and interval coverage.

Inputs are checked as the point metrics check theirs (:mod:`~tsattn.forecast.metrics.point`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from tsattn.forecast.metrics.point import _as_values, _pair

__all__ = ["crps", "interval_coverage", "pinball_loss", "scaled_crps"]


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


def crps(y_true: Any, q_pred: Any, quantiles: Sequence[float]) -> float:
    """Continuous ranked probability score, approximated from quantile forecasts.

    The CRPS is the integral over levels ``q`` of twice the pinball loss of the ``q``-quantile;
    with the forecast's quantiles at ``quantiles`` it is approximated by twice their mean
    pinball loss (the quantile-grid form GluonTS and Nixtla use). Lower is better; for a point
    forecast (one level, 0.5) it equals the absolute error.

    Parameters
    ----------
    y_true : array-like of shape (horizon,) or (n_series, horizon)
        Actual values.
    q_pred : array-like of shape y_true's plus (k,)
        Quantile forecasts, one column per level.
    quantiles : sequence of float
        The k levels, each strictly between 0 and 1 (e.g. 0.05, 0.1, ..., 0.95).

    Returns
    -------
    float

    Examples
    --------
    >>> crps([3.0], [[2.0, 3.0, 4.0]], quantiles=[0.1, 0.5, 0.9])
    0.13333333333333333
    """
    if np.ndim(quantiles) != 1:
        raise ValueError(f"quantiles must be a 1-D sequence of levels, got {quantiles!r}")
    return 2.0 * pinball_loss(y_true, q_pred, list(quantiles))


def scaled_crps(y_true: Any, q_pred: Any, quantiles: Sequence[float]) -> float:
    """CRPS (:func:`crps`) divided by the mean absolute actual value, comparable across scales.

    Parameters
    ----------
    y_true, q_pred, quantiles
        As for :func:`crps`.

    Returns
    -------
    float
        ``crps / mean(|y_true|)``, the weighted quantile loss of GluonTS and the scaled CRPS of
        Nixtla's utilsforecast.

    Raises
    ------
    ValueError
        When every actual value is 0 (nothing to scale by).
    """
    scale = float(np.mean(np.abs(_as_values(y_true, "y_true"))))
    if scale == 0:
        raise ValueError("y_true is all zeros: scaled_crps divides by its mean absolute value")
    return crps(y_true, q_pred, quantiles) / scale
