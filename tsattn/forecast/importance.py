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

from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pandas as pd
import torch
from sklearn.utils import check_random_state

from tsattn._validation import check_int
from tsattn.estimator import in_chunks
from tsattn.forecast import network
from tsattn.forecast.combination import baseline_kind, baseline_states
from tsattn.forecast.covariates import CovariateSpec, apply_design
from tsattn.forecast.panel import to_panel
from tsattn.forecast.params import check_lengths
from tsattn.forecast.seasonal import deseasonalize
from tsattn.forecast.windows import WindowBatches, training_windows

__all__ = ["Feature", "feature_blocks", "permutation_importance", "select_covariates"]

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
    batches = _validation_batches(est, y, X, static)
    return _importance(est, batches, blocks, n_repeats, check_random_state(random_state))


def _importance(est, batches: WindowBatches, blocks: list, n_repeats: int, rng) -> pd.DataFrame:
    """The importance table of ``blocks`` on ``batches`` (see :func:`permutation_importance`)."""
    loss = network.make_loss("mae", est.context_.quantiles, free_running=True)
    base = _mean_loss(est.module_, batches, loss)
    rows = []
    for feature in blocks:
        table = batches.static if feature.kind == "static" else batches.covariates
        columns = list(feature.columns)
        original = table[:, columns].clone()
        increases = []
        for _ in range(n_repeats):
            order = torch.as_tensor(rng.permutation(len(table)), device=table.device)
            table[:, columns] = original[order]
            increases.append(_mean_loss(est.module_, batches, loss) - base)
        table[:, columns] = original
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


def _validation_batches(est, y: Any, X: Any, static: Any) -> WindowBatches:
    """The validation windows of ``y`` built as ``fit`` built them, with fit's covariate spec."""
    context = est.context_
    panel = to_panel(y, allow_nan=context.observed_feature)
    check_lengths(panel, context.horizon)
    design = apply_design(context.spec, panel, X, static)
    values, _ = deseasonalize(panel.values, panel.offsets, context.season_length)
    train, valid = training_windows(
        panel.lengths, context.input_size, context.horizon, est.validation_size
    )
    windows = valid if len(valid) else train
    baseline = None
    if context.baseline_end is not None:
        kind = baseline_kind(context.baseline_end)
        baseline = baseline_states(values, panel.offsets, kind)
    return WindowBatches(
        values,
        panel.offsets,
        windows,
        context.input_size,
        context.horizon,
        context.scaler,
        est.device_,
        covariates=design.history,
        n_future=context.spec.n_future,
        static=design.static,
        observed_feature=context.observed_feature,
        baseline=baseline,
        centred=context.spec.centred_columns,
    )


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


# covariate_selection="validation" keeps a feature when shuffling it raises the validation loss
# by at least this share: a column must carry 1% of the loss to be worth the noise it brings.
SELECTION_MIN = 0.01
SELECTION_REPEATS = 3


def select_covariates(est, y: Any, X: Any, static: Any, valid: WindowBatches) -> None:
    """Fit ``est`` again without the features that do not help on its validation windows.

    The permutation importance of every feature of the fitted ``est`` is measured on ``valid``;
    a feature whose relative importance is below :data:`SELECTION_MIN` is dropped, and when
    any is, a clone with the same parameters (and seed) is fit on the rest and its fitted
    state replaces ``est``'s. With every feature dropped the result is exactly the model
    without covariates. ``est.covariate_selection_`` keeps the table, with a ``kept`` column;
    the context's spec names the dropped X columns, which ``predict`` then ignores in X.

    Parameters
    ----------
    est : Seq2SeqForecaster
        Just fitted on ``y``, ``X``, ``static``.
    y, X, static
        What it was fit on.
    valid : WindowBatches
        Its validation windows.
    """
    from sklearn.base import clone

    blocks = feature_blocks(est.context_.spec)
    table = _importance(est, valid, blocks, SELECTION_REPEATS, check_random_state(est._seed()))
    table["kept"] = table["relative"] >= SELECTION_MIN
    dropped = table.loc[~table["kept"], ["feature", "kind"]]
    if len(dropped):
        names = {kind: set(part["feature"]) for kind, part in dropped.groupby("kind")}
        spec = est.context_.spec
        x_drop = names.get("known", set()) | names.get("past", set())
        calendar = [c for c in spec.calendar if c not in names.get("calendar", set())]
        refit = clone(est).set_params(
            covariate_selection=None,
            past_covariates=[c for c in spec.past if c not in x_drop],
            calendar_features=calendar or False,
        )
        kept_static = [i["name"] for i in spec.static if i["name"] not in names.get("static", ())]
        refit.fit(
            y,
            X=_without_columns(X, x_drop, spec.x_names),
            static=None
            if not kept_static
            else static[[c for c in static.columns if str(c) in kept_static]],
        )
        for name, value in vars(refit).items():
            if name.endswith("_") and not name.startswith("_"):
                setattr(est, name, value)
        context = est.context_
        est.context_ = replace(context, spec=replace(context.spec, dropped=tuple(sorted(x_drop))))
    est.covariate_selection_ = table


def _without_columns(X: Any, drop: set, names: list) -> Any:
    """X without the covariate columns ``drop`` (in X's own format); None when none is left."""
    if X is None or not drop:
        return X
    if len(set(names) - drop) == 0:
        return None
    if isinstance(X, np.ndarray):  # columns named x0, x1, ... by position
        return X[..., [j for j in range(X.shape[-1]) if f"x{j}" not in drop]]
    if isinstance(X.columns, pd.MultiIndex):
        return X.loc[:, ~X.columns.get_level_values(-1).isin(list(drop))]
    return X[[c for c in X.columns if c not in drop]]
