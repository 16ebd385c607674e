"""missing="mask": NaN in y is kept out of the scaling, the encoder input and the loss."""

import numpy as np
import pandas as pd
import pytest
import torch
from conftest import tiny

from tsattn import Seq2SeqForecaster
from tsattn.forecast import rollout
from tsattn.forecast.windows.batches import WindowBatches, WindowIndex

pytestmark = pytest.mark.filterwarnings(
    # tsattn's short-history warning: these tests fit deliberately tiny series
    "ignore:.*of the series have fewer than horizon:UserWarning"
)

INDEX = pd.date_range("2020-01-06", periods=50, freq="W-MON")
CPU = torch.device("cpu")


def _all_windows(values, input_size, horizon):
    origins = np.arange(1, len(values) - horizon + 1)
    windows = WindowIndex(np.zeros(len(origins), dtype=np.int64), origins)
    return WindowBatches(
        values.astype(np.float32),
        np.array([0, len(values)]),
        windows,
        input_size,
        horizon,
        "standard",
        CPU,
        observed_feature=True,
    )


def test_the_default_refuses_nan_and_points_to_mask():
    y = pd.Series(np.r_[np.arange(20.0), np.nan, np.arange(29.0)], index=INDEX)
    with pytest.raises(ValueError, match="contains NaN .*missing='mask'"):
        Seq2SeqForecaster(**tiny()).fit(y)


def test_a_nan_changes_only_the_windows_that_hold_it():
    values = np.sin(np.arange(30.0)) * 5 + 10
    gap = values.copy()
    gap[12] = np.nan
    full = _all_windows(values, 6, 3).batch(np.arange(26))
    holed = _all_windows(gap, 6, 3).batch(np.arange(26))
    origins = np.arange(1, 27)
    touched = (origins - 6 <= 12) & (12 < origins + 3)
    for key in ("source", "target", "loc", "scale", "target_in"):
        torch.testing.assert_close(full[key][~touched], holed[key][~touched], equal_nan=True)
    # the observed flag (feature 1) is 0 exactly at the gap
    flag = holed["source"][..., 1]  # (B, I)
    for row, origin in enumerate(origins):
        position = np.arange(origin - 6, origin)
        expected = (position >= 0) & (position != 12)
        np.testing.assert_array_equal(flag[row].numpy(), expected.astype(np.float32))


def test_a_window_with_a_gap_is_scaled_by_its_observed_values():
    values = np.arange(20.0) ** 1.5
    values[8] = np.nan
    batch = _all_windows(values, 6, 2).batch(np.array([9]))  # origin 10: history 4..9
    history = values[4:10]
    observed = history[~np.isnan(history)]
    loc, scale = observed.mean(), observed.std()
    np.testing.assert_allclose(batch["loc"].numpy(), [[loc]], rtol=1e-5)
    np.testing.assert_allclose(batch["scale"].numpy(), [[scale]], rtol=1e-5)
    expected = np.where(np.isnan(history), 0.0, (history - loc) / scale)
    np.testing.assert_allclose(batch["source"][0, :, 0].numpy(), expected, rtol=1e-5, atol=1e-6)
    # the attention mask still covers the gap: only padding is hidden from attention
    assert batch["mask"].all()


def test_a_missing_target_is_left_out_of_the_loss():
    values = np.arange(20.0) % 5
    values[11] = np.nan
    batch = _all_windows(values, 6, 3).batch(np.array([9]))  # origin 10: targets 10, 11, 12
    assert torch.isnan(batch["target"][0]).tolist() == [False, True, False]
    assert not torch.isnan(batch["target_in"]).any()  # a missing previous value enters as 0

    class Constant(torch.nn.Module):
        direct = False  # decode() reads which decoder a Seq2Seq has

        def forward(self, source, target_in, mask=None, feedback=None, return_weights=False):
            return torch.zeros(1, 3, 1), None

    loss = rollout.make_loss("mae")(Constant(), batch)
    observed = batch["target"][0, [0, 2]]
    assert float(loss) == pytest.approx(float(observed.abs().mean()), rel=1e-6)


def test_fit_and_predict_through_gaps():
    rng = np.random.default_rng(0)
    wide = pd.DataFrame(
        {"a": 10 + np.sin(np.arange(50.0)), "b": 5 + rng.normal(0, 1, 50)}, index=INDEX
    )
    wide.iloc[[3, 4, 20, 33], 0] = np.nan
    wide.iloc[-1, 1] = np.nan  # the last week of b is missing too
    f = Seq2SeqForecaster(**tiny(missing="mask")).fit(wide)
    assert np.isfinite(f.history_["train_loss"]).all()
    assert f.module_.config.source_features == 2  # the value and its observed flag
    pred = f.predict()
    assert pred.shape == (3, 2) and np.isfinite(pred.to_numpy()).all()
    assert list(pred.index) == list(pd.date_range(INDEX[-1], periods=4, freq="W-MON")[1:])


def test_long_frames_with_gaps_and_a_series_with_nothing_observed():
    y = pd.DataFrame(
        {"unique_id": ["a"] * 50 + ["b"] * 50, "ds": list(INDEX) * 2, "y": np.arange(100.0)}
    )
    y.loc[[7, 8, 60], "y"] = np.nan
    pred = Seq2SeqForecaster(**tiny(missing="mask", max_epochs=1)).fit(y).predict()
    assert np.isfinite(pred["y"]).all()
    y.loc[y.unique_id == "b", "y"] = np.nan
    with pytest.raises(ValueError, match="series 'b' has no observed values"):
        Seq2SeqForecaster(**tiny(missing="mask")).fit(y)
