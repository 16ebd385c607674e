"""(past window, future window) samples drawn lazily from a panel, and per-window scaling.

A sample is a (series, origin) pair: the encoder reads the ``input_size`` values before the
origin, the decoder predicts the ``horizon`` values from it. Samples are index arithmetic over
the panel's one array; a batch is gathered by one vectorised indexing, so no (windows x window)
copy of the data ever exists. Shapes: B batch, I input size, H horizon.

Every window is scaled by its own observed history, by one of :data:`WINDOW_SCALERS`:

* ``"standard"``: minus the mean, divided by the standard deviation (floored, see
  :func:`window_scale`);
* ``"log"``: ``log(1 + x / level)`` with ``level`` the window's mean absolute value, so errors
  are relative to the window's level and zeros stay finite; no further standardisation;
* ``"none"``: the values as they are.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from tsattn.forecast.statistics.baseline import baseline_forecast
from tsattn.forecast.windows.scaling import (
    scale_targets,
    window_level,
    window_scale,
)


@dataclass
class WindowIndex:
    """Which windows exist: one row per (series, origin)."""

    series: np.ndarray  # int64 (n,) series number of each window
    origin: np.ndarray  # int64 (n,) position in the series where the forecast starts

    def __len__(self) -> int:
        return len(self.series)

    def subset(self, keep: np.ndarray) -> WindowIndex:
        """The windows selected by a boolean or integer index."""
        return WindowIndex(self.series[keep], self.origin[keep])


# Validation keeps its share of each series' origins, however long the series: a fixed span
# was measured worse (half-hourly NSW, next day, 3 origins, seed 0: MAPE 3.88 with the share,
# 3.96 / 4.01 / 4.34 with 64 / 32 / 8 horizons; livestock with 2% instead of 10%: MASE 0.721
# against 0.678, /work/notes/bench23.md): the epoch kept and the fall-back test need a long,
# steady validation loss more than the weights need the held-out recent values.

# Training origins per series: at most its last TRAIN_SPANS * (input_size + horizon) ones, i.e.
# that many non-overlapping windows of history. An epoch draws from all training windows, so
# on a long series the cost grows with the history while consecutive windows are near copies:
# 96 days of half-hourly data (input 96 + horizon 48) make an epoch the minimum 20 batches
# instead of 50, and a fit of ~45,000 steps 18 CPU seconds instead of 74 (MAPE 3.88 against
# 3.72 on NSW's next day from 3 origins, seed 0; MSTL 3.71; measured at input 96, before the
# input became a week: at 336 + 48 a half-hourly series trains on its last 256 days). The
# bound is 2,304 values at input 48 + horizon 24 and 288 at the smallest window (8 + 1): every
# M3, Walmart and livestock series trains whole.
TRAIN_SPANS = 32


def training_windows(
    lengths: np.ndarray, input_size: int, horizon: int, validation_size: float
) -> tuple[WindowIndex, WindowIndex]:
    """Temporal split of every series' windows into training and validation.

    A series of length L has origins ``t`` with ``t + horizon <= L`` and at least
    ``min(input_size, L - horizon)`` values of history: full windows where the series allows,
    otherwise its one longest (padded) window. The last ``ceil(validation_size * n_t)`` origins of
    each series validate; training keeps only origins whose targets end before the first
    validation target starts, so no target value is seen in both, and of those at most the last
    ``TRAIN_SPANS * (input_size + horizon)`` (see :data:`TRAIN_SPANS`). Series too short to give
    both keep their windows for training.

    Parameters
    ----------
    lengths : numpy.ndarray
        Length of every series.
    input_size, horizon : int
        Encoder and decoder lengths.
    validation_size : float
        Share of each series' origins held out, in [0, 1).

    Returns
    -------
    train, valid : WindowIndex
    """
    lengths = np.asarray(lengths, dtype=np.int64)
    first = np.minimum(input_size, lengths - horizon)  # (n_series,)
    last = lengths - horizon
    n_origins = last - first + 1
    n_valid = np.where(validation_size > 0, np.ceil(validation_size * n_origins), 0).astype(
        np.int64
    )
    n_valid = np.minimum(n_valid, n_origins)
    train_end = last - n_valid - horizon + 1  # training origins t <= train_end
    usable = (n_valid > 0) & (train_end >= first)
    # Series with nothing left to train on after the hold-out train on everything instead.
    n_valid = np.where(usable, n_valid, 0)
    train_end = np.where(usable, train_end, last)
    train_start = np.maximum(first, train_end - TRAIN_SPANS * (input_size + horizon) + 1)
    return (
        _ranges(train_start, train_end),
        _ranges(last - n_valid + 1, last),
    )


def _ranges(start: np.ndarray, stop: np.ndarray) -> WindowIndex:
    """All (series, t) with start[s] <= t <= stop[s], vectorised."""
    counts = np.maximum(stop - start + 1, 0)
    series = np.repeat(np.arange(len(start)), counts)
    offsets = np.concatenate([[0], np.cumsum(counts)[:-1]])
    origin = np.arange(counts.sum()) - np.repeat(offsets, counts) + np.repeat(start, counts)
    return WindowIndex(series.astype(np.int64), origin.astype(np.int64))


def forecast_windows(lengths: np.ndarray) -> WindowIndex:
    """The window after every series' end: what ``predict`` encodes."""
    lengths = np.asarray(lengths, dtype=np.int64)
    return WindowIndex(np.arange(len(lengths), dtype=np.int64), lengths)


