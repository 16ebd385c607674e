"""What holds tsattn back on long histories (issue 23): one change at a time against the defaults.

    OMP_NUM_THREADS=1 python benchmarks/long_history.py --sets livestock --seeds 0 \\
        --variants defaults input_36 baseline_none [--origins 0] [--json rows.jsonl]
    OMP_NUM_THREADS=1 python benchmarks/long_history.py --sets livestock \\
        --params 'wide={"input_size": 96, "hidden_size": 128}'   # a variant of your own
    OMP_NUM_THREADS=1 python benchmarks/long_history.py --sets livestock --baselines

Every variant is ``Seq2SeqForecaster(horizon=h, random_state=seed, verbose=False, **params)`` on
the suite's data sets (``benchmarks/suite.py``; multi-origin sets refit at every origin, and
``--origins`` picks a few). Each row reports the error, seconds per fit and what the fit
resolved: input size, segment length, season, the epochs it ran and the one it kept.

``--baselines`` adds the statistical forecasts the network starts from, computed as the
forecaster computes them (its seasonal indices from the whole history, then the baseline's
state at the series' end): ``theta`` and ``theta_holt``; also the seasonal indices estimated
on the last few seasons only (``theta_recent``), to separate the indices from the smoothing.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import time
import warnings

import numpy as np
import pandas as pd
import suite

# Named variants: one change against the defaults each.
VARIANTS: dict[str, dict] = {
    "defaults": {},
    "baseline_none": {"baseline": None},
    "theta_holt": {"baseline": "theta_holt"},
    "input_2s": {"input_size": "2s"},  # two seasons (resolved per set)
    "input_3s": {"input_size": "3s"},
    "input_5s": {"input_size": "5s"},
    "valid_0.02": {"validation_size": 0.02},
    "valid_0": {"validation_size": 0.0},
    "no_season": {"season_length": 1},
    "scaler_standard": {"scaler": "standard"},
    "loss_mse": {"loss": "mse"},
    "hidden_128": {"hidden_size": 128},
    "hidden_32": {"hidden_size": 32},
    "wpe_all": {"windows_per_epoch": None},
    "wpe_2560": {"windows_per_epoch": 2560},
    "epochs_20": {"max_epochs": 20},
    "patience_10": {"early_stopping_patience": 10},
    "attention_none": {"attention": "none"},
    "lr_3e-4": {"learning_rate": 3e-4},
    # Seasonal indices from the last 5 seasons (y adjusted before the fit, season_length=1).
    "recent5": {"_recent_seasons": 5},
    "recent5_theta_holt": {"_recent_seasons": 5, "baseline": "theta_holt"},
}


def resolve(params: dict, task: suite.Task) -> dict:
    """Sizes given in seasons ("3s") in steps of the task's season."""
    out = dict(params)
    size = out.get("input_size")
    if isinstance(size, str) and size.endswith("s"):
        out["input_size"] = int(float(size[:-1]) * task.season)
    return out


def fit_one(fold: suite.Task, seed: int, params: dict) -> tuple[pd.DataFrame, dict]:
    """One fit and forecast; the forecast and what the fit resolved."""
    from tsattn import Seq2SeqForecaster

    params = dict(params)
    recent = params.pop("_recent_seasons", None)
    if fold.pass_season:
        params = {"season_length": fold.season, **params}
    train = fold.train
    if recent is not None:
        # The user's way to another seasonal adjustment: adjust y, switch the forecaster's off,
        # reseasonalise its forecast.
        ids, adjusted, offsets, indices = _deseasonalize(train, fold.season, int(recent))
        train = train.sort_values(["unique_id", "ds"]).assign(y=adjusted)
        params["season_length"] = 1
    model = Seq2SeqForecaster(horizon=fold.horizon, random_state=seed, verbose=False, **params)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.fit(train)
    forecast = model.predict().rename(columns={"y": "yhat"})
    if recent is not None:
        step = forecast.groupby("unique_id", sort=False).cumcount().to_numpy()
        row = pd.Index(ids).get_indexer(forecast["unique_id"])
        forecast["yhat"] = forecast["yhat"].to_numpy() * indices[row, step % indices.shape[1]]
    history = model.history_
    kept = int(np.nanargmin(history["valid_loss"].to_numpy())) if "valid_loss" in history else -1
    info = {
        "input_size": int(model.input_size_),
        "segment_length": int(model.segment_length_),
        "season": int(model.season_length_),
        "seasonal_series": int((np.ptp(model.seasonal_indices_, axis=1) > 0).sum()),
        "epochs": len(history),
        "kept_epoch": kept + 1,
        "best_valid": float(np.nanmin(history["valid_loss"])) if len(history) else np.nan,
    }
    return forecast, info


