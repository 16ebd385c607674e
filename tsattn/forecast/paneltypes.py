"""The panel's types: :class:`Panel` (many series held once) and :class:`TimeAxis`.

Also the column names of a long table (``unique_id``, ``ds``, ``y``, as in Nixtla's libraries).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

ID_COL, TIME_COL, TARGET_COL = "unique_id", "ds", "y"
LONG_COLUMNS = (ID_COL, TIME_COL, TARGET_COL)


@dataclass
class TimeAxis:
    """How timestamps continue past a series' end.

    ``kind`` is "datetime" (``freq`` an offset alias), "period" (``freq`` a period alias),
    "integer" (``freq`` an integer step) or "position" (numpy input: no timestamps).
    """

    kind: str
    freq: str | int | None = None

    def future(self, last: Any, horizon: int) -> pd.Index:
        """The ``horizon`` timestamps after ``last``."""
        if self.kind == "datetime":
            return pd.date_range(start=pd.Timestamp(last), periods=horizon + 1, freq=self.freq)[1:]
        if self.kind == "period":
            return pd.period_range(start=pd.Period(last, freq=self.freq) + 1, periods=horizon)
        step = int(self.freq or 1)
        return pd.Index(int(last) + step * np.arange(1, horizon + 1))

    def to_json(self) -> dict:
        """JSON-ready description (for saved models)."""
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
    layout : dict
        What is needed to give forecasts back in the input's format (JSON-ready).
    """

    values: np.ndarray
    offsets: np.ndarray
    ids: list
    last: list
    axis: TimeAxis
    layout: dict = field(default_factory=dict)

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
