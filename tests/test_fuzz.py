"""Property-based fuzzing of fit/predict over arrays, Series, long and wide DataFrames.

The property: every call ends either in a forecast of the promised shape with finite values, or
in a ValueError/TypeError; never another exception, never NaN or inf, and the input is left as
it was. CI runs a fixed set of examples per test (derandomised, so a run is repeatable); set
``TSATTN_FUZZ_EXAMPLES=500`` to search longer, with fresh random examples each time.
"""

import copy
import os

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from tsattn import Seq2SeqForecaster, Seq2SeqRegressor
from tsattn.forecast.windows.scaling import WINDOW_SCALERS

pytestmark = pytest.mark.filterwarnings(
    # tsattn's short-history warning: these tests fit deliberately tiny series
    "ignore:.*of the series have fewer than horizon:UserWarning"
)

_REQUESTED = os.environ.get("TSATTN_FUZZ_EXAMPLES")
EXAMPLES = int(_REQUESTED) if _REQUESTED else 30
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,  # a fit's time varies with the machine's load
    derandomize=_REQUESTED is None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

# Values that have broken numeric code: non-finite, beyond float32, tiny, huge but allowed.
SPECIAL = [np.nan, np.inf, -np.inf, 0.0, 1e30, -1e30, 1e-30, 1e-42, 1e35, -3e38, 1e300]
SCALES = [1.0, 1.0, 1e-30, 1e-6, 1e6, 1e20, 1e29]


@st.composite
def values(draw, n):
    """n float64 values: a shape (smooth, noise, constant, zeros, intermittent) at some scale,
    sometimes with special values injected."""
    shape = draw(st.sampled_from(["smooth", "noise", "constant", "zeros", "intermittent"]))
    noise = draw(hnp.arrays(np.float64, n, elements=st.floats(-1, 1, width=32)))
    t = np.arange(n)
    base = {
        "smooth": 2 + np.sin(t / 3) + 0.1 * noise,
        "noise": noise,
        "constant": np.full(n, draw(st.floats(-5, 5))),
        "zeros": np.zeros(n),
        "intermittent": np.where(noise > 0.6, 10 * noise, 0.0),
    }[shape]
    out = base * draw(st.sampled_from(SCALES))
    if n and draw(st.integers(0, 4)) == 0:
        for _ in range(draw(st.integers(1, 2))):
            out[draw(st.integers(0, n - 1))] = draw(st.sampled_from(SPECIAL))
    return out


@st.composite
def model_params(draw):
    return {
        "horizon": draw(st.integers(1, 4)),
        "input_size": draw(st.one_of(st.none(), st.integers(1, 10))),
        "cell": draw(st.sampled_from(["lstm", "gru"])),
        "attention": draw(st.sampled_from(["bahdanau", "luong", "none"])),
        "scaler": draw(st.sampled_from(("auto", *WINDOW_SCALERS))),
        "missing": draw(st.sampled_from(["error", "mask"])),
        "hidden_size": 4,
        "max_epochs": 1,
        "batch_size": 16,
        "random_state": 0,
        "verbose": False,
    }


def _same(a, b):
    if isinstance(a, np.ndarray) and a.dtype == object:  # NaN != NaN inside object arrays
        assert a.shape == b.shape and list(map(repr, a.flat)) == list(map(repr, b.flat))
    elif isinstance(a, np.ndarray):
        assert a.dtype == b.dtype
        np.testing.assert_array_equal(a, b)
    elif isinstance(a, pd.Series):
        pd.testing.assert_series_equal(a, b)
    else:
        pd.testing.assert_frame_equal(a, b)


def _fit_and_predict(y, params):
    """Fit and predict; None when fit refused the input with a ValueError or TypeError."""
    before = copy.deepcopy(y)
    try:
        f = Seq2SeqForecaster(**params).fit(y)
    except (ValueError, TypeError) as error:
        event(f"refused: {type(error).__name__} {str(error)[:50]}")  # --hypothesis-show-statistics
        _same(y, before)
        return None
    event("forecast")
    forecast = f.predict()
    _same(y, before)
    return f, forecast


def _assert_finite(values):
    values = np.asarray(values, dtype=np.float64)
    assert np.isfinite(values).all(), values


# --------------------------------------------------------------------------------------------
# numpy arrays: random shapes and dtypes


