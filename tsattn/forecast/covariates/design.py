"""Covariates X for the forecaster: lookup over the history and the horizon, and scaling.

Whatever the format of ``y``, ``X`` is first turned into rows keyed by (series, time), then
looked up at exactly the (series, time) pairs the model needs: every step of every series'
history in ``fit``, the ``horizon`` steps after every series' end in ``predict``. Rows of ``X``
outside those are ignored, so one ``X`` covering history and future serves both calls. The
result is one float32 array aligned with the panel's values (history) or of shape
(n_series, horizon, n_columns) (future), already scaled: 0/1 flags as they are, other columns
standardised per column, pooled over series (see :mod:`~tsattn.forecast.covariates.scaling`
for what the network reads of each: its level, its change, or both).

Formats of ``X`` (they mirror ``y``'s):

* ``y`` a Series: a DataFrame indexed by time like ``y``, one column per covariate.
* ``y`` a wide DataFrame: a DataFrame indexed by time whose columns are a two-level MultiIndex
  (series, covariate); or plain columns, then every covariate is shared by all series.
* ``y`` a long DataFrame: a long DataFrame with ``unique_id``, ``ds`` and one column per covariate.
* ``y`` an array of shape (T,) or (T, N): an array (R, C), shared by all series, or (R, N, C);
  its columns are named ``x0``, ``x1``, ... Row ``r`` is time step ``r`` of y's axis in ``fit``
  and ``predict`` alike (row 0 is y's row 0), so ``predict`` needs the history's rows followed
  by the horizon's: one X serves both calls.

:func:`fit_design` and :func:`future_design` also add the calendar features
(:mod:`~tsattn.forecast.covariates.calendar`) and encode the static features
(:mod:`~tsattn.forecast.covariates.static`);
:class:`CovariateSpec` records all of it, to be saved with the model.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from tsattn.forecast.covariates.calendar import calendar_values, holiday_flags, resolve_calendar
from tsattn.forecast.covariates.rows import Rows, lookup, x_rows
from tsattn.forecast.covariates.scaling import (
    binary_columns,
    check_range,
    column_forms,
    column_scaling,
    to_relative,
)
from tsattn.forecast.covariates.spec import (
    CovariateSpec,
    check_past_covariates,
    check_predict_columns,
    split_x_columns,
)
from tsattn.forecast.covariates.static import apply_static, encode_static
from tsattn.forecast.panel.timegrid import make_grid
from tsattn.forecast.panel.types import Layout, Panel, TimeAxis

__all__ = [
    "CovariateSpec",
    "Design",
    "check_past_covariates",
    "fit_design",
    "future_design",
]


# ----------------------------------------------------------------------------------------------
# What fit and predict call


@dataclass(frozen=True)
class Design:
    """Scaled covariates aligned with a panel (fit) and the rules to build them again (predict).

    Attributes
    ----------
    spec : CovariateSpec
        What was learnt about X, the calendar and the static features.
    history : numpy.ndarray or None
        float32 (total_len, n_columns) aligned with the panel's values; None without X and
        calendar features.
    static : numpy.ndarray or None
        float32 (n_series, S) encoded static features.
    means : numpy.ndarray or None
        float64 (n_series, n_x) every X column's mean per series (for the relative columns).
    """

    spec: CovariateSpec
    history: np.ndarray | None
    static: np.ndarray | None
    means: np.ndarray | None = None


def fit_design(
    panel: Panel,
    X: Any,
    static: Any,
    past: list,
    calendar: list | bool,
    scaling: str = "auto",
    holidays: tuple = (),
) -> Design:
    """Learn how to encode X and static from the fitted panel, and encode them.

    Parameters
    ----------
    panel : Panel
        The series of ``fit``.
    X, static
        As given to ``fit``.
    past : list
        Names of the past-only columns.
    calendar : list, bool or "auto"
        The ``calendar_features`` parameter, checked.
    scaling : {"auto", "window", "series"}
        The ``covariate_scaling`` parameter: what the network reads of each numeric column
        (see :func:`~tsattn.forecast.covariates.scaling.column_forms`).
    holidays : tuple of str
        The checked ``holidays`` parameter: country calendars whose holidays become flags.

    Returns
    -------
    Design
    """
    if X is None and past:
        raise ValueError(f"past_covariates={past} names columns of X, but X is None; pass X")
    rules: dict = {}
    if X is not None:
        rows = x_rows(X, panel.layout, panel.ids, panel.axis)
        known, past_names = split_x_columns(rows, past)
        values, _, _ = _history_values(rows, [*known, *past_names], panel)
        loc, scale = column_scaling(values)
        centred, changes = column_forms(binary_columns(values), len(known), scaling)
        rules = {
            "known": known,
            "past": past_names,
            "loc": loc.tolist(),
            "scale": scale.tolist(),
            "relative": [False] * len(loc),
            "low": values.min(0).tolist(),
            "high": values.max(0).tolist(),
            "centred": centred.tolist(),
            "changes": changes[: len(known)].tolist(),
        }
    encoding = [] if static is None else encode_static(static, panel.ids)[1]
    spec = CovariateSpec(
        calendar=resolve_calendar(
            calendar, panel.axis, known=bool(rules.get("known")) or bool(holidays)
        ),
        holidays=tuple(holidays),
        static=encoding,
        **rules,
    )
    if holidays and panel.axis.kind not in ("datetime", "period"):
        raise ValueError(
            f"holidays={list(holidays)} needs timestamps (a DatetimeIndex, PeriodIndex or "
            f"datetime ds); y is indexed by {panel.axis.kind}s. Set holidays=None"
        )
    return apply_design(spec, panel, X, static)


def apply_design(spec: CovariateSpec, panel: Panel, X: Any, static: Any) -> Design:
    """Encode X and static over a panel's histories as ``spec`` says (fit's or new histories).

    Standardisation, the forms of each column and the static encoding are the spec's; the
    relative columns of older model files are taken relative to each series' own mean over the
    histories given.
    """
    if spec.x_names and X is None:
        raise ValueError(
            f"the model reads the covariates {spec.x_names} over the history: pass X covering "
            "y's history"
        )
    parts, means = [], None
    if spec.x_names or spec.calendar or spec.holidays:
        grid = make_grid(panel.axis, panel.last, panel.lengths, 0)
        positions = grid.history(panel.lengths)  # (total_len,)
        if spec.x_names:
            rows = x_rows(X, panel.layout, panel.ids, panel.axis)
            names = spec.x_names
            values, codes, means = _history_values(rows, names, panel)
            relative = np.asarray(spec.relative or [False] * len(names), dtype=bool)
            values = to_relative(values, relative, means, codes, panel.ids, names)
            values = (values - np.asarray(spec.loc)) / np.asarray(spec.scale)
            parts.append(values[:, : len(spec.known)])
            parts.append(values[:, spec.change_columns])
        if spec.calendar:
            parts.append(calendar_values(grid.stamps, list(spec.calendar))[positions])
        if spec.holidays:
            flags = holiday_flags(grid.stamps, list(spec.holidays), panel.axis.freq)
            parts.append(flags[positions])
        if spec.x_names:
            parts.append(values[:, len(spec.known) :])
    history = np.concatenate(parts, axis=1).astype(np.float32) if parts else None
    matrix = None
    if spec.static:
        if static is None:
            raise ValueError("the model was fit with static features: pass static")
        matrix = apply_static(list(spec.static), static, panel.ids)
    return Design(spec, history, matrix, means)


def _history_values(rows: Rows, names: list, panel: Panel):
    """X's raw values at every step of every history, their series codes and per-series means."""
    grid = make_grid(panel.axis, panel.last, panel.lengths, 0)
    positions = grid.history(panel.lengths)
    codes = np.repeat(np.arange(panel.n_series), panel.lengths)
    values = lookup(rows, names, codes, grid.keys[positions], panel.ids, panel.axis, "y's history")
    means = np.add.reduceat(values, panel.offsets[:-1], axis=0) / panel.lengths[:, None]
    return values, codes, means


