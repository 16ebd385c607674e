"""Issue 24, classes 6, 7 and 9: crafted model files, the command line's writes, ranks.

A model file's checksum detects damage, not tampering: these tests edit files and recompute
it, as an attacker can, and check that ``load`` refuses them before spending more than the
file holds. The command line writes every file as model files are written; ``is_main_process``
knows its rank from the launcher before any process group exists.
"""

import builtins
import json
import os
import secrets
import stat
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from safetensors import safe_open
from safetensors.torch import load_file, save_file

import tsattn
from tsattn import distributed, files
from tsattn.cli import main
from tsattn.cli.output import write_whole
from tsattn.core import seq2seq
from tsattn.io import load

SAVED = Path(__file__).parent / "data" / "model-v2.tsattn"


def _metadata(path) -> dict:
    with safe_open(path, framework="pt") as handle:
        return dict(handle.metadata())


def _forge(source, target, edit_state=None, edit_tensors=None) -> None:
    """Copy a model file with its state and tensors edited, the checksum recomputed."""
    metadata, tensors = _metadata(source), load_file(source)
    if edit_state is not None:
        state = json.loads(metadata["state"])
        edit_state(state)
        metadata["state"] = json.dumps(state)
    if edit_tensors is not None:
        edit_tensors(tensors)
    metadata["sha256"] = files.checksum(metadata, tensors)
    save_file(tensors, target, metadata=metadata)


@pytest.fixture
def nothing_built(monkeypatch):
    """Fail if a Seq2Seq is built on a real device (the meta device allocates nothing)."""
    real = seq2seq.Seq2Seq.__init__

    def guarded(self, config):
        if torch.empty(0).device.type != "meta":
            raise AssertionError(f"a module was built from the file: {config}")
        real(self, config)

    monkeypatch.setattr(seq2seq.Seq2Seq, "__init__", guarded)


# --------------------------------------------------------------------------------------------
# Class 6: every size in the JSON is checked before anything is built


def _set_core(**sizes):
    def edit(state):
        state["core"].update(sizes)

    return edit


@pytest.mark.parametrize(
    "sizes",
    [
        {"hidden_size": 20000},
        {"hidden_size": 10**9},
        {"attention_size": 10**9},
        {"segment_length": 10**9},
        {"source_features": 10**9},
        {"target_features": 10**9},
        {"output_size": 10**9},
        {"embedding_size": 10**9, "source_vocab": 5},
        {"num_layers": 10**6},
        {"num_layers": 10**6, "hidden_size": 1},
        {"num_layers": 3},
        {"hidden_size": 16},  # small, but not the weights' size
        {"hidden_size": 8.0},
        {"hidden_size": True},
        {"num_layers": 0},
        {"cell": "transformer"},
        {"dropout": 2.0},
        {"source_covariates": 5},
        {"unknown": 1},
    ],
)
def test_crafted_core_sizes_are_refused_before_anything_is_built(tmp_path, sizes, nothing_built):
    path = tmp_path / "crafted.tsattn"
    _forge(SAVED, path, edit_state=_set_core(**sizes))
    with pytest.raises(ValueError, match="is damaged or was not written by this version"):
        load(path)


def test_sizes_matching_forged_tensors_of_another_shape_are_refused(tmp_path, nothing_built):
    # hidden_size=9 and a head of that size, but the RNNs keep the weights of size 8.
    def wider_head(tensors):
        tensors["module.head.weight"] = torch.zeros(3, 20)

    path = tmp_path / "crafted.tsattn"
    _forge(SAVED, path, edit_state=_set_core(hidden_size=9), edit_tensors=wider_head)
    with pytest.raises(ValueError, match="damaged"):
        load(path)


class _CountingReader:
    """A file opened for reading that counts, and bounds, the bytes read from it."""

    def __init__(self, handle, limit):
        self.handle, self.limit, self.read_bytes = handle, limit, 0

    def read(self, size=-1):
        if size is None or size < 0 or self.read_bytes + size > self.limit:
            raise AssertionError(f"read({size}) after {self.read_bytes} bytes")
        data = self.handle.read(size)
        self.read_bytes += len(data)
        return data

    def fileno(self):
        return self.handle.fileno()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.handle.close()


@pytest.fixture
def bounded_reads(monkeypatch):
    """``open`` in tsattn.files reads at most 4 KiB per file."""
    readers = []

    def bounded_open(path, mode="r", *args, **kwargs):
        reader = _CountingReader(builtins.open(path, mode, *args, **kwargs), 4096)
        readers.append(reader)
        return reader

    monkeypatch.setattr(files, "open", bounded_open, raising=False)
    return readers


def _sparse(path, head: bytes, size: int) -> None:
    with open(path, "wb") as handle:
        handle.write(head)
    os.truncate(path, size)  # a hole: no disk used


