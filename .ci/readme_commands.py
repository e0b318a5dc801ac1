"""Run every shell command of the README's ``bash`` code blocks, in order, as a newcomer would.

The commands run in a fresh clone of the repository (``git clone`` of the current commit), typed
in its root, in the active virtual environment: the set-up's install, its real run and its test
command, the command-line examples, the docs build, the experiments. Each command has a time
cap. Two kinds of command are adapted, and no other:

- a command that needs a service the README tells the reader to start first (a Dask scheduler
  at a ``tcp://`` address) is skipped and listed as such;
- a benchmark (``python -m experiments.benchmarks...``) or a study (``cem study CONFIG``) runs
  in its ``--quick`` form.

Exit status 1 when any command fails or passes its time cap, after a table of every command's
outcome.

Usage::

    python .ci/readme_commands.py [--readme README.md] [--workdir DIR] [--timeout SECONDS]
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
#: A command that needs a service the README says to start (an existing Dask scheduler).
NEEDS_SERVICE = re.compile(r"tcp://")
#: Benchmarks and studies, which run in their ``--quick`` form (the tutorials run as they are).
EXPERIMENT = re.compile(r"^(?:python -m experiments\.benchmarks\.\w+|cem study )")


def commands(readme: str) -> list[str]:
    """The shell commands of the ``bash`` blocks, in order; continuation lines joined."""
    found: list[str] = []
    for block in re.findall(r"^```bash\n(.*?)^```", readme, flags=re.S | re.M):
        pending = ""
        for line in block.splitlines():
            if line.rstrip().endswith("\\"):
                pending += line.rstrip()[:-1] + " "
                continue
            line = (pending + line).strip()
            pending = ""
            if line and not line.startswith("#"):
                found.append(line)
    return found


def split_comment(command: str) -> tuple[str, str]:
    """``(code, comment)``: the text before an unquoted `` #`` and the comment itself."""
    quote = ""
    for i, ch in enumerate(command):
        if quote:
            quote = "" if ch == quote else quote
        elif ch in "'\"":
            quote = ch
        elif ch == "#" and (i == 0 or command[i - 1].isspace()):
            return command[:i].rstrip(), command[i:]
    return command, ""


def adapted(command: str) -> tuple[str | None, str]:
    """The command as run (``None``: skipped) and what was adapted, in words."""
    code, _ = split_comment(command)
    if NEEDS_SERVICE.search(code):
        return None, "skipped: needs a Dask scheduler the README says to start"
    if EXPERIMENT.match(code) and "--quick" not in code.split():
        return code + " --quick", "its --quick form"
    return code, ""


def clone(target: Path) -> Path:
    """A fresh clone of the current commit of this repository in ``target``."""
    subprocess.run(["git", "clone", "--quiet", str(ROOT), str(target)], check=True)
    return target


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--readme", type=Path, default=None,
                        help="the README to read (default: the clone's README.md)")  # fmt: skip
    parser.add_argument("--workdir", type=Path, default=None,
                        help="run in this checkout instead of a fresh clone")  # fmt: skip
    parser.add_argument("--timeout", type=float, default=900.0, help="seconds per command")
    args = parser.parse_args(argv)

    workdir = args.workdir or clone(Path(tempfile.mkdtemp(prefix="cem-newcomer-")) / "cem")
    readme = (args.readme or workdir / "README.md").read_text(encoding="utf-8")
    rows: list[tuple[str, str, float]] = []
    failed = False
    for command in commands(readme):
        run, note = adapted(command)
        if run is None:
            rows.append((command, note, 0.0))
            continue
        print(f"\n$ {run}", flush=True)
        start = time.perf_counter()
        try:
            code = subprocess.run(["bash", "-c", run], cwd=workdir, timeout=args.timeout).returncode
            outcome = "ok" if code == 0 else f"FAILED (exit {code})"
        except subprocess.TimeoutExpired:
            outcome = f"FAILED (over {args.timeout:g} s)"
        seconds = time.perf_counter() - start
        failed = failed or outcome != "ok"
        rows.append((run, outcome + (f"; {note}" if note else ""), seconds))
    print(f"\nREADME commands, run in {workdir}:")
    print("| command | outcome | seconds |\n|---|---|---|")
    for run, outcome, seconds in rows:
        print(f"| `{run}` | {outcome} | {seconds:.1f} |")
    passed = sum(r[1].startswith("ok") for r in rows)
    skipped = sum(r[1].startswith("skipped") for r in rows)
    print(f"readme: {passed} passed, {len(rows) - passed - skipped} failed, {skipped} skipped")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
