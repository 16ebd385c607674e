"""Reading the command's CSV files: the layout, the columns, ids as text, dates as the options say.

What cannot be told apart (long or wide, which column holds the ids or the values, day-first or
month-first dates) is refused with the option that settles it, never guessed.
"""

from __future__ import annotations

import csv
import re
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from tsattn.cli.options import InputError

ID_NAMES = (
    "unique_id", "id", "series", "series_id", "item_id", "item", "sku", "product", "store",
    "store_id", "shop", "location", "customer",
)  # fmt: skip
DATE_NAMES = ("ds", "date", "timestamp", "time", "datetime", "week", "month", "period")
TARGET_NAMES = ("y", "sales", "value", "target", "demand", "quantity", "units")
# day/month/year or month/day/year with one separator, then anything (a time of day)
_NUMERIC_DATE = re.compile(r"^\s*(\d{1,2})([/.\-])(\d{1,2})\2(\d{2}|\d{4})(?!\d)")
# year first (ISO 8601's order) with one separator
_YEAR_FIRST = re.compile(r"^\s*\d{4}([/.\-])\d{1,2}\1\d{1,2}")
# an ISO 8601 UTC offset at the end of a timestamp
_UTC_OFFSET = r"(?:Z|[+-]\d{2}:?\d{2})$"


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
    hint = (
        f"name the date column with --time-col, or give its format with --date-format, "
        f"e.g. {_format_example(text.iloc[0])}"
    )
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
            sep, year = parts[1].iloc[0], "%Y" if len(parts[3].iloc[0]) == 4 else "%y"
            raise InputError(
                f"{path}: the dates of column {name!r} read both day-first and month-first "
                f"({example!r}); pass --dayfirst for day{sep}month{sep}year, or --date-format "
                f"%m{sep}%d{sep}{year} for month{sep}day{sep}year"
            )
    shifting = _changing_offsets(text)
    if shifting is not None:
        return shifting
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


def _format_example(value: str) -> str:
    """A --date-format with the separators and order of ``value`` (what the file writes)."""
    numeric = _NUMERIC_DATE.match(value)
    if numeric is not None:
        sep, year = numeric.group(2), "%Y" if len(numeric.group(4)) == 4 else "%y"
        return f"%d{sep}%m{sep}{year} or %m{sep}%d{sep}{year}"
    year_first = _YEAR_FIRST.match(value)
    if year_first is not None:
        sep = year_first.group(1)
        return f"%Y{sep}%m{sep}%d"
    return "%Y-%m-%d"


def _changing_offsets(text: pd.Series) -> pd.Series | None:
    """ISO 8601 timestamps whose UTC offset changes (daylight saving time); None otherwise.

    Dates a day or more apart, all at the same time of day (midnight, say), are read as the
    local dates and times written, the offsets dropped: a daily series stays daily across the
    change (in UTC its step would be 23 or 25 hours). Timestamps within the day are read as
    UTC instants, whose steps stay regular where the local clock repeats or skips an hour.
    """
    offsets = text.str.extract(f"({_UTC_OFFSET})")[0]
    if offsets.isna().any() or offsets.nunique() < 2:
        return None
    try:
        local = pd.to_datetime(text.str.replace(_UTC_OFFSET, "", regex=True), format="ISO8601")
        instants = pd.to_datetime(text, utc=True, format="ISO8601")
    except (TypeError, ValueError):
        return None
    if (local - local.dt.normalize()).nunique() == 1:
        return local
    return instants


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


def load_y(args) -> tuple[pd.DataFrame, dict]:
    """Read the series of ``args.csv``.

    Parameters
    ----------
    args : argparse.Namespace
        The command's options (``csv``, ``layout``, the column names, the date options).

    Returns
    -------
    y : pandas.DataFrame
        A long (unique_id, ds, y) frame, or a wide one (dates x series).
    names : dict
        The layout and the file's own column names, to give the output the same.
    """
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


def load_covariates(args, names: dict) -> pd.DataFrame | None:
    """Read ``args.covariates`` keyed as y is (unique_id and ds, or dates); None without one.

    Parameters
    ----------
    args : argparse.Namespace
        The command's options.
    names : dict
        What :func:`load_y` found: the layout and y's column names.

    Returns
    -------
    pandas.DataFrame or None
    """
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


def load_static(args) -> pd.DataFrame | None:
    """Read ``args.static`` indexed by series id (as text, like y's); None without one.

    Parameters
    ----------
    args : argparse.Namespace
        The command's options.

    Returns
    -------
    pandas.DataFrame or None
    """
    if args.static is None:
        return None
    frame = _read(args.static, "--static")
    given = args.id_col if args.id_col in frame.columns else None
    id_col = _pick(frame, given, ID_NAMES, "--id-col", args.static)
    id_col = id_col if id_col is not None else frame.columns[0]
    return _typed(frame, (id_col,)).set_index(id_col)  # ids as text, as y's are


def check_horizon_covered(y, X, names: dict, args) -> None:
    """Check, before fitting, that the covariates reach ``--horizon`` steps past every series' end.

    Parameters
    ----------
    y, X : pandas.DataFrame
        The series and covariates, as :func:`load_y` and :func:`load_covariates` give them.
    names : dict
        What :func:`load_y` found.
    args : argparse.Namespace
        The command's options.

    Raises
    ------
    InputError
        Naming the first series and date that the covariates miss.
    """
    from tsattn.forecast.panel.conversion import to_panel

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
