"""Sales-grade forecasting on simulated retail sales: covariates and calibrated intervals.

    OMP_NUM_THREADS=1 python benchmarks/sales.py [--series 100] [--epochs 60] [--seeds 0 1 2]
        [--decoder recursive] [--segment-length 1]

For every seed, simulates weekly unit sales (``tsattn.datasets.make_retail_sales``: prices,
promotions, holidays, intermittent low sellers), holds out the last ``--horizon`` weeks, and fits
the same quantile forecaster (0.1, 0.5, 0.9) twice: on sales alone, and with the promotions,
prices and holidays as X known in advance (``--static`` adds a third fit that also gets the
static category, store and base price). It prints MAE and sMAPE of the median forecasts and the
share of held-out weeks inside the calibrated 80% interval; seasonal naive is the reference.
About 2-3 minutes per fit on one CPU thread.
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np
import pandas as pd


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--series", type=int, default=100)
    parser.add_argument("--periods", type=int, default=156)
    parser.add_argument("--horizon", type=int, default=12)
    parser.add_argument("--input-size", type=int, default=48)
    parser.add_argument("--epochs", type=int, default=60)
    parser.add_argument("--hidden", type=int, default=32)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--static", action="store_true", help="also fit with static features")
    parser.add_argument("--coverage", type=float, default=0.8)
    parser.add_argument("--decoder", help="tsattn's decoder; default: the library's")
    parser.add_argument("--segment-length", help="an int or 'auto'; default: the library's")
    args = parser.parse_args(argv)

    import torch

    from tsattn import Seq2SeqForecaster
    from tsattn.datasets import make_retail_sales
    from tsattn.forecast.metrics import interval_coverage, mae, smape
    from tsattn.forecast.statistics.forecasters import SeasonalNaive

    torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", "1")))
    architecture = {}
    if args.decoder is not None:
        architecture["decoder"] = args.decoder
    if args.segment_length is not None:
        length = args.segment_length
        architecture["segment_length"] = length if length == "auto" else int(length)
    rows = []
    for seed in args.seeds:
        y, X, static = make_retail_sales(n_series=args.series, n_periods=args.periods, seed=seed)
        cutoff = np.sort(y["ds"].unique())[-args.horizon - 1]
        train, test = y[y["ds"] <= cutoff], y[y["ds"] > cutoff]
        naive = SeasonalNaive(horizon=args.horizon, season_length=52).fit(train).predict()
        joined = test.merge(naive.rename(columns={"y": "naive"}), on=["unique_id", "ds"])
        rows.append(
            {
                "seed": seed,
                "model": "seasonal naive",
                "MAE": mae(joined["y"], joined["naive"]),
                "sMAPE": smape(joined["y"], joined["naive"]),
            }
        )
        variants = [
            ("tsattn, sales only", {}),
            ("tsattn + X (price, promotion, holiday)", {"X": X}),
        ]
        if args.static:
            variants.append(("tsattn + X + static", {"X": X, "static": static}))
        for name, fit_kwargs in variants:
            model = Seq2SeqForecaster(
                horizon=args.horizon,
                input_size=args.input_size,
                hidden_size=args.hidden,
                quantiles=(0.1, 0.5, 0.9),
                nonnegative=True,
                max_epochs=args.epochs,
                random_state=seed,
                verbose=False,
                **architecture,
            )
            started = time.perf_counter()
            model.fit(train, **fit_kwargs)
            future_x = fit_kwargs.get("X")
            point = model.predict(X=future_x).rename(columns={"y": "forecast"})
            band = model.predict_interval(X=future_x, coverage=args.coverage)
            seconds = time.perf_counter() - started
            scored = test.merge(point, on=["unique_id", "ds"]).merge(band, on=["unique_id", "ds"])
            rows.append(
                {
                    "seed": seed,
                    "model": name,
                    "MAE": mae(scored["y"], scored["forecast"]),
                    "sMAPE": smape(scored["y"], scored["forecast"]),
                    f"coverage {args.coverage:.0%}": interval_coverage(
                        scored["y"], scored["lower"], scored["upper"]
                    ),
                    "epochs": len(model.history_),
                    "seconds": seconds,
                }
            )
            print(pd.DataFrame(rows[-1:]).round(3).to_string(index=False, header=False), flush=True)
    table = pd.DataFrame(rows)
    summary = table.groupby("model", sort=False).mean(numeric_only=True).drop(columns="seed")
    print(
        f"\n{args.series} series x {args.periods} weeks, last {args.horizon} held out, "
        f"seeds {args.seeds}, means over seeds:"
    )
    print(summary.round(3).to_string())
    base = summary.loc["tsattn, sales only", "MAE"]
    for name in summary.index[2:]:
        print(f"MAE reduction by {name}: {1 - summary.loc[name, 'MAE'] / base:.1%}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
