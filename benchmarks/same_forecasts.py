"""Forecasts of a fixed set of fits, written to an .npz, to check that a refactor changes no result.

    OMP_NUM_THREADS=1 python benchmarks/same_forecasts.py write before.npz
    OMP_NUM_THREADS=1 python benchmarks/same_forecasts.py write after.npz
    python benchmarks/same_forecasts.py compare before.npz after.npz

The fits: M3 monthly at the defaults (seeds 0-2); both Walmart holdouts of
benchmarks/covariates.py with X and with X + the store as static (seed 0, covariate
selection included); the sales simulator with quantiles (point, quantiles and the calibrated
80% interval, seed 0). ``compare`` prints the largest absolute difference per entry and exits 1
when any forecast differs.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))


def forecasts() -> dict[str, np.ndarray]:
    from covariates import HOLIDAY_CUTOFF, walmart_frames

    from tsattn import Seq2SeqForecaster
    from tsattn.datasets import load_m3, make_retail_sales

    out = {}
    m3 = load_m3("monthly")
    for seed in (0, 1, 2):
        model = Seq2SeqForecaster(m3.horizon, random_state=seed, verbose=False)
        out[f"m3_monthly_seed{seed}"] = model.fit(m3.train).predict()["y"].to_numpy()
        print(f"m3 seed {seed} done at {time.perf_counter():.0f}s", flush=True)
    y, X, static = walmart_frames()
    past = ["Temperature", "Fuel_Price", "CPI", "Unemployment"]
    for holdout, cutoff in {"last12": np.sort(y["ds"].unique())[-13], "holiday": HOLIDAY_CUTOFF}.items():
        train = y[y["ds"] <= cutoff]
        for name, extra in {"X": {}, "X_static": {"static": static}}.items():
            model = Seq2SeqForecaster(12, past_covariates=past, random_state=0, verbose=False)
            model.fit(train, X=X, **extra)
            out[f"walmart_{holdout}_{name}"] = model.predict(X=X)["y"].to_numpy()
            print(f"walmart {holdout} {name} done", flush=True)
    y, X, static = make_retail_sales(40, 120, seed=0)
    cut = y["ds"].sort_values().unique()[-13]
    model = Seq2SeqForecaster(12, quantiles=(0.1, 0.5, 0.9), random_state=0, verbose=False)
    model.fit(y[y["ds"] <= cut], X=X, static=static)
    out["sales_point"] = model.predict(X=X)["y"].to_numpy()
    out["sales_quantiles"] = model.predict_quantiles(X=X).iloc[:, -3:].to_numpy(dtype=float)
    out["sales_interval"] = model.predict_interval(X=X, coverage=0.8).iloc[:, -2:].to_numpy(
        dtype=float
    )
    return out


def main() -> int:
    command, *paths = sys.argv[1:]
    if command == "write":
        np.savez(paths[0], **forecasts())
        return 0
    before, after = (np.load(p) for p in paths)
    differs = False
    for name in before.files:
        if name not in after.files:
            print(f"{name}: missing")
            differs = True
            continue
        gap = float(np.max(np.abs(before[name] - after[name])))
        differs |= gap != 0.0
        print(f"{name:28s} max |difference| {gap:.3g}")
    return int(differs)


if __name__ == "__main__":
    raise SystemExit(main())
