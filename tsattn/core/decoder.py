"""Attention decoders: one step at a time over a stack of RNN cells, or every step at once.

:class:`AttentionDecoder` follows Bahdanau et al.: the previous top-layer state queries the
encoder states, the context joins the step's input in the RNN, and the output features are the
new top state, the context and the input. Every step waits for the one before, and with its own
outputs fed back (translation, recursive forecasts) it must.

:class:`DirectDecoder` serves forecasts whose decoder inputs are all known in advance
(covariates, a baseline forecast): its RNN runs over the whole horizon in one fused call and
attention comes after it (Luong et al.'s order), all steps at once. With ``attention=None`` both
are the plain encoder-decoder of Sutskever et al. / Cho et al., which sees the source only
through its initial state.
Shapes: B batch, S source length, T decoder steps, E step input size, K encoder state size,
H hidden size, L layers.
"""

from __future__ import annotations

from typing import NamedTuple

import torch
from torch import nn

from tsattn.core.encoder import stacked_rnn

# Per layer: (h,) for a GRU, (h, c) for an LSTM, each (B, H).
DecoderState = list[tuple[torch.Tensor, ...]]


class Memory(NamedTuple):
    """What the decoder reads from the encoder, computed once per batch."""

    values: torch.Tensor  # (B, S, K) encoder states
    proj_keys: torch.Tensor | None  # (B, S, A) keys projected by the attention, None without it
    mask: torch.Tensor | None  # (B, S) bool, True where attention is allowed

    def index_select(self, index: torch.Tensor) -> Memory:
        """Rows of the memory in the order of ``index`` (for beam search)."""
        return Memory(
            self.values.index_select(0, index),
            None if self.proj_keys is None else self.proj_keys.index_select(0, index),
            None if self.mask is None else self.mask.index_select(0, index),
        )


def init_memory(attention: nn.Module | None, values: torch.Tensor, mask) -> Memory:
    """Project the keys once for the whole decoding of a batch."""
    proj_keys = None if attention is None else attention.project_keys(values)
    return Memory(values, proj_keys, mask)


class AttentionDecoder(nn.Module):
    """A stack of LSTM or GRU cells fed with the attention context at every step.

    Parameters
    ----------
    input_size : int
        Size of each adapted step input (E).
    hidden_size : int
        Hidden size of every layer (H).
    key_size : int
        Size of the encoder states (K).
    attention : torch.nn.Module or None
        A module with ``project_keys`` and ``forward(query, proj_keys, values, mask)``, or None
        for the plain encoder-decoder.
    num_layers : int
        Stacked cells.
    cell : {"lstm", "gru"}
        Recurrent cell.
    dropout : float
        Dropout between stacked cells.
    """

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        key_size: int,
        attention: nn.Module | None,
        num_layers: int = 1,
        cell: str = "lstm",
        dropout: float = 0.0,
    ):
        super().__init__()
        self.attention = attention
        self.context_size = key_size if attention is not None else 0
        cell_class = nn.LSTMCell if cell == "lstm" else nn.GRUCell
        sizes = [input_size + self.context_size] + [hidden_size] * (num_layers - 1)
        self.cells = nn.ModuleList(cell_class(size, hidden_size) for size in sizes)
        self.dropout = nn.Dropout(dropout)
        self.is_lstm = cell == "lstm"
        self.output_size = hidden_size + self.context_size + input_size

    def init_memory(self, values: torch.Tensor, mask: torch.Tensor | None) -> Memory:
        """Project the keys once for the whole decoding of this batch."""
        return init_memory(self.attention, values, mask)

    def init_state(self, encoder_state: tuple[torch.Tensor, ...]) -> DecoderState:
        """Split the bridged encoder state, each (L, B, H), into per-layer cell states."""
        return list(zip(*(tensor.unbind(0) for tensor in encoder_state), strict=True))

    def step(
        self, inputs: torch.Tensor, state: DecoderState, memory: Memory
    ) -> tuple[torch.Tensor, DecoderState, torch.Tensor | None]:
        """Decode one step.

        Parameters
        ----------
        inputs : torch.Tensor
            (B, E) adapted input of this step (previous target, known covariates).
        state : DecoderState
            The state after the previous step.
        memory : Memory
            Output of :meth:`init_memory`.

        Returns
        -------
        features : torch.Tensor
            (B, H + K + E) features for the output head.
        state : DecoderState
            The new state.
        weights : torch.Tensor or None
            (B, S) attention weights of this step, None without attention.
        """
        weights = None
        layer_input = inputs  # (B, E)
        if self.attention is not None:
            query = state[-1][0]  # (B, H) previous top-layer hidden state
            context, weights = self.attention(query, memory.proj_keys, memory.values, memory.mask)
            layer_input = torch.cat([inputs, context], dim=-1)  # (B, E + K)
        new_state = []
        for depth, (cell, layer_state) in enumerate(zip(self.cells, state, strict=True)):
            if depth > 0:
                layer_input = self.dropout(layer_input)
            if self.is_lstm:
                h, c = cell(layer_input, layer_state)  # (B, H) each
                new_state.append((h, c))
            else:
                h = cell(layer_input, layer_state[0])  # (B, H)
                new_state.append((h,))
            layer_input = h
        parts = [layer_input] + ([context] if self.attention is not None else []) + [inputs]
        return torch.cat(parts, dim=-1), new_state, weights  # (B, H + K + E)


