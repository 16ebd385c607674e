"""Save and load estimators: safetensors weights plus JSON, in one file, never a pickle.

A model file is a safetensors file whose header metadata carries the format name and version,
the estimator's class, its JSON state and a checksum of all of it (see :mod:`tsattn.files`,
which writes it atomically and durably and reads it once). Loading reads nothing but that
header and the tensors, so a file cannot run code.

Which classes a file may name is decided by a registry that the estimators join themselves:
every subclass of :class:`SaveMixin` is registered under its class name when it is defined.
This module imports no estimator, so the estimators can import it without a cycle.
"""

from __future__ import annotations

import json
import os

import numpy as np
import torch

from tsattn import files

__all__ = [
    "FORMAT_NAME",
    "FORMAT_VERSION",
    "MODEL_FILE",
    "SaveMixin",
    "check_fitted_state",
    "load",
    "module_from_artifacts",
    "module_tensors",
    "params_from_json",
    "params_to_json",
    "register",
    "save_estimator",
]

FORMAT_NAME = "tsattn"
# 2: checksummed files; the forecaster's fitted state as one object.
FORMAT_VERSION = 2
MODEL_FILE = files.FileFormat(
    name=FORMAT_NAME,
    version=FORMAT_VERSION,
    noun="tsattn model file",
    unreadable="tsattn only loads files written by its own save(); save the model again",
    older="this tsattn has no converter: fit the model again and save it with this version",
    newer="upgrade tsattn to load it",
)

# Class name -> class, for every estimator a model file may name; nothing else is ever
# constructed from a file.
_REGISTRY: dict[str, type] = {}


def register(cls: type) -> type:
    """Let model files name ``cls``: :func:`load` builds it with ``cls._from_artifacts``.

    Subclasses of :class:`SaveMixin` are registered when they are defined; call this for an
    estimator that saves with :func:`save_estimator` without the mixin. The first class to take
    a name keeps it (a class of the same module and name, as after a module reload, replaces
    it), so that a user's subclass cannot take over the files of a tsattn estimator.

    Parameters
    ----------
    cls : type
        A class with ``_get_artifacts()`` and the classmethod ``_from_artifacts(state,
        tensors)``.

    Returns
    -------
    type
        ``cls``, so that ``register`` can decorate a class.
    """
    if not isinstance(cls, type):
        raise TypeError(f"register takes a class, got {type(cls).__name__}")
    known = _REGISTRY.get(cls.__name__)
    if known is None or (known.__module__, known.__qualname__) == (
        cls.__module__,
        cls.__qualname__,
    ):
        _REGISTRY[cls.__name__] = cls
    return cls


