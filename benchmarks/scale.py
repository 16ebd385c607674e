"""Scale benchmark: fit and predict on thousands of simulated product series, 1 vs 2 processes.

    python benchmarks/scale.py [--series 1000 10000 30000] [--procs 1 2] [--epochs 1]
        [--windows-per-epoch N] [--hidden-size 64] [--batch-size 256] [--output table.csv]

Data: :func:`tsattn.datasets.make_retail_sales` with ``n_series`` store-product pairs of 156
weeks (3 years) of history plus the 12 forecast weeks' known covariates (price, promotion,
holiday) and the static features (category, store, base price): ``Seq2SeqForecaster(
horizon=12)`` (input 24 weeks, LSTM 64, Bahdanau attention) is fit on the 156 weeks with X and
static, then forecasts the 12 weeks after every series.

Measurement
-----------
Every (series, processes) cell runs in fresh processes: this script again with ``--worker``,
under ``python -m torch.distributed.run --standalone --nproc_per_node=P`` for P > 1, so that
each has a clean peak memory (a process' high-water mark cannot be reset). Each worker
generates the data, records its peak, fits, predicts, and prints one JSON line.

* ``train_windows``: training windows drawn in the epoch, all ranks together (every training
  window once without ``--windows-per-epoch``); ``valid_windows``: validation windows
  evaluated (all of them, or the evenly spread subset of a capped epoch: see
  :class:`tsattn.training.TrainingConfig`).
* ``epoch_s``: seconds of the (first) epoch: ``train_s`` for the optimiser steps plus
  ``valid_s`` for the validation loss; ``us_per_window`` is ``train_s`` per training window
  (constant when time grows linearly with windows) and ``windows_per_s`` its inverse;
  ``valid_us_per_window`` the same for validation.
* ``fit_s``, ``predict_s``: wall time of ``fit`` (panel, covariates, windows, epochs,
  calibration) and of ``predict`` over all series.
* ``peak_mb``: the process' peak resident memory (VmHWM, MiB), the largest over the ranks;
  ``added_mb``: how far fit + predict raised it above the peak after generating the data.

Threads: one intra-op thread per process (``OMP_NUM_THREADS=1``) unless ``--threads`` says
otherwise, so that 2 processes use 2 cores as 1 process uses 1.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

from _common import peak_mb

HORIZON = 12
HISTORY = 156  # 3 years of weeks


def worker(args) -> int:
    """Generate, fit, predict in this process (one rank); one JSON line on stdout."""
    import numpy as np
    import torch

    from tsattn import Seq2SeqForecaster
    from tsattn.datasets import make_retail_sales
    from tsattn.distributed import current_world
    from tsattn.memory import reuse_freed_memory
    from tsattn.progress import watch_epochs

    torch.set_num_threads(args.threads)
    # The training steps and the validation of every epoch, timed apart by the loop itself.
    reports = []
    y, X, static = make_retail_sales(n_series=args.series, n_periods=HISTORY + HORIZON, seed=0)
    history = y[y["ds"] < np.sort(y["ds"].unique())[HISTORY]]
    del y
    before = peak_mb()
    model = Seq2SeqForecaster(
        horizon=HORIZON,
        hidden_size=args.hidden_size,
        max_epochs=args.epochs,
        batch_size=args.batch_size,
        windows_per_epoch=args.windows_per_epoch,
        early_stopping_patience=None,
        random_state=0,
        verbose=False,
    )
    start = time.perf_counter()
    # Fit with the allocator setting a user opts into for long fits (tsattn.memory).
    with reuse_freed_memory(), watch_epochs(reports.append):
        model.fit(history, X=X, static=static)
    fit_s = time.perf_counter() - start
    start = time.perf_counter()
    forecast = model.predict(X=X)
    predict_s = time.perf_counter() - start
    world = current_world()
    assert len(forecast) == args.series * HORIZON and np.isfinite(forecast["y"]).all()
    report = {
        "series": args.series,
        "procs": world.size,
        "rank": world.rank,
        "epochs": len(model.history_),
        "epoch_s": float(model.history_["seconds"].iloc[0]),
        "train_s": reports[0].train_seconds,
        "valid_s": reports[0].valid_seconds,
        "windows": reports[0].train_samples,  # all ranks together
        "valid_windows": reports[0].valid_samples,
        "fit_s": fit_s,
        "predict_s": predict_s,
        "data_mb": before,
        "peak_mb": peak_mb(),
    }
    print(json.dumps(report), flush=True)
    return 0


def run_cell(args, series: int, procs: int) -> dict:
    """One (series, processes) measurement in fresh processes; the ranks' reports merged."""
    script = [str(Path(__file__).resolve()), "--worker", "--series", str(series)]
    script += ["--epochs", str(args.epochs), "--hidden-size", str(args.hidden_size)]
    script += ["--batch-size", str(args.batch_size), "--threads", str(args.threads)]
    if args.windows_per_epoch is not None:
        script += ["--windows-per-epoch", str(args.windows_per_epoch)]
    if procs == 1:
        command = [sys.executable, *script]
    else:
        command = [sys.executable, "-m", "torch.distributed.run", "--standalone"]
        command += [f"--nproc_per_node={procs}", *script]
    env = {**os.environ, "OMP_NUM_THREADS": str(args.threads)}
    start = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
    wall = time.perf_counter() - start
    reports = []
    for line in done.stdout.splitlines():
        if line.startswith("{"):
            reports.append(json.loads(line))
    if done.returncode != 0 or len(reports) != procs:
        tail = done.stderr.strip().splitlines()[-3:]
        return {"series": series, "procs": procs, "note": f"failed: {' | '.join(tail)[:300]}"}
    main = next(r for r in reports if r["rank"] == 0)
    windows, valid_windows = main["windows"], main["valid_windows"]
    return {
        "series": series,
        "procs": procs,
        "train_windows": windows,
        "valid_windows": valid_windows,
        "epoch_s": main["epoch_s"],
        "train_s": main["train_s"],
        "valid_s": main["valid_s"],
        "us_per_window": 1e6 * main["train_s"] / windows,
        "windows_per_s": windows / main["train_s"],
        "valid_us_per_window": 1e6 * main["valid_s"] / valid_windows,
        "fit_s": main["fit_s"],
        "predict_s": main["predict_s"],
        "peak_mb": max(r["peak_mb"] for r in reports),
        "added_mb": max(r["peak_mb"] - r["data_mb"] for r in reports),
        "wall_s": wall,
        "note": "",
    }


