"""Covariates for the forecaster: X over the history and the horizon, static features, calendar.

Whatever the format of ``y``, ``X`` is first turned into rows keyed by (series, time), then
looked up at exactly the (series, time) pairs the model needs: every step of every series'
history in ``fit``, the ``horizon`` steps after every series' end in ``predict``. Rows of ``X``
outside those are ignored, so one ``X`` covering history and future serves both calls. The
result is one float32 array aligned with the panel's values (history) or of shape
(n_series, horizon, n_columns) (future), already scaled: 0/1 flags as they are; positive amounts
(prices, counts) as the log of their ratio to the series' mean in ``fit`` (a 20% price cut is
then the same input for every product, as the target is scaled per window), then standardised;
other columns standardised.

Formats of ``X`` (they mirror ``y``'s):

* ``y`` a Series: a DataFrame indexed by time like ``y``, one column per covariate.
* ``y`` a wide DataFrame: a DataFrame indexed by time whose columns are a two-level MultiIndex
  (series, covariate); or plain columns, then every covariate is shared by all series.
* ``y`` a long DataFrame: a long DataFrame with ``unique_id``, ``ds`` and one column per covariate.
* ``y`` an array of shape (T,) or (T, N): an array (R, C), shared by all series, or (R, N, C);
  its columns are named ``x0``, ``x1``, ... In ``fit`` row 0 is y's row 0; in ``predict`` the
  last row is the last forecast step.

Static features are a DataFrame indexed by series id. Numeric columns are standardised across
series; categorical ones (strings, categories) are one-hot encoded. The forecaster concatenates
them to every encoder and decoder step, so a one-hot column times the RNN's input weights is a
learned embedding of its category (one vector per category and gate), with no extra module.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from tsattn.forecast.panel import ID_COL, TARGET_COL, TIME_COL, Panel, TimeAxis

# Calendar features: each is encoded as a (sin, cos) pair of its phase in the cycle.
# name -> (cycle length in days, how many steps one cycle has)
CALENDAR_FEATURES = {
    "hour": (1.0, 24.0),
    "dayofweek": (7.0, 7.0),
    "dayofmonth": (30.44, 30.44),
    "dayofyear": (365.25, 365.25),
    "week": (365.25, 52.18),
    "month": (365.25, 12.0),
    "quarter": (365.25, 4.0),
}
# Most levels a static categorical column may have: each level is one input feature per step.
MAX_LEVELS = 100
DAY_NS = 86_400 * 10**9


@dataclass
class CovariateSpec:
    """What ``fit`` learnt about X and the static features (JSON-ready; saved with the model).

    Decoder columns come first: ``known`` then ``calendar`` (sin/cos pairs); ``past`` columns
    follow and reach the encoder only.
    """

    known: list = field(default_factory=list)
    past: list = field(default_factory=list)
    calendar: list = field(default_factory=list)
    loc: list = field(default_factory=list)  # per X column (known then past)
    scale: list = field(default_factory=list)
    relative: list = field(default_factory=list)  # per X column: log of x / its series' mean
    static: list = field(default_factory=list)  # per static column: name, kind, levels/loc/scale

    @property
    def x_columns(self) -> list:
        """The columns read from X, known ones first."""
        return [*self.known, *self.past]

    @property
    def n_future(self) -> int:
        """Columns the decoder reads at every forecast step."""
        return len(self.known) + 2 * len(self.calendar)

    @property
    def n_columns(self) -> int:
        """All time-varying columns (what the encoder reads besides the target)."""
        return self.n_future + len(self.past)

    @property
    def uses_x(self) -> bool:
        """Whether ``predict`` needs X."""
        return bool(self.known)

    def to_json(self) -> dict:
        """JSON-ready dict."""
        return asdict(self)


# ----------------------------------------------------------------------------------------------
# Checks of the parameters


def check_calendar(value: Any) -> list | bool:
    """Validate ``calendar_features``: False, True or a list of names."""
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    names = [value] if isinstance(value, str) else value
    try:
        names = list(names)
    except TypeError:
        raise TypeError(
            f"calendar_features must be False, True or a list of names from "
            f"{list(CALENDAR_FEATURES)}, got {value!r}"
        ) from None
    unknown = [n for n in names if n not in CALENDAR_FEATURES]
    if unknown or not names or len(set(names)) != len(names):
        raise ValueError(
            f"calendar_features must be False, True or a list of distinct names from "
            f"{list(CALENDAR_FEATURES)}, got {value!r}"
        )
    return names


def check_past_covariates(value: Any) -> list:
    """Validate ``past_covariates``: a sequence of column names."""
    if isinstance(value, str):
        return [value]
    try:
        names = list(value)
    except TypeError:
        raise TypeError(
            f"past_covariates must be a list of column names of X, got {value!r}"
        ) from None
    if len(set(map(str, names))) != len(names):
        raise ValueError(f"past_covariates has duplicate names: {names}")
    return names


# ----------------------------------------------------------------------------------------------
# Time keys: every timestamp as one int64 (ns for datetimes, ordinal for periods)


def time_keys(stamps: Any, axis: TimeAxis, what: str) -> np.ndarray:
    """int64 keys of timestamps of the axis' kind; a clear error for the wrong kind."""
    index = pd.Index(stamps)
    if axis.kind == "datetime":
        if not pd.api.types.is_datetime64_any_dtype(index.dtype):
            try:
                index = pd.DatetimeIndex(pd.to_datetime(index))
            except (TypeError, ValueError):
                raise TypeError(
                    f"{what} must hold datetimes like y's, got dtype {index.dtype}"
                ) from None
        index = pd.DatetimeIndex(index)
        if index.tz is not None:  # y's timestamps are compared as naive wall times too
            index = index.tz_localize(None)
        return index.as_unit("ns").asi8.astype(np.int64)
    if axis.kind == "period":
        if not isinstance(index, pd.PeriodIndex):
            try:
                index = pd.PeriodIndex(index, freq=axis.freq)
            except (TypeError, ValueError):
                raise TypeError(
                    f"{what} must hold periods like y's (freq {axis.freq!r}), got dtype "
                    f"{index.dtype}"
                ) from None
        return index.asi8.astype(np.int64)
    if not pd.api.types.is_integer_dtype(index.dtype):
        raise TypeError(f"{what} must hold integers like y's, got dtype {index.dtype}")
    return index.to_numpy().astype(np.int64)


