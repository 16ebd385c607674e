import pickle
import warnings

import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.base import clone
from sklearn.compose import TransformedTargetRegressor
from sklearn.exceptions import NotFittedError
from sklearn.metrics import r2_score
from sklearn.model_selection import GridSearchCV, TimeSeriesSplit, cross_val_score
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer, StandardScaler
from sklearn.utils import get_tags
from sklearn.utils.estimator_checks import check_estimator

import tsattn
from tsattn import Seq2SeqRegressor, make_windows
from tsattn.forecast import rollout
from tsattn.forecast.windows.arrays import ArrayBatches, covariate_statistics

torch.set_num_threads(1)


def small(**overrides):
    """A tiny, fast, seeded regressor."""
    params = dict(
        hidden_size=8,
        max_epochs=3,
        batch_size=32,
        learning_rate=0.01,
        random_state=0,
        verbose=False,
    )
    params.update(overrides)
    return Seq2SeqRegressor(**params)


@pytest.fixture(scope="module")
def sine_windows():
    """Windows of a noisy monthly-seasonal series: X (189, 12), Y (189, 3)."""
    rng = np.random.default_rng(0)
    t = np.arange(203)
    series = 10 + np.sin(2 * np.pi * t / 12) + 0.05 * rng.standard_normal(len(t))
    return make_windows(series, input_size=12, horizon=3)


# --------------------------------------------------------------------------------------------
# scikit-learn's own contract


# CPU matrix kernels take another path for one row than for many, so a row's float32 prediction
# can differ in the last bit (~2e-7) between predict(X) and predict(X[i:i + 1]).
EXPECTED_FAILED = {
    "check_methods_subset_invariance": "float32 kernels round batch-of-1 and batch-of-n "
    "results differently by ~1 ulp (2e-7), above the check's 1e-7 tolerance",
}


@pytest.mark.slow
def test_check_estimator():
    # Small enough to be fast, big enough to pass check_regressors_train's R^2 > 0.5 on
    # make_regression with 10 i.i.d. features read as a window.
    estimator = Seq2SeqRegressor(
        hidden_size=16,
        cell="gru",
        loss="mse",
        learning_rate=0.02,
        max_epochs=6,
        batch_size=64,
        device="cpu",
        random_state=0,
        verbose=False,
    )
    with warnings.catch_warnings():
        # check_array_api_input needs SCIPY_ARRAY_API set before scipy is imported; scikit-learn
        # skips it itself otherwise.
        warnings.simplefilter("ignore")
        results = check_estimator(estimator, expected_failed_checks=EXPECTED_FAILED)
    not_passed = {r["check_name"]: r["status"] for r in results if r["status"] != "passed"}
    assert set(not_passed) <= {"check_methods_subset_invariance", "check_array_api_input"}
    assert not_passed.get("check_array_api_input", "skipped") == "skipped"
    assert len(results) > 50


def test_tags_declare_3d_input_and_gpu_non_determinism():
    tags = get_tags(Seq2SeqRegressor(device="cpu"))
    assert tags.input_tags.three_d_array and tags.input_tags.two_d_array
    assert tags.target_tags.multi_output and tags.target_tags.required
    assert not tags.non_deterministic
    assert get_tags(Seq2SeqRegressor(device="cuda")).non_deterministic
    assert get_tags(Seq2SeqRegressor(device=torch.device("cuda:0"))).non_deterministic
    assert get_tags(Seq2SeqRegressor(device="auto")).non_deterministic == torch.cuda.is_available()


def test_init_only_stores_arguments():
    r = Seq2SeqRegressor(hidden_size=-3, cell="rnn", device="tpu")  # no error until fit
    assert r.get_params()["hidden_size"] == -3
    with pytest.raises(ValueError, match="hidden_size must be an integer >= 1"):
        r.fit(np.zeros((10, 3)), np.zeros(10))


# --------------------------------------------------------------------------------------------
# shapes and learning


