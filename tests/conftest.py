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
