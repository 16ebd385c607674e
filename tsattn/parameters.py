"""Every estimator parameter declared once: its allowed values and a one-line help.

A row (:class:`Param`) says what a parameter may hold and what it means in a line; the
default is never written here: it is the estimator's ``__init__`` default (scikit-learn reads
parameters from the signature), read with :func:`init_defaults`. From the rows come

- the checks ``fit`` runs before any training (:func:`check_params`, as scikit-learn's
  ``_parameter_constraints``),
- the parameters of the sktime adapter (:mod:`tsattn.sktime`, from the forecaster's signature),
- the options of the ``tsattn`` command (:mod:`tsattn.cli.options`), each with the row's help
  and the estimator's default.

Estimators share the rows of the parameters they share (``hidden_size``, ``cell``,
``attention`` ...); a parameter whose values differ between estimators (the regressor's
``scaler``) has a row of its own in that estimator's table. Adding a parameter takes its row
here, its ``__init__`` argument (with its docstring entry) and its use.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping, Sequence
from typing import Any

# The rules, and the declaration of one parameter, are checks: they live with the others.
from tsattn._validation import (
    Boolean,
    Custom,
    Integer,
    Options,
    Param,
    Real,
    check_quantiles,
    check_random_state,
)
from tsattn.core.attention import ATTENTIONS
from tsattn.core.encoder import CELLS
from tsattn.core.seq2seq import DECODERS
from tsattn.distributed import resolve_device
from tsattn.forecast.covariates.calendar import check_calendar, check_holidays
from tsattn.forecast.covariates.spec import check_past_covariates
from tsattn.forecast.windows.arrays import REGRESSOR_SCALERS
from tsattn.forecast.windows.scaling import WINDOW_SCALERS
from tsattn.schedules import LR_SCHEDULES
from tsattn.translate.vocab import TOKENIZERS

POINT_LOSSES = ("mae", "mse", "huber")
# Likelihoods of counts on the data's own scale (the forecaster's; see rollout.COUNT_LOSSES).
LOSSES = (*POINT_LOSSES, "poisson", "negbin", "tweedie")
MISSING = ("error", "mask")
COVARIATE_SCALINGS = ("auto", "window", "series")
BASELINES = ("auto", "theta", "holt", "theta_holt")

# ----------------------------------------------------------------------------------------------
# the rules of the parameters that are checked by functions of their own


def _kept(check: Callable[[Any], Any]) -> Callable[[str, Any], Any]:
    """A rule from a function that checks one parameter; the value stays as the user gave it."""

    def rule(name: str, value: Any) -> Any:
        check(value)
        return value

    return rule


def _column_names(name: str, value: Any) -> Any:
    """Distinct column or feature names: a string or a sequence of strings."""
    names = [value] if isinstance(value, str) else value
    try:
        names = list(names)
    except TypeError:
        raise TypeError(f"{name} must be a list of column names, got {value!r}") from None
    if not all(isinstance(n, (str, int)) and not isinstance(n, bool) for n in names):
        raise TypeError(f"{name} must be a list of column names, got {value!r}")
    if len(set(map(str, names))) != len(names):
        raise ValueError(f"{name} has duplicate names: {names}")
    return value


def _random_state(name: str, value: Any) -> Any:
    check_random_state(value, name)
    return value


def _alias(name: str, value: Any) -> Any:
    """A column name for the forecasts: a non-empty string that is no key column."""
    if not isinstance(value, str) or not value.strip():
        raise TypeError(f"{name} must be a non-empty string or None, got {value!r}")
    if value in ("unique_id", "ds", "cutoff", "y"):
        raise ValueError(
            f"{name}={value!r} would name a key column (unique_id, ds, cutoff or y, the "
            "actual values); pick another name"
        )
    return value


def _level(text: str) -> float:
    """A probability strictly between 0 and 1, from the command line."""
    try:
        value = float(text)
    except ValueError:
        raise ValueError(f"expected a number in (0, 1), got {text!r}") from None
    if not 0.0 < value < 1.0:
        raise ValueError(f"must lie strictly between 0 and 1, got {text}")
    return value


# ----------------------------------------------------------------------------------------------
# the declarations

PARAMETERS: dict[str, Param] = {
    # the data
    "horizon": Param(Integer(), "steps ahead to forecast"),
    "input_size": Param(
        Integer(), "steps of history the encoder reads (none: from the series' lengths)", none=True
    ),
    "season_length": Param(
        Integer(),
        "seasonal period of the multiplicative adjustment (none: from the dates' frequency; "
        "1: no adjustment)",
        none=True,
    ),
    "missing": Param(Options(MISSING), "NaN in y: refuse them, or mask them from the model"),
    "nonnegative": Param(Boolean(), "clip forecasts at 0 (sales, counts); y must be >= 0"),
    "scaler": Param(
        Options(("auto", *WINDOW_SCALERS)),
        "per-window scaling of history and targets (auto: log for y >= 0, else standard)",
    ),
    "past_covariates": Param(
        Custom(
            _kept(check_past_covariates),
            metavar="COLUMN",
            nargs="+",
            from_list=tuple,
        ),
        "columns of the covariates known only up to the forecast origin",
    ),
    "calendar_features": Param(
        Custom(
            _kept(check_calendar),
            metavar="NAME",
            nargs="*",
            from_list=lambda names: list(names) or True,
        ),
        "calendar covariates from the dates: hour, dayofweek, dayofmonth, dayofyear, week, "
        "month, quarter (no name: those that vary at the data's frequency; auto: those when X "
        "has columns known in advance)",
    ),
    "covariate_scaling": Param(
        Options(COVARIATE_SCALINGS),
        "what the network reads of numeric covariates: auto (known: level and change; past-only: "
        "change), window (change), series (level)",
    ),
    "holidays": Param(
        Custom(_kept(check_holidays), metavar="CODE", nargs="+", from_list=tuple),
        "holiday flags from country calendars, e.g. AU or US-CA (needs tsattn[holidays])",
        none=True,
    ),
    # the model
    "hidden_size": Param(Integer(), "hidden units of the encoder and decoder RNNs"),
    "num_layers": Param(Integer(), "stacked RNN layers in the encoder and in the decoder"),
    "cell": Param(Options(CELLS), "recurrent cell"),
    "bidirectional": Param(Boolean(), "encode the input in both directions"),
    "dropout": Param(Real(0.0, 1.0), "dropout between stacked layers"),
    "attention": Param(Options(ATTENTIONS), "additive, multiplicative or no attention"),
    "attention_size": Param(
        Integer(), "units of the additive attention's hidden layer (none: hidden_size)", none=True
    ),
    "decoder": Param(
        Options(DECODERS), "decode one step at a time, or the whole horizon in one call"
    ),
    "segment_length": Param(
        Integer(),
        "steps per RNN step (auto: the encoder runs 16 steps or fewer)",
        literals=("auto",),
    ),
    "baseline": Param(
        Options(BASELINES),
        "statistical forecast the network corrects (none: the network alone)",
        none=True,
    ),
    "covariate_gate": Param(Boolean(), "let covariates in through learnt gates"),
    "covariate_dropout": Param(
        Real(0.0, 1.0), "probability that a covariate is zeroed for a whole training window"
    ),
    "covariate_selection": Param(
        Options(("validation",)),
        "drop the covariates that do not help on the validation windows (with a warning each) "
        "and fit again",
        none=True,
    ),
    "keep_covariates": Param(
        Custom(_column_names, metavar="COLUMN", nargs="+", from_list=tuple),
        "covariate, calendar, holiday or static names covariate_selection never drops",
    ),
    # training
    "loss": Param(
        Options(LOSSES),
        "training loss: mae, mse, huber on scaled targets; poisson, negbin, tweedie likelihoods "
        "of counts",
    ),
    "teacher_forcing": Param(Boolean(), "train the recursive decoder on the true previous values"),
    "max_epochs": Param(Integer(), "most passes over the training data"),
    "batch_size": Param(Integer(), "samples per optimiser step (all processes together)"),
    "learning_rate": Param(Real(0.0, float("inf"), low_open=True), "Adam's learning rate"),
    "lr_schedule": Param(
        Options(LR_SCHEDULES),
        "learning rate over the epochs: cosine annealing, or halved on a plateau of the "
        "monitored loss (none: constant)",
        none=True,
    ),
    "early_stopping_patience": Param(
        Integer(),
        "epochs without a better validation loss before training stops (none: never)",
        none=True,
    ),
    "windows_per_epoch": Param(
        Integer(),
        "training windows drawn per epoch (auto: all, within 20 to 50 batches; none: all)",
        none=True,
        literals=("auto",),
    ),
    "validation_size": Param(
        Real(0.0, 1.0), "share of the data held out to choose the epoch whose weights are kept"
    ),
    "warm_start": Param(Boolean(), "continue training the fitted model", cli=False),
    "device": Param(
        Custom(_kept(resolve_device), metavar="DEVICE"),
        "where to train: auto, cpu, cuda, cuda:N or mps",
    ),
    "random_state": Param(
        Custom(_random_state, from_text=int, metavar="SEED"),
        "seed of the weights and the batch order (none: fresh entropy)",
        none=True,
    ),
    "verbose": Param(Boolean(strict=False), "show a progress bar"),
    # the output
    "alias": Param(
        Custom(_alias),
        "name of the forecast column and prefix of the interval columns (Nixtla's style)",
        none=True,
    ),
    "quantiles": Param(
        Custom(
            _kept(check_quantiles), from_text=_level, metavar="LEVEL", nargs="+", from_list=tuple
        ),
        "quantile levels to forecast, e.g. 0.1 0.5 0.9",
        none=True,
    ),
    # the translator
    "embedding_size": Param(
        Integer(), "size of the token embeddings (none: hidden_size)", none=True
    ),
    "tokenizer": Param(Options(TOKENIZERS), "split string sentences into words or characters"),
    "min_freq": Param(Integer(), "tokens seen fewer times in fit map to <unk>"),
    "reverse_source": Param(Boolean(), "feed the source sentence backwards"),
    "beam_size": Param(Integer(), "hypotheses kept by beam search (1: greedy search)"),
    "length_penalty": Param(
        Real(0.0, float("inf")), "beam hypotheses rank by log-probability / length ** this"
    ),
    "max_length": Param(
        Integer(),
        "most tokens generated per sentence (none: the longest target in fit plus 10)",
        none=True,
    ),
}

# The regressor scales windows of any sign: no log scale, and no "auto" to resolve.
REGRESSOR_PARAMETERS: dict[str, Param] = {
    **PARAMETERS,
    "scaler": Param(Options(REGRESSOR_SCALERS), "per-window scaling of inputs and targets"),
    "loss": Param(Options(POINT_LOSSES), "training loss on scaled targets"),
}

# ----------------------------------------------------------------------------------------------
# reading the declarations


def init_parameters(cls: type) -> dict[str, inspect.Parameter]:
    """The parameters of ``cls.__init__`` by name, in order, without ``self``."""
    signature = inspect.signature(cls.__init__)
    return {
        name: p
        for name, p in signature.parameters.items()
        if name != "self" and p.kind not in (p.VAR_KEYWORD, p.VAR_POSITIONAL)
    }


def init_defaults(cls: type) -> dict[str, Any]:
    """Every ``__init__`` parameter's default: the one place a default is written."""
    return {name: p.default for name, p in init_parameters(cls).items()}