def run_variant(task: suite.Task, name: str, params: dict, seed: int) -> dict:
    params = resolve(params, task)
    errors, infos = [], []
    start, cpu = time.perf_counter(), time.process_time()
    for fold in task.folds():
        forecast, info = fit_one(fold, seed, params)
        errors.append(suite.score(fold, forecast))
        infos.append(info)
    seconds = time.perf_counter() - start
    # CPU seconds: on a shared machine the wall clock also counts the waits for a core.
    cpu = time.process_time() - cpu
    row = {
        "set": task.name,
        "variant": name,
        "params": params,
        "seed": seed,
        "error": float(np.mean(errors)),
        "origins": errors,
        "seconds_per_fit": seconds / len(errors),
        "cpu_seconds_per_fit": cpu / len(errors),
        **{k: infos[-1][k] for k in infos[-1]},
        "epochs_mean": float(np.mean([i["epochs"] for i in infos])),
    }
    return row


# ----------------------------------------------------------------------------------------------
# The baselines alone


def _deseasonalize(train: pd.DataFrame, season: int, recent: int | None):
    """Adjusted values per series and the indices, as the forecaster computes them.

    ``recent``: estimate each series' indices on its last ``recent`` seasons only.
    """
    try:
        from tsattn.forecast.statistics.seasonal import (
            deseasonalize,
            panel_indices,
            phase_of_history,
        )
    except ImportError:  # the layout before the sub-packages
        from tsattn.forecast.seasonal import deseasonalize, panel_indices, phase_of_history

    groups = [g["y"].to_numpy(float) for _, g in train.groupby("unique_id", sort=True)]
    ids = sorted(train["unique_id"].unique())
    values = np.concatenate(groups)
    offsets = np.r_[0, np.cumsum([len(g) for g in groups])].astype(np.int64)
    if recent is None:
        adjusted, indices = deseasonalize(values, offsets, season)
        return ids, adjusted.astype(np.float64), offsets, indices
    tails = [g[-recent * season :] for g in groups]
    tail_offsets = np.r_[0, np.cumsum([len(t) for t in tails])].astype(np.int64)
    indices = panel_indices(np.concatenate(tails), tail_offsets, season)
    phase = phase_of_history(offsets, season)
    row = np.repeat(np.arange(len(groups)), np.diff(offsets))
    return ids, values / indices[row, phase], offsets, indices


def baseline_forecast_frame(task: suite.Task, kind: str, recent: int | None = None) -> pd.DataFrame:
    """The baseline the network corrects, from every series' end, reseasonalised."""
    import torch

    try:
        from tsattn.forecast.statistics.baseline import baseline_forecast, baseline_states
    except ImportError:  # the layout before the sub-packages
        from tsattn.forecast.combination import baseline_forecast, baseline_states

    season = task.season
    ids, adjusted, offsets, indices = _deseasonalize(task.train, season, recent)
    states = baseline_states(adjusted.astype(np.float32), offsets, kind)
    ends = states[offsets[1:] - 1]
    forecast = baseline_forecast(torch.as_tensor(ends, dtype=torch.float64), task.horizon).numpy()
    phase = np.arange(task.horizon) % indices.shape[1]
    forecast = forecast * indices[:, phase]
    last = task.train.groupby("unique_id", sort=True)["ds"].max()
    step = pd.tseries.frequencies.to_offset(task.freq)
    rows = []
    for i, uid in enumerate(ids):
        dates = pd.date_range(last[uid] + step, periods=task.horizon, freq=task.freq)
        rows.append(pd.DataFrame({"unique_id": uid, "ds": dates, "yhat": forecast[i]}))
    return pd.concat(rows, ignore_index=True)


