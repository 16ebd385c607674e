import math

import numpy as np
import pytest
import torch

from tsattn.forecast.windows.arrays import REGRESSOR_SCALERS
from tsattn.forecast.windows.batches import (
    WindowBatches,
    WindowIndex,
    forecast_windows,
    training_windows,
)
from tsattn.forecast.windows.scaling import WINDOW_SCALERS, window_scale

CPU = torch.device("cpu")


def pairs(windows: WindowIndex) -> list[tuple[int, int]]:
    return list(zip(windows.series.tolist(), windows.origin.tolist(), strict=True))


# ----------------------------------------------------------------------------------------
# training_windows
# ----------------------------------------------------------------------------------------


def test_training_windows_on_hand_made_lengths():
    # input_size 4, horizon 3, a quarter of each series' origins held out.
    train, valid = training_windows(np.array([20, 9, 5, 7]), 4, 3, 0.25)
    # Series 0 (length 20): origins 4..17 (14); ceil(3.5) = 4 validate (14..17); training
    # targets must end before 14, so training origins are 4..11 (origin 11 predicts 11, 12, 13).
    # Series 1 (length 9): origins 4..6; holding one out would leave no training origin before
    # it, so all three train.
    # Series 2 (length 5 < 4 + 3): one padded window at origin 2 (2 values of history).
    # Series 3 (length 7 = 4 + 3): exactly one full window, origin 4.
    assert pairs(train) == (
        [(0, t) for t in range(4, 12)] + [(1, 4), (1, 5), (1, 6)] + [(2, 2)] + [(3, 4)]
    )
    assert pairs(valid) == [(0, 14), (0, 15), (0, 16), (0, 17)]
    assert train.series.dtype == np.int64 and train.origin.dtype == np.int64


def test_training_windows_without_validation():
    train, valid = training_windows(np.array([8, 3]), 3, 2, 0.0)
    assert pairs(train) == [(0, 3), (0, 4), (0, 5), (0, 6), (1, 1)]
    assert len(valid) == 0


def test_training_windows_hold_out_at_least_one_origin_per_long_series():
    train, valid = training_windows(np.array([30]), 5, 2, 0.01)
    # Origins 5..28; ceil(0.24) = 1 validates (28); training ends at 28 - 2 = 26.
    assert pairs(valid) == [(0, 28)]
    assert pairs(train) == [(0, t) for t in range(5, 27)]


def test_training_windows_never_overlap_and_stay_inside_series():
    rng = np.random.default_rng(0)
    for _ in range(200):
        input_size, horizon = int(rng.integers(1, 8)), int(rng.integers(1, 6))
        lengths = rng.integers(horizon + 1, 40, size=int(rng.integers(1, 6)))
        validation_size = float(rng.choice([0.0, 0.1, 0.3, 0.5, 0.9]))
        train, valid = training_windows(lengths, input_size, horizon, validation_size)
        for s, length in enumerate(lengths):
            t_train = train.origin[train.series == s]
            t_valid = valid.origin[valid.series == s]
            assert len(t_train) > 0  # every series trains
            for origins in (t_train, t_valid):
                assert (origins + horizon <= length).all()  # targets inside the series
                assert (origins >= min(input_size, length - horizon)).all()
            if length < input_size + horizon:
                assert t_train.tolist() == [length - horizon] and len(t_valid) == 0
            if len(t_valid):
                # The last training target comes before the first validation target.
                assert t_train.max() + horizon - 1 < t_valid.min()
                assert t_valid.max() == length - horizon  # validation is the latest origins
            # No origin is lost between the two sets beyond the horizon - 1 gap.
            n_origins = length - horizon - min(input_size, length - horizon) + 1
            assert len(t_train) + len(t_valid) >= n_origins - (horizon - 1)


def test_window_index_subset_and_forecast_windows():
    index = WindowIndex(np.array([0, 0, 1]), np.array([3, 4, 2]))
    assert pairs(index.subset(np.array([True, False, True]))) == [(0, 3), (1, 2)]
    assert pairs(index.subset(np.array([2]))) == [(1, 2)]
    assert pairs(forecast_windows(np.array([6, 3]))) == [(0, 6), (1, 3)]


# ----------------------------------------------------------------------------------------
# WindowBatches
# ----------------------------------------------------------------------------------------

