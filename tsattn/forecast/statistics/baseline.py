"""The statistical baseline the network corrects: its states per panel value, its forecasts.

Two baselines (the forecaster's ``baseline``), both computed from every window's own history:

* ``"theta"``: the Theta method (:mod:`tsattn.forecast.statistics.theta`), 4 numbers a state;
* ``"theta_holt"``: the mean of the Theta method and damped Holt (:mod:`tsattn.forecast.statistics.holt`),
  the Theta state followed by the Holt state, 7 numbers. Combinations of simple methods are
  the most robust lesson of the M competitions: Theta's trend never flattens, damped Holt's
  does, and where trends bend (yearly and non-seasonal data) their errors partly cancel.

A state array's width names its baseline, so a model file needs no other record of it, and
one saved with 4-wide states (Theta) reads as before.
"""

from __future__ import annotations

import numpy as np
import torch

from tsattn.forecast.statistics.holt import HOLT_STATE_SIZE, holt_forecast, holt_states
from tsattn.forecast.statistics.theta import theta_forecast, theta_states

THETA_STATE_SIZE = 4
# Each baseline's state width, the one place that ties names to widths.
STATE_SIZES = {"theta": THETA_STATE_SIZE, "theta_holt": THETA_STATE_SIZE + HOLT_STATE_SIZE}


def baseline_states(values: np.ndarray, offsets: np.ndarray, kind: str) -> np.ndarray:
    """The baseline's state after every value of every series.

    Parameters
    ----------
    values : numpy.ndarray
        (rows,) the panel's values, series after series; NaN is a missing value (skipped).
    offsets : numpy.ndarray
        (n_series + 1,) series boundaries.
    kind : {"theta", "theta_holt"}
        The baseline.

    Returns
    -------
    numpy.ndarray
        (rows, ``STATE_SIZES[kind]``) float32; a forecast from origin ``t`` reads row
        ``start + t - 1``.
    """
    if kind not in STATE_SIZES:
        raise ValueError(f"baseline must be one of {sorted(STATE_SIZES)}, got {kind!r}")
    theta = theta_states(values, offsets)
    if kind == "theta":
        return theta
    return np.concatenate([theta, holt_states(values, offsets)], axis=1)


def baseline_kind(states: np.ndarray | torch.Tensor) -> str:
    """The baseline whose states these are, from their width."""
    width = int(states.shape[-1])
    for kind, size in STATE_SIZES.items():
        if size == width:
            return kind
    raise ValueError(
        f"baseline states are {width} wide; known widths are {STATE_SIZES} (a damaged model file?)"
    )


def baseline_forecast(states: torch.Tensor, horizon: int) -> torch.Tensor:
    """The baseline's forecasts of ``horizon`` steps from states read at each window's origin.

    Parameters
    ----------
    states : torch.Tensor
        (B, width) rows of :func:`baseline_states`.
    horizon : int
        Steps to forecast.

    Returns
    -------
    torch.Tensor
        (B, horizon) forecasts in the units of the values.
    """
    kind = baseline_kind(states)
    theta = theta_forecast(states[:, :THETA_STATE_SIZE], horizon)  # (B, H)
    if kind == "theta":
        return theta
    holt = holt_forecast(states[:, THETA_STATE_SIZE:], horizon)  # (B, H)
    return 0.5 * (theta + holt)
