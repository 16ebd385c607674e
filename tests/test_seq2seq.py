import pytest
import torch

from tsattn.core.seq2seq import CoreConfig, Seq2Seq

B, S, T = 3, 6, 4


def make_model(mode="numeric", attention="bahdanau", cell="lstm", bidirectional=True, layers=2):
    torch.manual_seed(0)
    sizes = (
        {"source_features": 2, "target_features": 3, "output_size": 2}
        if mode == "numeric"
        else {"source_vocab": 11, "target_vocab": 9, "output_size": 9, "embedding_size": 5}
    )
    config = CoreConfig(
        hidden_size=8,
        num_layers=layers,
        cell=cell,
        bidirectional=bidirectional,
        attention=attention,
        attention_size=7,
        **sizes,
    )
    return Seq2Seq(config)


def make_batch(mode="numeric"):
    generator = torch.Generator().manual_seed(1)
    if mode == "numeric":
        source = torch.randn(B, S, 2, generator=generator)
        target_in = torch.randn(B, T, 3, generator=generator)
    else:  # token ids 1.. so that no id is the padding index 0
        source = torch.randint(1, 11, (B, S), generator=generator)
        target_in = torch.randint(1, 9, (B, T), generator=generator)
    # Row b has its last b source positions padded.
    mask = torch.arange(S)[None, :] < (S - torch.arange(B))[:, None]  # (B, S)
    return source, target_in, mask


# ----------------------------------------------------------------------------------------
# Shapes and gradients
# ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["numeric", "token"])
@pytest.mark.parametrize("attention", ["bahdanau", "luong", "none"])
def test_forward_shapes(mode, attention):
    model = make_model(mode, attention)
    source, target_in, mask = make_batch(mode)
    outputs, weights = model(source, target_in, mask, return_weights=True)
    assert outputs.shape == (B, T, 2 if mode == "numeric" else 9)
    if attention == "none":
        assert weights is None
    else:
        assert weights.shape == (B, T, S)
    outputs, weights = model(source, target_in, mask)
    assert outputs.shape[:2] == (B, T) and weights is None


@pytest.mark.parametrize("mode", ["numeric", "token"])
@pytest.mark.parametrize("attention", ["bahdanau", "luong", "none"])
@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_gradients_reach_every_parameter(mode, attention, cell):
    model = make_model(mode, attention, cell, bidirectional=True, layers=2)
    source, target_in, mask = make_batch(mode)
    outputs, _ = model(source, target_in, mask)
    probe = torch.randn(outputs.shape, generator=torch.Generator().manual_seed(2))
    (outputs * probe).sum().backward()
    names = [name for name, _ in model.named_parameters()]
    assert any(name.startswith("decoder.attention") for name in names) == (attention != "none")
    assert any("reverse" in name for name in names)  # bidirectional
    assert any("l1" in name for name in names)  # second layer
    for name, parameter in model.named_parameters():
        assert parameter.grad is not None, name
        assert parameter.grad.abs().sum() > 0, name


# ----------------------------------------------------------------------------------------
# Teacher forcing and feedback
# ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["numeric", "token"])
def test_teacher_forcing_reads_every_row_of_target_in(mode):
    model = make_model(mode).eval()
    source, target_in, mask = make_batch(mode)
    outputs, _ = model(source, target_in, mask)

    memory, state = model.encode(source, mask)
    for t in range(T):
        out, state, _ = model.step(target_in[:, t], state, memory)
        torch.testing.assert_close(outputs[:, t], out)
    # And the later rows matter: changing one changes the outputs from that step on.
    changed = target_in.clone()
    changed[:, 2] = changed[:, 2] + 1 if mode == "numeric" else (changed[:, 2] % 8) + 1
    outputs2, _ = model(source, changed, mask)
    torch.testing.assert_close(outputs2[:, :2], outputs[:, :2])
    assert not torch.allclose(outputs2[:, 2], outputs[:, 2])