# Two series: a = 1..6 and b = 10, 20, 30, one after another in one array.
VALUES = np.array([1, 2, 3, 4, 5, 6, 10, 20, 30], dtype=np.float32)
OFFSETS = np.array([0, 6, 9])


def make_batches(windows, scaler="standard"):
    return WindowBatches(VALUES, OFFSETS, windows, 3, 2, scaler, CPU)


def test_batch_values_by_hand():
    # (a, 3): history 1, 2, 3, targets 4, 5.  (b, 1): history [pad, pad, 10], targets 20, 30.
    # (a, 6): the forecast window after a's end: history 4, 5, 6, no targets.
    windows = WindowIndex(np.array([0, 1, 0]), np.array([3, 1, 6]))
    batches = make_batches(windows)
    assert len(batches) == 3
    batch = batches.batch(np.array([1, 0, 2]))
    assert set(batch) == {"source", "mask", "target_in", "target", "loc", "scale"}
    assert batch["source"].shape == (3, 3, 1)
    assert batch["target_in"].shape == (3, 2, 1)
    assert batch["mask"].dtype == torch.bool
    for key in ("target", "mask"):
        assert batch[key].shape[0] == 3
    assert batch["loc"].shape == batch["scale"].shape == (3, 1)

    s = math.sqrt(2 / 3)  # population standard deviation of 1, 2, 3 (and of 4, 5, 6)
    # Row 0 = window (b, 1): one observed value 10, std 0 floored at 1% of the level: 0.1.
    assert batch["mask"][0].tolist() == [False, False, True]
    assert batch["loc"][0].item() == pytest.approx(10.0)
    assert batch["scale"][0].item() == pytest.approx(0.1)
    assert batch["source"][0, :, 0].tolist() == [0.0, 0.0, 0.0]
    assert batch["target"][0].tolist() == pytest.approx([100.0, 200.0], rel=1e-5)
    assert batch["target_in"][0, :, 0].tolist() == pytest.approx([0.0, 100.0], rel=1e-5)
    # Row 1 = window (a, 3).
    assert batch["mask"][1].tolist() == [True, True, True]
    assert batch["loc"][1].item() == pytest.approx(2.0)
    assert batch["scale"][1].item() == pytest.approx(s)
    assert batch["source"][1, :, 0].tolist() == pytest.approx([-1 / s, 0.0, 1 / s])
    assert batch["target"][1].tolist() == pytest.approx([2 / s, 3 / s])
    assert batch["target_in"][1, :, 0].tolist() == pytest.approx([1 / s, 2 / s])
    # Row 2 = window (a, 6): targets beyond the series' end are NaN.
    assert batch["loc"][2].item() == pytest.approx(5.0)
    assert batch["scale"][2].item() == pytest.approx(s)
    assert batch["source"][2, :, 0].tolist() == pytest.approx([-1 / s, 0.0, 1 / s])
    assert torch.isnan(batch["target"][2]).all()
    assert batch["target_in"][2, 0, 0].item() == pytest.approx(1 / s)


def test_batch_never_reads_across_series():
    # (b, 1)'s padded history lies where series a's values are in the shared array.
    batch = make_batches(WindowIndex(np.array([1]), np.array([1])), scaler="none").batch([0])
    assert batch["source"][0, :, 0].tolist() == [0.0, 0.0, 10.0]
    # (a, 5): the second target would be b's first value.
    batch = make_batches(WindowIndex(np.array([0]), np.array([5])), scaler="none").batch([0])
    assert batch["target"][0, 0].item() == 6.0 and math.isnan(batch["target"][0, 1].item())


def test_batch_without_scaling():
    windows = WindowIndex(np.array([0, 1]), np.array([3, 1]))
    batch = make_batches(windows, scaler="none").batch(np.array([0, 1]))
    assert batch["loc"].flatten().tolist() == [0.0, 0.0]
    assert batch["scale"].flatten().tolist() == [1.0, 1.0]
    assert batch["source"][..., 0].tolist() == [[1.0, 2.0, 3.0], [0.0, 0.0, 10.0]]
    assert batch["target"].tolist() == [[4.0, 5.0], [20.0, 30.0]]
    assert batch["target_in"][..., 0].tolist() == [[3.0, 4.0], [10.0, 20.0]]


