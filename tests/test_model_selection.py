"""PanelTimeSplit: rolling-origin splits over a panel's time axis, for scikit-learn's tools."""

import numpy as np
import pandas as pd
import pytest
from conftest import tiny
from sklearn.model_selection import GridSearchCV, cross_validate

from tsattn import Seq2SeqForecaster
from tsattn.model_selection import PanelTimeSplit

pytestmark = pytest.mark.filterwarnings(
    # tsattn's short-history warning: these tests fit deliberately tiny series
    "ignore:.*of the series have fewer than horizon:UserWarning"
)

DAYS = pd.date_range("2022-01-01", periods=12, freq="D")


def ragged_panel():
    """"a": 8 days, "b": the last 5 of them; rows shuffled, so positions are not times."""
    frame = pd.DataFrame(
        {
            "unique_id": ["a"] * 8 + ["b"] * 5,
            "ds": list(DAYS[:8]) + list(DAYS[3:8]),
            "y": np.arange(13.0),
        }
    )
    return frame.iloc[[12, 0, 5, 1, 8, 2, 3, 9, 4, 6, 10, 7, 11]].reset_index(drop=True)


def as_sets(splits):
    return [(sorted(train), sorted(test)) for train, test in splits]


def test_long_panel_splits_match_hand_computed_rows():
    panel = ragged_panel()
    # row positions of each series in time order (the frame above is shuffled)
    a = [1, 3, 5, 6, 8, 2, 9, 11]  # days 0..7 of "a"
    b = [4, 7, 10, 12, 0]  # days 3..7 of "b"
    assert panel.loc[a, "ds"].is_monotonic_increasing and (panel.loc[a, "unique_id"] == "a").all()
    assert panel.loc[b, "ds"].is_monotonic_increasing and (panel.loc[b, "unique_id"] == "b").all()
    splitter = PanelTimeSplit(horizon=2, n_splits=3, step=1)
    assert splitter.get_n_splits() == 3
    expected = [
        # cutoff 4 observations before each end: "b" keeps 1 training row
        (a[:4] + b[:1], a[4:6] + b[1:3]),
        (a[:5] + b[:2], a[5:7] + b[2:4]),
        (a[:6] + b[:3], a[6:8] + b[3:5]),
    ]
    got = list(splitter.split(panel))
    assert as_sets(got) == [(sorted(tr), sorted(te)) for tr, te in expected]
    for train, test in got:
        assert train.dtype.kind == "i" and np.all(np.diff(train) > 0) and np.all(np.diff(test) > 0)
        # every series' test starts the step after its training rows end
        tr, te = panel.iloc[train], panel.iloc[test]
        ends = tr.groupby("unique_id")["ds"].max() + pd.Timedelta(days=1)
        starts = te.groupby("unique_id")["ds"].min()
        pd.testing.assert_series_equal(ends, starts)


def test_a_series_too_short_for_a_cutoff_sits_that_split_out():
    panel = ragged_panel()
    a = [1, 3, 5, 6, 8, 2, 9, 11]
    b = [4, 7, 10, 12, 0]
    got = list(PanelTimeSplit(horizon=2, n_splits=3).split(panel))  # step = horizon
    assert as_sets(got) == [
        (sorted(a[:2]), sorted(a[2:4])),  # "b" has no row left before this cutoff
        (sorted(a[:4] + b[:1]), sorted(a[4:6] + b[1:3])),
        (sorted(a[:6] + b[:3]), sorted(a[6:8] + b[3:5])),
    ]


def test_wide_frames_series_and_arrays_split_rows_along_time():
    wide = pd.DataFrame({"a": np.arange(10.0), "b": np.arange(10.0)}, index=DAYS[:10])
    expected = [(list(range(6)), [6, 7]), (list(range(8)), [8, 9])]
    splitter = PanelTimeSplit(horizon=2, n_splits=2)
    assert as_sets(splitter.split(wide)) == expected
    assert as_sets(splitter.split(wide["a"])) == expected
    assert as_sets(splitter.split(wide.to_numpy())) == expected
    # rows out of time order: positions follow the index's order
    shuffled = wide.iloc[[9, 0, 1, 2, 3, 4, 5, 6, 7, 8]]
    first_train, first_test = next(splitter.split(shuffled))
    assert sorted(first_train) == [1, 2, 3, 4, 5, 6] and sorted(first_test) == [7, 8]