def _header(tensors: dict, metadata=None) -> bytes:
    header = dict(tensors)
    if metadata is not None:
        header["__metadata__"] = metadata
    text = json.dumps(header).encode()
    return len(text).to_bytes(8, "little") + text


GB3 = 3 * 2**30
TSATTN = {"format": "tsattn", "format_version": "2"}


@pytest.mark.parametrize(
    "head",
    [
        (2**62).to_bytes(8, "little"),  # a header longer than any file
        (GB3 - 100).to_bytes(8, "little"),  # a header of gigabytes
        b"\x20\x00\x00\x00\x00\x00\x00\x00" + b"[" * 32,  # not an object, and cut
        _header({"w": {"dtype": "F32", "shape": [10], "data_offsets": [0, 40]}}, TSATTN),
        _header({"w": {"dtype": "F32", "shape": [10**9], "data_offsets": [0, 4 * 10**9]}}, TSATTN),
        _header({"w": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}}, {"format": "x"}),
        _header({"w": {"dtype": "PICKLE", "shape": [1], "data_offsets": [0, 1]}}, TSATTN),
        _header({"w": {"dtype": "F32", "shape": [-1], "data_offsets": [0, 4]}}, TSATTN),
    ],
)
def test_a_huge_file_is_refused_from_its_header_alone(tmp_path, head, bounded_reads):
    path = tmp_path / "huge.tsattn"
    _sparse(path, head, GB3)
    with pytest.raises(ValueError, match="not a tsattn model file"):
        load(path)
    assert bounded_reads and bounded_reads[0].read_bytes <= len(head)


def test_a_header_listing_too_many_tensors_is_refused(tmp_path):
    empty = {"dtype": "F32", "shape": [0], "data_offsets": [0, 0]}
    head = _header({f"module.w{i}": empty for i in range(files.MAX_TENSORS + 1)}, TSATTN)
    path = tmp_path / "many.tsattn"
    path.write_bytes(head)
    with pytest.raises(ValueError, match=f"tensors, more than {files.MAX_TENSORS}"):
        load(path)


@pytest.mark.parametrize("depth", [10, 100_000])
def test_deeply_nested_json_is_damaged_not_a_crash(tmp_path, depth):
    text = b"[" * depth + b"]" * depth
    path = tmp_path / "nested.tsattn"
    path.write_bytes(len(text).to_bytes(8, "little") + text)
    with pytest.raises(ValueError, match="not a tsattn model file"):
        load(path)
    nested = '{"__metadata__": {"format": "tsattn", "format_version": "2", "x": %s}}' % (
        "[" * depth + "]" * depth
    )
    path.write_bytes(len(nested).to_bytes(8, "little") + nested.encode())
    with pytest.raises(ValueError, match="not a tsattn model file"):
        load(path)


def test_a_deeply_nested_state_is_damaged(tmp_path):
    path = tmp_path / "nested.tsattn"
    metadata, tensors = _metadata(SAVED), load_file(SAVED)
    metadata["state"] = "[" * 100_000 + "]" * 100_000
    metadata["sha256"] = files.checksum(metadata, tensors)
    save_file(tensors, path, metadata=metadata)
    with pytest.raises(ValueError, match="is damaged or was not written"):
        load(path)


# --------------------------------------------------------------------------------------------
# Class 6: the saved context names its series consistently


@pytest.fixture(scope="module")
def wide_model(tmp_path_factory):
    index = pd.date_range("2022-01-03", periods=30, freq="W-MON")
    steps = np.arange(30)
    y = pd.DataFrame({"north": 10.0 + steps % 4, "south": 100.0 + 5 * (steps % 3)}, index=index)
    model = tsattn.Seq2SeqForecaster(
        horizon=2,
        input_size=6,
        hidden_size=4,
        max_epochs=1,
        season_length=1,
        random_state=0,
        verbose=False,
    ).fit(y)
    path = tmp_path_factory.mktemp("wide") / "wide.tsattn"
    model.save(path)
    return path, model.predict()


def test_the_wide_model_round_trips(wide_model):
    path, forecast = wide_model
    pd.testing.assert_frame_equal(load(path).predict(), forecast)


@pytest.mark.parametrize(
    "edit",
    [
        lambda c: c["layout"].update(columns=c["layout"]["columns"][::-1]),  # names swapped
        lambda c: c.update(ids=c["ids"][::-1]),  # ids swapped
        lambda c: c["layout"].update(columns=["north", "east"]),
        lambda c: c["layout"].update(columns=["north"]),
        lambda c: c.update(ids=["north", "north"]),
        lambda c: c["layout"].update(kind="series", name="north"),
        lambda c: c["layout"].update(kind="array2d"),
        lambda c: c.update(horizon=2.0),
        lambda c: c.update(input_size=True),
    ],
)
def test_a_context_naming_other_series_is_refused(tmp_path, wide_model, edit):
    path = tmp_path / "crafted.tsattn"
    _forge(wide_model[0], path, edit_state=lambda state: edit(state["context"]))
    with pytest.raises(ValueError, match="damaged"):
        load(path)


