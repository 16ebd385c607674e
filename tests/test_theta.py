"""The Theta baseline: prefix states by hand, against statsmodels, and inside the forecaster."""

import numpy as np
import pandas as pd
import pytest
import torch
from conftest import tiny

import tsattn
from tsattn import Seq2SeqForecaster
from tsattn.forecast.statistics.theta import ALPHAS, theta_forecast, theta_states
from tsattn.forecast.windows.batches import WindowBatches, WindowIndex


def _ses(values, alpha, start):
    """Level after the last value and the sum of squared one-step errors, written out plainly."""
    level, error = start, 0.0
    for value in values:
        error += (value - level) ** 2
        level = level + alpha * (value - level)
    return level, error


def _best_ses(values, alpha):
    """SES with the initial level found by a numerical minimiser (not the closed form)."""
    from scipy.optimize import minimize_scalar

    found = minimize_scalar(lambda start: _ses(values, alpha, start)[1], method="brent")
    return _ses(values, alpha, found.x)


def test_states_match_a_plain_loop_at_every_prefix():
    rng = np.random.default_rng(0)
    values = 10 + np.cumsum(rng.normal(size=12))
    states = theta_states(values.astype(np.float32), np.array([0, 12]))
    for t in range(12):
        fits = [_best_ses(values[: t + 1], a) for a in ALPHAS]
        errors = np.array([error for _, error in fits])
        # the smallest weight among the (numerically) best: ties are broken that way
        best = int(np.flatnonzero(errors <= errors.min() + 1e-9 * (1 + errors.min()))[0])
        slope = np.polyfit(np.arange(t + 1), values[: t + 1], 1)[0] if t else 0.0
        expected = [fits[best][0], ALPHAS[best], slope, t + 1]
        np.testing.assert_allclose(states[t], expected, rtol=1e-4, atol=1e-5)


def test_forecast_formula_by_hand():
    # level 10, alpha 0.5, slope 2, 4 values: drift (1 - 0.5^4) / 0.5 = 1.875
    states = torch.tensor([[10.0, 0.5, 2.0, 4.0]])
    expected = [10 + 0.5 * 2 * (h + 1.875) for h in range(3)]
    torch.testing.assert_close(theta_forecast(states, 3), torch.tensor([expected]))


def test_series_are_independent_and_nan_is_skipped():
    a = np.array([1.0, 2.0, 4.0, 3.0, 5.0], dtype=np.float32)
    b = np.array([7.0, 6.0, 8.0], dtype=np.float32)
    together = theta_states(np.concatenate([a, b]), np.array([0, 5, 8]))
    np.testing.assert_allclose(together[:5], theta_states(a, np.array([0, 5])))
    np.testing.assert_allclose(together[5:], theta_states(b, np.array([0, 3])))
    gap = theta_states(np.array([1.0, np.nan, 2.0, 4.0], dtype=np.float32), np.array([0, 4]))
    np.testing.assert_allclose(gap[1], gap[0])  # a missing value changes nothing
    np.testing.assert_allclose(gap[3, 3], 3)  # three values seen


def test_close_to_statsmodels_theta():
    from statsmodels.tsa.forecasting.theta import ThetaModel

    rng = np.random.default_rng(1)
    values = 100 + 0.5 * np.arange(80) + np.cumsum(rng.normal(size=80))
    ours = theta_forecast(
        torch.from_numpy(theta_states(values.astype(np.float32), np.array([0, 80]))[-1:]), 6
    ).numpy()[0]
    theirs = ThetaModel(values, deseasonalize=False).fit().forecast(6)
    # statsmodels estimates alpha by maximum likelihood and starts SES differently; the grid
    # search lands within a fraction of the series' one-step noise (deviation 1).
    np.testing.assert_allclose(ours, theirs, atol=0.5)


