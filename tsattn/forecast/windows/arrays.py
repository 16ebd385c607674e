"""Windows as rows of arrays: the data side of :class:`~tsattn.Seq2SeqRegressor`.

``make_windows`` cuts a series into (input window, target window) rows, and ``ArrayBatches``
serves such rows to the training loop, scaled as the forecaster scales its windows
(:mod:`~tsattn.forecast.windows.batches` is the forecaster's side); ``as_windows`` gives the
regressor's input rows their feature axis. Shapes: n rows, B batch, I input size, F features
per step, H horizon.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import torch
from numpy.lib.stride_tricks import sliding_window_view

from tsattn._validation import check_int
from tsattn.forecast.windows.scaling import scale_targets, window_scale

__all__ = [
    "REGRESSOR_SCALERS",
    "ArrayBatches",
    "as_windows",
    "covariate_statistics",
    "make_windows",
]

# The per-window scalers ArrayBatches implements: the forecaster's WINDOW_SCALERS without "log",
# which only the forecaster's WindowBatches implements.
REGRESSOR_SCALERS = ("standard", "none")

# ----------------------------------------------------------------------------------------------
# make_windows


def make_windows(series, input_size: int, horizon: int, step: int = 1):
    """Cut a series into (input window, target window) rows for a regressor.

    Row ``j`` reads the ``input_size`` values starting at ``j * step`` and targets the
    ``horizon`` values right after them.

    Parameters
    ----------
    series : array-like
        A 1-D array or pandas Series (one variable), or a 2-D array or DataFrame of shape
        (time, n_features) whose first column is the target and whose other columns are
        covariates read alongside it. Index and column names are not kept.
    input_size : int
        Steps of history in each row of ``X``.
    horizon : int
        Steps ahead in each row of ``Y``.
    step : int, default=1
        Distance between the starts of consecutive rows.

    Returns
    -------
    X : numpy.ndarray
        (n, input_size) for a 1-D series, (n, input_size, n_features) for a 2-D one, with
        ``n = (len(series) - input_size - horizon) // step + 1``.
    Y : numpy.ndarray
        (n, horizon) values of the target (the first column).

    Raises
    ------
    ValueError
        If the series is shorter than ``input_size + horizon`` or has more than 2 dimensions.
    TypeError
        If the values are not numeric.

    Notes
    -----
    For numeric arrays ``X`` and ``Y`` are read-only views of the input (no copy is made);
    a pandas object is converted to one array first. Copy them (``X.copy()``) to modify them.

    Examples
    --------
    >>> import numpy as np
    >>> from tsattn import make_windows
    >>> X, Y = make_windows(np.arange(6.0), input_size=3, horizon=2)
    >>> X
    array([[0., 1., 2.],
           [1., 2., 3.]])
    >>> Y
    array([[3., 4.],
           [4., 5.]])
    """
    input_size = check_int("input_size", input_size)
    horizon = check_int("horizon", horizon)
    step = check_int("step", step)
    values = series.to_numpy() if isinstance(series, (pd.Series, pd.DataFrame)) else series
    values = np.asarray(values)
    if values.dtype == object or not (
        np.issubdtype(values.dtype, np.number) or values.dtype == np.bool_
    ):
        try:
            values = values.astype(np.float64)
        except (TypeError, ValueError):
            raise TypeError(
                f"make_windows needs numeric values, got dtype {values.dtype}; convert the "
                f"series to numbers (e.g. pd.to_numeric) or drop non-numeric columns"
            ) from None
    if values.ndim not in (1, 2):
        raise ValueError(
            f"series must be 1-D (time,) or 2-D (time, n_features), got shape {values.shape}"
        )
    length, width = len(values), input_size + horizon
    if length < width:
        raise ValueError(
            f"series too short: it has {length} time steps but one window needs "
            f"input_size + horizon = {input_size} + {horizon} = {width}; lower input_size or "
            f"horizon, or give a longer series"
        )
    if values.ndim == 2 and values.shape[1] == 0:
        raise ValueError("series has no columns; give at least the target column")
    target = values if values.ndim == 1 else values[:, 0]
    Y = sliding_window_view(target[input_size:], horizon)[::step]  # (n, H)
    if values.ndim == 1:
        X = sliding_window_view(values[: length - horizon], input_size)[::step]  # (n, I)
    else:
        windows = sliding_window_view(values[: length - horizon], input_size, axis=0)  # (n, F, I)
        X = windows[::step].transpose(0, 2, 1)  # (n, I, F)
    return X, Y


def as_windows(X: np.ndarray) -> np.ndarray:
    """(n, I) or (n, I, F) validated input as (n, I, F), without copying.

    Parameters
    ----------
    X : numpy.ndarray
        (n, I) windows of one variable or (n, I, F) windows of F features.

    Returns
    -------
    numpy.ndarray
        (n, I, F): a view of ``X`` (F = 1 for 2-D input).

    Raises
    ------
    ValueError
        If ``X`` is neither 2-D nor 3-D, or has no step or no feature.
    """
    if X.ndim == 2:
        return X[:, :, None]
    if X.ndim != 3:
        raise ValueError(
            f"X must be 2-D (n, input_size) or 3-D (n, input_size, n_features), got shape {X.shape}"
        )
    if X.shape[1] == 0 or X.shape[2] == 0:
        raise ValueError(
            f"X has shape {X.shape}: windows need at least 1 step and 1 feature per step"
        )
    return X


def covariate_statistics(X: np.ndarray, scaler: str) -> tuple[np.ndarray, np.ndarray]:
    """Location and scale the covariates (features 1..F-1) of every row are standardised with.

    Parameters
    ----------
    X : numpy.ndarray
        (n, I, F) input windows; feature 0 is the target.
    scaler : {"standard", "none"}
        "standard" takes the mean and deviation over all rows and steps; "none" gives zeros
        and ones, so the covariates are fed as they are.

    Returns
    -------
    loc, scale : numpy.ndarray
        (F - 1,) float64 each.
    """
    n_channels = X.shape[2]
    if scaler != "standard" or n_channels == 1:
        return np.zeros(n_channels - 1), np.ones(n_channels - 1)
    covariates = X[..., 1:].reshape(-1, n_channels - 1)  # (n * I, F - 1)
    loc = covariates.mean(0, dtype=np.float64)
    scale = covariates.std(0, dtype=np.float64)
    # A constant covariate is kept as it is rather than divided by 0; so is one whose
    # deviation is rounding noise (1e-154) that becomes 0 in float32, where it is used.
    scale = np.where(scale > np.finfo(np.float32).tiny, scale, 1.0)
    return loc, scale


# ----------------------------------------------------------------------------------------------
# the batch source


class ArrayBatches:
    """Batches of scaled rows from arrays held once on the device; a training ``BatchSource``.

    Each row's target column (feature 0) is scaled by its own window's location and scale
    (:func:`~tsattn.forecast.windows.window_scale`), as the forecaster scales its windows; the
    other features (covariates) are standardised with fixed statistics from ``fit``, because a
    covariate is often constant within a window (a promotion flag, a price) and per-window
    scaling would turn it into zeros.

    Parameters
    ----------
    X : numpy.ndarray
        (n, I, F) input windows.
    Y : numpy.ndarray or None
        (n, H) targets; None for prediction.
    scaler : {"standard", "none"}
        Per-window scaling of the target column.
    covariate_loc, covariate_scale : numpy.ndarray
        (F - 1,) statistics the covariates are standardised with.
    device : torch.device
        Where batches are built.
    """

    def __init__(self, X, Y, scaler, covariate_loc, covariate_scale, device):
        self.X = torch.tensor(X, dtype=torch.float32, device=device)  # (n, I, F)
        self.Y = None if Y is None else torch.tensor(Y, dtype=torch.float32, device=device)
        self.covariate_loc = torch.tensor(covariate_loc, dtype=torch.float32, device=device)
        self.covariate_scale = torch.tensor(covariate_scale, dtype=torch.float32, device=device)
        self.scaler, self.device = scaler, device

    def __len__(self) -> int:
        return self.X.shape[0]

    def batch(self, index: np.ndarray | slice) -> dict[str, torch.Tensor]:
        """Gather the rows at ``index``.

        Returns
        -------
        dict
            ``source`` (B, I, F) scaled inputs, ``mask`` (B, I) all True, ``loc`` and ``scale``
            (B, 1); with targets also ``target_in`` (B, H, 1) (the last input value, then the
            true targets: teacher forcing) and ``target`` (B, H) scaled targets.
        """
        index = index if isinstance(index, slice) else torch.as_tensor(index, device=self.device)
        x = self.X[index]  # (B, I, F)
        history = x[..., 0]  # (B, I)
        mask = torch.ones_like(history, dtype=torch.bool)  # (B, I) rows are never padded
        loc, scale = window_scale(history, mask, self.scaler)  # (B, 1) each
        scaled = (history - loc) / scale  # (B, I)
        covariates = (x[..., 1:] - self.covariate_loc) / self.covariate_scale  # (B, I, F - 1)
        batch = {
            "source": torch.cat([scaled[..., None], covariates], dim=-1),  # (B, I, F)
            "mask": mask,
            "loc": loc,
            "scale": scale,
        }
        if self.Y is not None:
            target = scale_targets(self.Y[index], loc, scale)  # (B, H)
            target_in = torch.cat([scaled[:, -1:], target[:, :-1]], dim=1)  # (B, H)
            batch["target"] = target
            batch["target_in"] = target_in[..., None]  # (B, H, 1)
        return batch
