"""Seq2SeqForecaster: one global attention encoder-decoder over many series."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import torch
from sklearn.base import BaseEstimator
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted

from tsattn._validation import check_int, check_option
from tsattn.forecast import model as numeric
from tsattn.forecast.panel import Panel, TimeAxis, from_forecasts, to_panel
from tsattn.forecast.windows import (
    SCALERS,
    WindowBatches,
    forecast_windows,
    training_windows,
)
from tsattn.training import resolve_device, train

MISSING = ("error", "mask")


class Seq2SeqForecaster(BaseEstimator):
    """Forecast many series with one RNN encoder-decoder and Bahdanau attention.

    The model is global: it learns from windows of every series at once. Each window's history
    is scaled by its own mean and deviation, encoded by an LSTM or GRU, and the decoder forecasts
    ``horizon`` steps while attending to every step of the history.

    Parameters
    ----------
    horizon : int, default=1
        Steps ahead to forecast.
    input_size : int or None, default=None
        Steps of history the encoder reads; None means ``max(2 * horizon, 8)``. Series shorter
        than this are padded and the padding is masked from attention.
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
    quantiles : sequence of float or None, default=None
        Not available yet: probabilistic output.
    past_covariates : sequence of str, default=()
        Not available yet: covariates known only up to the forecast origin.
    missing : {"error", "mask"}, default="error"
        What to do with NaN in ``y``; only "error" is available yet.
    scaler : {"standard", "none"}, default="standard"
        Per-window scaling of history and targets.
    loss : {"mae", "mse", "huber"}, default="mae"
        Training loss on scaled targets.
    max_epochs : int, default=100
        Upper bound on passes over the training windows.
    batch_size : int, default=256
        Windows per optimiser step.
    learning_rate : float, default=1e-3
        Adam's learning rate.
    early_stopping_patience : int or None, default=10
        Epochs without a better validation loss before training stops; None trains all epochs.
    validation_size : float, default=0.1
        Share of each series' last windows held out (a temporal split) to choose the epoch whose
        weights are kept; 0 keeps the epoch with the best training loss.
    device : {"auto", "cpu", "cuda"} or torch.device, default="auto"
        Where to train; "auto" picks CUDA where it exists.
    random_state : int, numpy.random.RandomState or None, default=None
        Seeds weights and batch order; the same value gives identical forecasts on CPU.
    verbose : bool, default=True
        Show a progress bar.

    Attributes
    ----------
    module_ : tsattn.core.Seq2Seq
        The trained torch module.
    history_ : pandas.DataFrame
        Per-epoch ``train_loss``, ``valid_loss`` and ``seconds``.
    input_size_ : int
        The input size used.
    n_series_ : int
        Number of series seen in ``fit``.
    series_ids_ : list
        Their identifiers.
    freq_ : str or int or None
        The frequency inferred from the timestamps.
    device_ : torch.device
        Where the model lives.

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
        input_size: int | None = None,
        hidden_size: int = 64,
        num_layers: int = 1,
        cell: str = "lstm",
        bidirectional: bool = False,
        dropout: float = 0.0,
        attention: str = "bahdanau",
        quantiles=None,
        past_covariates=(),
        missing: str = "error",
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
        self.horizon = horizon
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.cell = cell
        self.bidirectional = bidirectional
        self.dropout = dropout
        self.attention = attention
        self.quantiles = quantiles
        self.past_covariates = past_covariates
        self.missing = missing
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

    # ------------------------------------------------------------------------------------------
    # fit

    def _check_params(self) -> tuple[int, int]:
        horizon = check_int("horizon", self.horizon)
        input_size = check_int("input_size", self.input_size, allow_none=True)
        numeric.check_model_params(self)
        check_option("scaler", self.scaler, SCALERS)
        check_option("missing", self.missing, MISSING)
        if self.quantiles is not None:
            raise NotImplementedError("quantiles are not available yet; leave quantiles=None")
        if len(tuple(self.past_covariates)):
            raise NotImplementedError("past_covariates are not available yet; leave it empty")
        if self.missing == "mask":
            raise NotImplementedError(
                "missing='mask' is not available yet; fill the gaps in y (e.g. y.interpolate())"
            )
        return horizon, input_size if input_size is not None else max(2 * horizon, 8)

    def fit(self, y, X=None, static=None) -> Seq2SeqForecaster:
        """Train one model on every series in ``y``.

        Parameters
        ----------
        y : pandas.Series, pandas.DataFrame or numpy.ndarray
            A Series (DatetimeIndex, PeriodIndex or integer index); a wide DataFrame with a
            column per series (leading NaN allowed for series that start later); a long
            DataFrame with columns ``unique_id``, ``ds``, ``y``; a 1-D array (one series) or a
            2-D array (time x series). ``y`` is not modified.
        X : None
            Not available yet: covariates.
        static : None
            Not available yet: static features per series.

        Returns
        -------
        self : Seq2SeqForecaster
        """
        horizon, input_size = self._check_params()
        if X is not None or static is not None:
            raise NotImplementedError("covariates X and static features are not available yet")
        device = resolve_device(self.device)
        panel = to_panel(y)
        _check_lengths(panel, horizon)
        seed = int(check_random_state(self.random_state).randint(np.iinfo(np.int32).max))

        train_windows, valid_windows = training_windows(
            panel.lengths, input_size, horizon, self.validation_size
        )
        batches = {
            name: WindowBatches(
                panel.values, panel.offsets, windows, input_size, horizon, self.scaler, device
            )
            for name, windows in (("train", train_windows), ("valid", valid_windows))
        }
        with torch.random.fork_rng(devices=[device] if device.type == "cuda" else []):
            torch.manual_seed(seed)
            module = numeric.build_core(self, 1, 1, 1).to(device)
            history = train(
                module,
                numeric.make_loss(self.loss),
                batches["train"],
                batches["valid"],
                numeric.training_config(self),
                np.random.default_rng(seed),
            )
        self.module_ = module
        self.history_ = pd.DataFrame(
            history, columns=["epoch", "train_loss", "valid_loss", "seconds"]
        )
        self.input_size_ = input_size
        self.device_ = device
        self._remember(panel, input_size)
        return self

    def _remember(self, panel: Panel, input_size: int) -> None:
        """Keep what predict needs: each series' last ``input_size`` values and its format."""
        keep = np.minimum(panel.lengths, input_size)
        tails = [
            panel.values[end - k : end] for end, k in zip(panel.offsets[1:], keep, strict=True)
        ]
        self.n_series_ = panel.n_series
        self.series_ids_ = list(panel.ids)
        self.freq_ = panel.axis.freq
        self._context = np.concatenate(tails).astype(np.float32)
        self._context_offsets = np.concatenate([[0], np.cumsum(keep)]).astype(np.int64)
        self._last = list(panel.last)
        self._axis = panel.axis
        self._layout = dict(panel.layout)

    # ------------------------------------------------------------------------------------------
    # predict

    def predict(self, X=None):
        """Forecast ``horizon`` steps after the end of every series seen in ``fit``.

        Parameters
        ----------
        X : None
            Not available yet: covariates over the forecast horizon.

        Returns
        -------
        pandas.Series, pandas.DataFrame or numpy.ndarray
            The same kind of object ``fit`` got: a Series with the future timestamps; a wide
            DataFrame with one column per series; a long DataFrame with ``unique_id``, ``ds``,
            ``y``; or an array of shape (horizon,) or (horizon, n_series).
        """
        check_is_fitted(self, "module_")
        if X is not None:
            raise NotImplementedError("covariates X are not available yet")
        forecasts = self._forecast_array()
        return from_forecasts(
            forecasts, ids=self.series_ids_, last=self._last, axis=self._axis, layout=self._layout
        )

    def _forecast_array(self) -> np.ndarray:
        """(n_series, horizon) forecasts, in batches over series."""
        lengths = np.diff(self._context_offsets)
        batches = WindowBatches(
            self._context,
            self._context_offsets,
            forecast_windows(lengths),
            self.input_size_,
            self.horizon,
            self.scaler,
            self.device_,
        )
        chunk = max(self.batch_size, 1024)
        parts = []
        for begin in range(0, len(batches), chunk):
            batch = batches.batch(np.arange(begin, min(begin + chunk, len(batches))))
            forecast, _ = numeric.roll_out(self.module_, batch, self.horizon)
            parts.append(forecast.cpu().numpy())
        return np.concatenate(parts).astype(np.float64)

    # ------------------------------------------------------------------------------------------
    # save / load

    def save(self, path) -> None:
        """Write the fitted model to ``path``: safetensors weights and JSON, no pickle.

        The file is written under a temporary name and renamed into place, so a failed save
        leaves any previous file intact. Load it with :func:`tsattn.load`.

        Parameters
        ----------
        path : str or os.PathLike
            Destination file (``.tsattn`` by convention).
        """
        from tsattn.io import save_estimator

        check_is_fitted(self, "module_")
        save_estimator(self, path)

    def _get_artifacts(self) -> tuple[dict, dict[str, torch.Tensor]]:
        """JSON-ready state and tensors for :mod:`tsattn.io`."""
        state = {
            "params": _json_params(self.get_params()),
            "core": self.module_.config.__dict__,
            "input_size_": self.input_size_,
            "series_ids_": self.series_ids_,
            "last": [_stamp_to_json(t) for t in self._last],
            "axis": self._axis.to_json(),
            "layout": self._layout,
            "history_": self.history_.to_dict(orient="list"),
        }
        tensors = {f"module.{k}": v for k, v in self.module_.state_dict().items()}
        tensors["context"] = torch.from_numpy(self._context)
        tensors["context_offsets"] = torch.from_numpy(self._context_offsets)
        return state, tensors

    @classmethod
    def _from_artifacts(cls, state: dict, tensors: dict[str, torch.Tensor]) -> Seq2SeqForecaster:
        from tsattn.core.seq2seq import CoreConfig, Seq2Seq

        est = cls(**_params_from_json(state["params"]))
        module = Seq2Seq(CoreConfig(**state["core"]))
        prefix = "module."
        module.load_state_dict(
            {k[len(prefix) :]: v for k, v in tensors.items() if k.startswith(prefix)}
        )
        module.eval()
        est.module_ = module
        est.device_ = torch.device("cpu")
        est.input_size_ = state["input_size_"]
        est.history_ = pd.DataFrame(state["history_"])
        axis = TimeAxis(**state["axis"])
        est.n_series_ = len(state["series_ids_"])
        est.series_ids_ = state["series_ids_"]
        est.freq_ = axis.freq
        est._context = tensors["context"].numpy()
        est._context_offsets = tensors["context_offsets"].numpy()
        est._last = [_stamp_from_json(t, axis) for t in state["last"]]
        est._axis = axis
        est._layout = state["layout"]
        return est


