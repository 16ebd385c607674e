"""Forecasting new data without refitting: predict(y=...), warm starts, historical forecasts."""

import numpy as np
import pandas as pd
import pytest
import torch
from conftest import tiny

import tsattn
from tsattn import Seq2SeqForecaster

pytestmark = pytest.mark.filterwarnings(
    # tsattn's short-history warning: these tests fit deliberately tiny series
    "ignore:.*of the series have fewer than horizon:UserWarning"
)


def _panel(n=3, length=40, seed=0):
    rng = np.random.default_rng(seed)
    frames = []
    for i in range(n):
        t = np.arange(length)
        values = 50 + 5 * i + 3 * np.sin(2 * np.pi * t / 7) + rng.normal(0, 0.5, length)
        ds = pd.date_range("2020-01-05", periods=length, freq="W-SUN")
        frames.append(pd.DataFrame({"unique_id": f"s{i}", "ds": ds, "y": values}))
    return pd.concat(frames, ignore_index=True)


def _x(panel, extra=3):
    rows = []
    for sid, part in panel.groupby("unique_id", sort=False):
        ds = pd.date_range(part["ds"].iloc[0], periods=len(part) + extra, freq="W-SUN")
        rows.append(pd.DataFrame({"unique_id": sid, "ds": ds, "promo": np.arange(len(ds)) % 2}))
    return pd.concat(rows, ignore_index=True)


def _head(panel, cut):
    """Every series without its last ``cut`` values."""
    return panel.groupby("unique_id", sort=False).head(-cut).reset_index(drop=True)


@pytest.fixture(scope="module")
def fitted():
    panel = _panel()
    static = pd.DataFrame({"kind": ["a", "b", "a"]}, index=["s0", "s1", "s2"])
    X = _x(panel)
    f = Seq2SeqForecaster(**tiny(quantiles=(0.1, 0.5, 0.9), covariate_selection=None))
    return f.fit(panel, X=X, static=static), panel, X, static


def test_predict_with_the_fit_data_equals_predict(fitted):
    f, panel, X, static = fitted
    pd.testing.assert_frame_equal(f.predict(X, y=panel), f.predict(X))
    pd.testing.assert_frame_equal(f.predict(X, y=panel, static=static), f.predict(X))
    pd.testing.assert_frame_equal(f.predict_quantiles(X, y=panel), f.predict_quantiles(X))
    pd.testing.assert_frame_equal(f.predict_interval(X, y=panel), f.predict_interval(X))
    pd.testing.assert_frame_equal(f.attention_weights(X, y=panel), f.attention_weights(X))


def test_updated_histories_forecast_from_their_own_end(fitted):
    f, panel, X, _ = fitted
    shorter = _head(panel, 2)
    forecast = f.predict(X, y=shorter)
    last = shorter.groupby("unique_id")["ds"].max()
    for sid, part in forecast.groupby("unique_id"):
        expected = pd.date_range(last[sid], periods=4, freq="W-SUN")[1:]
        assert list(part["ds"]) == list(expected)
    # the fitted model is unchanged by forecasting other histories
    pd.testing.assert_frame_equal(f.predict(X), f.predict(X, y=panel))
    assert not f.predict(X, y=shorter)["y"].equals(f.predict(X)["y"])


def test_new_series_need_static_and_are_forecast(fitted):
    f, panel, X, static = fitted
    new = panel[panel["unique_id"] == "s0"].assign(unique_id="new")
    new_x = X[X["unique_id"] == "s0"].assign(unique_id="new")
    with pytest.raises(ValueError, match="were not seen in fit"):
        f.predict(new_x, y=new)
    new_static = pd.DataFrame({"kind": ["a"]}, index=["new"])
    forecast = f.predict(new_x, y=new, static=new_static)
    assert list(forecast["unique_id"].unique()) == ["new"]
    # the same history and static features as s0: the same forecast as s0
    np.testing.assert_allclose(
        forecast["y"].to_numpy(), f.predict(X).query("unique_id == 's0'")["y"].to_numpy()
    )


def test_new_histories_in_another_format_come_back_in_it():
    y = pd.Series(np.sin(np.arange(60) / 3) + 5, index=pd.date_range("2021-01-01", periods=60))
    f = Seq2SeqForecaster(**tiny()).fit(y)
    wide = pd.DataFrame({"a": y.iloc[:50].to_numpy(), "b": y.iloc[10:].to_numpy()},
                        index=y.index[:50])  # fmt: skip
    out = f.predict(y=wide)
    assert list(out.columns) == ["a", "b"] and len(out) == 3
    assert out.index[0] == y.index[50]


def test_static_without_y_and_a_foreign_time_axis_are_refused(fitted):
    f, panel, X, static = fitted
    with pytest.raises(ValueError, match="pass y too"):
        f.predict(X, static=static)
    monthly = panel.assign(ds=lambda d: d.groupby("unique_id").cumcount())
    with pytest.raises(ValueError, match="time axis"):
        f.predict(y=monthly)


