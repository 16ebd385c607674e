"""Every bad input is answered before training with an error that names the problem and the fix.

Each case states the exception type and words of its message. The fit cases run with the
training loop replaced by one that fails, so they also show that the error comes first.
"""

import numpy as np
import pandas as pd
import pytest
import torch
from conftest import tiny
from sklearn.exceptions import NotFittedError

import tsattn.estimator
from tsattn import Seq2SeqForecaster, Seq2SeqRegressor, Seq2SeqTranslator, make_windows

INDEX = pd.date_range("2020-01-01", periods=30, freq="D")
GOOD = pd.Series(np.arange(30.0), index=INDEX)


@pytest.fixture
def no_training(monkeypatch):
    """Any training would fail the test: errors must come before it."""

    def fail(*args, **kwargs):
        raise AssertionError("training started before the bad input was caught")

    monkeypatch.setattr(tsattn.estimator, "train", fail)


def _long(**changes):
    frame = pd.DataFrame(
        {"unique_id": ["a"] * 30 + ["b"] * 30, "ds": list(INDEX) * 2, "y": np.arange(60.0)},
    )
    for column, value in changes.items():
        frame[column] = value
    return frame


def _long_with(row, column, value):
    frame = _long()
    if column == "ds":
        frame["ds"] = frame["ds"].astype(object)
    frame.loc[row, column] = value
    return frame


def _wide(b):
    return pd.DataFrame({"a": np.arange(30.0), "b": b}, index=INDEX)


