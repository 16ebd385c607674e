"""The ``lr_schedule`` parameter: constant learning rate unless asked, and it reaches training."""

import numpy as np
import pandas as pd
import pytest
import torch

import tsattn.estimator
from tsattn import Seq2SeqForecaster, Seq2SeqRegressor, Seq2SeqTranslator

pytestmark = pytest.mark.filterwarnings("ignore:.*of the series have fewer than horizon")
TINY = {"hidden_size": 4, "max_epochs": 3, "verbose": False, "random_state": 0}


@pytest.fixture
def seen(monkeypatch):
    """The TrainingConfig of every fit, as the training loop receives it."""
    configs = []
    real = tsattn.estimator.train

    def spy(module, loss, train_data, valid_data, training, rng, **options):
        configs.append(training)
        return real(module, loss, train_data, valid_data, training, rng, **options)

    monkeypatch.setattr(tsattn.estimator, "train", spy)
    return configs


def _series():
    t = np.arange(60.0)
    return pd.Series(10 + t % 7 + 0.1 * t, index=pd.date_range("2022-01-01", periods=60, freq="D"))


def test_the_default_is_a_constant_rate_and_each_estimator_passes_its_schedule(seen):
    assert Seq2SeqForecaster().lr_schedule is None
    assert Seq2SeqRegressor().lr_schedule is None
    assert Seq2SeqTranslator().lr_schedule is None
    Seq2SeqForecaster(3, **TINY).fit(_series())
    assert seen[-1].lr_schedule is None
    Seq2SeqForecaster(3, lr_schedule="cosine", **TINY).fit(_series())
    assert seen[-1].lr_schedule == "cosine"
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(40, 6, 1)), rng.normal(size=(40, 2))
    Seq2SeqRegressor(lr_schedule="plateau", **TINY).fit(X, y)
    assert seen[-1].lr_schedule == "plateau"
    Seq2SeqTranslator(lr_schedule="cosine", **TINY).fit(["a b", "b c"] * 4, ["b a", "c b"] * 4)
    assert seen[-1].lr_schedule == "cosine"


def test_a_schedule_changes_the_training_and_none_keeps_it():
    y = _series()

    def weights(**params):
        model = Seq2SeqForecaster(3, **TINY, **params).fit(y)
        return torch.cat([p.detach().flatten() for p in model.module_.parameters()])

    constant = weights()
    np.testing.assert_array_equal(constant.numpy(), weights(lr_schedule=None).numpy())
    # epochs 2 and 3 train at a lower rate: other weights from the same start
    assert not torch.allclose(constant, weights(lr_schedule="cosine"))


def test_an_unknown_schedule_is_refused_before_training():
    with pytest.raises(ValueError, match="lr_schedule"):
        Seq2SeqForecaster(3, lr_schedule="linear", **TINY).fit(_series())
