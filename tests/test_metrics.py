import numpy as np
import pandas as pd
import pytest

from tsattn.forecast.metrics import (
    evaluate,
    interval_coverage,
    mae,
    mape,
    mase,
    pinball_loss,
    rmse,
    smape,
)

# ----------------------------------------------------------------------------------------------
# Point metrics against hand-computed values


def test_mae_and_rmse_by_hand():
    y, f = [1.0, 2.0, 4.0, 0.0], [2.0, 2.0, 1.0, 0.0]  # errors -1, 0, 3, 0
    assert mae(y, f) == pytest.approx(4 / 4)
    assert rmse(y, f) == pytest.approx(np.sqrt(10 / 4))


def test_rmse_of_2d_input_pools_all_values():
    y = np.zeros((2, 2))
    f = np.array([[1.0, 1.0], [3.0, 3.0]])
    # sqrt(mean(1, 1, 9, 9)) = sqrt(5), not the mean of the per-series values (1 + 3) / 2
    assert rmse(y, f) == pytest.approx(np.sqrt(5))


def test_smape_on_the_0_200_scale():
    assert smape([100.0, 100.0], [100.0, 300.0]) == pytest.approx(50.0)  # (0 + 100) / 2
    assert smape([1.0], [-1.0]) == pytest.approx(200.0)  # the worst case
    assert smape([0.0, 2.0], [0.0, 2.0]) == 0.0  # both zero counts as a perfect forecast
    assert smape([10.0, 0.0], [5.0, 3.0]) == pytest.approx((200 * 5 / 15 + 200) / 2)


def test_smape_is_symmetric_in_its_arguments():
    assert smape([3.0, 7.0], [5.0, 2.0]) == pytest.approx(smape([5.0, 2.0], [3.0, 7.0]))


def test_mape_in_percent():
    assert mape([100.0, 200.0], [110.0, 150.0]) == pytest.approx((10 + 25) / 2)
    assert mape([-50.0], [-25.0]) == pytest.approx(50.0)


def test_mape_rejects_zero_actuals():
    with pytest.raises(ValueError, match="zero.*smape or mase"):
        mape([0.0, 1.0], [1.0, 1.0])


def test_mase_by_hand_non_seasonal():
    # scale = mean(|2-1|, |4-2|) = 1.5; errors 1 and 2 -> (1 + 2) / 2 / 1.5 = 1
    assert mase([5.0, 6.0], [4.0, 8.0], y_train=[1.0, 2.0, 4.0]) == pytest.approx(1.0)


def test_mase_by_hand_seasonal():
    y_train = [1.0, 5.0, 2.0, 7.0, 4.0, 7.0]
    # m = 2: |2-1|, |7-5|, |4-2|, |7-7| -> scale 5 / 4 = 1.25; mean abs error 2.5
    assert mase([3.0, 9.0], [1.0, 6.0], y_train, season=2) == pytest.approx(2.5 / 1.25)


def test_mase_falls_back_to_lag_one_for_a_short_history():
    # 3 values, season 4: scale = mean(|3-1|, |2-3|) = 1.5
    assert mase([4.0], [1.0], y_train=[1.0, 3.0, 2.0], season=4) == pytest.approx(3.0 / 1.5)


def test_mase_many_series_ragged_history():
    y = np.array([[2.0, 2.0], [10.0, 10.0]])
    f = np.array([[3.0, 1.0], [10.0, 14.0]])
    histories = [np.array([0.0, 1.0, 2.0]), np.array([0.0, 2.0])]  # scales 1 and 2
    # scaled errors: series 0: 1, 1; series 1: 0, 2 -> mean 1
    assert mase(y, f, histories) == pytest.approx(1.0)
    # the same with a 2-D history of equal lengths
    assert mase(y, f, np.array([[0.0, 1.0, 2.0], [0.0, 2.0, 4.0]])) == pytest.approx(1.0)


def test_mase_errors():
    with pytest.raises(ValueError, match="constant"):
        mase([1.0], [2.0], y_train=[3.0, 3.0, 3.0])
    with pytest.raises(ValueError, match="at least 2"):
        mase([1.0], [2.0], y_train=[3.0])
    with pytest.raises(ValueError, match="2 series but y_true has 3"):
        mase(np.ones((3, 2)), np.ones((3, 2)), [[1.0, 2.0], [1.0, 3.0]])
    with pytest.raises(ValueError, match="row per series"):
        mase(np.ones((2, 2)), np.ones((2, 2)), [1.0, 2.0, 3.0])
    with pytest.raises(TypeError, match="season must be an integer"):
        mase([1.0], [2.0], [1.0, 2.0], season=1.5)


def test_2d_averages_over_all_values():
    y = np.array([[100.0, 100.0], [10.0, 10.0]])
    f = np.array([[100.0, 300.0], [20.0, 10.0]])
    expected = (0 + 100 + 200 * 10 / 30 + 0) / 4
    assert smape(y, f) == pytest.approx(expected)
    assert mae(y, f) == pytest.approx((0 + 200 + 10 + 0) / 4)


