"""Seq2SeqRegressor and make_windows: the attention encoder-decoder as a scikit-learn regressor.

``make_windows`` cuts a series into (input window, target window) rows; ``Seq2SeqRegressor``
learns to map the one to the other with the same core, loss, roll-out and training loop as
:class:`~tsattn.Seq2SeqForecaster`. Rows are independent samples, so every scikit-learn tool
(pipelines, grid search, cross-validation, target transforms) works on them. Shapes: n rows,
B batch, I input size, F features per step, H horizon.
"""

from __future__ import annotations

import math
from dataclasses import asdict

import numpy as np
import pandas as pd
import torch
from numpy.lib.stride_tricks import sliding_window_view
from sklearn.base import RegressorMixin
from sklearn.utils.validation import check_is_fitted, validate_data

from tsattn._validation import check_int, check_option
from tsattn.core.seq2seq import CoreConfig, Seq2Seq
from tsattn.estimator import Seq2SeqEstimator, in_chunks
from tsattn.forecast import network
from tsattn.forecast.panel import check_magnitude
from tsattn.forecast.windows import scale_targets, window_scale
from tsattn.training import resolve_device

# The per-window scalers ArrayBatches implements: the forecaster's WINDOW_SCALERS without "log",
# which only the forecaster's WindowBatches implements.
REGRESSOR_SCALERS = ("standard", "none")

# ----------------------------------------------------------------------------------------------
# make_windows


def make_windows(series, input_size: int, horizon: int, step: int = 1):
    """Cut a series into (input window, target window) rows for a regressor.

    Row ``j`` reads the ``input_size`` values starting at ``j * step`` and targets the
    ``horizon`` values right after them.

    Parameters
    ----------
    series : array-like
        A 1-D array or pandas Series (one variable), or a 2-D array or DataFrame of shape
        (time, n_features) whose first column is the target and whose other columns are
        covariates read alongside it. Index and column names are not kept.
    input_size : int
        Steps of history in each row of ``X``.
    horizon : int
        Steps ahead in each row of ``Y``.
    step : int, default=1
        Distance between the starts of consecutive rows.

    Returns
    -------
    X : numpy.ndarray
        (n, input_size) for a 1-D series, (n, input_size, n_features) for a 2-D one, with
        ``n = (len(series) - input_size - horizon) // step + 1``.
    Y : numpy.ndarray
        (n, horizon) values of the target (the first column).

    Raises
    ------
    ValueError
        If the series is shorter than ``input_size + horizon`` or has more than 2 dimensions.
    TypeError
        If the values are not numeric.

    Notes
    -----
    For numeric arrays ``X`` and ``Y`` are read-only views of the input (no copy is made);
    a pandas object is converted to one array first. Copy them (``X.copy()``) to modify them.

    Examples
    --------
    >>> import numpy as np
    >>> from tsattn import make_windows
    >>> X, Y = make_windows(np.arange(6.0), input_size=3, horizon=2)
    >>> X
    array([[0., 1., 2.],
           [1., 2., 3.]])
    >>> Y
    array([[3., 4.],
           [4., 5.]])
    """
    input_size = check_int("input_size", input_size)
    horizon = check_int("horizon", horizon)
    step = check_int("step", step)
    values = series.to_numpy() if isinstance(series, (pd.Series, pd.DataFrame)) else series
    values = np.asarray(values)
    if values.dtype == object or not (
        np.issubdtype(values.dtype, np.number) or values.dtype == np.bool_
    ):
        try:
            values = values.astype(np.float64)
        except (TypeError, ValueError):
            raise TypeError(
                f"make_windows needs numeric values, got dtype {values.dtype}; convert the "
                f"series to numbers (e.g. pd.to_numeric) or drop non-numeric columns"
            ) from None
    if values.ndim not in (1, 2):
        raise ValueError(
            f"series must be 1-D (time,) or 2-D (time, n_features), got shape {values.shape}"
        )
    length, width = len(values), input_size + horizon
    if length < width:
        raise ValueError(
            f"series too short: it has {length} time steps but one window needs "
            f"input_size + horizon = {input_size} + {horizon} = {width}; lower input_size or "
            f"horizon, or give a longer series"
        )
    if values.ndim == 2 and values.shape[1] == 0:
        raise ValueError("series has no columns; give at least the target column")
    target = values if values.ndim == 1 else values[:, 0]
    Y = sliding_window_view(target[input_size:], horizon)[::step]  # (n, H)
    if values.ndim == 1:
        X = sliding_window_view(values[: length - horizon], input_size)[::step]  # (n, I)
    else:
        windows = sliding_window_view(values[: length - horizon], input_size, axis=0)  # (n, F, I)
        X = windows[::step].transpose(0, 2, 1)  # (n, I, F)
    return X, Y


