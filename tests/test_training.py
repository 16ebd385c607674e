import io
import logging
import math
import re
import sys

import numpy as np
import pytest
import torch
from torch import nn

from tsattn import training
from tsattn.progress import EpochReport, watch_epochs
from tsattn.training import (
    TrainingConfig,
    TrainingDivergedError,
    adam,
    mean_loss,
    resolve_device,
    train,
)


class Regression:
    """y = 2x - 1 on n points: a tiny learnable problem."""

    def __init__(self, n=64, seed=0):
        generator = torch.Generator().manual_seed(seed)
        self.x = torch.rand(n, 1, generator=generator) * 2 - 1  # (n, 1)
        self.y = 2 * self.x - 1  # (n, 1)
        self.requests = []

    def __len__(self):
        return len(self.x)

    def batch(self, index):
        self.requests.append(np.asarray(index).copy())
        index = torch.as_tensor(index)
        return {"x": self.x[index], "y": self.y[index]}


def mse(module, batch):
    return ((module(batch["x"]) - batch["y"]) ** 2).mean()


class ScheduledValidation:
    """A validation set whose loss at epoch e is ``losses[e - 1]``, whatever the weights.

    It records the module's weights when evaluated, i.e. the weights each epoch ended with.
    """

    def __init__(self, module, losses):
        self.module, self.losses, self.snapshots = module, list(losses), []

    def __len__(self):
        return 1

    def batch(self, index):
        self.snapshots.append({k: v.clone() for k, v in self.module.state_dict().items()})
        return {"forced": torch.tensor(self.losses[len(self.snapshots) - 1])}


def mse_or_forced(module, batch):
    return batch["forced"] if "forced" in batch else mse(module, batch)


def config(**changes):
    base = {
        "max_epochs": 5,
        "batch_size": 16,
        "learning_rate": 0.05,
        "early_stopping_patience": None,
        "min_batches_per_epoch": 1,
        "verbose": False,
    }
    return TrainingConfig(**{**base, **changes})


def linear():
    torch.manual_seed(0)
    return nn.Linear(1, 1)


def assert_state_equal(module, expected):
    state = module.state_dict()
    assert state.keys() == expected.keys()
    for name in state:
        assert torch.equal(state[name], expected[name]), name


def rng():
    return np.random.default_rng(0)


# ----------------------------------------------------------------------------------------
# Learning, history, best weights, early stopping
# ----------------------------------------------------------------------------------------


def test_loss_decreases_on_a_learnable_problem():
    module, data = linear(), Regression()
    before = mean_loss(module, mse, data, 64)
    history = train(module, mse, data, Regression(n=32, seed=1), config(max_epochs=30), rng())
    assert len(history) == 30
    assert [row["epoch"] for row in history] == list(range(1, 31))
    assert set(history[0]) == {"epoch", "train_loss", "valid_loss", "seconds"}
    assert history[-1]["train_loss"] < 0.01 * history[0]["train_loss"]
    assert history[-1]["valid_loss"] < 1e-3 < before
    assert module.weight.item() == pytest.approx(2.0, abs=0.05)
    assert module.bias.item() == pytest.approx(-1.0, abs=0.05)
    assert not module.training  # left in evaluation mode


def test_without_validation_the_training_loss_decides():
    module = linear()
    history = train(module, mse, Regression(), None, config(max_epochs=3), rng())
    assert len(history) == 3
    assert all(math.isnan(row["valid_loss"]) for row in history)
    assert all(math.isfinite(row["train_loss"]) for row in history)


def test_best_weights_are_restored():
    module = linear()
    valid = ScheduledValidation(module, [5.0, 3.0, 4.0, 1.0, 2.0, 6.0])
    history = train(module, mse_or_forced, Regression(), valid, config(max_epochs=6), rng())
    assert [row["valid_loss"] for row in history] == [5.0, 3.0, 4.0, 1.0, 2.0, 6.0]
    assert len(valid.snapshots) == 6
    # The weights kept are those of epoch 4 (the lowest validation loss), not the last epoch's,
    # and the two differ: training went on moving them.
    assert_state_equal(module, valid.snapshots[3])
    assert not torch.equal(valid.snapshots[3]["weight"], valid.snapshots[5]["weight"])