def test_learns_a_seasonal_series(sine_windows):
    X, Y = sine_windows
    r = small(max_epochs=5).fit(X[:150], Y[:150])
    prediction = r.predict(X[150:])
    assert prediction.shape == (39, 3) and prediction.dtype == np.float64
    assert r.score(X[150:], Y[150:]) > 0.9
    assert r.score(X[150:], Y[150:]) == pytest.approx(r2_score(Y[150:], prediction))
    # an untrained model (no optimiser step) is far from that
    untrained = small(max_epochs=1, learning_rate=1e-9).fit(X[:150], Y[:150])
    assert untrained.score(X[150:], Y[150:]) < 0.5


def test_fitted_attributes(sine_windows):
    X, Y = sine_windows
    r = small(max_epochs=2)
    with pytest.raises(NotFittedError):
        r.predict(X)
    assert r.fit(X, Y) is r
    assert r.n_features_in_ == 12 and r.input_size_ == 12
    assert r.n_channels_ == 1 and r.horizon_ == 3
    assert isinstance(r.module_, tsattn.core.Seq2Seq)
    assert r.module_.config.hidden_size == 8 and r.module_.config.source_features == 1
    assert list(r.history_.columns) == ["epoch", "train_loss", "valid_loss", "seconds"]
    assert len(r.history_) == 2
    assert r.device_ == torch.device("cpu")


def test_target_shapes_follow_y():
    rng = np.random.default_rng(1)
    X = rng.standard_normal((40, 5))
    assert small(max_epochs=1).fit(X, X[:, -1]).predict(X).shape == (40,)
    assert small(max_epochs=1).fit(X, X[:, -1:]).predict(X).shape == (40, 1)
    assert small(max_epochs=1).fit(X, X[:, :4]).predict(X).shape == (40, 4)


def test_validation_split_takes_the_last_rows(sine_windows):
    X, Y = sine_windows
    held_out = small(max_epochs=1, validation_size=0.5).fit(X, Y)
    assert np.isfinite(held_out.history_["valid_loss"]).all()
    assert np.isnan(small(max_epochs=1, validation_size=0.0).fit(X, Y).history_["valid_loss"]).all()
    # one row cannot spare one for validation: it trains on it
    single = small(max_epochs=1, validation_size=0.5).fit(X[:1], Y[:1])
    assert np.isnan(single.history_["valid_loss"]).all()

    # the validation loss is the loss on the last half of the rows, in order
    n_valid = 95  # ceil(0.5 * 189)
    last = ArrayBatches(
        X[-n_valid:, :, None],
        Y[-n_valid:],
        "standard",
        np.zeros(0),
        np.ones(0),
        torch.device("cpu"),
    )
    with torch.no_grad():
        loss = rollout.make_loss("mae")(held_out.module_, last.batch(np.arange(n_valid)))
    assert held_out.history_["valid_loss"].iloc[-1] == pytest.approx(float(loss), rel=1e-5)


def test_batches_by_hand():
    # one row, target column [1, 2, 3] and covariate [10, 20, 30]; targets [4, 5]
    X = np.array([[[1.0, 10.0], [2.0, 20.0], [3.0, 30.0]]])
    Y = np.array([[4.0, 5.0]])
    batches = ArrayBatches(X, Y, "standard", np.array([20.0]), np.array([5.0]), torch.device("cpu"))
    b = batches.batch(np.array([0]))
    std = np.sqrt(2 / 3)  # population deviation of 1, 2, 3
    np.testing.assert_allclose(b["loc"], [[2.0]])
    np.testing.assert_allclose(b["scale"], [[std]], rtol=1e-6)
    np.testing.assert_allclose(b["source"][0, :, 0], np.array([-1, 0, 1]) / std, rtol=1e-6)
    np.testing.assert_allclose(b["source"][0, :, 1], [-2, 0, 2])  # (x - 20) / 5
    np.testing.assert_allclose(b["target"], [[2 / std, 3 / std]], rtol=1e-6)
    np.testing.assert_allclose(b["target_in"][0, :, 0], [1 / std, 2 / std], rtol=1e-6)
    assert b["mask"].all() and b["mask"].shape == (1, 3)
    assert b["target_in"].shape == (1, 2, 1)
    predict_only = ArrayBatches(X, None, "none", np.zeros(1), np.ones(1), torch.device("cpu"))
    b = predict_only.batch(slice(0, 1))
    assert "target" not in b
    np.testing.assert_allclose(b["source"][0], X[0])  # "none" leaves every value as it is


