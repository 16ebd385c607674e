"""Seq2SeqTranslator: sentences in, sentences out, on the same core as the forecaster."""

from __future__ import annotations

import numpy as np
import pandas as pd
import torch
from sklearn.utils.validation import check_is_fitted
from torch.nn import functional as F

from tsattn.core.seq2seq import CoreConfig, Seq2Seq
from tsattn.estimator import Seq2SeqEstimator
from tsattn.parameters import check_params
from tsattn.training import TrainingConfig, resolve_device
from tsattn.translate.bleu import import_sacrebleu, reference_lists
from tsattn.translate.decoding import decode_ids
from tsattn.translate.file_checks import checked_state
from tsattn.translate.vocab import (
    BOS_INDEX,
    EOS,
    PAD_INDEX,
    TokenBatches,
    Vocabulary,
    detokenize,
    source_ids,
    tokenize,
)


class Seq2SeqTranslator(Seq2SeqEstimator):
    """Translate sentences with an RNN encoder-decoder and Bahdanau attention.

    The encoder reads the source tokens (and an ``<eos>``); the decoder writes the target one
    token at a time, attending to every source position. Training uses teacher forcing and
    cross-entropy over the target vocabulary; prediction uses greedy or beam search.

    Parameters
    ----------
    hidden_size : int, default=128
        Hidden units of the encoder and decoder RNNs.
    num_layers : int, default=1
        Stacked RNN layers in the encoder and in the decoder.
    cell : {"lstm", "gru"}, default="lstm"
        Recurrent cell.
    bidirectional : bool, default=False
        Encode the source in both directions.
    dropout : float, default=0.0
        Dropout between stacked layers.
    attention : {"bahdanau", "luong", "none"}, default="bahdanau"
        Additive attention, multiplicative ("general") attention, or the plain encoder-decoder
        that sees the source only through its final state.
    embedding_size : int or None, default=None
        Size of the token embeddings; None means ``hidden_size``.
    tokenizer : {"word", "char"}, default="word"
        How string sentences are split: on whitespace or into characters. Sentences given as
        lists of tokens are used as they are.
    min_freq : int, default=1
        Tokens seen fewer times in ``fit`` map to ``<unk>``.
    reverse_source : bool, default=False
        Feed the source backwards, as Sutskever et al. (2014) did to shorten the path from the
        first source words to the first target words (it matters mostly without attention).
    beam_size : int, default=1
        Hypotheses kept by beam search; 1 is greedy search.
    length_penalty : float, default=0.0
        Beam hypotheses are ranked by log-probability / length ** ``length_penalty``; 0 ranks by
        log-probability (favours short outputs), 1 by the mean per token.
    max_length : int or None, default=None
        Most tokens generated per sentence, ``<eos>`` included; None means the longest target
        seen in ``fit`` plus 10.
    max_epochs : int, default=50
        Upper bound on passes over the training pairs.
    batch_size : int, default=64
        Sentence pairs per optimiser step.
    learning_rate : float, default=1e-3
        Adam's learning rate.
    lr_schedule : {"cosine", "plateau"} or None, default=None
        The learning rate over the epochs. The rule: constant (``learning_rate`` throughout)
        unless a schedule is asked for. "cosine" anneals it from ``learning_rate`` to nearly 0
        over ``max_epochs``; "plateau" halves it whenever the validation loss (the training
        loss without validation) has not improved for half ``early_stopping_patience`` epochs,
        down to ``learning_rate / 1000`` (see :mod:`tsattn.schedules`).
    early_stopping_patience : int or None, default=5
        Epochs without a better validation loss before training stops; None trains all epochs.
    validation_size : float, default=0.1
        Share of the pairs held out at random to choose the epoch whose weights are kept; 0
        keeps the epoch with the best training loss.
    device : {"auto", "cpu", "cuda", "mps"}, "cuda:N" or torch.device, default="auto"
        Where to train; "auto" picks CUDA, then MPS, then the CPU; others must be available.
    random_state : int, numpy.random.RandomState or None, default=None
        Seeds weights, the validation split and batch order; the same value gives identical
        translations on CPU.
    verbose : bool, default=True
        Show a progress bar.

    Attributes
    ----------
    module_ : tsattn.core.Seq2Seq
        The trained torch module.
    history_ : pandas.DataFrame
        Per-epoch ``train_loss``, ``valid_loss`` (mean cross-entropy per target token) and
        ``seconds``.
    source_vocab_, target_vocab_ : tsattn.translate.vocab.Vocabulary
        Token ids of each side.
    max_length_ : int
        The output length limit used.
    device_ : torch.device
        Where the model lives.

    Examples
    --------
    >>> from tsattn import Seq2SeqTranslator
    >>> sources = ["one two", "two three", "three one"] * 20
    >>> targets = ["un deux", "deux trois", "trois un"] * 20
    >>> t = Seq2SeqTranslator(hidden_size=16, max_epochs=30, random_state=0, verbose=False)
    >>> t.fit(sources, targets).predict(["two three"])
    ['deux trois']
    """

    def __init__(
        self,
        hidden_size: int = 128,
        *,
        num_layers: int = 1,
        cell: str = "lstm",
        bidirectional: bool = False,
        dropout: float = 0.0,
        attention: str = "bahdanau",
        embedding_size: int | None = None,
        tokenizer: str = "word",
        min_freq: int = 1,
        reverse_source: bool = False,
        beam_size: int = 1,
        length_penalty: float = 0.0,
        max_length: int | None = None,
        max_epochs: int = 50,
        batch_size: int = 64,
        learning_rate: float = 1e-3,
        lr_schedule: str | None = None,
        early_stopping_patience: int | None = 5,
        validation_size: float = 0.1,
        device="auto",
        random_state=None,
        verbose: bool = True,
    ):
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.cell = cell
        self.bidirectional = bidirectional
        self.dropout = dropout
        self.attention = attention
        self.embedding_size = embedding_size
        self.tokenizer = tokenizer
        self.min_freq = min_freq
        self.reverse_source = reverse_source
        self.beam_size = beam_size
        self.length_penalty = length_penalty
        self.max_length = max_length
        self.max_epochs = max_epochs
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.lr_schedule = lr_schedule
        self.early_stopping_patience = early_stopping_patience
        self.validation_size = validation_size
        self.device = device
        self.random_state = random_state
        self.verbose = verbose

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = False
        tags.input_tags.string = True
        tags.target_tags.required = True
        return tags

    # ------------------------------------------------------------------------------------------
    # fit

    def _check_params(self) -> None:
        check_params(self)

    def _check_search_params(self) -> None:
        # Checked again at predict: they may be changed with set_params after fit.
        check_params(self, names=("beam_size", "length_penalty", "max_length"))

    def fit(self, sources, targets) -> Seq2SeqTranslator:
        """Train on pairs of sentences.

        Parameters
        ----------
        sources : sequence of str or sequence of lists of str
            Source sentences: strings (split by ``tokenizer``) or token lists.
        targets : sequence of str or sequence of lists of str
            Their translations, as many as ``sources``, in either form.

        Returns
        -------
        self : Seq2SeqTranslator
        """
        self._check_params()
        source_tokens, _ = tokenize(sources, self.tokenizer, "sources")
        target_tokens, _ = tokenize(targets, self.tokenizer, "targets")
        if len(source_tokens) != len(target_tokens):
            raise ValueError(
                f"sources and targets must pair up one to one, got {len(source_tokens)} sources "
                f"and {len(target_tokens)} targets"
            )
        device = resolve_device(self.device)
        seed = self._seed()
        rng = np.random.default_rng(seed)

        source_vocab = Vocabulary.build(source_tokens, self.min_freq)
        target_vocab = Vocabulary.build(target_tokens, self.min_freq)
        source_rows = [source_ids(source_vocab, s, self.reverse_source) for s in source_tokens]
        target_rows = [target_vocab.encode(t) for t in target_tokens]
        n_valid = int(round(self.validation_size * len(source_rows)))
        n_valid = n_valid if 0 < n_valid < len(source_rows) else 0
        order = rng.permutation(len(source_rows))

        def batches(index):
            rows = [source_rows[i] for i in index], [target_rows[i] for i in index]
            return TokenBatches(*rows, device) if len(index) else None

        train_data, valid_data = batches(order[n_valid:]), batches(order[:n_valid])
        config = CoreConfig(
            output_size=len(target_vocab),
            **self._rnn_options(),
            source_vocab=len(source_vocab),
            target_vocab=len(target_vocab),
            embedding_size=self.embedding_size,
            pad_index=PAD_INDEX,
        )
        training = TrainingConfig(**self._training_options())
        self._fit_module(config, _token_loss, train_data, valid_data, training, seed, device, rng)
        self.source_vocab_ = source_vocab
        self.target_vocab_ = target_vocab
        self.max_length_ = max(len(t) for t in target_tokens) + 10
        return self

    # ------------------------------------------------------------------------------------------
    # predict

    def predict(self, sources) -> list:
        """Translate sentences.

        Parameters
        ----------
        sources : sequence of str or sequence of lists of str
            Source sentences, in either form ``fit`` accepts.

        Returns
        -------
        list
            One translation per source: a string (tokens joined by spaces, or by nothing for
            ``tokenizer="char"``) for string sources, a token list for token-list sources.
        """
        check_is_fitted(self, "module_")
        tokens, pretokenized = tokenize(sources, self.tokenizer, "sources")
        return [
            detokenize(self.target_vocab_.decode(row), self.tokenizer, pretokenized)
            for row in self._translate_ids(tokens)
        ]

    def _translate_ids(self, source_tokens: list[list[str]]) -> list[list[int]]:
        """Target ids of each source, up to and including ``<eos>`` where one was produced."""
        self._check_search_params()
        max_length = self.max_length if self.max_length is not None else self.max_length_
        rows = [source_ids(self.source_vocab_, s, self.reverse_source) for s in source_tokens]
        return decode_ids(
            self.module_, rows, self.device_, max_length, self.beam_size, self.length_penalty
        )

    def attention_weights(self, source) -> pd.DataFrame:
        """Where the model looked in ``source`` while writing each token of its translation.

        Parameters
        ----------
        source : str or list of str
            One sentence.

        Returns
        -------
        pandas.DataFrame
            (target_len, source_len) weights: one row per output token (the translation's tokens
            and its ``<eos>``), one column per source token (and the ``<eos>`` the encoder reads
            last), labelled by the tokens; each row sums to one. Columns follow the sentence's
            own order even with ``reverse_source=True``. Draw it with
            :func:`tsattn.plotting.plot_attention`.
        """
        check_is_fitted(self, "module_")
        if self.attention == "none":
            raise ValueError(
                "this model has no attention (attention='none'), so there are no weights to "
                "show; fit with attention='bahdanau' or 'luong'"
            )
        tokens, _ = tokenize([source], self.tokenizer, "source")
        output = self._translate_ids(tokens)[0]
        ids = source_ids(self.source_vocab_, tokens[0], self.reverse_source)
        source_t = torch.tensor([ids], device=self.device_)  # (1, S)
        target_in = torch.tensor([[BOS_INDEX, *output[:-1]]], device=self.device_)  # (1, T)
        lengths = torch.tensor([len(ids)], device=self.device_)  # (1,)
        with torch.no_grad():
            _, weights = self.module_.eval()(
                source_t, target_in, None, return_weights=True, lengths=lengths
            )  # (1, T, S)
        weights = weights[0].cpu().numpy().astype(np.float64)  # (T, S)
        if self.reverse_source:
            weights = np.concatenate([weights[:, -2::-1], weights[:, -1:]], axis=1)
        return pd.DataFrame(
            weights,
            index=pd.Index([self.target_vocab_.itos[i] for i in output], name="output"),
            columns=pd.Index([*tokens[0], EOS], name="source"),
        )

    def score(self, sources, targets) -> float:
        """Corpus BLEU of the translations of ``sources`` against ``targets`` (sacrebleu).

        Parameters
        ----------
        sources : sequence of str or sequence of lists of str
            Source sentences.
        targets : sequence
            One entry per source: a reference (a string, or a token list for token-list sources)
            or a list of several references. Sentences may have different numbers of references.

        Returns
        -------
        float
            BLEU between 0 and 100, computed with sacrebleu's defaults on detokenised text
            (token lists are joined with spaces).
        """
        sacrebleu = import_sacrebleu()
        check_is_fitted(self, "module_")
        tokens, pretokenized = tokenize(sources, self.tokenizer, "sources")
        references = reference_lists(targets, len(tokens), pretokenized)
        hypotheses = [
            " ".join(self.target_vocab_.decode(row))
            if pretokenized
            else detokenize(self.target_vocab_.decode(row), self.tokenizer, False)
            for row in self._translate_ids(tokens)
        ]
        most = max(len(refs) for refs in references)
        streams = [[refs[j] if j < len(refs) else None for refs in references] for j in range(most)]
        return float(sacrebleu.corpus_bleu(hypotheses, streams).score)

    # ------------------------------------------------------------------------------------------
    # save / load

    def _state_artifacts(self):
        state = {
            "source_vocab_": self.source_vocab_.itos,
            "target_vocab_": self.target_vocab_.itos,
            "max_length_": self.max_length_,
        }
        return state, {}

    def _restore_state(self, state, tensors) -> None:
        vocabularies, max_length = checked_state(state, self.module_.config)
        self.source_vocab_ = vocabularies["source"]
        self.target_vocab_ = vocabularies["target"]
        self.max_length_ = max_length


def _token_loss(module: Seq2Seq, batch: dict[str, torch.Tensor]) -> torch.Tensor:
    """Mean cross-entropy per target token, teacher-forced; padding is ignored."""
    logits, _ = module(
        batch["source"], batch["target_in"], batch["mask"], lengths=batch["lengths"]
    )  # (B, T, V)
    return F.cross_entropy(logits.flatten(0, 1), batch["target"].flatten(), ignore_index=PAD_INDEX)
