import numpy as np
import pandas as pd
import pytest

from tsattn.datasets import load_air_passengers, make_retail_sales

# ----------------------------------------------------------------------------------------
# AirPassengers
# ----------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def air():
    return load_air_passengers()


def test_air_passengers_values(air):
    assert isinstance(air, pd.Series)
    assert len(air) == 144
    assert air.sum() == 40363
    assert air.dtype == np.float64
    assert air.name == "passengers"
    assert air.iloc[:12].tolist() == [112, 118, 132, 129, 121, 135, 148, 148, 136, 119, 104, 118]
    assert air.iloc[-12:].tolist() == [417, 391, 419, 461, 472, 535, 622, 606, 508, 461, 390, 432]
    assert air.max() == 622
    assert air.min() == 104
    assert not air.isna().any()


def test_air_passengers_index(air):
    idx = air.index
    assert isinstance(idx, pd.DatetimeIndex)
    assert idx.name == "month"
    assert idx.freqstr == "MS"
    assert idx[0] == pd.Timestamp("1949-01-01")
    assert idx[-1] == pd.Timestamp("1960-12-01")
    assert idx.is_monotonic_increasing and idx.is_unique
    pd.testing.assert_index_equal(
        idx, pd.date_range("1949-01-01", periods=144, freq="MS", name="month"), exact=False
    )
    assert (air.groupby(idx.year).size() == 12).all()


# ----------------------------------------------------------------------------------------
# Retail sales simulator
# ----------------------------------------------------------------------------------------

N_SERIES, N_PERIODS = 20, 156


@pytest.fixture(scope="module")
def retail():
    return make_retail_sales(n_series=N_SERIES, n_periods=N_PERIODS, seed=0)


def test_retail_shapes_and_columns(retail):
    y, X, static = retail
    assert list(y.columns) == ["unique_id", "ds", "y"]
    assert list(X.columns) == ["unique_id", "ds", "price", "promotion", "holiday"]
    assert list(static.columns) == ["category", "store", "base_price"]
    assert len(y) == len(X) == N_SERIES * N_PERIODS
    assert len(static) == N_SERIES


def test_retail_dtypes(retail):
    y, X, static = retail
    assert pd.api.types.is_string_dtype(y["unique_id"])
    assert all(isinstance(u, str) for u in y["unique_id"].unique())
    assert pd.api.types.is_datetime64_any_dtype(y["ds"])
    assert y["y"].dtype == np.float64
    assert X["price"].dtype == np.float64
    assert pd.api.types.is_numeric_dtype(X["promotion"])
    assert pd.api.types.is_numeric_dtype(X["holiday"])
    assert set(np.unique(X["promotion"])) <= {0, 1}
    assert set(np.unique(X["holiday"])) == {0, 1}
    assert static["base_price"].dtype == np.float64
    assert pd.api.types.is_string_dtype(static["category"])
    assert pd.api.types.is_string_dtype(static["store"])


def test_retail_values(retail):
    y, X, static = retail
    assert (y["y"] >= 0).all()
    assert np.array_equal(y["y"], np.round(y["y"]))  # counts
    assert not y.isna().any().any() and not X.isna().any().any()
    assert (X["price"] > 0).all() and (static["base_price"] > 0).all()
    assert static["category"].nunique() > 1


def test_retail_order_and_alignment(retail):
    y, X, static = retail
    assert y.equals(y.sort_values(["unique_id", "ds"], kind="stable"))
    assert (y["unique_id"] == X["unique_id"]).all()
    assert (y["ds"] == X["ds"]).all()
    lengths = y.groupby("unique_id").size()
    assert (lengths == N_PERIODS).all()
    ds = y.loc[y["unique_id"] == y["unique_id"].iloc[0], "ds"]
    expected = pd.date_range("2022-01-03", periods=N_PERIODS, freq="W-MON")
    assert (ds.to_numpy() == expected.to_numpy()).all()


