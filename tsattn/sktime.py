"""Seq2SeqForecaster under sktime's forecasting interface (the optional ``sktime`` extra).

Install with ``pip install "tsattn[sktime]"``. sktime hands the adapter a Series, a wide frame or
a panel with a (instance, time) MultiIndex; every series of it (each column of each instance)
becomes one series of a single global :class:`tsattn.Seq2SeqForecaster`, fitted with
``horizon`` set to the furthest step of sktime's forecasting horizon ``fh``.
"""

from __future__ import annotations

import inspect
from functools import partial

import numpy as np
import pandas as pd

try:
    from sktime.forecasting.base import BaseForecaster
except ImportError as error:  # pragma: no cover - only without the extra
    raise ImportError(
        'tsattn.sktime needs sktime; install it with pip install "tsattn[sktime]"'
    ) from error

from tsattn.forecast.forecaster import Seq2SeqForecaster
from tsattn.forecast.panel.axis import infer_freq

__all__ = ["Seq2SeqSktimeForecaster"]

# fit takes the horizon from fh, and sktime's fit starts anew (no fitted model to continue).
_NOT_PARAMETERS = ("horizon", "warm_start")
# Intervals and quantiles are part of sktime's interface, so the adapter asks for them.
_OWN_DEFAULTS = {"quantiles": (0.1, 0.5, 0.9)}


def _adapter_signature() -> inspect.Signature:
    """``__init__(self, *, ...)``: every forecaster parameter but horizon and warm_start."""
    forecaster = inspect.signature(Seq2SeqForecaster.__init__)
    params = [
        p
        if name == "self"
        else p.replace(kind=p.KEYWORD_ONLY, default=_OWN_DEFAULTS.get(name, p.default))
        for name, p in forecaster.parameters.items()
        if name not in _NOT_PARAMETERS
    ]
    return forecaster.replace(parameters=params)


