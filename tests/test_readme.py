"""README.md's examples run as written.

Every ```python block runs, in order, in one namespace (later blocks build on earlier ones), in a
scratch directory so that files the examples write do not land in the repo. In ```bash blocks
the ``tsattn`` commands run too, through ``tsattn.cli.main``, in the same directory, with the
repository's ``datasets/`` beside them (the CSV they read); ``make``, ``pip`` and ``torchrun``
lines are shown, not run, but every file of ``datasets/`` they name must exist.

The examples train on tiny data, where tsattn's own warnings (short histories, a network that
falls back to its baseline) are expected; they are silenced here, the examples' results are not
what the warnings are about.
"""

import re
import shlex
import shutil
import warnings
from pathlib import Path

import matplotlib
import pytest
import torch

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
FENCE = re.compile(r"^```(python|bash)[ \t]*\n(.*?)^```[ \t]*$", re.DOTALL | re.MULTILINE)


def code_blocks(text: str) -> list[tuple[int, str, str]]:
    """(line number, language, code) of every ```python and ```bash block in ``text``."""
    return [
        (text.count("\n", 0, m.start()) + 2, m.group(1), m.group(2)) for m in FENCE.finditer(text)
    ]


def shell_commands(code: str) -> list[list[str]]:
    """The words of every command of a shell block (continuations joined, comments dropped)."""
    lines = code.replace("\\\n", " ").splitlines()
    return [words for words in (shlex.split(line, comments=True) for line in lines) if words]


def test_block_extraction():
    text = "intro\n```python\na = 1\n```\n```bash\ntsattn fit a.csv \\\n  --horizon 2  # c\n```\n"
    assert code_blocks(text) == [
        (3, "python", "a = 1\n"),
        (6, "bash", "tsattn fit a.csv \\\n  --horizon 2  # c\n"),
    ]
    assert shell_commands(code_blocks(text)[1][2]) == [["tsattn", "fit", "a.csv", "--horizon", "2"]]


def test_shell_examples_name_files_that_exist():
    named = [
        word
        for _, language, code in code_blocks(README.read_text(encoding="utf-8"))
        if language == "bash"
        for words in shell_commands(code)
        for word in words
        if word.startswith("datasets/")
    ]
    assert named, "README's shell examples read no file of datasets/"
    missing = [word for word in named if not (ROOT / word).is_file()]
    assert not missing, f"README's shell examples read files that do not exist: {missing}"


@pytest.mark.slow
def test_readme_examples_run(tmp_path, monkeypatch):
    from tsattn.cli import main

    matplotlib.use("Agg")  # examples may plot; no display here
    torch.set_num_threads(1)
    blocks = code_blocks(README.read_text(encoding="utf-8"))
    assert any(language == "python" for _, language, _ in blocks), "README.md has no python blocks"
    shutil.copytree(ROOT / "datasets", tmp_path / "datasets", ignore=shutil.ignore_patterns("*.tsv"))
    monkeypatch.chdir(tmp_path)
    namespace: dict = {"__name__": "__readme__"}
    ran = 0
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=UserWarning, module=r"(tsattn\b|__readme__)")
        ran = run_blocks(blocks, namespace, main)
    assert ran, "README's shell blocks run no tsattn command"
    matplotlib.pyplot.close("all")


def run_blocks(blocks, namespace: dict, main) -> int:
    """Run the python blocks and the tsattn commands in order; the number of commands run."""
    ran = 0
    for line, language, code in blocks:
        where = f"README.md:{line}"
        if language == "python":
            exec(compile(code, where, "exec"), namespace)  # noqa: S102
            continue
        for words in shell_commands(code):
            if words[0] == "tsattn":
                assert main(words[1:]) == 0, f"{where}: {shlex.join(words)}"
                ran += 1
    return ran
