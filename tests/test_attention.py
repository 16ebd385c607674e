import math

import pytest
import torch

from tsattn.core.attention import (
    BahdanauAttention,
    LuongAttention,
    build_attention,
    masked_softmax,
)

# A tiny example small enough to compute by hand: one query of size 2, three keys of size 3,
# values of size 2.
QUERY = [1.0, 2.0]
KEYS = [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.5, -1.0, 2.0]]
VALUES = [[1.0, -1.0], [2.0, 0.5], [-3.0, 4.0]]
W_A = [[0.5, -1.0], [0.25, 0.75]]  # (A=2, Q=2)
U_A = [[1.0, 0.0, -0.5], [0.0, 0.5, 1.0]]  # (A=2, K=3)
V_A = [1.5, -2.0]  # (A=2,)
W_LUONG = [[1.0, -0.5, 0.25], [0.0, 2.0, -1.0]]  # (Q=2, K=3)


def matvec(matrix, vector):
    return [sum(m * v for m, v in zip(row, vector, strict=True)) for row in matrix]


def dot(a, b):
    return sum(x * y for x, y in zip(a, b, strict=True))


def softmax(energies, mask=None):
    mask = mask or [True] * len(energies)
    exps = [math.exp(e) if keep else 0.0 for e, keep in zip(energies, mask, strict=True)]
    total = sum(exps)
    return [x / total for x in exps]


def weighted_sum(weights, values):
    columns = range(len(values[0]))
    return [sum(w * v[j] for w, v in zip(weights, values, strict=True)) for j in columns]


def bahdanau_energies():
    wq = matvec(W_A, QUERY)  # W_a q
    energies = []
    for key in KEYS:
        hidden = [math.tanh(a + b) for a, b in zip(wq, matvec(U_A, key), strict=True)]
        energies.append(dot(V_A, hidden))  # v_a^T tanh(W_a q + U_a k)
    return energies


def tensors(batch=1):
    query = torch.tensor([QUERY] * batch)  # (B, 2)
    keys = torch.tensor([KEYS] * batch)  # (B, 3, 3)
    values = torch.tensor([VALUES] * batch)  # (B, 3, 2)
    return query, keys, values


def hand_bahdanau():
    attention = BahdanauAttention(query_size=2, key_size=3, attention_size=2)
    with torch.no_grad():
        attention.query_layer.weight.copy_(torch.tensor(W_A))
        attention.key_layer.weight.copy_(torch.tensor(U_A))
        attention.energy_layer.weight.copy_(torch.tensor([V_A]))
    return attention


def hand_luong_general():
    attention = LuongAttention(query_size=2, key_size=3, score="general")
    with torch.no_grad():
        attention.key_layer.weight.copy_(torch.tensor(W_LUONG))
    return attention


def assert_energies(weights, energies):
    """Softmax weights determine the energies up to a constant: check every log-ratio."""
    logs = [math.log(w) for w in weights]
    for i in range(1, len(energies)):
        assert logs[i] - logs[0] == pytest.approx(energies[i] - energies[0], abs=1e-5)


# ----------------------------------------------------------------------------------------
# Hand computations
# ----------------------------------------------------------------------------------------


def test_bahdanau_matches_hand_computation():
    attention = hand_bahdanau()
    query, keys, values = tensors()
    context, weights = attention(query, attention.project_keys(keys), values)

    energies = bahdanau_energies()
    expected_weights = softmax(energies)
    expected_context = weighted_sum(expected_weights, VALUES)
    assert weights.shape == (1, 3) and context.shape == (1, 2)
    assert weights[0].tolist() == pytest.approx(expected_weights, abs=1e-6)
    assert context[0].tolist() == pytest.approx(expected_context, abs=1e-6)
    assert_energies(weights[0].tolist(), energies)
    # The example is not degenerate: the weights are far from uniform.
    assert max(expected_weights) - min(expected_weights) > 0.1


def test_bahdanau_project_keys_is_u_a_times_keys():
    attention = hand_bahdanau()
    _, keys, _ = tensors()
    projected = attention.project_keys(keys)  # (1, 3, 2)
    assert projected.shape == (1, 3, 2)
    for row, key in zip(projected[0].tolist(), KEYS, strict=True):
        assert row == pytest.approx(matvec(U_A, key), abs=1e-6)


