"""The window rule for long histories: a training span that does not grow with them."""

import numpy as np

from tsattn.forecast.windows import batches
from tsattn.forecast.windows.batches import training_windows


def _per_series(windows, n_series):
    return [windows.origin[windows.series == s] for s in range(n_series)]


def test_a_long_series_keeps_its_validation_share_and_trains_on_its_recent_windows():
    input_size, horizon = 96, 48
    train, valid = training_windows(np.array([40_000]), input_size, horizon, 0.1)
    assert len(valid) == np.ceil(0.1 * (40_000 - horizon - input_size + 1))
    assert valid.origin.max() == 40_000 - horizon
    # Training ends horizon - 1 origins before the first validation target, and reaches back
    # TRAIN_SPANS windows of input + horizon values.
    assert train.origin.max() + horizon - 1 < valid.origin.min()
    assert len(train) == batches.TRAIN_SPANS * (input_size + horizon)
    assert np.array_equal(np.diff(train.origin), np.ones(len(train) - 1))


def test_short_histories_keep_every_window():
    # Series of up to 288 values (the smallest bound, input 8 + horizon 1) train on every
    # origin before their validation share, as without the bound.
    rng = np.random.default_rng(0)
    for _ in range(100):
        horizon = int(rng.integers(1, 25))
        input_size = max(2 * horizon, 8)
        lengths = rng.integers(horizon + 1, 289, size=int(rng.integers(1, 20)))
        train, valid = training_windows(lengths, input_size, horizon, 0.1)
        first = np.minimum(input_size, lengths - horizon)
        n_origins = lengths - horizon - first + 1
        n_valid = np.ceil(0.1 * n_origins).astype(int)
        for s, (t_train, t_valid) in enumerate(
            zip(_per_series(train, len(lengths)), _per_series(valid, len(lengths)), strict=True)
        ):
            assert t_train.min() == first[s]  # nothing old dropped
            if len(t_valid):
                assert len(t_valid) == n_valid[s]


def test_zero_validation_size_still_bounds_training_span():
    train, valid = training_windows(np.array([100_000, 50]), 10, 5, 0.0)
    assert len(valid) == 0
    origins = _per_series(train, 2)
    assert len(origins[0]) == batches.TRAIN_SPANS * 15 and origins[0].max() == 100_000 - 5
    assert origins[1].tolist() == list(range(10, 46))