# --------------------------------------------------------------------------------------------
# Class 7: the command line writes as model files are written


def test_a_link_planted_at_the_old_temporary_name_is_not_written_through(tmp_path):
    victim = tmp_path / "victim.txt"
    victim.write_text("precious")
    out = tmp_path / "forecast.csv"
    (tmp_path / f".{out.name}.{os.getpid()}.tmp").symlink_to(victim)
    write_whole(str(out), b"a,b\n1,2\n")
    assert victim.read_text() == "precious"
    assert out.read_bytes() == b"a,b\n1,2\n" and not out.is_symlink()


def test_a_planted_temporary_name_is_never_opened(tmp_path, monkeypatch):
    victim = tmp_path / "victim.txt"
    victim.write_text("precious")
    names = iter(["guessed", "fresh"])
    monkeypatch.setattr(secrets, "token_hex", lambda n=None: next(names))
    (tmp_path / ".forecast.csv.guessed.tmp").symlink_to(victim)
    write_whole(str(tmp_path / "forecast.csv"), b"new")
    assert victim.read_text() == "precious"
    assert (tmp_path / "forecast.csv").read_bytes() == b"new"


def test_an_output_link_stays_a_link_and_its_target_is_written(tmp_path):
    real = tmp_path / "real"
    real.mkdir()
    target = real / "forecast.csv"
    target.write_text("old")
    os.chmod(target, 0o640)
    link = tmp_path / "latest.csv"
    link.symlink_to(target)
    write_whole(str(link), b"new")
    assert link.is_symlink() and link.resolve() == target.resolve()
    assert target.read_bytes() == b"new"
    assert stat.S_IMODE(target.stat().st_mode) == 0o640
    assert sorted(p.name for p in real.iterdir()) == ["forecast.csv"]


def test_the_written_file_and_its_directory_are_flushed(tmp_path, monkeypatch):
    real, flushed = os.fsync, []

    def spy(fd):
        kind = os.fstat(fd).st_mode
        flushed.append("dir" if stat.S_ISDIR(kind) else "file" if stat.S_ISREG(kind) else "?")
        return real(fd)

    monkeypatch.setattr(os, "fsync", spy)
    write_whole(str(tmp_path / "forecast.csv"), b"x")
    assert flushed == ["file", "dir"]


def test_the_command_writes_its_csv_and_plot_through_links(tmp_path):
    index = pd.date_range("2021-01-04", periods=30, freq="W-MON")
    pd.DataFrame({"a": 10.0 + np.arange(30) % 4}, index=index).rename_axis("week").to_csv(
        tmp_path / "wide.csv"
    )
    kept = tmp_path / "kept"
    kept.mkdir()
    for name in ("out.csv", "out.png"):
        (kept / name).write_text("old")
        (tmp_path / name).symlink_to(kept / name)
    code = main(
        [
            "forecast",
            str(tmp_path / "wide.csv"),
            "--horizon",
            "2",
            "--out",
            str(tmp_path / "out.csv"),
            "--plot",
            str(tmp_path / "out.png"),
            *["--epochs", "1", "--hidden-size", "4", "--input-size", "6", "--season-length", "1"],
            "--quiet",
        ]
    )
    assert code == 0
    for name in ("out.csv", "out.png"):
        assert (tmp_path / name).is_symlink()
        assert (kept / name).read_bytes() != b"old"
    assert len(pd.read_csv(kept / "out.csv")) == 2
    assert sorted(p.name for p in kept.iterdir()) == ["out.csv", "out.png"]


# --------------------------------------------------------------------------------------------
# Class 9: the launcher's environment names the main process before any process group


@pytest.mark.parametrize(
    "environment, main_process",
    [
        ({"WORLD_SIZE": "2", "RANK": "1", "LOCAL_RANK": "1"}, False),
        ({"WORLD_SIZE": "4", "RANK": "3", "LOCAL_RANK": "1"}, False),
        ({"WORLD_SIZE": "2", "LOCAL_RANK": "1"}, False),
        ({"WORLD_SIZE": "2", "RANK": "0", "LOCAL_RANK": "0"}, True),
        ({"WORLD_SIZE": "1", "RANK": "0"}, True),
        ({}, True),
    ],
)
def test_is_main_process_reads_the_launcher_before_any_group(
    monkeypatch, environment, main_process
):
    for name in ("WORLD_SIZE", "RANK", "LOCAL_RANK"):
        monkeypatch.delenv(name, raising=False)
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    assert not torch.distributed.is_initialized()
    assert distributed.is_main_process() is main_process
