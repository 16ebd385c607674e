"""Local statistical baselines behind the same ``fit(y)`` / ``predict()`` as Seq2SeqForecaster.

Each series gets its own model (these are local models, unlike the global attention model):
seasonal naive, exponential smoothing (statsmodels' ``ETSModel``, damped additive trend) and
the Theta method (statsmodels' ``ThetaModel``). They accept every input format of
:func:`tsattn.forecast.panel.to_panel` and return forecasts in the format ``fit`` got, so a
benchmark can swap them for the neural model without touching its data handling.

The forecasts are computed in ``fit`` (one pass over the series, no per-series model objects
kept); ``predict`` returns them.
"""

from __future__ import annotations

import warnings

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_is_fitted

from tsattn._validation import check_float, check_int, check_option
from tsattn.forecast.panel.checks import first_short
from tsattn.forecast.panel.conversion import from_forecasts, to_panel
from tsattn.forecast.panel.types import Panel

__all__ = ["ETSForecaster", "SeasonalNaive", "ThetaForecaster"]


def _check_bool(name: str, value: object) -> bool:
    if not isinstance(value, bool | np.bool_):
        raise TypeError(f"{name} must be True or False, got {value!r} ({type(value).__name__})")
    return bool(value)


class _LocalForecaster(BaseEstimator):
    """Shared fit/predict of the per-series models; subclasses forecast one series."""

    _min_length = 1  # shortest series the method can forecast

    def _check_params(self) -> None:
        """Validate the subclass' own parameters (beyond horizon and season_length)."""

    def _forecast_one(self, y: np.ndarray) -> tuple[np.ndarray, bool]:
        """(horizon,) forecast of one float64 series and whether it was modelled as seasonal."""
        raise NotImplementedError

    def fit(self, y, X=None, static=None):
        """Fit one model per series and forecast ``horizon`` steps after each series' end.

        Parameters
        ----------
        y : pandas.Series, pandas.DataFrame or numpy.ndarray
            Any format :class:`tsattn.Seq2SeqForecaster` accepts: a Series, a wide DataFrame
            (a column per series), a long DataFrame (``unique_id``, ``ds``, ``y``), or a 1-D
            or 2-D (time x series) array. ``y`` is not modified.
        X, static : None
            Univariate models: covariates are not used and must be None.

        Returns
        -------
        self
        """
        self._horizon = check_int("horizon", self.horizon)
        self._season = check_int("season_length", self.season_length)
        self._check_params()
        if X is not None or static is not None:
            raise ValueError(
                f"{type(self).__name__} is a univariate model and uses no covariates; "
                f"leave X and static as None"
            )
        panel = to_panel(y)
        self._check_lengths(panel)
        forecasts = np.empty((panel.n_series, self._horizon))  # (n_series, horizon)
        seasonal = np.zeros(panel.n_series, dtype=bool)
        with warnings.catch_warnings():
            # statsmodels warns per series about optimiser convergence; over 1000s of series
            # that drowns the output, and the fitted values are used either way.
            warnings.simplefilter("ignore", _statsmodels_warnings())
            for i in range(panel.n_series):
                series = panel.series(i).astype(np.float64)
                try:
                    forecasts[i], seasonal[i] = self._forecast_one(series)
                except (ValueError, np.linalg.LinAlgError) as err:
                    raise RuntimeError(
                        f"{type(self).__name__} failed on series {panel.ids[i]!r} "
                        f"({len(series)} values): {err}"
                    ) from err
        self._forecasts = forecasts
        self.seasonal_ = seasonal
        self.n_series_ = panel.n_series
        self.series_ids_ = list(panel.ids)
        self.freq_ = panel.axis.freq
        self._last = list(panel.last)
        self._axis = panel.axis
        self._layout = panel.layout
        return self

    def _check_lengths(self, panel: Panel) -> None:
        found = first_short(panel, self._min_length)
        if found is not None:
            i, count = found
            raise ValueError(
                f"series {panel.ids[i]!r} has {panel.lengths[i]} value(s); "
                f"{type(self).__name__} needs at least {self._min_length} ({count} series "
                f"are that short). Drop them or use SeasonalNaive"
            )

    def predict(self, X=None):
        """Forecast ``horizon`` steps after the end of every series seen in ``fit``.

        Parameters
        ----------
        X : None
            Univariate models: must be None.

        Returns
        -------
        pandas.Series, pandas.DataFrame or numpy.ndarray
            The same kind of object ``fit`` got, as :meth:`tsattn.Seq2SeqForecaster.predict`
            returns it.
        """
        check_is_fitted(self, "n_series_")
        if X is not None:
            raise ValueError(f"{type(self).__name__} uses no covariates; leave X as None")
        return from_forecasts(
            self._forecasts.copy(),
            ids=self.series_ids_,
            last=self._last,
            axis=self._axis,
            layout=self._layout,
        )


