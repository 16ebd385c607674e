"""cross_validation: the model and statistical baselines per cutoff, as statsforecast's;
evaluate over it; the statistical forecasters and evaluate at the top level."""

import numpy as np
import pandas as pd
import pytest
from conftest import tiny

import tsattn
from tsattn import SeasonalNaive, Seq2SeqForecaster, evaluate


@pytest.fixture(scope="module")
def y():
    rng = np.random.default_rng(1)
    t = np.arange(48)
    return pd.concat(
        [pd.DataFrame({"unique_id": i, "ds": t, "y": 30 + 4 * np.sin(2 * np.pi * t / 4 + i)
                       + rng.normal(0, 0.5, len(t))}) for i in range(3)],
        ignore_index=True,
    )  # fmt: skip


@pytest.fixture(scope="module")
def cv(y):
    f = Seq2SeqForecaster(**tiny(quantiles=(0.1, 0.5, 0.9), season_length=4))
    return f.cross_validation(
        y, n_windows=2, step=2, level=[80], baselines=["Naive", SeasonalNaive(season_length=4)]
    )


def test_top_level_exports():
    for name in ("SeasonalNaive", "ThetaForecaster", "ETSForecaster", "evaluate"):
        assert name in tsattn.__all__ and hasattr(tsattn, name)


def test_one_long_frame_as_statsforecast(cv, y):
    assert list(cv.columns) == [
        "unique_id", "ds", "cutoff", "y", "Seq2SeqForecaster", "Seq2SeqForecaster-lo-80",
        "Seq2SeqForecaster-hi-80", "Naive", "SeasonalNaive",
    ]  # fmt: skip
    assert cv["unique_id"].dtype == y["unique_id"].dtype
    # windows of horizon 3, two cutoffs 2 apart, ending at the series' end
    assert sorted(cv["cutoff"].unique()) == [42, 44]
    assert len(cv) == 3 * 2 * 3
    assert (cv["ds"] > cv["cutoff"]).all() and (cv["ds"] <= cv["cutoff"] + 3).all()
    merged = cv.merge(y, on=["unique_id", "ds"], suffixes=("", "_true"))
    np.testing.assert_allclose(merged["y"], merged["y_true"])
    assert (cv["Seq2SeqForecaster-lo-80"] <= cv["Seq2SeqForecaster-hi-80"]).all()


def test_baselines_are_fitted_at_each_cutoff(cv, y):
    for cutoff, part in cv.groupby("cutoff"):
        history = y[y["ds"] <= cutoff]
        last = history.groupby("unique_id")["y"].last()
        np.testing.assert_allclose(part["Naive"], part["unique_id"].map(last))
        expected = SeasonalNaive(horizon=3, season_length=4).fit(history).predict()
        np.testing.assert_allclose(part["SeasonalNaive"], expected["y"])


def test_evaluate_over_the_frame(cv, y):
    table = evaluate(cv, train=y, metrics=("mae", "mase"))
    assert list(table.index) == ["Seq2SeqForecaster", "Naive", "SeasonalNaive"]
    by_hand = (cv["y"] - cv["Naive"]).abs().groupby([cv["unique_id"], cv["cutoff"]]).mean()
    assert table.loc["Naive", "mae"] == pytest.approx(by_hand.groupby(level=0).mean().mean())
    per_series = evaluate(cv, train=y, metrics="mae", per_series=True)
    assert len(per_series) == 3 * 3


def test_without_refit_the_fitted_model_forecasts(y):
    f = Seq2SeqForecaster(**tiny(alias="net", season_length=4)).fit(y)
    cv = f.cross_validation(y, n_windows=2, refit=False, baselines="theta")
    assert list(cv.columns) == ["unique_id", "ds", "cutoff", "y", "net", "ThetaForecaster"]
    frame = f.historical_forecasts(y, n_windows=2)
    np.testing.assert_allclose(cv["net"], frame["net"])


def test_bad_baselines(y):
    f = Seq2SeqForecaster(**tiny())
    with pytest.raises(ValueError, match="unknown baseline"):
        f.cross_validation(y, n_windows=1, baselines=["arima"])
    with pytest.raises(TypeError, match="statistical forecasters"):
        f.cross_validation(y, n_windows=1, baselines=[3])
    with pytest.raises(ValueError, match="twice"):
        f.cross_validation(y, n_windows=1, baselines=["SeasonalNaive", SeasonalNaive()])
    with pytest.raises(ValueError, match="n_windows"):
        f.cross_validation(y, n_windows=30)
