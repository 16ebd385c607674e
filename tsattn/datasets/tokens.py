"""Token tasks for the translator: the echo (copy) task and human-written dates."""

from __future__ import annotations

import numpy as np

from tsattn.datasets._checks import check_positive_int

__all__ = ["make_date_pairs", "make_echo_task"]


def make_echo_task(
    n: int = 1000, n_in: int = 5, n_out: int = 2, cardinality: int = 50, seed: int | None = 0
) -> tuple[list[list[str]], list[list[str]]]:
    """Generate the echo task of the attention tutorials: repeat the first integers of a sequence.

    Each source is ``n_in`` integers drawn uniformly from ``0 .. cardinality - 1``; its target
    is the first ``n_out`` of them. With ``n_in=5, n_out=2, cardinality=50`` this is the task
    of J. Brownlee's Keras tutorial "How to Develop an Encoder-Decoder Model with Attention"
    (2017); ``n_out=n_in`` makes it a copy task, which an encoder-decoder without attention
    finds hard once the sequences grow.

    Parameters
    ----------
    n : int, default=1000
        Number of pairs.
    n_in : int, default=5
        Integers per source.
    n_out : int, default=2
        Integers per target, at most ``n_in``.
    cardinality : int, default=50
        Number of distinct integers.
    seed : int or None, default=0
        Seed of ``numpy.random.default_rng``; the same seed gives the same pairs.

    Returns
    -------
    sources, targets : list of list of str
        Token lists (the integers written as strings, e.g. ``["12", "3", "49", "0", "7"]``),
        ready for :class:`tsattn.Seq2SeqTranslator`.

    Examples
    --------
    >>> sources, targets = make_echo_task(n=2, seed=0)
    >>> targets[0] == sources[0][:2]
    True
    """
    n = check_positive_int(n, "n")
    n_in = check_positive_int(n_in, "n_in")
    n_out = check_positive_int(n_out, "n_out")
    cardinality = check_positive_int(cardinality, "cardinality")
    if n_out > n_in:
        raise ValueError(f"n_out must be at most n_in={n_in}, got {n_out}")
    values = np.random.default_rng(seed).integers(0, cardinality, size=(n, n_in))  # (n, n_in)
    sources = [[str(v) for v in row] for row in values.tolist()]
    return sources, [row[:n_out] for row in sources]


_MONTHS = (
    "january", "february", "march", "april", "may", "june",
    "july", "august", "september", "october", "november", "december",
)  # fmt: skip
_WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")

# How people write a date; numeric dates are day first throughout, so each has one reading.
_DATE_FORMATS = (
    "{d} {month} {yyyy}",
    "{dd} {mon} {yyyy}",
    "{month} {d}, {yyyy}",
    "{mon} {d} {yyyy}",
    "{d} {mon} {yy}",
    "{d}{th} {month} {yyyy}",
    "the {d}{th} of {month} {yyyy}",
    "{weekday} {dd}/{mm}/{yy}",
    "{weekday}, {month} {d}, {yyyy}",
    "{wd}, {d} {mon} {yyyy}",
    "{dd}/{mm}/{yyyy}",
    "{d}/{m}/{yy}",
    "{dd}.{mm}.{yyyy}",
    "{dd}-{mm}-{yyyy}",
)


def make_date_pairs(n: int = 1000, seed: int | None = 0) -> tuple[list[str], list[str]]:
    """Generate dates written the many ways people write them, paired with their ISO form.

    Dates are drawn uniformly from 1950-01-01 to 2049-12-31 and written in one of 14 formats
    chosen at random, in lower case: "3 may 1979", "03 may 1979", "may 3, 1979",
    "may 3 1979", "3 may 79", "3rd may 1979", "the 3rd of may 1979", "thursday 03/05/79",
    "thursday, may 3, 1979", "thu, 3 may 1979", "03/05/1979", "3/5/79", "03.05.1979",
    "03-05-1979". Numeric dates put the day first; two-digit years 50-99 are 19xx and 00-49
    are 20xx, so every written date has exactly one reading. The weekday is the true one.
    The task is the one of the date-normalisation exercise of A. Ng's sequence-models course.

    Parameters
    ----------
    n : int, default=1000
        Number of pairs.
    seed : int or None, default=0
        Seed of ``numpy.random.default_rng``; the same seed gives the same pairs.

    Returns
    -------
    sources : list of str
        Human-written dates, e.g. ``"3 may 1979"``.
    targets : list of str
        The same dates as ``YYYY-MM-DD``, e.g. ``"1979-05-03"``.

    Examples
    --------
    >>> sources, targets = make_date_pairs(n=3, seed=0)
    >>> all(len(t) == 10 and t[4] == "-" for t in targets)
    True
    """
    from datetime import date, timedelta

    n = check_positive_int(n, "n")
    rng = np.random.default_rng(seed)
    first, last = date(1950, 1, 1), date(2049, 12, 31)
    offsets = rng.integers(0, (last - first).days + 1, size=n)
    formats = rng.integers(0, len(_DATE_FORMATS), size=n)
    sources, targets = [], []
    for offset, form in zip(offsets.tolist(), formats.tolist(), strict=True):
        day = first + timedelta(days=offset)
        d, m, yyyy = day.day, day.month, day.year
        th = "th" if 11 <= d <= 13 else {1: "st", 2: "nd", 3: "rd"}.get(d % 10, "th")
        weekday = _WEEKDAYS[day.weekday()]
        fields = {
            "d": d, "dd": f"{d:02d}", "m": m, "mm": f"{m:02d}", "yyyy": yyyy,
            "yy": f"{yyyy % 100:02d}", "month": _MONTHS[m - 1], "mon": _MONTHS[m - 1][:3],
            "th": th, "weekday": weekday, "wd": weekday[:3],
        }  # fmt: skip
        sources.append(_DATE_FORMATS[form].format(**fields))
        targets.append(day.isoformat())
    return sources, targets
