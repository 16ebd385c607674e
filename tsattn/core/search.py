"""Greedy and beam search over one decoding step.

Both take ``step(tokens, state, memory) -> (logits, state, weights)``, which is what
:meth:`tsattn.core.Seq2Seq.step` is, and the ``memory`` and ``state`` of one
:meth:`~tsattn.core.Seq2Seq.encode`: the source is encoded and its keys projected once per batch.
Beam search is batched: the B sentences' K hypotheses are flattened to B*K rows, the best
continuations are picked by one ``topk`` over K*V candidates per sentence, and the beam of each
is recovered by ``//`` and its token by ``%``.
Shapes: B batch, K beam size, V vocabulary, T output length.
"""

from __future__ import annotations

from collections.abc import Callable

import torch

from tsattn.core.decoder import DecoderState, Memory, reorder_state

Step = Callable[
    [torch.Tensor, DecoderState, Memory], tuple[torch.Tensor, DecoderState, torch.Tensor | None]
]


def length_penalty(length: int | torch.Tensor, alpha: float) -> float | torch.Tensor:
    """Divisor of a hypothesis' log-probability: ``length ** alpha`` (alpha 0: no normalisation).

    Parameters
    ----------
    length : int or torch.Tensor
        Tokens generated, ``<eos>`` included.
    alpha : float
        0 ranks hypotheses by their log-probability, which favours short ones; 1 by the mean
        log-probability per token; values between trade the two off.

    Returns
    -------
    float or torch.Tensor
    """
    return length**alpha


