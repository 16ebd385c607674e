"""The argument check the simulators share."""

from __future__ import annotations

import numbers

import numpy as np


def check_positive_int(value: object, name: str) -> int:
    """Return ``value`` as an ``int`` or raise ``ValueError`` naming ``name``.

    Parameters
    ----------
    value : object
        The value to validate.
    name : str
        Argument name used in the error message.

    Returns
    -------
    int
        The validated value.

    Raises
    ------
    ValueError
        If ``value`` is not an integer (booleans are rejected) or is not positive.
    """
    if isinstance(value, bool | np.bool_) or not isinstance(value, numbers.Integral):
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    if value <= 0:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return int(value)
