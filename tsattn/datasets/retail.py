"""A simulator of weekly product sales with prices, promotions, holidays and static features."""

from __future__ import annotations

import numpy as np
import pandas as pd

from tsattn.datasets._checks import check_positive_int

__all__ = ["make_retail_sales"]

_CATEGORIES = ("beverages", "snacks", "household", "personal_care", "frozen")

_DAYS_PER_YEAR = 365.25  # one seasonal period: 52.18 weeks


def _easter_sunday(year: int) -> pd.Timestamp:
    """Western (Gregorian) Easter Sunday of ``year``, by the Meeus/Jones/Butcher algorithm."""
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
    """Black Friday of ``year``: the day after US Thanksgiving (fourth Thursday of November)."""
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
    n = check_positive_int(n_series, "n_series")
    t_len = check_positive_int(n_periods, "n_periods")
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
