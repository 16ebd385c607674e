"""Split conformal calibration of the forecaster's quantile bands.

``fit`` scores the model's quantile bands on held-out windows (:func:`calibrate`); an interval
of any coverage is then the nearest band, widened or narrowed by the one factor that makes it
cover that share of the held-out values (:func:`band`). Shapes: B batch, H horizon, Q levels.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from tsattn.forecast import rollout
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
    """

    pairs: list
    table: np.ndarray
    count: int

    def to_artifacts(self) -> tuple[dict, dict[str, torch.Tensor]]:
        """JSON-ready state and tensors for a model file."""
        state = {"pairs": [list(p) for p in self.pairs], "count": int(self.count)}
        return state, {"calibration_table": torch.from_numpy(np.asarray(self.table))}

    @classmethod
    def from_artifacts(cls, state: dict, tensors: dict[str, torch.Tensor]) -> Calibration:
        """Inverse of :meth:`to_artifacts`."""
        table = tensors["calibration_table"].numpy()
        pairs = [tuple(int(i) for i in p) for p in state["pairs"]]
        if table.ndim != 2 or len(table) != len(pairs) or int(state["count"]) < 0:
            raise ValueError("the calibration table does not match its bands")
        return cls(pairs, table, int(state["count"]))


def band_pairs(levels: list) -> list[tuple[int, int]]:
    """Symmetric (lower, upper) level positions around the median; else the outermost pair."""
    median = levels.index(0.5)
    top = len(levels) - 1
    pairs = [(i, top - i) for i in range(median) if top - i > median]
    return pairs or [(0, top)]


@torch.no_grad()
def calibrate(
    module, source: WindowBatches, horizon: int, levels: list | None, seed: int
) -> Calibration | None:
    """Conformity scores of every quantile band on (up to 4096) held-out windows.

    A point's score is how far out it lies in units of the band's half-width on its side of
    the median: the band scaled by ``s`` covers it when its score is <= ``s``. None when the
    levels have no band around the median.
    """
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


def band(calibration: Calibration, levels: list, coverage: float) -> tuple[tuple[int, int], float]:
    """The quantile band nearest to ``coverage`` and the factor that calibrates it."""
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
    """Lower and upper bounds, each (n, H), from (n, H, Q) unclipped quantile forecasts."""
    (low, high), factor = band(calibration, levels, coverage)
    median = quantiles[..., levels.index(0.5)]  # (n, H)
    lower = median - factor * (median - quantiles[..., low])
    upper = median + factor * (quantiles[..., high] - median)
    return lower, upper
