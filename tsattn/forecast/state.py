"""The fitted state of a forecaster as two frozen records: what ``fit`` decided, and the series.

* :class:`FittedSettings`: the settings ``fit`` resolved once (horizon, input size, scaler,
  season length, baseline, quantile levels, covariate spec, conformal calibration); new
  histories keep them for the model's life.
* :class:`SeriesState`: every series' tail (its last ``input_size`` values, timestamps,
  seasonal indices, baseline end state, covariate rows, static features), which new histories
  replace.

Every field declares once how a model file holds it (:class:`Saved`) and, where it has one,
its rule: which count its rows must match, or which values it may take. Saving, loading and
checking read those declarations (:func:`record_to_artifacts`, :func:`record_from_artifacts`,
:func:`record_problems`). Shapes: n series, I input size, m season length, C covariate columns.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, fields
from typing import Any

import numpy as np
import pandas as pd
import torch

from tsattn.forecast.conformal import Calibration
from tsattn.forecast.covariates.spec import CovariateSpec
from tsattn.forecast.panel.types import Layout, TimeAxis
from tsattn.forecast.statistics.baseline import baseline_kind
from tsattn.forecast.windows.scaling import WINDOW_SCALERS

# Arrays of the series state are saved as tensors named "context.<field>".
TENSOR_PREFIX = "context."
# Most steps a saved horizon or input size may have. Nothing else in a model file is sized by
# them, so a crafted file could otherwise make predict allocate windows of any length; no
# model trains on windows of 100,000 steps (its recursion alone would take days per epoch).
MAX_STEPS = 100_000


def _steps(value: Any) -> bool:
    """Whether ``value`` is a whole number of steps in [1, MAX_STEPS]."""
    return isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= MAX_STEPS


@dataclass(frozen=True)
class Saved:
    """How one field is written to a model file and read back.

    ``dump(value)`` gives the JSON entries and tensors that hold it; ``load(state, tensors)``
    reads it back from the whole JSON state and every tensor of the file.
    """

    dump: Callable[[Any], tuple[dict, dict]]
    load: Callable[[dict, dict], Any]


def _json(key: str, convert: Callable[[Any], Any] = lambda value: value) -> Saved:
    """A JSON entry ``key``, read back through ``convert``."""
    return Saved(lambda value: ({key: value}, {}), lambda state, tensors: convert(state[key]))


def _tensor(name: str) -> Saved:
    """An optional array saved as the tensor ``context.<name>``."""

    def dump(value):
        if value is None:
            return {}, {}
        return {}, {TENSOR_PREFIX + name: torch.from_numpy(np.ascontiguousarray(value))}

    def load(state, tensors):
        tensor = tensors.get(TENSOR_PREFIX + name)
        return None if tensor is None else tensor.numpy()

    return Saved(dump, load)


def _derived(load: Callable[[dict, dict], Any]) -> Saved:
    """A setting not written: the file's other parts determine it."""
    return Saved(lambda value: ({}, {}), load)


def _season_length(state: dict, tensors: dict) -> int:
    return int(tensors[TENSOR_PREFIX + "seasonal_indices"].shape[1])


def _baseline(state: dict, tensors: dict) -> str | None:
    ends = tensors.get(TENSOR_PREFIX + "baseline_end")
    return None if ends is None else baseline_kind(ends)


def _dump_calibration(calibration: Calibration | None) -> tuple[dict, dict]:
    if calibration is None:
        return {}, {}
    state, tensors = calibration.to_artifacts()
    return {"calibration": state}, tensors


def _load_calibration(state: dict, tensors: dict) -> Calibration | None:
    if "calibration" not in state:
        return None
    return Calibration.from_artifacts(state["calibration"], tensors)


def _stamp_to_json(stamp: Any) -> Any:
    if isinstance(stamp, (pd.Timestamp, pd.Period)):
        return str(stamp)
    return int(stamp)


def _zone_name(stamps: list) -> str | None:
    """The time zone name of aware timestamps (they share one), None otherwise."""
    first = stamps[0] if stamps else None
    if isinstance(first, pd.Timestamp) and first.tz is not None:
        return str(first.tz)
    return None


def _stamp_from_json(value: Any, axis: TimeAxis, zone: str | None = None) -> Any:
    if axis.kind == "datetime":
        stamp = pd.Timestamp(value)
        return stamp if zone is None else stamp.tz_convert(zone)
    if axis.kind == "period":
        return pd.Period(value, freq=axis.freq)
    return int(value)


def _dump_last(last: list) -> tuple[dict, dict]:
    # An ISO stamp keeps only the offset: the zone's name decides the next DST change.
    return {"last": [_stamp_to_json(t) for t in last], "last_tz": _zone_name(last)}, {}


def _load_last(state: dict, tensors: dict) -> list:
    axis = TimeAxis(**state["axis"])
    return [_stamp_from_json(t, axis, state.get("last_tz")) for t in state["last"]]


def _load_axis(state: dict, tensors: dict) -> TimeAxis:
    axis = TimeAxis(**state["axis"])
    if axis.kind == "datetime" and state.get("last"):
        # Whether X's stamps must be aware: as the series' last stamps are (saved with offsets).
        axis.aware = pd.Timestamp(state["last"][0]).tz is not None
    return axis


def _setting(saved: Saved, valid: Callable[[Any], bool] | None = None, rule: str = "") -> Any:
    """A field of :class:`FittedSettings`: how it is saved, and what values it may take."""
    return field(metadata={"saved": saved, "valid": valid, "rule": rule})


