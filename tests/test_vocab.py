import json
import re

import numpy as np
import pytest
import torch

from tsattn.core.seq2seq import CoreConfig, Seq2Seq
from tsattn.translate.vocab import (
    BOS_INDEX,
    EOS_INDEX,
    PAD_INDEX,
    SPECIALS,
    UNK_INDEX,
    TokenBatches,
    Vocabulary,
    detokenize,
    pad_ids,
    source_ids,
    tokenize,
)


def test_specials_have_fixed_ids():
    assert SPECIALS == ("<pad>", "<bos>", "<eos>", "<unk>")
    assert (PAD_INDEX, BOS_INDEX, EOS_INDEX, UNK_INDEX) == (0, 1, 2, 3)


def test_tokenize_words_characters_and_token_lists():
    assert tokenize(["a  cat\tsat ", ""], "word") == ([["a", "cat", "sat"], []], False)
    assert tokenize(["3 may"], "char") == ([["3", " ", "m", "a", "y"]], False)
    assert tokenize([["3", "may"], ("x",)], "char") == ([["3", "may"], ["x"]], True)


def test_detokenize_inverts_tokenize():
    assert detokenize(["a", "cat"], "word", False) == "a cat"
    assert detokenize(["3", " ", "m"], "char", False) == "3 m"
    assert detokenize(["a", "cat"], "word", True) == ["a", "cat"]


@pytest.mark.parametrize(
    "texts, error, words",
    [
        ([], ValueError, "sources is empty"),
        ("a cat", TypeError, "single string"),
        (5, TypeError, "list of strings"),
        (["a cat", ["a", "cat"]], ValueError, "mixes strings and token lists"),
        ([["a", 3]], TypeError, "token 3 of type int"),
        ([["a"], 7], TypeError, "sources[1] must be a string or a list"),
    ],
)
def test_tokenize_rejects_bad_input_clearly(texts, error, words):
    with pytest.raises(error, match=re.escape(words)):
        tokenize(texts, "word", "sources")


def test_build_orders_by_count_then_alphabet_and_drops_rare_tokens():
    sentences = [["b", "a", "c"], ["a", "b", "d"], ["a"]]
    vocab = Vocabulary.build(sentences)
    assert vocab.itos == [*SPECIALS, "a", "b", "c", "d"]
    assert Vocabulary.build(sentences, min_freq=2).itos == [*SPECIALS, "a", "b"]
    assert len(Vocabulary.build(sentences, min_freq=4)) == 4


def test_encode_maps_unknown_and_written_specials_to_unk():
    vocab = Vocabulary.build([["a", "b"]])
    assert vocab.encode(["b", "zzz", "a", "<eos>", "<pad>"]) == [
        5,
        UNK_INDEX,
        4,
        UNK_INDEX,
        UNK_INDEX,
    ]


def test_decode_stops_at_eos_and_drops_pad_and_bos():
    vocab = Vocabulary.build([["a", "b"]])
    assert vocab.decode([BOS_INDEX, 4, PAD_INDEX, UNK_INDEX, 5, EOS_INDEX, 4]) == [
        "a",
        "<unk>",
        "b",
    ]


def test_vocabulary_round_trips_through_json():
    vocab = Vocabulary.build([["le", "chat"], ["le", "chien", "é"]])
    again = Vocabulary(json.loads(json.dumps(vocab.itos)))
    assert again == vocab
    tokens = ["le", "chien", "é", "chat"]
    assert again.decode(again.encode(tokens)) == tokens


def test_vocabulary_rejects_a_token_list_without_specials_or_with_duplicates():
    with pytest.raises(ValueError, match="special tokens"):
        Vocabulary(["a", "b"])
    with pytest.raises(ValueError, match="twice"):
        Vocabulary([*SPECIALS, "a", "a"])


