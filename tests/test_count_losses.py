"""Count likelihoods (poisson, negbin, tweedie), fitted values and CRPS (issue 25, item 6)."""

import numpy as np
import pandas as pd
import pytest
import torch
from conftest import tiny
from scipy import stats

from tsattn import Seq2SeqForecaster, load
from tsattn.datasets import make_retail_sales
from tsattn.forecast import distributions
from tsattn.forecast.metrics import crps, pinball_loss, scaled_crps


@pytest.fixture(scope="module")
def sales():
    """Weekly sales of the simulator's slow movers: integers, many zeros."""
    y, _, _ = make_retail_sales(n_series=20, n_periods=80, seed=0)
    zeros = y.groupby("unique_id")["y"].apply(lambda s: (s == 0).mean())
    slow = zeros[zeros > 0.2].index
    assert len(slow) >= 2
    return y[y["unique_id"].isin(slow)].reset_index(drop=True)


def _model(loss, **more):
    return Seq2SeqForecaster(**tiny(loss=loss, season_length=1, max_epochs=3, **more))


@pytest.mark.parametrize("loss", ["poisson", "negbin", "tweedie"])
def test_count_losses_forecast_counts_with_intervals(sales, loss, tmp_path):
    f = _model(loss, alias="m").fit(sales)
    out = f.predict(level=[80])
    assert np.isfinite(out[["m", "m-lo-80", "m-hi-80"]].to_numpy()).all()
    assert (out["m-lo-80"] >= 0).all()
    assert (out["m-lo-80"] <= out["m"]).all() and (out["m"] <= out["m-hi-80"]).all()
    if loss != "tweedie":  # discrete distributions: integer quantiles
        assert np.array_equal(out["m"], np.round(out["m"]))
    q = f.predict_quantiles()
    assert list(q.columns)[2:] == ["m-q-10", "m-q-50", "m-q-90"]
    np.testing.assert_allclose(q["m-q-50"], out["m"])
    f.save(tmp_path / "m.tsattn")
    again = load(tmp_path / "m.tsattn")
    pd.testing.assert_frame_equal(again.predict(level=[80]), out)


def test_quantiles_name_the_reported_levels(sales):
    f = _model("negbin", quantiles=(0.05, 0.5, 0.95)).fit(sales)
    assert f.module_.config.output_size == 2
    assert list(f.predict_quantiles().columns)[2:] == ["0.05", "0.5", "0.95"]


def test_negative_values_are_refused(sales):
    bad = sales.assign(y=sales["y"] - 1.0)
    with pytest.raises(ValueError, match="y >= 0"):
        _model("poisson").fit(bad)


def test_the_regressor_keeps_point_losses():
    from tsattn import Seq2SeqRegressor

    X = np.random.default_rng(0).normal(size=(40, 6, 1)).astype(np.float32)
    with pytest.raises(ValueError, match="loss"):
        Seq2SeqRegressor(loss="poisson", max_epochs=1, verbose=False).fit(X, X[:, :2, 0])


def test_likelihoods_match_scipy():
    y = torch.tensor([0.0, 1.0, 3.0, 7.0])
    mean = torch.tensor([0.5, 1.5, 2.0, 6.0])
    alpha = torch.tensor([0.3, 0.3, 1.0, 0.1])
    nll = distributions.negative_log_likelihood(y, mean, torch.zeros(4), "poisson")
    np.testing.assert_allclose(nll, -stats.poisson.logpmf(y, mean), rtol=1e-5)
    r = 1 / alpha
    nll = distributions.negative_log_likelihood(y, mean, alpha, "negbin")
    np.testing.assert_allclose(nll, -stats.nbinom.logpmf(y, r, r / (r + mean)), rtol=1e-5)
    # Tweedie: the mass at zero is exact (exp(-rate) of the compound Poisson)
    phi = torch.tensor([0.8])
    zero = distributions.negative_log_likelihood(
        torch.zeros(1), torch.tensor([2.0]), phi, "tweedie"
    )
    rate = 2.0**0.5 / (0.8 * 0.5)
    assert float(zero) == pytest.approx(rate, rel=1e-6)
    draws = distributions.tweedie_samples(np.array([2.0]), np.array([0.8]), 200_000)
    assert (draws == 0).mean() == pytest.approx(np.exp(-rate), abs=0.01)
    assert draws.mean() == pytest.approx(2.0, rel=0.02)


def test_the_mean_is_positive_on_the_datas_scale():
    batch = {
        "loc": torch.zeros(2, 1),
        "scale": torch.ones(2, 1),
        "level": torch.tensor([[0.2], [50.0]]),
    }
    outputs = torch.tensor([[[-40.0], [0.0]], [[1.0], [0.0]]])  # (B=2, H=2, 1)
    mean, _, unit = distributions.parameters(outputs, batch, "poisson")
    assert (mean > 0).all()
    # about the unscaled output where it is well above 0: 50 * (e - 1)
    assert float(mean[1, 0]) == pytest.approx(50.0 * (np.e - 1), rel=1e-4)
    standard = {"loc": torch.tensor([[3.0]]), "scale": torch.tensor([[2.0]])}
    mean, _, _ = distributions.parameters(torch.tensor([[[-100.0], [10.0]]]), standard, "poisson")
    assert float(mean[0, 0]) > 0 and float(mean[0, 1]) == pytest.approx(23.0, rel=1e-3)


def test_fitted_values_are_in_sample_horizon_forecasts(sales):
    f = _model("poisson", alias="m").fit(sales)
    fitted = f.fitted_values(sales)
    assert list(fitted.columns) == ["unique_id", "ds", "cutoff", "y", "m"]
    assert fitted["cutoff"].nunique() > 10
    assert fitted["ds"].isin(sales["ds"]).all() and not fitted["y"].isna().any()
    last = fitted[fitted["cutoff"] == fitted["cutoff"].max()]
    assert last["ds"].max() == sales["ds"].max()
    two = f.fitted_values(sales, n_windows=2, step=1)
    assert two["cutoff"].nunique() == 2


def test_crps_from_quantiles():
    levels = [0.1, 0.5, 0.9]
    y = np.array([[3.0, 0.0]])
    q = np.array([[[2.0, 3.0, 4.0], [0.0, 1.0, 2.0]]])
    assert crps(y, q, levels) == pytest.approx(2 * pinball_loss(y, q, levels))
    # a point forecast as its one median: the absolute error
    assert crps([3.0, 5.0], [[2.0], [5.0]], [0.5]) == pytest.approx(0.5)
    assert scaled_crps(y, q, levels) == pytest.approx(crps(y, q, levels) / 1.5)
    with pytest.raises(ValueError, match="zeros"):
        scaled_crps([0.0], [[1.0]], [0.5])