def _series_part(saved: Saved, rows: str | None = None, default: Any = ...) -> Any:
    """A field of :class:`SeriesState`: how it is saved, and which count its rows match.

    ``rows``: "series" (one row per series), "tails" (one row per kept value) or None.
    """
    metadata = {"saved": saved, "rows": rows}
    return field(metadata=metadata) if default is ... else field(default=default, metadata=metadata)


@dataclass(frozen=True)
class FittedSettings:
    """The settings ``fit`` decided once; forecasts of new histories keep them."""

    horizon: int = _setting(_json("horizon", int), _steps, f"must lie in [1, {MAX_STEPS}]")
    input_size: int = _setting(_json("input_size", int), _steps, f"must lie in [1, {MAX_STEPS}]")
    scaler: str = _setting(_json("scaler"), lambda v: v in WINDOW_SCALERS, "is unknown")
    nonnegative: bool = _setting(_json("nonnegative", bool))
    # missing="mask": the encoder reads a 0/1 "observed" feature
    observed_feature: bool = _setting(_json("observed_feature", bool))
    quantiles: list | None = _setting(_json("quantiles"))  # the model's levels, 0.5 among them
    asked_quantiles: list | None = _setting(_json("asked_quantiles"))  # what is reported
    season_length: int = _setting(_derived(_season_length))  # 1: no seasonal adjustment
    baseline: str | None = _setting(_derived(_baseline))  # the baseline's kind, or None
    spec: CovariateSpec = _setting(
        Saved(lambda spec: ({"covariates": spec.to_json()}, {}),
              lambda state, tensors: CovariateSpec(**state["covariates"])),
    )  # fmt: skip
    calibration: Calibration | None = _setting(Saved(_dump_calibration, _load_calibration))

    def problems(self) -> list[str]:
        """What is wrong with these settings (empty when they hang together)."""
        found = record_problems(self)
        if self.quantiles is not None and (
            0.5 not in self.quantiles or not set(self.asked_quantiles or []) <= set(self.quantiles)
        ):
            found.append("the quantile levels lack the median 0.5 or the levels asked for")
        return found


@dataclass(frozen=True)
class SeriesState:
    """Every series a fitted model forecasts from: its last values and what goes with them."""

    ids: list = _series_part(_json("ids", list))
    last: list = _series_part(Saved(_dump_last, _load_last), "series")
    axis: TimeAxis = _series_part(Saved(lambda axis: ({"axis": axis.to_json()}, {}), _load_axis))
    layout: Layout = _series_part(
        Saved(lambda layout: ({"layout": layout.to_json()}, {}),
              lambda state, tensors: Layout.from_json(state["layout"])),
    )  # fmt: skip
    values: np.ndarray = _series_part(_tensor("values"), "tails")  # float32, seasonally adjusted
    offsets: np.ndarray = _series_part(_tensor("offsets"))  # (n + 1,) int64 tail boundaries
    seasonal_indices: np.ndarray = _series_part(_tensor("seasonal_indices"), "series")  # (n, m)
    # per-series means of the relative X columns
    covariate_means: np.ndarray | None = _series_part(_tensor("covariate_means"), None, None)
    # (tails, C) float32, scaled
    covariate_context: np.ndarray | None = _series_part(_tensor("covariate_context"), "tails", None)
    static: np.ndarray | None = _series_part(_tensor("static"), "series", None)  # (n, S) encoded
    # (n, 4 or 7) the baseline's state at every series' end
    baseline_end: np.ndarray | None = _series_part(_tensor("baseline_end"), "series", None)

    @property
    def n_series(self) -> int:
        """Number of series."""
        return len(self.ids)

    @property
    def lengths(self) -> np.ndarray:
        """(n,) values kept of every series."""
        return np.diff(self.offsets)

    def problems(self, input_size: int) -> list[str]:
        """What is wrong with the tails (empty when they hang together)."""
        n = self.n_series
        if len(self.offsets) != n + 1:
            return ["the series ids, last timestamps and tails differ in number"]
        found = record_problems(self, {"series": n, "tails": len(self.values)})
        if self.offsets[0] != 0 or self.offsets[-1] != len(self.values):
            found.append("the tails' offsets do not match their values")
        elif np.any(self.lengths < 1) or np.any(self.lengths > input_size):
            found.append("a tail is empty or longer than the input size")
        return found


def record_to_artifacts(record: Any) -> tuple[dict, dict[str, torch.Tensor]]:
    """JSON-ready state and tensors of a record, field by field as the fields declare."""
    state, tensors = {}, {}
    for item in fields(record):
        part, arrays = item.metadata["saved"].dump(getattr(record, item.name))
        state.update(part)
        tensors.update(arrays)
    return state, tensors


def record_from_artifacts(cls: type, state: dict, tensors: dict[str, torch.Tensor]) -> Any:
    """The record of class ``cls`` that :func:`record_to_artifacts` wrote."""
    return cls(**{item.name: item.metadata["saved"].load(state, tensors) for item in fields(cls)})


def record_problems(record: Any, counts: dict[str, int] | None = None) -> list[str]:
    """Fields that break their declared rule: a value it refuses, or rows of the wrong count."""
    found = []
    for item in fields(record):
        value = getattr(record, item.name)
        valid = item.metadata.get("valid")
        if valid is not None and not valid(value):
            found.append(f"{item.name} {value!r} {item.metadata['rule']}")
        rows = item.metadata.get("rows")
        if rows is not None and value is not None and len(value) != counts[rows]:
            found.append(f"{item.name} has {len(value)} rows for {counts[rows]} {rows}")
    return found
