"""The sktime adapter: sktime's interface and checks around Seq2SeqForecaster."""

import inspect

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("sktime")

from sktime.forecasting.base import ForecastingHorizon  # noqa: E402

from tsattn import Seq2SeqForecaster  # noqa: E402
from tsattn.sktime import Seq2SeqSktimeForecaster  # noqa: E402

TINY = Seq2SeqSktimeForecaster.get_test_params()[0]
MONTHS = pd.period_range("2015-01", periods=48, freq="M")
# sktime announces a change of its remember_data default on every construction
pytestmark = [
    pytest.mark.filterwarnings("ignore:The default of config:FutureWarning"),
    # tsattn's short-history warning: these tests fit deliberately short series
    pytest.mark.filterwarnings("ignore:.*of the series have fewer than horizon:UserWarning"),
]


def monthly(offset=0.0, name="sales"):
    t = np.arange(48.0)
    return pd.Series(100 + offset + t + 10 * np.sin(2 * np.pi * t / 12), index=MONTHS, name=name)


def test_parameters_are_the_forecasters_stored_as_given():
    ours = inspect.signature(Seq2SeqSktimeForecaster).parameters
    theirs = dict(inspect.signature(Seq2SeqForecaster).parameters)
    theirs.pop("horizon")  # from fh
    theirs.pop("warm_start", None)  # sktime's fit resets the estimator: nothing to continue
    # The adapter's signature is built from the forecaster's: the two sets follow each other.
    assert set(ours) == set(theirs)
    assert all(p.kind == p.KEYWORD_ONLY for p in ours.values())
    different = {n for n in ours if ours[n].default != theirs[n].default}
    assert different == {"quantiles"}  # intervals on by default, as sktime users expect
    f = Seq2SeqSktimeForecaster(hidden_size=5, quantiles=[0.2, 0.5, 0.8])
    assert f.get_params()["hidden_size"] == 5 and f.get_params()["quantiles"] == [0.2, 0.5, 0.8]


def test_predict_is_the_wrapped_forecasters_forecast_at_the_steps_of_fh():
    y = monthly()
    whole = Seq2SeqSktimeForecaster(**TINY).fit(y, fh=[1, 2, 3])
    point = whole.predict()
    assert isinstance(point, pd.Series) and point.name == "sales"
    assert point.index.equals(pd.period_range("2019-01", periods=3, freq="M"))
    reference = Seq2SeqForecaster(3, **{**whole.get_params(), **TINY}).fit(
        pd.DataFrame({"unique_id": 0, "ds": MONTHS.to_timestamp(), "y": y.to_numpy()})
    )
    np.testing.assert_allclose(point.to_numpy(), reference.predict()["y"].to_numpy(), rtol=1e-6)
    # the same horizon (3) and seed, only steps 1 and 3 asked for
    some = Seq2SeqSktimeForecaster(**TINY).fit(y, fh=ForecastingHorizon([3, 1]))
    picked = some.predict()
    assert list(picked.index) == [point.index[0], point.index[2]]
    np.testing.assert_allclose(picked.to_numpy(), point.iloc[[0, 2]].to_numpy(), rtol=1e-6)


def test_quantiles_and_intervals_are_the_calibrated_bands():
    y = monthly()
    f = Seq2SeqSktimeForecaster(**TINY).fit(y, fh=[1, 2, 3])
    q = f.predict_quantiles(alpha=[0.1, 0.5, 0.9])
    assert list(q.columns) == [("sales", 0.1), ("sales", 0.5), ("sales", 0.9)]
    band = f.forecaster_.predict_interval(coverage=0.8)
    np.testing.assert_allclose(q[("sales", 0.1)], band["lower"], rtol=1e-6)
    np.testing.assert_allclose(q[("sales", 0.9)], band["upper"], rtol=1e-6)
    np.testing.assert_allclose(q[("sales", 0.5)], f.predict(), rtol=1e-6)
    interval = f.predict_interval(coverage=[0.5, 0.8])
    np.testing.assert_allclose(interval[("sales", 0.8, "lower")], band["lower"], rtol=1e-6)
    assert (interval[("sales", 0.5, "lower")] >= interval[("sales", 0.8, "lower")] - 1e-9).all()
    assert (interval[("sales", 0.5, "upper")] <= interval[("sales", 0.8, "upper")] + 1e-9).all()


def test_a_panel_is_one_global_model_forecast_per_instance():
    panel = pd.concat({"north": monthly(), "south": monthly(50.0)}, names=["store", "month"])
    panel = panel.to_frame()
    f = Seq2SeqSktimeForecaster(**TINY).fit(panel, fh=[1, 2])
    point = f.predict()
    future = pd.period_range("2019-01", periods=2, freq="M")
    assert point.index.equals(pd.MultiIndex.from_product([["north", "south"], future]))
    assert point.index.names == ["store", "month"] and list(point.columns) == ["sales"]
    inner = f.forecaster_.predict().sort_values(["unique_id", "ds"])
    np.testing.assert_allclose(point["sales"].to_numpy(), inner["y"].to_numpy(), rtol=1e-6)
    assert point.loc["south", "sales"].mean() > point.loc["north", "sales"].mean()
    assert f.predict_interval().shape == (4, 2)


