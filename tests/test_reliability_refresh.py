"""Issue 24, classes 1-4 and 8 and the fitted state's bounds of class 6: refresh paths.

Each test is the regression test of one defect: time alignment (naive and aware stamps, a
masked window, dates beyond nanoseconds), inputs at ``predict`` checked as in ``fit`` (static
range, duplicates, flags), covariate selection with array X, checkpoints of warm starts, the
clear errors of new histories, and model files whose horizon or sizes no tensor backs.
"""

import json

import numpy as np
import pandas as pd
import pytest
import torch
from safetensors import safe_open
from safetensors.torch import load_file, save_file

import tsattn
from tsattn import files
from tsattn.forecast import selection
from tsattn.forecast.covariates.rows import x_rows
from tsattn.forecast.panel.types import Layout, TimeAxis
from tsattn.forecast.windows.batches import WindowBatches, WindowIndex
from tsattn.io import load

WEEKS = pd.date_range("2021-01-04", periods=30, freq="W-MON")
FUTURE = pd.date_range(WEEKS[-1], periods=3, freq="W-MON")[1:]


def tiny(**overrides):
    """A tiny, fast, seeded forecaster's parameters (no covariate selection)."""
    params = dict(
        horizon=2,
        input_size=4,
        hidden_size=4,
        max_epochs=1,
        batch_size=16,
        season_length=1,
        baseline=None,  # the network alone: its inputs decide the forecast
        covariate_selection=None,
        random_state=0,
        verbose=False,
    )
    params.update(overrides)
    return params


def _series(index=WEEKS, name="sales"):
    return pd.Series(10.0 + np.arange(len(index)) % 4, index=index, name=name)


def _long(ids=("s0", "s1"), index=WEEKS):
    return pd.concat(
        [
            pd.DataFrame({"unique_id": sid, "ds": index, "y": 10.0 + k + np.arange(len(index)) % 4})
            for k, sid in enumerate(ids)
        ],
        ignore_index=True,
    )


def _long_x(ids=("s0", "s1"), end=FUTURE[-1], **columns):
    ds = pd.date_range(WEEKS[0], end, freq="W-MON")
    columns = columns or {"promo": lambda n: (np.arange(n) % 5 == 0).astype(float)}
    return pd.concat(
        [
            pd.DataFrame(
                {"unique_id": sid, "ds": ds, **{c: f(len(ds)) for c, f in columns.items()}}
            )
            for sid in ids
        ],
        ignore_index=True,
    )


# --------------------------------------------------------------------------------------------
# Class 1: naive and aware timestamps are never mixed between y and X


def _x_frame(index):
    return pd.DataFrame({"promo": (np.arange(len(index)) % 5 == 0).astype(float)}, index=index)


@pytest.mark.parametrize("y_zone, x_zone", [("Europe/Berlin", None), (None, "Europe/Berlin")])
def test_naive_and_aware_stamps_are_not_mixed_in_fit(y_zone, x_zone):
    hours = pd.date_range("2024-03-01", periods=40, freq="h")
    y = _series(hours.tz_localize(y_zone) if y_zone else hours)
    future = pd.date_range("2024-03-01", periods=42, freq="h")
    X = _x_frame(future.tz_localize(x_zone) if x_zone else future)
    with pytest.raises(ValueError, match="naive timestamps but y's are time-zone aware|"
                       "time-zone aware timestamps but y's are naive"):  # fmt: skip
        tsattn.Seq2SeqForecaster(**tiny()).fit(y, X=X)


@pytest.mark.parametrize("zone", ["Europe/Berlin", None])
def test_naive_and_aware_stamps_are_not_mixed_in_predict(zone):
    hours = pd.date_range("2024-03-01", periods=40, freq="h", tz=zone)
    future = pd.date_range("2024-03-01", periods=42, freq="h", tz=zone)
    model = tsattn.Seq2SeqForecaster(**tiny()).fit(_series(hours), X=_x_frame(future))
    other = future.tz_localize(None) if zone else future.tz_localize("UTC")
    with pytest.raises(ValueError, match="y's are (time-zone aware|naive)"):
        model.predict(X=_x_frame(other))
    with pytest.raises(ValueError, match="y's are (time-zone aware|naive)"):
        model.predict(y=_series(hours), X=_x_frame(other))


