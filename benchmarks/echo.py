"""The echo task of the Keras attention tutorial: with attention, without, over many seeds.

J. Brownlee, "How to Develop an Encoder-Decoder Model with Attention in Keras" (2017): sequences
of 5 integers drawn from 0..49, the target is the first 2 of them; accuracy is the share of 100
fresh sequences whose whole target is right, averaged over 10 runs. The tutorial reports 23.1%
for an encoder-decoder without attention and 95.7% with attention. The harder variant copies
all 15 integers of 15, which a fixed-size encoder state cannot carry.

Both models get the same data, size and training budget; only ``attention`` differs.

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/echo.py            # 10 and 5 seeds
    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/echo.py --seeds 2  # a quick look
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch

from tsattn import Seq2SeqTranslator
from tsattn.datasets import make_echo_task

TASKS = {  # name: (n_in, n_out, seeds); the copy task costs 3x more per run, and its gap is wide
    "tutorial: first 2 of 5": (5, 2, 10),
    "copy 15 of 15": (15, 15, 5),
}
MODELS = ("none", "bahdanau")
CARDINALITY = 50
N_TRAIN, N_TEST = 5000, 100
MODEL = dict(
    hidden_size=64,
    max_epochs=10,
    batch_size=64,
    learning_rate=3e-3,
    early_stopping_patience=3,
    validation_size=0.1,
    device="cpu",
    verbose=False,
)


def run_one(n_in: int, n_out: int, attention: str, seed: int) -> tuple[float, float, int]:
    """Exact-match accuracy on fresh sequences, training seconds and epochs of one run."""
    sources, targets = make_echo_task(N_TRAIN, n_in, n_out, CARDINALITY, seed=seed)
    test_sources, test_targets = make_echo_task(
        N_TEST, n_in, n_out, CARDINALITY, seed=10_000 + seed
    )
    model = Seq2SeqTranslator(attention=attention, random_state=seed, **MODEL)
    started = time.perf_counter()
    model.fit(sources, targets)
    seconds = time.perf_counter() - started
    predictions = model.predict(test_sources)
    accuracy = np.mean([p == t for p, t in zip(predictions, test_targets, strict=True)])
    return float(accuracy), seconds, len(model.history_)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=None, help="runs per task and model")
    args = parser.parse_args()
    torch.set_num_threads(1)

    started = time.perf_counter()
    rows = []
    for task, (n_in, n_out, seeds) in TASKS.items():
        for attention in MODELS:
            seeds = args.seeds or seeds
            runs = [run_one(n_in, n_out, attention, seed) for seed in range(seeds)]
            accuracy, seconds, epochs = (np.array(column) for column in zip(*runs, strict=True))
            rows.append((task, attention, accuracy, seconds, epochs))
            print(
                f"  {task}, attention={attention}: {np.round(accuracy * 100, 1).tolist()}",
                flush=True,
            )

    print()
    print(f"Echo task, {N_TRAIN} training pairs, {N_TEST} fresh test sequences per run")
    print(f"model: {MODEL}")
    print()
    print("| task | attention | seeds | mean acc. | min | max | mean train s | mean epochs |")
    print("|---|---|---|---|---|---|---|---|")
    for task, attention, accuracy, seconds, epochs in rows:
        print(
            f"| {task} | {attention} | {len(accuracy)} | {accuracy.mean():.1%} | {accuracy.min():.0%} | "
            f"{accuracy.max():.0%} | {seconds.mean():.1f} | {epochs.mean():.1f} |"
        )
    print()
    print(f"total wall time: {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