def test_an_instance_ending_early_is_forecast_from_its_own_end_up_to_the_cutoffs_fh():
    ragged = pd.concat({"a": monthly(), "b": monthly(50.0).iloc[:-2]}).to_frame()
    f = Seq2SeqSktimeForecaster(**TINY).fit(ragged, fh=[1, 2])
    assert f.forecaster_.horizon == 4  # "b" needs 2 steps to the cutoff, then 2 more
    point = f.predict()
    future = pd.period_range("2019-01", periods=2, freq="M")
    assert point.index.equals(pd.MultiIndex.from_product([["a", "b"], future]))
    inner = f.forecaster_.predict()
    a = inner[inner.unique_id == 0].sort_values("ds")["y"].to_numpy()
    b = inner[inner.unique_id == 1].sort_values("ds")["y"].to_numpy()
    np.testing.assert_allclose(point.loc["a", "sales"], a[:2], rtol=1e-6)
    np.testing.assert_allclose(point.loc["b", "sales"], b[2:], rtol=1e-6)


def test_covariates_reach_the_forecaster_as_a_long_frame_over_the_future_steps():
    y = monthly()
    months = pd.period_range("2015-01", periods=51, freq="M")
    X = pd.DataFrame({"promo": (np.arange(51) % 4 == 0).astype(float)}, index=months)
    f = Seq2SeqSktimeForecaster(**TINY).fit(y, X=X.iloc[:48], fh=[1, 2, 3])
    point = f.predict(X=X.iloc[48:])
    long_X = pd.DataFrame(
        {"promo": X["promo"].to_numpy(), "unique_id": 0, "ds": months.to_timestamp()}
    )
    expected = f.forecaster_.predict(X=long_X)["y"].to_numpy()
    np.testing.assert_allclose(point.to_numpy(), expected, rtol=1e-6)


def test_points_only_and_bad_input_are_refused_clearly():
    y = monthly()
    points = Seq2SeqSktimeForecaster(**{**TINY, "quantiles": None})
    assert points.get_tag("capability:pred_int") is False
    points.fit(y, fh=[1])
    with pytest.raises(NotImplementedError):
        points.predict_interval()
    with pytest.raises(NotImplementedError, match="can not perform in-sample prediction"):
        Seq2SeqSktimeForecaster(**TINY).fit(y, fh=[0, 1])


@pytest.mark.slow
def test_sktime_check_estimator_passes():
    from sktime.utils.estimator_checks import check_estimator

    results = check_estimator(Seq2SeqSktimeForecaster, raise_exceptions=False)
    failures = {name: result for name, result in results.items() if result != "PASSED"}
    assert len(results) > 100
    assert failures == {}


# ----------------------------------------------------------------------------------------------
# DatetimeIndex panels, indexes without freq, update, evaluate and grid search

WEEKS = pd.date_range("2021-01-04", periods=60, freq="W-MON")


def weekly_panel(ragged=False):
    """Two stores' weekly sales on a (store, week) MultiIndex of timestamps."""
    t = np.arange(60.0)
    a = pd.Series(100 + t + 10 * np.sin(2 * np.pi * t / 13), index=WEEKS)
    b = pd.Series(300 + 2 * t, index=WEEKS)
    if ragged:
        b = b.iloc[:-3]
    return pd.concat({"a": a, "b": b}, names=["store", "week"]).to_frame("sales")


def test_a_datetime_panel_ending_at_different_weeks_is_forecast_at_its_dates():
    panel = weekly_panel(ragged=True)
    f = Seq2SeqSktimeForecaster(**TINY).fit(panel, fh=range(1, 9))
    assert f.cutoff.freq is None  # sktime cannot read the frequency off a ragged panel
    point = f.predict()
    future = pd.date_range(WEEKS[-1], periods=9, freq="W-MON")[1:]
    assert point.index.equals(pd.MultiIndex.from_product([["a", "b"], future]))
    assert np.isfinite(point["sales"]).all()
    assert f.predict_interval(coverage=0.8).shape == (16, 2)
    assert f.predict_quantiles(alpha=[0.1, 0.9]).shape == (16, 2)
    # fh as dates gives the same forecasts
    dates = ForecastingHorizon(future, is_relative=False)
    same = Seq2SeqSktimeForecaster(**TINY).fit(panel, fh=dates).predict()
    np.testing.assert_allclose(same["sales"], point["sales"], rtol=1e-6)


def test_a_series_whose_index_has_no_freq_is_forecast():
    y = pd.Series(100 + np.arange(60.0) % 13, index=pd.DatetimeIndex(list(WEEKS)), name="sales")
    assert y.index.freq is None
    point = Seq2SeqSktimeForecaster(**TINY).fit(y, fh=[1, 2, 3]).predict()
    assert list(point.index) == list(pd.date_range(WEEKS[-1], periods=4, freq="W-MON")[1:])


