"""Shared test helpers."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

#: Extra public benchmark data (full TSPLIB, Gset, QAPLIB folders), when the environment
#: variable ``CEM_DATA_DIR`` names it; a user's clone runs with the bundled instances only.
DATA_ENV = "CEM_DATA_DIR"


@pytest.fixture
def shared_data() -> Path:
    folder = os.environ.get(DATA_ENV)
    if not folder or not Path(folder).is_dir():
        pytest.skip(f"set {DATA_ENV} to a folder of benchmark data to run this test")
    return Path(folder)
