"""(past window, future window) samples drawn lazily from a panel, and per-window scaling.

A sample is a (series, origin) pair: the encoder reads the ``input_size`` values before the
origin, the decoder predicts the ``horizon`` values from it. Samples are index arithmetic over
the panel's one array; a batch is gathered by one vectorised indexing, so no (windows x window)
copy of the data ever exists. Shapes: B batch, I input size, H horizon.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

SCALERS = ("standard", "none")


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


def training_windows(
    lengths: np.ndarray, input_size: int, horizon: int, validation_size: float
) -> tuple[WindowIndex, WindowIndex]:
    """Temporal split of every series' windows into training and validation.

    A series of length L has origins ``t`` with ``t + horizon <= L`` and at least
    ``min(input_size, L - horizon)`` values of history: full windows where the series allows,
    otherwise its one longest (padded) window. The last ``ceil(validation_size * n_t)`` origins of
    each series validate; training keeps only origins whose targets end before the first
    validation target starts, so no target value is seen in both. Series too short to give both
    keep their windows for training.

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
    return (
        _ranges(first, train_end),
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
    scaler : {"standard", "none"}
        Per-window scaling: by the mean and standard deviation of the window's observed input.
    device : torch.device
        Where batches are built.
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

    def __len__(self) -> int:
        return len(self.windows)

    def batch(self, index: np.ndarray | slice) -> dict[str, torch.Tensor]:
        """Gather the windows at ``index``.

        Returns
        -------
        dict
            ``source`` (B, I, 1) scaled history, ``mask`` (B, I) True where observed,
            ``target_in`` (B, H, 1) decoder inputs (the previous true value at each step),
            ``target`` (B, H) scaled targets (NaN beyond a series' end), ``loc`` and ``scale``
            (B, 1).
        """
        index = (
            torch.as_tensor(index, device=self.device) if not isinstance(index, slice) else index
        )
        series, origin = self.series[index], self.origin[index]  # (B,)
        start = self.starts[series]  # (B,)
        position = start[:, None] + origin[:, None] + self.steps  # (B, I + H)
        inside = (position >= start[:, None]) & (position < self.ends[series][:, None])
        gathered = self.values[position.clamp(0, len(self.values) - 1)]  # (B, I + H)
        gathered = torch.where(inside, gathered, torch.zeros((), device=self.device))
        history, future = gathered[:, : self.input_size], gathered[:, self.input_size :]
        mask = inside[:, : self.input_size]  # (B, I)
        loc, scale = window_scale(history, mask, self.scaler)  # (B, 1) each
        source = torch.where(mask, (history - loc) / scale, torch.zeros((), device=self.device))
        target = (future - loc) / scale  # (B, H)
        target = torch.where(inside[:, self.input_size :], target, torch.nan)
        target_in = torch.cat([source[:, -1:], target[:, :-1]], dim=1)  # (B, H)
        return {
            "source": source[..., None],
            "mask": mask,
            "target_in": target_in[..., None],
            "target": target,
            "loc": loc,
            "scale": scale,
        }


def window_scale(
    history: torch.Tensor, mask: torch.Tensor, scaler: str
) -> tuple[torch.Tensor, torch.Tensor]:
    """Location and scale of every window from its observed history.

    Parameters
    ----------
    history : torch.Tensor
        (B, I) values, anything at unobserved positions.
    mask : torch.Tensor
        (B, I) bool, True where observed; every row needs one True.
    scaler : {"standard", "none"}
        "standard": mean and standard deviation, the deviation floored at 1% of the mean absolute
        level (flat windows) and at 1 for all-zero windows (intermittent sales), so that scaled
        targets stay finite; "none": 0 and 1.

    Returns
    -------
    loc, scale : torch.Tensor
        (B, 1) each.
    """
    if scaler == "none":
        ones = torch.ones(history.shape[0], 1, device=history.device)
        return ones * 0, ones
    # NaN * 0 is NaN: a masked gap must be zeroed, not just given zero weight.
    history = history.masked_fill(~mask, 0.0)  # (B, I)
    weight = mask.to(history.dtype)  # (B, I)
    count = weight.sum(1, keepdim=True).clamp(min=1)  # (B, 1)
    loc = (history * weight).sum(1, keepdim=True) / count  # (B, 1)
    var = (((history - loc) * weight) ** 2).sum(1, keepdim=True) / count  # (B, 1)
    level = (history.abs() * weight).sum(1, keepdim=True) / count  # (B, 1)
    scale = torch.maximum(var.sqrt(), 0.01 * level)
    scale = torch.where(scale > 0, scale, torch.ones_like(scale))
    return loc, scale
