"""Seq2SeqForecaster as a scikit-learn BaseEstimator: parameters, clone, refit after set_params."""

import inspect

import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.base import clone

from tsattn import Seq2SeqForecaster

torch.set_num_threads(1)

TINY = dict(horizon=3, input_size=6, hidden_size=8, max_epochs=2, batch_size=16, verbose=False)


@pytest.fixture(scope="module")
def series():
    t = np.arange(60)
    index = pd.date_range("2020-01-01", periods=60, freq="MS")
    return pd.Series(100 + 0.5 * t + 10 * np.sin(2 * np.pi * t / 12), index=index, name="sales")


def test_get_params_lists_every_constructor_argument():
    f = Seq2SeqForecaster(**TINY, random_state=0)
    params = f.get_params()
    assert params["hidden_size"] == 8 and params["horizon"] == 3 and params["random_state"] == 0
    assert set(params) == set(inspect.signature(Seq2SeqForecaster).parameters)


def test_set_params_returns_self_and_rejects_unknown_names():
    f = Seq2SeqForecaster(**TINY)
    assert f.set_params(hidden_size=4, attention="luong") is f
    assert f.hidden_size == 4 and f.attention == "luong"
    with pytest.raises(ValueError, match="hiden_size"):
        f.set_params(hiden_size=4)


def test_clone_is_unfitted_with_equal_params(series):
    f = Seq2SeqForecaster(**TINY, random_state=0).fit(series)
    copy = clone(f)
    assert copy.get_params() == f.get_params()
    assert not hasattr(copy, "module_") and not hasattr(copy, "history_")
    np.testing.assert_array_equal(copy.fit(series).predict(), f.predict())


def test_set_params_then_fit_builds_a_new_model(series):
    f = Seq2SeqForecaster(**TINY, random_state=0).fit(series)
    first = f.module_
    assert first.config.hidden_size == 8 and first.config.attention == "bahdanau"
    f.set_params(hidden_size=5, attention="none", cell="gru").fit(series)
    assert f.module_ is not first
    assert f.module_.config.hidden_size == 5
    assert f.module_.config.attention == "none" and f.module_.config.cell == "gru"
    assert f.module_.decoder.rnn.hidden_size == 5
    assert isinstance(f.module_.decoder.rnn, torch.nn.GRU)
    assert f.predict().shape == (3,)
    # and back: the same parameters and seed give the first model's forecasts again
    again = f.set_params(hidden_size=8, attention="bahdanau", cell="lstm").fit(series).predict()
    expected = Seq2SeqForecaster(**TINY, random_state=0).fit(series).predict()
    np.testing.assert_array_equal(again, expected)


def test_fit_leaves_params_untouched(series):
    f = Seq2SeqForecaster(**{**TINY, "input_size": None}, random_state=0)
    before = f.get_params()
    f.fit(series)
    assert f.get_params() == before
    # A season (12) is longer than max(2 * horizon, 8) and the series holds two plus h.
    assert f.input_size is None and f.input_size_ == 12
