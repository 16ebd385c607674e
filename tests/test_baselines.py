import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError

from tsattn import Seq2SeqForecaster
from tsattn.forecast.metrics import mae
from tsattn.forecast.statistics.forecasters import ETSForecaster, SeasonalNaive, ThetaForecaster

# ----------------------------------------------------------------------------------------------
# Seasonal naive by hand


def test_seasonal_naive_repeats_the_last_season():
    y = np.arange(1.0, 8.0)  # 1..7; last season of 3: 5, 6, 7
    forecast = SeasonalNaive(horizon=5, season_length=3).fit(y).predict()
    np.testing.assert_array_equal(forecast, [5.0, 6.0, 7.0, 5.0, 6.0])


def test_seasonal_naive_with_season_one_is_the_last_value():
    forecast = SeasonalNaive(horizon=3).fit(np.array([4.0, 2.0, 9.0])).predict()
    np.testing.assert_array_equal(forecast, [9.0, 9.0, 9.0])


def test_seasonal_naive_long_frame_of_uneven_series():
    y = pd.DataFrame(
        {
            "unique_id": ["a"] * 5 + ["b"] * 2,
            "ds": [1, 2, 3, 4, 5, 1, 2],
            "y": [1.0, 2.0, 3.0, 4.0, 5.0, 8.0, 9.0],
        }
    )
    model = SeasonalNaive(horizon=4, season_length=4).fit(y)
    forecast = model.predict()
    assert forecast["unique_id"].tolist() == ["a"] * 4 + ["b"] * 4
    assert forecast["ds"].tolist() == [6, 7, 8, 9, 3, 4, 5, 6]
    # a: last season 2, 3, 4, 5; b is shorter than a season: naive forecast 9
    assert forecast["y"].tolist() == [2.0, 3.0, 4.0, 5.0, 9.0, 9.0, 9.0, 9.0]
    assert model.seasonal_.tolist() == [True, False]
    assert model.series_ids_ == ["a", "b"]
    assert model.n_series_ == 2


# ----------------------------------------------------------------------------------------------
# Input formats: the same kind of object back as Seq2SeqForecaster gives


def _formats():
    index = pd.date_range("2020-01-01", periods=30, freq="MS")
    values = np.arange(60, dtype=np.float64).reshape(30, 2) % 7 + 1
    wide = pd.DataFrame(values, index=index, columns=["north", "south"])
    long = wide.rename_axis("ds").reset_index().melt("ds", var_name="unique_id", value_name="y")
    return {
        "series": wide["north"].rename("sales"),
        "wide": wide,
        "long": long[["unique_id", "ds", "y"]],
        "array1d": values[:, 0],
        "array2d": values,
    }


@pytest.mark.parametrize("kind", ["series", "wide", "long", "array1d", "array2d"])
@pytest.mark.parametrize("cls", [SeasonalNaive, ETSForecaster, ThetaForecaster])
def test_formats_round_trip(kind, cls):
    y = _formats()[kind]
    copy = y.copy()
    forecast = cls(horizon=3, season_length=4).fit(y).predict()
    if kind == "series":
        assert isinstance(forecast, pd.Series) and forecast.name == "sales"
        assert forecast.index.equals(pd.date_range("2022-07-01", periods=3, freq="MS"))
    elif kind == "wide":
        assert list(forecast.columns) == ["north", "south"]
        assert forecast.index.equals(pd.date_range("2022-07-01", periods=3, freq="MS"))
    elif kind == "long":
        assert list(forecast.columns) == ["unique_id", "ds", "y"]
        assert forecast["unique_id"].tolist() == ["north"] * 3 + ["south"] * 3
        assert (forecast["ds"] > pd.Timestamp("2022-06-01")).all()
    else:
        assert forecast.shape == ((3,) if kind == "array1d" else (3, 2))
    assert np.isfinite(np.asarray(forecast if kind != "long" else forecast["y"])).all()
    # the input is not modified
    if isinstance(y, np.ndarray):
        np.testing.assert_array_equal(y, copy)
    else:
        pd.testing.assert_frame_equal(pd.DataFrame(y), pd.DataFrame(copy))


@pytest.mark.parametrize("kind", ["series", "wide", "long"])
def test_same_output_layout_as_the_neural_forecaster(kind):
    y = _formats()[kind]
    neural = Seq2SeqForecaster(
        horizon=3, hidden_size=4, max_epochs=1, random_state=0, verbose=False
    ).fit(y)
    expected = neural.predict()
    got = SeasonalNaive(horizon=3, season_length=4).fit(y).predict()
    assert type(got) is type(expected)
    if kind == "long":
        pd.testing.assert_frame_equal(got[["unique_id", "ds"]], expected[["unique_id", "ds"]])
    else:
        assert got.index.equals(expected.index)
        pd.testing.assert_index_equal(pd.DataFrame(got).columns, pd.DataFrame(expected).columns)


def test_predict_returns_a_fresh_object():
    model = SeasonalNaive(horizon=2).fit(np.array([1.0, 2.0, 3.0]))
    first = model.predict()
    first[:] = 0
    np.testing.assert_array_equal(model.predict(), [3.0, 3.0])


# ----------------------------------------------------------------------------------------------
# ETS and Theta on a simulated seasonal series


def _seasonal_series(n=96, seed=0):
    t = np.arange(n + 12)
    truth = 50 + 0.5 * t + 10 * np.sin(2 * np.pi * t / 12)
    noisy = truth + np.random.default_rng(seed).normal(0, 1, size=len(t))
    return noisy[:n], truth[n:]


