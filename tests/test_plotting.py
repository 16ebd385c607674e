"""plot_forecast over panels: a grid of series, the ids asked for, max_series; pyplot()."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from tsattn.plotting import plot_forecast, pyplot  # noqa: E402

INDEX = pd.date_range("2021-01-04", periods=20, freq="W-MON")
FUTURE = pd.date_range(INDEX[-1] + pd.Timedelta(weeks=1), periods=3, freq="W-MON")
IDS = ["a", "b", "c", "d", "e"]


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def long_panel(ids=IDS):
    history = pd.DataFrame(
        {
            "unique_id": np.repeat(ids, len(INDEX)),
            "ds": np.tile(INDEX, len(ids)),
            "y": np.arange(len(ids) * len(INDEX), dtype=float),
        }
    )
    forecast = pd.DataFrame(
        {
            "unique_id": np.repeat(ids, 3),
            "ds": np.tile(FUTURE, len(ids)),
            "y": np.arange(len(ids) * 3, dtype=float),
        }
    )
    forecast["lower"], forecast["upper"] = forecast["y"] - 1, forecast["y"] + 1
    return history, forecast


def titles(figure):
    return [axis.get_title() for axis in figure.axes]


def test_a_long_panel_draws_one_axes_per_series_with_history_forecast_and_band():
    history, forecast = long_panel()
    figure = plot_forecast(history, forecast, title="sales")
    assert isinstance(figure, matplotlib.figure.Figure)
    assert titles(figure) == IDS  # the empty sixth cell of the 3x2 grid is removed
    assert figure._suptitle.get_text() == "sales"
    b = figure.axes[1]
    assert len(b.collections) == 1  # the band
    history_line, forecast_line = b.lines
    np.testing.assert_array_equal(history_line.get_ydata(), np.arange(20.0, 40.0))
    np.testing.assert_array_equal(forecast_line.get_ydata(), [3.0, 4.0, 5.0])
    # the legend once, not in every cell
    assert figure.axes[0].get_legend() is not None
    assert all(axis.get_legend() is None for axis in figure.axes[1:])


def test_max_series_caps_the_grid_and_ids_choose_the_series_in_their_order(tmp_path):
    history, forecast = long_panel()
    assert titles(plot_forecast(history, forecast, max_series=2)) == ["a", "b"]
    figure = plot_forecast(history, forecast, ids=["d", "a", "e"], max_series=2, ncols=3)
    assert titles(figure) == ["d", "a", "e"]  # ids win over max_series
    assert {axis.get_subplotspec().rowspan.start for axis in figure.axes} == {0}  # one row
    figure.savefig(tmp_path / "panel.png")
    assert (tmp_path / "panel.png").stat().st_size > 1000
    # one id, given as a scalar, still draws a (one-axes) figure
    assert titles(plot_forecast(history, forecast, ids="c")) == ["c"]


def test_history_tail_and_actuals_apply_to_every_series():
    history, forecast = long_panel(["a", "b"])
    actual = forecast[["unique_id", "ds", "y"]].assign(y=lambda f: f["y"] + 0.5)
    figure = plot_forecast(history, forecast, actual, history_tail=4)
    for axis, first in zip(figure.axes, [16.0, 36.0], strict=True):
        history_line, _, actual_line = axis.lines
        assert len(history_line.get_ydata()) == 4 and history_line.get_ydata()[0] == first
        assert actual_line.get_label() == "actual"
    np.testing.assert_array_equal(figure.axes[1].lines[2].get_ydata(), [3.5, 4.5, 5.5])


def test_a_series_missing_from_the_forecast_draws_its_history_only():
    history, forecast = long_panel(["a", "b"])
    figure = plot_forecast(history, forecast[forecast.unique_id == "a"])
    assert [len(axis.lines) for axis in figure.axes] == [2, 1]


def test_one_series_stays_one_axes():
    history, forecast = long_panel(["a"])
    ax = plot_forecast(history, forecast)
    assert isinstance(ax, matplotlib.axes.Axes)
    assert len(ax.figure.axes) == 1 and len(ax.collections) == 1


def test_a_wide_panel_with_its_point_and_interval_frames():
    # laid out as predict and predict_interval return them for a wide y
    y = pd.DataFrame(np.arange(60.0).reshape(20, 3), index=INDEX, columns=["x", "y2", "z"])
    point = pd.DataFrame(np.arange(9.0).reshape(3, 3), index=FUTURE, columns=y.columns)
    band = pd.DataFrame(
        np.arange(18.0).reshape(3, 6),
        index=FUTURE,
        columns=pd.MultiIndex.from_product([y.columns, ["lower", "upper"]]),
    )
    figure = plot_forecast(y, band, ids=["z", "x"])
    assert titles(figure) == ["z", "x"]
    z = figure.axes[0]
    assert len(z.collections) == 1 and len(z.lines) == 1  # history and band, no point
    np.testing.assert_array_equal(z.lines[0].get_ydata(), y["z"])
    lower = z.collections[0].get_paths()[0].vertices[:, 1]
    assert {4.0, 10.0, 16.0} <= set(lower) and {5.0, 11.0, 17.0} <= set(lower)
    points = plot_forecast(y, point, max_series=2)
    assert titles(points) == ["x", "y2"]
    np.testing.assert_array_equal(points.axes[1].lines[1].get_ydata(), [1.0, 4.0, 7.0])


def test_unknown_ids_and_bad_sizes_are_refused_before_drawing():
    history, forecast = long_panel()
    with pytest.raises(ValueError, match=r"ids \['zz'\] are not series of history"):
        plot_forecast(history, forecast, ids=["a", "zz"])
    with pytest.raises(ValueError, match="ids is empty"):
        plot_forecast(history, forecast, ids=[])
    with pytest.raises(ValueError, match="max_series must be an integer"):
        plot_forecast(history, forecast, max_series=0)
    with pytest.raises(TypeError, match="max_series must be an integer"):
        plot_forecast(history, forecast, max_series=2.5)
    with pytest.raises(TypeError, match="ncols must be an integer"):
        plot_forecast(history, forecast, ncols="2")
    _, ax = plt.subplots()
    with pytest.raises(ValueError, match="ax draws one series"):
        plot_forecast(history, forecast, ax=ax)
    with pytest.raises(TypeError, match="forecast must be a DataFrame"):
        plot_forecast(history, forecast["y"])
    series = history[history.unique_id == "a"].set_index("ds")["y"]
    with pytest.raises(TypeError, match="ids selects series of a panel"):
        plot_forecast(series, forecast, ids=["a"])
    assert plt.get_fignums() == [ax.figure.number]  # no figure was left half drawn


def test_nothing_the_user_passed_is_changed():
    history, forecast = long_panel()
    before = history.copy(), forecast.copy()
    plot_forecast(history, forecast, history_tail=3)
    pd.testing.assert_frame_equal(history, before[0])
    pd.testing.assert_frame_equal(forecast, before[1])


def test_pyplot_is_public_and_is_matplotlibs():
    assert pyplot() is plt
