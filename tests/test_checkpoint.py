"""Training faults through the forecaster, and checkpoints.

A NaN loss stops with a clear error and the last good weights, gradients are clipped by
default, Ctrl-C keeps a usable model, and a fit killed at any moment resumes from its checkpoint
to the model an uninterrupted fit gives.
"""

import contextlib
import errno
import json
import os
import signal
import stat
import subprocess
import sys
import textwrap
import time

import numpy as np
import pandas as pd
import pytest
import torch
from conftest import tiny
from safetensors import safe_open
from safetensors.torch import load_file, save_file

import tsattn.training as training
from tsattn import Seq2SeqForecaster
from tsattn.forecast import rollout

# Dropout between two layers draws from torch's RNG, so a resume must restore it too.
PARAMS = tiny(max_epochs=6, num_layers=2, dropout=0.3, early_stopping_patience=None)
CHECKPOINT = "checkpoint.safetensors"


def _series():
    t = np.arange(60)
    index = pd.date_range("2015-01-01", periods=60, freq="MS")
    return pd.Series(100 + 0.5 * t + 10 * np.sin(2 * np.pi * t / 12), index=index)


@pytest.fixture(scope="module")
def uninterrupted():
    """Forecast and history of a fit without checkpoints."""
    f = Seq2SeqForecaster(**PARAMS).fit(_series())
    return f.predict(), f.history_


def _progress(directory):
    with safe_open(str(directory / CHECKPOINT), framework="pt") as handle:
        return json.loads(handle.metadata()["progress"])


@contextlib.contextmanager
def _count_epochs():
    """Count the epochs actually trained (not restored)."""
    trained = []
    with training.watch_epochs(lambda report: trained.append(report.epoch)):
        yield trained


def _assert_same_fit(f, uninterrupted):
    forecast, history = uninterrupted
    pd.testing.assert_series_equal(f.predict(), forecast)
    cols = ["epoch", "train_loss", "valid_loss"]
    pd.testing.assert_frame_equal(f.history_[cols], history[cols])


# --------------------------------------------------------------------------------------------
# Training faults


def _nan_after(monkeypatch, n_batches):
    """Make the loss NaN from the given batch on (as exploding weights would)."""
    real = rollout.make_loss
    calls = []

    def make_loss(*args, **kwargs):
        loss = real(*args, **kwargs)

        def poisoned(module, batch):
            calls.append(1)
            value = loss(module, batch)
            return value * float("nan") if len(calls) >= n_batches else value

        return poisoned

    monkeypatch.setattr(rollout, "make_loss", make_loss)


def _capture_module(monkeypatch):
    """Keep the module the forecaster hands to the training loop."""
    import tsattn.estimator as estimator

    seen = []

    def train(module, *args, **kwargs):
        seen.append(module)
        return training.train(module, *args, **kwargs)

    monkeypatch.setattr(estimator, "train", train)
    return seen


def test_a_nan_loss_stops_with_the_cause_and_the_last_good_weights(monkeypatch):
    # No baseline: a fall-back to it would zero the head of the two-epoch model compared with.
    params = {**PARAMS, "baseline": None}
    two_epochs = Seq2SeqForecaster(**{**params, "max_epochs": 2}).fit(_series())
    f = Seq2SeqForecaster(**params).fit(_series())  # a model fitted before
    forecast = f.predict()
    seen = _capture_module(monkeypatch)
    _nan_after(monkeypatch, 50)  # epoch 3 (an epoch is 20 batches, and evaluation one)
    with pytest.raises(training.TrainingDivergedError) as error:
        f.fit(_series())
    message = str(error.value)
    assert "the loss became nan at epoch 3" in message
    assert "learning rate too high (now 0.001)" in message and "extreme values" in message
    # The loop put back the weights of the best of the two good epochs ...
    for name, tensor in seen[0].state_dict().items():
        assert tensor.equal(two_epochs.module_.state_dict()[name]), name
    # ... and the estimator still holds the model of its last successful fit.
    pd.testing.assert_series_equal(f.predict(), forecast)


