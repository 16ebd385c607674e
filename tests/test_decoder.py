import pytest
import torch

from tsattn.core.attention import BahdanauAttention, LuongAttention
from tsattn.core.decoder import AttentionDecoder, Memory, reorder_state

B, S, E, K, H, L = 3, 5, 2, 6, 4, 2


def make_decoder(cell="lstm", attention="bahdanau", num_layers=L):
    torch.manual_seed(0)
    module = {
        "bahdanau": lambda: BahdanauAttention(H, K, attention_size=3),
        "luong": lambda: LuongAttention(H, K, score="general"),
        "none": lambda: None,
    }[attention]()
    return AttentionDecoder(E, H, K, module, num_layers=num_layers, cell=cell)


def inputs():
    generator = torch.Generator().manual_seed(1)
    values = torch.randn(B, S, K, generator=generator)
    mask = torch.tensor([[True] * S, [True] * (S - 2) + [False] * 2, [False] + [True] * (S - 1)])
    encoder_state = tuple(torch.randn(L, B, H, generator=generator) for _ in range(2))
    step_in = torch.randn(B, E, generator=generator)
    return values, mask, encoder_state, step_in


def state_for(cell, encoder_state):
    return encoder_state if cell == "lstm" else encoder_state[:1]


@pytest.mark.parametrize("cell", ["lstm", "gru"])
@pytest.mark.parametrize("attention", ["bahdanau", "luong", "none"])
def test_step_shapes(cell, attention):
    decoder = make_decoder(cell, attention)
    values, mask, encoder_state, step_in = inputs()
    memory = decoder.init_memory(values, mask)
    state = decoder.init_state(state_for(cell, encoder_state))
    assert len(state) == L and all(len(layer) == (2 if cell == "lstm" else 1) for layer in state)

    context_size = 0 if attention == "none" else K
    assert decoder.output_size == H + context_size + E
    features, new_state, weights = decoder.step(step_in, state, memory)
    assert features.shape == (B, H + context_size + E)
    assert len(new_state) == L
    for layer in new_state:
        assert all(t.shape == (B, H) for t in layer)
    if attention == "none":
        assert weights is None and memory.proj_keys is None
    else:
        assert weights.shape == (B, S)
        torch.testing.assert_close(weights.sum(-1), torch.ones(B))
        assert (weights[~mask] == 0.0).all()


def test_init_state_splits_layers():
    decoder = make_decoder("lstm")
    _, _, (h, c), _ = inputs()
    state = decoder.init_state((h, c))
    for layer in range(L):
        assert torch.equal(state[layer][0], h[layer]) and torch.equal(state[layer][1], c[layer])


@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_step_reads_previous_top_state_and_returns_top_state_context_and_input(cell):
    decoder = make_decoder(cell, "bahdanau")
    values, mask, encoder_state, step_in = inputs()
    memory = decoder.init_memory(values, mask)
    torch.testing.assert_close(memory.proj_keys, decoder.attention.project_keys(values))
    state = decoder.init_state(state_for(cell, encoder_state))
    features, new_state, weights = decoder.step(step_in, state, memory)

    # The query is the previous top-layer hidden state (Bahdanau et al.'s s_{i-1}).
    query = state[-1][0]
    context, expected_weights = decoder.attention(query, memory.proj_keys, values, mask)
    torch.testing.assert_close(weights, expected_weights)
    # Layer 0 reads [input, context]; layer 1 reads layer 0's new hidden state.
    first = decoder.cells[0](
        torch.cat([step_in, context], -1), state[0] if cell == "lstm" else state[0][0]
    )
    first_h = first[0] if cell == "lstm" else first
    second = decoder.cells[1](first_h, state[1] if cell == "lstm" else state[1][0])
    second_h = second[0] if cell == "lstm" else second
    torch.testing.assert_close(new_state[0][0], first_h)
    torch.testing.assert_close(new_state[1][0], second_h)
    torch.testing.assert_close(features, torch.cat([second_h, context, step_in], -1))


def test_memory_and_state_reorder_for_beam_search():
    decoder = make_decoder("lstm", "bahdanau")
    values, mask, encoder_state, step_in = inputs()
    memory = decoder.init_memory(values, mask)
    state = decoder.init_state(encoder_state)
    index = torch.tensor([2, 2, 0, 1])

    picked = memory.index_select(index)
    assert isinstance(picked, Memory)
    assert torch.equal(picked.values, values[index])
    assert torch.equal(picked.proj_keys, memory.proj_keys[index])
    assert torch.equal(picked.mask, mask[index])
    reordered = reorder_state(state, index)
    for layer, original in zip(reordered, state, strict=True):
        for tensor, source in zip(layer, original, strict=True):
            assert torch.equal(tensor, source[index])

    # A step on reordered rows equals the reordered step.
    features, new_state, weights = decoder.step(step_in, state, memory)
    features2, new_state2, weights2 = decoder.step(step_in[index], reordered, picked)
    torch.testing.assert_close(features2, features[index])
    torch.testing.assert_close(weights2, weights[index])
    torch.testing.assert_close(new_state2[-1][1], new_state[-1][1][index])


def test_memory_index_select_without_attention_or_mask():
    memory = Memory(torch.arange(6.0).view(3, 2, 1), None, None)
    picked = memory.index_select(torch.tensor([1]))
    assert picked.proj_keys is None and picked.mask is None
    assert picked.values.flatten().tolist() == [2.0, 3.0]


def test_plain_decoder_ignores_the_memory():
    decoder = make_decoder("gru", "none")
    values, mask, encoder_state, step_in = inputs()
    state = decoder.init_state(encoder_state[:1])
    features, _, _ = decoder.step(step_in, state, decoder.init_memory(values, mask))
    features2, _, _ = decoder.step(step_in, state, decoder.init_memory(values * 10, mask))
    assert torch.equal(features, features2)
