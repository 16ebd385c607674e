"""Data-parallel training: two CPU processes (gloo) against one.

One pair of processes, spawned once for the module (importing torch and tsattn is most of the
cost), runs every scenario and leaves its results in files that the tests compare with the
same training in this process.

Semantics under test: ``batch_size`` is the *global* batch. Every rank draws the same epoch
order and takes every second window of each batch, DDP averages the two halves' gradients,
and the average of two equal halves' mean-loss gradients is the gradient of the whole batch's
mean loss. So two processes take the same optimiser steps as one, on the same batches, and
differ only by float32 rounding (the halves are summed in another order): see the tolerance
notes at each comparison.
"""

import contextlib
import io
import os
import socket

import numpy as np
import pandas as pd
import pytest
import torch
import torch.multiprocessing as mp
from torch import nn

from tsattn import Seq2SeqForecaster, load, training
from tsattn.cli import main
from tsattn.datasets import make_retail_sales
from tsattn.distributed import World, current_world, is_main_process, shard, shutdown
from tsattn.training import TrainingConfig, resolve_device, train

pytestmark = pytest.mark.slow  # over a few seconds each: `make test-fast` leaves them out

WORLD = 2


class Regression:
    """y = 2x - 1 on n points; remembers every batch of indices it was asked for."""

    def __init__(self, n=64, seed=0, size=None):
        generator = torch.Generator().manual_seed(seed)
        self.x = torch.rand(n, 1, generator=generator) * 2 - 1  # (n, 1)
        self.y = 2 * self.x - 1  # (n, 1)
        self.size = n if size is None else size
        self.requests = []

    def __len__(self):
        return self.size

    def batch(self, index):
        self.requests.append(np.asarray(index).tolist())
        index = torch.as_tensor(index)
        return {"x": self.x[index], "y": self.y[index]}


def mse(module, batch):
    return ((module(batch["x"]) - batch["y"]) ** 2).mean()


def config(**changes):
    base = dict(max_epochs=5, batch_size=16, learning_rate=0.05, early_stopping_patience=None)
    return TrainingConfig(**{**base, "min_batches_per_epoch": 1, "verbose": False, **changes})


def fit_linear(batch_size, seed=0, size=None):
    """A linear model trained on Regression(64) with validation on Regression(32, seed=1)."""
    torch.manual_seed(seed)
    module = nn.Linear(1, 1)
    data, valid = Regression(), Regression(n=32, seed=1)
    if size is not None:
        data.size = size
    history = train(module, mse, data, valid, config(batch_size=batch_size), _rng(seed))
    return {
        "state": module.state_dict(),
        "history": history,
        "train_requests": data.requests,
        "valid_requests": valid.requests,
    }


def _rng(seed):
    return np.random.default_rng(seed)


def sales():
    y, _, static = make_retail_sales(n_series=6, n_periods=60, seed=3)
    return y, static


FORECASTER = dict(
    horizon=4,
    input_size=8,
    hidden_size=8,
    max_epochs=3,
    batch_size=32,
    early_stopping_patience=None,
    random_state=0,
    verbose=False,
)


def fit_forecaster(checkpoint_dir=None):
    y, static = sales()
    f = Seq2SeqForecaster(**FORECASTER).fit(y, static=static, checkpoint_dir=checkpoint_dir)
    return {
        "state": f.module_.state_dict(),
        "history": f.history_[["train_loss", "valid_loss"]].to_numpy(),
        "forecast": f.predict()["y"].to_numpy(),
    }


