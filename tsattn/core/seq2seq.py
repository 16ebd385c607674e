"""Seq2Seq: input adapter -> encoder -> attention decoder -> output head.

The same module serves numbers (values in, values out) and tokens (embeddings in, vocabulary
logits out); only the adapters differ. For numbers two options cut the work of a window:
``segment_length`` k lets the encoder read the history k steps at a time (SegRNN, Lin et al.
2023: a recurrence over S / k segments instead of S steps, attention over S / k states), and
``decoder="direct"`` decodes the whole horizon at once (:class:`DirectDecoder`), also k steps per
RNN step. Shapes: B batch, S source length, T target length, F numeric features per step,
O outputs per step, k segment length.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import nn

from tsattn.core.attention import ATTENTIONS, build_attention
from tsattn.core.decoder import AttentionDecoder, DecoderState, DirectDecoder, Memory
from tsattn.core.encoder import CELLS, RNNEncoder
from tsattn.core.gate import CovariateGate

DECODERS = ("recursive", "direct")


@dataclass(frozen=True)
class CoreConfig:
    """Sizes and choices of a :class:`Seq2Seq`; stored with saved models.

    ``source_vocab``/``target_vocab`` of 0 mean numeric input/output of ``source_features``/
    ``target_features`` values per step (a vocabulary of 0 tokens is no vocabulary); a positive
    value means tokens embedded in ``embedding_size`` dimensions.
    """

    source_features: int = 1
    target_features: int = 1  # decoder input values per step: the previous target, covariates
    output_size: int = 1  # values per step out (quantiles), or the target vocabulary size
    hidden_size: int = 64
    num_layers: int = 1
    cell: str = "lstm"
    bidirectional: bool = False
    dropout: float = 0.0
    attention: str = "bahdanau"
    attention_size: int | None = None  # additive attention units; None: hidden_size
    source_vocab: int = 0
    target_vocab: int = 0
    embedding_size: int | None = None  # None: hidden_size
    pad_index: int = 0
    decoder: str = "recursive"  # "direct": the whole horizon at once, inputs known in advance
    segment_length: int = 1  # source steps per encoder step (and target steps, if direct)
    # Covariates: the last source_covariates / target_covariates numeric features of every
    # encoder / decoder step are covariates (X, calendar, static), gated and dropped out as
    # core.gate.CovariateGate says; 0 (the default, and every model saved before) reads them
    # as plain inputs.
    source_covariates: int = 0
    target_covariates: int = 0
    covariate_gate: bool = False
    covariate_dropout: float = 0.0


def _input_adapter(vocab: int, features: int, embedding_size: int, pad_index: int):
    """An embedding for tokens; for numbers the RNN's input weights already are the linear map."""
    if vocab:
        return nn.Embedding(vocab, embedding_size, padding_idx=pad_index), embedding_size
    return nn.Identity(), features


