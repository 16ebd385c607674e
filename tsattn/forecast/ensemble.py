"""Several forecasters fitted on the same data, their forecasts combined by the median.

The N-BEATS result on M3/M4 is an ensemble: members that differ in their seed and in their
input size make different errors, and the median of their forecasts is more accurate than a
typical member and robust to one member that trained badly.
"""

from __future__ import annotations

import numpy as np
import torch
from sklearn.base import BaseEstimator, clone
from sklearn.utils.validation import check_is_fitted

from tsattn._validation import check_int, check_option
from tsattn.forecast.forecaster import Seq2SeqForecaster
from tsattn.forecast.outputs import point_forecasts
from tsattn.io import SaveMixin, params_from_json, params_to_json, save_estimator

__all__ = ["Seq2SeqEnsemble"]

COMBINES = ("median", "mean")


class Seq2SeqEnsemble(SaveMixin, BaseEstimator):
    """An ensemble of :class:`Seq2SeqForecaster` members, combined by the median.

    Member ``i`` is a clone of ``estimator`` with ``random_state`` set to the estimator's seed
    plus ``i`` and, when ``input_sizes`` is given, ``input_size`` set to ``input_sizes[i]``
    (cycling through the list). Every member is trained on all of ``y``; the forecast is the
    median (or mean) of the members' forecasts, step by step.

    Parameters
    ----------
    estimator : Seq2SeqForecaster or None, default=None
        The member template; None means ``Seq2SeqForecaster()`` with its defaults, which needs
        ``horizon``: pass an estimator.
    n_models : int, default=5
        Number of members.
    input_sizes : sequence of int or None, default=None
        Input sizes of the members in turn (e.g. ``(2 * h, 3 * h)``); None keeps the
        estimator's.
    combine : {"median", "mean"}, default="median"
        How the members' forecasts are combined.

    Attributes
    ----------
    estimators_ : list of Seq2SeqForecaster
        The fitted members.

    Notes
    -----
    ``save`` writes every member into one file (their weights side by side, prefixed by the
    member's number); :func:`tsattn.load` gives the ensemble back.

    Examples
    --------
    >>> from tsattn import Seq2SeqEnsemble, Seq2SeqForecaster
    >>> from tsattn.datasets import load_air_passengers
    >>> y = load_air_passengers()
    >>> member = Seq2SeqForecaster(horizon=12, max_epochs=2, random_state=0, verbose=False)
    >>> Seq2SeqEnsemble(member, n_models=2).fit(y).predict().shape
    (12,)
    """

    def __init__(self, estimator=None, *, n_models=5, input_sizes=None, combine="median"):
        self.estimator = estimator
        self.n_models = n_models
        self.input_sizes = input_sizes
        self.combine = combine

    def _members(self) -> list[Seq2SeqForecaster]:
        template = Seq2SeqForecaster() if self.estimator is None else self.estimator
        if not isinstance(template, Seq2SeqForecaster):
            raise TypeError(f"estimator must be a Seq2SeqForecaster, got {type(template).__name__}")
        n_models = check_int("n_models", self.n_models)
        check_option("combine", self.combine, COMBINES)
        sizes = self.input_sizes
        if sizes is not None:
            if isinstance(sizes, str) or not hasattr(sizes, "__iter__") or not len(sizes):
                raise TypeError(
                    f"input_sizes must be a non-empty sequence of int such as (36, 54), got "
                    f"{sizes!r}"
                )
            sizes = [check_int("input_sizes", size) for size in sizes]
        seed = template.random_state
        if seed is not None and not isinstance(seed, (int, np.integer)):
            raise TypeError(
                f"the estimator's random_state must be an int or None in an ensemble (member i "
                f"gets random_state + i), got {type(seed).__name__}"
            )
        members = []
        for i in range(n_models):
            member = clone(template)
            member.set_params(random_state=None if seed is None else int(seed) + i)
            if sizes is not None:
                member.set_params(input_size=sizes[i % len(sizes)])
            members.append(member)
        return members

    def fit(self, y, X=None, static=None) -> Seq2SeqEnsemble:
        """Fit every member on ``y`` (and ``X``, ``static``), one after another.

        Parameters
        ----------
        y, X, static
            As :meth:`Seq2SeqForecaster.fit`.

        Returns
        -------
        self : Seq2SeqEnsemble
        """
        members = self._members()  # every parameter checked before any training
        self.estimators_ = [member.fit(y, X=X, static=static) for member in members]
        self.combine_ = self.combine
        return self

    def predict(self, X=None):
        """The median (or mean) of the members' forecasts, in the format ``fit`` got.

        Parameters
        ----------
        X : pandas.DataFrame, numpy.ndarray or None
            Known covariates over the horizon, as :meth:`Seq2SeqForecaster.predict`.

        Returns
        -------
        pandas.Series, pandas.DataFrame or numpy.ndarray
        """
        check_is_fitted(self, "estimators_")
        forecasts = np.stack([point_forecasts(m, X) for m in self.estimators_])  # (M, N, H)
        combined = np.median(forecasts, 0) if self.combine_ == "median" else forecasts.mean(0)
        return self.estimators_[0].context_.format(combined)

    def save(self, path) -> None:
        """Write the fitted ensemble to ``path``: one safetensors file with JSON, no pickle.

        Parameters
        ----------
        path : str or os.PathLike
            Destination file (``.tsattn`` by convention); load it with :func:`tsattn.load`.
        """
        check_is_fitted(self, "estimators_")
        save_estimator(self, path)

    def _get_artifacts(self) -> tuple[dict, dict[str, torch.Tensor]]:
        """JSON-ready state and tensors for :mod:`tsattn.io`: every member's, numbered."""
        params = params_to_json({k: v for k, v in self.get_params(deep=False).items()})
        template = params.pop("estimator")
        state = {
            "params": params,
            "estimator": None if template is None else params_to_json(template.get_params()),
            "members": [],
        }
        tensors = {}
        for i, member in enumerate(self.estimators_):
            member_state, member_tensors = member._get_artifacts()
            state["members"].append(member_state)
            tensors.update({f"member{i}.{k}": v for k, v in member_tensors.items()})
        return state, tensors

    @classmethod
    def _from_artifacts(cls, state: dict, tensors: dict[str, torch.Tensor]) -> Seq2SeqEnsemble:
        template = state["estimator"]
        est = cls(
            estimator=None if template is None else Seq2SeqForecaster(**params_from_json(template)),
            **params_from_json(state["params"]),
        )
        est.estimators_ = []
        for i, member_state in enumerate(state["members"]):
            prefix = f"member{i}."
            member_tensors = {
                k[len(prefix) :]: v for k, v in tensors.items() if k.startswith(prefix)
            }
            est.estimators_.append(Seq2SeqForecaster._from_artifacts(member_state, member_tensors))
        if not est.estimators_:
            raise ValueError("the ensemble has no members")
        est.combine_ = check_option("combine", est.combine, COMBINES)
        return est
