"""Small bundled and simulated data sets for examples, tests and benchmarks.

The functions return plain pandas objects (or token lists) that can be fed straight into the
estimators of :mod:`tsattn` or inspected interactively. The package is the public face; the
loaders of real data live in ``loaders``, the simulators in ``retail`` (product sales) and
``tokens`` (the translator's tasks).
"""

from tsattn.datasets.loaders import M3_SUBSETS, M3Data, load_air_passengers, load_m3
from tsattn.datasets.retail import make_retail_sales
from tsattn.datasets.tokens import make_date_pairs, make_echo_task

__all__ = [
    "load_air_passengers",
    "make_retail_sales",
    "M3Data",
    "M3_SUBSETS",
    "load_m3",
    "make_echo_task",
    "make_date_pairs",
]
