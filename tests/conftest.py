import os

import numpy as np
import pandas as pd
import pytest
import torch

# Two cores shared with other work: one intra-op thread avoids OpenMP busy-wait slowdowns.
torch.set_num_threads(int(os.environ.get("TSATTN_TEST_THREADS", "1")))


@pytest.fixture
def monthly_series():
    """A seasonal monthly series with trend, 72 points."""
    t = np.arange(72)
    values = 100 + 0.5 * t + 10 * np.sin(2 * np.pi * t / 12)
    index = pd.date_range("2015-01-01", periods=72, freq="MS")
    return pd.Series(values, index=index, name="sales")


@pytest.fixture
def theta_batch():
    """Four windows (input 6, horizon 3) of one sine series, with its Theta baseline."""
    from tsattn.forecast.statistics.theta import theta_states
    from tsattn.forecast.windows.batches import WindowBatches, WindowIndex

    values = (10 + np.sin(np.arange(40.0))).astype(np.float32)
    offsets = np.array([0, 40])
    batches = WindowBatches(
        values, offsets, WindowIndex(np.zeros(4, np.int64), np.arange(10, 14)), 6, 3, "standard",
        torch.device("cpu"), baseline=theta_states(values, offsets),
    )  # fmt: skip
    return batches.batch(np.arange(4))


def tiny(**overrides):
    """Keyword arguments of a tiny, fast, seeded forecaster."""
    params = dict(
        horizon=3,
        input_size=6,
        hidden_size=8,
        max_epochs=2,
        batch_size=16,
        random_state=0,
        verbose=False,
    )
    params.update(overrides)
    return params
