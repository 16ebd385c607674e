"""Model files: versioned, atomic, loadable on a CPU, and never a way to run code."""

import errno
import os
import pickle
import stat
import zipfile

import numpy as np
import pandas as pd
import pytest
import torch
from conftest import tiny
from safetensors import safe_open
from safetensors.torch import load_file, save_file

import tsattn
import tsattn.files
import tsattn.io
from tsattn import Seq2SeqForecaster, Seq2SeqRegressor, Seq2SeqTranslator, make_windows
from tsattn.io import params_to_json as _json_params


def _series():
    t = np.arange(48)
    index = pd.date_range("2016-01-01", periods=48, freq="MS")
    return pd.Series(50 + 5 * np.sin(2 * np.pi * t / 12) + 0.2 * t, index=index, name="sales")


@pytest.fixture(scope="module")
def fitted():
    return Seq2SeqForecaster(**tiny(max_epochs=1)).fit(_series())


def _metadata(path):
    with safe_open(str(path), framework="pt") as handle:
        return handle.metadata()


def _rewrite(path, resealed=False, **metadata_changes):
    """The same model file with some metadata replaced (what a hand edit would do).

    ``resealed`` also recomputes the checksum, as a careful forger would: what the file says
    must then be refused on its own merits.
    """
    tensors = load_file(path)
    metadata = {**_metadata(path), **metadata_changes}
    if resealed:
        metadata["sha256"] = tsattn.files.checksum(metadata, tensors)
    save_file(tensors, path, metadata=metadata)


class Marker:
    """A pickle payload: unpickling it creates a directory, so running it leaves a trace."""

    def __init__(self, path):
        self.path = str(path)

    def __reduce__(self):
        return (os.mkdir, (self.path,))


def test_the_payload_runs_when_unpickled(tmp_path):
    # The refusal tests below are only meaningful if the payload really runs code.
    pickle.loads(pickle.dumps(Marker(tmp_path / "ran")))
    assert (tmp_path / "ran").is_dir()


# --------------------------------------------------------------------------------------------
# Format and version


def test_every_file_names_its_format_version_and_class(tmp_path, fitted):
    path = tmp_path / "m.tsattn"
    fitted.save(path)
    metadata = _metadata(path)
    assert metadata["format"] == "tsattn"
    assert metadata["format_version"] == str(tsattn.io.FORMAT_VERSION) == "2"
    assert metadata["class"] == "Seq2SeqForecaster"


def _fit_regressor():
    X, Y = make_windows(np.sin(np.arange(80) / 4), input_size=6, horizon=2)
    params = {k: v for k, v in tiny(max_epochs=1).items() if k not in ("horizon", "input_size")}
    model = Seq2SeqRegressor(**params).fit(X, Y)
    return model, lambda m: m.predict(X)


def _fit_translator():
    sources = ["a b c", "b c d", "c d e", "d e a"] * 4
    targets = ["c b a", "d c b", "e d c", "a e d"] * 4
    model = Seq2SeqTranslator(hidden_size=8, max_epochs=1, random_state=0, verbose=False)
    return model.fit(sources, targets), lambda m: m.predict(sources[:4])


@pytest.mark.parametrize("make", [_fit_regressor, _fit_translator])
def test_other_estimators_are_versioned_and_round_trip(tmp_path, make):
    model, predict = make()
    path = tmp_path / "m.tsattn"
    model.save(path)
    metadata = _metadata(path)
    assert (metadata["format"], metadata["format_version"]) == ("tsattn", "2")
    assert metadata["class"] == type(model).__name__
    loaded = tsattn.load(path)
    assert type(loaded) is type(model)
    np.testing.assert_array_equal(np.asarray(predict(loaded)), np.asarray(predict(model)))


def test_a_file_of_a_newer_format_is_refused(tmp_path, fitted):
    path = tmp_path / "m.tsattn"
    fitted.save(path)
    _rewrite(path, format_version="3")
    with pytest.raises(ValueError, match="format 3, newer than this tsattn reads .2.; upgrade"):
        tsattn.load(path)


@pytest.mark.parametrize("resealed", [False, True])
@pytest.mark.parametrize(
    "changes, words",
    [
        ({"format": "other"}, "safetensors file but not a tsattn model"),
        ({"format_version": "one"}, "no valid format version"),
        ({"format_version": "-5"}, "no valid format version"),
        ({"format_version": "0"}, "no valid format version"),
        ({"format_version": "1.5"}, "no valid format version"),
        ({"format_version": "1"}, "format 1, older than this tsattn reads .2.; .*fit the model"),
        ({"class": "Popen"}, "unknown estimator 'Popen'"),
        ({"state": "{}"}, "damaged"),
        ({"state": "not json"}, "damaged"),
    ],
)
def test_damaged_metadata_is_refused_clearly(tmp_path, fitted, changes, words, resealed):
    path = tmp_path / "m.tsattn"
    fitted.save(path)
    _rewrite(path, resealed=resealed, **changes)
    if not resealed and not {"format", "format_version"} & set(changes):
        # The format and version are read first; after them the checksum refuses any edit.
        words = "is damaged: its content does not match its checksum"
    with pytest.raises(ValueError, match=words):
        tsattn.load(path)


