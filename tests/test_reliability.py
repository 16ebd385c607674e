"""Inputs that used to be misread or refused for the wrong reason, grouped by the kind of fault.

Each test's docstring names its class: a way input parsing went wrong (series dated on different
calendar anchors, a daylight saving change read as duplicates, a CSV misread by the command
line, ...). Models are tiny and seeded so the file stays fast.
"""

import numpy as np
import pandas as pd
import pytest

from tsattn import Seq2SeqForecaster
from tsattn.forecast.panel.conversion import to_panel

pytestmark = pytest.mark.filterwarnings(
    # tsattn's short-history warning: these tests fit deliberately tiny series
    "ignore:.*of the series have fewer than horizon:UserWarning"
)

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


# ----------------------------------------------------------------------------------------------
# The command line: reading ordinary CSV files

CLI_SMALL = ["--epochs", "1", "--hidden-size", "8", "--input-size", "4", "--quiet"]
DAYS = pd.date_range("2021-01-01", periods=30, freq="D")


def _forecast_csv(tmp_path, frame, *options, horizon=2):
    """Write ``frame``, run ``tsattn forecast`` on it: (exit code, output frame or None)."""
    from tsattn.cli import main

    source, out = tmp_path / "in.csv", tmp_path / "out.csv"
    frame.to_csv(source, index=False)
    code = main(["forecast", str(source), "--horizon", str(horizon), "--out", str(out),
                 *CLI_SMALL, *options])  # fmt: skip
    return code, (pd.read_csv(out, dtype=str) if code == 0 else None)


def _one_line_error(capsys, *words):
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("tsattn: error:"), err
    for word in words:
        assert word in err[0], err[0]
    return err[0]


@pytest.mark.parametrize("name", ["store", "store_id", "shop_id", "unique_id"])
def test_cli_integer_id_column_of_one_series_is_an_id(tmp_path, name):
    """CLI misreads: an integer id column of a usual name makes a long file, not a series."""
    frame = pd.DataFrame({name: 7, "date": DAYS, "sales": np.arange(30.0)})
    code, out = _forecast_csv(tmp_path, frame)
    assert code == 0
    assert list(out.columns) == [name, "date", "sales"]
    assert list(out[name]) == ["7", "7"]


@pytest.mark.parametrize(
    "frame, words",
    [
        # an unnamed integer id of two series: dates repeat, so the file is long
        (
            pd.DataFrame({"k": np.repeat([1, 2], 30), "date": list(DAYS) * 2, "v": np.arange(60.0)}),
            ["dates repeat", "--id-col"],
        ),
        # one series with an unnamed integer id: the same number in every row
        (pd.DataFrame({"k": 7, "date": DAYS, "v": np.arange(30.0)}), ["'k' holds the same", "--id-col"]),
        # a usual value name beside an unnamed column
        (
            pd.DataFrame({"k": np.arange(30) % 3, "date": DAYS, "sales": np.arange(30.0)}),
            ["'sales'", "--layout wide"],
        ),
        # two text columns: which one is the id?
        (
            pd.DataFrame({"a": "x", "b": "y", "date": DAYS, "v": np.arange(30.0)}),
            ["text columns ['a', 'b']", "--id-col"],
        ),
    ],
)  # fmt: skip
def test_cli_ambiguous_layouts_are_refused_with_the_option_to_pass(tmp_path, capsys, frame, words):
    """CLI misreads: a file that is long or wide depending on a guess is refused, naming options."""
    code, _ = _forecast_csv(tmp_path, frame)
    assert code == 2
    _one_line_error(capsys, *words)


def test_cli_ambiguous_layout_is_settled_by_the_options(tmp_path):
    """CLI misreads: --id-col makes a long file, --layout wide a wide one."""
    frame = pd.DataFrame({"k": np.repeat([1, 2], 30), "date": list(DAYS) * 2, "v": np.arange(60.0)})
    code, out = _forecast_csv(tmp_path, frame, "--id-col", "k")
    assert code == 0 and list(out["k"]) == ["1", "1", "2", "2"]
    single = pd.DataFrame({"k": 7, "date": DAYS, "v": np.arange(30.0)})
    code, out = _forecast_csv(tmp_path, single, "--layout", "wide")
    assert code == 0 and list(out.columns) == ["date", "k", "v"]


