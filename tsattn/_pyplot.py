"""matplotlib's pyplot, imported only when a plot is drawn (for every plotting module)."""

from __future__ import annotations


def pyplot():
    """Return :mod:`matplotlib.pyplot`, switched to the Agg backend on a machine without a display.

    Importing pyplot on a headless machine (CI, a server) with an interactive backend fails or
    hangs; Agg draws to files only, which is all such a machine can show.

    Returns
    -------
    module
        :mod:`matplotlib.pyplot`.
    """
    import matplotlib

    if matplotlib.get_backend().lower() not in ("agg",) and not _has_display():
        matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _has_display() -> bool:
    import os

    return bool(os.environ.get("DISPLAY")) or os.name == "nt"
