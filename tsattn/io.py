"""Save and load estimators: safetensors weights plus JSON, in one file, never a pickle.

A model file is a safetensors file whose header metadata carries the format name, the format
version, the estimator's class and its JSON state. Loading reads nothing but that header and the
tensors, so a file cannot run code; it is written to a temporary name and renamed into place, so
a failed save leaves the previous file intact.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

import numpy as np
import torch

FORMAT_NAME = "tsattn"
FORMAT_VERSION = 1


def _registry() -> dict:
    """The classes a model file may name; nothing else is ever constructed from a file."""
    from tsattn.forecast.ensemble import Seq2SeqEnsemble
    from tsattn.forecast.forecaster import Seq2SeqForecaster
    from tsattn.forecast.regressor import Seq2SeqRegressor
    from tsattn.translate.translator import Seq2SeqTranslator

    return {
        "Seq2SeqEnsemble": Seq2SeqEnsemble,
        "Seq2SeqForecaster": Seq2SeqForecaster,
        "Seq2SeqRegressor": Seq2SeqRegressor,
        "Seq2SeqTranslator": Seq2SeqTranslator,
    }


class SaveMixin:
    """``save`` for every estimator that provides ``_get_artifacts``/``_from_artifacts``."""

    def save(self, path) -> None:
        """Write the fitted estimator to ``path``: safetensors weights and JSON, no pickle.

        The file is written under a temporary name and renamed into place, so a failed save
        leaves any previous file intact. Load it with :func:`tsattn.load`, on the CPU whatever
        device trained it.

        Parameters
        ----------
        path : str or os.PathLike
            Destination file (``.tsattn`` by convention).
        """
        from sklearn.utils.validation import check_is_fitted

        check_is_fitted(self, "module_")
        save_estimator(self, path)


MODULE_PREFIX = "module."


def module_tensors(module) -> dict[str, torch.Tensor]:
    """A fitted torch module's weights, named for a model file."""
    return {f"{MODULE_PREFIX}{k}": v for k, v in module.state_dict().items()}


def module_from_artifacts(state: dict, tensors: dict[str, torch.Tensor]):
    """The :class:`~tsattn.core.Seq2Seq` of a model file, on the CPU, in evaluation mode."""
    from tsattn.core.seq2seq import CoreConfig, Seq2Seq

    module = Seq2Seq(CoreConfig(**state["core"]))
    module.load_state_dict(
        {k[len(MODULE_PREFIX) :]: v for k, v in tensors.items() if k.startswith(MODULE_PREFIX)}
    )
    return module.eval()


def params_to_json(params: dict) -> dict:
    """Constructor parameters as JSON (a device object or RandomState becomes a string/None)."""
    out = {}
    for key, value in params.items():
        if isinstance(value, torch.device):
            value = str(value)
        elif isinstance(value, np.random.RandomState):
            value = None
        elif isinstance(value, tuple):
            out.setdefault("__tuples__", []).append(key)
            value = list(value)
        elif isinstance(value, np.generic):
            value = value.item()
        out[key] = value
    return out


def params_from_json(params: dict) -> dict:
    """Inverse of :func:`params_to_json`: tuples come back as tuples."""
    params = dict(params)
    for key in params.pop("__tuples__", []):
        params[key] = tuple(params[key])
    return params


def save_estimator(estimator, path) -> None:
    """Write a fitted estimator to ``path`` atomically.

    Parameters
    ----------
    estimator : object
        A fitted tsattn estimator (it provides ``_get_artifacts``).
    path : str or os.PathLike
        Destination file.
    """
    from safetensors.torch import save_file

    state, tensors = estimator._get_artifacts()
    metadata = {
        "format": FORMAT_NAME,
        "format_version": str(FORMAT_VERSION),
        "class": type(estimator).__name__,
        "state": json.dumps(state),
    }
    tensors = {name: t.detach().cpu().contiguous() for name, t in tensors.items()}
    path = Path(path)
    handle, temporary = tempfile.mkstemp(
        dir=path.parent or ".", prefix=f".{path.name}.", suffix=".tmp"
    )
    os.close(handle)
    try:
        save_file(tensors, temporary, metadata=metadata)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def load(path):
    """Load an estimator saved with ``save``, on the CPU whatever device trained it.

    Parameters
    ----------
    path : str or os.PathLike
        A file written by an estimator's ``save``.

    Returns
    -------
    object
        The fitted estimator; its predictions equal the saved one's.

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist.
    ValueError
        If the file is not a tsattn model (a pickle, say), or was written by a newer tsattn.
    """
    from safetensors import SafetensorError
    from safetensors.torch import load_file, safe_open

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no model file at {str(path)!r}")
    try:
        with safe_open(str(path), framework="pt", device="cpu") as handle:
            metadata = handle.metadata() or {}
        tensors = load_file(str(path), device="cpu")
    except (SafetensorError, OSError, ValueError) as error:
        raise ValueError(
            f"{str(path)!r} is not a tsattn model file (not a safetensors file: {error}); "
            f"tsattn only loads files written by its own save()"
        ) from None
    if metadata.get("format") != FORMAT_NAME:
        raise ValueError(f"{str(path)!r} is a safetensors file but not a tsattn model")
    try:
        version = int(metadata.get("format_version", ""))
    except ValueError:
        raise ValueError(f"{str(path)!r} is damaged: it has no valid format version") from None
    if version > FORMAT_VERSION:
        raise ValueError(
            f"{str(path)!r} was written in model format {version}, newer than this tsattn reads "
            f"({FORMAT_VERSION}); upgrade tsattn to load it"
        )
    cls = _registry().get(metadata.get("class"))
    if cls is None:
        raise ValueError(f"{str(path)!r} names an unknown estimator {metadata.get('class')!r}")
    try:
        return cls._from_artifacts(json.loads(metadata["state"]), tensors)
    except (KeyError, TypeError, ValueError, RuntimeError) as error:
        # A hand-edited or truncated state; the file was only ever parsed, nothing was run.
        raise ValueError(
            f"{str(path)!r} is damaged or was not written by this version of tsattn "
            f"({type(error).__name__}: {error}); save the model again"
        ) from error


__all__ = ["load", "save_estimator"]
