"""Export a fitted forecaster's network to TorchScript (``.pt``) or ONNX (``.onnx``).

What is exported is the forward pass: from the scaled input windows to the scaled forecasts,
the decoder rolled out over the horizon (feeding back its own forecasts where it is
recursive), the baseline added and, with quantiles, the quantiles made monotone. The inputs
and what turns the outputs into forecasts are computed by tsattn, once per batch of histories:

1. **Pre-processing** (:func:`forecast_inputs`): every series' last ``input_size_`` values,
   seasonally adjusted, scaled by their window (``scaler``), with the baseline's forecast and the
   covariates the model reads. It gives the graph's inputs, in this order:

   - ``source``: float32 (n_series, input_size, F), the scaled history (feature 0) and the
     features the encoder reads (observed flag, past covariates);
   - ``mask``: bool (n_series, input_size), False where a short series is padded;
   - ``future`` (only when the model reads any): float32 (n_series, horizon, F_dec), the
     decoder's inputs besides the previous value: the scaled baseline forecast first (with a
     ``baseline``), then known covariates, calendar and static features.

   and the numbers that undo the scaling: ``loc``, ``scale`` (n_series, 1), ``level``
   (n_series, 1) for the log scaler (else absent), ``seasonal`` (n_series, horizon) and
   ``nonnegative``.
2. **The graph**: ``outputs = graph(source, mask[, future])``, float32 (n_series, horizon), or
   (n_series, horizon, Q) for a model with quantiles (levels in ``post["levels"]``).
3. **Post-processing** (:func:`unscale_outputs`), in numpy or any language::

       values = outputs * scale + loc                    # per series (broadcast over steps)
       values = level * expm1(values)                    # only with the log scaler
       forecasts = values * seasonal                     # seasonal indices per step
       forecasts = max(forecasts, 0) if nonnegative      # models fit with nonnegative=True

   which gives :meth:`~tsattn.Seq2SeqForecaster.predict`'s values (rows in the order of
   ``post["ids"]``), to float32 precision.

The calibrated intervals of ``predict_interval`` and the count likelihoods (``loss="poisson"``
...) are not part of the graph: a model trained on a count likelihood is refused.

TorchScript needs nothing but torch to run (``torch.jit.load(path)``); ONNX needs the
``export`` extra (``pip install "tsattn[export]"``: onnx and onnxruntime), imported only here.
"""

from __future__ import annotations

import contextlib
import copy
from pathlib import Path
from typing import Any

import numpy as np
import torch

from tsattn.forecast import rollout
from tsattn.forecast.outputs import distribution_of

__all__ = [
    "ForecastGraph",
    "export_forecaster",
    "export_method",
    "forecast_inputs",
    "unscale_outputs",
]

SUFFIXES = (".pt", ".onnx")


class ForecastGraph(torch.nn.Module):
    """The forecaster's network from scaled input windows to scaled forecasts (no grad).

    Parameters
    ----------
    core : tsattn.core.Seq2Seq
        The trained network (``model.module_``); copied to the CPU.
    horizon : int
        Steps to forecast.
    quantiles : list of float or None
        The model's quantile levels (0.5 among them), or None for point forecasts.
    baseline : bool
        Whether the network corrects a baseline (``future``'s feature 0).
    """

    def __init__(self, core, horizon: int, quantiles, baseline: bool):
        super().__init__()
        self.core = copy.deepcopy(core).cpu().eval().requires_grad_(False)
        self.horizon = int(horizon)
        self.quantiles = None if quantiles is None else [float(q) for q in quantiles]
        self.median = 0 if quantiles is None else self.quantiles.index(0.5)
        self.baseline = bool(baseline)

    def forward(self, source: torch.Tensor, mask: torch.Tensor, *future: torch.Tensor):
        """Scaled forecasts, (B, H) or (B, H, Q)."""
        batch = {"source": source, "mask": mask}
        start = source[:, -1:, :1].expand(-1, self.horizon, -1)  # (B, H, 1) last value
        target_in = start
        if future:
            batch["future"] = future[0]
            target_in = torch.cat([start, future[0][:, : self.horizon]], dim=-1)
            if self.baseline:
                batch["base"] = future[0][..., 0]  # (B, H) the scaled baseline forecast
        outputs, _ = rollout.decode(self.core, batch, target_in, self.median, True)
        if self.quantiles is None:
            return outputs[..., 0]
        return rollout.monotone_quantiles(outputs, self.median)


