"""The forecaster's and regressor's parameters turned into the core's settings.

:func:`core_config` sizes the :class:`~tsattn.core.Seq2Seq` from the parameters (checked by
:mod:`tsattn.parameters`) and the data's widths; :func:`training_config` gives the training loop's
settings, with the rule for batches per epoch.
"""

from __future__ import annotations

import numpy as np

from tsattn._validation import check_int
from tsattn.core.seq2seq import CoreConfig
from tsattn.estimator import rnn_options, training_options
from tsattn.forecast import distributions
from tsattn.training import TrainingConfig

# segment_length="auto" keeps the encoder at this many recurrent steps or fewer: 36 monthly
# values are read as 12 segments of 3, 48 weekly ones as 16 of 3. Fewer, longer segments train
# faster; longer ones than that blur the steps attention can tell apart (benchmarks/README.md
# has the measurements).
AUTO_ENCODER_STEPS = 16


def segment_length(value: int | str, input_size: int) -> int:
    """The steps per segment that ``segment_length`` (an int or "auto") means for this input."""
    if value == "auto":
        return max(1, -(-input_size // AUTO_ENCODER_STEPS))
    return int(value)


def core_config(
    est,
    *,
    source_features: int,
    target_features: int,
    output_size: int,
    input_size: int,
    **covariates,
) -> CoreConfig:
    """The core's configuration from the data's sizes and the estimator's parameters.

    ``covariates``: the covariate settings of :class:`~tsattn.core.seq2seq.CoreConfig`
    (``source_covariates``, ``target_covariates``, ``covariate_gate``, ``covariate_dropout``)
    for a model that reads covariates.
    """
    return CoreConfig(
        source_features=source_features,
        target_features=target_features,
        output_size=output_size,
        **rnn_options(est),
        attention_size=est.attention_size,
        decoder=est.decoder,
        segment_length=segment_length(est.segment_length, input_size),
        **covariates,
    )


def distribution(loss: str) -> str | None:
    """The count likelihood ``loss`` names ("poisson", "negbin", "tweedie"), else None."""
    return loss if loss in distributions.COUNT_LOSSES else None


def output_size(loss: str, quantiles: list | None) -> int:
    """The head's outputs per step: one per quantile level, a distribution's parameters, or 1."""
    if quantiles is not None:
        return len(quantiles)
    kind = distribution(loss)
    return 1 if kind is None else distributions.output_width(kind)


def check_count_data(loss: str, values) -> None:
    """Refuse negative values for a count likelihood (its support is y >= 0)."""
    if distribution(loss) is None:
        return
    lowest = float(np.nanmin(values)) if len(values) else 0.0
    if lowest < 0:
        raise ValueError(
            f"loss={loss!r} is a likelihood of counts and needs y >= 0; y has negative values "
            f"(min {lowest:g}): use loss='mae' or 'mse'"
        )


def training_config(est) -> TrainingConfig:
    """The training loop's settings from the estimator's parameters."""
    return TrainingConfig(
        **training_options(est),
        max_batches_per_epoch=_batches_per_epoch(est),
    )


# "auto" epochs hold at most this many batches (12,800 windows of 256), so a large panel is
# validated, and early stopping checks, every few seconds rather than once an hour.
AUTO_BATCHES_PER_EPOCH = 50


def _batches_per_epoch(est) -> int | None:
    """Cap on batches per epoch from ``windows_per_epoch`` (estimators without it: no cap)."""
    windows = getattr(est, "windows_per_epoch", None)
    if windows is None:
        return None
    if windows == "auto":
        return AUTO_BATCHES_PER_EPOCH
    return max(1, -(-check_int("windows_per_epoch", windows) // est.batch_size))
