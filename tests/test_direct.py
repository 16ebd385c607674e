"""The direct decoder (the whole horizon in one call) and segments (k steps per RNN step)."""

import numpy as np
import pandas as pd
import pytest
import torch

from tsattn import Seq2SeqForecaster, Seq2SeqRegressor, load, make_windows
from tsattn.core.attention import BahdanauAttention, LuongAttention, masked_softmax
from tsattn.core.seq2seq import CoreConfig, Seq2Seq, _segments
from tsattn.forecast.model_setup import segment_length
from tsattn.forecast.rollout import decode, make_loss, roll_out

B, S, T = 3, 7, 5


def model(**config):
    torch.manual_seed(0)
    sizes = {"source_features": 2, "target_features": 3, "output_size": 2, "hidden_size": 8}
    return Seq2Seq(CoreConfig(**{**sizes, "attention_size": 6, **config})).eval()


def batch():
    generator = torch.Generator().manual_seed(1)
    source = torch.randn(B, S, 2, generator=generator)
    target_in = torch.randn(B, T, 3, generator=generator)
    mask = torch.arange(S)[None, :] >= torch.arange(B)[:, None]  # row b: its b oldest padded
    return source, target_in, mask


# --------------------------------------------------------------------------------------------
# Attention with a query per step


@pytest.mark.parametrize("kind", ["bahdanau", "luong"])
def test_many_queries_attend_as_one_query_at_a_time(kind):
    torch.manual_seed(0)
    attention = BahdanauAttention(4, 5, 6) if kind == "bahdanau" else LuongAttention(4, 5)
    queries, keys = torch.randn(B, T, 4), torch.randn(B, S, 5)
    mask = batch()[2]
    proj = attention.project_keys(keys)
    context, weights = attention(queries, proj, keys, mask)  # (B, T, 5), (B, T, S)
    for t in range(T):
        one_context, one_weights = attention(queries[:, t], proj, keys, mask)
        torch.testing.assert_close(context[:, t], one_context)
        torch.testing.assert_close(weights[:, t], one_weights)
    assert (weights[0, :, :0] == 0).all() and (weights[2, :, :2] == 0).all()


def test_additive_energy_of_many_queries_has_the_tanh_gradients():
    torch.manual_seed(0)
    attention = BahdanauAttention(4, 5, 6).double()
    queries = torch.randn(B, T, 4, dtype=torch.float64, requires_grad=True)
    keys = torch.randn(B, S, 5, dtype=torch.float64, requires_grad=True)
    weights = attention(queries, attention.project_keys(keys), keys)[1]
    # v^T tanh(W q + U k) written out, the form of Bahdanau et al.
    z = attention.query_layer(queries)[:, :, None] + attention.key_layer(keys)[:, None]
    expected = masked_softmax(attention.energy_layer(torch.tanh(z))[..., 0], None)
    torch.testing.assert_close(weights, expected)
    grads = torch.autograd.grad(
        weights.square().sum(), [queries, keys, attention.energy_layer.weight]
    )
    wanted = torch.autograd.grad(
        expected.square().sum(), [queries, keys, attention.energy_layer.weight]
    )
    for got, want in zip(grads, wanted, strict=True):
        torch.testing.assert_close(got, want)


# --------------------------------------------------------------------------------------------
# The direct decoder


def test_direct_decoder_is_an_rnn_over_the_inputs_then_attention_over_the_source():
    module = model(decoder="direct")
    source, target_in, mask = batch()
    outputs, weights = module(source, target_in, mask, return_weights=True)
    memory, state = module.encode(source, mask)
    states, _ = module.decoder.rnn(target_in, state)  # (B, T, H): one call, no context fed in
    attention = module.decoder.attention
    context, expected_weights = attention(states, memory.proj_keys, memory.values, mask)
    expected = module.head(torch.cat([states, context, target_in], dim=-1))
    torch.testing.assert_close(outputs, expected)
    torch.testing.assert_close(weights, expected_weights)


