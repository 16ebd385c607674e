"""benchmarks/speed.py: the step timer, the FLOP count and the options (no peers run here)."""

import importlib.util
import sys
from pathlib import Path

import pytest
import torch

SPEED = Path(__file__).resolve().parents[1] / "benchmarks" / "speed.py"


@pytest.fixture(scope="module")
def speed():
    # The script imports its sibling benchmarks/_common.py, as it does when run directly.
    sys.path.insert(0, str(SPEED.parent))
    spec = importlib.util.spec_from_file_location("speed_benchmark", SPEED)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_step_timer_sees_every_optimiser_step_and_counts_windows(speed):
    weight = torch.nn.Parameter(torch.ones(3))
    optimizer = torch.optim.SGD([weight], lr=0.1)
    with speed.StepTimer() as timer:
        for _ in range(6):
            optimizer.zero_grad()
            weight.sum().backward()
            optimizer.step()
    optimizer.step()  # after the with block: not recorded
    assert len(timer.times) == 6
    timer.times = [0.0, 1.0, 1.5, 2.0, 2.5, 3.0]  # steps of 1 s, then four of 0.5 s
    summary = timer.summary(windows_per_step=100, warmup=1, n_steps=6)
    assert summary["steps_timed"] == 4
    assert summary["windows_per_s"] == pytest.approx(200.0)
    assert summary["step_ms"] == pytest.approx(500.0)
    # Steps beyond n_steps (a later fit in the same process) are left out.
    assert timer.summary(100, 0, 3)["windows_per_s"] == pytest.approx(2 * 100 / 1.5)


def test_model_flops_by_hand(speed):
    parts = speed.model_flops(batch=2)
    # Encoder: 36 steps of a (1 + 64) -> 4 * 64 gate product, 2 FLOPs per multiply-add, and
    # training costs 3x the forward.
    assert parts["encoder LSTM"] == 3 * 2 * 36 * 2 * 256 * 65
    # Decoder cell: 18 steps, input = previous value (1) + context (64) + state (64).
    assert parts["decoder LSTM"] == 3 * 2 * 18 * 2 * 256 * 129
    assert parts["attention energies v^T s"] == 3 * 2 * 18 * 2 * 36 * 64
    assert sum(speed.model_flops(batch=4).values()) == 2 * sum(parts.values())


def test_model_flops_of_the_direct_decoder_with_segments_by_hand(speed):
    parts = speed.model_flops(batch=2, segment=3, direct=True)
    # Encoder: 12 steps reading 3 values each; decoder: 6 steps of 3 values, no context fed in.
    assert parts["encoder LSTM"] == 3 * 2 * 12 * 2 * 256 * (3 + 64)
    assert parts["decoder LSTM"] == 3 * 2 * 6 * 2 * 256 * (3 + 64)
    assert parts["attention energies v^T s"] == 3 * 2 * 6 * 2 * 12 * 64
    assert parts["output head"] == 3 * 2 * 6 * 2 * (64 + 64 + 3) * 3


def test_batch_size_option(speed, capsys):
    with pytest.raises(SystemExit):
        speed.main(["--batch-size", "many"])
    assert "--batch-size must be an integer or 'default'" in capsys.readouterr().err


def test_rounds_give_the_median_run_and_per_round_ratios(speed):
    runs = [{"model": "m", "windows_per_s": w} for w in (300.0, 100.0, 200.0)]
    runs.append({"model": "m", "error": "boom"})
    assert speed._median_run(runs)["windows_per_s"] == 200.0
    assert speed._median_run([{"model": "m", "error": "boom"}])["error"] == "boom"
    tsattn = [{"windows_per_s": w} for w in (600.0, 400.0, 900.0)]
    peer = [{"windows_per_s": w} for w in (200.0, 100.0, 300.0)]
    assert speed._round_ratios(tsattn, peer) == [3.0, 4.0, 3.0]
    assert speed._round_ratios(tsattn[:1], [{"error": "x"}]) == []
