"""The documentation's Python examples run as written, each on its own."""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

import pytest

DOCS = Path(__file__).resolve().parents[1] / "docs"
#: Examples that need a running Dask scheduler are shown, not run.
NEEDS_SERVICE = ("Client(",)


def _python_blocks() -> list[tuple[str, str]]:
    blocks = []
    for page in sorted(DOCS.rglob("*.rst")):
        if "_build" in page.parts or "api" in page.parts or "generated" in page.parts:
            continue
        text = page.read_text(encoding="utf-8")
        pattern = r"\.\. code-block:: python\n\n((?:(?:   .*)?\n)+)"
        for k, match in enumerate(re.finditer(pattern, text)):
            code = textwrap.dedent(match.group(1))
            if not any(s in code for s in NEEDS_SERVICE):
                blocks.append((f"{page.relative_to(DOCS)}:{k}", code))
    return blocks


BLOCKS = _python_blocks()


def test_the_guides_have_examples():
    assert len(BLOCKS) >= 6


@pytest.mark.parametrize(("where", "code"), BLOCKS, ids=[w for w, _ in BLOCKS])
def test_docs_example_runs_alone(where, code, capsys):
    exec(compile(code, where, "exec"), {})
