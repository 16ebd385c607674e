import re
import sys

import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.base import clone
from sklearn.exceptions import NotFittedError

from tsattn import Seq2SeqTranslator, load
from tsattn.datasets import make_date_pairs, make_echo_task
from tsattn.translate.vocab import EOS_INDEX


def tiny(**overrides):
    params = dict(
        hidden_size=32,
        max_epochs=12,
        batch_size=32,
        learning_rate=1e-2,
        random_state=0,
        verbose=False,
    )
    params.update(overrides)
    return Seq2SeqTranslator(**params)


@pytest.fixture(scope="module")
def copy_task():
    return make_echo_task(400, n_in=4, n_out=4, cardinality=8, seed=0)


@pytest.fixture(scope="module")
def fresh():
    return make_echo_task(100, n_in=4, n_out=4, cardinality=8, seed=1)


@pytest.fixture(scope="module")
def copier(copy_task):
    return tiny().fit(*copy_task)


def refit_free(model, **params):
    """The fitted ``model`` with other search settings, without training again."""
    other = clone(model).set_params(**params)
    other.__dict__.update({k: v for k, v in model.__dict__.items() if k.endswith("_")})
    return other


def accuracy(predictions, targets):
    return np.mean([p == t for p, t in zip(predictions, targets, strict=True)])


def test_learns_a_tiny_copy_task(copier, fresh):
    sources, targets = fresh
    assert accuracy(copier.predict(sources), targets) >= 0.95
    assert copier.history_.columns.tolist() == ["epoch", "train_loss", "valid_loss", "seconds"]
    assert copier.history_["valid_loss"].iloc[-1] < 0.1  # nats per token, from log(12) = 2.5


def test_beam_search_predicts_the_copy_too(copier, fresh):
    sources, targets = fresh
    beam = refit_free(copier, beam_size=4, length_penalty=0.6)
    assert accuracy(beam.predict(sources), targets) >= 0.95


def test_fitted_attributes(copier, copy_task):
    digits = {t for sentence in copy_task[0] for t in sentence}
    assert set(copier.source_vocab_.itos[4:]) == digits
    assert copier.source_vocab_.itos[:4] == ["<pad>", "<bos>", "<eos>", "<unk>"]
    assert len(copier.target_vocab_) == 4 + len(digits)
    assert copier.max_length_ == 4 + 10
    assert copier.module_.config.source_vocab == len(copier.source_vocab_)
    assert copier.module_.config.output_size == len(copier.target_vocab_)


def test_output_takes_the_form_of_the_input(copier):
    as_lists = copier.predict([["1", "2", "3", "4"]])
    assert isinstance(as_lists[0], list) and all(isinstance(t, str) for t in as_lists[0])
    as_strings = copier.predict(["1 2 3 4", "5 6 7 0"])
    assert as_strings == [" ".join(as_lists[0]), as_strings[1]]
    assert all(isinstance(s, str) for s in as_strings)


def test_unknown_and_empty_sources_still_translate(copier):
    out = copier.predict(["never seen 9", ""])
    assert len(out) == 2 and all(isinstance(s, str) for s in out)


def test_attention_weights_align_the_copy(copier):
    weights = copier.attention_weights(["3", "4", "6", "7"])
    assert isinstance(weights, pd.DataFrame)
    assert weights.columns.tolist() == ["3", "4", "6", "7", "<eos>"]
    assert weights.index.tolist() == ["3", "4", "6", "7", "<eos>"]
    np.testing.assert_allclose(weights.sum(axis=1), 1.0, atol=1e-6)
    # Copying, output token i looks mostly at source token i.
    assert weights.to_numpy()[:4, :4].argmax(axis=1).tolist() == [0, 1, 2, 3]


def test_attention_weights_of_a_reversed_source_are_shown_in_reading_order(copy_task):
    model = tiny(reverse_source=True, max_epochs=2).fit(*copy_task)
    weights = model.attention_weights("3 4 6 7")
    assert weights.columns.tolist() == ["3", "4", "6", "7", "<eos>"]
    # What the model saw: 7 6 4 3 <eos>.
    ids = model.source_vocab_.encode(["7", "6", "4", "3"]) + [EOS_INDEX]
    output = model.target_vocab_.encode(model.predict(["3 4 6 7"])[0].split())
    target_in = torch.tensor([[1, *output]])
    with torch.no_grad():
        _, seen = model.module_(torch.tensor([ids]), target_in, None, return_weights=True)
    seen = seen[0].numpy()  # (T, S) columns 7 6 4 3 <eos>
    np.testing.assert_allclose(weights["3"], seen[:, 3], atol=1e-6)
    np.testing.assert_allclose(weights["7"], seen[:, 0], atol=1e-6)
    np.testing.assert_allclose(weights["<eos>"], seen[:, 4], atol=1e-6)


