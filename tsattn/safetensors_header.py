"""The header of a safetensors file, read and checked before any tensor's bytes.

A safetensors file opens with the header's length, then the header: JSON naming every tensor's
dtype, shape and byte range, and string metadata. :func:`read_header` reads it with its length
bounded; :func:`check_layout` checks that it describes exactly the bytes that follow it.
:mod:`tsattn.files` reads tsattn's files through them, so that a damaged or foreign file is
refused from its header alone.
"""

from __future__ import annotations

import json
import struct

__all__ = ["MAX_HEADER", "MAX_TENSORS", "check_layout", "read_header"]

# A safetensors file opens with the header's length as a little-endian unsigned 64-bit integer.
_LENGTH = struct.Struct("<Q")
# The longest header read (safetensors' own limit): beyond it a file is not one of ours.
MAX_HEADER = 100_000_000
# The most tensors a file may list: a model of tens of layers, an ensemble of tens of members
# and a checkpoint's optimizer state stay far below; building a module costs time per tensor.
MAX_TENSORS = 65_536
# Bytes per element of every dtype a safetensors header may name.
_ITEMSIZE = {
    "BOOL": 1,
    "U8": 1,
    "I8": 1,
    "F8_E5M2": 1,
    "F8_E4M3": 1,
    "I16": 2,
    "U16": 2,
    "F16": 2,
    "BF16": 2,
    "I32": 4,
    "U32": 4,
    "F32": 4,
    "I64": 8,
    "U64": 8,
    "F64": 8,
}


def read_header(handle, size: int) -> tuple[bytes, dict]:
    """The bytes up to the end of a safetensors header, and the header parsed from them.

    The length is bounded (:data:`MAX_HEADER`) and checked against the file's size before
    the header is read; the header must be a JSON object whose ``__metadata__`` (added empty
    when missing) maps strings to strings.

    Parameters
    ----------
    handle : binary file
        Open at the start of the file.
    size : int
        The file's size in bytes.

    Returns
    -------
    head : bytes
        The length prefix and the header's bytes.
    header : dict
        The parsed header.

    Raises
    ------
    ValueError
        When the header is too long, runs past the end of the file, or is not such JSON.
    """
    head = handle.read(_LENGTH.size)
    if len(head) < _LENGTH.size:
        raise ValueError("the file is shorter than a safetensors header")
    (length,) = _LENGTH.unpack(head)
    if length > MAX_HEADER:
        raise ValueError(f"the header claims {length} bytes, more than {MAX_HEADER}")
    if length > size - _LENGTH.size:
        raise ValueError("the header runs past the end of the file")
    text = handle.read(length)
    if len(text) != length:
        raise ValueError("the header runs past the end of the file")
    try:
        header = json.loads(text)
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise ValueError("the header is not JSON") from None
    except RecursionError:
        raise ValueError("the header's JSON is nested too deeply") from None
    if not isinstance(header, dict):
        raise ValueError("the header is not a JSON object")
    metadata = header.setdefault("__metadata__", {})
    if not isinstance(metadata, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in metadata.items()
    ):
        raise ValueError("the header's metadata is not a map of strings")
    return head + text, header


def check_layout(header: dict, available: int) -> int:
    """The tensors' bytes the header describes; they must fill exactly ``available`` bytes.

    Every tensor needs a known dtype, a shape of non-negative integers and a byte range of
    exactly its elements' size; the ranges must follow one another from 0 without gap or
    overlap, as safetensors writes them.

    Parameters
    ----------
    header : dict
        As returned by :func:`read_header`.
    available : int
        The file's bytes after the header.

    Returns
    -------
    int
        The bytes of the tensors, equal to ``available``.

    Raises
    ------
    ValueError
        When the header lists more than :data:`MAX_TENSORS` tensors, describes one badly, or
        its tensors do not fill exactly ``available`` bytes.
    """
    if len(header) > MAX_TENSORS + 1:
        raise ValueError(f"the header lists {len(header) - 1} tensors, more than {MAX_TENSORS}")
    ranges = []
    for name, entry in header.items():
        if name == "__metadata__":
            continue
        if not isinstance(entry, dict) or set(entry) != {"dtype", "shape", "data_offsets"}:
            raise ValueError(f"tensor {name!r} is not described by a dtype, shape and offsets")
        dtype, shape, offsets = entry["dtype"], entry["shape"], entry["data_offsets"]
        if not isinstance(dtype, str) or dtype not in _ITEMSIZE:
            raise ValueError(f"tensor {name!r} has an unknown dtype {dtype!r}")
        if not isinstance(shape, list) or not all(_count(d) for d in shape):
            raise ValueError(f"tensor {name!r} has an invalid shape {shape!r}")
        if not (isinstance(offsets, list) and len(offsets) == 2 and all(map(_count, offsets))):
            raise ValueError(f"tensor {name!r} has invalid offsets {offsets!r}")
        elements = 1
        for d in shape:
            elements *= d
        begin, end = offsets
        if end - begin != elements * _ITEMSIZE[dtype]:
            raise ValueError(f"tensor {name!r}'s bytes do not match its shape {shape}")
        ranges.append((begin, end))
    position = 0
    for begin, end in sorted(ranges):
        if begin != position:
            raise ValueError("the tensors' byte ranges overlap or leave gaps")
        position = end
    if position != available:
        raise ValueError(
            f"the header describes {position} bytes of tensors, the file holds {available}"
        )
    return position


def _count(value) -> bool:
    """Whether ``value`` is a JSON integer >= 0 (a size or an offset)."""
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0
