"""Epoch loggers for TensorBoard and MLflow, tested with stand-ins for both packages.

The stand-ins record what the loggers call, so these tests need neither package; one test
writes real TensorBoard event files where the ``tensorboard`` package is installed.
"""

import math
import re
import sys
import types

import numpy as np
import pytest
import torch
from conftest import tiny
from torch import nn

from tsattn import Seq2SeqForecaster
from tsattn.callbacks import MLflowLogger, TensorBoardLogger, epoch_metrics
from tsattn.progress import EpochReport, watch_epochs
from tsattn.training import TrainingConfig, train


class Regression:
    """y = 2x - 1: a tiny learnable problem."""

    def __init__(self, n=32, seed=0):
        generator = torch.Generator().manual_seed(seed)
        self.x = torch.rand(n, 1, generator=generator)
        self.y = 2 * self.x - 1

    def __len__(self):
        return len(self.x)

    def batch(self, index):
        index = torch.as_tensor(index)
        return {"x": self.x[index], "y": self.y[index]}


def mse(module, batch):
    return ((module(batch["x"]) - batch["y"]) ** 2).mean()


def fit(epochs=3, valid=True, **changes):
    torch.manual_seed(0)
    config = TrainingConfig(
        max_epochs=epochs, batch_size=8, min_batches_per_epoch=1, verbose=False, **changes
    )
    validation = Regression(n=16, seed=1) if valid else None
    return train(nn.Linear(1, 1), mse, Regression(), validation, config, np.random.default_rng(0))


class FakeSummaryWriter:
    """Records what torch.utils.tensorboard.SummaryWriter would write."""

    made = []

    def __init__(self, log_dir=None):
        self.log_dir, self.scalars, self.flushes, self.closed = log_dir, [], 0, False
        FakeSummaryWriter.made.append(self)

    def add_scalar(self, tag, value, global_step=None):
        self.scalars.append((tag, value, global_step))

    def flush(self):
        self.flushes += 1

    def close(self):
        self.closed = True


@pytest.fixture
def fake_tensorboard(monkeypatch):
    module = types.ModuleType("torch.utils.tensorboard")
    module.SummaryWriter = FakeSummaryWriter
    monkeypatch.setitem(sys.modules, "torch.utils.tensorboard", module)
    FakeSummaryWriter.made = []
    return module


@pytest.fixture
def fake_mlflow(monkeypatch):
    """An ``mlflow`` module whose calls land in ``module.logged``."""
    module = types.ModuleType("mlflow")
    module.logged = []

    def log_metrics(metrics, step=None):
        module.logged.extend((None, key, value, step) for key, value in metrics.items())

    class MlflowClient:
        def log_metric(self, run_id, key, value, step=None):
            module.logged.append((run_id, key, value, step))

    module.log_metrics, module.MlflowClient = log_metrics, MlflowClient
    monkeypatch.setitem(sys.modules, "mlflow", module)
    return module


def test_epoch_metrics_leave_out_a_missing_validation_loss():
    report = EpochReport(2, 0.5, math.nan, 1.5, 1.0, 0.5, 64, 0, learning_rate=0.01)
    assert epoch_metrics(report) == {
        "train_loss": 0.5,
        "learning_rate": 0.01,
        "epoch_seconds": 1.5,
    }


def test_tensorboard_logger_writes_every_epoch_as_scalars(fake_tensorboard, tmp_path):
    with TensorBoardLogger(tmp_path / "run") as logger, watch_epochs(logger):
        history = fit(epochs=3)
    (writer,) = FakeSummaryWriter.made
    assert writer.log_dir == str(tmp_path / "run")
    for row in history:
        logged = {tag: value for tag, value, step in writer.scalars if step == row["epoch"]}
        assert logged == {
            "train_loss": row["train_loss"],
            "valid_loss": row["valid_loss"],
            "learning_rate": 1e-3,
            "epoch_seconds": row["seconds"],
        }
    assert writer.flushes == 3  # visible while the fit runs
    assert writer.closed


