"""Static features: one-hot categories, standardised numbers, one row per series."""

import numpy as np
import pandas as pd
import pytest
from conftest import tiny as tiny_params

from tsattn import Seq2SeqForecaster
from tsattn.forecast.covariates.static import MAX_LEVELS, encode_static

pytestmark = pytest.mark.filterwarnings(
    # tsattn's short-history warning: these tests fit deliberately tiny series
    "ignore:.*of the series have fewer than horizon:UserWarning"
)

INDEX = pd.date_range("2021-01-04", periods=40, freq="W-MON")


def tiny(**overrides):
    """A tiny forecaster that keeps every covariate (selection is tested on its own)."""
    return tiny_params(**{"covariate_selection": None, **overrides})


def _long():
    """Two weekly series of 40 steps."""
    return pd.concat(
        [
            pd.DataFrame({"unique_id": f"s{k}", "ds": INDEX, "y": 10.0 + k + np.arange(40) % 4})
            for k in range(2)
        ],
        ignore_index=True,
    )


def test_static_encoding_by_hand():
    static = pd.DataFrame(
        {"category": ["food", "toys", "food"], "price": [1.0, 2.0, 3.0]}, index=["c", "a", "b"]
    )
    before = static.copy()
    matrix, encoding = encode_static(static, ["a", "b", "c"])  # rows follow y's ids
    assert matrix.dtype == np.float32 and matrix.shape == (3, 3)
    np.testing.assert_array_equal(matrix[:, :2], [[0, 1], [1, 0], [1, 0]])  # food, toys
    np.testing.assert_allclose(matrix[:, 2], (np.array([2, 3, 1]) - 2) / np.std([1, 2, 3]))
    assert encoding[0] == {"name": "category", "kind": "category", "levels": ["food", "toys"]}
    assert encoding[1]["kind"] == "numeric" and encoding[1]["loc"] == pytest.approx(2.0)
    pd.testing.assert_frame_equal(static, before)  # the caller's frame is left as it was


def test_static_with_too_many_categories():
    ids = [f"s{i}" for i in range(MAX_LEVELS + 20)]
    with pytest.raises(ValueError, match=f"{MAX_LEVELS + 20} categories, more than {MAX_LEVELS}"):
        encode_static(pd.DataFrame({"code": ids}, index=ids), ids)


@pytest.mark.parametrize(
    "static, words",
    [
        (pd.DataFrame({"size": [1.0]}, index=["a"]), r"static lacks series \['b'\]"),
        (pd.DataFrame({"size": [1.0, 2.0]}, index=["a", "a"]), "duplicate rows for series 'a'"),
        (pd.DataFrame(index=["a", "b"]), "static has no columns"),
        (
            pd.DataFrame({"unique_id": ["a", "b"], "size": [1.0, 2.0]}),
            r"static.set_index\('unique_id'\)",
        ),
        (pd.DataFrame({"size": [1.0, np.inf]}, index=["a", "b"]), "'size' has inf"),
    ],
)
def test_static_errors(static, words):
    with pytest.raises(ValueError, match=words):
        encode_static(static, ["a", "b"])
    with pytest.raises(TypeError, match="DataFrame indexed by series id"):
        encode_static(static.to_numpy(), ["a", "b"])


def test_static_features_condition_the_forecast():
    static = pd.DataFrame({"size": [1.0, 3.0]}, index=["s0", "s1"])
    # without a baseline, so that no fallback to it can hide what static does
    f = Seq2SeqForecaster(**tiny(baseline=None)).fit(_long(), static=static)
    # y and static into the encoder; y and static into the decoder
    assert f.module_.config.source_features == 2 and f.module_.config.target_features == 2
    swapped = static.set_axis(["s1", "s0"])
    g = Seq2SeqForecaster(**tiny(baseline=None)).fit(_long(), static=swapped)
    assert not np.allclose(f.predict()["y"], g.predict()["y"])
