"""HistoryPreparation: the one place where histories become what the network reads.

A history ``y`` (with its covariates ``X`` and static features) is prepared in these steps,
in this order, wherever it comes from (``fit``, a warm start, ``predict(y=...)``, historical
forecasts, covariate importance and selection):

1. the panel: ``y`` read into one float32 array (:func:`~tsattn.forecast.panel.to_panel`);
2. the covariate design: X, the calendar and the static features encoded and scaled
   (:func:`~tsattn.forecast.covariates.fit_design` in a first fit, ``apply_design`` with the
   fitted spec after it);
3. the seasonal adjustment and the baseline's states (:func:`adjusted_histories`);
4. windows: the training and validation split, or the one window after every series' end.

A first fit resolves the settings from its data (:meth:`HistoryPreparation.from_training_data`:
scaler, input size, season length); every later preparation keeps them
(:meth:`HistoryPreparation.prepare`).
"""

from __future__ import annotations

import dataclasses
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import torch

from tsattn.forecast.covariates.design import Design, apply_design, fit_design, future_design
from tsattn.forecast.covariates.rows import rows_of_series
from tsattn.forecast.panel.checks import check_lengths
from tsattn.forecast.panel.conversion import to_panel
from tsattn.forecast.panel.types import Panel
from tsattn.forecast.params import default_input_size, resolve_scaler, short_history_warning
from tsattn.forecast.state import FittedSettings, SeriesState
from tsattn.forecast.statistics import seasonal
from tsattn.forecast.statistics.baseline import baseline_kind, baseline_states, choose_baseline
from tsattn.forecast.statistics.seasonal import (
    adjustment_seasons,
    apply_indices,
    deseasonalize,
    seasons_from_axis,
)
from tsattn.forecast.windows.batches import WindowBatches, forecast_windows, training_windows


def adjusted_histories(
    panel: Panel,
    season_length: int | tuple[int, int],
    baseline: str | None,
    known_indices: np.ndarray | None = None,
    horizon: int | None = None,
) -> tuple[Panel, np.ndarray, np.ndarray | None]:
    """The seasonally adjusted panel, its (n, m) indices and the baseline's states at every value.

    ``season_length``: the period, or (day, week) for two seasons
    (:func:`~tsattn.forecast.statistics.seasonal.deseasonalize`). ``baseline``: a kind, or
    "auto" (a first fit only, which passes ``horizon``:
    :func:`~tsattn.forecast.statistics.baseline.choose_baseline`); the kind chosen is the
    states' :func:`~tsattn.forecast.statistics.baseline.baseline_kind`. ``known_indices``:
    (n, m) indices to use instead of estimating them, NaN rows where they are to be estimated.
    """
    values, indices = deseasonalize(panel.values, panel.offsets, season_length)
    if known_indices is not None:
        known = ~np.isnan(known_indices).any(axis=1)
        if known.any():
            indices = indices.copy()
            indices[known] = known_indices[known]
            values = apply_indices(panel.values, panel.offsets, indices)
    panel = dataclasses.replace(panel, values=values)
    if baseline is None:
        states = None
    elif baseline == "auto":
        _, states, _ = choose_baseline(panel.values, panel.offsets, horizon)
    else:
        states = baseline_states(panel.values, panel.offsets, baseline)
    return panel, indices, states


@dataclass(frozen=True)
class PreparationOptions:
    """The checked parameters a first fit prepares its training data by."""

    horizon: int
    input_size: int | None  # None: chosen from the series' lengths
    season_length: int | None  # None: from the time axis
    baseline: str | None
    scaler: str  # "auto" is resolved from the values
    mask_missing: bool
    nonnegative: bool
    past: list
    calendar: Any
    scaling: str  # covariate_scaling: "auto", "window" or "series"
    quantiles: list | None
    asked_quantiles: list | None
    holidays: tuple = ()  # checked country codes