# ----------------------------------------------------------------------------------------------
# the batch source


class ArrayBatches:
    """Batches of scaled rows from arrays held once on the device; a training ``BatchSource``.

    Each row's target column (feature 0) is scaled by its own window's location and scale
    (:func:`~tsattn.forecast.windows.window_scale`), as the forecaster scales its windows; the
    other features (covariates) are standardised with fixed statistics from ``fit``, because a
    covariate is often constant within a window (a promotion flag, a price) and per-window
    scaling would turn it into zeros.

    Parameters
    ----------
    X : numpy.ndarray
        (n, I, F) input windows.
    Y : numpy.ndarray or None
        (n, H) targets; None for prediction.
    scaler : {"standard", "none"}
        Per-window scaling of the target column.
    covariate_loc, covariate_scale : numpy.ndarray
        (F - 1,) statistics the covariates are standardised with.
    device : torch.device
        Where batches are built.
    """

    def __init__(self, X, Y, scaler, covariate_loc, covariate_scale, device):
        self.X = torch.tensor(X, dtype=torch.float32, device=device)  # (n, I, F)
        self.Y = None if Y is None else torch.tensor(Y, dtype=torch.float32, device=device)
        self.covariate_loc = torch.tensor(covariate_loc, dtype=torch.float32, device=device)
        self.covariate_scale = torch.tensor(covariate_scale, dtype=torch.float32, device=device)
        self.scaler, self.device = scaler, device

    def __len__(self) -> int:
        return self.X.shape[0]

    def batch(self, index: np.ndarray | slice) -> dict[str, torch.Tensor]:
        """Gather the rows at ``index``.

        Returns
        -------
        dict
            ``source`` (B, I, F) scaled inputs, ``mask`` (B, I) all True, ``loc`` and ``scale``
            (B, 1); with targets also ``target_in`` (B, H, 1) (the last input value, then the
            true targets: teacher forcing) and ``target`` (B, H) scaled targets.
        """
        index = index if isinstance(index, slice) else torch.as_tensor(index, device=self.device)
        x = self.X[index]  # (B, I, F)
        history = x[..., 0]  # (B, I)
        mask = torch.ones_like(history, dtype=torch.bool)  # (B, I) rows are never padded
        loc, scale = window_scale(history, mask, self.scaler)  # (B, 1) each
        scaled = (history - loc) / scale  # (B, I)
        covariates = (x[..., 1:] - self.covariate_loc) / self.covariate_scale  # (B, I, F - 1)
        batch = {
            "source": torch.cat([scaled[..., None], covariates], dim=-1),  # (B, I, F)
            "mask": mask,
            "loc": loc,
            "scale": scale,
        }
        if self.Y is not None:
            target = scale_targets(self.Y[index], loc, scale)  # (B, H)
            target_in = torch.cat([scaled[:, -1:], target[:, :-1]], dim=1)  # (B, H)
            batch["target"] = target
            batch["target_in"] = target_in[..., None]  # (B, H, 1)
        return batch


# ----------------------------------------------------------------------------------------------
# the regressor


