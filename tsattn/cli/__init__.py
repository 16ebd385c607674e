"""The ``tsattn`` command: forecast the series of a CSV file, or fit and save a model.

    tsattn forecast sales.csv --horizon 12 --out forecast.csv [--plot forecast.png]
        [--quantiles 0.1 0.5 0.9] [--covariates x.csv] [--static static.csv]
        [--id-col ID] [--time-col DATE] [--target-col Y] [--layout long|wide]
        [--date-format FORMAT | --dayfirst]
    tsattn fit sales.csv --horizon 12 --save model.tsattn [same data options]
    tsattn predict --model model.tsattn new.csv --out forecast.csv [--plot forecast.png]
        [--covariates x.csv] [--static static.csv] [--coverage 0.8] [same reading options]
    tsattn --version

``forecast`` and ``predict`` draw the first four series with ``--plot``, or those of
``--plot-ids``, each with the last ``--plot-history`` steps of its history (5 horizons unless
given).

``fit`` and ``forecast`` take every parameter of :class:`tsattn.Seq2SeqForecaster` (but ``warm_start``) as
an option, ``--hidden-size 32``, ``--baseline theta_holt``, ``--seed 0`` ..., with the
estimator's defaults and the help of the parameter's declaration in :mod:`tsattn.parameters`.

How the CSV is read (long or wide, columns found by their usual names or named with the options,
ids as text, dates never guessed) and how the forecast is written: ``tsattn forecast --help``.
What cannot be told apart is refused with the option that settles it.

Every option and output path is checked before training starts. Outputs are written whole or not
at all (to a new file beside the destination, then renamed over it), and only when training
finished: Ctrl-C leaves existing files as they were.

Both commands train data-parallel when started by ``torchrun`` (``torchrun
--nproc_per_node=4 -m tsattn fit ...``): every process reads the files and trains on its share
of each batch (see :mod:`tsattn.distributed`); rank 0 alone writes the output files and prints.

Exit codes: 0 success, 2 bad input or options (one line on stderr, no traceback), 130
interrupted (Ctrl-C; nothing written), 1 anything else.

The modules: :mod:`~tsattn.cli.options` (parsing, and every check made before training),
:mod:`~tsattn.cli.reading` (the CSV files), :mod:`~tsattn.cli.commands` (``fit``,
``forecast`` and ``predict``) and :mod:`~tsattn.cli.output` (what is written).
"""

from __future__ import annotations

import os
import signal
import sys
import threading

import pandas as pd

from tsattn.cli.commands import Interrupt, fit, forecast, predict
from tsattn.cli.options import (
    EXIT_BAD_INPUT,
    EXIT_INTERRUPTED,
    InputError,
    build_parser,
    check_options,
)

__all__ = ["main"]


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit code.

    Parameters
    ----------
    argv : list of str or None
        Arguments without the program name; None reads ``sys.argv``.

    Returns
    -------
    int
        0 on success, 2 for bad input or options, 130 when interrupted (nothing written).
    """
    from tsattn import distributed

    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help(sys.stderr)
        return EXIT_BAD_INPUT
    interrupt = Interrupt()
    main_thread = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGINT, interrupt) if main_thread else None
    try:
        check_options(args)
        run = {"forecast": forecast, "fit": fit, "predict": predict}[args.command]
        return run(args, interrupt)
    except KeyboardInterrupt:
        return _interrupted(args)
    except (InputError, FileNotFoundError, IsADirectoryError, PermissionError) as error:
        return _fail(error)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as error:
        return _fail(f"cannot read the file as CSV: {error}")
    except (ValueError, TypeError) as error:  # the forecaster's checks of the data
        return _fail(error)
    finally:
        if previous is not None:
            signal.signal(signal.SIGINT, previous)
        distributed.shutdown()  # the process group, if training under torchrun made one


def _fail(error) -> int:
    message = error
    if isinstance(error, OSError) and error.strerror is not None:
        message = error.strerror + f": {error.filename}"
    message = " ".join(str(message).split())  # one line, whatever the message holds
    print(f"{_who()}: error: {message}", file=sys.stderr)
    return EXIT_BAD_INPUT


def _interrupted(args) -> int:
    kept = args.save if args.command == "fit" else args.out
    print(f"{_who()}: interrupted; nothing written ({kept} left as it was)", file=sys.stderr)
    return EXIT_INTERRUPTED


def _who() -> str:
    rank = _rank()
    return "tsattn" if rank == 0 else f"tsattn[rank {rank}]"


def _rank() -> int:
    """The process' rank under torchrun (0 otherwise), before or after training."""
    from tsattn import distributed

    if distributed.launched():
        return int(os.environ["RANK"])
    return distributed.current_world().rank
