"""Record: put the scores into nbgrader's gradebook and write the autograded notebook.

The gradebook rows are nbgrader's own (``Gradebook`` API, the same preprocessors that
``nbgrader generate_assignment`` uses to register an assignment), so formgrader, manual grading,
``nbgrader generate_feedback`` and ``nbgrader export`` keep working. The autograded notebook in
``autograded/<student>/<aid>/`` is the student's notebook with read-only and test cells restored
from the source, hidden tests removed, and the verdicts as the test cells' outputs (an error
output for a failed cell, as nbgrader itself would show). ``results.json`` beside it keeps the
per-check verdicts and diagnosed mistakes for the class report.
"""

from __future__ import annotations

import json
import os
import sys
import warnings
from dataclasses import asdict
from datetime import datetime
from pathlib import Path

import nbformat
from nbgrader import utils
from nbgrader.api import Gradebook, MissingEntry

from rnnscratch.exercises.protocol import read_regular
from rnnscratch.grading.collect import Submission
from rnnscratch.grading.course import Course
from rnnscratch.grading.judge import CellResult
from rnnscratch.grading.sanitize import markdown_source
from rnnscratch.grading.source import Assignment, strip_hidden
from rnnscratch.nbmeta import grade_id, nbgrader_meta


def gradebook(course: Course) -> Gradebook:
    """nbgrader's gradebook of the course (creating it runs ``alembic`` from the venv)."""
    bindir = str(Path(sys.executable).parent)
    if bindir not in os.environ.get("PATH", "").split(os.pathsep):
        os.environ["PATH"] = bindir + os.pathsep + os.environ.get("PATH", "")
    return Gradebook(course.db_url)


def register(course: Course, assignment: Assignment) -> None:
    """Make sure the gradebook knows the assignment, its notebook and its cells (saved by
    generate_assignment's own configured preprocessors: ``exercises.student_version``)."""
    from rnnscratch.exercises.release import student_version
    from rnnscratch.grading.handout import course_root

    with gradebook(course) as gb:
        gb.update_or_create_assignment(assignment.name)
        try:
            nb_row = gb.find_notebook(assignment.notebook, assignment.name)
            if nb_row.grade_cells:
                return
        except MissingEntry:
            pass
    nb = nbformat.read(assignment.path, as_version=4)
    resources = {
        "nbgrader": {
            "notebook": assignment.notebook,
            "assignment": assignment.name,
            "db_url": course.db_url,
        }
    }
    student_version(nb, course_root(assignment.path), resources)