def test_cli_ids_are_read_as_written(tmp_path):
    """CLI misreads: ids 01, 02 and 1 stay three series, written back as they were."""
    frame = pd.DataFrame(
        {"unique_id": np.repeat(["01", "02", "1"], 30), "ds": list(DAYS) * 3, "y": np.arange(90.0)}
    )
    code, out = _forecast_csv(tmp_path, frame)
    assert code == 0
    assert list(out["unique_id"]) == ["01", "01", "02", "02", "1", "1"]


def test_cli_static_and_covariate_ids_are_read_as_written(tmp_path):
    """CLI misreads: the static and covariate files' ids match y's as text (01 is not 1)."""
    from tsattn.cli import main

    ids = ["01", "1"]
    y = pd.DataFrame({"unique_id": np.repeat(ids, 30), "ds": list(DAYS) * 2, "y": np.arange(60.0)})
    future = pd.date_range(DAYS[0], periods=32, freq="D")
    x = pd.DataFrame({"unique_id": np.repeat(ids, 32), "ds": list(future) * 2, "promo": 1.0})
    x.loc[x["unique_id"] == "01", "promo"] = np.arange(32) % 2
    static = pd.DataFrame({"unique_id": ids, "size": [1.0, 5.0]})
    for name, frame in (("y", y), ("x", x), ("s", static)):
        frame.to_csv(tmp_path / f"{name}.csv", index=False)
    out = tmp_path / "out.csv"
    args = ["forecast", str(tmp_path / "y.csv"), "--horizon", "2", "--out", str(out)]
    files = ["--covariates", str(tmp_path / "x.csv"), "--static", str(tmp_path / "s.csv")]
    assert main([*args, *files, *CLI_SMALL]) == 0
    assert list(pd.read_csv(out, dtype=str)["unique_id"]) == ["01", "01", "1", "1"]


MONTHS = pd.date_range("2021-01-01", periods=12, freq="MS")


def test_cli_day_first_or_month_first_dates_are_not_guessed(tmp_path, capsys):
    """CLI misreads: 01/02/2021 is refused until --dayfirst or --date-format says how to read it."""
    frame = pd.DataFrame({"date": MONTHS.strftime("%d/%m/%Y"), "a": np.arange(12.0)})
    code, _ = _forecast_csv(tmp_path, frame)
    assert code == 2
    _one_line_error(capsys, "day-first and month-first", "--dayfirst", "--date-format")
    for options in (["--dayfirst"], ["--date-format", "%d/%m/%Y"]):
        code, out = _forecast_csv(tmp_path, frame, *options)
        assert code == 0
        assert list(out["date"]) == ["2022-01-01", "2022-02-01"]  # months, not days
    # the same dates written month-first, read as such when asked
    frame = pd.DataFrame({"date": MONTHS.strftime("%m/%d/%Y"), "a": np.arange(12.0)})
    code, out = _forecast_csv(tmp_path, frame, "--date-format", "%m/%d/%Y")
    assert code == 0 and list(out["date"]) == ["2022-01-01", "2022-02-01"]


@pytest.mark.parametrize("fmt", ["%d/%m/%Y", "%d.%m.%Y", "%d-%m-%Y", "%m/%d/%Y"])
def test_cli_dates_that_read_one_way_only_need_no_option(tmp_path, fmt):
    """CLI misreads: a day above 12 tells the order; the dates are read that way."""
    frame = pd.DataFrame({"date": DAYS.strftime(fmt), "a": np.arange(30.0)})
    code, out = _forecast_csv(tmp_path, frame)
    assert code == 0
    assert list(out["date"]) == ["2021-01-31", "2021-02-01"]


def test_cli_dates_against_the_given_order_are_refused(tmp_path, capsys):
    """CLI misreads: --dayfirst on month-first dates (day 13 in second place) is an error."""
    frame = pd.DataFrame({"date": DAYS.strftime("%m/%d/%Y"), "a": np.arange(30.0)})
    code, _ = _forecast_csv(tmp_path, frame, "--dayfirst")
    assert code == 2
    _one_line_error(capsys, "'date'")


def test_cli_time_col_and_its_old_name(tmp_path):
    """CLI misreads: --time-col names the date column; --date-col still does."""
    frame = pd.DataFrame({"item": np.repeat(["a", "b"], 30), "when": list(DAYS) * 2, "qty": 1.0})
    frame["qty"] = np.arange(60.0)
    for option in ("--time-col", "--date-col"):
        code, out = _forecast_csv(tmp_path, frame, option, "when", "--target-col", "qty")
        assert code == 0 and list(out.columns) == ["item", "when", "qty"]


