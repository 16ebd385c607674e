"""Epoch callbacks that log training to TensorBoard or MLflow.

Each logger is a callable taking an :class:`~tsattn.training.EpochReport`: give it to
:func:`tsattn.training.watch_epochs` around any ``fit`` (or as ``on_epoch_end`` of
:func:`tsattn.training.train`). Every epoch it records these metrics, at the epoch as step:

- ``train_loss`` and ``valid_loss`` (the latter only with validation),
- ``learning_rate`` (see the ``lr_schedule`` of :class:`~tsattn.training.TrainingConfig`),
- ``epoch_seconds``.

When one logger watches several fits (a search, an ensemble, refits), each fit after the first
is told apart by the prefix ``fit2/``, ``fit3/``, ...: a fit whose first epoch is not after
the last epoch logged is a new one (a fit resumed from its checkpoint goes on under the same
names). In distributed training only rank 0 logs.

The packages are optional extras, imported when a logger is made:
``pip install 'tsattn[tensorboard]'`` or ``pip install 'tsattn[mlflow]'``.

Examples
--------
>>> from tsattn.callbacks import TensorBoardLogger  # doctest: +SKIP
>>> from tsattn.training import watch_epochs  # doctest: +SKIP
>>> with TensorBoardLogger("runs/weekly") as tensorboard, watch_epochs(tensorboard):  # doctest: +SKIP
...     model.fit(y)
"""

from __future__ import annotations

import importlib
import math
import os
from types import ModuleType
from typing import Any

from tsattn.distributed import is_main_process
from tsattn.progress import EpochReport

__all__ = ["MLflowLogger", "TensorBoardLogger", "epoch_metrics"]


def epoch_metrics(report: EpochReport) -> dict[str, float]:
    """The metrics the loggers record for an epoch; NaN ones (no validation) left out.

    Parameters
    ----------
    report : EpochReport

    Returns
    -------
    dict of str to float
        ``train_loss``, ``valid_loss``, ``learning_rate``, ``epoch_seconds``.

    Examples
    --------
    >>> from tsattn.callbacks import epoch_metrics
    >>> from tsattn.training import EpochReport
    >>> report = EpochReport(3, 0.5, float("nan"), 1.5, 1.0, 0.5, 640, 0, learning_rate=1e-3)
    >>> epoch_metrics(report)
    {'train_loss': 0.5, 'learning_rate': 0.001, 'epoch_seconds': 1.5}
    """
    metrics = {
        "train_loss": report.train_loss,
        "valid_loss": report.valid_loss,
        "learning_rate": report.learning_rate,
        "epoch_seconds": report.seconds,
    }
    return {name: float(value) for name, value in metrics.items() if not math.isnan(value)}


class _EpochLogger:
    """Numbers the fits it watches, and logs on rank 0 only."""

    def __init__(self, prefix: str):
        if not isinstance(prefix, str):
            raise TypeError(f"prefix must be a str, got {type(prefix).__name__}")
        self.prefix = prefix
        self.fits = 0
        self._last_epoch = None

    def __call__(self, report: EpochReport) -> None:
        if not is_main_process():
            return
        if self._last_epoch is None or report.epoch <= self._last_epoch:
            self.fits += 1
        self._last_epoch = report.epoch
        fit = "" if self.fits == 1 else f"fit{self.fits}/"
        metrics = {f"{self.prefix}{fit}{k}": v for k, v in epoch_metrics(report).items()}
        self._log(metrics, report.epoch)

    def _log(self, metrics: dict[str, float], step: int) -> None:
        raise NotImplementedError

    def close(self) -> None:
        """Flush and release what the logger holds (nothing here)."""

    def __enter__(self):
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()