class Seq2SeqSktimeForecaster(BaseForecaster):
    """sktime forecaster around :class:`tsattn.Seq2SeqForecaster`.

    ``fit(y, X, fh)``, ``predict(fh, X)``, ``predict_quantiles(fh, X, alpha)`` and
    ``predict_interval(fh, X, coverage)`` follow sktime's conventions; the parameters are
    :class:`tsattn.Seq2SeqForecaster`'s, stored as given and passed on unchanged, except
    ``horizon``, which ``fit`` takes from ``fh`` (its furthest step), and ``warm_start``:
    sktime's ``fit`` resets the estimator, so there is no fitted model to continue. ``fh`` must lie after the
    end of ``y`` (no in-sample forecasts). A panel's instances may start and end at different
    times: each is forecast from its own end, as far as the panel's cutoff plus ``fh``. The
    columns of ``X`` are covariates known in advance unless
    named in ``past_covariates``: ``predict`` then needs ``X`` over every step up to the
    furthest one of ``fh``.

    Time indexes may be periods, integers or timestamps (a ``DatetimeIndex``, with or without
    ``freq``: the frequency is inferred from the time points where sktime's cutoff has none).
    ``update(y, X, update_params=True)`` refits on everything seen so far;
    ``update_params=False`` (as in ``update_predict`` and ``evaluate`` without refits) keeps
    the fitted network and forecasts from the new end of every series
    (:meth:`tsattn.Seq2SeqForecaster.predict` with the updated histories as ``y``). The adapter
    keeps the histories itself, whatever sktime's ``remember_data`` says.

    Quantiles and intervals come from the wrapped forecaster's calibrated
    :meth:`~tsattn.Seq2SeqForecaster.predict_interval`: the quantile at level ``a`` is the
    lower (``a < 0.5``) or upper (``a > 0.5``) bound of the band of coverage ``|1 - 2a|``, the
    median at 0.5. They need ``quantiles``, which therefore defaults to ``(0.1, 0.5, 0.9)``
    here (None in :class:`tsattn.Seq2SeqForecaster`); ``quantiles=None`` forecasts points only.

    Parameters
    ----------
    **params
        Every parameter of :class:`tsattn.Seq2SeqForecaster` but ``horizon`` and
        ``warm_start``, keyword-only, with the forecaster's defaults (the signature is built
        from the forecaster's, so the two never differ), except:
    quantiles : sequence of float or None, default=(0.1, 0.5, 0.9)
        As in :class:`tsattn.Seq2SeqForecaster`; None switches off quantiles and intervals.

    Attributes
    ----------
    forecaster_ : tsattn.Seq2SeqForecaster
        The fitted forecaster.

    Examples
    --------
    >>> from sktime.datasets import load_airline
    >>> from tsattn.sktime import Seq2SeqSktimeForecaster
    >>> y = load_airline()
    >>> f = Seq2SeqSktimeForecaster(hidden_size=4, max_epochs=2, verbose=False, random_state=0)
    >>> f = f.fit(y, fh=[1, 2, 3])
    >>> f.predict().shape
    (3,)
    >>> f.predict_interval(coverage=0.8).shape
    (3, 2)
    """

    _tags = {
        "authors": ["tsattn developers"],
        "maintainers": ["tsattn developers"],
        "python_dependencies": ["torch"],
        "y_inner_mtype": ["pd.Series", "pd.DataFrame", "pd-multiindex"],
        "X_inner_mtype": ["pd.DataFrame", "pd-multiindex"],
        "capability:multivariate": True,
        "capability:exogenous": True,
        "capability:insample": False,
        "capability:pred_int": True,
        "capability:pred_int:insample": False,
        "capability:missing_values": False,
        "capability:categorical_in_X": False,
        "capability:unequal_length": True,
        # X must cover every step up to the furthest of fh: the decoder reads them all.
        "capability:non_contiguous_X": False,
        "capability:random_state": True,
        "property:randomness": "derandomized",
        "requires-fh-in-fit": True,
        "X-y-must-have-same-index": True,
        "fit_is_empty": False,
    }

    def __init__(self, **params):
        # The parameters are Seq2SeqForecaster's (see __signature__ below): one declaration,
        # so a parameter added to the forecaster is the adapter's too.
        bound = type(self).__init__.__signature__.bind(self, **params)
        bound.apply_defaults()
        for name, value in list(bound.arguments.items())[1:]:
            setattr(self, name, value)
        super().__init__()
        if self.quantiles is None:
            self.set_tags(**{"capability:pred_int": False})

    __init__.__signature__ = _adapter_signature()

    def _fit(self, y, X, fh):
        self._keys, long_y = _to_long(y)
        self._freq = _frequency(y, self.cutoff)
        self._gaps = _gaps(y, self._keys)
        horizon = int(self._gaps.max()) + _furthest_step(fh, self._cutoff_index())
        self.forecaster_ = Seq2SeqForecaster(horizon, **self.get_params(deep=False))
        self._shape = (isinstance(y, pd.Series), y.name if isinstance(y, pd.Series) else None)
        self._index_names = list(y.index.names)
        self._with_X = X is not None
        long_X = None if X is None else _covariates_long(X, self._keys)
        self.forecaster_.fit(long_y, long_X)
        # The data forecasts start from: fit's, until update brings later values.
        self._history = (y, X)
        self._updated = False
        return self

    def _update(self, y, X=None, update_params=True):
        """Append the new values; refit on everything (``update_params``) or forecast from them.

        Without refitting, the fitted network forecasts from the new end of every series
        (:meth:`tsattn.Seq2SeqForecaster.predict` with the updated histories as ``y``), so
        ``predict`` after ``update`` always starts at the new cutoff.
        """
        history_y = _appended(self._history[0], y)
        history_X = self._history[1]
        if self._with_X and X is not None:
            history_X = _appended(history_X, X)
        if update_params:
            return self._fit(history_y, history_X, self._fh)
        keys, _ = _to_long(history_y)
        if set(keys) != set(self._keys):
            raise ValueError(
                "update's y must hold the series fit saw (the same instances and variables); "
                "fit again to change them"
            )
        self._history = (history_y, history_X)
        self._freq = _frequency(history_y, self.cutoff) or self._freq
        self._gaps = _gaps(history_y, self._keys)
        self._updated = True
        return self

    def _cutoff_index(self) -> pd.Index:
        """The cutoff with the data's frequency, so fh converts without sktime's freq."""
        cutoff = self.cutoff
        if isinstance(cutoff, pd.DatetimeIndex) and cutoff.freq is None and self._freq:
            return pd.DatetimeIndex(cutoff, freq=self._freq)
        return cutoff

    def _predict(self, fh, X):
        values = self._forecast(fh, X, self.forecaster_.predict, ["y"])[..., 0]
        return self._frame(values, fh, self._get_columns(method="predict"), y_like=True)

    def _predict_quantiles(self, fh, X, alpha):
        columns = []
        for level in alpha:
            if level == 0.5:
                columns.append(self._forecast(fh, X, self.forecaster_.predict, ["y"])[..., 0])
                continue
            if not 0.0 < level < 1.0:
                raise ValueError(f"alpha must lie strictly between 0 and 1, got {level}")
            band = partial(self.forecaster_.predict_interval, coverage=abs(1.0 - 2.0 * level))
            side = "lower" if level < 0.5 else "upper"
            columns.append(self._forecast(fh, X, band, [side])[..., 0])
        # (series, steps) per level -> (steps x instance rows, variable x level columns)
        values = np.stack(columns, axis=-1)  # (n_series, n_steps, n_levels)
        names = self._get_columns(method="predict_quantiles", alpha=alpha)
        return self._frame(values, fh, names, y_like=False)

    def _forecast(self, fh, X, method, columns) -> np.ndarray:
        """(n_series, len(fh), len(columns)) of ``method``'s long output at the steps of fh."""
        steps = np.asarray(fh.to_relative(self._cutoff_index()), dtype=np.int64)
        horizon = self.forecaster_.horizon
        if steps.max() + self._gaps.max() > horizon:
            raise ValueError(
                f"fh reaches {steps.max()} steps ahead, further than the fh given to fit; fit "
                "again with this fh"
            )
        # A model fit without covariates ignores any X given to predict.
        if not self._updated:
            long_X = None if X is None or not self._with_X else _covariates_long(X, self._keys)
            out = method(long_X)
        else:  # forecast from the updated histories; X then covers them too
            history_y, history_X = self._history
            if self._with_X and X is not None:
                history_X = _appended(history_X, X)
            long_X = _covariates_long(history_X, self._keys) if self._with_X else None
            out = method(long_X, y=_to_long(history_y, self._keys)[1])
        out = out.sort_values(["unique_id", "ds"], kind="stable")
        values = out[columns].to_numpy(dtype=float).reshape(len(self._keys), horizon, -1)
        # A series ending `gap` steps before the cutoff reaches step s of fh at its step gap + s.
        rows = self._gaps[:, None] + steps[None, :] - 1  # (n_series, len(fh))
        return np.take_along_axis(values, rows[..., None], axis=1)

    def _frame(self, values, fh, columns, y_like):
        """Lay out as sktime does: rows fh (within instance for panels), a column per variable."""
        index = fh.to_absolute_index(self._cutoff_index())
        instances = list(dict.fromkeys(instance for instance, _ in self._keys))
        variables = list(dict.fromkeys(variable for _, variable in self._keys))
        n_steps = len(index)
        # values: (n_series, n_steps, k) with series ordered (instance, variable)
        k = values.shape[-1] if values.ndim == 3 else 1
        table = values.reshape(len(instances), len(variables), n_steps, k)
        table = table.transpose(0, 2, 1, 3).reshape(len(instances) * n_steps, len(variables) * k)
        if instances != [None]:
            index = pd.MultiIndex.from_product([instances, index], names=self._index_names)
        frame = pd.DataFrame(table, index=index, columns=columns)
        if y_like and self._shape[0]:
            return frame.iloc[:, 0].rename(self._shape[1])
        return frame

    @classmethod
    def get_test_params(cls, parameter_set="default"):
        """Return tiny, fast, seeded parameter sets for sktime's estimator checks.

        Parameters
        ----------
        parameter_set : str, default="default"
            Ignored; one family of sets serves every check.

        Returns
        -------
        list of dict
        """
        tiny = {"hidden_size": 4, "max_epochs": 2, "verbose": False, "random_state": 0}
        return [
            tiny,
            {**tiny, "input_size": 4, "cell": "gru", "attention": "luong", "quantiles": None},
        ]


