"""tsattn.forecast.priors: panel-wide statistical forecasts and the holdout helpers."""

import numpy as np
import pytest

from tsattn.forecast import priors


def _panel(*series):
    values = np.concatenate([np.asarray(s, dtype=np.float64) for s in series])
    offsets = np.concatenate([[0], np.cumsum([len(s) for s in series])]).astype(np.int64)
    return values, offsets


def test_seasonal_naive_repeats_last_season_and_falls_back_to_naive():
    values, offsets = _panel([1, 2, 3, 4, 5, 6], [7, 8])
    forecast = priors.seasonal_naive_forecasts(values, offsets, horizon=5, season_length=4)
    np.testing.assert_array_equal(forecast[0], [3, 4, 5, 6, 3])
    np.testing.assert_array_equal(forecast[1], [8, 8, 8, 8, 8])  # shorter than a season


def test_theta_forecasts_follow_a_linear_trend():
    values, offsets = _panel(np.arange(1.0, 41.0))
    forecast = priors.theta_forecasts(values, offsets, horizon=3, season_length=1)
    assert forecast.shape == (1, 3)
    assert np.all(np.diff(forecast[0]) > 0)  # half the slope of the trend
    assert 39 < forecast[0, 0] < 42


def test_holdout_split_and_relative_errors():
    values, offsets = _panel([1, 2, 3, 4, 5], [10, 20], [2, 2, 2, 2])
    kept, cut, cut_offsets, actual = priors.holdout_split(values, offsets, horizon=2, min_history=2)
    np.testing.assert_array_equal(kept, [0, 2])
    np.testing.assert_array_equal(cut, [1, 2, 3, 2, 2])
    np.testing.assert_array_equal(cut_offsets, [0, 3, 5])
    np.testing.assert_array_equal(actual, [[4, 5], [2, 2]])
    error = priors.relative_errors(actual, actual + [[2, 2], [1, 1]], cut, cut_offsets)
    assert error == pytest.approx((2 / 2 + 1 / 2) / 2)


def test_choose_keeps_the_default_unless_beaten_by_the_margin():
    assert priors.choose({"net": 1.0, "theta": 0.9}, "net") == "theta"
    assert priors.choose({"net": 1.0, "theta": 0.95}, "net", margin=0.1) == "net"
    with pytest.raises(ValueError, match="default"):
        priors.choose({"theta": 1.0}, "net")
