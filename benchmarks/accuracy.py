"""Accuracy benchmark: tsattn against statistical and neural peers on the same split.

    python benchmarks/accuracy.py --dataset m3 --subset monthly [--limit N] [--epochs E]
        [--input-size L] [--models tsattn theta ...] [--threads T] [--output table.csv]

Every model is fitted on the competition's training part and scored on its test part with
sMAPE (0-200) and MASE (seasonal scale), by ``tsattn.forecast.metrics.evaluate``, so all
models are scored by the same code. Models whose library is not installed are skipped with a
line saying so; ``pip install tsattn[bench]`` installs the peers (in an environment of their
own: statsforecast 2.x needs pandas < 3).

Measurement
-----------
Each model runs in a subprocess of its own (this script again, with ``--worker``), which
imports only that model's library. This gives every model a clean peak memory: tracemalloc
sees only Python allocations (not torch's or numba's), and a process's high-water mark cannot
be reset, so models run one after another in one process would hide each other's peaks.
Workers read the training split from a CSV the parent writes, so a peer's process holds only
pandas and its own library (tsattn's own models import torch with tsattn: about 340 MB).

* ``seconds``: wall time of fit + predict (library import and data loading excluded).
* ``peak_mb``: the subprocess' peak resident memory (MiB), read from ``VmHWM`` in
  ``/proc/self/status``: interpreter, libraries, data and model together, what a user's
  process would need. (``getrusage().ru_maxrss`` is not used on Linux: it survives exec, so a
  worker's would start at its parent's size at the fork.)
* ``fit_mb``: how much fit + predict raised that peak above the level reached after imports
  and data loading (0 when they stayed below it).

Threads are whatever the environment sets; pass ``--threads 1`` (or set OMP_NUM_THREADS) to
compare on one core. ``--epochs`` means passes over the training windows for tsattn, over the
training series for Darts, and ``epochs * ceil(n_series / 32)`` optimiser steps (one pass over
the series in batches of 32) for NeuralForecast, whose training is counted in steps; without
it each library keeps its default (tsattn: at most 100 epochs with early stopping; NeuralForecast:
1000 steps), but Darts, whose default of 100 epochs takes about 25 minutes on M3 monthly here,
trains ``--darts-epochs`` (20).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import math
import os
import subprocess
import sys
import tempfile
import time
import traceback
from pathlib import Path

import numpy as np
import pandas as pd
from _common import future_frame, library_version, peak_mb

DATASETS = {"m3": ("yearly", "quarterly", "monthly", "other")}

# model name -> (library that must be importable, what it is)
MODELS = {
    "tsattn": ("tsattn", "Seq2SeqForecaster, defaults (direct decoder, segments, Bahdanau)"),
    "tsattn_recursive": (
        "tsattn",
        "Seq2SeqForecaster with decoder='recursive', segment_length=1 (Bahdanau et al.'s decoder)",
    ),
    "tsattn_att16": ("tsattn", "Seq2SeqForecaster with attention_size=16"),
    "tsattn_luong": ("tsattn", "Seq2SeqForecaster with attention='luong' (ablation)"),
    "tsattn_none": ("tsattn", "Seq2SeqForecaster with attention='none' (ablation)"),
    "tsattn_ensemble": ("tsattn", "Seq2SeqEnsemble: median of 5, input sizes 2h, 3h, 2h, 3h, 2h"),
    "seasonal_naive": ("tsattn", "tsattn SeasonalNaive"),
    "ets": ("statsmodels", "tsattn ETSForecaster (statsmodels ETSModel, damped trend)"),
    "theta": ("statsmodels", "tsattn ThetaForecaster (statsmodels ThetaModel)"),
    "sf_autoets": ("statsforecast", "statsforecast AutoETS"),
    "sf_theta": ("statsforecast", "statsforecast Theta"),
    "darts_rnn": ("darts", "Darts RNNModel (LSTM)"),
    "darts_blockrnn": ("darts", "Darts BlockRNNModel (LSTM)"),
    "nf_lstm": ("neuralforecast", "NeuralForecast LSTM"),
    "nf_nhits": ("neuralforecast", "NeuralForecast NHITS"),
}

THREAD_VARIABLES = (
    "OMP_NUM_THREADS",
    "MKL_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "NUMBA_NUM_THREADS",
)


# ----------------------------------------------------------------------------------------------
# Data: the same split in the parent (scoring) and in every worker (fitting)


def load_split(args) -> tuple[pd.DataFrame, pd.DataFrame, int, int]:
    """Training and test long frames, horizon and season length, limited to --limit series."""
    from tsattn.datasets import load_m3

    data = load_m3(args.subset)
    train, test = data.train, data.test
    if args.limit is not None:
        keep = pd.unique(train["unique_id"])[: args.limit]
        train = train[train["unique_id"].isin(keep)].reset_index(drop=True)
        test = test[test["unique_id"].isin(keep)].reset_index(drop=True)
    return train, test, data.horizon, data.season_length


# ----------------------------------------------------------------------------------------------
# Models: prepare(args, horizon, season, train) does the imports and returns fit_predict(train),
# which returns a long frame (unique_id, ds, yhat). Only fit_predict is timed.


def _tsattn(attention="bahdanau", ensemble=False, **variant):
    def prepare(args, horizon, season, train):
        from tsattn import Seq2SeqEnsemble, Seq2SeqForecaster

        params = {"max_epochs": args.epochs} if args.epochs is not None else {}
        params.update(variant)
        if attention != "bahdanau":
            params["attention"] = attention
        # M3's ds are integer steps, so the season cannot come from a frequency: pass the
        # data's own. Everything else is the library's default.
        model = Seq2SeqForecaster(
            horizon=horizon,
            input_size=args.input_size,
            season_length=season,
            random_state=args.seed,
            verbose=False,
            **params,
        )
        if ensemble:
            model = Seq2SeqEnsemble(model, n_models=5, input_sizes=(2 * horizon, 3 * horizon))
        return lambda df: model.fit(df).predict().rename(columns={"y": "yhat"})

    return prepare


def _local(cls_name):
    def prepare(args, horizon, season, train):
        from tsattn.forecast.statistics import forecasters as baselines

        model = getattr(baselines, cls_name)(horizon=horizon, season_length=season)
        return lambda df: model.fit(df).predict().rename(columns={"y": "yhat"})

    return prepare


def _statsforecast(model_name):
    def prepare(args, horizon, season, train):
        from statsforecast import StatsForecast
        from statsforecast import models as sf_models

        model = getattr(sf_models, model_name)(season_length=season)
        sf = StatsForecast(models=[model], freq=1, n_jobs=1)

        def fit_predict(df):
            out = sf.forecast(df=df, h=horizon)
            if "unique_id" not in out.columns:  # statsforecast < 2 keeps the ids in the index
                out = out.reset_index()
            return out.rename(columns={model_name: "yhat"})[["unique_id", "ds", "yhat"]]

        return fit_predict

    return prepare


def _darts(class_name):
    def prepare(args, horizon, season, train):
        from darts import TimeSeries
        from darts import models as darts_models
        from darts.dataprocessing.transformers import Scaler

        shortest = int(train.groupby("unique_id")["ds"].size().min())
        # Every series must hold one training sample: input + output (+ 1 for RNNModel's shift).
        length = max(1, min(args.input_size or max(2 * horizon, 8), shortest - horizon - 1))
        common = {
            "model": "LSTM",
            "input_chunk_length": length,
            "random_state": 0,
            "pl_trainer_kwargs": {"accelerator": "cpu", "enable_progress_bar": False},
        }
        # Darts' default of 100 epochs takes about 25 minutes here; 20 is what the issue measured.
        common["n_epochs"] = args.epochs if args.epochs is not None else args.darts_epochs
        if class_name == "RNNModel":
            model = darts_models.RNNModel(training_length=length + horizon, **common)
        else:
            model = darts_models.BlockRNNModel(output_chunk_length=horizon, **common)

        def fit_predict(df):
            groups = df.groupby("unique_id", sort=False)["y"]
            series = [
                TimeSeries.from_values(values.to_numpy(dtype=np.float32)) for _, values in groups
            ]
            scaler = Scaler()  # one min-max scaler per series, as Darts' examples do
            scaled = scaler.fit_transform(series)
            model.fit(scaled, verbose=False)
            predicted = scaler.inverse_transform(model.predict(n=horizon, series=scaled))
            out = future_frame(df, horizon)
            out["yhat"] = np.concatenate([p.values().ravel() for p in predicted])
            return out

        return fit_predict

    return prepare


def _neuralforecast(class_name):
    def prepare(args, horizon, season, train):
        from neuralforecast import NeuralForecast
        from neuralforecast import models as nf_models

        params = {
            "h": horizon,
            "input_size": args.input_size or max(2 * horizon, 8),
            "scaler_type": "standard",
            "random_seed": 0,
            "accelerator": "cpu",
            "enable_progress_bar": False,
            "enable_model_summary": False,
            "logger": False,
        }
        if args.epochs is not None:
            n_series = train["unique_id"].nunique()
            params["max_steps"] = args.epochs * math.ceil(n_series / 32)
        if class_name == "NHITS":
            params["start_padding_enabled"] = True  # series shorter than input_size + h
        nf = NeuralForecast(models=[getattr(nf_models, class_name)(**params)], freq=1)

        def fit_predict(df):
            nf.fit(df=df)
            out = nf.predict()
            if "unique_id" not in out.columns:
                out = out.reset_index()
            return out.rename(columns={class_name: "yhat"})[["unique_id", "ds", "yhat"]]

        return fit_predict

    return prepare


PREPARE = {
    "tsattn": _tsattn(),
    "tsattn_recursive": _tsattn(decoder="recursive", segment_length=1),
    "tsattn_att16": _tsattn(attention_size=16),
    "tsattn_luong": _tsattn("luong"),
    "tsattn_none": _tsattn("none"),
    "tsattn_ensemble": _tsattn(ensemble=True),
    "seasonal_naive": _local("SeasonalNaive"),
    "ets": _local("ETSForecaster"),
    "theta": _local("ThetaForecaster"),
    "sf_autoets": _statsforecast("AutoETS"),
    "sf_theta": _statsforecast("Theta"),
    "darts_rnn": _darts("RNNModel"),
    "darts_blockrnn": _darts("BlockRNNModel"),
    "nf_lstm": _neuralforecast("LSTM"),
    "nf_nhits": _neuralforecast("NHITS"),
}


def worker(args) -> int:
    """Fit and predict one model; forecasts to --out, one JSON line of measurements on stdout."""
    report = {"model": args.worker}
    try:
        # The parent wrote the split: reading it needs pandas only, so a peer's process does
        # not import tsattn (and torch) unless the peer itself does.
        train = pd.read_csv(args.train, dtype={"unique_id": str})
        horizon, season = args.horizon, args.season
        fit_predict = PREPARE[args.worker](args, horizon, season, train)
        before = peak_mb()
        start = time.perf_counter()
        forecast = fit_predict(train)
        report["seconds"] = time.perf_counter() - start
        report["peak_mb"] = peak_mb()
        report["fit_mb"] = report["peak_mb"] - before
        report["version"] = library_version(MODELS[args.worker][0])
        forecast[["unique_id", "ds", "yhat"]].to_csv(args.out, index=False)
    except Exception as err:  # the parent reports it as a failed row
        traceback.print_exc(file=sys.stderr)
        report["error"] = f"{type(err).__name__}: {err}"
    print(json.dumps(report))
    return 0 if "error" not in report else 1


# ----------------------------------------------------------------------------------------------
# Parent: run every model in its own process and print one table


def run_model(name: str, args, tmp: Path, train, test, horizon, season) -> dict:
    from tsattn.forecast.metrics import evaluate

    out = tmp / f"{name}.csv"
    command = [sys.executable, str(Path(__file__).resolve()), "--worker", name, "--out", str(out)]
    command += ["--train", str(tmp / "train.csv"), "--horizon", str(horizon)]
    command += ["--season", str(season), "--dataset", args.dataset, "--subset", args.subset]
    if args.epochs is not None:
        command += ["--epochs", str(args.epochs)]
    command += ["--darts-epochs", str(args.darts_epochs)]
    if args.input_size is not None:
        command += ["--input-size", str(args.input_size)]
    command += ["--seed", str(args.seed)]
    env = dict(os.environ)
    if args.threads is not None:
        env.update({variable: str(args.threads) for variable in THREAD_VARIABLES})
    try:
        done = subprocess.run(
            command, capture_output=True, text=True, env=env, timeout=args.timeout, check=False
        )
    except subprocess.TimeoutExpired:
        return {"model": name, "note": f"failed: ran past --timeout {args.timeout} s"}
    lines = done.stdout.strip().splitlines()
    try:
        report = json.loads(lines[-1])
    except (IndexError, json.JSONDecodeError):
        tail = done.stderr.strip().splitlines()[-1:] or ["no output"]
        return {"model": name, "note": f"failed (exit {done.returncode}): {tail[0][:200]}"}
    if "error" in report:
        return {"model": name, "note": f"failed: {report['error'][:200]}"}
    forecast = pd.read_csv(out, dtype={"unique_id": str})
    try:
        scores = evaluate(test, forecast, train, season, metrics=("smape", "mase"), models=["yhat"])
    except (ValueError, TypeError) as err:
        return {"model": name, "note": f"failed scoring: {err}"}
    report.update(smape=scores.loc["yhat", "smape"], mase=scores.loc["yhat", "mase"], note="")
    return report


def format_table(rows: list[dict]) -> str:
    """One line per run; models run with several seeds also get a mean +- sd line."""
    header = (
        f"{'model':<22}{'seed':>5}{'sMAPE':>8}{'MASE':>8}{'seconds':>10}{'peak_mb':>10}"
        f"{'fit_mb':>9}"
    )
    lines = [header + "  version / note", "-" * (len(header) + 16)]
    for row in rows:
        seed = row.get("seed", "")
        if row.get("note"):
            lines.append(f"{row['model']:<22}{seed:>5}{'':>45}  {row['note']}")
            continue
        lines.append(
            f"{row['model']:<22}{seed:>5}{row['smape']:>8.3f}{row['mase']:>8.3f}"
            f"{row['seconds']:>10.2f}{row['peak_mb']:>10.0f}{row['fit_mb']:>9.0f}  "
            f"{row['version']}"
        )
    runs = pd.DataFrame([row for row in rows if not row.get("note")])
    if len(runs) and runs.groupby("model").size().max() > 1:
        lines += ["", f"{'model':<22}{'seeds':>6}{'sMAPE mean':>12}{'sd':>7}{'MASE mean':>11}"]
        for model, group in runs.groupby("model", sort=False):
            if len(group) > 1:
                lines.append(
                    f"{model:<22}{len(group):>6}{group.smape.mean():>12.3f}"
                    f"{group.smape.std():>7.3f}{group.mase.mean():>11.3f}"
                )
    return "\n".join(lines)


def run_subset(args) -> list[dict]:
    """Every requested model (tsattn's with every seed) on one subset; prints its table."""
    train, test, horizon, season = load_split(args)
    n_series = train["unique_id"].nunique()
    input_size = args.input_size or max(2 * horizon, 8)
    print(
        f"{args.dataset} {args.subset}: {n_series} series, horizon {horizon}, season "
        f"{season}, input size {input_size}, epochs {args.epochs or 'library default'}, "
        f"threads {args.threads or os.environ.get('OMP_NUM_THREADS', 'default')}",
        flush=True,
    )
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        train.to_csv(Path(tmp) / "train.csv", index=False)
        for name in args.models:
            library, what = MODELS[name]
            if importlib.util.find_spec(library) is None:
                print(f"skipped {name} ({what}): {library} is not installed", flush=True)
                continue
            # Seeds vary tsattn's single models (the ablation); an ensemble already varies them.
            several = name.startswith("tsattn") and name != "tsattn_ensemble"
            for seed in args.seeds if several else args.seeds[:1]:
                args.seed = seed
                row = run_model(name, args, Path(tmp), train, test, horizon, season)
                row.update(subset=args.subset, seed=seed)
                state = row["note"] or f"{row['seconds']:.1f} s, sMAPE {row['smape']:.3f}"
                print(f"ran {name} seed {seed} ({what}): {state}", flush=True)
                rows.append(row)
    print()
    print(format_table(rows))
    print()
    return rows


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dataset", choices=list(DATASETS), default="m3")
    parser.add_argument("--subset", default="monthly", help="a subset, or 'all' of them")
    parser.add_argument("--limit", type=int, help="first N series only (a quick check)")
    parser.add_argument("--epochs", type=int, help="training length of the neural models")
    parser.add_argument(
        "--darts-epochs", type=int, default=20, help="Darts' epochs when --epochs is not given"
    )
    parser.add_argument("--input-size", type=int, help="history length; default max(2h, 8)")
    parser.add_argument("--models", nargs="+", choices=list(MODELS), default=list(MODELS))
    parser.add_argument(
        "--seeds", type=int, nargs="+", default=[0], help="random_state of tsattn's runs"
    )
    parser.add_argument("--threads", type=int, help="set OMP/MKL/... thread counts of workers")
    parser.add_argument("--timeout", type=float, help="seconds allowed per model")
    parser.add_argument("--output", type=Path, help="also write the table as CSV")
    parser.add_argument("--worker", choices=list(MODELS), help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--train", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--horizon", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--season", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--seed", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.subset not in (*DATASETS[args.dataset], "all"):
        parser.error(f"--subset must be one of {list(DATASETS[args.dataset])} for {args.dataset}")
    if args.limit is not None and args.limit < 1:
        parser.error("--limit must be a positive integer")
    if args.worker:
        return worker(args)

    subsets = DATASETS[args.dataset] if args.subset == "all" else (args.subset,)
    rows = []
    for subset in subsets:
        args.subset = subset
        rows += run_subset(args)
    if args.output is not None:
        pd.DataFrame(rows).to_csv(args.output, index=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
