"""predict(y=...) with short histories of known series keeps the fitted state (issue 25, item 1)."""

import warnings

import numpy as np
import pandas as pd
import pytest
from conftest import tiny

from tsattn import Seq2SeqForecaster


def _panel(n_weeks=130, n_series=3):
    t = np.arange(n_weeks)
    rng = np.random.default_rng(0)
    frames = []
    for i in range(n_series):
        peak = 1 + 0.5 * (t % 52 >= 47)  # a year-end peak
        y = (100 + 10 * i) * peak * (1 + 0.02 * rng.normal(size=n_weeks))
        dates = pd.date_range("2010-01-01", periods=n_weeks, freq="W-FRI")
        frames.append(pd.DataFrame({"unique_id": f"s{i}", "ds": dates, "y": y}))
    return pd.concat(frames, ignore_index=True)


@pytest.fixture(scope="module")
def fitted():
    data = _panel()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = Seq2SeqForecaster(**tiny(horizon=8, input_size=16)).fit(data)
    return model, data


@pytest.mark.parametrize("weeks", [16, 30, 60])
def test_a_short_refresh_of_known_series_forecasts_as_predict(fitted, weeks):
    model, data = fitted
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # known series: no short-history warning
        refreshed = model.predict(y=data.groupby("unique_id").tail(weeks))
    pd.testing.assert_frame_equal(refreshed, model.predict())


def test_a_refresh_ending_later_rotates_the_fitted_indices(fitted):
    model, data = fitted
    later = _panel(134)  # four more weeks
    context = model.context_.for_histories(later.groupby("unique_id").tail(30))
    np.testing.assert_allclose(
        context.seasonal_indices, np.roll(model.seasonal_indices_, -4, axis=1), rtol=1e-12
    )
    assert model.seasonal_indices_.std() > 0.05  # the peak was found


def test_new_short_series_warn(fitted):
    model, data = fitted
    new = data[data["unique_id"] == "s0"].tail(20).assign(unique_id="new")
    with pytest.warns(UserWarning, match="not seen in fit"):
        model.predict(y=new)