def _check_lengths(panel: Panel, horizon: int) -> None:
    short = np.flatnonzero(panel.lengths <= horizon)
    if len(short):
        i = int(short[0])
        raise ValueError(
            f"series {panel.ids[i]!r} has {panel.lengths[i]} values, too short to give one "
            f"training target: it needs more than horizon={horizon} values "
            f"({len(short)} series are that short). Drop them or lower the horizon"
        )


def _json_params(params: dict) -> dict:
    """Constructor parameters as JSON (a device object or RandomState becomes a string/None)."""
    out = {}
    for key, value in params.items():
        if isinstance(value, torch.device):
            value = str(value)
        elif isinstance(value, np.random.RandomState):
            value = None
        elif isinstance(value, tuple):
            out.setdefault("__tuples__", []).append(key)
            value = list(value)
        elif isinstance(value, np.generic):
            value = value.item()
        out[key] = value
    return out


def _params_from_json(params: dict) -> dict:
    """Inverse of :func:`_json_params`: tuples come back as tuples."""
    params = dict(params)
    for key in params.pop("__tuples__", []):
        params[key] = tuple(params[key])
    return params


def _stamp_to_json(stamp: Any) -> Any:
    if isinstance(stamp, (pd.Timestamp, pd.Period)):
        return str(stamp)
    return int(stamp)


def _stamp_from_json(value: Any, axis: TimeAxis) -> Any:
    if axis.kind == "datetime":
        return pd.Timestamp(value)
    if axis.kind == "period":
        return pd.Period(value, freq=axis.freq)
    return int(value)