def test_direct_decoder_step_t_reads_no_later_input():
    module = model(decoder="direct", attention="luong", cell="gru", num_layers=2)
    source, target_in, mask = batch()
    outputs = module(source, target_in, mask)[0]
    changed = target_in.clone()
    changed[:, 3:] += 1.0
    later = module(source, changed, mask)[0]
    torch.testing.assert_close(later[:, :3], outputs[:, :3])
    assert not torch.allclose(later[:, 3:], outputs[:, 3:])


def test_tokens_cannot_be_decoded_directly_or_in_segments():
    tokens = {"source_vocab": 9, "target_vocab": 9, "output_size": 9}
    with pytest.raises(ValueError, match="decoder='direct' needs decoder inputs known"):
        Seq2Seq(CoreConfig(decoder="direct", **tokens))
    with pytest.raises(ValueError, match="segment_length must be 1 for tokens"):
        Seq2Seq(CoreConfig(segment_length=2, **tokens))
    with pytest.raises(ValueError, match="decoder must be one of"):
        Seq2Seq(CoreConfig(decoder="parallel"))


# --------------------------------------------------------------------------------------------
# Segments


def test_segments_pad_the_oldest_end_and_mask_it():
    source = torch.arange(2 * 7 * 1, dtype=torch.float32).reshape(2, 7, 1)
    mask = torch.ones(2, 7, dtype=torch.bool)
    mask[1, :4] = False  # row 1: a short series, 4 steps of padding
    segments, segment_mask = _segments(source, mask, 3)
    assert segments.shape == (2, 3, 3)
    # two zeros of padding in front, then the steps in order, three per segment
    torch.testing.assert_close(segments[0], torch.tensor([[0.0, 0, 0], [1, 2, 3], [4, 5, 6]]))
    assert segment_mask.tolist() == [[True, True, True], [False, False, True]]


@pytest.mark.parametrize("decoder", ["recursive", "direct"])
def test_segment_weights_are_shared_by_the_real_steps_of_a_segment(decoder):
    module = model(decoder=decoder, segment_length=3)
    source, target_in, mask = batch()
    outputs, weights = module(source, target_in, mask, return_weights=True)
    assert outputs.shape == (B, T, 2) and weights.shape == (B, T, S)
    torch.testing.assert_close(weights.sum(-1), torch.ones(B, T))
    assert (weights[2, :, :2] == 0).all()  # padded steps get nothing
    # S = 7 is padded to 9: segments hold steps (pad, pad, 0), (1, 2, 3), (4, 5, 6)
    torch.testing.assert_close(weights[0, :, 1], weights[0, :, 3])
    torch.testing.assert_close(weights[0, :, 4], weights[0, :, 6])
    if decoder == "direct":  # steps 0-2 share a decoder segment, 3-4 the next one
        torch.testing.assert_close(weights[:, 0], weights[:, 2])


def test_a_direct_segment_decodes_k_steps_from_one_rnn_step():
    module = model(decoder="direct", segment_length=2)
    assert module.decoder.rnn.input_size == 2 * 3 and module.head.out_features == 2 * 2
    assert module.encoder.rnn.input_size == 2 * 2
    source, target_in, mask = batch()
    assert module(source, target_in, mask)[0].shape == (B, T, 2)


@pytest.mark.parametrize(
    ("input_size", "expected"), [(8, 1), (16, 1), (17, 2), (36, 3), (48, 3), (104, 7)]
)
def test_auto_segment_length_keeps_the_encoder_at_16_steps_or_fewer(input_size, expected):
    assert segment_length("auto", input_size) == expected
    assert segment_length(4, input_size) == 4


# --------------------------------------------------------------------------------------------
# Forecasting with it: no target leaks into training, predict is what the loss scored


@pytest.mark.parametrize("free_running", [False, True])
def test_direct_training_never_reads_the_true_previous_values(theta_batch, free_running):
    batch = theta_batch
    module = model(target_features=batch["target_in"].shape[-1], source_features=1,
                   output_size=1, decoder="direct")  # fmt: skip
    changed = batch["target_in"].clone()
    changed[:, 1:, 0] += 5.0  # other "true previous values"
    expected = decode(module, batch, batch["target_in"], free_running=free_running)[0]
    torch.testing.assert_close(
        decode(module, batch, changed, free_running=free_running)[0], expected
    )
    forecast, _ = roll_out(module, batch, 3)  # what predict runs, in the data's units
    scaled = (forecast - batch["loc"]) / batch["scale"]
    loss = make_loss("mae", free_running=free_running)(module, batch)
    torch.testing.assert_close(loss, (scaled - batch["target"]).abs().mean())