def test_a_failed_refit_on_other_data_leaves_the_fitted_model_whole(monkeypatch):
    f = Seq2SeqForecaster(**PARAMS).fit(_series())
    forecast = f.predict()
    other = _series().iloc[:50] * 3 + np.cos(np.arange(50))
    _nan_after(monkeypatch, 50)
    with pytest.raises(training.TrainingDivergedError):
        f.fit(other)
    pd.testing.assert_series_equal(f.predict(), forecast)


def test_gradients_are_clipped_to_norm_one_by_default(monkeypatch):
    import torch.nn.utils

    real = torch.nn.utils.clip_grad_norm_
    calls = []

    def spy(parameters, max_norm, *args, **kwargs):
        parameters = list(parameters)
        before = real(parameters, max_norm, *args, **kwargs)
        after = torch.linalg.vector_norm(torch.stack([p.grad.norm() for p in parameters]))
        calls.append((max_norm, float(before), float(after)))
        return before

    monkeypatch.setattr(torch.nn.utils, "clip_grad_norm_", spy)
    # Unscaled values in the hundreds give gradients far above 1.
    Seq2SeqForecaster(**tiny(max_epochs=1, scaler="none")).fit(_series())
    assert len(calls) == 20  # every optimiser step of the epoch
    assert {max_norm for max_norm, _, _ in calls} == {1.0}
    assert max(before for _, before, _ in calls) > 10
    assert all(after <= 1.0 + 1e-5 for _, _, after in calls)


def test_ctrl_c_keeps_the_best_weights_and_a_usable_model(monkeypatch):
    two_epochs = Seq2SeqForecaster(**{**PARAMS, "max_epochs": 2}).fit(_series())
    _interrupt_after(monkeypatch, 50)
    with pytest.warns(RuntimeWarning, match="interrupted after 2 epoch.*keeping the best weights"):
        f = Seq2SeqForecaster(**PARAMS).fit(_series())
    assert list(f.history_.epoch) == [1, 2]
    pd.testing.assert_series_equal(f.predict(), two_epochs.predict())


# --------------------------------------------------------------------------------------------
# Checkpoints


SCRIPT = """
import sys, time
import numpy as np, pandas as pd, torch
torch.set_num_threads(1)
from tsattn import Seq2SeqForecaster
from tsattn.training import watch_epochs

t = np.arange(60)
index = pd.date_range("2015-01-01", periods=60, freq="MS")
y = pd.Series(100 + 0.5 * t + 10 * np.sin(2 * np.pi * t / 12), index=index)
# Time for the parent to kill us between checkpoints.
with watch_epochs(lambda report: time.sleep(0.5)):
    Seq2SeqForecaster(**{params!r}).fit(y, checkpoint_dir=sys.argv[1])
"""


@pytest.mark.slow
def test_fit_killed_with_sigkill_resumes_to_the_uninterrupted_model(
    tmp_path, monkeypatch, uninterrupted
):
    script = tmp_path / "fit.py"
    script.write_text(textwrap.dedent(SCRIPT.format(params=PARAMS)))
    directory = tmp_path / "checkpoints"
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    process = subprocess.Popen(
        [sys.executable, str(script), str(directory)], env=env, stderr=subprocess.PIPE
    )
    try:
        deadline = time.monotonic() + 60
        while not (directory / CHECKPOINT).exists():
            assert process.poll() is None, process.stderr.read().decode()
            assert time.monotonic() < deadline, "no checkpoint within 60 s"
            time.sleep(0.05)
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
        process.stderr.close()
    assert process.returncode == -signal.SIGKILL
    done = _progress(directory)["epoch"]
    assert 1 <= done < PARAMS["max_epochs"]
    assert [p.name for p in directory.iterdir()] == [CHECKPOINT]  # no temporary file

    with _count_epochs() as trained:
        f = Seq2SeqForecaster(**PARAMS).fit(_series(), checkpoint_dir=directory)
    assert len(trained) == PARAMS["max_epochs"] - done  # resumed, not restarted
    _assert_same_fit(f, uninterrupted)


