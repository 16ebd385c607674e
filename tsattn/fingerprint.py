"""Fingerprints: what a checkpoint must match to be resumed, and what differs when it does not.

A fingerprint is JSON: the estimator's parameters and a hash of its data
(:func:`checkpoint_fingerprint`), to which the training loop adds its own settings, the sample
counts, a hash of every array its batch sources hold and the module's shapes
(:func:`full_fingerprint`). :mod:`tsattn.checkpoint` stores it with every checkpoint and refuses
one whose fingerprint differs, naming the difference (:func:`fingerprint_difference`).
"""

from __future__ import annotations

import hashlib
from dataclasses import asdict

import numpy as np
import torch

__all__ = [
    "checkpoint_fingerprint",
    "fingerprint_difference",
    "full_fingerprint",
    "weights_digest",
]


def checkpoint_fingerprint(
    params: dict, *arrays: np.ndarray, start: dict[str, torch.Tensor] | None = None
) -> dict:
    """What a checkpoint must match to be resumed: the parameters and a hash of the data.

    Parameters
    ----------
    params : dict
        JSON-ready constructor parameters; ``verbose`` is left out (it changes nothing learnt).
    *arrays : numpy.ndarray
        The training data as the estimator holds it.
    start : dict of torch.Tensor or None, default=None
        The weights training starts from where they are not the seed's (a warm start): a
        checkpoint of a warm start from another model is then another run.

    Returns
    -------
    dict
        ``{"params": ..., "data": {"shapes": ..., "sha256": ...}}``, with ``"start"`` (a hash
        of the starting weights) where ``start`` is given.
    """
    digest = hashlib.sha256()
    shapes = []
    for array in arrays:
        array = np.ascontiguousarray(array)
        digest.update(f"{array.dtype.str}{array.shape}".encode())
        digest.update(array.reshape(-1).view(np.uint8))
        shapes.append(list(array.shape))
    kept = {key: value for key, value in params.items() if key != "verbose"}
    found = {"params": kept, "data": {"shapes": shapes, "sha256": digest.hexdigest()}}
    if start is not None:
        found["start"] = weights_digest(start)
    return found


def weights_digest(weights: dict[str, torch.Tensor]) -> str:
    """SHA-256 of a module's weights: every tensor's name, dtype, shape and bytes."""
    digest = hashlib.sha256()
    for name, tensor in sorted(weights.items()):
        array = np.ascontiguousarray(tensor.detach().cpu().numpy())
        digest.update(f"{name}{array.dtype.str}{array.shape}".encode())
        digest.update(array.reshape(-1).view(np.uint8))
    return digest.hexdigest()


def full_fingerprint(module, train_data, valid_data, config, fingerprint: dict | None) -> dict:
    """The caller's fingerprint plus what the training loop itself knows.

    The loop's settings, the numbers of samples, a hash of every array the batch sources hold
    and the module's shapes are checked even when the caller gives no fingerprint.

    Parameters
    ----------
    module : torch.nn.Module
    train_data, valid_data : BatchSource or None
    config : TrainingConfig
    fingerprint : dict or None
        See :func:`checkpoint_fingerprint`.

    Returns
    -------
    dict
        JSON-ready.
    """
    # A constant learning rate (lr_schedule None) is left out, so that checkpoints written
    # before schedules existed still match.
    training = {
        k: v
        for k, v in asdict(config).items()
        if k != "verbose" and not (k == "lr_schedule" and v is None)
    }
    return {
        **(fingerprint or {}),
        "training": training,
        "samples": [len(train_data), 0 if valid_data is None else len(valid_data)],
        "batches": _batch_source_digest(train_data, valid_data),
        "module": {name: list(t.shape) for name, t in module.state_dict().items()},
    }


def _batch_source_digest(*sources) -> str:
    """Hash of every array a batch source holds (values, covariates, windows, ...).

    Whatever an estimator feeds the loop is covered, even inputs its own fingerprint forgets.
    """
    digest = hashlib.sha256()
    for source in sources:
        for name, value in sorted(getattr(source, "__dict__", {}).items()):
            if isinstance(value, torch.Tensor):
                value = value.detach().cpu().numpy()
            if isinstance(value, np.ndarray):
                value = np.ascontiguousarray(value)
                digest.update(f"{name}{value.dtype.str}{value.shape}".encode())
                digest.update(value.reshape(-1).view(np.uint8))
    return digest.hexdigest()


def fingerprint_difference(stored: dict, current: dict) -> str:
    """Name what differs between two fingerprints, for the error message."""
    old, new = stored.get("params", {}), current.get("params", {})
    changed = [k for k in sorted(set(old) | set(new)) if old.get(k) != new.get(k)]
    if changed:
        return "parameters: " + ", ".join(
            f"{k}={old.get(k)!r} there, {new.get(k)!r} here" for k in changed[:5]
        )
    if stored.get("start") != current.get("start"):
        return "starting weights (a warm start from another model)"
    old, new = stored.get("data", {}), current.get("data", {})
    if old.get("shapes") != new.get("shapes"):
        return f"data (arrays of shapes {old.get('shapes')} there, {new.get('shapes')} here)"
    if old != new or stored.get("batches") != current.get("batches"):
        return "data (same shapes, other values)"
    keys = [k for k in sorted(set(stored) | set(current)) if stored.get(k) != current.get(k)]
    return "training settings (" + ", ".join(keys) + ")"
