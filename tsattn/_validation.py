"""Checks of constructor parameters, and the rules `tsattn.parameters` declares them with.

The checks run in ``fit`` (never in ``__init__``).
"""

from __future__ import annotations

import difflib
import numbers
from collections.abc import Callable, Iterable
from dataclasses import dataclass
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


# ----------------------------------------------------------------------------------------------
# rules: what a value may be, and how a command-line word becomes one (tsattn.parameters
# declares every parameter with them)


@dataclass(frozen=True)
class Integer:
    """An integer of at least ``minimum`` (bools refused: True is not a size)."""

    minimum: int = 1

    def check(self, name: str, value: Any) -> int:
        """The value as an int; TypeError for a non-integer, ValueError below the minimum."""
        return check_int(name, value, self.minimum)

    def from_text(self, text: str) -> int:
        """A command-line word as an int; ValueError worded for the command line."""
        try:
            value = int(text)
        except ValueError:
            raise ValueError(f"expected a whole number, got {text!r}") from None
        if value < self.minimum:
            raise ValueError(f"must be at least {self.minimum}, got {value}")
        return value

    metavar = "N"


@dataclass(frozen=True)
class Real:
    """A number in an interval, ``[low, high)`` unless the ends say otherwise."""

    low: float
    high: float
    low_open: bool = False
    high_open: bool = True

    def check(self, name: str, value: Any) -> float:
        """The value as a float; TypeError for a non-number, ValueError outside the interval."""
        return check_float(name, value, self.low, self.high, self.low_open, self.high_open)

    def from_text(self, text: str) -> float:
        """A command-line word as a float in the interval."""
        try:
            value = float(text)
        except ValueError:
            raise ValueError(f"expected a number, got {text!r}") from None
        try:
            return self.check("value", value)
        except ValueError as error:  # "value must be in [0.0, 1.0), got 1.5"
            raise ValueError(str(error).removeprefix("value ")) from None

    metavar = "X"


@dataclass(frozen=True)
class Options:
    """One of a few strings; a near miss gets a "did you mean"."""

    values: tuple[str, ...]

    def check(self, name: str, value: Any) -> str:
        """The value if it is one of ``values``, else a ValueError that lists them."""
        return check_option(name, value, self.values)

    def from_text(self, text: str) -> str:
        """A command-line word as it is (the check names the allowed values)."""
        return text

    @property
    def metavar(self) -> str:
        """The values, as argparse shows choices."""
        return "{" + ",".join(self.values) + "}"


@dataclass(frozen=True)
class Boolean:
    """True or False; ``strict=False`` reads any value as true or false (``verbose``)."""

    strict: bool = True

    def check(self, name: str, value: Any) -> Any:
        """The value, once it is known to be a bool (when strict)."""
        return check_bool(name, value) if self.strict else value


@dataclass(frozen=True)
class Custom:
    """A rule of its own: ``check(name, value)`` raises TypeError or ValueError.

    ``from_text`` reads one command-line word; ``nargs`` and ``from_list`` let an option take
    several words, ``from_list`` turning the list argparse gives into the parameter's value.
    """

    check: Callable[[str, Any], Any]
    from_text: Callable[[str], Any] = str
    metavar: str = "VALUE"
    nargs: str | None = None
    from_list: Callable[[list], Any] | None = None


Rule = Integer | Real | Options | Boolean | Custom


@dataclass(frozen=True)
class Param:
    """One parameter's declaration.

    Parameters
    ----------
    rule : Integer, Real, Options, Boolean or Custom
        What a value must be.
    help : str
        One line for ``--help``: what the parameter does.
    none : bool, default=False
        None is allowed as well.
    literals : tuple of str, default=()
        Strings allowed besides the rule's values (``"auto"``).
    cli : bool, default=True
        Whether the ``tsattn`` command offers it (a forecaster parameter).
    """

    rule: Rule
    help: str
    none: bool = False
    literals: tuple[str, ...] = ()
    cli: bool = True

    def check(self, name: str, value: Any) -> Any:
        """The checked value (ints as int, floats as float); raises TypeError or ValueError."""
        if value is None and self.none:
            return None
        if isinstance(value, str) and value in self.literals:
            return value
        return self.rule.check(name, value)

    def from_text(self, text: str) -> Any:
        """One command-line word as a value: ``none``, a literal, or the rule's reading."""
        if self.none and text.lower() == "none":
            return None
        if text in self.literals:
            return text
        return self.rule.from_text(text)

    @property
    def metavar(self) -> str:
        """How ``--help`` shows the value: the rule's, with the literals and none."""
        extra = [*self.literals, *(["none"] if self.none else [])]
        if isinstance(self.rule, Options):
            return "{" + ",".join([*self.rule.values, *extra]) + "}"
        return "|".join([self.rule.metavar, *extra])
