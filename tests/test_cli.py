"""The tsattn command line on small CSV files."""

import re
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from tsattn.cli import main

pytestmark = pytest.mark.filterwarnings(
    # tsattn's short-history warning: these tests fit deliberately tiny series
    "ignore:.*of the series have fewer than horizon:UserWarning"
)

INDEX = pd.date_range("2021-01-04", periods=40, freq="W-MON")
SMALL = ["--epochs", "1", "--hidden-size", "8", "--input-size", "6", "--quiet"]


@pytest.fixture
def files(tmp_path):
    """A long sales file (non-standard column names), its covariates, a wide file."""
    rows = []
    for k, item in enumerate(["apple", "pear"]):
        rows.append(
            pd.DataFrame({"item": item, "week": INDEX, "sales": 10.0 + k + np.arange(40) % 4})
        )
    sales = pd.concat(rows, ignore_index=True)
    sales.to_csv(tmp_path / "sales.csv", index=False)
    future = pd.date_range(INDEX[0], periods=43, freq="W-MON")
    x = pd.concat(
        [
            pd.DataFrame({"item": i, "week": future, "promo": np.arange(43) % 3 == 0})
            for i in ("apple", "pear")
        ]
    )
    x.astype({"promo": int}).to_csv(tmp_path / "x.csv", index=False)
    wide = sales.pivot(index="week", columns="item", values="sales")
    wide.to_csv(tmp_path / "wide.csv")
    return tmp_path


def test_long_csv_with_covariates_quantiles_and_a_plot(files, capsys):
    out, plot = files / "forecast.csv", files / "forecast.png"
    code = main(
        [
            "forecast",
            str(files / "sales.csv"),
            "--horizon",
            "3",
            "--out",
            str(out),
            "--plot",
            str(plot),
            "--quantiles",
            "0.1",
            "0.5",
            "0.9",
            "--covariates",
            str(files / "x.csv"),
            *SMALL,
        ]
    )
    assert code == 0
    forecast = pd.read_csv(out)
    assert list(forecast.columns) == [
        "item",
        "week",
        "sales",
        "0.1",
        "0.5",
        "0.9",
        "lower",
        "upper",
    ]
    assert len(forecast) == 2 * 3
    assert list(forecast["week"].unique()) == [
        str(d.date()) for d in pd.date_range(INDEX[-1], periods=4, freq="W-MON")[1:]
    ]
    np.testing.assert_allclose(forecast["sales"], forecast["0.5"])
    assert (forecast["0.1"] <= forecast["0.9"]).all()
    assert plot.stat().st_size > 1000
    assert "wrote 6 rows" in capsys.readouterr().err


def test_wide_csv_gives_a_wide_forecast(files):
    out = files / "wide_forecast.csv"
    assert (
        main(["forecast", str(files / "wide.csv"), "--horizon", "2", "--out", str(out), *SMALL])
        == 0
    )
    forecast = pd.read_csv(out, index_col=0)
    assert list(forecast.columns) == ["apple", "pear"] and len(forecast) == 2
    assert forecast.index.name == "week"
    # with quantiles a wide input gives a long output (a column per level and bound)
    args = ["--quantiles", "0.2", "0.8", "--plot", str(files / "wide.png")]
    assert (
        main(
            [
                "forecast",
                str(files / "wide.csv"),
                "--horizon",
                "2",
                "--out",
                str(out),
                *args,
                *SMALL,
            ]
        )
        == 0
    )
    forecast = pd.read_csv(out)
    assert list(forecast.columns) == ["unique_id", "week", "y", "0.2", "0.8", "lower", "upper"]
    assert (files / "wide.png").stat().st_size > 1000


def test_named_columns(files):
    frame = pd.read_csv(files / "sales.csv").rename(columns={"sales": "qty", "week": "when"})
    frame["other"] = 1.0
    frame.to_csv(files / "odd.csv", index=False)
    out = files / "odd_forecast.csv"
    args = ["forecast", str(files / "odd.csv"), "--horizon", "2", "--out", str(out), *SMALL]
    assert main([*args, "--date-col", "when", "--target-col", "qty"]) == 0
    assert list(pd.read_csv(out).columns) == ["item", "when", "qty"]


@pytest.mark.parametrize(
    "content, words",
    [
        (None, "no such file"),
        ("", "cannot read the file as CSV"),
        ("a\n1\n2\n", "has 1 column"),
        ("unique_id,ds,y\na,2020-01-01,1\na,not a date,2\n", "does not hold dates"),
        ("unique_id,ds,y\na,2020-01-01,1\na,2020-01-02,2\n", "cannot infer the frequency"),
        ("unique_id,ds,y\na,2020-01-01,x\na,2020-01-02,2\n", "holds strings|not numeric"),
    ],
)
def test_bad_files_exit_2_with_a_message(files, capsys, content, words):
    path = files / "bad.csv"
    if content is not None:
        path.write_text(content)
    code = main(["forecast", str(path), "--horizon", "3", "--out", str(files / "o.csv"), *SMALL])
    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith("tsattn: error:")
    assert re.search(words, err)
    assert "Traceback" not in err


def test_unknown_column_and_bad_options(files, capsys):
    args = ["forecast", str(files / "sales.csv"), "--out", str(files / "o.csv"), *SMALL]
    assert main([*args, "--horizon", "3", "--target-col", "revenue"]) == 2
    assert "no column 'revenue'" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exit_info:  # argparse's own errors exit with 2 too
        main([*args, "--horizon", "three"])
    assert exit_info.value.code == 2


@pytest.mark.slow
def test_python_dash_m_tsattn():
    done = subprocess.run(
        [sys.executable, "-m", "tsattn", "forecast", "--help"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0
    assert "--horizon" in done.stdout and "--covariates" in done.stdout


def test_fit_saves_a_model_with_the_season_and_baseline_asked_for(files):
    import tsattn

    path = files / "model.tsattn"
    args = ["fit", str(files / "wide.csv"), "--horizon", "2", "--save", str(path), *SMALL]
    assert main([*args, "--season-length", "2", "--no-baseline"]) == 0
    model = tsattn.load(path)
    assert model.season_length == 2 and model.baseline is None
    assert model.predict().shape == (2, 2)