BAD_Y = {
    # values
    "nan": (pd.Series([1.0, np.nan] + [1.0] * 28, index=INDEX), ValueError, "NaN .*interpolate"),
    "inf": (pd.Series([1.0, np.inf] + [1.0] * 28, index=INDEX), ValueError, "inf .*position 1"),
    "beyond float32 range": (GOOD * 1e35, ValueError, r"beyond the \+-1e\+30 .*rescale"),
    "strings": (pd.Series(["a"] * 30, index=INDEX), TypeError, "pd.to_numeric"),
    "numeric strings": (pd.Series(["1", 2.0] * 15, index=INDEX), TypeError, "holds strings"),
    "boolean values": (pd.Series([True, False] * 15, index=INDEX), TypeError, "numeric"),
    "complex values": (np.ones(30) + 1j, TypeError, "real numbers.*np.real"),
    "datetimes as values": (np.array(INDEX), TypeError, "must be numeric, got dtype datetime64"),
    # empty
    "empty series": (pd.Series([], dtype=float), ValueError, "empty"),
    "empty array": (np.array([]), ValueError, "empty"),
    "array without columns": (np.ones((30, 0)), ValueError, r"empty \(shape \(30, 0\)\)"),
    "empty frame": (pd.DataFrame(), ValueError, "empty"),
    "empty long frame": (_long().iloc[:0], ValueError, "empty"),
    # types and shapes
    "list": ([1.0, 2.0, 3.0], TypeError, "np.asarray"),
    "dict": ({"a": 1}, TypeError, "Series"),
    "torch tensor": (torch.ones(30), TypeError, "numpy array, got Tensor"),
    "0-D array": (np.array(5.0), ValueError, "1-D .*got 0-D"),
    "3-D array": (np.zeros((4, 4, 4)), ValueError, "1-D"),
    # timestamps
    "duplicate timestamps": (
        pd.Series(np.arange(30.0), index=INDEX[:15].append(INDEX[:15])),
        ValueError,
        "duplicate timestamps.*groupby",
    ),
    "unsorted index": (GOOD.iloc[::-1], ValueError, "sort"),
    "unsorted wide index": (_wide(np.arange(30.0)).iloc[::-1], ValueError, "sort_index"),
    "irregular index": (
        pd.Series(
            np.arange(5.0),
            index=pd.to_datetime(
                ["2020-01-01", "2020-01-02", "2020-01-05", "2020-01-09", "2020-01-10"]
            ),
        ),
        ValueError,
        "cannot infer the frequency.*asfreq",
    ),
    "period index with a gap": (
        pd.Series(
            np.arange(4.0),
            index=pd.PeriodIndex(["2020-01", "2020-02", "2020-04", "2020-05"], freq="M"),
        ),
        ValueError,
        "gaps .*reindex",
    ),
    "integer index with uneven steps": (
        pd.Series(np.arange(5.0), index=[0, 1, 2, 4, 5]),
        ValueError,
        "uneven steps",
    ),
    "unsorted integer index": (
        pd.Series(np.arange(5.0), index=[0, 2, 1, 3, 4]),
        ValueError,
        "unsorted or duplicate integer index",
    ),
    "string index": (
        pd.Series(np.arange(30.0), index=[f"t{i}" for i in range(30)]),
        TypeError,
        "indexed by time",
    ),
    "float index": (pd.Series(np.arange(30.0), index=np.arange(30.0)), TypeError, "float64"),
    "multi-index": (
        pd.Series(np.arange(30.0), index=pd.MultiIndex.from_arrays([["a"] * 30, INDEX])),
        TypeError,
        "MultiIndex",
    ),
    # wide frames
    "string column in wide": (_wide(["x"] * 30), TypeError, "'b' is not numeric"),
    "boolean column in wide": (_wide([True] * 30), TypeError, "'b' is not numeric .*bool"),
    "duplicate wide columns": (
        pd.DataFrame(np.ones((30, 2)), index=INDEX, columns=["a", "a"]),
        ValueError,
        "duplicate column names",
    ),
    "wide column ends with NaN": (_wide([1.0] * 29 + [np.nan]), ValueError, "'b' ends with NaN"),
    "all-NaN column": (_wide(np.nan), ValueError, "'b' has no observed values"),
    "inf in a wide column": (_wide([np.inf] + [1.0] * 29), ValueError, "series 'b' contains inf"),
    "NaN inside a 2-D array": (
        np.r_[np.ones(10), np.nan, np.ones(19)][:, None].repeat(2, axis=1),
        ValueError,
        "series 0 contains NaN .*position 10",
    ),
    # long frames
    "duplicate long rows": (
        pd.concat([_long(), _long()]),
        ValueError,
        "duplicate timestamps for series 'a'",
    ),
    "long without y": (_long().drop(columns="y"), ValueError, r"lacks column\(s\) \['y'\]"),
    "long without unique_id": (_long().drop(columns="unique_id"), ValueError, "unique_id"),
    "long with a gap": (_long().drop(index=40), ValueError, "series 'b' has gaps"),
    "long with string ds": (
        _long(ds=[f"day {i}" for i in range(60)]),
        TypeError,
        "pd.to_datetime",
    ),
    "long with float ds": (_long(ds=np.arange(60.0)), TypeError, "datetimes or integers"),
    "long with a missing id": (_long_with(3, "unique_id", None), ValueError, "missing ids"),
    "long with a missing timestamp": (_long_with(3, "ds", None), ValueError, "missing timestamps"),
    "NaN in a long series": (_long_with(40, "y", np.nan), ValueError, "series 'b' contains NaN"),
    "inf in a long series": (_long_with(40, "y", -np.inf), ValueError, "series 'b' contains inf"),
    "huge value in a long series": (
        _long_with(40, "y", 1e31),
        ValueError,
        "series 'b' has a value of 1e\\+31 at position 10",
    ),
    # lengths
    "too short": (
        pd.Series(np.arange(3.0), index=INDEX[:3]),
        ValueError,
        "too short .*more than horizon=3 .*lower the horizon",
    ),
    "one wide series too short": (
        _wide([np.nan] * 28 + [1.0, 2.0]),
        ValueError,
        "series 'b' has 2 values, too short",
    ),
    "one long series too short": (
        _long().iloc[:32],
        ValueError,
        "series 'b' has 2 values, too short",
    ),
}


@pytest.mark.parametrize("case", sorted(BAD_Y))
def test_bad_y(case, no_training):
    y, error, words = BAD_Y[case]
    with pytest.raises(error, match=words):
        Seq2SeqForecaster(**tiny()).fit(y)


BAD_PARAMS = {
    "attention": (
        "bahdanu",
        ValueError,
        r"attention must be one of \['bahdanau', 'luong', 'none'\]",
    ),
    "cell": ("rnn", ValueError, r"cell must be one of \['lstm', 'gru'\], got 'rnn'"),
    "scaler": ("minmax", ValueError, r"scaler must be one of \[.*'standard'.*\], got 'minmax'"),
    "loss": ("rmse", ValueError, r"loss must be one of \['mae', 'mse', 'huber', 'poisson'"),
    "missing": ("drop", ValueError, r"missing must be one of \['error', 'mask'\]"),
    "device": ("tpu", ValueError, "device must be one of"),
    "horizon": (0, ValueError, "horizon must be an integer >= 1"),
    "input_size": (-3, ValueError, "input_size must be an integer >= 1"),
    "hidden_size": (2.5, TypeError, "hidden_size must be an integer"),
    "num_layers": (0, ValueError, "num_layers must be an integer >= 1"),
    "batch_size": (0, ValueError, "batch_size must be an integer >= 1"),
    "max_epochs": (0, ValueError, "max_epochs must be an integer >= 1"),
    "dropout": (1.5, ValueError, r"dropout must be in \[0.0, 1.0\)"),
    "learning_rate": (0.0, ValueError, r"learning_rate must be in \(0.0, inf\)"),
    "validation_size": (1.0, ValueError, r"validation_size must be in \[0.0, 1.0\)"),
    "bidirectional": ("yes", TypeError, "bidirectional must be True or False"),
    "early_stopping_patience": (0, ValueError, "early_stopping_patience must be an integer >= 1"),
}

