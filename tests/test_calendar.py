"""Calendar features: the (sin, cos) phases, the parameter's checks, the choice by frequency."""

import numpy as np
import pandas as pd
import pytest
from conftest import tiny

from tsattn import Seq2SeqForecaster
from tsattn.forecast.covariates.calendar import (
    CALENDAR_FEATURES,
    calendar_values,
    check_calendar,
    resolve_calendar,
)
from tsattn.forecast.panel.types import TimeAxis

pytestmark = pytest.mark.filterwarnings(
    # tsattn's short-history warning: these tests fit deliberately tiny series
    "ignore:.*of the series have fewer than horizon:UserWarning"
)

INDEX = pd.date_range("2021-01-04", periods=40, freq="W-MON")


def test_calendar_values_by_hand():
    stamps = pd.DatetimeIndex(["2024-01-01", "2024-01-04", "2024-04-01"])  # Mon, Thu, Apr
    values = calendar_values(stamps, ["dayofweek", "month"])
    np.testing.assert_allclose(values[:, 0], np.sin(2 * np.pi * np.array([0, 3, 0]) / 7))
    np.testing.assert_allclose(values[:, 1], np.cos(2 * np.pi * np.array([0, 3, 0]) / 7))
    np.testing.assert_allclose(values[:, 2], np.sin(2 * np.pi * np.array([0, 0, 3]) / 12))
    np.testing.assert_allclose(values[:, 3], np.cos(2 * np.pi * np.array([0, 0, 3]) / 12))


def test_calendar_values_of_periods_equal_those_of_their_start():
    periods = pd.period_range("2023-11", periods=4, freq="M")
    np.testing.assert_allclose(
        calendar_values(periods, ["month", "quarter"]),
        calendar_values(periods.to_timestamp(), ["month", "quarter"]),
    )
    assert calendar_values(periods, []).shape == (4, 0)


@pytest.mark.parametrize(
    "freq, expected",
    [
        ("h", ["hour", "dayofweek", "week"]),
        ("D", ["dayofweek", "week"]),
        ("W-MON", ["week"]),
        ("MS", ["month"]),
        ("QS", ["quarter"]),
    ],
)
def test_calendar_features_true_picks_by_frequency(freq, expected):
    assert resolve_calendar(True, TimeAxis("datetime", freq)) == expected


def test_resolve_calendar_keeps_a_list_and_refuses_what_cannot_vary():
    assert resolve_calendar(["month"], TimeAxis("period", "M")) == ["month"]
    assert resolve_calendar(False, TimeAxis("integer", 1)) == []
    with pytest.raises(ValueError, match="no calendar feature that varies"):
        resolve_calendar(True, TimeAxis("datetime", "YS"))
    with pytest.raises(ValueError, match="need timestamps"):
        resolve_calendar(["month"], TimeAxis("position", 1))


def test_check_calendar():
    assert check_calendar(True) is True and check_calendar(np.bool_(False)) is False
    assert check_calendar("week") == ["week"]
    assert check_calendar(("month", "quarter")) == ["month", "quarter"]
    for bad in (["fortnight"], [], ["week", "week"]):
        with pytest.raises(ValueError, match="list of distinct names"):
            check_calendar(bad)
    with pytest.raises(TypeError, match=str(list(CALENDAR_FEATURES)).replace("[", r"\[")):
        check_calendar(3)


def test_calendar_features_reach_the_decoder_without_x():
    y = pd.Series(np.arange(40.0) % 4, index=INDEX)
    params = tiny(calendar_features=["week", "month"], covariate_selection=None)
    f = Seq2SeqForecaster(**params).fit(y)
    assert f.module_.config.target_features == 2 + 4  # y, Theta baseline, 4 calendar
    assert f.predict().shape == (3,)


def test_calendar_auto_follows_covariates_known_in_advance():
    from tsattn.forecast.covariates.calendar import check_calendar, resolve_calendar
    from tsattn.forecast.panel.types import TimeAxis

    assert check_calendar("auto") == check_calendar(["auto"]) == "auto"
    axis = TimeAxis(kind="datetime", freq="D")
    assert resolve_calendar("auto", axis, known=True) == ["dayofweek", "week"]
    assert resolve_calendar("auto", axis, known=False) == []
    assert resolve_calendar("auto", TimeAxis(kind="integer", freq=1), known=True) == []
