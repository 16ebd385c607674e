"""``tsattn predict --model``, --version, the help, the date hints, the plot options, output
column names and ISO 8601 dates across a daylight-saving change."""

import argparse

import numpy as np
import pandas as pd
import pytest

import tsattn
from tsattn.cli import main
from tsattn.cli.options import build_parser, estimator_params

pytestmark = pytest.mark.filterwarnings(
    "ignore:.*of the series have fewer than horizon:UserWarning"
)

WEEKS = pd.date_range("2021-01-04", periods=40, freq="W-MON")
SMALL = ["--epochs", "1", "--hidden-size", "4", "--input-size", "6", "--quiet", "--seed", "0"]


def sales(weeks=WEEKS, items=("apple", "pear"), value="sales"):
    rows = [
        pd.DataFrame({"item": item, "week": weeks, value: 10.0 + k + np.arange(len(weeks)) % 4})
        for k, item in enumerate(items)
    ]
    return pd.concat(rows, ignore_index=True)


def promos(weeks, items=("apple", "pear")):
    return pd.concat(
        [pd.DataFrame({"item": i, "week": weeks, "promo": np.arange(len(weeks)) % 3 == 0})
         for i in items]
    ).astype({"promo": int})  # fmt: skip


@pytest.fixture
def saved(tmp_path):
    """A model fitted by `tsattn fit --save` on weekly sales with a promo covariate."""
    sales().to_csv(tmp_path / "sales.csv", index=False)
    promos(pd.date_range(WEEKS[0], periods=43, freq="W-MON")).to_csv(
        tmp_path / "x.csv", index=False
    )
    code = main(
        ["fit", str(tmp_path / "sales.csv"), "--horizon", "3", "--save", str(tmp_path / "m.tsattn"),
         "--covariates", str(tmp_path / "x.csv"), "--quantiles", "0.1", "0.5", "0.9", *SMALL]
    )  # fmt: skip
    assert code == 0
    return tmp_path


def test_predict_forecasts_new_histories_with_the_saved_model(saved, capsys):
    # ten more weeks of both items and a new one: no training, the model's horizon
    later = pd.date_range(WEEKS[0], periods=50, freq="W-MON")
    new = sales(later, items=("apple", "pear", "plum"))
    new.to_csv(saved / "new.csv", index=False)
    x = promos(pd.date_range(WEEKS[0], periods=53, freq="W-MON"), ("apple", "pear", "plum"))
    x.to_csv(saved / "x_new.csv", index=False)
    out = saved / "f.csv"
    code = main(
        ["predict", "--model", str(saved / "m.tsattn"), str(saved / "new.csv"), "--out", str(out),
         "--covariates", str(saved / "x_new.csv")]
    )  # fmt: skip
    assert code == 0, capsys.readouterr().err
    got = pd.read_csv(out)
    assert list(got.columns) == ["item", "week", "sales", "0.1", "0.5", "0.9", "lower", "upper"]
    assert list(got["item"].unique()) == ["apple", "pear", "plum"]
    assert list(got["week"].unique()) == [str(d.date()) for d in later[-1] + 7 * pd.offsets.Day(
        1) * np.arange(1, 4)]  # fmt: skip
    model = tsattn.load(saved / "m.tsattn")
    y = new.rename(columns={"item": "unique_id", "week": "ds", "sales": "y"})
    X = x.rename(columns={"item": "unique_id", "week": "ds"})
    expected = model.predict(X=X, y=y)
    np.testing.assert_allclose(got["sales"], expected["y"], rtol=1e-5)
    band = model.predict_interval(X=X, y=y, coverage=0.8)
    np.testing.assert_allclose(got["lower"], band["lower"], rtol=1e-5)
    assert "wrote 9 rows of 3-step forecasts" in capsys.readouterr().err