def test_attention_weights_need_attention(copy_task):
    model = tiny(attention="none", max_epochs=1).fit(*copy_task)
    with pytest.raises(ValueError, match="no attention"):
        model.attention_weights("1 2")


def test_score_is_corpus_bleu_with_one_or_several_references(copier):
    sources = [[str(i % 8) for i in range(k, k + 4)] for k in range(8)]
    own = copier.predict(sources)
    assert copier.score(sources, own) == pytest.approx(100.0)
    wrong = [["9", "9", "9", "9"]] * len(sources)
    assert copier.score(sources, wrong) == pytest.approx(0.0)
    # Several references per source, in varying numbers: the right one among them counts.
    several = [[w, o] if i % 2 else [o] for i, (w, o) in enumerate(zip(wrong, own, strict=True))]
    assert copier.score(sources, several) == pytest.approx(100.0)
    strings = [" ".join(s) for s in sources]
    assert copier.score(strings, [[" ".join(o), "x"] for o in own]) == pytest.approx(100.0)


def test_score_rejects_mismatched_references(copier):
    with pytest.raises(ValueError, match="pair up one to one"):
        copier.score(["1 2 3 4"], ["1 2 3 4", "5"])
    with pytest.raises(TypeError, match=re.escape("targets[0] must be a string")):
        copier.score(["1 2 3 4"], [5])


def test_score_without_sacrebleu_says_how_to_install_it(copier, monkeypatch):
    monkeypatch.setitem(sys.modules, "sacrebleu", None)
    with pytest.raises(ImportError, match=re.escape("tsattn[translate]")):
        copier.score(["1 2 3 4"], ["1 2 3 4"])


def test_save_and_load_give_identical_predictions(tmp_path, copier, fresh):
    path = tmp_path / "copy.tsattn"
    copier.save(path)
    again = load(path)
    assert isinstance(again, Seq2SeqTranslator)
    assert again.get_params() == copier.get_params()
    assert again.source_vocab_ == copier.source_vocab_
    assert again.target_vocab_ == copier.target_vocab_
    assert again.predict(fresh[0]) == copier.predict(fresh[0])
    pd.testing.assert_frame_equal(
        again.attention_weights(fresh[0][0]), copier.attention_weights(fresh[0][0])
    )
    pd.testing.assert_frame_equal(again.history_, copier.history_, check_dtype=False)


def test_char_model_with_gru_and_beam_saves_and_loads(tmp_path):
    sources, targets = make_date_pairs(60, seed=0)
    model = tiny(
        tokenizer="char", cell="gru", bidirectional=True, num_layers=2, max_epochs=1,
        beam_size=3, embedding_size=8,
    ).fit(sources, targets)  # fmt: skip
    assert model.module_.config.embedding_size == 8
    predictions = model.predict(sources[:5])
    assert all(isinstance(p, str) for p in predictions)
    model.save(tmp_path / "dates.tsattn")
    assert load(tmp_path / "dates.tsattn").predict(sources[:5]) == predictions


def test_same_random_state_gives_the_same_model(copy_task):
    first = tiny(max_epochs=2).fit(*copy_task)
    second = tiny(max_epochs=2).fit(*copy_task)
    probe = copy_task[0][:20]
    assert first.predict(probe) == second.predict(probe)
    np.testing.assert_array_equal(first.history_["train_loss"], second.history_["train_loss"])


def test_min_freq_maps_rare_tokens_to_unk():
    model = tiny(min_freq=2, max_epochs=1).fit(["a b", "a c", "a b"], ["x y", "x z", "x y"])
    assert model.source_vocab_.itos[4:] == ["a", "b"]
    assert model.target_vocab_.itos[4:] == ["x", "y"]


@pytest.mark.parametrize(
    "sources, targets, error, words",
    [
        ([], [], ValueError, "sources is empty"),
        (["a b"], [], ValueError, "targets is empty"),
        (["a b", "c"], ["x"], ValueError, "2 sources and 1 targets"),
        ([["a", 1]], [["x"]], TypeError, "tokens must be strings"),
        (["a b"], [["x", None]], TypeError, "token None of type NoneType"),
        ("a b", ["x"], TypeError, "single string"),
    ],
)
def test_bad_input_is_rejected_before_training(sources, targets, error, words):
    with pytest.raises(error, match=re.escape(words)):
        tiny().fit(sources, targets)


