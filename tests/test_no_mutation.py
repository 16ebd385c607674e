"""No public call modifies the user's arrays, Series, DataFrames or lists, or keeps a view of them."""

import copy

import numpy as np
import pandas as pd
import pytest
from conftest import tiny

import tsattn
from tsattn import Seq2SeqForecaster, Seq2SeqRegressor, Seq2SeqTranslator, make_windows


def _same(a, b):
    if isinstance(a, np.ndarray):
        assert a.dtype == b.dtype and a.flags.writeable == b.flags.writeable
        np.testing.assert_array_equal(a, b)
    elif isinstance(a, pd.Series):
        pd.testing.assert_series_equal(a, b)
    elif isinstance(a, pd.DataFrame):
        pd.testing.assert_frame_equal(a, b)
    else:
        assert a == b


def _inputs():
    """y in every accepted format, with the awkward parts: leading NaN, unsorted rows, float32."""
    t = np.arange(40)
    values = 20 + np.sin(t / 2) + 0.1 * t
    index = pd.date_range("2019-01-01", periods=40, freq="MS")
    wide = pd.DataFrame({"a": values, "b": 2 * values}, index=index)
    wide.iloc[:6, 1] = np.nan  # b starts later
    long = pd.DataFrame(
        {
            "unique_id": np.repeat(["x", "y"], 40),
            "ds": np.tile(index, 2),
            "y": np.r_[values, 3 * values],
        }
    ).sample(frac=1.0, random_state=0)
    return {
        "series": pd.Series(values, index=index, name="sales"),
        "wide": wide,
        "long": long,
        "array 1-D float32": values.astype(np.float32),
        "array 2-D": np.c_[values, values[::-1]],
    }


@pytest.mark.parametrize("kind", sorted(_inputs()))
def test_fit_predict_save_load_leave_y_as_it_was(kind, tmp_path):
    y = _inputs()[kind]
    before = copy.deepcopy(y)
    f = Seq2SeqForecaster(**tiny(max_epochs=1)).fit(y)
    first = f.predict()
    path = tmp_path / "m.tsattn"
    f.save(path)
    g = tsattn.load(path)
    _same(y, before)

    # The model keeps no view of y: changing y now changes no forecast.
    if isinstance(y, pd.DataFrame) and "y" in y:
        y["y"] = 0.0
    elif isinstance(y, (pd.Series, pd.DataFrame)):
        y.iloc[:] = 0.0
    else:
        y[:] = 0
    # And no view of its own output: changing a forecast changes no later forecast.
    expected = copy.deepcopy(first)
    if isinstance(first, pd.DataFrame) and "y" in first:
        first["y"] = 0.0
    elif isinstance(first, (pd.Series, pd.DataFrame)):
        first.iloc[:] = 0.0
    else:
        first[:] = 0
    _same(f.predict(), expected)
    _same(g.predict(), expected)


def test_save_changes_neither_the_estimator_nor_its_parameters(tmp_path):
    y = _inputs()["series"]
    f = Seq2SeqForecaster(**tiny(max_epochs=1))
    f.fit(y)
    params = copy.deepcopy(f.get_params())
    weights = {k: v.clone() for k, v in f.module_.state_dict().items()}
    forecast = f.predict()
    f.save(tmp_path / "m.tsattn")
    assert f.get_params() == params
    for name, tensor in f.module_.state_dict().items():
        assert tensor.equal(weights[name])
    pd.testing.assert_series_equal(f.predict(), forecast)


def test_regressor_leaves_X_and_y_as_they_were(tmp_path):
    X, Y = make_windows(np.sin(np.arange(60) / 4), input_size=6, horizon=2)
    X = X.astype(np.float32)  # the dtype it trains in: the easiest to hand over without a copy
    before = (X.copy(), Y.copy())
    params = {k: v for k, v in tiny(max_epochs=1).items() if k not in ("horizon", "input_size")}
    r = Seq2SeqRegressor(**params).fit(X, Y)
    prediction = r.predict(X)
    r.score(X, Y)
    r.save(tmp_path / "r.tsattn")
    tsattn.load(tmp_path / "r.tsattn").predict(X)
    np.testing.assert_array_equal(X, before[0])
    np.testing.assert_array_equal(Y, before[1])
    X[:] = 0
    np.testing.assert_array_equal(r.predict(before[0]), prediction)


def test_translator_leaves_its_lists_as_they_were(tmp_path):
    sources = [["a", "b", "c"], ["b", "c", "d"], ["c", "d", "e"], ["d", "e", "a"]] * 3
    targets = [list(reversed(s)) for s in sources]
    before = copy.deepcopy((sources, targets))
    t = Seq2SeqTranslator(hidden_size=8, max_epochs=1, random_state=0, verbose=False)
    t.fit(sources, targets)
    t.predict(sources)
    t.attention_weights(sources[0])
    t.save(tmp_path / "t.tsattn")
    tsattn.load(tmp_path / "t.tsattn").predict(sources)
    assert (sources, targets) == before
