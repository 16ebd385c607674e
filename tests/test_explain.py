"""Attention weights of the forecaster as a tidy frame, and the plots that draw them."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from conftest import tiny  # noqa: E402

from tsattn import Seq2SeqForecaster  # noqa: E402
from tsattn.plotting import plot_attention, plot_forecast  # noqa: E402

pytestmark = pytest.mark.filterwarnings(
    # tsattn's short-history warning: these tests fit deliberately tiny series
    "ignore:.*of the series have fewer than horizon:UserWarning"
)

INDEX = pd.date_range("2020-01-06", periods=40, freq="W-MON")


@pytest.fixture(scope="module")
def fitted():
    y = pd.DataFrame(
        {
            "unique_id": ["long"] * 40 + ["short"] * 4,  # "short" is shorter than input_size
            "ds": list(INDEX) + list(INDEX[-4:]),
            "y": np.r_[np.sin(np.arange(40.0)) + 5, [1.0, 2.0, 3.0, 4.0]],
        }
    )
    f = Seq2SeqForecaster(**tiny(horizon=3, input_size=6, quantiles=(0.1, 0.5, 0.9)))
    return f.fit(y), y


def test_attention_weights_are_tidy_and_sum_to_one(fitted):
    f, _ = fitted
    w = f.attention_weights()
    assert list(w.columns) == ["unique_id", "step", "lag", "weight"]
    assert len(w) == 2 * 3 * 6
    assert sorted(w["step"].unique()) == [1, 2, 3]
    assert sorted(w["lag"].unique()) == [1, 2, 3, 4, 5, 6]
    sums = w.groupby(["unique_id", "step"])["weight"].sum()
    np.testing.assert_allclose(sums, 1.0, rtol=1e-5)
    # "short" has 4 values: lags 5 and 6 are padding and get no attention
    short = w[(w.unique_id == "short") & (w.lag > 4)]
    assert (short["weight"] == 0).all()
    assert (w[(w.unique_id == "short") & (w.lag <= 4)]["weight"] > 0).all()


def test_no_attention_no_weights():
    y = pd.Series(np.arange(40.0), index=INDEX)
    f = Seq2SeqForecaster(**tiny(attention="none", max_epochs=1)).fit(y)
    with pytest.raises(ValueError, match="attention='none' has no attention weights"):
        f.attention_weights()


def test_plot_attention_draws_the_tidy_frame(fitted, tmp_path):
    f, _ = fitted
    w = f.attention_weights()
    ax = plot_attention(w, unique_id="short")
    image = ax.images[0].get_array()
    assert image.shape == (3, 6)  # steps down, lags across
    expected = (
        w[w.unique_id == "short"]
        .pivot(index="step", columns="lag", values="weight")
        .to_numpy()[:, ::-1]  # the oldest lag on the left
    )
    np.testing.assert_allclose(image, expected)
    assert ax.get_title() == "attention weights of short"
    ax.figure.savefig(tmp_path / "attention.png")
    assert (tmp_path / "attention.png").stat().st_size > 1000
    with pytest.raises(ValueError, match="unique_id 'nope' is not in the weights"):
        plot_attention(w, unique_id="nope")
    plt.close("all")


def test_plot_attention_still_takes_an_array():
    ax = plot_attention(np.eye(3), source_tokens=list("abc"), target_tokens=list("xyz"))
    assert [t.get_text() for t in ax.get_xticklabels()] == ["a", "b", "c"]
    assert ax.images[0].get_clim() == (0.0, 1.0)
    plt.close("all")


def test_plot_forecast_takes_the_interval_frame(fitted, tmp_path):
    f, y = fitted
    history = y[y.unique_id == "long"]
    band = f.predict_interval()
    band = band[band.unique_id == "long"]
    point = f.predict()
    point = point[point.unique_id == "long"]
    ax = plot_forecast(history, point.merge(band), history_tail=10, title="long")
    assert len(ax.collections) == 1  # the band
    assert [line.get_label() for line in ax.lines] == ["history", "forecast"]
    ax.figure.savefig(tmp_path / "forecast.png")
    assert (tmp_path / "forecast.png").stat().st_size > 1000
    # the interval frame alone draws the band; quantile columns too
    only_band = plot_forecast(history, band)
    assert len(only_band.collections) == 1 and len(only_band.lines) == 1
    quantiles = f.predict_quantiles()
    drawn = plot_forecast(history, quantiles[quantiles.unique_id == "long"])
    assert len(drawn.collections) == 1 and len(drawn.lines) == 2
    with pytest.raises(ValueError, match="holds 2 series; select one"):
        plot_forecast(history, f.predict_interval())
    plt.close("all")
