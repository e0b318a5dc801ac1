"""Generated pages of the cem documentation: option tables, CLI reference, gallery tables.

Everything here is produced from the code (:data:`cem.options.OPTIONS`,
:data:`cem.options.ESTIMATOR_OPTIONS`, the ``cem`` argument parser) and from the
experiments' result files at every build, so the documentation cannot drift from them.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import Any

DOCS = Path(__file__).resolve().parents[1]
ROOT = DOCS.parent
GENERATED = DOCS / "generated"


def _cell(text: str) -> str:
    return " ".join(str(text).split()).replace("|", "\\|")


def list_table(header: list[str], rows: list[list[str]], widths: str | None = None) -> str:
    """An RST ``list-table`` of ``rows``."""
    lines = [".. list-table::", "   :header-rows: 1"]
    if widths:
        lines.append(f"   :widths: {widths}")
    lines.append("")
    for row in [header, *rows]:
        first, *rest = row
        lines.append(f"   * - {_cell(first) or ' '}")
        lines += [f"     - {_cell(c) or ' '}" for c in rest]
    return "\n".join(lines) + "\n"


def options_rst(table: Mapping[str, Any]) -> str:
    """The rows of an options table: name, default, accepted values, meaning."""
    rows = [
        [f"``{o.name}``", f"``{o.default!r}``", o.accepted, o.doc.replace("*", "\\*")]
        for o in table.values()
    ]
    return list_table(["option", "default", "accepted", "meaning"], rows, "18 12 25 45")


def cli_rst() -> str:
    """The ``--help`` of ``cem`` and of each command, as literal blocks."""
    import argparse

    from cem._cli import _parser

    parser = _parser()
    parts = ["``cem``", "-------", "", ".. code-block:: text", ""]
    parts += ["   " + line for line in parser.format_help().splitlines()]
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    for name, p in sub.choices.items():
        title = f"``cem {name}``"
        parts += ["", title, "-" * len(title), "", ".. code-block:: text", ""]
        parts += ["   " + line for line in p.format_help().splitlines()]
    return "\n".join(line.rstrip() for line in parts) + "\n"


def markdown_tables_rst(path: Path) -> str:
    """The Markdown file of an experiment: headings, paragraphs and pipe tables as RST."""
    out: list[str] = []
    table: list[list[str]] = []

    def flush() -> None:
        if table:
            header, *rows = [r for r in table if not re.fullmatch(r"[-|: ]+", "|".join(r))]
            out.extend(["", list_table(header, rows), ""])
            table.clear()

    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("|"):
            table.append([c.strip() for c in line.strip().strip("|").split("|")])
            continue
        flush()
        if line.startswith("#"):
            title = line.lstrip("#").strip()
            out += ["", f"**{title}**", ""]
        else:
            out.append(line)
    flush()
    return "\n".join(out) + "\n"


def generate(app: Any = None) -> None:
    """Write the generated pages (called when the builder starts)."""
    from cem.options import all_tables

    GENERATED.mkdir(exist_ok=True)
    files = {f"{section}_options.rst": options_rst(table)
             for section, table in all_tables().items()}  # fmt: skip
    files["cli_help.rst"] = cli_rst()
    results = ROOT / "experiments" / "results"
    for name in ("tutorial_maxcut", "tutorial_bridge"):
        files[f"{name}.rst"] = markdown_tables_rst(results / f"{name}.md")
    for name, text in files.items():
        path = GENERATED / name
        if not path.is_file() or path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")
    static = DOCS / "_static" / "gallery"
    static.mkdir(parents=True, exist_ok=True)
    for figure in sorted(results.glob("*.png")):
        shutil.copyfile(figure, static / figure.name)


def setup(app: Any) -> dict[str, Any]:
    app.connect("builder-inited", generate)
    return {"version": "1", "parallel_read_safe": True}
