import numpy as np
import pandas as pd
import pytest
from conftest import tiny

from tsattn import Seq2SeqForecaster
from tsattn.forecast.panel.types import TimeAxis
from tsattn.forecast.statistics.seasonal import (
    is_seasonal,
    panel_indices,
    phase_of_history,
    season_from_axis,
    seasonal_indices,
)

PATTERN = np.array([0.8, 0.9, 1.0, 1.1, 1.2, 1.0])  # mean 1


def _seasonal(n=60, m=6, level=100.0):
    return level * np.resize(PATTERN, n)[:n] if m == 6 else None


def test_indices_recover_a_multiplicative_pattern():
    values = _seasonal(60)  # 60 = 10 seasons: the series ends at phase 5 of PATTERN
    indices = seasonal_indices(values, 6)
    # Phase 0 is the step after the end, which is PATTERN[0] again.
    np.testing.assert_allclose(indices, PATTERN, rtol=1e-12)
    assert indices.mean() == pytest.approx(1.0)


def test_indices_are_aligned_at_the_series_end():
    values = _seasonal(62)  # ends two steps later: the next step has PATTERN[2]
    np.testing.assert_allclose(seasonal_indices(values, 6), np.roll(PATTERN, -2), rtol=1e-12)


def test_seasonality_test():
    rng = np.random.default_rng(0)
    assert is_seasonal(_seasonal(60) * rng.uniform(0.98, 1.02, 60), 6)
    assert not is_seasonal(100 + rng.normal(size=60), 6)
    assert not is_seasonal(_seasonal(12), 6)  # fewer than three seasons
    assert not is_seasonal(_seasonal(60) - 100, 6)  # not positive: no multiplicative model


def test_panel_indices_and_phases():
    values = np.concatenate([_seasonal(60), 100 + np.arange(30.0) % 2])
    offsets = np.array([0, 60, 90])
    indices = panel_indices(values, offsets, 6)
    np.testing.assert_allclose(indices[0], PATTERN)
    np.testing.assert_array_equal(indices[1], np.ones(6))
    phase = phase_of_history(offsets, 6)
    assert phase[59] == 5 and phase[60 + 29] == 5 and phase[60] == (0 - 30) % 6


@pytest.mark.parametrize(
    "kind, freq, season",
    [("datetime", "MS", 12), ("datetime", "QS-OCT", 4), ("datetime", "W-MON", 52),
     ("datetime", "D", 7), ("datetime", "YS", 1), ("datetime", "2MS", 1), ("period", "M", 12),
     ("integer", 1, 1), ("position", 1, 1)],
)
def test_season_from_axis(kind, freq, season):
    assert season_from_axis(TimeAxis(kind, freq)) == season


def test_forecaster_reseasonalises_its_forecast():
    index = pd.date_range("2010-01-01", periods=96, freq="MS")
    pattern = np.r_[PATTERN, PATTERN[::-1]]  # 12 months
    y = pd.Series(100 * np.resize(pattern, 96), index=index)
    f = Seq2SeqForecaster(**tiny(horizon=12, input_size=24, max_epochs=3)).fit(y)
    assert f.season_length_ == 12
    np.testing.assert_allclose(f.seasonal_indices_[0], pattern, rtol=1e-6)
    # The deseasonalised series is flat at 100, so any sensible model forecasts about 100 x
    # the pattern; a tiny model trained 3 epochs still gets the shape from the indices.
    forecast = f.predict().to_numpy()
    assert np.corrcoef(forecast, pattern)[0, 1] > 0.9


def test_season_length_one_switches_adjustment_off():
    index = pd.date_range("2010-01-01", periods=96, freq="MS")
    y = pd.Series(100 * np.resize(np.r_[PATTERN, PATTERN], 96), index=index)
    f = Seq2SeqForecaster(**tiny(season_length=1)).fit(y)
    np.testing.assert_array_equal(f.seasonal_indices_, np.ones((1, 1)))


@pytest.mark.parametrize("season_length", [4, 7, 12])
@pytest.mark.parametrize("chunk_cells", [1 << 21, 100])
def test_panel_indices_equal_the_per_series_functions(monkeypatch, season_length, chunk_cells):
    # Many blocks (chunk_cells=100) or one; series too short, with NaN, negative or flat.
    from tsattn.forecast.statistics import seasonal as seasonal

    monkeypatch.setattr(seasonal, "_CHUNK_CELLS", chunk_cells)
    rng = np.random.default_rng(season_length)
    lengths = rng.integers(0, 8 * season_length, 300)
    offsets = np.r_[0, np.cumsum(lengths)]
    t = np.arange(offsets[-1])
    values = 100 + 15 * np.sin(2 * np.pi * t / season_length) + rng.normal(0, 5, len(t))
    values[rng.integers(0, len(t), 10)] = np.nan
    values[offsets[5] : offsets[6]] -= 500
    values[offsets[7] : offsets[8]] = 3.0
    values = values.astype(np.float32)
    expected = np.ones((len(lengths), season_length))
    for i in range(len(lengths)):
        series = values[offsets[i] : offsets[i + 1]].astype(np.float64)
        one_season = season_length < len(series) < 2 * season_length and (series > 0).all()
        if one_season or is_seasonal(series, season_length):
            expected[i] = seasonal_indices(series, season_length)
    indices = panel_indices(values, offsets, season_length)
    assert 50 < (expected != 1).any(axis=1).sum() < len(lengths)  # both kinds present
    np.testing.assert_array_equal((indices != 1).any(axis=1), (expected != 1).any(axis=1))
    np.testing.assert_allclose(indices, expected, rtol=1e-12)