def test_weights_of_another_shape_are_refused(tmp_path, fitted):
    path = tmp_path / "m.tsattn"
    fitted.save(path)
    tensors = load_file(path)
    name = next(k for k in tensors if k.startswith("module."))
    tensors[name] = torch.zeros(3)
    metadata = _metadata(path)
    metadata["sha256"] = tsattn.files.checksum(metadata, tensors)  # passes the checksum
    save_file(tensors, path, metadata=metadata)
    with pytest.raises(ValueError, match="damaged"):
        tsattn.load(path)


def test_a_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="no tsattn model file at"):
        tsattn.load(tmp_path / "nothing.tsattn")


# --------------------------------------------------------------------------------------------
# Nothing in a file is ever run


def _pickle_file(path, marker):
    path.write_bytes(pickle.dumps({"model": Marker(marker)}))


def _torch_save_file(path, marker):
    torch.save({"model": Marker(marker)}, path)  # a zip holding a pickle


def _model_with_pickle_appended(path, marker, fitted):
    fitted.save(path)
    with open(path, "ab") as handle:
        handle.write(pickle.dumps(Marker(marker)))


def _model_with_pickle_as_state(path, marker, fitted):
    fitted.save(path)
    _rewrite(path, state=pickle.dumps(Marker(marker), protocol=0).decode("latin-1"))


@pytest.mark.parametrize(
    "forge, words",
    [
        (_pickle_file, "not a tsattn model file"),
        (_torch_save_file, "not a tsattn model file"),
        (_model_with_pickle_appended, "not a tsattn model file"),
        (_model_with_pickle_as_state, "damaged"),
    ],
)
def test_pickle_payloads_are_refused_and_never_run(tmp_path, fitted, forge, words):
    path, marker = tmp_path / "evil.tsattn", tmp_path / "ran"
    if forge in (_pickle_file, _torch_save_file):
        forge(path, marker)
    else:
        forge(path, marker, fitted)
    if forge is _torch_save_file:
        assert zipfile.is_zipfile(path)
    with pytest.raises(ValueError, match=words):
        tsattn.load(path)
    assert not marker.exists()


def test_load_never_calls_an_unpickler(tmp_path, fitted, monkeypatch):
    path = tmp_path / "m.tsattn"
    fitted.save(path)

    def forbidden(*args, **kwargs):
        raise AssertionError("load used pickle")

    for name in ("load", "loads", "Unpickler"):
        monkeypatch.setattr(pickle, name, forbidden)
    monkeypatch.setattr(torch, "load", forbidden)
    pd.testing.assert_series_equal(tsattn.load(path).predict(), fitted.predict())


# --------------------------------------------------------------------------------------------
# Atomic writes


def _fail_midway(monkeypatch, where):
    real_fsync = os.fsync

    def half_written(fd):
        if stat.S_ISREG(os.fstat(fd).st_mode):
            os.ftruncate(fd, os.fstat(fd).st_size // 2)
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_fsync(fd)

    def no_rename(*args, **kwargs):
        raise OSError("rename failed")

    if where == "write":
        monkeypatch.setattr(os, "fsync", half_written)
    else:
        monkeypatch.setattr(os, "replace", no_rename)


@pytest.mark.parametrize("where", ["write", "rename"])
def test_a_failed_save_leaves_the_previous_file_intact(tmp_path, fitted, monkeypatch, where):
    path = tmp_path / "m.tsattn"
    fitted.save(path)
    before = path.read_bytes()
    other = Seq2SeqForecaster(**tiny(max_epochs=1, random_state=1)).fit(_series())
    with monkeypatch.context() as patch:
        _fail_midway(patch, where)
        with pytest.raises(OSError):
            other.save(path)
    assert path.read_bytes() == before
    assert list(tmp_path.iterdir()) == [path]  # the temporary file is gone
    pd.testing.assert_series_equal(tsattn.load(path).predict(), fitted.predict())


def test_a_failed_first_save_leaves_nothing(tmp_path, fitted, monkeypatch):
    _fail_midway(monkeypatch, "write")
    with pytest.raises(OSError):
        fitted.save(tmp_path / "m.tsattn")
    assert list(tmp_path.iterdir()) == []


# --------------------------------------------------------------------------------------------
# A model trained on a GPU loads on a CPU


@pytest.mark.parametrize("device", ["cuda", torch.device("cuda:1")])
def test_json_params_keep_the_device(device):
    params = _json_params(Seq2SeqForecaster(device=device).get_params())
    assert params["device"] == str(device)


def test_a_model_saved_with_device_cuda_loads_and_predicts_on_cpu(tmp_path, fitted, monkeypatch):
    # As after fit on a GPU: the device parameter says cuda; the tensors are moved to the CPU
    # on save. Simulate saving from a GPU machine, then load here, where there is none.
    path = tmp_path / "gpu.tsattn"
    gpu = Seq2SeqForecaster(**tiny(max_epochs=1)).fit(_series())
    gpu.set_params(device="cuda")
    gpu.save(path)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    loaded = tsattn.load(path)
    assert loaded.device == "cuda"  # parameters are kept as given
    assert loaded.device_ == torch.device("cpu")
    assert all(p.device.type == "cpu" for p in loaded.module_.parameters())
    pd.testing.assert_series_equal(loaded.predict(), fitted.predict())
    # Refitting asks for CUDA again and says what to do instead.
    with pytest.raises(ValueError, match="no CUDA GPU here; use device='auto' or 'cpu'"):
        loaded.fit(_series())