def _furthest_step(fh, cutoff) -> int:
    steps = np.asarray(fh.to_relative(cutoff), dtype=np.int64)
    if steps.min() < 1:
        raise ValueError(
            f"fh must lie after the end of y (steps 1, 2, ...), got steps {steps.tolist()}"
        )
    return int(steps.max())


def _frequency(y, cutoff) -> str | None:
    """The frequency of y's timestamps: the cutoff's, else inferred from y's time points.

    sktime leaves it out of the cutoff where it cannot read it off the index (panels whose
    instances end at different times, indexes without ``freq``); None for periods and integers,
    whose steps need no frequency.
    """
    if not isinstance(cutoff, pd.DatetimeIndex):
        return None
    if cutoff.freq is not None:
        return cutoff.freqstr
    times = y.index.get_level_values(-1) if isinstance(y.index, pd.MultiIndex) else y.index
    grid = pd.DatetimeIndex(times.unique()).sort_values()
    return infer_freq(grid, "y")


def _appended(old, new):
    """``old`` with the rows of ``new`` added (new values win where both have a row)."""
    if old is None:
        return new
    return new.combine_first(old).sort_index()


def _gaps(y, keys) -> np.ndarray:
    """Steps between each series' end and the panel's cutoff: 0 unless a panel's ends differ.

    Steps are counted on the panel's own time points (those of any instance).
    """
    if not isinstance(y.index, pd.MultiIndex):
        return np.zeros(len(keys), dtype=np.int64)
    times = y.index.get_level_values(-1)
    grid = times.unique().sort_values()
    ends = pd.Series(times).groupby(np.asarray(y.index.get_level_values(0))).max()
    after = len(grid) - grid.searchsorted(ends.array, side="right")
    gap = dict(zip(ends.index, after, strict=True))
    return np.array([gap[instance] for instance, _ in keys], dtype=np.int64)


