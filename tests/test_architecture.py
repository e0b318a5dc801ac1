"""The shape of the code: an import graph without cycles, a small public surface, and a
problem suite that uses the core's public API only."""

from __future__ import annotations

import ast
import importlib
import re
from pathlib import Path

import pytest
import tomllib

ROOT = Path(__file__).resolve().parents[1]
CORE = ROOT / "cem"
PROBLEMS = ROOT / "problems"


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _core_modules() -> dict[str, ast.Module]:
    return {_module_name(p): ast.parse(p.read_text(encoding="utf-8")) for p in CORE.rglob("*.py")}


def _imported(node: ast.AST) -> list[str]:
    """The cem modules an import statement names (``from cem.x import y`` names cem.x, and
    cem.x.y when that is a module)."""
    if isinstance(node, ast.Import):
        return [a.name for a in node.names if a.name.split(".")[0] == "cem"]
    if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
        if node.module.split(".")[0] != "cem":
            return []
        return [node.module] + [f"{node.module}.{a.name}" for a in node.names]
    return []


def _runtime_nodes(tree: ast.Module) -> list[ast.AST]:
    """The nodes of a module that run on import: ``if TYPE_CHECKING:`` blocks (imports for
    the type checker only) left out."""
    type_only = {id(n) for block in ast.walk(tree) if isinstance(block, ast.If)
                 and getattr(block.test, "id", None) == "TYPE_CHECKING"
                 for stmt in block.body for n in ast.walk(stmt)}  # fmt: skip
    return [n for n in ast.walk(tree) if id(n) not in type_only]


def _graph() -> dict[str, set[str]]:
    modules = _core_modules()
    return {name: {m for node in _runtime_nodes(tree) for m in _imported(node)
                   if m in modules} for name, tree in modules.items()}  # fmt: skip


def test_the_core_import_graph_has_no_cycle():
    graph = _graph()
    state: dict[str, int] = {}

    def visit(node: str, path: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(graph[node]):
            # a package imports its own submodules (its namespace): not a cycle through it
            if nxt.startswith(node + "."):
                continue
            if state.get(nxt) == 1 and not node.startswith(nxt + "."):
                pytest.fail("import cycle: " + " -> ".join([*path[path.index(nxt) :], nxt]))
            if nxt not in state:
                visit(nxt, [*path, nxt])
        state[node] = 2

    for name in sorted(graph):
        if name not in state:
            visit(name, [name])


def test_no_core_module_imports_another_inside_a_function():
    late = []
    for name, tree in _core_modules().items():
        for fn in ast.walk(tree):
            if not isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                continue
            for node in ast.walk(fn):
                if _imported(node):
                    late.append(f"{name}:{node.lineno}")
    assert not late, f"function-level imports of cem modules: {late}"


def _problem_imports() -> list[tuple[str, int, str]]:
    found = []
    for path in PROBLEMS.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
            elif isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            else:
                continue
            found += [(str(path.relative_to(ROOT)), node.lineno, n) for n in names]
    return found


def test_the_problem_suite_imports_no_private_core_name():
    private = [f"{path}:{line} {name}" for path, line, name in _problem_imports()
               if name.startswith("cem.") and not name.startswith("cem.problems")
               and any(part.startswith("_") for part in name.split(".")[1:])]  # fmt: skip
    assert not private, private


def test_the_linter_bans_every_private_core_module_in_the_problem_suite():
    config = tomllib.loads((PROBLEMS / "ruff.toml").read_text(encoding="utf-8"))
    banned = set(config["lint"]["flake8-tidy-imports"]["banned-api"])
    private = {n for n in _core_modules() if any(p.startswith("_") for p in n.split(".")[1:])
               and not n.endswith("__init__")}  # fmt: skip
    assert private <= banned, sorted(private - banned)


def _public_modules() -> list[str]:
    return sorted(n for n in _core_modules()
                  if not any(p.startswith("_") for p in n.split(".")[1:]))  # fmt: skip


@pytest.mark.parametrize("name", _public_modules())
def test_every_public_name_is_in_the_api_docs(name):
    module = importlib.import_module(name)
    names = getattr(module, "__all__", None)
    assert names is not None, f"{name} has no __all__"
    api = (ROOT / "docs" / "api.rst").read_text(encoding="utf-8")
    listed = set(re.findall(r"(?m)^\s+(cem[\w.]*)\s*$", api))
    missing = [n for n in names if not n.startswith("__") and f"{name}.{n}" not in listed]
    assert not missing, f"docs/api.rst does not list {name}: {missing}"


@pytest.mark.parametrize(
    ("old", "new", "name"),
    [
        ("cem.loop", "cem._loop", "CrossEntropyOptimizer"),
        ("cem.parallel", "cem._parallel", "BatchRunner"),
        ("cem.families.normal", "cem.families._normal", "Normal"),
        ("cem.problems.network_reliability", "cem.problems.network.reliability",
         "NetworkReliability"),
        ("cem.problems.tsplib", "cem.problems.tsp.tsplib", "read_tsplib"),
        ("cem.problems.classification_data", "cem.problems.classification.data", "load_iris"),
    ],
)  # fmt: skip
def test_old_import_paths_still_work_with_a_warning(old, new, name):
    import sys

    sys.modules.pop(old, None)
    with pytest.warns(DeprecationWarning, match=rf"{re.escape(old)} moved to {re.escape(new)}"):
        module = importlib.import_module(old)
    assert getattr(module, name) is getattr(importlib.import_module(new), name)


def test_every_package_folder_is_installed():
    """pyproject.toml lists the packages (problems/ is installed as cem.problems): a new
    subpackage that is not listed would be missing from a plain install."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    listed = set(config["tool"]["setuptools"]["packages"])
    folders = {_module_name(p) for p in CORE.rglob("__init__.py")}
    folders |= {"cem.problems" + _module_name(p).removeprefix("problems")
                for p in PROBLEMS.rglob("__init__.py")}  # fmt: skip
    assert folders <= listed, sorted(folders - listed)
