"""Rolling-origin backtests: refits at every cutoff, forecasts with actuals, metrics per window."""

import numpy as np
import pandas as pd
import pytest
from conftest import tiny

from tsattn import Seq2SeqForecaster

INDEX = pd.date_range("2018-01", periods=36, freq="MS")


def _long():
    t = np.arange(36.0)
    return pd.DataFrame(
        {
            "unique_id": ["a"] * 36 + ["b"] * 30,
            "ds": list(INDEX) + list(INDEX[6:]),
            "y": np.r_[10 + np.sin(t), 20 + t[:30] % 4],
        }
    )


@pytest.fixture(scope="module")
def result():
    f = Seq2SeqForecaster(**tiny(horizon=3, input_size=6, max_epochs=1))
    return f, f.backtest(_long(), n_windows=2, step=2)


def test_forecasts_have_the_actuals_and_the_cutoffs(result):
    f, (forecasts, _) = result
    assert list(forecasts.columns) == ["unique_id", "ds", "cutoff", "y", "forecast"]
    assert len(forecasts) == 2 * 2 * 3  # windows x series x horizon
    y = _long()
    joined = forecasts.merge(y, on=["unique_id", "ds"], suffixes=("", "_true"))
    np.testing.assert_array_equal(joined["y"], joined["y_true"])
    # window 1 holds out 3 + 2 = 5 months, window 2 the last 3: the cutoffs are the months before
    assert sorted(forecasts["cutoff"].unique()) == [INDEX[-6], INDEX[-4]]
    for cutoff, part in forecasts.groupby("cutoff"):
        steps = part.groupby("unique_id")["ds"].apply(list)
        for ds in steps:
            assert ds == list(pd.date_range(cutoff, periods=4, freq="MS")[1:])
    assert np.isfinite(forecasts["forecast"]).all()
    assert not hasattr(f, "module_")  # the estimator itself stays unfitted


def test_metrics_per_window_by_hand(result):
    _, (forecasts, metrics) = result
    assert list(metrics.columns) == ["window", "cutoff", "mae", "rmse", "smape", "mase"]
    assert list(metrics["window"]) == [1, 2]
    for _, row in metrics.iterrows():
        part = forecasts[forecasts["cutoff"] == row["cutoff"]]
        error = (part["y"] - part["forecast"]).abs()
        # metrics are means over series of the per-series values
        assert row["mae"] == pytest.approx(error.groupby(part["unique_id"]).mean().mean())


def test_backtest_with_covariates_and_too_short_series():
    y = _long()
    X = y[["unique_id", "ds"]].assign(promo=np.arange(len(y)) % 2)
    f = Seq2SeqForecaster(**tiny(horizon=3, input_size=6, max_epochs=1))
    forecasts, metrics = f.backtest(y, X=X, n_windows=1)
    assert len(forecasts) == 2 * 3 and len(metrics) == 1
    with pytest.raises(ValueError, match="series 'b' has 30, and needs more than 33"):
        f.backtest(y, n_windows=10, step=3)


def test_backtest_of_a_series_gives_a_long_frame():
    y = pd.Series(np.sin(np.arange(36.0)) + 3, index=INDEX, name="sales")
    f = Seq2SeqForecaster(**tiny(horizon=2, input_size=6, max_epochs=1))
    forecasts, metrics = f.backtest(y, n_windows=3)
    assert set(forecasts["unique_id"]) == {"sales"}
    assert len(forecasts) == 6 and len(metrics) == 3
    assert forecasts["ds"].max() == INDEX[-1]
