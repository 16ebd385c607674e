"""Damped Holt prefix states, the Theta + Holt combination, and the forecaster with it."""

import numpy as np
import pandas as pd
import pytest
import torch
from conftest import tiny

import tsattn
from tsattn import Seq2SeqForecaster
from tsattn.forecast.statistics.baseline import (
    STATE_SIZES,
    baseline_forecast,
    baseline_kind,
    baseline_states,
)
from tsattn.forecast.statistics.holt import ALPHAS, BETAS, PHIS, holt_forecast, holt_states
from tsattn.forecast.statistics.seasonal import panel_indices, phase_of_history
from tsattn.forecast.statistics.theta import theta_forecast, theta_states


def _holt(values, alpha, beta, phi, level, trend):
    """Damped Holt written out plainly: (level, trend, sum of squared one-step errors)."""
    error = 0.0
    for value in values:
        e = value - (level + phi * trend)
        error += e * e
        level, trend = level + phi * trend + alpha * e, phi * trend + beta * e
    return level, trend, error


def _best_holt(values, alpha, beta, phi):
    """Damped Holt from the initial (level, trend) found by a numerical minimiser."""
    from scipy.optimize import minimize

    start = [values[0], values[1] - values[0]]
    found = minimize(
        lambda x: _holt(values, alpha, beta, phi, *x)[2], start, method="Nelder-Mead",
        options={"xatol": 1e-10, "fatol": 1e-12, "maxiter": 4000},
    )  # fmt: skip
    return _holt(values, alpha, beta, phi, *found.x)


def _baseline_from_ends(values, offsets, horizon, season_length, baseline="theta"):
    """The forecaster's baseline from each series' end, by hand: adjust, forecast, reseasonalise."""
    values = np.asarray(values, dtype=np.float64)
    lengths = np.diff(offsets)
    m = max(int(season_length), 1)
    indices = panel_indices(values, offsets, m)  # (n, m)
    rows = np.repeat(np.arange(len(lengths)), lengths)
    adjusted = values / indices[rows, phase_of_history(offsets, m)] if m > 1 else values
    states = baseline_states(adjusted, offsets, baseline)[offsets[1:] - 1]  # at each end
    forecast = baseline_forecast(torch.from_numpy(states), horizon).double().numpy()  # (n, H)
    return forecast * indices[:, np.arange(horizon) % m]


def test_states_match_a_plain_loop_over_the_grid():
    rng = np.random.default_rng(0)
    values = 50 + 2 * np.arange(14) + np.cumsum(rng.normal(size=14))
    states = holt_states(values, np.array([0, 14]))
    for t in (5, 9, 13):
        grid = zip(ALPHAS, BETAS, PHIS, strict=True)
        fits = [_best_holt(values[: t + 1], a, b, p) for a, b, p in grid]
        errors = np.array([fit[2] for fit in fits])
        best = int(np.argmin(errors))
        expected = [fits[best][0], fits[best][1], PHIS[best]]
        np.testing.assert_allclose(states[t], expected, rtol=1e-3, atol=1e-3)


def test_one_value_starts_flat():
    states = holt_states(np.array([5.0, 5.0, 5.0]), np.array([0, 1, 3]))
    np.testing.assert_allclose(states[0, :2], [5.0, 0.0], atol=1e-4)  # a single value
    np.testing.assert_allclose(states[2, :2], [5.0, 0.0], atol=1e-4)  # a flat pair


def test_forecast_formula_by_hand():
    # level 10, trend 2, phi 0.5: 10 + 2 * (0.5), 10 + 2 * (0.5 + 0.25), ...
    states = torch.tensor([[10.0, 2.0, 0.5]])
    torch.testing.assert_close(holt_forecast(states, 3), torch.tensor([[11.0, 11.5, 11.75]]))


def test_series_are_independent_and_nan_is_skipped():
    a = np.array([1.0, 2.0, 4.0, 3.0, 5.0, 6.0])
    b = np.array([7.0, 6.0, 8.0])
    together = holt_states(np.concatenate([a, b]), np.array([0, 6, 9]))
    np.testing.assert_allclose(together[:6], holt_states(a, np.array([0, 6])), rtol=1e-6)
    np.testing.assert_allclose(together[6:], holt_states(b, np.array([0, 3])), rtol=1e-6)
    gap = holt_states(np.array([1.0, 2.0, np.nan, 4.0]), np.array([0, 4]))
    np.testing.assert_allclose(gap[2], gap[1])  # a missing value changes nothing


def test_damped_trend_flattens_where_theta_keeps_rising():
    # A trend that stopped: Holt's damped forecast bends, Theta's half-slope does not.
    values = np.concatenate([np.arange(20.0), np.full(10, 19.0)])
    offsets = np.array([0, 30])
    holt = holt_forecast(torch.from_numpy(holt_states(values, offsets)[-1:]), 20)[0]
    theta = theta_forecast(torch.from_numpy(theta_states(values, offsets)[-1:]), 20)[0]
    assert abs(holt[-1] - holt[-2]) < 0.5 * abs(theta[-1] - theta[-2])


