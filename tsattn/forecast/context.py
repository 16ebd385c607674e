"""ForecastContext: everything ``predict`` needs from the histories and from ``fit``.

``fit`` builds one :class:`ForecastContext`; ``predict`` reads only it and the trained module,
never a constructor parameter, so ``set_params`` after ``fit`` cannot change what a fitted model
forecasts. It joins the two records of :mod:`tsattn.forecast.state`: the settings ``fit``
decided (:class:`~tsattn.forecast.state.FittedSettings`, fixed for the model's life) and every
series' tail (:class:`~tsattn.forecast.state.SeriesState`, which new histories replace). The
fields of both read as the context's own (``context.horizon``, ``context.offsets``).

It is saved as one block of a model file (:meth:`to_artifacts` / :meth:`from_artifacts`).
Shapes: n series, H horizon.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from tsattn.forecast.covariates.rows import rows_of_series
from tsattn.forecast.panel.conversion import from_forecasts
from tsattn.forecast.preparation import HistoryPreparation
from tsattn.forecast.state import (
    FittedSettings,
    SeriesState,
    record_from_artifacts,
    record_to_artifacts,
)
from tsattn.forecast.windows.batches import WindowBatches

_RECORDS = {"settings": FittedSettings, "series": SeriesState}


@dataclass(frozen=True)
class ForecastContext:
    """What a fitted forecaster forecasts from (see the module docstring)."""

    settings: FittedSettings
    series: SeriesState

    def __getattr__(self, name: str) -> Any:
        # Called only for names that are not the context's own: a field or property of either
        # record. Private and special names are never delegated (copy and pickle probe them
        # before the records exist).
        if not name.startswith("_"):
            for record in ("settings", "series"):
                part = self.__dict__.get(record)
                if part is not None and (name in _FIELDS[record] or hasattr(type(part), name)):
                    return getattr(part, name)
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    def replace(self, **changes: Any) -> ForecastContext:
        """A copy with fields of either record changed, e.g. ``replace(spec=spec)``."""
        unknown = set(changes) - _FIELDS["settings"] - _FIELDS["series"]
        if unknown:
            raise TypeError(f"the context has no fields {sorted(unknown)}")
        parts = {}
        for record in _RECORDS:
            mine = {k: v for k, v in changes.items() if k in _FIELDS[record]}
            parts[record] = dataclasses.replace(getattr(self, record), **mine)
        return ForecastContext(**parts)

    def preparation(self) -> HistoryPreparation:
        """How new histories are prepared for this model (as ``fit`` prepared its own)."""
        return HistoryPreparation(self.settings, self.series)

    def for_histories(self, y: Any, X: Any = None, static: Any = None) -> ForecastContext:
        """A copy with the series replaced by the histories ``y`` (new or updated series).

        What ``fit`` decided stays; each series' tail, seasonal indices, baseline state and
        covariates come from ``y``, ``X`` and ``static``. Series seen in ``fit`` keep their static
        features when ``static`` is None; new series need a row in ``static``.
        """
        preparation = self.preparation()
        return ForecastContext(self.settings, preparation.tails(preparation.prepare(y, X, static)))

    def window_batches(self, X: Any, device: torch.device) -> WindowBatches:
        """The one window after every series' end, with the horizon's covariates from ``X``.

        Rows of ``X`` of other series are ignored where it holds every series forecast.

        Raises
        ------
        ValueError
            Where a series has no observed value in its input window (``missing="mask"``):
            nothing gives its forecast a level.
        """
        series = self.series
        observed = np.add.reduceat(~np.isnan(series.values), series.offsets[:-1]) > 0  # (n,)
        if not observed.all():
            unseen = [series.ids[i] for i in np.flatnonzero(~observed)]
            raise ValueError(
                f"series {unseen[:5]}{' ...' if len(unseen) > 5 else ''} have no observed value "
                f"in their last {self.settings.input_size} steps, the window the model reads: "
                "a forecast from it would have no level to follow. Forecast them from histories "
                "with values in that window (predict(y=...)), or leave them out"
            )
        X = rows_of_series(X, series.layout, series.ids)
        return self.preparation().forecast_batches(series, X, device)

    def reseasonalize(self, forecasts: np.ndarray) -> np.ndarray:
        """(n, H) or (n, H, Q) adjusted forecasts times each series' seasonal indices."""
        m = self.settings.season_length
        indices = self.series.seasonal_indices[:, np.arange(self.settings.horizon) % m]  # (n, H)
        return forecasts * (indices if forecasts.ndim == 2 else indices[..., None])

    def format(self, forecasts: np.ndarray, columns: list | None = None):
        """(n, H[, K]) values in the format ``fit`` got y (the panel's layout)."""
        series = self.series
        return from_forecasts(
            forecasts,
            ids=series.ids,
            last=series.last,
            axis=series.axis,
            layout=series.layout,
            columns=columns,
        )

    # ------------------------------------------------------------------------------------------
    # saving

    def to_artifacts(self) -> tuple[dict, dict[str, torch.Tensor]]:
        """JSON-ready state and tensors for a model file."""
        state, tensors = record_to_artifacts(self.settings)
        series_state, series_tensors = record_to_artifacts(self.series)
        return {**state, **series_state}, {**tensors, **series_tensors}

    @classmethod
    def from_artifacts(cls, state: dict, tensors: dict[str, torch.Tensor]) -> ForecastContext:
        """Inverse of :meth:`to_artifacts`; refuses a state that does not hang together."""
        context = cls(
            record_from_artifacts(FittedSettings, state, tensors),
            record_from_artifacts(SeriesState, state, tensors),
        )
        context.check()
        return context

    def check(self) -> None:
        """Raise ValueError where the parts disagree (a damaged or hand-edited model file)."""
        problems = self.settings.problems() + self.series.problems(self.settings.input_size)
        if problems:
            raise ValueError("; ".join(problems))


_FIELDS = {name: {item.name for item in dataclasses.fields(cls)} for name, cls in _RECORDS.items()}
