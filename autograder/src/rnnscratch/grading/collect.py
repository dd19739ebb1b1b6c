"""Collect: find each student's submission of an assignment and read it (read-only).

A submission that cannot be graded normally is still a ``Submission``, with ``problem`` set to
a plain-English reason (empty file, not a notebook, no notebook for this assignment, a symbolic
link or any other non-regular file); it then scores zero with that reason in its feedback
instead of stopping the run.

Submissions are data: nothing in ``submitted/`` is followed (``lstat``, ``O_NOFOLLOW``,
``O_NONBLOCK``: a symlink to ``solutions/``, a FIFO or a device is refused, never opened), and
``sanitize`` rebuilds the notebook from the cells' text alone, keeping nbgrader metadata only on
the first cell that carries each of the assignment's own ``grade_id`` s.
"""

from __future__ import annotations

import json
import os
import stat
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from rnnscratch.exercises.protocol import read_regular
from rnnscratch.grading.course import Course


@dataclass
class Submission:
    """One student's collected notebook for one assignment (collect -> plan): the parsed
    notebook, or the reason it cannot be run, and notes the student should read."""

    student: str
    assignment: str
    path: Path | None  # the notebook in submitted/ (never written to)
    notebook: nbformat.NotebookNode | None = None
    problem: str | None = None  # why it cannot be run at all
    notes: list[str] = field(default_factory=list)  # things the student should know
    timestamp: str | None = None


MAX_NOTEBOOK = 50 * 1024**2


def students(course: Course) -> list[str]:
    """Student ids with a folder (or anything else, e.g. a symlink: it is then refused with a
    reason) in ``submitted/``; never follows a link."""
    if not course.submitted.is_dir():
        return []
    out = []
    for entry in os.scandir(course.submitted):
        if entry.name.startswith(".") or entry.is_file(follow_symlinks=False):
            continue
        out.append(entry.name)
    return sorted(out)


def _kind(path: Path) -> str | None:
    """None for a real directory or regular file, else why it is refused (never followed)."""
    try:
        mode = os.lstat(path).st_mode
    except OSError:
        return "missing"
    if stat.S_ISLNK(mode):
        return "a symbolic link (links are never followed)"
    if stat.S_ISDIR(mode) or stat.S_ISREG(mode):
        return None
    return "not a regular file (a FIFO, socket or device)"


def read_notebook(path: Path) -> tuple[nbformat.NotebookNode | None, str | None]:
    """(notebook, None) or (None, reason it cannot be graded)."""
    why = _kind(path)
    if why:
        return None, f"the notebook is {why}"
    try:
        raw = read_regular(path, MAX_NOTEBOOK)
    except OSError as exc:
        if "larger than" in str(exc):
            return None, "the submitted notebook is larger than 50 MB"
        return None, f"the file could not be read ({exc.strerror or exc})"
    if not raw.strip():
        return None, "the submitted notebook file is empty (0 bytes of notebook)"
    try:
        data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        return None, f"the file is not a valid notebook (not JSON: {str(exc)[:200]})"
    except RecursionError:
        return None, "the file is not a valid notebook (JSON nested too deeply)"
    try:
        nb = _rebuild(data)
    except Exception as exc:  # noqa: BLE001 - any malformation is the student's to fix
        return None, f"the file is JSON but not a notebook ({type(exc).__name__}: {exc})"[:400]
    return nb, None


def _text(value) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return "".join(value)
    raise ValueError("a cell's source is not text")


def _rebuild(data) -> nbformat.NotebookNode:
    """A fresh notebook from the cells' type, text and nbgrader ``grade_id`` only: outputs,
    attachments and every other piece of metadata the student's file carried are dropped."""
    if not isinstance(data, dict) or not isinstance(data.get("cells"), list):
        raise ValueError("no list of cells")
    cells = []
    for raw in data["cells"]:
        if not isinstance(raw, dict):
            raise ValueError("a cell is not an object")
        kind = raw.get("cell_type")
        source = _text(raw.get("source", ""))
        meta = raw.get("metadata")
        nb_meta = meta.get("nbgrader") if isinstance(meta, dict) else None
        gid = nb_meta.get("grade_id") if isinstance(nb_meta, dict) else None
        metadata = {"nbgrader": {"grade_id": gid}} if isinstance(gid, str) and gid else {}
        if kind == "code":
            cells.append(nbformat.v4.new_code_cell(source, metadata=metadata))
        elif kind == "markdown":
            cells.append(nbformat.v4.new_markdown_cell(source, metadata=metadata))
        elif kind == "raw":
            cells.append(nbformat.v4.new_raw_cell(source, metadata=metadata))
        else:
            raise ValueError(f"unknown cell type {str(kind)[:40]!r}")
    return nbformat.v4.new_notebook(cells=cells)


def sanitize(notebook: nbformat.NotebookNode, known: set[str]) -> list[str]:
    """Strip foreign nbgrader metadata in place: a ``grade_id`` that is not one of the
    assignment's, or a second cell claiming one, is removed (the cell stays, as a cell the
    student added). Returns notes for the feedback."""
    seen: set[str] = set()
    foreign = 0
    for cell in notebook.cells:
        gid = cell.metadata.get("nbgrader", {}).get("grade_id")
        if gid is None:
            continue
        if gid in known and gid not in seen:
            seen.add(gid)
            continue
        del cell.metadata["nbgrader"]
        foreign += 1
    if foreign:
        return [f"nbgrader metadata of {foreign} cell(s) was not the assignment's and was removed"]
    return []


def collect(course: Course, aid: str, student: str) -> Submission:
    """The submission of ``student`` for ``aid`` (never raises for a bad submission)."""
    folder = course.submitted / student / aid
    sub = Submission(student, aid, None)
    for place, what in ((course.submitted / student, "folder"), (folder, "assignment folder")):
        why = _kind(place)
        if why and why != "missing":
            sub.problem = f"the submission's {what} {place.name} is {why}"
            return sub
    if _kind(folder) == "missing":
        student_dir = course.submitted / student
        others = sorted(e.name for e in os.scandir(student_dir) if e.is_dir(follow_symlinks=False))
        extra = f" (found folder(s) {', '.join(others)} instead)" if others else ""
        sub.problem = f"no submission for assignment '{aid}'{extra}"
        return sub
    stamp = folder / "timestamp.txt"
    try:
        text = read_regular(stamp, 4096).decode("utf-8", errors="replace")
        sub.timestamp = text.strip()[:64] or None
    except OSError:
        pass
    expected = folder / f"{aid}.ipynb"
    if _kind(expected) == "missing":
        found = sorted(
            folder / e.name
            for e in os.scandir(folder)
            if e.name.endswith(".ipynb") and not e.name.startswith(".")
        )
        if len(found) != 1:
            names = ", ".join(p.name for p in found) or "no notebook"
            sub.problem = f"expected {aid}.ipynb in the submission, found {names}"
            return sub
        sub.notes.append(f"the notebook was named {found[0].name}; it was graded as {aid}.ipynb")
        expected = found[0]
    sub.path = expected
    sub.notebook, sub.problem = read_notebook(expected)
    return sub
