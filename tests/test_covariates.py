"""Covariates X (known in advance and past-only): alignment, scaling, formats, the spec, errors."""

import dataclasses
import json
import warnings

import numpy as np
import pandas as pd
import pytest
import torch
from conftest import tiny as tiny_params

import tsattn
from tsattn import Seq2SeqForecaster
from tsattn.forecast.covariates.design import fit_design, future_design
from tsattn.forecast.covariates.spec import CovariateSpec
from tsattn.forecast.panel.conversion import to_panel

pytestmark = pytest.mark.filterwarnings(
    # tsattn's short-history warning: these tests fit deliberately tiny series
    "ignore:.*of the series have fewer than horizon:UserWarning"
)

INDEX = pd.date_range("2021-01-04", periods=40, freq="W-MON")
FUTURE = pd.date_range(INDEX[-1], periods=4, freq="W-MON")[1:]  # the 3 forecast weeks


def tiny(**overrides):
    """A tiny forecaster that keeps every covariate (selection is tested on its own)."""
    return tiny_params(**{"covariate_selection": None, **overrides})


def _long(lengths=(40, 30)):
    """Two weekly series ending on the same date; s1 starts later."""
    parts = []
    for k, n in enumerate(lengths):
        ds = INDEX[-n:]
        parts.append(
            pd.DataFrame({"unique_id": f"s{k}", "ds": ds, "y": 10.0 + k + np.arange(n) % 4})
        )
    return pd.concat(parts, ignore_index=True)


def _long_x(ids=("s0", "s1"), end=FUTURE[-1]):
    """Covariates of every series over the whole calendar, future included."""
    ds = pd.date_range(INDEX[0], end, freq="W-MON")
    parts = [
        pd.DataFrame(
            {
                "unique_id": sid,
                "ds": ds,
                "promo": (np.arange(len(ds)) % 5 == 0).astype(int),
                "price": 2.0 + k + 0.1 * (np.arange(len(ds)) % 3),
            }
        )
        for k, sid in enumerate(ids)
    ]
    return pd.concat(parts, ignore_index=True)


# --------------------------------------------------------------------------------------------
# Alignment and scaling, by hand