def _interrupt_after(monkeypatch, n_batches):
    """Make the loss raise KeyboardInterrupt (Ctrl-C) at the given batch."""
    real = rollout.make_loss
    calls = []

    def make_loss(*args, **kwargs):
        loss = real(*args, **kwargs)

        def interrupted(module, batch):
            calls.append(1)
            if len(calls) == n_batches:
                raise KeyboardInterrupt
            return loss(module, batch)

        return interrupted

    monkeypatch.setattr(rollout, "make_loss", make_loss)


def test_ctrl_c_then_resume_gives_the_uninterrupted_model(tmp_path, monkeypatch, uninterrupted):
    # An epoch is at least 20 batches and evaluation adds one: batch 50 falls in epoch 3.
    with monkeypatch.context() as patch:
        _interrupt_after(patch, 50)
        with pytest.warns(RuntimeWarning, match="interrupted after 2 epoch"):
            Seq2SeqForecaster(**PARAMS).fit(_series(), checkpoint_dir=tmp_path)
    assert _progress(tmp_path)["epoch"] == 2
    with _count_epochs() as trained:
        f = Seq2SeqForecaster(**PARAMS).fit(_series(), checkpoint_dir=tmp_path)
    assert trained == list(range(3, PARAMS["max_epochs"] + 1))
    _assert_same_fit(f, uninterrupted)


def test_a_finished_checkpoint_gives_the_model_without_training(
    tmp_path, monkeypatch, uninterrupted
):
    Seq2SeqForecaster(**PARAMS).fit(_series(), checkpoint_dir=tmp_path)
    progress = _progress(tmp_path)
    assert progress["finished"] and progress["epoch"] == PARAMS["max_epochs"]
    # verbose changes nothing that is learnt, so it may differ
    with _count_epochs() as trained:
        f = Seq2SeqForecaster(**{**PARAMS, "verbose": True}).fit(_series(), checkpoint_dir=tmp_path)
    assert trained == []
    _assert_same_fit(f, uninterrupted)


def test_early_stopping_is_resumed_too(tmp_path):
    params = {**PARAMS, "early_stopping_patience": 1, "max_epochs": 30, "learning_rate": 0.05}
    expected = Seq2SeqForecaster(**params).fit(_series())
    assert len(expected.history_) < 30  # it did stop early
    f = Seq2SeqForecaster(**params).fit(_series(), checkpoint_dir=tmp_path)
    g = Seq2SeqForecaster(**params).fit(_series(), checkpoint_dir=tmp_path)
    assert _progress(tmp_path)["stale"] == 1
    for model in (f, g):
        pd.testing.assert_series_equal(model.predict(), expected.predict())
        assert len(model.history_) == len(expected.history_)


def test_the_checkpoint_is_safetensors_and_json(tmp_path):
    f = Seq2SeqForecaster(**tiny(max_epochs=2)).fit(_series(), checkpoint_dir=tmp_path)
    path = tmp_path / CHECKPOINT
    with safe_open(str(path), framework="pt") as handle:
        metadata = handle.metadata()
    assert metadata["format"] == "tsattn-checkpoint" and metadata["format_version"] == "2"
    progress = json.loads(metadata["progress"])
    assert [row["epoch"] for row in progress["history"]] == [1, 2]
    assert progress["numpy_rng"]["bit_generator"] == "PCG64"
    fingerprint = json.loads(metadata["fingerprint"])
    assert fingerprint["params"]["learning_rate"] == f.learning_rate
    assert "verbose" not in fingerprint["params"]
    assert fingerprint["data"]["shapes"] == [[60], [2]]
    tensors = load_file(path)
    n_weights = len(f.module_.state_dict())
    assert sum(k.startswith("module.") for k in tensors) == n_weights
    assert sum(k.startswith("best.") for k in tensors) == n_weights
    # Adam: step, exp_avg and exp_avg_sq for every parameter
    n_params = len(list(f.module_.parameters()))
    assert sum(k.startswith("optimizer.") for k in tensors) == 3 * n_params
    assert tensors["rng.torch"].dtype == torch.uint8


