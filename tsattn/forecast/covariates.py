"""Covariates X for the forecaster: lookup over the history and the horizon, and scaling.

Whatever the format of ``y``, ``X`` is first turned into rows keyed by (series, time), then
looked up at exactly the (series, time) pairs the model needs: every step of every series'
history in ``fit``, the ``horizon`` steps after every series' end in ``predict``. Rows of ``X``
outside those are ignored, so one ``X`` covering history and future serves both calls. The
result is one float32 array aligned with the panel's values (history) or of shape
(n_series, horizon, n_columns) (future), already scaled: 0/1 flags as they are; positive amounts
(prices, counts) as the log of their ratio to the series' mean in ``fit`` (a 20% price cut is
then the same input for every product, as the target is scaled per window), then standardised;
other columns standardised.

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
(:mod:`tsattn.forecast.calendar`) and encode the static features (:mod:`tsattn.forecast.static`);
:class:`CovariateSpec` records all of it, to be saved with the model.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from tsattn.forecast.calendar import calendar_values, resolve_calendar
from tsattn.forecast.panel import TARGET_COL, Layout, Panel, TimeAxis
from tsattn.forecast.static import apply_static, encode_static
from tsattn.forecast.timegrid import make_grid
from tsattn.forecast.xrows import Rows, lookup, x_rows
from tsattn.forecast.xscaling import (
    binary_columns,
    check_range,
    column_scaling,
    relative_columns,
    to_relative,
)

__all__ = [
    "CovariateSpec",
    "Design",
    "check_past_covariates",
    "fit_design",
    "future_design",
]


@dataclass(frozen=True)
class CovariateSpec:
    """What ``fit`` learnt about X, the calendar and the static features; saved with the model.

    Built once by :func:`fit_design` and never changed after: a changed copy is made with
    :func:`dataclasses.replace`. Sequences are held as tuples so that the spec stays as it was
    built; :meth:`to_json` gives them back as lists.

    Decoder columns come first: ``known`` then ``calendar`` (sin/cos pairs); ``past`` columns
    follow and reach the encoder only.

    Attributes
    ----------
    known : tuple
        Columns of X known in advance (read over the history and the horizon).
    past : tuple
        Columns of X known only up to the forecast origin.
    calendar : tuple of str
        Calendar features (see :data:`~tsattn.forecast.calendar.CALENDAR_FEATURES`).
    loc, scale : tuple of float
        Standardisation of every X column, known then past.
    relative : tuple of bool
        Per X column: taken as the log of its ratio to its series' mean before standardising.
    static : tuple of dict
        Per static column: ``name``, ``kind`` and ``levels`` or ``loc``/``scale``.
    low, high : tuple of float
        Per X column, known then past: the smallest and largest value ``fit`` saw (empty in
        models saved before they were kept: ``predict`` then skips the range check).
    centred : tuple of bool
        Per X column, known then past: taken relative to each window (minus its mean over the
        window's history, see :class:`~tsattn.forecast.windows.WindowBatches`); empty: none.
    dropped : tuple of str
        X columns that ``fit`` dropped (``covariate_selection``): ``predict`` ignores them in X.
    """

    known: tuple = ()
    past: tuple = ()
    calendar: tuple = ()
    loc: tuple = ()
    scale: tuple = ()
    relative: tuple = ()
    static: tuple = ()
    low: tuple = ()
    high: tuple = ()
    centred: tuple = ()
    dropped: tuple = ()

    def __post_init__(self) -> None:
        # Lists from JSON or from the caller become tuples: the spec never shares a mutable
        # list with anyone, so nothing outside can change it after it is built.
        for item in dataclasses.fields(self):
            value = getattr(self, item.name)
            if not isinstance(value, tuple):
                object.__setattr__(self, item.name, tuple(value))

    @property
    def x_names(self) -> list:
        """The columns read from X, known ones first (the order of ``loc`` and ``scale``)."""
        return [*self.known, *self.past]

    @property
    def n_future(self) -> int:
        """Columns the decoder reads at every forecast step."""
        return len(self.known) + 2 * len(self.calendar)

    @property
    def n_columns(self) -> int:
        """All time-varying columns (what the encoder reads besides the target)."""
        return self.n_future + len(self.past)

    @property
    def centred_columns(self) -> np.ndarray | None:
        """(n_columns,) bool: which time-varying columns are centred per window, or None."""
        if not any(self.centred):
            return None
        k = len(self.known)
        calendar = [False] * (2 * len(self.calendar))
        return np.array([*self.centred[:k], *calendar, *self.centred[k:]], dtype=bool)

    @property
    def uses_x(self) -> bool:
        """Whether ``predict`` needs X."""
        return bool(self.known)

    def to_json(self) -> dict:
        """The spec as a JSON-ready dict of lists (the form saved models hold).

        Returns
        -------
        dict
            One list per field; :meth:`from_json` reads it back.
        """
        return {
            item.name: [dict(v) if isinstance(v, dict) else v for v in getattr(self, item.name)]
            for item in dataclasses.fields(self)
        }

    @classmethod
    def from_json(cls, state: dict | None) -> CovariateSpec:
        """The spec saved by :meth:`to_json`.

        Parameters
        ----------
        state : dict or None
            A dict from :meth:`to_json`; None or ``{}`` (a model fit without covariates) gives
            the empty spec.

        Returns
        -------
        CovariateSpec

        Raises
        ------
        ValueError
            When ``state`` has keys that no field has (a file of another format).
        """
        state = state or {}
        if not isinstance(state, dict):
            raise TypeError(f"a covariate spec must be a dict, got {type(state).__name__}")
        names = {item.name for item in dataclasses.fields(cls)}
        unknown = sorted(set(state) - names)
        if unknown:
            raise ValueError(
                f"the saved covariate spec has unknown keys {unknown} (expected some of "
                f"{sorted(names)}); the file was written by another version of tsattn"
            )
        return cls(**state)


def check_past_covariates(value: Any) -> list:
    """Validate the ``past_covariates`` parameter.

    Parameters
    ----------
    value : str or sequence of str
        Column names of X known only up to the forecast origin.

    Returns
    -------
    list
        The names, distinct.
    """
    if isinstance(value, str):
        return [value]
    try:
        names = list(value)
    except TypeError:
        raise TypeError(
            f"past_covariates must be a list of column names of X, got {value!r}"
        ) from None
    if len(set(map(str, names))) != len(names):
        raise ValueError(f"past_covariates has duplicate names: {names}")
    return names


# ----------------------------------------------------------------------------------------------
# Columns and scaling of X


def split_x_columns(rows: Rows, past: list) -> tuple[list, list]:
    """Check X's columns in ``fit`` and split them into known and past ones.

    Parameters
    ----------
    rows : Rows
        X as rows.
    past : list
        The checked ``past_covariates``; every other column of X is known in advance.

    Returns
    -------
    known, past : list
        Column names in X's order.
    """
    columns = list(rows.frame.columns)
    if len(columns) == 0:
        raise ValueError("X has no covariate columns")
    if pd.Index(columns).has_duplicates:
        raise ValueError("X has duplicate column names")
    for col in columns:
        if not isinstance(col, (str, int)) or isinstance(col, bool):
            raise TypeError(f"X's column names must be strings, got {col!r}")
    absent = [c for c in past if c not in columns]
    if absent:
        raise ValueError(
            f"past_covariates names {absent}, which X does not have (its columns: {columns})"
        )
    if TARGET_COL in columns and TARGET_COL not in past:
        raise ValueError(f"X has a column {TARGET_COL!r}, the target's name; rename it or drop it")
    return [c for c in columns if c not in past], [c for c in columns if c in past]


def check_predict_columns(rows: Rows, spec: CovariateSpec) -> None:
    """X in predict must have every known column; columns never seen in fit are an error."""
    columns = list(rows.frame.columns)
    new = [c for c in columns if c not in spec.x_names and c not in spec.dropped]
    if new:
        raise ValueError(
            f"X has columns the model was not fit with: {new}; drop them (fit used {spec.x_names})"
        )
    absent = [c for c in spec.known if c not in columns]
    if absent:
        raise ValueError(
            f"X lacks the column(s) {absent}, which the model reads over the horizon (known in "
            f"advance); pass them, or name them in past_covariates and fit again"
        )


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
    centre: bool = True,
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
    calendar : list or bool
        The ``calendar_features`` parameter, checked.
    centre : bool
        Take every X column that is not a 0/1 flag relative to each window (the spec's
        ``centred``); False keeps them relative to the series only.

    Returns
    -------
    Design
    """
    if X is None and past:
        raise ValueError(f"past_covariates={past} names columns of X, but X is None; pass X")
    scaling: dict = {}
    if X is not None:
        rows = x_rows(X, panel.layout, panel.ids, panel.axis)
        known, past_names = split_x_columns(rows, past)
        values, codes, means = _history_values(rows, [*known, *past_names], panel)
        raw_low, raw_high = values.min(0), values.max(0)
        relative = relative_columns(values)
        values = to_relative(values, relative, means, codes, panel.ids, [*known, *past_names])
        loc, scale = column_scaling(values)
        scaling = {
            "known": known,
            "past": past_names,
            "loc": loc.tolist(),
            "scale": scale.tolist(),
            "relative": relative.tolist(),
            "low": raw_low.tolist(),
            "high": raw_high.tolist(),
            "centred": (~binary_columns(values) & centre).tolist(),
        }
    encoding = [] if static is None else encode_static(static, panel.ids)[1]
    spec = CovariateSpec(
        calendar=resolve_calendar(calendar, panel.axis), static=encoding, **scaling
    )
    return apply_design(spec, panel, X, static)


def apply_design(spec: CovariateSpec, panel: Panel, X: Any, static: Any) -> Design:
    """Encode X and static over a panel's histories as ``spec`` says (fit's or new histories).

    Relative columns are taken relative to each series' own mean over the histories given, as
    ``fit`` did; standardisation and the static encoding are the spec's.
    """
    if spec.x_names and X is None:
        raise ValueError(
            f"the model reads the covariates {spec.x_names} over the history: pass X covering "
            "y's history"
        )
    parts, means = [], None
    if spec.x_names or spec.calendar:
        grid = make_grid(panel.axis, panel.last, panel.lengths, 0)
        positions = grid.history(panel.lengths)  # (total_len,)
        if spec.x_names:
            rows = x_rows(X, panel.layout, panel.ids, panel.axis)
            names = spec.x_names
            values, codes, means = _history_values(rows, names, panel)
            relative = np.asarray(spec.relative, dtype=bool)
            values = to_relative(values, relative, means, codes, panel.ids, names)
            values = (values - np.asarray(spec.loc)) / np.asarray(spec.scale)
            parts.append(values[:, : len(spec.known)])
        if spec.calendar:
            parts.append(calendar_values(grid.stamps, list(spec.calendar))[positions])
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
            out[:, :k] = (values - np.asarray(spec.loc[:k])) / np.asarray(spec.scale[:k])
    if spec.calendar:
        start = len(spec.known)
        out[:, start : start + 2 * len(spec.calendar)] = calendar_values(
            grid.stamps, list(spec.calendar)
        )[positions]
    return out.reshape(n, horizon, spec.n_columns).astype(np.float32)