def test_a_second_fit_gets_its_own_names_and_a_prefix_goes_first(fake_tensorboard):
    logger = TensorBoardLogger(prefix="store_1/")
    with watch_epochs(logger):
        fit(epochs=2, valid=False)
        fit(epochs=1, valid=False, lr_schedule="cosine")
    tags = [(tag, step) for tag, _, step in FakeSummaryWriter.made[0].scalars]
    assert tags == [
        *[(f"store_1/{name}", 1) for name in ("train_loss", "learning_rate", "epoch_seconds")],
        *[(f"store_1/{name}", 2) for name in ("train_loss", "learning_rate", "epoch_seconds")],
        *[(f"store_1/fit2/{n}", 1) for n in ("train_loss", "learning_rate", "epoch_seconds")],
    ]
    assert logger.fits == 2


def test_mlflow_logger_logs_to_the_active_run(fake_mlflow):
    with watch_epochs(MLflowLogger()):
        history = fit(epochs=2, lr_schedule="cosine")
    assert [step for *_, step in fake_mlflow.logged] == [1] * 4 + [2] * 4
    by_key = {(key, step): value for run, key, value, step in fake_mlflow.logged}
    assert {run for run, *_ in fake_mlflow.logged} == {None}
    for row in history:
        assert by_key["train_loss", row["epoch"]] == row["train_loss"]
        assert by_key["valid_loss", row["epoch"]] == row["valid_loss"]
    assert by_key["learning_rate", 1] == 1e-3
    assert by_key["learning_rate", 2] == pytest.approx(1e-3 * (1 + math.cos(math.pi / 2)) / 2)


@pytest.mark.parametrize(
    "run", ["abc123", types.SimpleNamespace(info=types.SimpleNamespace(run_id="abc123"))]
)
def test_mlflow_logger_logs_to_the_run_given(fake_mlflow, run):
    logger = MLflowLogger(run)
    assert logger.run_id == "abc123"
    with watch_epochs(logger):
        fit(epochs=1, valid=False)
    assert [(run_id, key) for run_id, key, *_ in fake_mlflow.logged] == [
        ("abc123", "train_loss"),
        ("abc123", "learning_rate"),
        ("abc123", "epoch_seconds"),
    ]


def test_mlflow_logger_refuses_what_is_not_a_run(fake_mlflow):
    with pytest.raises(TypeError, match="run must be an mlflow run"):
        MLflowLogger(run=42)


def test_loggers_check_their_arguments(fake_tensorboard):
    with pytest.raises(TypeError, match="log_dir must be a path"):
        TensorBoardLogger(log_dir=3)
    with pytest.raises(TypeError, match="prefix must be a str"):
        TensorBoardLogger(prefix=None)


@pytest.mark.parametrize(
    "make, module, extra",
    [
        (TensorBoardLogger, "torch.utils.tensorboard", "tsattn[tensorboard]"),
        (MLflowLogger, "mlflow", "tsattn[mlflow]"),
    ],
)
def test_a_missing_package_names_the_extra_to_install(monkeypatch, make, module, extra):
    monkeypatch.setitem(sys.modules, module, None)  # import raises ImportError
    with pytest.raises(ImportError, match=re.escape(f"pip install '{extra}'")):
        make()


def test_only_rank_0_logs(fake_mlflow, monkeypatch):
    import tsattn.callbacks as callbacks

    monkeypatch.setattr(callbacks, "is_main_process", lambda: False)
    with watch_epochs(MLflowLogger()):
        fit(epochs=2)
    assert fake_mlflow.logged == []


def test_a_forecaster_fit_logs_its_epochs(fake_mlflow):
    y = 10 + np.sin(np.arange(80) / 3)
    with watch_epochs(MLflowLogger(prefix="sine/")):
        f = Seq2SeqForecaster(**tiny(max_epochs=3)).fit(y)
    train_losses = [v for _, key, v, _ in fake_mlflow.logged if key == "sine/train_loss"]
    assert train_losses == f.history_["train_loss"].tolist()


def test_real_tensorboard_event_files(tmp_path):
    pytest.importorskip("tensorboard")
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    with TensorBoardLogger(tmp_path) as logger, watch_epochs(logger):
        history = fit(epochs=2)
    events = EventAccumulator(str(tmp_path))
    events.Reload()
    scalars = events.Scalars("valid_loss")
    assert [s.step for s in scalars] == [1, 2]
    assert [s.value for s in scalars] == pytest.approx([r["valid_loss"] for r in history])
