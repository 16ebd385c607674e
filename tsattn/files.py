"""The one way tsattn writes and reads its files: safetensors, durable, read once, checksummed.

Model files (:mod:`tsattn.io`) and training checkpoints (:mod:`tsattn.checkpoint`) are both
safetensors files whose header metadata names their format and version and carries a SHA-256
of everything else in the file. This module writes them and reads them back:

* :func:`write` is atomic and durable. The bytes go to a new file beside the destination,
  which is flushed to disk (``fsync``) before it is renamed over the destination, and the
  directory is flushed after the rename: a crash or a full disk at any moment leaves either
  the previous file or the new one, never a mix. The new file gets the permissions ``open()``
  would give it (``0o666`` less the umask), or those of the file it replaces, so that a model
  served by another user stays readable; a symbolic link is written through (it stays a link,
  its target gets the new content).
* :func:`read` reads the file's bytes once and parses the header and the tensors from those
  same bytes, so a save landing while a file is read can never give one file's metadata with
  another's weights. It checks the format, the version and the checksum before anything is
  built from the file, and never unpickles.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import secrets
import stat
import struct
from dataclasses import dataclass
from pathlib import Path

import torch

__all__ = ["FileFormat", "checksum", "read", "write"]

CHECKSUM_KEY = "sha256"
# A safetensors file opens with the header's length as a little-endian unsigned 64-bit integer.
_LENGTH = struct.Struct("<Q")


@dataclass(frozen=True)
class FileFormat:
    """A kind of tsattn file: its format name and version, and how errors talk about it.

    Attributes
    ----------
    name : str
        Stored as ``format`` in the header metadata.
    version : int
        The version this tsattn writes and the only one it reads.
    noun : str
        What the file is, in messages ("tsattn model file").
    unreadable : str
        What to do with a file that is not of this format.
    older : str
        What to do with a file of an older version.
    newer : str
        What to do with a file of a newer version.
    """

    name: str
    version: int
    noun: str
    unreadable: str
    older: str
    newer: str


def checksum(metadata: dict[str, str], tensors: dict[str, torch.Tensor]) -> str:
    """SHA-256 of the metadata (bar the checksum itself) and of every tensor's bytes.

    Every piece is length-prefixed, so no two different contents hash alike by shifting a
    boundary (a tensor's name running into its dtype, say).

    Parameters
    ----------
    metadata : dict of str to str
        Header metadata; the ``sha256`` entry, if any, is left out.
    tensors : dict of str to torch.Tensor
        The tensors as stored (names, dtypes, shapes and bytes all count).

    Returns
    -------
    str
        Hexadecimal digest.
    """
    digest = hashlib.sha256()

    def part(data: bytes | memoryview) -> None:
        digest.update(_LENGTH.pack(len(data)))
        digest.update(data)

    for key in sorted(metadata):
        if key != CHECKSUM_KEY:
            part(key.encode())
            part(metadata[key].encode())
    for name in sorted(tensors):
        tensor = tensors[name].detach().cpu()
        part(name.encode())
        part(f"{tensor.dtype}{list(tensor.shape)}".encode())
        part(_bytes(tensor))
    return digest.hexdigest()


def _bytes(tensor: torch.Tensor) -> memoryview:
    """A tensor's elements in order as raw bytes, whatever its dtype and strides."""
    flat = tensor.reshape(-1)
    if flat.numel() == 0:
        return memoryview(b"")
    if flat.stride(0) != 1:  # a broadcast (stride 0) or strided view: copy it out densely
        flat = torch.empty(flat.shape, dtype=flat.dtype).copy_(flat)
    return memoryview(flat.view(torch.uint8).numpy())


def write(
    path: str | os.PathLike,
    tensors: dict[str, torch.Tensor],
    metadata: dict[str, str],
    fmt: FileFormat,
) -> None:
    """Write a safetensors file atomically and durably, with its format and checksum.

    Parameters
    ----------
    path : str or os.PathLike
        Destination; a symbolic link is written through.
    tensors : dict of str to torch.Tensor
        Stored on the CPU, contiguous.
    metadata : dict of str to str
        Header metadata; ``format``, ``format_version`` and ``sha256`` are added.
    fmt : FileFormat
        The kind of file.

    Raises
    ------
    OSError
        When the file cannot be written (the message names ``path``); the previous file, if
        any, is left as it was and no temporary file remains.
    """
    from safetensors.torch import save

    tensors = {name: t.detach().cpu().contiguous() for name, t in tensors.items()}
    metadata = {**metadata, "format": fmt.name, "format_version": str(fmt.version)}
    metadata[CHECKSUM_KEY] = checksum(metadata, tensors)
    data = save(tensors, metadata=metadata)
    destination = Path(path)
    try:
        _write_durably(Path(os.path.realpath(destination)), data)
    except OSError as error:
        raise _naming(error, destination) from error


def _write_durably(target: Path, data: bytes) -> None:
    """``data`` into ``target`` through a flushed temporary file and a rename."""
    try:
        mode = stat.S_IMODE(os.stat(target).st_mode)
    except FileNotFoundError:
        mode = None  # a new file: open() applies the umask to 0o666 below
    directory = target.parent
    while True:
        temporary = directory / f".{target.name}.{secrets.token_hex(6)}.tmp"
        try:
            fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
            break
        except FileExistsError:
            continue
    try:
        with os.fdopen(fd, "wb") as handle:
            if mode is not None:
                os.chmod(handle.fileno(), mode)
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, target)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    _fsync_directory(directory)


