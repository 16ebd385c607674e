"""What the command writes: whole files or nothing, forecasts in the input's layout, the plot."""

from __future__ import annotations

import io
from pathlib import Path

import pandas as pd

from tsattn import files


def write_whole(path: str, data: bytes) -> None:
    """Write a whole file or nothing, as model files are written (:func:`tsattn.files.write_bytes`).

    The bytes go to a new file of a random name, created exclusively (a link or file planted
    beside ``path`` is never written through), flushed and renamed over ``path``, and the
    directory is flushed. A symbolic link at ``path`` stays a link; its target gets the new
    content. The new file keeps the mode of the file it replaces (a new one gets ``open``'s,
    under the umask).

    Parameters
    ----------
    path : str
        The destination.
    data : bytes
        The file's whole content.

    Raises
    ------
    OSError
        When the file cannot be written; the previous file is left as it was.
    """
    files.write_bytes(path, data)


def as_long(result: pd.DataFrame, names: dict) -> pd.DataFrame:
    """A wide forecast (dates x series, or x (series, column)) as a long frame.

    Parameters
    ----------
    result : pandas.DataFrame
        A forecast (or y) in the input's layout; a long one is returned as it is.
    names : dict
        The layout and column names :func:`tsattn.cli.reading.load_y` found.

    Returns
    -------
    pandas.DataFrame
        Columns unique_id, ds and the forecast's values (y, or one per column of ``result``).
    """
    if names["layout"] == "long" or "unique_id" in result.columns:
        return result
    frame = result.copy()
    if isinstance(frame.columns, pd.MultiIndex):
        frame = frame.stack(level=0, future_stack=True)
        frame.index.names = ["ds", "unique_id"]
        return frame.reset_index()[["unique_id", "ds", *frame.columns]]
    frame.index.name = "ds"
    long = frame.reset_index().melt(id_vars="ds", var_name="unique_id", value_name="y")
    return long[["unique_id", "ds", "y"]]


# Put before the forecast's own columns (quantile levels, lower, upper) whose names the input's
# columns already take: a value column called "lower" keeps its name, the bound is renamed.
PREFIX = "forecast_"


def with_names(frame: pd.DataFrame, names: dict) -> pd.DataFrame:
    """The input's own column names on the output, every column under a name of its own.

    The key columns and the point forecast take the input's names (id, date, value). Where one
    of them is also the name of a column the forecast adds (a value column called ``lower``,
    ``upper`` or ``0.1``), every added column is written with the prefix ``forecast_``
    (``forecast_lower``, ``forecast_0.1`` ...), so no two columns share a name.

    Parameters
    ----------
    frame : pandas.DataFrame
        A forecast: wide (dates x series) or long (unique_id, ds, ...).
    names : dict
        The layout and column names :func:`tsattn.cli.reading.load_y` found.

    Returns
    -------
    pandas.DataFrame
        A renamed copy.

    Raises
    ------
    InputError
        When even the prefixed names are taken by the input's columns.
    """
    from tsattn.cli.options import InputError

    if "unique_id" not in frame.columns:  # a wide point forecast: dates x series
        out = frame.copy()
        out.index.name = names["date"]
        return out
    renames = {"unique_id": names.get("id", "unique_id"), "ds": names["date"]}
    renames["y"] = names.get("target", "y")
    taken = {str(renames[c]) for c in renames if c in frame.columns}
    added = [c for c in frame.columns if c not in renames]
    if any(str(c) in taken for c in added):
        renames.update({c: f"{PREFIX}{c}" for c in added})
        clash = sorted({str(renames[c]) for c in added} & taken)
        if clash:
            raise InputError(
                f"the input's columns {sorted(taken)} take the names of the forecast's columns "
                f"{clash}; rename the input's columns"
            )
    return frame.rename(columns=renames)


def plot_image(
    y, point, band, names: dict, path: str, ids=None, history_steps: int | None = None
) -> bytes:
    """The image of history and forecast of some series, in the format of ``path``'s suffix.

    Parameters
    ----------
    y : pandas.DataFrame
        The history, as read.
    point, band : pandas.DataFrame or None
        The point forecast, and the interval (lower, upper) or None.
    names : dict
        The layout and column names :func:`tsattn.cli.reading.load_y` found.
    path : str
        The image file the bytes are for; its suffix names the format.
    ids : list or None, default=None
        The series to draw (ids as the history holds them); None: the first 4.
    history_steps : int or None, default=None
        Steps of history drawn before each forecast; None: 5 times the horizon.

    Returns
    -------
    bytes
        The encoded image.
    """
    from tsattn.plotting import plot_forecast, pyplot

    history = as_long(y, names) if names["layout"] == "wide" else y
    forecast = as_long(point, names)
    if band is not None:
        forecast = forecast.merge(as_long(band, names))
    ids = list(pd.unique(history["unique_id"]))[:4] if ids is None else list(ids)
    plt = pyplot()
    figure, axes = plt.subplots(len(ids), 1, figsize=(9, 2.6 * len(ids)), squeeze=False)
    for ax, uid in zip(axes[:, 0], ids, strict=True):
        plot_forecast(
            history[history["unique_id"] == uid],
            forecast[forecast["unique_id"] == uid],
            ax=ax,
            history_tail=history_steps or 5 * len(forecast[forecast["unique_id"] == uid]),
            title=str(uid),
        )
    figure.tight_layout()
    image = io.BytesIO()
    figure.savefig(image, dpi=100, format=Path(path).suffix.lstrip(".").lower())
    plt.close(figure)
    return image.getvalue()