@pytest.mark.parametrize(
    "model",
    [
        ETSForecaster(horizon=12, season_length=12),
        # the simulated season is additive; "auto" would pick a multiplicative decomposition
        ThetaForecaster(horizon=12, season_length=12, method="add"),
    ],
)
def test_statistical_models_follow_trend_and_season(model):
    history, future = _seasonal_series()
    forecast = model.fit(history).predict()
    assert model.seasonal_.tolist() == [True]
    # seasonal naive misses the trend by 6 on average; these models should track both
    naive = SeasonalNaive(horizon=12, season_length=12).fit(history).predict()
    assert mae(future, naive) > 4.5
    assert mae(future, forecast) < 2.5
    # and beat a season-less fit of the same model
    flat = clone(model).set_params(season_length=1).fit(history).predict()
    assert mae(future, forecast) < mae(future, flat) / 2


@pytest.mark.parametrize("cls", [ETSForecaster, ThetaForecaster])
def test_no_seasonal_component_without_a_season(cls):
    history, _ = _seasonal_series()
    assert cls(horizon=3, season_length=1).fit(history).seasonal_.tolist() == [False]
    # fewer than two seasons: fitted without seasonality rather than failing
    assert cls(horizon=3, season_length=12).fit(history[:20]).seasonal_.tolist() == [False]


def test_theta_test_finds_no_seasonality_in_a_trend():
    y = 10 + 0.3 * np.arange(60) + np.random.default_rng(1).normal(0, 0.5, 60)
    model = ThetaForecaster(horizon=4, season_length=12).fit(y)
    assert model.seasonal_.tolist() == [False]
    # the trend goes on rising
    assert np.all(np.diff(model.predict()) > 0)


def test_ets_without_trend_is_flat():
    y = 5 + np.random.default_rng(2).normal(0, 1, 40)
    forecast = ETSForecaster(horizon=5, trend="none", seasonal="none").fit(y).predict()
    np.testing.assert_allclose(forecast, forecast[0])


def test_theta_with_theta_one_is_flat_exponential_smoothing():
    history, _ = _seasonal_series()
    forecast = ThetaForecaster(horizon=4, deseasonalize=False, theta=1.0).fit(history).predict()
    np.testing.assert_allclose(forecast, forecast[0])


# ----------------------------------------------------------------------------------------------
# Errors and the scikit-learn contract


@pytest.mark.parametrize(
    ("params", "error", "words"),
    [
        ({"horizon": 0}, ValueError, "horizon must be an integer >= 1"),
        ({"horizon": 2.5}, TypeError, "horizon must be an integer"),
        ({"season_length": 0}, ValueError, "season_length must be an integer >= 1"),
    ],
)
@pytest.mark.parametrize("cls", [SeasonalNaive, ETSForecaster, ThetaForecaster])
def test_bad_common_parameters(cls, params, error, words):
    with pytest.raises(error, match=words):
        cls(**params).fit(np.arange(1.0, 30.0))


@pytest.mark.parametrize(
    ("model", "error", "words"),
    [
        (ETSForecaster(trend="ad"), ValueError, "trend must be one of .*did you mean 'add'"),
        (ETSForecaster(seasonal="multiplicative"), ValueError, "seasonal must be one of"),
        (ETSForecaster(damped_trend="yes"), TypeError, "damped_trend must be True or False"),
        (ThetaForecaster(method="multiplicative"), ValueError, "method must be one of"),
        (ThetaForecaster(theta=0.5), ValueError, "theta must be in"),
        (ThetaForecaster(use_test=1), TypeError, "use_test must be True or False"),
    ],
)
def test_bad_model_parameters(model, error, words):
    with pytest.raises(error, match=words):
        model.fit(np.arange(1.0, 30.0))


def test_too_short_and_nonpositive_series():
    with pytest.raises(ValueError, match="'b' has 2 value.*needs at least 3"):
        ThetaForecaster(horizon=2).fit(
            pd.DataFrame(
                {"unique_id": ["a"] * 5 + ["b"] * 2, "ds": [1, 2, 3, 4, 5, 1, 2], "y": 1.0}
            )
        )
    with pytest.raises(ValueError, match="values <= 0.*strictly positive"):
        ETSForecaster(seasonal="mul", season_length=4).fit(np.r_[np.arange(1.0, 20.0), 0.0])
    with pytest.raises(ValueError, match="values <= 0.*strictly positive"):
        ThetaForecaster(method="mul", season_length=4).fit(np.r_[np.arange(1.0, 20.0), -1.0])


def test_covariates_and_bad_input_are_rejected():
    y = np.arange(1.0, 10.0)
    with pytest.raises(ValueError, match="uses no covariates"):
        SeasonalNaive().fit(y, X=np.ones((9, 1)))
    with pytest.raises(ValueError, match="uses no covariates"):
        SeasonalNaive().fit(y).predict(X=np.ones((1, 1)))
    with pytest.raises(ValueError, match="NaN"):
        ThetaForecaster().fit(np.array([1.0, np.nan, 3.0, 4.0]))
    with pytest.raises(TypeError, match="numpy array"):
        SeasonalNaive().fit([1.0, 2.0, 3.0])


def test_predict_before_fit():
    with pytest.raises(NotFittedError):
        ThetaForecaster().predict()


def test_init_stores_parameters_and_clone_works():
    model = ETSForecaster(horizon=7, season_length=4, trend="none", damped_trend=False)
    assert model.get_params() == {
        "horizon": 7,
        "season_length": 4,
        "error": "add",
        "trend": "none",
        "damped_trend": False,
        "seasonal": "add",
    }
    assert clone(model).get_params() == model.get_params()
    # no validation in __init__: a bad value only fails in fit
    ThetaForecaster(theta=-1)