def future_design(
    spec: CovariateSpec,
    X: Any,
    layout: Layout,
    ids: list,
    axis: TimeAxis,
    last: list,
    horizon: int,
    means: np.ndarray | None = None,
) -> np.ndarray | None:
    """Scaled covariates over the horizon, past columns 0.

    Parameters
    ----------
    spec : CovariateSpec
        From :func:`fit_design`.
    X : pandas.DataFrame, numpy.ndarray or None
        As given to ``predict``.
    layout, ids, axis, last
        The fitted panel's.
    horizon : int
        Steps ahead.
    means : numpy.ndarray or None
        The X columns' per-series means of ``fit`` (for the relative columns).

    Returns
    -------
    numpy.ndarray or None
        float32 (n_series, horizon, n_columns); None when the model reads no covariates.

    Raises
    ------
    ValueError
        When X is needed and missing, given and not needed, or incomplete; when it holds NaN
        or inf where it is read; when a known column lies beyond the range fit saw by more
        than ``xscaling.RANGE_SPANS`` (10) times that range's span (``max - min``; for a
        column constant in fit, ``max(|value|, 1)``), naming the column, the range and the
        value.
    """
    if not spec.n_columns:
        if X is not None and not spec.dropped:
            raise ValueError("the model was fit without X; call predict() without X")
        return None
    if X is None and spec.uses_x:
        raise ValueError(
            f"the model was fit with covariates known in advance {list(spec.known)}: pass X "
            f"covering the {horizon} steps after each series' end"
        )
    n = len(ids)
    lengths = np.ones(n, dtype=np.int64)
    grid = make_grid(axis, last, lengths, horizon)
    positions = grid.future(horizon).reshape(-1)  # (n * H,)
    out = np.zeros((n * horizon, spec.n_columns), dtype=np.float64)
    if X is not None:
        rows = x_rows(X, layout, ids, axis)
        check_predict_columns(rows, spec)
        if spec.known:
            known = list(spec.known)
            codes = np.repeat(np.arange(n), horizon)
            values = lookup(
                rows,
                known,
                codes,
                grid.keys[positions],
                ids,
                axis,
                f"the {horizon} steps after each series' end",
            )
            k = len(known)
            check_range(values, spec, ids, codes)
            relative = np.asarray(spec.relative[:k] or [False] * k, dtype=bool)
            if means is not None:
                values = to_relative(values, relative, means[:, :k], codes, ids, known)
            scaled = (values - np.asarray(spec.loc[:k])) / np.asarray(spec.scale[:k])
            out[:, :k] = scaled
            out[:, k : k + spec.n_changes] = scaled[:, spec.change_columns]
    start = len(spec.known) + spec.n_changes
    if spec.calendar:
        out[:, start : start + 2 * len(spec.calendar)] = calendar_values(
            grid.stamps, list(spec.calendar)
        )[positions]
        start += 2 * len(spec.calendar)
    if spec.holidays:
        out[:, start : start + len(spec.holidays)] = holiday_flags(
            grid.stamps, list(spec.holidays), axis.freq
        )[positions]
    return out.reshape(n, horizon, spec.n_columns).astype(np.float32)
