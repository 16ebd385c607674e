"""tsattn.forecast.priors: panel-wide statistical forecasts, short-history seasons, the guard."""

import numpy as np
import pytest

from tsattn.forecast import priors
from tsattn.forecast.seasonal import panel_indices


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


def test_short_history_indices_find_a_peak_seen_once():
    m = 12
    rng = np.random.default_rng(0)
    series = 100 + rng.normal(0, 1, 20)  # 1.67 seasons
    series[6] *= 2  # one peak, 14 steps before the end: phase (6 - 20) % 12 = 10
    values, offsets = _panel(series)
    assert np.all(panel_indices(values, offsets, m) == 1)  # the M3 test needs 3 seasons
    indices = priors.short_history_indices(values, offsets, m)
    assert indices.shape == (1, m)
    assert np.argmax(indices[0]) == 10
    assert indices[0, 10] > 1.7
    assert indices[0].mean() == pytest.approx(1.0)


def test_short_history_indices_leave_short_or_nonpositive_series_alone():
    m = 4
    values, offsets = _panel([1.0, 2.0, 3.0, 4.0], [5.0, -1.0, 5.0, 6.0, 7.0, 8.0])
    np.testing.assert_array_equal(priors.short_history_indices(values, offsets, m), np.ones((2, m)))
    np.testing.assert_array_equal(priors.short_history_indices(values, offsets, 1), np.ones((2, 1)))


def test_short_history_indices_test_two_seasons_as_the_m3_method_does():
    m = 4
    t = np.arange(10)
    seasonal = 10 * (1 + 0.5 * (t % m == 0))  # 2.5 seasons of a strong season
    flat = np.full(10, 10.0) + np.arange(10) * 0.01
    values, offsets = _panel(seasonal, flat)
    indices = priors.short_history_indices(values, offsets, m)
    assert indices[0].max() > 1.2
    np.testing.assert_array_equal(indices[1], np.ones(m))


def test_input_size_rule_caps_at_the_median_history():
    assert priors.input_size_rule(np.array([30] * 5), horizon=18) == 12
    assert priors.input_size_rule(np.array([100, 120]), horizon=18) == 36
    assert priors.input_size_rule(np.array([20, 40]), horizon=3) == 8
    assert priors.input_size_rule(np.array([5]), horizon=5) == 1


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
