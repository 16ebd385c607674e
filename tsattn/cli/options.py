"""The command's options: argument parsing and every check made before training.

Everything the options can get wrong (numbers out of range, options that exclude each other,
output paths that cannot be written, a plot format matplotlib cannot draw) is refused here,
before any file is read or any model trained, with one line and exit code 2.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

EXIT_BAD_INPUT, EXIT_INTERRUPTED = 2, 130
# How the files are read and written: the description of `tsattn forecast --help`.
FILES_HELP = """\
The CSV is long (a series id column, a date column, a value column) or wide (a date column and
one column per series); columns are detected by their usual names (``unique_id``/``id``/
``store``/``*_id``..., ``ds``/``date``/``week``/..., ``y``/``sales``/``value``/...) or named with
the options. Ids are read as text, as written (``01`` stays ``01``). What cannot be told apart is
refused with the option that settles it rather than guessed: a file whose dates repeat but has no
recognised id column, a value column beside unnamed columns, dates such as ``03/04/2021`` that
read as day-first and as month-first. The forecast is written in the input's layout, with the
input's column names; with ``--quantiles`` the output is long and holds one column per level
plus the calibrated ``lower``/``upper`` bounds of ``--coverage``."""


class InputError(ValueError):
    """A problem with the user's files or options: reported without a traceback."""