# --------------------------------------------------------------------------------------------
# 3-D windows with a covariate


def _promotion_series(n=400):
    """Sales that jump by 5 the step after a promotion: predictable only from the covariate."""
    rng = np.random.default_rng(0)
    promotion = (rng.random(n) < 0.3).astype(float)
    sales = 10 + 5 * np.r_[0.0, promotion[:-1]] + 0.1 * rng.standard_normal(n)
    return np.column_stack([sales, promotion])


def test_covariate_statistics_standardise_over_all_rows_and_steps():
    target = np.arange(12.0).reshape(3, 4)
    X = np.stack([target, np.full((3, 4), 7.0), 2 * target], axis=-1)  # (3, 4, 3)
    loc, scale = covariate_statistics(X, "standard")
    np.testing.assert_allclose(loc, [7.0, 11.0])
    # A constant covariate keeps a scale of 1 instead of a division by zero.
    np.testing.assert_allclose(scale, [1.0, (2 * target).std()])
    loc, scale = covariate_statistics(X, "none")
    np.testing.assert_array_equal(loc, [0.0, 0.0])
    np.testing.assert_array_equal(scale, [1.0, 1.0])
    loc, scale = covariate_statistics(X[..., :1], "standard")
    assert loc.shape == scale.shape == (0,)


def test_covariate_windows():
    values = _promotion_series()
    X, Y = make_windows(values, input_size=8, horizon=1)  # (392, 8, 2), (392, 1)
    with_covariate = small(max_epochs=5).fit(X[:300], Y[:300])
    assert with_covariate.n_channels_ == 2 and with_covariate.n_features_in_ == 8
    assert with_covariate.module_.config.source_features == 2
    np.testing.assert_allclose(with_covariate.covariate_loc_, [X[:300, :, 1].mean()])
    np.testing.assert_allclose(with_covariate.covariate_scale_, [X[:300, :, 1].std()])
    target_only = small(max_epochs=5).fit(X[:300, :, 0], Y[:300])
    assert with_covariate.score(X[300:], Y[300:]) > 0.8
    assert target_only.score(X[300:, :, 0], Y[300:]) < 0.3
    # 2-D X is the same as 3-D X with one feature
    np.testing.assert_array_equal(
        target_only.predict(X[300:, :, 0]), target_only.predict(X[300:, :, :1])
    )
    with pytest.raises(ValueError, match="2 features per step"):
        target_only.predict(X[300:])
    with pytest.raises(ValueError, match="1 features per step"):
        with_covariate.predict(X[300:, :, :1])


@pytest.mark.parametrize(
    ("X", "y", "words"),
    [
        (np.zeros((10, 3, 2, 1)), np.zeros(10), "3-D"),
        (np.zeros((10, 0, 2)), np.zeros(10), "at least 1 step"),
        (np.zeros((10, 3)), np.zeros(9), "inconsistent numbers of samples"),
        (np.zeros((10, 3)), np.zeros((10, 0)), r"0 feature\(s\)"),
        (np.full((10, 3), np.nan), np.zeros(10), "NaN"),
    ],
)
def test_bad_data(X, y, words):
    with pytest.raises(ValueError, match=words):
        small(max_epochs=1).fit(X, y)