def test_early_stopping_stops_after_patience_stale_epochs():
    module = linear()
    # Epoch 3 is the best; 4 ties it (a tie is not an improvement), 5 and 6 are worse.
    losses = [3.0, 2.0, 1.0, 1.0, 2.0, 1.5, 0.5, 0.1, 0.1, 0.1]
    valid = ScheduledValidation(module, losses)
    history = train(
        module,
        mse_or_forced,
        Regression(),
        valid,
        config(max_epochs=10, early_stopping_patience=3),
        rng(),
    )
    assert len(history) == 6
    assert_state_equal(module, valid.snapshots[2])


@pytest.mark.parametrize("gain, epochs", [(0.001, 6), (0.01, 10)])
def test_gains_under_half_a_percent_do_not_reset_the_patience(gain, epochs):
    module = linear()
    losses = [1.0 * (1 - gain) ** k for k in range(10)]
    valid = ScheduledValidation(module, losses)
    history = train(
        module,
        mse_or_forced,
        Regression(),
        valid,
        config(max_epochs=10, early_stopping_patience=3),
        rng(),
    )
    # 0.1% a epoch: never a reset after epoch 1, so the stop comes at 2 * patience; 1% a
    # epoch resets every time. The weights kept are the lowest loss's either way.
    assert len(history) == epochs
    assert_state_equal(module, valid.snapshots[epochs - 1])


def test_without_validation_any_training_loss_gain_resets_the_patience():
    from tsattn.stopping import Progress

    module = linear()
    progress = Progress.start(module)
    settings = config(max_epochs=10, early_stopping_patience=3)
    for epoch in range(1, 11):
        loss = 0.999**epoch
        progress.history.append({"epoch": epoch, "train_loss": loss, "valid_loss": math.nan})
        assert not progress.record(module, epoch, loss, settings)
        assert progress.stale == 0


def test_patience_none_never_stops():
    module = linear()
    valid = ScheduledValidation(module, [1.0] + [2.0] * 7)
    history = train(module, mse_or_forced, Regression(), valid, config(max_epochs=8), rng())
    assert len(history) == 8
    assert_state_equal(module, valid.snapshots[0])


# ----------------------------------------------------------------------------------------
# Divergence and interruption
# ----------------------------------------------------------------------------------------


def test_nan_loss_raises_and_keeps_the_previous_good_weights():
    module = linear()
    valid = ScheduledValidation(module, [2.0, 1.0, 1.5, 0.5, 0.5])
    calls = []
    steps_per_epoch = 4  # 64 samples / batch 16

    def explodes_in_epoch_four(module, batch):
        if "forced" in batch:
            return batch["forced"]
        calls.append(1)
        loss = mse(module, batch)
        return loss * math.nan if len(calls) > 3 * steps_per_epoch else loss

    with pytest.raises(TrainingDivergedError, match="loss became nan at epoch 4") as info:
        train(module, explodes_in_epoch_four, Regression(), valid, config(), rng())
    assert "learning rate" in str(info.value)
    assert "weights of epoch 2, the best before" in str(info.value)
    assert isinstance(info.value, RuntimeError)
    # Epoch 4's NaN steps made the weights NaN; the best epoch so far (2) is back.
    assert len(valid.snapshots) == 4
    assert torch.isnan(valid.snapshots[3]["weight"]).all()
    assert_state_equal(module, valid.snapshots[1])
    assert torch.isfinite(module(torch.zeros(1, 1))).all()


def test_infinite_validation_loss_also_raises():
    module = linear()
    valid = ScheduledValidation(module, [1.0, math.inf])
    with pytest.raises(TrainingDivergedError, match="loss became inf at epoch 2"):
        train(module, mse_or_forced, Regression(), valid, config(), rng())
    assert_state_equal(module, valid.snapshots[0])