def tiny(**params):
    return {"horizon": 4, "input_size": 10, "hidden_size": 8, "max_epochs": 2, "batch_size": 16,
            "random_state": 0, "verbose": False, "season_length": 1, **params}  # fmt: skip


@pytest.fixture
def panel():
    rng = np.random.default_rng(0)
    t = np.arange(60.0)
    return pd.DataFrame(
        {f"s{i}": 20 + 5 * np.sin(t / 3 + i) + rng.normal(0, 1, 60) for i in range(3)}
    )


def test_forecaster_defaults_are_the_direct_decoder_with_auto_segments(panel):
    f = Seq2SeqForecaster(**tiny()).fit(panel)
    assert f.decoder == "direct" and f.segment_length == "auto"  # stored as given
    assert f.segment_length_ == 1 and f.module_.config.decoder == "direct"
    g = Seq2SeqForecaster(**tiny(input_size=24)).fit(panel)
    assert g.segment_length_ == 2 and g.module_.encoder.rnn.input_size == 2


@pytest.mark.parametrize("decoder", ["recursive", "direct"])
def test_segmented_forecaster_round_trips_and_explains_every_step(tmp_path, panel, decoder):
    f = Seq2SeqForecaster(**tiny(decoder=decoder, segment_length=3)).fit(panel)
    forecast = f.predict()
    assert forecast.shape == (4, 3) and np.isfinite(forecast.to_numpy()).all()
    weights = f.attention_weights()
    assert weights["lag"].max() == 10 and weights["step"].max() == 4
    np.testing.assert_allclose(
        weights.groupby(["unique_id", "step"])["weight"].sum(), 1.0, rtol=1e-5
    )
    f.save(tmp_path / "m.tsattn")
    g = load(tmp_path / "m.tsattn")
    assert g.segment_length_ == 3 and g.decoder == decoder
    np.testing.assert_allclose(g.predict().to_numpy(), forecast.to_numpy(), rtol=1e-6)


@pytest.mark.parametrize(
    ("params", "error", "match"),
    [
        ({"decoder": "parallel"}, ValueError, "decoder must be one of"),
        ({"segment_length": 0}, ValueError, "segment_length must be an integer >= 1"),
        ({"segment_length": "half"}, TypeError, "segment_length must be an integer"),
        ({"segment_length": 2.0}, TypeError, "segment_length must be an integer"),
    ],
)
def test_bad_decoder_or_segment_length_is_refused_before_training(panel, params, error, match):
    f = Seq2SeqForecaster(**tiny(**params))
    with pytest.raises(error, match=match):
        f.fit(panel)
    assert not hasattr(f, "module_")


def test_regressor_takes_the_direct_decoder_and_segments():
    series = 10 + np.sin(np.arange(120.0) / 4)
    X, Y = make_windows(series, input_size=12, horizon=4)
    r = Seq2SeqRegressor(hidden_size=8, max_epochs=3, decoder="direct", segment_length="auto",
                         random_state=0, verbose=False).fit(X, Y)  # fmt: skip
    assert r.segment_length_ == 1 and r.predict(X).shape == Y.shape
    r2 = Seq2SeqRegressor(hidden_size=8, max_epochs=3, decoder="direct", segment_length=4,
                          random_state=0, verbose=False).fit(X, Y)  # fmt: skip
    assert r2.module_.encoder.rnn.input_size == 4 and r2.predict(X).shape == Y.shape


def test_attention_size_sets_the_additive_units_and_none_means_hidden_size(panel):
    f = Seq2SeqForecaster(**tiny(attention_size=3)).fit(panel)
    assert f.module_.decoder.attention.key_layer.out_features == 3
    g = Seq2SeqForecaster(**tiny()).fit(panel)
    assert g.module_.decoder.attention.key_layer.out_features == 8  # hidden_size
    with pytest.raises(ValueError, match="attention_size must be an integer >= 1"):
        Seq2SeqForecaster(**tiny(attention_size=0)).fit(panel)