def run_baselines(task: suite.Task) -> list[dict]:
    rows = []
    for name, kind, recent in (
        ("theta", "theta", None),
        ("theta_holt", "theta_holt", None),
        *((f"theta_recent{k}", "theta", k) for k in (2, 3, 5, 8, 12)),
        *((f"theta_holt_recent{k}", "theta_holt", k) for k in (3, 5, 8)),
    ):
        start = time.perf_counter()
        errors = [
            suite.score(fold, baseline_forecast_frame(fold, kind, recent)) for fold in task.folds()
        ]
        rows.append(
            {
                "set": task.name,
                "variant": f"baseline:{name}",
                "error": float(np.mean(errors)),
                "origins": errors,
                "seconds_per_fit": (time.perf_counter() - start) / len(errors),
            }
        )
        print(f"  baseline {name}: {rows[-1]['error']:.4f}", flush=True)
    return rows


CANDIDATES = tuple(
    (f"{kind}_recent{k}" if k else f"{kind}_all", kind, k)
    for kind in ("theta", "theta_holt")
    for k in (3, 5, 8, None)
)


def _naive_scale(train: pd.DataFrame, m: int) -> pd.Series:
    """Each series' in-sample MAE of the seasonal naive (MASE's denominator)."""

    def naive_mae(y: pd.Series) -> float:
        values = y.to_numpy(float)
        return float(np.mean(np.abs(values[m:] - values[:-m]))) if len(values) > m else np.nan

    return train.groupby("unique_id")["y"].agg(naive_mae)


