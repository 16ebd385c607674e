"""A model file written by this format must load in every later version (issue 18, class 11).

tests/data/model-v2.tsattn was written by tests/data/make_saved_model.py (format 2: weekly long
panel, a known covariate, a static category, quantiles). If this test fails, the model-file
format changed: bump tsattn.io.FORMAT_VERSION with a converter or a clear refusal, and only
then write a new file with the script.
"""

import importlib.util
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import tsattn

DATA = Path(__file__).resolve().parent / "data"


def _panel():
    spec = importlib.util.spec_from_file_location("make_saved_model", DATA / "make_saved_model.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.panel()


def test_the_committed_model_file_loads_and_forecasts_as_it_did():
    model = tsattn.load(DATA / "model-v2.tsattn")
    y, X, static = _panel()
    expected = pd.read_csv(DATA / "model-v2-forecast.csv", parse_dates=["ds"])
    got = model.predict_quantiles(X)
    assert list(got.columns) == list(expected.columns)
    assert list(got["unique_id"]) == list(expected["unique_id"])
    assert list(got["ds"].dt.tz_localize(None)) == list(expected["ds"])
    np.testing.assert_allclose(got[["0.1", "0.9"]], expected[["0.1", "0.9"]], rtol=1e-5)
    # and it still forecasts new histories
    assert len(model.predict(X, y=y.groupby("unique_id").head(-2))) == 6


def test_a_format_1_file_is_refused_naming_the_version(tmp_path):
    raw = (DATA / "model-v2.tsattn").read_bytes()
    assert b'"format_version":"2"' in raw.replace(b" ", b"")
    old = tmp_path / "old.tsattn"
    old.write_bytes(raw.replace(b'"format_version":"2"', b'"format_version":"1"'))
    with pytest.raises(ValueError, match="format 1"):
        tsattn.load(old)
