"""Permutation importance of a fitted forecaster's covariates and static features.

A feature's importance is how much the model's own loss on the validation windows grows when
that feature's values are shuffled: a time-varying column (X or a calendar feature) across
every series and time step of the histories, a static feature across series. Shuffling keeps
the column's distribution and breaks only its link with the target, so a column the model
ignores scores about 0 and one it relies on scores high; the scores need no retraining and
read the model as it is (Breiman 2001; Fisher, Rudin and Dominici 2019). The loss is the one
the model was trained on, on scaled targets, so every series counts alike whatever its level.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import torch
from sklearn.utils import check_random_state

from tsattn._validation import check_int
from tsattn.estimator import in_chunks
from tsattn.forecast import rollout
from tsattn.forecast.covariates.spec import CovariateSpec
from tsattn.forecast.windows.batches import WindowBatches

__all__ = ["Feature", "feature_blocks", "importance_table", "permutation_importance"]

COLUMNS = ["feature", "kind", "importance", "std", "relative"]


@dataclass(frozen=True)
class Feature:
    """One feature as the model reads it: a block of input columns shuffled together."""

    name: str
    kind: str  # "known", "past", "calendar" or "static"
    columns: tuple  # positions in the covariate rows ("static": in the static matrix)


def feature_blocks(spec: CovariateSpec) -> list[Feature]:
    """Every feature of ``spec`` and the columns it fills, in the model's input order.

    Covariate rows hold the known columns, then each calendar feature's sine and cosine,
    then the past columns; the static matrix holds a numeric column as one column and a
    category as one column per level.

    Parameters
    ----------
    spec : CovariateSpec
        The fitted spec.

    Returns
    -------
    list of Feature
    """
    k, blocks = len(spec.known), []
    blocks += [Feature(str(name), "known", (j,)) for j, name in enumerate(spec.known)]
    blocks += [
        Feature(str(name), "calendar", (k + 2 * i, k + 2 * i + 1))
        for i, name in enumerate(spec.calendar)
    ]
    blocks += [Feature(str(name), "past", (spec.n_future + j,)) for j, name in enumerate(spec.past)]
    start = 0
    for item in spec.static:
        width = len(item["levels"]) if item["kind"] == "category" else 1
        blocks.append(Feature(item["name"], "static", tuple(range(start, start + width))))
        start += width
    return blocks


def permutation_importance(
    est, y: Any, X: Any = None, static: Any = None, n_repeats: int = 5, random_state=None
) -> pd.DataFrame:
    """Permutation importance of every covariate and static feature of a fitted forecaster.

    Parameters
    ----------
    est : Seq2SeqForecaster
        Fitted.
    y, X, static
        Series, covariates and static features as ``fit`` took them; the validation windows
        are cut from ``y`` as ``fit`` cut them (the last ``validation_size`` share of every
        series' windows; every window when ``validation_size=0``).
    n_repeats : int
        Shuffles per feature; the importance is their mean.
    random_state : int, numpy.random.RandomState or None
        Seeds the shuffles.

    Returns
    -------
    pandas.DataFrame
        One row per feature, most important first: ``feature``, ``kind`` ("known", "past",
        "calendar" or "static"), ``importance`` (mean increase of the loss), ``std`` (its
        standard deviation over the repeats) and ``relative`` (the increase over the loss
        with nothing shuffled, which ``attrs["loss"]`` holds).
    """
    n_repeats = check_int("n_repeats", n_repeats)
    context = est.context_
    blocks = feature_blocks(context.spec)
    if not blocks:
        if hasattr(est, "covariate_selection_"):
            raise ValueError(
                "covariate_selection dropped every covariate and static feature (none helped "
                "on the validation windows): covariate_selection_ holds their importance"
            )
        raise ValueError(
            "the model reads no covariates, calendar or static features: nothing to rank; fit "
            "it with X, static or calendar_features"
        )
    preparation = est.context_.preparation()
    data = preparation.prepare(y, X, static, training=True)
    train, valid = preparation.training_batches(data, est.validation_size, est.device_)
    batches = valid if len(valid) else train
    rng = check_random_state(random_state)
    return importance_table(est.module_, est.context_.quantiles, batches, blocks, n_repeats, rng)


def importance_table(
    module, quantiles: list | None, batches: WindowBatches, blocks: list, n_repeats: int, rng
) -> pd.DataFrame:
    """The importance table of ``blocks`` on ``batches`` (see :func:`permutation_importance`).

    Parameters
    ----------
    module : Seq2Seq
        The trained model.
    quantiles : list of float or None
        Its output levels.
    batches : WindowBatches
        The windows scored; they are left as they are (each shuffle works on a copy).
    blocks : list of Feature
        The features to shuffle, one at a time.
    n_repeats : int
        Shuffles per feature.
    rng : numpy.random.RandomState
        Draws the shuffles, feature after feature.

    Returns
    -------
    pandas.DataFrame
    """
    loss = rollout.make_loss("mae", quantiles, free_running=True)
    base = _mean_loss(module, batches, loss)
    rows = []
    for feature in blocks:
        name = "static" if feature.kind == "static" else "covariates"
        table = getattr(batches, name)
        columns = list(feature.columns)
        increases = []
        for _ in range(n_repeats):
            order = torch.as_tensor(rng.permutation(len(table)), device=table.device)
            shuffled = table.clone()
            shuffled[:, columns] = table[:, columns][order]
            # A shallow copy that reads the shuffled table; every other tensor is shared.
            variant = copy.copy(batches)
            setattr(variant, name, shuffled)
            increases.append(_mean_loss(module, variant, loss) - base)
        rows.append(
            {
                "feature": feature.name,
                "kind": feature.kind,
                "importance": float(np.mean(increases)),
                "std": float(np.std(increases)),
                "relative": float(np.mean(increases) / base) if base > 0 else np.nan,
            }
        )
    result = pd.DataFrame(rows, columns=COLUMNS)
    result = result.sort_values("importance", ascending=False, kind="stable", ignore_index=True)
    result.attrs["loss"] = base
    return result


@torch.no_grad()
def _mean_loss(module, batches: WindowBatches, loss) -> float:
    """The loss over every window of ``batches``, each observed target weighted alike."""
    module.eval()
    total, count = 0.0, 0
    for index in in_chunks(len(batches)):
        batch = batches.batch(index)
        observed = int((~torch.isnan(batch["target"])).sum())
        total += float(loss(module, batch)) * observed
        count += observed
    return total / max(count, 1)
