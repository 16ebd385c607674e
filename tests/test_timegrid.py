"""Time keys and the shared time grid."""

import numpy as np
import pandas as pd
import pytest

from tsattn.forecast.panel.timegrid import key_label, make_grid, time_keys
from tsattn.forecast.panel.types import TimeAxis


def test_time_keys_of_every_axis_kind():
    stamps = pd.date_range("2024-01-01", periods=3, freq="D")
    axis = TimeAxis("datetime", "D")
    np.testing.assert_array_equal(time_keys(stamps, axis, "x"), stamps.as_unit("ns").asi8)
    # strings and another unit give the same naive nanoseconds; aware stamps are instants
    np.testing.assert_array_equal(
        time_keys(["2024-01-01", "2024-01-02", "2024-01-03"], axis, "x"),
        time_keys(stamps.as_unit("s"), axis, "x"),
    )
    berlin = stamps.tz_localize("Europe/Berlin")
    np.testing.assert_array_equal(
        time_keys(berlin, axis, "x"), time_keys(berlin.tz_convert("UTC"), axis, "x")
    )
    # the two 02:30 of the autumn change are two hours, not one
    autumn = pd.date_range("2024-10-27 00:30", periods=4, freq="h", tz="Europe/Berlin")
    assert len(set(time_keys(autumn, TimeAxis("datetime", "h"), "x"))) == 4
    periods = pd.period_range("2024-01", periods=3, freq="M")
    month = TimeAxis("period", "M")
    np.testing.assert_array_equal(time_keys(periods, month, "x"), periods.asi8)
    np.testing.assert_array_equal(time_keys(["2024-01", "2024-02"], month, "x"), periods.asi8[:2])
    assert time_keys([3, 5], TimeAxis("integer", 2), "x").tolist() == [3, 5]


@pytest.mark.filterwarnings("ignore:Could not infer format")
def test_time_keys_of_the_wrong_kind_name_what_they_are():
    with pytest.raises(TypeError, match="X's index must hold integers like y's"):
        time_keys(pd.date_range("2024-01-01", periods=2), TimeAxis("integer", 1), "X's index")
    with pytest.raises(TypeError, match="must hold datetimes"):
        time_keys(["soon", "later"], TimeAxis("datetime", "D"), "X's index")


def test_key_label_is_readable():
    day = TimeAxis("datetime", "D")
    assert key_label(time_keys(["2024-03-01"], day, "x")[0], day) == "2024-03-01"
    hour = TimeAxis("datetime", "h")
    assert key_label(time_keys(["2024-03-01 05:00"], hour, "x")[0], hour) == "2024-03-01 05:00:00"
    month = TimeAxis("period", "M")
    assert key_label(time_keys(["2024-03"], month, "x")[0], month) == "2024-03"
    assert key_label(7, TimeAxis("integer", 1)) == 7


def test_grid_of_series_ending_on_different_dates():
    axis = TimeAxis("datetime", "W-MON")
    last = [pd.Timestamp("2024-03-04"), pd.Timestamp("2024-02-19")]  # b ends two weeks earlier
    grid = make_grid(axis, last, np.array([3, 2]), horizon=2)
    assert grid.stamps[grid.end].tolist() == last
    history = grid.stamps[grid.history(np.array([3, 2]))]
    expected = pd.date_range("2024-02-19", periods=3, freq="W-MON").append(
        pd.date_range("2024-02-12", periods=2, freq="W-MON")
    )
    assert list(history) == list(expected)
    assert (np.diff(grid.keys) == 7 * 86_400 * 10**9).all()  # one regular run of weeks
    future = grid.stamps[grid.future(2).reshape(-1)]  # (n_series * horizon,)
    assert list(future[:2]) == list(pd.date_range("2024-03-11", periods=2, freq="W-MON"))
    assert list(future[2:]) == list(pd.date_range("2024-02-26", periods=2, freq="W-MON"))


def test_grid_of_integer_and_period_axes():
    grid = make_grid(TimeAxis("integer", 2), [10, 6], np.array([3, 1]), horizon=1)
    assert grid.keys.tolist() == [6, 8, 10, 12] and grid.end.tolist() == [2, 0]
    periods = make_grid(TimeAxis("period", "Q"), [pd.Period("2024Q2", "Q")] * 2, [2, 2], 1)
    assert [str(p) for p in periods.stamps] == ["2024Q1", "2024Q2", "2024Q3"]
    assert periods.end.tolist() == [1, 1]