MORE_BAD_PARAMS = [
    ("horizon", True, TypeError, r"horizon must be an integer, got True \(bool\)"),
    ("horizon", 2.0, TypeError, "horizon must be an integer"),
    ("input_size", "36", TypeError, r"input_size must be an integer, got '36' \(str\)"),
    ("learning_rate", "fast", TypeError, "learning_rate must be a number"),
    ("learning_rate", float("nan"), ValueError, "learning_rate must be in"),
    ("dropout", -0.1, ValueError, "dropout must be in"),
    ("validation_size", -0.1, ValueError, "validation_size must be in"),
    ("early_stopping_patience", 2.5, TypeError, "early_stopping_patience must be an integer"),
    ("cell", None, ValueError, "cell must be one of .*got None"),
    ("device", 3, TypeError, "device must be a string or torch.device, got int"),
    ("device", "cuda:x", ValueError, "device must be one of"),
    ("scaler", "standart", ValueError, "did you mean 'standard'"),
    ("random_state", "seed", ValueError, "cannot be used to seed"),
]


@pytest.mark.parametrize("name", sorted(BAD_PARAMS))
def test_bad_parameter(name, no_training):
    value, error, words = BAD_PARAMS[name]
    with pytest.raises(error, match=words):
        Seq2SeqForecaster(**tiny(**{name: value})).fit(GOOD)


@pytest.mark.parametrize("name, value, error, words", MORE_BAD_PARAMS)
def test_more_bad_parameters(name, value, error, words, no_training):
    with pytest.raises(error, match=words):
        Seq2SeqForecaster(**tiny(**{name: value})).fit(GOOD)


def test_misspelled_option_gets_a_suggestion(no_training):
    with pytest.raises(ValueError, match="did you mean 'bahdanau'"):
        Seq2SeqForecaster(**tiny(attention="Bahdanau")).fit(GOOD)


def test_cuda_asked_for_without_a_gpu(monkeypatch, no_training):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.raises(ValueError, match="no CUDA GPU"):
        Seq2SeqForecaster(**tiny(device="cuda")).fit(GOOD)


PRICES = pd.DataFrame(
    {"price": np.linspace(1, 2, 30), "promo": np.r_[np.zeros(15), np.ones(15)]}, index=INDEX
)

# Options of the sales features, and covariates X / static features given to fit.
BAD_FEATURES = {
    "quantile above 1": (
        {"quantiles": (0.1, 1.5)},
        {},
        ValueError,
        r"quantiles must be in \(0.0, 1.0\)",
    ),
    "quantiles as a string": ({"quantiles": "0.5"}, {}, TypeError, "such as .0.1, 0.5, 0.9."),
    "repeated quantiles": ({"quantiles": (0.5, 0.5)}, {}, ValueError, "must be distinct levels"),
    "past covariates without X": (
        {"past_covariates": ("price",)},
        {},
        ValueError,
        "names columns of X, but X is None; pass X",
    ),
    "unknown past covariate": (
        {"past_covariates": ("cost",)},
        {"X": PRICES},
        ValueError,
        r"names \['cost'\], which X does not have \(its columns: \['price', 'promo'\]\)",
    ),
    "unknown calendar feature": (
        {"calendar_features": ["fortnight"]},
        {},
        ValueError,
        "calendar_features must be False, True or a list of distinct names from",
    ),
    "nonnegative not a bool": ({"nonnegative": "yes"}, {}, TypeError, "True or False"),
    "negative y with nonnegative": (
        {"nonnegative": True},
        {"y": GOOD - 100},
        ValueError,
        "y has negative values .*set nonnegative=False",
    ),
    "season_length 0": ({"season_length": 0}, {}, ValueError, "season_length must be an integer"),
    "masked y without values": (
        {"missing": "mask"},
        {"y": GOOD * np.nan},
        ValueError,
        "has no observed values",
    ),
    "X shorter than y": (
        {},
        {"X": PRICES.iloc[5:]},
        ValueError,
        "X does not cover y's history: it lacks series 0 at 2020-01-01",
    ),
    "X without the time index": (
        {},
        {"X": PRICES.reset_index(drop=True)},
        ValueError,
        "X does not cover y's history",
    ),
    "NaN in X": (
        {},
        {"X": PRICES.assign(price=np.r_[np.nan, PRICES.price[1:]])},
        ValueError,
        r"X column 'price' has NaN for series 0 at 2020-01-01.*X.ffill\(\)",
    ),
    "inf in X": (
        {},
        {"X": PRICES.assign(price=np.r_[np.inf, PRICES.price[1:]])},
        ValueError,
        "X column 'price' has inf",
    ),
    "text column in X": (
        {},
        {"X": PRICES.assign(promo="x")},
        TypeError,
        "X column 'promo' is not numeric .*pd.get_dummies",
    ),
    "X as an array for a Series y": (
        {},
        {"X": PRICES.to_numpy()},
        TypeError,
        "X is an array but y was a pandas object",
    ),
    "static without a row per series": (
        {},
        {"static": GOOD.to_frame("size")},
        ValueError,
        r"static lacks series \[0\]",
    ),
}