def test_keyboard_interrupt_warns_and_leaves_a_usable_module():
    module = linear()
    valid = ScheduledValidation(module, [3.0, 1.0, 2.0, 0.1, 0.1])
    calls = []

    def interrupted_in_epoch_four(module, batch):
        if "forced" in batch:
            return batch["forced"]
        calls.append(1)
        if len(calls) == 3 * 4 + 2:  # the second step of epoch 4
            raise KeyboardInterrupt
        return mse(module, batch)

    with pytest.warns(RuntimeWarning, match="interrupted after 3 epoch"):
        history = train(module, interrupted_in_epoch_four, Regression(), valid, config(), rng())
    assert [row["epoch"] for row in history] == [1, 2, 3]
    assert_state_equal(module, valid.snapshots[1])
    assert not module.training
    with torch.no_grad():
        assert torch.isfinite(module(torch.zeros(2, 1))).all()


# ----------------------------------------------------------------------------------------
# Batches per epoch
# ----------------------------------------------------------------------------------------


def test_min_batches_per_epoch_repeats_small_data_sets():
    module, data = linear(), Regression(n=10)
    history = train(
        module, mse, data, None, config(max_epochs=2, batch_size=4, min_batches_per_epoch=5), rng()
    )
    assert len(history) == 2
    # Each epoch: 5 * 4 = 20 draws = two shuffles of the 10 samples, in 5 batches of 4.
    assert [len(index) for index in data.requests] == [4] * 10
    for epoch in range(2):
        drawn = np.concatenate(data.requests[5 * epoch : 5 * epoch + 5])
        assert np.bincount(drawn, minlength=10).tolist() == [2] * 10


def test_large_data_sets_take_one_pass_per_epoch():
    module, data = linear(), Regression(n=30)
    train(
        module, mse, data, None, config(max_epochs=1, batch_size=8, min_batches_per_epoch=2), rng()
    )
    assert [len(index) for index in data.requests] == [8, 8, 8, 6]
    assert sorted(np.concatenate(data.requests).tolist()) == list(range(30))


def test_same_rng_gives_same_training():
    results = []
    for _ in range(2):
        module = linear()
        history = train(module, mse, Regression(), None, config(max_epochs=2), rng())
        results.append((module.weight.item(), [row["train_loss"] for row in history]))
    assert results[0] == results[1]


# ----------------------------------------------------------------------------------------
# Devices
# ----------------------------------------------------------------------------------------


