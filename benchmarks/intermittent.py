"""Intermittent demand: count likelihoods against the MAE and pinball losses on slow movers.

    OMP_NUM_THREADS=1 python benchmarks/intermittent.py [--series 200] [--weeks 156]
        [--horizon 8] [--seeds 0 1 2] [--epochs 100] [--hidden-size 32]

Simulates ``--series`` products (``tsattn.datasets.make_retail_sales``) and keeps the slow
movers: the series with more than 20% zero weeks (integer sales, about 1 unit a week). Every
seed fits, on all but the last ``--horizon`` weeks, one forecaster per loss (library defaults
otherwise, ``season_length=1``: the slow movers have too many zeros to be adjusted):

* ``mae``: point forecasts (its CRPS is the absolute error, a point as its own median);
* ``pinball``: ``quantiles`` 0.05, 0.10, ..., 0.95, intervals calibrated on validation windows;
* ``poisson``, ``negbin``, ``tweedie``: the count likelihoods, quantiles from the distribution;

and scores the held-out weeks: scaled MAE (each series' MAE over its in-sample mean, averaged
over series), scaled CRPS (each series' CRPS from the 19 quantiles, over its in-sample mean,
averaged) and the coverage of the 80% interval (``predict(level=[80])``). ``Naive`` (the last
value) and ``Zero`` (no sales) are printed for scale. Means over seeds.
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np
import pandas as pd

from tsattn import Seq2SeqForecaster
from tsattn.datasets import make_retail_sales
from tsattn.forecast.metrics import crps

LEVELS = tuple(np.round(np.arange(0.05, 0.96, 0.05), 2))
LOSSES = ("mae", "pinball", "poisson", "negbin", "tweedie")


def slow_movers(n_series: int, weeks: int, seed: int) -> pd.DataFrame:
    """The simulator's series with more than 20% zero weeks, integer ids kept as strings."""
    y, _, _ = make_retail_sales(n_series=n_series, n_periods=weeks, seed=seed)
    zeros = y.groupby("unique_id")["y"].agg(lambda s: float((s == 0).mean()))
    return y[y["unique_id"].isin(zeros[zeros > 0.2].index)].reset_index(drop=True)


def score(test, train, point, quantiles=None, bounds=None) -> dict:
    """Scaled MAE, scaled CRPS and 80% coverage over the held-out weeks."""
    scale = train.groupby("unique_id")["y"].mean().clip(lower=1e-9)
    ids = test["unique_id"].to_numpy()
    actual = test["y"].to_numpy()
    s = pd.Series(ids).map(scale).to_numpy()
    row = {"sMAE": pd.Series(np.abs(actual - point) / s).groupby(ids).mean().mean()}
    q = point[:, None] if quantiles is None else quantiles
    levels = [0.5] if quantiles is None else list(LEVELS)
    per_value = np.array([crps(a, qq[None], levels) for a, qq in zip(actual, q, strict=True)])
    row["sCRPS"] = pd.Series(per_value / s).groupby(ids).mean().mean()
    if bounds is not None:
        row["cover80"] = float(np.mean((actual >= bounds[0]) & (actual <= bounds[1])))
    return row


def run(args, seed: int) -> list[dict]:
    y = slow_movers(args.series, args.weeks, seed)
    last = y.groupby("unique_id")["ds"].transform("max")
    cut = last - pd.Timedelta(weeks=args.horizon)
    train, test = y[y["ds"] <= cut], y[y["ds"] > cut].sort_values(["unique_id", "ds"])
    rows = []
    naive = test["unique_id"].map(train.groupby("unique_id")["y"].last()).to_numpy()
    rows.append({"model": "Naive", **score(test, train, naive)})
    rows.append({"model": "Zero", **score(test, train, np.zeros(len(test)))})
    for loss in LOSSES:
        params = dict(
            horizon=args.horizon, season_length=1, random_state=seed, verbose=False,
            max_epochs=args.epochs, hidden_size=args.hidden_size, alias="m",
        )  # fmt: skip
        if loss == "pinball":
            params["quantiles"] = LEVELS
        elif loss != "mae":
            params.update(loss=loss, quantiles=LEVELS)
        else:
            params["loss"] = "mae"
        start = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model = Seq2SeqForecaster(**params).fit(train)
        seconds = time.perf_counter() - start
        key = ["unique_id", "ds"]
        if loss == "mae":
            out = model.predict().merge(test[key], on=key)
            row = score(test, train, out["m"].to_numpy())
        else:
            out = model.predict(level=[80]).merge(test[key], on=key)
            q = model.predict_quantiles().merge(test[key], on=key)
            cols = [c for c in q.columns if c.startswith("m-q-")]
            row = score(
                test, train, out["m"].to_numpy(), q[cols].to_numpy(),
                (out["m-lo-80"].to_numpy(), out["m-hi-80"].to_numpy()),
            )  # fmt: skip
        rows.append({"model": loss, **row, "fit_s": seconds})
        print(seed, loss, {k: round(v, 4) for k, v in row.items()}, f"{seconds:.0f}s", flush=True)
    n = y["unique_id"].nunique()
    print(f"seed {seed}: {n} slow movers, zero share {float((y['y'] == 0).mean()):.2f}")
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--series", type=int, default=200)
    parser.add_argument("--weeks", type=int, default=156)
    parser.add_argument("--horizon", type=int, default=8)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--epochs", type=int, default=100)
    parser.add_argument("--hidden-size", type=int, default=32)
    args = parser.parse_args()
    rows = [row for seed in args.seeds for row in run(args, seed)]
    table = pd.DataFrame(rows).groupby("model", sort=False).mean(numeric_only=True)
    print(table.round(4).to_markdown())


if __name__ == "__main__":
    main()
