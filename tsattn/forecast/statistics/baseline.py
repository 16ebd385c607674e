"""The statistical baseline the network corrects: its states per panel value, its forecasts.

Three baselines (the forecaster's ``baseline``), all computed from every window's own history:

* ``"theta"``: the Theta method (:mod:`tsattn.forecast.statistics.theta`), 4 numbers a state;
* ``"holt"``: damped-trend Holt (:mod:`tsattn.forecast.statistics.holt`), 3 numbers. On the
  seasonally adjusted values (multiplicative indices) it is exponential smoothing with a
  damped trend and multiplicative seasons, the ETS model that wins on retail-like data;
* ``"theta_holt"``: the mean of the two, the Theta state followed by the Holt state, 7
  numbers. Combinations of simple methods are the most robust lesson of the M competitions:
  Theta's trend never flattens, damped Holt's does, and where trends bend (yearly and
  non-seasonal data) their errors partly cancel.

``"auto"`` (:func:`choose_baseline`) picks one of the three for the whole panel from the
forecasts each would have made over the last two horizons of every series.

A state array's width names its baseline, so a model file needs no other record of it, and
one saved with 4-wide states (Theta) reads as before.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import torch

from tsattn.forecast.statistics.holt import HOLT_STATE_SIZE, holt_forecast, holt_states
from tsattn.forecast.statistics.theta import theta_forecast, theta_states

THETA_STATE_SIZE = 4
# Each baseline's state width, the one place that ties names to widths.
STATE_SIZES = {
    "theta": THETA_STATE_SIZE,
    "theta_holt": THETA_STATE_SIZE + HOLT_STATE_SIZE,
    "holt": HOLT_STATE_SIZE,
}
# "auto"'s candidates, in the order ties go: Theta first, the default before "auto" existed.
CANDIDATES = ("theta", "theta_holt", "holt")
# "auto" compares the candidates' forecasts from this many origins per series, one horizon
# apart and ending at the series' end: more origins reach further back into a past that may
# no longer hold, fewer make the choice noisy (a panel of one series scores two windows).
CHOICE_ORIGINS = 2


def baseline_states(values: np.ndarray, offsets: np.ndarray, kind: str) -> np.ndarray:
    """The baseline's state after every value of every series.

    Parameters
    ----------
    values : numpy.ndarray
        (rows,) the panel's values, series after series; NaN is a missing value (skipped).
    offsets : numpy.ndarray
        (n_series + 1,) series boundaries.
    kind : {"theta", "theta_holt", "holt"}
        The baseline.

    Returns
    -------
    numpy.ndarray
        (rows, ``STATE_SIZES[kind]``) float32; a forecast from origin ``t`` reads row
        ``start + t - 1``.
    """
    if kind not in STATE_SIZES:
        raise ValueError(f"baseline must be one of {sorted(STATE_SIZES)}, got {kind!r}")
    if kind == "holt":
        return holt_states(values, offsets)
    theta = theta_states(values, offsets)
    if kind == "theta":
        return theta
    return np.concatenate([theta, holt_states(values, offsets)], axis=1)


def choose_baseline(
    values: np.ndarray, offsets: np.ndarray, horizon: int
) -> tuple[str, np.ndarray, dict[str, float]]:
    """``baseline="auto"``: Theta, or a candidate that forecasts the last horizons clearly better.

    Every candidate of :data:`CANDIDATES` forecasts ``horizon`` steps from
    :data:`CHOICE_ORIGINS` origins per series (the last ``horizon`` values, and the
    ``horizon`` before them), each from the states of the history before the origin alone.
    A series' error is its mean absolute error over those windows divided by the mean
    absolute one-step change of its history (MASE's scale, on the adjusted values), so that
    every series weighs the same whatever its level; the panel's error is the mean over
    series. Origins with fewer than 4 values before them are not scored (a trend from three
    values is noise). Theta is kept unless a candidate's error is lower, series by series, by
    more than two standard errors of the differences (a tie on a few series changes nothing,
    and a single series keeps Theta: two windows cannot tell the candidates apart); the
    candidates are tried in the order of :data:`CANDIDATES`, each against the one kept.

    Parameters
    ----------
    values : numpy.ndarray
        (rows,) the panel's seasonally adjusted values, series after series; NaN is missing.
    offsets : numpy.ndarray
        (n_series + 1,) series boundaries.
    horizon : int
        Steps to forecast.

    Returns
    -------
    kind : str
        The chosen baseline.
    states : numpy.ndarray
        :func:`baseline_states` of ``kind`` for every value.
    errors : dict
        Each candidate's panel error (NaN when no origin was scored).
    """
    both = baseline_states(values, offsets, "theta_holt")
    parts = {
        "theta": both[:, :THETA_STATE_SIZE],
        "theta_holt": both,
        "holt": both[:, THETA_STATE_SIZE:],
    }
    starts, ends = offsets[:-1], offsets[1:]
    origins, series = [], []
    for k in range(1, CHOICE_ORIGINS + 1):
        origin = ends - k * horizon  # absolute row of each window's first target
        ok = origin - starts >= 4
        origins.append(origin[ok])
        series.append(np.flatnonzero(ok))
    origin, series = np.concatenate(origins), np.concatenate(series)
    errors = dict.fromkeys(CANDIDATES, float("nan"))
    if not len(origin):
        return CANDIDATES[0], parts[CANDIDATES[0]], errors
    steps = origin[:, None] + np.arange(horizon)[None, :]  # (W, H) rows of the targets
    actual = values[steps].astype(np.float64)  # (W, H)
    # The scale of a window: the mean absolute one-step change of its series before its origin.
    changes = np.abs(np.diff(values.astype(np.float64)))
    changes[starts[1:] - 1] = np.nan  # the change across two series is none
    seen = np.concatenate([[0], np.cumsum(np.isfinite(changes))])
    total = np.concatenate([[0.0], np.cumsum(np.nan_to_num(changes))])
    first, last = starts[series], origin - 1  # changes [first, last) lie before the origin
    counted = seen[last] - seen[first]
    scale = np.divide(
        total[last] - total[first], counted, out=np.full(len(origin), np.nan), where=counted > 0
    )
    observed = np.isfinite(actual).sum(axis=1)
    usable = np.isfinite(scale) & (scale > 0) & (observed > 0)
    per_series = {}
    for kind in CANDIDATES:
        read = torch.as_tensor(parts[kind][origin - 1], dtype=torch.float64)
        forecast = baseline_forecast(read, horizon).numpy()  # (W, H)
        absolute = np.nansum(np.abs(forecast - actual), axis=1)
        window_error = absolute / np.maximum(observed, 1) / np.where(usable, scale, 1)
        per_series[kind] = pd.Series(window_error[usable]).groupby(series[usable]).mean()
        if len(per_series[kind]):
            errors[kind] = float(per_series[kind].mean())
    kind = CANDIDATES[0]
    for challenger in CANDIDATES[1:]:
        better = per_series[kind] - per_series[challenger]  # (series,) how much lower
        if len(better) > 1 and better.mean() > 2 * better.std() / np.sqrt(len(better)):
            kind = challenger
    return kind, np.ascontiguousarray(parts[kind]), errors


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
    if kind == "holt":
        return holt_forecast(states, horizon)
    theta = theta_forecast(states[:, :THETA_STATE_SIZE], horizon)  # (B, H)
    if kind == "theta":
        return theta
    holt = holt_forecast(states[:, THETA_STATE_SIZE:], horizon)  # (B, H)
    return 0.5 * (theta + holt)
