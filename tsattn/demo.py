"""The README's first command: forecast the bundled retail sales and compare with seasonal naive.

Run with ``python -m tsattn.demo [--out DIR]``: fits one model with the prices, promotions and
holidays as covariates known in advance and the product category and store as static features,
prints the forecast table, the accuracy and the 80% interval's coverage on the held-out last
``horizon`` weeks, and writes ``forecast.png`` (forecasts with their band) and ``attention.png``
(where the decoder looks in the history of the best seller).
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
    parser.add_argument("--out", default=".", help="folder for forecast.png and attention.png")
    parser.add_argument("--series", type=int, default=30, help="number of simulated products")
    parser.add_argument("--epochs", type=int, default=60)
    args = parser.parse_args(argv)

    import torch

    from tsattn import Seq2SeqForecaster
    from tsattn.datasets import make_retail_sales
    from tsattn.forecast.metrics import interval_coverage, mae, smape
    from tsattn.plotting import plot_attention, plot_forecast, pyplot

    torch.set_num_threads(1)  # small models on a shared CPU: one thread avoids OpenMP spinning
    y, X, static = make_retail_sales(n_series=args.series, n_periods=156, seed=0)
    cutoff = y["ds"].max() - pd.Timedelta(weeks=HORIZON)
    train, test = y[y["ds"] <= cutoff], y[y["ds"] > cutoff]
    print(
        f"Retail sales: {y['unique_id'].nunique()} products x 156 weeks; "
        f"the last {HORIZON} weeks are held out. Covariates known in advance: "
        f"{', '.join(X.columns[2:])}; static: {', '.join(static.columns)}.\n"
    )

    started = time.perf_counter()
    model = Seq2SeqForecaster(
        horizon=HORIZON,
        input_size=4 * HORIZON,
        quantiles=(0.1, 0.5, 0.9),
        nonnegative=True,
        max_epochs=args.epochs,
        random_state=0,
    )
    # X covers the held-out weeks too: the planned prices and promotions are known in advance.
    forecast = model.fit(train, X=X, static=static).predict(X=X)
    band = model.predict_interval(X=X, coverage=0.8)
    seconds = time.perf_counter() - started

    naive = _seasonal_naive(train, HORIZON, SEASON, forecast)
    joined = test.merge(forecast.rename(columns={"y": "tsattn"}), on=["unique_id", "ds"])
    joined = joined.merge(naive, on=["unique_id", "ds"]).merge(band, on=["unique_id", "ds"])

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
    print(f"tsattn MAE / seasonal naive MAE = {ratio:.2f}")
    coverage = interval_coverage(joined["y"], joined["lower"], joined["upper"])
    print(f"80% interval (calibrated on the validation weeks) holds {coverage:.0%} of them\n")

    plt = pyplot()
    best_sellers = train.groupby("unique_id")["y"].mean().sort_values(ascending=False).index[:4]
    figure, axes = plt.subplots(len(best_sellers), 1, figsize=(10, 2.6 * len(best_sellers)))
    for ax, uid in zip(np.atleast_1d(axes), best_sellers, strict=True):

        def series(frame, column="y", uid=uid):
            part = frame[frame["unique_id"] == uid]
            return pd.Series(part[column].to_numpy(), index=pd.DatetimeIndex(part["ds"]))

        interval = band[band["unique_id"] == uid].merge(forecast, on=["unique_id", "ds"])
        plot_forecast(
            series(train),
            interval,
            series(test),
            ax=ax,
            history_tail=60,
            title=f"{uid} ({static.loc[uid, 'category']})",
        )
    figure.tight_layout()
    path = Path(args.out) / "forecast.png"
    figure.savefig(path, dpi=110)
    print(f"Plot written to {path}")

    weights = model.attention_weights(X=X)
    ax = plot_attention(weights, unique_id=best_sellers[0])
    ax.figure.set_size_inches(10, 4)
    ax.figure.tight_layout()
    path = Path(args.out) / "attention.png"
    ax.figure.savefig(path, dpi=110)
    mean_weight = weights[weights["unique_id"] == best_sellers[0]].groupby("lag")["weight"].mean()
    top = mean_weight.nlargest(3).index
    print(
        f"Attention of {best_sellers[0]}: the most attended lags are "
        f"{', '.join(map(str, top))} weeks back; heatmap written to {path}"
    )
    return 0


def _seasonal_naive(train: pd.DataFrame, horizon: int, season: int, like: pd.DataFrame):
    """Each forecast step repeats the value one season earlier."""
    from tsattn.forecast.statistics.forecasters import SeasonalNaive

    naive = SeasonalNaive(horizon=horizon, season_length=season).fit(train).predict()
    return naive.rename(columns={"y": "seasonal_naive"})


if __name__ == "__main__":
    raise SystemExit(main())
