"""Release: the student version of an assignment, with nbgrader's own preprocessors.

``release(course, aid)`` runs ``nbgrader generate_assignment`` (which also registers the
assignment's cells in the gradebook); ``released_notebook(path)`` makes the same student
version in memory (solutions and hidden tests removed, outputs cleared, cells locked), which
the tests and the demo use to build synthetic submissions.
"""

from __future__ import annotations

import copy
import subprocess
from pathlib import Path

import nbformat

from rnnscratch.grading.course import Course


def released_notebook(source_path: Path | str):
    """The student version of a source notebook (in memory, a fresh copy each call)."""
    path = Path(source_path).resolve()
    key = (str(path), path.stat().st_mtime_ns)
    if key not in _CACHE:
        _CACHE.clear()
        _CACHE[key] = _release(path)
    return copy.deepcopy(_CACHE[key])


_CACHE: dict = {}


def _release(source_path: Path):
    from nbgrader.preprocessors import (
        ClearHiddenTests,
        ClearMarkScheme,
        ClearOutput,
        ClearSolutions,
        ComputeChecksums,
        LockCells,
    )

    nb = nbformat.read(source_path, as_version=4)
    resources: dict = {}
    for pp in (
        LockCells(),
        ClearSolutions(),
        ClearOutput(),
        ComputeChecksums(),
        ClearHiddenTests(),
        ClearMarkScheme(),
        ComputeChecksums(),
    ):
        nb, resources = pp.preprocess(nb, resources)
    return nb


def release(course: Course, aid: str) -> int:
    """``nbgrader generate_assignment`` into the release folder (and the gradebook)."""
    cmd = course.nbgrader_command("generate_assignment", aid, "--force", "--log-level=WARN")
    return subprocess.run(cmd, cwd=course.root).returncode
