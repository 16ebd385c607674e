import copy

import numpy as np
import pandas as pd
import pytest
import torch
from conftest import tiny

import tsattn
from tsattn import Seq2SeqForecaster
from tsattn.datasets import load_air_passengers
from tsattn.forecast import rollout

pytestmark = pytest.mark.filterwarnings(
    # tsattn's short-history warning: these tests fit deliberately tiny series
    "ignore:.*of the series have fewer than horizon:UserWarning"
)


def _long_frame(lengths=(30, 24, 40), freq="MS", integer=False):
    rows = []
    for k, n in enumerate(lengths):
        ds = (
            np.arange(100, 100 + n)
            if integer
            else pd.date_range("2018-01-01", periods=n, freq=freq)
        )
        y = 50 + 10 * k + 5 * np.sin(np.arange(n) / 2)
        rows.append(pd.DataFrame({"unique_id": f"s{k}", "ds": ds, "y": y}))
    return pd.concat(rows, ignore_index=True)


# --------------------------------------------------------------------------------------------
# Every input format: fit, predict, and get the same kind of object back


def test_series_datetime_round_trip(monthly_series):
    f = Seq2SeqForecaster(**tiny()).fit(monthly_series)
    pred = f.predict()
    assert isinstance(pred, pd.Series)
    assert pred.name == "sales"
    expected = pd.date_range("2021-01-01", periods=3, freq="MS")
    pd.testing.assert_index_equal(pred.index, expected, check_names=False)
    assert np.isfinite(pred.to_numpy()).all()
    assert f.freq_ == "MS"


def test_series_period_index():
    index = pd.period_range("2000Q1", periods=40, freq="Q")
    y = pd.Series(np.arange(40.0) % 4 + 10, index=index)
    pred = Seq2SeqForecaster(**tiny(horizon=4)).fit(y).predict()
    assert isinstance(pred.index, pd.PeriodIndex)
    assert list(pred.index.astype(str)) == ["2010Q1", "2010Q2", "2010Q3", "2010Q4"]


def test_series_range_index():
    y = pd.Series(np.sin(np.arange(50.0)), index=pd.RangeIndex(10, 60))
    pred = Seq2SeqForecaster(**tiny()).fit(y).predict()
    assert list(pred.index) == [60, 61, 62]


def test_integer_index_with_step():
    y = pd.Series(np.sin(np.arange(30.0)), index=pd.Index(np.arange(0, 60, 2)))
    pred = Seq2SeqForecaster(**tiny()).fit(y).predict()
    assert list(pred.index) == [60, 62, 64]


def test_wide_frame_round_trip_with_late_starting_series():
    index = pd.date_range("2020-01-06", periods=40, freq="W-MON")
    wide = pd.DataFrame(
        {"a": np.arange(40.0), "b": np.cos(np.arange(40.0)) + 5, "c": np.arange(40.0) * 2},
        index=index,
    )
    wide.loc[index[:25], "c"] = np.nan  # a product launched later
    pred = Seq2SeqForecaster(**tiny()).fit(wide).predict()
    assert isinstance(pred, pd.DataFrame)
    assert list(pred.columns) == ["a", "b", "c"]
    assert pred.shape == (3, 3)
    assert pred.index[0] == pd.Timestamp("2020-10-12")
    assert pred.index.freqstr == "W-MON"


def test_long_frame_round_trip_each_series_from_its_own_end():
    y = _long_frame()
    pred = Seq2SeqForecaster(**tiny()).fit(y).predict()
    assert list(pred.columns) == ["unique_id", "ds", "y"]
    assert len(pred) == 9
    for uid, n in zip(["s0", "s1", "s2"], (30, 24, 40), strict=True):
        ds = pred.loc[pred.unique_id == uid, "ds"]
        first = pd.Timestamp("2018-01-01") + pd.DateOffset(months=n)
        assert list(ds) == list(pd.date_range(first, periods=3, freq="MS"))


def test_long_frame_unsorted_rows_give_the_same_forecast():
    y = _long_frame()
    shuffled = y.sample(frac=1.0, random_state=0)
    a = Seq2SeqForecaster(**tiny()).fit(y).predict()
    b = Seq2SeqForecaster(**tiny()).fit(shuffled).predict()
    np.testing.assert_array_equal(a["y"].to_numpy(), b["y"].to_numpy())


def test_long_frame_integer_ds():
    pred = Seq2SeqForecaster(**tiny()).fit(_long_frame(integer=True)).predict()
    assert list(pred.loc[pred.unique_id == "s1", "ds"]) == [124, 125, 126]


def test_numpy_1d_and_2d():
    one = np.sin(np.arange(40.0))
    assert Seq2SeqForecaster(**tiny()).fit(one).predict().shape == (3,)
    two = np.stack([one, one * 2 + 1], axis=1)  # time x series
    assert Seq2SeqForecaster(**tiny()).fit(two).predict().shape == (3, 2)


def test_global_model_over_series_of_different_lengths():
    f = Seq2SeqForecaster(**tiny()).fit(_long_frame(lengths=(8, 50, 15)))
    assert f.n_series_ == 3
    assert f.series_ids_ == ["s0", "s1", "s2"]


# --------------------------------------------------------------------------------------------
# Short series are padded and the padding masked


