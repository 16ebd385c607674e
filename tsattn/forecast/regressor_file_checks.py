"""The checks a :class:`~tsattn.Seq2SeqRegressor`'s model file passes before it is restored.

A model file is not trusted: the fitted sizes it records must agree with its core's
configuration and with the covariate statistics' tensors (a crafted or damaged file is refused
with a ValueError before any attribute is set).
"""

from __future__ import annotations

from tsattn.core.seq2seq import CoreConfig
from tsattn.forecast.state import MAX_STEPS

__all__ = ["check_saved_sizes"]


def check_saved_sizes(state: dict, tensors: dict, config: CoreConfig) -> None:
    """Refuse a model file whose sizes disagree with its core and tensors (crafted or damaged).

    ``n_channels_`` is the core's input width and the covariate statistics' length plus one;
    ``input_size_`` is the windows' length ``n_features_in_``; ``horizon_`` is 1 for a single
    output and at most :data:`~tsattn.forecast.state.MAX_STEPS` (nothing else sizes it).

    Parameters
    ----------
    state : dict
        The file's JSON state (``n_features_in_``, ``input_size_``, ``n_channels_``,
        ``horizon_``, ``single_output``).
    tensors : dict of torch.Tensor
        The file's ``covariate_loc`` and ``covariate_scale``.
    config : CoreConfig
        The configuration of the core read from the same file.

    Raises
    ------
    ValueError
        At the first size that disagrees.
    """
    sizes = {k: state[k] for k in ("n_features_in_", "input_size_", "n_channels_", "horizon_")}
    for name, value in sizes.items():
        if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= MAX_STEPS:
            raise ValueError(f"{name} {value!r} is not a size in [1, {MAX_STEPS}]")
    if sizes["n_channels_"] != config.source_features:
        raise ValueError(
            f"n_channels_ {sizes['n_channels_']} differs from the core's "
            f"{config.source_features} input features"
        )
    if sizes["input_size_"] != sizes["n_features_in_"]:
        raise ValueError("input_size_ differs from n_features_in_ (the windows' length)")
    for name in ("covariate_loc", "covariate_scale"):
        if tuple(tensors[name].shape) != (sizes["n_channels_"] - 1,):
            raise ValueError(
                f"{name} has shape {tuple(tensors[name].shape)} for {sizes['n_channels_']} channels"
            )
    if not isinstance(state["single_output"], bool):
        raise ValueError(f"single_output {state['single_output']!r} is not a boolean")
    if state["single_output"] and sizes["horizon_"] != 1:
        raise ValueError(f"a single-output model has horizon_ {sizes['horizon_']}, not 1")
