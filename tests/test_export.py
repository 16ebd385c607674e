"""model.export: TorchScript (always tested) and ONNX (with the export extra) of the network,
whose outputs, through the documented recipe, are predict's forecasts."""

import numpy as np
import pandas as pd
import pytest
import torch

from tsattn import Seq2SeqForecaster
from tsattn.export import forecast_inputs, unscale_outputs

pytestmark = pytest.mark.filterwarnings(
    "ignore:.*of the series have fewer than horizon:UserWarning"
)

TINY = {"hidden_size": 6, "max_epochs": 2, "verbose": False, "random_state": 0}
MONTHS = pd.date_range("2018-01-01", periods=60, freq="MS")


def panel(n=3):
    t = np.arange(60.0)
    return pd.concat(
        [
            pd.DataFrame(
                {"unique_id": f"s{k}", "ds": MONTHS, "y": 50 + 20 * k + t + 8 * np.sin(t / 1.9)}
            )
            for k in range(n)
        ],
        ignore_index=True,
    )


def promo(periods=64, n=3):
    stamps = pd.date_range(MONTHS[0], periods=periods, freq="MS")
    return pd.concat(
        [
            pd.DataFrame(
                {"unique_id": f"s{k}", "ds": stamps, "promo": (np.arange(periods) % 3 == k)}
            )
            for k in range(n)
        ],
        ignore_index=True,
    ).astype({"promo": float})


def run(graph, inputs):
    with torch.no_grad():
        return graph(*(torch.from_numpy(array) for array in inputs.values()))


VARIANTS = {
    "direct, theta baseline": {},
    "recursive decoder": {"decoder": "recursive"},
    "luong attention, gru, no baseline": {"attention": "luong", "cell": "gru", "baseline": None},
    "standard scaler, nonnegative": {"scaler": "standard", "nonnegative": True},
    "segments": {"input_size": 24, "segment_length": 4},
}


@pytest.mark.parametrize("params", VARIANTS.values(), ids=VARIANTS.keys())
def test_torchscript_forecasts_are_predicts(tmp_path, params):
    model = Seq2SeqForecaster(4, **TINY, **params).fit(panel())
    path = model.export(tmp_path / "model.pt")
    graph = torch.jit.load(str(path))
    inputs, post = forecast_inputs(model)
    assert list(inputs) == ["source", "mask", *(["future"] if "future" in inputs else [])]
    forecasts = unscale_outputs(run(graph, inputs), post)
    expected = model.predict()
    assert post["ids"] == ["s0", "s1", "s2"]
    np.testing.assert_allclose(forecasts.ravel(), expected["y"].to_numpy(), rtol=2e-5, atol=1e-4)


def test_new_histories_covariates_quantiles_and_another_batch_size(tmp_path):
    y, X = panel(), promo()
    model = Seq2SeqForecaster(4, **TINY, quantiles=(0.1, 0.5, 0.9), covariate_selection=None).fit(
        y, X
    )
    graph = torch.jit.load(str(model.export(tmp_path / "model.pt")))
    # five series (two never seen), later histories: a batch of another size than the trace's
    later = panel(5)
    later["ds"] = later["ds"] + pd.DateOffset(months=2)
    X_later = promo(periods=66, n=5)
    inputs, post = forecast_inputs(model, X_later, y=later)
    assert "future" in inputs and inputs["source"].shape[0] == 5
    outputs = run(graph, inputs)
    assert outputs.shape == (5, 4, 3) and post["levels"] == [0.1, 0.5, 0.9]
    forecasts = unscale_outputs(outputs, post)
    point = model.predict(X_later, y=later)["y"].to_numpy()
    np.testing.assert_allclose(forecasts[..., 1].ravel(), point, rtol=2e-5, atol=1e-4)
    assert (np.diff(forecasts, axis=-1) >= -1e-6).all()  # quantiles never cross


def test_export_refuses_what_it_cannot_write(tmp_path):
    model = Seq2SeqForecaster(2, **TINY)
    with pytest.raises(Exception, match="not fitted|fit"):
        model.export(tmp_path / "m.pt")
    model.fit(panel())
    with pytest.raises(ValueError, match=r"\.pt.*\.onnx"):
        model.export(tmp_path / "m.tflite")
    assert not (tmp_path / "m.tflite").exists()


def test_onnx_forecasts_are_predicts(tmp_path):
    ort = pytest.importorskip("onnxruntime", reason="ONNX export needs the export extra")
    pytest.importorskip("onnx")
    y, X = panel(), promo()
    model = Seq2SeqForecaster(4, **TINY, decoder="recursive", covariate_selection=None).fit(y, X)
    path = model.export(tmp_path / "model.onnx")
    session = ort.InferenceSession(str(path))
    assert [i.name for i in session.get_inputs()] == ["source", "mask", "future"]
    later = panel(4)
    X_later = promo(n=4)
    inputs, post = forecast_inputs(model, X_later, y=later)
    forecasts = unscale_outputs(session.run(None, inputs)[0], post)
    expected = model.predict(X_later, y=later)["y"].to_numpy()
    np.testing.assert_allclose(forecasts.ravel(), expected, rtol=1e-4, atol=1e-3)