def test_cli_duplicate_column_names_are_refused(tmp_path, capsys):
    """CLI misreads: two columns of one name are not silently renamed 'a.1'."""
    from tsattn.cli import main

    path = tmp_path / "dup.csv"
    path.write_text("date,a,a\n" + "".join(f"{d.date()},{i},{i}\n" for i, d in enumerate(DAYS)))
    assert main(["forecast", str(path), "--horizon", "2", "--out", str(tmp_path / "o.csv")]) == 2
    _one_line_error(capsys, "more than one column named 'a'")


# ----------------------------------------------------------------------------------------------
# The command line: every argument and path checked before training


@pytest.fixture
def sales_files(tmp_path):
    """A long sales file, covariates that reach 3 steps past its end, and a wide file."""
    y = pd.DataFrame(
        {"item": np.repeat(["a", "b"], 30), "date": list(DAYS) * 2, "sales": np.arange(60.0) % 7}
    )
    y.to_csv(tmp_path / "sales.csv", index=False)
    future = pd.date_range(DAYS[0], periods=33, freq="D")
    x = pd.DataFrame(
        {"item": np.repeat(["a", "b"], 33), "date": list(future) * 2, "promo": np.arange(66) % 2}
    )
    x.to_csv(tmp_path / "x.csv", index=False)
    y.pivot(index="date", columns="item", values="sales").to_csv(tmp_path / "wide.csv")
    return tmp_path


@pytest.fixture
def no_fit(monkeypatch):
    """Any fit would fail the test: the bad argument must be caught first."""

    def fail(*args, **kwargs):
        raise AssertionError("training started before the bad argument was caught")

    monkeypatch.setattr(Seq2SeqForecaster, "fit", fail)


BAD_ARGUMENTS = {
    "--out into a missing directory": (["--out", "{d}/missing/f.csv"], "does not exist"),
    "--out a directory": (["--out", "{d}"], "is a directory"),
    "--out over the input": (["--out", "{d}/sales.csv"], "one of the input files"),
    "--coverage 1.0": (["--coverage", "1.0"], "strictly between 0 and 1"),
    "--coverage 0": (["--coverage", "0"], "strictly between 0 and 1"),
    "a lone --quantiles 0.9": (["--quantiles", "0.9"], "add a level below 0.5 and one above"),
    "--quantiles only below 0.5": (["--quantiles", "0.1", "0.3"], "a level below 0.5"),
    "--quantiles 1.5": (["--quantiles", "0.1", "1.5"], "strictly between 0 and 1"),
    "--quantiles twice a level": (["--quantiles", "0.1", "0.1", "0.9"], "a level twice"),
    "--plot of an unknown format": (["--plot", "{d}/p.xyz"], "cannot draw a 'xyz' file"),
    "--plot into a missing directory": (["--plot", "{d}/nowhere/p.png"], "does not exist"),
    "--plot over --out": (["--plot", "{d}/o.csv"], "cannot draw a 'csv'"),
    "--horizon 0": (["--horizon", "0"], "--horizon: must be at least 1"),
    "--epochs -1": (["--epochs", "-1"], "--epochs: must be at least 1"),
    "--hidden-size 0": (["--hidden-size", "0"], "--hidden-size: must be at least 1"),
    "--batch-size x": (["--batch-size", "x"], "expected a whole number"),
    "--seed -1": (["--seed", "-1"], "--seed must be 0 or more"),
    "--layout wide with --id-col": (["--layout", "wide", "--id-col", "item"], "--id-col"),
    "covariates missing the horizon": (
        ["--horizon", "5", "--covariates", "{d}/x.csv"],
        "must cover the horizon",
    ),
    "--date-format and --dayfirst": (["--date-format", "%Y", "--dayfirst"], "not allowed with"),
}


@pytest.mark.parametrize("case", BAD_ARGUMENTS)
def test_cli_bad_arguments_exit_2_on_one_line_before_training(sales_files, capsys, no_fit, case):
    """CLI arguments: each bad option or path exits 2, one line on stderr, nothing trained."""
    from tsattn.cli import main

    options, words = BAD_ARGUMENTS[case]
    options = [o.format(d=sales_files) for o in options]
    base = ["forecast", str(sales_files / "sales.csv"), "--horizon", "3"]
    base += ["--out", str(sales_files / "o.csv"), *CLI_SMALL]
    try:
        code = main([*base, *options])
    except SystemExit as done:  # argparse's own checks end the process as a script expects
        code = done.code
    assert code == 2
    _one_line_error(capsys, words)
    assert not (sales_files / "o.csv").exists()


