"""Seq2SeqRegressor: the attention encoder-decoder as a scikit-learn regressor on windows.

``make_windows`` (in :mod:`~tsattn.forecast.windows.arrays`, importable from here too) cuts a series
into (input window, target window) rows; ``Seq2SeqRegressor`` learns to map the one to the
other with the same core, loss, roll-out and training loop as
:class:`~tsattn.Seq2SeqForecaster`. Rows are independent samples, so every scikit-learn tool
(pipelines, grid search, cross-validation, target transforms) works on them. Shapes: n rows,
B batch, I input size, F features per step, H horizon.
"""

from __future__ import annotations

import math
from dataclasses import asdict

import numpy as np
import torch
from sklearn.base import RegressorMixin
from sklearn.utils.validation import check_is_fitted, validate_data

from tsattn.core.seq2seq import CoreConfig, Seq2Seq
from tsattn.estimator import Seq2SeqEstimator, in_chunks
from tsattn.forecast import model_setup, rollout
from tsattn.forecast.panel.checks import check_magnitude
from tsattn.forecast.regressor_file_checks import check_saved_sizes
from tsattn.forecast.windows.arrays import (
    ArrayBatches,
    as_windows,
    covariate_statistics,
    make_windows,
)
from tsattn.parameters import REGRESSOR_PARAMETERS, check_params
from tsattn.training import resolve_device

# make_windows lives with the rows it cuts; it stays importable from here, its first home.
__all__ = ["Seq2SeqRegressor", "make_windows"]

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
        several times faster. See :class:`Seq2SeqForecaster`. The forecaster's default is
        "direct"; the regressor keeps "recursive" (with ``segment_length=1``) because rows
        come without the forecaster's baseline and epoch sizing, and on a short series at
        these training defaults (one batch per epoch) the direct decoder forecasts worse;
        with more optimiser steps per epoch it does as well or better
        (``benchmarks/regressor_defaults.py``).
    segment_length : int or "auto", default=1
        Steps per RNN step: the encoder reads each window in segments of this many steps
        (and the direct decoder emits ``Y`` in segments); "auto" is
        ``ceil(input_size / 16)``. See :class:`Seq2SeqForecaster`; 1 (not the forecaster's
        "auto") for the reason given under ``decoder``.
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
    lr_schedule : {"cosine", "plateau"} or None, default=None
        The learning rate over the epochs. The rule: constant (``learning_rate`` throughout)
        unless a schedule is asked for. "cosine" anneals it from ``learning_rate`` to nearly 0
        over ``max_epochs``; "plateau" halves it whenever the validation loss (the training
        loss without validation) has not improved for half ``early_stopping_patience`` epochs,
        down to ``learning_rate / 1000`` (see :mod:`tsattn.schedules`).
    early_stopping_patience : int or None, default=10
        Epochs without a better validation loss before training stops; None trains all epochs.
        Longer than the forecaster's 5: a forecaster network corrects a baseline and so
        starts near its best forecasts, while the regressor has no baseline and learns the
        whole mapping from its first epoch.
    validation_size : float, default=0.1
        Share of the last rows (rows are taken to be time-ordered windows) held out to choose
        the epoch whose weights are kept; 0, or too few rows to spare one, keeps the epoch with
        the best training loss.
    device : {"auto", "cpu", "cuda", "mps"}, "cuda:N" or torch.device, default="auto"
        Where to train and predict; "auto" picks CUDA, then MPS, then the CPU.
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
        lr_schedule: str | None = None,
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
        self.lr_schedule = lr_schedule
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
        check_params(self, REGRESSOR_PARAMETERS)
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
        X = as_windows(X)
        Y = y.reshape(len(y), -1)  # (n, H)

        n_channels = X.shape[2]
        loc, scale = covariate_statistics(X, self.scaler)

        n_valid = math.ceil(self.validation_size * len(X)) if self.validation_size > 0 else 0
        n_train = len(X) - n_valid if n_valid < len(X) else len(X)
        data = {
            name: ArrayBatches(X[rows], Y[rows], self.scaler, loc, scale, device)
            for name, rows in (("train", slice(0, n_train)), ("valid", slice(n_train, None)))
        }
        config = model_setup.core_config(
            self,
            source_features=n_channels,
            target_features=1,
            output_size=1,
            input_size=X.shape[1],
        )
        self._fit_module(
            config,
            rollout.make_loss(self.loss),
            data["train"],
            data["valid"],
            model_setup.training_config(self),
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
        X = as_windows(X)
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
            forecast, _ = rollout.roll_out(self.module_, rows.batch(index), self.horizon_)  # (B, H)
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
        check_saved_sizes(state, tensors, self.module_.config)
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


def _may_use_cuda(device) -> bool:
    """Whether ``device`` (the unvalidated parameter) would put the model on a GPU."""
    if isinstance(device, torch.device):
        return device.type == "cuda"
    if isinstance(device, str):
        return device.startswith("cuda") or (device == "auto" and torch.cuda.is_available())
    return False