class Seq2Seq(nn.Module):
    """An RNN encoder-decoder with optional attention.

    Parameters
    ----------
    config : CoreConfig
        Sizes and choices.
    """

    def __init__(self, config: CoreConfig):
        super().__init__()
        _check_config(config)
        self.config = config
        self.direct = config.decoder == "direct"
        segment = config.segment_length
        hidden = config.hidden_size
        embedding = config.embedding_size or hidden
        self.source_adapter, source_size = _input_adapter(
            config.source_vocab, config.source_features, embedding, config.pad_index
        )
        self.target_adapter, target_size = _input_adapter(
            config.target_vocab, config.target_features, embedding, config.pad_index
        )
        self.encoder = RNNEncoder(
            source_size * segment,
            hidden,
            num_layers=config.num_layers,
            cell=config.cell,
            bidirectional=config.bidirectional,
            dropout=config.dropout,
            decoder_size=hidden,
        )
        attention = build_attention(
            config.attention, hidden, self.encoder.output_size, config.attention_size or hidden
        )
        # A direct decoder reads and writes k target steps per RNN step too; a recursive one
        # feeds back each output before the next step exists, one step at a time.
        self.target_segment = segment if self.direct else 1
        decoder_class = DirectDecoder if self.direct else AttentionDecoder
        self.decoder = decoder_class(
            target_size * self.target_segment,
            hidden,
            self.encoder.output_size,
            attention,
            num_layers=config.num_layers,
            cell=config.cell,
            dropout=config.dropout,
        )
        self.head = nn.Linear(self.decoder.output_size, config.output_size * self.target_segment)
        gate, dropout = config.covariate_gate, config.covariate_dropout
        self.source_gate = CovariateGate(config.source_covariates, gate, dropout)
        self.target_gate = CovariateGate(config.target_covariates, gate, dropout)

    def encode(
        self,
        source: torch.Tensor,
        mask: torch.Tensor | None = None,
        lengths: torch.Tensor | None = None,
    ) -> tuple[Memory, DecoderState]:
        """Encode a batch once: the decoder's memory and initial state.

        Parameters
        ----------
        source : torch.Tensor
            (B, S, F) floats or (B, S) token ids.
        mask : torch.Tensor or None
            (B, S) bool, True at real (not padded) source positions.
        lengths : torch.Tensor or None
            (B,) real positions of each row when the padding is at the end (sentences), so the
            encoder stops there; see :meth:`RNNEncoder.forward`.

        Returns
        -------
        memory : Memory
        state : DecoderState
        """
        source = self.source_adapter(self.source_gate(source))
        if self.config.segment_length > 1:
            source, mask = _segments(source, mask, self.config.segment_length)  # (B, S / k, kF)
        outputs, encoder_state = self.encoder(source, lengths)  # (B, S / k, K)
        return self.decoder.init_memory(outputs, mask), self.decoder.init_state(encoder_state)

    def step(
        self, target_in: torch.Tensor, state: DecoderState, memory: Memory
    ) -> tuple[torch.Tensor, DecoderState, torch.Tensor | None]:
        """One decoding step: (B, F) values or (B,) token ids -> (B, O) outputs, state, weights."""
        inputs = self.target_adapter(self.target_gate(target_in))
        features, state, weights = self.decoder.step(inputs, state, memory)
        return self.head(features), state, weights

    def forward(
        self,
        source: torch.Tensor,
        target_in: torch.Tensor,
        mask: torch.Tensor | None = None,
        feedback: Callable[[torch.Tensor, int], torch.Tensor] | None = None,
        return_weights: bool = False,
        lengths: torch.Tensor | None = None,
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Unroll the decoder over ``target_in.shape[1]`` steps.

        Parameters
        ----------
        source : torch.Tensor
            (B, S, F) floats or (B, S) token ids.
        target_in : torch.Tensor
            (B, T, F) or (B, T) decoder inputs. With teacher forcing (``feedback=None``) or the
            direct decoder every step reads its row; otherwise only step 0 does.
        mask : torch.Tensor or None
            (B, S) bool source mask.
        feedback : callable or None
            ``feedback(outputs_of_step_t_minus_1, t) -> input of step t`` for steps t >= 1: the
            model's own outputs at prediction time. The direct decoder never reads it.
        return_weights : bool
            Also return the (B, T, S) attention weights; with segments a segment's weight is
            shared equally by its real (unmasked) source steps.
        lengths : torch.Tensor or None
            (B,) source lengths of a right-padded batch, as for :meth:`encode`.

        Returns
        -------
        outputs : torch.Tensor
            (B, T, O).
        weights : torch.Tensor or None
            (B, T, S) when asked for and attention is on.
        """
        memory, state = self.encode(source, mask, lengths)
        if self.direct:
            outputs, weights = self._decode_direct(target_in, state, memory)
        else:
            outputs, weights = self._decode_recursive(
                target_in, state, memory, feedback, return_weights
            )
        if not return_weights or weights is None:
            return outputs, None
        return outputs, self._step_weights(weights, mask, source.shape[1], outputs.shape[1])

    def _decode_direct(
        self, target_in: torch.Tensor, state: DecoderState, memory: Memory
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        """All steps at once: (B, T, O) outputs and (B, T / k, S / k) segment weights."""
        inputs = self.target_adapter(self.target_gate(target_in))  # (B, T, F)
        batch, steps, k = inputs.shape[0], inputs.shape[1], self.target_segment
        if k > 1:  # pad the end so the steps fill whole segments; the extra outputs are dropped
            inputs = nn.functional.pad(inputs, (0, 0, 0, (-steps) % k))
            inputs = inputs.reshape(batch, -1, k * inputs.shape[-1])  # (B, T / k, kF)
        features, weights = self.decoder(inputs, state, memory)
        outputs = self.head(features).reshape(batch, -1, self.config.output_size)
        return outputs[:, :steps], weights  # (B, T, O)

    def _decode_recursive(self, target_in, state, memory, feedback, keep_weights):
        """One step at a time: (B, T, O) outputs and (B, T, S / k) weights (or None)."""
        outputs, all_weights = [], []
        step_in = target_in[:, 0]
        for t in range(target_in.shape[1]):
            if t > 0:
                step_in = target_in[:, t] if feedback is None else feedback(outputs[-1], t)
            out, state, weights = self.step(step_in, state, memory)  # (B, O)
            outputs.append(out)
            if keep_weights and weights is not None:
                all_weights.append(weights)
        stacked = torch.stack(outputs, dim=1)  # (B, T, O)
        return stacked, (torch.stack(all_weights, dim=1) if all_weights else None)

    def _step_weights(
        self, weights: torch.Tensor, mask: torch.Tensor | None, sources: int, steps: int
    ) -> torch.Tensor:
        """Weights over segments, (B, T / k, S / k), as weights of steps over steps, (B, T, S)."""
        k = self.config.segment_length
        if k == 1:
            return weights
        batch, pad = weights.shape[0], (-sources) % k
        real = torch.ones(batch, sources, device=weights.device) if mask is None else mask
        real = nn.functional.pad(real.to(weights.dtype), (pad, 0))  # (B, S + pad)
        per_step = weights / real.view(batch, -1, k).sum(-1).clamp(min=1)[:, None]
        spread = per_step.repeat_interleave(k, dim=-1) * real[:, None]  # (B, T', S + pad)
        return spread[..., pad:].repeat_interleave(self.target_segment, dim=1)[:, :steps]


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
    _check_config(config)
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


def _check_config(config: CoreConfig) -> None:
    if config.decoder not in DECODERS:
        raise ValueError(f"decoder must be one of {DECODERS}, got {config.decoder!r}")
    if config.decoder == "direct" and config.target_vocab:
        raise ValueError(
            "decoder='direct' needs decoder inputs known in advance; tokens are decoded one "
            "at a time: use decoder='recursive'"
        )
    if (config.source_covariates and config.source_vocab) or (
        config.target_covariates and config.target_vocab
    ):
        raise ValueError("covariates are numeric features: tokens have none to gate")
    if config.segment_length < 1 or (config.segment_length > 1 and config.source_vocab):
        raise ValueError(
            f"segment_length must be 1 for tokens and >= 1 for numbers, got {config.segment_length}"
        )


def _segments(
    source: torch.Tensor, mask: torch.Tensor | None, k: int
) -> tuple[torch.Tensor, torch.Tensor]:
    """(B, S, F) steps as (B, S / k, k F) segments and their (B, S / k) mask.

    A source that is not a whole number of segments is padded at the front (the oldest end),
    and the padding masked; a segment may be attended to when one of its steps is real.
    """
    batch, steps, _ = source.shape
    pad = (-steps) % k
    if mask is None:
        mask = torch.ones(batch, steps, dtype=torch.bool, device=source.device)
    source = nn.functional.pad(source, (0, 0, pad, 0))  # (B, S + pad, F)
    mask = nn.functional.pad(mask, (pad, 0), value=False)  # (B, S + pad)
    return source.reshape(batch, -1, k * source.shape[-1]), mask.view(batch, -1, k).any(-1)