@pytest.mark.parametrize(
    ("params", "error", "words"),
    [
        (dict(cell="rnn"), ValueError, "cell must be one of"),
        (dict(scaler="minmax"), ValueError, "scaler must be one of"),
        (dict(attention="bahdanu"), ValueError, "did you mean 'bahdanau'"),
        (dict(validation_size=1.0), ValueError, "validation_size"),
        (dict(max_epochs=2.5), TypeError, "max_epochs must be an integer"),
        (dict(device="tpu"), ValueError, "device must be one of"),
    ],
)
def test_bad_params_raise_before_training(params, error, words):
    with pytest.raises(error, match=words):
        small(**params).fit(np.zeros((10, 3)), np.zeros(10))


def test_dataframe_feature_names():
    rng = np.random.default_rng(2)
    frame = pd.DataFrame(rng.standard_normal((30, 4)), columns=["lag4", "lag3", "lag2", "lag1"])
    r = small(max_epochs=1).fit(frame, frame["lag1"].to_numpy())
    np.testing.assert_array_equal(r.feature_names_in_, frame.columns)
    with pytest.raises(ValueError, match="feature names"):
        r.predict(frame[["lag1", "lag2", "lag3", "lag4"]])


# --------------------------------------------------------------------------------------------
# scikit-learn tools


def test_pipeline_with_standard_scaler(sine_windows):
    X, Y = sine_windows
    pipe = Pipeline([("scale", StandardScaler()), ("model", small(max_epochs=5))])
    pipe.fit(X[:150], Y[:150])
    assert pipe.predict(X[150:]).shape == (39, 3)
    assert pipe.named_steps["model"].n_features_in_ == 12
    # the model received standardised windows
    scaled = pipe.named_steps["scale"].transform(X[150:])
    np.testing.assert_array_equal(pipe.predict(X[150:]), pipe.named_steps["model"].predict(scaled))
    pipe.set_params(model__hidden_size=4).fit(X[:150], Y[:150])
    assert pipe.named_steps["model"].module_.config.hidden_size == 4


def test_pipeline_with_targets_in_the_same_units(sine_windows):
    # The regressor scales targets by their own input window, so y must be in the units of X's
    # target column: scale y as X is scaled.
    X, Y = sine_windows
    pipe = Pipeline([("scale", StandardScaler()), ("model", small(max_epochs=5))])
    model = TransformedTargetRegressor(regressor=pipe, transformer=StandardScaler())
    model.fit(X[:150], Y[:150])
    assert model.score(X[150:], Y[150:]) > 0.9


def test_grid_search_with_time_series_split(sine_windows):
    X, Y = sine_windows
    search = GridSearchCV(
        small(max_epochs=2),
        {"hidden_size": [4, 8], "attention": ["bahdanau", "none"]},
        cv=TimeSeriesSplit(n_splits=2, gap=2),  # gap = horizon - 1: no shared target steps
    )
    search.fit(X, Y)
    assert len(search.cv_results_["params"]) == 4
    assert np.isfinite(search.cv_results_["mean_test_score"]).all()
    best = search.best_estimator_
    assert best.module_.config.hidden_size == search.best_params_["hidden_size"]
    assert best.module_.config.attention == search.best_params_["attention"]
    assert search.predict(X[:5]).shape == (5, 3)


def test_cross_val_score(sine_windows):
    X, Y = sine_windows
    scores = cross_val_score(small(max_epochs=3), X, Y, cv=TimeSeriesSplit(n_splits=3))
    assert scores.shape == (3,)
    assert (scores > 0.5).all()


def test_transformed_target_regressor(sine_windows):
    # A log model of the series: the windows and the targets are both logged.
    X, Y = sine_windows
    inner = Pipeline([("log", FunctionTransformer(np.log)), ("model", small(max_epochs=5))])
    model = TransformedTargetRegressor(regressor=inner, func=np.log, inverse_func=np.exp)
    model.fit(X[:150], Y[:150])
    prediction = model.predict(X[150:])
    assert prediction.shape == (39, 3) and (prediction > 0).all()
    assert model.score(X[150:], Y[150:]) > 0.9
    np.testing.assert_allclose(np.exp(model.regressor_.predict(X[150:])), prediction)
    assert model.regressor_.named_steps["model"].history_["train_loss"].iloc[-1] < 1