def test_short_series_padding_gets_zero_attention():
    y = _long_frame(lengths=(5, 40))  # s0 is shorter than input_size=8
    # baseline=None: the hand-built batch below carries no Theta states
    f = Seq2SeqForecaster(**tiny(horizon=2, input_size=8, baseline=None)).fit(y)
    pred = f.predict()
    assert np.isfinite(pred["y"]).all()
    lengths = np.diff(f.context_.offsets)
    assert list(lengths) == [5, 8]
    batch = f.context_.window_batches(None, f.device_).batch(np.arange(2))
    assert batch["mask"][0].tolist() == [False] * 3 + [True] * 5
    _, weights = rollout.roll_out(f.module_, batch, 2, return_weights=True)  # (B, H, I)
    assert (weights[0, :, :3] == 0).all()
    torch.testing.assert_close(weights.sum(-1), torch.ones(2, 2))


def test_series_shorter_than_input_size_alone():
    y = pd.Series(np.arange(10.0), index=pd.date_range("2020-01-01", periods=10, freq="D"))
    pred = Seq2SeqForecaster(**tiny(input_size=20)).fit(y).predict()
    assert pred.shape == (3,) and np.isfinite(pred).all()


# --------------------------------------------------------------------------------------------
# Determinism, save/load, clone


def test_same_random_state_same_forecast(monthly_series):
    # No baseline: a 2-epoch network falls back to its baseline, the same for every seed.
    a = Seq2SeqForecaster(**tiny(random_state=7, baseline=None)).fit(monthly_series).predict()
    b = Seq2SeqForecaster(**tiny(random_state=7, baseline=None)).fit(monthly_series).predict()
    c = Seq2SeqForecaster(**tiny(random_state=8, baseline=None)).fit(monthly_series).predict()
    pd.testing.assert_series_equal(a, b)
    assert not np.allclose(a, c)


def test_fit_does_not_touch_the_global_torch_rng(monthly_series):
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    Seq2SeqForecaster(**tiny()).fit(monthly_series)
    torch.testing.assert_close(torch.rand(3), expected)


@pytest.mark.parametrize("kind", ["series", "long", "wide", "array"])
def test_save_load_predicts_identically(tmp_path, monthly_series, kind):
    y = {
        "series": monthly_series,
        "long": _long_frame(),
        "wide": monthly_series.to_frame(),
        "array": monthly_series.to_numpy(),
    }[kind]
    f = Seq2SeqForecaster(**tiny(attention="luong", cell="gru")).fit(y)
    path = tmp_path / "model.tsattn"
    f.save(path)
    g = tsattn.load(path)
    assert type(g) is Seq2SeqForecaster
    assert g.get_params() == f.get_params()
    a, b = f.predict(), g.predict()
    if isinstance(a, np.ndarray):
        np.testing.assert_array_equal(a, b)
    elif isinstance(a, pd.Series):
        pd.testing.assert_series_equal(a, b)
    else:
        pd.testing.assert_frame_equal(a, b)
    assert list(tmp_path.iterdir()) == [path]  # no temporary file left behind
    pd.testing.assert_frame_equal(f.history_, g.history_)


def test_load_refuses_a_pickle(tmp_path):
    import pickle

    path = tmp_path / "evil.tsattn"
    path.write_bytes(pickle.dumps({"x": 1}))
    with pytest.raises(ValueError, match="not a tsattn model file"):
        tsattn.load(path)


def test_predict_before_fit():
    from sklearn.exceptions import NotFittedError

    with pytest.raises(NotFittedError):
        Seq2SeqForecaster().predict()


def test_history_has_one_row_per_epoch(monthly_series):
    f = Seq2SeqForecaster(**tiny(max_epochs=3, early_stopping_patience=None)).fit(monthly_series)
    assert list(f.history_.columns) == ["epoch", "train_loss", "valid_loss", "seconds"]
    assert list(f.history_.epoch) == [1, 2, 3]


def test_inputs_are_not_modified(monthly_series):
    wide = pd.DataFrame({"a": monthly_series.to_numpy(), "b": monthly_series.to_numpy() * 2})
    wide.iloc[:5, 1] = np.nan
    long = _long_frame().sample(frac=1.0, random_state=1)
    array = monthly_series.to_numpy().copy()
    for y in (monthly_series, wide, long, array):
        before = copy.deepcopy(y)
        Seq2SeqForecaster(**tiny(max_epochs=1)).fit(y).predict()
        if isinstance(y, np.ndarray):
            np.testing.assert_array_equal(y, before)
        elif isinstance(y, pd.Series):
            pd.testing.assert_series_equal(y, before)
        else:
            pd.testing.assert_frame_equal(y, before)


def test_device_cpu_and_torch_device(monthly_series):
    for device in ("cpu", torch.device("cpu"), "auto"):
        f = Seq2SeqForecaster(**tiny(max_epochs=1, device=device)).fit(monthly_series)
        assert f.device_ == torch.device("cpu")


# --------------------------------------------------------------------------------------------
# Accuracy on real data


def test_air_passengers_beats_seasonal_naive():
    from tsattn.forecast.metrics import smape

    y = load_air_passengers()
    train, test = y.iloc[:-12], y.iloc[-12:]
    forecaster = Seq2SeqForecaster(
        horizon=12, input_size=24, hidden_size=32, batch_size=32, max_epochs=40, random_state=0,
        verbose=False,
    )
    pred = forecaster.fit(train).predict()
    naive = train.iloc[-12:].to_numpy()
    assert smape(test.to_numpy(), pred.to_numpy()) < smape(test.to_numpy(), naive)
