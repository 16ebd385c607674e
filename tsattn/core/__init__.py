"""The shared core: pure torch modules, no pandas, no scikit-learn."""

from tsattn.core.attention import BahdanauAttention, LuongAttention, build_attention
from tsattn.core.decoder import AttentionDecoder, Memory
from tsattn.core.encoder import RNNEncoder
from tsattn.core.seq2seq import CoreConfig, Seq2Seq

__all__ = [
    "AttentionDecoder",
    "BahdanauAttention",
    "CoreConfig",
    "LuongAttention",
    "Memory",
    "RNNEncoder",
    "Seq2Seq",
    "build_attention",
]