class _Parser(argparse.ArgumentParser):
    """argparse with its errors on one line (``tsattn: error: ...``) and exit code 2."""

    def error(self, message: str):
        print(f"tsattn: error: {message}", file=sys.stderr)
        raise SystemExit(EXIT_BAD_INPUT)


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def _level(text: str) -> float:
    """A probability strictly between 0 and 1 (a quantile level or a coverage)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number in (0, 1), got {text!r}") from None
    if not 0.0 < value < 1.0:
        raise argparse.ArgumentTypeError(f"must lie strictly between 0 and 1, got {text}")
    return value


def build_parser() -> argparse.ArgumentParser:
    """The parser of ``tsattn fit`` and ``tsattn forecast``.

    Returns
    -------
    argparse.ArgumentParser
        Its errors are one line on stderr and exit code 2; ``command`` is None without one.
    """
    parser = _Parser(prog="tsattn", description="Forecasting with an attention encoder-decoder.")
    commands = parser.add_subparsers(dest="command")
    forecast = commands.add_parser(
        "forecast",
        help="forecast every series of a CSV file",
        description=FILES_HELP,
    )
    forecast.add_argument("csv", help="long or wide CSV file of the series")
    forecast.add_argument("--horizon", type=_positive_int, required=True, help="steps to forecast")
    forecast.add_argument("--out", required=True, help="CSV file to write the forecast to")
    forecast.add_argument("--plot", help="image file (.png, .pdf, .svg): history and forecast")
    forecast.add_argument(
        "--coverage",
        type=_level,
        default=0.8,
        help="interval coverage with --quantiles, strictly between 0 and 1",
    )
    _data_and_model_options(forecast)
    fit = commands.add_parser(
        "fit",
        help="fit a model on the series of a CSV file and save it",
        description="Fit a forecaster on a long or wide CSV file (read as by `tsattn forecast`) "
        "and save it for tsattn.load(); under torchrun the processes train it together.",
    )
    fit.add_argument("csv", help="long or wide CSV file of the series")
    fit.add_argument("--horizon", type=_positive_int, required=True, help="steps to forecast")
    fit.add_argument("--save", required=True, help="file to save the fitted model to (.tsattn)")
    _data_and_model_options(fit)
    return parser


def _data_and_model_options(parser: argparse.ArgumentParser) -> None:
    """The options `forecast` and `fit` share: reading the data, the model, the training."""
    parser.add_argument(
        "--quantiles", type=_level, nargs="+", help="quantile levels, e.g. 0.1 0.5 0.9"
    )
    parser.add_argument(
        "--covariates",
        help="CSV of covariates known in advance over the history and the horizon: long (id, "
        "date, columns) for a long input, (date, columns) shared by all series for a wide one",
    )
    parser.add_argument("--static", help="CSV of per-series features: an id column, then columns")
    parser.add_argument("--id-col", help="series id column of a long CSV")
    parser.add_argument("--time-col", "--date-col", dest="time_col", help="date column")
    parser.add_argument("--target-col", help="value column of a long CSV")
    parser.add_argument(
        "--layout",
        choices=("long", "wide"),
        help="long (id, date, value rows) or wide (a column per series); default: detected",
    )
    dates = parser.add_mutually_exclusive_group()
    dates.add_argument(
        "--date-format", help="strftime format of the dates, e.g. %%d/%%m/%%Y or %%m/%%d/%%Y"
    )
    dates.add_argument(
        "--dayfirst", action="store_true", help="read dates like 03/04/2021 as day/month/year"
    )
    parser.add_argument(
        "--input-size", type=_positive_int, help="steps of history the encoder reads"
    )
    parser.add_argument("--epochs", type=_positive_int, default=100, help="most training epochs")
    parser.add_argument("--hidden-size", type=_positive_int, default=64)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--missing", choices=("error", "mask"), default="error")
    parser.add_argument(
        "--nonnegative", action="store_true", help="clip forecasts at 0 (sales, counts)"
    )
    parser.add_argument(
        "--batch-size",
        type=_positive_int,
        default=256,
        help="windows per optimiser step (all processes)",
    )
    parser.add_argument(
        "--windows-per-epoch",
        type=_positive_int,
        help="training windows drawn per epoch (default: all, within 20 to 50 batches)",
    )
    parser.add_argument(
        "--season-length",
        type=_positive_int,
        help="seasonal period (default: from the dates' frequency; needed for integer steps)",
    )
    parser.add_argument(
        "--no-baseline",
        action="store_true",
        help="let the network forecast alone instead of correcting the Theta method",
    )
    parser.add_argument("--device", default="auto", help="auto, cpu, cuda or cuda:N")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")


def check_options(args: argparse.Namespace) -> None:
    """Check what argparse cannot check alone: combinations of options and the output paths.

    Parameters
    ----------
    args : argparse.Namespace
        The parsed options of one command.

    Raises
    ------
    InputError
        For the first problem found, naming the option and the fix.
    """
    if args.seed < 0:
        raise InputError(f"--seed must be 0 or more, got {args.seed}")
    if args.quantiles is not None:
        if len(set(args.quantiles)) != len(args.quantiles):
            raise InputError(f"--quantiles holds a level twice: {args.quantiles}")
        below = any(q < 0.5 for q in args.quantiles)
        above = any(q > 0.5 for q in args.quantiles)
        if args.command == "forecast" and not (below and above):
            raise InputError(
                f"--quantiles {' '.join(map(str, args.quantiles))} gives no interval for "
                f"--coverage: add a level below 0.5 and one above, e.g. --quantiles 0.1 0.5 0.9"
            )
    if args.layout == "wide" and args.id_col is not None:
        raise InputError("--id-col names a long file's series id; it cannot go with --layout wide")
    if args.layout == "wide" and args.target_col is not None:
        raise InputError(
            "--target-col names a long file's value column; it cannot go with --layout wide"
        )
    inputs = [p for p in (args.csv, args.covariates, args.static) if p is not None]
    outputs = {"--save": args.save} if args.command == "fit" else {"--out": args.out}
    if args.command == "forecast" and args.plot is not None:
        outputs["--plot"] = args.plot
        _check_plot_format(args.plot)
    for option, path in outputs.items():
        _check_output(option, path, inputs)
    if len({Path(p).resolve() for p in outputs.values()}) < len(outputs):
        raise InputError(f"{' and '.join(outputs)} name the same file; give each its own")


def _check_output(option: str, path: str, inputs: list[str]) -> None:
    """Refuse an output path that cannot be written, before any training."""
    target = Path(path)
    if path == "" or target.is_dir():
        raise InputError(f"{option} {path!r} is a directory or empty; give a file name")
    parent = target.parent
    if not parent.is_dir():
        raise InputError(
            f"{option} {path}: the directory {str(parent)!r} does not exist; create it first "
            f"(mkdir -p {parent})"
        )
    if not os.access(parent, os.W_OK | os.X_OK):
        raise InputError(f"{option} {path}: cannot write in the directory {str(parent)!r}")
    if target.exists() and not os.access(target, os.W_OK):
        raise InputError(f"{option} {path}: the file exists and is not writable")
    if any(target.exists() and target.resolve() == Path(p).resolve() for p in inputs):
        raise InputError(f"{option} {path} is one of the input files; write to another file")


def _check_plot_format(path: str) -> None:
    from matplotlib.backend_bases import FigureCanvasBase

    suffix = Path(path).suffix.lower().lstrip(".")
    formats = FigureCanvasBase.get_supported_filetypes()
    if suffix not in formats:
        raise InputError(
            f"--plot {path}: cannot draw a {suffix or 'suffix-less'!r} file; end the name with "
            f"one of {', '.join('.' + f for f in sorted(formats))}"
        )
