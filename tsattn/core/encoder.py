"""RNN encoder with a bridge from its final state to the decoder's initial state.

Shapes: B batch, S source length, E input size, H hidden size, L layers, D directions (1 or 2).
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

CELLS = ("lstm", "gru")

# An LSTM state is (h, c); a GRU state is h alone. Both are (L, B, H) per tensor.
State = tuple[torch.Tensor, ...]


def stacked_rnn(
    cell: str,
    input_size: int,
    hidden_size: int,
    num_layers: int,
    dropout: float,
    bidirectional: bool = False,
) -> nn.Module:
    """A batch-first ``nn.LSTM`` or ``nn.GRU``: one fused call over a sequence.

    Dropout applies between stacked layers only; ``cell`` is checked here for every user.
    """
    if cell not in CELLS:
        raise ValueError(f"cell must be one of {CELLS}, got {cell!r}")
    rnn_class = nn.LSTM if cell == "lstm" else nn.GRU
    return rnn_class(
        input_size,
        hidden_size,
        num_layers=num_layers,
        batch_first=True,
        bidirectional=bidirectional,
        dropout=dropout if num_layers > 1 else 0.0,
    )


class RNNEncoder(nn.Module):
    """A stacked LSTM or GRU over the source, optionally bidirectional.

    Parameters
    ----------
    input_size : int
        Size of each source step after the input adapter (E).
    hidden_size : int
        Hidden size per direction (H).
    num_layers : int
        Stacked layers (L).
    cell : {"lstm", "gru"}
        Recurrent cell.
    bidirectional : bool
        Read the source both ways; the states passed to attention then have size 2H.
    dropout : float
        Dropout between stacked layers.
    decoder_size : int
        Hidden size of the decoder the bridge maps the final state to.
    """

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        cell: str = "lstm",
        bidirectional: bool = False,
        dropout: float = 0.0,
        decoder_size: int | None = None,
    ):
        super().__init__()
        self.rnn = stacked_rnn(cell, input_size, hidden_size, num_layers, dropout, bidirectional)
        self.num_layers = num_layers
        self.directions = 2 if bidirectional else 1
        self.output_size = hidden_size * self.directions
        decoder_size = decoder_size or hidden_size
        # One bridge per state tensor (h, and c for an LSTM), as s_0 = tanh(W_s h_1) in Bahdanau et al.
        n_state = 2 if cell == "lstm" else 1
        self.bridges = nn.ModuleList(
            nn.Linear(self.output_size, decoder_size) for _ in range(n_state)
        )

    def forward(
        self, source: torch.Tensor, lengths: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, State]:
        """Encode a batch.

        Parameters
        ----------
        source : torch.Tensor
            (B, S, E) adapted source steps.
        lengths : torch.Tensor or None
            (B,) real steps of each row of a right-padded batch (sentences): the RNN then stops
            at each row's end, so the final state, and the backward direction, never read padding
            and a row encodes the same whatever else shares its batch. None reads every step.

        Returns
        -------
        outputs : torch.Tensor
            (B, S, D*H) top-layer states, the keys and values of attention.
        state : tuple of torch.Tensor
            The decoder's initial state, each (L, B, H_dec).
        """
        if lengths is None:
            outputs, final = self.rnn(source)  # (B, S, D*H); each (L*D, B, H)
        else:
            packed = pack_padded_sequence(
                source, lengths.cpu(), batch_first=True, enforce_sorted=False
            )
            outputs, final = self.rnn(packed)  # final in the rows' own order
            outputs, _ = pad_packed_sequence(
                outputs, batch_first=True, total_length=source.shape[1]
            )  # (B, S, D*H), zero past each row's end
        final = final if isinstance(final, tuple) else (final,)
        state = []
        for tensor, bridge in zip(final, self.bridges, strict=True):
            _, batch, hidden = tensor.shape
            per_layer = (
                tensor.view(self.num_layers, self.directions, batch, hidden)  # (L, D, B, H)
                .permute(0, 2, 1, 3)  # (L, B, D, H)
                .reshape(self.num_layers, batch, self.directions * hidden)  # (L, B, D*H)
            )
            state.append(torch.tanh(bridge(per_layer)))  # (L, B, H_dec)
        return outputs, tuple(state)
