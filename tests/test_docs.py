"""The documentation site's examples run, every public name has a reference entry, and the site
builds with warnings as errors.

Each page of docs/ runs like README.md in tests/test_readme.py: its ```python blocks in order in
one namespace, in a scratch directory holding a copy of the repository's ``datasets/`` (the CSV
the shell examples read). In ```bash blocks, the lines that run the ``tsattn`` command run
through ``tsattn.cli.main`` in the same directory (``torchrun``, ``pip`` and ``make`` lines are
shown, not run). The docstring examples the API reference renders run as doctests.
"""

import doctest
import importlib
import os
import re
import shlex
import shutil
import subprocess
import sys
import warnings
from pathlib import Path

import matplotlib
import pytest
import torch

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
PAGES = sorted(p for p in DOCS.rglob("*.md"))
FENCE = re.compile(r"^```(python|bash)[ \t]*\n(.*?)^```[ \t]*$", re.DOTALL | re.MULTILINE)
REFERENCE = re.compile(r"^::: (\S+)$", re.MULTILINE)

# Public modules and the names each exposes; every one needs a `::: path` in docs/api.
PUBLIC_MODULES = [
    "tsattn",
    "tsattn.datasets",
    "tsattn.forecast.metrics",
    "tsattn.model_selection",
    "tsattn.sktime",
    "tsattn.plotting",
]


def code_blocks(text: str) -> list[tuple[int, str, str]]:
    """(line number, language, code) of every ```python and ```bash block in ``text``."""
    return [
        (text.count("\n", 0, m.start()) + 2, m.group(1), m.group(2)) for m in FENCE.finditer(text)
    ]


def tsattn_commands(code: str) -> list[list[str]]:
    """The argument lists of the ``tsattn ...`` commands of a shell block (continuations joined)."""
    commands = []
    for line in code.replace("\\\n", " ").splitlines():
        words = shlex.split(line, comments=True)
        if words and words[0] == "tsattn":
            commands.append(words[1:])
    return commands


def test_block_extraction():
    text = "a\n```python\nx = 1\n```\n```bash\ntsattn fit a.csv \\\n  --horizon 2  # c\nls\n```\n"
    blocks = code_blocks(text)
    assert blocks == [(3, "python", "x = 1\n"), (6, "bash", "tsattn fit a.csv \\\n  --horizon 2  # c\nls\n")]
    assert tsattn_commands(blocks[1][2]) == [["fit", "a.csv", "--horizon", "2"]]


@pytest.mark.slow
@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(DOCS)))
def test_page_examples_run(page, tmp_path, monkeypatch):
    from tsattn.cli import main

    matplotlib.use("Agg")  # pages plot; no display here
    torch.set_num_threads(1)
    shutil.copytree(ROOT / "datasets", tmp_path / "datasets", ignore=shutil.ignore_patterns("*.tsv"))
    monkeypatch.chdir(tmp_path)
    namespace: dict = {"__name__": "__docs__"}
    with warnings.catch_warnings():
        # Tiny data: tsattn's warnings about short histories and its baseline fallback are
        # expected there, and not what these examples show.
        warnings.filterwarnings("ignore", category=UserWarning, module=r"(tsattn\b|__docs__)")
        for line, language, code in code_blocks(page.read_text(encoding="utf-8")):
            where = f"{page.relative_to(ROOT)}:{line}"
            if language == "python":
                exec(compile(code, where, "exec"), namespace)  # noqa: S102
            else:
                for args in tsattn_commands(code):
                    assert main(args) == 0, f"{where}: tsattn {shlex.join(args)}"
    matplotlib.pyplot.close("all")


def referenced() -> set[str]:
    return {name for page in (DOCS / "api").glob("*.md") for name in REFERENCE.findall(page.read_text())}


def public_names(module_name: str) -> list[str]:
    module = importlib.import_module(module_name)
    names = getattr(module, "__all__", None)
    if names is None:  # a module without __all__: its functions and classes defined there
        names = [
            n for n, v in vars(module).items()
            if not n.startswith("_") and getattr(v, "__module__", None) == module_name
        ]  # fmt: skip
    return [n for n in names if not n.startswith("__")]


@pytest.mark.parametrize("module_name", PUBLIC_MODULES)
def test_every_public_name_has_a_reference_entry(module_name):
    if module_name == "tsattn.sktime":
        pytest.importorskip("sktime")
    missing = [
        f"{module_name}.{n}" for n in public_names(module_name)
        if f"{module_name}.{n}" not in referenced()
    ]  # fmt: skip
    assert not missing, f"no `::: name` in docs/api/*.md for {missing}"


def test_reference_entries_import():
    for path in referenced():
        module_name, _, name = path.rpartition(".")
        try:
            module = importlib.import_module(path)
        except ImportError:
            module = getattr(importlib.import_module(module_name), name)
        assert module is not None, path


def docstring_tests():
    finder = doctest.DocTestFinder()
    tests = []
    for path in sorted(referenced()):
        module_name, _, name = path.rpartition(".")
        try:
            obj = importlib.import_module(path)
            continue  # a module entry shows the module's docstring only, without examples
        except ImportError:
            obj = getattr(importlib.import_module(module_name), name)
        if not (callable(obj) and hasattr(obj, "__module__")):
            continue
        globs = dict(vars(sys.modules[obj.__module__]))
        tests += [t for t in finder.find(obj, path, globs=globs) if t.examples]
    # The estimators' examples train models: seconds each.
    return [
        pytest.param(t, id=t.name, marks=[pytest.mark.slow] if ".Seq2Seq" in t.name else [])
        for t in tests
    ]


@pytest.mark.parametrize("test", docstring_tests())
def test_docstring_examples(test, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    matplotlib.use("Agg")
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    result = runner.run(test, out=lambda text: print(text, end=""))
    assert result.failed == 0, f"{test.name}: {result.failed} of {result.attempted} failed"


@pytest.mark.slow
def test_site_builds_strict(tmp_path):
    pytest.importorskip("mkdocs")
    pytest.importorskip("mkdocstrings")
    done = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(tmp_path / "site")],
        cwd=ROOT, capture_output=True, text=True, timeout=600,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    assert (tmp_path / "site" / "api" / "estimators" / "index.html").is_file()