@dataclass(frozen=True)
class PreparedData:
    """Histories made ready: what training windows and series tails are cut from."""

    panel: Panel  # seasonally adjusted
    design: Design
    seasonal_indices: np.ndarray  # (n, m)
    baseline_states: np.ndarray | None  # the baseline's state at every value, or None

    @property
    def has_covariates(self) -> bool:
        """Whether the model reads X, calendar or static features."""
        return bool(self.design.spec.n_columns or self.design.static is not None)


class HistoryPreparation:
    """Prepares histories as a fitted model reads them (see the module docstring).

    Parameters
    ----------
    settings : FittedSettings
        What the first fit decided.
    fitted : SeriesState or None
        The series the model was fit on: new histories must share their time axis, and series
        seen in ``fit`` keep their static features when no ``static`` is given.
    """

    def __init__(self, settings: FittedSettings, fitted: SeriesState | None = None):
        self.settings = settings
        self.fitted = fitted

    @classmethod
    def from_training_data(
        cls, options: PreparationOptions, y: Any, X: Any, static: Any
    ) -> tuple[HistoryPreparation, PreparedData]:
        """A first fit's preparation: the settings resolved from ``y``, and ``y`` prepared."""
        panel = to_panel(y, allow_nan=options.mask_missing)
        check_lengths(panel, options.horizon)
        if options.nonnegative and np.nanmin(panel.values) < 0:
            raise ValueError(
                f"nonnegative=True but y has negative values (min "
                f"{np.nanmin(panel.values):g}); set nonnegative=False"
            )
        design = fit_design(
            panel, X, static, options.past, options.calendar, options.scaling, options.holidays
        )
        season = options.season_length
        if season is None:
            seasons = seasons_from_axis(panel.axis)
        else:
            seasons = adjustment_seasons(season, panel.axis)
        season = seasons[0]  # the shortest season, for the short-history warning
        panel, indices, states = adjusted_histories(
            panel, seasons, options.baseline, horizon=options.horizon
        )
        input_size = options.input_size
        if input_size is None:
            input_size = default_input_size(panel.lengths, options.horizon, max(seasons))
        # An input longer than the longest series would read padding only, and a huge one
        # would size every batch by it.
        input_size = min(input_size, int(panel.lengths.max()))
        warning = short_history_warning(panel.lengths, options.horizon, season)
        if warning is not None:
            # stacklevel 5: the code that called fit (fit -> _fit_steps -> _prepare -> here)
            warnings.warn(warning, UserWarning, stacklevel=5)
        settings = FittedSettings(
            horizon=options.horizon,
            input_size=input_size,
            scaler=resolve_scaler(options.scaler, panel.values),
            nonnegative=bool(options.nonnegative),
            observed_feature=options.mask_missing,
            quantiles=options.quantiles,
            asked_quantiles=options.asked_quantiles,
            season_length=int(indices.shape[1]),
            baseline=None if states is None else baseline_kind(states),
            spec=design.spec,
            calibration=None,
        )
        return cls(settings), PreparedData(panel, design, indices, states)

    def prepare(self, y: Any, X: Any = None, static: Any = None, *, training: bool = False):
        """New histories made ready as the first fit made its own.

        ``training``: they are to be cut into training windows (a warm start, importance), so
        every series must be longer than the horizon. Returns a :class:`PreparedData` with the
        fitted covariate spec.
        """
        settings, fitted = self.settings, self.fitted
        panel = to_panel(y, allow_nan=settings.observed_feature, freq=fitted.axis.freq)
        if training:
            check_lengths(panel, settings.horizon)
        if panel.axis.kind != fitted.axis.kind or panel.axis.freq != fitted.axis.freq:
            raise ValueError(
                f"y's time axis ({panel.axis.kind}, frequency {panel.axis.freq!r}) differs from "
                f"fit's ({fitted.axis.kind}, {fitted.axis.freq!r}): give histories on fit's "
                "time axis"
            )
        if settings.nonnegative and np.nanmin(panel.values) < 0:
            raise ValueError(
                "the model was fit with nonnegative=True, but y has negative values "
                f"(min {np.nanmin(panel.values):g})"
            )
        spec = settings.spec
        known_static = None
        if spec.static and static is None:
            known_static = self._static_rows(panel.ids)
            spec = dataclasses.replace(spec, static=())
        design = apply_design(spec, panel, rows_of_series(X, panel.layout, panel.ids), static)
        if known_static is not None:
            design = dataclasses.replace(design, spec=settings.spec, static=known_static)
        known, shift = self._known_series(panel)
        indices = None
        if known.any():
            fitted_indices = fitted.seasonal_indices[np.maximum(known, 0)]  # (n, m)
            m = fitted_indices.shape[1]
            columns = (np.arange(m)[None, :] + shift[:, None]) % m  # phases from the new ends
            indices = np.take_along_axis(fitted_indices, columns, axis=1)
            # Known series long enough for the fit's own rule estimate their indices afresh.
            fresh = (known < 0) | (panel.lengths >= seasonal.TESTED_SEASONS * m)
            indices[fresh] = np.nan
        adjusted, indices, states = adjusted_histories(
            panel,
            adjustment_seasons(settings.season_length, panel.axis),
            settings.baseline,
            known_indices=indices,
        )
        if states is not None and fitted.baseline_end is not None:
            # A known series that ends where it ended in fit keeps the state of its whole
            # history rather than one of the short history given.
            same_end = (known >= 0) & (shift == 0)
            states[adjusted.offsets[1:][same_end] - 1] = fitted.baseline_end[known[same_end]]
        self._warn_new_short(panel, known)
        return PreparedData(adjusted, design, indices, states)

    def _known_series(self, panel: Panel) -> tuple[np.ndarray, np.ndarray]:
        """For every series of ``panel``: its position in fit (-1: new), and its steps past it.

        The steps count how far the new history ends after the fitted one (0: the same end;
        only datetime and period axes are counted, others read as unknown series).
        """
        fitted = self.fitted
        position = {sid: i for i, sid in enumerate(fitted.ids)}
        known = np.array([position.get(sid, -1) for sid in panel.ids], dtype=np.int64)
        shift = np.zeros(len(known), dtype=np.int64)
        if panel.axis.kind not in ("datetime", "period") or not isinstance(panel.axis.freq, str):
            return np.full(len(known), -1, dtype=np.int64), shift
        for i, (k, last) in enumerate(zip(known, panel.last, strict=True)):
            if k >= 0:
                shift[i] = _steps_between(fitted.last[k], last, panel.axis)
        return known, shift

    def _warn_new_short(self, panel: Panel, known: np.ndarray) -> None:
        """Warn, as fit does, where most series not seen in fit are too short."""
        new = known < 0
        if not new.any():
            return
        season = adjustment_seasons(self.settings.season_length, panel.axis)[0]
        warning = short_history_warning(panel.lengths[new], self.settings.horizon, season)
        if warning is not None:
            warnings.warn("series not seen in fit: " + warning, UserWarning, stacklevel=5)

    def _static_rows(self, ids: list) -> np.ndarray:
        """The encoded static features of series seen in ``fit``, in the order of ``ids``."""
        position = {sid: i for i, sid in enumerate(self.fitted.ids)}
        new = [sid for sid in ids if sid not in position]
        if new:
            raise ValueError(
                f"series {new[:5]} were not seen in fit and the model reads static features: "
                "pass static with a row for every series of y"
            )
        return self.fitted.static[[position[sid] for sid in ids]]

    def tails(self, data: PreparedData) -> SeriesState:
        """Every series' last ``input_size`` steps and what forecasts from them need."""
        panel, design = data.panel, data.design
        keep = np.minimum(panel.lengths, self.settings.input_size)  # (n,)
        offsets = np.concatenate([[0], np.cumsum(keep)]).astype(np.int64)
        rows = _tail_rows(panel.offsets, keep)
        states = data.baseline_states
        return SeriesState(
            ids=list(panel.ids),
            last=list(panel.last),
            axis=panel.axis,
            layout=panel.layout,
            values=panel.values[rows].astype(np.float32),
            offsets=offsets,
            seasonal_indices=np.asarray(data.seasonal_indices, dtype=np.float64),
            covariate_means=design.means,
            covariate_context=None if design.history is None else design.history[rows],
            static=design.static,
            baseline_end=None if states is None else states[panel.offsets[1:] - 1],
        )

    # ------------------------------------------------------------------------------------------
    # windows

    def training_batches(
        self, data: PreparedData, validation_size: float, device: torch.device
    ) -> tuple[WindowBatches, WindowBatches]:
        """The training and validation windows of prepared histories (a temporal split)."""
        settings, panel, design = self.settings, data.panel, data.design
        windows = training_windows(
            panel.lengths, settings.input_size, settings.horizon, validation_size
        )
        train, valid = (
            WindowBatches(
                panel.values,
                panel.offsets,
                part,
                settings.input_size,
                settings.horizon,
                settings.scaler,
                device,
                covariates=design.history,
                n_future=design.spec.n_future,
                static=design.static,
                observed_feature=settings.observed_feature,
                baseline=data.baseline_states,
                centred=design.spec.centred_columns,
            )
            for part in windows
        )
        return train, valid

    def forecast_batches(self, series: SeriesState, X: Any, device: torch.device) -> WindowBatches:
        """The one window after every series' end, with the horizon's covariates from ``X``."""
        settings, spec = self.settings, self.settings.spec
        future = future_design(
            spec,
            X,
            series.layout,
            series.ids,
            series.axis,
            series.last,
            settings.horizon,
            series.covariate_means,
        )
        features = {"static": series.static, "observed_feature": settings.observed_feature}
        if spec.n_columns:
            features.update(_covariate_blocks(series, future), n_future=spec.n_future)
        baseline = None
        if series.baseline_end is not None:
            # Forecasts read the state at each series' last value: the end of its tail.
            baseline = np.zeros((len(series.values), series.baseline_end.shape[1]), np.float32)
            baseline[series.offsets[1:] - 1] = series.baseline_end
        return WindowBatches(
            series.values,
            series.offsets,
            forecast_windows(series.lengths),
            settings.input_size,
            settings.horizon,
            settings.scaler,
            device,
            **features,
            baseline=baseline,
            centred=spec.centred_columns,
        )


