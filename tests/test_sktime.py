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
pytestmark = pytest.mark.filterwarnings("ignore:The default of config:FutureWarning")


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
