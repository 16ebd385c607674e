"""Checks of constructor parameters, run in ``fit`` (never in ``__init__``)."""

from __future__ import annotations

import difflib
import numbers
from collections.abc import Iterable
from typing import Any

import numpy as np


def check_option(name: str, value: Any, allowed: Iterable[str]) -> str:
    """Return ``value`` if it is one of ``allowed``, else raise a ValueError that lists them."""
    allowed = tuple(allowed)
    if isinstance(value, str) and value in allowed:
        return value
    hint = ""
    if isinstance(value, str):
        close = difflib.get_close_matches(value.lower(), allowed, n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
    raise ValueError(f"{name} must be one of {list(allowed)}, got {value!r}{hint}")


def check_bool(name: str, value: Any) -> bool:
    """Return ``value`` as a bool if it is True or False (numpy's bools too)."""
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be True or False, got {value!r}")
    return bool(value)


def check_int(name: str, value: Any, minimum: int = 1, allow_none: bool = False) -> int | None:
    """Return ``value`` as an int if it is an integer >= ``minimum``."""
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an integer, got {value!r} ({type(value).__name__})")
    if value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value}")
    return int(value)


def check_float(
    name: str, value: Any, low: float, high: float, low_open: bool = False, high_open: bool = True
) -> float:
    """Return ``value`` as a float if it lies in the given interval."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a number, got {value!r} ({type(value).__name__})")
    value = float(value)
    too_low = value <= low if low_open else value < low
    too_high = value >= high if high_open else value > high
    if too_low or too_high or value != value:
        interval = f"{'(' if low_open else '['}{low}, {high}{')' if high_open else ']'}"
        raise ValueError(f"{name} must be in {interval}, got {value}")
    return value


def check_quantiles(quantiles) -> tuple[list | None, list | None]:
    """The model's sorted output levels (0.5 added) and the sorted levels asked for."""
    if quantiles is None:
        return None, None
    if isinstance(quantiles, str) or not hasattr(quantiles, "__len__"):
        raise TypeError(
            "quantiles must be a sequence of levels (list, tuple or array) in (0, 1) such as "
            f"(0.1, 0.5, 0.9), got {quantiles!r}"
        )
    given = [check_float("quantiles", q, 0.0, 1.0, low_open=True) for q in quantiles]
    if not given or len(set(given)) != len(given):
        raise ValueError(
            f"quantiles must be distinct levels in (0, 1) such as (0.1, 0.5, 0.9), got "
            f"{quantiles!r}"
        )
    return sorted(set(given) | {0.5}), sorted(given)


def check_random_state(value: Any, name: str = "random_state"):
    """scikit-learn's ``check_random_state`` with the parameter named in every error.

    Parameters
    ----------
    value : None, int or numpy.random.RandomState
        None for fresh entropy, an integer seed in [0, 2**32 - 1], or a RandomState to draw from.
    name : str, default="random_state"
        The parameter's name in error messages.

    Returns
    -------
    numpy.random.RandomState

    Raises
    ------
    ValueError
        For anything else (a negative or too large integer, a float, a bool, a string, a numpy
        Generator), as scikit-learn raises.
    """
    from sklearn.utils import check_random_state as sklearn_check

    problem = (
        f"{name}={value!r} cannot be used to seed: {name} must be None, an integer in "
        f"[0, 2**32 - 1] or a numpy RandomState (e.g. {name}=0)"
    )
    if isinstance(value, bool) or not (
        value is None or isinstance(value, numbers.Integral) or hasattr(value, "randint")
    ):
        raise ValueError(problem)
    if isinstance(value, numbers.Integral) and not 0 <= value <= 2**32 - 1:
        raise ValueError(problem)
    try:
        return sklearn_check(value)
    except ValueError:
        raise ValueError(problem) from None