def test_update_without_refitting_forecasts_from_the_new_end():
    panel = weekly_panel()
    first, later = panel[panel.index.get_level_values(1) < WEEKS[50]], panel
    f = Seq2SeqSktimeForecaster(**TINY).fit(first, fh=range(1, 5))
    before = f.predict()
    weights = {k: v.clone() for k, v in f.forecaster_.module_.state_dict().items()}
    f.update(later[later.index.get_level_values(1) >= WEEKS[50]], update_params=False)
    after = f.predict()
    future = pd.date_range(WEEKS[-1], periods=5, freq="W-MON")[1:]
    assert after.index.equals(pd.MultiIndex.from_product([["a", "b"], future]))
    # the fitted network, forecasting from the histories up to the new cutoff
    for name, value in f.forecaster_.module_.state_dict().items():
        assert torch_equal(value, weights[name])
    long = pd.DataFrame(
        {
            "unique_id": np.repeat([0, 1], 60),
            "ds": np.tile(WEEKS, 2),
            "y": later["sales"].to_numpy(),
        }
    )
    expected = f.forecaster_.predict(y=long).sort_values(["unique_id", "ds"])["y"].to_numpy()
    np.testing.assert_allclose(after["sales"].to_numpy(), expected, rtol=1e-6)
    # store b grows by 2 a week: forecasts from 10 weeks later are about 20 higher
    assert after.loc["b", "sales"].mean() > before.loc["b", "sales"].mean() + 10
    single = Seq2SeqSktimeForecaster(**TINY).fit(first, fh=range(1, 5))
    got = single.update_predict_single(
        later[later.index.get_level_values(1) >= WEEKS[50]], update_params=False
    )
    np.testing.assert_allclose(got.to_numpy(), after.to_numpy(), rtol=1e-6)
    # the adapter keeps the histories itself: the same without sktime's remembered data
    forgetful = Seq2SeqSktimeForecaster(**TINY).set_config(remember_data=False)
    forgetful.fit(first, fh=range(1, 5))
    forgetful.update(later[later.index.get_level_values(1) >= WEEKS[50]], update_params=False)
    np.testing.assert_allclose(forgetful.predict().to_numpy(), after.to_numpy(), rtol=1e-6)


def torch_equal(a, b) -> bool:
    return bool((a == b).all())


def test_update_with_refitting_trains_on_everything_seen():
    panel = weekly_panel()
    early = panel[panel.index.get_level_values(1) < WEEKS[50]]
    f = Seq2SeqSktimeForecaster(**TINY).fit(early, fh=[1, 2])
    f.update(panel[panel.index.get_level_values(1) >= WEEKS[50]], update_params=True)
    whole = Seq2SeqSktimeForecaster(**TINY).fit(panel, fh=[1, 2])
    np.testing.assert_allclose(f.predict().to_numpy(), whole.predict().to_numpy(), rtol=1e-5)


@pytest.mark.parametrize("strategy", ["refit", "no-update_params", "update"])
def test_sktime_evaluate_on_a_datetime_panel_scores_every_window(strategy):
    from sktime.forecasting.model_evaluation import evaluate
    from sktime.split import ExpandingWindowSplitter

    panel = weekly_panel()
    cv = ExpandingWindowSplitter(fh=list(range(1, 5)), initial_window=40, step_length=8)
    scores = evaluate(
        Seq2SeqSktimeForecaster(**TINY),
        cv,
        panel,
        strategy=strategy,
        return_data=True,
        error_score="raise",
    )
    assert len(scores) == 3
    assert scores.iloc[:, 0].notna().all()
    for _, window in scores.iterrows():
        start = window["cutoff"] + pd.offsets.Week(weekday=0)
        assert set(window["y_pred"].index.get_level_values(1)) == set(
            pd.date_range(start, periods=4, freq="W-MON")
        )
        # a forecast from the window's own end follows store b's trend (2 a week): about 2
        # off, where forecasts from an earlier window's end would be 14 and 30 off
        error = (window["y_pred"]["sales"] - window["y_test"]["sales"]).abs()
        assert error.loc["b"].mean() < 8


def test_grid_search_on_a_datetime_panel_picks_parameters_the_adapter_passes_on():
    from sktime.forecasting.model_selection import ForecastingGridSearchCV
    from sktime.split import ExpandingWindowSplitter

    panel = weekly_panel()
    cv = ExpandingWindowSplitter(fh=[1, 2], initial_window=48, step_length=6)
    search = ForecastingGridSearchCV(
        Seq2SeqSktimeForecaster(**TINY),
        cv,
        param_grid={"lr_schedule": [None, "cosine"]},
        error_score="raise",
    )
    search.fit(panel, fh=[1, 2])
    assert search.best_params_["lr_schedule"] in (None, "cosine")
    assert search.cv_results_["mean_test_MeanAbsolutePercentageError"].notna().all()
    chosen = search.best_forecaster_.forecaster_.lr_schedule
    assert chosen == search.best_params_["lr_schedule"]
    assert (
        search.predict()
        .index.levels[1]
        .equals(pd.date_range(WEEKS[-1], periods=3, freq="W-MON")[1:])
    )
