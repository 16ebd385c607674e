"""Human-written dates to ISO dates, character by character, with Bahdanau attention.

Trains a :class:`tsattn.Seq2SeqTranslator` with ``tokenizer="char"`` on pairs from
:func:`tsattn.datasets.make_date_pairs` ("the 3rd of may 1979" -> "1979-05-03"), reports the
exact-match accuracy on held-out pairs (none of whose sources occur in training), per format
too, and saves the attention alignment of one example as a PNG.

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/dates.py
    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/dates.py --plot /tmp/dates_attention.png
"""

from __future__ import annotations

import argparse
import re
import time

import numpy as np
import torch

from tsattn import Seq2SeqTranslator
from tsattn.datasets import make_date_pairs
from tsattn.plotting import plot_attention

N_TRAIN, N_TEST = 10_000, 1_000
MODEL = dict(
    tokenizer="char",
    hidden_size=64,
    attention="bahdanau",
    max_epochs=20,
    batch_size=64,
    learning_rate=3e-3,
    early_stopping_patience=3,
    device="cpu",
    random_state=0,
    verbose=False,
)
EXAMPLE = "saturday, june 3, 2023"


def shape_of(source: str) -> str:
    """The format a date was written in: numbers become 9, day and month names their kind."""
    shape = re.sub(r"\b(mon|tue|wed|thu|fri|sat|sun)[a-z]*\b", "weekday", source)
    months = "jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec"
    shape = re.sub(rf"\b({months})[a-z]*\b", "month", shape)
    return re.sub(r"\d+(st|nd|rd|th)", "9th", re.sub(r"\d+", "9", shape))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--plot", default="benchmarks/dates_attention.png", help="PNG to write")
    args = parser.parse_args()
    torch.set_num_threads(1)

    sources, targets = make_date_pairs(N_TRAIN, seed=0)
    seen = set(sources)
    test = [
        (s, t) for s, t in zip(*make_date_pairs(2 * N_TEST, seed=1), strict=True) if s not in seen
    ]
    test_sources, test_targets = (list(column) for column in zip(*test[:N_TEST], strict=True))

    model = Seq2SeqTranslator(**MODEL)
    started = time.perf_counter()
    model.fit(sources, targets)
    seconds = time.perf_counter() - started
    predictions = model.predict(test_sources)
    right = np.array([p == t for p, t in zip(predictions, test_targets, strict=True)])

    print(f"Dates: {N_TRAIN} training pairs, {len(test_sources)} held-out pairs")
    print(f"model: {MODEL}")
    print(
        f"exact match: {right.mean():.1%}   training: {seconds:.0f} s, {len(model.history_)} epochs"
    )
    print()
    print("| format | held-out pairs | exact match |")
    print("|---|---|---|")
    shapes = np.array([shape_of(s) for s in test_sources])
    for shape in sorted(set(shapes)):
        chosen = shapes == shape
        print(f"| `{shape}` | {chosen.sum()} | {right[chosen].mean():.1%} |")
    wrong = [
        (s, p, t)
        for s, p, t, ok in zip(test_sources, predictions, test_targets, right, strict=True)
        if not ok
    ]
    if wrong:
        print()
        print("mistakes (source -> prediction, truth):")
        for s, p, t in wrong[:10]:
            print(f"  {s!r} -> {p!r}, {t!r}")

    weights = model.attention_weights(EXAMPLE)
    ax = plot_attention(weights)
    ax.set_title(f"{EXAMPLE!r} -> {''.join(weights.index[:-1])!r}")
    ax.figure.tight_layout()
    ax.figure.savefig(args.plot, dpi=120)
    print()
    print(f"alignment of {EXAMPLE!r} saved to {args.plot}")


if __name__ == "__main__":
    main()