@pytest.mark.parametrize(
    "change, words",
    [
        ({"learning_rate": 0.01}, "learning_rate=0.001 there, 0.01 here"),
        ({"hidden_size": 4}, "hidden_size=8 there, 4 here"),
        ({"max_epochs": 3}, "max_epochs=2 there, 3 here"),
    ],
)
def test_other_parameters_are_refused(tmp_path, change, words):
    Seq2SeqForecaster(**tiny(max_epochs=2)).fit(_series(), checkpoint_dir=tmp_path)
    with pytest.raises(ValueError, match=f"other parameters: {words}.*another"):
        Seq2SeqForecaster(**tiny(**{"max_epochs": 2, **change})).fit(
            _series(), checkpoint_dir=tmp_path
        )


def test_other_data_is_refused(tmp_path):
    Seq2SeqForecaster(**tiny(max_epochs=2)).fit(_series(), checkpoint_dir=tmp_path)
    with pytest.raises(ValueError, match="other data .same shapes, other values"):
        Seq2SeqForecaster(**tiny(max_epochs=2)).fit(_series() * 2, checkpoint_dir=tmp_path)
    with pytest.raises(ValueError, match=r"shapes \[\[60\], \[2\]\] there, \[\[50\], \[2\]\]"):
        Seq2SeqForecaster(**tiny(max_epochs=2)).fit(_series()[:50], checkpoint_dir=tmp_path)


def test_a_checkpoint_of_a_newer_format_is_refused(tmp_path):
    Seq2SeqForecaster(**tiny(max_epochs=1)).fit(_series(), checkpoint_dir=tmp_path)
    path = tmp_path / CHECKPOINT
    with safe_open(str(path), framework="pt") as handle:
        metadata = handle.metadata()
    save_file(load_file(path), path, metadata={**metadata, "format_version": "3"})
    with pytest.raises(ValueError, match="format 3, newer than this tsattn reads"):
        Seq2SeqForecaster(**tiny(max_epochs=1)).fit(_series(), checkpoint_dir=tmp_path)


@pytest.mark.parametrize("content", [b"", b"not a checkpoint", b"\x80\x04K\x01."])
def test_an_unreadable_checkpoint_is_refused(tmp_path, content):
    (tmp_path / CHECKPOINT).write_bytes(content)
    with pytest.raises(ValueError, match="not a tsattn checkpoint.*delete it"):
        Seq2SeqForecaster(**tiny(max_epochs=1)).fit(_series(), checkpoint_dir=tmp_path)


def test_checkpoint_dir_must_be_a_directory_path(tmp_path):
    afile = tmp_path / "afile"
    afile.write_text("x")
    with pytest.raises(ValueError, match="is a file; give a directory"):
        Seq2SeqForecaster(**tiny(max_epochs=1)).fit(_series(), checkpoint_dir=afile)
    with pytest.raises(TypeError, match="checkpoint_dir must be a path"):
        Seq2SeqForecaster(**tiny(max_epochs=1)).fit(_series(), checkpoint_dir=3)