@pytest.mark.parametrize("zone", ["Europe/Berlin", None])
def test_naive_and_aware_stamps_are_not_mixed_in_long_frames(zone):
    hours = pd.date_range("2024-03-01", periods=40, freq="h", tz=zone)
    future = pd.date_range("2024-03-01", periods=42, freq="h", tz=zone)
    y = _long(("a", "b"), hours)
    X = pd.concat([_x_frame(future).rename_axis("ds").reset_index().assign(unique_id=s)
                   for s in ("a", "b")])  # fmt: skip
    model = tsattn.Seq2SeqForecaster(**tiny()).fit(y, X=X)
    other = X.assign(ds=X.ds.dt.tz_localize(None) if zone else X.ds.dt.tz_localize("UTC"))
    with pytest.raises(ValueError, match="y's are (time-zone aware|naive)"):
        model.predict(X=other)
    with pytest.raises(ValueError, match="y's are (time-zone aware|naive)"):
        tsattn.Seq2SeqForecaster(**tiny()).fit(y, X=other)


def test_a_saved_aware_model_still_refuses_naive_x(tmp_path):
    hours = pd.date_range("2024-03-01", periods=40, freq="h", tz="Europe/Berlin")
    future = pd.date_range("2024-03-01", periods=42, freq="h", tz="Europe/Berlin")
    model = tsattn.Seq2SeqForecaster(**tiny()).fit(_series(hours), X=_x_frame(future))
    model.save(tmp_path / "m.tsattn")
    loaded = load(tmp_path / "m.tsattn")
    pd.testing.assert_series_equal(
        loaded.predict(X=_x_frame(future)), model.predict(X=_x_frame(future))
    )
    with pytest.raises(ValueError, match="naive timestamps but y's are time-zone aware"):
        loaded.predict(X=_x_frame(future.tz_localize(None)))


def test_a_series_whose_whole_input_window_is_missing_is_named():
    y = pd.DataFrame({"a": 10.0 + np.arange(30) % 4, "b": 50.0 + np.arange(30) % 3}, index=WEEKS)
    y.loc[WEEKS[-5:], "b"] = np.nan  # more than input_size (4) values at the end
    model = tsattn.Seq2SeqForecaster(**tiny(missing="mask")).fit(y)
    with pytest.raises(ValueError, match=r"series \['b'\] have no observed value in their last 4"):
        model.predict()
    # a history with values in the window is forecast
    assert np.isfinite(model.predict(y=y.fillna(50.0)).to_numpy()).all()


@pytest.mark.parametrize("scaler", ["standard", "log"])
def test_a_training_window_without_observed_input_has_no_targets(scaler):
    values = np.array([np.nan] * 4 + [5.0, 6.0] + [1.0] * 4 + [7.0, 8.0], dtype=np.float32)
    windows = WindowIndex(np.zeros(2, np.int64), np.array([4, 10]))
    batch = WindowBatches(
        values, np.array([0, 12]), windows, 4, 2, scaler, torch.device("cpu"), observed_feature=True
    ).batch(np.arange(2))
    assert torch.isnan(batch["target"][0]).all()  # nothing seen: no scale, out of the loss
    assert not torch.isnan(batch["target"][1]).any()


@pytest.mark.parametrize("start", ["2300-01-01", "1600-01-01"])
def test_dates_beyond_nanoseconds_are_refused_clearly(start):
    ds = pd.Series(pd.date_range(start, periods=30, freq="D", unit="s"))
    y = pd.DataFrame({"unique_id": "a", "ds": ds, "y": np.arange(30.0)})
    with pytest.raises(ValueError, match="outside the dates tsattn can key by nanoseconds"):
        tsattn.Seq2SeqForecaster(**tiny()).fit(y)
    series = pd.Series(np.arange(30.0), index=pd.DatetimeIndex(ds))
    with pytest.raises(ValueError, match="outside the dates tsattn can key by nanoseconds"):
        tsattn.Seq2SeqForecaster(**tiny()).fit(series)