def _check_positive(panel: Panel, what: str, fix: str) -> None:
    """Raise if a series holds a value <= 0 (multiplicative models divide by the level)."""
    nonpositive = np.flatnonzero(np.minimum.reduceat(panel.values, panel.offsets[:-1]) <= 0)
    if len(nonpositive):
        i = int(nonpositive[0])
        raise ValueError(
            f"series {panel.ids[i]!r} has values <= 0; {what} need strictly positive series. "
            f"Use {fix}"
        )


def _statsmodels_warnings() -> tuple[type[Warning], ...]:
    from statsmodels.tools.sm_exceptions import ConvergenceWarning

    return (ConvergenceWarning,)


class SeasonalNaive(_LocalForecaster):
    """Repeat each series' last seasonal cycle.

    The forecast for step ``k`` (1-based) is ``y[T - m + (k - 1) % m]``: the value one season
    before. With ``season_length=1`` this is the naive (last value) forecast; a series shorter
    than one season gets the naive forecast too.

    Parameters
    ----------
    horizon : int, default=1
        Steps ahead to forecast.
    season_length : int, default=1
        Seasonal period ``m`` (12 for monthly data with a yearly cycle).

    Attributes
    ----------
    n_series_ : int
        Number of series seen in ``fit``.
    series_ids_ : list
        Their identifiers.
    freq_ : str or int or None
        The frequency inferred from the timestamps.
    seasonal_ : numpy.ndarray of bool
        Whether each series was long enough for the seasonal forecast.

    Examples
    --------
    >>> import numpy as np
    >>> SeasonalNaive(horizon=3, season_length=2).fit(np.array([1.0, 2.0, 3.0, 4.0])).predict()
    array([3., 4., 3.])
    """

    def __init__(self, horizon: int = 1, season_length: int = 1):
        self.horizon = horizon
        self.season_length = season_length

    def _forecast_one(self, y: np.ndarray) -> tuple[np.ndarray, bool]:
        m = self._season if len(y) >= self._season else 1
        return y[len(y) - m :][np.arange(self._horizon) % m], m > 1


class ETSForecaster(_LocalForecaster):
    """Exponential smoothing state space model (ETS) per series, by statsmodels.

    Defaults to additive errors with a damped additive trend, the robust choice of the M3
    literature; a seasonal component is added where ``season_length > 1`` and the series
    holds at least two full seasons (what the initialisation needs). Parameters are
    estimated by maximum likelihood (statsmodels' ``ETSModel``).

    Parameters
    ----------
    horizon : int, default=1
        Steps ahead to forecast.
    season_length : int, default=1
        Seasonal period ``m``; 1 for none.
    error : {"add", "mul"}, default="add"
        Error type.
    trend : {"add", "mul", "none"}, default="add"
        Trend component.
    damped_trend : bool, default=True
        Damp the trend (ignored with ``trend="none"``).
    seasonal : {"add", "mul", "none"}, default="add"
        Seasonal component, used where the series is seasonal-length enough.

    Attributes
    ----------
    n_series_ : int
        Number of series seen in ``fit``.
    series_ids_ : list
        Their identifiers.
    freq_ : str or int or None
        The frequency inferred from the timestamps.
    seasonal_ : numpy.ndarray of bool
        Whether each series got a seasonal component.

    Notes
    -----
    Multiplicative components need strictly positive series. Optimiser convergence warnings
    are silenced (the estimates are used as they are). Values pass through the input panel,
    which holds float32, so they are rounded to about 7 significant digits before fitting.

    Examples
    --------
    >>> from tsattn.datasets import load_air_passengers
    >>> y = load_air_passengers()
    >>> ETSForecaster(horizon=12, season_length=12).fit(y).predict().shape
    (12,)
    """

    _min_length = 3

    def __init__(
        self,
        horizon: int = 1,
        season_length: int = 1,
        error: str = "add",
        trend: str = "add",
        damped_trend: bool = True,
        seasonal: str = "add",
    ):
        self.horizon = horizon
        self.season_length = season_length
        self.error = error
        self.trend = trend
        self.damped_trend = damped_trend
        self.seasonal = seasonal

    def _check_params(self) -> None:
        check_option("error", self.error, ("add", "mul"))
        check_option("trend", self.trend, ("add", "mul", "none"))
        check_option("seasonal", self.seasonal, ("add", "mul", "none"))
        _check_bool("damped_trend", self.damped_trend)

    def _check_lengths(self, panel: Panel) -> None:
        super()._check_lengths(panel)
        if "mul" in (self.error, self.trend, self.seasonal):
            _check_positive(
                panel, "multiplicative ETS components", "error, trend and seasonal 'add'"
            )

    def _forecast_one(self, y: np.ndarray) -> tuple[np.ndarray, bool]:
        from statsmodels.tsa.exponential_smoothing.ets import ETSModel

        seasonal = self.seasonal != "none" and self._season > 1 and len(y) >= 2 * self._season
        trend = None if self.trend == "none" else self.trend
        model = ETSModel(
            y,
            error=self.error,
            trend=trend,
            damped_trend=self.damped_trend and trend is not None,
            seasonal=self.seasonal if seasonal else None,
            seasonal_periods=self._season if seasonal else None,
        )
        result = model.fit(disp=False)
        return np.asarray(result.forecast(self._horizon), dtype=np.float64), seasonal


