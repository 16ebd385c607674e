"""Seq2SeqRegressor's decoder defaults: recursive with segment_length=1 against direct with "auto".

Two small make_windows regressions, 3 seeds each, MAE on the last 12 rows (the rows before
them that share a target step are left out of training):

- sine: 400 steps of a trend, two seasons (12 and 40) and noise; input 24, horizon 6.
- air: log AirPassengers; input 24, horizon 12 (63 training rows, one batch per epoch at the
  default batch size); the MAE is in passengers (thousands), after exp.

Every other parameter is the regressor's default unless given on the command line:

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/regressor_defaults.py
    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/regressor_defaults.py --batch-size 32 \
        --learning-rate 0.01      # the README's settings
    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/regressor_defaults.py --max-epochs 200 \
        --patience 20             # longer training at the default batch size and rate
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch

from tsattn import Seq2SeqRegressor, make_windows
from tsattn.datasets import load_air_passengers

DECODERS = {
    "recursive, segment_length=1": {"decoder": "recursive", "segment_length": 1},
    'direct, segment_length="auto"': {"decoder": "direct", "segment_length": "auto"},
}
N_TEST = 12


def sine() -> tuple[np.ndarray, np.ndarray, bool]:
    """Windows of a trended, two-season noisy series; MAE in its own units."""
    t = np.arange(400)
    noise = 0.1 * np.random.default_rng(0).standard_normal(len(t))
    series = 10 + 0.01 * t + np.sin(2 * np.pi * t / 12) + 0.5 * np.sin(2 * np.pi * t / 40)
    return (*make_windows(series + noise, input_size=24, horizon=6), False)


def air() -> tuple[np.ndarray, np.ndarray, bool]:
    """Windows of log AirPassengers; MAE after exp, in passengers."""
    series = np.log(load_air_passengers().to_numpy())
    return (*make_windows(series, input_size=24, horizon=12), True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=None)
    parser.add_argument("--learning-rate", type=float, default=None)
    parser.add_argument("--max-epochs", type=int, default=None)
    parser.add_argument("--patience", type=int, default=None)
    args = parser.parse_args()
    torch.set_num_threads(1)
    overrides = {
        name: value
        for name, value in (
            ("batch_size", args.batch_size),
            ("learning_rate", args.learning_rate),
            ("max_epochs", args.max_epochs),
            ("early_stopping_patience", args.patience),
        )
        if value is not None
    }
    print(f"overrides: {overrides or 'none (defaults)'}")
    for data_name, data in (("sine", sine), ("air", air)):
        X, Y, logged = data()
        horizon = Y.shape[1]
        train = slice(0, len(X) - N_TEST - (horizon - 1))
        test = slice(len(X) - N_TEST, None)
        for decoder_name, decoder in DECODERS.items():
            maes, seconds, epochs = [], [], []
            for seed in range(args.seeds):
                start = time.perf_counter()
                model = Seq2SeqRegressor(random_state=seed, verbose=False, **decoder, **overrides)
                model.fit(X[train], Y[train])
                seconds.append(time.perf_counter() - start)
                epochs.append(len(model.history_))
                forecast, actual = model.predict(X[test]), Y[test]
                if logged:
                    forecast, actual = np.exp(forecast), np.exp(actual)
                maes.append(float(np.abs(forecast - actual).mean()))
            runs = ", ".join(f"{m:.4f}" for m in maes)
            print(
                f"{data_name:5s} {decoder_name:30s} MAE {np.mean(maes):.4f} ({runs}); "
                f"epochs {np.mean(epochs):.0f}, fit {np.mean(seconds):.1f} s"
            )


if __name__ == "__main__":
    main()