def test_x_dated_beyond_nanoseconds_is_refused():
    model = tsattn.Seq2SeqForecaster(**tiny()).fit(_series(), X=_x_frame(WEEKS.append(FUTURE)))
    far = pd.date_range("2400-01-03", periods=2, freq="W-MON", unit="s")
    with pytest.raises(ValueError, match="outside the dates"):
        model.predict(X=_x_frame(WEEKS.as_unit("s").append(far)))


# --------------------------------------------------------------------------------------------
# Class 2: static and flags at predict are checked as X is


@pytest.fixture(scope="module")
def static_model():
    static = pd.DataFrame({"price": [10.0, 12.0], "organic": [0, 1]}, index=["s0", "s1"])
    model = tsattn.Seq2SeqForecaster(**tiny()).fit(_long(), static=static)
    return model, static


@pytest.mark.parametrize(
    "edit, words",
    [
        (
            lambda s: s.assign(price=s.price * 10),
            "static column 'price' is 100 for series 's0', far",
        ),
        (
            lambda s: s.assign(organic=[0, 5]),
            "static column 'organic' was a 0/1 flag in fit but is 5",
        ),
        (lambda s: pd.concat([s, s.iloc[:1]]), "static has duplicate rows for series 's0'"),
        (
            lambda s: pd.concat([s, s.iloc[:1].assign(price=11.0)]),
            "static has duplicate rows for series 's0'",
        ),
    ],
)
def test_static_at_predict_is_checked_as_in_fit(static_model, edit, words):
    model, static = static_model
    with pytest.raises(ValueError, match=words):
        model.predict(y=_long(), static=edit(static))
    with pytest.raises(ValueError, match=words):
        model.set_params(warm_start=True).fit(_long(), static=edit(static))
    model.set_params(warm_start=False)


def test_static_within_range_is_accepted(static_model):
    model, static = static_model
    forecast = model.predict(y=_long(), static=static.assign(price=[10.5, 14.0], organic=[1, 1]))
    assert np.isfinite(forecast["y"]).all()


def test_an_x_flag_given_another_value_is_refused():
    X = _long_x(promo=lambda n: (np.arange(n) % 5 == 0).astype(float))
    model = tsattn.Seq2SeqForecaster(**tiny()).fit(_long(), X=X)
    model.predict(X=X)
    bad = X.assign(promo=np.where(X.ds == FUTURE[0], 5.0, X.promo))
    with pytest.raises(ValueError, match="X column 'promo' was a 0/1 flag in fit but is 5"):
        model.predict(X=bad)


# --------------------------------------------------------------------------------------------
# Class 3: covariate selection keeps an array X's column names


def test_selection_keeps_the_names_of_an_array_x(monkeypatch):
    rng = np.random.default_rng(0)
    y = 10.0 + np.arange(40) % 4 + rng.normal(0, 0.1, 40)
    X = np.stack([rng.normal(size=42), 5.0 + (np.arange(42) % 4)], axis=1)  # x0 noise, x1 signal

    def table(*args, **kwargs):  # x0 does not help, x1 does
        return pd.DataFrame(
            {"feature": ["x0", "x1"], "kind": ["known", "known"], "relative": [0.0, 0.5]}
        )

    monkeypatch.setattr(selection, "importance_table", table)
    model = tsattn.Seq2SeqForecaster(**tiny(covariate_selection="validation")).fit(y, X=X)
    spec = model.context_.spec
    assert list(spec.known) == ["x1"] and "x0" in spec.dropped
    forecast = model.predict(X=X)  # fit's own X
    # the forecast reads x1: changing x0 changes nothing, changing x1 does
    noise = X.copy()
    noise[:, 0] = rng.normal(size=42)
    np.testing.assert_array_equal(model.predict(X=noise), forecast)
    moved = X.copy()
    moved[40:, 1] += 1.0
    assert not np.array_equal(model.predict(X=moved), forecast)


def test_an_array_x_without_a_column_keeps_the_other_names():
    X = np.arange(12.0).reshape(4, 3)
    kept = selection._without_columns(X, {"x0"}, ["x0", "x1", "x2"])
    rows = x_rows(kept, Layout("array1d"), [0], TimeAxis("position", 1))
    assert list(rows.frame.columns) == ["x1", "x2"]
    np.testing.assert_array_equal(rows.frame.to_numpy(), X[:, 1:])
    again = selection._without_columns(kept, {"x2"}, ["x1", "x2"])
    assert list(x_rows(again, Layout("array1d"), [0], TimeAxis("position", 1)).frame.columns) == [
        "x1"
    ]


