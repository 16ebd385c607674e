import pytest
import torch

from tsattn.core.encoder import RNNEncoder

B, S, E, H, H_DEC = 3, 5, 2, 4, 6


def make_encoder(cell="lstm", bidirectional=True, num_layers=2, decoder_size=H_DEC):
    torch.manual_seed(0)
    return RNNEncoder(
        E,
        H,
        num_layers=num_layers,
        cell=cell,
        bidirectional=bidirectional,
        decoder_size=decoder_size,
    )


def source():
    return torch.randn(B, S, E, generator=torch.Generator().manual_seed(1))


@pytest.mark.parametrize("cell", ["lstm", "gru"])
@pytest.mark.parametrize("bidirectional", [False, True])
@pytest.mark.parametrize("num_layers", [1, 3])
def test_shapes(cell, bidirectional, num_layers):
    encoder = make_encoder(cell, bidirectional, num_layers)
    directions = 2 if bidirectional else 1
    assert encoder.output_size == directions * H
    outputs, state = encoder(source())
    assert outputs.shape == (B, S, directions * H)
    assert len(state) == (2 if cell == "lstm" else 1)
    for tensor in state:
        assert tensor.shape == (num_layers, B, H_DEC)
    # The bridge ends in tanh, as s_0 = tanh(W_s h_1) in Bahdanau et al.
    assert all(tensor.abs().max() < 1 for tensor in state)


def test_decoder_size_defaults_to_hidden_size():
    torch.manual_seed(0)
    encoder = RNNEncoder(E, H, num_layers=2, cell="gru", bidirectional=True)
    _, (h,) = encoder(source())
    assert h.shape == (2, B, H)


@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_bridge_concatenates_forward_and_backward_states_of_the_same_layer(cell):
    layers = 3
    encoder = make_encoder(cell, bidirectional=True, num_layers=layers)
    x = source()
    outputs, state = encoder(x)

    _, final = encoder.rnn(x)  # each (L*D, B, H), ordered layer0-fwd, layer0-bwd, layer1-fwd, ...
    final = final if isinstance(final, tuple) else (final,)
    for tensor, bridge, bridged in zip(final, encoder.bridges, state, strict=True):
        for layer in range(layers):
            forward, backward = tensor[2 * layer], tensor[2 * layer + 1]  # (B, H) each
            joined = torch.cat([forward, backward], dim=-1)  # (B, 2H)
            torch.testing.assert_close(bridged[layer], torch.tanh(bridge(joined)))

    # The top layer's final states are also visible in the outputs: forward at the last step,
    # backward at the first. This pins down which of the L*D rows is which.
    h_final = final[0]
    torch.testing.assert_close(h_final[-2], outputs[:, -1, :H])
    torch.testing.assert_close(h_final[-1], outputs[:, 0, H:])


def test_bridge_unidirectional_maps_each_layer_state():
    encoder = make_encoder("lstm", bidirectional=False, num_layers=2)
    x = source()
    outputs, (h, c) = encoder(x)
    _, (h_n, c_n) = encoder.rnn(x)
    h_bridge, c_bridge = encoder.bridges
    torch.testing.assert_close(h, torch.tanh(h_bridge(h_n)))
    torch.testing.assert_close(c, torch.tanh(c_bridge(c_n)))
    torch.testing.assert_close(h_n[-1], outputs[:, -1])


def test_bridge_distinguishes_layers_and_directions():
    # With a bridge that copies its input, the state must be exactly the concatenated states:
    # a mix-up of layers or directions would show as a mismatch.
    encoder = make_encoder("gru", bidirectional=True, num_layers=2, decoder_size=2 * H)
    with torch.no_grad():
        encoder.bridges[0].weight.copy_(torch.eye(2 * H))
        encoder.bridges[0].bias.zero_()
    x = source()
    _, (h,) = encoder(x)
    _, h_n = encoder.rnn(x)  # (4, B, H)
    expected = torch.stack(
        [torch.cat([h_n[0], h_n[1]], -1), torch.cat([h_n[2], h_n[3]], -1)]
    )  # (2, B, 2H)
    torch.testing.assert_close(h, torch.tanh(expected))
    assert not torch.allclose(h[0], h[1])


def test_encoder_dropout_only_between_layers():
    torch.manual_seed(0)
    assert RNNEncoder(E, H, num_layers=1, dropout=0.5).rnn.dropout == 0.0
    assert RNNEncoder(E, H, num_layers=2, dropout=0.5).rnn.dropout == 0.5


def test_unknown_cell_is_rejected():
    with pytest.raises(ValueError, match="cell must be one of") as info:
        RNNEncoder(E, H, cell="rnn")
    assert "lstm" in str(info.value) and "gru" in str(info.value)