class DirectDecoder(nn.Module):
    """An LSTM or GRU over the whole horizon at once, attending to the encoder after it.

    The RNN reads only the steps' own inputs, never the context or an earlier output, so it is
    one fused call (cuDNN on GPU, oneDNN on CPU), and the queries of all steps attend together
    in one batched operation: no Python loop over the horizon. Each step's top-layer state
    queries the encoder states; its features are that state, the context and the input, as in
    :class:`AttentionDecoder`, so the same output head fits both.

    Parameters
    ----------
    input_size, hidden_size, key_size, attention, num_layers, cell, dropout
        As for :class:`AttentionDecoder`.
    """

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        key_size: int,
        attention: nn.Module | None,
        num_layers: int = 1,
        cell: str = "lstm",
        dropout: float = 0.0,
    ):
        super().__init__()
        self.attention = attention
        self.context_size = key_size if attention is not None else 0
        self.rnn = stacked_rnn(cell, input_size, hidden_size, num_layers, dropout)
        self.output_size = hidden_size + self.context_size + input_size

    def init_memory(self, values: torch.Tensor, mask: torch.Tensor | None) -> Memory:
        """Project the keys once for the whole decoding of this batch."""
        return init_memory(self.attention, values, mask)

    def init_state(self, encoder_state: tuple[torch.Tensor, ...]) -> tuple[torch.Tensor, ...]:
        """The bridged encoder state, each (L, B, H), is the RNN's initial state as it is."""
        return encoder_state

    def forward(
        self, inputs: torch.Tensor, state: tuple[torch.Tensor, ...], memory: Memory
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Decode every step.

        Parameters
        ----------
        inputs : torch.Tensor
            (B, T, E) adapted inputs of all steps, known in advance.
        state : tuple of torch.Tensor
            Output of :meth:`init_state`.
        memory : Memory
            Output of :meth:`init_memory`.

        Returns
        -------
        features : torch.Tensor
            (B, T, H + K + E) features for the output head.
        weights : torch.Tensor or None
            (B, T, S) attention weights, None without attention.
        """
        outputs, _ = self.rnn(inputs, state if len(state) > 1 else state[0])  # (B, T, H)
        if self.attention is None:
            return torch.cat([outputs, inputs], dim=-1), None
        context, weights = self.attention(
            outputs, memory.proj_keys, memory.values, memory.mask
        )  # (B, T, K), (B, T, S)
        return torch.cat([outputs, context, inputs], dim=-1), weights


def reorder_state(state: DecoderState, index: torch.Tensor) -> DecoderState:
    """Rows of a decoder state in the order of ``index`` (for beam search)."""
    return [tuple(t.index_select(0, index) for t in layer) for layer in state]
