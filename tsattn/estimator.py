"""The skeleton every tsattn estimator shares: seed, build, train, predict in chunks, save.

In the spirit of skorch's ``fit -> initialize -> fit_loop`` split, an estimator's ``fit``
prepares what is its own (panels and baselines for the forecaster, windows for the regressor,
vocabularies for the translator) and hands the module's configuration, the loss and the batch
sources to :meth:`Seq2SeqEstimator._fit_module`, which seeds, builds and trains the module in one
place. Saving works the same way: the skeleton writes the parameters, the module and the history,
and each estimator adds only its own state (``_state_artifacts`` / ``_restore_state``).
"""

from __future__ import annotations

from dataclasses import asdict

import numpy as np
import pandas as pd
import torch
from sklearn.base import BaseEstimator

from tsattn._validation import check_random_state
from tsattn.core.seq2seq import CoreConfig, Seq2Seq
from tsattn.io import (
    SaveMixin,
    module_from_artifacts,
    module_tensors,
    params_from_json,
    params_to_json,
)
from tsattn.training import BatchSource, TrainingConfig, train

# Rows per forward pass at prediction time: large enough to keep the device busy, small enough
# that a panel of 100,000 series does not hold all activations at once.
PREDICT_CHUNK = 1024
HISTORY_COLUMNS = ["epoch", "train_loss", "valid_loss", "seconds"]
# Most weights a model may have (8 GiB of float32): far beyond any model this package trains
# well, so a larger size is a typo (hidden_size=10**6) refused before torch tries to allocate it.
MAX_PARAMETERS = 2**31


def check_model_size(config: CoreConfig) -> None:
    """Refuse a configuration whose weights alone would not fit in memory, before building it."""
    hidden = config.hidden_size
    gates = 4 if config.cell == "lstm" else 3
    directions = 2 if config.bidirectional else 1
    # Encoder and decoder RNNs dominate: gates x (input + recurrent) x hidden per layer.
    recurrent = 2 * config.num_layers * directions * gates * hidden * 2 * hidden
    width = config.embedding_size or hidden
    tokens = (config.source_vocab + config.target_vocab) * width
    head = config.output_size * hidden * directions
    attention = (config.attention_size or hidden) * hidden * 2 * directions
    total = recurrent + tokens + head + attention
    if total > MAX_PARAMETERS:
        raise ValueError(
            f"hidden_size={hidden} with num_layers={config.num_layers} needs about "
            f"{total * 4 / 2**30:.0f} GiB for the weights alone; use a hidden_size in the tens or "
            "hundreds"
        )


def rnn_options(est) -> dict:
    """The core's RNN settings read from the parameters every estimator has.

    Parameters
    ----------
    est : Seq2SeqEstimator
        Any tsattn estimator (its parameters are read, never changed).

    Returns
    -------
    dict
        ``hidden_size``, ``num_layers``, ``cell``, ``bidirectional``, ``dropout`` and
        ``attention``, as :class:`~tsattn.core.seq2seq.CoreConfig` takes them.
    """
    return {
        "hidden_size": est.hidden_size,
        "num_layers": est.num_layers,
        "cell": est.cell,
        "bidirectional": bool(est.bidirectional),
        "dropout": float(est.dropout),
        "attention": est.attention,
    }


def training_options(est) -> dict:
    """The training loop's settings read from the parameters every estimator has.

    Parameters
    ----------
    est : Seq2SeqEstimator
        Any tsattn estimator (its parameters are read, never changed).

    Returns
    -------
    dict
        ``max_epochs``, ``batch_size``, ``learning_rate``, ``lr_schedule``,
        ``early_stopping_patience`` and ``verbose``, as :class:`~tsattn.training.TrainingConfig`
        takes them.
    """
    return {
        "max_epochs": est.max_epochs,
        "batch_size": est.batch_size,
        "learning_rate": est.learning_rate,
        "lr_schedule": est.lr_schedule,
        "early_stopping_patience": est.early_stopping_patience,
        "verbose": bool(est.verbose),
    }


