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

from tsattn.parameters import PARAMETERS, Boolean, Param, declarations, init_defaults

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
plus the calibrated ``lower``/``upper`` bounds of ``--coverage`` (all written as ``forecast_0.1``,
``forecast_lower`` ... when an input column already has one of those names). ISO 8601 timestamps
whose UTC offset changes (daylight saving time) are read as the local dates written when they
are a day or more apart at one time of day, else as UTC instants (and written in UTC)."""


class InputError(ValueError):
    """A problem with the user's files or options: reported without a traceback."""


class _Parser(argparse.ArgumentParser):
    """argparse with its errors on one line (``tsattn: error: ...``) and exit code 2."""

    def error(self, message: str):
        print(f"tsattn: error: {message}", file=sys.stderr)
        raise SystemExit(EXIT_BAD_INPUT)


def _level(text: str) -> float:
    """A probability strictly between 0 and 1 (a coverage)."""
    return _argument(PARAMETERS["quantiles"].rule.from_text)(text)


def _argument(from_text):
    """The ``type=`` of an option: its ValueError becomes argparse's one-line message."""

    def parse(text: str):
        try:
            return from_text(text)
        except ValueError as error:
            raise argparse.ArgumentTypeError(str(error)) from None

    return parse


def build_parser() -> argparse.ArgumentParser:
    """The parser of ``tsattn fit`` and ``tsattn forecast``.

    Returns
    -------
    argparse.ArgumentParser
        Its errors are one line on stderr and exit code 2; ``command`` is None without one.
    """
    from tsattn import __version__

    parser = _Parser(prog="tsattn", description="Forecasting with an attention encoder-decoder.")
    parser.add_argument("--version", action="version", version=f"tsattn {__version__}")
    commands = parser.add_subparsers(dest="command")
    forecast = commands.add_parser(
        "forecast",
        help="forecast every series of a CSV file",
        description=FILES_HELP,
    )
    forecast.add_argument("csv", help="long or wide CSV file of the series")
    _output_options(forecast, "with --quantiles")
    _data_and_model_options(forecast)
    fit = commands.add_parser(
        "fit",
        help="fit a model on the series of a CSV file and save it",
        description="Fit a forecaster on a long or wide CSV file (read as by `tsattn forecast`) "
        "and save it for tsattn.load(); under torchrun the processes train it together.",
    )
    fit.add_argument("csv", help="long or wide CSV file of the series")
    fit.add_argument("--save", required=True, help="file to save the fitted model to (.tsattn)")
    _data_and_model_options(fit)
    predict = commands.add_parser(
        "predict",
        help="forecast the series of a CSV file with a saved model (no training)",
        description="Forecast from the histories of a CSV file (read as by `tsattn forecast`: "
        "series the model knows, updated, or new ones) with a model saved by `tsattn fit "
        "--save` or model.save(); --covariates then covers each series' history and the "
        "model's horizon. The output is written as by `tsattn forecast`, with the model's "
        "quantiles when it was fit with some.",
    )
    predict.add_argument("csv", help="long or wide CSV file of the histories to forecast from")
    predict.add_argument(
        "--model", required=True, help="model file written by `tsattn fit --save` (.tsattn)"
    )
    _output_options(predict, "when the model has quantiles")
    _data_options(predict)
    return parser


def _output_options(parser: argparse.ArgumentParser, intervals: str) -> None:
    """Where the forecast and its plot go: the options of ``forecast`` and ``predict``."""
    parser.add_argument("--out", required=True, help="CSV file to write the forecast to")
    parser.add_argument("--plot", help="image file (.png, .pdf, .svg): history and forecast")
    parser.add_argument(
        "--plot-ids",
        nargs="+",
        metavar="ID",
        help="series to draw with --plot, as written in the file (default: the first 4)",
    )
    parser.add_argument(
        "--plot-history",
        type=_argument(_positive),
        metavar="N",
        help="last N steps of history drawn before the forecast with --plot (default: 5 times "
        "the horizon)",
    )
    parser.add_argument(
        "--coverage",
        type=_level,
        default=0.8,
        help=f"interval coverage {intervals}, strictly between 0 and 1",
    )


def _positive(text: str) -> int:
    """A whole number of 1 or more."""
    try:
        value = int(text)
    except ValueError:
        raise ValueError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise ValueError(f"must be 1 or more, got {value}")
    return value


def _data_and_model_options(parser: argparse.ArgumentParser) -> None:
    """The options `forecast` and `fit` share: reading the data, the model, the training."""
    _data_options(parser)
    _estimator_options(parser)


def _data_options(parser: argparse.ArgumentParser) -> None:
    """How the files are read: the options of every command."""
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


# Flags besides --name-of-the-parameter: the short names the command has always had.
ALIASES = {"max_epochs": ("--epochs",), "random_state": ("--seed",)}
# Required on the command line although the estimator has a default.
REQUIRED = ("horizon",)


