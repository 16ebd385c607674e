"""The ``tsattn`` command: forecast the series of a CSV file, or fit and save a model.

    tsattn forecast sales.csv --horizon 12 --out forecast.csv [--plot forecast.png]
        [--quantiles 0.1 0.5 0.9] [--covariates x.csv] [--static static.csv]
        [--id-col ID] [--time-col DATE] [--target-col Y] [--layout long|wide]
        [--date-format FORMAT | --dayfirst]
    tsattn fit sales.csv --horizon 12 --save model.tsattn [same data options]

The CSV is long (a series id column, a date column, a value column) or wide (a date column and
one column per series); columns are detected by their usual names (``unique_id``/``id``/
``store``/``*_id``..., ``ds``/``date``/``week``/..., ``y``/``sales``/``value``/...) or named with
the options. Ids are read as text, as written (``01`` stays ``01``). What cannot be told apart is
refused with the option that settles it rather than guessed: a file whose dates repeat but has no
recognised id column, a value column beside unnamed columns, dates such as ``03/04/2021`` that
read as day-first and as month-first. The forecast is written in the input's layout, with the
input's column names; with ``--quantiles`` the output is long and holds one column per level
plus the calibrated ``lower``/``upper`` bounds of ``--coverage``.

Every option and output path is checked before training starts. Outputs are written whole or not
at all (to a new file beside the destination, then renamed over it), and only when training
finished: Ctrl-C leaves existing files as they were.

Both commands train data-parallel when started by ``torchrun`` (``torchrun
--nproc_per_node=4 -m tsattn fit ...``): every process reads the files and trains on its share
of each batch (see :mod:`tsattn.distributed`); rank 0 alone writes the output files and prints.

Exit codes: 0 success, 2 bad input or options (one line on stderr, no traceback), 130
interrupted (Ctrl-C; nothing written), 1 anything else.
"""

from __future__ import annotations

import argparse
import csv
import io
import os
import re
import signal
import stat
import sys
import threading
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

ID_NAMES = (
    "unique_id", "id", "series", "series_id", "item_id", "item", "sku", "product", "store",
    "store_id", "shop", "location", "customer",
)  # fmt: skip
DATE_NAMES = ("ds", "date", "timestamp", "time", "datetime", "week", "month", "period")
TARGET_NAMES = ("y", "sales", "value", "target", "demand", "quantity", "units")
EXIT_BAD_INPUT, EXIT_INTERRUPTED = 2, 130
# day/month/year or month/day/year with one separator, then anything (a time of day)
_NUMERIC_DATE = re.compile(r"^\s*(\d{1,2})([/.\-])(\d{1,2})\2(\d{2}|\d{4})(?!\d)")


class InputError(ValueError):
    """A problem with the user's files or options: reported without a traceback."""


class _Parser(argparse.ArgumentParser):
    """argparse with its errors on one line (``tsattn: error: ...``) and exit code 2."""

    def error(self, message: str):
        print(f"tsattn: error: {message}", file=sys.stderr)
        raise SystemExit(EXIT_BAD_INPUT)


class _Interrupt:
    """SIGINT handler that remembers the interrupt and raises KeyboardInterrupt as usual.

    The training loop ends on KeyboardInterrupt and returns the best weights so far, so the
    command cannot tell an interrupted fit from a finished one by the exception alone.
    """

    def __init__(self) -> None:
        self.seen = False

    def __call__(self, signum, frame):
        self.seen = True
        raise KeyboardInterrupt


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

    parser = _parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help(sys.stderr)
        return EXIT_BAD_INPUT
    interrupt = _Interrupt()
    main_thread = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGINT, interrupt) if main_thread else None
    try:
        _check_options(args)
        run = _forecast if args.command == "forecast" else _fit
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
    message = error.strerror + f": {error.filename}" if isinstance(error, OSError) else error
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