@pytest.mark.parametrize(
    "param, value, error, words",
    [
        ("tokenizer", "words", ValueError, "did you mean 'word'"),
        ("attention", "bahdanu", ValueError, "did you mean 'bahdanau'"),
        ("beam_size", 0, ValueError, "beam_size must be an integer >= 1"),
        ("length_penalty", -0.5, ValueError, "length_penalty must be in"),
        ("max_length", 2.5, TypeError, "max_length must be an integer"),
        ("reverse_source", "yes", TypeError, "reverse_source must be True or False"),
        ("min_freq", 0, ValueError, "min_freq must be an integer >= 1"),
        ("device", "tpu", ValueError, "device must be one of"),
    ],
)
def test_bad_parameters_are_rejected_in_fit(param, value, error, words):
    model = tiny(**{param: value})  # __init__ only stores
    assert getattr(model, param) == value
    with pytest.raises(error, match=re.escape(words)):
        model.fit(["a b"], ["x y"])


def test_predict_before_fit_and_bad_search_settings(copier):
    with pytest.raises(NotFittedError):
        tiny().predict(["a"])
    bad = refit_free(copier, beam_size=0)
    with pytest.raises(ValueError, match="beam_size"):
        bad.predict(["1 2"])


def test_max_length_caps_the_output(copier):
    capped = refit_free(copier, max_length=2)
    assert [len(p) for p in capped.predict([["1", "2", "3", "4"]] * 2)] == [2, 2]


def test_sklearn_conventions():
    model = tiny()
    assert clone(model).get_params() == model.get_params()
    tags = model.__sklearn_tags__()
    assert tags.input_tags.string and not tags.input_tags.two_d_array


def test_plot_attention_draws_the_alignment(copier, tmp_path):
    import matplotlib.pyplot as plt

    from tsattn.plotting import plot_attention

    weights = copier.attention_weights("3 4 6 7")
    ax = plot_attention(weights)
    assert [t.get_text() for t in ax.get_xticklabels()] == weights.columns.tolist()
    assert [t.get_text() for t in ax.get_yticklabels()] == weights.index.tolist()
    np.testing.assert_allclose(ax.images[0].get_array(), weights.to_numpy())
    ax.figure.savefig(tmp_path / "alignment.png")
    assert (tmp_path / "alignment.png").stat().st_size > 1000
    _, given = plt.subplots()
    drawn = plot_attention(weights.to_numpy(), source_tokens=list("abcde"), ax=given)
    assert drawn is given
    assert [t.get_text() for t in drawn.get_xticklabels()] == list("abcde")
    with pytest.raises(ValueError, match="3 labels for 5"):
        plot_attention(weights, source_tokens=["a", "b", "c"])
    with pytest.raises(ValueError, match="must be 2-D"):
        plot_attention(np.ones(3))
    plt.close("all")


# ----------------------------------------------------------------------------------------------
# the token tasks of tsattn.datasets


def test_echo_task_targets_are_the_first_integers():
    sources, targets = make_echo_task(50, n_in=5, n_out=2, cardinality=7, seed=3)
    assert len(sources) == len(targets) == 50
    assert all(len(s) == 5 and t == s[:2] for s, t in zip(sources, targets, strict=True))
    assert {int(v) for s in sources for v in s} == set(range(7))
    assert make_echo_task(50, 5, 2, 7, seed=3) == (sources, targets)
    assert make_echo_task(50, 5, 2, 7, seed=4) != (sources, targets)
    with pytest.raises(ValueError, match="n_out must be at most n_in=5"):
        make_echo_task(10, n_in=5, n_out=6)
    with pytest.raises(ValueError, match="cardinality must be a positive integer"):
        make_echo_task(10, cardinality=0)


def test_date_pairs_are_true_iso_dates_of_what_was_written():
    import datetime

    sources, targets = make_date_pairs(400, seed=5)
    assert make_date_pairs(400, seed=5) == (sources, targets)
    weekdays = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
    numeric = 0
    for source, target in zip(sources, targets, strict=True):
        day = datetime.date.fromisoformat(target)
        assert datetime.date(1950, 1, 1) <= day <= datetime.date(2049, 12, 31)
        assert source == source.lower()
        named = [w for w in weekdays if source.startswith((w, w[:3] + ","))]
        if named:
            assert named == [weekdays[day.weekday()]]
        found = re.search(r"(\d+)[/.-](\d+)[/.-](\d+)", source)
        if found:  # numeric dates are day first; two-digit years pivot at 50
            d, m, y = (int(g) for g in found.groups())
            y = y if y > 99 else (1900 + y if y >= 50 else 2000 + y)
            assert datetime.date(y, m, d) == day
            numeric += 1
        else:
            assert str(day.day) in source and str(day.year % 100).zfill(2) in source
    assert 100 < numeric < 300  # 5 of the 14 formats are numeric
    with pytest.raises(ValueError, match="n must be a positive integer"):
        make_date_pairs(0)