class _TraceableEnergy:
    """The additive attention's energy in plain torch ops, the same as its forward.

    The training code computes it in a custom autograd function (for the speed of its
    backward pass), which neither tracer records; the graph needs no backward pass.
    """

    @staticmethod
    def apply(query, proj_keys, v):
        dtype = torch.promote_types(query.dtype, proj_keys.dtype)
        query, proj_keys, v = query.to(dtype), proj_keys.to(dtype), v.to(dtype)
        if query.ndim == 3:
            proj_keys = proj_keys[:, None]  # (B, 1, S, A)
        s = torch.add(2 * query.unsqueeze(-2), proj_keys, alpha=2).sigmoid()  # (B, [T,] S, A)
        return torch.matmul(s, 2 * v) - v.sum()  # (B, [T,] S)


@contextlib.contextmanager
def _traceable():
    """The network's modules in traceable form while the graph is recorded."""
    from tsattn.core import attention

    energy = attention._AdditiveEnergy
    attention._AdditiveEnergy = _TraceableEnergy
    try:
        yield
    finally:
        attention._AdditiveEnergy = energy


def _check_exportable(model) -> None:
    from sklearn.utils.validation import check_is_fitted

    check_is_fitted(model, "context_")
    if distribution_of(model.context_) is not None:
        raise NotImplementedError(
            f"export covers point and quantile forecasters; this model was trained on the "
            f"{distribution_of(model.context_)!r} likelihood, whose forecasts are computed "
            f"from the distribution outside the network"
        )


def _batch(model, X, y, static):
    """The context of the histories and the one batch of their windows, on the CPU."""
    _check_exportable(model)
    context = model._context(y, X, static)
    batches = context.window_batches(X, torch.device("cpu"))
    return context, batches.batch(np.arange(len(batches)))


def forecast_inputs(
    model, X=None, *, y=None, static=None
) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """The exported graph's inputs for the histories, and what its outputs are unscaled by.

    Parameters
    ----------
    model : tsattn.Seq2SeqForecaster
        Fitted.
    X, y, static
        As for :meth:`~tsattn.Seq2SeqForecaster.predict` (None: the histories of ``fit``).

    Returns
    -------
    inputs : dict of str to numpy.ndarray
        ``source``, ``mask`` and, when the model reads any, ``future``, in the graph's order.
    post : dict
        ``loc``, ``scale``, ``level`` (log scaler only), ``seasonal``, ``nonnegative``,
        ``levels`` (the quantile levels, or None), ``ids`` (the series, in row order) and
        ``baseline`` (whether ``future``'s feature 0 is the baseline), as
        :func:`unscale_outputs` takes them.
    """
    context, batch = _batch(model, X, y, static)
    inputs = {"source": batch["source"], "mask": batch["mask"]}
    if "future" in batch:
        inputs["future"] = batch["future"]
    inputs = {name: value.detach().cpu().numpy() for name, value in inputs.items()}
    horizon = context.horizon
    m = context.season_length
    post = {
        "loc": batch["loc"].cpu().numpy(),
        "scale": batch["scale"].cpu().numpy(),
        "seasonal": context.seasonal_indices[:, np.arange(horizon) % m],
        "nonnegative": bool(context.nonnegative),
        "levels": None if context.quantiles is None else list(context.quantiles),
        "ids": list(context.ids),
        "baseline": "base" in batch,
    }
    if "level" in batch:
        post["level"] = batch["level"].cpu().numpy()
    return inputs, post


def unscale_outputs(outputs, post: dict[str, Any]) -> np.ndarray:
    """The graph's scaled outputs as forecasts in the data's units (see the module's recipe).

    Parameters
    ----------
    outputs : numpy.ndarray or torch.Tensor
        (n_series, horizon) or (n_series, horizon, Q) from the exported graph.
    post : dict
        From :func:`forecast_inputs`.

    Returns
    -------
    numpy.ndarray
        float64, the shape of ``outputs``.
    """
    if isinstance(outputs, torch.Tensor):
        outputs = outputs.detach().cpu().numpy()
    values = np.asarray(outputs, dtype=np.float64)
    extra = (slice(None), slice(None)) + ((None,) if values.ndim == 3 else ())
    values = values * np.asarray(post["scale"])[extra] + np.asarray(post["loc"])[extra]
    if post.get("level") is not None:
        values = np.asarray(post["level"])[extra] * np.expm1(values)
    seasonal = np.asarray(post["seasonal"])
    values = values * (seasonal if values.ndim == 2 else seasonal[..., None])
    if post["nonnegative"]:
        values = np.maximum(values, 0.0)
    return values


