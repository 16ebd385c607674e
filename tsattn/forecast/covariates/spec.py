"""What the forecaster learnt about X, the calendar and the static features, and its checks.

:class:`CovariateSpec` is saved with the model; :func:`check_past_covariates`,
:func:`split_x_columns` and :func:`check_predict_columns` check X's columns in ``fit`` and
``predict`` against it.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from tsattn.forecast.covariates.rows import Rows
from tsattn.forecast.panel.conversion import TARGET_COL

__all__ = ["CovariateSpec", "check_past_covariates", "check_predict_columns", "split_x_columns"]


@dataclass(frozen=True)
class CovariateSpec:
    """What ``fit`` learnt about X, the calendar and the static features; saved with the model.

    Built once by :func:`fit_design` and never changed after: a changed copy is made with
    :func:`dataclasses.replace`. Sequences are held as tuples so that the spec stays as it was
    built; :meth:`to_json` gives them back as lists.

    Decoder columns come first: ``known``, then the change of every known column marked in
    ``changes``, then ``calendar`` (sin/cos pairs), then one 0/1 flag per ``holidays`` calendar;
    ``past`` columns follow and reach the encoder only.

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
    changes : tuple of bool
        Per known column: also read as its change (a second input, centred per window); empty:
        none.
    holidays : tuple of str
        Country calendars (``"AU"``, ``"AU-NSW"``) whose holidays are 0/1 flags known in advance
        (see :func:`~tsattn.forecast.covariates.calendar.holiday_flags`).
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
    changes: tuple = ()
    holidays: tuple = ()

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
    def n_changes(self) -> int:
        """Known columns also read as their change."""
        return int(sum(self.changes))

    @property
    def n_future(self) -> int:
        """Columns the decoder reads at every forecast step."""
        return len(self.known) + self.n_changes + 2 * len(self.calendar) + len(self.holidays)

    @property
    def n_columns(self) -> int:
        """All time-varying columns (what the encoder reads besides the target)."""
        return self.n_future + len(self.past)

    @property
    def centred_columns(self) -> np.ndarray | None:
        """(n_columns,) bool: which time-varying columns are centred per window, or None."""
        if not any(self.centred) and not any(self.changes):
            return None
        k = len(self.known)
        centred = list(self.centred) or [False] * len(self.x_names)
        changes = [True] * self.n_changes
        calendar = [False] * (2 * len(self.calendar) + len(self.holidays))
        return np.array([*centred[:k], *changes, *calendar, *centred[k:]], dtype=bool)

    @property
    def uses_x(self) -> bool:
        """Whether ``predict`` needs X."""
        return bool(self.known)

    @property
    def change_columns(self) -> list:
        """Positions, among the known columns, of those also read as their change."""
        return [j for j, flag in enumerate(self.changes) if flag]

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
