"""How X's columns are scaled and shown to the network, and which values ``predict`` accepts.

Every column is read in the units it was given: 0/1 flags stay as they are; other columns are
standardised with one location and scale per column, pooled over every series of ``fit``, so
26 C is the same input for every state and the network can learn one response to it (a U-shape
in temperature, a threshold). What the network then reads of a numeric column follows its role
(:func:`column_forms`): a column known in advance as its level and as its change against the
window's history (both, for the network to choose from); a past-only column as its change only.
No rule looks at a column's sign. Known columns at ``predict`` must lie within
:data:`RANGE_SPANS` spans of the range ``fit`` saw.
"""

from __future__ import annotations

import numpy as np

# X at predict may lie this many spans (max - min over fit) beyond the range fit saw. Prices
# that rise by a tenth, a promotion flag that fit saw only at 0 (span taken as 1), a regional
# index that drifts on all stay well inside; a price typed in cents instead of dollars (100x),
# or a value of 1e4 in a column fit saw within +-15, is far outside, and forecasts from it are
# extrapolations of a network that never saw such an input.
RANGE_SPANS = 10


def range_limits(low: np.ndarray, high: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The values ``predict`` accepts per column: ``RANGE_SPANS`` spans beyond fit's range.

    The span is ``high - low``; a column constant in fit takes ``max(|value|, 1)`` instead.
    """
    span = high - low
    span = np.where(span > 0, span, np.maximum(np.abs(high), 1.0))
    return low - RANGE_SPANS * span, high + RANGE_SPANS * span


def check_range(values: np.ndarray, spec, ids: list, codes: np.ndarray) -> None:
    """Refuse known covariates at predict far outside the range ``fit`` saw.

    ``values`` are the known columns, raw; the limits are :func:`range_limits`.
    """
    k = len(spec.known)
    if not spec.low or not k:
        return
    low, high = np.asarray(spec.low[:k]), np.asarray(spec.high[:k])
    # A 0/1 flag of fit (both values seen, kept as it is: location 0, scale 1) takes 0 or 1
    # only; a column fit saw at one value alone keeps the range rule below.
    flags = (low == 0) & (high == 1) & (np.asarray(spec.loc[:k]) == 0)
    flags &= np.asarray(spec.scale[:k]) == 1
    off = flags & (values != 0) & (values != 1)
    if off.any():
        row, col = np.argwhere(off)[0]
        raise ValueError(
            f"X column {spec.known[col]!r} was a 0/1 flag in fit but is {values[row, col]:g} "
            f"for series {ids[codes[row]]!r}; give it 0 or 1"
        )
    lower, upper = range_limits(low, high)
    bad = (values < lower) | (values > upper)
    if bad.any():
        row, col = np.argwhere(bad)[0]
        raise ValueError(
            f"X column {spec.known[col]!r} is {values[row, col]:g} for series "
            f"{ids[codes[row]]!r}, far outside the range fit saw ({low[col]:g} to "
            f"{high[col]:g}; accepted: {lower[col]:g} to {upper[col]:g}, {RANGE_SPANS} spans "
            f"beyond it); check its units (cents for dollars?), or fit again on data that holds "
            f"such values ({int(bad.sum())} value(s) outside)"
        )


def binary_columns(values: np.ndarray) -> np.ndarray:
    """Which columns are 0/1 flags."""
    return ((values == 0) | (values == 1)).all(0)


def column_forms(
    binary: np.ndarray, n_known: int, scaling: str
) -> tuple[np.ndarray, np.ndarray]:
    """What the network reads of every X column: its level, its change, or both.

    The change of a column is its standardised value minus its mean over the window's history
    (:class:`~tsattn.forecast.windows.WindowBatches` takes it), at every history and horizon
    step: a price against the recent price, a temperature against the last weeks'.

    Parameters
    ----------
    binary : numpy.ndarray
        (n_x,) bool: which X columns (known, then past) are 0/1 flags.
    n_known : int
        How many of them are known in advance (the first ones).
    scaling : {"auto", "window", "series"}
        The ``covariate_scaling`` parameter. "auto": a 0/1 flag as it is; a numeric column
        known in advance as its level and its change (two inputs); a past-only numeric column
        as its change only, since its level over the history can date the window (a price
        index, an unemployment rate that trends) and nothing of it reaches the horizon.
        "window": every numeric column as its change only; "series": as its level only.

    Returns
    -------
    centred, changes : numpy.ndarray
        (n_x,) bool each: the column's own input is its change (not its level); the column
        also has a second input, its change.
    """
    numeric = ~np.asarray(binary, dtype=bool)
    known = np.arange(len(numeric)) < n_known
    if scaling == "window":
        return numeric, np.zeros_like(numeric)
    if scaling == "series":
        return np.zeros_like(numeric), np.zeros_like(numeric)
    return numeric & ~known, numeric & known


def to_relative(
    values: np.ndarray,
    relative: np.ndarray,
    means: np.ndarray,
    codes: np.ndarray,
    ids: list,
    names: list,
) -> np.ndarray:
    """``log(x / series mean)`` in the relative columns; the others as they are.

    ``fit`` marks no column relative; model files written by versions that chose the transform
    by a column's sign hold relative columns, and read their X this way.
    """
    if not relative.any():
        return values
    part = values[:, relative]
    if (part <= 0).any():
        row, col = np.argwhere(part <= 0)[0]
        name = names[np.flatnonzero(relative)[col]]
        raise ValueError(
            f"X column {name!r} was positive in fit (so it is taken relative to each "
            f"series' mean, on a log scale) but is {part[row, col]:g} for series "
            f"{ids[codes[row]]!r}; keep it positive"
        )
    values = values.copy()
    values[:, relative] = np.log(part / means[codes][:, relative])
    return values


def column_scaling(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Location and scale of every column: 0/1 for 0/1 flags, mean and deviation otherwise."""
    loc, scale = values.mean(0), values.std(0)
    binary = ((values == 0) | (values == 1)).all(0)
    loc = np.where(binary, 0.0, loc)
    scale = np.where(binary | (scale == 0), 1.0, scale)
    return loc, scale
