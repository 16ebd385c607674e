import math

import pytest
import torch

from tsattn.core.decoder import Memory
from tsattn.core.search import beam_search, greedy_search, length_penalty
from tsattn.core.seq2seq import CoreConfig, Seq2Seq

PAD, BOS, EOS, A, B = range(5)


def table(rows: dict[int, dict[int, float]]) -> torch.Tensor:
    """Logits (V, V): row = previous token, the given next-token probabilities, tiny elsewhere."""
    probs = torch.full((5, 5), 1e-6)
    for previous, nexts in rows.items():
        for token, p in nexts.items():
            probs[previous, token] = p
    return probs.log()


# The greedy path is not the most probable sequence: greedy takes "a" (0.6) and then "<eos>"
# (0.34), 0.204 in all, while "b <eos>" has 0.4 * 0.9 = 0.36.
GREEDY_TRAP = table(
    {BOS: {A: 0.6, B: 0.4}, A: {EOS: 0.34, A: 0.33, B: 0.33}, B: {EOS: 0.9, A: 0.05, B: 0.05}}
)
# A short sentence with the higher probability (0.55) and a longer one with the higher
# probability per token (0.45 * 0.9 = 0.405 over two tokens).
SHORT_OR_LONG = table({BOS: {EOS: 0.55, A: 0.45}, A: {EOS: 0.9, A: 0.05, B: 0.05}})


def hand_built(*tables):
    """A step over hand-made tables; row i of the batch uses tables[i], read from its state."""
    stacked = torch.stack(tables)  # (n, V, V)

    def step(tokens, state, memory):
        which = state[0][0][:, 0].long()  # (B,) the state only carries the table number
        return stacked[which, tokens], state, None  # (B, V)

    batch = len(tables)
    memory = Memory(torch.zeros(batch, 1, 1), None, None)
    state = [(torch.arange(batch, dtype=torch.float32)[:, None],)]  # (B, 1)
    return step, memory, state


def log_prob(logits: torch.Tensor, tokens: list[int]) -> float:
    """Log-probability of ``tokens`` under a table."""
    log_probs = logits.log_softmax(-1)
    previous, total = BOS, 0.0
    for token in tokens:
        total += float(log_probs[previous, token])
        previous = token
    return total


def test_greedy_follows_the_most_probable_token_and_stops_at_eos():
    step, memory, state = hand_built(GREEDY_TRAP)
    tokens, scores = greedy_search(step, memory, state, BOS, EOS, max_length=10)
    assert tokens.tolist() == [[A, EOS]]
    assert scores.item() == pytest.approx(log_prob(GREEDY_TRAP, [A, EOS]), abs=1e-6)
    assert scores.item() == pytest.approx(math.log(0.6 * 0.34), abs=1e-4)


def test_beam_finds_the_more_probable_sequence_greedy_misses():
    step, memory, state = hand_built(GREEDY_TRAP)
    tokens, scores = beam_search(step, memory, state, BOS, EOS, max_length=10, beam_size=2)
    assert tokens.tolist() == [[B, EOS]]
    assert scores.item() == pytest.approx(math.log(0.4 * 0.9), abs=1e-4)


def test_beam_size_one_on_the_trap_is_greedy():
    step, memory, state = hand_built(GREEDY_TRAP)
    tokens, scores = beam_search(step, memory, state, BOS, EOS, max_length=10, beam_size=1)
    assert tokens.tolist() == [[A, EOS]]
    assert scores.item() == pytest.approx(math.log(0.6 * 0.34), abs=1e-4)


def test_length_penalty_changes_the_choice_as_expected():
    step, memory, state = hand_built(SHORT_OR_LONG)
    short, short_score = beam_search(step, memory, state, BOS, EOS, 10, beam_size=2, alpha=0.0)
    assert short.tolist() == [[EOS]]
    assert short_score.item() == pytest.approx(math.log(0.55), abs=1e-4)  # -0.598
    # alpha=1: -0.598 / 1 for "<eos>" against log(0.405) / 2 = -0.452 for "a <eos>".
    long, long_score = beam_search(step, memory, state, BOS, EOS, 10, beam_size=2, alpha=1.0)
    assert long.tolist() == [[A, EOS]]
    assert long_score.item() == pytest.approx(math.log(0.45 * 0.9) / 2, abs=1e-4)


def test_length_penalty_helper():
    assert length_penalty(4, 0.0) == 1.0
    assert length_penalty(4, 1.0) == 4.0
    assert length_penalty(9, 0.5) == pytest.approx(3.0)