@pytest.mark.parametrize("mode", ["numeric", "token"])
def test_feedback_gives_the_input_of_every_later_step(mode):
    model = make_model(mode).eval()
    source, target_in, mask = make_batch(mode)
    calls, fed = [], []

    def feedback(previous, t):
        calls.append((previous.detach().clone(), t))
        if mode == "numeric":
            step_in = previous.sum(-1, keepdim=True).expand(-1, 3) * 0.5 + t  # (B, 3)
        else:
            step_in = previous.argmax(-1)  # (B,) greedy tokens
        fed.append(step_in)
        return step_in

    outputs, _ = model(source, target_in, mask, feedback=feedback)
    assert [t for _, t in calls] == list(range(1, T))
    for (previous, _), t in zip(calls, range(1, T), strict=True):
        torch.testing.assert_close(previous, outputs[:, t - 1])

    # The same outputs come from stepping by hand with target_in[:, 0] then the fed inputs.
    memory, state = model.encode(source, mask)
    step_ins = [target_in[:, 0]] + fed
    for t in range(T):
        out, state, _ = model.step(step_ins[t], state, memory)
        torch.testing.assert_close(outputs[:, t], out)

    # target_in beyond step 0 is never read.
    scrambled = target_in.clone()
    scrambled[:, 1:] = target_in[:, 1:].flip(0)
    outputs2, _ = model(source, scrambled, mask, feedback=feedback)
    torch.testing.assert_close(outputs2, outputs)


# ----------------------------------------------------------------------------------------
# Attention weights and padding
# ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["numeric", "token"])
@pytest.mark.parametrize("attention", ["bahdanau", "luong"])
def test_return_weights_rows_sum_to_one_and_padding_gets_zero(mode, attention):
    model = make_model(mode, attention).eval()
    source, target_in, mask = make_batch(mode)
    _, weights = model(source, target_in, mask, return_weights=True)  # (B, T, S)
    assert weights.shape == (B, T, S)
    torch.testing.assert_close(weights.sum(-1), torch.ones(B, T))
    padded = ~mask[:, None, :].expand(B, T, S)
    assert padded.any()
    assert (weights[padded] == 0.0).all()
    assert (weights[~padded] > 0.0).all()


def test_weights_equal_the_steps_weights():
    model = make_model("numeric", "bahdanau").eval()
    source, target_in, mask = make_batch()
    _, weights = model(source, target_in, mask, return_weights=True)
    memory, state = model.encode(source, mask)
    for t in range(T):
        _, state, step_weights = model.step(target_in[:, t], state, memory)
        torch.testing.assert_close(weights[:, t], step_weights)


def test_without_mask_every_position_is_attended():
    model = make_model("numeric", "bahdanau").eval()
    source, target_in, _ = make_batch()
    _, weights = model(source, target_in, return_weights=True)
    assert (weights > 0).all()
    torch.testing.assert_close(weights.sum(-1), torch.ones(B, T))


# ----------------------------------------------------------------------------------------
# Configuration
# ----------------------------------------------------------------------------------------


def test_sizes_follow_the_config():
    model = make_model("token", "bahdanau", "gru", bidirectional=True, layers=2)
    assert model.source_adapter.weight.shape == (11, 5)
    assert model.target_adapter.weight.shape == (9, 5)
    assert model.source_adapter.padding_idx == 0
    assert model.encoder.output_size == 16
    assert model.decoder.attention.key_layer.weight.shape == (7, 16)
    assert model.head.weight.shape == (9, 8 + 16 + 5)

    numeric = make_model("numeric", "none", "lstm", bidirectional=False, layers=1)
    assert isinstance(numeric.source_adapter, torch.nn.Identity)
    assert numeric.head.weight.shape == (2, 8 + 0 + 3)


def test_defaults_give_attention_and_embedding_the_hidden_size():
    torch.manual_seed(0)
    model = Seq2Seq(CoreConfig(hidden_size=6, source_vocab=5, target_vocab=5, output_size=5))
    assert model.decoder.attention.query_layer.weight.shape == (6, 6)
    assert model.source_adapter.weight.shape == (5, 6)


def test_same_seed_gives_same_model():
    a, b = make_model(), make_model()
    for (name, x), (_, y) in zip(a.state_dict().items(), b.state_dict().items(), strict=True):
        assert torch.equal(x, y), name


def test_unknown_options_are_rejected():
    with pytest.raises(ValueError, match="attention must be one of"):
        Seq2Seq(CoreConfig(attention="luong-dot"))
    with pytest.raises(ValueError, match="cell must be one of"):
        Seq2Seq(CoreConfig(cell="rnn"))
