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
from tsattn.forecast.panel.timegrid import make_grid
from tsattn.forecast.windows.batches import WindowBatches

__all__ = [
    "Feature",
    "feature_blocks",
    "importance_table",
    "partial_dependence",
    "permutation_importance",
]

COLUMNS = ["feature", "kind", "importance", "std", "relative"]


@dataclass(frozen=True)
class Feature:
    """One feature as the model reads it: a block of input columns shuffled together."""

    name: str
    kind: str  # "known", "past", "calendar", "holiday" or "static"
    columns: tuple  # positions in the covariate rows ("static": in the static matrix)


def feature_blocks(spec: CovariateSpec) -> list[Feature]:
    """Every feature of ``spec`` and the columns it fills, in the model's input order.

    Covariate rows hold the known columns, then the changes of those read as their change
    too (shuffled with the column's level: one feature), then each calendar feature's sine
    and cosine, then one flag per holiday calendar, then the past columns; the static matrix
    holds a numeric column as one column and a category as one column per level.

    Parameters
    ----------
    spec : CovariateSpec
        The fitted spec.

    Returns
    -------
    list of Feature
    """
    k, blocks = len(spec.known), []
    change_of = {j: k + i for i, j in enumerate(spec.change_columns)}
    blocks += [
        Feature(str(name), "known", (j,) + ((change_of[j],) if j in change_of else ()))
        for j, name in enumerate(spec.known)
    ]
    k += spec.n_changes
    blocks += [
        Feature(str(name), "calendar", (k + 2 * i, k + 2 * i + 1))
        for i, name in enumerate(spec.calendar)
    ]
    k += 2 * len(spec.calendar)
    blocks += [Feature(str(code), "holiday", (k + i,)) for i, code in enumerate(spec.holidays)]
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
        "calendar", "holiday" or "static"), ``importance`` (mean increase of the loss), ``std`` (its
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


def partial_dependence(est, feature: str, values, X: Any = None, steps=None) -> pd.DataFrame:
    """The forecast with one feature set to each of a few values over the horizon.

    What a known column of X or a holiday calendar does to the forecast: ``predict`` from
    the fitted histories, with the feature's horizon rows replaced by each value in turn (its
    history, and every other feature, as given). Draw it with
    :func:`tsattn.plotting.plot_partial_dependence`.

    Parameters
    ----------
    est : Seq2SeqForecaster
        Fitted.
    feature : str
        A column of X known in advance (``kind="known"`` in :meth:`covariate_importance`) or
        a holiday calendar (``"AU"``).
    values : sequence of float
        Values to set, in the column's own units (0 and 1 for a flag).
    X : pandas.DataFrame, numpy.ndarray or None
        As for ``predict``.
    steps : sequence of int or None
        Horizon steps (1 = the first) to set; None: all of them.

    Returns
    -------
    pandas.DataFrame
        Long: ``value``, ``unique_id``, ``ds``, ``forecast``, one row per value, series and
        step.

    Raises
    ------
    ValueError
        When ``feature`` is no known column or holiday calendar of the model, or a step is
        outside the horizon.
    """
    from tsattn.forecast.outputs import point_forecasts

    context = est.context_
    spec, horizon = context.spec, context.horizon
    blocks = {b.name: b for b in feature_blocks(spec) if b.kind in ("known", "holiday")}
    if str(feature) not in blocks:
        raise ValueError(
            f"partial_dependence takes a column of X known in advance or a holiday calendar; "
            f"{feature!r} is none of the model's ({sorted(blocks)})"
        )
    block = blocks[str(feature)]
    chosen = np.arange(horizon) if steps is None else np.asarray(list(steps), dtype=int) - 1
    if chosen.size == 0 or chosen.min() < 0 or chosen.max() >= horizon:
        raise ValueError(f"steps must lie in 1..{horizon} (the horizon), got {steps!r}")
    batches = context.window_batches(X, est.device_)
    ends = batches.cov_ends.cpu().numpy()  # every series' block ends with its horizon rows
    rows = torch.as_tensor((ends[:, None] - horizon + chosen).reshape(-1), device=batches.device)
    if block.kind == "known":
        j = list(spec.known).index(feature)
        scale = lambda v: (float(v) - spec.loc[j]) / spec.scale[j]  # noqa: E731
    else:
        scale = float
    grid = make_grid(context.axis, context.last, np.ones(context.n_series), horizon)
    stamps = grid.stamps[grid.future(horizon).reshape(-1)]
    frames = []
    for value in values:
        variant = copy.copy(batches)
        variant.covariates = batches.covariates.clone()
        for column in block.columns:
            variant.covariates[rows, column] = scale(value)
        forecasts = point_forecasts(est, context=_WithBatches(context, variant))
        frames.append(
            pd.DataFrame(
                {
                    "value": value,
                    "unique_id": np.repeat(np.asarray(context.ids, dtype=object), horizon),
                    "ds": stamps,
                    "forecast": forecasts.reshape(-1),
                }
            )
        )
    return pd.concat(frames, ignore_index=True)


class _WithBatches:
    """A fitted context whose forecast window is the given batches (everything else its own)."""

    def __init__(self, context, batches: WindowBatches):
        self._context, self._batches = context, batches

    def window_batches(self, X: Any, device) -> WindowBatches:
        return self._batches

    def __getattr__(self, name: str) -> Any:
        return getattr(self._context, name)