# --------------------------------------------------------------------------------------------
# Class 4: a warm start resumes only its own checkpoint


def test_a_warm_start_never_resumes_another_models_checkpoint(tmp_path):
    y = _series()
    first = tsattn.Seq2SeqForecaster(**tiny(random_state=1)).fit(y)
    second = tsattn.Seq2SeqForecaster(**tiny(random_state=1, hidden_size=4)).fit(y)
    # same parameters, data and seed: only the weights each starts from differ
    second.module_.load_state_dict({k: v + 0.5 for k, v in second.module_.state_dict().items()})
    first.set_params(warm_start=True).fit(y, checkpoint_dir=tmp_path)
    with pytest.raises(ValueError, match="starting weights"):
        second.set_params(warm_start=True).fit(y, checkpoint_dir=tmp_path)
    # its own run resumes (finished: the same weights again)
    weights = {k: v.clone() for k, v in first.module_.state_dict().items()}
    again = tsattn.Seq2SeqForecaster(**tiny(random_state=1)).fit(y)
    again.set_params(warm_start=True).fit(y, checkpoint_dir=tmp_path)
    for name, value in again.module_.state_dict().items():
        torch.testing.assert_close(value, weights[name])


# --------------------------------------------------------------------------------------------
# Class 8: clear errors, and what the model knows is used


@pytest.fixture(scope="module")
def x_model():
    X = _long_x(
        promo=lambda n: (np.arange(n) % 5 == 0).astype(float),
        price=lambda n: 2.0 + 0.1 * (np.arange(n) % 3),
        traffic=lambda n: 100.0 + np.arange(n) % 7,
    )
    model = tsattn.Seq2SeqForecaster(**tiny(past_covariates=["traffic"])).fit(_long(), X=X)
    return model, X


@pytest.mark.parametrize("column", ["price", "traffic"])
def test_a_missing_x_column_on_new_histories_is_named(x_model, column):
    model, X = x_model
    words = rf"X lacks the column\(s\) \['{column}'\]"
    with pytest.raises(ValueError, match=words):
        model.predict(y=_long(), X=X.drop(columns=column))
    with pytest.raises(ValueError, match=words):
        model.historical_forecasts(_long(), X=X.drop(columns=column), n_windows=2)
    warm = tsattn.Seq2SeqForecaster(**tiny(past_covariates=["traffic"])).fit(_long(), X=X)
    with pytest.raises(ValueError, match=words):
        warm.set_params(warm_start=True).fit(_long(), X=X.drop(columns=column))


def test_x_of_every_series_serves_new_histories_of_some(x_model):
    model, X = x_model
    some = _long(("s1",))
    alone = model.predict(y=some, X=X[X.unique_id == "s1"])
    pd.testing.assert_frame_equal(model.predict(y=some, X=X), alone)
    # an X lacking the series of y is still refused, naming the series it has instead
    with pytest.raises(ValueError, match=r"X has series ids that y does not have: \['s0'\]"):
        model.predict(y=some, X=X[X.unique_id == "s0"])


def test_x_of_every_series_serves_a_wide_history_of_some():
    y = pd.DataFrame({"a": 10.0 + np.arange(30) % 4, "b": 20.0 + np.arange(30) % 3}, index=WEEKS)
    dates = WEEKS.append(FUTURE)
    promo = (np.arange(len(dates)) % 5 == 0).astype(float)
    X = pd.DataFrame({("a", "promo"): promo, ("b", "promo"): promo[::-1].copy()}, index=dates)
    model = tsattn.Seq2SeqForecaster(**tiny()).fit(y, X=X)
    pd.testing.assert_frame_equal(
        model.predict(y=y[["b"]], X=X), model.predict(y=y[["b"]], X=X[["b"]])
    )


