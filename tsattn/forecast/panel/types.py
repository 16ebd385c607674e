"""The panel's types: :class:`Panel` (many series held once), :class:`TimeAxis`, :class:`Layout`.

Also the column names of a long table (``unique_id``, ``ds``, ``y``, as in Nixtla's libraries).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

ID_COL, TIME_COL, TARGET_COL = "unique_id", "ds", "y"
LONG_COLUMNS = (ID_COL, TIME_COL, TARGET_COL)


# How ``y`` was given, and so how forecasts go back: a Series, a wide frame (a column per series),
# a long frame (unique_id, ds, y), or a 1-D / 2-D array.
LAYOUT_KINDS = ("series", "wide", "long", "array1d", "array2d")


@dataclass(frozen=True)
class Layout:
    """How ``y`` was given, kept so that forecasts come back in the same format.

    ``kind`` is one of :data:`LAYOUT_KINDS`. A Series keeps its ``name``; a wide frame its
    ``columns`` (the series' names); a long frame the kind of its ``ds`` column
    (``time_kind``) and, for datetimes, their ``unit`` and time zone ``tz``.
    """

    kind: str
    name: Any = None
    columns: tuple = ()
    time_kind: str | None = None
    unit: str | None = None
    tz: str | None = None

    def __post_init__(self) -> None:
        if self.kind not in LAYOUT_KINDS:
            raise ValueError(f"layout kind must be one of {LAYOUT_KINDS}, got {self.kind!r}")
        object.__setattr__(self, "columns", tuple(self.columns))

    @property
    def is_array(self) -> bool:
        """Whether y was a numpy array (no timestamps, no names)."""
        return self.kind in ("array1d", "array2d")

    @property
    def is_long(self) -> bool:
        """Whether y was a long frame (unique_id, ds, y)."""
        return self.kind == "long"

    def to_json(self) -> dict:
        """JSON-ready, with only the fields its kind uses (the form model files hold)."""
        if self.kind == "series":
            return {"kind": "series", "name": self.name}
        if self.kind == "wide":
            return {"kind": "wide", "columns": list(self.columns)}
        if self.kind == "long":
            state = {"kind": "long", "time_kind": self.time_kind}
            if self.unit is not None:
                state.update(unit=self.unit, tz=self.tz)
            return state
        return {"kind": self.kind}

    @classmethod
    def from_json(cls, state: dict) -> Layout:
        """Inverse of :meth:`to_json`; refuses unknown kinds or fields."""
        known = {"kind", "name", "columns", "time_kind", "unit", "tz"}
        if not isinstance(state, dict) or not set(state) <= known or "kind" not in state:
            raise ValueError(f"not a layout: {state!r}")
        return cls(**state)


@dataclass
class TimeAxis:
    """How timestamps continue past a series' end.

    ``kind`` is "datetime" (``freq`` an offset alias), "period" (``freq`` a period alias),
    "integer" (``freq`` an integer step) or "position" (numpy input: no timestamps).
    ``aware``: whether y's datetimes carry a time zone (None where unknown or not datetimes);
    X's timestamps must be alike, as pandas refuses to compare naive and aware ones.
    """

    kind: str
    freq: str | int | None = None
    aware: bool | None = None

    def future(self, last: Any, horizon: int) -> pd.Index:
        """The ``horizon`` timestamps after ``last``."""
        if self.kind == "datetime":
            return pd.date_range(start=pd.Timestamp(last), periods=horizon + 1, freq=self.freq)[1:]
        if self.kind == "period":
            return pd.period_range(start=pd.Period(last, freq=self.freq) + 1, periods=horizon)
        step = int(self.freq or 1)
        return pd.Index(int(last) + step * np.arange(1, horizon + 1))

    def to_json(self) -> dict:
        """JSON-ready description (for saved models); ``aware`` is read from the last stamps."""
        return {"kind": self.kind, "freq": self.freq}


@dataclass
class Panel:
    """Many series of different lengths held once.

    Attributes
    ----------
    values : numpy.ndarray
        float32, all series one after another.
    offsets : numpy.ndarray
        int64 of length ``n_series + 1``; series ``i`` is ``values[offsets[i]:offsets[i+1]]``.
    ids : list
        Series identifiers (column names, unique_id values, or positions).
    last : list
        Each series' last timestamp (a Timestamp, Period or int).
    axis : TimeAxis
        How the timestamps continue.
    layout : Layout
        What is needed to give forecasts back in the input's format.
    """

    values: np.ndarray
    offsets: np.ndarray
    ids: list
    last: list
    axis: TimeAxis
    layout: Layout = field(default_factory=lambda: Layout("array2d"))

    @property
    def lengths(self) -> np.ndarray:
        """Length of every series."""
        return np.diff(self.offsets)

    @property
    def n_series(self) -> int:
        """Number of series."""
        return len(self.ids)

    def series(self, i: int) -> np.ndarray:
        """The values of series ``i`` (a view)."""
        return self.values[self.offsets[i] : self.offsets[i + 1]]