def test_window_base_is_the_scaled_forecast_from_the_origin():
    values = np.arange(1.0, 21.0, dtype=np.float32)  # a straight line: Theta follows it halfway
    offsets = np.array([0, 20])
    states = theta_states(values, offsets)
    windows = WindowIndex(np.array([0]), np.array([10]))
    batches = WindowBatches(
        values, offsets, windows, 5, 3, "none", torch.device("cpu"), baseline=states
    )
    batch = batches.batch(np.arange(1))
    expected = theta_forecast(torch.from_numpy(states[9:10]), 3)  # state after value 10
    torch.testing.assert_close(batch["base"], expected)
    torch.testing.assert_close(batch["future"][..., 0], expected)  # and the decoder reads it


@pytest.mark.parametrize("baseline", ["theta", None])
def test_forecaster_with_and_without_baseline(baseline, monthly_series, tmp_path):
    f = Seq2SeqForecaster(**tiny(baseline=baseline)).fit(monthly_series)
    pred = f.predict()
    assert pred.shape == (3,) and np.isfinite(pred).all()
    f.save(tmp_path / "m.tsattn")
    again = tsattn.load(tmp_path / "m.tsattn")
    pd.testing.assert_series_equal(again.predict(), pred)


def test_untrained_correction_starts_at_theta(monthly_series):
    # With the network's output layer zeroed, the forecast is exactly the Theta forecast.
    f = Seq2SeqForecaster(**tiny(season_length=1, scaler="none")).fit(monthly_series)
    with torch.no_grad():
        f.module_.head.weight.zero_()
        f.module_.head.bias.zero_()
    values = monthly_series.to_numpy(np.float32)
    states = theta_states(values, np.array([0, len(values)]))
    expected = theta_forecast(torch.from_numpy(states[-1:]), 3).numpy()[0]
    np.testing.assert_allclose(f.predict().to_numpy(), expected, rtol=1e-5)


def test_bad_baseline_is_refused_before_training(monthly_series):
    with pytest.raises(ValueError, match="baseline must be one of"):
        Seq2SeqForecaster(**tiny(baseline="ets")).fit(monthly_series)


# --------------------------------------------------------------------------------------------
# Free-running training (teacher_forcing=False): the loss sees what predict produces


def _recursive_module(batch):
    from tsattn.core.seq2seq import CoreConfig, Seq2Seq

    torch.manual_seed(0)
    module = Seq2Seq(CoreConfig(target_features=batch["target_in"].shape[-1], hidden_size=8))
    return module.eval()


def test_free_running_reads_only_the_first_decoder_input(theta_batch):
    from tsattn.forecast.rollout import decode

    batch, module = theta_batch, _recursive_module(theta_batch)
    changed = batch["target_in"].clone()
    changed[:, 1:, 0] += 5.0  # other "true previous values"
    free = decode(module, batch, batch["target_in"], free_running=True)[0]
    torch.testing.assert_close(decode(module, batch, changed, free_running=True)[0], free)
    forced = decode(module, batch, changed, free_running=False)[0]
    assert not torch.allclose(forced[:, 1:], free[:, 1:])  # teacher forcing reads them


def test_free_running_loss_is_the_error_of_the_forecast_predict_makes(theta_batch):
    from tsattn.forecast.rollout import make_loss, roll_out

    batch, module = theta_batch, _recursive_module(theta_batch)
    # roll_out is what predict runs; scaled back with loc/scale it gives the loss's outputs
    forecast, _ = roll_out(module, batch, 3)  # (B, H) in the data's units
    scaled = (forecast - batch["loc"]) / batch["scale"]
    expected = (scaled - batch["target"]).abs().mean()
    loss = make_loss("mae", free_running=True)(module, batch)
    torch.testing.assert_close(loss, expected)
    assert not torch.isclose(make_loss("mae")(module, batch), expected)


def test_teacher_forcing_parameter_reaches_training(monthly_series):
    free = Seq2SeqForecaster(**tiny(decoder="recursive")).fit(monthly_series).history_
    forced = Seq2SeqForecaster(**tiny(decoder="recursive", teacher_forcing=True))
    assert not np.allclose(free["train_loss"], forced.fit(monthly_series).history_["train_loss"])


def test_bad_teacher_forcing_is_refused_before_training(monthly_series):
    with pytest.raises(TypeError, match="teacher_forcing must be True or False"):
        Seq2SeqForecaster(**tiny(teacher_forcing="yes")).fit(monthly_series)