def declarations(cls: type, table: Mapping[str, Param] = PARAMETERS) -> dict[str, Param]:
    """The rows of ``cls``'s parameters, in ``__init__``'s order.

    Raises
    ------
    LookupError
        For a parameter without a row: every parameter must be declared.
    """
    missing = [name for name in init_parameters(cls) if name not in table]
    if missing:
        raise LookupError(
            f"{cls.__name__} has parameters without a declaration in tsattn.parameters: "
            f"{missing}; add a row for each"
        )
    return {name: table[name] for name in init_parameters(cls)}


def check_params(
    estimator, table: Mapping[str, Param] = PARAMETERS, names: Sequence[str] | None = None
) -> dict[str, Any]:
    """Check the estimator's parameters against their declarations, before any training.

    Parameters
    ----------
    estimator : object
        An estimator whose ``__init__`` parameters are stored as attributes of the same name.
    table : mapping of str to Param, default=PARAMETERS
        The estimator's declarations (:data:`REGRESSOR_PARAMETERS` for the regressor).
    names : sequence of str or None, default=None
        Check only these; None checks every ``__init__`` parameter, in the signature's order.

    Returns
    -------
    dict
        The checked values by name (integers as int, numbers as float).

    Raises
    ------
    TypeError, ValueError
        For the first parameter whose value its declaration does not allow, naming it, the
        allowed values and, for a near miss, the value meant.
    """
    rows = declarations(type(estimator), table)
    if names is not None:
        rows = {name: rows[name] for name in names}
    return {name: row.check(name, getattr(estimator, name)) for name, row in rows.items()}
