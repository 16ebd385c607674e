"""Nixtla-style outputs: alias, predict(level=...), quantile and interval names, id types;
intervals that nest as the coverage grows (issue 24, class 5)."""

import numpy as np
import pandas as pd
import pytest
from conftest import tiny

from tsattn import Seq2SeqForecaster
from tsattn.forecast.conformal import Calibration, interval


def _long(n=3, length=40, ids=None):
    rng = np.random.default_rng(0)
    ids = list(range(10, 10 + n)) if ids is None else ids
    t = np.arange(length)
    frames = [
        pd.DataFrame({"unique_id": i, "ds": pd.date_range("2020-01-01", periods=length, freq="D"),
                      "y": 20 + 5 * np.sin(t / 3 + k) + rng.normal(0, 1, length)})
        for k, i in enumerate(ids)
    ]  # fmt: skip
    return pd.concat(frames, ignore_index=True)


@pytest.fixture(scope="module")
def long_y():
    return _long()


@pytest.fixture(scope="module")
def model(long_y):
    levels = (0.1, 0.25, 0.5, 0.75, 0.9)
    return Seq2SeqForecaster(**tiny(quantiles=levels, alias="net", season_length=1)).fit(long_y)


def test_default_keeps_the_y_column_and_integer_ids_stay_integer(long_y):
    f = Seq2SeqForecaster(**tiny()).fit(long_y)
    out = f.predict()
    assert list(out.columns) == ["unique_id", "ds", "y"]
    assert out["unique_id"].dtype == long_y["unique_id"].dtype
    assert set(out["unique_id"]) == set(long_y["unique_id"])


def test_alias_names_the_point_column_and_level_adds_nixtla_bounds(model):
    out = model.predict(level=[95, 80])
    assert list(out.columns) == [
        "unique_id", "ds", "net", "net-lo-95", "net-lo-80", "net-hi-80", "net-hi-95",
    ]  # fmt: skip
    assert out["unique_id"].dtype == np.int64
    assert (out["net-lo-95"] <= out["net-lo-80"]).all()
    assert (out["net-lo-80"] <= out["net"]).all() and (out["net"] <= out["net-hi-80"]).all()
    assert (out["net-hi-80"] <= out["net-hi-95"]).all()
    # the point column is predict()'s, the bounds predict_interval's
    np.testing.assert_allclose(out["net"], model.predict()["net"])
    band = model.predict_interval(coverage=0.8)
    assert list(band.columns) == ["unique_id", "ds", "net-lo-80", "net-hi-80"]
    np.testing.assert_allclose(out["net-hi-80"], band["net-hi-80"])
    # merging with the actual values no longer collides on y
    assert "y" not in out.columns


def test_quantile_columns_follow_nixtla_with_an_alias(model):
    q = model.predict_quantiles()
    assert list(q.columns) == ["unique_id", "ds", "net-q-10", "net-q-25", "net-q-50", "net-q-75",
                               "net-q-90"]  # fmt: skip


def test_without_alias_the_old_names_stay(long_y):
    f = Seq2SeqForecaster(**tiny(quantiles=(0.1, 0.5, 0.9))).fit(long_y)
    assert list(f.predict_quantiles().columns)[2:] == ["0.1", "0.5", "0.9"]
    assert list(f.predict_interval().columns)[2:] == ["lower", "upper"]
    assert list(f.predict(level=[80]).columns)[2:] == ["y", "y-lo-80", "y-hi-80"]


def test_series_and_array_layouts_with_level(long_y):
    one = long_y[long_y["unique_id"] == 10].set_index("ds")["y"]
    f = Seq2SeqForecaster(**tiny(quantiles=(0.1, 0.5, 0.9), alias="m")).fit(one)
    assert f.predict().name == "m"
    framed = f.predict(level=[80])
    assert list(framed.columns) == ["m", "m-lo-80", "m-hi-80"]
    assert isinstance(framed.index, pd.DatetimeIndex)
    g = Seq2SeqForecaster(**tiny(quantiles=(0.1, 0.5, 0.9))).fit(one.to_numpy())
    assert g.predict(level=[80, 95]).shape == (3, 5)


def test_bad_levels_and_point_models(model, long_y):
    for bad in ([], [0], [100], [120], ["80"]):
        with pytest.raises((ValueError, TypeError), match="level"):
            model.predict(level=bad)
    f = Seq2SeqForecaster(**tiny()).fit(long_y)
    with pytest.raises(ValueError, match="quantiles"):
        f.predict(level=[80])
    with pytest.raises((ValueError, TypeError), match="alias"):
        Seq2SeqForecaster(**tiny(alias="ds")).fit(long_y)


def test_backtest_column_follows_the_alias(model, long_y):
    frame, _ = model.backtest(long_y, n_windows=1, refit=False)
    assert list(frame.columns) == ["unique_id", "ds", "cutoff", "y", "net"]


def test_string_ids_stay_strings():
    y = _long(ids=["a", "b"])
    out = Seq2SeqForecaster(**tiny()).fit(y).predict()
    assert out["unique_id"].tolist()[:1] == ["a"]


# ---- intervals nest as the coverage grows (issue 24, class 5) ----------------------------------


def test_bands_calibrated_apart_still_nest():
    # Two bands: the inner (0.25, 0.75) needs a factor of 4 to cover its share, the outer
    # (0.1, 0.9) only 1. Choosing the nearest band alone gives a narrower interval at 0.66
    # (the outer band, nearest to 0.8) than at 0.64 (the inner one, nearest to 0.5).
    levels = [0.1, 0.25, 0.5, 0.75, 0.9]
    table = np.stack([np.linspace(0, 1.2, 1001), np.linspace(0, 5, 1001)])
    calibration = Calibration([(0, 4), (1, 3)], table, 1000)
    q = np.array([[[6.0, 8.0, 10.0, 12.0, 14.0]]])  # (1, 1, 5)
    widths = []
    for coverage in np.linspace(0.05, 0.99, 95):
        lower, upper = interval(q, calibration, levels, coverage)
        widths.append((float(lower[0, 0]), float(upper[0, 0])))
    lows, highs = np.array(widths).T
    assert (np.diff(lows) <= 1e-12).all() and (np.diff(highs) >= -1e-12).all()
    low_64, high_64 = interval(q, calibration, levels, 0.64)
    low_66, high_66 = interval(q, calibration, levels, 0.66)
    assert low_66[0, 0] <= low_64[0, 0] and high_66[0, 0] >= high_64[0, 0]


def test_a_fitted_models_intervals_nest(model):
    previous = None
    for coverage in (0.3, 0.45, 0.5, 0.6, 0.65, 0.675, 0.7, 0.8, 0.9, 0.95):
        band = model.predict_interval(coverage=coverage)
        low, high = band["net-lo-" + format(100 * coverage, ".10g")], band.iloc[:, -1]
        if previous is not None:
            assert (low.to_numpy() <= previous[0] + 1e-9).all()
            assert (high.to_numpy() >= previous[1] - 1e-9).all()
        previous = (low.to_numpy(), high.to_numpy())