@pytest.mark.parametrize(
    "options, words",
    [
        (["--save", "{d}/missing/m.tsattn"], "does not exist"),
        (["--save", "{d}"], "is a directory"),
        (["--save", "{d}/wide.csv"], "one of the input files"),
    ],
)
def test_cli_fit_checks_its_save_path_before_training(sales_files, capsys, no_fit, options, words):
    """CLI arguments: a bad --save path exits 2 before training."""
    from tsattn.cli import main

    options = [o.format(d=sales_files) for o in options]
    args = ["fit", str(sales_files / "wide.csv"), "--horizon", "2", *CLI_SMALL, *options]
    assert main(args) == 2
    _one_line_error(capsys, words)


def test_cli_covariates_reaching_the_horizon_are_accepted(sales_files):
    """CLI arguments: the horizon check passes covariates that cover it (and wide ones)."""
    from tsattn.cli import main

    out = sales_files / "o.csv"
    args = ["forecast", str(sales_files / "sales.csv"), "--out", str(out), *CLI_SMALL]
    assert main([*args, "--horizon", "3", "--covariates", str(sales_files / "x.csv")]) == 0
    assert len(pd.read_csv(out)) == 6
    shared = pd.DataFrame({"date": pd.date_range(DAYS[0], periods=32), "promo": np.arange(32) % 2})
    shared.to_csv(sales_files / "shared.csv", index=False)
    wide = ["forecast", str(sales_files / "wide.csv"), "--out", str(out), *CLI_SMALL]
    assert main([*wide, "--horizon", "2", "--covariates", str(sales_files / "shared.csv")]) == 0
    assert main([*wide, "--horizon", "3", "--covariates", str(sales_files / "shared.csv")]) == 2


# ----------------------------------------------------------------------------------------------
# The command line: Ctrl-C


@pytest.fixture
def ctrl_c_after_first_epoch():
    """Send the process SIGINT at the end of the first epoch, as Ctrl-C in a terminal does."""
    import signal

    from tsattn.training import watch_epochs

    def press(report):
        signal.raise_signal(signal.SIGINT)

    with watch_epochs(press):
        yield


@pytest.mark.parametrize("existing", [True, False])
def test_cli_ctrl_c_during_fit_exits_130_and_keeps_the_saved_model(
    sales_files, capsys, ctrl_c_after_first_epoch, existing
):
    """Ctrl-C: `tsattn fit --save` interrupted exits 130; the old file stays, no new one appears."""
    from tsattn.cli import main

    path = sales_files / "prod.tsattn"
    if existing:
        path.write_bytes(b"the model in production")
    args = ["fit", str(sales_files / "wide.csv"), "--horizon", "2", "--save", str(path)]
    assert main([*args, "--hidden-size", "8", "--epochs", "3", "--quiet"]) == 130
    assert capsys.readouterr().err.strip().endswith("left as it was)")
    if existing:
        assert path.read_bytes() == b"the model in production"
    else:
        assert not path.exists()
    assert sorted(p.name for p in sales_files.iterdir()) == sorted(
        ["sales.csv", "x.csv", "wide.csv", *(["prod.tsattn"] if existing else [])]
    )


def test_cli_ctrl_c_during_forecast_writes_no_forecast(sales_files, ctrl_c_after_first_epoch):
    """Ctrl-C: `tsattn forecast` interrupted exits 130 and leaves --out and --plot alone."""
    from tsattn.cli import main

    out, plot = sales_files / "f.csv", sales_files / "f.png"
    out.write_text("yesterday's forecast\n")
    args = ["forecast", str(sales_files / "sales.csv"), "--horizon", "2", "--out", str(out)]
    code = main([*args, "--plot", str(plot), "--hidden-size", "8", "--epochs", "3", "--quiet"])
    assert code == 130
    assert out.read_text() == "yesterday's forecast\n" and not plot.exists()