@st.composite
def arrays(draw):
    ndim = draw(st.sampled_from([1, 1, 2, 2, 0, 3]))
    shape = tuple(
        draw(st.integers(0, 40)) if axis == 0 else draw(st.integers(0, 4)) for axis in range(ndim)
    )
    size = int(np.prod(shape))
    flat = draw(values(size))
    dtype = draw(
        st.sampled_from(
            ["float64", "float64", "float32", "float16", "int64", "int8", "uint8"]
            + ["bool", "complex128", "object"]
        )
    )
    with np.errstate(all="ignore"):
        if dtype.startswith(("int", "uint")):
            flat = np.nan_to_num(flat, nan=0, posinf=0, neginf=0).clip(-100, 100).round()
            flat = np.abs(flat) if dtype.startswith("uint") else flat
        array = (flat > 0) if dtype == "bool" else flat.astype(dtype)
    return array.reshape(shape)


def _params(**changes):
    params = dict(horizon=2, input_size=6, hidden_size=4, max_epochs=1, batch_size=16)
    return {**params, "random_state": 0, "verbose": False, **changes}


# Inputs fuzzing once broke, kept as fixed examples:
# values near 1e20 squared to inf in the window variance (forecasts of inf);
@example(y=2e20 + 1e20 * np.sin(np.arange(30.0)), params=_params(scaler="standard"))
# a flat history near zero followed by a jump scaled to 1e38 (NaN loss).
@example(y=np.r_[np.full(12, 1e-30), np.full(4, 2e6)], params=_params(scaler="standard"))
@FUZZ
@given(y=arrays(), params=model_params())
def test_numpy_arrays(y, params):
    result = _fit_and_predict(y, params)
    if result is None:
        return
    _, forecast = result
    expected = (params["horizon"],) if y.ndim == 1 else (params["horizon"], y.shape[1])
    assert isinstance(forecast, np.ndarray) and forecast.shape == expected
    _assert_finite(forecast)


# --------------------------------------------------------------------------------------------
# Series with every kind of index


def _index(kind, n, draw):
    start = pd.Timestamp("2020-01-01") + pd.Timedelta(days=draw(st.integers(0, 400)))
    regular = {
        "daily": lambda: pd.date_range(start, periods=n, freq="D"),
        "month start": lambda: pd.date_range(start, periods=n, freq="MS"),
        "hourly": lambda: pd.date_range(start, periods=n, freq="h"),
        "utc": lambda: pd.date_range(start, periods=n, freq="D", tz="UTC"),
        "no freq set": lambda: pd.DatetimeIndex(list(pd.date_range(start, periods=n, freq="W"))),
        "period": lambda: pd.period_range("2001-01", periods=n, freq="M"),
        "range": lambda: pd.RangeIndex(n),
        "integer step": lambda: pd.Index(7 + 3 * np.arange(n)),
    }
    broken = {
        "strings": lambda: pd.Index([f"t{i}" for i in range(n)]),
        "floats": lambda: pd.Index(np.arange(n) / 2),
        "shuffled": lambda: pd.date_range(start, periods=n, freq="D")[
            np.random.default_rng(n).permutation(n)
        ],
        "duplicated": lambda: pd.DatetimeIndex([start] * n),
        "random dates": lambda: pd.DatetimeIndex(
            sorted(
                start + pd.Timedelta(days=d)
                for d in draw(st.lists(st.integers(0, 99), min_size=n, max_size=n))
            )
        ),
    }
    return {**regular, **broken}[kind]()


INDEX_KINDS = [
    "daily",
    "month start",
    "hourly",
    "utc",
    "no freq set",
    "period",
    "range",
    "integer step",
    "strings",
    "floats",
    "shuffled",
    "duplicated",
    "random dates",
]


@st.composite
def series(draw):
    n = draw(st.one_of(st.integers(0, 5), st.integers(6, 40), st.integers(6, 40)))
    # Regular indexes twice as often as broken ones, so that most examples reach a forecast.
    index = _index(draw(st.sampled_from(INDEX_KINDS[:8] * 2 + INDEX_KINDS[8:])), n, draw)
    name = draw(st.sampled_from([None, "sales", 3]))
    return pd.Series(draw(values(n)), index=index, name=name)


@FUZZ
@given(y=series(), params=model_params())
def test_series(y, params):
    result = _fit_and_predict(y, params)
    if result is None:
        return
    _, forecast = result
    assert isinstance(forecast, pd.Series) and len(forecast) == params["horizon"]
    assert forecast.name == y.name
    assert type(forecast.index) is type(y.index) or isinstance(y.index, pd.RangeIndex)
    assert (forecast.index > y.index[-1]).all()  # the steps after the series' end
    _assert_finite(forecast)


# --------------------------------------------------------------------------------------------
# Long frames: random ids, lengths, starts, and broken rows


