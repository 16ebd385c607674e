"""Seq2SeqEnsemble: members, the median, formats and bad parameters."""

import numpy as np
import pandas as pd
import pytest
from conftest import tiny
from sklearn.base import clone

from tsattn import Seq2SeqEnsemble, Seq2SeqForecaster


def test_forecast_is_the_median_of_members_with_consecutive_seeds(monthly_series):
    ensemble = Seq2SeqEnsemble(Seq2SeqForecaster(**tiny(random_state=3)), n_models=3)
    pred = ensemble.fit(monthly_series).predict()
    members = [
        Seq2SeqForecaster(**tiny(random_state=seed)).fit(monthly_series).predict()
        for seed in (3, 4, 5)
    ]
    assert [m.random_state for m in ensemble.estimators_] == [3, 4, 5]
    expected = np.median(np.stack([m.to_numpy() for m in members]), axis=0)
    np.testing.assert_allclose(pred.to_numpy(), expected, rtol=1e-6)
    pd.testing.assert_index_equal(pred.index, members[0].index)


def test_mean_and_input_sizes_cycle(monthly_series):
    ensemble = Seq2SeqEnsemble(
        Seq2SeqForecaster(**tiny()), n_models=3, input_sizes=(6, 9), combine="mean"
    ).fit(monthly_series)
    assert [m.input_size_ for m in ensemble.estimators_] == [6, 9, 6]
    members = np.stack([m.predict().to_numpy() for m in ensemble.estimators_])
    np.testing.assert_allclose(ensemble.predict().to_numpy(), members.mean(0), rtol=1e-6)


def test_long_frame_in_long_frame_out():
    rng = np.random.default_rng(0)
    frames = [
        pd.DataFrame(
            {
                "unique_id": name,
                "ds": pd.date_range("2020-01-01", periods=30, freq="D"),
                "y": 10 + rng.normal(size=30).cumsum(),
            }
        )
        for name in ("a", "b")
    ]
    y = pd.concat(frames, ignore_index=True)
    pred = Seq2SeqEnsemble(Seq2SeqForecaster(**tiny()), n_models=2).fit(y).predict()
    assert list(pred.columns) == ["unique_id", "ds", "y"] and len(pred) == 6


def test_clone_keeps_parameters():
    ensemble = Seq2SeqEnsemble(Seq2SeqForecaster(**tiny()), n_models=2, input_sizes=(6,))
    copy = clone(ensemble)
    assert copy.get_params()["n_models"] == 2 and copy.input_sizes == (6,)


@pytest.mark.parametrize(
    "params, error, words",
    [
        ({"n_models": 0}, ValueError, "n_models"),
        ({"combine": "max"}, ValueError, "combine must be one of"),
        ({"input_sizes": 6}, TypeError, "input_sizes must be"),
        ({"input_sizes": (6, 0)}, ValueError, "input_sizes"),
        ({"estimator": "lstm"}, TypeError, "estimator must be a Seq2SeqForecaster"),
    ],
)
def test_bad_parameters_are_refused_before_training(monthly_series, params, error, words):
    params = {"estimator": Seq2SeqForecaster(**tiny()), **params}
    with pytest.raises(error, match=words):
        Seq2SeqEnsemble(**params).fit(monthly_series)


def test_random_state_must_be_an_int(monthly_series):
    member = Seq2SeqForecaster(**tiny(random_state=np.random.RandomState(0)))
    with pytest.raises(TypeError, match="random_state must be an int"):
        Seq2SeqEnsemble(member, n_models=2).fit(monthly_series)


def test_save_and_load_round_trip(monthly_series, tmp_path):
    import tsattn

    ensemble = Seq2SeqEnsemble(
        Seq2SeqForecaster(**tiny(random_state=2)), n_models=2, input_sizes=(6, 9)
    ).fit(monthly_series)
    ensemble.save(tmp_path / "ens.tsattn")
    again = tsattn.load(tmp_path / "ens.tsattn")
    assert isinstance(again, Seq2SeqEnsemble)
    assert again.get_params(deep=False)["input_sizes"] == (6, 9)
    assert again.estimator.random_state == 2 and len(again.estimators_) == 2
    pd.testing.assert_series_equal(again.predict(), ensemble.predict())


def test_save_before_fit_is_refused(tmp_path):
    from sklearn.exceptions import NotFittedError

    with pytest.raises(NotFittedError):
        Seq2SeqEnsemble(Seq2SeqForecaster(**tiny())).save(tmp_path / "ens.tsattn")
    assert not (tmp_path / "ens.tsattn").exists()