def test_batch_scaling_inverts():
    windows = WindowIndex(np.array([0, 0, 1]), np.array([3, 4, 1]))
    batches = make_batches(windows)
    batch = batches.batch(slice(0, 3))
    unscaled = batch["target"] * batch["scale"] + batch["loc"]  # (B, H)
    torch.testing.assert_close(unscaled, torch.tensor([[4.0, 5.0], [5.0, 6.0], [20.0, 30.0]]))
    history = batch["source"][..., 0] * batch["scale"] + batch["loc"]  # (B, I)
    torch.testing.assert_close(history[batch["mask"]], torch.tensor([1.0, 2, 3, 2, 3, 4, 10]))


def test_batch_log_scaling_by_hand():
    # log(1 + x / level), level the mean absolute observed history; loc 0 and scale 1 after it
    windows = WindowIndex(np.array([0, 1]), np.array([3, 1]))
    batch = make_batches(windows, scaler="log").batch(np.array([0, 1]))
    assert batch["level"].flatten().tolist() == pytest.approx([2.0, 10.0])
    assert batch["loc"].flatten().tolist() == [0.0, 0.0]
    assert batch["scale"].flatten().tolist() == [1.0, 1.0]
    expected = np.log1p(np.array([1.0, 2.0, 3.0]) / 2)
    assert batch["source"][0, :, 0].tolist() == pytest.approx(expected.tolist(), rel=1e-6)
    assert batch["target"][1].tolist() == pytest.approx(np.log1p([2.0, 3.0]).tolist(), rel=1e-6)
    # forecasts go back by level * expm1: the targets in the data's units again
    unscaled = batch["level"] * torch.expm1(batch["target"])  # (B, H)
    torch.testing.assert_close(unscaled, torch.tensor([[4.0, 5.0], [20.0, 30.0]]))


def test_each_window_scaler_scales_differently_and_the_regressor_takes_a_subset():
    windows = WindowIndex(np.array([0]), np.array([3]))
    sources = {
        scaler: tuple(make_batches(windows, scaler=scaler).batch([0])["source"].flatten().tolist())
        for scaler in WINDOW_SCALERS
    }
    assert len(set(sources.values())) == len(WINDOW_SCALERS) == 3
    assert set(REGRESSOR_SCALERS) < set(WINDOW_SCALERS)


# ----------------------------------------------------------------------------------------
# window_scale
# ----------------------------------------------------------------------------------------


def test_window_scale_all_zero_window_has_scale_one():
    loc, scale = window_scale(torch.zeros(2, 5), torch.ones(2, 5, dtype=torch.bool), "standard")
    assert loc.tolist() == [[0.0], [0.0]]
    assert scale.tolist() == [[1.0], [1.0]]


@pytest.mark.parametrize("level", [7.0, -3.0, 1e-6, 1e6])
def test_window_scale_constant_window_has_finite_positive_scale(level):
    history = torch.full((1, 6), level)
    loc, scale = window_scale(history, torch.ones(1, 6, dtype=torch.bool), "standard")
    assert loc.item() == pytest.approx(level)
    assert math.isfinite(scale.item()) and scale.item() > 0
    assert scale.item() == pytest.approx(0.01 * abs(level), rel=1e-3)


def test_window_scale_uses_only_observed_values():
    history = torch.tensor([[123.0, -55.0, 1.0, 3.0], [0.0, 2.0, 4.0, 6.0]])
    mask = torch.tensor([[False, False, True, True], [True, True, True, True]])
    loc, scale = window_scale(history, mask, "standard")
    assert loc.flatten().tolist() == pytest.approx([2.0, 3.0])
    assert scale.flatten().tolist() == pytest.approx([1.0, math.sqrt(5.0)])


def test_window_scale_ignores_nan_at_unobserved_positions():
    # "anything at unobserved positions": a gap (NaN) that is masked out must not leak in.
    history = torch.tensor([[math.nan, 1.0, 3.0], [math.inf, 5.0, 5.0]])
    mask = torch.tensor([[False, True, True], [False, True, True]])
    loc, scale = window_scale(history, mask, "standard")
    assert loc.flatten().tolist() == pytest.approx([2.0, 5.0])
    assert scale.flatten().tolist() == pytest.approx([1.0, 0.05])


def test_window_scale_none():
    loc, scale = window_scale(torch.randn(3, 4) * 100, torch.ones(3, 4, dtype=torch.bool), "none")
    assert loc.shape == scale.shape == (3, 1)
    assert (loc == 0).all() and (scale == 1).all()