@pytest.mark.parametrize("case", sorted(BAD_FEATURES))
def test_bad_sales_features(case, no_training):
    params, fit_kwargs, error, words = BAD_FEATURES[case]
    fit_kwargs = {"y": GOOD, **fit_kwargs}
    with pytest.raises(error, match=words):
        Seq2SeqForecaster(**tiny(**params)).fit(**fit_kwargs)


def test_the_parameter_error_comes_before_the_data_error(no_training):
    # Both are wrong: the constructor option is named first, as it is cheaper to check.
    with pytest.raises(ValueError, match="cell must be one of"):
        Seq2SeqForecaster(**tiny(cell="rnn")).fit(pd.Series([np.nan] * 30, index=INDEX))


# --------------------------------------------------------------------------------------------
# Calls on an unfitted model, and predict's own argument


@pytest.mark.parametrize("call", ["predict", "save"])
def test_forecaster_used_before_fit(call, tmp_path):
    f = Seq2SeqForecaster()
    args = (tmp_path / "m.tsattn",) if call == "save" else ()
    with pytest.raises(NotFittedError, match="not fitted yet"):
        getattr(f, call)(*args)
    assert not (tmp_path / "m.tsattn").exists()


FUTURE = pd.DataFrame(
    {"price": [2.0] * 3, "promo": [1.0] * 3}, index=pd.date_range("2020-01-31", periods=3)
)


@pytest.fixture(scope="module")
def fitted_forecasters():
    plain = Seq2SeqForecaster(**tiny(max_epochs=1)).fit(GOOD)
    with_x = Seq2SeqForecaster(**tiny(max_epochs=1, covariate_selection=None)).fit(GOOD, X=PRICES)
    return plain, with_x


BAD_PREDICT = {
    "X for a model fit without X": (
        "plain",
        "predict",
        {"X": FUTURE},
        r"the model was fit without X; call predict\(\) without X",
    ),
    "no X for a model fit with X": (
        "with_x",
        "predict",
        {},
        r"fit with covariates known in advance \['price', 'promo'\]: pass X covering the 3 steps",
    ),
    "X too short": (
        "with_x",
        "predict",
        {"X": FUTURE.iloc[:2]},
        "X does not cover the 3 steps after each series' end: it lacks series 0 at 2020-02-02",
    ),
    "X of other dates": (
        "with_x",
        "predict",
        {"X": FUTURE.set_axis(pd.date_range("2021-01-31", periods=3))},
        "lacks series 0 at 2020-01-31",
    ),
    "X without a column": (
        "with_x",
        "predict",
        {"X": FUTURE.drop(columns="promo")},
        r"X lacks the column\(s\) \['promo'\]",
    ),
    "NaN in the future X": (
        "with_x",
        "predict",
        {"X": FUTURE.assign(price=[np.nan, 1.0, 1.0])},
        "X column 'price' has NaN for series 0 at 2020-01-31",
    ),
    "coverage above 1": (
        "plain",
        "predict_interval",
        {"coverage": 1.5},
        r"coverage must be in \(0.0, 1.0\)",
    ),
    "quantiles of a point model": (
        "plain",
        "predict_quantiles",
        {},
        "forecasts points only; fit it with quantiles=",
    ),
}