def _timestamp(text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        return utils.parse_utc(text)
    except Exception:  # noqa: BLE001 - a garbled timestamp.txt is not worth failing for
        return None


def save_scores(
    course: Course,
    assignment: Assignment,
    sub: Submission,
    results: list[CellResult],
    answered: dict[str, bool],
    gb: Gradebook | None = None,
) -> None:
    """Write auto scores (and 'needs manual grade' flags) for one submission.

    Manual scores given in formgrader are never overwritten. ``gb``: an open gradebook to
    reuse (one per grading run), else one is opened for this call.
    """
    if gb is None:
        with gradebook(course) as own:
            return save_scores(course, assignment, sub, results, answered, own)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # nbgrader's own SQLAlchemy 'not in session' notices
        gb.update_or_create_student(sub.student)
        info = {}
        stamp = _timestamp(sub.timestamp)
        if stamp is not None:
            info["timestamp"] = stamp
        gb.update_or_create_submission(assignment.name, sub.student, **info)
        snb = gb.find_submission_notebook(assignment.notebook, assignment.name, sub.student)
        grades = {g.name: g for g in snb.grades}
        comments = {c.name: c for c in snb.comments}
        scores = {r.grade_id: r.score for r in results}
        for cell in assignment.cells:
            if cell.role in ("test", "manual", "task") and cell.grade_id in grades:
                grade = grades[cell.grade_id]
                if cell.role == "test":
                    grade.auto_score = float(scores.get(cell.grade_id, 0.0))
                    grade.needs_manual_grade = grade.manual_score is not None
                elif not answered.get(cell.grade_id, False):
                    grade.auto_score = 0.0  # nothing written: nbgrader gives 0 automatically
                    grade.needs_manual_grade = grade.manual_score is not None
                else:
                    grade.auto_score = None
                    grade.needs_manual_grade = True
            if cell.role in ("answer", "manual", "task") and cell.grade_id in comments:
                comment = comments[cell.grade_id]
                comment.auto_comment = None if answered.get(cell.grade_id) else "No response."
        gb.db.commit()


def answered_cells(assignment: Assignment, notebook) -> dict[str, bool]:
    """grade_id -> True when the student changed the answer cell from the released stub."""
    from rnnscratch.grading.handout import released_notebook

    released = released_notebook(assignment.path)
    stub = {}
    for cell in released.cells:
        gid = grade_id(cell)
        if gid:
            stub[gid] = cell.source.strip()
    out = {}
    mine = {}
    if notebook is not None:
        for cell in notebook.cells:
            gid = grade_id(cell)
            if isinstance(gid, str) and gid not in mine:
                mine[gid] = cell.get("source", "")
    for cell in assignment.cells:
        if cell.role in ("answer", "manual", "task") and cell.grade_id:
            text = mine.get(cell.grade_id)
            out[cell.grade_id] = bool(
                text and text.strip() and text.strip() != stub.get(cell.grade_id)
            )
    return out


def autograded_notebook(
    assignment: Assignment,
    notebook,
    results: list[CellResult],
    cell_errors: dict,  # grade_id or index in the student's notebook -> printed text
    notes: list[str],
    problem: str | None,
):
    """The notebook formgrader and the feedback show (no hidden test source, no solutions)."""
    from rnnscratch.grading.handout import released_notebook

    source = released_notebook(assignment.path)  # no solutions, hidden tests or mark schemes
    by_result = {r.grade_id: r for r in results}
    mine: dict[str, object] = {}
    extra: dict[str | None, list] = {None: []}
    last = None
    known = assignment.by_id
    if notebook is not None:
        for index, cell in enumerate(notebook.cells):
            gid = grade_id(cell)
            if isinstance(gid, str) and gid in known and gid not in mine:
                mine[gid] = cell
                last = gid
            else:
                extra.setdefault(last, []).append(_with_output(cell, cell_errors.get(index)))
    cells = list(extra[None]) if notebook is not None else []
    for sc, src_cell in zip(assignment.cells, source.cells, strict=True):
        gid = sc.grade_id
        if notebook is None or gid is None:
            if notebook is None:
                cell = nbformat.from_dict(src_cell)
                if sc.role == "test":
                    cell.source = strip_hidden(sc.source)
                cells.append(_clean(cell))
            continue
        if sc.role in ("answer", "manual", "task"):
            cell = nbformat.from_dict(mine.get(gid, src_cell))
            cell.metadata["nbgrader"] = dict(nbgrader_meta(src_cell))
            cell = _with_output(cell, cell_errors.get(gid))
        elif sc.role == "test":
            cell = _clean(nbformat.from_dict(src_cell))
            cell.source = strip_hidden(sc.source)
        else:
            cell = _clean(nbformat.from_dict(src_cell))
        cells.append(cell)
        cells.extend(extra.get(gid, []))
    for cell in cells:
        gid = grade_id(cell)
        if cell.cell_type == "code" and gid in by_result and known[gid].role == "test":
            cell.outputs = _verdict_outputs(by_result[gid], problem)
    if problem or notes:
        text = "**Grader notes**\n\n" + "\n".join(
            f"- {n}" for n in ([problem] if problem else []) + notes
        )
        # the metadata marks the official notes (students' cells never carry any metadata
        # but a grade_id: collect.sanitize), so no student text is shown as grader text
        cells.insert(0, nbformat.v4.new_markdown_cell(text, metadata={GRADER_NOTES: True}))
    out = nbformat.v4.new_notebook(cells=cells, metadata=source.metadata)
    return out


GRADER_NOTES = "rnnscratch_grader_notes"


def _with_output(cell, text: str | None):
    """A clean copy of a student's cell, showing what it printed (and why it failed); a
    markdown or raw cell's HTML is sanitised (no scripts, no remote images)."""
    cell = _clean(cell)
    if cell.cell_type in ("markdown", "raw"):
        cell.source = markdown_source(cell.source)
        cell.pop("attachments", None)
        if cell.source.lstrip().startswith("**Grader notes**"):  # not the grader's
            cell.source = "*(written by the student:)*\n\n" + cell.source
    if text and cell.cell_type == "code":
        cell.outputs = [_stream("stdout", text.rstrip("\n") + "\n")]
    return cell


def _clean(cell):
    cell = nbformat.from_dict(cell)
    if cell.get("cell_type") == "code":
        cell.outputs = []
        cell.execution_count = None
    cell.pop("attachments", None) if cell.get("cell_type") == "code" else None
    return cell


def _stream(name: str, text: str):
    return nbformat.v4.new_output("stream", name=name, text=text)


def _verdict_outputs(result: CellResult, problem: str | None) -> list:
    lines = [f"not graded: {problem}"] if problem else []
    for p in result.pairs:
        lines.append(("[hidden test] " if p.hidden else "") + p.message.strip())
    text = "\n".join(lines) or "no checks"
    if result.score >= result.points and result.pairs:
        return [_stream("stdout", text + "\n")]
    return [nbformat.v4.new_output("error", ename="AssertionError", evalue=text, traceback=[text])]


def write_autograded(
    course: Course, sub: Submission, nb, results: list[CellResult], extra: dict
) -> Path:
    folder = course.autograded / sub.student / sub.assignment
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{sub.assignment}.ipynb"
    nbformat.write(nb, path)
    # what nbgrader's own tools expect beside it (release_feedback needs both)
    for name in ("timestamp.txt", "submission_secret.txt"):
        src = course.submitted / sub.student / sub.assignment / name
        try:
            data = read_regular(src, 4096)  # never follows a link, never blocks on a FIFO
        except OSError:
            continue
        (folder / name).write_bytes(data)
    data = {
        "student": sub.student,
        "assignment": sub.assignment,
        "cells": [asdict(r) for r in results],
        **extra,
    }
    (folder / "results.json").write_text(json.dumps(data, indent=1))
    return path
