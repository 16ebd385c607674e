"""Attention over encoder states: additive (Bahdanau) and multiplicative (Luong).

Both are stateless: the keys are projected once per encoded batch with ``project_keys`` and the
result is passed to every decoding step, so a step costs one small matrix product for the query.
Every ``forward`` takes one query per row, (B, Q), for a decoder that runs a step at a time, or
a whole horizon of queries, (B, T, Q), for one that attends after its RNN (``DirectDecoder``).
Shapes: B batch, T queries per row, S source length, Q query size, K key size, A attention units.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.autograd.function import once_differentiable

ATTENTIONS = ("bahdanau", "luong", "none")
LUONG_SCORES = ("general", "dot")


def masked_softmax(energy: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
    """Softmax over the last axis with masked positions given exactly zero weight.

    Parameters
    ----------
    energy : torch.Tensor
        Scores of shape (B, S) or (B, T, S).
    mask : torch.Tensor or None
        Boolean (B, S), True where a position may be attended to. Every row needs one True.

    Returns
    -------
    torch.Tensor
        Weights of the shape of ``energy`` that sum to one over the unmasked positions.
    """
    if mask is not None:
        if energy.ndim == 3:
            mask = mask[:, None]  # (B, 1, S): the same positions for every query of a row
        energy = energy.masked_fill(~mask, float("-inf"))  # exp(-inf) is exactly 0
    if energy.shape[-1] < 16 and energy.device.type == "cpu":
        # torch's CPU softmax runs a scalar loop over an axis shorter than one AVX-512 vector
        # of floats; with segments attention has about 12 positions, where these three
        # vectorised passes take half its time (forward and backward). The max is a constant
        # shift, so it carries no gradient.
        weights = (energy - energy.detach().amax(dim=-1, keepdim=True)).exp()
        return weights / weights.sum(dim=-1, keepdim=True)
    return energy.softmax(dim=-1)


def weighted_sum(weights: torch.Tensor, values: torch.Tensor) -> torch.Tensor:
    """Context vectors: (B, S) weights times (B, S, V) values -> (B, V); (B, T, S) -> (B, T, V).

    One query per row is a broadcast product rather than ``bmm``: it runs at every decoding
    step, and on CPU the backward of ``bmm`` over B (1 x S) matrices costs more than the
    broadcast's. With T queries the products are (T x S) matrices, where ``bmm`` pays.
    """
    if weights.ndim == 3:
        return torch.bmm(weights, values)  # (B, T, V)
    return (weights[..., None] * values).sum(1)  # (B, V)


class _AdditiveEnergy(torch.autograd.Function):
    """``v^T tanh(q + k)`` at every source position, computed as ``v^T (2 sigmoid(2 (q + k)) - 1)``.

    The additive score is the one (B, S, A) computation of every decoding step, and it dominated
    training time on CPU: torch's float ``tanh`` costs several times its ``sigmoid`` there, and
    autograd's version of these lines makes about eight passes over
    (B, S, A) tensors per step in forward and backward together where this one makes five. The
    two forms are equal, and so are their derivatives (``1 - tanh^2 z = 4 s (1 - s)``), up to
    float rounding (1e-7 absolute). Not twice differentiable (``once_differentiable``).
    """

    @staticmethod
    def forward(ctx, query, proj_keys, v):  # (B, A) or (B, T, A); (B, S, A); (A,)
        dtype = torch.promote_types(query.dtype, proj_keys.dtype)
        query, proj_keys, v = query.to(dtype), proj_keys.to(dtype), v.to(dtype)
        ctx.many_queries = query.ndim == 3
        if ctx.many_queries:
            proj_keys = proj_keys[:, None]  # (B, 1, S, A)
        # sigmoid(2z) = (1 + tanh z) / 2; the 2 rides on the add, so no pass of its own.
        s = torch.add(2 * query.unsqueeze(-2), proj_keys, alpha=2).sigmoid_()  # (B, [T,] S, A)
        energy = torch.matmul(s, 2 * v) - v.sum()  # (B, [T,] S)
        ctx.save_for_backward(s, v)
        return energy

    @staticmethod
    @once_differentiable
    def backward(ctx, grad):  # (B, [T,] S)
        s, v = ctx.saved_tensors
        grad = grad.to(s.dtype)
        grad_z = grad[..., None] * (4 * v)  # (B, [T,] S, A)
        # In place: grad_z *= s (1 - s), so grad_z = grad * v * (1 - tanh^2 z).
        torch.ops.aten.sigmoid_backward.grad_input(grad_z, s, grad_input=grad_z)
        grad_query = grad_z.sum(-2) if ctx.needs_input_grad[0] else None  # (B, [T,] A)
        grad_v = None
        if ctx.needs_input_grad[2]:  # d energy / dv = tanh z = 2 s - 1
            flat = torch.matmul(grad.reshape(1, -1), s.reshape(-1, s.shape[-1]))[0]  # (A,)
            grad_v = 2 * flat - grad.sum()
        grad_keys = grad_z.sum(1) if ctx.many_queries else grad_z  # (B, S, A)
        return grad_query, grad_keys, grad_v


class BahdanauAttention(nn.Module):
    """Additive attention of Bahdanau et al. (2015): ``v_a^T tanh(W_a q + U_a k)``.

    Parameters
    ----------
    query_size : int
        Size of the decoder state used as query.
    key_size : int
        Size of each encoder state.
    attention_size : int
        Number of attention units (A); the cost of every decoding step grows with it.
    """

    def __init__(self, query_size: int, key_size: int, attention_size: int):
        super().__init__()
        self.key_layer = nn.Linear(key_size, attention_size, bias=False)  # U_a
        self.query_layer = nn.Linear(query_size, attention_size, bias=False)  # W_a
        self.energy_layer = nn.Linear(attention_size, 1, bias=False)  # v_a

    def project_keys(self, keys: torch.Tensor) -> torch.Tensor:
        """Project encoder states once per batch: (B, S, K) -> (B, S, A)."""
        return self.key_layer(keys)

    def forward(
        self,
        query: torch.Tensor,
        proj_keys: torch.Tensor,
        values: torch.Tensor,
        mask: torch.Tensor | None = None,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Attend with one query per row.

        Parameters
        ----------
        query : torch.Tensor
            (B, Q) decoder state, or (B, T, Q) one per output step.
        proj_keys : torch.Tensor
            (B, S, A) output of :meth:`project_keys`.
        values : torch.Tensor
            (B, S, V) encoder states to average.
        mask : torch.Tensor or None
            (B, S) bool, True where attention is allowed.

        Returns
        -------
        context : torch.Tensor
            (B, V) weighted average of ``values``; (B, T, V) for (B, T, Q) queries.
        weights : torch.Tensor
            (B, S) or (B, T, S) attention weights, summing to one per query.
        """
        # v_a^T tanh(W_a q + U_a k), (B, S); see _AdditiveEnergy for why not in plain torch.
        energy = _AdditiveEnergy.apply(
            self.query_layer(query), proj_keys, self.energy_layer.weight[0]
        )
        weights = masked_softmax(energy, mask)  # (B, S)
        context = weighted_sum(weights, values)  # (B, V)
        return context, weights