def test_combination_is_the_mean_and_the_width_names_it():
    values = (100 + np.cumsum(np.random.default_rng(2).normal(size=30))).astype(np.float32)
    offsets = np.array([0, 30])
    theta = baseline_states(values, offsets, "theta")
    both = baseline_states(values, offsets, "theta_holt")
    assert theta.shape == (30, STATE_SIZES["theta"]) and both.shape == (30, 7)
    assert baseline_kind(theta) == "theta" and baseline_kind(both) == "theta_holt"
    end = torch.from_numpy(both[-1:])
    expected = 0.5 * (theta_forecast(end[:, :4], 5) + holt_forecast(end[:, 4:], 5))
    torch.testing.assert_close(baseline_forecast(end, 5), expected)
    torch.testing.assert_close(
        baseline_forecast(torch.from_numpy(theta[-1:]), 5), theta_forecast(end[:, :4], 5)
    )
    with pytest.raises(ValueError, match="5 wide"):
        baseline_forecast(torch.zeros(1, 5), 3)
    with pytest.raises(ValueError, match="baseline must be one of"):
        baseline_states(values, offsets, "ets")


def test_the_combination_forecasts_the_mean_of_theta_and_holt():
    values = np.arange(1.0, 31.0)
    offsets = np.array([0, 30])
    theta = _baseline_from_ends(values, offsets, 4, 1)
    both = _baseline_from_ends(values, offsets, 4, 1, baseline="theta_holt")
    holt = holt_forecast(torch.from_numpy(holt_states(values, offsets)[-1:]).double(), 4)
    np.testing.assert_allclose(both, 0.5 * (theta + holt.numpy()), rtol=1e-5)


def test_forecaster_with_theta_holt_round_trips(monthly_series, tmp_path):
    f = Seq2SeqForecaster(**tiny(baseline="theta_holt")).fit(monthly_series)
    assert f.context_.baseline_end.shape == (1, 7)
    pred = f.predict()
    assert pred.shape == (3,) and np.isfinite(pred).all()
    f.save(tmp_path / "m.tsattn")
    again = tsattn.load(tmp_path / "m.tsattn")
    pd.testing.assert_series_equal(again.predict(), pred)
    # new histories are prepared with the same baseline
    pd.testing.assert_series_equal(again.predict(y=monthly_series), pred)


def test_untrained_correction_starts_at_the_combination(monthly_series):
    f = Seq2SeqForecaster(**tiny(season_length=1, scaler="none", baseline="theta_holt"))
    f.fit(monthly_series)
    with torch.no_grad():
        f.module_.head.weight.zero_()
        f.module_.head.bias.zero_()
    values = monthly_series.to_numpy(np.float64)
    expected = _baseline_from_ends(values, np.array([0, len(values)]), 3, 1, "theta_holt")
    np.testing.assert_allclose(f.predict().to_numpy(), expected[0], rtol=1e-5)


# ----------------------------------------------------------------------------------------
# The two ways of computing the states: time steps (many series) and linear filters (few)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_filtered_states_equal_the_step_by_step_recursion(seed):
    from tsattn.forecast.statistics import holt

    rng = np.random.default_rng(seed)
    t = np.arange(60.0)
    rows = [
        100 + 0.5 * t + np.cumsum(rng.normal(size=60)),  # a trend with noise
        np.full(60, 7.0),  # constant: every combination ties, the first wins
        np.r_[np.arange(30.0), np.full(30, 29.0)],  # a trend that stops
        rng.gamma(2.0, 3.0, 60),  # noise around a level
    ]
    block = np.array(rows)
    block[0, [3, 17, 18, 40]] = np.nan  # missing values
    block[3, :5] = np.nan  # a series that starts late
    block[2, 45:] = np.nan  # and one that ends early (padding)
    expected = holt._stepwise_block_states(block)
    got = holt._filtered_block_states(block)
    np.testing.assert_array_equal(got[..., 2], expected[..., 2])  # the same damping chosen
    np.testing.assert_allclose(got[..., :2], expected[..., :2], rtol=1e-7, atol=1e-7)


def test_few_long_series_take_the_filters_and_many_the_steps(monkeypatch):
    from tsattn.forecast.statistics import holt

    taken = []
    monkeypatch.setattr(holt, "_filtered_block_states", lambda b: taken.append("filters") or
                        np.zeros((*b.shape, 3)))  # fmt: skip
    monkeypatch.setattr(holt, "_stepwise_block_states", lambda b: taken.append("steps") or
                        np.zeros((*b.shape, 3)))  # fmt: skip
    holt.holt_states(np.arange(500.0), np.array([0, 500]))
    holt.holt_states(np.arange(900.0), np.arange(0, 901, 30))
    assert taken == ["filters", "steps"]