def _stamp(key: int, axis: TimeAxis) -> Any:
    """A key back as a readable timestamp (for messages)."""
    if axis.kind == "datetime":
        stamp = pd.Timestamp(key)
        return str(stamp.date()) if stamp == stamp.normalize() else str(stamp)
    if axis.kind == "period":
        return str(pd.Period(ordinal=int(key), freq=axis.freq))
    return int(key)


@dataclass
class Grid:
    """Every series' timestamps as positions in one shared grid of stamps."""

    stamps: pd.Index  # the grid (DatetimeIndex, PeriodIndex or integer Index)
    keys: np.ndarray  # int64 (G,)
    end: np.ndarray  # int64 (n_series,) grid position of every series' last timestamp

    def history(self, lengths: np.ndarray) -> np.ndarray:
        """Grid positions of every series' history, concatenated in panel order."""
        counts = np.asarray(lengths, dtype=np.int64)
        first = self.end - counts + 1
        offsets = np.concatenate([[0], np.cumsum(counts)[:-1]])
        return np.arange(counts.sum()) - np.repeat(offsets, counts) + np.repeat(first, counts)

    def future(self, horizon: int) -> np.ndarray:
        """(n_series, horizon) grid positions of the steps after every series' end."""
        return self.end[:, None] + np.arange(1, horizon + 1)


