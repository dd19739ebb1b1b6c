"""Shared pytest fixtures; the grading tests' fixture class is importable as ``classroom``."""

import sys
from pathlib import Path

import pytest
import torch

sys.path.insert(0, str(Path(__file__).parent / "fixtures" / "grading"))


@pytest.fixture
def one_thread():
    """Small recurrent models train fastest (and least disturbed by other jobs) on one thread."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="session")
def graded_classes():
    """Graded fixture classes, by name, for other test modules to reuse (grading is slow):
    ``"local"`` is filled by test_grading.py's ``graded`` fixture."""
    return {}
