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

from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import nn

from tsattn.core.attention import build_attention
from tsattn.core.decoder import AttentionDecoder, DecoderState, DirectDecoder, Memory
from tsattn.core.encoder import RNNEncoder
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
        check_config(config)
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


def check_config(config: CoreConfig) -> None:
    """Refuse a combination of choices no :class:`Seq2Seq` is built of.

    Parameters
    ----------
    config : CoreConfig

    Raises
    ------
    ValueError
        For an unknown decoder, a direct decoder of tokens, covariates with tokens, or a
        segment length below 1 (or above 1 for tokens).
    """
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
