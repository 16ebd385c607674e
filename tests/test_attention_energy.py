"""The additive score's own autograd function equals the plain tanh formula, values and gradients."""

import pytest
import torch

from tsattn.core.attention import BahdanauAttention, _AdditiveEnergy, masked_softmax, weighted_sum
from tsattn.core.seq2seq import CoreConfig, Seq2Seq


def plain_energy(query, proj_keys, v):
    """v^T tanh(q + k), the textbook form: (B, A), (B, S, A), (A,) -> (B, S)."""
    return torch.tanh(query[:, None] + proj_keys) @ v


def inputs(dtype, seed=0, batch=3, source=5, units=4):
    generator = torch.Generator().manual_seed(seed)

    def draw(*shape):
        return (2 * torch.randn(*shape, generator=generator, dtype=dtype)).requires_grad_()

    return draw(batch, units), draw(batch, source, units), draw(units)


def test_energy_and_gradients_equal_the_tanh_formula_in_float64():
    query, keys, v = inputs(torch.float64)
    upstream = torch.randn(3, 5, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    fast = _AdditiveEnergy.apply(query, keys, v)
    fast_grads = torch.autograd.grad((fast * upstream).sum(), (query, keys, v))
    plain = plain_energy(query, keys, v)
    plain_grads = torch.autograd.grad((plain * upstream).sum(), (query, keys, v))
    torch.testing.assert_close(fast, plain, rtol=0, atol=1e-12)
    for got, expected in zip(fast_grads, plain_grads, strict=True):
        torch.testing.assert_close(got, expected, rtol=0, atol=1e-12)


def test_gradcheck():
    assert torch.autograd.gradcheck(_AdditiveEnergy.apply, inputs(torch.float64, seed=2))


def test_float32_within_rounding_of_the_tanh_formula():
    query, keys, v = inputs(torch.float32, seed=3, batch=16, source=36, units=64)
    torch.testing.assert_close(
        _AdditiveEnergy.apply(query, keys, v), plain_energy(query, keys, v), rtol=0, atol=2e-5
    )


def test_only_the_inputs_that_need_gradients_get_them():
    query, keys, v = inputs(torch.float64, seed=4)
    query = query.detach()
    v = v.detach()
    _AdditiveEnergy.apply(query, keys, v).sum().backward()
    assert query.grad is None and v.grad is None
    expected = torch.autograd.grad(plain_energy(query, keys, v).sum(), keys)[0]
    torch.testing.assert_close(keys.grad, expected)


def test_second_derivatives_are_refused_not_wrong():
    query, keys, v = inputs(torch.float64, seed=5)
    # A squared energy sends a gradient that itself needs gradients through the backward.
    (grad_query,) = torch.autograd.grad(
        _AdditiveEnergy.apply(query, keys, v).square().sum(), query, create_graph=True
    )
    with pytest.raises(RuntimeError, match="differentiate twice"):
        grad_query.sum().backward()


def test_bfloat16_autocast_runs_and_keeps_float32_gradients():
    torch.manual_seed(0)
    attention = BahdanauAttention(query_size=6, key_size=5, attention_size=4)
    query, values = torch.randn(3, 6), torch.randn(3, 7, 5)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        context, weights = attention(query, attention.project_keys(values), values)
    context.float().sum().backward()
    torch.testing.assert_close(weights.float().sum(-1), torch.ones(3), atol=1e-2, rtol=0)
    for parameter in attention.parameters():
        assert parameter.grad.dtype == torch.float32
        assert torch.isfinite(parameter.grad).all() and parameter.grad.abs().sum() > 0


class TanhBahdanau(BahdanauAttention):
    """The attention as it was written before _AdditiveEnergy: torch's tanh, autograd's backward."""

    def forward(self, query, proj_keys, values, mask=None):
        hidden = torch.tanh(self.query_layer(query)[:, None] + proj_keys)  # (B, S, A)
        weights = masked_softmax(self.energy_layer(hidden).squeeze(-1), mask)  # (B, S)
        return weighted_sum(weights, values), weights


def test_a_training_step_matches_the_tanh_model():
    torch.manual_seed(0)
    fast = Seq2Seq(CoreConfig(hidden_size=16, attention_size=8))
    plain = Seq2Seq(CoreConfig(hidden_size=16, attention_size=8))
    plain.load_state_dict(fast.state_dict())
    attention = plain.decoder.attention
    plain.decoder.attention = TanhBahdanau(16, 16, 8)
    plain.decoder.attention.load_state_dict(attention.state_dict())
    source, target_in = torch.randn(8, 12, 1), torch.randn(8, 6, 1)
    mask = torch.arange(12)[None, :] >= torch.tensor([0, 0, 3, 5, 0, 11, 2, 0])[:, None]
    losses = []
    for model in (fast, plain):
        outputs, weights = model(source, target_in, mask, return_weights=True)
        loss = outputs.square().mean()
        loss.backward()
        losses.append((loss, outputs, weights))
    torch.testing.assert_close(losses[0][0], losses[1][0], rtol=1e-5, atol=1e-7)
    torch.testing.assert_close(losses[0][1], losses[1][1], rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(losses[0][2], losses[1][2], rtol=1e-5, atol=1e-6)
    assert (losses[0][2][~mask[:, None].expand(-1, 6, -1)] == 0).all()
    plain_grads = dict(plain.named_parameters())
    for name, parameter in fast.named_parameters():
        torch.testing.assert_close(parameter.grad, plain_grads[name].grad, rtol=1e-4, atol=1e-6)


def test_a_whole_model_under_bfloat16_autocast_stays_close_to_float32():
    # The CUDA bf16 path, run on CPU: the same code with the device switched.
    torch.manual_seed(0)
    model = Seq2Seq(CoreConfig(hidden_size=16, attention_size=8))
    source, target_in = torch.randn(8, 12, 1), torch.randn(8, 6, 1)
    reference, _ = model(source, target_in)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        outputs, weights = model(source, target_in, return_weights=True)
    outputs.float().square().mean().backward()
    torch.testing.assert_close(outputs.float(), reference, rtol=0, atol=5e-2)
    torch.testing.assert_close(weights.float().sum(-1), torch.ones(8, 6), rtol=0, atol=2e-2)
    for name, parameter in model.named_parameters():
        assert parameter.grad is not None and parameter.grad.dtype == torch.float32, name
        assert torch.isfinite(parameter.grad).all(), name
