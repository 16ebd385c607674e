"""Inputs that used to be misread or refused for the wrong reason, grouped by the kind of fault.

Each test's docstring names its class: a way input parsing went wrong (series dated on different
calendar anchors, a daylight saving change read as duplicates, a CSV misread by the command
line, ...). Models are tiny and seeded so the file stays fast.
"""

import numpy as np
import pandas as pd
import pytest

from tsattn import Seq2SeqForecaster
from tsattn.forecast.panel import to_panel

TINY = {"hidden_size": 8, "max_epochs": 2, "random_state": 0, "verbose": False}


def _long(parts):
    """A long frame from {id: (timestamps, values)}."""
    return pd.concat(
        [pd.DataFrame({"unique_id": k, "ds": ds, "y": v}) for k, (ds, v) in parts.items()],
        ignore_index=True,
    )


# ----------------------------------------------------------------------------------------------
# Series on different calendar anchors


ANCHORS = {
    "month start and month end": (
        pd.date_range("2020-01-01", periods=24, freq="MS"),
        pd.date_range("2020-01-31", periods=20, freq="ME"),
    ),
    "sundays and wednesdays": (
        pd.date_range("2020-01-05", periods=24, freq="W-SUN"),
        pd.date_range("2020-01-08", periods=20, freq="W-WED"),
    ),
    "quarter start and quarter end": (
        pd.date_range("2015-01-01", periods=24, freq="QS"),
        pd.date_range("2015-03-31", periods=20, freq="QE"),
    ),
    "midnight and noon": (
        pd.date_range("2020-01-01", periods=24, freq="D"),
        pd.date_range("2020-01-01 12:00", periods=20, freq="D"),
    ),
    "even and odd integers": (np.arange(0, 48, 2), np.arange(1, 41, 2)),
    "integers off by one of a step of 3": (np.arange(0, 72, 3), np.arange(4, 64, 3)),
}


@pytest.mark.parametrize("case", ANCHORS)
@pytest.mark.parametrize("shorter_first", [False, True])
def test_series_on_different_anchors_are_refused(case, shorter_first):
    """Calendar anchors: series that are regular each but not on one shared grid are refused."""
    a, b = ANCHORS[case]
    parts = {"a": (a, np.arange(len(a), dtype=float)), "b": (b, np.arange(len(b), dtype=float))}
    if shorter_first:
        parts = {"b": parts["b"], "a": parts["a"]}
    with pytest.raises(ValueError, match="not on the time grid of series 'a'.*forecast them sep"):
        to_panel(_long(parts))
    with pytest.raises(ValueError, match="series 'b' is not on the time grid"):
        Seq2SeqForecaster(horizon=2, input_size=4, **TINY).fit(_long(parts))


@pytest.mark.parametrize("case", ANCHORS)
def test_series_on_one_anchor_with_different_ends_are_kept(case):
    """Calendar anchors: the same anchor with different starts and ends is still one grid."""
    a, _ = ANCHORS[case]
    parts = {"a": (a, np.arange(24.0)), "b": (a[3:19], np.arange(16.0))}
    panel = to_panel(_long(parts))
    assert list(panel.lengths) == [24, 16]
    assert panel.last == [a[-1], a[18]]


def test_anchor_check_covers_the_datetimes_of_a_zone():
    """Calendar anchors: aware weekly series on two weekdays are refused like naive ones."""
    a = pd.date_range("2021-01-03", periods=30, freq="W-SUN", tz="Europe/Berlin")
    b = pd.date_range("2021-01-06", periods=30, freq="W-WED", tz="Europe/Berlin")
    with pytest.raises(ValueError, match="not on the time grid"):
        to_panel(_long({"a": (a, np.ones(30)), "b": (b, np.ones(30))}))


# ----------------------------------------------------------------------------------------------
# Daylight saving time in aware long frames


@pytest.mark.parametrize(
    "zone, start",
    [
        ("Europe/Berlin", "2021-10-30 12:00"),  # clocks go back: 02:00-03:00 twice
        ("Europe/Berlin", "2021-03-27 12:00"),  # clocks go forward: no 02:00
        ("America/New_York", "2021-11-06 12:00"),
        ("America/New_York", "2021-03-13 12:00"),
    ],
)
def test_hourly_long_frame_across_a_dst_change_is_accepted(zone, start):
    """DST: an aware hourly long frame across a clock change fits and forecasts the next hours."""
    ds = pd.date_range(start, periods=72, freq="h", tz=zone)
    y = _long({"a": (ds, np.arange(72.0) % 5), "b": (ds[10:], np.arange(62.0) % 3)})
    panel = to_panel(y)
    assert panel.axis.freq == "h" and list(panel.lengths) == [72, 62]
    model = Seq2SeqForecaster(horizon=3, input_size=6, **TINY).fit(y)
    forecast = model.predict()
    expected = pd.date_range(ds[-1], periods=4, freq="h")[1:]
    assert str(forecast["ds"].dt.tz) == zone
    assert list(forecast["ds"]) == list(expected) * 2
    # the same data as a Series gives the same dates
    series = pd.Series(np.arange(72.0) % 5, index=ds)
    assert list(Seq2SeqForecaster(horizon=3, input_size=6, **TINY).fit(series).predict().index) == (
        list(expected)
    )


def test_daily_long_frame_across_a_dst_change_keeps_midnight():
    """DST: aware daily stamps stay at local midnight, through the change and in the forecast."""
    ds = pd.date_range("2021-10-10", periods=40, freq="D", tz="Europe/Berlin")
    y = _long({"a": (ds, np.arange(40.0) % 7)})
    forecast = Seq2SeqForecaster(horizon=3, input_size=7, **TINY).fit(y).predict()
    assert list(forecast["ds"]) == list(pd.date_range(ds[-1], periods=4, freq="D")[1:])
    assert (forecast["ds"].dt.hour == 0).all()


def test_true_duplicates_of_an_aware_frame_still_get_the_advice_to_aggregate():
    """DST: the same instant twice is a duplicate, and only then is summing suggested."""
    ds = pd.date_range("2021-10-30 12:00", periods=48, freq="h", tz="Europe/Berlin")
    y = _long({"a": (ds, np.arange(48.0))})
    repeated = pd.concat([y, y.iloc[[14]]], ignore_index=True)  # 02:00 CEST twice
    with pytest.raises(ValueError, match="duplicate timestamps for series 'a'; aggregate"):
        to_panel(repeated)