@st.composite
def long_frames(draw):
    integer_time = draw(st.booleans())
    frames = []
    for k in range(draw(st.integers(1, 4))):
        n = draw(st.integers(0, 30))
        start = draw(st.integers(0, 20))
        ds = (
            100 + start + np.arange(n)
            if integer_time
            else pd.date_range("2021-01-01", periods=n + start, freq="D")[start:]
        )
        sid = draw(st.sampled_from([f"s{k}", k, f"product {k}"]))
        frames.append(pd.DataFrame({"unique_id": [sid] * n, "ds": ds, "y": draw(values(n))}))
    frame = pd.concat(frames, ignore_index=True)
    if len(frame) and draw(st.booleans()):
        frame = frame.sample(frac=1.0, random_state=draw(st.integers(0, 9)))  # unsorted rows
    damage = draw(st.sampled_from(["none", "none", "none", "drop row", "repeat row", "no id"]))
    if len(frame) > 2 and damage != "none":
        row = draw(st.integers(1, len(frame) - 2))
        if damage == "drop row":
            frame = frame.drop(index=frame.index[row])
        elif damage == "repeat row":
            frame = pd.concat([frame, frame.iloc[[row]]])
        else:
            frame = frame.astype({"unique_id": object})
            frame.iloc[row, 0] = None
    return frame


@FUZZ
@given(y=long_frames(), params=model_params())
def test_long_frames(y, params):
    result = _fit_and_predict(y, params)
    if result is None:
        return
    _, forecast = result
    ids = list(pd.unique(y["unique_id"]))
    assert list(forecast.columns) == ["unique_id", "ds", "y"]
    assert len(forecast) == len(ids) * params["horizon"]
    assert set(forecast["unique_id"]) == set(ids)
    last = y.groupby("unique_id")["ds"].max()
    first_forecast = forecast.groupby("unique_id")["ds"].min()
    assert (first_forecast > last.loc[first_forecast.index]).all()
    _assert_finite(forecast["y"])


# --------------------------------------------------------------------------------------------
# Wide frames: series that start later (leading NaN), and some that are broken


@st.composite
def wide_frames(draw):
    n_rows, n_cols = draw(st.integers(1, 40)), draw(st.integers(1, 4))
    columns = {}
    for j in range(n_cols):
        column = draw(values(n_rows))
        column[: draw(st.integers(0, n_rows // 2))] = np.nan  # starts later
        columns[draw(st.sampled_from([f"c{j}", j]))] = column
    damage = draw(st.sampled_from(["none"] * 8 + ["ends early", "never starts"]))
    if damage == "ends early":  # not allowed in a wide frame: series must reach the last row
        column[-1] = np.nan
    elif damage == "never starts":
        column[:] = np.nan
    index = draw(
        st.sampled_from(
            [pd.RangeIndex(n_rows), pd.date_range("2020-01-01", periods=n_rows, freq="MS")]
        )
    )
    return pd.DataFrame(columns, index=index)


@FUZZ
@given(y=wide_frames(), params=model_params())
def test_wide_frames(y, params):
    result = _fit_and_predict(y, params)
    if result is None:
        return
    _, forecast = result
    assert isinstance(forecast, pd.DataFrame)
    assert forecast.shape == (params["horizon"], y.shape[1])
    assert list(forecast.columns) == list(y.columns)
    _assert_finite(forecast.to_numpy())


# --------------------------------------------------------------------------------------------
# Seq2SeqRegressor on arrays of windows


@st.composite
def windows(draw):
    n, steps = draw(st.integers(0, 30)), draw(st.integers(1, 8))
    features = draw(st.sampled_from([None, 1, 2]))
    shape = (n, steps) if features is None else (n, steps, features)
    X = draw(values(int(np.prod(shape)))).reshape(shape)
    horizon = draw(st.sampled_from([None, 1, 3]))
    Y = draw(values(n * (horizon or 1)))
    Y = Y if horizon is None else Y.reshape(n, horizon)
    with np.errstate(over="ignore"):  # 1e300 in float32 is inf: fit must refuse it
        X = X.astype(draw(st.sampled_from(["float64", "float32", "object"])))
    return X, Y


# A constant covariate whose float64 deviation (3e-154) is 0 in float32 (NaN loss).
@example(data=(np.full((1, 3, 2), 1.9983351826978672e-138), np.array([2.0])), attention="none")
@FUZZ
@given(data=windows(), attention=st.sampled_from(["bahdanau", "luong", "none"]))
def test_regressor_arrays(data, attention):
    X, Y = data
    before = (X.copy(), Y.copy())
    params = dict(hidden_size=4, max_epochs=1, batch_size=16, random_state=0, verbose=False)
    try:
        r = Seq2SeqRegressor(attention=attention, **params).fit(X, Y)
    except (ValueError, TypeError) as error:
        event(f"refused: {type(error).__name__}")
        return
    event("prediction")
    prediction = r.predict(X)
    assert prediction.shape == Y.shape
    _assert_finite(prediction)
    np.testing.assert_array_equal(X, before[0])
    np.testing.assert_array_equal(Y, before[1])