@pytest.mark.parametrize("case", sorted(BAD_PREDICT))
def test_bad_predict_calls(case, fitted_forecasters):
    which, method, kwargs, words = BAD_PREDICT[case]
    model = fitted_forecasters[0 if which == "plain" else 1]
    with pytest.raises(ValueError, match=words):
        getattr(model, method)(**kwargs)


@pytest.mark.parametrize(
    "kwargs, words",
    [
        ({"n_windows": 0}, "n_windows must be an integer >= 1"),
        ({"n_windows": 30}, "holds out the last 90 values; series 0 has 30.*fewer windows"),
    ],
)
def test_bad_backtests(kwargs, words, fitted_forecasters, no_training):
    with pytest.raises(ValueError, match=words):
        fitted_forecasters[0].backtest(GOOD, **kwargs)


# --------------------------------------------------------------------------------------------
# Seq2SeqRegressor: arrays of windows


def _windows():
    return make_windows(np.sin(np.arange(80) / 4), input_size=6, horizon=2)


def _regressor(**params):
    return Seq2SeqRegressor(hidden_size=8, max_epochs=1, random_state=0, verbose=False, **params)


@pytest.fixture(scope="module")
def fitted_regressor():
    X, Y = _windows()
    return _regressor().fit(X, Y)


def test_regressor_used_before_fit():
    with pytest.raises(NotFittedError, match="not fitted yet"):
        _regressor().predict(_windows()[0])


def test_regressor_predict_with_another_number_of_steps(fitted_regressor):
    X, _ = _windows()
    with pytest.raises(ValueError, match="X has 4 features, but Seq2SeqRegressor is expecting 6"):
        fitted_regressor.predict(X[:, :4])


def test_regressor_predict_with_another_number_of_features(fitted_regressor):
    X, _ = _windows()
    with pytest.raises(ValueError, match="2 features per step, but .* fitted with 1"):
        fitted_regressor.predict(np.stack([X, X], axis=-1))


BAD_REGRESSOR_FITS = {
    "NaN in X": (lambda X, Y: (np.where(X > 0.99, np.nan, X), Y), ValueError, "NaN"),
    "inf in y": (lambda X, Y: (X, np.where(Y > 0.9, np.inf, Y)), ValueError, "infinity"),
    "rows do not pair up": (lambda X, Y: (X, Y[:-1]), ValueError, "inconsistent numbers"),
    "no rows": (lambda X, Y: (X[:0], Y[:0]), ValueError, "0 sample"),
    "4-D X": (lambda X, Y: (X[:, :, None, None], Y), ValueError, "2-D .* or 3-D"),
}


@pytest.mark.parametrize("case", sorted(BAD_REGRESSOR_FITS))
def test_bad_regressor_data(case, no_training):
    make, error, words = BAD_REGRESSOR_FITS[case]
    with pytest.raises(error, match=words):
        _regressor().fit(*make(*_windows()))


def test_bad_regressor_option(no_training):
    with pytest.raises(ValueError, match=r"attention must be one of \['bahdanau', 'luong'"):
        _regressor(attention="dot").fit(*_windows())


# --------------------------------------------------------------------------------------------
# Seq2SeqTranslator: lists of sentences

SOURCES = ["a b c", "b c d", "c d e", "d e a"]
TARGETS = ["c b a", "d c b", "e d c", "a e d"]


def _translator(**params):
    return Seq2SeqTranslator(hidden_size=8, max_epochs=1, random_state=0, verbose=False, **params)


BAD_TRANSLATOR_FITS = {
    "unpaired": ((SOURCES, TARGETS[:-1]), {}, ValueError, "4 sources and 3 targets"),
    "empty": (([], []), {}, ValueError, "sources is empty"),
    "numbers": (([1, 2, 3, 4], TARGETS), {}, TypeError, r"sources\[0\] must be a string"),
    "one string": (("a b c", "c b a"), {}, TypeError, r"single string; wrap it: \[sources\]"),
    "beam_size": ((SOURCES, TARGETS), {"beam_size": 0}, ValueError, "beam_size must be an"),
    "tokenizer": ((SOURCES, TARGETS), {"tokenizer": "bpe"}, ValueError, "tokenizer must be one"),
}


@pytest.mark.parametrize("case", sorted(BAD_TRANSLATOR_FITS))
def test_bad_translator_input(case, no_training):
    args, params, error, words = BAD_TRANSLATOR_FITS[case]
    with pytest.raises(error, match=words):
        _translator(**params).fit(*args)


def test_translator_used_before_fit():
    with pytest.raises(NotFittedError, match="not fitted yet"):
        _translator().predict(SOURCES)