def test_resolve_device_auto_is_cpu_without_cuda(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert resolve_device("auto") == torch.device("cpu")
    assert resolve_device("cpu") == torch.device("cpu")
    assert resolve_device(torch.device("cpu")) == torch.device("cpu")


def test_resolve_device_auto_is_cuda_with_cuda(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert resolve_device("auto") == torch.device("cuda")


def test_resolve_device_auto_here():
    expected = "cuda" if torch.cuda.is_available() else "cpu"
    assert resolve_device("auto").type == expected


@pytest.mark.parametrize("device", ["cuda", "cuda:0", torch.device("cuda")])
def test_resolve_device_cuda_without_gpu_raises(monkeypatch, device):
    monkeypatch.setattr(training.torch.cuda, "is_available", lambda: False)
    with pytest.raises(ValueError, match="CUDA") as info:
        resolve_device(device)
    assert "cpu" in str(info.value)


@pytest.mark.parametrize("device", ["gpu", "banana", "meta", "", "Auto"])
def test_resolve_device_rejects_unknown_strings(device):
    with pytest.raises(ValueError, match="device must be one of") as info:
        resolve_device(device)
    assert "'auto'" in str(info.value) and "'cuda'" in str(info.value)


def test_resolve_device_rejects_other_types():
    with pytest.raises(TypeError, match="device must be a string"):
        resolve_device(0)


def test_capped_epochs_validate_on_a_fixed_evenly_spread_subset():
    module, valid = linear(), Regression(n=100, seed=1)
    settings = config(max_epochs=2, batch_size=4, max_batches_per_epoch=1)
    history = train(module, mse, Regression(), valid, settings, rng())
    # 4 validation batches per training batch: 16 of the 100 samples, spread from 0 to 99,
    # the same in both epochs.
    kept = [0, 7, 13, 20, 26, 33, 40, 46, 53, 59, 66, 73, 79, 86, 92, 99]
    assert [np.concatenate(valid.requests[k : k + 4]).tolist() for k in (0, 4)] == [kept] * 2
    subset = Regression(n=100, seed=1)
    subset.x, subset.y = subset.x[kept], subset.y[kept]
    best = min(row["valid_loss"] for row in history)  # the module keeps the best epoch's weights
    assert best == pytest.approx(mean_loss(module, mse, subset, 4))
    # Uncapped epochs validate on everything.
    valid = Regression(n=100, seed=1)
    train(linear(), mse, Regression(), valid, config(max_epochs=1, batch_size=4), rng())
    assert sorted(np.concatenate(valid.requests).tolist()) == list(range(100))


# --------------------------------------------------------------------------------------------
# The optimiser: Adam, fused where torch has it


def test_adam_is_fused_where_torch_offers_it():
    optimizer = adam(list(linear().parameters()), 0.01)
    assert isinstance(optimizer, torch.optim.Adam)
    assert optimizer.defaults["lr"] == 0.01
    assert optimizer.defaults["fused"] is True  # torch 2.4+ on CPU


def test_adam_falls_back_when_fused_is_refused(monkeypatch):
    real = torch.optim.Adam

    def no_fused(params, lr, fused=None):
        if fused:
            raise RuntimeError("`fused=True` requires all the params to be on a supported device")
        return real(params, lr=lr)

    monkeypatch.setattr(torch.optim, "Adam", no_fused)
    optimizer = adam(list(linear().parameters()), 0.01)
    assert not optimizer.defaults["fused"]


# ----------------------------------------------------------------------------------------
# Divergence that stays finite, and what the message says is kept
# ----------------------------------------------------------------------------------------


def _blows_up_from(epoch, scale, steps_per_epoch=4):
    """A loss that is the real one until ``epoch``, then ``scale`` times it (still finite)."""
    calls = []

    def loss(module, batch):
        if "forced" in batch:
            return batch["forced"]
        calls.append(1)
        value = mse(module, batch)
        return value * scale if len(calls) > (epoch - 1) * steps_per_epoch else value

    return loss


def test_a_finite_loss_far_above_the_untrained_models_is_divergence():
    module = linear()
    initial = {k: v.clone() for k, v in module.state_dict().items()}
    valid = ScheduledValidation(module, [1.0, 0.5, 0.4])
    with pytest.raises(TrainingDivergedError) as info:
        train(module, _blows_up_from(3, 1e6), Regression(), valid, config(), rng())
    message = str(info.value)
    assert "training loss rose to" in message and "at epoch 3" in message
    assert "weights of epoch 2, the best before" in message
    assert_state_equal(module, valid.snapshots[1])
    assert not torch.equal(module.weight, initial["weight"])


def test_divergence_in_the_first_epoch_says_nothing_was_learnt():
    module = linear()
    initial = {k: v.clone() for k, v in module.state_dict().items()}
    calls = []

    def nan_from_the_second_step(module, batch):
        calls.append(1)
        return mse(module, batch) * (math.nan if len(calls) > 1 else 1.0)

    with pytest.raises(TrainingDivergedError) as info:
        train(module, nan_from_the_second_step, Regression(), None, config(), rng())
    message = str(info.value)
    assert "epoch 1" in message and "initial, untrained weights" in message
    assert "best" not in message
    assert_state_equal(module, initial)


def test_divergence_factor_none_only_counts_non_finite_losses():
    module = linear()
    history = train(
        module, _blows_up_from(2, 1e6), Regression(), None, config(divergence_factor=None), rng()
    )
    assert len(history) == 5
    assert history[1]["train_loss"] > 1e4 * history[0]["train_loss"]


def test_a_loss_ten_times_the_first_is_not_divergence():
    # Far below the factor: a rough epoch, not a run gone off to infinity.
    module = linear()
    history = train(module, _blows_up_from(2, 10.0), Regression(), None, config(), rng())
    assert len(history) == 5


# ----------------------------------------------------------------------------------------
# Epoch callbacks: on_epoch_end and watch_epochs
# ----------------------------------------------------------------------------------------


def test_on_epoch_end_reports_every_epoch_trained():
    reports = []
    valid = Regression(n=20, seed=1)
    history = train(
        linear(), mse, Regression(), valid, config(max_epochs=3), rng(), on_epoch_end=reports.append
    )
    assert [r.epoch for r in reports] == [1, 2, 3]
    assert all(isinstance(r, EpochReport) for r in reports)
    for report, row in zip(reports, history, strict=True):
        assert (report.train_loss, report.valid_loss) == (row["train_loss"], row["valid_loss"])
        assert report.seconds == row["seconds"]
        assert report.train_samples == 64 and report.valid_samples == 20
        assert 0 <= report.train_seconds <= report.seconds
        assert 0 <= report.valid_seconds <= report.seconds


def test_watch_epochs_sees_fits_inside_the_block_only():
    seen = []
    with watch_epochs(lambda report: seen.append(("outer", report.epoch))):
        with watch_epochs(lambda report: seen.append(("inner", report.epoch))):
            train(linear(), mse, Regression(), None, config(max_epochs=2), rng())
        train(linear(), mse, Regression(), None, config(max_epochs=1), rng())
    train(linear(), mse, Regression(), None, config(max_epochs=1), rng())
    assert seen == [("outer", 1), ("inner", 1), ("outer", 2), ("inner", 2), ("outer", 1)]


def test_watch_epochs_refuses_what_it_cannot_call():
    with pytest.raises(TypeError, match="callback must be callable"):
        with watch_epochs("print"):
            pass


def test_a_callback_raising_keyboardinterrupt_stops_like_ctrl_c():
    def stop_after_two(report):
        if report.epoch == 2:
            raise KeyboardInterrupt

    with pytest.warns(RuntimeWarning, match="interrupted after 2 epoch"):
        history = train(
            linear(), mse, Regression(), None, config(), rng(), on_epoch_end=stop_after_two
        )
    assert len(history) == 2


# ----------------------------------------------------------------------------------------
# What a fit shows: bars on a terminal, one line per epoch elsewhere, TQDM_DISABLE
# ----------------------------------------------------------------------------------------


class Terminal(io.StringIO):
    """Standard error as a terminal: progress bars render on it."""

    def isatty(self):
        return True


def _shown(monkeypatch, stream, **changes):
    monkeypatch.setattr(sys, "stderr", stream)
    train(linear(), mse, Regression(), Regression(n=20, seed=1), config(**changes), rng())
    return stream.getvalue()


def test_off_a_terminal_every_epoch_is_one_plain_line(monkeypatch):
    monkeypatch.delenv("TQDM_DISABLE", raising=False)
    shown = _shown(monkeypatch, io.StringIO(), max_epochs=3, verbose=True)
    assert "\r" not in shown
    lines = shown.splitlines()
    assert len(lines) == 3
    for epoch, line in enumerate(lines, start=1):
        assert re.fullmatch(
            rf"epoch {epoch}/3: train loss \S+, validation loss \S+, \d+\.\d s", line
        ), line


def test_on_a_terminal_a_progress_bar_updates_in_place(monkeypatch):
    monkeypatch.delenv("TQDM_DISABLE", raising=False)
    shown = _shown(monkeypatch, Terminal(), max_epochs=3, verbose=True)
    assert "\r" in shown and "3/3" in shown
    assert "epoch/s" in shown or "s/epoch" in shown
    assert "validation loss" not in shown  # the bar, not the plain lines


@pytest.mark.parametrize("stream", [io.StringIO, Terminal])
@pytest.mark.parametrize("value", ["1", "true", "yes"])
def test_tqdm_disable_silences_bars_and_lines(monkeypatch, stream, value):
    monkeypatch.setenv("TQDM_DISABLE", value)
    assert _shown(monkeypatch, stream(), max_epochs=2, verbose=True) == ""


@pytest.mark.parametrize("value", ["", "0", "false"])
def test_tqdm_disable_unset_or_false_keeps_the_progress(monkeypatch, value):
    monkeypatch.setenv("TQDM_DISABLE", value)
    assert _shown(monkeypatch, io.StringIO(), max_epochs=2, verbose=True).count("\n") == 2


@pytest.mark.parametrize("stream", [io.StringIO, Terminal])
def test_verbose_false_shows_nothing(monkeypatch, stream):
    monkeypatch.delenv("TQDM_DISABLE", raising=False)
    assert _shown(monkeypatch, stream(), max_epochs=2, verbose=False) == ""


# ----------------------------------------------------------------------------------------
# Logging under the "tsattn" logger
# ----------------------------------------------------------------------------------------


def test_the_package_logger_has_a_null_handler_only():
    handlers = logging.getLogger("tsattn").handlers
    assert any(isinstance(handler, logging.NullHandler) for handler in handlers)
    assert training.logger.name == "tsattn.training"


def test_every_epoch_the_early_stop_and_the_kept_epoch_are_logged_at_info(caplog):
    module = linear()
    losses = [3.0, 2.0, 1.0, 1.0, 2.0, 1.5, 0.5, 0.1, 0.1, 0.1]
    valid = ScheduledValidation(module, losses)
    with caplog.at_level(logging.INFO, logger="tsattn"):
        train(
            module, mse_or_forced, Regression(), valid,
            config(max_epochs=10, early_stopping_patience=3), rng(),
        )  # fmt: skip
    messages = [r.getMessage() for r in caplog.records if r.name == "tsattn.training"]
    assert all(r.levelno == logging.INFO for r in caplog.records)
    epochs = [m for m in messages if m.startswith("epoch ")]
    assert [m.split(":")[0] for m in epochs] == [f"epoch {e}/10" for e in range(1, 7)]
    assert "validation loss 3, " in epochs[0]
    assert "early stop after epoch 6: no better validation loss for 3 epochs" in messages
    assert messages[-1] == "keeping the weights of epoch 3"


def test_logging_does_not_depend_on_verbose_and_prints_nothing_itself(monkeypatch, caplog):
    monkeypatch.setattr(sys, "stderr", io.StringIO())
    with caplog.at_level(logging.INFO, logger="tsattn"):
        train(linear(), mse, Regression(), None, config(max_epochs=2), rng())
    assert sys.stderr.getvalue() == ""
    assert [r.getMessage()[:9] for r in caplog.records][:2] == ["epoch 1/2", "epoch 2/2"]
    assert "validation" not in caplog.records[0].getMessage()  # none to report


def test_an_interrupt_is_logged_as_a_warning_and_still_warns(caplog):
    def stop_after_two(report):
        if report.epoch == 2:
            raise KeyboardInterrupt

    with caplog.at_level(logging.WARNING, logger="tsattn"):
        with pytest.warns(RuntimeWarning, match="interrupted after 2 epoch"):
            train(linear(), mse, Regression(), None, config(), rng(), on_epoch_end=stop_after_two)
    assert [r.levelno for r in caplog.records] == [logging.WARNING]
    assert "interrupted after 2 epoch(s)" in caplog.records[0].getMessage()


def test_divergence_is_logged_before_it_is_raised(caplog):
    def nan_loss(module, batch):
        return mse(module, batch) * float("nan")

    with caplog.at_level(logging.INFO, logger="tsattn"):
        with pytest.raises(TrainingDivergedError):
            train(linear(), nan_loss, Regression(), None, config(), rng())
    assert any("training diverged" in r.getMessage() for r in caplog.records)


# ----------------------------------------------------------------------------------------
# Learning-rate schedules
# ----------------------------------------------------------------------------------------


def _rates(**changes):
    reports = []
    module = linear()
    losses = changes.pop("losses", None)
    valid = Regression(n=20, seed=1) if losses is None else ScheduledValidation(module, losses)
    train(module, mse_or_forced, Regression(), valid, config(**changes), rng(),
          on_epoch_end=reports.append)  # fmt: skip
    return [report.learning_rate for report in reports], module


def test_without_a_schedule_the_learning_rate_stays_and_results_are_unchanged():
    rates, module = _rates(max_epochs=4)
    assert rates == [0.05] * 4
    assert TrainingConfig().lr_schedule is None
    # The same weights as a fit that never heard of schedules: same optimiser steps.
    other = linear()
    optimizer = adam(list(other.parameters()), 0.05)
    generator, data = rng(), Regression()
    for _ in range(4):
        for index in np.split(generator.permutation(64), 4):
            loss = mse(other, data.batch(index))
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            nn.utils.clip_grad_norm_(other.parameters(), 1.0)
            optimizer.step()
    # The best epoch is the last here (the loss keeps falling), so the kept weights compare.
    assert_state_equal(module, other.state_dict())


def test_cosine_anneals_from_the_learning_rate_over_max_epochs():
    rates, _ = _rates(max_epochs=6, lr_schedule="cosine")
    expected = [0.05 * (1 + math.cos(math.pi * (e - 1) / 6)) / 2 for e in range(1, 7)]
    assert rates == pytest.approx(expected, rel=1e-12)
    assert rates[0] == 0.05 and rates[-1] < 0.01


def test_plateau_halves_after_half_the_early_stopping_patience():
    # patience 4 -> halved after 2 epochs without a better loss; the count restarts after.
    losses = [5.0, 4.0, 4.0, 4.0, 4.0, 4.0, 3.0, 3.0, 3.0, 2.0]
    rates, _ = _rates(
        max_epochs=10, losses=losses, lr_schedule="plateau", early_stopping_patience=4
    )
    lr = 0.05
    assert rates == [lr, lr, lr, lr, lr / 2, lr / 2, lr / 4, lr / 4, lr / 4, lr / 8]


def test_plateau_without_early_stopping_waits_five_epochs_and_has_a_floor():
    from tsattn.schedules import plateau_patience

    assert [plateau_patience(p) for p in (None, 1, 2, 3, 10)] == [5, 1, 1, 1, 5]
    rates, _ = _rates(max_epochs=80, losses=[1.0] * 80, lr_schedule="plateau")
    assert rates[:7] == [0.05] * 6 + [0.025]
    assert min(rates) == pytest.approx(0.05 * 1e-3)


def test_a_schedule_name_is_checked_when_the_config_is_made():
    with pytest.raises(ValueError, match="lr_schedule must be one of 'cosine', 'plateau' or None"):
        TrainingConfig(lr_schedule="step")


@pytest.mark.parametrize("schedule", ["cosine", "plateau"])
def test_a_resumed_scheduled_fit_ends_as_an_uninterrupted_one(tmp_path, schedule):
    losses = [5.0, 4.0, 4.0, 4.0, 4.0, 4.0, 3.0, 3.0, 3.0, 2.0]
    changes = dict(max_epochs=10, lr_schedule=schedule, early_stopping_patience=4)

    def fit(directory, losses, stop_at=None):
        module, reports = linear(), []

        def report(r):
            reports.append(r)
            if r.epoch == stop_at:
                raise KeyboardInterrupt

        valid = ScheduledValidation(module, losses)
        history = train(module, mse_or_forced, Regression(), valid, config(**changes), rng(),
                        directory, on_epoch_end=report)  # fmt: skip
        return module, history, [r.learning_rate for r in reports]

    whole, whole_history, whole_rates = fit(None, losses)
    with pytest.warns(RuntimeWarning, match="interrupted after 5 epoch"):
        _, _, first_rates = fit(tmp_path, losses, stop_at=5)
    # The second run starts at epoch 6: its validation losses from there.
    resumed, history, rest_rates = fit(tmp_path, losses[5:])
    assert first_rates + rest_rates == whole_rates
    assert len(set(whole_rates)) > 2  # the rate moved before and after the interruption
    assert_state_equal(resumed, whole.state_dict())
    key = ["epoch", "train_loss", "valid_loss"]
    assert [[row[k] for k in key] for row in history] == [
        [row[k] for k in key] for row in whole_history
    ]


def test_a_checkpoint_of_another_schedule_is_refused(tmp_path):
    train(linear(), mse, Regression(), None, config(max_epochs=2, lr_schedule="cosine"), rng(),
          tmp_path)  # fmt: skip
    with pytest.raises(ValueError, match="cannot be resumed"):
        train(linear(), mse, Regression(), None, config(max_epochs=2), rng(), tmp_path)


def test_a_constant_rate_leaves_the_checkpoint_fingerprint_as_it_was():
    from tsattn.checkpoint import full_fingerprint

    fingerprint = full_fingerprint(linear(), Regression(), None, config(), None)
    assert "lr_schedule" not in fingerprint["training"]
    scheduled = full_fingerprint(linear(), Regression(), None, config(lr_schedule="plateau"), None)
    assert scheduled["training"]["lr_schedule"] == "plateau"
