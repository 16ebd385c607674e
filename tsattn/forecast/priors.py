"""Statistical forecasts of a whole panel, and a guard that picks among them and the network.

A global network can end worse than a one-line statistical method where the data give it
little to learn from: short histories, a yearly peak seen once. The forecaster can then keep
its forecasts honest by scoring them, on the last ``horizon`` values it held back, against the
statistical forecasts made from the same origins, and returning whichever scored best over
the panel (:func:`choose`). Every function works on a panel's flat ``values`` and ``offsets``
(see :class:`tsattn.forecast.panel.Panel`), so it needs neither pandas nor torch.
"""

from __future__ import annotations

import numpy as np
import torch

from tsattn.forecast.combination import baseline_forecast, baseline_states
from tsattn.forecast.seasonal import panel_indices, phase_of_history

__all__ = [
    "choose",
    "holdout_split",
    "relative_errors",
    "seasonal_naive_forecasts",
    "theta_forecasts",
]


def seasonal_naive_forecasts(
    values: np.ndarray, offsets: np.ndarray, horizon: int, season_length: int
) -> np.ndarray:
    """Each series' last season repeated: (n_series, horizon).

    A series shorter than one season repeats its last value (naive), as does every series
    when ``season_length`` is 1.
    """
    lengths = np.diff(offsets)
    m = max(int(season_length), 1)
    steps = np.arange(horizon)  # (H,)
    # value m - (j % m) steps back from the end, or 1 step back when the history is shorter
    back = np.where(lengths[:, None] >= m, m - steps[None, :] % m, 1)  # (n, H)
    return values[offsets[1:, None] - back].astype(np.float64)


def theta_forecasts(
    values: np.ndarray,
    offsets: np.ndarray,
    horizon: int,
    season_length: int,
    baseline: str = "theta",
) -> np.ndarray:
    """The forecaster's own baseline from each series' end: (n_series, horizon).

    The same method the network corrects: multiplicative seasonal adjustment where the M3
    test finds a season (:func:`tsattn.forecast.seasonal.panel_indices`), then the
    ``baseline`` ("theta" or "theta_holt", see :mod:`tsattn.forecast.combination`), then the
    indices put back.
    """
    values = np.asarray(values, dtype=np.float64)
    lengths = np.diff(offsets)
    m = max(int(season_length), 1)
    indices = panel_indices(values, offsets, m)  # (n, m)
    rows = np.repeat(np.arange(len(lengths)), lengths)
    adjusted = values / indices[rows, phase_of_history(offsets, m)] if m > 1 else values
    states = baseline_states(adjusted, offsets, baseline)[offsets[1:] - 1]  # at each end
    forecast = baseline_forecast(torch.from_numpy(states), horizon).double().numpy()  # (n, H)
    return forecast * indices[:, np.arange(horizon) % m]


def holdout_split(
    values: np.ndarray, offsets: np.ndarray, horizon: int, min_history: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Cut each series' last ``horizon`` values off, where ``min_history`` values stay.

    Returns
    -------
    kept : numpy.ndarray
        (n_kept,) positions of the series long enough to be cut.
    values, offsets : numpy.ndarray
        The kept series without their last ``horizon`` values.
    actual : numpy.ndarray
        (n_kept, horizon) the values cut off.
    """
    lengths = np.diff(offsets)
    kept = np.flatnonzero(lengths >= min_history + horizon)
    short = lengths[kept] - horizon
    new_offsets = np.concatenate([[0], np.cumsum(short)]).astype(np.int64)
    parts = [values[offsets[i] : offsets[i + 1] - horizon] for i in kept]
    actual = np.stack([values[offsets[i + 1] - horizon : offsets[i + 1]] for i in kept])
    flat = np.concatenate(parts) if parts else np.zeros(0, dtype=values.dtype)
    return kept, flat, new_offsets, actual.astype(np.float64)


def relative_errors(
    actual: np.ndarray, forecast: np.ndarray, values: np.ndarray, offsets: np.ndarray
) -> float:
    """Mean over series of the absolute error relative to the series' mean absolute level.

    Scale-free (a large series does not outweigh the rest), defined for zeros (intermittent
    demand) unlike sMAPE and MAPE, and the error the per-window scaling trains on.
    """
    sums = np.add.reduceat(np.abs(values.astype(np.float64)), offsets[:-1])
    level = np.maximum(sums / np.diff(offsets), 1e-12)  # (n,)
    return float(np.mean(np.abs(actual - forecast).mean(axis=1) / level))


def choose(errors: dict[str, float], default: str, margin: float = 0.0) -> str:
    """The candidate with the lowest error; ``default`` unless another beats it by ``margin``.

    Parameters
    ----------
    errors : dict of str to float
        Each candidate's error on the held-back values (lower is better).
    default : str
        The candidate kept on a tie (the network).
    margin : float, default=0.0
        Relative improvement another candidate needs to replace ``default``.

    Returns
    -------
    str
        The chosen candidate's name.
    """
    if default not in errors:
        raise ValueError(f"default {default!r} is not among the candidates {sorted(errors)}")
    best = min(errors, key=errors.get)
    if errors[best] < errors[default] * (1 - margin):
        return best
    return default
