"""Texts to token ids and back: tokenisation, the vocabulary, padded batches with masks.

Sources are encoded as their tokens followed by ``<eos>`` (an empty sentence still has one
position to attend to, and the encoder learns where a sentence ends); targets as ``<bos>``
followed by the tokens for the decoder's input, and the tokens followed by ``<eos>`` for the
loss. Batches are right-padded with ``<pad>`` and carry a mask and the true lengths, so the
encoder stops at each sentence's end and attention gives padding exactly zero weight.
Shapes: B batch, S source length, T target length.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence

import numpy as np
import torch

PAD, BOS, EOS, UNK = "<pad>", "<bos>", "<eos>", "<unk>"
SPECIALS = (PAD, BOS, EOS, UNK)
PAD_INDEX, BOS_INDEX, EOS_INDEX, UNK_INDEX = range(4)
TOKENIZERS = ("word", "char")


def tokenize(texts, tokenizer: str, name: str = "sources") -> tuple[list[list[str]], bool]:
    """Split texts into tokens, or check texts that are already token lists.

    Parameters
    ----------
    texts : sequence of str or sequence of sequences of str
        Sentences as strings, or pre-tokenised sentences (lists of strings, used as they are).
        All sentences must take the same form.
    tokenizer : {"word", "char"}
        How strings are split: on whitespace, or into characters (spaces included).
    name : str
        What the texts are called in error messages.

    Returns
    -------
    tokens : list of list of str
        One token list per sentence.
    pretokenized : bool
        True when the texts were token lists.

    Raises
    ------
    TypeError
        For a single string instead of a list, or tokens that are not strings.
    ValueError
        For an empty list, or strings mixed with token lists.
    """
    if isinstance(texts, (str, bytes)):
        raise TypeError(
            f"{name} must be a list of sentences, got a single string; wrap it: [{name}]"
        )
    if not isinstance(texts, Iterable):
        raise TypeError(
            f"{name} must be a list of strings or of token lists, got {type(texts).__name__}"
        )
    texts = list(texts)
    if not texts:
        raise ValueError(f"{name} is empty: give at least one sentence")
    is_string = [isinstance(text, str) for text in texts]
    if all(is_string):
        split = str.split if tokenizer == "word" else list
        return [split(text) for text in texts], False
    if any(is_string):
        first = is_string.index(False)
        raise ValueError(
            f"{name} mixes strings and token lists ({name}[{first}] is a "
            f"{type(texts[first]).__name__}); give all sentences as strings or all as token lists"
        )
    tokens = []
    for i, sentence in enumerate(texts):
        if not isinstance(sentence, Sequence):
            raise TypeError(
                f"{name}[{i}] must be a string or a list of string tokens, got "
                f"{type(sentence).__name__}"
            )
        for token in sentence:
            if not isinstance(token, str):
                raise TypeError(
                    f"{name}[{i}] holds a token {token!r} of type {type(token).__name__}; tokens "
                    f"must be strings (convert them, e.g. [str(t) for t in sentence])"
                )
        tokens.append(list(sentence))
    return tokens, True


def detokenize(tokens: Sequence[str], tokenizer: str, pretokenized: bool):
    """Join tokens back into the form the texts came in.

    Parameters
    ----------
    tokens : sequence of str
        One sentence.
    tokenizer : {"word", "char"}
        The tokenizer that split it.
    pretokenized : bool
        Return the token list itself rather than a string.

    Returns
    -------
    str or list of str
    """
    if pretokenized:
        return list(tokens)
    return ("" if tokenizer == "char" else " ").join(tokens)


class Vocabulary:
    """Tokens and their ids; the four specials come first, in the order of ``SPECIALS``.

    Parameters
    ----------
    tokens : sequence of str
        Every token, specials first; build one from sentences with :meth:`build`.
    """

    def __init__(self, tokens: Sequence[str]):
        tokens = list(tokens)
        if tuple(tokens[: len(SPECIALS)]) != SPECIALS:
            raise ValueError(f"a vocabulary must start with the special tokens {SPECIALS}")
        if len(set(tokens)) != len(tokens):
            raise ValueError("a vocabulary cannot hold a token twice")
        self.itos = tokens
        self.stoi = {token: i for i, token in enumerate(tokens)}
        # Text that happens to contain "<eos>" must not end a sentence: specials are never looked up.
        self._lookup = {token: i for i, token in enumerate(tokens) if i >= len(SPECIALS)}

    @classmethod
    def build(cls, sentences: Iterable[Sequence[str]], min_freq: int = 1) -> Vocabulary:
        """The vocabulary of the tokens that occur at least ``min_freq`` times.

        Tokens are ordered by decreasing count, ties alphabetically, so the same sentences
        always give the same ids.

        Parameters
        ----------
        sentences : iterable of sequences of str
            Tokenised sentences.
        min_freq : int
            Rarer tokens map to ``<unk>``.

        Returns
        -------
        Vocabulary
        """
        counts = Counter(token for sentence in sentences for token in sentence)
        for special in SPECIALS:
            counts.pop(special, None)
        kept = sorted(
            (t for t, c in counts.items() if c >= min_freq), key=lambda t: (-counts[t], t)
        )
        return cls(SPECIALS + tuple(kept))

    def __len__(self) -> int:
        return len(self.itos)

    def __eq__(self, other) -> bool:
        return isinstance(other, Vocabulary) and self.itos == other.itos

    def __repr__(self) -> str:
        return f"Vocabulary({len(self)} tokens)"

    def encode(self, tokens: Iterable[str]) -> list[int]:
        """Ids of ``tokens``; unknown tokens (and special tokens written in the text) become ``<unk>``."""
        return [self._lookup.get(token, UNK_INDEX) for token in tokens]

    def decode(self, ids: Iterable[int]) -> list[str]:
        """Tokens of ``ids`` up to the first ``<eos>``, without ``<pad>``/``<bos>``/``<eos>``."""
        tokens = []
        for i in ids:
            i = int(i)
            if i == EOS_INDEX:
                break
            if i not in (PAD_INDEX, BOS_INDEX):
                tokens.append(self.itos[i])
        return tokens


def pad_ids(rows: Sequence[Sequence[int]], device=None) -> tuple[torch.Tensor, torch.Tensor]:
    """Right-pad id lists into one tensor.

    Parameters
    ----------
    rows : sequence of sequences of int
        Each at least one id long.
    device : torch.device or None
        Where the tensors go.

    Returns
    -------
    ids : torch.Tensor
        (B, max length) int64, ``PAD_INDEX`` after each row's end.
    lengths : torch.Tensor
        (B,) int64.
    """
    lengths = np.fromiter((len(row) for row in rows), dtype=np.int64, count=len(rows))
    ids = np.full((len(rows), max(int(lengths.max()), 1)), PAD_INDEX, dtype=np.int64)
    for i, row in enumerate(rows):
        ids[i, : len(row)] = row
    return torch.from_numpy(ids).to(device), torch.from_numpy(lengths).to(device)


def source_ids(vocab: Vocabulary, tokens: Sequence[str], reverse: bool = False) -> list[int]:
    """A source sentence's ids: its tokens (reversed if asked) and ``<eos>``."""
    ids = vocab.encode(tokens)
    return (ids[::-1] if reverse else ids) + [EOS_INDEX]