@pytest.mark.parametrize("length", [1, 2])
def test_a_short_new_series_is_dated_by_the_fitted_frequency(length):
    model = tsattn.Seq2SeqForecaster(**tiny()).fit(_series())
    start = WEEKS[-1] + pd.Timedelta(weeks=10)
    short = pd.Series(
        [11.0, 12.0][:length], index=pd.date_range(start, periods=length, freq="W-MON")
    )
    short.index.freq = None
    forecast = model.predict(y=short)
    expected = pd.date_range(short.index[-1], periods=3, freq="W-MON")[1:]
    pd.testing.assert_index_equal(forecast.index, expected, check_names=False)
    long_short = pd.DataFrame({"unique_id": "new", "ds": short.index, "y": short.to_numpy()})
    assert model.predict(y=long_short).ds.tolist() == list(expected)
    # stamps off the fitted frequency are still refused
    off = pd.Series([1.0, 2.0], index=[start, start + pd.Timedelta(days=3)])
    with pytest.raises(ValueError, match="cannot infer the frequency"):
        model.predict(y=off)


def test_nat_in_an_index_is_named():
    index = pd.DatetimeIndex(list(WEEKS[:-1]) + [pd.NaT])
    with pytest.raises(ValueError, match=r"missing timestamps \(NaT\)"):
        tsattn.Seq2SeqForecaster(**tiny()).fit(pd.Series(np.arange(30.0), index=index))
    model = tsattn.Seq2SeqForecaster(**tiny()).fit(_series(), X=_x_frame(WEEKS.append(FUTURE)))
    with pytest.raises(ValueError, match=r"missing timestamps \(NaT\)"):
        model.predict(X=_x_frame(pd.DatetimeIndex(list(WEEKS.append(FUTURE[:1])) + [pd.NaT])))


# --------------------------------------------------------------------------------------------
# Class 6: the fitted state's sizes are bounded by what the file holds


def _metadata(path) -> dict:
    with safe_open(path, framework="pt") as handle:
        return dict(handle.metadata())


def _forge(source, target, edit_state) -> None:
    """Copy a model file with its JSON state edited and the checksum recomputed."""
    metadata, tensors = _metadata(source), load_file(source)
    state = json.loads(metadata["state"])
    edit_state(state)
    metadata["state"] = json.dumps(state)
    metadata["sha256"] = files.checksum(metadata, tensors)
    save_file(tensors, target, metadata=metadata)


@pytest.fixture(scope="module")
def saved_models(tmp_path_factory):
    folder = tmp_path_factory.mktemp("models")
    forecaster = tsattn.Seq2SeqForecaster(**tiny()).fit(_series())
    forecaster.save(folder / "forecaster.tsattn")
    rng = np.random.default_rng(0)
    regressor = tsattn.Seq2SeqRegressor(hidden_size=4, max_epochs=1, random_state=0, verbose=False)
    regressor.fit(rng.normal(size=(32, 5, 2)), rng.normal(size=(32, 3)))
    regressor.save(folder / "regressor.tsattn")
    translator = tsattn.Seq2SeqTranslator(
        hidden_size=4, max_epochs=1, random_state=0, verbose=False
    )
    translator.fit(["a b", "b c", "c a"] * 4, ["x y", "y z", "z x"] * 4)
    translator.save(folder / "translator.tsattn")
    return folder


def _set(key, value, part=None):
    def edit(state):
        (state if part is None else state[part])[key] = value

    return edit


@pytest.mark.parametrize(
    "name, edit",
    [
        ("forecaster", _set("horizon", 10**9, "context")),
        ("forecaster", _set("input_size", 10**9, "context")),
        ("forecaster", _set("input_size", 10**6, "context")),
        ("regressor", _set("horizon_", 10**9)),
        ("regressor", _set("input_size_", 10**9)),
        ("regressor", _set("n_channels_", 7)),
        ("regressor", _set("n_features_in_", 9)),
        ("translator", _set("max_length_", 10**9)),
        ("translator", _set("max_length_", 0)),
        ("translator", lambda s: s["target_vocab_"].append("extra")),
        ("translator", lambda s: s.update(source_vocab_=s["source_vocab_"][:-1])),
    ],
)
def test_crafted_fitted_sizes_are_refused(tmp_path, saved_models, name, edit):
    source = saved_models / f"{name}.tsattn"
    load(source)  # the untouched file loads
    target = tmp_path / "crafted.tsattn"
    _forge(source, target, edit)
    with pytest.raises(ValueError, match="damaged"):
        load(target)
