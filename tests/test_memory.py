"""The opt-in allocator setting: glibc keeps freed memory inside the block, defaults after."""

import pytest

from tsattn import memory
from tsattn.memory import reuse_freed_memory

MIB, KIB = 2**20, 2**10
SET = [("mallopt", -3, 32 * MIB), ("mallopt", -1, 256 * MIB)]
DEFAULTS = [("mallopt", -3, 128 * KIB), ("mallopt", -1, 128 * KIB), ("malloc_trim", 0)]


class _FakeLibc:
    def __init__(self):
        self.calls = []

    def mallopt(self, parameter, value):
        self.calls.append(("mallopt", parameter, value))
        return 1

    def malloc_trim(self, pad):
        self.calls.append(("malloc_trim", pad))
        return 1


@pytest.fixture
def libc(monkeypatch):
    fake = _FakeLibc()
    monkeypatch.setattr(memory, "_glibc", lambda: fake)
    return fake


def test_sets_the_thresholds_inside_and_glibcs_defaults_on_exit(libc):
    with reuse_freed_memory() as active:
        during = list(libc.calls)
    assert active is True
    # mmap threshold (-3) at glibc's 32 MiB ceiling, trim threshold (-1) raised
    assert during == SET
    assert libc.calls == SET + DEFAULTS


def test_defaults_come_back_when_the_block_fails(libc):
    with pytest.raises(RuntimeError, match="boom"), reuse_freed_memory():
        raise RuntimeError("boom")
    assert libc.calls == SET + DEFAULTS


def test_nested_blocks_set_once_and_reset_at_the_outermost_exit(libc):
    with reuse_freed_memory():
        with reuse_freed_memory():
            pass
        assert libc.calls == SET  # the inner exit leaves the outer block's setting
    assert libc.calls == SET + DEFAULTS


def test_without_glibc_nothing_is_called(monkeypatch):
    monkeypatch.setattr(memory, "_glibc", lambda: None)
    calls = []
    monkeypatch.setattr(memory, "_lock", _Recording(calls))
    with reuse_freed_memory() as active:
        pass
    assert active is False
    assert calls == []  # not even the bookkeeping ran


class _Recording:
    """A lock that records being taken."""

    def __init__(self, calls):
        self.calls = calls

    def __enter__(self):
        self.calls.append("lock")

    def __exit__(self, *exc):
        return False


def test_a_fit_inside_the_block_trains_with_the_setting(libc):
    import numpy as np
    import torch

    from tsattn.training import TrainingConfig, train

    seen = []

    def loss(module, batch):
        seen.append(len(libc.calls))
        return (module(batch) ** 2).mean()

    class Data:
        def __len__(self):
            return 8

        def batch(self, index):
            return torch.ones(len(index), 1)

    config = TrainingConfig(max_epochs=1, batch_size=4, min_batches_per_epoch=1, verbose=False)
    with reuse_freed_memory():
        train(torch.nn.Linear(1, 1), loss, Data(), None, config, np.random.default_rng(0))
    assert seen and all(count == len(SET) for count in seen)
    assert libc.calls == SET + DEFAULTS


def test_training_leaves_the_allocator_settings_alone(libc):
    """fit changes nothing in the user's process unless asked to (the opt-in above)."""
    import numpy as np
    import torch

    from tsattn.training import TrainingConfig, train

    class Data:
        x, y = torch.randn(32, 2), torch.randn(32, 1)

        def __len__(self):
            return 32

        def batch(self, index):
            return {"x": self.x[index], "y": self.y[index]}

    module = torch.nn.Linear(2, 1)

    def loss(model, batch):
        return torch.nn.functional.mse_loss(model(batch["x"]), batch["y"])

    config = TrainingConfig(max_epochs=2, batch_size=8, verbose=False)
    assert len(train(module, loss, Data(), None, config, np.random.default_rng(0))) == 2
    assert libc.calls == []
