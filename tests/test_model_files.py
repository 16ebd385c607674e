"""Model files as a file system sees them: durable writes, permissions, links, damage, races.

Also the package's import graph: ``tsattn.io`` imports no estimator, and no tsattn module
imports itself through others (checked statically, imports inside functions included, and by
importing every module first in a clean slate).
"""

import ast
import errno
import os
import stat
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from conftest import tiny
from sklearn.base import BaseEstimator

import tsattn
from tsattn import Seq2SeqForecaster
from tsattn.io import SaveMixin, load, register, save_estimator

PACKAGE = Path(tsattn.__file__).parent


def _series(shift=0.0, name="sales"):
    t = np.arange(48)
    index = pd.date_range("2016-01-01", periods=48, freq="MS")
    values = 50 + 5 * np.sin(2 * np.pi * t / 12) + 0.2 * t + shift
    return pd.Series(values, index=index, name=name)


@pytest.fixture(scope="module")
def pair():
    """Two different fitted models and their forecasts."""
    a = Seq2SeqForecaster(**tiny(max_epochs=1)).fit(_series())
    b = Seq2SeqForecaster(**tiny(max_epochs=1, random_state=1)).fit(_series(30.0, name="units"))
    return (a, a.predict()), (b, b.predict())


@pytest.fixture
def umask():
    """Set a umask for the test and put the previous one back."""
    previous = os.umask(0o022)
    yield os.umask
    os.umask(previous)


# --------------------------------------------------------------------------------------------
# Durable writes: permissions, links, fsync, error messages


@pytest.mark.parametrize("mask, mode", [(0o022, 0o644), (0o027, 0o640), (0o077, 0o600)])
def test_a_new_file_follows_the_umask(tmp_path, pair, umask, mask, mode):
    (a, _), _ = pair
    umask(mask)
    a.save(tmp_path / "m.tsattn")
    assert stat.S_IMODE((tmp_path / "m.tsattn").stat().st_mode) == mode


@pytest.mark.parametrize("mode", [0o644, 0o600, 0o664])
def test_overwriting_keeps_the_files_mode(tmp_path, pair, umask, mode):
    (a, _), (b, _) = pair
    path = tmp_path / "m.tsattn"
    a.save(path)
    path.chmod(mode)
    umask(0o077)  # would give 0o600 to a new file
    b.save(path)
    assert stat.S_IMODE(path.stat().st_mode) == mode


def test_a_symlink_is_written_through(tmp_path, pair):
    (a, _), (b, forecast_b) = pair
    target = tmp_path / "real" / "m.tsattn"
    target.parent.mkdir()
    a.save(target)
    link = tmp_path / "current.tsattn"
    link.symlink_to(target)
    b.save(link)
    assert link.is_symlink() and link.resolve() == target.resolve()
    pd.testing.assert_series_equal(load(target).predict(), forecast_b)
    assert sorted(p.name for p in target.parent.iterdir()) == ["m.tsattn"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["current.tsattn", "real"]


def test_the_file_and_its_directory_are_flushed_before_save_returns(tmp_path, pair, monkeypatch):
    (a, _), _ = pair
    real, flushed = os.fsync, []

    def spy(fd):
        kind = os.fstat(fd).st_mode
        flushed.append("dir" if stat.S_ISDIR(kind) else "file" if stat.S_ISREG(kind) else "?")
        return real(fd)

    monkeypatch.setattr(os, "fsync", spy)
    a.save(tmp_path / "m.tsattn")
    assert flushed == ["file", "dir"]  # the data before the rename, the rename after


def test_a_failed_write_names_the_destination_and_leaves_nothing(tmp_path, pair, monkeypatch):
    (a, _), _ = pair
    path = tmp_path / "m.tsattn"

    def disk_full(fd):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "fsync", disk_full)
    with pytest.raises(OSError, match="No space left on device") as error:
        a.save(path)
    assert error.value.errno == errno.ENOSPC
    assert repr(str(path)) in str(error.value) and ".tmp" not in str(error.value)
    assert list(tmp_path.iterdir()) == []


