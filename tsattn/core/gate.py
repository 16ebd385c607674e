"""A learned gate per covariate, and dropout of whole covariates, in front of an RNN.

:class:`CovariateGate` multiplies each covariate feature by its own ``sigmoid(logit)``, started
half open (:data:`GATE_INIT`), and learnt with the rest of the network (the variable selection
of the Temporal Fusion Transformer, Lim et al. 2021, reduced to one weight per column). It is
opt-in (``covariate_gate=True``): with Adam a logit moves by about the learning rate per step,
so a gate started nearly closed (sigmoid(-2) = 0.12) was measured still at 0.11-0.15 after the
200-2,000 steps a fit runs, a fixed x0.12 on every covariate that made them nearly unlearnable.
Feature dropout zeroes a whole covariate for a whole window with probability ``dropout`` while
training, so the model cannot lean on any one column alone and still forecasts well when a
column says nothing.
Shapes: B batch, T steps, F features per step, n gated features (the last n).
"""

from __future__ import annotations

import torch
from torch import nn

# Initial logit of every gate: sigmoid(0) = 0.5. A logit moves by about the learning rate per
# Adam step, so the start is close to where a fit leaves it; half open lets training close a
# column that hurts and open one that helps, within the thousand-odd steps of a fit.
GATE_INIT = 0.0


class CovariateGate(nn.Module):
    """Gates and feature dropout on the last ``n_gated`` features of every step.

    Parameters
    ----------
    n_gated : int
        Covariate features, the last of every step's features; 0 makes the module an identity.
    gate : bool
        Learn a gate per feature (started at ``sigmoid(GATE_INIT)``); False leaves them at 1.
    dropout : float
        While training, the probability that a feature is zeroed for a whole window (the
        others are scaled by ``1 / (1 - dropout)``, as :class:`torch.nn.Dropout` does).
    """

    def __init__(self, n_gated: int, gate: bool = True, dropout: float = 0.0):
        super().__init__()
        if n_gated < 0 or not 0.0 <= dropout < 1.0:
            raise ValueError(
                f"n_gated must be >= 0 and dropout in [0, 1), got {n_gated} and {dropout}"
            )
        self.n_gated = n_gated
        self.dropout = dropout
        self.logits = nn.Parameter(torch.full((n_gated,), GATE_INIT)) if gate and n_gated else None

    def gates(self) -> torch.Tensor:
        """(n,) every feature's gate in (0, 1); ones without learnt gates."""
        if self.logits is None:
            return torch.ones(self.n_gated)
        return torch.sigmoid(self.logits.detach())

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        """(B, [T,] F) inputs with their last ``n_gated`` features gated (and dropped out)."""
        n = self.n_gated
        if n == 0 or (self.logits is None and not (self.training and self.dropout)):
            return inputs
        kept, covariates = inputs[..., :-n], inputs[..., -n:]  # (B, [T,] F - n), (B, [T,] n)
        if self.logits is not None:
            covariates = covariates * torch.sigmoid(self.logits)
        if self.training and self.dropout > 0:
            # One draw per window and feature, shared by all its steps: a column is gone for the
            # whole window, as it would be if it said nothing.
            shape = (inputs.shape[0],) + (1,) * (inputs.ndim - 2) + (n,)  # (B, [1,] n)
            keep = torch.rand(shape, device=inputs.device) >= self.dropout
            covariates = covariates * keep / (1.0 - self.dropout)
        return torch.cat([kept, covariates], dim=-1)  # (B, [T,] F)