class Seq2SeqRegressor(RegressorMixin, Seq2SeqEstimator):
    """An RNN encoder-decoder with attention as a scikit-learn regressor on windows.

    Each row of ``X`` is one input window, oldest step first; each row of ``y`` is the window
    of ``horizon`` target values that follows it (see :func:`make_windows`). The encoder reads
    the window, the decoder predicts the ``horizon`` values one after another while attending
    to every input step, and at prediction time it feeds back its own outputs. The model,
    loss, roll-out and training loop are the forecaster's.

    Parameters
    ----------
    hidden_size : int, default=64
        Hidden units of the encoder and decoder RNNs.
    num_layers : int, default=1
        Stacked RNN layers in the encoder and in the decoder.
    cell : {"lstm", "gru"}, default="lstm"
        Recurrent cell.
    bidirectional : bool, default=False
        Encode the window in both directions.
    dropout : float, default=0.0
        Dropout between stacked layers.
    attention : {"bahdanau", "luong", "none"}, default="bahdanau"
        Additive attention, multiplicative ("general") attention, or the plain encoder-decoder.
    attention_size : int or None, default=None
        Units of the additive (Bahdanau) attention's hidden layer; None means ``hidden_size``.
        Every decoder step's scores cost batch x positions x units, so fewer units train
        faster. Not used by Luong attention.
    decoder : {"recursive", "direct"}, default="recursive"
        "recursive": Bahdanau et al.'s decoder, one step at a time, the context fed into the
        RNN and the previous target (teacher forcing) or forecast fed in at every step.
        "direct": the RNN runs over all ``Y`` columns in one call, reading only the last input
        value, and every step's state then attends to the window (Luong et al.'s order);
        several times faster. See :class:`Seq2SeqForecaster`.
    segment_length : int or "auto", default=1
        Steps per RNN step: the encoder reads each window in segments of this many steps
        (and the direct decoder emits ``Y`` in segments); "auto" is
        ``ceil(input_size / 16)``. See :class:`Seq2SeqForecaster`.
    scaler : {"standard", "none"}, default="standard"
        "standard" scales each row's target column (feature 0) and its targets by the mean and
        deviation of that row's input window, and standardises the other features (covariates)
        with their mean and deviation over all of ``fit``'s rows and steps; "none" feeds the
        values as they are.
    loss : {"mae", "mse", "huber"}, default="mae"
        Training loss on scaled targets.
    max_epochs : int, default=100
        Upper bound on passes over the training rows.
    batch_size : int, default=256
        Rows per optimiser step.
    learning_rate : float, default=1e-3
        Adam's learning rate.
    early_stopping_patience : int or None, default=10
        Epochs without a better validation loss before training stops; None trains all epochs.
    validation_size : float, default=0.1
        Share of the last rows (rows are taken to be time-ordered windows) held out to choose
        the epoch whose weights are kept; 0, or too few rows to spare one, keeps the epoch with
        the best training loss.
    device : {"auto", "cpu", "cuda"} or torch.device, default="auto"
        Where to train and predict; "auto" picks CUDA where it exists.
    random_state : int, numpy.random.RandomState or None, default=None
        Seeds the weights and the batch order; the same value gives identical predictions on
        CPU.
    verbose : bool, default=True
        Show a progress bar.

    Attributes
    ----------
    module_ : tsattn.core.Seq2Seq
        The trained torch module.
    history_ : pandas.DataFrame
        Per-epoch ``train_loss``, ``valid_loss`` and ``seconds``.
    n_features_in_ : int
        ``X.shape[1]``: the input size for windows (scikit-learn's convention).
    feature_names_in_ : numpy.ndarray
        Column names, when ``X`` was a DataFrame with string column names.
    input_size_ : int
        Steps per input window.
    segment_length_ : int
        Steps per segment used (``segment_length`` with "auto" resolved).
    n_channels_ : int
        Features per step: 1 for 2-D ``X``, ``X.shape[2]`` for 3-D ``X``.
    horizon_ : int
        Steps predicted per row: the width of ``y`` (1 for 1-D ``y``).
    covariate_loc_, covariate_scale_ : numpy.ndarray
        (n_channels_ - 1,) statistics the covariates are standardised with.
    device_ : torch.device
        Where the model lives (the CPU after unpickling).

    Notes
    -----
    With ``scaler="standard"`` the targets are scaled by their own row's input window, so ``y``
    must be in the units of ``X``'s target column (the continuation of the series). A
    transformer that changes only ``X`` (a ``StandardScaler`` in a pipeline) or only ``y``
    (``TransformedTargetRegressor``) breaks that: transform both alike, e.g.
    ``TransformedTargetRegressor(make_pipeline(StandardScaler(), Seq2SeqRegressor()),
    transformer=StandardScaler())``, or use ``scaler="none"``.

    Rows are taken to be time-ordered: the validation rows are the last ones. Windows with
    ``step=1`` overlap, so split them with ``TimeSeriesSplit(gap=horizon - 1)`` rather than a
    shuffled K-fold, which would leak test targets into training.

    See Also
    --------
    make_windows : Cut a series into the rows this regressor learns from.
    tsattn.Seq2SeqForecaster : The same model on whole series, with dates and many series.

    Examples
    --------
    >>> import numpy as np
    >>> from tsattn import Seq2SeqRegressor, make_windows
    >>> X, Y = make_windows(np.sin(np.arange(200) / 5), input_size=12, horizon=4)
    >>> r = Seq2SeqRegressor(hidden_size=8, max_epochs=2, random_state=0, verbose=False)
    >>> r.fit(X, Y).predict(X).shape
    (185, 4)
    """

    def __init__(
        self,
        hidden_size: int = 64,
        *,
        num_layers: int = 1,
        cell: str = "lstm",
        bidirectional: bool = False,
        dropout: float = 0.0,
        attention: str = "bahdanau",
        attention_size: int | None = None,
        decoder: str = "recursive",
        segment_length: int | str = 1,
        scaler: str = "standard",
        loss: str = "mae",
        max_epochs: int = 100,
        batch_size: int = 256,
        learning_rate: float = 1e-3,
        early_stopping_patience: int | None = 10,
        validation_size: float = 0.1,
        device="auto",
        random_state=None,
        verbose: bool = True,
    ):
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.cell = cell
        self.bidirectional = bidirectional
        self.dropout = dropout
        self.attention = attention
        self.attention_size = attention_size
        self.decoder = decoder
        self.segment_length = segment_length
        self.scaler = scaler
        self.loss = loss
        self.max_epochs = max_epochs
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.early_stopping_patience = early_stopping_patience
        self.validation_size = validation_size
        self.device = device
        self.random_state = random_state
        self.verbose = verbose

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.three_d_array = True
        tags.target_tags.multi_output = True
        tags.target_tags.single_output = True
        # cuDNN's RNN kernels and atomics make GPU training differ from run to run.
        tags.non_deterministic = _may_use_cuda(self.device)
        return tags

    # ------------------------------------------------------------------------------------------
    # fit

    def fit(self, X, y) -> Seq2SeqRegressor:
        """Train on input windows ``X`` and the target windows ``y`` that follow them.

        Parameters
        ----------
        X : array-like
            (n, input_size) windows of one variable, or (n, input_size, n_features) windows
            whose feature 0 is the target and the others are covariates.
        y : array-like
            (n,) one step ahead, or (n, horizon) steps ahead.

        Returns
        -------
        self : Seq2SeqRegressor
        """
        network.check_model_params(self)
        check_option("scaler", self.scaler, REGRESSOR_SCALERS)
        device = resolve_device(self.device)
        X, y = validate_data(
            self,
            X,
            y,
            dtype=(np.float32, np.float64),
            allow_nd=True,
            multi_output=True,
            y_numeric=True,
        )
        check_magnitude(X, "X")
        check_magnitude(y, "y")
        X = _as_windows(X)
        Y = y.reshape(len(y), -1)  # (n, H)

        n_channels = X.shape[2]
        if self.scaler == "standard" and n_channels > 1:
            covariates = X[..., 1:].reshape(-1, n_channels - 1)  # (n * I, F - 1)
            loc = covariates.mean(0, dtype=np.float64)
            scale = covariates.std(0, dtype=np.float64)
            # A constant covariate is kept as it is rather than divided by 0; so is one whose
            # deviation is rounding noise (1e-154) that becomes 0 in float32, where it is used.
            scale = np.where(scale > np.finfo(np.float32).tiny, scale, 1.0)
        else:
            loc, scale = np.zeros(n_channels - 1), np.ones(n_channels - 1)

        n_valid = math.ceil(self.validation_size * len(X)) if self.validation_size > 0 else 0
        n_train = len(X) - n_valid if n_valid < len(X) else len(X)
        data = {
            name: ArrayBatches(X[rows], Y[rows], self.scaler, loc, scale, device)
            for name, rows in (("train", slice(0, n_train)), ("valid", slice(n_train, None)))
        }
        config = network.core_config(
            self,
            source_features=n_channels,
            target_features=1,
            output_size=1,
            input_size=X.shape[1],
        )
        self._fit_module(
            config,
            network.make_loss(self.loss),
            data["train"],
            data["valid"],
            network.training_config(self),
            self._seed(),
            device,
        )
        self.segment_length_ = self.module_.config.segment_length
        self.input_size_ = X.shape[1]
        self.n_channels_ = n_channels
        self.horizon_ = Y.shape[1]
        self.covariate_loc_ = loc.astype(np.float64)
        self.covariate_scale_ = scale.astype(np.float64)
        self._single_output = y.ndim == 1
        return self

    # ------------------------------------------------------------------------------------------
    # predict

    def predict(self, X) -> np.ndarray:
        """Predict the target window after every input window.

        Parameters
        ----------
        X : array-like
            Windows shaped as in ``fit``.

        Returns
        -------
        numpy.ndarray
            (n,) when ``fit`` got a 1-D ``y``, else (n, horizon), float64.
        """
        check_is_fitted(self, "module_")
        X = validate_data(self, X, dtype=(np.float32, np.float64), allow_nd=True, reset=False)
        check_magnitude(X, "X")
        X = _as_windows(X)
        if X.shape[2] != self.n_channels_:
            raise ValueError(
                f"X has {X.shape[2]} features per step, but {type(self).__name__} was fitted "
                f"with {self.n_channels_}; give windows shaped (n, {self.input_size_}, "
                f"{self.n_channels_})"
            )
        rows = ArrayBatches(
            X, None, self.scaler, self.covariate_loc_, self.covariate_scale_, self.device_
        )
        parts = []
        for index in in_chunks(len(rows)):
            forecast, _ = network.roll_out(self.module_, rows.batch(index), self.horizon_)  # (B, H)
            parts.append(forecast.cpu().numpy())
        predictions = np.concatenate(parts).astype(np.float64)  # (n, H)
        return predictions[:, 0] if self._single_output else predictions

    # ------------------------------------------------------------------------------------------
    # save / load

    def _state_artifacts(self):
        state = {
            "n_features_in_": int(self.n_features_in_),
            "input_size_": int(self.input_size_),
            "n_channels_": int(self.n_channels_),
            "horizon_": int(self.horizon_),
            "single_output": bool(self._single_output),
        }
        if hasattr(self, "feature_names_in_"):
            state["feature_names_in_"] = [str(name) for name in self.feature_names_in_]
        tensors = {
            "covariate_loc": torch.from_numpy(self.covariate_loc_),
            "covariate_scale": torch.from_numpy(self.covariate_scale_),
        }
        return state, tensors

    def _restore_state(self, state, tensors) -> None:
        self.segment_length_ = self.module_.config.segment_length
        self.n_features_in_ = state["n_features_in_"]
        if "feature_names_in_" in state:
            self.feature_names_in_ = np.asarray(state["feature_names_in_"], dtype=object)
        self.input_size_ = state["input_size_"]
        self.n_channels_ = state["n_channels_"]
        self.horizon_ = state["horizon_"]
        self.covariate_loc_ = tensors["covariate_loc"].numpy()
        self.covariate_scale_ = tensors["covariate_scale"].numpy()
        self._single_output = state["single_output"]

    # ------------------------------------------------------------------------------------------
    # pickling: the weights travel as CPU tensors, never the device

    def __getstate__(self):
        state = dict(super().__getstate__())  # a copy: the object's own __dict__ must not change
        module = state.pop("module_", None)
        if module is not None:
            state["_module_config"] = asdict(module.config)
            state["_module_weights"] = {k: v.detach().cpu() for k, v in module.state_dict().items()}
            state.pop("device_", None)
        return state

    def __setstate__(self, state):
        state = dict(state)
        config = state.pop("_module_config", None)
        weights = state.pop("_module_weights", None)
        super().__setstate__(state)
        if config is not None:
            module = Seq2Seq(CoreConfig(**config))
            module.load_state_dict(weights)
            self.module_ = module.eval()
            self.device_ = torch.device("cpu")


def _as_windows(X: np.ndarray) -> np.ndarray:
    """(n, I) or (n, I, F) validated input as (n, I, F), without copying."""
    if X.ndim == 2:
        return X[:, :, None]
    if X.ndim != 3:
        raise ValueError(
            f"X must be 2-D (n, input_size) or 3-D (n, input_size, n_features), got shape {X.shape}"
        )
    if X.shape[1] == 0 or X.shape[2] == 0:
        raise ValueError(
            f"X has shape {X.shape}: windows need at least 1 step and 1 feature per step"
        )
    return X


def _may_use_cuda(device) -> bool:
    """Whether ``device`` (the unvalidated parameter) would put the model on a GPU."""
    if isinstance(device, torch.device):
        return device.type == "cuda"
    if isinstance(device, str):
        return device.startswith("cuda") or (device == "auto" and torch.cuda.is_available())
    return False