def test_predict_checks_the_model_and_the_covariates_before_writing(saved, capsys):
    sales().to_csv(saved / "new.csv", index=False)
    out = saved / "f.csv"
    base = [
        "predict",
        "--model",
        str(saved / "m.tsattn"),
        str(saved / "new.csv"),
        "--out",
        str(out),
    ]
    # the covariates the model reads end with the history: not the horizon
    promos(WEEKS).to_csv(saved / "short_x.csv", index=False)
    assert main([*base, "--covariates", str(saved / "short_x.csv")]) == 2
    assert "must cover the horizon" in capsys.readouterr().err
    assert main([*base[:2], str(saved / "nothing.tsattn"), *base[3:]]) == 2
    assert "nothing.tsattn" in capsys.readouterr().err
    assert main([*base, "--plot-ids", "apple"]) == 2  # --plot-ids without --plot
    assert "--plot" in capsys.readouterr().err
    assert not out.exists()
    with pytest.raises(SystemExit):  # predict trains nothing: no model options
        main([*base, "--hidden-size", "8"])


def test_version_and_help_on_every_option(capsys):
    with pytest.raises(SystemExit) as stop:
        main(["--version"])
    assert stop.value.code == 0
    assert capsys.readouterr().out.strip() == f"tsattn {tsattn.__version__}"
    parser = build_parser()
    commands = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    assert set(commands.choices) == {"fit", "forecast", "predict"}
    for name, sub in commands.choices.items():
        for action in sub._actions:
            if isinstance(action, argparse._HelpAction):
                continue
            assert action.help and action.help != argparse.SUPPRESS, (name, action.dest)
        text = sub.format_help()
        if name != "predict":
            for flag in ("--hidden-size", "--seed", "--missing", "--lr-schedule"):
                assert flag in text


def test_lr_schedule_is_an_option_that_reaches_the_model(tmp_path):
    args = build_parser().parse_args(
        ["fit", "s.csv", "--horizon", "2", "--save", "m", "--lr-schedule", "cosine"]
    )
    assert estimator_params(args)["lr_schedule"] == "cosine"
    default = build_parser().parse_args(["fit", "s.csv", "--horizon", "2", "--save", "m"])
    assert estimator_params(default)["lr_schedule"] is None
    sales().to_csv(tmp_path / "s.csv", index=False)
    code = main(
        ["fit", str(tmp_path / "s.csv"), "--horizon", "2", "--save", str(tmp_path / "m.tsattn"),
         "--lr-schedule", "plateau", *SMALL]
    )  # fmt: skip
    assert code == 0
    assert tsattn.load(tmp_path / "m.tsattn").lr_schedule == "plateau"


@pytest.mark.parametrize("sep", ["-", "/", "."])
def test_the_date_format_hint_uses_the_files_separators(tmp_path, capsys, sep):
    dates = [f"0{m}{sep}0{d}{sep}2021" for m, d in [(3, 4), (4, 3), (5, 6)]]
    frame = pd.DataFrame({"date": dates, "sales": [1.0, 2.0, 3.0]})
    frame.to_csv(tmp_path / "s.csv", index=False)
    code = main(["forecast", str(tmp_path / "s.csv"), "--horizon", "1", "--out",
                 str(tmp_path / "o.csv"), *SMALL])  # fmt: skip
    err = capsys.readouterr().err
    assert code == 2
    assert f"--date-format %m{sep}%d{sep}%Y" in err
    others = {"-", "/", "."} - {sep}
    assert not any(f"%m{o}%d" in err for o in others)


def test_an_unreadable_date_column_is_told_a_format_like_its_own(tmp_path, capsys):
    frame = pd.DataFrame({"date": ["2021-13-01", "2021-14-01", "2021-15-01"], "sales": [1, 2, 3]})
    frame.to_csv(tmp_path / "s.csv", index=False)
    code = main(["forecast", str(tmp_path / "s.csv"), "--horizon", "1", "--out",
                 str(tmp_path / "o.csv"), *SMALL])  # fmt: skip
    err = capsys.readouterr().err
    assert code == 2 and "%Y-%m-%d" in err and "%m/%d/%Y" not in err


