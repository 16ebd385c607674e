"""Issue 18's estimator-side classes: each test fails on the code before the fix.

Class 3: no silent non-finite forecast; class 6: fitted state decides; class 7: one rule for
array X; class 12: sizes bounded by the data before allocating; class 13: parameters that
fit accepts keep working through predict, save and load.
"""

import numpy as np
import pandas as pd
import pytest
from conftest import tiny

import tsattn
from tsattn import Seq2SeqEnsemble, Seq2SeqForecaster, Seq2SeqRegressor, make_windows
from tsattn.forecast.covariates.design import fit_design
from tsattn.forecast.panel.conversion import to_panel

Y = pd.Series(10 + np.sin(np.arange(40.0)), index=pd.date_range("2020-01-01", periods=40))


def test_class3_a_diverged_model_never_forecasts_inf_silently():
    """Class 3: a learning rate of 1e10 is refused as divergence, never returned as inf."""
    with pytest.raises((ValueError, RuntimeError), match="diverge"):
        Seq2SeqForecaster(**tiny(learning_rate=1e10, baseline=None)).fit(Y).predict()


def test_class3_non_finite_forecasts_raise(monkeypatch):
    """Class 3: whatever makes the network's output non-finite, predict says so."""
    f = Seq2SeqForecaster(**tiny()).fit(Y)
    with monkeypatch.context() as patch:
        for parameter in f.module_.head.parameters():
            patch.setattr(parameter, "data", parameter.data * float("inf"))
        with pytest.raises(ValueError, match="not finite"):
            f.predict()


def test_class6_set_params_after_fit_does_not_change_forecasts():
    """Class 6: horizon, nonnegative or quantiles changed after fit: the fitted model decides."""
    f = Seq2SeqForecaster(**tiny(horizon=3)).fit(Y)
    before = f.predict()
    f.set_params(horizon=5, nonnegative=True, baseline=None, scaler="none")
    pd.testing.assert_series_equal(f.predict(), before)
    assert len(f.predict()) == 3 == f.horizon_


def test_class6_ensemble_combine_is_fitted_state():
    """Class 6: an invalid combine set after fit is not silently the mean."""
    e = Seq2SeqEnsemble(Seq2SeqForecaster(**tiny()), n_models=2).fit(Y)
    before = e.predict()
    e.set_params(combine="nonsense")
    pd.testing.assert_series_equal(e.predict(), before)


def test_class7_array_x_is_read_the_same_way_by_fit_and_predict():
    """Class 7: row r of an array X is step r in fit and predict; a shifted X changes nothing."""
    y = np.sin(np.arange(40.0)) + 3
    X = (np.arange(43) % 4 == 0).astype(float)[:, None]
    f = Seq2SeqForecaster(**tiny(covariate_selection=None)).fit(y, X=X)
    longer = np.concatenate([X, np.ones((20, 1))])
    np.testing.assert_allclose(f.predict(X=longer), f.predict(X=X))
    with pytest.raises(ValueError, match="does not cover"):
        f.predict(X=X[-3:])


def test_class12_huge_batch_size_trains_on_the_data_it_has():
    """Class 12: batch_size=10**9 on 30 points used to allocate gigabytes of indices."""
    f = Seq2SeqForecaster(**tiny(batch_size=10**9, max_epochs=1)).fit(Y.iloc[:30])
    assert np.isfinite(f.predict()).all()
    r = Seq2SeqRegressor(hidden_size=4, max_epochs=1, batch_size=10**9, verbose=False)
    X, T = make_windows(np.arange(40.0), input_size=5, horizon=2)
    assert r.fit(X, T).predict(X).shape == (len(X), 2)


def test_class12_huge_input_size_is_bounded_by_the_longest_series():
    """Class 12: input_size=10**7 on 40 points reads (and allocates) 40 steps, not 10**7."""
    f = Seq2SeqForecaster(**tiny(input_size=10**7, max_epochs=1)).fit(Y)
    assert f.input_size_ == len(Y)
    assert len(f.predict()) == 3


def test_class12_huge_hidden_size_is_refused_before_allocating():
    """Class 12: hidden_size=10**6 names the size and the memory instead of a torch error."""
    with pytest.raises(ValueError, match="hidden_size=1000000 .* GiB"):
        Seq2SeqForecaster(**tiny(hidden_size=10**6)).fit(Y)
    X, T = make_windows(np.arange(40.0), input_size=5, horizon=2)
    with pytest.raises(ValueError, match="GiB"):
        Seq2SeqRegressor(hidden_size=10**6, verbose=False).fit(X, T)


def test_class13_quantiles_as_an_array_save_and_load(tmp_path):
    """Class 13: quantiles as a numpy array fitted, but save failed."""
    f = Seq2SeqForecaster(**tiny(quantiles=np.array([0.1, 0.5, 0.9]))).fit(Y)
    f.save(tmp_path / "q.tsattn")
    g = tsattn.load(tmp_path / "q.tsattn")
    pd.testing.assert_frame_equal(g.predict_quantiles(), f.predict_quantiles())


def test_class13_quantiles_as_a_generator_are_refused():
    """Class 13: a generator was consumed by fit and predict_quantiles returned no columns."""
    with pytest.raises(TypeError, match="sequence of levels"):
        Seq2SeqForecaster(**tiny(quantiles=(q for q in (0.1, 0.9)))).fit(Y)


def test_class4_time_zone_name_survives_save_and_load(tmp_path):
    """Class 4: Europe/Berlin came back as a fixed +01:00, so stamps after a DST change were
    an hour off."""
    index = pd.date_range("2021-09-01", periods=60, freq="D", tz="Europe/Berlin")
    y = pd.Series(10 + np.sin(np.arange(60.0)), index=index)  # ends 2021-10-30, before the change
    f = Seq2SeqForecaster(**tiny(horizon=3)).fit(y)
    f.save(tmp_path / "tz.tsattn")
    g = tsattn.load(tmp_path / "tz.tsattn")
    stamps = g.predict().index
    assert str(stamps.tz) == "Europe/Berlin"
    assert list(stamps.hour) == [0, 0, 0]  # local midnight on both sides of the change
    pd.testing.assert_index_equal(stamps, f.predict().index)


def test_class4_hourly_covariates_across_the_autumn_change_are_two_hours():
    """Hourly X across a fall-back change: the two 02:00 hours of 31 Oct are two rows of X."""
    index = pd.date_range("2021-10-29", periods=80, freq="h", tz="Europe/Berlin")
    y = pd.Series(10 + np.sin(np.arange(80.0) / 4), index=index)
    X = pd.DataFrame({"flag": 0.0}, index=pd.date_range(index[0], periods=83, freq="h"))
    second = X.index[(X.index.day == 31) & (X.index.hour == 2)][1]  # the 02:00 in CET
    X.loc[second, "flag"] = 1.0
    design = fit_design(to_panel(y), X, None, [], False)
    column = design.history[:, 0]  # X over y's history, scaled
    assert (column == column.max()).sum() == 1  # one hour flagged, not its wall-time twin
    assert index[int(np.argmax(column))] == second
    assert Seq2SeqForecaster(**tiny()).fit(y, X=X).predict(X=X).shape == (3,)
