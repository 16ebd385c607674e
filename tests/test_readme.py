"""Every ```python block of README.md runs, in order, in one namespace (later blocks build on
earlier ones), in a scratch directory so that files the examples write do not land in the repo."""

import re
from pathlib import Path

import matplotlib
import pytest
import torch

README = Path(__file__).resolve().parents[1] / "README.md"
FENCE = re.compile(r"^```python[ \t]*\n(.*?)^```[ \t]*$", re.DOTALL | re.MULTILINE)


def python_blocks(text: str) -> list[tuple[int, str]]:
    """(line number, code) of every ```python block in ``text``."""
    return [(text.count("\n", 0, m.start()) + 2, m.group(1)) for m in FENCE.finditer(text)]


def test_block_extraction():
    text = "intro\n```python\na = 1\n```\n```bash\nls\n```\n\n```python\nb = a + 1\n```\n"
    assert python_blocks(text) == [(3, "a = 1\n"), (10, "b = a + 1\n")]


@pytest.mark.slow
def test_readme_examples_run(tmp_path, monkeypatch):
    matplotlib.use("Agg")  # examples may plot; no display here
    torch.set_num_threads(1)
    blocks = python_blocks(README.read_text(encoding="utf-8"))
    assert blocks, "README.md has no ```python blocks"
    monkeypatch.chdir(tmp_path)
    namespace: dict = {"__name__": "__readme__"}
    for line, code in blocks:
        exec(compile(code, f"README.md:{line}", "exec"), namespace)  # noqa: S102