def make_grid(axis: TimeAxis, last: list, lengths: np.ndarray, horizon: int) -> Grid:
    """The grid from the earliest history step to ``horizon`` steps after the latest end."""
    lengths = np.asarray(lengths, dtype=np.int64)
    if axis.kind in ("integer", "position"):
        step = int(axis.freq or 1)
        last_keys = np.array([int(t) for t in last], dtype=np.int64)
        first = int((last_keys - step * (lengths - 1)).min())
        keys = np.arange(first, int(last_keys.max()) + step * horizon + 1, step, dtype=np.int64)
        return Grid(pd.Index(keys), keys, (last_keys - first) // step)
    last_index = pd.Index(last)
    last_keys = time_keys(last_index, axis, "y's timestamps")
    latest = last_index[int(np.argmax(last_keys))]
    if axis.kind == "datetime":
        earliest = last_index[int(np.argmin(last_keys))]
        span = len(pd.date_range(earliest, latest, freq=axis.freq))
        past = pd.date_range(end=latest, periods=span + int(lengths.max()) - 1, freq=axis.freq)
        future = pd.date_range(start=latest, periods=horizon + 1, freq=axis.freq)[1:]
    else:
        span = int(last_keys.max() - last_keys.min()) + 1
        latest = pd.Period(latest, freq=axis.freq)
        past = pd.period_range(end=latest, periods=span + int(lengths.max()) - 1, freq=axis.freq)
        future = pd.period_range(start=latest + 1, periods=horizon, freq=axis.freq)
    stamps = past.append(future)
    keys = time_keys(stamps, axis, "the time grid")
    return Grid(stamps, keys, np.searchsorted(keys, last_keys).astype(np.int64))


# ----------------------------------------------------------------------------------------------
# Calendar features


def resolve_calendar(value: list | bool, axis: TimeAxis) -> list:
    """The calendar features to use: the list given, or for True those that fit the frequency.

    True gives: hourly data hour, dayofweek, week; daily dayofweek, week; weekly week; monthly
    month; quarterly quarter; none for yearly data (an error).
    """
    if value is False:
        return []
    if axis.kind not in ("datetime", "period"):
        raise ValueError(
            "calendar_features need timestamps (a DatetimeIndex, PeriodIndex or datetime ds); "
            f"y is indexed by {axis.kind}s. Set calendar_features=False"
        )
    if value is not True:
        return list(value)
    step = _step_days(axis)
    # The day's and the week's cycles where a step is shorter than them; the year's cycle by
    # its finest unit that is not shorter than a step (week, month, quarter).
    chosen = [name for name, longest in (("hour", 0.25), ("dayofweek", 1.0)) if step <= longest]
    yearly = next(
        (
            name
            for name, longest in (("week", 27), ("month", 85), ("quarter", 180))
            if step <= longest
        ),
        None,
    )
    chosen += [yearly] if yearly else []
    if not chosen:
        raise ValueError(
            f"calendar_features=True finds no calendar feature that varies at frequency "
            f"{axis.freq!r}; set calendar_features=False"
        )
    return chosen


def _step_days(axis: TimeAxis) -> float:
    if axis.kind == "period":
        stamps = pd.period_range("2001-01-01", periods=3, freq=axis.freq).to_timestamp()
    else:
        stamps = pd.date_range("2001-01-01", periods=3, freq=axis.freq)
    return float(np.diff(stamps.as_unit("ns").asi8).mean() / DAY_NS)


def calendar_values(stamps: pd.Index, names: list) -> np.ndarray:
    """(len(stamps), 2 * len(names)) sin/cos of every feature's phase."""
    if isinstance(stamps, pd.PeriodIndex):
        stamps = stamps.to_timestamp()
    stamps = pd.DatetimeIndex(stamps)
    columns = []
    for name in names:
        if name == "hour":
            phase = (stamps.hour + stamps.minute / 60) / 24
        elif name == "dayofweek":
            phase = stamps.day_of_week / 7
        elif name == "dayofmonth":
            phase = (stamps.day - 1) / stamps.days_in_month
        elif name == "dayofyear":
            phase = (stamps.day_of_year - 1) / 365.25
        elif name == "week":
            phase = (stamps.isocalendar().week.to_numpy() - 1) / 52.18
        elif name == "month":
            phase = (stamps.month - 1) / 12
        else:
            phase = (stamps.quarter - 1) / 4
        angle = 2 * np.pi * np.asarray(phase, dtype=np.float64)
        columns += [np.sin(angle), np.cos(angle)]
    return np.stack(columns, axis=1) if columns else np.zeros((len(stamps), 0))


# ----------------------------------------------------------------------------------------------
# X in any format -> rows keyed by (series code, time key)


@dataclass
class Rows:
    """X as rows: series codes (None: every row is shared by all series), time keys, values."""

    codes: np.ndarray | None
    keys: np.ndarray
    frame: pd.DataFrame  # covariate columns only


def x_rows(X: Any, panel_layout: dict, ids: list, axis: TimeAxis, last_row: int | None) -> Rows:
    """Turn ``X`` into :class:`Rows`, mirroring ``y``'s format.

    Parameters
    ----------
    X : pandas.DataFrame or numpy.ndarray
        Covariates (see the module docstring for the formats).
    panel_layout : dict
        The fitted panel's layout (its ``kind`` says y's format).
    ids : list
        The series ids seen in ``fit``.
    axis : TimeAxis
        y's time axis.
    last_row : int or None
        For array input only: the time key of X's last row (predict), or None: X's first row
        is y's first (fit).

    Returns
    -------
    Rows
    """
    kind = panel_layout["kind"]
    if kind in ("array1d", "array2d"):
        return _array_rows(X, kind, len(ids), last_row)
    if isinstance(X, np.ndarray):
        raise TypeError(
            "X is an array but y was a pandas object; pass X in y's format (see "
            "Seq2SeqForecaster.fit)"
        )
    if kind == "series" and isinstance(X, pd.Series):
        X = X.to_frame(X.name if X.name is not None else "x")
    if not isinstance(X, pd.DataFrame):
        raise TypeError(f"X must be a pandas DataFrame like y, got {type(X).__name__}")
    if kind == "long":
        return _long_rows(X, ids, axis)
    if kind == "wide" and isinstance(X.columns, pd.MultiIndex):
        return _wide_rows(X, ids, axis)
    if ID_COL in X.columns and TIME_COL in X.columns:
        raise ValueError(
            f"X is a long DataFrame ({ID_COL}, {TIME_COL}, ...) but y was a {kind} object; "
            f"pass X indexed by time like y"
        )
    if isinstance(X.columns, pd.MultiIndex):
        raise ValueError(
            "X has MultiIndex columns, which only a wide y takes; pass one column per covariate"
        )
    keys = time_keys(X.index, axis, "X's index")
    codes = np.zeros(len(X), dtype=np.int64) if kind == "series" else None
    return Rows(codes, keys, X)


def _long_rows(X: pd.DataFrame, ids: list, axis: TimeAxis) -> Rows:
    missing = [c for c in (ID_COL, TIME_COL) if c not in X.columns]
    if missing:
        raise ValueError(
            f"y is a long DataFrame, so X must be one too: columns {ID_COL}, {TIME_COL} and one "
            f"column per covariate; X lacks {missing}"
        )
    codes = _codes(X[ID_COL].to_numpy(), ids)
    keys = time_keys(X[TIME_COL], axis, f"X[{TIME_COL!r}]")
    return Rows(codes, keys, X.drop(columns=[ID_COL, TIME_COL]))


def _wide_rows(X: pd.DataFrame, ids: list, axis: TimeAxis) -> Rows:
    if X.columns.nlevels != 2:
        raise ValueError(
            f"a wide X needs two column levels (series, covariate), got {X.columns.nlevels}"
        )
    keys = time_keys(X.index, axis, "X's index")
    series = list(dict.fromkeys(X.columns.get_level_values(0)))
    codes = _codes(np.asarray(series, dtype=object), ids)
    blocks, block_codes = [], []
    for sid, code in zip(series, codes, strict=True):
        block = X[sid]
        blocks.append(block.reset_index(drop=True))
        block_codes.append(np.full(len(block), code, dtype=np.int64))
    frame = pd.concat(blocks, ignore_index=True)
    if frame.columns.has_duplicates:
        raise ValueError("X has duplicate (series, covariate) columns")
    return Rows(np.concatenate(block_codes), np.tile(keys, len(series)), frame)


def _array_rows(X: Any, kind: str, n_series: int, last_row: int | None) -> Rows:
    if not isinstance(X, np.ndarray):
        raise TypeError(f"y was an array, so X must be an array too, got {type(X).__name__}")
    shared = X.ndim == 2 or (X.ndim == 1 and kind == "array1d")
    if X.ndim == 1 and kind == "array1d":
        X = X[:, None]
    if X.ndim not in (2, 3) or (X.ndim == 3 and X.shape[1] != n_series):
        raise ValueError(
            f"X must have shape (rows, covariates) shared by all series or (rows, {n_series}, "
            f"covariates), got {X.shape}"
        )
    rows = X.shape[0]
    start = 0 if last_row is None else last_row - rows + 1
    keys = np.arange(start, start + rows, dtype=np.int64)
    if shared or kind == "array1d":
        values = X if X.ndim == 2 else X[:, 0]
        frame = pd.DataFrame(values, columns=[f"x{j}" for j in range(values.shape[1])])
        return Rows(None if kind == "array2d" else np.zeros(rows, dtype=np.int64), keys, frame)
    values = X.transpose(1, 0, 2).reshape(n_series * rows, X.shape[2])  # series-major
    frame = pd.DataFrame(values, columns=[f"x{j}" for j in range(X.shape[2])])
    codes = np.repeat(np.arange(n_series, dtype=np.int64), rows)
    return Rows(codes, np.tile(keys, n_series), frame)


def _codes(series_ids: np.ndarray, ids: list) -> np.ndarray:
    """Positions of ``series_ids`` among the fitted ``ids``; unknown ids are an error."""
    position = {sid: i for i, sid in enumerate(ids)}
    codes = np.fromiter((position.get(s, -1) for s in series_ids), np.int64, len(series_ids))
    if (codes < 0).any():
        unknown = list(dict.fromkeys(series_ids[codes < 0].tolist()))
        raise ValueError(
            f"X has series ids that y does not have: {unknown[:5]}"
            f"{' ...' if len(unknown) > 5 else ''} ({len(unknown)}); drop them, e.g. "
            f"X[X['{ID_COL}'].isin(ids)]"
        )
    return codes


def lookup(
    rows: Rows,
    columns: list,
    codes: np.ndarray,
    keys: np.ndarray,
    ids: list,
    axis: TimeAxis,
    needed: str,
) -> np.ndarray:
    """The values of ``columns`` at every (code, key), float64 (n, len(columns)).

    Raises a ValueError naming the first missing (series, time) or the first NaN.
    """
    if rows.codes is None:
        index = pd.Index(rows.keys)
        if index.has_duplicates:
            raise ValueError(
                f"X has duplicate timestamps ({_stamp(index[index.duplicated()][0], axis)}); "
                "keep one row per time step"
            )
        found = index.get_indexer(keys)
    else:
        index = pd.MultiIndex.from_arrays([rows.codes, rows.keys])
        if index.has_duplicates:
            code, key = index[index.duplicated()][0]
            raise ValueError(
                f"X has duplicate rows for series {ids[code]!r} at {_stamp(key, axis)}; keep one "
                "row per (series, time)"
            )
        found = index.get_indexer(pd.MultiIndex.from_arrays([codes, keys]))
    if (found < 0).any():
        first = int(np.flatnonzero(found < 0)[0])
        n_series = len(np.unique(codes[found < 0]))
        raise ValueError(
            f"X does not cover {needed}: it lacks series {ids[codes[first]]!r} at "
            f"{_stamp(keys[first], axis)} (missing: {int((found < 0).sum())} time step(s) of "
            f"{n_series} series)"
        )
    values = _numeric_columns(rows.frame, columns).to_numpy(dtype=np.float64)[found]
    bad = ~np.isfinite(values)
    if bad.any():
        row, col = np.argwhere(bad)[0]
        what = "NaN" if np.isnan(values[row, col]) else "inf"
        raise ValueError(
            f"X column {columns[col]!r} has {what} for series {ids[codes[row]]!r} at "
            f"{_stamp(keys[row], axis)} ({int(bad.sum())} such values where the model reads X); "
            f"fill them (e.g. X.ffill()) or drop the column"
        )
    return values


def _numeric_columns(frame: pd.DataFrame, columns: list) -> pd.DataFrame:
    out = {}
    for col in columns:
        series = frame[col]
        if pd.api.types.is_bool_dtype(series.dtype):
            series = series.astype(np.float64)
        elif not pd.api.types.is_numeric_dtype(series.dtype):
            raise TypeError(
                f"X column {col!r} is not numeric (dtype {series.dtype}); encode it as numbers "
                f"(e.g. pd.get_dummies), or pass per-series attributes as static features"
            )
        out[col] = series
    return pd.DataFrame(out)


def x_columns(rows: Rows, past: list) -> tuple[list, list]:
    """Known and past columns of X in ``fit``; every column not in ``past`` is known."""
    columns = list(rows.frame.columns)
    if len(columns) == 0:
        raise ValueError("X has no covariate columns")
    if pd.Index(columns).has_duplicates:
        raise ValueError("X has duplicate column names")
    for col in columns:
        if not isinstance(col, (str, int)) or isinstance(col, bool):
            raise TypeError(f"X's column names must be strings, got {col!r}")
    absent = [c for c in past if c not in columns]
    if absent:
        raise ValueError(
            f"past_covariates names {absent}, which X does not have (its columns: {columns})"
        )
    if TARGET_COL in columns and TARGET_COL not in past:
        raise ValueError(f"X has a column {TARGET_COL!r}, the target's name; rename it or drop it")
    return [c for c in columns if c not in past], [c for c in columns if c in past]


def check_predict_columns(rows: Rows, spec: CovariateSpec) -> None:
    """X in predict must have every known column; columns never seen in fit are an error."""
    columns = list(rows.frame.columns)
    new = [c for c in columns if c not in spec.x_columns]
    if new:
        raise ValueError(
            f"X has columns the model was not fit with: {new}; drop them (fit used "
            f"{spec.x_columns})"
        )
    absent = [c for c in spec.known if c not in columns]
    if absent:
        raise ValueError(
            f"X lacks the column(s) {absent}, which the model reads over the horizon (known in "
            f"advance); pass them, or name them in past_covariates and fit again"
        )


def relative_columns(values: np.ndarray) -> np.ndarray:
    """Which columns are positive amounts (prices, counts): positive and not a 0/1 flag."""
    binary = ((values == 0) | (values == 1)).all(0)
    return (values > 0).all(0) & ~binary


def to_relative(
    values: np.ndarray,
    relative: np.ndarray,
    means: np.ndarray,
    codes: np.ndarray,
    ids: list,
    names: list,
) -> np.ndarray:
    """``log(x / series mean)`` in the relative columns; the others as they are.

    A price cut is then the same number for a product at 0.99 and one at 15.99, as the target
    is scaled by its own window: the model learns one effect for every series.
    """
    if not relative.any():
        return values
    part = values[:, relative]
    if (part <= 0).any():
        row, col = np.argwhere(part <= 0)[0]
        name = names[np.flatnonzero(relative)[col]]
        raise ValueError(
            f"X column {name!r} was positive in fit (so it is taken relative to each "
            f"series' mean, on a log scale) but is {part[row, col]:g} for series "
            f"{ids[codes[row]]!r}; keep it positive"
        )
    values = values.copy()
    values[:, relative] = np.log(part / means[codes][:, relative])
    return values


def column_scaling(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Location and scale of every column: 0/1 for 0/1 flags, mean and deviation otherwise."""
    loc, scale = values.mean(0), values.std(0)
    binary = ((values == 0) | (values == 1)).all(0)
    loc = np.where(binary, 0.0, loc)
    scale = np.where(binary | (scale == 0), 1.0, scale)
    return loc, scale


# ----------------------------------------------------------------------------------------------
# Static features


def encode_static(static: Any, ids: list) -> tuple[np.ndarray, list]:
    """Encode static features for the series ``ids``.

    Returns
    -------
    matrix : numpy.ndarray
        (n_series, S) float32.
    spec : list of dict
        How every column was encoded (to describe the model).
    """
    if not isinstance(static, pd.DataFrame):
        raise TypeError(
            f"static must be a DataFrame indexed by series id, got {type(static).__name__}"
        )
    if static.index.has_duplicates:
        dup = static.index[static.index.duplicated()][0]
        raise ValueError(f"static has duplicate rows for series {dup!r}; keep one per series")
    if static.shape[1] == 0:
        raise ValueError("static has no columns")
    index = static.index
    if isinstance(index, pd.MultiIndex) or ID_COL in static.columns:
        raise ValueError(
            f"static must be indexed by series id (static.set_index({ID_COL!r})), one row per "
            "series"
        )
    missing = [sid for sid in ids if sid not in index]
    if missing:
        raise ValueError(
            f"static lacks series {missing[:5]}{' ...' if len(missing) > 5 else ''} "
            f"({len(missing)} of {len(ids)}); it needs one row per series of y"
        )
    rows = static.loc[list(ids)] if len(ids) else static.iloc[:0]
    columns, spec = [], []
    for name in static.columns:
        column = rows[name]
        if column.isna().any():
            sid = column.index[column.isna().to_numpy()][0]
            raise ValueError(f"static column {name!r} has a missing value for series {sid!r}")
        if pd.api.types.is_bool_dtype(column.dtype) or pd.api.types.is_numeric_dtype(column.dtype):
            values = column.to_numpy(dtype=np.float64)
            if not np.isfinite(values).all():
                raise ValueError(f"static column {name!r} has inf")
            loc, scale = values.mean(), values.std()
            scale = scale if scale > 0 else 1.0
            columns.append(((values - loc) / scale)[:, None])
            spec.append({"name": str(name), "kind": "numeric", "loc": loc, "scale": scale})
            continue
        levels = sorted(map(str, pd.unique(column)))
        if len(levels) > MAX_LEVELS:
            raise ValueError(
                f"static column {name!r} has {len(levels)} categories, more than {MAX_LEVELS}; "
                "an id-like column adds nothing the series' own history does not give: drop it "
                "or group rare categories"
            )
        codes = pd.Categorical(column.astype(str), categories=levels).codes
        columns.append(np.eye(len(levels))[codes])
        spec.append({"name": str(name), "kind": "category", "levels": levels})
    return np.concatenate(columns, axis=1).astype(np.float32), spec


# ----------------------------------------------------------------------------------------------
# What fit and predict call


@dataclass
class Design:
    """Scaled covariates aligned with a panel (fit) and the rules to build them again (predict)."""

    spec: CovariateSpec
    history: np.ndarray | None  # float32 (total_len, n_columns), aligned with panel.values
    static: np.ndarray | None  # float32 (n_series, S)
    means: np.ndarray | None = None  # float64 (n_series, n_x) every X column's mean per series


def fit_design(
    panel: Panel,
    X: Any,
    static: Any,
    past: list,
    calendar: list | bool,
) -> Design:
    """Validate X and static against the fitted panel and encode them.

    Parameters
    ----------
    panel : Panel
        The series of ``fit``.
    X, static
        As given to ``fit``.
    past : list
        Names of the past-only columns.
    calendar : list or bool
        The ``calendar_features`` parameter, checked.

    Returns
    -------
    Design
    """
    if X is None and past:
        raise ValueError(f"past_covariates={past} names columns of X, but X is None; pass X")
    spec = CovariateSpec(calendar=resolve_calendar(calendar, panel.axis))
    parts = []
    if X is not None or spec.calendar:
        grid = make_grid(panel.axis, panel.last, panel.lengths, 0)
        positions = grid.history(panel.lengths)  # (total_len,)
        if X is not None:
            rows = x_rows(X, panel.layout, panel.ids, panel.axis, None)
            spec.known, spec.past = x_columns(rows, past)
            codes = np.repeat(np.arange(panel.n_series), panel.lengths)
            values = lookup(
                rows,
                spec.x_columns,
                codes,
                grid.keys[positions],
                panel.ids,
                panel.axis,
                "y's history",
            )
            relative = relative_columns(values)
            means = np.add.reduceat(values, panel.offsets[:-1], axis=0) / panel.lengths[:, None]
            values = to_relative(values, relative, means, codes, panel.ids, spec.x_columns)
            loc, scale = column_scaling(values)
            spec.loc, spec.scale = loc.tolist(), scale.tolist()
            spec.relative = relative.tolist()
            values = (values - loc) / scale
            parts.append(values[:, : len(spec.known)])
        if spec.calendar:
            parts.append(calendar_values(grid.stamps, spec.calendar)[positions])
        if X is not None:
            parts.append(values[:, len(spec.known) :])
    history = np.concatenate(parts, axis=1).astype(np.float32) if parts else None
    matrix = None
    if static is not None:
        matrix, spec.static = encode_static(static, panel.ids)
    return Design(spec, history, matrix, means if X is not None else None)


def future_design(
    spec: CovariateSpec,
    X: Any,
    layout: dict,
    ids: list,
    axis: TimeAxis,
    last: list,
    horizon: int,
    means: np.ndarray | None = None,
) -> np.ndarray | None:
    """(n_series, horizon, n_columns) scaled covariates over the horizon (past columns 0).

    ``means`` are the X columns' per-series means of ``fit`` (for the relative columns).

    Raises a ValueError when X is needed and missing, given and not needed, or incomplete.
    """
    if not spec.n_columns:
        if X is not None:
            raise ValueError("the model was fit without X; call predict() without X")
        return None
    if X is None and spec.uses_x:
        raise ValueError(
            f"the model was fit with covariates known in advance {spec.known}: pass X covering "
            f"the {horizon} steps after each series' end"
        )
    n = len(ids)
    lengths = np.ones(n, dtype=np.int64)
    grid = make_grid(axis, last, lengths, horizon)
    positions = grid.future(horizon).reshape(-1)  # (n * H,)
    out = np.zeros((n * horizon, spec.n_columns), dtype=np.float64)
    if X is not None:
        last_row = int(last[0]) + horizon if layout["kind"] in ("array1d", "array2d") else None
        rows = x_rows(X, layout, ids, axis, last_row)
        check_predict_columns(rows, spec)
        if spec.known:
            codes = np.repeat(np.arange(n), horizon)
            values = lookup(
                rows,
                spec.known,
                codes,
                grid.keys[positions],
                ids,
                axis,
                f"the {horizon} steps after each series' end",
            )
            k = len(spec.known)
            relative = np.asarray(spec.relative[:k] or [False] * k, dtype=bool)
            if means is not None:
                values = to_relative(values, relative, means[:, :k], codes, ids, spec.known)
            out[:, :k] = (values - np.asarray(spec.loc[:k])) / np.asarray(spec.scale[:k])
    if spec.calendar:
        start = len(spec.known)
        out[:, start : start + 2 * len(spec.calendar)] = calendar_values(
            grid.stamps, spec.calendar
        )[positions]
    return out.reshape(n, horizon, spec.n_columns).astype(np.float32)


def spec_from_json(state: dict) -> CovariateSpec:
    """Inverse of :meth:`CovariateSpec.to_json`."""
    return CovariateSpec(**state)
