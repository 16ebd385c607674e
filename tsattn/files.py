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
* :func:`read` reads the file through one open handle, the header first: its length is
  bounded (:data:`MAX_HEADER`) and checked against the file's size, its JSON parsed, its format
  and version checked, and every tensor's dtype, shape and byte range checked against the
  file's size before the tensors' bytes are read. A save landing while a file is read replaces
  the file, not the open handle's content, so it can never give one file's metadata with
  another's weights. The checksum is checked before anything is built from the file, and
  nothing is ever unpickled. The header's own checks are :mod:`tsattn.safetensors_header`'s.
* :func:`write_bytes` is the same durable write for any other file (the command line's CSV
  and images).

The checksum detects damage (a truncated copy, a flipped bit, an edit by mistake), not
tampering: anyone who can edit a file can recompute it. What the header and the checks of
:mod:`tsattn.io` bound is what reading a file costs: memory and time in proportion to the
file's size.
"""

from __future__ import annotations

import hashlib
import os
import re
import secrets
import stat
import struct
from dataclasses import dataclass
from pathlib import Path

import torch

from tsattn.safetensors_header import MAX_HEADER, MAX_TENSORS, check_layout, read_header

__all__ = ["MAX_HEADER", "MAX_TENSORS", "FileFormat", "checksum", "read", "write", "write_bytes"]

CHECKSUM_KEY = "sha256"
# Every piece the checksum hashes is prefixed with its length as a little-endian unsigned
# 64-bit integer, as safetensors prefixes its header.
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
    write_bytes(path, save(tensors, metadata=metadata))


def write_bytes(path: str | os.PathLike, data: bytes) -> None:
    """Write a whole file or nothing, durably: the one way tsattn writes a file.

    The bytes go to a new file of a random name beside the destination, created exclusively
    (``O_EXCL``: never through a link or a file planted under that name), flushed to disk and
    renamed over the destination; the directory is flushed after the rename. A symbolic link
    at ``path`` is written through: it stays a link and its target gets the new content. The
    new file keeps the permissions of the file it replaces (a new one gets ``0o666`` less the
    umask).

    Parameters
    ----------
    path : str or os.PathLike
        Destination.
    data : bytes
        The file's whole content.

    Raises
    ------
    OSError
        When the file cannot be written (the message names ``path``); the previous file, if
        any, is left as it was and no temporary file remains.
    """
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
    """Read a file written by :func:`write` once, header first, and check it.

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
        When the file is not of this format (its header is too long, lists more than
        :data:`MAX_TENSORS` tensors, is not JSON, or does not describe the bytes that follow
        it), is of another version, or is damaged (its content does not match its checksum).
        Nothing past the header is read unless the header holds together.
    """
    from safetensors import SafetensorError
    from safetensors.torch import load

    where = str(path)
    if not Path(path).is_file():
        raise FileNotFoundError(f"no {fmt.noun} at {where!r}")

    def not_ours(reason) -> ValueError:
        return ValueError(
            f"{where!r} is not a {fmt.noun} (not a safetensors file: {reason}); {fmt.unreadable}"
        )

    with open(path, "rb") as handle:
        size = os.fstat(handle.fileno()).st_size
        try:
            head, header = read_header(handle, size)
        except ValueError as error:
            raise not_ours(error) from None
        _check_format(header.get("__metadata__", {}), where, fmt)
        try:
            data_size = check_layout(header, size - len(head))
        except ValueError as error:
            raise not_ours(error) from None
        data = head + handle.read(data_size)
    if len(data) != size:  # the file shrank while it was read
        raise not_ours("the file ends before its last tensor")
    try:
        tensors = load(data)
    except (SafetensorError, ValueError) as error:
        raise not_ours(error) from None
    metadata = header["__metadata__"]
    if metadata.get(CHECKSUM_KEY) != checksum(metadata, tensors):
        raise ValueError(
            f"{where!r} is damaged: its content does not match its checksum (changed on disk, "
            f"in transfer, or by hand); {fmt.unreadable}"
        )
    return metadata, tensors


def _check_format(metadata: dict[str, str], where: str, fmt: FileFormat) -> None:
    """Refuse another format or version, from the header alone."""
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
