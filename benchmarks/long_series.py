"""Issue 23's rules measured: the baseline alone, the forecaster, refreshes (helper I23).

    OMP_NUM_THREADS=1 python benchmarks/impl23.py baselines --sets m3_monthly livestock \\
        --recent 3 5 8 0          # the baseline alone, indices from the last k seasons (0: all)
    OMP_NUM_THREADS=1 python benchmarks/impl23.py fit --sets livestock --seeds 0 1 2 \\
        [--params '{"baseline": "theta_holt"}'] [--recent 0] [--json rows.jsonl]
    OMP_NUM_THREADS=1 python benchmarks/impl23.py refresh --seeds 0   # predict(y=last k weeks)

``baselines`` computes the statistical forecast the network starts from exactly as the
forecaster does (``tsattn.forecast.preparation.adjusted_histories`` on the training panel, the
baseline's state at each series' end, reseasonalised), with
``tsattn.forecast.statistics.seasonal.RECENT_SEASONS`` set to each ``--recent`` value (0: every
season of the history). ``fit`` runs ``Seq2SeqForecaster(horizon=h, random_state=seed,
verbose=False, **params)`` on the suite's data sets (``benchmarks/suite.py``; multi-origin sets
at ``--origins``) and reports the error, seconds per fit and what the fit resolved.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import warnings

import numpy as np
import pandas as pd
import suite
import torch


def _set_recent(k: int) -> None:
    from tsattn.forecast.statistics import seasonal

    seasonal.RECENT_SEASONS = k if k > 0 else 10**9
    tested = os.environ.get("I23_TESTED")
    if tested is not None:
        seasonal.TESTED_SEASONS = None if tested == "all" else int(tested)
    elif k <= 0:
        seasonal.TESTED_SEASONS = None


def baseline_frame(task: suite.Task, kind: str) -> pd.DataFrame:
    """The baseline from every series' end, reseasonalised, as the forecaster computes it."""
    from tsattn.forecast.panel.conversion import from_forecasts, to_panel
    from tsattn.forecast.preparation import adjusted_histories
    from tsattn.forecast.statistics.baseline import baseline_forecast
    from tsattn.forecast.statistics.seasonal import adjustment_seasons, seasons_from_axis

    panel = to_panel(task.train)
    if task.pass_season:
        seasons = adjustment_seasons(task.season, panel.axis)
    else:
        seasons = seasons_from_axis(panel.axis)
    adjusted, indices, states = adjusted_histories(panel, seasons, kind)
    ends = torch.as_tensor(states[adjusted.offsets[1:] - 1], dtype=torch.float64)
    forecast = baseline_forecast(ends, task.horizon).numpy()
    forecast = forecast * indices[:, np.arange(task.horizon) % indices.shape[1]]
    out = from_forecasts(
        forecast, ids=panel.ids, last=panel.last, axis=panel.axis, layout=panel.layout
    )
    return out.rename(columns={"y": "yhat"})


def run_baselines(names: list[str], recents: list[int], kinds: list[str]) -> list[dict]:
    rows = []
    for name in names:
        task = suite.DATASETS[name]()
        for kind in kinds:
            for k in recents:
                _set_recent(k)
                start = time.perf_counter()
                errors = [suite.score(fold, baseline_frame(fold, kind)) for fold in task.folds()]
                rows.append({
                    "set": name, "kind": kind, "recent": k, "metric": task.metric,
                    "error": float(np.mean(errors)), "seconds": time.perf_counter() - start,
                })  # fmt: skip
                print(json.dumps(rows[-1]), flush=True)
    return rows


def run_fits(names, seeds, params, origins, recent) -> list[dict]:
    from tsattn import Seq2SeqForecaster

    if recent is not None:
        _set_recent(recent)
    rows = []
    for name in names:
        task = suite.DATASETS[name]()
        folds = task.folds()
        if origins:
            folds = [folds[i] for i in origins]
        for seed in seeds:
            errors, infos, start = [], [], time.perf_counter()
            for fold in folds:
                kwargs = dict(params)
                if fold.pass_season:
                    kwargs.setdefault("season_length", fold.season)
                model = Seq2SeqForecaster(
                    horizon=fold.horizon, random_state=seed, verbose=False, **kwargs
                )
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    model.fit(fold.train)
                forecast = model.predict().rename(columns={"y": "yhat"})
                errors.append(suite.score(fold, forecast))
                history = model.history_
                infos.append({
                    "input_size": int(model.input_size_),
                    "season": int(model.season_length_),
                    "epochs": len(history),
                    "fallback": bool(getattr(model, "baseline_fallback_", False)),
                })  # fmt: skip
            seconds = time.perf_counter() - start
            rows.append({
                "set": name, "seed": seed, "params": params, "recent": recent,
                "metric": task.metric, "error": float(np.mean(errors)),
                "errors": [float(e) for e in errors], "seconds_per_fit": seconds / len(folds),
                "fits": infos,
            })  # fmt: skip
            print(json.dumps(rows[-1]), flush=True)
    return rows


def run_refresh(seeds, lengths, params) -> list[dict]:
    """Walmart's 45 stores fit through 2012-08-31, the next 8 weeks (MASE, season 52):
    ``predict()`` against ``predict(y=last k weeks)`` for every k of ``lengths``."""
    from tsattn import Seq2SeqForecaster

    task = suite.DATASETS["walmart_last"]()
    whole = pd.concat([task.train, task.test]).sort_values(["unique_id", "ds"])
    cutoff = pd.Timestamp("2012-08-31")
    train = whole[whole["ds"] <= cutoff].reset_index(drop=True)
    test = whole[whole["ds"] > cutoff].groupby("unique_id").head(8).reset_index(drop=True)
    fold = suite.dataclasses.replace(task, train=train, test=test, horizon=8, metric="mase")
    rows = []
    for seed in seeds:
        model = Seq2SeqForecaster(horizon=8, random_state=seed, verbose=False, **params)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model.fit(train)
        row = {"seed": seed, "input_size": int(model.input_size_)}
        row["predict"] = suite.score(fold, model.predict().rename(columns={"y": "yhat"}))
        for k in lengths:
            history = train.groupby("unique_id").tail(k)
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                forecast = model.predict(y=history).rename(columns={"y": "yhat"})
            row[f"y_last_{k}"] = suite.score(fold, forecast)
            row[f"warned_{k}"] = len(caught)
        rows.append(row)
        print(json.dumps(row), flush=True)
    return rows


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("mode", choices=("baselines", "fit", "refresh"))
    parser.add_argument("--sets", nargs="+", default=["livestock"])
    parser.add_argument("--recent", type=int, nargs="+", default=None)
    parser.add_argument("--kinds", nargs="+", default=["theta", "theta_holt"])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--origins", type=int, nargs="+", default=None)
    parser.add_argument("--params", type=json.loads, default={})
    parser.add_argument("--json", default=None, help="append the rows to this file")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    if args.mode == "baselines":
        rows = run_baselines(args.sets, args.recent or [5], args.kinds)
    elif args.mode == "refresh":
        rows = run_refresh(args.seeds, [16, 30, 60, 100], args.params)
    else:
        recent = None if args.recent is None else args.recent[0]
        rows = run_fits(args.sets, args.seeds, args.params, args.origins, recent)
    if args.json:
        with open(args.json, "a") as handle:
            for row in rows:
                handle.write(json.dumps(row) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
