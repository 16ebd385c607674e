"""The ``tsattn`` command: forecast the series of a CSV file, or fit and save a model.

    tsattn forecast sales.csv --horizon 12 --out forecast.csv [--plot forecast.png]
        [--quantiles 0.1 0.5 0.9] [--covariates x.csv] [--static static.csv]
        [--id-col ID] [--date-col DATE] [--target-col Y]
    tsattn fit sales.csv --horizon 12 --save model.tsattn [same data options]

The CSV is long (a series id column, a date column, a value column) or wide (a date column and
one column per series); columns are detected by their usual names (``unique_id``/``id``/
``series``, ``ds``/``date``/``week``/..., ``y``/``sales``/``value``/...) or named with the options.
The forecast is written in the input's layout, with the input's column names; with
``--quantiles`` the output is long and holds one column per level plus the calibrated
``lower``/``upper`` bounds of ``--coverage``.

Both commands train data-parallel when started by ``torchrun`` (``torchrun
--nproc_per_node=4 -m tsattn fit ...``): every process reads the files and trains on its share
of each batch (see :mod:`tsattn.distributed`); rank 0 alone writes the output files and prints.

Exit codes: 0 success, 2 bad input (message on stderr, no traceback), 1 anything else.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import pandas as pd

ID_NAMES = ("unique_id", "id", "series", "series_id", "item_id", "item", "sku", "product")
DATE_NAMES = ("ds", "date", "timestamp", "time", "datetime", "week", "month", "period")
TARGET_NAMES = ("y", "sales", "value", "target", "demand", "quantity", "units")


class InputError(ValueError):
    """A problem with the user's files or options: reported without a traceback."""


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit code.

    Parameters
    ----------
    argv : list of str or None
        Arguments without the program name; None reads ``sys.argv``.

    Returns
    -------
    int
        0 on success, 2 for bad input or options.
    """
    from tsattn import distributed

    parser = _parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help(sys.stderr)
        return 2
    try:
        return _forecast(args) if args.command == "forecast" else _fit(args)
    except (InputError, FileNotFoundError, IsADirectoryError, PermissionError) as error:
        return _fail(error)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as error:
        return _fail(f"cannot read the file as CSV: {error}")
    except (ValueError, TypeError) as error:  # the forecaster's checks of the data
        return _fail(error)
    finally:
        distributed.shutdown()  # the process group, if training under torchrun made one


def _fail(error) -> int:
    message = error.strerror + f": {error.filename}" if isinstance(error, OSError) else error
    rank = _rank()
    who = "tsattn" if rank == 0 else f"tsattn[rank {rank}]"
    print(f"{who}: error: {message}", file=sys.stderr)
    return 2


def _rank() -> int:
    """The process' rank under torchrun (0 otherwise), before or after training."""
    from tsattn import distributed

    if distributed.launched():
        return int(os.environ["RANK"])
    return distributed.current_world().rank


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="tsattn", description="Forecasting with an attention encoder-decoder."
    )
    commands = parser.add_subparsers(dest="command")
    forecast = commands.add_parser(
        "forecast",
        help="forecast every series of a CSV file",
        description=__doc__.split("\n\n")[2],
    )
    forecast.add_argument("csv", help="long or wide CSV file of the series")
    forecast.add_argument("--horizon", type=int, required=True, help="steps to forecast")
    forecast.add_argument("--out", required=True, help="CSV file to write the forecast to")
    forecast.add_argument("--plot", help="PNG file: history and forecast of up to 4 series")
    forecast.add_argument(
        "--coverage", type=float, default=0.8, help="interval coverage with --quantiles"
    )
    _data_and_model_options(forecast)
    fit = commands.add_parser(
        "fit",
        help="fit a model on the series of a CSV file and save it",
        description="Fit a forecaster on a long or wide CSV file (read as by `tsattn forecast`) "
        "and save it for tsattn.load(); under torchrun the processes train it together.",
    )
    fit.add_argument("csv", help="long or wide CSV file of the series")
    fit.add_argument("--horizon", type=int, required=True, help="steps to forecast")
    fit.add_argument("--save", required=True, help="file to save the fitted model to (.tsattn)")
    _data_and_model_options(fit)
    return parser