class ThetaForecaster(_LocalForecaster):
    """The Theta method per series (Assimakopoulos & Nikolopoulos, 2000), by statsmodels.

    Each series is tested for seasonality (the 90% autocorrelation test of the M3
    implementation) and, if seasonal, deseasonalised by classical decomposition; the Theta
    forecast (simple exponential smoothing plus half the linear trend, ``theta=2``) is then
    reseasonalised. Deseasonalising needs ``season_length > 1`` and at least two full
    seasons; shorter series are forecast without it.

    Parameters
    ----------
    horizon : int, default=1
        Steps ahead to forecast.
    season_length : int, default=1
        Seasonal period ``m``; 1 for none.
    deseasonalize : bool, default=True
        Remove seasonality before fitting (where the test finds it, see ``use_test``).
    use_test : bool, default=True
        Test for seasonality first; False deseasonalises every long-enough series.
    method : {"auto", "mul", "add"}, default="auto"
        Decomposition: "auto" is multiplicative for strictly positive series, else additive.
    theta : float, default=2.0
        Weight of the trend line; 2 is the classic Theta method, 1 is plain exponential
        smoothing.

    Attributes
    ----------
    n_series_ : int
        Number of series seen in ``fit``.
    series_ids_ : list
        Their identifiers.
    freq_ : str or int or None
        The frequency inferred from the timestamps.
    seasonal_ : numpy.ndarray of bool
        Whether each series was deseasonalised.

    Examples
    --------
    >>> from tsattn.datasets import load_air_passengers
    >>> y = load_air_passengers()
    >>> ThetaForecaster(horizon=12, season_length=12).fit(y).predict().shape
    (12,)
    """

    _min_length = 3

    def __init__(
        self,
        horizon: int = 1,
        season_length: int = 1,
        deseasonalize: bool = True,
        use_test: bool = True,
        method: str = "auto",
        theta: float = 2.0,
    ):
        self.horizon = horizon
        self.season_length = season_length
        self.deseasonalize = deseasonalize
        self.use_test = use_test
        self.method = method
        self.theta = theta

    def _check_params(self) -> None:
        _check_bool("deseasonalize", self.deseasonalize)
        _check_bool("use_test", self.use_test)
        check_option("method", self.method, ("auto", "mul", "add"))
        check_float("theta", self.theta, 1.0, np.inf, high_open=True)

    def _check_lengths(self, panel: Panel) -> None:
        super()._check_lengths(panel)
        if self.method == "mul" and self.deseasonalize and self._season > 1:
            _check_positive(panel, "multiplicative decomposition", "method='auto' or 'add'")

    def _forecast_one(self, y: np.ndarray) -> tuple[np.ndarray, bool]:
        from statsmodels.tsa.forecasting.theta import ThetaModel

        deseasonalize = self.deseasonalize and self._season > 1 and len(y) >= 2 * self._season
        model = ThetaModel(
            y,
            period=self._season if deseasonalize else None,
            deseasonalize=deseasonalize,
            use_test=self.use_test,
            method=self.method,
        )
        result = model.fit()
        forecast = np.asarray(result.forecast(self._horizon, theta=self.theta), dtype=np.float64)
        # statsmodels keeps its seasonality test's verdict private; read it where it exists.
        return forecast, bool(deseasonalize and getattr(model, "_has_seasonality", True))