def test_an_unwritable_directory_names_the_destination(tmp_path, pair):
    (a, _), _ = pair
    path = tmp_path / "missing" / "m.tsattn"
    with pytest.raises(FileNotFoundError) as error:
        a.save(path)
    assert repr(str(path)) in str(error.value) and ".tmp" not in str(error.value)


# --------------------------------------------------------------------------------------------
# Damage: the checksum covers the tensors and the JSON state


def _header_end(data: bytes) -> int:
    return 8 + int.from_bytes(data[:8], "little")


def test_a_flipped_byte_in_the_tensors_is_refused(tmp_path, pair):
    (a, _), _ = pair
    path = tmp_path / "m.tsattn"
    a.save(path)
    data = bytearray(path.read_bytes())
    middle = (_header_end(data) + len(data)) // 2
    data[middle] ^= 0x01
    path.write_bytes(bytes(data))
    with pytest.raises(ValueError, match="m.tsattn' is damaged: .*checksum"):
        load(path)


def test_an_edited_json_state_is_refused(tmp_path, pair):
    (a, _), _ = pair
    path = tmp_path / "m.tsattn"
    a.save(path)
    data = bytearray(path.read_bytes())
    header = data[: _header_end(data)]
    start = header.index(b'"state"')
    # The first digit of the state, changed in place: the header stays valid JSON.
    digit = next(i for i in range(start, len(header)) if chr(header[i]).isdigit())
    data[digit] = ord("7") if data[digit] != ord("7") else ord("3")
    path.write_bytes(bytes(data))
    with pytest.raises(ValueError, match="is damaged: .*checksum"):
        load(path)


def test_a_truncated_file_is_refused(tmp_path, pair):
    (a, _), _ = pair
    path = tmp_path / "m.tsattn"
    a.save(path)
    data = path.read_bytes()
    for size in (0, 5, 8, _header_end(data) - 1, len(data) - 1):
        path.write_bytes(data[:size])
        with pytest.raises(ValueError, match="not a tsattn model file"):
            load(path)


# --------------------------------------------------------------------------------------------
# A save landing while another process loads: never one file's state with another's weights


def test_loads_racing_saves_give_one_model_or_the_other(tmp_path, pair):
    (a, forecast_a), (b, forecast_b) = pair
    path = tmp_path / "m.tsattn"
    a.save(path)
    stop, saves, errors = threading.Event(), [], []

    def writer():
        try:
            while not stop.is_set() and len(saves) < 5000:
                for model in (a, b):
                    model.save(path)
                    saves.append(1)
        except BaseException as error:  # reported by the main thread
            errors.append(error)

    thread = threading.Thread(target=writer)
    thread.start()
    seen = {"a": 0, "b": 0}
    try:
        for _ in range(60):
            forecast = load(path).predict()
            if forecast.name == "sales":
                pd.testing.assert_series_equal(forecast, forecast_a)
                seen["a"] += 1
            else:
                pd.testing.assert_series_equal(forecast, forecast_b)
                seen["b"] += 1
    finally:
        stop.set()
        thread.join()
    assert not errors
    assert len(saves) > 2  # the saves did interleave with the loads
    assert sum(seen.values()) == 60


# --------------------------------------------------------------------------------------------
# The registry: classes join it themselves; io knows none of them


class _Tiny(SaveMixin, BaseEstimator):
    """A minimal saveable estimator: one tensor and one number."""

    def __init__(self, value=0.0):
        self.value = value
        self.module_ = torch.nn.Linear(1, 1)

    def fit(self):
        return self

    def _get_artifacts(self):
        return {"value": self.value}, {"weight": torch.full((2,), self.value)}

    @classmethod
    def _from_artifacts(cls, state, tensors):
        if tensors["weight"][0].item() != state["value"]:
            raise ValueError("inconsistent")
        return cls(state["value"])


