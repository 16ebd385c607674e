"""What a fit reports of its epochs: the epoch reports, their callbacks, the display and the log.

Every epoch the training loop (:mod:`tsattn.training`) trains ends in an :class:`EpochReport`,
given to the callbacks of every enclosing :func:`watch_epochs` block and shown by an
:class:`EpochDisplay`.

What a fit shows (``verbose=True``, rank 0 only): a progress bar over the epochs when standard
error is a terminal or a notebook, else one plain line per epoch (logs, CI, ``nohup``), and
nothing when the environment sets ``TQDM_DISABLE`` (to anything but ``0``, ``false``, ``no``,
``off`` or nothing). Every epoch is also logged at INFO under the ``tsattn.training`` logger,
whatever is shown.
"""

from __future__ import annotations

import contextlib
import contextvars
import logging
import math
import os
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass

__all__ = ["EpochDisplay", "EpochReport", "epoch_watchers", "watch_epochs"]

# The training loop's logger: a fit's records, its epochs included, all come under one name.
logger = logging.getLogger("tsattn.training")


@dataclass(frozen=True)
class EpochReport:
    """What an epoch did, as given to ``on_epoch_end`` and :func:`watch_epochs` callbacks.

    Losses and sample counts are over all processes in distributed training; times are this
    process'.

    Attributes
    ----------
    epoch : int
        1-based.
    train_loss, valid_loss : float
        Mean losses (``valid_loss`` is NaN without validation).
    seconds : float
        The whole epoch: training steps, validation and bookkeeping.
    train_seconds, valid_seconds : float
        The training steps, and the validation loss, alone.
    train_samples, valid_samples : int
        Training samples drawn, and validation samples evaluated.
    learning_rate : float
        The learning rate the epoch trained at (see ``TrainingConfig.lr_schedule``).
    """

    epoch: int
    train_loss: float
    valid_loss: float
    seconds: float
    train_seconds: float
    valid_seconds: float
    train_samples: int
    valid_samples: int
    learning_rate: float = math.nan


_watchers: contextvars.ContextVar[tuple[Callable[[EpochReport], None], ...]] = (
    contextvars.ContextVar("tsattn_epoch_watchers", default=())
)


@contextlib.contextmanager
def watch_epochs(callback: Callable[[EpochReport], None]) -> Iterator[None]:
    """Call ``callback`` after every epoch any fit trains inside the block.

    The epoch callbacks of every tsattn estimator: each ``fit`` (a warm start's, a search's,
    an ensemble member's, a search's run in this process) trains through
    :func:`tsattn.training.train`, which calls the callbacks of every enclosing
    ``watch_epochs`` block, outermost first. A callback sees each epoch's
    :class:`EpochReport` (losses, learning rate, timings, sample counts), for timing,
    logging or a custom stop; :mod:`tsattn.callbacks` has ready ones for TensorBoard and
    MLflow. The blocks follow the context (a :mod:`contextvars` variable), so a callback
    watches the fits of its own thread or task only.

    Epochs restored from a checkpoint are not trained and not reported; each fit numbers its
    epochs from 1 (a resumed one from the epoch after its checkpoint's). In distributed
    training every rank calls its callbacks, with the same losses (log on rank 0 only, as
    :mod:`tsattn.callbacks`' loggers do). The callback runs after the epoch's checkpoint is
    written; an exception it raises ends the fit and reaches the caller of ``fit``, except
    ``KeyboardInterrupt``, which ends training as Ctrl-C does: with a warning and the best
    weights so far.

    Parameters
    ----------
    callback : callable
        ``callback(report: EpochReport) -> None``.

    Yields
    ------
    None

    Raises
    ------
    TypeError
        When ``callback`` is not callable.

    See Also
    --------
    EpochReport : What the callback receives.
    tsattn.callbacks.TensorBoardLogger, tsattn.callbacks.MLflowLogger : Ready callbacks.

    Examples
    --------
    >>> from tsattn import Seq2SeqForecaster
    >>> from tsattn.datasets import load_air_passengers
    >>> from tsattn.training import watch_epochs
    >>> reports = []
    >>> with watch_epochs(reports.append):
    ...     f = Seq2SeqForecaster(horizon=12, max_epochs=3, random_state=0, verbose=False)
    ...     f = f.fit(load_air_passengers())
    >>> [report.epoch for report in reports]
    [1, 2, 3]
    >>> all(report.train_loss > 0 and report.seconds > 0 for report in reports)
    True
    """
    if not callable(callback):
        raise TypeError(f"callback must be callable, got {type(callback).__name__}")
    token = _watchers.set((*_watchers.get(), callback))
    try:
        yield
    finally:
        _watchers.reset(token)


