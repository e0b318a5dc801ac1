"""Sphinx configuration of the cem documentation.

Build with ``sphinx-build -W -b html docs docs/_build/html`` (the ``docs`` extra installs
what it needs). The build is offline: no intersphinx inventories are fetched. The option
tables, the command-line reference and the gallery's tables are generated from the code
and the experiments' results by ``_ext/cemdocs.py`` at every build.
"""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE / "_ext"))

import cem  # noqa: E402

project = "cem"
author = "cem developers"
copyright = "2026, cem developers"
version = release = cem.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "sphinx.ext.viewcode",
    "numpydoc",
    "cemdocs",
]

templates_path = ["_templates"]
exclude_patterns = ["_build", "Thumbs.db", ".DS_Store"]
html_theme = "alabaster"
html_static_path = ["_static"]
html_theme_options = {"description": "The cross-entropy method", "fixed_sidebar": True}

autosummary_generate = True
autosummary_ignore_module_all = False
autodoc_default_options = {"members": True, "show-inheritance": True}
autodoc_typehints = "none"  # the numpydoc Parameters sections carry the types
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_xref_param_type = False
# MathJax is loaded from the theme's bundled copy when present; no network access is needed
# to build (the HTML pages load it when read).
nitpicky = False
# numpydoc References sections list the papers a module builds on without citing each one
# in the text, which Sphinx would report as unreferenced citations.
suppress_warnings = ["ref.citation"]