def _covariate_blocks(series: SeriesState, future: np.ndarray) -> dict:
    """Every series' covariate tail followed by its horizon rows, for WindowBatches."""
    keep = series.lengths  # (n,)
    n, horizon, width = future.shape
    offsets = series.offsets + horizon * np.arange(n + 1)  # (n + 1,)
    blocks = np.zeros((offsets[-1], width), dtype=np.float32)
    context_rows = np.arange(keep.sum()) + np.repeat(horizon * np.arange(n), keep)
    blocks[context_rows] = series.covariate_context
    future_rows = ((offsets[:-1] + keep)[:, None] + np.arange(horizon)).reshape(-1)
    blocks[future_rows] = future.reshape(n * horizon, width)
    return {"covariates": blocks, "covariate_offsets": offsets}


def _steps_between(start: Any, end: Any, axis) -> int:
    """Steps of the axis' frequency from ``start`` to ``end`` (negative when ``end`` is before)."""
    if axis.kind == "period":
        return int((pd.Period(end, freq=axis.freq) - pd.Period(start, freq=axis.freq)).n)
    first, second = sorted([pd.Timestamp(start), pd.Timestamp(end)])
    steps = len(pd.date_range(first, second, freq=axis.freq)) - 1
    return steps if pd.Timestamp(end) >= pd.Timestamp(start) else -steps


def _tail_rows(offsets: np.ndarray, keep: np.ndarray) -> np.ndarray:
    """Positions of every series' last ``keep`` values in a panel with ``offsets``."""
    starts = offsets[1:] - keep  # (n,)
    within = np.arange(keep.sum()) - np.repeat(np.cumsum(keep) - keep, keep)
    return np.repeat(starts, keep) + within