def forecaster_options() -> dict[str, Param]:
    """The forecaster's declared parameters the command offers, in ``__init__``'s order."""
    from tsattn.forecast.forecaster import Seq2SeqForecaster

    return {name: row for name, row in declarations(Seq2SeqForecaster).items() if row.cli}


def _flags(name: str) -> list[str]:
    return ["--" + name.replace("_", "-"), *ALIASES.get(name, ())]


def _estimator_options(parser: argparse.ArgumentParser) -> None:
    """An option per forecaster parameter: the row's help, the estimator's default."""
    from tsattn.forecast.forecaster import Seq2SeqForecaster

    defaults = init_defaults(Seq2SeqForecaster)
    group = parser.add_argument_group("the forecaster's parameters")
    for name, row in forecaster_options().items():
        default = defaults[name]
        if isinstance(row.rule, Boolean):
            group.add_argument(
                *_flags(name),
                dest=name,
                action=argparse.BooleanOptionalAction,
                default=default,
                help=f"{row.help} (default: {'on' if default else 'off'})",
            )
            continue
        nargs = getattr(row.rule, "nargs", None)
        # Several words: each is read alone, and the list is the value (no "none" in it).
        from_text, metavar = (
            (row.rule.from_text, row.rule.metavar) if nargs else (row.from_text, row.metavar)
        )
        required = name in REQUIRED
        shown = "" if required else f" (default: {_shown(default)})"
        group.add_argument(
            *_flags(name),
            dest=name,
            type=_argument(from_text),
            nargs=nargs,
            default=default,
            required=required,
            metavar=metavar,
            help=row.help.replace("%", "%%") + shown,
        )
    # Short forms of two settings: no progress bar, no statistical baseline.
    group.add_argument(
        "--quiet", dest="verbose", action="store_false", default=argparse.SUPPRESS,
        help="no progress bar (as --no-verbose)",
    )  # fmt: skip
    group.add_argument(
        "--no-baseline", dest="baseline", action="store_const", const=None,
        default=argparse.SUPPRESS,
        help="let the network forecast alone (as --baseline none)",
    )  # fmt: skip


def _shown(default) -> str:
    # None, () and False all mean "none given" on the command line.
    if default is None or default is False or default == ():
        return "none"
    return str(default)


def estimator_params(args: argparse.Namespace) -> dict:
    """The forecaster's parameters from the parsed options (lists of words made values).

    Parameters
    ----------
    args : argparse.Namespace
        The parsed options of ``fit`` or ``forecast``.

    Returns
    -------
    dict
        Keyword arguments of :class:`tsattn.Seq2SeqForecaster`.
    """
    params = {}
    for name, row in forecaster_options().items():
        value = getattr(args, name)
        from_list = getattr(row.rule, "from_list", None)
        if isinstance(value, list) and from_list is not None:
            value = from_list(value)
        params[name] = value
    return params


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
    if args.command != "predict":
        _check_model_options(args)
    if args.command != "fit" and args.plot is None:
        for option in ("plot_ids", "plot_history"):
            if getattr(args, option) is not None:
                flag = "--" + option.replace("_", "-")
                raise InputError(f"{flag} says what --plot draws; give --plot FILE too")
    if args.layout == "wide" and args.id_col is not None:
        raise InputError("--id-col names a long file's series id; it cannot go with --layout wide")
    if args.layout == "wide" and args.target_col is not None:
        raise InputError(
            "--target-col names a long file's value column; it cannot go with --layout wide"
        )
    inputs = [p for p in (args.csv, args.covariates, args.static) if p is not None]
    if args.command == "predict":
        if not Path(args.model).is_file():
            raise InputError(f"--model: no such file: {args.model}")
        inputs.append(args.model)
    outputs = {"--save": args.save} if args.command == "fit" else {"--out": args.out}
    if args.command != "fit" and args.plot is not None:
        outputs["--plot"] = args.plot
        _check_plot_format(args.plot)
    for option, path in outputs.items():
        _check_output(option, path, inputs)
    if len({Path(p).resolve() for p in outputs.values()}) < len(outputs):
        raise InputError(f"{' and '.join(outputs)} name the same file; give each its own")
    if args.command != "predict":
        _check_parameters(args)


def _check_parameters(args: argparse.Namespace) -> None:
    """Every forecaster option against its declaration."""
    rows = forecaster_options()
    for name, value in estimator_params(args).items():
        try:
            rows[name].check(name, value)
        except (TypeError, ValueError) as error:
            raise InputError(f"{_flags(name)[0]}: {error}") from None


def _check_model_options(args: argparse.Namespace) -> None:
    """The forecaster's options that go together (``fit`` and ``forecast``)."""
    if args.random_state is not None and args.random_state < 0:
        raise InputError(f"--seed must be 0 or more, got {args.random_state}")
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
