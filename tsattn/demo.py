"""The README's first command: forecast the bundled retail sales and compare with seasonal naive.

Run with ``python -m tsattn.demo [--out DIR]``: prints the forecast table and the accuracy on the
held-out last ``horizon`` weeks, and writes ``forecast.png``.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import pandas as pd

HORIZON = 12  # a quarter of weekly sales
SEASON = 52


def main(argv: list[str] | None = None) -> int:
    """Run the demo; returns the process exit code."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=".", help="folder for forecast.png")
    parser.add_argument("--series", type=int, default=30, help="number of simulated products")
    parser.add_argument("--epochs", type=int, default=60)
    args = parser.parse_args(argv)

    import torch

    from tsattn import Seq2SeqForecaster
    from tsattn.datasets import make_retail_sales
    from tsattn.forecast.metrics import mae, smape
    from tsattn.plotting import _pyplot, plot_forecast

    torch.set_num_threads(1)  # small models on a shared CPU: one thread avoids OpenMP spinning
    y, _, static = make_retail_sales(n_series=args.series, n_periods=156, seed=0)
    cutoff = y["ds"].max() - pd.Timedelta(weeks=HORIZON)
    train, test = y[y["ds"] <= cutoff], y[y["ds"] > cutoff]
    print(
        f"Retail sales: {y['unique_id'].nunique()} products x 156 weeks; "
        f"the last {HORIZON} weeks are held out.\n"
    )

    started = time.perf_counter()
    model = Seq2SeqForecaster(
        horizon=HORIZON, input_size=4 * HORIZON, max_epochs=args.epochs, random_state=0
    )
    forecast = model.fit(train).predict()
    seconds = time.perf_counter() - started

    naive = _seasonal_naive(train, HORIZON, SEASON, forecast)
    joined = test.merge(forecast.rename(columns={"y": "tsattn"}), on=["unique_id", "ds"])
    joined = joined.merge(naive, on=["unique_id", "ds"])

    table = joined.pivot(index="ds", columns="unique_id", values="tsattn").iloc[:, :5].round(1)
    print("Forecast (first 5 products):")
    print(table.to_string())
    print()
    rows = []
    for name in ("tsattn", "seasonal_naive"):
        rows.append(
            {
                "model": name,
                "sMAPE": smape(joined["y"], joined[name]),
                "MAE": mae(joined["y"], joined[name]),
            }
        )
    scores = pd.DataFrame(rows).set_index("model")
    print(
        f"Accuracy on the held-out {HORIZON} weeks, all products "
        f"(fit + predict {seconds:.0f} s, {len(model.history_)} epochs):"
    )
    print(scores.round(2).to_string())
    ratio = scores.loc["tsattn", "MAE"] / scores.loc["seasonal_naive", "MAE"]
    print(f"tsattn MAE / seasonal naive MAE = {ratio:.2f}\n")

    plt = _pyplot()
    best_sellers = train.groupby("unique_id")["y"].mean().sort_values(ascending=False).index[:4]
    figure, axes = plt.subplots(len(best_sellers), 1, figsize=(10, 2.6 * len(best_sellers)))
    for ax, uid in zip(np.atleast_1d(axes), best_sellers, strict=True):

        def series(frame, column="y", uid=uid):
            part = frame[frame["unique_id"] == uid]
            return pd.Series(part[column].to_numpy(), index=pd.DatetimeIndex(part["ds"]))

        plot_forecast(
            series(train),
            series(forecast),
            series(test),
            ax=ax,
            history_tail=60,
            title=f"{uid} ({static.loc[uid, 'category']})",
        )
    figure.tight_layout()
    path = Path(args.out) / "forecast.png"
    figure.savefig(path, dpi=110)
    print(f"Plot written to {path}")
    return 0


def _seasonal_naive(train: pd.DataFrame, horizon: int, season: int, like: pd.DataFrame):
    """Each forecast step repeats the value one season earlier."""
    from tsattn.forecast.baselines import SeasonalNaive

    naive = SeasonalNaive(horizon=horizon, season_length=season).fit(train).predict()
    return naive.rename(columns={"y": "seasonal_naive"})


if __name__ == "__main__":
    raise SystemExit(main())