def choose_baselines(task: suite.Task, n_valid: int) -> list[dict]:
    """Each series' baseline chosen on its own last windows, scored on the test.

    The candidates are the baselines of :data:`CANDIDATES` (Theta or Theta-Holt on indices from
    the last 3, 5, 8 or all seasons). Validation: the forecasts from the ``n_valid`` origins
    before the training end whose targets lie in the training data (indices from the history
    before the first of them), scored by MAE over the in-sample seasonal naive's MAE; each series
    keeps its best candidate. Reported: every candidate alone, the per-series choice, and the
    oracle (the best candidate of each series on the test itself).
    """
    tests = {name: [] for name, _, _ in CANDIDATES}
    valids = {name: [] for name, _, _ in CANDIDATES}
    for fold in task.folds():
        h = fold.horizon
        train = fold.train.sort_values(["unique_id", "ds"])
        for name, kind, recent in CANDIDATES:
            forecast = baseline_forecast_frame(fold, kind, recent)
            joined = fold.test.merge(forecast, on=["unique_id", "ds"])
            tests[name].append(
                (joined["y"] - joined["yhat"]).abs().groupby(joined["unique_id"]).mean()
            )
            errors = []
            for back in range(n_valid):
                cut = h + back  # origin `cut` steps before the end: targets end `back` steps before
                head = train.groupby("unique_id", sort=False).head(-cut) if cut else train
                tail = (
                    train.groupby("unique_id", sort=False)
                    .tail(cut)
                    .groupby("unique_id", sort=False)
                    .head(h)
                )
                sub = dataclasses.replace(fold, train=head.reset_index(drop=True), test=tail)
                f = baseline_forecast_frame(sub, kind, recent)
                j = tail.merge(f, on=["unique_id", "ds"])
                errors.append((j["y"] - j["yhat"]).abs().groupby(j["unique_id"]).mean())
            valids[name].append(pd.concat(errors, axis=1).mean(axis=1))
    # One fold's scale per series (MASE's denominator): the first fold's training data.
    names = [name for name, _, _ in CANDIDATES]
    rows = []
    for f_index, fold in enumerate(task.folds()):
        test = pd.concat([tests[n][f_index] for n in names], axis=1, keys=names)
        valid = pd.concat([valids[n][f_index] for n in names], axis=1, keys=names).reindex(
            test.index
        )
        chosen = valid.to_numpy().argmin(axis=1)
        test["chosen"] = test.to_numpy()[np.arange(len(test)), chosen]
        test["oracle"] = test[names].min(axis=1)
        rows.append((fold, test, valid.idxmin(axis=1)))
    out = []
    for column in [*names, "chosen", "oracle"]:
        errors = []
        for fold, test, _ in rows:
            if fold.metric == "mase":
                scale = _naive_scale(fold.train, fold.season)
                ratio = test[column] / scale.reindex(test.index)
                errors.append(float(ratio[scale.reindex(test.index) > 0].mean()))
            else:  # MAPE needs the forecasts; the MAE share of the mean level approximates it
                level = fold.test.groupby("unique_id")["y"].mean().reindex(test.index)
                errors.append(float(100 * (test[column] / level).mean()))
        out.append(
            {"set": task.name, "variant": f"choose:{column}", "error": float(np.mean(errors))}
        )
        print(f"  {column}: {out[-1]['error']:.4f}", flush=True)
    print("  chosen per series:", rows[-1][2].value_counts().to_dict(), flush=True)
    return out


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sets", nargs="+", default=["livestock"], choices=list(suite.DATASETS))
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--variants", nargs="*", default=["defaults"], choices=list(VARIANTS))
    parser.add_argument(
        "--params",
        nargs="*",
        default=[],
        help='extra variants, NAME=JSON, e.g. a={"hidden_size": 32}',
    )
    parser.add_argument("--origins", type=int, nargs="+", help="multi-origin sets: these only")
    parser.add_argument("--baselines", action="store_true", help="also the baselines alone")
    parser.add_argument(
        "--choose",
        type=int,
        metavar="N",
        help="also each series' baseline chosen on its last N origins (see choose_baselines)",
    )
    parser.add_argument("--json", help="append every row to this JSON-lines file")
    args = parser.parse_args(argv)

    import torch

    torch.set_num_threads(1)
    variants = {name: VARIANTS[name] for name in args.variants}
    for item in args.params:
        name, _, text = item.partition("=")
        variants[name] = json.loads(text)
    rows = []
    for set_name in args.sets:
        task = suite.DATASETS[set_name]()
        if args.origins and task.origins:
            task = dataclasses.replace(task, origins=tuple(task.origins[i] for i in args.origins))
        print(f"{set_name}: {task.description}", flush=True)
        new = run_baselines(task) if args.baselines else []
        if args.choose:
            new += choose_baselines(task, args.choose)
        for name, params in variants.items():
            for seed in args.seeds:
                row = run_variant(task, name, params, seed)
                new.append(row)
                print(
                    f"  {name} seed {seed}: {row['error']:.4f} ({row['seconds_per_fit']:.1f} s, "
                    f"{row['cpu_seconds_per_fit']:.1f} CPU s per fit; input {row['input_size']}, "
                    f"segments {row['segment_length']}, "
                    f"season {row['season']}, epochs {row['epochs']} kept {row['kept_epoch']})",
                    flush=True,
                )
        if args.json:
            with open(args.json, "a", encoding="utf-8") as out:
                for row in new:
                    out.write(json.dumps(row, default=str) + "\n")
        rows += new
    frame = pd.DataFrame(rows)
    if not frame.empty:
        print()
        if "seconds_per_fit" not in frame:
            frame["seconds_per_fit"] = np.nan
        summary = frame.groupby(["set", "variant"], sort=False).agg(
            error=("error", "mean"), sd=("error", "std"), seconds=("seconds_per_fit", "mean")
        )
        print(summary.to_markdown(floatfmt=".4f") if _has_tabulate() else summary.to_string())
    return 0


def _has_tabulate() -> bool:
    import importlib.util

    return importlib.util.find_spec("tabulate") is not None


if __name__ == "__main__":
    sys.exit(main())
