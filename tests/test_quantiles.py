"""Quantile forecasts (pinball loss, monotone outputs), calibrated intervals, sales options."""

import numpy as np
import pandas as pd
import pytest
import torch
from conftest import tiny

from tsattn import Seq2SeqForecaster
from tsattn.forecast import rollout
from tsattn.forecast.conformal import Calibration
from tsattn.forecast.conformal import band as conformal_band
from tsattn.forecast.metrics import interval_coverage
from tsattn.forecast.outputs import forecast_array

INDEX = pd.date_range("2020-01-06", periods=60, freq="W-MON")


class Fixed(torch.nn.Module):
    """A stand-in model that returns fixed outputs, to check losses by hand."""

    direct = False  # decode() reads which decoder a Seq2Seq has

    def __init__(self, outputs):
        super().__init__()
        self.outputs = torch.as_tensor(outputs, dtype=torch.float32)

    def forward(self, source, target_in, mask=None, feedback=None, return_weights=False):
        return self.outputs, None


def test_monotone_quantiles_never_cross_and_keep_the_median():
    raw = torch.randn(64, 5, 3, generator=torch.Generator().manual_seed(0)) * 10  # (B, H, Q)
    q = rollout.monotone_quantiles(raw, median=1)
    # strictly in exact arithmetic; a softplus of -30 is below float32's resolution at 20
    assert (q[..., 1:] >= q[..., :-1]).all()
    assert (rollout.monotone_quantiles(raw / 10, 1).diff(dim=-1) > 0).all()
    torch.testing.assert_close(q[..., 1], raw[..., 1])
    # by hand: median +- softplus of the other outputs
    raw = torch.tensor([[[0.0, 2.0, 0.0]]])
    softplus0 = float(np.log(2.0))
    expected = torch.tensor([[[2.0 - softplus0, 2.0, 2.0 + softplus0]]])
    torch.testing.assert_close(rollout.monotone_quantiles(raw, 1), expected)


def test_pinball_loss_by_hand():
    # one window, two steps, quantiles 0.1 0.5 0.9; raw outputs give quantiles [-1, 0, 1] + ...
    inverse_softplus_1 = float(np.log(np.e - 1))  # softplus of this is 1
    raw = torch.tensor([[[inverse_softplus_1, 0.0, inverse_softplus_1]] * 2])  # (1, 2, 3)
    batch = {
        "source": torch.zeros(1, 4, 1),
        "target_in": torch.zeros(1, 2, 1),
        "mask": torch.ones(1, 4, dtype=torch.bool),
        "target": torch.tensor([[2.0, float("nan")]]),  # the second target is missing
    }
    loss = rollout.make_loss("mae", [0.1, 0.5, 0.9])(Fixed(raw), batch)
    # target 2 against quantiles -1, 0, 1: pinball 0.1*3, 0.5*2, 0.9*1
    assert float(loss) == pytest.approx((0.3 + 1.0 + 0.9) / 3, rel=1e-5)


def test_an_empty_batch_of_targets_gives_a_zero_loss():
    batch = {
        "source": torch.zeros(1, 4, 1),
        "target_in": torch.zeros(1, 2, 1),
        "target": torch.full((1, 2), float("nan")),
    }
    assert float(rollout.make_loss("mae")(Fixed(torch.ones(1, 2, 1)), batch)) == 0.0


@pytest.fixture(scope="module")
def quantile_model():
    t = np.arange(60)
    y = pd.DataFrame(
        {
            "a": 50 + 10 * np.sin(2 * np.pi * t / 8) + np.random.default_rng(0).normal(0, 2, 60),
            "b": 20 + t * 0.5,
        },
        index=INDEX,
    )
    params = tiny(quantiles=(0.1, 0.9), max_epochs=3, horizon=4, input_size=8)
    return Seq2SeqForecaster(**params).fit(y)


def test_quantiles_are_named_monotone_and_the_median_is_the_forecast(quantile_model):
    f = quantile_model
    assert f.quantiles_ == [0.1, 0.5, 0.9]  # the median is added
    q = f.predict_quantiles()
    assert list(q.columns) == [("a", "0.1"), ("a", "0.9"), ("b", "0.1"), ("b", "0.9")]
    for sid in ("a", "b"):
        assert (q[(sid, "0.1")] < q[(sid, "0.9")]).all()
    full = forecast_array(f)  # (n_series, H, 3)
    assert (np.diff(full, axis=-1) > 0).all()
    np.testing.assert_allclose(f.predict().to_numpy(), full[..., 1].T)


def test_interval_is_the_band_scaled_by_the_conformal_factor(quantile_model):
    f = quantile_model
    band = f.predict_interval(coverage=0.8)
    assert list(band.columns) == [("a", "lower"), ("a", "upper"), ("b", "lower"), ("b", "upper")]
    full = forecast_array(f)
    (low, high), factor = conformal_band(f.context_.calibration, f.quantiles_, 0.8)
    assert (low, high) == (0, 2) and factor > 0
    median = full[..., 1]
    np.testing.assert_allclose(
        band[("a", "lower")], median[0] - factor * (median[0] - full[0, :, 0]), rtol=1e-6
    )
    np.testing.assert_allclose(
        band[("b", "upper")], median[1] + factor * (full[1, :, 2] - median[1]), rtol=1e-6
    )
    wider = f.predict_interval(coverage=0.95)
    assert (wider[("a", "upper")] >= band[("a", "upper")]).all()


