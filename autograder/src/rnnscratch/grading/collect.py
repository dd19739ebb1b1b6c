"""Collect: find each student's submission of an assignment and read it (read-only).

A submission that cannot be graded normally is still a ``Submission``, with ``problem`` set to
a plain-English reason (empty file, not a notebook, no notebook for this assignment); it then
scores zero with that reason in its feedback instead of stopping the run.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from rnnscratch.grading.course import Course


@dataclass
class Submission:
    student: str
    assignment: str
    path: Path | None  # the notebook in submitted/ (never written to)
    notebook: nbformat.NotebookNode | None = None
    problem: str | None = None  # why it cannot be run at all
    notes: list[str] = field(default_factory=list)  # things the student should know
    timestamp: str | None = None


def students(course: Course) -> list[str]:
    """Student ids with a folder in ``submitted/``."""
    if not course.submitted.is_dir():
        return []
    return sorted(d.name for d in course.submitted.iterdir() if d.is_dir())


def read_notebook(path: Path) -> tuple[nbformat.NotebookNode | None, str | None]:
    """(notebook, None) or (None, reason it cannot be graded)."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        return None, f"the file could not be read ({exc.strerror})"
    if not raw.strip():
        return None, "the submitted notebook file is empty (0 bytes of notebook)"
    if len(raw) > 50 * 1024**2:
        return None, "the submitted notebook is larger than 50 MB"
    try:
        data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        return None, f"the file is not a valid notebook (not JSON: {exc})"
    try:
        nb = nbformat.reads(json.dumps(data), as_version=4)
        cells = nb.cells
        for cell in cells:
            _ = cell.cell_type, cell.source
    except Exception as exc:  # noqa: BLE001 - any malformation is the student's to fix
        return None, f"the file is JSON but not a notebook ({type(exc).__name__}: {exc})"
    return nb, None


def collect(course: Course, aid: str, student: str) -> Submission:
    """The submission of ``student`` for ``aid`` (never raises for a bad submission)."""
    folder = course.submitted / student / aid
    sub = Submission(student, aid, None)
    if not folder.is_dir():
        others = sorted(p.name for p in (course.submitted / student).glob("*") if p.is_dir())
        extra = f" (found folder(s) {', '.join(others)} instead)" if others else ""
        sub.problem = f"no submission for assignment '{aid}'{extra}"
        return sub
    stamp = folder / "timestamp.txt"
    if stamp.is_file():
        sub.timestamp = stamp.read_text(errors="replace").strip()[:64] or None
    expected = folder / f"{aid}.ipynb"
    if not expected.is_file():
        found = sorted(p for p in folder.glob("*.ipynb") if not p.name.startswith("."))
        if len(found) != 1:
            names = ", ".join(p.name for p in found) or "no notebook"
            sub.problem = f"expected {aid}.ipynb in the submission, found {names}"
            return sub
        sub.notes.append(f"the notebook was named {found[0].name}; it was graded as {aid}.ipynb")
        expected = found[0]
    sub.path = expected
    sub.notebook, sub.problem = read_notebook(expected)
    return sub
