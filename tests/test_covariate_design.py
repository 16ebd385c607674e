"""The covariate design's rules: what the network reads of a column, by its kind and role."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch
from conftest import tiny

from tsattn import Seq2SeqForecaster
from tsattn.core.gate import CovariateGate
from tsattn.forecast.covariates.design import fit_design
from tsattn.forecast.covariates.scaling import column_forms
from tsattn.forecast.panel.conversion import to_panel
from tsattn.plotting import partial_dependence, plot_partial_dependence

N, H = 60, 4


def _panel(seed=0):
    """Two series whose demand is a U-shape in temperature, a holiday flag and a trending index."""
    rng = np.random.default_rng(seed)
    ds = pd.date_range("2014-01-01", periods=N + H, freq="D")
    frames = []
    for k, offset in enumerate((0.0, 12.0)):
        temp = offset + 10 * np.sin(np.arange(N + H) / 9) + rng.normal(0, 1, N + H)
        holiday = (np.arange(N + H) % 11 == 0).astype(float)
        demand = 50 + 0.2 * (temp - 14) ** 2 - 8 * holiday + rng.normal(0, 0.5, N + H)
        frames.append(
            pd.DataFrame(
                {"unique_id": f"s{k}", "ds": ds, "y": demand, "temp": temp,
                 "holiday": holiday, "index": 100 + np.arange(N + H) + k}
            )
        )  # fmt: skip
    data = pd.concat(frames, ignore_index=True)
    return data[data.ds < ds[N]][["unique_id", "ds", "y"]], data.drop(columns="y")


def test_column_forms_follow_kind_and_role():
    binary = np.array([True, False, False, True, False])  # flag, 2 known numeric | flag, numeric
    centred, changes = column_forms(binary, 3, "auto")
    # known numeric: level and change; past numeric: change only; flags as they are
    assert centred.tolist() == [False, False, False, False, True]
    assert changes.tolist() == [False, True, True, False, False]
    centred, changes = column_forms(binary, 3, "window")
    assert centred.tolist() == [False, True, True, False, True] and not changes.any()
    centred, changes = column_forms(binary, 3, "series")
    assert not centred.any() and not changes.any()


def test_no_transform_depends_on_a_columns_sign():
    # the same temperatures in Celsius and shifted below zero read alike after scaling
    y, X = _panel()
    panel = to_panel(y)
    warm = fit_design(panel, X, None, ["index"], False)
    cold = fit_design(panel, X.assign(temp=X.temp - 100.0), None, ["index"], False)
    np.testing.assert_allclose(warm.history, cold.history, atol=1e-5)
    assert warm.spec.relative == cold.spec.relative == (False, False, False)


def test_known_levels_and_changes_reach_every_decoder_step_past_only_the_encoder():
    y, X = _panel()
    f = Seq2SeqForecaster(**tiny(horizon=H, past_covariates=["index"], covariate_selection=None))
    f.fit(y, X=X)
    spec = f.context_.spec
    assert spec.known == ("temp", "holiday") and spec.changes == (True, False)
    assert spec.centred == (False, False, True)  # the past-only index: its change only
    batch = f.context_.window_batches(X, torch.device("cpu")).batch(np.arange(2))
    # decoder: target, Theta baseline, temp's level, holiday, temp's change, at every step
    future = batch["target_in"][..., 2:].numpy()  # (2, H, 3)
    temp = X.pivot(index="ds", columns="unique_id", values="temp").to_numpy()  # (N + H, 2)
    level = (temp[N:].T - spec.loc[0]) / spec.scale[0]  # (2, H)
    np.testing.assert_allclose(future[..., 0], level, rtol=1e-5)
    history = (temp[N - 6 : N].T - spec.loc[0]) / spec.scale[0]  # the encoder's 6 steps
    np.testing.assert_allclose(
        future[..., 2], level - history.mean(1, keepdims=True), rtol=1e-4, atol=1e-5
    )
    holiday = X.pivot(index="ds", columns="unique_id", values="holiday").to_numpy()[N:].T
    np.testing.assert_array_equal(future[..., 1], holiday)
    # encoder: target, temp, holiday, temp's change, index's change (centred: mean 0)
    source = batch["source"].numpy()
    assert source.shape[-1] == 5
    np.testing.assert_allclose(source[..., 4].mean(1), 0.0, atol=1e-5)
    assert batch["target_in"].shape[-1] == 5  # nothing of the past-only column


def test_gate_and_dropout_are_off_by_default_and_a_gate_starts_half_open():
    f = Seq2SeqForecaster()
    assert (f.covariate_gate, f.covariate_dropout) == (False, 0.0)
    assert f.covariate_selection == "validation"
    assert f.covariate_scaling == "auto" and f.holidays is None and f.keep_covariates == ()
    gate = CovariateGate(2)
    np.testing.assert_allclose(gate.gates().numpy(), 0.5)


def test_partial_dependence_sets_a_known_column_over_the_horizon():
    y, X = _panel()
    params = tiny(horizon=H, max_epochs=3, baseline=None, covariate_selection=None)
    f = Seq2SeqForecaster(**params).fit(y, X=X)
    effects = partial_dependence(f, "temp", [0.0, 14.0, 30.0], X=X)
    assert list(effects.columns) == ["value", "unique_id", "ds", "forecast"]
    assert len(effects) == 3 * 2 * H
    means = effects.groupby("value")["forecast"].mean()
    assert means.nunique() == 3  # the forecast moves with the value
    # the values in X's own columns give predict's forecasts back
    same = partial_dependence(f, "holiday", [0.0], X=X.assign(holiday=0.0))
    np.testing.assert_allclose(
        same["forecast"], f.predict(X=X.assign(holiday=0.0))["y"], rtol=1e-5
    )
    # only the steps asked for change
    step2 = partial_dependence(f, "holiday", [0.0, 1.0], X=X.assign(holiday=0.0), steps=[2])
    wide = step2.pivot_table(index=["unique_id", "ds"], columns="value", values="forecast")
    moved = ~np.isclose(wide[0.0], wide[1.0])
    days = wide.index.get_level_values("ds")
    assert not moved[days < days.min() + pd.Timedelta(days=1)].any()
    with pytest.raises(ValueError, match="is none of the model.s"):
        partial_dependence(f, "nope", [0.0], X=X)
    with pytest.raises(ValueError, match="steps must lie in 1..4"):
        partial_dependence(f, "temp", [0.0], X=X, steps=[5])
    ax = plot_partial_dependence(effects)
    assert len(ax.get_lines()) == 3
    with pytest.raises(ValueError, match="not a series"):
        plot_partial_dependence(effects, unique_id="zz")
    with pytest.raises(TypeError, match="partial_dependence"):
        plot_partial_dependence(effects.drop(columns="value"))