def test_bad_parameters_and_input_are_refused():
    panel = ragged_panel()
    with pytest.raises(ValueError, match="horizon must be an integer >= 1"):
        next(PanelTimeSplit(horizon=0).split(panel))
    with pytest.raises(TypeError, match="n_splits must be an integer"):
        next(PanelTimeSplit(horizon=2, n_splits=2.0).split(panel))
    with pytest.raises(ValueError, match="step must be an integer >= 1"):
        next(PanelTimeSplit(horizon=2, step=0).split(panel))
    with pytest.raises(ValueError, match="more than 8 observations, and the longest has 8"):
        next(PanelTimeSplit(horizon=2, n_splits=4).split(panel))
    with pytest.raises(ValueError, match="unique_id and ds but not both"):
        next(PanelTimeSplit(horizon=2).split(panel.drop(columns="unique_id")))
    with pytest.raises(TypeError, match="X must be a long DataFrame"):
        next(PanelTimeSplit(horizon=2).split(5))


def test_parameters_are_stored_as_given_and_the_panel_is_not_changed():
    splitter = PanelTimeSplit(3, n_splits=2, step=None)
    assert (splitter.horizon, splitter.n_splits, splitter.step) == (3, 2, None)
    assert repr(splitter) == "PanelTimeSplit(horizon=3, n_splits=2, step=None)"
    panel = ragged_panel()
    before = panel.copy()
    list(PanelTimeSplit(horizon=2, n_splits=2).split(panel))
    pd.testing.assert_frame_equal(panel, before)


def weekly_panel():
    t = np.arange(40.0)
    days = pd.date_range("2021-01-04", periods=40, freq="W-MON")
    return pd.DataFrame(
        {
            "unique_id": np.repeat(["u", "v"], 40),
            "ds": np.tile(days, 2),
            "y": np.r_[10 + np.sin(t), 20 + np.cos(t)],
        }
    )


def minus_mae(estimator, X, y=None):
    """A scorer through fit/predict only: the forecast against the test rows."""
    joined = X.merge(estimator.predict(), on=["unique_id", "ds"], suffixes=("", "_hat"))
    assert len(joined) == len(X)  # the test rows are exactly the steps forecast
    return -float(np.abs(joined["y"] - joined["y_hat"]).mean())


def test_cross_validate_fits_on_each_cutoff_and_scores_the_steps_after_it():
    panel = weekly_panel()
    splitter = PanelTimeSplit(horizon=3, n_splits=2)
    results = cross_validate(
        Seq2SeqForecaster(**tiny()), panel, cv=splitter, scoring=minus_mae, return_estimator=True
    )
    assert len(results["test_score"]) == 2
    assert np.all(np.isfinite(results["test_score"])) and np.all(results["test_score"] < 0)
    # each fold's model forecasts from its own cutoff: the steps of its test rows
    for model, (_, test) in zip(results["estimator"], splitter.split(panel), strict=True):
        forecast = model.predict()
        assert set(forecast["ds"]) == set(panel.iloc[test]["ds"])


def test_grid_search_tunes_hidden_size_over_panel_cutoffs():
    panel = weekly_panel()
    search = GridSearchCV(
        Seq2SeqForecaster(**tiny()),
        {"hidden_size": [4, 8]},
        cv=PanelTimeSplit(horizon=3, n_splits=2),
    )
    search.fit(panel)
    assert search.best_params_["hidden_size"] in (4, 8)
    scores = search.cv_results_["mean_test_score"]
    assert scores.shape == (2,) and np.all(np.isfinite(scores)) and np.all(scores <= 0)
    assert search.best_estimator_.hidden_size == search.best_params_["hidden_size"]
    assert len(search.best_estimator_.predict()) == 2 * 3
