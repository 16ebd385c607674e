"""Training and forecast windows, gathered into scaled batches by index arithmetic.

``batches`` (the forecaster's (past, future) windows of a panel, :class:`WindowBatches`),
``scaling`` (per-window scaling) and ``arrays`` (:func:`make_windows` and the regressor's batches).
"""

from tsattn.forecast.windows.arrays import ArrayBatches, make_windows
from tsattn.forecast.windows.batches import (
    WindowBatches,
    forecast_windows,
    training_windows,
)
from tsattn.forecast.windows.scaling import WINDOW_SCALERS

__all__ = [
    "WINDOW_SCALERS",
    "ArrayBatches",
    "WindowBatches",
    "forecast_windows",
    "make_windows",
    "training_windows",
]
