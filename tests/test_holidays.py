"""Holiday flags from a country calendar (``holidays="AU"``): the parameter, the flags, a fit."""

from __future__ import annotations

import sys

import numpy as np
import pandas as pd
import pytest
from conftest import tiny

from tsattn import Seq2SeqForecaster
from tsattn.forecast.covariates.calendar import check_holidays, holiday_flags
from tsattn.plotting import partial_dependence

pytest.importorskip("holidays")


def test_check_holidays_takes_codes_and_refuses_the_rest():
    assert check_holidays(None) == ()
    assert check_holidays("AU") == ("AU",)
    assert check_holidays(["AU-NSW", "US-CA"]) == ("AU-NSW", "US-CA")
    with pytest.raises(TypeError, match="country code"):
        check_holidays(5)
    for bad in (["AU", "AU"], ["1A"], ["AU-"], [""]):
        with pytest.raises(ValueError, match="holidays"):
            check_holidays(bad)


def test_daily_flags_mark_the_holidays_of_the_calendar_and_subdivision():
    days = pd.date_range("2014-12-23", periods=5, freq="D")  # 23 .. 27 December
    flags = holiday_flags(days, ["AU"], "D")
    assert flags[:, 0].tolist() == [0, 0, 1, 1, 0]  # Christmas and Boxing Day
    # Labour Day differs by state: 6 October 2014 in NSW, 10 March in Victoria
    days = pd.DatetimeIndex(["2014-03-10", "2014-10-06"])
    assert holiday_flags(days, ["AU-NSW", "AU-VIC"], "D").tolist() == [[0, 1], [1, 0]]
    # a half-hour is flagged on its day
    hours = pd.date_range("2014-12-24 23:00", periods=4, freq="30min")
    assert holiday_flags(hours, ["AU"], "30min")[:, 0].tolist() == [0, 0, 1, 1]


def test_a_longer_step_is_flagged_when_any_of_its_days_is_a_holiday():
    # Walmart's weeks end on Fridays: the week to 12 November 2010 holds Veterans Day (11th),
    # the week to 26 November Thanksgiving (25th)
    weeks = pd.date_range("2010-11-12", periods=4, freq="W-FRI")
    assert holiday_flags(weeks, ["US"], "W-FRI")[:, 0].tolist() == [1, 0, 1, 0]
    months = pd.date_range("2014-06-01", periods=3, freq="MS")  # June holds no US holiday
    assert holiday_flags(months, ["US"], "MS")[:, 0].tolist() == [0, 1, 0]
    periods = pd.period_range("2014-06", periods=3, freq="M")
    assert holiday_flags(periods, ["US"], "M")[:, 0].tolist() == [0, 1, 0]


def test_unknown_calendar_and_missing_package(monkeypatch):
    days = pd.date_range("2014-01-01", periods=3, freq="D")
    with pytest.raises(ValueError, match="no calendar for 'ZZ'"):
        holiday_flags(days, ["ZZ"], "D")
    monkeypatch.setitem(sys.modules, "holidays", None)
    with pytest.raises(ImportError, match=r"tsattn\[holidays\]"):
        holiday_flags(days, ["AU"], "D")


def _daily(n=120, h=7):
    ds = pd.date_range("2013-11-01", periods=n, freq="D")
    frames = [
        pd.DataFrame({"unique_id": f"s{k}", "ds": ds, "y": 10.0 + k + np.sin(np.arange(n))})
        for k in range(2)
    ]
    return pd.concat(frames, ignore_index=True)


def test_a_forecaster_reads_the_flags_without_x_and_shows_their_effect():
    y = _daily()
    f = Seq2SeqForecaster(**tiny(horizon=7, holidays="AU", baseline=None)).fit(y)
    spec = f.context_.spec
    assert spec.holidays == ("AU",) and spec.n_future == 1 and not spec.uses_x
    forecast = f.predict()  # nothing to pass: the calendar is known for every future day
    assert forecast.shape == (14, 3) and np.isfinite(forecast["y"]).all()
    table = f.covariate_importance(y, random_state=0)
    assert table[["feature", "kind"]].values.tolist() == [["AU", "holiday"]]
    effects = partial_dependence(f, "AU", [0, 1])
    assert set(effects["value"]) == {0, 1} and len(effects) == 2 * 2 * 7
    with pytest.raises(ValueError, match="columns the model was not fit with"):
        f.predict(X=y.assign(x=1.0).drop(columns="y"))


def test_holidays_need_timestamps():
    y = np.arange(60, dtype=float)
    with pytest.raises(ValueError, match="holidays=\\['AU'\\] needs timestamps"):
        Seq2SeqForecaster(**tiny(holidays="AU")).fit(y)
    with pytest.raises(ValueError, match="holidays"):
        Seq2SeqForecaster(**tiny(holidays=["AU", "AU"])).fit(pd.Series(np.arange(60.0)))