def _fsync_directory(directory: Path) -> None:
    """Flush the rename to disk; where directories cannot be opened (Windows) it is skipped."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass  # some file systems refuse fsync on a directory; the rename itself has happened
    finally:
        os.close(fd)


def _naming(error: OSError, destination: Path) -> OSError:
    """The same kind of error, naming the destination rather than a temporary file."""
    reason = error.strerror or str(error)
    if error.errno is not None:
        named = type(error)(error.errno, f"cannot write {str(destination)!r}: {reason}")
    else:
        named = type(error)(f"cannot write {str(destination)!r}: {reason}")
    return named


def read(
    path: str | os.PathLike, fmt: FileFormat
) -> tuple[dict[str, str], dict[str, torch.Tensor]]:
    """Read a file written by :func:`write` once, and check it.

    Parameters
    ----------
    path : str or os.PathLike
        The file.
    fmt : FileFormat
        The kind of file expected.

    Returns
    -------
    metadata : dict of str to str
        The header metadata (format, version and checksum included).
    tensors : dict of str to torch.Tensor
        On the CPU.

    Raises
    ------
    FileNotFoundError
        When ``path`` does not exist.
    ValueError
        When the file is not of this format, is of another version, or is damaged (its
        content does not match its checksum).
    """
    from safetensors import SafetensorError
    from safetensors.torch import load

    where = str(path)
    if not Path(path).is_file():
        raise FileNotFoundError(f"no {fmt.noun} at {where!r}")
    with open(path, "rb") as handle:
        data = handle.read()
    try:
        metadata = _header_metadata(data)
        tensors = load(data)
    except (SafetensorError, ValueError) as error:
        raise ValueError(
            f"{where!r} is not a {fmt.noun} (not a safetensors file: {error}); {fmt.unreadable}"
        ) from None
    if metadata.get("format") != fmt.name:
        raise ValueError(f"{where!r} is a safetensors file but not a {fmt.noun}; {fmt.unreadable}")
    text = metadata.get("format_version", "")
    version = int(text) if re.fullmatch(r"[0-9]{1,9}", text) else 0
    if version < 1:
        raise ValueError(
            f"{where!r} is damaged: it has no valid format version ({text!r}); {fmt.unreadable}"
        )
    if version > fmt.version:
        raise ValueError(
            f"{where!r} was written in format {version}, newer than this tsattn reads "
            f"({fmt.version}); {fmt.newer}"
        )
    if version < fmt.version:
        raise ValueError(
            f"{where!r} was written in format {version}, older than this tsattn reads "
            f"({fmt.version}); {fmt.older}"
        )
    if metadata.get(CHECKSUM_KEY) != checksum(metadata, tensors):
        raise ValueError(
            f"{where!r} is damaged: its content does not match its checksum (changed on disk, "
            f"in transfer, or by hand); {fmt.unreadable}"
        )
    return metadata, tensors


def _header_metadata(data: bytes) -> dict[str, str]:
    """The ``__metadata__`` of a safetensors file's header, parsed from its bytes."""
    if len(data) < _LENGTH.size:
        raise ValueError("the file is shorter than a safetensors header")
    (length,) = _LENGTH.unpack_from(data)
    if length > len(data) - _LENGTH.size:
        raise ValueError("the header runs past the end of the file")
    try:
        header = json.loads(data[_LENGTH.size : _LENGTH.size + length])
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise ValueError("the header is not JSON") from None
    metadata = header.get("__metadata__", {}) if isinstance(header, dict) else None
    if not isinstance(metadata, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in metadata.items()
    ):
        raise ValueError("the header's metadata is not a map of strings")
    return metadata