class TokenBatches:
    """Padded batches of (source, target) pairs, held once on the device.

    Follows the training loop's ``BatchSource`` protocol: ``len`` and ``batch(index)``.

    Parameters
    ----------
    sources : sequence of lists of int
        Source ids, as :func:`source_ids` makes them.
    targets : sequence of lists of int
        Target ids without specials (``<bos>`` and ``<eos>`` are added here).
    device : torch.device
        Where batches are built.
    """

    def __init__(self, sources, targets, device: torch.device):
        self.source, self.source_lengths = pad_ids(sources, device)  # (N, S), (N,)
        self.target, self.target_lengths = pad_ids(
            [[BOS_INDEX, *row, EOS_INDEX] for row in targets], device
        )  # (N, T + 1), (N,)
        self.device = device

    def __len__(self) -> int:
        return len(self.source)

    def batch(self, index) -> dict[str, torch.Tensor]:
        """Gather the pairs at ``index``, cut to the batch's longest sentences.

        Returns
        -------
        dict
            ``source`` (B, S) ids, ``mask`` (B, S) True at real tokens, ``lengths`` (B,),
            ``target_in`` (B, T) ``<bos>`` and the target, ``target`` (B, T) the target and
            ``<eos>``, padded with ``<pad>`` (which the loss ignores).
        """
        index = torch.as_tensor(index, device=self.device)
        lengths = self.source_lengths[index]  # (B,)
        target_lengths = self.target_lengths[index]  # (B,)
        # One host sync per batch to cut padding no row needs.
        width, target_width = (int(v) for v in torch.stack([lengths.max(), target_lengths.max()]))
        source = self.source[index, :width]  # (B, S)
        target = self.target[index, :target_width]  # (B, T + 1)
        return {
            "source": source,
            "mask": torch.arange(width, device=self.device) < lengths[:, None],  # (B, S)
            "lengths": lengths,
            "target_in": target[:, :-1],
            "target": target[:, 1:],
        }