COLUMNS = [
    ("series", "{:>7}"),
    ("procs", "{:>6}"),
    ("train_windows", "{:>14}"),
    ("valid_windows", "{:>14}"),
    ("epoch_s", "{:>9.1f}"),
    ("train_s", "{:>9.1f}"),
    ("valid_s", "{:>9.1f}"),
    ("us_per_window", "{:>14.1f}"),
    ("windows_per_s", "{:>14.0f}"),
    ("valid_us_per_window", "{:>20.1f}"),
    ("fit_s", "{:>8.1f}"),
    ("predict_s", "{:>10.2f}"),
    ("peak_mb", "{:>9.0f}"),
    ("added_mb", "{:>9.0f}"),
]


def format_table(rows: list[dict]) -> str:
    widths = [max(len(name), len(fmt.format(0))) + 1 for name, fmt in COLUMNS]
    header = "".join(f"{name:>{w}}" for (name, _), w in zip(COLUMNS, widths, strict=True))
    lines = [header, "-" * len(header)]
    for row in rows:
        if row.get("note"):
            lines.append(f"{row['series']:>{widths[0]}}{row['procs']:>{widths[1]}}  {row['note']}")
            continue
        cells = [
            f"{fmt.format(row[name]):>{w}}" for (name, fmt), w in zip(COLUMNS, widths, strict=True)
        ]
        lines.append("".join(cells))
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--series", type=int, nargs="+", default=[1000, 10000, 30000])
    parser.add_argument("--procs", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument(
        "--windows-per-epoch", type=int, help="cap on training windows per epoch (default: all)"
    )
    parser.add_argument("--hidden-size", type=int, default=64)
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--threads", type=int, default=1, help="intra-op threads per process")
    parser.add_argument("--output", help="also write the table as CSV")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        args.series = args.series[0]
        return worker(args)
    rows = []
    print(format_table([]), file=sys.stderr, flush=True)  # progress: a row per cell
    for series in args.series:
        for procs in args.procs:
            rows.append(run_cell(args, series, procs))
            print(format_table(rows[-1:]).splitlines()[-1], file=sys.stderr, flush=True)
    print(format_table(rows))
    if args.output:
        import pandas as pd

        pd.DataFrame(rows).to_csv(args.output, index=False)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
