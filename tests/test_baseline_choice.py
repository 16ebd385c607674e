"""baseline="auto": one statistical starting point for the panel, chosen on its last horizons."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tsattn import Seq2SeqForecaster, load
from tsattn.forecast.statistics.baseline import (
    CANDIDATES,
    STATE_SIZES,
    baseline_forecast,
    baseline_kind,
    baseline_states,
    choose_baseline,
)


def _panel(series: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    values = np.concatenate(series).astype(np.float32)
    offsets = np.concatenate([[0], np.cumsum([len(s) for s in series])])
    return values, offsets


def test_damped_trends_choose_holt():
    # Trends that flatten out: damped Holt follows them, Theta's straight half-slope does not.
    rng = np.random.default_rng(0)
    t = np.arange(60.0)
    series = [
        100 + slope * (1 - 0.9**t) / 0.1 + rng.normal(0, 0.05, t.size) for slope in (3, 4, 5, 6)
    ]
    values, offsets = _panel(series)
    kind, states, errors = choose_baseline(values, offsets, horizon=6)
    assert kind == "holt"
    assert errors["holt"] < errors["theta_holt"] < errors["theta"]
    assert states.shape == (values.size, STATE_SIZES["holt"])
    np.testing.assert_array_equal(states, baseline_states(values, offsets, "holt"))


def test_noise_keeps_theta():
    # Level series: no candidate is better beyond noise, so the default stays.
    rng = np.random.default_rng(1)
    values, offsets = _panel([50 + rng.normal(0, 1, 48) for _ in range(6)])
    kind, states, errors = choose_baseline(values, offsets, horizon=4)
    assert kind == "theta"
    assert states.shape[1] == STATE_SIZES["theta"]
    assert set(errors) == set(CANDIDATES) and all(np.isfinite(list(errors.values())))


def test_errors_are_scaled_mean_absolute_errors():
    # One series, one scored origin: the error is the window's MAE over the mean |change|.
    values, offsets = _panel([np.array([1.0, 2, 4, 7, 11, 16, 22])])
    _, _, errors = choose_baseline(values, offsets, horizon=2)
    # Origins 5 (scored: 5 values before it) and 3 (3 values: not scored).
    states = baseline_states(values, offsets, "holt")
    import torch

    forecast = baseline_forecast(torch.as_tensor(states[4:5], dtype=torch.float64), 2).numpy()
    mae = np.abs(forecast[0] - [16, 22]).mean()
    scale = np.mean([1, 2, 3, 4])  # |changes| before the origin
    assert errors["holt"] == pytest.approx(mae / scale)


def test_histories_too_short_to_score_keep_theta():
    values, offsets = _panel([np.arange(1.0, 7), np.arange(2.0, 8)])
    kind, _, errors = choose_baseline(values, offsets, horizon=3)
    assert kind == "theta"
    assert all(np.isnan(list(errors.values())))


def test_missing_values_are_skipped():
    rng = np.random.default_rng(2)
    series = [100 + 2 * np.arange(40.0) + rng.normal(0, 1, 40) for _ in range(3)]
    series[0][[10, 37]] = np.nan
    values, offsets = _panel(series)
    kind, _, errors = choose_baseline(values, offsets, horizon=4)
    assert kind in CANDIDATES and all(np.isfinite(list(errors.values())))


def test_forecaster_resolves_auto_and_keeps_it_through_save(tmp_path):
    t = np.arange(72.0)
    index = pd.date_range("2015-01-01", periods=72, freq="MS")
    y = pd.DataFrame(
        {f"s{k}": 200 + k * 20 * (1 - 0.93**t) / 0.07 for k in range(1, 5)}, index=index
    )
    model = Seq2SeqForecaster(
        horizon=6, hidden_size=8, max_epochs=2, random_state=0, verbose=False
    ).fit(y)
    assert model.baseline == "auto"  # the parameter is stored as given
    assert model.baseline_ in CANDIDATES
    assert baseline_kind(model.context_.baseline_end) == model.baseline_
    path = tmp_path / "m.tsattn"
    model.save(path)
    loaded = load(path)
    assert loaded.baseline_ == model.baseline_
    pd.testing.assert_frame_equal(loaded.predict(), model.predict())


def test_holt_baseline_forecasts_and_reloads(tmp_path):
    rng = np.random.default_rng(3)
    y = pd.Series(
        100 + np.arange(80.0) + rng.normal(0, 1, 80),
        index=pd.date_range("2020-01-06", periods=80, freq="W-MON"),
    )
    model = Seq2SeqForecaster(
        horizon=4, baseline="holt", hidden_size=8, max_epochs=2, random_state=0, verbose=False
    ).fit(y)
    assert model.baseline_ == "holt"
    assert model.context_.baseline_end.shape == (1, STATE_SIZES["holt"])
    path = tmp_path / "m.tsattn"
    model.save(path)
    pd.testing.assert_series_equal(load(path).predict(), model.predict())


def test_baseline_none_has_no_baseline():
    y = pd.Series(np.arange(40.0) % 7 + 10)
    model = Seq2SeqForecaster(
        horizon=3, baseline=None, hidden_size=8, max_epochs=1, random_state=0, verbose=False
    ).fit(y)
    assert model.baseline_ is None


def test_unknown_baseline_names_the_choices():
    with pytest.raises(ValueError, match="auto"):
        Seq2SeqForecaster(horizon=3, baseline="ets").fit(pd.Series(np.arange(30.0)))