def test_fitted_state_decides_not_changed_parameters(fitted):
    f, panel, X, _ = fitted
    before = f.predict(X)
    f.set_params(horizon=5, hidden_size=99, quantiles=(0.2, 0.8), nonnegative=True)
    try:
        pd.testing.assert_frame_equal(f.predict(X), before)
        assert list(f.predict_quantiles(X).columns) == ["unique_id", "ds", "0.1", "0.5", "0.9"]
    finally:
        f.set_params(horizon=3, hidden_size=8, quantiles=(0.1, 0.5, 0.9), nonnegative=False)


def test_warm_start_continues_from_the_fitted_weights():
    panel = _panel()
    f = Seq2SeqForecaster(**tiny(max_epochs=3)).fit(_head(panel, 4))
    start = {k: v.clone() for k, v in f.module_.state_dict().items()}
    f.set_params(warm_start=True, max_epochs=1, early_stopping_patience=None)
    f.fit(panel)
    assert len(f.history_) == 1
    moved = [not torch.equal(start[k], v) for k, v in f.module_.state_dict().items()]
    assert any(moved)
    # one epoch from the trained weights: the first epoch's loss is a trained model's, far
    # below a fresh model's first epoch
    fresh = Seq2SeqForecaster(**tiny(max_epochs=1, early_stopping_patience=None)).fit(panel)
    assert f.history_["train_loss"].iloc[0] < fresh.history_["train_loss"].iloc[0]
    assert f.predict()["ds"].min() > panel["ds"].max()


def test_warm_start_refuses_a_changed_model():
    panel = _panel()
    f = Seq2SeqForecaster(**tiny(max_epochs=1)).fit(panel)
    with pytest.raises(ValueError, match="horizon or quantiles changed"):
        f.set_params(warm_start=True, horizon=4).fit(panel)
    with pytest.raises(ValueError, match="warm_start=False"):
        f.set_params(horizon=3, hidden_size=16).fit(panel)


def test_historical_forecasts_equal_forecasts_from_each_cutoff(fitted):
    f, panel, X, _ = fitted
    frame = f.historical_forecasts(panel, X=X, n_windows=3, step=2)
    assert list(frame.columns) == ["unique_id", "ds", "cutoff", "y", "forecast"]
    assert frame["cutoff"].nunique() == 3 and len(frame) == 3 * 3 * 3
    for k, cut in enumerate((7, 5, 3)):
        expected = f.predict(X, y=_head(panel, cut))
        window = frame[frame["cutoff"] == sorted(frame["cutoff"].unique())[k]]
        np.testing.assert_allclose(window["forecast"].to_numpy(), expected["y"].to_numpy())
        merged = window.merge(panel, on=["unique_id", "ds"], suffixes=("", "_true"))
        np.testing.assert_allclose(merged["y"], merged["y_true"])
    forecasts, metrics = f.backtest(panel, X=X, n_windows=3, step=2, refit=False)
    pd.testing.assert_frame_equal(forecasts, frame)
    assert len(metrics) == 3


def test_score_is_minus_the_mae_of_the_forecast(fitted):
    f, panel, X, _ = fitted
    train = _head(panel, 3)
    g = Seq2SeqForecaster(**tiny()).fit(train)
    test = panel.groupby("unique_id", sort=False).tail(3)
    forecast = g.predict()
    merged = forecast.merge(test, on=["unique_id", "ds"], suffixes=("_f", ""))
    assert g.score(test) == pytest.approx(-np.abs(merged["y"] - merged["y_f"]).mean())
    with pytest.raises(ValueError, match="no value at the forecast steps"):
        g.score(train.head(5))


def test_saved_model_forecasts_new_data(fitted, tmp_path):
    f, panel, X, static = fitted
    f.save(tmp_path / "m.tsattn")
    g = tsattn.load(tmp_path / "m.tsattn")
    shorter = _head(panel, 2)
    pd.testing.assert_frame_equal(g.predict(X, y=shorter), f.predict(X, y=shorter))


def test_score_reads_test_folds_of_any_format_without_a_frequency():
    """A fold may hold one or two steps per series: too few to infer a frequency from."""
    panel = _panel(n=2)
    f = Seq2SeqForecaster(**tiny(horizon=2)).fit(_head(panel, 2))
    test = panel.groupby("unique_id", sort=False).tail(2)
    expected = -np.abs(f.predict()["y"].to_numpy() - test["y"].to_numpy()).mean()
    assert f.score(test) == pytest.approx(expected)
    first = test.groupby("unique_id", sort=False).head(1)  # one step of each series
    assert f.score(first) == pytest.approx(
        -np.abs(f.predict()["y"].to_numpy()[::2] - first["y"].to_numpy()).mean()
    )
    wide = panel.pivot(index="ds", columns="unique_id", values="y")
    g = Seq2SeqForecaster(**tiny(horizon=2)).fit(wide.iloc[:-2])
    assert g.score(wide.iloc[-2:]) == pytest.approx(
        -np.abs(g.predict().to_numpy() - wide.iloc[-2:].to_numpy()).mean()
    )
    array = wide.to_numpy()
    h = Seq2SeqForecaster(**tiny(horizon=2)).fit(array[:-2])
    assert h.score(array[-2:]) == pytest.approx(-np.abs(h.predict() - array[-2:]).mean())
    with pytest.raises(TypeError, match="fit on a long frame"):
        f.score(wide)