def test_cli_ctrl_c_outside_training_exits_130(sales_files, monkeypatch, capsys):
    """Ctrl-C: an interrupt while the files are read exits 130 too, with one line."""
    import tsattn.cli

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(tsattn.cli.pd, "read_csv", interrupted)
    out = sales_files / "f.csv"
    args = ["forecast", str(sales_files / "sales.csv"), "--horizon", "2", "--out", str(out)]
    assert tsattn.cli.main(args) == 130
    assert len(capsys.readouterr().err.strip().splitlines()) == 1
    assert not out.exists()


# ----------------------------------------------------------------------------------------------
# Accepted by fit, failing later: ids and columns that do not survive a save


def _ids_frame(ids):
    """A long frame of one 30-day series per id, the ids kept exactly as given."""
    column = np.empty(30 * len(ids), dtype=object)
    for k, sid in enumerate(ids):
        column[30 * k : 30 * (k + 1)] = [sid] * 30
    return pd.DataFrame(
        {"unique_id": column, "ds": list(DAYS) * len(ids), "y": np.arange(30.0 * len(ids))}
    )


@pytest.mark.parametrize(
    "ids, kind",
    [
        ([("a", 1), ("b", 2)], "tuple"),
        ([pd.Timestamp("2020-01-01"), pd.Timestamp("2021-01-01")], "datetime64|Timestamp"),
        ([frozenset({1}), frozenset({2})], "frozenset"),
    ],
)
def test_ids_that_cannot_be_saved_are_refused_at_fit(ids, kind):
    """Late failures: tuple or Timestamp unique_id values are refused by fit, with the fix."""
    with pytest.raises(TypeError, match=rf"unique_id.*is a ({kind}); series ids must be strings"):
        Seq2SeqForecaster(horizon=2, input_size=4, **TINY).fit(_ids_frame(ids))


@pytest.mark.parametrize("name", [("a", 1), pd.Timestamp("2020-01-01")], ids=["tuple", "Timestamp"])
def test_series_names_that_cannot_be_saved_are_refused_at_fit(name):
    """Late failures: a Series named by a tuple or a Timestamp is refused by fit."""
    y = pd.Series(np.arange(30.0), index=DAYS, name=name)
    with pytest.raises(TypeError, match="y.name .*series ids must be strings or numbers"):
        Seq2SeqForecaster(horizon=2, input_size=4, **TINY).fit(y)


@pytest.mark.parametrize(
    "columns",
    [
        pd.MultiIndex.from_tuples([("a", "x"), ("b", "y")]),
        pd.MultiIndex.from_tuples([("a", 1), ("a", 2)]),
    ],
)
def test_multiindex_columns_of_a_wide_frame_are_refused(columns):
    """Late failures: MultiIndex columns (which came back as lists after load) are refused."""
    y = pd.DataFrame(np.arange(60.0).reshape(30, 2), index=DAYS, columns=columns)
    with pytest.raises(TypeError, match="MultiIndex columns.*flatten them"):
        Seq2SeqForecaster(horizon=2, input_size=4, **TINY).fit(y)


# ----------------------------------------------------------------------------------------------
# Messages that mislead


@pytest.mark.parametrize("dtype", ["Float64", "Int64"])
@pytest.mark.parametrize("layout", ["series", "wide", "long"])
def test_nullable_dtypes_with_na_are_missing_values(dtype, layout):
    """Misleading messages: pd.NA in Float64/Int64 is a missing value, not a non-number."""
    values = pd.array([1, None] + [2] * 28, dtype=dtype)
    if layout == "series":
        y = pd.Series(values, index=DAYS)
    elif layout == "wide":
        y = pd.DataFrame({"a": values, "b": pd.array([3] * 30, dtype=dtype)}, index=DAYS)
    else:
        y = pd.DataFrame({"unique_id": "a", "ds": DAYS, "y": values})
    with pytest.raises(ValueError, match="contains NaN .*missing='mask'") as error:
        to_panel(y)
    assert "to_numeric" not in str(error.value)
    panel = to_panel(y, allow_nan=True)  # with missing='mask' the NA is masked, the rest kept
    assert np.isnan(panel.series(0)[1]) and panel.series(0)[0] == 1.0
    model = Seq2SeqForecaster(horizon=2, input_size=4, missing="mask", **TINY).fit(y)
    forecast = model.predict()
    values = forecast["y"] if layout == "long" else forecast
    assert np.isfinite(np.asarray(values, dtype=float)).all()


