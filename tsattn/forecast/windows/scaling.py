"""Per-window scaling: every window is scaled by its own observed history.

One of :data:`WINDOW_SCALERS`: ``"standard"`` (the history's mean and standard deviation),
``"log"`` (``log(1 + y / level)`` with the history's level, for non-negative data) or
``"none"``. Used by the forecaster's and the regressor's batches alike.
"""

from __future__ import annotations

import torch

WINDOW_SCALERS = ("standard", "log", "none")

# Scaled targets are bounded to this many window deviations. A jump from a flat history at 1e-30
# to 1e6 would scale to 1e38 and overflow float32 in the loss and its gradients; a target that
# far out carries nothing learnable, while ordinary jumps stay far below the bound.
MAX_SCALED = 1e6


def scale_targets(values: torch.Tensor, loc: torch.Tensor, scale: torch.Tensor) -> torch.Tensor:
    """``(values - loc) / scale``, bounded to +-:data:`MAX_SCALED` (NaN stays NaN).

    Parameters
    ----------
    values : torch.Tensor
        (B, H) targets in the data's units.
    loc, scale : torch.Tensor
        (B, 1) from :func:`window_scale`.

    Returns
    -------
    torch.Tensor
        (B, H) scaled targets.
    """
    return ((values - loc) / scale).clamp(-MAX_SCALED, MAX_SCALED)  # (B, H)


def window_level(history: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Mean absolute observed value of every (B, I) window, 1 where that is 0: (B, 1)."""
    weight = mask.to(history.dtype)  # (B, I)
    count = weight.sum(1, keepdim=True).clamp(min=1)  # (B, 1)
    level = (history.abs() * weight).sum(1, keepdim=True) / count  # (B, 1)
    return torch.where(level > 0, level, torch.ones_like(level))


def window_scale(
    history: torch.Tensor, mask: torch.Tensor, scaler: str
) -> tuple[torch.Tensor, torch.Tensor]:
    """Location and scale of every window from its observed history.

    Parameters
    ----------
    history : torch.Tensor
        (B, I) values, anything at unobserved positions.
    mask : torch.Tensor
        (B, I) bool, True where observed; every row needs one True.
    scaler : {"standard", "log", "none"}
        "standard": mean and standard deviation, the deviation floored at 1% of the mean absolute
        level (flat windows) and at 1 for all-zero windows (intermittent sales), so that scaled
        targets stay finite; "none" and "log": 0 and 1 ("log" has already divided the window by
        its level, see :func:`window_level`).

    Returns
    -------
    loc, scale : torch.Tensor
        (B, 1) each.
    """
    if scaler in ("none", "log"):
        ones = torch.ones(history.shape[0], 1, device=history.device)
        return ones * 0, ones
    # NaN * 0 is NaN: a masked gap must be zeroed, not just given zero weight.
    history = history.masked_fill(~mask, 0.0)  # (B, I)
    weight = mask.to(history.dtype)  # (B, I)
    count = weight.sum(1, keepdim=True).clamp(min=1)  # (B, 1)
    loc = (history * weight).sum(1, keepdim=True) / count  # (B, 1)
    level = (history.abs() * weight).sum(1, keepdim=True) / count  # (B, 1)
    # Deviations are measured in units of the level before squaring: squared values of 1e20
    # overflow float32, while a deviation is at most 2 * count levels.
    unit = torch.where(level > 0, level, torch.ones_like(level))  # (B, 1)
    var = (((history - loc) / unit * weight) ** 2).sum(1, keepdim=True) / count  # (B, 1)
    scale = torch.maximum(var.sqrt() * unit, 0.01 * level)
    scale = torch.where(scale > 0, scale, torch.ones_like(scale))
    return loc, scale