@torch.no_grad()
def greedy_search(
    step: Step,
    memory: Memory,
    state: DecoderState,
    bos_index: int,
    eos_index: int,
    max_length: int,
    pad_index: int = 0,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Take the most probable token at every step until ``<eos>`` or ``max_length``.

    Parameters
    ----------
    step : callable
        ``step(tokens (B,), state, memory) -> (logits (B, V), state, weights)``.
    memory : Memory
        The encoded batch.
    state : DecoderState
        The decoder's initial state.
    bos_index, eos_index, pad_index : int
        Ids of ``<bos>`` (the first input), ``<eos>`` (ends a sentence), ``<pad>`` (fills a row
        after its ``<eos>``).
    max_length : int
        Most tokens generated per sentence, ``<eos>`` included.

    Returns
    -------
    tokens : torch.Tensor
        (B, T) int64, each row ending with ``<eos>`` then ``<pad>``, or cut at ``max_length``.
    scores : torch.Tensor
        (B,) log-probability of each row.
    """
    batch = memory.values.shape[0]
    device = memory.values.device
    tokens = torch.full((batch,), bos_index, dtype=torch.long, device=device)  # (B,)
    finished = torch.zeros(batch, dtype=torch.bool, device=device)  # (B,)
    scores = torch.zeros(batch, device=device)  # (B,)
    outputs = []
    for _ in range(max_length):
        logits, state, _ = step(tokens, state, memory)  # (B, V)
        best, tokens = logits.log_softmax(-1).max(-1)  # (B,), (B,)
        scores += best.masked_fill(finished, 0.0)
        tokens = tokens.masked_fill(finished, pad_index)
        outputs.append(tokens)
        finished |= tokens == eos_index
        if bool(finished.all()):
            break
    return torch.stack(outputs, dim=1), scores  # (B, T), (B,)


@torch.no_grad()
def beam_search(
    step: Step,
    memory: Memory,
    state: DecoderState,
    bos_index: int,
    eos_index: int,
    max_length: int,
    beam_size: int,
    alpha: float = 0.0,
    pad_index: int = 0,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Keep the ``beam_size`` best partial sentences at every step; return each sentence's best.

    A hypothesis ends when it produces ``<eos>`` among the K best continuations (or reaches
    ``max_length``) and is then scored by its log-probability divided by :func:`length_penalty`.
    At every step the 2K best continuations are taken, so that K hypotheses stay open however
    many of them just ended.
    A sentence's search stops once no open hypothesis can beat its best ended one: their
    log-probabilities only fall, so ``score / max_length ** alpha`` bounds what they can reach.
    With ``beam_size=1`` and ``alpha=0`` this is :func:`greedy_search`.

    Parameters
    ----------
    step, memory, state, bos_index, eos_index, max_length, pad_index
        As for :func:`greedy_search`.
    beam_size : int
        Hypotheses kept per sentence (K).
    alpha : float
        Length penalty exponent, >= 0.

    Returns
    -------
    tokens : torch.Tensor
        (B, T) int64 best hypothesis per sentence, ``<pad>`` after its ``<eos>``.
    scores : torch.Tensor
        (B,) its length-normalised log-probability.
    """
    batch, k = memory.values.shape[0], beam_size
    device = memory.values.device
    rows = torch.arange(batch, device=device).repeat_interleave(k)  # (B*K,)
    memory, state = memory.index_select(rows), reorder_state(state, rows)
    # Only the first of each sentence's K copies is open at the start, or all K would grow alike.
    open_scores = torch.full((batch, k), float("-inf"), device=device)  # (B, K) log-probabilities
    open_scores[:, 0] = 0.0
    history = torch.empty(batch * k, 0, dtype=torch.long, device=device)  # (B*K, t)
    tokens = torch.full((batch * k,), bos_index, dtype=torch.long, device=device)  # (B*K,)
    best_scores = torch.full((batch,), float("-inf"), device=device)  # (B,) normalised
    best = torch.full((batch, max_length), pad_index, dtype=torch.long, device=device)  # (B, T)
    best_lengths = torch.zeros(batch, dtype=torch.long, device=device)  # (B,)
    offsets = torch.arange(batch, device=device)[:, None] * k  # (B, 1) first row of each sentence

    for t in range(1, max_length + 1):
        logits, state, _ = step(tokens, state, memory)  # (B*K, V)
        log_probs = logits.log_softmax(-1)  # (B*K, V)
        vocab = log_probs.shape[-1]
        candidates = (open_scores.view(-1, 1) + log_probs).view(batch, k * vocab)  # (B, K*V)
        scores, flat = candidates.topk(2 * k, dim=-1)  # (B, 2K)
        beam, token = flat // vocab, flat % vocab  # (B, 2K) each
        parent = (offsets + beam).view(-1)  # (B*2K,) row of each candidate
        grown = torch.cat([history[parent], token.view(-1, 1)], dim=1)  # (B*2K, t)

        # Ended candidates among the K best (at the last step, all of them) compete for the
        # best; an <eos> ranked below K is dropped, as a beam of K would never have taken it.
        ended = (token == eos_index) | (t == max_length)  # (B, 2K)
        finishes = ended & (torch.arange(2 * k, device=device) < k)  # (B, 2K)
        normalised = (scores / length_penalty(t, alpha)).masked_fill(~finishes, float("-inf"))
        top, pick = normalised.max(-1)  # (B,), (B,)
        better = top > best_scores  # (B,)
        best_scores = torch.where(better, top, best_scores)
        chosen = grown.view(batch, 2 * k, t)[torch.arange(batch, device=device), pick]  # (B, t)
        best[better, :t] = chosen[better]
        best_lengths[better] = t

        # The K best candidates that did not end stay open.
        open_scores, keep = scores.masked_fill(ended, float("-inf")).topk(k, dim=-1)  # (B, K)
        kept = (torch.arange(batch, device=device)[:, None] * 2 * k + keep).view(-1)  # (B*K,)
        history, tokens = grown[kept], token.view(-1)[kept]  # (B*K, t), (B*K,)
        state = reorder_state(state, parent[kept])
        bound = open_scores.max(-1).values / length_penalty(max_length, alpha)  # (B,)
        if bool((best_scores >= bound).all()):
            break
    return best[:, : int(best_lengths.max())], best_scores  # (B, T), (B,)
