"""Every bad input is answered before training with an error that names the problem and the fix."""

import numpy as np
import pandas as pd
import pytest
from conftest import tiny

from tsattn import Seq2SeqForecaster

INDEX = pd.date_range("2020-01-01", periods=30, freq="D")
GOOD = pd.Series(np.arange(30.0), index=INDEX)


def _long(**changes):
    frame = pd.DataFrame(
        {"unique_id": ["a"] * 30, "ds": INDEX, "y": np.arange(30.0)},
    )
    for column, value in changes.items():
        frame[column] = value
    return frame


BAD_Y = {
    "nan": (pd.Series([1.0, np.nan] + [1.0] * 28, index=INDEX), ValueError, "NaN"),
    "inf": (pd.Series([1.0, np.inf] + [1.0] * 28, index=INDEX), ValueError, "inf"),
    "empty series": (pd.Series([], dtype=float), ValueError, "empty"),
    "empty array": (np.array([]), ValueError, "empty"),
    "empty frame": (pd.DataFrame(), ValueError, "empty"),
    "strings": (pd.Series(["a"] * 30, index=INDEX), TypeError, "numeric"),
    "string column in wide": (
        pd.DataFrame({"a": np.arange(30.0), "b": ["x"] * 30}, index=INDEX),
        TypeError,
        "'b' is not numeric",
    ),
    "duplicate timestamps": (
        pd.Series(np.arange(30.0), index=INDEX[:15].append(INDEX[:15])),
        ValueError,
        "duplicate timestamps",
    ),
    "duplicate long rows": (
        pd.concat([_long(), _long()]),
        ValueError,
        "duplicate timestamps for series 'a'",
    ),
    "long without y": (_long().drop(columns="y"), ValueError, "lacks column"),
    "long without unique_id": (_long().drop(columns="unique_id"), ValueError, "unique_id"),
    "long with a gap": (_long().drop(index=10), ValueError, "gaps"),
    "long with string ds": (_long(ds=[f"day {i}" for i in range(30)]), TypeError, "pd.to_datetime"),
    "unsorted index": (GOOD.iloc[::-1], ValueError, "sort"),
    "irregular index": (
        pd.Series(
            np.arange(5.0),
            index=pd.to_datetime(
                ["2020-01-01", "2020-01-02", "2020-01-05", "2020-01-09", "2020-01-10"]
            ),
        ),
        ValueError,
        "frequency",
    ),
    "string index": (
        pd.Series(np.arange(30.0), index=[f"t{i}" for i in range(30)]),
        TypeError,
        "index",
    ),
    "3-D array": (np.zeros((4, 4, 4)), ValueError, "1-D"),
    "list": ([1.0, 2.0, 3.0], TypeError, "np.asarray"),
    "dict": ({"a": 1}, TypeError, "Series"),
    "too short": (pd.Series(np.arange(3.0), index=INDEX[:3]), ValueError, "too short"),
    "wide column ends with NaN": (
        pd.DataFrame({"a": np.arange(30.0), "b": [1.0] * 29 + [np.nan]}, index=INDEX),
        ValueError,
        "long DataFrame",
    ),
    "all-NaN column": (
        pd.DataFrame({"a": np.arange(30.0), "b": np.nan}, index=INDEX),
        ValueError,
        "no observed values",
    ),
    "boolean values": (pd.Series([True, False] * 15, index=INDEX), TypeError, "numeric"),
}


@pytest.mark.parametrize("case", sorted(BAD_Y))
def test_bad_y(case):
    y, error, words = BAD_Y[case]
    with pytest.raises(error, match=words):
        Seq2SeqForecaster(**tiny()).fit(y)


BAD_PARAMS = {
    "attention": (
        "bahdanu",
        ValueError,
        r"attention must be one of \['bahdanau', 'luong', 'none'\]",
    ),
    "cell": ("rnn", ValueError, "cell must be one of"),
    "scaler": ("minmax", ValueError, "scaler must be one of"),
    "loss": ("rmse", ValueError, "loss must be one of"),
    "missing": ("drop", ValueError, "missing must be one of"),
    "device": ("tpu", ValueError, "device must be one of"),
    "horizon": (0, ValueError, "horizon must be an integer >= 1"),
    "input_size": (-3, ValueError, "input_size must be an integer >= 1"),
    "hidden_size": (2.5, TypeError, "hidden_size must be an integer"),
    "num_layers": (0, ValueError, "num_layers"),
    "batch_size": (0, ValueError, "batch_size"),
    "max_epochs": (0, ValueError, "max_epochs"),
    "dropout": (1.5, ValueError, "dropout must be in"),
    "learning_rate": (0.0, ValueError, "learning_rate must be in"),
    "validation_size": (1.0, ValueError, "validation_size must be in"),
    "bidirectional": ("yes", TypeError, "bidirectional must be True or False"),
    "early_stopping_patience": (0, ValueError, "early_stopping_patience"),
}


@pytest.mark.parametrize("name", sorted(BAD_PARAMS))
def test_bad_parameter(name):
    value, error, words = BAD_PARAMS[name]
    with pytest.raises(error, match=words):
        Seq2SeqForecaster(**tiny(**{name: value})).fit(GOOD)


def test_misspelled_option_gets_a_suggestion():
    with pytest.raises(ValueError, match="did you mean 'bahdanau'"):
        Seq2SeqForecaster(**tiny(attention="Bahdanau")).fit(GOOD)


def test_cuda_asked_for_without_a_gpu(monkeypatch):
    import torch

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.raises(ValueError, match="no CUDA GPU"):
        Seq2SeqForecaster(**tiny(device="cuda")).fit(GOOD)


@pytest.mark.parametrize(
    "params",
    [{"quantiles": (0.1, 0.9)}, {"past_covariates": ("price",)}, {"missing": "mask"}],
)
def test_later_features_say_so(params):
    with pytest.raises(NotImplementedError, match="not available yet"):
        Seq2SeqForecaster(**tiny(**params)).fit(GOOD)


def test_errors_come_before_training(monkeypatch):
    import tsattn.forecast.forecaster as forecaster

    def fail(*args, **kwargs):
        raise AssertionError("training started")

    monkeypatch.setattr(forecaster, "train", fail)
    with pytest.raises(ValueError):
        Seq2SeqForecaster(**tiny()).fit(pd.Series([1.0, np.nan] * 15, index=INDEX))
