"""Bad arguments to the newer forecaster API raise a clear error before any training."""

import pytest

import tsattn
import tsattn.estimator
from tsattn import Seq2SeqForecaster
from tsattn.datasets import make_retail_sales

BASE = dict(horizon=4, max_epochs=1, hidden_size=4, verbose=False, random_state=0)


@pytest.fixture
def data():
    return make_retail_sales(4, 60)


@pytest.fixture
def no_training(monkeypatch):
    """Fail the test if a network would be trained."""

    def refuse(*args, **kwargs):
        raise AssertionError("training started before the bad argument was reported")

    monkeypatch.setattr(tsattn.estimator, "train", refuse)


def test_keep_covariates_naming_an_absent_feature(data, no_training):
    y, X, static = data
    with pytest.raises(ValueError, match=r"keep_covariates names \['nope'\].*price"):
        Seq2SeqForecaster(**BASE, keep_covariates=["nope"]).fit(y, X, static)


def test_keep_covariates_without_covariates(data, no_training):
    y, _, _ = data
    with pytest.raises(ValueError, match="keep_covariates names"):
        Seq2SeqForecaster(**BASE, keep_covariates="price").fit(y)


def test_alias_y_collides_with_actual_values(data, no_training):
    y, X, static = data
    with pytest.raises(ValueError, match="alias='y' would name a key column"):
        Seq2SeqForecaster(**BASE, alias="y").fit(y, X, static)


def test_cross_validation_level_without_intervals(data, no_training):
    y, X, static = data
    with pytest.raises(ValueError, match="level needs intervals.*quantiles"):
        Seq2SeqForecaster(**BASE).cross_validation(y, X, static, n_windows=2, level=[80])


def test_cross_validation_bad_level_reported_first(data, no_training):
    y, X, static = data
    with pytest.raises(ValueError, match="strictly between 0 and 100"):
        Seq2SeqForecaster(**BASE).cross_validation(y, X, static, n_windows=2, level=[120])


def test_cross_validation_refit_must_be_bool(data, no_training):
    y, X, static = data
    with pytest.raises(TypeError, match="refit must be True or False"):
        Seq2SeqForecaster(**BASE).cross_validation(y, X, static, n_windows=2, refit="no")


def test_cross_validation_baseline_class_instead_of_instance(data, no_training):
    y, X, static = data
    with pytest.raises(TypeError, match=r"class SeasonalNaive: pass an instance"):
        Seq2SeqForecaster(**BASE).cross_validation(
            y, X, static, n_windows=2, baselines=[tsattn.SeasonalNaive]
        )


def test_training_spy_sees_a_good_fit(data, monkeypatch):
    """The spy the tests above rely on is the function fit trains with."""
    y, X, static = data
    calls = []
    original = tsattn.estimator.train

    def spy(*args, **kwargs):
        calls.append(1)
        return original(*args, **kwargs)

    monkeypatch.setattr(tsattn.estimator, "train", spy)
    Seq2SeqForecaster(**BASE, keep_covariates=["price"]).fit(y, X, static)
    assert calls