def test_luong_general_matches_hand_computation():
    attention = hand_luong_general()
    query, keys, values = tensors()
    context, weights = attention(query, attention.project_keys(keys), values)

    energies = [dot(QUERY, matvec(W_LUONG, k)) for k in KEYS]  # q^T W_a k
    expected_weights = softmax(energies)
    assert weights[0].tolist() == pytest.approx(expected_weights, abs=1e-6)
    assert context[0].tolist() == pytest.approx(weighted_sum(expected_weights, VALUES), abs=1e-6)
    assert_energies(weights[0].tolist(), energies)


def test_luong_dot_matches_hand_computation():
    attention = LuongAttention(query_size=3, key_size=3, score="dot")
    assert list(attention.parameters()) == []
    query = torch.tensor([[0.5, -1.0, 1.5]])  # (1, 3)
    keys = torch.tensor([KEYS])  # (1, 3, 3)
    values = torch.tensor([VALUES])  # (1, 3, 2)
    context, weights = attention(query, attention.project_keys(keys), values)

    energies = [dot([0.5, -1.0, 1.5], k) for k in KEYS]  # q^T k
    expected_weights = softmax(energies)
    assert weights[0].tolist() == pytest.approx(expected_weights, abs=1e-6)
    assert context[0].tolist() == pytest.approx(weighted_sum(expected_weights, VALUES), abs=1e-6)
    assert_energies(weights[0].tolist(), energies)


def test_masked_hand_computation_renormalises_over_kept_positions():
    attention = hand_bahdanau()
    query, keys, values = tensors(batch=2)
    mask = torch.tensor([[True, True, True], [True, False, True]])
    context, weights = attention(query, attention.project_keys(keys), values, mask)

    energies = bahdanau_energies()
    expected = softmax(energies, [True, False, True])
    assert weights[1].tolist() == pytest.approx(expected, abs=1e-6)
    assert weights[1, 1].item() == 0.0
    assert context[1].tolist() == pytest.approx(weighted_sum(expected, VALUES), abs=1e-6)
    # Row 0 is unaffected by row 1's mask.
    assert weights[0].tolist() == pytest.approx(softmax(energies), abs=1e-6)


# ----------------------------------------------------------------------------------------
# Shapes, normalisation, masking
# ----------------------------------------------------------------------------------------


def random_attention(kind, query_size=5, key_size=5):
    torch.manual_seed(0)
    if kind == "bahdanau":
        return BahdanauAttention(query_size, key_size, attention_size=7)
    return LuongAttention(query_size, key_size, score=kind)


def random_inputs(batch=4, source=6, query_size=5, key_size=5, value_size=3):
    generator = torch.Generator().manual_seed(1)
    query = torch.randn(batch, query_size, generator=generator)
    keys = torch.randn(batch, source, key_size, generator=generator)
    values = torch.randn(batch, source, value_size, generator=generator)
    # Row b keeps its first source - b positions: left-aligned padding of varying length.
    mask = torch.arange(source)[None, :] < (source - torch.arange(batch))[:, None]  # (B, S)
    return query, keys, values, mask


@pytest.mark.parametrize("kind", ["bahdanau", "general", "dot"])
def test_shapes_and_weights_sum_to_one(kind):
    attention = random_attention(kind)
    query, keys, values, mask = random_inputs()
    projected = attention.project_keys(keys)
    expected_size = 7 if kind == "bahdanau" else 5
    assert projected.shape == (4, 6, expected_size)
    for row_mask in (None, mask):
        context, weights = attention(query, projected, values, row_mask)
        assert context.shape == (4, 3)
        assert weights.shape == (4, 6)
        assert (weights >= 0).all()
        torch.testing.assert_close(weights.sum(-1), torch.ones(4))


@pytest.mark.parametrize("kind", ["bahdanau", "general", "dot"])
def test_masked_positions_get_exactly_zero_weight(kind):
    attention = random_attention(kind)
    query, keys, values, mask = random_inputs()
    # Huge keys at padded positions would dominate any softmax that leaked through the mask.
    keys = torch.where(mask[..., None], keys, torch.full_like(keys, 50.0))
    _, weights = attention(query, attention.project_keys(keys), values, mask)
    assert (weights[~mask] == 0.0).all()
    assert (weights[mask] > 0.0).all()
    torch.testing.assert_close(weights.sum(-1), torch.ones(4))