def export_forecaster(model, path) -> Path:
    """Write the forecaster's network as TorchScript (``.pt``) or ONNX (``.onnx``).

    Parameters
    ----------
    model : tsattn.Seq2SeqForecaster
        Fitted, without a count likelihood.
    path : str or path-like
        The file; its suffix names the format.

    Returns
    -------
    pathlib.Path
        The file written (through :func:`tsattn.files.write_bytes`: whole or not at all).

    Raises
    ------
    ValueError
        For a suffix other than ``.pt`` and ``.onnx``.
    ImportError
        For ONNX without the ``export`` extra.
    NotImplementedError
        For a model trained on a count likelihood.
    """
    import io

    from tsattn import files

    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in SUFFIXES:
        raise ValueError(
            f"export writes TorchScript (.pt) or ONNX (.onnx); got {str(path)!r}, name the file "
            f"with one of those suffixes"
        )
    _check_exportable(model)
    context, config = model.context_, model.module_.config
    graph = ForecastGraph(
        model.module_, context.horizon, context.quantiles, context.baseline is not None
    )
    # Any windows of the right shapes record the graph (it has no data-dependent branch).
    generator = torch.Generator().manual_seed(0)
    shape = (2, context.input_size)
    example = [
        torch.randn(*shape, config.source_features, generator=generator),
        torch.ones(shape, dtype=torch.bool),
    ]
    names = ["source", "mask"]
    if config.target_features > 1:
        example.append(
            torch.randn(2, context.horizon, config.target_features - 1, generator=generator)
        )
        names.append("future")
    example = tuple(example)
    buffer = io.BytesIO()
    with torch.no_grad(), _traceable():
        if suffix == ".pt":
            traced = torch.jit.trace(graph, example, check_trace=False)
            torch.jit.save(traced, buffer)
        else:
            _export_onnx(graph, example, names, buffer)
    files.write_bytes(str(path), buffer.getvalue())
    return path


def export_method(self, path) -> Path:
    """Write the fitted network as TorchScript (``.pt``) or ONNX (``.onnx``).

    The graph maps the scaled input windows to the scaled forecasts; :mod:`tsattn.export`
    gives the recipe (and :func:`~tsattn.export.forecast_inputs` and
    :func:`~tsattn.export.unscale_outputs` the helpers) that turn histories into its inputs
    and its outputs into :meth:`predict`'s forecasts.

    Parameters
    ----------
    path : str or path-like
        The file: ``.pt`` for TorchScript (``torch.jit.load``), ``.onnx`` for ONNX (needs the
        ``export`` extra, ``pip install "tsattn[export]"``).

    Returns
    -------
    pathlib.Path
        The file written, whole or not at all.

    Examples
    --------
    >>> import tempfile, torch
    >>> from tsattn import Seq2SeqForecaster
    >>> from tsattn.datasets import load_air_passengers
    >>> from tsattn.export import forecast_inputs, unscale_outputs
    >>> y = load_air_passengers()
    >>> model = Seq2SeqForecaster(12, hidden_size=8, max_epochs=2, verbose=False).fit(y)
    >>> path = model.export(tempfile.mkdtemp() + "/air.pt")
    >>> graph = torch.jit.load(path)
    >>> inputs, post = forecast_inputs(model)
    >>> outputs = graph(*(torch.from_numpy(a) for a in inputs.values()))
    >>> forecasts = unscale_outputs(outputs.numpy(), post)  # (1, 12): predict()'s values
    >>> bool(abs(forecasts[0] - model.predict().to_numpy()).max() < 1e-3)
    True
    """
    return export_forecaster(self, path)


def _export_onnx(graph, example, names, buffer) -> None:
    try:
        import onnx  # noqa: F401
    except ImportError as error:
        raise ImportError(
            'ONNX export needs onnx; install it with pip install "tsattn[export]"'
        ) from error
    torch.onnx.export(
        graph,
        example,
        buffer,
        input_names=names,
        output_names=["outputs"],
        dynamic_axes={name: {0: "series"} for name in [*names, "outputs"]},
        dynamo=False,
    )