class TensorBoardLogger(_EpochLogger):
    """Write every epoch's metrics as TensorBoard scalars.

    Uses :class:`torch.utils.tensorboard.SummaryWriter`, which needs the ``tensorboard``
    package (``pip install 'tsattn[tensorboard]'``). The writer is flushed after every
    epoch, so ``tensorboard --logdir`` shows a fit while it runs.

    Parameters
    ----------
    log_dir : str, os.PathLike or None, default=None
        Where the event files go; None: SummaryWriter's default, ``runs/<date>_<host>``.
    prefix : str, default=""
        Put before every scalar's tag, e.g. ``"store_1/"``.

    Attributes
    ----------
    writer : torch.utils.tensorboard.SummaryWriter
    fits : int
        The fits logged so far.

    Raises
    ------
    ImportError
        Without the ``tensorboard`` package.

    See Also
    --------
    tsattn.training.watch_epochs : Calls the logger after every epoch of the fits inside it.

    Examples
    --------
    >>> from tsattn.callbacks import TensorBoardLogger  # doctest: +SKIP
    >>> from tsattn.training import watch_epochs  # doctest: +SKIP
    >>> with TensorBoardLogger("runs/weekly") as logger, watch_epochs(logger):  # doctest: +SKIP
    ...     model.fit(y)
    """

    def __init__(self, log_dir: str | os.PathLike | None = None, *, prefix: str = ""):
        super().__init__(prefix)
        if log_dir is not None and not isinstance(log_dir, (str, os.PathLike)):
            raise TypeError(f"log_dir must be a path or None, got {type(log_dir).__name__}")
        tensorboard = _import_extra("torch.utils.tensorboard", "tensorboard", "TensorBoardLogger")
        self.writer = tensorboard.SummaryWriter(
            log_dir=None if log_dir is None else os.fspath(log_dir)
        )

    def _log(self, metrics: dict[str, float], step: int) -> None:
        for tag, value in metrics.items():
            self.writer.add_scalar(tag, value, global_step=step)
        self.writer.flush()

    def close(self) -> None:
        """Flush and close the event file."""
        self.writer.close()


class MLflowLogger(_EpochLogger):
    """Log every epoch's metrics to an MLflow run.

    Needs the ``mlflow`` package (``pip install 'tsattn[mlflow]'``); where the runs go is
    MLflow's setting (``MLFLOW_TRACKING_URI``, :func:`mlflow.set_tracking_uri`).

    Parameters
    ----------
    run : mlflow.ActiveRun, mlflow.entities.Run, str or None, default=None
        The run to log to, or its id; None: the active run when an epoch ends (MLflow starts
        one if none is active).
    prefix : str, default=""
        Put before every metric's name, e.g. ``"store_1/"``.

    Attributes
    ----------
    run_id : str or None
        The run given, None for the active run.
    fits : int
        The fits logged so far.

    Raises
    ------
    ImportError
        Without the ``mlflow`` package.

    See Also
    --------
    tsattn.training.watch_epochs : Calls the logger after every epoch of the fits inside it.

    Examples
    --------
    >>> import mlflow  # doctest: +SKIP
    >>> from tsattn.callbacks import MLflowLogger  # doctest: +SKIP
    >>> from tsattn.training import watch_epochs  # doctest: +SKIP
    >>> with mlflow.start_run(), watch_epochs(MLflowLogger()):  # doctest: +SKIP
    ...     model.fit(y)
    """

    def __init__(self, run: Any = None, *, prefix: str = ""):
        super().__init__(prefix)
        mlflow = _import_extra("mlflow", "mlflow", "MLflowLogger")
        self._mlflow = mlflow
        self.run_id = _run_id(run)
        self._client = None if self.run_id is None else mlflow.MlflowClient()

    def _log(self, metrics: dict[str, float], step: int) -> None:
        if self._client is None:
            self._mlflow.log_metrics(metrics, step=step)
            return
        for key, value in metrics.items():
            self._client.log_metric(self.run_id, key, value, step=step)


def _import_extra(module: str, package: str, logger: str) -> ModuleType:
    """Import ``module`` of the optional ``package`` a logger needs, saying how to install it."""
    try:
        return importlib.import_module(module)
    except ImportError as error:
        raise ImportError(
            f"{logger} needs the {package} package: pip install 'tsattn[{package}]' "
            f"(or pip install {package}); {error}"
        ) from error


def _run_id(run: Any) -> str | None:
    """The id of an MLflow run given as an ActiveRun, a Run, an id or None."""
    if run is None or isinstance(run, str):
        return run
    run_id = getattr(getattr(run, "info", None), "run_id", None)
    if not isinstance(run_id, str):
        raise TypeError(
            f"run must be an mlflow run (ActiveRun or Run), a run id or None, got "
            f"{type(run).__name__}"
        )
    return run_id