class SaveMixin:
    """``save`` for every estimator that provides ``_get_artifacts``/``_from_artifacts``.

    Every subclass registers itself with :func:`register`, so :func:`load` finds it by name.
    """

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        register(cls)

    def save(self, path) -> None:
        """Write the fitted estimator to ``path``: safetensors weights and JSON, no pickle.

        The file is written under a temporary name, flushed to disk and renamed into place, so
        a failed save leaves any previous file intact. Load it with :func:`tsattn.load`, on the
        CPU whatever device trained it.

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
    """A fitted torch module's weights, named for a model file.

    Parameters
    ----------
    module : torch.nn.Module

    Returns
    -------
    dict of str to torch.Tensor
        The state dict, every name prefixed with ``module.``.
    """
    return {f"{MODULE_PREFIX}{k}": v for k, v in module.state_dict().items()}


def module_from_artifacts(state: dict, tensors: dict[str, torch.Tensor]):
    """The :class:`~tsattn.core.Seq2Seq` of a model file, on the CPU, in evaluation mode.

    Parameters
    ----------
    state : dict
        The file's JSON state; ``state["core"]`` holds the core's configuration.
    tensors : dict of str to torch.Tensor
        The file's tensors; those named by :func:`module_tensors` are the module's.

    Returns
    -------
    tsattn.core.Seq2Seq
    """
    from tsattn.core.config_checks import check_weights, config_from_json
    from tsattn.core.seq2seq import Seq2Seq

    weights = {
        k[len(MODULE_PREFIX) :]: v for k, v in tensors.items() if k.startswith(MODULE_PREFIX)
    }
    # The file's JSON is checked against the constructor's bounds and against the file's own
    # tensors (which bounds the model's size by the file's) before anything is built: a
    # hand-edited size cannot make torch allocate more than the file holds.
    config = config_from_json(state["core"])
    check_weights(config, weights)
    check_fitted_state(state)
    module = Seq2Seq(config)
    module.load_state_dict(weights)
    return module.eval()


def check_fitted_state(state: dict) -> None:
    """Refuse a forecaster's saved context whose parts contradict one another.

    Checked from the JSON alone, before anything is built: the series ids are distinct, and
    the layout that gives forecasts back names exactly those series in that order (a wide
    frame's columns are the ids; a Series or 1-D array is one series; a 2-D array's series
    are its positions), so no file forecasts a series under another's name.

    Parameters
    ----------
    state : dict
        An estimator's JSON state; without a ``context`` there is nothing to check.

    Raises
    ------
    ValueError
        Naming what disagrees.
    """
    context = state.get("context")
    if context is None:
        return
    ids, layout = context["ids"], context["layout"]
    if not isinstance(ids, list) or not all(
        isinstance(i, (str, int, float)) and not isinstance(i, bool) for i in ids
    ):
        raise ValueError("the series ids are not a list of strings and numbers")
    if not ids or len(set(ids)) != len(ids):
        raise ValueError("the series ids are empty or not distinct")
    for name in ("horizon", "input_size"):
        value = context[name]
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            raise ValueError(f"the {name} {value!r} is not an integer >= 1")
    kind = layout.get("kind") if isinstance(layout, dict) else None
    expected = {
        "wide": layout.get("columns") if kind == "wide" else None,
        "series": [0 if layout.get("name") is None else layout.get("name")]
        if kind == "series"
        else None,
        "array1d": [0],
        "array2d": list(range(len(ids))),
    }.get(kind, ids)
    # 1 == 1.0 == True in Python: compare the types too, as the forecasts' labels would show.
    if expected != ids or [type(i) for i in expected] != [type(i) for i in ids]:
        raise ValueError(
            f"the {kind} layout names the series {_head(expected)}, but the forecasts are "
            f"of the series {_head(ids)}"
        )


def _head(values) -> str:
    """At most the first 5 of ``values``, for a message."""
    values = list(values) if isinstance(values, (list, tuple)) else [values]
    return repr(values[:5])[:-1] + (", ...]" if len(values) > 5 else "]")


def params_to_json(params: dict) -> dict:
    """Constructor parameters as JSON (a device object or RandomState becomes a string/None).

    Parameters
    ----------
    params : dict
        ``get_params()`` of an estimator; it is not changed.

    Returns
    -------
    dict
        JSON-ready; the names of tuple parameters are listed under ``__tuples__``; numpy
        arrays become lists and numpy scalars Python numbers.
    """
    out = {}
    for key, value in params.items():
        if isinstance(value, torch.device):
            value = str(value)
        elif isinstance(value, np.random.RandomState):
            value = None
        elif isinstance(value, tuple):
            out.setdefault("__tuples__", []).append(key)
            value = [_plain(item) for item in value]
        elif isinstance(value, (list, np.ndarray)):  # an array of levels comes back as a list
            value = [_plain(item) for item in np.asarray(value, dtype=object).tolist()]
        else:
            value = _plain(value)
        out[key] = value
    return out


def _plain(value):
    """A numpy scalar as the Python number JSON can write; anything else as it is."""
    return value.item() if isinstance(value, np.generic) else value


def params_from_json(params: dict) -> dict:
    """Inverse of :func:`params_to_json`: tuples come back as tuples.

    Parameters
    ----------
    params : dict
        As written by :func:`params_to_json`; it is not changed.

    Returns
    -------
    dict
    """
    params = dict(params)
    for key in params.pop("__tuples__", []):
        params[key] = tuple(params[key])
    return params


def save_estimator(estimator, path: str | os.PathLike) -> None:
    """Write a fitted estimator to ``path`` atomically and durably.

    Parameters
    ----------
    estimator : object
        A fitted tsattn estimator of a registered class (it provides ``_get_artifacts``).
    path : str or os.PathLike
        Destination file; a symbolic link is written through.

    Raises
    ------
    TypeError
        When the estimator's class is not registered (see :func:`register`), or its name is
        taken by another class: such a file could not be loaded.
    OSError
        When the file cannot be written; any previous file at ``path`` is left intact.
    """
    cls = type(estimator)
    if _REGISTRY.get(cls.__name__) is not cls:
        taken = _REGISTRY.get(cls.__name__)
        reason = (
            f"the name is taken by {taken.__module__}.{taken.__qualname__}; give the class "
            f"another name"
            if taken is not None
            else "subclass tsattn.io.SaveMixin or call tsattn.io.register on the class"
        )
        raise TypeError(
            f"cannot save a {cls.__qualname__}: load() could not find its class ({reason})"
        )
    state, tensors = estimator._get_artifacts()
    metadata = {"class": cls.__name__, "state": json.dumps(state)}
    files.write(path, tensors, metadata, MODEL_FILE)


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
        If the file is not a tsattn model (a pickle, say), is damaged (its checksum does not
        match, its JSON is malformed, its state is inconsistent or asks for sizes its weights
        do not have), or was written in another format version.

    Notes
    -----
    The checksum detects damage, not tampering: anyone who can edit a file can recompute it,
    so load files only from sources you trust as you would trust code. Loading never runs
    code from the file, and what a file can make ``load`` spend is bounded by its size: the
    header is read and checked before the tensors, and every size in the JSON is checked
    against the tensors the file holds before anything is built.
    """
    metadata, tensors = files.read(path, MODEL_FILE)
    where = str(path)
    cls = _REGISTRY.get(metadata.get("class"))
    if cls is None:
        raise ValueError(f"{where!r} names an unknown estimator {metadata.get('class')!r}")
    try:
        state = json.loads(metadata["state"])
        if not isinstance(state, dict):
            raise ValueError(f"the state is a JSON {type(state).__name__}, not an object")
        return cls._from_artifacts(state, tensors)
    except (
        KeyError,
        TypeError,
        ValueError,
        RuntimeError,  # RecursionError among them: JSON nested too deeply
        AttributeError,
        IndexError,
        OverflowError,
    ) as error:
        # A state the checksum vouches for but this tsattn cannot use; nothing was run.
        raise ValueError(
            f"{where!r} is damaged or was not written by this version of tsattn "
            f"({type(error).__name__}: {error}); save the model again"
        ) from error
