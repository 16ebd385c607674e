"""Checks of the numbers and ids a panel is made of: numeric, finite, within float32's range.

The readers of every input format (:mod:`tsattn.forecast.panel.readers`) and of covariates share them,
so that the same problem gets the same message whichever way the data came in.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from tsattn.forecast.panel.types import Panel

# Values are held and trained on in float32 (max 3.4e38). Window sums of up to 1e8 values of this
# size stay finite there, so nothing downstream overflows to inf.
MAX_ABS_VALUE = 1e30


def to_float64(values: Any, what: str) -> np.ndarray:
    """A float64 copy of ``values``, with a clear error for content that is not numbers.

    Parameters
    ----------
    values : array-like
        The values (nullable pandas types give NaN for their missing values).
    what : str
        Their name in error messages.

    Returns
    -------
    numpy.ndarray
        float64, a copy: ``values`` is not modified.

    Raises
    ------
    TypeError
        For text, booleans, datetimes, durations and complex numbers.
    """
    array = np.asarray(values)
    if array.dtype.kind in "mM":  # numpy counts timedelta64 as an integer type
        raise TypeError(
            f"{what} must be numeric, got dtype {array.dtype}; convert durations to a number of "
            f"one unit first, e.g. y.dt.total_seconds() / 3600 for hours"
        )
    if array.dtype == bool or not (np.issubdtype(array.dtype, np.number) or array.dtype == object):
        raise TypeError(f"{what} must be numeric, got dtype {array.dtype}")
    if np.issubdtype(array.dtype, np.complexfloating):
        raise TypeError(
            f"{what} must be real numbers, got dtype {array.dtype}; pass np.real or np.abs"
        )
    if array.dtype == object:  # pandas' nullable Float64/Int64 give pd.NA: a missing value
        missing = pd.isna(array)
        if missing.any():
            array = np.where(missing, np.nan, array)
    if array.dtype == object and any(isinstance(v, (str, bytes)) for v in array.flat):
        # numpy would parse "12" as 12.0; text in a numeric series is a data error to show.
        raise TypeError(
            f"{what} holds strings (dtype object); convert them with pd.to_numeric first"
        )
    try:
        array = array.astype(np.float64)
    except (TypeError, ValueError):
        raise TypeError(
            f"{what} must be numeric, but it holds values that are not numbers (dtype "
            f"{array.dtype}); convert them with pd.to_numeric first"
        ) from None
    return array


def check_finite(values: np.ndarray, what: str) -> None:
    """Reject inf and values too large for float32 training; NaN is left to the caller.

    Parameters
    ----------
    values : numpy.ndarray
        Numeric values of any shape.
    what : str
        Their name in the error message.
    """
    if np.isinf(values).any():
        where = int(np.flatnonzero(np.isinf(values))[0])
        raise ValueError(
            f"{what} contains inf (first at position {where}); replace it with a finite value"
        )
    check_magnitude(values, what)


def check_magnitude(values: np.ndarray, what: str) -> None:
    """Raise a ValueError for values beyond +-:data:`MAX_ABS_VALUE` (NaN passes).

    Parameters
    ----------
    values : numpy.ndarray
        Numeric values of any shape.
    what : str
        Their name in the error message (``"y series 'a'"``, ``"X"``).
    """
    too_large = np.abs(values) > MAX_ABS_VALUE
    if too_large.any():
        first = np.unravel_index(int(np.flatnonzero(too_large)[0]), values.shape)
        where = int(first[0]) if len(first) == 1 else tuple(int(i) for i in first)
        raise ValueError(
            f"{what} has a value of {values[first]:.3g} at position {where}, beyond the +-"
            f"{MAX_ABS_VALUE:.0e} tsattn trains on in float32; rescale it (e.g. divide by 1e6)"
        )


def check_no_nan(values: np.ndarray, what: str, allow_nan: bool = False) -> None:
    """Reject NaN, or with ``allow_nan`` only values that are all NaN (nothing observed).

    Parameters
    ----------
    values : numpy.ndarray
        One series' values.
    what : str
        Its name in the error message.
    allow_nan : bool, default=False
        Whether NaN are missing values to be masked (``missing='mask'``).
    """
    if allow_nan:
        if np.isnan(values).all():
            raise ValueError(f"{what} has no observed values; drop it")
        return
    if np.isnan(values).any():
        where = int(np.flatnonzero(np.isnan(values))[0])
        raise ValueError(
            f"{what} contains NaN (first at position {where}); pass missing='mask' to the "
            f"forecaster to mask missing values out of its inputs and loss, or fill them first "
            f"(e.g. y.interpolate())"
        )


def jsonable(value: Any) -> Any:
    """Plain Python value for ids and names (numpy scalars do not go into JSON).

    Parameters
    ----------
    value : Any
        An id or name, perhaps a numpy scalar.

    Returns
    -------
    Any
        ``value.item()`` for a numpy scalar, else ``value`` itself.
    """
    return value.item() if isinstance(value, np.generic) else value


def plain_id(value: Any, what: str) -> str | int | float:
    """A series id as the plain str, int or float it is; other kinds are refused.

    Ids are saved with a model and given back on every forecast, so they must survive JSON as
    what they were: 3.5 stays 3.5 and np.int64(7) becomes 7, while a tuple or a Timestamp would
    come back as something else.
    """
    plain = jsonable(value)
    if isinstance(plain, (str, int, float)) and not (isinstance(plain, float) and plain != plain):
        return plain
    raise TypeError(
        f"{what} {value!r} is a {type(value).__name__}; series ids must be strings or numbers. "
        f"Convert them first, e.g. with .astype(str), or '_'.join(map(str, key)) for tuples"
    )


def first_short(panel: Panel, minimum: int) -> tuple[int, int] | None:
    """Find the series with fewer than ``minimum`` values.

    Parameters
    ----------
    panel : Panel
        The validated series.
    minimum : int
        The fewest values a series may have.

    Returns
    -------
    tuple of (int, int) or None
        The position of the first series that is too short and how many series are, or None
        where every series has at least ``minimum`` values. Each caller words its own error.
    """
    short = np.flatnonzero(panel.lengths < minimum)
    return (int(short[0]), len(short)) if len(short) else None


def check_lengths(panel: Panel, horizon: int) -> None:
    """Refuse series too short to give one training target."""
    found = first_short(panel, horizon + 1)
    if found is not None:
        i, count = found
        raise ValueError(
            f"series {panel.ids[i]!r} has {panel.lengths[i]} values, too short to give one "
            f"training target: it needs more than horizon={horizon} values "
            f"({count} series are that short). Drop them or lower the horizon"
        )
