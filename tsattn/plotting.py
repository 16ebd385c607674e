"""Plots of forecasts and attention; matplotlib is imported only when a plot is drawn."""

from __future__ import annotations

import numpy as np
import pandas as pd

from tsattn._pyplot import pyplot
from tsattn._validation import check_int


def plot_forecast(
    history,
    forecast,
    actual=None,
    *,
    ax=None,
    title=None,
    history_tail=None,
    ids=None,
    max_series=8,
    ncols=2,
):
    """Draw series' histories, their forecasts and, if given, the actual values over the horizon.

    One series is drawn into one axes. A panel of several series (a long frame with
    ``unique_id``, or a wide frame with a column per series) is drawn as a grid of axes, one
    per series, each titled by its id: the series in ``ids``, or the first ``max_series``.

    Parameters
    ----------
    history : pandas.Series or pandas.DataFrame
        The observed series, indexed by time; a long frame (``unique_id``, ``ds``, ``y``) of
        one or many series; or a wide frame indexed by time with one column per series.
    forecast : pandas.Series or pandas.DataFrame
        The point forecast; a DataFrame with columns ``lower`` and ``upper`` (and ``forecast``,
        ``y`` or ``"0.5"``) also draws the interval as a band, as do quantile columns
        (``"0.1"``, ..., the outermost two). A frame indexed by time, or a long frame
        (``unique_id``, ``ds``, ...) as ``predict``, ``predict_interval`` and
        ``predict_quantiles`` return it; a frame with only ``lower`` and ``upper`` draws the
        band alone. For a wide history: a wide point forecast, or the (series, level) columns
        of ``predict_interval`` and ``predict_quantiles``.
    actual : pandas.Series, pandas.DataFrame or None
        Held-out values to compare with: a Series for one series; for a panel, a frame laid out
        as ``history``.
    ax : matplotlib.axes.Axes or None
        Where to draw one series; a new figure when None. A panel always draws a new figure.
    title : str or None
        The axes' title; for a panel, the figure's.
    history_tail : int or None
        Draw only the last ``history_tail`` observations of each history.
    ids : sequence or None
        Keyword-only. The series of a panel to draw, in this order; None draws the first
        ``max_series`` of ``history``.
    max_series : int, default=8
        Keyword-only. At most this many series of a panel are drawn when ``ids`` is None.
    ncols : int, default=2
        Keyword-only. Columns of the panel's grid.

    Returns
    -------
    matplotlib.axes.Axes or matplotlib.figure.Figure
        The axes for one series; the figure holding one axes per series for a panel (a long
        history of several series or a wide history), or whenever ``ids`` is given.
    """
    panel = _is_panel(history) or ids is not None
    if not panel:
        plt = pyplot()
        if ax is None:
            _, ax = plt.subplots(figsize=(9, 3.5))
        if isinstance(history, pd.DataFrame):
            history = _by_time(history, "history")["y"]
        _draw(ax, history, forecast, actual, history_tail=history_tail, title=title)
        return ax
    chosen = _chosen_ids(history, ids, max_series)
    ncols = check_int("ncols", ncols)
    if ax is not None:
        raise ValueError(
            "ax draws one series, and history holds a panel; leave ax=None to draw the panel's "
            "grid, or select one series first, e.g. history[history['unique_id'] == uid]"
        )
    # Every series is cut out before a figure opens, so bad input leaves no half-drawn figure.
    pieces = [
        (
            _one(history, uid, "history")["y"],
            _one(forecast, uid, "forecast"),
            None if actual is None else _column(_one(actual, uid, "actual")),
        )
        for uid in chosen
    ]
    plt = pyplot()
    ncols = min(ncols, len(chosen))
    nrows = -(-len(chosen) // ncols)
    figure, axes = plt.subplots(nrows, ncols, figsize=(5 * ncols, 2.6 * nrows), squeeze=False)
    for extra in axes.flat[len(chosen) :]:
        extra.remove()
    for i, (axis, uid, piece) in enumerate(zip(axes.flat, chosen, pieces, strict=False)):
        _draw(axis, *piece, history_tail=history_tail, title=str(uid), legend=i == 0)
    if title:
        figure.suptitle(title)
    figure.tight_layout()
    return figure


def _draw(ax, history, forecast, actual, *, history_tail, title, legend=True) -> None:
    """Draw one series' history (by time), forecast and actuals into ``ax``."""
    shown = history.iloc[-history_tail:] if history_tail else history
    ax.plot(shown.index, shown.to_numpy(), color="0.25", lw=1.2, label="history")
    point = forecast  # None: nothing forecast for this series of a panel
    if isinstance(forecast, pd.DataFrame):
        forecast = _by_time(forecast, "forecast")
        point_column = next((c for c in ("forecast", "y", "0.5") if c in forecast.columns), None)
        point = None if point_column is None else forecast[point_column]
        band = _band_columns(forecast)
        if band is not None:
            ax.fill_between(
                forecast.index,
                forecast[band[0]],
                forecast[band[1]],
                color="C0",
                alpha=0.25,
                label="interval" if band == ("lower", "upper") else f"{band[0]}-{band[1]}",
            )
        elif point is None:
            raise ValueError(
                f"forecast has none of the columns forecast, y, 0.5, lower/upper; got "
                f"{list(forecast.columns)}"
            )
    if point is not None:
        ax.plot(point.index, point.to_numpy(), color="C0", lw=1.8, label="forecast")
    if actual is not None:
        ax.plot(actual.index, actual.to_numpy(), color="C3", lw=1.2, ls="--", label="actual")
    if title:
        ax.set_title(title)
    if legend:
        ax.legend(loc="upper left", fontsize=8, frameon=False)


def _is_panel(frame) -> bool:
    """Whether ``frame`` holds several series: long with many ids, or wide (a column each)."""
    if not isinstance(frame, pd.DataFrame):
        return False
    if "unique_id" in frame.columns:
        return frame["unique_id"].nunique() > 1
    return "ds" not in frame.columns and "y" not in frame.columns


def _series_ids(frame: pd.DataFrame) -> list:
    if "unique_id" in frame.columns:
        return list(pd.unique(frame["unique_id"]))
    return list(pd.unique(frame.columns.get_level_values(0)))


def _chosen_ids(history, ids, max_series) -> list:
    """The ids of a panel to draw: those asked for, checked, or the first ``max_series``."""
    if not isinstance(history, pd.DataFrame) or not (
        "unique_id" in history.columns or "ds" not in history.columns
    ):
        raise TypeError(
            "ids selects series of a panel: pass history as a long frame (unique_id, ds, y) or "
            f"a wide frame (a column per series), not a {type(history).__name__}"
        )
    known = _series_ids(history)
    if ids is None:
        return known[: check_int("max_series", max_series)]
    check_int("max_series", max_series)
    chosen = list(ids) if pd.api.types.is_list_like(ids) else [ids]
    if not chosen:
        raise ValueError("ids is empty; pass at least one series id, or None for the first ones")
    unknown = [uid for uid in chosen if uid not in set(known)]
    if unknown:
        raise ValueError(
            f"ids {unknown} are not series of history; it holds {len(known)} series, e.g. "
            f"{known[:5]}"
        )
    return chosen


def _column(frame: pd.DataFrame | None) -> pd.Series | None:
    return None if frame is None else frame["y"]


def _one(frame, uid, name: str) -> pd.DataFrame | None:
    """One series of a long or wide frame, indexed by time, its target column named ``y``.

    None when the frame holds nothing of that series.
    """
    if not isinstance(frame, pd.DataFrame):
        raise TypeError(
            f"history holds a panel, so {name} must be a DataFrame of the same panel (long "
            f"with unique_id, or wide), not a {type(frame).__name__}"
        )
    if "unique_id" in frame.columns:
        rows = frame[frame["unique_id"] == uid]
        return None if rows.empty else rows.drop(columns="unique_id").set_index("ds")
    if "ds" in frame.columns:
        raise ValueError(f"{name} has a ds column but no unique_id; a panel's {name} needs both")
    if uid not in frame.columns.get_level_values(0):
        return None
    if isinstance(frame.columns, pd.MultiIndex):  # (series, level) of intervals and quantiles
        return frame[uid]
    return frame[uid].rename("y").to_frame()


def _by_time(frame: pd.DataFrame, name: str) -> pd.DataFrame:
    """A long frame of one series (unique_id, ds, ...) indexed by ds; others as they are."""
    if "ds" not in frame.columns:
        return frame
    if "unique_id" in frame.columns and frame["unique_id"].nunique() > 1:
        raise ValueError(
            f"{name} holds {frame['unique_id'].nunique()} series; select one, e.g. "
            f"{name}[{name}['unique_id'] == {frame['unique_id'].iloc[0]!r}]"
        )
    return frame.set_index("ds")


def _band_columns(frame: pd.DataFrame) -> tuple | None:
    """(lower, upper) column names: an interval's, or the outermost quantiles'."""
    if {"lower", "upper"} <= set(frame.columns):
        return ("lower", "upper")
    levels = {}
    for column in frame.columns:
        try:
            level = float(column)
        except (TypeError, ValueError):
            continue
        if 0 < level < 1:
            levels[level] = column
    if len(levels) < 2:
        return None
    return (levels[min(levels)], levels[max(levels)])


def plot_attention(
    weights, source_tokens=None, target_tokens=None, ax=None, *, unique_id=None, title=None
):
    """Draw an attention alignment: outputs down, source positions across.

    Parameters
    ----------
    weights : array-like or pandas.DataFrame
        (target_len, source_len) weights, each row summing to one, as
        :meth:`tsattn.Seq2SeqTranslator.attention_weights` returns them (a DataFrame whose index
        and columns label the axes); or the tidy frame of
        :meth:`tsattn.Seq2SeqForecaster.attention_weights` (``unique_id``, ``step``, ``lag``,
        ``weight``): forecast steps down, lags across (the oldest on the left), of one series.
    source_tokens : sequence of str or None
        Column labels; None takes the DataFrame's columns, or numbers.
    target_tokens : sequence of str or None
        Row labels; None takes the DataFrame's index, or numbers.
    ax : matplotlib.axes.Axes or None
        Where to draw; a new figure when None.
    unique_id : object or None
        For a tidy frame: the series to draw; None takes the first.
    title : str or None
        The axes' title.

    Returns
    -------
    matplotlib.axes.Axes
    """
    tidy = isinstance(weights, pd.DataFrame) and {"step", "lag", "weight"} <= set(weights.columns)
    if tidy:
        weights = _alignment(weights, unique_id)
        title = title if title is not None else weights.attrs.get("title")
    if isinstance(weights, pd.DataFrame):
        source_tokens = list(weights.columns) if source_tokens is None else source_tokens
        target_tokens = list(weights.index) if target_tokens is None else target_tokens
    values = np.asarray(weights, dtype=float)
    if values.ndim != 2:
        raise ValueError(f"weights must be 2-D (target_len, source_len), got shape {values.shape}")
    for name, labels, size in (
        ("source_tokens", source_tokens, values.shape[1]),
        ("target_tokens", target_tokens, values.shape[0]),
    ):
        if labels is not None and len(labels) != size:
            raise ValueError(f"{name} has {len(labels)} labels for {size} weights along its axis")
    plt = pyplot()
    if ax is None:
        rows, cols = values.shape
        _, ax = plt.subplots(figsize=(max(3.0, 0.45 * cols + 1.5), max(2.5, 0.4 * rows + 1.2)))
    # Over dozens of lags weights are small; a fixed 0..1 scale would leave the map white.
    image = ax.imshow(values, cmap="Blues", vmin=0.0, vmax=None if tidy else 1.0, aspect="auto")
    ax.figure.colorbar(image, ax=ax, fraction=0.046, pad=0.04)
    every = max(1, values.shape[1] // 16) if tidy else 1  # readable ticks over many lags
    ax.set_xticks(range(0, values.shape[1], every))
    ax.set_yticks(range(values.shape[0]))
    # A space is a token of character models; an empty label would hide it.
    if source_tokens is not None:
        ax.set_xticklabels(
            [str(t) if str(t).strip() else "␣" for t in source_tokens][::every], rotation=90
        )
    if target_tokens is not None:
        ax.set_yticklabels([str(t) if str(t).strip() else "␣" for t in target_tokens])
    ax.set_xlabel("lag (steps before the forecast origin)" if tidy else "source")
    ax.set_ylabel("forecast step" if tidy else "output")
    if title:
        ax.set_title(title)
    return ax


def _alignment(tidy: pd.DataFrame, unique_id) -> pd.DataFrame:
    """One series of a tidy (unique_id, step, lag, weight) frame as a (step x lag) table."""
    chosen = None
    if "unique_id" in tidy.columns:
        ids = list(pd.unique(tidy["unique_id"]))
        chosen = ids[0] if unique_id is None else unique_id
        if chosen not in ids:
            raise ValueError(f"unique_id {chosen!r} is not in the weights; they hold {ids[:5]}")
        tidy = tidy[tidy["unique_id"] == chosen]
    table = tidy.pivot_table(index="step", columns="lag", values="weight", aggfunc="sum")
    table = table[sorted(table.columns, reverse=True)]  # the oldest lag on the left
    table.columns = [f"-{lag}" for lag in table.columns]
    table.attrs["title"] = None if chosen is None else f"attention weights of {chosen}"
    return table


def plot_importance(importance, *, ax=None, title=None, max_features=None):
    """Draw permutation importances as horizontal bars, the most important at the top.

    Parameters
    ----------
    importance : pandas.DataFrame
        From :meth:`tsattn.Seq2SeqForecaster.covariate_importance`: ``feature``, ``kind``,
        ``importance`` and, if present, ``std`` (drawn as error bars).
    ax : matplotlib.axes.Axes or None, default=None
        Where to draw; None makes a new figure.
    title : str or None, default=None
        Axes title; None: "Permutation importance".
    max_features : int or None, default=None
        Draw only the most important this many; None draws all.

    Returns
    -------
    matplotlib.axes.Axes
    """
    if not isinstance(importance, pd.DataFrame) or not {"feature", "importance"} <= set(
        importance.columns
    ):
        raise TypeError(
            "importance must be the DataFrame of covariate_importance(), with columns feature "
            "and importance"
        )
    if max_features is not None:
        check_int("max_features", max_features)
    table = importance.sort_values("importance", ascending=False, kind="stable")
    table = table.head(max_features) if max_features is not None else table
    table = table.iloc[::-1]  # barh draws the first row at the bottom
    if ax is None:
        _, ax = pyplot().subplots(figsize=(6, 0.35 * len(table) + 1.2))
    labels = [
        f"{row.feature} ({row.kind})" if "kind" in table.columns else str(row.feature)
        for row in table.itertuples()
    ]
    xerr = table["std"].to_numpy() if "std" in table.columns else None
    ax.barh(np.arange(len(table)), table["importance"].to_numpy(), xerr=xerr, color="tab:blue")
    ax.set_yticks(np.arange(len(table)), labels)
    ax.axvline(0.0, color="black", linewidth=0.8)
    ax.set_xlabel("increase of the validation loss when shuffled")
    ax.set_title("Permutation importance" if title is None else title)
    return ax


# The partial-dependence view lives in a module of its own (see its docstring); the forecasts
# it draws are computed by tsattn.forecast.importance.partial_dependence.
from tsattn.forecast.importance import partial_dependence  # noqa: E402, F401
from tsattn.plotting_effects import plot_partial_dependence  # noqa: E402, F401
