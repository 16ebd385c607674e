"""The partial-dependence view of a covariate: the forecast with it set to a few values.

Importable as :func:`tsattn.plotting.plot_partial_dependence`; kept apart so that no plotting
module passes 400 lines.
"""

from __future__ import annotations

import pandas as pd

from tsattn._pyplot import pyplot

__all__ = ["plot_partial_dependence"]


def plot_partial_dependence(effects, *, unique_id=None, ax=None, title=None):
    """Draw the forecast under each value of a feature, one line per value.

    Parameters
    ----------
    effects : pandas.DataFrame
        From :func:`tsattn.plotting.partial_dependence`: ``value``, ``unique_id``,
        ``ds`` and ``forecast``.
    unique_id : object or None, default=None
        The series to draw; None draws the mean over all series.
    ax : matplotlib.axes.Axes or None, default=None
        Where to draw; None makes a new figure.
    title : str or None, default=None
        Axes title; None names the series (or "mean over series").

    Returns
    -------
    matplotlib.axes.Axes

    Raises
    ------
    TypeError
        When ``effects`` lacks those columns.
    ValueError
        When ``unique_id`` is not one of its series.
    """
    needed = {"value", "unique_id", "ds", "forecast"}
    if not isinstance(effects, pd.DataFrame) or not needed <= set(effects.columns):
        raise TypeError(
            "effects must be the DataFrame of partial_dependence(), with columns value, "
            "unique_id, ds and forecast"
        )
    frame = effects
    if unique_id is not None:
        frame = effects[effects["unique_id"] == unique_id]
        if frame.empty:
            raise ValueError(f"unique_id {unique_id!r} is not a series of effects")
    lines = frame.groupby(["value", "ds"], sort=True)["forecast"].mean().unstack(0)
    if ax is None:
        _, ax = pyplot().subplots(figsize=(8, 4))
    for value in lines.columns:
        ax.plot(lines.index, lines[value].to_numpy(), marker=".", label=f"{value:g}")
    ax.legend(title="value")
    ax.set_ylabel("forecast")
    name = "mean over series" if unique_id is None else str(unique_id)
    ax.set_title(name if title is None else title)
    return ax