def _panel(*series):
    values = np.concatenate([np.asarray(s, dtype=np.float64) for s in series])
    offsets = np.concatenate([[0], np.cumsum([len(s) for s in series])]).astype(np.int64)
    return values, offsets


def test_panel_indices_find_a_peak_seen_once():
    m = 12
    rng = np.random.default_rng(0)
    series = 100 + rng.normal(0, 1, 20)  # 1.67 seasons
    series[6] *= 2  # one peak, 14 steps before the end: phase (6 - 20) % 12 = 10
    values, offsets = _panel(series)
    indices = panel_indices(values, offsets, m)  # no test can run on 1.67 seasons
    assert indices.shape == (1, m)
    assert np.argmax(indices[0]) == 10
    assert indices[0, 10] > 1.7
    assert indices[0].mean() == pytest.approx(1.0)


def test_panel_indices_leave_short_or_nonpositive_series_alone():
    m = 4
    values, offsets = _panel([1.0, 2.0, 3.0, 4.0], [5.0, -1.0, 5.0, 6.0, 7.0, 8.0])
    np.testing.assert_array_equal(panel_indices(values, offsets, m), np.ones((2, m)))
    np.testing.assert_array_equal(panel_indices(values, offsets, 1), np.ones((2, 1)))


def test_panel_indices_test_two_seasons_as_the_m3_method_does():
    m = 4
    t = np.arange(10)
    seasonal = 10 * (1 + 0.5 * (t % m == 0))  # 2.5 seasons of a strong season
    flat = np.full(10, 10.0) + np.arange(10) * 0.01
    values, offsets = _panel(seasonal, flat)
    indices = panel_indices(values, offsets, m)
    assert indices[0].max() > 1.2
    np.testing.assert_array_equal(indices[1], np.ones(m))


def test_default_input_size_leaves_the_typical_series_whole_windows():
    from tsattn.forecast.params import default_input_size

    assert default_input_size(np.array([30] * 5), horizon=18) == 12
    assert default_input_size(np.array([100, 120]), horizon=18) == 36
    assert default_input_size(np.array([20, 40]), horizon=3) == 8
    assert default_input_size(np.array([5]), horizon=5) == 1


def test_default_input_size_is_a_whole_long_season_where_histories_hold_two():
    from tsattn.forecast.params import default_input_size

    # Half-hourly data, next day: a week of input once the median series holds 2 weeks + h.
    assert default_input_size(np.array([720, 720, 9000]), horizon=48, season=336) == 336
    assert default_input_size(np.array([719, 719, 9000]), horizon=48, season=336) == 96
    # Weekly sales: three years read a year; under two years keep 2h.
    assert default_input_size(np.array([144] * 45), horizon=12, season=52) == 52
    assert default_input_size(np.array([91] * 45), horizon=12, season=52) == 24
    # A season within 2h changes nothing, however long the history.
    assert default_input_size(np.array([5000]), horizon=18, season=12) == 36


def test_half_hourly_fit_reads_a_week_when_the_history_holds_two():
    index = pd.date_range("2014-01-06", periods=48 * 7 * 2 + 48, freq="30min")
    t = np.arange(len(index))
    y = pd.Series(1000 + 200 * np.sin(2 * np.pi * t / 48) + 50 * (t % 336 > 240), index=index)
    model = Seq2SeqForecaster(
        horizon=48, hidden_size=8, max_epochs=1, random_state=0, verbose=False
    ).fit(y)
    assert model.input_size_ == 336
    assert len(model.predict()) == 48


def test_fit_warns_when_most_histories_are_shorter_than_a_season_plus_the_horizon():
    index = pd.date_range("2020-01-01", periods=20, freq="MS")
    y = pd.Series(100 + np.arange(20.0), index=index)
    with pytest.warns(UserWarning, match="100% of the series have fewer than horizon"):
        f = Seq2SeqForecaster(**tiny(horizon=9, input_size=None, max_epochs=1)).fit(y)
    assert f.input_size_ == 11  # the median length minus the horizon
    import warnings

    with warnings.catch_warnings():
        warnings.filterwarnings("error", message=".*fewer than horizon")
        Seq2SeqForecaster(**tiny(horizon=3, max_epochs=1)).fit(y)