@pytest.mark.parametrize("metric", [mae, rmse, smape, mape])
def test_point_metrics_reject_bad_shapes_and_values(metric):
    with pytest.raises(ValueError, match="same shape"):
        metric([1.0, 2.0], [1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match="empty"):
        metric([], [])
    with pytest.raises(ValueError, match="NaN"):
        metric([1.0, np.nan], [1.0, 2.0])
    with pytest.raises(ValueError, match="3-D"):
        metric(np.ones((2, 2, 2)), np.ones((2, 2, 2)))
    with pytest.raises(TypeError, match="numbers"):
        metric(["a", "b"], [1.0, 2.0])


def test_metrics_accept_pandas_and_lists():
    y = pd.Series([1.0, 2.0, 3.0])
    assert mae(y, np.array([1.0, 2.0, 5.0])) == pytest.approx(2 / 3)
    assert mae([[1.0], [2.0]], pd.DataFrame([[2.0], [2.0]])) == pytest.approx(0.5)


# ----------------------------------------------------------------------------------------------
# Probabilistic metrics


def test_pinball_loss_by_hand():
    # q = 0.9: under-forecast by 2 costs 1.8, over-forecast by 4 costs 0.4
    assert pinball_loss([10.0, 10.0], [8.0, 14.0], quantile=0.9) == pytest.approx(1.1)
    # at the median it is half the absolute error
    assert pinball_loss([1.0, 5.0], [2.0, 2.0], 0.5) == pytest.approx(0.5 * mae([1, 5], [2, 2]))


def test_pinball_loss_several_quantiles():
    y = [10.0, 20.0]
    q_pred = [[8.0, 12.0], [21.0, 25.0]]  # columns: quantiles 0.1 and 0.9
    losses = [
        max(0.1 * 2, -0.9 * 2),  # y=10, f=8
        max(0.9 * -2, -0.1 * -2),  # y=10, f=12
        max(0.1 * -1, -0.9 * -1),  # y=20, f=21
        max(0.9 * -5, -0.1 * -5),  # y=20, f=25
    ]
    assert pinball_loss(y, q_pred, [0.1, 0.9]) == pytest.approx(np.mean(losses))


def test_pinball_loss_errors():
    with pytest.raises(ValueError, match="strictly between 0 and 1"):
        pinball_loss([1.0], [1.0], 1.0)
    with pytest.raises(ValueError, match=r"shape \(2, 3\)"):
        pinball_loss([1.0, 2.0], [[1.0, 2.0], [1.0, 2.0]], [0.1, 0.5, 0.9])
    with pytest.raises(ValueError, match="same shape|must have shape"):
        pinball_loss([1.0, 2.0], [1.0], 0.5)


def test_interval_coverage_by_hand():
    y = [1.0, 5.0, 3.0, 9.0]
    lower = [0.0, 0.0, 3.0, 0.0]
    upper = [2.0, 4.0, 4.0, 8.0]
    assert interval_coverage(y, lower, upper) == pytest.approx(0.5)  # bounds are inside
    assert interval_coverage(np.ones((2, 3)), np.zeros((2, 3)), np.full((2, 3), 2.0)) == 1.0


def test_interval_coverage_errors():
    with pytest.raises(ValueError, match="lower is above upper at position"):
        interval_coverage([1.0, 2.0], [0.0, 3.0], [2.0, 2.5])
    with pytest.raises(ValueError, match="same shape"):
        interval_coverage([1.0, 2.0], [0.0], [2.0, 3.0])


# ----------------------------------------------------------------------------------------------
# evaluate on long frames


def _frames():
    train = pd.DataFrame(
        {
            "unique_id": ["a"] * 4 + ["b"] * 3,
            "ds": [1, 2, 3, 4, 1, 2, 3],
            "y": [1.0, 3.0, 2.0, 4.0, 10.0, 12.0, 16.0],
        }
    )
    actual = pd.DataFrame(
        {"unique_id": ["a", "a", "b", "b"], "ds": [5, 6, 4, 5], "y": [5.0, 5.0, 20.0, 20.0]}
    )
    # rows shuffled on purpose: evaluate joins on the keys, not on the row order
    forecast = pd.DataFrame(
        {
            "unique_id": ["b", "a", "b", "a"],
            "ds": [5, 6, 4, 5],
            "m1": [24.0, 7.0, 20.0, 4.0],
            "m2": [20.0, 5.0, 20.0, 5.0],
        }
    )
    return train, actual, forecast


def test_evaluate_per_series_by_hand():
    train, actual, forecast = _frames()
    table = evaluate(
        actual, forecast, train, season=2, metrics=["mae", "rmse", "mase"], per_series=True
    )
    assert list(table.columns) == ["unique_id", "model", "mae", "rmse", "mase"]
    row = table.set_index(["unique_id", "model"])
    # a, m1: errors 1, -2; season 2 scale = mean(|2-1|, |4-3|) = 1
    assert row.loc[("a", "m1"), "mae"] == pytest.approx(1.5)
    assert row.loc[("a", "m1"), "rmse"] == pytest.approx(np.sqrt(2.5))
    assert row.loc[("a", "m1"), "mase"] == pytest.approx(1.5)
    # b: 3 values > season 2, scale = |16 - 10| = 6; m1 errors 0, -4
    assert row.loc[("b", "m1"), "mase"] == pytest.approx(2 / 6)
    assert row.loc[("b", "m2"), "mae"] == 0.0


def test_evaluate_overall_is_the_mean_over_series():
    train, actual, forecast = _frames()
    overall = evaluate(actual, forecast, train, season=2, metrics=("smape", "mase"))
    assert list(overall.index) == ["m1", "m2"]
    assert overall.index.name == "model"
    smape_a = (200 * 1 / 9 + 200 * 2 / 12) / 2
    smape_b = (0 + 200 * 4 / 44) / 2
    assert overall.loc["m1", "smape"] == pytest.approx((smape_a + smape_b) / 2)
    assert overall.loc["m1", "mase"] == pytest.approx((1.5 + 2 / 6) / 2)
    assert overall.loc["m2"].tolist() == [0.0, 0.0]


def test_evaluate_matches_array_functions_on_equal_horizons():
    rng = np.random.default_rng(0)
    y, f, hist = rng.uniform(1, 5, (3, 4)), rng.uniform(1, 5, (3, 4)), rng.uniform(1, 5, (3, 9))
    ids = np.repeat(["s0", "s1", "s2"], 4)
    actual = pd.DataFrame({"unique_id": ids, "ds": np.tile(np.arange(9, 13), 3), "y": y.ravel()})
    forecast = actual.assign(y=f.ravel())
    train = pd.DataFrame(
        {"unique_id": np.repeat(["s0", "s1", "s2"], 9), "ds": np.tile(np.arange(9), 3)}
    ).assign(y=hist.ravel())
    overall = evaluate(actual, forecast, train, season=3, metrics=("smape", "mase", "mae"))
    assert overall.loc["y", "smape"] == pytest.approx(smape(y, f))
    assert overall.loc["y", "mase"] == pytest.approx(mase(y, f, hist, season=3))
    assert overall.loc["y", "mae"] == pytest.approx(mae(y, f))


def test_evaluate_with_a_forecaster_style_frame_and_datetimes():
    ds = pd.date_range("2024-01-01", periods=3, freq="MS")
    actual = pd.DataFrame({"unique_id": "x", "ds": ds, "y": [1.0, 2.0, 3.0]})
    forecast = actual.assign(y=[1.0, 2.0, 5.0])
    table = evaluate(actual, forecast, metrics="mae")
    assert table.loc["y", "mae"] == pytest.approx(2 / 3)


def test_evaluate_errors():
    train, actual, forecast = _frames()
    with pytest.raises(ValueError, match="needs train"):
        evaluate(actual, forecast, metrics=("mase",))
    with pytest.raises(ValueError, match="metrics must be one of .*did you mean 'smape'"):
        evaluate(actual, forecast, train, metrics=("smap",))
    with pytest.raises(ValueError, match="forecast lacks 1"):
        evaluate(actual, forecast.iloc[1:], train, metrics=("mae",))
    with pytest.raises(ValueError, match="actual lacks 1"):
        evaluate(actual.iloc[1:], forecast, train, metrics=("mae",))
    with pytest.raises(ValueError, match="duplicate"):
        evaluate(pd.concat([actual, actual.iloc[:1]]), forecast, metrics=("mae",))
    with pytest.raises(ValueError, match=r"lacks column\(s\) \['y'\]"):
        evaluate(actual.drop(columns="y"), forecast, metrics=("mae",))
    with pytest.raises(ValueError, match="empty"):
        evaluate(actual.iloc[:0], forecast, metrics=("mae",))
    with pytest.raises(ValueError, match="train lacks 1 forecast series"):
        evaluate(actual, forecast, train[train["unique_id"] == "a"], metrics=("mase",))
    with pytest.raises(ValueError, match="same kind of ds"):
        evaluate(
            actual, forecast.assign(ds=pd.to_datetime(forecast["ds"], unit="D")), metrics="mae"
        )
    with pytest.raises(ValueError, match="not columns of forecast"):
        evaluate(actual, forecast, models=["m3"], metrics=("mae",))
    constant = train.assign(y=1.0)
    with pytest.raises(ValueError, match="constant"):
        evaluate(actual, forecast, constant, metrics=("mase",))
    with pytest.raises(TypeError, match="not numeric"):
        evaluate(actual, forecast.assign(m3="x"), metrics=("mae",))


# ----------------------------------------------------------------------------------------------
# The package's public face


def test_the_package_re_exports_every_metric_from_its_module():
    from tsattn.forecast import metrics
    from tsattn.forecast.metrics import point, probabilistic, table

    assert (metrics.mae, metrics.mase, metrics.METRICS) == (point.mae, point.mase, point.METRICS)
    assert metrics.pinball_loss is probabilistic.pinball_loss
    assert metrics.interval_coverage is probabilistic.interval_coverage
    assert metrics.evaluate is table.evaluate
    assert all(callable(getattr(metrics, name)) for name in metrics.__all__ if name != "METRICS")
