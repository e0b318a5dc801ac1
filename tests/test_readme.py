"""The README's Python examples run as written, each on its own."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"
BLOCKS = re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), flags=re.S)


def test_readme_has_python_examples():
    assert len(BLOCKS) >= 2


@pytest.mark.parametrize("index", range(len(BLOCKS)))
def test_readme_example_runs_alone(index, capsys):
    namespace: dict[str, object] = {}  # nothing from the other blocks: a reader copies one
    exec(compile(BLOCKS[index], f"README.md block {index}", "exec"), namespace)
    assert capsys.readouterr().out