def _worker(rank, out, port):
    """One rank of the pair: every scenario, results to ``out/rank{rank}.pt``."""
    torch.set_num_threads(1)
    results = {"calls": []}
    # First as torchrun starts it: only the environment says there are two processes, and
    # `tsattn fit` (the loop, in fact) initialises the group, then the command destroys it.
    launch = {"RANK": rank, "LOCAL_RANK": rank, "WORLD_SIZE": WORLD, "MASTER_PORT": port}
    os.environ.update({k: str(v) for k, v in {**launch, "MASTER_ADDR": "127.0.0.1"}.items()})
    results["device"] = resolve_device("auto")
    stderr = io.StringIO()
    with contextlib.redirect_stderr(stderr):
        results["cli"] = main(["fit", str(out / "sales.csv"), *CLI, str(out / "cli.tsattn")])
    results["cli_stderr"] = stderr.getvalue()
    results["group_left"] = torch.distributed.is_initialized()
    for name in (*launch, "MASTER_ADDR"):
        del os.environ[name]
    # Then in a group the user made: tsattn uses it and leaves it alone.
    torch.distributed.init_process_group(
        "gloo", init_method=f"file://{out}/store", rank=rank, world_size=WORLD
    )
    shutdown()
    results.update(world=current_world(), main=is_main_process())
    for method in ("save", "restore"):  # which rank touches the checkpoint file
        real = getattr(training.Checkpoint, method)

        def counted(*args, _method=method, _real=real, **kwargs):
            results["calls"].append(_method)
            return _real(*args, **kwargs)

        setattr(training.Checkpoint, method, counted)
    # Each rank starts from other weights and another generator: DDP's broadcast of rank
    # 0's weights and the loop's sharing of rank 0's generator must make up for it.
    results["linear"] = fit_linear(batch_size=16, seed=rank)
    results["odd"] = fit_linear(batch_size=15, seed=0)  # halves of 8 and 7 windows
    results["forecaster"] = fit_forecaster(checkpoint_dir=out / "checkpoint")
    results["listing"] = sorted(p.name for p in (out / "checkpoint").iterdir())
    # Fit again from the finished checkpoint: rank 0 reads it, rank 1 receives it.
    results["resumed"] = fit_forecaster(checkpoint_dir=out / "checkpoint")
    for name, kwargs in {
        "other_data": dict(size=64 - rank),  # rank 1 holds one window fewer
        "tiny_batch": dict(batch_size=1),
    }.items():
        try:
            fit_linear(**{"batch_size": 16, **kwargs})
        except ValueError as error:
            results[name] = str(error)
    torch.save(results, out / f"rank{rank}.pt")
    torch.distributed.destroy_process_group()


CLI = ["--horizon", "4", "--input-size", "8", "--hidden-size", "8", "--epochs", "2"]
CLI += ["--batch-size", "32", "--quiet", "--save"]


@pytest.fixture(scope="module")
def ranks(tmp_path_factory):
    out = tmp_path_factory.mktemp("ddp")
    sales()[0].to_csv(out / "sales.csv", index=False)
    with socket.socket() as free:  # a port for the torchrun-like start; freed before use
        free.bind(("127.0.0.1", 0))
        port = free.getsockname()[1]
    mp.start_processes(_worker, args=(out, port), nprocs=WORLD, join=True, start_method="spawn")
    return [torch.load(out / f"rank{r}.pt", weights_only=False) for r in range(WORLD)], out


def assert_close_states(a, b, atol):
    assert a.keys() == b.keys()
    for name in a:
        torch.testing.assert_close(a[name], b[name], rtol=0, atol=atol, msg=name)


def max_difference(a, b):
    return max(float((a[k] - b[k]).abs().max()) for k in a)


def test_the_pair_knows_its_ranks(ranks):
    results, _ = ranks
    assert [r["world"] for r in results] == [World(0, 2), World(1, 2)]
    assert [r["main"] for r in results] == [True, False]
    assert current_world() == World(0, 1) and is_main_process()  # this process trains alone
    assert [r["device"] for r in results] == [torch.device("cpu")] * 2  # no GPU here


def test_fit_command_under_torchrun_variables(ranks):
    """`torchrun --nproc_per_node=2 -m tsattn fit ...` as torchrun starts its processes."""
    results, out = ranks
    assert [r["cli"] for r in results] == [0, 0]
    assert "saved the model (6 series, 2 epochs)" in results[0]["cli_stderr"]
    assert results[1]["cli_stderr"] == ""  # rank 1 neither saves nor prints
    # tsattn made the group from the environment, so the command destroyed it at its end.
    assert [r["group_left"] for r in results] == [False, False]
    model = load(out / "cli.tsattn")
    assert len(model.history_) == 2
    forecast = model.predict()
    assert isinstance(forecast, pd.DataFrame) and len(forecast) == 6 * 4
    assert np.isfinite(forecast["y"]).all()


def test_both_ranks_end_with_identical_weights(ranks):
    results, _ = ranks
    for scenario in ("linear", "odd", "forecaster", "resumed"):
        first, second = results[0][scenario]["state"], results[1][scenario]["state"]
        for name in first:
            assert torch.equal(first[name], second[name]), (scenario, name)
    np.testing.assert_array_equal(
        results[0]["forecaster"]["forecast"], results[1]["forecaster"]["forecast"]
    )


def test_each_rank_trains_on_half_of_every_batch(ranks):
    results, _ = ranks
    alone = fit_linear(batch_size=16)
    first, second = (r["linear"]["train_requests"] for r in results)
    assert len(first) == len(second) == len(alone["train_requests"]) == 5 * 4  # 5 epochs x 4
    for a, b, whole in zip(first, second, alone["train_requests"], strict=True):
        assert len(a) == len(b) == 8
        assert not set(a) & set(b)  # no window twice in a step
        assert sorted(a + b) == sorted(whole)  # the single process' batch, split in two
        assert a == whole[0::2] and b == whole[1::2]
    # Validation: 32 windows in batches of 16, one batch per rank and epoch.
    assert results[0]["linear"]["valid_requests"] == [list(range(16))] * 5
    assert results[1]["linear"]["valid_requests"] == [list(range(16, 32))] * 5


