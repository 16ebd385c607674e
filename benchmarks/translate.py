"""English to French on 5,000 Tatoeba pairs: BLEU with and without attention, greedy and beam.

The distinct English sentences of ``datasets/tatoeba-eng-fra-5k.tsv`` are split 90/10 with a
fixed seed; a model trains on every pair of the 90%, and each held-out English sentence is
translated once and scored with corpus BLEU (sacrebleu) against all of its French
translations. Both sides are lower-cased with punctuation split off (references too).

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/translate.py
"""

from __future__ import annotations

import argparse
import logging
import re
import time
import unicodedata
from collections import defaultdict
from pathlib import Path

import numpy as np
import torch

from tsattn import Seq2SeqTranslator

DATA = Path(__file__).resolve().parent.parent / "datasets" / "tatoeba-eng-fra-5k.tsv"
MODEL = dict(
    hidden_size=256,
    bidirectional=True,
    embedding_size=128,
    max_epochs=30,
    batch_size=64,
    learning_rate=2e-3,
    early_stopping_patience=4,
    validation_size=0.1,
    device="cpu",
    random_state=0,
    verbose=False,
)
BEAM = dict(beam_size=5, length_penalty=0.6)


def normalise(text: str) -> str:
    """Lower case, one kind of space and apostrophe, punctuation as separate tokens."""
    text = unicodedata.normalize("NFC", text).lower()
    text = re.sub(r"[\u00a0\u202f]", " ", text).replace("\u2019", "'")
    text = re.sub(r"([.!?,;:«»\"()])", r" \1 ", text)
    return " ".join(text.split())


def load_pairs() -> dict[str, list[str]]:
    """Every normalised English sentence with its normalised French translations."""
    translations = defaultdict(list)
    for line in DATA.read_text(encoding="utf-8").splitlines():
        english, french, _attribution = line.split("\t")
        translations[normalise(english)].append(normalise(french))
    return dict(translations)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=0, help="seed of the 90/10 split")
    args = parser.parse_args()
    torch.set_num_threads(1)
    # The text is tokenised on purpose (normalised); sacrebleu's warning about it is noise here.
    logging.getLogger("sacrebleu").setLevel(logging.ERROR)

    translations = load_pairs()
    english = sorted(translations)
    order = np.random.default_rng(args.seed).permutation(len(english))
    n_test = round(0.1 * len(english))
    test = [english[i] for i in order[:n_test]]
    train = [english[i] for i in order[n_test:]]
    sources = [e for e in train for _ in translations[e]]
    targets = [f for e in train for f in translations[e]]
    references = [translations[e] for e in test]
    print(
        f"Tatoeba eng-fra: {len(sources)} training pairs ({len(train)} English sentences), "
        f"{len(test)} held-out English sentences with "
        f"{sum(map(len, references))} references"
    )
    print(f"model: {MODEL}; beam: {BEAM}")
    print()
    rows = []
    for attention in ("none", "bahdanau"):
        model = Seq2SeqTranslator(attention=attention, **MODEL)
        started = time.perf_counter()
        model.fit(sources, targets)
        seconds = time.perf_counter() - started
        scores = {}
        for name, search in (("greedy", dict(beam_size=1)), ("beam", BEAM)):
            model.set_params(**search)
            began = time.perf_counter()
            scores[name] = (model.score(test, references), time.perf_counter() - began)
        model.set_params(beam_size=1)
        rows.append((attention, scores, seconds, len(model.history_), model))
        print(f"  attention={attention}: {scores}", flush=True)

    print()
    print("| attention | BLEU greedy | BLEU beam 5 | train s | epochs | decode s greedy / beam |")
    print("|---|---|---|---|---|---|")
    for attention, scores, seconds, epochs, _ in rows:
        print(
            f"| {attention} | {scores['greedy'][0]:.1f} | {scores['beam'][0]:.1f} | "
            f"{seconds:.0f} | {epochs} | {scores['greedy'][1]:.1f} / {scores['beam'][1]:.1f} |"
        )
    model = rows[-1][-1]
    print()
    print("examples (attention, greedy):")
    for sentence, translation, refs in zip(
        test[:8], model.predict(test[:8]), references, strict=False
    ):
        print(f"  {sentence!r} -> {translation!r}   refs: {refs[:3]}")


if __name__ == "__main__":
    main()
