"""The README's options tables are the tables in the code, generated from them."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from cem._cli import main
from cem.options import all_tables, options_table

README = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")


@pytest.mark.parametrize("section", sorted(all_tables()))
def test_readme_table_is_generated_from_the_code(section):
    found = re.search(
        rf"<!-- BEGIN options:{section} -->\n(.*?)\n<!-- END options:{section} -->", README, re.S
    )
    assert found, f"README has no generated [{section}] options table"
    assert found.group(1) == options_table(all_tables()[section]), (
        f"README's [{section}] table drifted from the code: paste `cem options` output"
    )


def test_cem_options_prints_every_table(capsys):
    assert main(["options"]) == 0
    out = capsys.readouterr().out
    for section, table in all_tables().items():
        assert f"[{section}]" in out
        for name in table:
            assert f"`{name}`" in out


def test_a_pipe_in_a_doc_is_escaped():
    table = options_table(all_tables()["optimizer"])
    line = next(row for row in table.splitlines() if "`gamma_tol`" in row)
    assert line.count(" | ") == 3  # four cells, the doc's own pipes escaped