class Seq2SeqEstimator(SaveMixin, BaseEstimator):
    """Base class of the forecaster, the regressor and the translator.

    Subclasses store their constructor arguments unchanged (scikit-learn's rule) and call, from
    ``fit``: :meth:`_seed` for the run's one seed, :meth:`_fit_module` to build and train the
    core. Fitted attributes it sets: ``module_``, ``history_`` and ``device_``.
    """

    def _rnn_options(self) -> dict:
        """The core's RNN settings read from the parameters (see :func:`rnn_options`)."""
        return rnn_options(self)

    def _training_options(self) -> dict:
        """The training loop's settings read from the parameters (see :func:`training_options`)."""
        return training_options(self)

    def _seed(self) -> int:
        """The run's seed, drawn once from ``random_state`` (scikit-learn's convention)."""
        return int(check_random_state(self.random_state).randint(np.iinfo(np.int32).max))

    def _fit_module(
        self,
        config: CoreConfig,
        loss,
        train_data: BatchSource,
        valid_data: BatchSource | None,
        training: TrainingConfig,
        seed: int,
        device: torch.device,
        rng: np.random.Generator | None = None,
        initial: Seq2Seq | None = None,
        **train_options,
    ) -> None:
        """Build the core from ``config`` and train it; the global torch RNG is left as it was.

        ``rng`` draws the batch order (a fresh generator from ``seed`` by default). ``initial``
        is a trained module of the same ``config`` to continue from (a warm start); it is copied,
        not changed. The fitted attributes are assigned only after training, so a failed refit
        leaves a previously fitted model whole.
        """
        check_model_size(config)
        rng = np.random.default_rng(seed) if rng is None else rng
        with torch.random.fork_rng(devices=[device] if device.type == "cuda" else []):
            torch.manual_seed(seed)
            module = Seq2Seq(config).to(device)
            if initial is not None:
                module.load_state_dict(initial.state_dict())
            history = train(
                module, loss, train_data, valid_data, training, rng, **train_options
            )  # fmt: skip
        self.module_ = module
        self.history_ = pd.DataFrame(history, columns=HISTORY_COLUMNS)
        self.device_ = device

    # ------------------------------------------------------------------------------------------
    # save / load (the protocol of tsattn.io)

    def _get_artifacts(self) -> tuple[dict, dict[str, torch.Tensor]]:
        """JSON-ready state and tensors: parameters, module, history, then the estimator's own."""
        state = {
            "params": params_to_json(self.get_params()),
            "core": asdict(self.module_.config),
            "history_": self.history_.to_dict(orient="list"),
        }
        tensors = module_tensors(self.module_)
        own_state, own_tensors = self._state_artifacts()
        state.update(own_state)
        tensors.update(own_tensors)
        return state, tensors

    @classmethod
    def _from_artifacts(cls, state: dict, tensors: dict[str, torch.Tensor]):
        """The fitted estimator a model file describes, on the CPU, in evaluation mode."""
        est = cls(**params_from_json(state["params"]))
        est.module_ = module_from_artifacts(state, tensors)
        est.history_ = pd.DataFrame(state["history_"])
        est.device_ = torch.device("cpu")
        est._restore_state(state, tensors)
        return est

    def _state_artifacts(self) -> tuple[dict, dict[str, torch.Tensor]]:
        """The estimator's own fitted state besides parameters, module and history."""
        return {}, {}

    def _restore_state(self, state: dict, tensors: dict[str, torch.Tensor]) -> None:
        """Set the fitted attributes :meth:`_state_artifacts` wrote."""


def in_chunks(n: int, size: int = PREDICT_CHUNK):
    """Index arrays covering ``range(n)`` in consecutive chunks of at most ``size``."""
    for begin in range(0, n, size):
        yield np.arange(begin, min(begin + size, n))
