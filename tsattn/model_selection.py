"""Cross-validation over the time axis of a panel of series, for scikit-learn's model selection."""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.model_selection import BaseCrossValidator

from tsattn._validation import check_int

__all__ = ["PanelTimeSplit"]


class PanelTimeSplit(BaseCrossValidator):
    """Rolling-origin splits of every series of a panel at once: train up to a cutoff, test after.

    Each split cuts every series at a cutoff: its training rows are the series' observations up
    to the cutoff, its test rows the ``horizon`` observations after it. The last split's test
    rows are the last ``horizon`` observations of every series; the ``n_splits`` cutoffs lie
    ``step`` observations apart, counted back from each series' own end, so on a panel whose
    series end together they are common dates. This is :class:`sklearn.model_selection.TimeSeriesSplit`
    applied per series of a long frame, with a fixed test length; ``GridSearchCV`` and
    ``cross_validate`` tune :class:`tsattn.Seq2SeqForecaster` with it, the panel passed as their
    ``X``.

    Parameters
    ----------
    horizon : int
        Observations of every series in each test set; the forecaster's ``horizon``.
    n_splits : int, default=3
        Number of cutoffs.
    step : int or None, default=None
        Observations between consecutive cutoffs; None takes ``horizon``, so that the test sets
        of a series follow each other without overlap.

    Notes
    -----
    ``split`` takes a long frame (columns ``unique_id`` and ``ds``, rows in any order), a wide
    frame or Series indexed by time (rows in time order, or sorted by the index when not), or
    an array (rows in time order). The indices it yields are row positions into that object, for
    ``iloc`` (scikit-learn's own indexing). A series too short to keep at least one training row
    at a cutoff is left out of that split, from its training and its test rows alike: a new
    product enters the later splits only.

    Examples
    --------
    >>> import pandas as pd
    >>> y = pd.DataFrame({"unique_id": ["a"] * 6 + ["b"] * 4,
    ...                   "ds": list(range(6)) + list(range(2, 6)), "y": range(10)})
    >>> for train, test in PanelTimeSplit(horizon=2, n_splits=2).split(y):
    ...     print(train, test)
    [0 1] [2 3]
    [0 1 2 3 6 7] [4 5 8 9]
    """

    def __init__(self, horizon, *, n_splits=3, step=None):
        self.horizon = horizon
        self.n_splits = n_splits
        self.step = step

    def get_n_splits(self, X=None, y=None, groups=None):
        """Return the number of splits, ``n_splits``.

        Parameters
        ----------
        X, y, groups : object
            Ignored; present for scikit-learn's API.

        Returns
        -------
        int
        """
        return check_int("n_splits", self.n_splits)

    def split(self, X, y=None, groups=None):
        """Yield the (train, test) row positions of each split, the earliest cutoff first.

        Parameters
        ----------
        X : pandas.DataFrame, pandas.Series or array-like
            The panel: a long frame with ``unique_id`` and ``ds``, or a wide frame, Series or
            array with rows along time.
        y, groups : object
            Ignored; present for scikit-learn's API.

        Yields
        ------
        train : numpy.ndarray
            Sorted row positions of every series' observations up to the cutoff.
        test : numpy.ndarray
            Sorted row positions of the ``horizon`` observations after it.

        Raises
        ------
        ValueError
            When no series is long enough to keep a training row at the earliest cutoff.
        """
        horizon = check_int("horizon", self.horizon)
        n_splits = self.get_n_splits()
        step = horizon if self.step is None else check_int("step", self.step)
        series = _rows_by_series(X)
        # Before the last split's test rows, the earliest cutoff sits (n_splits - 1) steps back.
        reach = horizon + (n_splits - 1) * step
        longest = max(len(rows) for rows in series)
        if longest <= reach:
            raise ValueError(
                f"no series keeps a training row at the earliest cutoff: horizon={horizon} and "
                f"n_splits={n_splits} cutoffs step={step} apart need a series of more than "
                f"{reach} observations, and the longest has {longest}; lower n_splits or step"
            )
        for back in range((n_splits - 1) * step, -1, -step):
            train, test = [], []
            for rows in series:
                cutoff = len(rows) - horizon - back  # training observations of this series
                if cutoff >= 1:
                    train.append(rows[:cutoff])
                    test.append(rows[cutoff : cutoff + horizon])
            yield np.sort(np.concatenate(train)), np.sort(np.concatenate(test))


def _rows_by_series(X) -> list[np.ndarray]:
    """Row positions of each series, in time order: one array per series (a single one if wide)."""
    if isinstance(X, pd.DataFrame) and {"unique_id", "ds"} <= set(X.columns):
        if X["ds"].isna().any():
            raise ValueError("X has missing values in its ds column; every row needs a time stamp")
        keys = pd.DataFrame({"id": pd.factorize(X["unique_id"])[0], "ds": X["ds"].to_numpy()})
        order = keys.sort_values(["id", "ds"], kind="stable").index.to_numpy()
        codes = keys["id"].to_numpy()[order]
        starts = np.flatnonzero(np.r_[True, codes[1:] != codes[:-1]])
        return np.split(order, starts[1:])
    if isinstance(X, pd.DataFrame) and ("unique_id" in X.columns or "ds" in X.columns):
        raise ValueError(
            "X has one of the columns unique_id and ds but not both; a long panel needs both, "
            "a wide frame neither (rows along time, a column per series)"
        )
    if isinstance(X, (pd.DataFrame, pd.Series)):
        if X.index.is_monotonic_increasing:
            return [np.arange(len(X))]
        return [np.argsort(X.index.to_numpy(), kind="stable")]
    if not hasattr(X, "__len__") or isinstance(X, (str, bytes)):
        raise TypeError(
            f"X must be a long DataFrame (unique_id, ds, ...), a wide DataFrame, a Series or an "
            f"array, got {type(X).__name__}"
        )
    return [np.arange(len(X))]