# ----------------------------------------------------------------------------------------------
# options


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


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="tsattn", description="Forecasting with an attention encoder-decoder.")
    commands = parser.add_subparsers(dest="command")
    forecast = commands.add_parser(
        "forecast",
        help="forecast every series of a CSV file",
        description=__doc__.split("\n\n")[2],
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


def _check_options(args) -> None:
    """What argparse cannot check alone: combinations of options and the output paths."""
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


# ----------------------------------------------------------------------------------------------
# reading


def _read(path: str, option: str) -> pd.DataFrame:
    """Every cell as text (ids keep their leading zeros); values are converted later."""
    if not Path(path).is_file():
        raise InputError(f"{option}: no such file: {path}")
    with open(path, newline="", encoding="utf-8") as handle:
        header = next(csv.reader(handle), [])
    repeated = sorted({c for c in header if header.count(c) > 1})
    if repeated:
        raise InputError(
            f"{path} has more than one column named {', '.join(map(repr, repeated))}; give every "
            f"column its own name"
        )
    frame = pd.read_csv(path, dtype=str)
    if frame.shape[1] < 2 or len(frame) == 0:
        raise InputError(
            f"{path} has {frame.shape[1]} column(s) and {len(frame)} row(s); it needs a date "
            f"column and values (long: id, date, value; wide: date, one column per series)"
        )
    return frame


def _pick(frame: pd.DataFrame, given: str | None, names: tuple, option: str, path: str):
    """The column named by an option, or the first with a usual name; None if neither."""
    if given is not None:
        if given not in frame.columns:
            raise InputError(
                f"{path} has no column {given!r} (named by {option}); it has {list(frame.columns)}"
            )
        return given
    lowered = {str(c).lower(): c for c in frame.columns}
    found = next((lowered[n] for n in names if n in lowered), None)
    if found is None and names is ID_NAMES:  # store_id, product_id, ...
        found = next((c for c in frame.columns if str(c).lower().endswith("_id")), None)
    return found


def _is_number(column: pd.Series) -> bool:
    present = column.dropna()
    return bool(pd.to_numeric(present, errors="coerce").notna().all())


def _numbers(column: pd.Series, name: str, path: str) -> pd.Series:
    """A text column as numbers; a clear error at the first cell that is not one."""
    values = pd.to_numeric(column, errors="coerce")
    bad = values.isna() & column.notna()
    if bad.any():
        row = int(np.flatnonzero(bad.to_numpy())[0])
        raise InputError(
            f"{path}: column {name!r} is not numeric: row {row + 1} holds {column.iloc[row]!r}; "
            f"fix the value, or name the value column with --target-col"
        )
    return values.astype(float)


def _dates(column: pd.Series, name: str, path: str, args) -> pd.Series | pd.Index:
    """A text column of dates (or integer steps) parsed as the options say, never guessed."""
    text = column.astype(str).str.strip()
    if column.isna().any():
        row = int(np.flatnonzero(column.isna().to_numpy())[0])
        raise InputError(
            f"{path}: column {name!r} has no date in row {row + 1}; fill it or drop it"
        )
    hint = "name the date column with --time-col, or give its format with --date-format"
    if args.date_format is not None:
        try:
            return pd.to_datetime(text, format=args.date_format)
        except (TypeError, ValueError) as error:
            raise InputError(
                f"{path}: column {name!r} does not match --date-format {args.date_format!r} "
                f"({error})"
            ) from None
    if text.str.fullmatch(r"-?\d+").all():
        return text.astype(np.int64)  # integer time steps
    parts = text.str.extract(_NUMERIC_DATE)
    dayfirst = False
    if parts[0].notna().all():
        first, second = parts[0].astype(int), parts[2].astype(int)
        if args.dayfirst or first.max() > 12:
            dayfirst = True
        elif second.max() <= 12 and (first != second).any():
            example = text[first != second].iloc[0]
            raise InputError(
                f"{path}: the dates of column {name!r} read both day-first and month-first "
                f"({example!r}); pass --dayfirst for day/month/year, or --date-format %m/%d/%Y "
                f"for month/day/year"
            )
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # pandas' notes on the inferred format
            parsed = pd.to_datetime(text, dayfirst=dayfirst)
    except (TypeError, ValueError):
        raise InputError(
            f"{path}: column {name!r} does not hold dates (first value {text.iloc[0]!r}); {hint}"
        ) from None
    if parts[0].notna().all():  # the day read must be the day written
        day = (parts[0] if dayfirst else parts[2]).astype(int).to_numpy()
        if (pd.DatetimeIndex(parsed).day != day).any():
            raise InputError(
                f"{path}: column {name!r} mixes date formats (first value {text.iloc[0]!r}); {hint}"
            )
    return parsed


def _typed(frame: pd.DataFrame, keep_text: tuple) -> pd.DataFrame:
    """Numbers and booleans of a covariate or static file as such; other text stays text."""
    out = frame.copy()
    for col in out.columns:
        if col in keep_text:
            continue
        present = out[col].dropna()
        if present.str.lower().isin(["true", "false"]).all() and len(present):
            out[col] = out[col].str.lower().map({"true": True, "false": False})
        elif _is_number(out[col]):
            out[col] = pd.to_numeric(out[col])
    return out


def _load_y(args) -> tuple[pd.DataFrame, dict]:
    """The series as a long (unique_id, ds, y) or wide (dates x series) frame, and names."""
    path = args.csv
    frame = _read(path, "csv")
    time_col = _pick(frame, args.time_col, DATE_NAMES, "--time-col", path)
    time_col = time_col if time_col is not None else frame.columns[0]
    id_col = None
    if args.layout != "wide":
        id_col = _pick(frame, args.id_col, ID_NAMES, "--id-col", path)
    target = None
    if args.target_col is not None:
        target = _pick(frame, args.target_col, TARGET_NAMES, "--target-col", path)
    others = [c for c in frame.columns if c not in (time_col, id_col, target)]
    text = [c for c in others if not _is_number(frame[c])]
    if id_col is None and args.layout != "wide":
        if len(text) == 1:
            id_col = text[0]
        elif len(text) > 1:
            raise InputError(
                f"{path}: cannot tell which of the text columns {text} holds the series ids; "
                f"name it with --id-col"
            )
    if id_col is None:
        _check_wide(frame, time_col, others, args)
        wide = frame.drop(columns=time_col)
        for col in wide.columns:
            wide[col] = _numbers(wide[col], col, path)
        wide.index = pd.Index(_dates(frame[time_col], time_col, path, args))
        wide.index.name = None
        return wide, {"layout": "wide", "date": time_col}
    if id_col == time_col:
        raise InputError(f"{path}: column {id_col!r} cannot be both the series id and the date")
    if target is None:
        target = _pick(frame, None, TARGET_NAMES, "--target-col", path)
        if target in (id_col, time_col):
            target = None
    if target is None:
        rest = [c for c in frame.columns if c not in (id_col, time_col)]
        numeric = [c for c in rest if _is_number(frame[c])]
        if len(numeric) != 1:
            raise InputError(
                f"cannot tell which column of {path} holds the values (candidates "
                f"{numeric or rest}); name it with --target-col"
            )
        target = numeric[0]
    y = pd.DataFrame(
        {
            "unique_id": frame[id_col],
            "ds": _dates(frame[time_col], time_col, path, args),
            "y": _numbers(frame[target], target, path),
        }
    )
    return y, {"layout": "long", "id": id_col, "date": time_col, "target": target}


def _check_wide(frame: pd.DataFrame, time_col, others: list, args) -> None:
    """Refuse a file that looks wide only because its id column went unrecognised."""
    path = args.csv
    if args.layout == "wide":
        return
    if args.target_col is not None:
        raise InputError(
            f"--target-col names the value column of a long file, but {path} has no series id "
            f"column among {list(ID_NAMES)} or named *_id; name it with --id-col"
        )
    if frame[time_col].duplicated().any():
        raise InputError(
            f"{path}: dates repeat in column {time_col!r}, so the file is long (a row per series "
            f"and date), but none of {others} is recognised as the series id; name it with "
            f"--id-col"
        )
    if len(others) < 2:
        return
    value_like = [c for c in others if str(c).lower() in TARGET_NAMES]
    # A long file of one series with an integer id (store 7 in every row) has no repeated dates.
    constant = [
        c
        for c in others
        if frame[c].notna().all() and frame[c].nunique() == 1 and frame[c].str.isdigit().all()
    ]
    if value_like or constant:
        why = (
            f"column {value_like[0]!r} is named like a long file's values"
            if value_like
            else f"column {constant[0]!r} holds the same whole number in every row, like an id"
        )
        raise InputError(
            f"{path} is ambiguous: {why}, but no series id column is recognised among {others}; "
            f"pass --id-col COLUMN if the file is long, or --layout wide if every column but "
            f"{time_col!r} is a series"
        )


def _load_covariates(args, names: dict):
    if args.covariates is None:
        return None
    path = args.covariates
    frame = _read(path, "--covariates")
    given = args.time_col if args.time_col in frame.columns else None
    time_col = _pick(frame, given, DATE_NAMES, "--time-col", path)
    time_col = time_col if time_col is not None else names["date"]
    if time_col not in frame.columns:
        raise InputError(f"{path} has no date column among {list(DATE_NAMES)}")
    if names["layout"] == "long":
        given = names["id"] if names["id"] in frame.columns else None
        id_col = _pick(frame, given, ID_NAMES, "--id-col", path)
        if id_col is None:
            raise InputError(
                f"{path} needs a series id column (like {args.csv}'s {names['id']!r}) for a long "
                f"input"
            )
        X = _typed(frame, (id_col, time_col)).rename(columns={id_col: "unique_id", time_col: "ds"})
        X["ds"] = _dates(frame[time_col], time_col, path, args)
        return X
    X = _typed(frame.drop(columns=time_col), ())
    X.index = pd.Index(_dates(frame[time_col], time_col, path, args))
    return X


def _load_static(args):
    if args.static is None:
        return None
    frame = _read(args.static, "--static")
    given = args.id_col if args.id_col in frame.columns else None
    id_col = _pick(frame, given, ID_NAMES, "--id-col", args.static)
    id_col = id_col if id_col is not None else frame.columns[0]
    return _typed(frame, (id_col,)).set_index(id_col)  # ids as text, as y's are


def _check_horizon_covered(y, X, names: dict, args) -> None:
    """Covariates must reach ``--horizon`` steps past every series' end: checked before fitting."""
    from tsattn.forecast.panel import to_panel

    panel = to_panel(y, allow_nan=args.missing == "mask")
    if names["layout"] == "long":
        stamps = {k: pd.Index(v) for k, v in X.groupby("unique_id", sort=False)["ds"]}
    else:
        stamps = {sid: X.index for sid in panel.ids}
    for sid, last in zip(panel.ids, panel.last, strict=True):
        future = panel.axis.future(last, args.horizon)
        have = stamps.get(sid, pd.Index([]))
        missing = future[~future.isin(have)]
        if len(missing):
            series = f" for series {sid!r}" if names["layout"] == "long" else ""
            raise InputError(
                f"--covariates {args.covariates} has no row{series} at {missing[0]} ({len(missing)}"
                f" of the {args.horizon} dates after {last} are missing); covariates are known in "
                f"advance and must cover the horizon: add their future values"
            )


# ----------------------------------------------------------------------------------------------
# forecasting


def _fitted(args, interrupt: _Interrupt):
    """Read the files and fit the forecaster the options describe: (model, y, X, names)."""
    from tsattn import Seq2SeqForecaster

    y, names = _load_y(args)
    X = _load_covariates(args, names)
    static = _load_static(args)
    if X is not None and args.command == "forecast":
        _check_horizon_covered(y, X, names, args)
    model = Seq2SeqForecaster(
        horizon=args.horizon,
        input_size=args.input_size,
        hidden_size=args.hidden_size,
        max_epochs=args.epochs,
        batch_size=args.batch_size,
        windows_per_epoch="auto" if args.windows_per_epoch is None else args.windows_per_epoch,
        quantiles=tuple(args.quantiles) if args.quantiles else None,
        missing=args.missing,
        nonnegative=args.nonnegative,
        season_length=args.season_length,
        baseline=None if args.no_baseline else "theta",
        device=args.device,
        random_state=args.seed,
        verbose=not args.quiet,
    )
    with warnings.catch_warnings():
        # An interrupt is reported as the exit code, on one line, not as this warning.
        warnings.filterwarnings("ignore", message="training interrupted", category=RuntimeWarning)
        model.fit(y, X=X, static=static)
    if interrupt.seen:  # the training loop kept the weights so far and returned
        raise KeyboardInterrupt
    return model, y, X, names


def _fit(args, interrupt: _Interrupt) -> int:
    from tsattn.distributed import is_main_process

    model, *_ = _fitted(args, interrupt)
    if is_main_process():  # every rank holds the same model; one writes it
        model.save(args.save)
        print(
            f"saved the model ({model.n_series_} series, {len(model.history_)} epochs) to "
            f"{args.save}",
            file=sys.stderr,
        )
    return 0


def _forecast(args, interrupt: _Interrupt) -> int:
    from tsattn.distributed import is_main_process

    model, y, X, names = _fitted(args, interrupt)
    if not is_main_process():  # every rank holds the same model; one writes the files
        return 0
    point = model.predict(X=X)
    band = None
    if args.quantiles:
        frame = _long(model.predict_quantiles(X=X), names)
        band = _long(model.predict_interval(X=X, coverage=args.coverage), names)
        frame = _long(point, names).merge(frame).merge(band)
    else:
        frame = point
    out = _with_names(frame, names)
    image = _plot(y, point, band, names, args.plot) if args.plot else None
    text = out.to_csv(index=names["layout"] == "wide" and not args.quantiles)
    _write(args.out, text.encode("utf-8"))
    print(f"wrote {len(out)} rows of {args.horizon}-step forecasts to {args.out}", file=sys.stderr)
    if image is not None:
        _write(args.plot, image)
        print(f"wrote the plot to {args.plot}", file=sys.stderr)
    return 0


def _write(path: str, data: bytes) -> None:
    """Write a whole file or nothing: a new file beside ``path``, renamed over it when complete.

    The new file keeps the mode of the file it replaces (a new one gets ``open``'s, under the
    umask).
    """
    target = Path(path)
    temporary = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    try:
        with open(temporary, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        if target.exists():
            os.chmod(temporary, stat.S_IMODE(target.stat().st_mode))
        os.replace(temporary, target)
    finally:
        temporary.unlink(missing_ok=True)


def _long(result, names: dict) -> pd.DataFrame:
    """A wide forecast (dates x series, or x (series, column)) as a long frame."""
    if names["layout"] == "long" or "unique_id" in result.columns:
        return result
    frame = result.copy()
    if isinstance(frame.columns, pd.MultiIndex):
        frame = frame.stack(level=0, future_stack=True)
        frame.index.names = ["ds", "unique_id"]
        return frame.reset_index()[["unique_id", "ds", *frame.columns]]
    frame.index.name = "ds"
    long = frame.reset_index().melt(id_vars="ds", var_name="unique_id", value_name="y")
    return long[["unique_id", "ds", "y"]]


def _with_names(frame: pd.DataFrame, names: dict) -> pd.DataFrame:
    """The input's own column names on the output."""
    if "unique_id" not in frame.columns:  # a wide point forecast: dates x series
        out = frame.copy()
        out.index.name = names["date"]
        return out
    renames = {"unique_id": names.get("id", "unique_id"), "ds": names["date"]}
    renames["y"] = names.get("target", "y")
    return frame.rename(columns=renames)


def _plot(y, point, band, names: dict, path: str) -> bytes:
    """The image of history and forecast of up to 4 series, in the format of ``path``'s suffix."""
    from tsattn.plotting import plot_forecast, pyplot

    history = _long(y, names) if names["layout"] == "wide" else y
    forecast = _long(point, names)
    if band is not None:
        forecast = forecast.merge(_long(band, names))
    ids = list(pd.unique(history["unique_id"]))[:4]
    plt = pyplot()
    figure, axes = plt.subplots(len(ids), 1, figsize=(9, 2.6 * len(ids)), squeeze=False)
    for ax, uid in zip(axes[:, 0], ids, strict=True):
        plot_forecast(
            history[history["unique_id"] == uid],
            forecast[forecast["unique_id"] == uid],
            ax=ax,
            history_tail=5 * len(forecast[forecast["unique_id"] == uid]),
            title=str(uid),
        )
    figure.tight_layout()
    image = io.BytesIO()
    figure.savefig(image, dpi=100, format=Path(path).suffix.lstrip(".").lower())
    plt.close(figure)
    return image.getvalue()


if __name__ == "__main__":
    raise SystemExit(main())