@pytest.mark.parametrize("kind", ["bahdanau", "general", "dot"])
def test_padding_values_do_not_change_the_context(kind):
    attention = random_attention(kind)
    query, keys, values, mask = random_inputs()
    context, weights = attention(query, attention.project_keys(keys), values, mask)

    noise = torch.randn(keys.shape, generator=torch.Generator().manual_seed(7)) * 1e3
    changed_keys = torch.where(mask[..., None], keys, noise)
    changed_values = torch.where(mask[..., None], values, noise[..., :3])
    assert not torch.equal(changed_values, values)  # row 1.. have padding, so this is a change
    projected = attention.project_keys(changed_keys)
    context2, weights2 = attention(query, projected, changed_values, mask)
    torch.testing.assert_close(weights2, weights)
    torch.testing.assert_close(context2, context)


def test_masked_softmax():
    energy = torch.tensor([[1.0, 2.0, 3.0], [0.0, 100.0, 0.0]])
    mask = torch.tensor([[True, True, False], [True, False, True]])
    weights = masked_softmax(energy, mask)
    assert weights[0, 2].item() == 0.0 and weights[1, 1].item() == 0.0
    expected = softmax([1.0, 2.0])
    assert weights[0, :2].tolist() == pytest.approx(expected, abs=1e-6)
    assert weights[1].tolist() == pytest.approx([0.5, 0.0, 0.5], abs=1e-6)
    torch.testing.assert_close(masked_softmax(energy, None), energy.softmax(-1))


def test_gradients_reach_every_attention_parameter():
    attention = random_attention("bahdanau", query_size=5, key_size=4)
    query, keys, values, mask = random_inputs(key_size=4)
    context, _ = attention(query, attention.project_keys(keys), values, mask)
    context.square().sum().backward()
    for name, parameter in attention.named_parameters():
        assert parameter.grad is not None and parameter.grad.abs().sum() > 0, name


# ----------------------------------------------------------------------------------------
# Construction
# ----------------------------------------------------------------------------------------


def test_build_attention_kinds():
    assert isinstance(build_attention("bahdanau", 4, 6, 5), BahdanauAttention)
    luong = build_attention("luong", 4, 6, 5)
    assert isinstance(luong, LuongAttention) and luong.score == "general"
    assert luong.key_layer.weight.shape == (4, 6)
    assert build_attention("none", 4, 6, 5) is None
    bahdanau = build_attention("bahdanau", 4, 6, 5)
    assert bahdanau.query_layer.weight.shape == (5, 4)
    assert bahdanau.key_layer.weight.shape == (5, 6)
    assert bahdanau.energy_layer.weight.shape == (1, 5)


@pytest.mark.parametrize("kind", ["additive", "Bahdanau", "", "dot"])
def test_build_attention_rejects_unknown_kinds_listing_the_options(kind):
    with pytest.raises(ValueError, match="attention must be one of") as info:
        build_attention(kind, 4, 4, 4)
    message = str(info.value)
    for option in ("bahdanau", "luong", "none"):
        assert option in message
    assert repr(kind) in message


def test_luong_dot_with_mismatched_sizes_errors():
    with pytest.raises(ValueError, match="query_size == key_size") as info:
        LuongAttention(query_size=4, key_size=6, score="dot")
    assert "general" in str(info.value)


def test_luong_rejects_unknown_score():
    with pytest.raises(ValueError, match="score must be one of") as info:
        LuongAttention(4, 4, score="concat")
    assert "general" in str(info.value) and "dot" in str(info.value)


@pytest.mark.parametrize("shape", [(4, 12), (3, 5, 9)])
def test_short_axis_softmax_matches_torch_in_values_and_gradients(shape):
    # Axes under 16 take tsattn's vectorised form on CPU; it must be torch's softmax.
    generator = torch.Generator().manual_seed(0)
    energy = (torch.randn(*shape, generator=generator) * 5).requires_grad_()
    mask = torch.rand(shape[0], shape[-1], generator=generator) > 0.3
    mask[:, 0] = True  # every row keeps a position
    weights = masked_softmax(energy, mask)
    broadcast = mask if len(shape) == 2 else mask[:, None]
    expected = energy.masked_fill(~broadcast, float("-inf")).softmax(-1)
    torch.testing.assert_close(weights, expected)
    assert (weights[~broadcast.expand_as(weights)] == 0).all()
    upstream = torch.randn(*shape, generator=generator)
    (got,) = torch.autograd.grad(weights, energy, upstream)
    (want,) = torch.autograd.grad(expected, energy, upstream)
    torch.testing.assert_close(got, want)
