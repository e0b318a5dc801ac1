"""Old import paths of moved modules, kept working for one release with a warning.

:func:`register_moved` maps an old dotted module name to the module that replaces it; an
import of the old name then warns (:class:`DeprecationWarning`, naming the new path) and
gives the new module itself, so ``from old.path import Name`` keeps working and the two
names share one module object (no second copy of its state).
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import sys
import warnings
from collections.abc import Mapping
from types import ModuleType

__all__ = ["register_moved"]

#: Old module name -> new module name.
_MOVED: dict[str, str] = {}


class _Alias(importlib.abc.Loader):
    def __init__(self, new: str) -> None:
        self.new = new

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType:
        warnings.warn(
            f"{spec.name} moved to {self.new}; the old path is removed in the next release",
            DeprecationWarning,
            stacklevel=2,
        )
        return importlib.import_module(self.new)

    def exec_module(self, module: ModuleType) -> None:
        """The new module is imported already."""


class _MovedFinder(importlib.abc.MetaPathFinder):
    def find_spec(
        self, fullname: str, path: object = None, target: object = None
    ) -> importlib.machinery.ModuleSpec | None:
        new = _MOVED.get(fullname)
        return None if new is None else importlib.machinery.ModuleSpec(fullname, _Alias(new))


def register_moved(moved: Mapping[str, str]) -> None:
    """Let each old module name of ``moved`` import as its new one, with a warning."""
    _MOVED.update(moved)
    if not any(isinstance(f, _MovedFinder) for f in sys.meta_path):
        sys.meta_path.insert(0, _MovedFinder())
