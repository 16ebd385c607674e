"""Covariates on real and simulated data: with them, forecasts must not get worse.

    OMP_NUM_THREADS=1 python benchmarks/covariates.py walmart [--seeds 0 1 2]
    OMP_NUM_THREADS=1 python benchmarks/covariates.py m3 [--seeds 0 1 2]
    OMP_NUM_THREADS=1 python benchmarks/covariates.py sales [--seeds 0 1 2]
    # any run: --params '{"covariate_dropout": 0.0}' passes forecaster parameters to every fit
    # walmart: --variants "flag only" "with X" ... and --holdouts last holiday pick the fits

``walmart``: the 45 stores' weekly sales (``../shared/data/walmart-store-sales.csv``), two
holdouts of 12 weeks (the last 12; the 12 after 2011-10-28, Thanksgiving to January), WAPE of
``Seq2SeqForecaster(horizon=12)`` at its defaults without covariates, with X (``Holiday_Flag``
known in advance; ``Temperature``, ``Fuel_Price``, ``CPI``, ``Unemployment`` past-only), and with
X plus the store as a static category; ``flag only`` (``--variants``) takes ``Holiday_Flag``
alone. Every fit with X also reports how far the flag moves the forecast of the horizon's
flagged weeks (predicted again with the flag at 0), beside how far those weeks actually moved
from the week before, and which columns ``covariate_selection`` dropped.
``m3``: M3 monthly (1428 series, horizon 18), sMAPE without covariates and with five columns of
pure noise plus a noisy price-like column (positive, a random walk unrelated to the target), all
known in advance.
``sales``: ``make_retail_sales(100, 156)``, the last 12 weeks held out, MAE without and with X
(price, promotion, holiday), and the coverage of the calibrated 80% interval with X.
Every row is one seed; the summary gives each variant's mean and spread (max - min) over seeds.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

import numpy as np
import pandas as pd

DATA = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "walmart-store-sales.csv"
HOLIDAY_CUTOFF = pd.Timestamp("2011-10-28")


def walmart_frames(path: Path = DATA) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """y (long), X (long) and static (the store as a category) of the Walmart stores."""
    raw = pd.read_csv(path)
    raw["ds"] = pd.to_datetime(raw["Date"], format="%d-%m-%Y")
    raw["unique_id"] = "store_" + raw["Store"].astype(str).str.zfill(2)
    raw = raw.sort_values(["unique_id", "ds"], ignore_index=True)
    y = raw[["unique_id", "ds"]].assign(y=raw["Weekly_Sales"])
    X = raw[["unique_id", "ds", "Holiday_Flag", "Temperature", "Fuel_Price", "CPI", "Unemployment"]]
    static = pd.DataFrame({"store": raw["unique_id"].unique()}, index=raw["unique_id"].unique())
    return y, X, static


def wape(actual: np.ndarray, forecast: np.ndarray) -> float:
    """Weighted absolute percentage error, in %."""
    return float(100 * np.abs(actual - forecast).sum() / np.abs(actual).sum())


WALMART_VARIANTS = ("without covariates", "with X", "with X + store", "flag only")


def flag_effect(model, X: pd.DataFrame, forecast: pd.DataFrame, test: pd.DataFrame) -> dict:
    """How far the holiday flag moves the forecast of each of the horizon's flagged weeks.

    ``predict`` again with ``Holiday_Flag`` set to 0 everywhere: per flagged week, the
    forecast's mean change over stores (%, flag on against off), under the key
    ``"flag % <date>"``. A flag dropped by ``covariate_selection`` moves nothing.
    """
    flagged = set(X.loc[X["Holiday_Flag"] == 1, "ds"])
    weeks = sorted(set(test["ds"]) & flagged)
    if not weeks:
        return {}
    off = model.predict(X=X.assign(Holiday_Flag=0)).rename(columns={"y": "off"})
    both = forecast.rename(columns={"y": "on"}).merge(off, on=["unique_id", "ds"])
    change = 100 * (both["on"] / both["off"] - 1)
    return {f"flag % {w.date()}": float(change[both["ds"] == w].mean()) for w in weeks}


def forecast_change(forecast: pd.DataFrame, weeks) -> dict:
    """Per flagged week, the forecast's mean change over stores from the week before, in %.

    Whatever moves it (the seasonal indices of last year's holiday, the flag): set beside
    :func:`actual_holiday_change`. Empty for a week that opens the horizon.
    """
    wide = forecast.pivot(index="ds", columns="unique_id", values="y").sort_index()
    change = 100 * (wide / wide.shift(1) - 1)
    return {f"fc % {w.date()}": float(change.loc[w].mean()) for w in weeks if w != wide.index[0]}


def actual_holiday_change(y: pd.DataFrame, weeks) -> dict:
    """Per flagged week, the mean over stores of its change from the week before, in %."""
    wide = y.pivot(index="ds", columns="unique_id", values="y").sort_index()
    change = 100 * (wide / wide.shift(1) - 1)
    return {str(w.date()): round(float(change.loc[w].mean()), 1) for w in weeks}


def run_walmart(seeds, params, path: Path = DATA, variants=WALMART_VARIANTS[:3], holdouts=None):
    from tsattn import Seq2SeqForecaster

    y, X, static = walmart_frames(path)
    past = ["Temperature", "Fuel_Price", "CPI", "Unemployment"]
    cutoffs = {
        "last 12 weeks": np.sort(y["ds"].unique())[-13],
        "holiday (to 2011-10-28)": HOLIDAY_CUTOFF,
    }
    if holdouts:
        cutoffs = {name: cut for name, cut in cutoffs.items() if name.split()[0] in holdouts}
    flag_only = X[["unique_id", "ds", "Holiday_Flag"]]
    data_of = {
        "without covariates": ({}, ()),
        "with X": ({"X": X}, past),
        "with X + store": ({"X": X, "static": static}, past),
        "flag only": ({"X": flag_only}, ()),
    }
    rows = []
    for holdout, cutoff in cutoffs.items():
        train = y[y["ds"] <= cutoff]
        test = y[(y["ds"] > cutoff) & (y["ds"] <= cutoff + pd.Timedelta(weeks=12))]
        flagged = sorted(set(test["ds"]) & set(X.loc[X["Holiday_Flag"] == 1, "ds"]))
        print(f"{holdout}: flagged weeks and their actual change from the week before (%): "
              f"{actual_holiday_change(y, flagged)}")  # fmt: skip
        for seed in seeds:
            for name in variants:
                data, past_columns = data_of[name]
                model = Seq2SeqForecaster(
                    horizon=12,
                    past_covariates=past_columns,
                    random_state=seed,
                    verbose=False,
                    **params,
                )
                started = time.perf_counter()
                model.fit(train, **data)
                forecast = model.predict(X=data.get("X"))
                seconds = time.perf_counter() - started
                scored = test.merge(forecast.rename(columns={"y": "f"}), on=["unique_id", "ds"])
                row = {
                    "data": holdout,
                    "variant": name,
                    "seed": seed,
                    "WAPE": wape(scored["y"].to_numpy(), scored["f"].to_numpy()),
                    "epochs": len(model.history_),
                    "seconds": seconds,
                }
                row.update(forecast_change(forecast, flagged))
                if "X" in data:
                    row.update(flag_effect(model, data["X"], forecast, test))
                    gate = getattr(model.module_, "target_gate", None)
                    if gate is not None and gate.logits is not None:
                        row["decoder gates"] = " ".join(f"{g:.2f}" for g in gate.gates().tolist())
                    table = getattr(model, "covariate_selection_", None)
                    if table is not None:
                        row["dropped"] = ",".join(table.loc[~table["kept"], "feature"].astype(str))
                rows.append(row)
                print(pd.DataFrame(rows[-1:]).round(3).to_string(index=False, header=False),
                      flush=True)  # fmt: skip
    return rows


def noise_columns(y: pd.DataFrame, horizon: int, seed: int) -> pd.DataFrame:
    """Five standard-normal columns and a positive random-walk 'price', over history and horizon."""
    from _common import future_frame

    keys = pd.concat([y[["unique_id", "ds"]], future_frame(y, horizon)], ignore_index=True)
    keys = keys.sort_values(["unique_id", "ds"], ignore_index=True)
    rng = np.random.default_rng(1000 + seed)
    X = keys.copy()
    for j in range(5):
        X[f"noise{j}"] = rng.normal(size=len(keys))
    steps = pd.Series(rng.normal(0, 0.03, size=len(keys)))
    walk = steps.groupby(keys["unique_id"].to_numpy()).cumsum().to_numpy()
    X["price"] = np.round(np.exp(np.log(5.0) + walk + rng.normal(0, 0.05, len(keys))), 2)
    return X


def run_m3(seeds, params) -> list[dict]:
    from tsattn import Seq2SeqForecaster
    from tsattn.datasets import load_m3
    from tsattn.forecast.metrics import smape

    data = load_m3("monthly")
    train, test, horizon = data.train, data.test, data.horizon
    rows = []
    for seed in seeds:
        X = noise_columns(train, horizon, seed)
        for name, data in {"without covariates": {}, "with noise X": {"X": X}}.items():
            model = Seq2SeqForecaster(horizon=horizon, random_state=seed, verbose=False, **params)
            started = time.perf_counter()
            model.fit(train, **data)
            forecast = model.predict(X=data.get("X")).rename(columns={"y": "f"})
            scored = test.merge(forecast, on=["unique_id", "ds"])
            rows.append(
                {
                    "data": "M3 monthly",
                    "variant": name,
                    "seed": seed,
                    "sMAPE": smape(scored["y"], scored["f"]),
                    "epochs": len(model.history_),
                    "seconds": time.perf_counter() - started,
                }
            )
            print(pd.DataFrame(rows[-1:]).round(3).to_string(index=False, header=False))
    return rows


def run_sales(seeds, params) -> list[dict]:
    from tsattn import Seq2SeqForecaster
    from tsattn.datasets import make_retail_sales
    from tsattn.forecast.metrics import interval_coverage, mae

    rows = []
    for seed in seeds:
        y, X, _ = make_retail_sales(n_series=100, n_periods=156, seed=seed)
        cutoff = np.sort(y["ds"].unique())[-13]
        train, test = y[y["ds"] <= cutoff], y[y["ds"] > cutoff]
        for name, data in {"without covariates": {}, "with X": {"X": X}}.items():
            model = Seq2SeqForecaster(
                horizon=12, input_size=48, hidden_size=32, quantiles=(0.1, 0.5, 0.9),
                nonnegative=True, max_epochs=60, random_state=seed, verbose=False, **params,
            )  # fmt: skip
            started = time.perf_counter()
            model.fit(train, **data)
            point = model.predict(X=data.get("X")).rename(columns={"y": "f"})
            band = model.predict_interval(X=data.get("X"), coverage=0.8)
            scored = test.merge(point, on=["unique_id", "ds"]).merge(band, on=["unique_id", "ds"])
            rows.append(
                {
                    "data": "simulator",
                    "variant": name,
                    "seed": seed,
                    "MAE": mae(scored["y"], scored["f"]),
                    "coverage 80%": interval_coverage(
                        scored["y"], scored["lower"], scored["upper"]
                    ),
                    "epochs": len(model.history_),
                    "seconds": time.perf_counter() - started,
                }
            )
            print(pd.DataFrame(rows[-1:]).round(3).to_string(index=False, header=False))
    return rows


def summary(rows: list[dict]) -> pd.DataFrame:
    """Mean and spread (max - min) over seeds of every metric, per data set and variant."""
    table = pd.DataFrame(rows)
    metric = [c for c in ("WAPE", "sMAPE", "MAE", "coverage 80%") if c in table.columns]
    metric += [c for c in table.columns if str(c).startswith(("flag % ", "fc % "))]
    grouped = table.groupby(["data", "variant"], sort=False)[metric]
    mean, spread = grouped.mean(), grouped.max() - grouped.min()
    return mean.join(spread, rsuffix=" spread").join(
        table.groupby(["data", "variant"], sort=False)["seconds"].mean()
    )


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("benchmark", choices=["walmart", "m3", "sales"])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--params", default="{}", help="forecaster parameters as JSON")
    parser.add_argument("--data", type=Path, default=DATA, help="the Walmart CSV")
    parser.add_argument("--json", type=Path, help="also write the rows there, one JSON a line")
    parser.add_argument(
        "--variants",
        nargs="+",
        choices=WALMART_VARIANTS,
        default=list(WALMART_VARIANTS[:3]),
        help="walmart: the fits to make",
    )
    parser.add_argument("--holdouts", nargs="+", choices=["last", "holiday"],
                        help="walmart: the holdouts (default both)")  # fmt: skip
    args = parser.parse_args(argv)

    import torch

    torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", "1")))
    params = json.loads(args.params)
    if args.benchmark == "walmart":
        rows = run_walmart(args.seeds, params, args.data, args.variants, args.holdouts)
    else:
        rows = {"m3": run_m3, "sales": run_sales}[args.benchmark](args.seeds, params)
    if args.json is not None:
        with open(args.json, "a", encoding="utf-8") as out:
            for row in rows:
                out.write(json.dumps({**row, "params": params}) + "\n")
    print(f"\n{args.benchmark}, seeds {args.seeds}, params {params}:")
    print(summary(rows).round(3).to_string())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
