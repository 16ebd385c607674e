"""Seq2SeqForecaster: one global attention encoder-decoder over many series."""

from __future__ import annotations

from tsattn.estimator import Seq2SeqEstimator
from tsattn.export import export_method
from tsattn.forecast.evaluation import EvaluationMixin
from tsattn.forecast.fitting import FitStepsMixin
from tsattn.forecast.outputs import OutputsMixin
from tsattn.forecast.params import check_forecaster_params
from tsattn.forecast.selection import CovariateSelectionMixin


class Seq2SeqForecaster(
    OutputsMixin, EvaluationMixin, CovariateSelectionMixin, FitStepsMixin, Seq2SeqEstimator
):
    """Forecast many series with one RNN encoder-decoder and Bahdanau attention.

    The model is global: it learns from windows of every series at once. Each window's history
    is scaled on its own (see ``scaler``), encoded by an LSTM or GRU, and the decoder forecasts
    ``horizon`` steps while attending to every step of the history. By default the network
    corrects a statistical forecast (``baseline``) of each window.

    Only ``horizon`` is positional; the other parameters are keyword-only and come in four
    groups: the data (``input_size`` to ``calendar_features``), the model (``hidden_size`` to
    ``baseline``), training (``loss`` to ``verbose``) and the output (``quantiles``).

    Parameters
    ----------
    horizon : int, default=1
        Steps ahead to forecast.
    input_size : int or None, default=None
        Steps of history the encoder reads. None: ``max(2 * horizon, 8)``, or the longest
        season (52 weeks, 336 half-hours) where the median series holds two plus the horizon;
        at most the median length minus the horizon (whole training windows), at least 1, never
        more than the longest series (``input_size_`` holds the size used). Shorter series are
        padded and the padding is masked from attention.
    season_length : int or None, default=None
        Seasonal period of a multiplicative seasonal adjustment: the network forecasts the
        adjusted series and the forecast is reseasonalised with each series' own indices. A
        series of two seasons or more of positive values is adjusted when it passes the M3
        Theta method's 90% autocorrelation test; one of more than one but fewer than two
        seasons takes the indices of the one season it has (no test can find a season there,
        and last year's peak is the best evidence of the next); shorter series are not
        adjusted. The indices come from each series' last 8 seasons and the test runs on its
        last 10 (seasons drift over long histories). None takes the period from the frequency
        (12 for monthly, 4 quarterly, 52 weekly, 7 daily; 1 for integer or numpy time axes);
        sub-daily data (steps of 5 minutes to 12 hours) has two seasons, the day and the week,
        adjusted one after the other as MSTL does (the week's day levels, then the day's
        shape), and ``season_length_`` is then the week (336 half-hours); a ``season_length``
        equal to the week of sub-daily data is adjusted the same way. 1 switches the
        adjustment off. ``fit`` warns when 80% of the series or more are shorter than the
        horizon plus one season (the day for sub-daily data).
    missing : {"error", "mask"}, default="error"
        NaN in ``y``: "error" refuses them; "mask" keeps them out of the scaling, the encoder
        input (which gets a 0/1 "observed" feature) and the loss, so gaps need no imputation.
    nonnegative : bool, default=False
        Clip forecasts, quantiles and intervals at 0 (sales, counts); ``y`` must then be >= 0.
    scaler : {"auto", "log", "standard", "none"}, default="auto"
        Per-window scaling of history and targets. "log" models ``log(1 + y / level)`` with
        ``level`` the window's mean, so errors are relative to the level (as sMAPE and MAPE
        measure them); "standard" subtracts the window's mean and divides by its deviation;
        "auto" is "log" when ``y`` is never negative, else "standard".
    past_covariates : sequence of str, default=()
        Columns of X known only up to the forecast origin (e.g. sales of a related product):
        the encoder reads them over the history, the decoder never; ``predict`` does not need
        them. Every other column of X is known in advance and must cover the horizon.
    calendar_features : bool, "auto" or list of str, default=False
        Calendar covariates derived from the timestamps, known in advance: a list of
        "hour", "dayofweek", "dayofmonth", "dayofyear", "week", "month", "quarter" (each as the
        sine and cosine of its phase), or True for those that vary at y's frequency (weekly data:
        week; monthly: month; quarterly: quarter; daily: dayofweek, week; hourly: hour,
        dayofweek, week). "auto": True when the model reads covariates known in advance (X's
        known columns or ``holidays``) and y has timestamps of a regular frequency, else False:
        what a temperature or a holiday does depends on the season and the day (heating in
        winter, cooling in summer), and the network can weigh that only if it reads them;
        without such covariates the seasonal adjustment and the baseline carry the calendar.
    covariate_scaling : {"auto", "window", "series"}, default="auto"
        What the network reads of X's numeric columns. Every column is taken in its own units,
        standardised with one mean and deviation per column pooled over all series (26 C is
        the same input in every state); 0/1 flags stay as they are. No rule looks at a column's
        sign. "auto", by the column's role: a column known in advance is read twice, as its
        level (temperature, whose effect on demand is a U-shape in degrees) and as its change,
        the level minus its mean over the window's history (a price against the recent price),
        at every history and horizon step, and the network learns which matters; a past-only
        column only as its change, since its level over the history can date the window (a
        price index that trends) and none of it reaches the horizon. "window": every numeric
        column as its change only; "series": as its level only.
    holidays : str, list of str or None, default=None
        Country calendars of the ``holidays`` package (``"AU"``, ``"US"``, a subdivision as
        ``"AU-NSW"``): each adds a 0/1 flag known in advance, 1 on a step that holds a public
        holiday (a weekly step: any of its days), read by the encoder and at every decoder
        step as a known column of X is. Needs ``pip install 'tsattn[holidays]'``. Its effect
        shows in :meth:`covariate_importance` and :func:`tsattn.plotting.partial_dependence`.
    hidden_size : int, default=64
        Hidden units of the encoder and decoder RNNs.
    num_layers : int, default=1
        Stacked RNN layers in the encoder and in the decoder.
    cell : {"lstm", "gru"}, default="lstm"
        Recurrent cell.
    bidirectional : bool, default=False
        Encode the history in both directions.
    dropout : float, default=0.0
        Dropout between stacked layers.
    attention : {"bahdanau", "luong", "none"}, default="bahdanau"
        Additive attention, multiplicative ("general") attention, or the plain encoder-decoder.
    attention_size : int or None, default=None
        Units of the additive (Bahdanau) attention's hidden layer; None means ``hidden_size``.
        Every decoder step's scores cost batch x positions x units, so fewer units train
        faster. Not used by Luong attention.
    decoder : {"direct", "recursive"}, default="direct"
        "direct": the decoder's RNN runs over the whole horizon in one call, reading only
        inputs known in advance (the last observed value, the baseline, covariates, static
        features), and every step's state then attends to the history (Luong et al.'s
        order), all steps at once: it trains several times faster, and never meets an input
        at prediction time that training did not show. "recursive": Bahdanau et al.'s
        decoder, one step at a time, the context fed into the RNN and each forecast fed back
        as the next step's input (see ``teacher_forcing``).
    segment_length : int or "auto", default="auto"
        Steps per RNN step (SegRNN, Lin et al. 2023): the encoder reads the history in
        segments of this many steps (padded at the oldest end), so it runs
        ``input_size / segment_length`` steps and attention weighs that many segments; the
        direct decoder also emits the horizon in segments. "auto" keeps the encoder at 16
        steps or fewer: ``ceil(input_size / 16)``, 3 for 36 monthly or 48 weekly values, 1 up
        to 16. Attention weights are reported per step, a segment's weight shared equally by
        its steps; the fitted value is in ``segment_length_``.
    baseline : {"auto", "theta", "holt", "theta_holt", None}, default="auto"
        A statistical forecast the network learns to correct (as the M4 winner, ES-RNN, built
        on exponential smoothing), computed on the seasonally adjusted values from every
        window's own history; the network reads it at every decoder step and adds its output
        to it. "theta": the Theta method (the M3 winner); "holt": damped-trend Holt (on the
        adjusted values: ETS with a damped trend and multiplicative seasons); "theta_holt":
        their mean. "auto": Theta, unless another of the three forecasts the last two horizons
        of the series better beyond the noise, one for the panel (``baseline_``). None: none.
    covariate_gate : bool, default=False
        Multiply every covariate feature (X, calendar, static) by a learnt gate in (0, 1),
        started at 0.5, a simple form of the Temporal Fusion Transformer's variable selection.
        Off by default: covariates enter as plain inputs, as the target does, and the network
        weighs them through its input weights.
    covariate_dropout : float, default=0.0
        While training, the probability that a covariate feature is zeroed for a whole window
        (encoder and decoder alike), so the model never leans on one column alone. Off by
        default: a zeroed level reads as "the average value", not as "unknown".
    covariate_selection : {"validation", None}, default="validation"
        After training, measure every covariate, calendar and static feature's permutation
        importance on the validation windows (as :meth:`covariate_importance` does) and, if
        any raises the validation loss by less than 1% when shuffled, fit again (same
        parameters and seed) without those, with a warning naming every dropped feature and
        its measured effect: a column that does not help the validation forecasts (noise, a
        past-only index) cannot hurt the final ones. Never dropped: a 0/1 flag known in
        advance and the ``holidays`` flags (an event moves the few windows that hold it, never
        1% of all windows' loss), and the features named in ``keep_covariates``. Costs a
        second fit when a feature is dropped, nothing more otherwise; skipped without
        validation windows (``validation_size=0``) and with ``warm_start``. The table is in
        ``covariate_selection_`` (columns ``kept`` and ``why``); ``predict`` ignores dropped
        columns in X. None: keep all.
    keep_covariates : sequence of str, default=()
        Features ``covariate_selection`` never drops: X columns, calendar features, holiday
        calendars (``"AU"``) or static columns.
    loss : {"mae", "mse", "huber", "poisson", "negbin", "tweedie"}, default="mae"
        Training loss: "mae", "mse", "huber" on scaled targets; "poisson", "negbin" (negative
        binomial) and "tweedie" (power 1.5) are likelihoods of counts (slow-moving sales; ``y``
        must be >= 0) on the data's own scale: the network's output, scaled back as for
        "mae", is smoothed into a positive mean (``s * softplus(x / s)``, ``s`` a tenth of the
        window's level; see :mod:`tsattn.forecast.distributions`), and each window's negative
        log-likelihood is divided by its level. ``predict`` gives the distribution's median, intervals and
        quantiles (at the levels ``quantiles`` names) come from it; no pinball loss is trained.
    teacher_forcing : bool, default=False
        For ``decoder="recursive"`` (the direct decoder never reads a previous value): train
        the decoder on the true previous value at every step (teacher forcing) instead of
        its own previous forecast. Off by default: ``predict`` feeds the decoder its own
        forecasts, so training the same way teaches it to live with its errors, and the
        validation loss that picks the epoch then measures the forecasts ``predict`` makes.
    max_epochs : int, default=100
        Upper bound on passes over the training windows.
    batch_size : int, default=256
        Windows per optimiser step; under ``torchrun`` the global batch, split among the
        processes (so settings carry over from one machine).
    learning_rate : float, default=1e-3
        Adam's learning rate.
    lr_schedule : {"cosine", "plateau"} or None, default=None
        The rule: a constant ``learning_rate`` unless a schedule is asked for. "cosine" anneals
        it to nearly 0 over ``max_epochs``; "plateau" halves it when the validation loss stalls
        for half ``early_stopping_patience`` epochs (see :mod:`tsattn.schedules`).
    early_stopping_patience : int or None, default=5
        Epochs without a better validation loss before training stops (never before epoch
        ``2 * early_stopping_patience``); None trains all epochs. Shorter than the
        regressor's: a network that corrects a baseline starts near its best forecasts.
    windows_per_epoch : int, "auto" or None, default="auto"
        Training windows drawn per epoch, a fresh random subset each epoch of the windows (a
        series' last 32 * (input_size + horizon) at most). "auto": all, but 20 to 50 batches, so
        small data get enough steps and large panels are validated every few seconds; None: all
        (at least 20 batches). With a cap, validation reads at most 4 times as many windows.
    validation_size : float, default=0.1
        Share of each series' last windows held out (a temporal split) to choose the epoch whose
        weights are kept, also on long histories (a steady validation loss picks the epoch
        better than a short recent span); 0 keeps the epoch with the best training loss.
    warm_start : bool, default=False
        When True and the model is fitted, ``fit`` continues training its weights on the data
        it is given (updated or new series) for up to ``max_epochs`` epochs instead of starting
        anew, with the settings the first fit resolved (input size, scaling, season, covariate
        encoding); a weekly refresh then costs a few epochs, e.g. with ``max_epochs=2``. The
        horizon, quantiles and the model's inputs must stay as they were.
    device : {"auto", "cpu", "cuda", "mps"}, "cuda:N" or torch.device, default="auto"
        Where to train; "auto" picks CUDA, then MPS, then the CPU; others must be available.
    random_state : int, numpy.random.RandomState or None, default=None
        Seeds weights and batch order; the same value gives identical forecasts on CPU.
    verbose : bool, default=True
        Show a progress bar.
    quantiles : sequence of float or None, default=None
        Levels in (0, 1), e.g. ``(0.1, 0.5, 0.9)``: the model then has one output per level
        (0.5 is added if absent), trained on the pinball loss instead of ``loss``, and kept
        monotone (the median plus softplus increments). ``predict`` returns the median,
        :meth:`predict_quantiles` the levels, :meth:`predict_interval` a band calibrated on the
        validation windows.
    alias : str or None, default=None
        Name of the forecast column, as Nixtla's libraries name a model: a long frame's
        forecasts come in ``alias`` (instead of ``y``, which would clash with the actual values
        on a merge), a Series is named ``alias``, and interval and quantile columns follow
        Nixtla's names (``<alias>-lo-80``, ``<alias>-hi-80``, ``<alias>-q-10``); backtests
        and :meth:`cross_validation` name the model's column ``alias``. None keeps ``y``,
        ``lower``/``upper`` and ``"0.1"``.

    Attributes
    ----------
    module_ : tsattn.core.Seq2Seq
        The trained torch module.
    history_ : pandas.DataFrame
        Per-epoch ``train_loss``, ``valid_loss`` and ``seconds``.
    context_ : tsattn.forecast.context.ForecastContext
        Everything ``predict`` reads besides the module: the settings ``fit`` resolved and
        every series' last ``input_size_`` values, timestamps and covariates.
    horizon_ : int
        The horizon the model was trained for; ``predict`` forecasts this many steps.
    input_size_ : int
        The input size used.
    segment_length_ : int
        Steps per segment used (``segment_length`` with "auto" resolved).
    scaler_ : str
        The per-window scaler used ("auto" resolved).
    season_length_ : int
        The seasonal period of the adjustment (1: none).
    seasonal_indices_ : numpy.ndarray
        (n_series_, season_length_) multiplicative indices, all ones for series that are not
        seasonal.
    baseline_ : str or None
        The baseline used ("auto" resolved); ``baseline_fallback_``: True when it forecasts alone.
    n_series_ : int
        Number of series seen in ``fit``.
    series_ids_ : list
        Their identifiers.
    freq_ : str or int or None
        The frequency inferred from the timestamps.
    device_ : torch.device
        Where the model lives.
    quantiles_ : list of float or None
        The levels the model outputs (``quantiles`` sorted, with 0.5), None for points.

    Examples
    --------
    >>> from tsattn import Seq2SeqForecaster
    >>> from tsattn.datasets import load_air_passengers
    >>> y = load_air_passengers()
    >>> f = Seq2SeqForecaster(horizon=12, max_epochs=5, random_state=0, verbose=False).fit(y)
    >>> f.predict().shape
    (12,)
    """

    def __init__(
        self,
        horizon: int = 1,
        *,
        input_size: int | None = None,
        season_length: int | None = None,
        missing: str = "error",
        nonnegative: bool = False,
        scaler: str = "auto",
        past_covariates=(),
        calendar_features=False,
        covariate_scaling: str = "auto",
        holidays=None,
        hidden_size: int = 64,
        num_layers: int = 1,
        cell: str = "lstm",
        bidirectional: bool = False,
        dropout: float = 0.0,
        attention: str = "bahdanau",
        attention_size: int | None = None,
        decoder: str = "direct",
        segment_length: int | str = "auto",
        baseline: str | None = "auto",
        covariate_gate: bool = False,
        covariate_dropout: float = 0.0,
        covariate_selection: str | None = "validation",
        keep_covariates=(),
        loss: str = "mae",
        teacher_forcing: bool = False,
        max_epochs: int = 100,
        batch_size: int = 256,
        learning_rate: float = 1e-3,
        lr_schedule: str | None = None,
        early_stopping_patience: int | None = 5,
        windows_per_epoch: int | str | None = "auto",
        validation_size: float = 0.1,
        warm_start: bool = False,
        device="auto",
        random_state=None,
        verbose: bool = True,
        quantiles=None,
        alias: str | None = None,
    ):
        self.horizon = horizon
        self.input_size = input_size
        self.season_length = season_length
        self.missing = missing
        self.nonnegative = nonnegative
        self.scaler = scaler
        self.past_covariates = past_covariates
        self.calendar_features = calendar_features
        self.covariate_scaling = covariate_scaling
        self.holidays = holidays
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.cell = cell
        self.bidirectional = bidirectional
        self.dropout = dropout
        self.attention = attention
        self.attention_size = attention_size
        self.decoder = decoder
        self.segment_length = segment_length
        self.baseline = baseline
        self.covariate_gate = covariate_gate
        self.covariate_dropout = covariate_dropout
        self.covariate_selection = covariate_selection
        self.keep_covariates = keep_covariates
        self.loss = loss
        self.teacher_forcing = teacher_forcing
        self.max_epochs = max_epochs
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.lr_schedule = lr_schedule
        self.early_stopping_patience = early_stopping_patience
        self.windows_per_epoch = windows_per_epoch
        self.validation_size = validation_size
        self.warm_start = warm_start
        self.device = device
        self.random_state = random_state
        self.verbose = verbose
        self.quantiles = quantiles
        self.alias = alias

    # ------------------------------------------------------------------------------------------
    # fit

    export = export_method

    def _check_params(self) -> tuple[int, int]:
        """Validate every parameter; returns the horizon and the resolved input size."""
        return check_forecaster_params(self)

    def fit(self, y, X=None, static=None, checkpoint_dir=None) -> Seq2SeqForecaster:
        """Train one model on every series in ``y``.

        Parameters
        ----------
        y : pandas.Series, pandas.DataFrame or numpy.ndarray
            A Series, a wide DataFrame (a column per series), a long DataFrame (``unique_id``,
            ``ds``, ``y``) or an array (time x series); not modified.
        X : pandas.DataFrame, numpy.ndarray or None
            Covariates over y's history, in y's format (the user guide's "Input formats" page
            shows each); rows beyond the history are ignored. Columns not in
            ``past_covariates`` must also be given to ``predict`` over the horizon.
        static : pandas.DataFrame or None
            Per-series features indexed by series id: numeric ones standardised, categorical
            ones one-hot encoded, read at every encoder and decoder step.
        checkpoint_dir : str, os.PathLike or None, default=None
            Save the training state there after every epoch (one safetensors file with JSON
            metadata, written atomically). A fit started again with the same directory, the
            same parameters and the same ``y`` resumes from the last finished epoch and ends with
            the same model as an uninterrupted fit; other parameters or data raise a
            ValueError. The checkpoint stays after the fit: delete the directory to start over.

        Returns
        -------
        self : Seq2SeqForecaster
        """
        options, device = self._checked_options()
        previous = getattr(self, "context_", None) if self.warm_start else None
        data, valid = self._fit_steps(
            options, device, previous, y, X, static, self._seed, checkpoint_dir
        )
        if (
            self.covariate_selection == "validation"
            and previous is None
            and len(valid)
            and data.has_covariates
        ):
            self._select_covariates(options, device, y, X, static, valid)
        return self