def _data_and_model_options(parser: argparse.ArgumentParser) -> None:
    """The options `forecast` and `fit` share: reading the data, the model, the training."""
    parser.add_argument(
        "--quantiles", type=float, nargs="+", help="quantile levels, e.g. 0.1 0.5 0.9"
    )
    parser.add_argument(
        "--covariates",
        help="CSV of covariates known in advance over the history and the horizon: long (id, "
        "date, columns) for a long input, (date, columns) shared by all series for a wide one",
    )
    parser.add_argument("--static", help="CSV of per-series features: an id column, then columns")
    parser.add_argument("--id-col", help="series id column of a long CSV")
    parser.add_argument("--date-col", help="date column")
    parser.add_argument("--target-col", help="value column of a long CSV")
    parser.add_argument("--input-size", type=int, help="steps of history the encoder reads")
    parser.add_argument("--epochs", type=int, default=100, help="most training epochs")
    parser.add_argument("--hidden-size", type=int, default=64)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--missing", choices=("error", "mask"), default="error")
    parser.add_argument(
        "--nonnegative", action="store_true", help="clip forecasts at 0 (sales, counts)"
    )
    parser.add_argument(
        "--batch-size", type=int, default=256, help="windows per optimiser step (all processes)"
    )
    parser.add_argument(
        "--windows-per-epoch",
        type=int,
        help="training windows drawn per epoch (default: all, within 20 to 50 batches)",
    )
    parser.add_argument(
        "--season-length",
        type=int,
        help="seasonal period (default: from the dates' frequency; needed for integer steps)",
    )
    parser.add_argument(
        "--no-baseline",
        action="store_true",
        help="let the network forecast alone instead of correcting the Theta method",
    )
    parser.add_argument("--device", default="auto", help="auto, cpu, cuda or cuda:N")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")


# ----------------------------------------------------------------------------------------------
# reading


def _read(path: str) -> pd.DataFrame:
    if not Path(path).is_file():
        raise InputError(f"no such file: {path}")
    frame = pd.read_csv(path)
    if frame.shape[1] < 2 or len(frame) == 0:
        raise InputError(
            f"{path} has {frame.shape[1]} column(s) and {len(frame)} row(s); it needs a date "
            f"column and values (long: id, date, value; wide: date, one column per series)"
        )
    return frame


def _pick(frame: pd.DataFrame, given: str | None, names: tuple, what: str, path: str):
    """The column named by an option, or the first with a usual name; None if neither."""
    if given is not None:
        if given not in frame.columns:
            raise InputError(
                f"{path} has no column {given!r} ({what}); it has {list(frame.columns)}"
            )
        return given
    lowered = {str(c).lower(): c for c in frame.columns}
    return next((lowered[n] for n in names if n in lowered), None)


def _dates(column: pd.Series, name: str, path: str) -> pd.Series:
    if pd.api.types.is_integer_dtype(column.dtype):
        return column
    try:
        return pd.to_datetime(column)
    except (TypeError, ValueError):
        raise InputError(
            f"{path}: column {name!r} does not hold dates (first value {column.iloc[0]!r}); name "
            f"the date column with --date-col"
        ) from None


def _load_y(args) -> tuple[pd.DataFrame, dict]:
    """The series as a long (unique_id, ds, y) or wide (dates x series) frame, and names."""
    frame = _read(args.csv)
    id_col = _pick(frame, args.id_col, ID_NAMES, "series id", args.csv)
    date_col = _pick(frame, args.date_col, DATE_NAMES, "dates", args.csv)
    if id_col is None:  # a long file's id column has text; a wide file has numbers only
        text = [
            c
            for c in frame.columns[1:]
            if c != date_col and not pd.api.types.is_numeric_dtype(frame[c].dtype)
        ]
        id_col = text[0] if len(text) == 1 else None
    if id_col is not None:
        if date_col is None:
            raise InputError(
                f"{args.csv} is long (series id column {id_col!r}) but has no date column among "
                f"{list(DATE_NAMES)}; name it with --date-col"
            )
        target = _pick(frame, args.target_col, TARGET_NAMES, "values", args.csv)
        if target is None:
            rest = [c for c in frame.columns if c not in (id_col, date_col)]
            numeric = [c for c in rest if pd.api.types.is_numeric_dtype(frame[c].dtype)]
            if len(numeric) != 1:
                raise InputError(
                    f"cannot tell which column of {args.csv} holds the values (candidates "
                    f"{numeric or rest}); name it with --target-col"
                )
            target = numeric[0]
        y = pd.DataFrame(
            {
                "unique_id": frame[id_col].astype(str),
                "ds": _dates(frame[date_col], date_col, args.csv),
                "y": frame[target],
            }
        )
        return y, {"layout": "long", "id": id_col, "date": date_col, "target": target}
    if args.target_col is not None:
        raise InputError(
            f"--target-col names the value column of a long file, but {args.csv} has no series "
            f"id column among {list(ID_NAMES)}; name it with --id-col"
        )
    date_col = date_col if date_col is not None else frame.columns[0]
    wide = frame.set_index(date_col)
    wide.index = _dates(wide.index.to_series(), date_col, args.csv).to_numpy()
    wide.index.name = None
    return wide, {"layout": "wide", "date": date_col}