def test_history_rows_are_aligned_with_every_series_timestamps():
    y = _long()
    X = _long_x().sample(frac=1.0, random_state=0)  # row order must not matter
    panel = to_panel(y)
    design = fit_design(panel, X, None, [], False)
    assert design.spec.known == ("promo", "price") and design.spec.past == ()
    # promo, price, then price's change (a known numeric column is read both ways)
    assert design.history.shape == (70, 3)
    # promo is a 0/1 flag: kept as it is; s1's rows are the last 30 weeks of the calendar
    expected_promo = np.r_[np.arange(40) % 5 == 0, np.arange(10, 40) % 5 == 0].astype(float)
    np.testing.assert_array_equal(design.history[:, 0], expected_promo)
    # price in its own units, standardised with one mean and deviation over both series
    raw = np.r_[2.0 + 0.1 * (np.arange(40) % 3), 3.0 + 0.1 * (np.arange(10, 40) % 3)]
    expected = (raw - raw.mean()) / raw.std()
    np.testing.assert_allclose(design.history[:, 1], expected, rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(design.history[:, 2], design.history[:, 1])
    assert design.spec.relative == (False, False) and design.spec.changes == (False, True)


def test_a_level_reads_the_same_in_every_series():
    # 26 degrees is one input whatever the series: the pooled standardisation, no per-series
    # ratio and no transform chosen by the column's sign
    y = _long(lengths=(40, 40))
    X = _long_x()
    cheap = X.unique_id == "s0"
    X.loc[cheap, "price"] = 26.0
    X.loc[~cheap, "price"] = np.where(np.arange((~cheap).sum()) % 2, -5.0, 26.0)
    design = fit_design(to_panel(y), X, None, [], False)
    at_26 = np.r_[np.ones(40, bool), np.arange(40) % 2 == 0]  # both series' rows at 26
    np.testing.assert_allclose(design.history[at_26, 1], design.history[0, 1], rtol=1e-6)
    assert np.all(design.history[~at_26, 1] < design.history[0, 1])


def test_decoder_reads_the_horizon_covariates_encoder_the_history():
    y = _long()
    X = _long_x()
    f = Seq2SeqForecaster(**tiny()).fit(y, X=X)
    context = f.context_
    batch = context.window_batches(X, torch.device("cpu")).batch(np.arange(2))
    # the encoder reads every series' last 6 scaled history rows of X beside the target
    history = context.covariate_context.reshape(2, 6, 3)
    np.testing.assert_array_equal(batch["source"][..., 1].numpy(), history[..., 0])
    # the decoder reads the horizon's rows of X after the target and the Theta baseline
    panel = to_panel(y)
    design = fit_design(panel, X, None, [], False)
    future = future_design(
        design.spec, X, panel.layout, panel.ids, panel.axis, panel.last, 3, design.means
    )
    # covariate_scaling="auto": price (known, not a 0/1 flag) is read as its level and as its
    # change, the level minus its mean over the window's history, at history and horizon
    # steps alike; promo stays as it is
    mean = history[..., 1].mean(1)  # (2,)
    np.testing.assert_allclose(batch["source"][..., 2].numpy(), history[..., 1])
    np.testing.assert_allclose(
        batch["source"][..., 3].numpy(), history[..., 1] - mean[:, None], atol=1e-6
    )
    expected = future.copy()
    expected[..., 2] -= mean[:, None]
    np.testing.assert_allclose(batch["target_in"][..., 2:].numpy(), expected, rtol=1e-5, atol=1e-6)
    assert context.spec.centred == (False, False) and context.spec.changes == (False, True)
    # sizes of the core: target + 3 covariate inputs into the encoder; target, the Theta
    # baseline and 3 covariate inputs into the decoder
    assert f.module_.config.source_features == 4
    assert f.module_.config.target_features == 5
    assert (f.module_.config.source_covariates, f.module_.config.target_covariates) == (3, 3)
    # "series" reads the levels only, as they are scaled for all series
    g = Seq2SeqForecaster(**tiny(covariate_scaling="series")).fit(y, X=X)
    batch = g.context_.window_batches(X, torch.device("cpu")).batch(np.arange(2))
    assert g.context_.spec.centred == (False, False) and g.context_.spec.changes == (False, False)
    np.testing.assert_allclose(batch["target_in"][..., 2:].numpy(), future[..., :2], rtol=1e-6)
    # "window" reads the changes only
    w = Seq2SeqForecaster(**tiny(covariate_scaling="window")).fit(y, X=X)
    batch = w.context_.window_batches(X, torch.device("cpu")).batch(np.arange(2))
    assert w.context_.spec.centred == (False, True) and w.context_.spec.changes == (False, False)
    np.testing.assert_allclose(
        batch["target_in"][..., 2:].numpy(), expected[..., [0, 2]], rtol=1e-5, atol=1e-6
    )


def test_known_covariates_change_the_forecast_past_ones_do_not():
    y = _long()
    X = _long_x()
    X["traffic"] = np.arange(len(X), dtype=float)
    # without a baseline, so that no fallback to it can hide what promo does
    f = Seq2SeqForecaster(**tiny(past_covariates=("traffic",), baseline=None)).fit(y, X=X)
    # y, promo, price, price's change, traffic's change (a past-only column: its change only)
    assert f.module_.config.source_features == 5
    # y, promo, price, price's change
    assert f.module_.config.target_features == 4
    base = f.predict(X=X)
    # predict does not need the past-only column, and its future values are never read
    no_traffic = f.predict(X=X.drop(columns="traffic"))
    pd.testing.assert_frame_equal(base, no_traffic)
    other = X.assign(traffic=-X["traffic"])
    pd.testing.assert_frame_equal(base, f.predict(X=other))
    promoted = X.assign(promo=np.where(X["ds"].isin(FUTURE), 1, X["promo"]))
    assert not np.allclose(base["y"], f.predict(X=promoted)["y"])


def test_covariates_teach_what_history_alone_cannot():
    # sales jump by 20 in promotion weeks, which come at random: only X can tell when
    rng = np.random.default_rng(0)
    n, n_series = 120, 4
    ds = pd.date_range("2015-01-05", periods=n + 3, freq="W-MON")
    promo = (rng.random((n_series, n + 3)) < 0.3).astype(int)
    sales = 10.0 + 20.0 * promo + rng.normal(0, 0.5, promo.shape)
    frames = [
        pd.DataFrame({"unique_id": f"s{k}", "ds": ds, "y": sales[k], "promo": promo[k]})
        for k in range(n_series)
    ]
    data = pd.concat(frames, ignore_index=True)
    X = data.drop(columns="y")
    train, test = data[data.ds < ds[n]].drop(columns="promo"), data[data.ds >= ds[n]]
    params = tiny(max_epochs=10, hidden_size=16, learning_rate=1e-2)
    with_x = Seq2SeqForecaster(**params).fit(train, X=X).predict(X=X)
    without = Seq2SeqForecaster(**params).fit(train).predict()
    error_with = np.abs(with_x["y"].to_numpy() - test["y"].to_numpy()).mean()
    error_without = np.abs(without["y"].to_numpy() - test["y"].to_numpy()).mean()
    assert error_with < 0.5 * error_without


# --------------------------------------------------------------------------------------------
# Every format of X mirrors y's


def test_series_y_with_a_frame_of_covariates():
    y = pd.Series(np.arange(40.0) % 7, index=INDEX, name="sales")
    X = pd.DataFrame({"promo": np.arange(43) % 2}, index=INDEX.append(FUTURE))
    f = Seq2SeqForecaster(**tiny()).fit(y, X=X)
    pred = f.predict(X=X.loc[FUTURE])
    assert isinstance(pred, pd.Series) and list(pred.index) == list(FUTURE)


def test_wide_y_with_multiindex_or_shared_covariates():
    y = pd.DataFrame({"a": np.arange(40.0) % 5, "b": np.arange(40.0) % 3 + 1}, index=INDEX)
    index = INDEX.append(FUTURE)
    per_series = pd.DataFrame(
        np.stack([np.arange(43) % 2, np.arange(43) % 3], axis=1),
        index=index,
        columns=pd.MultiIndex.from_tuples([("a", "promo"), ("b", "promo")]),
    )
    pred = Seq2SeqForecaster(**tiny()).fit(y, X=per_series).predict(X=per_series)
    assert list(pred.columns) == ["a", "b"] and len(pred) == 3
    shared = pd.DataFrame({"holiday": np.arange(43) % 4 == 0}, index=index)
    pred = Seq2SeqForecaster(**tiny()).fit(y, X=shared).predict(X=shared)
    assert pred.shape == (3, 2)


def test_array_y_with_array_covariates():
    y = np.sin(np.arange(40.0))[:, None] * np.array([1.0, 2.0])  # (T, N)
    X = np.stack([np.arange(43) % 2, np.arange(43) % 3], axis=1).astype(float)  # (T + H, C)
    f = Seq2SeqForecaster(**tiny()).fit(y, X=X)
    assert f.predict(X=X).shape == (3, 2)
    # one rule in fit and predict: row r is time step r, so extra rows after the horizon are
    # ignored and an X that stops short of it is refused
    longer = np.concatenate([X, np.full((5, 2), 7.0)])
    np.testing.assert_allclose(f.predict(X=longer), f.predict(X=X))
    with pytest.raises(ValueError, match="does not cover the 3 steps"):
        f.predict(X=X[-3:])
    per_series = np.repeat(X[:, None, :], 2, axis=1)  # (T + H, N, C)
    assert Seq2SeqForecaster(**tiny()).fit(y, X=per_series).predict(X=per_series).shape == (3, 2)


def test_save_and_load_keep_covariates_static_and_quantiles(tmp_path):
    y, X = _long(), _long_x()
    static = pd.DataFrame({"kind": ["x", "y"], "size": [1.0, 3.0]}, index=["s0", "s1"])
    f = Seq2SeqForecaster(**tiny(quantiles=(0.1, 0.5, 0.9), calendar_features=True))
    f.fit(y, X=X, static=static)
    f.save(tmp_path / "m.tsattn")
    g = tsattn.load(tmp_path / "m.tsattn")
    pd.testing.assert_frame_equal(f.predict(X=X), g.predict(X=X))
    pd.testing.assert_frame_equal(f.predict_interval(X=X), g.predict_interval(X=X))
    pd.testing.assert_frame_equal(f.attention_weights(X=X), g.attention_weights(X=X))
    with pytest.raises(ValueError, match="pass X covering"):
        g.predict()


# --------------------------------------------------------------------------------------------
# The spec: built once, frozen, saved as JSON


def test_spec_is_frozen_and_holds_no_list_of_the_caller():
    known = ["promo"]
    spec = CovariateSpec(known=known, loc=[0.0], scale=[1.0], relative=[False])
    known.append("price")  # the caller's list changes; the spec does not
    assert spec.known == ("promo",) and spec.x_names == ["promo"]
    with pytest.raises(dataclasses.FrozenInstanceError):
        spec.known = ("price",)
    changed = dataclasses.replace(spec, past=["traffic"])
    assert changed.past == ("traffic",) and spec.past == ()
    assert changed.x_names == ["promo", "traffic"] and changed.n_columns == 2


def test_spec_json_round_trip_matches_the_saved_form():
    static = pd.DataFrame({"kind": ["x", "y"], "size": [1.0, 3.0]}, index=["s0", "s1"])
    design = fit_design(to_panel(_long()), _long_x(), static, ["price"], ["week"])
    spec = design.spec
    assert spec.known == ("promo",) and spec.past == ("price",) and spec.calendar == ("week",)
    assert spec.n_future == 1 + 2 and spec.n_columns == 4 and design.history.shape == (70, 4)
    state = json.loads(json.dumps(spec.to_json()))  # what a model file holds
    assert state["known"] == ["promo"] and state["static"][0]["levels"] == ["x", "y"]
    assert set(state) == {
        "known", "past", "calendar", "loc", "scale", "relative", "static", "low", "high",
        "centred", "dropped", "changes", "holidays",
    }  # fmt: skip
    assert state["low"] == [0.0, 2.0] and state["high"] == [1.0, 3.2]
    assert CovariateSpec.from_json(state) == spec
    assert CovariateSpec.from_json({}) == CovariateSpec() == CovariateSpec.from_json(None)


def test_spec_from_json_refuses_unknown_keys():
    with pytest.raises(ValueError, match=r"unknown keys \['x_columns'\]"):
        CovariateSpec.from_json({"known": ["promo"], "x_columns": ["promo"]})


def test_future_design_scales_with_the_fitted_spec():
    y, X = _long(), _long_x()
    panel = to_panel(y)
    design = fit_design(panel, X, None, [], False)
    future = future_design(
        design.spec, X, panel.layout, panel.ids, panel.axis, panel.last, 3, design.means
    )
    assert future.shape == (2, 3, 3)  # promo, price, price's change (centred per window)
    promo = X.set_index(["unique_id", "ds"])["promo"]
    expected = [[promo[(sid, ds)] for ds in FUTURE] for sid in ("s0", "s1")]
    np.testing.assert_array_equal(future[..., 0], expected)  # a 0/1 flag stays as it is
    # price standardised with fit's loc and scale, in its own units
    price = X.set_index(["unique_id", "ds"])["price"]
    raw = np.array([[price[(sid, ds)] for ds in FUTURE] for sid in ("s0", "s1")])
    spec = design.spec
    expected = (raw - spec.loc[1]) / spec.scale[1]
    np.testing.assert_allclose(future[..., 1], expected, rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(future[..., 2], future[..., 1])


# --------------------------------------------------------------------------------------------
# Errors, raised before training


@pytest.fixture
def no_training(monkeypatch):
    import tsattn.estimator

    def fail(*args, **kwargs):
        raise AssertionError("training started before the bad input was caught")

    monkeypatch.setattr(tsattn.estimator, "train", fail)


def _fit_errors():
    y, X = _long(), _long_x()
    static = pd.DataFrame({"size": [1.0, 3.0]}, index=["s0", "s1"])
    return {
        "history not covered": (
            y,
            dict(X=X[X.ds > INDEX[5]]),
            {},
            "does not cover y's history: it lacks series 's0' at 2021-01-04",
        ),
        "missing series": (y, dict(X=X[X.unique_id == "s0"]), {}, "lacks series 's1'"),
        "unknown series": (
            y,
            dict(X=pd.concat([X, X.assign(unique_id="zz")])),
            {},
            r"series ids that y does not have: \['zz'\]",
        ),
        "nan": (
            y,
            dict(X=X.assign(price=np.where(X.index == 3, np.nan, X.price))),
            {},
            "column 'price' has NaN for series 's0' at 2021-01-25",
        ),
        "text column": (y, dict(X=X.assign(promo="yes")), {}, "column 'promo' is not numeric"),
        "duplicate rows": (y, dict(X=pd.concat([X, X.iloc[:1]])), {}, "duplicate rows"),
        "not long": (y, dict(X=X.drop(columns="unique_id")), {}, r"X lacks \['unique_id'\]"),
        "unknown past column": (
            y,
            dict(X=X),
            dict(past_covariates=("traffic",)),
            r"past_covariates names \['traffic'\], which X does not have",
        ),
        "past without X": (y, {}, dict(past_covariates=("price",)), "but X is None"),
        "static missing a series": (
            y,
            dict(static=static.iloc[:1]),
            {},
            r"static lacks series \['s1'\]",
        ),
        "static nan": (
            y,
            dict(static=static.assign(size=[1.0, np.nan])),
            {},
            "static column 'size' has a missing value for series 's1'",
        ),
        "static id-like": (
            y,
            dict(static=pd.DataFrame({"code": ["a", "b"]}, index=["s0", "s1"])),
            dict(),
            None,
        ),
        "calendar on integers": (
            pd.Series(np.arange(30.0)),
            {},
            dict(calendar_features=True),
            "calendar_features need timestamps",
        ),
        "unknown calendar feature": (y, {}, dict(calendar_features=["fortnight"]), "fortnight"),
        "x for a series, array given": (
            pd.Series(np.arange(40.0), index=INDEX),
            dict(X=np.zeros((40, 1))),
            {},
            "X is an array but y was a pandas object",
        ),
    }


@pytest.mark.parametrize("case", sorted(_fit_errors()))
def test_fit_errors(case, no_training):
    y, fit_kwargs, params, words = _fit_errors()[case]
    if words is None:  # a valid call: it gets as far as training
        with pytest.raises(AssertionError, match="training started"):
            Seq2SeqForecaster(**tiny(**params)).fit(y, **fit_kwargs)
        return
    with pytest.raises((ValueError, TypeError), match=words):
        Seq2SeqForecaster(**tiny(**params)).fit(y, **fit_kwargs)


@pytest.fixture(scope="module")
def fitted():
    y, X = _long(), _long_x()
    return Seq2SeqForecaster(**tiny()).fit(y, X=X), X


@pytest.mark.parametrize(
    "change, words",
    [
        (lambda X: None, r"fit with covariates known in advance \['promo', 'price'\]: pass X"),
        (lambda X: X[X.ds < FUTURE[-1]], "does not cover the 3 steps after each series' end"),
        (lambda X: X[X.unique_id == "s1"], "lacks series 's0'"),
        (lambda X: X.assign(unique_id=X.unique_id + "x"), "series ids that y does not have"),
        (
            lambda X: X.assign(temperature=1.0),
            r"columns the model was not fit with: \['temperature'",
        ),
        (lambda X: X.drop(columns="price"), r"lacks the column\(s\) \['price'\]"),
        (
            lambda X: X.assign(promo=np.where(X.ds == FUTURE[1], np.nan, X.promo)),
            "column 'promo' has NaN for series 's0' at 2021-10-18",
        ),
    ],
)
def test_predict_errors(fitted, change, words):
    f, X = fitted
    with pytest.raises(ValueError, match=words):
        f.predict(X=change(X))


def _in_future(X, column, value):
    return X.assign(**{column: np.where(X.ds == FUTURE[1], value, X[column])})


def test_predict_refuses_a_price_typed_in_cents(fitted):
    f, X = fitted  # price in fit: 2.0 to 3.2 dollars
    with pytest.raises(ValueError) as info:
        f.predict(X=_in_future(X, "price", 250.0))
    message = str(info.value)
    assert "X column 'price' is 250" in message and "for series 's0'" in message
    assert "range fit saw (2 to 3.2" in message and "accepted: -10 to 15.2" in message


def test_predict_refuses_a_huge_value_before_it_turns_into_inf():
    # a column seen within +-15 in fit, then 1e4 at predict: refused, not forecast as inf
    y = _long()
    X = _long_x().assign(temp=lambda d: 15.0 * np.sin(np.arange(len(d))))
    f = Seq2SeqForecaster(**tiny()).fit(y, X=X)
    with pytest.raises(ValueError, match=r"X column 'temp' is 10000 .* far outside"):
        f.predict(X=_in_future(X, "temp", 1e4))
    with pytest.raises(ValueError, match=r"X column 'temp' has inf"):
        f.predict(X=_in_future(X, "temp", np.inf))


def test_predict_accepts_values_near_the_range_fit_saw(fitted):
    f, X = fitted
    # a price a tenth above fit's highest, and a promotion flag fit never saw at 1 in a column
    # of zeros, are ordinary inputs
    assert np.isfinite(f.predict(X=_in_future(X, "price", 3.5))["y"]).all()
    y = _long()
    flat = _long_x().assign(promo=0)
    g = Seq2SeqForecaster(**tiny()).fit(y, X=flat)
    assert g.context_.spec.low[0] == g.context_.spec.high[0] == 0.0
    assert np.isfinite(g.predict(X=_in_future(flat, "promo", 1))["y"]).all()
    with pytest.raises(ValueError, match="accepted: -10 to 10"):
        g.predict(X=_in_future(flat, "promo", 11))


def test_a_model_saved_without_the_range_predicts_unchecked(fitted):
    f, X = fitted
    spec = dataclasses.replace(f.context_.spec, low=(), high=())
    g = Seq2SeqForecaster(**tiny())
    g.__dict__.update(f.__dict__)
    g.context_ = f.context_.replace(spec=spec)
    assert np.isfinite(g.predict(X=_in_future(X, "price", 250.0))["y"]).all()


def test_x_given_to_a_model_fit_without_it():
    f = Seq2SeqForecaster(**tiny()).fit(_long())
    with pytest.raises(ValueError, match="fit without X"):
        f.predict(X=_long_x())


# --------------------------------------------------------------------------------------------
# Gate, feature dropout and selection


def test_gate_starts_nearly_closed_and_touches_only_the_covariates():
    from tsattn.core.gate import GATE_INIT, CovariateGate

    gate = CovariateGate(2, gate=True, dropout=0.5).eval()
    inputs = torch.ones(3, 4, 5)  # (B, T, F): the last 2 features are covariates
    out = gate(inputs).detach()
    np.testing.assert_array_equal(out[..., :3].numpy(), 1.0)
    np.testing.assert_allclose(out[..., 3:].numpy(), 1 / (1 + np.exp(-GATE_INIT)), rtol=1e-6)
    torch.manual_seed(0)
    dropped = CovariateGate(2, gate=False, dropout=0.5).train()(torch.ones(64, 4, 5))
    # a dropped feature is gone for the whole window; the kept ones are scaled by 1 / (1 - p)
    assert set(np.unique(dropped[..., 3:].numpy())) == {0.0, 2.0}
    assert (dropped[..., 3:].std(1) == 0).all()
    np.testing.assert_array_equal(dropped[..., :3].numpy(), 1.0)
    assert CovariateGate(0)(inputs) is inputs


def test_the_fitted_model_gates_every_covariate_and_old_configs_load_without():
    from tsattn.core.seq2seq import CoreConfig, Seq2Seq

    static = pd.DataFrame({"kind": ["x", "y"]}, index=["s0", "s1"])
    f = Seq2SeqForecaster(**tiny(past_covariates=["price"], covariate_gate=True)).fit(
        _long(), X=_long_x(), static=static
    )
    config = f.module_.config
    # encoder: promo, price, 2 static levels; decoder: promo and the 2 static levels
    assert (config.source_covariates, config.target_covariates) == (4, 3)
    assert f.module_.source_gate.logits.shape == (4,) and f.module_.target_gate.logits.shape == (3,)
    old = {k: v for k, v in dataclasses.asdict(config).items() if "covariate" not in k}
    module = Seq2Seq(CoreConfig(**old))  # a file written before the gates existed
    assert module.source_gate.logits is None and module.source_gate.n_gated == 0


def _promo_panel(n_series=6, n=80, seed=0):
    rng = np.random.default_rng(seed)
    ds = pd.date_range("2015-01-05", periods=n + 3, freq="W-MON")
    promo = (rng.random((n_series, n + 3)) < 0.3).astype(int)
    sales = 10.0 + 20.0 * promo + rng.normal(0, 0.5, promo.shape)
    frames = [
        pd.DataFrame(
            {"unique_id": f"s{k}", "ds": ds, "y": sales[k], "promo": promo[k],
             "noise": rng.normal(size=n + 3)}
        )
        for k in range(n_series)
    ]  # fmt: skip
    data = pd.concat(frames, ignore_index=True)
    return data[data.ds < ds[n]][["unique_id", "ds", "y"]], data.drop(columns="y")


def test_selection_drops_noise_and_gives_the_model_without_covariates():
    y, X = _promo_panel()
    # a column that says nothing: shuffling it cannot change the loss
    X = X.drop(columns="promo").assign(noise=0.5)
    params = tiny(covariate_selection="validation", max_epochs=3, hidden_size=16)
    with pytest.warns(UserWarning, match=r"dropped the known feature 'noise'.*\+0\.00%"):
        f = Seq2SeqForecaster(**params).fit(y, X=X)
    table = f.covariate_selection_
    assert table["why"].str.startswith("dropped").all()
    assert list(table["feature"]) == ["noise"] and not table["kept"].any()
    assert f.context_.spec.x_names == [] and f.context_.spec.dropped == ("noise",)
    # exactly the model fit without X: same seed, same inputs
    plain = Seq2SeqForecaster(**params).fit(y)
    pd.testing.assert_frame_equal(f.predict(X=X), plain.predict())
    pd.testing.assert_frame_equal(f.predict(), plain.predict())
    with pytest.raises(ValueError, match="covariate_selection dropped every"):
        f.covariate_importance(y, X)


def test_selection_keeps_a_column_that_helps_and_predict_ignores_the_dropped_one():
    y, X = _promo_panel()
    X = X.assign(noise=0.5)
    params = tiny(
        covariate_selection="validation", max_epochs=10, hidden_size=16, learning_rate=1e-2
    )
    f = Seq2SeqForecaster(**params).fit(y, X=X)
    kept = dict(zip(f.covariate_selection_["feature"], f.covariate_selection_["kept"], strict=True))
    assert kept == {"promo": True, "noise": False}
    assert f.context_.spec.known == ("promo",) and f.context_.spec.dropped == ("noise",)
    forecast = f.predict(X=X)  # X still holds the dropped column
    pd.testing.assert_frame_equal(forecast, f.predict(X=X.drop(columns="noise")))
    with pytest.raises(ValueError, match=r"columns the model was not fit with: \['other'\]"):
        f.predict(X=X.assign(other=1.0))


def test_selection_never_drops_a_column_named_in_keep_covariates():
    y, X = _promo_panel()
    X = X.drop(columns="promo").assign(noise=0.5)
    params = tiny(covariate_selection="validation", max_epochs=2, keep_covariates=["noise"])
    with warnings.catch_warnings():
        warnings.filterwarnings("error", message="covariate_selection dropped")
        f = Seq2SeqForecaster(**params).fit(y, X=X)
    table = f.covariate_selection_
    assert table["kept"].all() and table["why"].tolist() == ["kept: named in keep_covariates"]
    assert f.context_.spec.known == ("noise",) and f.context_.spec.dropped == ()


def test_selection_keeps_a_flag_known_in_advance_and_says_why():
    y, X = _promo_panel()
    X = X.assign(promo=0, noise=0.5)  # a flag that never fires: it cannot help either
    f = Seq2SeqForecaster(**tiny(covariate_selection="validation", max_epochs=2)).fit(y, X=X)
    why = dict(zip(f.covariate_selection_["feature"], f.covariate_selection_["why"], strict=True))
    assert why["promo"].startswith("kept: a 0/1 flag known in advance")
    assert why["noise"].startswith("dropped") and f.context_.spec.known == ("promo",)
