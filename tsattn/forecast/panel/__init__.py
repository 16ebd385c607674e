"""The input layer: any accepted ``y`` -> one validated :class:`Panel`, and forecasts back.

``types`` (Panel, TimeAxis, Layout, column names), ``checks`` (numbers, ids, lengths),
``readers`` (one reader per format of ``y``), ``timegrid`` (timestamps as integer keys) and
``conversion`` (:func:`to_panel`, :func:`from_forecasts`). Nothing here knows about covariates,
statistics or the network.
"""

from tsattn.forecast.panel.checks import MAX_ABS_VALUE, check_magnitude
from tsattn.forecast.panel.conversion import from_forecasts, to_panel
from tsattn.forecast.panel.types import (
    ID_COL,
    LONG_COLUMNS,
    TARGET_COL,
    TIME_COL,
    Layout,
    Panel,
    TimeAxis,
)

__all__ = [
    "ID_COL",
    "LONG_COLUMNS",
    "MAX_ABS_VALUE",
    "TARGET_COL",
    "TIME_COL",
    "Layout",
    "Panel",
    "TimeAxis",
    "check_magnitude",
    "from_forecasts",
    "to_panel",
]
