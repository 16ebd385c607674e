"""The ``device`` parameter: every form torch offers is accepted, an unavailable one is refused
with the devices this machine has; availability is monkeypatched so every branch runs on CPU."""

import re

import pytest
import torch

from tsattn import Seq2SeqForecaster, Seq2SeqRegressor, Seq2SeqTranslator
from tsattn.distributed import DEVICES, available_devices, resolve_device


def offered(error) -> str:
    """The devices an error message says this machine offers."""
    return re.search(r"\(this machine offers (.*)\)$", str(error.value)).group(1)


def offer(monkeypatch, cuda=0, mps=False):
    """Pretend this torch build has ``cuda`` GPUs and (or not) MPS."""
    monkeypatch.setattr(torch.cuda, "is_available", lambda: cuda > 0)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: cuda)
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: mps)


@pytest.mark.parametrize("device", ["cpu", torch.device("cpu"), "cpu:0"])
def test_cpu_in_every_form(monkeypatch, device):
    offer(monkeypatch)
    assert resolve_device(device).type == "cpu"


def test_auto_prefers_cuda_then_mps_then_cpu(monkeypatch):
    offer(monkeypatch, cuda=1, mps=True)
    assert resolve_device("auto") == torch.device("cuda")
    offer(monkeypatch, cuda=0, mps=True)
    assert resolve_device("auto") == torch.device("mps")
    offer(monkeypatch, cuda=0, mps=False)
    assert resolve_device("auto") == torch.device("cpu")


@pytest.mark.parametrize(
    ("device", "expected"),
    [
        ("cuda", torch.device("cuda")),
        ("cuda:1", torch.device("cuda", 1)),
        (torch.device("cuda", 0), torch.device("cuda", 0)),
    ],
)
def test_cuda_accepted_where_available(monkeypatch, device, expected):
    offer(monkeypatch, cuda=2)
    assert resolve_device(device) == expected


@pytest.mark.parametrize("device", ["mps", torch.device("mps"), "mps:0"])
def test_mps_accepted_where_available(monkeypatch, device):
    offer(monkeypatch, mps=True)
    assert resolve_device(device).type == "mps"


@pytest.mark.parametrize("device", ["mps", torch.device("mps")])
def test_mps_refused_where_torch_has_none(monkeypatch, device):
    offer(monkeypatch, cuda=0, mps=False)
    with pytest.raises(ValueError, match="MPS") as info:
        resolve_device(device)
    assert offered(info) == "'auto', 'cpu'"
    assert "use device='auto' or 'cpu'" in str(info.value)


@pytest.mark.parametrize("device", ["cuda", "cuda:0", torch.device("cuda")])
def test_cuda_refused_without_gpu_naming_what_there_is(monkeypatch, device):
    offer(monkeypatch, cuda=0, mps=True)
    with pytest.raises(ValueError, match="no CUDA GPU") as info:
        resolve_device(device)
    assert offered(info) == "'auto', 'cpu', 'mps'"
    assert "use device='auto' or 'cpu'" in str(info.value)


def test_cuda_index_beyond_the_gpus_refused(monkeypatch):
    offer(monkeypatch, cuda=2)
    with pytest.raises(ValueError, match="GPU 2 but torch finds 2") as info:
        resolve_device("cuda:2")
    assert offered(info) == "'auto', 'cpu', 'cuda', 'cuda:0', 'cuda:1'"


def test_available_devices_lists_what_torch_offers(monkeypatch):
    offer(monkeypatch)
    assert available_devices() == ["cpu"]
    offer(monkeypatch, cuda=2, mps=True)
    assert available_devices() == ["cpu", "cuda", "cuda:0", "cuda:1", "mps"]


@pytest.mark.parametrize("device", ["gpu", "meta", "", "Auto", "cuda:x"])
def test_unknown_strings_refused_with_the_accepted_forms(monkeypatch, device):
    offer(monkeypatch)
    with pytest.raises(ValueError, match="device must be one of") as info:
        resolve_device(device)
    message = str(info.value)
    assert all(repr(name) in message for name in DEVICES)
    assert offered(info) == "'auto', 'cpu'"


@pytest.mark.parametrize("device", [0, None, ["cpu"]])
def test_other_types_refused(device):
    with pytest.raises(TypeError, match="device must be a string or torch.device"):
        resolve_device(device)


@pytest.mark.parametrize(
    ("estimator", "fit"),
    [
        (Seq2SeqForecaster(horizon=2, device="mps"), lambda e: e.fit(torch.arange(20.0).numpy())),
        (Seq2SeqRegressor(device="mps"), lambda e: e.fit([[1.0, 2.0]] * 4, [[3.0]] * 4)),
        (Seq2SeqTranslator(device="mps"), lambda e: e.fit(["a b"] * 2, ["b a"] * 2)),
    ],
)
def test_estimators_refuse_an_unavailable_device_before_training(monkeypatch, estimator, fit):
    offer(monkeypatch, cuda=0, mps=False)
    with pytest.raises(ValueError, match="MPS"):
        fit(estimator)
    assert not hasattr(estimator, "module_")


def test_estimators_train_on_a_torch_device(monkeypatch):
    offer(monkeypatch)
    model = Seq2SeqForecaster(
        horizon=2,
        input_size=4,
        hidden_size=8,
        max_epochs=1,
        device=torch.device("cpu"),
        random_state=0,
        verbose=False,
    ).fit(torch.arange(30.0).numpy())
    assert model.device_ == torch.device("cpu")
    assert model.predict().shape == (2,)