def _load_covariates(args, names: dict):
    if args.covariates is None:
        return None
    frame = _read(args.covariates)
    date_col = _pick(
        frame,
        args.date_col if args.date_col in frame else None,
        DATE_NAMES,
        "dates",
        args.covariates,
    )
    if date_col is None:
        raise InputError(f"{args.covariates} has no date column among {list(DATE_NAMES)}")
    if names["layout"] == "long":
        id_col = _pick(
            frame,
            names["id"] if names["id"] in frame else None,
            ID_NAMES,
            "series id",
            args.covariates,
        )
        if id_col is None:
            raise InputError(
                f"{args.covariates} needs a series id column (like {args.csv}'s {names['id']!r}) "
                f"for a long input"
            )
        X = frame.rename(columns={id_col: "unique_id", date_col: "ds"})
        X["unique_id"] = X["unique_id"].astype(str)
        X["ds"] = _dates(X["ds"], date_col, args.covariates)
        return X
    X = frame.set_index(date_col)
    X.index = _dates(X.index.to_series(), date_col, args.covariates).to_numpy()
    return X


def _load_static(args):
    if args.static is None:
        return None
    frame = _read(args.static)
    id_col = _pick(
        frame, args.id_col if args.id_col in frame else None, ID_NAMES, "series id", args.static
    )
    id_col = id_col if id_col is not None else frame.columns[0]
    static = frame.set_index(id_col)
    static.index = static.index.astype(str)
    return static


# ----------------------------------------------------------------------------------------------
# forecasting


def _fitted(args):
    """Read the files and fit the forecaster the options describe: (model, y, X, names)."""
    from tsattn import Seq2SeqForecaster

    y, names = _load_y(args)
    X = _load_covariates(args, names)
    static = _load_static(args)  # ids as text, as CSV headers and the long ids are
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
    model.fit(y, X=X, static=static)
    return model, y, X, names


def _fit(args) -> int:
    from tsattn.distributed import is_main_process

    model, *_ = _fitted(args)
    if is_main_process():  # every rank holds the same model; one writes it
        model.save(args.save)
        print(
            f"saved the model ({model.n_series_} series, {len(model.history_)} epochs) to "
            f"{args.save}",
            file=sys.stderr,
        )
    return 0


def _forecast(args) -> int:
    from tsattn.distributed import is_main_process

    model, y, X, names = _fitted(args)
    if not is_main_process():  # every rank holds the same model; one writes the files
        return 0
    point = model.predict(X=X)
    if args.quantiles:
        frame = _long(model.predict_quantiles(X=X), names)
        band = _long(model.predict_interval(X=X, coverage=args.coverage), names)
        frame = _long(point, names).merge(frame).merge(band)
    else:
        frame = point
    out = _with_names(frame, names)
    out.to_csv(args.out, index=names["layout"] == "wide" and not args.quantiles)
    print(f"wrote {len(out)} rows of {model.horizon}-step forecasts to {args.out}", file=sys.stderr)
    if args.plot:
        _plot(y, point, band if args.quantiles else None, names, args.plot)
        print(f"wrote the plot to {args.plot}", file=sys.stderr)
    return 0


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


def _plot(y, point, band, names: dict, path: str) -> None:
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
    figure.savefig(path, dpi=100)
    plt.close(figure)


if __name__ == "__main__":
    raise SystemExit(main())
