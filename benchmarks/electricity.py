"""Electricity demand with temperature and holidays: tsattn with and without X against peers.

    OMP_NUM_THREADS=1 python benchmarks/electricity.py daily [--seeds 0 1 2]
    OMP_NUM_THREADS=1 python benchmarks/electricity.py halfhourly [--states ...] [--origins 0 3]
    # any run: --models tsattn_x lgbm ... picks models; --params '{"covariate_gate": false}'
    # passes forecaster parameters to every tsattn fit; --json FILE appends the rows

``daily``: the four states of ``../shared/data/aus-electricity.csv.gz`` as one panel of daily
totals (GWh: the sum of the half-hourly MW over the day, / 2 / 1000), X = the day's maximum and
minimum temperature (Celsius) and the holiday flag, all known in advance. Origins: the last day of
January, March, May, July, September and November 2014; 14 days ahead from each, every model
fit again at each origin on the history up to it; MAPE (%) over every series and day.
Models: ``Seq2SeqForecaster(horizon=14)`` at its defaults without X (``tsattn``) and with X
(``tsattn_x``); LightGBM through mlforecast (``lgbm``: lags 1, 7 and 14, a 7-day rolling mean
of lag 1, day of week and month, the same X, 300 trees, recursive); statsforecast AutoARIMA
(season 7) with X (``arima``); seasonal naive, season 7 (``snaive``).
``halfhourly``: the same origins, the next day (48 half-hours) of the half-hourly demand (MW),
X = the half-hour's temperature and the holiday flag: ``Seq2SeqForecaster(horizon=48)`` at its
defaults with X (``tsattn_x``) against LightGBM with X (lags 1, 2, 48, 336, a 48-step rolling
mean of lag 1, hour, day of week and month; ``lgbm``). ``--history-days`` bounds each fit's
history (default: all of it).
The summary gives every model's mean MAPE over origins and seeds, its spread over seeds, its
ratio to LightGBM and to tsattn without X (where those ran), and its mean seconds per fit.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

import numpy as np
import pandas as pd

DATA = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "aus-electricity.csv.gz"
ORIGINS = [pd.Timestamp(f"2014-{m:02d}-01") + pd.offsets.MonthEnd(0) for m in (1, 3, 5, 7, 9, 11)]
DAILY_MODELS = ("tsattn", "tsattn_x", "lgbm", "arima", "snaive")
HALFHOURLY_MODELS = ("tsattn_x", "lgbm", "tsattn", "snaive")
SEEDED = ("tsattn", "tsattn_x")


def read_half_hours(path: Path = DATA) -> pd.DataFrame:
    """The half-hourly file as a long panel: unique_id (state), ds, y (MW), temperature, holiday."""
    raw = pd.read_csv(path, parse_dates=["time"])
    return pd.DataFrame(
        {
            "unique_id": raw["state"].to_numpy(),
            "ds": raw["time"].to_numpy(),
            "y": raw["demand_mw"].to_numpy(dtype=float),
            "temperature": raw["temperature_c"].to_numpy(dtype=float),
            "holiday": raw["holiday"].to_numpy(dtype=float),
        }
    ).sort_values(["unique_id", "ds"], ignore_index=True)


def daily_frames(path: Path = DATA) -> tuple[pd.DataFrame, pd.DataFrame]:
    """y (daily GWh) and X (tmax, tmin, holiday), both long, of the four states."""
    half = read_half_hours(path)
    half["day"] = half["ds"].dt.normalize()
    grouped = half.groupby(["unique_id", "day"], sort=True)
    daily = grouped.agg(
        y=("y", "sum"),
        n=("y", "size"),
        tmax=("temperature", "max"),
        tmin=("temperature", "min"),
        holiday=("holiday", "max"),
    ).reset_index()
    if (daily["n"] != 48).any():
        bad = daily[daily["n"] != 48]
        raise ValueError(f"days without 48 half-hours: {bad.head()}")
    daily["y"] = daily["y"] / 2 / 1000  # MW over half-hours -> MWh -> GWh
    daily = daily.rename(columns={"day": "ds"})
    y = daily[["unique_id", "ds", "y"]]
    X = daily[["unique_id", "ds", "tmax", "tmin", "holiday"]]
    return y, X


def transform_x(X: pd.DataFrame, form: str) -> pd.DataFrame:
    """The temperature columns as given ("raw"), or in a form that no sign rule can touch.

    "degrees": Celsius minus 100 (never positive, so no "relative" log-ratio transform; the
    forecaster's pooled standardisation then gives degrees on one scale for every state);
    "series-z": standardised per state (mean and deviation over the whole file, a diagnosis
    shortcut: the horizon's values take part in the statistics). Flags stay as they are.
    """
    if form == "raw":
        return X
    X = X.copy()
    numeric = [c for c in X.columns if c not in ("unique_id", "ds", "holiday")]
    for col in numeric:
        if form == "degrees":
            X[col] = X[col] - 100.0
        else:
            grouped = X.groupby("unique_id")[col]
            X[col] = (X[col] - grouped.transform("mean")) / grouped.transform("std")
    return X


def mape(actual: np.ndarray, forecast: np.ndarray) -> float:
    """Mean absolute percentage error over every value, in %."""
    return float(100 * np.mean(np.abs(actual - forecast) / np.abs(actual)))


def split(y: pd.DataFrame, origin: pd.Timestamp, horizon: int, step: pd.Timedelta, days=None):
    """Training history up to ``origin`` (its last ``days`` days if given) and the test rows."""
    end = origin + pd.Timedelta(days=1) - step  # the last step of the origin's day
    train = y[y["ds"] <= end]
    if days is not None:
        train = train[train["ds"] > end - pd.Timedelta(days=days)]
    test = y[(y["ds"] > end) & (y["ds"] <= end + horizon * step)]
    return train, test


# ----------------------------------------------------------------------------------------------
# Models: each returns a long frame unique_id, ds, f of the horizon after every series' end


def fit_tsattn(train, X, horizon, seed, params, with_x):
    from tsattn import Seq2SeqForecaster

    model = Seq2SeqForecaster(horizon=horizon, random_state=seed, verbose=False, **params)
    model.fit(train, X=X if with_x else None)
    forecast = model.predict(X=X if with_x else None).rename(columns={"y": "f"})
    info = {}
    table = getattr(model, "covariate_selection_", None)
    if table is not None:
        info["dropped"] = ",".join(table.loc[~table["kept"], "feature"].astype(str))
    info["epochs"] = len(model.history_)
    info["decoder gates"] = decoder_gates(model)
    return forecast, info


def decoder_gates(model) -> str:
    """The decoder's learnt covariate gates after fit (diagnosis: how far each one opened)."""
    gate = getattr(model.module_, "target_gate", None)
    if gate is None or gate.logits is None:
        return ""
    return " ".join(f"{g:.2f}" for g in gate.gates().tolist())


def fit_lgbm(train, X, horizon, freq, lags, window, date_features):
    import lightgbm as lgb
    from mlforecast import MLForecast
    from mlforecast.lag_transforms import RollingMean

    model = MLForecast(
        models={"f": lgb.LGBMRegressor(n_estimators=300, verbose=-1, random_state=0, n_jobs=1)},
        freq=freq,
        lags=lags,
        lag_transforms={1: [RollingMean(window_size=window)]},
        date_features=date_features,
    )
    frame = train.merge(X, on=["unique_id", "ds"], how="left")
    model.fit(frame, static_features=[])
    future = model.make_future_dataframe(horizon).merge(X, on=["unique_id", "ds"], how="left")
    return model.predict(horizon, X_df=future), {}


def fit_stats(train, X, horizon, freq, which):
    from statsforecast import StatsForecast
    from statsforecast.models import AutoARIMA, SeasonalNaive

    if which == "arima":
        frame = train.merge(X, on=["unique_id", "ds"], how="left")
        sf = StatsForecast(models=[AutoARIMA(season_length=7, alias="f")], freq=freq)
        future = sf_future(train, horizon, freq).merge(X, on=["unique_id", "ds"], how="left")
        return sf.forecast(df=frame, h=horizon, X_df=future), {}
    sf = StatsForecast(models=[SeasonalNaive(season_length=7 if freq == "D" else 336, alias="f")],
                       freq=freq)  # fmt: skip
    return sf.forecast(df=train, h=horizon), {}


def sf_future(train, horizon, freq):
    last = train.groupby("unique_id")["ds"].max()
    return pd.concat(
        [
            pd.DataFrame(
                {"unique_id": uid, "ds": pd.date_range(end, periods=horizon + 1, freq=freq)[1:]}
            )
            for uid, end in last.items()
        ],
        ignore_index=True,
    )


# ----------------------------------------------------------------------------------------------


def run(
    kind, models, seeds, params, origins, states=None, history_days=None, path=DATA, x_form="raw"
):
    if kind == "daily":
        y, X = daily_frames(path)
        horizon, freq, step = 14, "D", pd.Timedelta(days=1)
        lgbm_args = dict(lags=[1, 7, 14], window=7, date_features=["dayofweek", "month"])
    else:
        half = read_half_hours(path)
        y, X = half[["unique_id", "ds", "y"]], half[["unique_id", "ds", "temperature", "holiday"]]
        horizon, freq, step = 48, "30min", pd.Timedelta(minutes=30)
        lgbm_args = dict(
            lags=[1, 2, 48, 336], window=48, date_features=["hour", "dayofweek", "month"]
        )
    X = transform_x(X, x_form)
    if states:
        y, X = y[y["unique_id"].isin(states)], X[X["unique_id"].isin(states)]
    rows = []
    for index in origins:
        origin = ORIGINS[index]
        train, test = split(y, origin, horizon, step, history_days)
        for name in models:
            for seed in seeds if name in SEEDED else [None]:
                started = time.perf_counter()
                if name in SEEDED:
                    forecast, info = fit_tsattn(train, X, horizon, seed, params, name == "tsattn_x")
                elif name == "lgbm":
                    forecast, info = fit_lgbm(train, X, horizon, freq, **lgbm_args)
                else:
                    forecast, info = fit_stats(train, X, horizon, freq, name)
                seconds = time.perf_counter() - started
                scored = test.merge(forecast[["unique_id", "ds", "f"]], on=["unique_id", "ds"])
                if len(scored) != len(test):
                    raise RuntimeError(f"{name}: {len(scored)} forecasts for {len(test)} values")
                rows.append(
                    {
                        "data": kind,
                        "model": name,
                        "seed": seed,
                        "origin": str(origin.date()),
                        "MAPE": mape(scored["y"].to_numpy(), scored["f"].to_numpy()),
                        "seconds": seconds,
                        **info,
                    }
                )
                print(pd.DataFrame(rows[-1:]).round(3).to_string(index=False, header=False),
                      flush=True)  # fmt: skip
    return rows


def summary(rows: list[dict]) -> pd.DataFrame:
    """Per model: mean MAPE over origins and seeds, spread over seeds, ratios, seconds per fit."""
    table = pd.DataFrame(rows)
    table["seed"] = pd.to_numeric(table["seed"]).fillna(-1)
    per_seed = table.groupby(["model", "seed"], sort=False)["MAPE"].mean()
    out = pd.DataFrame(
        {
            "MAPE": table.groupby("model", sort=False)["MAPE"].mean(),
            "seed spread": per_seed.groupby(level=0, sort=False).agg(lambda s: s.max() - s.min()),
            "seconds/fit": table.groupby("model", sort=False)["seconds"].mean(),
        }
    )
    for ref, label in (("lgbm", "/ lgbm"), ("tsattn", "/ tsattn no X")):
        if ref in out.index:
            out[label] = out["MAPE"] / out.loc[ref, "MAPE"]
    return out


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("kind", choices=["daily", "halfhourly"])
    parser.add_argument("--models", nargs="+", default=None)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--origins", type=int, nargs="+", default=list(range(len(ORIGINS))),
                        help="indices into the six origins (0 = 2014-01-31)")  # fmt: skip
    parser.add_argument("--states", nargs="+", default=None)
    parser.add_argument("--history-days", type=int, default=None)
    parser.add_argument("--params", default="{}", help="tsattn parameters as JSON")
    parser.add_argument("--x-form", choices=["raw", "degrees", "series-z"], default="raw",
                        help="temperatures as given, -100 (no sign rule), or z per state")  # fmt: skip
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--json", type=Path, help="also write the rows there, one JSON a line")
    args = parser.parse_args(argv)

    import torch

    torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", "1")))
    models = args.models or list(DAILY_MODELS if args.kind == "daily" else HALFHOURLY_MODELS)
    params = json.loads(args.params)
    rows = run(args.kind, models, args.seeds, params, args.origins, args.states,
               args.history_days, args.data, args.x_form)  # fmt: skip
    if args.json is not None:
        with open(args.json, "a", encoding="utf-8") as out:
            for row in rows:
                out.write(json.dumps({**row, "params": params, "x_form": args.x_form}) + "\n")
    print(f"\n{args.kind}, origins {args.origins}, seeds {args.seeds}, params {params}, "
          f"X {args.x_form}:")  # fmt: skip
    print(summary(rows).round(3).to_string())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
