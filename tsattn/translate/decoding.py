"""Decoding: target token ids from a trained :class:`~tsattn.core.Seq2Seq`, in batches.

Sources of similar lengths are encoded together (little time goes to padding) and decoded by
greedy search or, with a beam, beam search (:mod:`tsattn.core.search`); every row is cut after
its first ``<eos>``.
"""

from __future__ import annotations

import torch

from tsattn.core.search import beam_search, greedy_search
from tsattn.core.seq2seq import Seq2Seq
from tsattn.translate.vocab import BOS_INDEX, EOS_INDEX, PAD_INDEX, pad_ids

__all__ = ["PREDICT_BATCH", "decode_ids"]

# Sentences decoded per batch at prediction time; a beam multiplies the rows by beam_size.
PREDICT_BATCH = 256


def decode_ids(
    module: Seq2Seq,
    rows: list[list[int]],
    device: torch.device,
    max_length: int,
    beam_size: int,
    length_penalty: float,
) -> list[list[int]]:
    """Target ids of each source, up to and including ``<eos>`` where one was produced.

    Parameters
    ----------
    module : tsattn.core.Seq2Seq
        The trained translator's module; it is put in evaluation mode.
    rows : list of list of int
        Source ids, each ending with ``<eos>``.
    device : torch.device
        Where ``module`` lives.
    max_length : int
        Most tokens generated per sentence, ``<eos>`` included.
    beam_size : int
        1 for greedy search, more for beam search.
    length_penalty : float
        Beam hypotheses are ranked by log-probability / length ** ``length_penalty``.

    Returns
    -------
    list of list of int
        One row of target ids per source, in the order of ``rows``.
    """
    # Similar lengths share a batch, so little time goes to padding.
    order = sorted(range(len(rows)), key=lambda i: len(rows[i]))
    results: list[list[int]] = [[] for _ in rows]
    module = module.eval()
    with torch.no_grad():
        for begin in range(0, len(order), PREDICT_BATCH):
            chunk = order[begin : begin + PREDICT_BATCH]
            source, lengths = pad_ids([rows[i] for i in chunk], device)  # (B, S), (B,)
            mask = torch.arange(source.shape[1], device=device) < lengths[:, None]
            memory, state = module.encode(source, mask, lengths)
            if beam_size == 1:
                tokens, _ = greedy_search(
                    module.step, memory, state, BOS_INDEX, EOS_INDEX, max_length, PAD_INDEX
                )
            else:
                tokens, _ = beam_search(
                    module.step, memory, state, BOS_INDEX, EOS_INDEX, max_length,
                    beam_size, float(length_penalty), PAD_INDEX,
                )  # fmt: skip
            for i, row in zip(chunk, tokens.cpu().tolist(), strict=True):
                end = row.index(EOS_INDEX) + 1 if EOS_INDEX in row else len(row)
                results[i] = row[:end]
    return results
