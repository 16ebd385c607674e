"""Seq2Seq: input adapter -> encoder -> attention decoder -> output head.

The same module serves numbers (values in, values out) and tokens (embeddings in, vocabulary
logits out); only the adapters differ. Shapes: B batch, S source length, T target length,
F numeric features per step, O outputs per step.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import nn

from tsattn.core.attention import build_attention
from tsattn.core.decoder import AttentionDecoder, DecoderState, Memory
from tsattn.core.encoder import RNNEncoder


@dataclass(frozen=True)
class CoreConfig:
    """Sizes and choices of a :class:`Seq2Seq`; stored with saved models.

    ``source_vocab``/``target_vocab`` of 0 mean numeric input/output of ``source_features``/
    ``target_features`` values per step; a positive value means tokens embedded in
    ``embedding_size`` dimensions.
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
    attention_size: int = 0  # additive attention units; 0 means hidden_size
    source_vocab: int = 0
    target_vocab: int = 0
    embedding_size: int = 0  # 0 means hidden_size
    pad_index: int = 0


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
        self.config = config
        hidden = config.hidden_size
        embedding = config.embedding_size or hidden
        self.source_adapter, source_size = _input_adapter(
            config.source_vocab, config.source_features, embedding, config.pad_index
        )
        self.target_adapter, target_size = _input_adapter(
            config.target_vocab, config.target_features, embedding, config.pad_index
        )
        self.encoder = RNNEncoder(
            source_size,
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
        self.decoder = AttentionDecoder(
            target_size,
            hidden,
            self.encoder.output_size,
            attention,
            num_layers=config.num_layers,
            cell=config.cell,
            dropout=config.dropout,
        )
        self.head = nn.Linear(self.decoder.output_size, config.output_size)

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
        outputs, encoder_state = self.encoder(self.source_adapter(source), lengths)  # (B, S, K)
        return self.decoder.init_memory(outputs, mask), self.decoder.init_state(encoder_state)

    def step(
        self, target_in: torch.Tensor, state: DecoderState, memory: Memory
    ) -> tuple[torch.Tensor, DecoderState, torch.Tensor | None]:
        """One decoding step: (B, F) values or (B,) token ids -> (B, O) outputs, state, weights."""
        features, state, weights = self.decoder.step(self.target_adapter(target_in), state, memory)
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
            (B, T, F) or (B, T) decoder inputs. With teacher forcing (``feedback=None``) every step
            reads its row; otherwise only step 0 does.
        mask : torch.Tensor or None
            (B, S) bool source mask.
        feedback : callable or None
            ``feedback(outputs_of_step_t_minus_1, t) -> input of step t`` for steps t >= 1: the
            model's own outputs at prediction time.
        return_weights : bool
            Also return the (B, T, S) attention weights.
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
        outputs, all_weights = [], []
        step_in = target_in[:, 0]
        for t in range(target_in.shape[1]):
            if t > 0:
                step_in = target_in[:, t] if feedback is None else feedback(outputs[-1], t)
            out, state, weights = self.step(step_in, state, memory)  # (B, O)
            outputs.append(out)
            if return_weights and weights is not None:
                all_weights.append(weights)
        stacked = torch.stack(outputs, dim=1)  # (B, T, O)
        return stacked, (torch.stack(all_weights, dim=1) if all_weights else None)
