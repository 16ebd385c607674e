"""The checks a model file's core passes before it is built: its configuration, its weights.

A model file's JSON and tensors are not trusted (see :mod:`tsattn.io`):
:func:`config_from_json` checks every field of the stored :class:`CoreConfig` against the
bounds the constructor accepts, and :func:`check_weights` checks that the configuration builds
exactly the module the file's tensors are of, before anything is allocated.
"""

from __future__ import annotations

import dataclasses

import torch

from tsattn.core.attention import ATTENTIONS
from tsattn.core.encoder import CELLS
from tsattn.core.seq2seq import DECODERS, CoreConfig, Seq2Seq, check_config

__all__ = ["check_weights", "config_from_json"]

# The sizes of a CoreConfig: those that may be 0 (no vocabulary, no covariates, the padding
# token's index) and those that must be at least 1; None means "as hidden_size" where allowed.
_SIZES_FROM_0 = ("source_vocab", "target_vocab", "pad_index", "source_covariates",
                 "target_covariates")  # fmt: skip
_SIZES_FROM_1 = ("source_features", "target_features", "output_size", "hidden_size",
                 "num_layers", "segment_length")  # fmt: skip
_OPTIONAL_SIZES = ("attention_size", "embedding_size")
_CHOICES = {"cell": CELLS, "attention": ATTENTIONS, "decoder": DECODERS}
_FLAGS = ("bidirectional", "covariate_gate")
_RATES = ("dropout", "covariate_dropout")


def config_from_json(data: dict) -> CoreConfig:
    """The :class:`CoreConfig` a model file stores, every field checked before anything is built.

    A file's JSON is not trusted: every field must have its type and lie in the bounds the
    constructor accepts (sizes are integers, not booleans or floats; choices are known names;
    rates lie in [0, 1]). Fields a file leaves out take their defaults.

    Parameters
    ----------
    data : dict
        ``dataclasses.asdict`` of a CoreConfig, as read from JSON.

    Returns
    -------
    CoreConfig

    Raises
    ------
    ValueError
        For an unknown field or a value of the wrong type or out of bounds.
    """
    if not isinstance(data, dict):
        raise ValueError(f"the core's configuration is not a JSON object: {type(data).__name__}")
    known = {f.name for f in dataclasses.fields(CoreConfig)}
    unknown = sorted(map(str, set(data) - known))
    if unknown:
        raise ValueError(f"the core's configuration has unknown fields {unknown}")
    problems = []
    for name, value in data.items():
        if name in _SIZES_FROM_0 or name in _SIZES_FROM_1 or name in _OPTIONAL_SIZES:
            minimum = 0 if name in _SIZES_FROM_0 else 1
            if value is None and name in _OPTIONAL_SIZES:
                continue
            if not _is_int(value) or value < minimum:
                problems.append(f"{name}={value!r} is not an integer >= {minimum}")
        elif name in _CHOICES:
            if not isinstance(value, str) or value not in _CHOICES[name]:
                problems.append(f"{name}={value!r} is not one of {_CHOICES[name]}")
        elif name in _FLAGS:
            if not isinstance(value, bool):
                problems.append(f"{name}={value!r} is not true or false")
        elif name in _RATES:
            number = isinstance(value, (int, float)) and not isinstance(value, bool)
            if not number or not 0.0 <= value <= 1.0:
                problems.append(f"{name}={value!r} is not a number in [0, 1]")
    if problems:
        raise ValueError("the core's configuration is invalid: " + "; ".join(problems))
    config = CoreConfig(**data)
    for side in ("source", "target"):
        covariates, features = (
            getattr(config, f"{side}_covariates"),
            getattr(config, f"{side}_features"),
        )
        if covariates > features:
            problems.append(f"{side}_covariates={covariates} exceeds {side}_features={features}")
    vocabularies = [v for v in (config.source_vocab, config.target_vocab) if v]
    if vocabularies and config.pad_index >= min(vocabularies):
        problems.append(f"pad_index={config.pad_index} is not a token of the vocabularies")
    if problems:
        raise ValueError("the core's configuration is invalid: " + "; ".join(problems))
    check_config(config)
    return config


def _is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def check_weights(config: CoreConfig, weights: dict[str, torch.Tensor]) -> None:
    """Refuse a configuration that does not build exactly the module ``weights`` are of.

    A model file's configuration and its tensors are both read from the file; the tensors
    are already in memory, so the configuration may ask for nothing they do not hold. Every
    size is first bounded by the tensors (no size beyond their largest dimension, no more
    layers than they have weights for, so the check itself stays cheap), then the module is
    laid out on torch's ``meta`` device, which allocates nothing, and every weight's name,
    shape and dtype compared with the tensors'.

    Parameters
    ----------
    config : CoreConfig
        As checked by :func:`config_from_json`.
    weights : dict of str to torch.Tensor
        The module's state dict as read from the file.

    Raises
    ------
    ValueError
        When a size exceeds what the tensors hold, or the module the configuration describes
        has other weights (names, shapes or dtypes) than ``weights``.
    """
    largest = max((max(t.shape, default=1) for t in weights.values()), default=0)
    sizes = {name: getattr(config, name) for name in _SIZES_FROM_1 + _OPTIONAL_SIZES}
    # The encoder's RNN reads k steps at once; a direct decoder reads and writes k at once too.
    segment = config.segment_length
    target_segment = segment if config.decoder == "direct" else 1
    sizes["source inputs per step"] = config.source_features * segment
    sizes["target inputs per step"] = config.target_features * target_segment
    sizes["outputs per step"] = config.output_size * target_segment
    sizes.update(source_vocab=config.source_vocab, target_vocab=config.target_vocab)
    too_large = [f"{k}={v}" for k, v in sizes.items() if v is not None and v > largest]
    if too_large:
        raise ValueError(
            f"the core's configuration asks for more than its weights hold (largest dimension "
            f"{largest}): {', '.join(too_large)}"
        )
    # Every layer adds the same number of weights: count them on 1- and 2-layer modules, so
    # that laying out the whole module (about 0.3 ms a weight) is done only for as many
    # layers as the file holds weights for.
    one, two = (len(_meta_weights(dataclasses.replace(config, num_layers=n))) for n in (1, 2))
    if one + (two - one) * (config.num_layers - 1) != len(weights):
        raise ValueError(
            f"num_layers={config.num_layers} makes {one + (two - one) * (config.num_layers - 1)} "
            f"weights, the file holds {len(weights)}"
        )
    expected = _meta_weights(config)
    missing = sorted(set(expected) - set(weights))
    unexpected = sorted(set(weights) - set(expected))
    if missing or unexpected:
        raise ValueError(
            f"the weights do not match the core's configuration: missing {missing[:5]}, "
            f"unexpected {unexpected[:5]}"
        )
    for name, tensor in expected.items():
        held = weights[name]
        if held.shape != tensor.shape or held.dtype != tensor.dtype:
            raise ValueError(
                f"weight {name!r} is {held.dtype} {list(held.shape)} in the file, but the "
                f"core's configuration makes it {tensor.dtype} {list(tensor.shape)}"
            )


def _meta_weights(config: CoreConfig) -> dict[str, torch.Tensor]:
    """The state dict of the module ``config`` describes, on the meta device (no memory)."""
    with torch.device("meta"):
        return Seq2Seq(config).state_dict()
