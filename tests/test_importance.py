"""Permutation importance of covariates and static features, and its bar plot."""

import numpy as np
import pandas as pd
import pytest
from conftest import tiny as tiny_params
from sklearn.exceptions import NotFittedError

from tsattn import Seq2SeqForecaster
from tsattn.datasets import make_retail_sales
from tsattn.forecast.covariates.spec import CovariateSpec
from tsattn.forecast.importance import Feature, feature_blocks
from tsattn.plotting import plot_importance

pytestmark = pytest.mark.filterwarnings(
    # tsattn's short-history warning: these tests fit deliberately tiny series
    "ignore:.*of the series have fewer than horizon:UserWarning"
)


def tiny(**overrides):
    """A tiny forecaster that keeps every covariate (selection is tested on its own)."""
    return tiny_params(**{"covariate_selection": None, **overrides})


def _panel(n_series=4, n=40):
    ds = pd.date_range("2021-01-04", periods=n, freq="W-MON")
    rng = np.random.default_rng(0)
    frames = []
    for k in range(n_series):
        promo = (rng.random(n) < 0.3).astype(int)
        frames.append(
            pd.DataFrame(
                {
                    "unique_id": f"s{k}",
                    "ds": ds,
                    "y": 10.0 + k + 5.0 * promo + rng.normal(0, 0.3, n),
                    "promo": promo,
                    "traffic": rng.normal(size=n),
                }
            )
        )
    data = pd.concat(frames, ignore_index=True)
    static = pd.DataFrame(
        {"kind": ["a", "b", "a", "c"][:n_series], "size": np.arange(n_series, dtype=float)},
        index=[f"s{k}" for k in range(n_series)],
    )
    return data[["unique_id", "ds", "y"]], data.drop(columns="y"), static


def test_feature_blocks_follow_the_input_layout():
    spec = CovariateSpec(
        known=("promo", "price"),
        past=("traffic",),
        calendar=("week",),
        static=(
            {"name": "kind", "kind": "category", "levels": ["a", "b", "c"]},
            {"name": "size", "kind": "numeric", "loc": 0.0, "scale": 1.0},
        ),
    )
    assert feature_blocks(spec) == [
        Feature("promo", "known", (0,)),
        Feature("price", "known", (1,)),
        Feature("week", "calendar", (2, 3)),
        Feature("traffic", "past", (4,)),
        Feature("kind", "static", (0, 1, 2)),
        Feature("size", "static", (3,)),
    ]


def test_every_feature_gets_a_row_and_the_data_is_left_alone():
    y, X, static = _panel()
    copies = y.copy(), X.copy(), static.copy()
    f = Seq2SeqForecaster(**tiny(past_covariates=["traffic"], calendar_features=True))
    f.fit(y, X=X, static=static)
    before = f.predict(X=_future(X))
    result = f.covariate_importance(y, X, static, n_repeats=2, random_state=0)
    assert list(result.columns) == ["feature", "kind", "importance", "std", "relative"]
    assert dict(zip(result.feature, result.kind, strict=True)) == {
        "promo": "known", "week": "calendar", "traffic": "past", "kind": "static",
        "size": "static",
    }  # fmt: skip
    assert (np.diff(result["importance"]) <= 0).all()  # most important first
    assert result.attrs["loss"] > 0
    np.testing.assert_allclose(result["relative"], result["importance"] / result.attrs["loss"])
    for given, copy in zip((y, X, static), copies, strict=True):
        pd.testing.assert_frame_equal(given, copy)
    # the shuffles touch copies only: the model forecasts as before
    pd.testing.assert_frame_equal(before, f.predict(X=_future(X)))
    again = f.covariate_importance(y, X, static, n_repeats=2, random_state=0)
    pd.testing.assert_frame_equal(result, again)


def _future(X):
    last = X["ds"].max()
    future = pd.date_range(last, periods=4, freq="W-MON")[1:]
    rows = [X[X.ds == last].assign(ds=day) for day in future]
    return pd.concat([X, *rows], ignore_index=True)


@pytest.mark.slow
def test_on_the_simulator_price_and_promotion_lead_and_noise_comes_last():
    # two years: the validation weeks hold Black Friday and Christmas, so the holiday flag
    # matters there too, while the noise column never does
    y, X, _ = make_retail_sales(n_series=60, n_periods=104, seed=0)
    X = X.assign(noise=np.random.default_rng(0).normal(size=len(X)))
    f = Seq2SeqForecaster(
        horizon=4, input_size=16, hidden_size=16, max_epochs=15, batch_size=64,
        learning_rate=3e-3, validation_size=0.2, random_state=0, verbose=False,
        covariate_selection=None,
    )  # fmt: skip
    f.fit(y, X=X)
    result = f.covariate_importance(y, X, n_repeats=3, random_state=0)
    assert set(result["feature"][:2]) == {"price", "promotion"}
    assert result["feature"].iloc[-1] == "noise"
    assert abs(result["relative"].iloc[-1]) < 0.25 * result["relative"].iloc[1]


def test_importance_errors():
    y, X, _ = _panel()
    with pytest.raises(NotFittedError):
        Seq2SeqForecaster(**tiny()).covariate_importance(y, X)
    plain = Seq2SeqForecaster(**tiny()).fit(y)
    with pytest.raises(ValueError, match="reads no covariates"):
        plain.covariate_importance(y)
    f = Seq2SeqForecaster(**tiny()).fit(y, X=X)
    with pytest.raises(ValueError, match="n_repeats"):
        f.covariate_importance(y, X, n_repeats=0)
    with pytest.raises(ValueError, match="pass X"):
        f.covariate_importance(y)


def test_plot_importance_draws_the_most_important_on_top():
    table = pd.DataFrame(
        {
            "feature": ["noise", "price", "promotion"],
            "kind": ["known"] * 3,
            "importance": [0.001, 0.05, 0.02],
            "std": [0.001, 0.004, 0.003],
        }
    )
    ax = plot_importance(table)
    widths = [patch.get_width() for patch in ax.patches]
    assert widths == [0.001, 0.02, 0.05]  # bottom to top
    assert [t.get_text() for t in ax.get_yticklabels()][-1] == "price (known)"
    assert len(plot_importance(table, max_features=2).patches) == 2
    with pytest.raises(TypeError, match="covariate_importance"):
        plot_importance(table.drop(columns="importance"))
