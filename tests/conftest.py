"""Shared fixtures.  Helpers for building test data live in tests/support/ (imported as
``tests.support.synthetic``; the independent reference implementations are
``tests.support.reference_model`` and ``tests.support.reference_ext``)."""

from __future__ import annotations

from pathlib import Path

import pytest

import cge
from tests.support.synthetic import make_dataset

ROOT = Path(__file__).resolve().parents[1]
#: raw data shared between projects (never committed); tests that need it skip without it
SHARED_DATA = ROOT.parent / "shared" / "data"


@pytest.fixture
def small_dataset():
    """A random balanced 3-region, 2-sector benchmark (a fresh copy per test)."""
    return make_dataset(n_regions=3, n_sectors=2, seed=0)


@pytest.fixture(scope="session")
def default_dataset():
    """The built-in default benchmark (WIOD 2011, 9 regions x 8 sectors)."""
    return cge.load_dataset("default")


@pytest.fixture(scope="session")
def shared_data() -> Path:
    if not SHARED_DATA.is_dir():
        pytest.skip(f"the raw data folder {SHARED_DATA} is absent")
    return SHARED_DATA