def test_batched_beam_keeps_each_sentence_apart_and_pads_after_eos():
    step, memory, state = hand_built(GREEDY_TRAP, SHORT_OR_LONG, GREEDY_TRAP)
    tokens, scores = beam_search(step, memory, state, BOS, EOS, 10, beam_size=2, alpha=0.0)
    assert tokens.tolist() == [[B, EOS], [EOS, PAD], [B, EOS]]
    assert scores.tolist() == pytest.approx(
        [math.log(0.36), math.log(0.55), math.log(0.36)], abs=1e-4
    )


def test_max_length_cuts_both_searches():
    loop = table({BOS: {A: 0.9}, A: {A: 0.9}})  # never ends
    step, memory, state = hand_built(loop)
    greedy, _ = greedy_search(step, memory, state, BOS, EOS, max_length=3)
    beam, score = beam_search(step, memory, state, BOS, EOS, max_length=3, beam_size=3)
    assert greedy.tolist() == beam.tolist() == [[A, A, A]]
    assert score.item() == pytest.approx(log_prob(loop, [A, A, A]), abs=1e-6)


# ----------------------------------------------------------------------------------------------
# over the real core


def tiny_model(attention="bahdanau", cell="lstm", bidirectional=False):
    torch.manual_seed(0)
    config = CoreConfig(
        source_vocab=12, target_vocab=10, output_size=10, hidden_size=8, cell=cell,
        bidirectional=bidirectional, attention=attention,
    )  # fmt: skip
    return Seq2Seq(config).eval()


def padded_batch():
    generator = torch.Generator().manual_seed(3)
    lengths = torch.tensor([5, 2, 4, 1, 3])
    source = torch.randint(4, 12, (5, 5), generator=generator)  # (B, S)
    mask = torch.arange(5)[None, :] < lengths[:, None]  # (B, S)
    return source.masked_fill(~mask, PAD), mask, lengths


@pytest.mark.parametrize(
    "attention, cell, bidirectional",
    [("bahdanau", "lstm", False), ("luong", "gru", True), ("none", "lstm", False)],
)
def test_beam_size_one_equals_greedy_on_a_model(attention, cell, bidirectional):
    model = tiny_model(attention, cell, bidirectional)
    source, mask, lengths = padded_batch()
    memory, state = model.encode(source, mask, lengths)
    greedy, greedy_scores = greedy_search(model.step, memory, state, BOS, EOS, max_length=7)
    beam, beam_scores = beam_search(model.step, memory, state, BOS, EOS, max_length=7, beam_size=1)
    assert torch.equal(greedy, beam)
    assert torch.allclose(greedy_scores, beam_scores, atol=1e-5)


def test_beam_score_is_the_models_log_probability_of_its_output():
    model = tiny_model()
    source, mask, lengths = padded_batch()
    memory, state = model.encode(source, mask, lengths)
    tokens, scores = beam_search(model.step, memory, state, BOS, EOS, 6, beam_size=3, alpha=0.5)
    target_in = torch.cat([torch.full((5, 1), BOS), tokens[:, :-1]], dim=1)  # (B, T)
    with torch.no_grad():
        logits, _ = model(source, target_in, mask, lengths=lengths)  # (B, T, V)
    picked = logits.log_softmax(-1).gather(-1, tokens[..., None])[..., 0]  # (B, T)
    real = torch.ones_like(tokens, dtype=torch.bool)
    for row in range(5):  # positions after a row's <eos> are padding
        ends = (tokens[row] == EOS).nonzero()
        if len(ends):
            real[row, int(ends[0]) + 1 :] = False
    n_tokens = real.sum(-1)
    expected = (picked * real).sum(-1) / n_tokens.float() ** 0.5
    assert torch.allclose(scores, expected, atol=1e-5)


def test_a_sentence_gets_the_same_beam_alone_and_in_a_batch():
    model = tiny_model(bidirectional=True)
    source, mask, lengths = padded_batch()
    memory, state = model.encode(source, mask, lengths)
    together, scores = beam_search(model.step, memory, state, BOS, EOS, 6, beam_size=4, alpha=0.7)
    for row in range(5):
        width = int(lengths[row])
        alone_memory, alone_state = model.encode(
            source[row : row + 1, :width], mask[row : row + 1, :width], lengths[row : row + 1]
        )
        alone, alone_score = beam_search(
            model.step, alone_memory, alone_state, BOS, EOS, 6, beam_size=4, alpha=0.7
        )
        assert together[row, : alone.shape[1]].tolist() == alone[0].tolist()
        assert (together[row, alone.shape[1] :] == PAD).all()
        assert alone_score.item() == pytest.approx(scores[row].item(), abs=1e-5)