def test_conformal_factor_by_hand():
    # scores 0, 0.01, ..., 10 (n = 1001): the asked share of them is <= the factor
    table = np.linspace(0, 10, 1001)
    calibration = Calibration([(0, 2)], table[None], 1001)
    pair, factor = conformal_band(calibration, [0.1, 0.5, 0.9], 0.5)
    assert pair == (0, 2)
    assert factor == pytest.approx(10 * np.ceil(1002 * 0.5) / 1001, abs=1e-9)
    # the band nearest to the asked coverage is chosen
    two = Calibration([(0, 4), (1, 3)], np.stack([table, table]), 1001)
    assert conformal_band(two, [0.05, 0.25, 0.5, 0.75, 0.95], 0.55)[0] == (1, 3)


def test_calibrated_interval_covers_new_data():
    # 40 noisy seasonal series: the 80% interval must hold about 80% of the next values
    rng = np.random.default_rng(1)
    n_series, n, horizon = 40, 80, 4
    t = np.arange(n + horizon)
    level = rng.uniform(20, 80, n_series)[:, None]
    values = level + 5 * np.sin(2 * np.pi * t / 12 + rng.uniform(0, 6, (n_series, 1)))
    values = values + rng.normal(0, 3, values.shape)
    index = pd.date_range("2000-01", periods=n + horizon, freq="MS")
    wide = pd.DataFrame(values.T, index=index, columns=[f"s{i}" for i in range(n_series)])
    params = tiny(
        horizon=horizon,
        input_size=12,
        hidden_size=16,
        quantiles=(0.1, 0.5, 0.9),
        max_epochs=8,
        learning_rate=1e-2,
        validation_size=0.2,
    )
    f = Seq2SeqForecaster(**params).fit(wide.iloc[:n])
    band = f.predict_interval(coverage=0.8)
    actual = wide.iloc[n:].to_numpy()
    lower = band.xs("lower", axis=1, level=1).to_numpy()
    upper = band.xs("upper", axis=1, level=1).to_numpy()
    assert 0.7 <= interval_coverage(actual, lower, upper) <= 0.9


# --------------------------------------------------------------------------------------------
# Sales: nonnegative output, intermittent series


def test_nonnegative_clips_forecasts_and_bands():
    rng = np.random.default_rng(0)
    y = pd.Series(rng.poisson(0.3, 60).astype(float), index=INDEX)  # mostly zeros
    f = Seq2SeqForecaster(**tiny(quantiles=(0.1, 0.5, 0.9), nonnegative=True)).fit(y)
    assert (f.predict() >= 0).all()
    assert (f.predict_quantiles().to_numpy() >= 0).all()
    band = f.predict_interval(coverage=0.9)
    assert (band["lower"] >= 0).all()
    # the band is scaled from the unclipped quantiles, as calibrated, and clipped after
    raw = forecast_array(f, clip=False)[0]  # (H, Q)
    _, factor = conformal_band(f.context_.calibration, f.quantiles_, 0.9)
    expected = np.maximum(raw[:, 1] - factor * (raw[:, 1] - raw[:, 0]), 0.0)
    np.testing.assert_allclose(band["lower"], expected, rtol=1e-6)


def test_intermittent_series_scale_and_forecast():
    values = np.zeros(60)
    values[[5, 17, 40, 52]] = [1, 3, 1, 2]  # all-zero windows are common
    y = pd.Series(values, index=INDEX)
    f = Seq2SeqForecaster(**tiny(horizon=4, input_size=8)).fit(y)
    assert np.isfinite(f.history_["train_loss"]).all()
    assert np.isfinite(f.predict()).all()


def test_negative_sales_with_nonnegative_is_an_error():
    y = pd.Series(np.r_[-1.0, np.ones(59)], index=INDEX)
    with pytest.raises(ValueError, match="nonnegative=True but y has negative values"):
        Seq2SeqForecaster(**tiny(nonnegative=True)).fit(y)


# --------------------------------------------------------------------------------------------
# Errors


@pytest.mark.parametrize(
    "quantiles, error, words",
    [
        ((0.1, 1.5), ValueError, r"quantiles must be in \(0.0, 1.0\)"),
        ((0.0, 0.5), ValueError, r"quantiles must be in \(0.0, 1.0\)"),
        ((0.1, 0.1), ValueError, "distinct levels"),
        ((), ValueError, "distinct levels"),
        ("0.5", TypeError, "sequence of levels"),
        (0.5, TypeError, "sequence of levels"),
    ],
)
def test_bad_quantiles(quantiles, error, words):
    y = pd.Series(np.arange(60.0), index=INDEX)
    with pytest.raises(error, match=words):
        Seq2SeqForecaster(**tiny(quantiles=quantiles)).fit(y)


def test_point_model_has_no_quantiles_or_intervals():
    f = Seq2SeqForecaster(**tiny(max_epochs=1)).fit(pd.Series(np.arange(60.0), index=INDEX))
    with pytest.raises(ValueError, match="fit it with quantiles"):
        f.predict_quantiles()
    with pytest.raises(ValueError, match="intervals need quantiles below and above 0.5"):
        f.predict_interval()


def test_bad_coverage(quantile_model):
    with pytest.raises(ValueError, match=r"coverage must be in \(0.0, 1.0\)"):
        quantile_model.predict_interval(coverage=80)
