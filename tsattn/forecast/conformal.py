"""Split conformal calibration of the forecaster's quantile bands.

``fit`` scores the model's quantile bands on held-out windows (:func:`calibrate`); an interval
of any coverage is then the nearest band, widened or narrowed by the one factor that makes it
cover that share of the held-out values (:func:`band`), and widened further where needed so that
intervals nest: one of higher coverage holds every interval of lower coverage
(:func:`interval`). A model trained on a count likelihood needs no calibration: its
:class:`Calibration` only names the distribution whose quantiles are its intervals.
Shapes: B batch, H horizon, Q levels.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from tsattn.forecast import rollout
from tsattn.forecast.distributions import COUNT_LOSSES
from tsattn.forecast.windows.batches import WindowBatches

# Held-out windows scored: enough for the 1001 score quantiles kept per band to be stable,
# few enough that calibrating costs less than one training epoch.
MAX_CALIBRATION_WINDOWS = 4096
SCORE_QUANTILES = 1001


@dataclass(frozen=True)
class Calibration:
    """Conformity scores of the model's quantile bands.

    Attributes
    ----------
    pairs : list of tuple of int
        (lower, upper) level positions of every band, innermost last.
    table : numpy.ndarray
        (n_bands, 1001) quantiles of each band's scores.
    count : int
        Number of held-out values scored.
    distribution : {"poisson", "negbin", "tweedie"} or None
        The count likelihood whose quantiles are the intervals (no bands then).
    """

    pairs: list
    table: np.ndarray
    count: int
    distribution: str | None = None

    def to_artifacts(self) -> tuple[dict, dict[str, torch.Tensor]]:
        """JSON-ready state and tensors for a model file."""
        state = {"pairs": [list(p) for p in self.pairs], "count": int(self.count)}
        if self.distribution is not None:
            state["distribution"] = self.distribution
        return state, {"calibration_table": torch.from_numpy(np.asarray(self.table))}

    @classmethod
    def from_artifacts(cls, state: dict, tensors: dict[str, torch.Tensor]) -> Calibration:
        """Inverse of :meth:`to_artifacts`."""
        table = tensors["calibration_table"].numpy()
        pairs = [tuple(int(i) for i in p) for p in state["pairs"]]
        if table.ndim != 2 or len(table) != len(pairs) or int(state["count"]) < 0:
            raise ValueError("the calibration table does not match its bands")
        kind = state.get("distribution")
        if kind is not None and (kind not in COUNT_LOSSES or pairs):
            raise ValueError(f"the calibration names an unknown distribution {kind!r}")
        return cls(pairs, table, int(state["count"]), kind)


def band_pairs(levels: list) -> list[tuple[int, int]]:
    """Symmetric (lower, upper) level positions around the median; else the outermost pair."""
    median = levels.index(0.5)
    top = len(levels) - 1
    pairs = [(i, top - i) for i in range(median) if top - i > median]
    return pairs or [(0, top)]


@torch.no_grad()
def calibrate(
    module,
    source: WindowBatches,
    horizon: int,
    levels: list | None,
    seed: int,
    distribution: str | None = None,
) -> Calibration | None:
    """Conformity scores of every quantile band on (up to 4096) held-out windows.

    A point's score is how far out it lies in units of the band's half-width on its side of
    the median: the band scaled by ``s`` covers it when its score is <= ``s``. None when the
    levels have no band around the median. With a count ``distribution`` nothing is scored:
    the calibration names it.
    """
    if distribution is not None:
        return Calibration([], np.zeros((0, SCORE_QUANTILES)), 0, distribution)
    if levels is None or levels[0] >= 0.5 or levels[-1] <= 0.5:
        return None
    median = levels.index(0.5)
    pairs = band_pairs(levels)
    rng = np.random.default_rng(seed)
    chosen = np.sort(rng.permutation(len(source))[:MAX_CALIBRATION_WINDOWS])
    scores: list[list[np.ndarray]] = [[] for _ in pairs]
    for begin in range(0, len(chosen), 1024):
        batch = source.batch(chosen[begin : begin + 1024])
        quantiles, _ = rollout.roll_out(module, batch, horizon, quantiles=levels)  # (B, H, Q)
        actual = rollout.unscale(batch["target"], batch)  # (B, H), NaN where missing
        centre = quantiles[..., median]
        for k, (low, high) in enumerate(pairs):
            below = (centre - quantiles[..., low]).clamp(min=1e-12)
            above = (quantiles[..., high] - centre).clamp(min=1e-12)
            score = torch.where(
                actual >= centre, (actual - centre) / above, (centre - actual) / below
            )
            scores[k].append(score[~torch.isnan(actual)].cpu().numpy())
    tables, count = [], 0
    for parts in scores:
        values = np.concatenate(parts).astype(np.float64)
        count = len(values)
        tables.append(np.quantile(values, np.linspace(0, 1, SCORE_QUANTILES)))
    return Calibration(pairs, np.array(tables), count)


def band(
    calibration: Calibration, levels: list, coverage: float, k: int | None = None
) -> tuple[tuple[int, int], float]:
    """The quantile band nearest to ``coverage`` (or band ``k``) and the factor that calibrates it."""
    if k is None:
        nominal = [levels[high] - levels[low] for low, high in calibration.pairs]
        k = int(np.argmin(np.abs(np.asarray(nominal) - coverage)))
    n = calibration.count
    # The finite-sample quantile of split conformal prediction: ceil((n + 1) c) / n.
    level = min(1.0, np.ceil((n + 1) * coverage) / n) if n else coverage
    table = calibration.table[k]
    return calibration.pairs[k], float(np.interp(level, np.linspace(0, 1, len(table)), table))


def interval(
    quantiles: np.ndarray, calibration: Calibration, levels: list, coverage: float
) -> tuple[np.ndarray, np.ndarray]:
    """Lower and upper bounds, each (n, H), from (n, H, Q) unclipped quantile forecasts.

    Each band is calibrated on its own, so the band nearest to a higher coverage may be
    narrower than the one chosen at a lower coverage. The interval at ``coverage`` is therefore
    the hull of the intervals of every coverage up to it: of each band whose turn (the
    coverages it is nearest to) begins at or below ``coverage``, calibrated at ``coverage`` or
    at the end of its turn, whichever is lower. A band's calibrated width grows with the
    coverage, so intervals nest as the coverage grows, and equal the nearest band's wherever
    the bands chosen below were narrower.
    """
    median = quantiles[..., levels.index(0.5)]  # (n, H)
    lower, upper = median.copy(), median.copy()
    for k, (start, end) in _turns(calibration, levels):
        if start > coverage:
            continue
        (low, high), factor = band(calibration, levels, min(coverage, end), k)
        lower = np.minimum(lower, median - factor * (median - quantiles[..., low]))
        upper = np.maximum(upper, median + factor * (quantiles[..., high] - median))
    return lower, upper


def _turns(calibration: Calibration, levels: list) -> list[tuple[int, tuple[float, float]]]:
    """(band, (first, last) coverage it is nearest to) of every band that is ever chosen."""
    nominal = np.asarray([levels[high] - levels[low] for low, high in calibration.pairs])
    # np.argmin takes the first of equal distances: of bands with one nominal coverage only the
    # first is chosen, and at a midpoint the band listed first (the wider one) wins.
    order = sorted(range(len(nominal)), key=lambda k: (nominal[k], k))
    chosen = [k for i, k in enumerate(order) if i == 0 or nominal[k] != nominal[order[i - 1]]]
    turns = []
    for i, k in enumerate(chosen):
        start = 0.0 if i == 0 else (nominal[chosen[i - 1]] + nominal[k]) / 2
        end = 1.0 if i == len(chosen) - 1 else (nominal[k] + nominal[chosen[i + 1]]) / 2
        turns.append((k, (float(start), float(end))))
    return turns
