"""The statistical forecasters a cross-validation compares the network with.

:func:`baseline_models` reads ``baselines`` (instances or names) into unfitted forecasters set
to the network's horizon; :func:`as_matrix` reads their forecasts back as one array.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.base import clone

from tsattn.forecast.panel.conversion import ID_COL, TARGET_COL
from tsattn.forecast.statistics import forecasters

# What cross_validation's ``baselines`` may name, lower case and without "_" or "-".
_BASELINE_NAMES = {
    "seasonalnaive": "SeasonalNaive",
    "naive": "SeasonalNaive",
    "theta": "ThetaForecaster",
    "thetaforecaster": "ThetaForecaster",
    "ets": "ETSForecaster",
    "etsforecaster": "ETSForecaster",
}


def baseline_models(baselines, horizon: int, season: int) -> dict:
    """{column name: unfitted statistical forecaster} from instances or names."""
    if isinstance(baselines, str) or not hasattr(baselines, "__iter__"):
        baselines = [baselines]
    found = {}
    for item in baselines:
        if isinstance(item, type):
            raise TypeError(
                f"baselines holds the class {item.__name__}: pass an instance "
                f"({item.__name__}(...)) or its name"
            )
        if isinstance(item, str):
            key = item.lower().replace("_", "").replace("-", "")
            if key not in _BASELINE_NAMES:
                raise ValueError(
                    f"unknown baseline {item!r}; name one of 'SeasonalNaive', 'Theta', 'ETS' "
                    "or pass an instance (e.g. SeasonalNaive(season_length=52))"
                )
            cls = getattr(forecasters, _BASELINE_NAMES[key])
            model = cls(horizon=horizon, season_length=1 if key == "naive" else season)
            label = "Naive" if key == "naive" else cls.__name__
        elif hasattr(item, "fit") and hasattr(item, "predict") and hasattr(item, "set_params"):
            model = clone(item).set_params(horizon=horizon)
            label = type(item).__name__
        else:
            raise TypeError(
                f"baselines holds {item!r}: give statistical forecasters (SeasonalNaive(...), "
                "ThetaForecaster(...), ETSForecaster(...)) or their names"
            )
        if label in found:
            raise ValueError(f"baselines names {label} twice; each model needs a column of its own")
        found[label] = model
    return found


def as_matrix(forecasts, n_series: int) -> np.ndarray:
    """(n_series, horizon) from a statistical forecaster's predict, in any of y's formats."""
    if isinstance(forecasts, pd.DataFrame) and TARGET_COL in forecasts and ID_COL in forecasts:
        values = forecasts[TARGET_COL].to_numpy(np.float64)  # ordered by series, then time
    elif isinstance(forecasts, pd.Series):
        values = forecasts.to_numpy(np.float64)
    else:
        values = np.asarray(forecasts, dtype=np.float64)
        values = values.T if values.ndim == 2 else values
    return values.reshape(n_series, -1)