def test_a_subclass_of_savemixin_round_trips_without_io_knowing_it(tmp_path):
    path = tmp_path / "t.tsattn"
    _Tiny(2.5).save(path)
    loaded = load(path)
    assert type(loaded) is _Tiny and loaded.value == 2.5


def test_a_class_taking_a_registered_name_cannot_save(tmp_path):
    class Seq2SeqForecaster(_Tiny):  # same name as tsattn's estimator
        pass

    with pytest.raises(TypeError, match="name is taken by tsattn.forecast"):
        Seq2SeqForecaster(1.0).save(tmp_path / "t.tsattn")
    assert not (tmp_path / "t.tsattn").exists()


def test_an_unregistered_class_cannot_save(tmp_path):
    class Loose:
        def _get_artifacts(self):
            return {}, {}

    with pytest.raises(TypeError, match="subclass tsattn.io.SaveMixin or call tsattn.io.register"):
        save_estimator(Loose(), tmp_path / "t.tsattn")
    register(Loose)
    save_estimator(Loose(), tmp_path / "t.tsattn")
    with pytest.raises(TypeError, match="register takes a class"):
        register(Loose())


def test_every_estimator_is_registered():
    from tsattn.io import _REGISTRY

    for name in ("Seq2SeqEnsemble", "Seq2SeqForecaster", "Seq2SeqRegressor", "Seq2SeqTranslator"):
        assert _REGISTRY[name] is getattr(tsattn, name)


# --------------------------------------------------------------------------------------------
# No import cycle in tsattn


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _modules() -> dict[str, Path]:
    return {_module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def import_graph() -> dict[str, set[str]]:
    """tsattn module -> the tsattn modules it imports, anywhere in its code (functions too).

    ``from package import name`` counts as importing ``package.name`` when that is a module,
    else ``package``; the implicit import of a module's parent packages is not counted (it
    is what every submodule import does, and would make every package a cycle with its
    children).
    """
    modules = _modules()
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        edges: set[str] = set()
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                edges.update(alias.name for alias in node.names if alias.name in modules)
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                    base = ".".join(anchor + ([base] if base else []))
                for alias in node.names:
                    if f"{base}.{alias.name}" in modules:
                        edges.add(f"{base}.{alias.name}")
                    elif base in modules:
                        edges.add(base)
        edges.discard(name)
        graph[name] = edges
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle of the graph as a list of modules (first == last), or None."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return path[path.index(nxt) :] + [nxt]
            if nxt not in state and (cycle := visit(nxt)):
                return cycle
        path.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (cycle := visit(node)):
            return cycle
    return None


def test_the_cycle_finder_finds_a_cycle():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": set()}) is None


def test_io_imports_no_estimator():
    imported = import_graph()["tsattn.io"]
    assert imported <= {
        "tsattn",
        "tsattn.files",
        "tsattn.core.seq2seq",
        "tsattn.core.config_checks",
    }, imported
    assert "tsattn" not in imported  # the package's __init__ imports every estimator


def test_no_tsattn_module_imports_itself_through_others():
    graph = import_graph()
    # The package __init__ is the public face: it imports the estimators and nothing
    # imports it back inside the package, which the graph checks too.
    assert find_cycle(graph) is None, " -> ".join(find_cycle(graph))


def test_every_module_imports_first_in_a_clean_slate():
    # One interpreter (torch imported once); before each module, every tsattn module is
    # forgotten, so each is imported first, as a user's `import tsattn.<module>` would be.
    names = sorted(n for n in _modules() if n != "tsattn.__main__")
    script = (
        "import importlib, sys\n"
        f"for name in {names!r}:\n"
        "    for loaded in [m for m in sys.modules if m == 'tsattn' or m.startswith('tsattn.')]:\n"
        "        del sys.modules[loaded]\n"
        "    importlib.import_module(name)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=False, timeout=300
    )
    assert done.returncode == 0, done.stderr[-2000:]
