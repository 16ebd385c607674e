"""Speed benchmark: tsattn against Darts and NeuralForecast LSTMs on the same windows.

    python benchmarks/speed.py [--dataset m3 retail] [--models tsattn darts_rnn ...]
        [--steps 50] [--warmup 10] [--batch-size 256 | --batch-size default] [--threads 1]
        [--repeats 1]
    python benchmarks/speed.py --full [--darts-epochs 20] [--nf-steps 1000]
    python benchmarks/speed.py --profile | --flops | --thread-study

Modes
-----
default (throughput)
    Every model trains ``--warmup + --steps`` optimiser steps in a subprocess of its own (this
    script again, ``--worker``), on the same data, horizon 18, input size 36, hidden size 64
    and one recurrent layer, then forecasts every series once. Printed: windows per optimiser
    step, median step time, training windows per second, prediction time and series per
    second, and every peer's throughput as a ratio to tsattn's. ``--repeats R`` runs R rounds
    of all models back to back and shows each model's median run, the median of the rounds'
    ratios and their range (a shared machine's slow spells then fall on a round, not a model).
``--full``
    End to end on M3 monthly (all 1428 series, the competition's split): tsattn with its
    defaults (only horizon, input size and the season given), the peers with the training
    budget of issue 8's measurements (Darts: ``--darts-epochs`` epochs; NeuralForecast:
    ``--nf-steps`` steps, series shorter than input + horizon padded at the start); fit +
    predict seconds and sMAPE of each. Darts cannot cut a sample from a series shorter than
    its window: it trains on the others and forecasts all 1428.
``--profile``
    Where tsattn's training time goes: data, forward, backward, optimiser (from hooks on the
    real ``fit``), the torch operators that take the time (``torch.profiler``), and the
    framework overhead per decoding step.
``--flops``
    The physical yardstick: the training step's FLOP rate as a share of the rate the same
    machine reaches running the step's matrix products as plain ``torch.matmul`` calls.
``--thread-study``
    One against two threads, with OpenMP's default (spinning) and PASSIVE wait policies, with
    the other core idle and busy.

Measurement
-----------
A training step is timed between the ends of two consecutive optimiser steps, with a global
``torch.optim`` post-step hook: the interval holds the batch's data (gathering, or a
DataLoader's ``__getitem__`` and collate), forward, backward, clipping and the optimiser, and
the framework's own overhead (Lightning's for the peers), the same for every library, with no
change to any of them. The first ``--warmup`` steps are left out. Validation is switched off.

Windows per step (the counting rule): a window is one (series, forecast origin) pair with its
input and its targets.
* tsattn: ``batch_size`` windows (input 36, horizon 18).
* Darts ``BlockRNNModel``: ``batch_size`` samples, each input 36 + output 18.
* Darts ``RNNModel``: ``batch_size`` samples, each a sequence of ``training_length`` = 54 inputs
  and the 54 values one step later (teacher-forced one-step targets); counted as one window.
* NeuralForecast ``LSTM``: each step draws ``batch_size`` (32) series, cuts all their windows of
  input 36 + horizon 18, and trains on ``windows_batch_size`` of them: ``windows_batch_size``
  windows per step (``training_step`` in ``neuralforecast/common/_base_model.py``). It gets
  ``encoder_hidden_size=64, encoder_n_layers=1, decoder_hidden_size=64``; Darts
  ``hidden_dim=64, n_rnn_layers=1``.
``--batch-size N`` (default 256) sets tsattn's ``batch_size``, Darts' ``batch_size`` and
NeuralForecast's ``windows_batch_size`` to N; ``--batch-size default`` keeps each library's
own (256, 32, 128).

Data: M3 monthly's training part, keeping the 1093 series with at least 55 values (Darts'
``RNNModel`` needs input + horizon + 1 values to cut one training sample, and NeuralForecast
input + horizon), so every model trains on the same series; or ``make_retail_sales(5000, 156)``.
Threads: ``--threads`` (default 1) sets OMP/MKL/OpenBLAS thread counts and
``torch.set_num_threads`` in every worker. Run long modes under ``flock /tmp/heavy.lock`` on
shared machines.
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
from _common import future_frame, library_version

HORIZON, INPUT_SIZE, HIDDEN = 18, 36, 64

# model name -> (library that must be importable, what it is, its own default windows per step)
MODELS = {
    "tsattn": ("tsattn", "tsattn Seq2SeqForecaster, its default decoder and segments", 256),
    "tsattn_att16": ("tsattn", "tsattn defaults with attention_size=16", 256),
    "tsattn_recursive": (
        "tsattn",
        "tsattn with Bahdanau et al.'s step-by-step decoder, no segments",
        256,
    ),
    "darts_rnn": ("darts", "Darts RNNModel (LSTM)", 32),
    "darts_blockrnn": ("darts", "Darts BlockRNNModel (LSTM)", 32),
    "nf_lstm": ("neuralforecast", "NeuralForecast LSTM", 128),
}
DATASETS = ("m3", "retail")
THREAD_VARIABLES = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")


# ----------------------------------------------------------------------------------------------
# Data


def load_panel(dataset: str) -> pd.DataFrame:
    """Long frame (unique_id, ds as integer steps, y) of the series every model trains on."""
    if dataset == "m3":
        from tsattn.datasets import load_m3

        train = load_m3("monthly").train
        lengths = train.groupby("unique_id")["y"].transform("size")
        return train[lengths >= INPUT_SIZE + HORIZON + 1].reset_index(drop=True)
    from tsattn.datasets import make_retail_sales

    y, _, _ = make_retail_sales(n_series=5000, n_periods=156, seed=0)
    y = y.assign(ds=y.groupby("unique_id", sort=False).cumcount() + 1)
    return y[["unique_id", "ds", "y"]].astype({"unique_id": str, "y": "float64"})


# ----------------------------------------------------------------------------------------------
# Step timing, the same for every library


class StepTimer:
    """Timestamps at the end of every optimiser step in this process (a global torch hook)."""

    def __init__(self):
        self.times: list[float] = []
        self._handle = None

    def __enter__(self) -> StepTimer:
        from torch.optim.optimizer import register_optimizer_step_post_hook

        def hook(optimizer, args, kwargs):
            self.times.append(time.perf_counter())

        self._handle = register_optimizer_step_post_hook(hook)
        return self

    def __exit__(self, *exc) -> None:
        self._handle.remove()

    def summary(self, windows_per_step: int, warmup: int, n_steps: int) -> dict:
        # The first n_steps steps are the timed fit's; the step ending at times[i + 1].
        steps = np.diff(self.times[:n_steps])[warmup:]
        if len(steps) == 0:
            raise RuntimeError(f"only {len(self.times)} optimiser steps were seen")
        return {
            "steps_timed": int(len(steps)),
            "windows_per_step": windows_per_step,
            "step_ms": float(np.median(steps) * 1e3),
            "step_ms_mean": float(steps.mean() * 1e3),
            "windows_per_s": float(windows_per_step * len(steps) / steps.sum()),
        }


def set_threads(threads: int) -> None:
    import torch

    torch.set_num_threads(threads)


# ----------------------------------------------------------------------------------------------
# Workers: build, train a fixed number of steps (or the full budget), forecast every series


# tsattn's variants: parameters on top of the defaults.
TSATTN_VARIANTS = {
    "tsattn": {},
    "tsattn_att16": {"attention_size": 16},
    "tsattn_recursive": {"decoder": "recursive", "segment_length": 1},
}


def tsattn_model(args, batch, n_steps, device):
    from tsattn import Seq2SeqForecaster

    variant = TSATTN_VARIANTS[args.worker or "tsattn"]  # --profile runs the defaults
    if args.full:
        # The library's defaults; M3's ds are integer steps, so the season is passed.
        return Seq2SeqForecaster(
            horizon=HORIZON,
            input_size=INPUT_SIZE,
            season_length=12,
            random_state=0,
            verbose=False,
            device=device,
            **variant,
        )
    return Seq2SeqForecaster(
        horizon=HORIZON,
        input_size=INPUT_SIZE,
        hidden_size=HIDDEN,
        batch_size=batch,
        max_epochs=1,
        windows_per_epoch=n_steps * batch,
        validation_size=0.0,
        early_stopping_patience=None,
        random_state=0,
        verbose=False,
        device=device,
        **variant,
    )


def run_tsattn(args, train, batch, n_steps, device):
    from tsattn.memory import reuse_freed_memory

    model = tsattn_model(args, batch, n_steps, device)
    start = time.perf_counter()
    # tsattn's fits are timed with the allocator setting a user opts into for long fits.
    with reuse_freed_memory():
        model.fit(train)
    fit_s = time.perf_counter() - start
    start = time.perf_counter()
    forecast = model.predict()
    predict_s = time.perf_counter() - start
    extra = {}
    if args.dataset == "m3" and not args.full:
        extra["predict_all_m3_s"] = predict_all_m3(model, device)
    return fit_s, predict_s, forecast.rename(columns={"y": "yhat"}), extra


def predict_all_m3(model, device) -> float:
    """Best of 3 predict() times for all 1428 M3 monthly series, after a short fit on them."""
    from sklearn.base import clone

    from tsattn.datasets import load_m3
    from tsattn.memory import reuse_freed_memory

    train = load_m3("monthly").train
    small = clone(model).set_params(windows_per_epoch=model.batch_size, device=device)
    with reuse_freed_memory():
        small.fit(train)
    times = []
    for _ in range(3):
        start = time.perf_counter()
        small.predict()
        times.append(time.perf_counter() - start)
    return min(times)


def run_darts(args, train, batch, n_steps, device, block: bool):
    from darts import TimeSeries
    from darts.dataprocessing.transformers import Scaler
    from darts.models import BlockRNNModel, RNNModel

    groups = train.groupby("unique_id", sort=False)["y"]
    series = [TimeSeries.from_values(v.to_numpy(dtype=np.float32)) for _, v in groups]
    trainer = {
        "accelerator": "gpu" if device == "cuda" else "cpu",
        "enable_progress_bar": False,
        "enable_model_summary": False,
        "enable_checkpointing": False,
        "logger": False,
    }
    common = {
        "model": "LSTM",
        "input_chunk_length": INPUT_SIZE,
        "hidden_dim": HIDDEN,
        "n_rnn_layers": 1,
        "batch_size": batch,
        "random_state": 0,
        "pl_trainer_kwargs": trainer,
    }
    if args.full:
        common["n_epochs"] = args.darts_epochs
    else:
        common["n_epochs"] = 1
        trainer["max_steps"] = n_steps
    if block:
        model = BlockRNNModel(output_chunk_length=HORIZON, **common)
    else:
        model = RNNModel(training_length=INPUT_SIZE + HORIZON, **common)
    start = time.perf_counter()
    scaler = Scaler()  # per-series min-max scaling, as Darts' examples do
    scaled = scaler.fit_transform(series)
    # Darts cannot cut a training sample from a series shorter than its window: those are
    # forecast but not trained on (M3 --full only; the throughput data have none).
    need = INPUT_SIZE + HORIZON + (0 if block else 1)
    model.fit([s for s in scaled if len(s) >= need], verbose=False)
    fit_s = time.perf_counter() - start
    start = time.perf_counter()
    predicted = scaler.inverse_transform(model.predict(n=HORIZON, series=scaled, verbose=False))
    predict_s = time.perf_counter() - start
    out = future_frame(train, HORIZON)
    out["yhat"] = np.concatenate([p.values().ravel() for p in predicted])
    return fit_s, predict_s, out, {}


def run_nf(args, train, batch, n_steps, device):
    from neuralforecast import NeuralForecast
    from neuralforecast.models import LSTM

    model = LSTM(
        h=HORIZON,
        input_size=INPUT_SIZE,
        encoder_hidden_size=HIDDEN,
        encoder_n_layers=1,
        decoder_hidden_size=HIDDEN,
        windows_batch_size=batch,
        max_steps=args.nf_steps if args.full else n_steps,
        scaler_type="standard",
        random_seed=0,
        # Series shorter than input + horizon (M3 --full) are padded at the start.
        start_padding_enabled=args.full,
        accelerator="gpu" if device == "cuda" else "cpu",
        enable_progress_bar=False,
        enable_model_summary=False,
        enable_checkpointing=False,
        logger=False,
    )
    nf = NeuralForecast(models=[model], freq=1)
    start = time.perf_counter()
    nf.fit(df=train)
    fit_s = time.perf_counter() - start
    start = time.perf_counter()
    out = nf.predict()
    predict_s = time.perf_counter() - start
    if "unique_id" not in out.columns:
        out = out.reset_index()
    return fit_s, predict_s, out.rename(columns={"LSTM": "yhat"})[["unique_id", "ds", "yhat"]], {}


def worker(args) -> int:
    """Train and forecast one model; one JSON line of measurements on stdout."""
    report = {"model": args.worker}
    try:
        set_threads(args.threads)
        import torch

        device = "cuda" if args.device == "cuda" else "cpu"
        if args.full:
            from tsattn.datasets import load_m3

            train = load_m3("monthly").train
        else:
            train = load_panel(args.dataset)
        batch = args.batch_size or MODELS[args.worker][2]
        n_steps = args.warmup + args.steps + 1  # intervals need one step more
        run = {
            "tsattn": run_tsattn,
            "tsattn_att16": run_tsattn,
            "tsattn_recursive": run_tsattn,
            "darts_rnn": lambda *a: run_darts(*a, block=False),
            "darts_blockrnn": lambda *a: run_darts(*a, block=True),
            "nf_lstm": run_nf,
        }[args.worker]
        with StepTimer() as timer:
            fit_s, predict_s, forecast, extra = run(args, train, batch, n_steps, device)
        n_series = train["unique_id"].nunique()
        report.update(
            fit_s=fit_s,
            predict_s=predict_s,
            series_per_s=n_series / predict_s,
            n_series=n_series,
            optimizer_steps=len(timer.times),
            version=library_version(MODELS[args.worker][0]),
            torch_threads=torch.get_num_threads(),
            **extra,
        )
        if not args.full:
            report.update(timer.summary(batch, args.warmup, n_steps))
        if args.out is not None:
            forecast[["unique_id", "ds", "yhat"]].to_csv(args.out, index=False)
    except Exception as err:  # the parent prints it as a failed row
        traceback.print_exc(file=sys.stderr)
        report["error"] = f"{type(err).__name__}: {err}"
    print(json.dumps(report))
    return 0 if "error" not in report else 1


# ----------------------------------------------------------------------------------------------
# Parent: one subprocess per model


def worker_env(threads: int, extra: dict | None = None) -> dict:
    env = dict(os.environ)
    env.update({variable: str(threads) for variable in THREAD_VARIABLES})
    env.update(extra or {})
    return env


def run_worker(name: str, args, dataset: str, out: Path | None = None, env=None) -> dict:
    command = [sys.executable, str(Path(__file__).resolve()), "--worker", name]
    command += ["--dataset", dataset, "--steps", str(args.steps), "--warmup", str(args.warmup)]
    command += ["--threads", str(args.threads), "--device", args.device]
    command += ["--darts-epochs", str(args.darts_epochs), "--nf-steps", str(args.nf_steps)]
    command += ["--batch-size", "default" if args.batch_size is None else str(args.batch_size)]
    if args.full:
        command += ["--full"]
    if out is not None:
        command += ["--out", str(out)]
    with tempfile.TemporaryDirectory() as cwd:  # Lightning may write logs into the cwd
        try:
            done = subprocess.run(
                command,
                capture_output=True,
                text=True,
                env=env or worker_env(args.threads),
                timeout=args.timeout,
                cwd=cwd,
                check=False,
            )
        except subprocess.TimeoutExpired:
            return {"model": name, "error": f"ran past --timeout {args.timeout} s"}
    try:
        return json.loads(done.stdout.strip().splitlines()[-1])
    except (IndexError, json.JSONDecodeError):
        tail = done.stderr.strip().splitlines()[-1:] or ["no output"]
        return {"model": name, "error": f"exit {done.returncode}: {tail[0][:300]}"}


def throughput(args) -> int:
    rows = []
    for dataset in args.dataset:
        print(
            f"\n{dataset}: horizon {HORIZON}, input {INPUT_SIZE}, hidden {HIDDEN}, "
            f"{args.warmup} + {args.steps} steps, windows per step "
            f"{args.batch_size or 'library default'}, threads {args.threads}, "
            f"{args.repeats} round(s)",
            flush=True,
        )
        names = [name for name in args.models if _installed(name)]
        # Rounds of every model back to back: a slow spell of a shared machine then falls on
        # one round rather than on one model, and each round gives its own ratios.
        runs: dict[str, list[dict]] = {name: [] for name in names}
        for round_ in range(args.repeats):
            for name in names:
                result = run_worker(name, args, dataset)
                runs[name].append(result)
                state = result.get("error") or f"{result['windows_per_s']:.0f} windows/s"
                print(f"  round {round_ + 1}: ran {name}: {state}", flush=True)
        results = {name: _median_run(done) for name, done in runs.items()}
        for name, row in results.items():
            row["dataset"] = dataset
            ratios = _round_ratios(runs.get("tsattn", []), runs[name])
            if ratios:
                row["tsattn_speedup"] = float(np.median(ratios))
                row["tsattn_speedup_min"], row["tsattn_speedup_max"] = min(ratios), max(ratios)
            rows.append(row)
        print()
        print(format_throughput(list(results.values())))
        for name, row in results.items():
            if "predict_all_m3_s" in row:
                print(
                    f"{name} predict() of all 1428 M3 monthly series: "
                    f"{row['predict_all_m3_s']:.3f} s (best of 3)"
                )
    if args.output is not None:
        pd.DataFrame(rows).to_csv(args.output, index=False)
    return 0


def _installed(name: str) -> bool:
    library = MODELS[name][0]
    if importlib.util.find_spec(library) is None:
        print(f"  skipped {name}: {library} is not installed here", flush=True)
        return False
    return True


def _median_run(done: list[dict]) -> dict:
    """The run with the median windows/s (the first failure if every run failed)."""
    good = sorted((r for r in done if "error" not in r), key=lambda r: r["windows_per_s"])
    return dict(good[(len(good) - 1) // 2]) if good else dict(done[0])


def _round_ratios(reference: list[dict], other: list[dict]) -> list[float]:
    """tsattn's windows/s over the model's, round by round."""
    return [
        ref["windows_per_s"] / row["windows_per_s"]
        for ref, row in zip(reference, other, strict=True)
        if "error" not in ref and "error" not in row
    ]


def format_throughput(rows: list[dict]) -> str:
    """One line per model; ``tsattn x``: tsattn's windows/s over this model's (median of the
    rounds' ratios, their range after it when there were several rounds)."""
    header = (
        f"{'model':<18}{'win/step':>9}{'step ms':>9}{'windows/s':>11}{'tsattn x':>9}"
        f"{'x range':>12}{'fit s':>8}{'predict s':>10}{'series/s':>10}"
    )
    lines = [header + "  version", "-" * (len(header) + 9)]
    for row in rows:
        if "error" in row:
            lines.append(f"{row['model']:<18}  failed: {row['error'][:200]}")
            continue
        low, high = row.get("tsattn_speedup_min"), row.get("tsattn_speedup_max")
        spread = f"{low:.2f}-{high:.2f}" if low is not None and high != low else ""
        lines.append(
            f"{row['model']:<18}{row['windows_per_step']:>9}{row['step_ms']:>9.1f}"
            f"{row['windows_per_s']:>11.0f}{row.get('tsattn_speedup', math.nan):>9.2f}"
            f"{spread:>12}{row['fit_s']:>8.1f}{row['predict_s']:>10.3f}"
            f"{row['series_per_s']:>10.0f}  {row['version']}"
        )
    return "\n".join(lines)


def full(args) -> int:
    from tsattn.datasets import load_m3
    from tsattn.forecast.metrics import evaluate

    data = load_m3("monthly")
    print(
        f"M3 monthly, all 1428 series: fit + predict; tsattn defaults; Darts "
        f"{args.darts_epochs} epochs, NeuralForecast {args.nf_steps} steps; threads "
        f"{args.threads}",
        flush=True,
    )
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for name in filter(_installed, args.models):
            out = Path(tmp) / f"{name}.csv"
            row = run_worker(name, args, "m3", out=out)
            if "error" not in row:
                forecast = pd.read_csv(out, dtype={"unique_id": str})
                scores = evaluate(
                    data.test, forecast, data.train, 12, metrics=("smape",), models=["yhat"]
                )
                row["smape"] = float(scores.loc["yhat", "smape"])
            state = row.get("error") or f"{row['fit_s']:.1f} s"
            print(f"  ran {name}: {state}", flush=True)
            rows.append(row)
    print()
    print(f"{'model':<16}{'sMAPE':>8}{'fit s':>9}{'predict s':>11}{'total s':>9}  version")
    for row in rows:
        if "error" in row:
            print(f"{row['model']:<16}  failed: {row['error'][:200]}")
            continue
        total = row["fit_s"] + row["predict_s"]
        print(
            f"{row['model']:<16}{row['smape']:>8.2f}{row['fit_s']:>9.1f}{row['predict_s']:>11.3f}"
            f"{total:>9.1f}  {row['version']}"
        )
    if args.output is not None:
        pd.DataFrame(rows).to_csv(args.output, index=False)
    return 0


# ----------------------------------------------------------------------------------------------
# --profile: where tsattn's time goes


def profile(args) -> int:
    import torch
    from torch.optim.optimizer import (
        register_optimizer_step_post_hook,
        register_optimizer_step_pre_hook,
    )
    from torch.profiler import ProfilerActivity
    from torch.profiler import profile as torch_profile

    from tsattn.core.seq2seq import Seq2Seq
    from tsattn.memory import reuse_freed_memory

    set_threads(args.threads)
    train = load_panel(args.dataset[0])
    batch = args.batch_size or 256
    n_steps = args.warmup + args.steps + 1
    marks: list[tuple[str, float]] = []

    def mark(name):
        return lambda *a, **k: marks.append((name, time.perf_counter()))

    def forward_pre(module, inputs):
        if isinstance(module, Seq2Seq) and torch.is_grad_enabled():
            marks.append(("forward", time.perf_counter()))

    def forward_post(module, inputs, output):
        if isinstance(module, Seq2Seq) and torch.is_grad_enabled():
            marks.append(("after_forward", time.perf_counter()))

    hooks = [
        torch.nn.modules.module.register_module_forward_pre_hook(forward_pre),
        torch.nn.modules.module.register_module_forward_hook(forward_post),
        register_optimizer_step_pre_hook(mark("optimizer")),
        register_optimizer_step_post_hook(mark("end")),
    ]
    model = tsattn_model(args, batch, n_steps, "cpu")
    try:
        with reuse_freed_memory(), torch_profile(activities=[ProfilerActivity.CPU]) as prof:
            model.fit(train)
    finally:
        for hook in hooks:
            hook.remove()
    # Phases of each step: end of the previous step -> forward (data: gathering the batch),
    # forward -> after_forward (model), -> optimizer (loss, backward, clipping), -> end (Adam).
    phases = {"data": [], "forward": [], "loss + backward + clip": [], "optimizer": []}
    ends = [i for i, (name, _) in enumerate(marks) if name == "end"]
    for previous, current in zip(ends[args.warmup :], ends[args.warmup + 1 :], strict=False):
        times = dict(marks[previous + 1 : current + 1])
        start = marks[previous][1]
        phases["data"].append(times["forward"] - start)
        phases["forward"].append(times["after_forward"] - times["forward"])
        phases["loss + backward + clip"].append(times["optimizer"] - times["after_forward"])
        phases["optimizer"].append(times["end"] - times["optimizer"])
    total = sum(np.median(v) for v in phases.values())
    print(
        f"tsattn training step, {args.dataset[0]}, batch {batch}, threads {args.threads}: "
        f"medians over {len(phases['data'])} steps (profiler on: slower than unprofiled)"
    )
    for name, values in phases.items():
        median = float(np.median(values))
        print(f"  {name:<24}{median * 1e3:8.2f} ms  {100 * median / total:5.1f}%")
    print("\nTorch operators by own CPU time (the whole fit, setup included):")
    print(prof.key_averages().table(sort_by="self_cpu_time_total", row_limit=args.rows))
    decoding_overhead(batch)
    return 0


def decoding_overhead(batch: int) -> None:
    """Time per decoding step at batch 1 (almost all framework overhead) and at ``batch``."""
    import torch

    from tsattn.core.seq2seq import CoreConfig, Seq2Seq

    torch.manual_seed(0)
    module = Seq2Seq(CoreConfig(hidden_size=HIDDEN))
    print("\nPer decoding step (forward + backward of a 36-step encoder and 18 decoder steps):")
    for size in (1, batch):
        source = torch.randn(size, INPUT_SIZE, 1)
        target_in = torch.randn(size, HORIZON, 1)
        mask = torch.ones(size, INPUT_SIZE, dtype=torch.bool)

        def step():
            outputs, _ = module(source, target_in, mask)  # noqa: B023
            outputs.abs().mean().backward()

        def decode_only():
            with torch.no_grad():
                module(source, target_in, mask)  # noqa: B023

        for label, fn in (("train", step), ("no_grad", decode_only)):
            for _ in range(3):
                fn()
            repeats = 50 if size == 1 else 5
            start = time.perf_counter()
            for _ in range(repeats):
                fn()
            seconds = (time.perf_counter() - start) / repeats
            print(
                f"  batch {size:>4} {label:<8} {seconds * 1e3:8.2f} ms per sequence pass, "
                f"{seconds / (HORIZON + 1) * 1e6:8.0f} us per decoding step (encoder included)"
            )


# ----------------------------------------------------------------------------------------------
# --flops: the physical yardstick


def model_flops(
    batch: int, attention_size: int = HIDDEN, segment: int = 1, direct: bool = False
) -> dict[str, float]:
    """Matrix-product FLOPs (2 per multiply-add) of one training step, by part.

    Forward counts below; backward is counted as twice the forward (the gradients with
    respect to inputs and weights are one matrix product each). Elementwise work (gates,
    the attention's add and sigmoid, softmax) is not counted, as is usual for such yardsticks.
    ``segment`` steps per encoder step (and per decoder step when ``direct``); the direct
    decoder's RNN reads no context, and its head writes ``segment`` values per step.
    """
    return {name: 3 * batch * flop for name, (flop, _) in _products(segment, direct).items()}


def _products(segment: int, direct: bool, attention_size: int = HIDDEN) -> dict:
    """Per part: (forward FLOPs per window, (rows per window, inner, cols, calls per step))."""
    e, h, a, k = 1, HIDDEN, attention_size, segment
    s = -(-INPUT_SIZE // k)  # encoder steps
    t = -(-HORIZON // k) if direct else HORIZON  # decoder steps
    step_in = k * e if direct else e  # values a decoder step reads
    out = k if direct else 1  # values a decoder step writes
    cell_in = step_in + h + (0 if direct else h)  # + the context, fed in by the recursive one
    return {
        "encoder LSTM": (s * 2 * 4 * h * (k * e + h), (1, k * e + h, 4 * h, 3 * s)),
        "bridge": (2 * 2 * h * h, (1, h, h, 3 * 2)),
        "key projection": (s * 2 * h * a, (s, h, a, 3)),
        "decoder query projection": (t * 2 * h * a, (1, h, a, 3 * t)),
        "attention energies v^T s": (t * 2 * s * a, (s, a, 1, 3 * t)),
        "attention context": (t * 2 * s * h, (1, s, h, 3 * t)),
        "decoder LSTM": (t * 2 * 4 * h * cell_in, (1, cell_in, 4 * h, 3 * t)),
        "output head": (t * 2 * (h + h + step_in) * out, (1, 2 * h + step_in, out, 3 * t)),
    }


def matmul_seconds(m: int, k: int, n: int, repeats: int = 50) -> float:
    import torch

    a, b = torch.randn(m, k), torch.randn(k, n)
    for _ in range(5):
        torch.matmul(a, b)
    best = math.inf
    for _ in range(3):
        start = time.perf_counter()
        for _ in range(repeats):
            torch.matmul(a, b)
        best = min(best, (time.perf_counter() - start) / repeats)
    return best


FLOP_MODELS = {
    "default (direct decoder, segments of 3)": {"decoder": "direct", "segment_length": 3},
    "recursive decoder, no segments": {"decoder": "recursive", "segment_length": 1},
}


def flops(args) -> int:
    import torch
    from torch.utils.flop_counter import FlopCounterMode

    from tsattn.core.seq2seq import CoreConfig, Seq2Seq
    from tsattn.training import adam

    set_threads(args.threads)
    batch = args.batch_size or 256
    big = matmul_seconds(1024, 1024, 1024, repeats=5)
    for title, config in FLOP_MODELS.items():
        torch.manual_seed(0)
        module = Seq2Seq(CoreConfig(hidden_size=HIDDEN, **config))
        optimizer = adam(list(module.parameters()), 1e-3)  # what fit uses
        source = torch.randn(batch, INPUT_SIZE, 1)
        target_in = torch.randn(batch, HORIZON, 1)
        target = torch.randn(batch, HORIZON)
        mask = torch.ones(batch, INPUT_SIZE, dtype=torch.bool)

        def step():
            outputs, _ = module(source, target_in, mask)  # noqa: B023
            loss = (outputs[..., 0] - target).abs().mean()  # noqa: B023
            optimizer.zero_grad(set_to_none=True)  # noqa: B023
            loss.backward()
            torch.nn.utils.clip_grad_norm_(module.parameters(), 1.0)  # noqa: B023
            optimizer.step()  # noqa: B023
            return float(loss.detach())

        for _ in range(args.warmup):
            step()
        times = []
        for _ in range(args.steps):
            start = time.perf_counter()
            step()
            times.append(time.perf_counter() - start)
        step_s = float(np.median(times))
        direct = config["decoder"] == "direct"
        products = _products(config["segment_length"], direct)
        parts = model_flops(batch, segment=config["segment_length"], direct=direct)
        total = sum(parts.values())
        with FlopCounterMode(display=False) as counter:
            step()
        counted = counter.get_total_flops()
        print(f"\n{title}: training step, batch {batch}, threads {args.threads}: "
              f"{step_s * 1e3:.1f} ms (median)")  # fmt: skip
        print(f"{'part':<28}{'GFLOP':>8}{'matmul ms':>11}{'matmul GFLOP/s':>16}")
        plain = 0.0
        # The same products as plain matmuls, batch rows at a time, as often as a step runs them
        for name, (_, (rows, k, n, count)) in products.items():
            seconds = matmul_seconds(batch * rows, k, n) * count
            plain += seconds
            rate = parts[name] / seconds / 1e9
            print(f"{name:<28}{parts[name] / 1e9:>8.3f}{seconds * 1e3:>11.2f}{rate:>16.1f}")
        print(
            f"model FLOPs per step {total / 1e9:.3f} G (torch FlopCounterMode counts "
            f"{counted / 1e9:.3f} G: it misses fused LSTMs and matrix-vector products)"
        )
        print(f"achieved: {total / step_s / 1e9:.1f} GFLOP/s")
        print(
            f"the same products as plain matmuls: {plain * 1e3:.1f} ms, "
            f"{total / plain / 1e9:.1f} GFLOP/s -> the step reaches {100 * plain / step_s:.0f}% "
            "of it"
        )
        print(
            f"a 1024^3 matmul reaches {2 * 1024**3 / big / 1e9:.1f} GFLOP/s -> the step "
            f"reaches {100 * total / step_s / (2 * 1024**3 / big):.0f}% of that"
        )
    return 0


# ----------------------------------------------------------------------------------------------
# --thread-study


def thread_study(args) -> int:
    variants = [
        ("1 thread", 1, {}),
        ("2 threads", 2, {}),
        ("2 threads, OMP_WAIT_POLICY=PASSIVE", 2, {"OMP_WAIT_POLICY": "PASSIVE"}),
    ]
    print(
        f"tsattn training throughput, {args.dataset[0]}, batch {args.batch_size or 256}, "
        f"{args.warmup} + {args.steps} steps; 'busy' runs a CPU-bound process alongside"
    )
    print(f"{'variant':<40}{'other core':>12}{'windows/s':>11}{'step ms':>9}")
    for busy in (False, True):
        burner = None
        if busy:
            burner = subprocess.Popen([sys.executable, "-c", "while True: pass"])
        try:
            for label, threads, extra in variants:
                local = argparse.Namespace(**{**vars(args), "threads": threads})
                row = run_worker("tsattn", local, args.dataset[0], env=worker_env(threads, extra))
                state = "busy" if busy else "idle"
                if "error" in row:
                    print(f"{label:<40}{state:>12}  failed: {row['error'][:120]}")
                    continue
                print(
                    f"{label:<40}{state:>12}{row['windows_per_s']:>11.0f}{row['step_ms']:>9.1f}",
                    flush=True,
                )
        finally:
            if burner is not None:
                burner.kill()
                burner.wait()
    return 0


# ----------------------------------------------------------------------------------------------


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dataset", nargs="+", choices=DATASETS, default=["m3"])
    parser.add_argument("--models", nargs="+", choices=list(MODELS), default=list(MODELS))
    parser.add_argument("--steps", type=int, default=50, help="timed optimiser steps")
    parser.add_argument("--warmup", type=int, default=10, help="untimed first steps")
    parser.add_argument(
        "--batch-size",
        default="256",
        help="windows per step for every model, or 'default' for each library's own",
    )
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument(
        "--repeats", type=int, default=1, help="rounds of all models; the median run is shown"
    )
    parser.add_argument("--device", choices=("cpu", "cuda"), default="cpu")
    parser.add_argument("--timeout", type=float, default=3600.0, help="seconds per model")
    parser.add_argument("--output", type=Path, help="also write the rows as CSV")
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--full", action="store_true", help="fit + predict and sMAPE, M3")
    mode.add_argument("--profile", action="store_true", help="where tsattn's time goes")
    mode.add_argument("--flops", action="store_true", help="FLOP rate against plain matmuls")
    mode.add_argument("--thread-study", action="store_true", help="threads and wait policy")
    parser.add_argument("--darts-epochs", type=int, default=20, help="--full: Darts epochs")
    parser.add_argument("--nf-steps", type=int, default=1000, help="--full: NF steps")
    parser.add_argument("--rows", type=int, default=25, help="--profile: operators shown")
    parser.add_argument("--worker", choices=list(MODELS), help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.batch_size == "default":
        args.batch_size = None
    else:
        try:
            args.batch_size = int(args.batch_size)
        except ValueError:
            parser.error(f"--batch-size must be an integer or 'default', got {args.batch_size!r}")
        if args.batch_size < 1:
            parser.error("--batch-size must be positive")
    if args.steps < 1 or args.warmup < 0:
        parser.error("--steps must be >= 1 and --warmup >= 0")
    if args.worker:
        args.dataset = args.dataset[0]
        return worker(args)
    if args.full:
        return full(args)
    if args.profile:
        return profile(args)
    if args.flops:
        return flops(args)
    if args.thread_study:
        return thread_study(args)
    return throughput(args)


if __name__ == "__main__":
    sys.exit(main())