def epoch_watchers() -> tuple[Callable[[EpochReport], None], ...]:
    """The callbacks of the enclosing :func:`watch_epochs` blocks, outermost first.

    Returns
    -------
    tuple of callable
    """
    return _watchers.get()


def _epoch_line(report: EpochReport, max_epochs: int) -> str:
    """One epoch in words, as logged and as printed when standard error is not a terminal.

    Parameters
    ----------
    report : EpochReport
    max_epochs : int

    Returns
    -------
    str
        For example ``"epoch 3/100: train loss 0.1234, validation loss 0.2345, 0.8 s"``
        (without validation, no validation loss).
    """
    valid = f", validation loss {report.valid_loss:.4g}" if math.isfinite(report.valid_loss) else ""
    return (
        f"epoch {report.epoch}/{max_epochs}: train loss {report.train_loss:.4g}{valid}, "
        f"{report.seconds:.1f} s"
    )


def _progress_disabled_by_environment() -> bool:
    """Whether ``TQDM_DISABLE`` asks for no progress display.

    tqdm reads the variable only for bars whose ``disable`` is left at its default, which the
    loop's is not (``verbose`` decides it), so the loop reads it itself. Set to anything but
    nothing, ``0``, ``false``, ``no`` or ``off``, it silences the bars and the plain lines.

    Returns
    -------
    bool
    """
    value = os.environ.get("TQDM_DISABLE", "").strip().lower()
    return value not in ("", "0", "false", "no", "off")


def _interactive(stream) -> bool:
    """Whether progress bars render on ``stream``: a terminal, or a notebook's widgets."""
    try:
        if stream.isatty():
            return True
    except (AttributeError, ValueError):  # no isatty, or a closed stream
        return False
    from tqdm.auto import tqdm

    # tqdm.auto picks the notebook bar in Jupyter, whose stderr is no terminal.
    return any(cls.__module__ == "tqdm.notebook" for cls in tqdm.__mro__)


class EpochDisplay:
    r"""What a fit shows of its epochs: a bar, one line per epoch, or nothing.

    Built by the training loop for each fit, given the fit's ``TrainingConfig``, its
    :class:`~tsattn.distributed.World` and the first epoch it trains.

    A bar when ``verbose`` on rank 0 and standard error renders one; one plain line per epoch
    when it does not (a file, a pipe: ``\r`` updates would fill a log with partial lines);
    nothing without ``verbose``, on other ranks, or with ``TQDM_DISABLE`` set. Every epoch is
    also logged at INFO on rank 0, whatever is shown.
    """

    def __init__(self, config, world, first_epoch: int):
        self.config, self.world, self.first_epoch = config, world, first_epoch
        self.stream = sys.stderr
        self.bar = None
        shown = (
            config.verbose
            and world.is_main
            and self.stream is not None
            and not _progress_disabled_by_environment()
        )
        self.mode = "off" if not shown else "bar" if _interactive(self.stream) else "lines"

    def wrap(self, epochs: range):
        """The epochs to loop over: behind a bar in ``"bar"`` mode."""
        if self.mode != "bar":
            return epochs
        from tqdm.auto import tqdm

        self.bar = tqdm(
            epochs, initial=self.first_epoch - 1, total=self.config.max_epochs, unit="epoch"
        )
        return self.bar

    def show(self, report: EpochReport) -> None:
        """Show and log one finished epoch."""
        if self.bar is not None:
            self.bar.set_postfix(train=f"{report.train_loss:.4f}", valid=f"{report.valid_loss:.4f}")
        logged = self.world.is_main and logger.isEnabledFor(logging.INFO)
        if self.mode != "lines" and not logged:
            return
        line = _epoch_line(report, self.config.max_epochs)
        if self.mode == "lines":
            print(line, file=self.stream, flush=True)
        if logged:
            logger.info(line)

    def close(self) -> None:
        """End the bar, if any."""
        if self.bar is not None:
            self.bar.close()
