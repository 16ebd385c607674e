"""ForecastContext: everything ``predict`` needs from the histories and from ``fit``.

``fit`` builds one :class:`ForecastContext` from the training panel; ``predict`` reads only it
and the trained module, never a constructor parameter, so ``set_params`` after ``fit`` cannot
change what a fitted model forecasts. It holds two kinds of state:

* what ``fit`` decided (horizon, input size, scaler, season length, quantile levels, covariate
  spec and scaling, conformal calibration), fixed for the model's life;
* each series' tail (its last ``input_size`` values, seasonal indices, baseline state, covariate
  rows, static features, last timestamp), which new histories replace.

It is saved as one block of a model file (:meth:`to_artifacts` / :meth:`from_artifacts`).
Shapes: n series, I input size, H horizon, m season length, C covariate columns.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import torch

from tsattn.forecast.combination import baseline_kind, baseline_states
from tsattn.forecast.conformal import Calibration
from tsattn.forecast.covariates import CovariateSpec, Design, apply_design, future_design
from tsattn.forecast.panel import Layout, Panel, TimeAxis, from_forecasts, to_panel
from tsattn.forecast.seasonal import deseasonalize
from tsattn.forecast.windows import WINDOW_SCALERS, WindowBatches, forecast_windows

# The fields ``fit`` decides once; new histories keep them.
FITTED_SETTINGS = (
    "horizon",
    "input_size",
    "scaler",
    "nonnegative",
    "observed_feature",
    "quantiles",
    "asked_quantiles",
)


def adjusted_histories(
    panel: Panel, season_length: int, baseline: str | None
) -> tuple[Panel, np.ndarray, np.ndarray | None]:
    """The seasonally adjusted panel, its (n, m) indices and the baseline's states at every value.

    The one preparation of histories ``fit`` trains on and new histories are forecast from.
    """
    values, indices = deseasonalize(panel.values, panel.offsets, season_length)
    panel = dataclasses.replace(panel, values=values)
    states = None if baseline is None else baseline_states(panel.values, panel.offsets, baseline)
    return panel, indices, states


@dataclass(frozen=True)
class ForecastContext:
    """What a fitted forecaster forecasts from (see the module docstring)."""

    horizon: int
    input_size: int
    scaler: str
    nonnegative: bool
    observed_feature: bool  # missing="mask": the encoder reads a 0/1 "observed" feature
    quantiles: list | None  # the model's output levels, 0.5 among them
    asked_quantiles: list | None  # the levels predict_quantiles reports
    ids: list
    last: list
    axis: TimeAxis
    layout: Layout
    values: np.ndarray  # (sum of tails,) float32, seasonally adjusted
    offsets: np.ndarray  # (n + 1,) int64 tail boundaries in ``values``
    seasonal_indices: np.ndarray  # (n, m) float64; m = 1 without adjustment
    spec: CovariateSpec = field(default_factory=CovariateSpec)
    covariate_means: np.ndarray | None = None  # per-series means of the relative columns
    covariate_context: np.ndarray | None = None  # (sum of tails, C) float32, scaled
    static: np.ndarray | None = None  # (n, S) float32, encoded
    baseline_end: np.ndarray | None = None  # (n, 4 or 7) the baseline's state at every end
    calibration: Calibration | None = None

    @property
    def n_series(self) -> int:
        """Number of series."""
        return len(self.ids)

    @property
    def season_length(self) -> int:
        """The seasonal period of the adjustment (1: none)."""
        return int(self.seasonal_indices.shape[1])

    # ------------------------------------------------------------------------------------------
    # building

    @classmethod
    def from_panel(
        cls,
        panel: Panel,
        design: Design,
        seasonal_indices: np.ndarray,
        baseline_states: np.ndarray | None,
        **fitted: Any,
    ) -> ForecastContext:
        """The context of a (seasonally adjusted) panel: every series' last ``input_size`` steps.

        ``fitted`` holds the settings ``fit`` decided (horizon, input_size, scaler, ...).
        ``baseline_states`` are the Theta states at every value of the panel, or None.
        """
        input_size = fitted["input_size"]
        keep = np.minimum(panel.lengths, input_size)  # (n,)
        offsets = np.concatenate([[0], np.cumsum(keep)]).astype(np.int64)
        rows = _tail_rows(panel.offsets, keep)
        covariate_context = None if design.history is None else design.history[rows]
        baseline_end = None
        if baseline_states is not None:
            baseline_end = baseline_states[panel.offsets[1:] - 1]
        return cls(
            ids=list(panel.ids),
            last=list(panel.last),
            axis=panel.axis,
            layout=panel.layout,
            values=panel.values[rows].astype(np.float32),
            offsets=offsets,
            seasonal_indices=np.asarray(seasonal_indices, dtype=np.float64),
            spec=design.spec,
            covariate_means=design.means,
            covariate_context=covariate_context,
            static=design.static,
            baseline_end=baseline_end,
            **fitted,
        )

    def for_histories(self, y: Any, X: Any = None, static: Any = None) -> ForecastContext:
        """A copy with the series replaced by the histories ``y`` (new or updated series).

        What ``fit`` decided stays; each series' tail, seasonal indices, baseline state and
        covariates come from ``y``, ``X`` and ``static``. Series seen in ``fit`` keep their static
        features when ``static`` is None; new series need a row in ``static``.
        """
        adjusted, design, indices, states = self.prepare(y, X, static)
        settings = {name: getattr(self, name) for name in FITTED_SETTINGS}
        return ForecastContext.from_panel(
            adjusted, design, indices, states, calibration=self.calibration, **settings
        )

    def prepare(self, y: Any, X: Any = None, static: Any = None):
        """New histories made ready as ``fit`` made its own.

        What :meth:`for_histories` and a warm-started ``fit`` build on. Returns the seasonally
        adjusted panel, its covariate design (this context's spec), the (n, m) seasonal indices
        and the Theta states (or None).
        """
        panel = to_panel(y, allow_nan=self.observed_feature)
        if panel.axis.kind != self.axis.kind or panel.axis.freq != self.axis.freq:
            raise ValueError(
                f"y's time axis ({panel.axis.kind}, frequency {panel.axis.freq!r}) differs from "
                f"fit's ({self.axis.kind}, {self.axis.freq!r}): give histories on fit's time axis"
            )
        if self.nonnegative and np.nanmin(panel.values) < 0:
            raise ValueError(
                "the model was fit with nonnegative=True, but y has negative values "
                f"(min {np.nanmin(panel.values):g})"
            )
        spec = self.spec
        known_static = None
        if spec.static and static is None:
            known_static = self._static_rows(panel.ids)
            spec = dataclasses.replace(spec, static=())
        design = apply_design(spec, panel, X, static)
        if known_static is not None:
            design = dataclasses.replace(design, spec=self.spec, static=known_static)
        kind = None if self.baseline_end is None else baseline_kind(self.baseline_end)
        adjusted, indices, states = adjusted_histories(panel, self.season_length, kind)
        return adjusted, design, indices, states

    def _static_rows(self, ids: list) -> np.ndarray:
        """The encoded static features of series seen in ``fit``, in the order of ``ids``."""
        position = {sid: i for i, sid in enumerate(self.ids)}
        new = [sid for sid in ids if sid not in position]
        if new:
            raise ValueError(
                f"series {new[:5]} were not seen in fit and the model reads static features: "
                "pass static with a row for every series of y"
            )
        return self.static[[position[sid] for sid in ids]]

    # ------------------------------------------------------------------------------------------
    # predicting

    def window_batches(self, X: Any, device: torch.device) -> WindowBatches:
        """The one window after every series' end, with the horizon's covariates from ``X``."""
        future = future_design(
            self.spec,
            X,
            self.layout,
            self.ids,
            self.axis,
            self.last,
            self.horizon,
            self.covariate_means,
        )
        lengths = np.diff(self.offsets)
        features = {"static": self.static, "observed_feature": self.observed_feature}
        if self.spec.n_columns:
            features.update(self._covariate_blocks(future), n_future=self.spec.n_future)
        baseline = None
        if self.baseline_end is not None:
            # Forecasts read the state at each series' last value: the end of its context.
            baseline = np.zeros((len(self.values), self.baseline_end.shape[1]), dtype=np.float32)
            baseline[self.offsets[1:] - 1] = self.baseline_end
        return WindowBatches(
            self.values,
            self.offsets,
            forecast_windows(lengths),
            self.input_size,
            self.horizon,
            self.scaler,
            device,
            **features,
            baseline=baseline,
            centred=self.spec.centred_columns,
        )

    def _covariate_blocks(self, future: np.ndarray) -> dict:
        """Every series' covariate context followed by its horizon rows, for WindowBatches."""
        keep = np.diff(self.offsets)  # (n,)
        n, horizon, width = future.shape
        offsets = self.offsets + horizon * np.arange(n + 1)  # (n + 1,)
        blocks = np.zeros((offsets[-1], width), dtype=np.float32)
        context_rows = np.arange(keep.sum()) + np.repeat(horizon * np.arange(n), keep)
        blocks[context_rows] = self.covariate_context
        future_rows = ((offsets[:-1] + keep)[:, None] + np.arange(horizon)).reshape(-1)
        blocks[future_rows] = future.reshape(n * horizon, width)
        return {"covariates": blocks, "covariate_offsets": offsets}

    def reseasonalize(self, forecasts: np.ndarray) -> np.ndarray:
        """(n, H) or (n, H, Q) adjusted forecasts times each series' seasonal indices."""
        m = self.season_length
        indices = self.seasonal_indices[:, np.arange(self.horizon) % m]  # (n, H)
        return forecasts * (indices if forecasts.ndim == 2 else indices[..., None])

    def format(self, forecasts: np.ndarray, columns: list | None = None):
        """(n, H[, K]) values in the format ``fit`` got y (the panel's layout)."""
        return from_forecasts(
            forecasts,
            ids=self.ids,
            last=self.last,
            axis=self.axis,
            layout=self.layout,
            columns=columns,
        )

    # ------------------------------------------------------------------------------------------
    # saving

    def to_artifacts(self) -> tuple[dict, dict[str, torch.Tensor]]:
        """JSON-ready state and tensors for a model file."""
        state = {
            "horizon": self.horizon,
            "input_size": self.input_size,
            "scaler": self.scaler,
            "nonnegative": self.nonnegative,
            "observed_feature": self.observed_feature,
            "quantiles": self.quantiles,
            "asked_quantiles": self.asked_quantiles,
            "ids": self.ids,
            "last": [_stamp_to_json(t) for t in self.last],
            # An ISO stamp keeps only the offset: the zone's name decides the next DST change.
            "last_tz": _zone_name(self.last),
            "axis": self.axis.to_json(),
            "layout": self.layout.to_json(),
            "covariates": self.spec.to_json(),
        }
        tensors = {
            "context.values": self.values,
            "context.offsets": self.offsets,
            "context.seasonal_indices": self.seasonal_indices,
            "context.covariate_means": self.covariate_means,
            "context.covariate_context": self.covariate_context,
            "context.static": self.static,
            "context.baseline_end": self.baseline_end,
        }
        tensors = {
            name: torch.from_numpy(np.ascontiguousarray(value))
            for name, value in tensors.items()
            if value is not None
        }
        if self.calibration is not None:
            state["calibration"], calibration = self.calibration.to_artifacts()
            tensors.update(calibration)
        return state, tensors

    @classmethod
    def from_artifacts(cls, state: dict, tensors: dict[str, torch.Tensor]) -> ForecastContext:
        """Inverse of :meth:`to_artifacts`; refuses a state that does not hang together."""
        axis = TimeAxis(**state["axis"])

        def array(name: str) -> np.ndarray | None:
            tensor = tensors.get(f"context.{name}")
            return None if tensor is None else tensor.numpy()

        context = cls(
            horizon=int(state["horizon"]),
            input_size=int(state["input_size"]),
            scaler=state["scaler"],
            nonnegative=bool(state["nonnegative"]),
            observed_feature=bool(state["observed_feature"]),
            quantiles=state["quantiles"],
            asked_quantiles=state["asked_quantiles"],
            ids=list(state["ids"]),
            last=[_stamp_from_json(t, axis, state.get("last_tz")) for t in state["last"]],
            axis=axis,
            layout=Layout.from_json(state["layout"]),
            values=array("values"),
            offsets=array("offsets"),
            seasonal_indices=array("seasonal_indices"),
            spec=CovariateSpec(**state["covariates"]),
            covariate_means=array("covariate_means"),
            covariate_context=array("covariate_context"),
            static=array("static"),
            baseline_end=array("baseline_end"),
            calibration=None
            if "calibration" not in state
            else Calibration.from_artifacts(state["calibration"], tensors),
        )
        context.check()
        return context

    def check(self) -> None:
        """Raise ValueError where the parts disagree (a damaged or hand-edited model file)."""
        n = self.n_series
        problems = []
        if self.horizon < 1 or self.input_size < 1:
            problems.append(f"horizon {self.horizon} and input size {self.input_size} must be >= 1")
        if self.scaler not in WINDOW_SCALERS:
            problems.append(f"unknown scaler {self.scaler!r}")
        if self.quantiles is not None and (
            0.5 not in self.quantiles or not set(self.asked_quantiles or []) <= set(self.quantiles)
        ):
            problems.append("the quantile levels lack the median 0.5 or the levels asked for")
        if len(self.last) != n or len(self.offsets) != n + 1 or len(self.seasonal_indices) != n:
            problems.append("the series ids, last timestamps and tails differ in number")
        elif self.offsets[0] != 0 or self.offsets[-1] != len(self.values):
            problems.append("the tails' offsets do not match their values")
        elif np.any(np.diff(self.offsets) < 1) or np.any(np.diff(self.offsets) > self.input_size):
            problems.append("a tail is empty or longer than the input size")
        for name in ("static", "baseline_end"):
            part = getattr(self, name)
            if part is not None and len(part) != n:
                problems.append(f"{name} has {len(part)} rows for {n} series")
        if self.covariate_context is not None and len(self.covariate_context) != len(self.values):
            problems.append("the covariate tails do not match the value tails")
        if problems:
            raise ValueError("; ".join(problems))


def _tail_rows(offsets: np.ndarray, keep: np.ndarray) -> np.ndarray:
    """Positions of every series' last ``keep`` values in a panel with ``offsets``."""
    starts = offsets[1:] - keep  # (n,)
    within = np.arange(keep.sum()) - np.repeat(np.cumsum(keep) - keep, keep)
    return np.repeat(starts, keep) + within


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