def test_retail_static_index(retail):
    y, _, static = retail
    assert static.index.name == "unique_id"
    assert static.index.is_unique
    assert list(static.index) == list(pd.unique(y["unique_id"]))


def test_retail_same_seed_identical():
    a = make_retail_sales(n_series=8, n_periods=30, seed=123)
    b = make_retail_sales(n_series=8, n_periods=30, seed=123)
    for left, right in zip(a, b, strict=True):
        pd.testing.assert_frame_equal(left, right)


def test_retail_different_seed_differs():
    y1, X1, _ = make_retail_sales(n_series=8, n_periods=30, seed=1)
    y2, X2, _ = make_retail_sales(n_series=8, n_periods=30, seed=2)
    assert not y1["y"].equals(y2["y"])
    assert not X1["price"].equals(X2["price"])


def test_retail_intermittent_series_exist(retail):
    y, _, _ = retail
    zero_share = y.groupby("unique_id")["y"].apply(lambda v: (v == 0).mean())
    assert (zero_share > 0.3).any()
    assert (zero_share < 0.05).any()  # and regular sellers too


def test_retail_promotion_coverage_and_lift(retail):
    y, X, _ = retail
    share = X["promotion"].mean()
    assert 0.05 < share < 0.2
    df = y.assign(promotion=X["promotion"].to_numpy())
    means = df.groupby(["unique_id", "promotion"])["y"].mean().unstack()
    means = means.dropna()
    assert len(means) > N_SERIES // 2
    lift = means[1] - means[0]
    assert (lift > 0).mean() > 0.7
    assert lift.mean() > 0


def test_retail_promotions_cut_prices(retail):
    _, X, static = retail
    base = X["unique_id"].map(static["base_price"])
    on_promo = X["promotion"] == 1
    assert (X.loc[on_promo, "price"] < base[on_promo]).mean() > 0.9


def test_retail_holidays_are_calendar_driven(retail):
    _, X, _ = retail
    weeks = X.loc[X["unique_id"] == X["unique_id"].iloc[0]]
    flagged = weeks.loc[weeks["holiday"] == 1, "ds"]
    # Every week containing Christmas Day is a holiday week.
    for year in (2022, 2023, 2024):
        xmas = pd.Timestamp(year=year, month=12, day=25)
        week_start = xmas - pd.Timedelta(days=xmas.day_of_week)
        assert week_start in set(flagged)
    # Holiday flags are identical across series (a property of the calendar).
    per_series = X.groupby("unique_id")["holiday"].apply(tuple)
    assert per_series.nunique() == 1


def test_retail_small_and_odd_sizes():
    y, X, static = make_retail_sales(n_series=1, n_periods=1, seed=0)
    assert len(y) == len(X) == len(static) == 1
    y, X, static = make_retail_sales(n_series=np.int64(7), n_periods=3, seed=5)
    assert len(y) == 21 and static.index.is_unique


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"n_series": 0}, "n_series"),
        ({"n_series": -3}, "n_series"),
        ({"n_series": 2.5}, "n_series"),
        ({"n_series": "10"}, "n_series"),
        ({"n_series": True}, "n_series"),
        ({"n_periods": 0}, "n_periods"),
        ({"n_periods": -1}, "n_periods"),
        ({"n_periods": 10.0}, "n_periods"),
        ({"n_periods": None}, "n_periods"),
    ],
)
def test_retail_bad_arguments(kwargs, name):
    with pytest.raises(ValueError, match=name):
        make_retail_sales(**kwargs)


def test_the_package_keeps_every_public_name():
    import tsattn.datasets as datasets

    names = {"load_air_passengers", "make_retail_sales", "M3Data", "load_m3", "make_echo_task"}
    assert names | {"make_date_pairs"} <= set(datasets.__all__)
    assert all(
        callable(getattr(datasets, name)) for name in datasets.__all__ if name != "M3_SUBSETS"
    )
    assert datasets.M3_SUBSETS["monthly"] == (18, 12)
