"""Issue 23's rules for long histories measured: the baseline alone, the forecaster, refreshes.

    OMP_NUM_THREADS=1 python benchmarks/long_series.py baselines --sets m3_monthly livestock \\
        --recent 3 5 8 0          # the baseline alone, indices from the last k seasons (0: all)
    OMP_NUM_THREADS=1 python benchmarks/long_series.py baselines --sets m3_yearly livestock
        # every kind and "auto" (its "chosen" column: the kind it resolved to per fold)
    OMP_NUM_THREADS=1 python benchmarks/long_series.py fit --sets livestock --seeds 0 1 2 \\
        [--params '{"baseline": "theta_holt"}'] [--recent 0] [--json rows.jsonl]
    OMP_NUM_THREADS=1 /work/benchenv/bin/python benchmarks/long_series.py fit \\
        --sets electricity_nsw --origins 1 3 5 --peers mstl   # a peer on the same folds
    OMP_NUM_THREADS=1 python benchmarks/long_series.py fit --sets electricity_nsw --origins 3 \\
        --rules '{"TRAIN_SPANS": 1000000000}'   # the training-span rule off
    OMP_NUM_THREADS=1 python benchmarks/long_series.py refresh --seeds 0   # predict(y=last k weeks)

``baselines`` computes the statistical forecast the network starts from exactly as the
forecaster does (``tsattn.forecast.preparation.adjusted_histories`` on the training panel, the
baseline's state at each series' end, reseasonalised), with
``tsattn.forecast.statistics.seasonal.RECENT_SEASONS`` set to each ``--recent`` value (0: every
season of the history). ``fit`` runs ``Seq2SeqForecaster(horizon=h, random_state=seed,
verbose=False, **params)`` on the suite's data sets (``benchmarks/suite.py``; multi-origin sets
at ``--origins``) and reports the error, wall and CPU seconds per fit (``time.process_time``: the
machine is shared) and what the fit resolved; ``--peers`` (names of ``suite.PEERS``) fit on the
same folds in the same run, with their error per fold; ``--rules`` overrides constants of
``tsattn.forecast.windows.batches`` (``TRAIN_SPANS``).
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


def baseline_frame(task: suite.Task, kind: str) -> tuple[pd.DataFrame, str]:
    """The baseline from every series' end, reseasonalised, as the forecaster computes it,
    and its kind ("auto" resolved)."""
    from tsattn.forecast.panel.conversion import from_forecasts, to_panel
    from tsattn.forecast.preparation import adjusted_histories
    from tsattn.forecast.statistics.baseline import baseline_forecast, baseline_kind
    from tsattn.forecast.statistics.seasonal import adjustment_seasons, seasons_from_axis

    panel = to_panel(task.train)
    if task.pass_season:
        seasons = adjustment_seasons(task.season, panel.axis)
    else:
        seasons = seasons_from_axis(panel.axis)
    adjusted, indices, states = adjusted_histories(panel, seasons, kind, horizon=task.horizon)
    ends = torch.as_tensor(states[adjusted.offsets[1:] - 1], dtype=torch.float64)
    forecast = baseline_forecast(ends, task.horizon).numpy()
    forecast = forecast * indices[:, np.arange(task.horizon) % indices.shape[1]]
    out = from_forecasts(
        forecast, ids=panel.ids, last=panel.last, axis=panel.axis, layout=panel.layout
    )
    return out.rename(columns={"y": "yhat"}), baseline_kind(states)


def run_baselines(names: list[str], recents: list[int], kinds: list[str]) -> list[dict]:
    rows = []
    for name in names:
        task = suite.DATASETS[name]()
        for kind in kinds:
            for k in recents:
                _set_recent(k)
                start = time.perf_counter()
                errors, chosen = [], []
                for fold in task.folds():
                    frame, resolved = baseline_frame(fold, kind)
                    errors.append(suite.score(fold, frame))
                    chosen.append(resolved)
                rows.append({
                    "set": name, "kind": kind, "chosen": chosen, "recent": k, "metric": task.metric,
                    "error": float(np.mean(errors)), "seconds": time.perf_counter() - start,
                })  # fmt: skip
                print(json.dumps(rows[-1]), flush=True)
    return rows


def run_fits(names, seeds, params, origins, recent, peers=(), rules=None) -> list[dict]:
    from tsattn import Seq2SeqForecaster
    from tsattn.forecast.windows import batches

    if recent is not None:
        _set_recent(recent)
    for name, value in (rules or {}).items():
        if not hasattr(batches, name):
            raise SystemExit(f"--rules: tsattn.forecast.windows.batches has no {name}")
        setattr(batches, name, int(value))
    rows = []
    for name in names:
        task = suite.DATASETS[name]()
        folds = task.folds()
        if origins:
            folds = [folds[i] for i in origins]
        for peer in peers:
            rows.append(_run_peer(name, peer, folds, task.metric))
        for seed in seeds:
            errors, infos = [], []
            start, cpu = time.perf_counter(), time.process_time()
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
            seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
            rows.append({
                "set": name, "seed": seed, "params": params, "recent": recent, "rules": rules,
                "metric": task.metric, "error": float(np.mean(errors)),
                "errors": [float(e) for e in errors], "seconds_per_fit": seconds / len(folds),
                "cpu_per_fit": cpu / len(folds), "fits": infos,
            })  # fmt: skip
            print(json.dumps(rows[-1]), flush=True)
    return rows


def _run_peer(name: str, peer: str, folds, metric: str) -> dict:
    """One peer of ``suite.PEERS`` on the folds, timed like the forecaster."""
    fit_predict = suite.PEERS[peer][1]
    errors, start, cpu = [], time.perf_counter(), time.process_time()
    for fold in folds:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            errors.append(suite.score(fold, fit_predict(fold)))
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    row = {
        "set": name, "peer": peer, "metric": metric, "error": float(np.mean(errors)),
        "errors": [float(e) for e in errors], "seconds_per_fit": seconds / len(folds),
        "cpu_per_fit": cpu / len(folds),
    }  # fmt: skip
    print(json.dumps(row), flush=True)
    return row


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
    parser.add_argument("--kinds", nargs="+", default=["theta", "holt", "theta_holt", "auto"])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--origins", type=int, nargs="+", default=None)
    parser.add_argument("--params", type=json.loads, default={})
    parser.add_argument("--peers", nargs="+", default=[], help="suite peers on the same folds")
    parser.add_argument("--rules", type=json.loads, default=None)
    parser.add_argument("--json", default=None, help="append the rows to this file")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    if args.mode == "baselines":
        from tsattn.forecast.statistics.seasonal import RECENT_SEASONS

        rows = run_baselines(args.sets, args.recent or [RECENT_SEASONS], args.kinds)
    elif args.mode == "refresh":
        rows = run_refresh(args.seeds, [16, 30, 60, 100], args.params)
    else:
        recent = None if args.recent is None else args.recent[0]
        rows = run_fits(
            args.sets, args.seeds, args.params, args.origins, recent, args.peers, args.rules
        )
    if args.json:
        with open(args.json, "a") as handle:
            for row in rows:
                handle.write(json.dumps(row) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