class WindowBatches:
    """Gathers batches of scaled windows from a panel held once on the device.

    Parameters
    ----------
    values : numpy.ndarray
        The panel's float32 values, all series one after another.
    offsets : numpy.ndarray
        Series boundaries (n_series + 1).
    windows : WindowIndex
        The samples.
    input_size, horizon : int
        Encoder and decoder lengths.
    scaler : {"standard", "log", "none"}
        Per-window scaling from the window's observed input (see the module docstring).
    device : torch.device
        Where batches are built.
    covariates : numpy.ndarray or None
        (rows, C) float32 time-varying covariates, already scaled; the first ``n_future``
        columns are known in advance and also reach the decoder.
    covariate_offsets : numpy.ndarray or None
        Series boundaries in ``covariates`` (n_series + 1); None means ``offsets``. Series
        ``i``'s block starts at the same time as its values.
    n_future : int
        Covariate columns the decoder reads.
    static : numpy.ndarray or None
        (n_series, S) float32 static features, added to every encoder and decoder step.
    observed_feature : bool
        Add a 0/1 "observed" feature to the encoder input (``missing="mask"``).
    baseline : numpy.ndarray or None
        (rows, width) :func:`~tsattn.forecast.combination.baseline_states` aligned with
        ``values``: each window then carries the baseline's forecast from its origin, scaled as
        the targets, as ``base`` and as a decoder input; the model forecasts the correction.
    """

    def __init__(
        self,
        values: np.ndarray,
        offsets: np.ndarray,
        windows: WindowIndex,
        input_size: int,
        horizon: int,
        scaler: str,
        device: torch.device,
        *,
        covariates: np.ndarray | None = None,
        covariate_offsets: np.ndarray | None = None,
        n_future: int = 0,
        static: np.ndarray | None = None,
        observed_feature: bool = False,
        baseline: np.ndarray | None = None,
        centred: np.ndarray | None = None,
    ):
        self.values = torch.as_tensor(values, dtype=torch.float32, device=device)
        self.starts = torch.as_tensor(offsets[:-1], device=device)
        self.ends = torch.as_tensor(offsets[1:], device=device)
        self.windows = windows
        self.series = torch.as_tensor(windows.series, device=device)
        self.origin = torch.as_tensor(windows.origin, device=device)
        self.input_size, self.horizon, self.scaler = input_size, horizon, scaler
        self.steps = torch.arange(-input_size, horizon, device=device)  # (I + H,)
        self.device = device
        self.covariates = None
        if covariates is not None and covariates.shape[1]:
            # Each series' covariate block starts where its values start but may run on past
            # their end: in predict it holds the horizon's known covariates as well.
            cov_offsets = offsets if covariate_offsets is None else covariate_offsets
            self.covariates = torch.as_tensor(covariates, dtype=torch.float32, device=device)
            self.cov_starts = torch.as_tensor(cov_offsets[:-1], device=device)
            self.cov_ends = torch.as_tensor(cov_offsets[1:], device=device)
        self.n_future = n_future
        self.static = (
            None
            if static is None or not static.shape[1]
            else torch.as_tensor(static, dtype=torch.float32, device=device)
        )
        self.observed_feature = observed_feature
        # Covariate columns taken relative to their window (minus their mean over its history).
        self.centred = (
            None
            if centred is None or self.covariates is None or not np.any(centred)
            else torch.as_tensor(np.asarray(centred, dtype=bool), device=device)
        )
        self.baseline = (
            None
            if baseline is None
            else torch.as_tensor(baseline, dtype=torch.float32, device=device)
        )

    def __len__(self) -> int:
        return len(self.windows)

    @property
    def covariate_widths(self) -> tuple[int, int]:
        """Covariate features (X, calendar, static) at the end of every encoder and decoder step.

        They come last in ``source`` and ``target_in`` (see :meth:`batch`), which is where
        :class:`~tsattn.core.gate.CovariateGate` gates them.
        """
        static = 0 if self.static is None else self.static.shape[1]
        columns = 0 if self.covariates is None else self.covariates.shape[1]
        return columns + static, (self.n_future if self.covariates is not None else 0) + static

    def batch(self, index: np.ndarray | slice) -> dict[str, torch.Tensor]:
        """Gather the windows at ``index``.

        Returns
        -------
        dict
            ``source`` (B, I, F) scaled history (feature 0; then the observed flag, the
            covariates and the static features where there are any), ``mask`` (B, I) True
            inside the series (False on padding), ``target_in`` (B, H, F_dec) decoder inputs
            (the previous true value at each step, then the known covariates and static
            features), ``target`` (B, H) scaled targets (NaN beyond a series' end or where
            missing), ``loc`` and ``scale`` (B, 1); ``future`` (B, H, F_dec - 1) the decoder's
            inputs besides the target when there are any; ``base`` (B, H) the scaled baseline
            forecast with a ``baseline``; ``level`` (B, 1) the window's level with the "log"
            scaler (forecasts are ``level * expm1(loc + scale * output)``).
        """
        if isinstance(index, np.ndarray) and self.device.type == "cuda":
            # Pinned and non-blocking: a copy from pageable memory waits for the GPU to drain.
            index = torch.from_numpy(index).pin_memory().to(self.device, non_blocking=True)
        elif not isinstance(index, slice):
            index = torch.as_tensor(index, device=self.device)
        series, origin = self.series[index], self.origin[index]  # (B,)
        start = self.starts[series]  # (B,)
        position = start[:, None] + origin[:, None] + self.steps  # (B, I + H)
        inside = (position >= start[:, None]) & (position < self.ends[series][:, None])
        gathered = self.values[position.clamp(0, len(self.values) - 1)]  # (B, I + H)
        # NaN values (missing="mask") are unobserved: out of the scaling, the input and the loss.
        observed = inside & ~torch.isnan(gathered)  # (B, I + H)
        gathered = torch.where(observed, gathered, torch.zeros((), device=self.device))
        history, future = gathered[:, : self.input_size], gathered[:, self.input_size :]
        mask = inside[:, : self.input_size]  # (B, I) attention skips the padding only
        seen = observed[:, : self.input_size]  # (B, I)
        extra = {}
        base = None
        if self.baseline is not None:
            # The state after the last value before the origin: forecasts from the origin.
            states = self.baseline[(start + origin - 1).clamp(min=0)]  # (B, width)
            base = baseline_forecast(states, self.horizon)  # (B, H)
        if self.scaler == "log":
            # log(1 + x / level): errors become relative to the window's level (what sMAPE and
            # MAPE measure), and zeros of intermittent sales stay finite.
            level = window_level(history, seen)  # (B, 1)
            history = torch.log1p(history.clamp(min=0) / level)
            future = torch.log1p(future.clamp(min=0) / level)
            if base is not None:
                base = torch.log1p(base.clamp(min=0) / level)
            extra["level"] = level
        loc, scale = window_scale(history, seen, self.scaler)  # (B, 1) each
        if base is not None:
            base = scale_targets(base, loc, scale)  # (B, H)
            extra["base"] = base
        source = torch.where(seen, (history - loc) / scale, torch.zeros((), device=self.device))
        target = scale_targets(future, loc, scale)  # (B, H)
        # A window with nothing observed in its input has no level to scale its targets by
        # (loc 0, scale 1): they would teach an arbitrary scale, so they stay out of the loss.
        scored = observed[:, self.input_size :] & seen.any(1, keepdim=True)  # (B, H)
        target = torch.where(scored, target, torch.nan)
        # A missing previous value enters the decoder as the window's mean (0 once scaled).
        target_in = torch.cat([source[:, -1:], target[:, :-1].nan_to_num(0.0)], dim=1)  # (B, H)
        source, target_in = source[..., None], target_in[..., None]  # (B, I, 1), (B, H, 1)
        encoder_extra, decoder_extra = self._features(series, origin, seen)
        if base is not None:
            decoder_extra.insert(0, base[..., None])  # (B, H, 1)
        if encoder_extra:
            source = torch.cat([source, *encoder_extra], dim=-1)  # (B, I, F)
        if decoder_extra:
            future_features = torch.cat(decoder_extra, dim=-1)  # (B, H, F_dec - 1)
            target_in = torch.cat([target_in, future_features], dim=-1)  # (B, H, F_dec)
            extra["future"] = future_features
        return {
            "source": source,
            "mask": mask,
            "target_in": target_in,
            "target": target,
            "loc": loc,
            "scale": scale,
            **extra,
        }

    def _features(
        self, series: torch.Tensor, origin: torch.Tensor, seen: torch.Tensor
    ) -> tuple[list[torch.Tensor], list[torch.Tensor]]:
        """Encoder and decoder inputs besides the target: observed flag, covariates, static."""
        encoder, decoder = [], []
        if self.observed_feature:
            encoder.append(seen.to(torch.float32)[..., None])  # (B, I, 1)
        if self.covariates is not None:
            start = self.cov_starts[series]  # (B,)
            position = start[:, None] + origin[:, None] + self.steps  # (B, I + H)
            inside = (position >= start[:, None]) & (position < self.cov_ends[series][:, None])
            rows = self.covariates[position.clamp(0, len(self.covariates) - 1)]  # (B, I + H, C)
            rows = torch.where(inside[..., None], rows, torch.zeros((), device=self.device))
            if self.centred is not None:
                rows = self._centre(rows, inside)
            encoder.append(rows[:, : self.input_size])  # (B, I, C)
            if self.n_future:
                decoder.append(rows[:, self.input_size :, : self.n_future])  # (B, H, C_future)
        if self.static is not None:
            static = self.static[series][:, None]  # (B, 1, S)
            encoder.append(static.expand(-1, self.input_size, -1))  # (B, I, S)
            decoder.append(static.expand(-1, self.horizon, -1))  # (B, H, S)
        return encoder, decoder

    def _centre(self, rows: torch.Tensor, inside: torch.Tensor) -> torch.Tensor:
        """(B, I + H, C) rows minus each centred column's mean over the window's history.

        A covariate then enters as the target does, relative to its own window: a price as its
        ratio to the window's usual price, a regional index as its change over the window. A
        slow trend in a column (a consumer price index, a market size) no longer tells the
        model the date, which it would otherwise learn as a clock and extrapolate beyond the
        values of fit. Rows outside the series (``inside`` False, (B, I + H)) stay 0.
        """
        inside = inside.to(rows.dtype)[..., None]  # (B, I + H, 1)
        weight = inside[:, : self.input_size]  # (B, I, 1)
        count = weight.sum(1, keepdim=True).clamp(min=1)  # (B, 1, 1)
        mean = (rows[:, : self.input_size] * weight).sum(1, keepdim=True) / count  # (B, 1, C)
        shift = torch.where(self.centred, mean, torch.zeros((), device=rows.device))  # (B, 1, C)
        return rows - shift * inside  # (B, I + H, C)
