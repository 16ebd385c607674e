"""Covariate selection (``covariate_selection="validation"``): keep the features that help.

:class:`CovariateSelectionMixin` gives :class:`~tsattn.Seq2SeqForecaster` the last step of its
``fit``: the permutation importance of every covariate, calendar and static feature on the
validation windows, and, when a feature does not help, the preparation, training and
calibration run again without it. No feature is dropped silently: each one raises a warning
naming it and its measured effect, and ``covariate_selection_`` says why it went; a feature
named in ``keep_covariates`` is never dropped.
"""

from __future__ import annotations

import copy
import dataclasses
import warnings
from typing import Any

import numpy as np
import pandas as pd
from sklearn.utils import check_random_state as sklearn_random_state

from tsattn._validation import check_random_state
from tsattn.forecast.covariates.calendar import check_calendar, check_holidays
from tsattn.forecast.covariates.rows import NamedColumns, array_column_names
from tsattn.forecast.covariates.spec import check_past_covariates
from tsattn.forecast.importance import feature_blocks, importance_table
from tsattn.forecast.windows.batches import WindowBatches

# covariate_selection="validation" keeps a feature when shuffling it raises the validation loss
# by at least this share: a column must carry 1% of the loss to be worth the noise it brings.
SELECTION_MIN = 0.01
SELECTION_REPEATS = 3


class CovariateSelectionMixin:
    """The covariate selection step of :class:`~tsattn.Seq2SeqForecaster`'s ``fit``."""

    def _select_covariates(
        self, options, device, y: Any, X: Any, static: Any, valid: WindowBatches
    ):
        """Fit again without the features that do not help on the validation windows ``valid``.

        A feature whose relative permutation importance is below :data:`SELECTION_MIN` is
        dropped, unless ``keep_covariates`` names it or it is a 0/1 flag known in advance (a
        holiday, a promotion: see :func:`_known_flags`); each dropped feature raises a
        ``UserWarning`` naming it and its measured effect. When any is dropped, the model is
        prepared, trained and calibrated again (same parameters and seed) on the rest. With
        every feature dropped the result is exactly the model without covariates.
        ``covariate_selection_`` keeps the table, with ``kept`` and ``why`` columns; the
        context's spec names the dropped X columns, which ``predict`` then ignores.
        """
        spec = self.context_.spec
        rng = sklearn_random_state(self._seed())
        table = importance_table(
            self.module_,
            self.context_.quantiles,
            valid,
            feature_blocks(spec),
            SELECTION_REPEATS,
            rng,
        )
        must = {str(name) for name in _names(self.keep_covariates)}
        helps = table["relative"] >= SELECTION_MIN
        marked = table["feature"].astype(str).isin(must)
        flags = table["feature"].astype(str).isin(_known_flags(spec))
        table["kept"] = helps | marked | flags
        table["why"] = np.select(
            [helps, marked, flags],
            [
                f"kept: raises the validation loss by >= {SELECTION_MIN:.0%} when shuffled",
                "kept: named in keep_covariates",
                "kept: a 0/1 flag known in advance (an event's effect is not a share of all "
                "windows' loss)",
            ],
            f"dropped: raises the validation loss by < {SELECTION_MIN:.0%} when shuffled",
        )
        dropped = table.loc[~table["kept"], ["feature", "kind"]]
        for row in table.loc[~table["kept"]].itertuples():
            warnings.warn(
                f"covariate_selection dropped the {row.kind} feature {row.feature!r}: shuffling "
                f"it on the validation windows changed their loss by {row.relative:+.2%} (below "
                f"{SELECTION_MIN:.0%}); the model was fit again without it. Name it in "
                f"keep_covariates to keep it, or set covariate_selection=None",
                UserWarning,
                stacklevel=4,
            )
        if len(dropped):
            names = {kind: set(part["feature"]) for kind, part in dropped.groupby("kind")}
            x_drop = names.get("known", set()) | names.get("past", set())
            calendar = [c for c in spec.calendar if c not in names.get("calendar", set())]
            options = dataclasses.replace(
                options,
                past=check_past_covariates([c for c in spec.past if c not in x_drop]),
                calendar=check_calendar(calendar or False),
                holidays=check_holidays(
                    [c for c in spec.holidays if c not in names.get("holiday", set())] or None
                ),
            )
            kept = [i["name"] for i in spec.static if i["name"] not in names.get("static", ())]
            self._fit_steps(
                options,
                device,
                None,
                y,
                _without_columns(X, x_drop, spec.x_names),
                None if not kept else static[[c for c in static.columns if str(c) in kept]],
                self._seed_of_a_copy,
            )
            refit = self.context_
            self.context_ = refit.replace(
                spec=dataclasses.replace(refit.spec, dropped=tuple(sorted(x_drop)))
            )
        self.covariate_selection_ = table

    def _seed_of_a_copy(self) -> int:
        """The seed a copy of ``random_state`` gives, which leaves ``random_state`` as it is.

        What a fresh estimator with these parameters (scikit-learn's ``clone``, which copies a
        RandomState) draws: the refit starts from the same seed as a new fit would.
        """
        state = check_random_state(copy.deepcopy(self.random_state))
        return int(state.randint(np.iinfo(np.int32).max))


def _known_flags(spec) -> set:
    """Names of the 0/1 flags known in advance: X's flag columns and the holiday calendars.

    A holiday or a promotion moves the few windows whose horizon holds it; its share of the
    loss over every validation window is small however large that effect, so the 1% bar would
    drop every such flag (Walmart's holiday flag, 7% of its weeks, measured at 0.4%).
    """
    k = len(spec.known)
    loc, scale = np.asarray(spec.loc[:k]), np.asarray(spec.scale[:k])
    low, high = np.asarray(spec.low[:k] or [np.nan] * k), np.asarray(spec.high[:k] or [np.nan] * k)
    flags = (loc == 0) & (scale == 1) & (low >= 0) & (high <= 1)
    return {str(name) for name, flag in zip(spec.known, flags, strict=True) if flag} | {
        str(code) for code in spec.holidays
    }


def _names(value: Any) -> list:
    """The names of ``keep_covariates``: one string or a sequence of them."""
    return [value] if isinstance(value, str) else list(value or ())


def _without_columns(X: Any, drop: set, names: list) -> Any:
    """X without the covariate columns ``drop`` (in X's own format); None when none is left."""
    if X is None or not drop:
        return X
    if len(set(names) - drop) == 0:
        return None
    if isinstance(X, np.ndarray) and X.ndim > 1:
        # The kept columns keep their names (x1 stays x1, not x0): predict reads them by name
        # from the whole X it is given, so a renumbered column would be another column there.
        every = array_column_names(X, X.shape[-1])
        keep = [j for j, name in enumerate(every) if name not in drop]
        return NamedColumns.of(np.asarray(X)[..., keep], [every[j] for j in keep])
    if isinstance(X.columns, pd.MultiIndex):
        return X.loc[:, ~X.columns.get_level_values(-1).isin(list(drop))]
    return X[[c for c in X.columns if c not in drop]]