def test_clone_gives_an_unfitted_copy(sine_windows):
    X, Y = sine_windows
    r = small(hidden_size=5, attention="luong").fit(X[:50], Y[:50])
    copy = clone(r)
    assert copy.get_params() == r.get_params()
    assert not hasattr(copy, "module_") and not hasattr(copy, "n_features_in_")


def test_same_seed_same_predictions(sine_windows):
    X, Y = sine_windows
    first = small(random_state=3).fit(X, Y).predict(X)
    again = small(random_state=3).fit(X, Y).predict(X)
    other = small(random_state=4).fit(X, Y).predict(X)
    np.testing.assert_array_equal(first, again)
    assert np.abs(first - other).max() > 1e-4
    # a RandomState instance is honoured too: the same draws give the same model
    a = small(random_state=np.random.RandomState(7)).fit(X, Y).predict(X)
    b = small(random_state=np.random.RandomState(7)).fit(X, Y).predict(X)
    np.testing.assert_array_equal(a, b)


def test_fit_does_not_touch_the_global_torch_rng(sine_windows):
    X, Y = sine_windows
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    small(max_epochs=1).fit(X[:40], Y[:40])
    torch.testing.assert_close(torch.rand(3), expected)


# --------------------------------------------------------------------------------------------
# persistence


def test_pickle_round_trip(sine_windows):
    X, Y = sine_windows
    r = small().fit(X, Y)
    expected = r.predict(X)
    blob = pickle.dumps(r)
    assert hasattr(r, "module_")  # pickling leaves the original intact
    restored = pickle.loads(blob)
    np.testing.assert_array_equal(restored.predict(X), expected)
    assert restored.device_ == torch.device("cpu")
    assert all(p.device.type == "cpu" for p in restored.module_.parameters())
    assert not restored.module_.training
    assert restored.get_params() == r.get_params()
    assert restored.n_features_in_ == 12 and restored.horizon_ == 3
    # an unfitted regressor pickles too
    assert not hasattr(pickle.loads(pickle.dumps(small())), "module_")


def test_pickle_holds_a_state_dict_not_the_module(sine_windows):
    X, Y = sine_windows
    r = small(max_epochs=1).fit(X[:40], Y[:40])
    state = r.__getstate__()
    assert "module_" not in state and "device_" not in state
    assert set(state["_module_weights"]) == set(r.module_.state_dict())
    assert state["_module_config"]["hidden_size"] == 8


def test_save_and_load(tmp_path, sine_windows):
    X, Y = sine_windows
    frame = pd.DataFrame(X, columns=[f"lag{k}" for k in range(12, 0, -1)])
    r = small().fit(frame, Y[:, 0])
    r.save(tmp_path / "regressor.tsattn")
    loaded = tsattn.load(tmp_path / "regressor.tsattn")
    assert isinstance(loaded, Seq2SeqRegressor)
    np.testing.assert_array_equal(loaded.predict(frame), r.predict(frame))
    assert loaded.predict(frame).shape == (len(X),)
    np.testing.assert_array_equal(loaded.feature_names_in_, frame.columns)
    pd.testing.assert_frame_equal(loaded.history_, r.history_)
    assert loaded.get_params() == r.get_params()

    covariates = make_windows(_promotion_series(60), input_size=4, horizon=2)
    r3 = small(max_epochs=1).fit(*covariates)
    r3.save(tmp_path / "covariates.tsattn")
    loaded3 = tsattn.load(tmp_path / "covariates.tsattn")
    np.testing.assert_array_equal(loaded3.predict(covariates[0]), r3.predict(covariates[0]))
    np.testing.assert_array_equal(loaded3.covariate_loc_, r3.covariate_loc_)
