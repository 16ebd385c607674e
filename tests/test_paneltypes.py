"""The panel's Layout: how y was given, kept to give forecasts back in the same format."""

import numpy as np
import pandas as pd
import pytest

from tsattn.forecast.panel.conversion import to_panel
from tsattn.forecast.panel.types import Layout


@pytest.mark.parametrize(
    "y, kind, state",
    [
        (pd.Series([1.0, 2.0, 3.0], name="sales"), "series", {"kind": "series", "name": "sales"}),
        (
            pd.DataFrame({"a": [1.0, 2.0], 7: [3.0, 4.0]}),
            "wide",
            {"kind": "wide", "columns": ["a", 7]},
        ),
        (np.arange(4.0), "array1d", {"kind": "array1d"}),
        (np.ones((4, 2)), "array2d", {"kind": "array2d"}),
        (
            pd.DataFrame(
                {
                    "unique_id": ["a", "a", "a"],
                    "ds": pd.date_range("2024-01-01", periods=3),
                    "y": [1.0, 2.0, 3.0],
                }
            ),
            "long",
            {"kind": "long", "time_kind": "datetime", "unit": "ns", "tz": None},
        ),
    ],
)
def test_each_format_has_its_layout_and_its_saved_form(y, kind, state):
    layout = to_panel(y).layout
    assert layout.kind == kind
    assert layout.is_array == (kind in ("array1d", "array2d"))
    assert layout.is_long == (kind == "long")
    saved = layout.to_json()
    if kind == "long":
        state = {**state, "unit": saved["unit"]}  # the unit pandas chose for the dates
    assert saved == state
    assert Layout.from_json(saved) == layout


def test_unknown_layouts_are_refused():
    with pytest.raises(ValueError, match="layout kind must be one of"):
        Layout("csv")
    with pytest.raises(ValueError, match="not a layout"):
        Layout.from_json({"kind": "wide", "colour": "red"})
    with pytest.raises(ValueError, match="not a layout"):
        Layout.from_json(["wide"])