def test_plot_ids_and_history_choose_what_is_drawn(tmp_path, monkeypatch, capsys):
    import tsattn.plotting

    drawn = []
    real = tsattn.plotting.plot_forecast

    def spy(history, forecast, *args, **kwargs):
        drawn.append((kwargs.get("title"), kwargs.get("history_tail")))
        return real(history, forecast, *args, **kwargs)

    monkeypatch.setattr(tsattn.plotting, "plot_forecast", spy)
    sales(items=("apple", "pear", "plum", "fig", "kiwi")).to_csv(tmp_path / "s.csv", index=False)
    base = ["forecast", str(tmp_path / "s.csv"), "--horizon", "2", "--out",
            str(tmp_path / "o.csv"), "--plot", str(tmp_path / "p.png"), *SMALL]  # fmt: skip
    assert main([*base, "--plot-ids", "kiwi", "pear", "--plot-history", "7"]) == 0
    assert drawn == [("kiwi", 7), ("pear", 7)]
    assert (tmp_path / "p.png").stat().st_size > 0
    drawn.clear()
    assert main(base) == 0
    assert drawn == [(name, 10) for name in ("apple", "pear", "plum", "fig")]
    # an unknown id is refused before training, naming the file's series
    (tmp_path / "o.csv").unlink()
    assert main([*base, "--plot-ids", "mango"]) == 2
    assert "mango" in capsys.readouterr().err and not (tmp_path / "o.csv").exists()


@pytest.mark.parametrize("value", ["lower", "upper", "0.1", "0.9"])
def test_a_value_column_named_like_a_forecast_column_never_shares_its_name(tmp_path, capsys, value):
    sales(value=value).to_csv(tmp_path / "s.csv", index=False)
    out = tmp_path / "o.csv"
    code = main(["forecast", str(tmp_path / "s.csv"), "--horizon", "2", "--out", str(out),
                 "--quantiles", "0.1", "0.5", "0.9", *SMALL])  # fmt: skip
    assert code == 0
    header = out.read_text().splitlines()[0].split(",")
    assert len(header) == len(set(header))
    assert header == ["item", "week", value, "forecast_0.1", "forecast_0.5", "forecast_0.9",
                      "forecast_lower", "forecast_upper"]  # fmt: skip
    got = pd.read_csv(out)
    assert (got["forecast_lower"] <= got["forecast_upper"]).all()
    assert "forecast_lower" in capsys.readouterr().err


def test_iso_dates_whose_utc_offset_changes_at_dst_are_read(tmp_path):
    # daily at local midnight across the spring change (+01:00 -> +02:00): read as local dates
    days = pd.date_range("2021-02-20", "2021-04-20", freq="D", tz="Europe/Paris")
    text = [d.isoformat() for d in days]
    assert len({t[-6:] for t in text}) == 2
    values = 10 + np.arange(len(days)) % 7
    pd.DataFrame({"ds": text, "y": values}).to_csv(tmp_path / "d.csv", index=False)
    out = tmp_path / "o.csv"
    assert main(["forecast", str(tmp_path / "d.csv"), "--horizon", "2", "--out", str(out),
                 *SMALL]) == 0  # fmt: skip
    written = pd.read_csv(out).iloc[:, 0].tolist()
    assert written == ["2021-04-21", "2021-04-22"]
    # hourly across the change: read as UTC instants (the local clock skips an hour)
    hours = pd.date_range("2021-03-27 12:00", periods=48, freq="h", tz="Europe/Paris")
    text = [h.isoformat() for h in hours]
    values = 10 + np.arange(48) % 24
    pd.DataFrame({"ds": text, "y": values}).to_csv(tmp_path / "h.csv", index=False)
    assert main(["forecast", str(tmp_path / "h.csv"), "--horizon", "2", "--out", str(out),
                 *SMALL]) == 0  # fmt: skip
    written = pd.to_datetime(pd.read_csv(out).iloc[:, 0])
    expected = pd.date_range(hours[-1].tz_convert("UTC"), periods=3, freq="h")[1:]
    assert list(written) == list(expected)