def _times(index: pd.Index) -> pd.Index:
    """Time stamps the forecaster reads: periods as their start, others as they are."""
    if isinstance(index, pd.PeriodIndex):
        return index.to_timestamp()
    return index


def _to_long(y, known: list | None = None) -> tuple[list, pd.DataFrame]:
    """The (instance, variable) keys of every series of y, and y as a long frame keyed by them.

    With ``known`` keys (fit's), each series keeps its code there: its position in ``known``.
    """
    frame = y.to_frame() if isinstance(y, pd.Series) else y
    if isinstance(frame.index, pd.MultiIndex):
        instances = frame.index.get_level_values(0)
        times = _times(frame.index.get_level_values(-1))
    else:
        instances = np.full(len(frame), None, dtype=object)
        times = _times(frame.index)
    keys, parts = [], []
    for instance in dict.fromkeys(instances):
        rows = np.asarray(instances == instance) if instance is not None else slice(None)
        for variable in frame.columns:
            key = (instance, variable)
            parts.append(
                pd.DataFrame(
                    {
                        "unique_id": len(keys) if known is None else known.index(key),
                        "ds": times[rows],
                        "y": frame[variable].to_numpy(dtype=float)[rows],
                    }
                )
            )
            keys.append(key)
    return keys, pd.concat(parts, ignore_index=True)


def _covariates_long(X, keys) -> pd.DataFrame:
    """X's rows for every series of y, keyed as :func:`_to_long` keys them."""
    if isinstance(X.index, pd.MultiIndex):
        instances = X.index.get_level_values(0)
        times = _times(X.index.get_level_values(-1))
    else:
        instances, times = None, _times(X.index)
    values = X.reset_index(drop=True)
    parts = []
    for code, (instance, _) in enumerate(keys):
        rows = values if instances is None else values[np.asarray(instances == instance)]
        stamps = times if instances is None else times[np.asarray(instances == instance)]
        parts.append(rows.assign(unique_id=code, ds=np.asarray(stamps)))
    return pd.concat(parts, ignore_index=True)