def test_source_ids_end_with_eos_and_can_be_reversed():
    vocab = Vocabulary.build([["x", "y", "y"]])  # y=4, x=5
    assert source_ids(vocab, ["x", "y", "q"]) == [5, 4, UNK_INDEX, EOS_INDEX]
    assert source_ids(vocab, ["x", "y", "q"], reverse=True) == [UNK_INDEX, 4, 5, EOS_INDEX]
    assert source_ids(vocab, []) == [EOS_INDEX]


def test_pad_ids_right_pads():
    ids, lengths = pad_ids([[5, 6, 7], [8]])
    assert ids.tolist() == [[5, 6, 7], [8, 0, 0]]
    assert lengths.tolist() == [3, 1]


def test_batches_pad_mask_and_shift_targets():
    sources = [[5, 6, 7, EOS_INDEX], [8, EOS_INDEX], [9, 9, 9, 9, 9, EOS_INDEX]]
    targets = [[4, 5], [6], [7, 7, 7]]
    data = TokenBatches(sources, targets, torch.device("cpu"))
    assert len(data) == 3
    batch = data.batch(np.array([1, 0]))
    # Cut to the longest row of the batch, not of the data.
    assert batch["source"].tolist() == [[8, EOS_INDEX, 0, 0], [5, 6, 7, EOS_INDEX]]
    assert batch["mask"].tolist() == [[True, True, False, False], [True, True, True, True]]
    assert batch["lengths"].tolist() == [2, 4]
    # The <eos> a shorter row reads is harmless: what it predicts is padding, ignored by the loss.
    assert batch["target_in"].tolist() == [[BOS_INDEX, 6, EOS_INDEX], [BOS_INDEX, 4, 5]]
    assert batch["target"].tolist() == [[6, EOS_INDEX, 0], [4, 5, EOS_INDEX]]


def tiny_core(attention="bahdanau", bidirectional=True):
    torch.manual_seed(0)
    config = CoreConfig(
        source_vocab=12,
        target_vocab=10,
        output_size=10,
        hidden_size=8,
        bidirectional=bidirectional,
        attention=attention,
    )
    return Seq2Seq(config).eval()


@pytest.mark.parametrize("attention", ["bahdanau", "luong"])
def test_padding_gets_zero_attention(attention):
    sources = [[5, 6, 7, 8, EOS_INDEX], [9, EOS_INDEX], [10, 11, EOS_INDEX]]
    data = TokenBatches(sources, [[4, 5], [6], [7, 7, 7]], torch.device("cpu"))
    batch = data.batch(np.arange(3))
    with torch.no_grad():
        _, weights = tiny_core(attention)(
            batch["source"],
            batch["target_in"],
            batch["mask"],
            return_weights=True,
            lengths=batch["lengths"],
        )  # (B, T, S)
    padded = ~batch["mask"][:, None, :].expand_as(weights)
    assert padded.sum() == 3 * 4 + 2 * 4  # rows 1 and 2 have 3 and 2 padded positions, 4 steps
    assert (weights[padded] == 0).all()
    assert torch.allclose(weights.sum(-1), torch.ones(3, 4))


def test_a_sentence_encodes_the_same_alone_and_among_longer_ones():
    # The encoder stops at each sentence's end, so padding never reaches its final state.
    model = tiny_core("none", bidirectional=True)
    sources = [[5, 6, 7, 8, EOS_INDEX], [9, EOS_INDEX]]
    batch = TokenBatches(sources, [[4], [4]], torch.device("cpu")).batch(np.arange(2))
    with torch.no_grad():
        memory, state = model.encode(batch["source"], batch["mask"], batch["lengths"])
        alone_memory, alone_state = model.encode(torch.tensor([[9, EOS_INDEX]]), None, None)
    assert torch.allclose(memory.values[1, :2], alone_memory.values[0], atol=1e-6)
    assert (memory.values[1, 2:] == 0).all()
    for together, alone in zip(state[0], alone_state[0], strict=True):
        assert torch.allclose(together[1], alone[0], atol=1e-6)
