"""Release: the student version of an assignment, with nbgrader's own preprocessors.

``release(course, aid)`` runs ``nbgrader generate_assignment`` (which also registers the
assignment's cells in the gradebook); ``released_notebook(path)`` makes the same student
version in memory through the same configured preprocessors (``exercises.student_version``:
one release path), which the judge, the autograded notebooks and the demo use.
"""

from __future__ import annotations

import copy
import subprocess
from pathlib import Path

import nbformat

from rnnscratch import ROOT
from rnnscratch.exercises.release import student_version
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
    nb = nbformat.read(source_path, as_version=4)
    return student_version(nb, course_root(source_path))


def course_root(source_path: Path) -> Path:
    """The course root of ``<root>/<source dir>/<aid>/<aid>.ipynb`` when it has an
    nbgrader_config.py, else this repository's (synthetic and test courses)."""
    root = Path(source_path).resolve().parents[2]
    return root if (root / "nbgrader_config.py").is_file() else ROOT


def release(course: Course, aid: str) -> int:
    """``nbgrader generate_assignment`` into the release folder (and the gradebook)."""
    cmd = course.nbgrader_command("generate_assignment", aid, "--force", "--log-level=WARN")
    return subprocess.run(cmd, cwd=course.root).returncode
