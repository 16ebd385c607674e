"""Writes tests/data/model-v2.tsattn and its forecast, once per model-file format.

Run it only when the format changes on purpose (a version bump with a converter or a refusal):
``python tests/data/make_saved_model.py``. tests/test_saved_format.py loads the file and checks
that its forecast is the one stored beside it.
"""

from pathlib import Path

import numpy as np
import pandas as pd

from tsattn import Seq2SeqForecaster

HERE = Path(__file__).resolve().parent


def panel() -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Two weekly series with a known-in-advance promotion flag and a static category."""
    ds = pd.date_range("2023-01-01", periods=40, freq="W-SUN")
    t = np.arange(40)
    y = pd.concat(
        [
            pd.DataFrame({"unique_id": sid, "ds": ds, "y": level + 3 * np.sin(t / 3)})
            for sid, level in (("a", 20.0), ("b", 50.0))
        ],
        ignore_index=True,
    )
    future = pd.date_range(ds[0], periods=43, freq="W-SUN")
    X = pd.concat(
        [
            pd.DataFrame({"unique_id": sid, "ds": future, "promo": (np.arange(43) % 5 == 0) * 1.0})
            for sid in ("a", "b")
        ],
        ignore_index=True,
    )
    static = pd.DataFrame({"kind": ["x", "y"]}, index=["a", "b"])
    return y, X, static


if __name__ == "__main__":
    y, X, static = panel()
    model = Seq2SeqForecaster(
        3, input_size=8, hidden_size=8, max_epochs=2, batch_size=16, quantiles=(0.1, 0.9),
        random_state=0, verbose=False,
    ).fit(y, X=X, static=static)  # fmt: skip
    model.save(HERE / "model-v2.tsattn")
    model.predict_quantiles(X).to_csv(HERE / "model-v2-forecast.csv", index=False)