@pytest.mark.parametrize("column", ["unique_id", "ds", "y"])
def test_duplicate_long_columns_are_named(column):
    """Misleading messages: two columns named y (ds, unique_id) are refused in plain words."""
    frame = _ids_frame(["a"])
    y = pd.concat([frame, frame[[column]]], axis=1)
    with pytest.raises(ValueError, match=f"more than one column named '{column}'"):
        Seq2SeqForecaster(horizon=2, input_size=4, **TINY).fit(y)


@pytest.mark.parametrize("value", [-1, 2**32, 1.5, True, "seed", np.random.default_rng(0)])
def test_bad_random_state_names_the_parameter(value):
    """Misleading messages: random_state=-1 (and other bad seeds) say which parameter is wrong."""
    y = pd.Series(np.arange(30.0), index=DAYS)
    with pytest.raises(ValueError, match="random_state=.* cannot be used to seed: random_state"):
        Seq2SeqForecaster(horizon=2, input_size=4, **{**TINY, "random_state": value}).fit(y)


# ----------------------------------------------------------------------------------------------
# Silent coercions


@pytest.mark.parametrize(
    "y",
    [
        pd.Series(pd.to_timedelta(np.arange(30), unit="h"), index=DAYS),
        np.arange(30).astype("timedelta64[s]"),
        pd.DataFrame({"unique_id": "a", "ds": DAYS, "y": pd.to_timedelta(np.arange(30), "D")}),
    ],
    ids=["series", "array", "long"],
)
def test_timedelta_values_are_refused(y):
    """Silent coercions: durations are not forecast as nanoseconds; the unit is asked for."""
    with pytest.raises(TypeError, match="timedelta64.*total_seconds"):
        Seq2SeqForecaster(horizon=2, input_size=4, **TINY).fit(y)


def test_a_masked_arrays_mask_is_honoured():
    """Silent coercions: masked entries are missing values, never the numbers under the mask."""
    data = np.arange(30.0)
    data[5] = 1e6  # what the mask hides
    y = np.ma.masked_array(data, mask=np.arange(30) == 5)
    with pytest.raises(ValueError, match="masked array with 1 masked value.*missing='mask'"):
        to_panel(y)
    panel = to_panel(y, allow_nan=True)
    assert np.isnan(panel.series(0)[5]) and np.nanmax(panel.series(0)) == 29.0
    assert y.data[5] == 1e6 and y.mask[5]  # y is not modified
    two_d = np.ma.masked_array(np.ones((30, 2)), mask=np.zeros((30, 2), bool))
    assert to_panel(two_d).n_series == 2  # nothing masked: accepted as it is


@pytest.mark.parametrize("make", ["series", "wide", "long"])
def test_numeric_ids_come_back_as_they_were(make):
    """Silent coercions: ids 3.5 and np.int64(7) come back as 3.5 and 7, also after a save."""
    import tsattn

    if make == "series":
        y = pd.Series(np.arange(30.0), index=DAYS, name=np.int64(7))
        expected = [7]
    elif make == "wide":
        columns = pd.Index([np.int64(7), 3.5], dtype=object)
        y = pd.DataFrame(np.arange(60.0).reshape(30, 2), index=DAYS, columns=columns)
        expected = [7, 3.5]
    else:
        y = _ids_frame([3.5, np.int64(7)])
        expected = [3.5, 7]
    model = Seq2SeqForecaster(horizon=2, input_size=4, **TINY).fit(y)

    def ids(forecast):
        if make == "series":
            return [forecast.name]
        if make == "wide":
            return list(forecast.columns)
        return list(pd.unique(forecast["unique_id"]))

    for forecast in (model.predict(), _saved_and_loaded(model, tsattn).predict()):
        got = ids(forecast)
        assert got == expected
        assert [type(v) for v in got] == [type(v) for v in expected]


def _saved_and_loaded(model, tsattn):
    import tempfile
    from pathlib import Path

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "m.tsattn"
        model.save(path)
        return tsattn.load(path)


@pytest.mark.parametrize("value", [1e308, -1e308, 1e31])
def test_static_values_beyond_float32_range_are_refused(value):
    """Silent coercions: static values of +-1e308 do not overflow to 0; fit asks to rescale."""
    y = _ids_frame(["a", "b"])
    static = pd.DataFrame({"size": [value, 1.0]}, index=["a", "b"])
    with pytest.raises(ValueError, match="static column 'size' has a value .*rescale"):
        Seq2SeqForecaster(horizon=2, input_size=4, **TINY).fit(y, static=static)