class LuongAttention(nn.Module):
    """Multiplicative attention of Luong et al. (2015): ``q^T W_a k`` ("general") or ``q^T k`` ("dot").

    Parameters
    ----------
    query_size : int
        Size of the decoder state used as query.
    key_size : int
        Size of each encoder state; must equal ``query_size`` for ``score="dot"``.
    score : {"general", "dot"}
        The scoring function.
    """

    def __init__(self, query_size: int, key_size: int, score: str = "general"):
        super().__init__()
        if score not in LUONG_SCORES:
            raise ValueError(f"score must be one of {LUONG_SCORES}, got {score!r}")
        if score == "dot" and query_size != key_size:
            raise ValueError(
                f"Luong 'dot' attention needs query_size == key_size, got {query_size} and "
                f"{key_size}; use score='general' instead"
            )
        self.score = score
        # Projecting the keys (K -> Q) rather than the query lets the projection happen once per batch.
        self.key_layer = nn.Linear(key_size, query_size, bias=False) if score == "general" else None

    def project_keys(self, keys: torch.Tensor) -> torch.Tensor:
        """Project encoder states once per batch: (B, S, K) -> (B, S, Q)."""
        return keys if self.key_layer is None else self.key_layer(keys)

    def forward(
        self,
        query: torch.Tensor,
        proj_keys: torch.Tensor,
        values: torch.Tensor,
        mask: torch.Tensor | None = None,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Attend with one query per row; arguments and returns as :meth:`BahdanauAttention.forward`."""
        if query.ndim == 3:
            energy = torch.bmm(query, proj_keys.transpose(1, 2))  # (B, T, S)
        else:
            # A broadcast product, not bmm: on CPU, bmm's backward over B (1 x Q) matrices is
            # 3x slower.
            energy = (proj_keys * query[:, None]).sum(-1)  # (B, S)
        weights = masked_softmax(energy, mask)  # (B, S)
        context = weighted_sum(weights, values)  # (B, V)
        return context, weights


def build_attention(
    kind: str, query_size: int, key_size: int, attention_size: int
) -> nn.Module | None:
    """Return the attention module named by ``kind``, or None for ``"none"``.

    Parameters
    ----------
    kind : {"bahdanau", "luong", "none"}
        Which attention; "luong" uses the "general" score.
    query_size, key_size, attention_size : int
        Sizes of the decoder state, the encoder states and the additive attention's hidden layer.

    Returns
    -------
    torch.nn.Module or None
    """
    if kind == "bahdanau":
        return BahdanauAttention(query_size, key_size, attention_size)
    if kind == "luong":
        return LuongAttention(query_size, key_size, score="general")
    if kind == "none":
        return None
    raise ValueError(f"attention must be one of {ATTENTIONS}, got {kind!r}")
