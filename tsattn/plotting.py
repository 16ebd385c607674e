"""Plots of forecasts and attention; matplotlib is imported only when a plot is drawn."""

from __future__ import annotations

import pandas as pd


def _pyplot():
    import matplotlib

    if matplotlib.get_backend().lower() not in ("agg",) and not _has_display():
        matplotlib.use("Agg")  # headless machines (CI, servers) have no window to draw in
    import matplotlib.pyplot as plt

    return plt


def _has_display() -> bool:
    import os

    return bool(os.environ.get("DISPLAY")) or os.name == "nt"


def plot_forecast(history, forecast, actual=None, *, ax=None, title=None, history_tail=None):
    """Draw a series' history, its forecast and, if given, the actual values over the horizon.

    Parameters
    ----------
    history : pandas.Series
        The observed series, indexed by time.
    forecast : pandas.Series or pandas.DataFrame
        The point forecast; a DataFrame with columns ``lower`` and ``upper`` (and ``forecast``
        or ``y``) also draws the interval as a band.
    actual : pandas.Series or None
        Held-out values to compare with.
    ax : matplotlib.axes.Axes or None
        Where to draw; a new figure when None.
    title : str or None
        The axes' title.
    history_tail : int or None
        Draw only the last ``history_tail`` observations of the history.

    Returns
    -------
    matplotlib.axes.Axes
    """
    plt = _pyplot()
    if ax is None:
        _, ax = plt.subplots(figsize=(9, 3.5))
    shown = history.iloc[-history_tail:] if history_tail else history
    ax.plot(shown.index, shown.to_numpy(), color="0.25", lw=1.2, label="history")
    if isinstance(forecast, pd.DataFrame):
        point_column = next(c for c in ("forecast", "y", "0.5") if c in forecast.columns)
        point = forecast[point_column]
        if {"lower", "upper"} <= set(forecast.columns):
            ax.fill_between(
                forecast.index,
                forecast["lower"],
                forecast["upper"],
                color="C0",
                alpha=0.25,
                label="interval",
            )
    else:
        point = forecast
    ax.plot(point.index, point.to_numpy(), color="C0", lw=1.8, label="forecast")
    if actual is not None:
        ax.plot(actual.index, actual.to_numpy(), color="C3", lw=1.2, ls="--", label="actual")
    if title:
        ax.set_title(title)
    ax.legend(loc="upper left", fontsize=8, frameon=False)
    return ax