def test_two_processes_match_one(ranks):
    results, _ = ranks
    alone = fit_linear(batch_size=16)
    # The same 20 Adam steps on the same batches; each step's gradient is the mean of two
    # 8-window means instead of one 16-window mean, equal in exact arithmetic and within a few
    # float32 ulps (~1e-7) here. Adam's updates are O(lr) = 0.05 whatever the gradient's size,
    # so rounding does not grow much over 20 steps: measured 6e-8, and 1e-5 leaves a wide
    # margin while staying far below what a different training gives (see below).
    assert_close_states(results[0]["linear"]["state"], alone["state"], atol=1e-5)
    for two, one in zip(results[0]["linear"]["history"], alone["history"], strict=True):
        assert two["train_loss"] == pytest.approx(one["train_loss"], rel=1e-5)
        assert two["valid_loss"] == pytest.approx(one["valid_loss"], rel=1e-5)
    # The tolerance can fail: batches of 8 in one process (what each rank would do if it took
    # batch_size as its own) already end more than 1e-3 away.
    assert max_difference(fit_linear(batch_size=8)["state"], alone["state"]) > 1e-3


def test_uneven_halves_are_weighted_to_the_whole_batch(ranks):
    results, _ = ranks
    alone = fit_linear(batch_size=15)
    first, second = (r["odd"]["train_requests"] for r in results)
    assert [len(a) for a in first[:5]] == [8, 8, 8, 8, 2]  # 64 = 4 x 15 + 4
    assert [len(b) for b in second[:5]] == [7, 7, 7, 7, 2]
    # Halves of 8 and 7 weighted 16/15 and 14/15: the average is again the whole batch's
    # gradient, equal up to rounding (tolerance as above). Unweighted halves (a plain mean of
    # the two means) end 1e-3 away: measured 9.6e-4.
    assert_close_states(results[0]["odd"]["state"], alone["state"], atol=1e-5)


def test_the_forecaster_trained_by_two_processes_matches_one(ranks):
    results, _ = ranks
    y, static = sales()
    alone = Seq2SeqForecaster(**FORECASTER).fit(y, static=static)
    two = results[0]["forecaster"]
    # An LSTM with attention over 3 epochs x 20 Adam steps: the gradients' rounding
    # differences (~1e-7 relative) pass through more operations than in the linear model.
    # Measured: weights 8e-7 apart, forecasts 1.4e-7 relative; the tolerances leave a margin
    # of 10-50x for other CPUs and BLAS builds.
    assert_close_states(two["state"], alone.module_.state_dict(), atol=1e-5)
    np.testing.assert_allclose(
        two["history"], alone.history_[["train_loss", "valid_loss"]], rtol=1e-5
    )
    np.testing.assert_allclose(two["forecast"], alone.predict()["y"], rtol=1e-5)


def test_only_rank_0_writes_the_checkpoint_and_all_resume_from_it(ranks):
    results, out = ranks
    # Rank 0 looked for a checkpoint (none), saved after each of 3 epochs, then restored the
    # finished one; rank 1 never opened the file.
    assert results[0]["calls"] == ["restore", "save", "save", "save", "restore"]
    assert results[1]["calls"] == []
    assert results[0]["listing"] == ["checkpoint.safetensors"]  # no stray temporary files
    # Resuming a finished fit trains nothing and gives every rank the same model again.
    for rank in results:
        np.testing.assert_array_equal(rank["resumed"]["history"], rank["forecaster"]["history"])
        np.testing.assert_array_equal(rank["resumed"]["forecast"], rank["forecaster"]["forecast"])


def test_bad_setups_fail_on_every_rank_instead_of_hanging(ranks):
    results, _ = ranks
    for rank in results:
        assert "every process must fit the same data" in rank["other_data"]
        assert "[(64, 32), (63, 32)]" in rank["other_data"]
        assert "batch_size=1 is smaller than the 2 processes" in rank["tiny_batch"]


def test_shard_takes_every_size_th_window():
    index = np.arange(10, 17)
    part, weight = shard(index, World(1, 3))
    assert part.tolist() == [11, 14] and weight == pytest.approx(3 * 2 / 7)
    part, weight = shard(np.arange(6), World(0, 2))
    assert part.tolist() == [0, 2, 4] and weight == 1.0