def test_a_failed_save_keeps_the_previous_checkpoint(tmp_path, monkeypatch, uninterrupted):
    real = os.fsync
    files = []

    def full_on_second_file(fd):
        if stat.S_ISREG(os.fstat(fd).st_mode):
            files.append(fd)
            if len(files) == 2:  # the disk fills up halfway through epoch 2's checkpoint
                os.ftruncate(fd, 100)
                raise OSError(errno.ENOSPC, "No space left on device")
        return real(fd)

    with monkeypatch.context() as patch:
        patch.setattr(os, "fsync", full_on_second_file)
        with pytest.raises(OSError, match="No space left") as error:
            Seq2SeqForecaster(**PARAMS).fit(_series(), checkpoint_dir=tmp_path)
    assert str(tmp_path / CHECKPOINT) in str(error.value)  # the file, not a temporary name
    assert ".tmp" not in str(error.value)
    assert [p.name for p in tmp_path.iterdir()] == [CHECKPOINT]
    assert _progress(tmp_path)["epoch"] == 1
    f = Seq2SeqForecaster(**PARAMS).fit(_series(), checkpoint_dir=tmp_path)
    _assert_same_fit(f, uninterrupted)


def test_a_damaged_checkpoint_is_refused(tmp_path):
    Seq2SeqForecaster(**tiny(max_epochs=1)).fit(_series(), checkpoint_dir=tmp_path)
    path = tmp_path / CHECKPOINT
    data = bytearray(path.read_bytes())
    data[-3] ^= 0xFF  # a bit flip in the last tensor
    path.write_bytes(bytes(data))
    with pytest.raises(ValueError, match="is damaged.*checksum.*delete it"):
        Seq2SeqForecaster(**tiny(max_epochs=1)).fit(_series(), checkpoint_dir=tmp_path)


def test_a_divergence_after_a_resume_names_the_best_epoch_before(tmp_path, monkeypatch):
    with monkeypatch.context() as patch:
        _interrupt_after(patch, 50)
        with pytest.warns(RuntimeWarning, match="interrupted after 2 epoch"):
            Seq2SeqForecaster(**PARAMS).fit(_series(), checkpoint_dir=tmp_path)
    # The resumed fit's first epoch (3) blows up: the loss of the untrained model, read in
    # epoch 1 and kept in the checkpoint, is the yardstick.
    _scale_loss_from(monkeypatch, 1, 1e9)
    with pytest.raises(training.TrainingDivergedError, match="at epoch 3.*weights of epoch [12]"):
        Seq2SeqForecaster(**PARAMS).fit(_series(), checkpoint_dir=tmp_path)


def _scale_loss_from(monkeypatch, n_batches, scale):
    """Multiply the loss by ``scale`` from the given batch on (finite, but far off)."""
    real = rollout.make_loss
    calls = []

    def make_loss(*args, **kwargs):
        loss = real(*args, **kwargs)

        def scaled(module, batch):
            calls.append(1)
            value = loss(module, batch)
            return value * scale if len(calls) >= n_batches else value

        return scaled

    monkeypatch.setattr(rollout, "make_loss", make_loss)


class _Pairs:
    """A minimal BatchSource: x -> y pairs, held as tensors."""

    def __init__(self, x):
        self.x = torch.as_tensor(x, dtype=torch.float32)[:, None]  # (n, 1)

    def __len__(self):
        return len(self.x)

    def batch(self, index):
        return {"x": self.x[index], "y": 2 * self.x[index]}


def _train_line(data, directory, fingerprint):
    torch.manual_seed(0)
    module = torch.nn.Linear(1, 1)

    def loss(m, batch):
        return ((m(batch["x"]) - batch["y"]) ** 2).mean()

    config = training.TrainingConfig(max_epochs=2, batch_size=4, verbose=False)
    rng = np.random.default_rng(0)
    return training.train(module, loss, data, None, config, rng, directory, fingerprint)


def test_the_loop_fingerprints_what_its_batch_sources_hold(tmp_path):
    # Same caller fingerprint, data differing in one value (a covariate, say, that the
    # estimator's own fingerprint forgot): the loop's hash of its batch sources refuses it.
    same = {"params": {"a": 1}}
    _train_line(_Pairs(np.arange(8.0)), tmp_path, same)
    assert len(_train_line(_Pairs(np.arange(8.0)), tmp_path, same)) == 2
    with pytest.raises(ValueError, match="other data .same shapes, other values"):
        _train_line(_Pairs(np.r_[np.arange(7.0), 9.0]), tmp_path, same)
