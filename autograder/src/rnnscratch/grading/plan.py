"""Build the runner's plan for one submission: the cells to execute, in notebook order.

- answer cells: the student's code, matched by nbgrader ``grade_id``;
- locked code cells: restored from the source notebook (edits are ignored, as nbgrader does);
- test cells: replaced by ``record`` cells that list the ``(function, case)`` pairs; the test
  source (visible or hidden) never enters the sandbox, deleted test cells come back;
- cells the student added (no ``grade_id``) run where the student put them.
"""

from __future__ import annotations

from dataclasses import dataclass

from rnnscratch.grading.source import HIDDEN, Assignment
from rnnscratch.nbmeta import grade_id as _grade_id


@dataclass
class PlanCell:
    """One cell the sandbox runs (plan -> isolate -> judge): the student's code, a locked
    cell restored from the source, or a record cell that replaces a test cell and records
    the outputs of its (function, case) pairs."""

    kind: str  # "code" | "record"
    source: str = ""
    grade_id: str | None = None
    pairs: list[tuple[str, str]] | None = None
    origin: str = "student"  # "student" | "source" | "missing"
    student_index: int | None = None  # position in the student's notebook (added cells)

    def to_json(self) -> dict:
        d = {"kind": self.kind, "source": self.source}
        if self.pairs is not None:
            d["pairs"] = [list(p) for p in self.pairs]
        return d


def build(assignment: Assignment, notebook) -> tuple[list[PlanCell], list[str]]:
    """(plan cells, notes for the feedback) for a student's notebook."""
    known = assignment.by_id
    segments: dict[str | None, list] = {None: []}
    student_by_id: dict[str, object] = {}
    last: str | None = None
    for index, cell in enumerate(notebook.cells):
        gid = _grade_id(cell)
        if gid in known and gid not in student_by_id:
            student_by_id[gid] = cell
            last = gid
            segments.setdefault(gid, [])
        elif cell.get("cell_type") == "code":
            segments.setdefault(last, []).append((index, cell))
    deleted, edited, missing = [], [], []
    plan: list[PlanCell] = [PlanCell("code", _text(c), student_index=i) for i, c in segments[None]]
    for sc in assignment.cells:
        gid = sc.grade_id
        mine = student_by_id.get(gid) if gid else None
        if sc.role == "answer" and sc.cell_type == "code":
            if mine is None:
                missing.append(gid)
                plan.append(PlanCell("code", "", gid, origin="missing"))
            else:
                plan.append(PlanCell("code", _text(mine), gid))
        elif sc.role == "test":
            if mine is None:
                deleted.append(gid)
            elif _norm(_text(mine)) not in (_norm(sc.source), _norm(HIDDEN.sub("", sc.source))):
                edited.append(gid)
            plan.append(PlanCell("record", "", gid, pairs=list(sc.pairs), origin="source"))
        elif sc.role == "locked" and sc.cell_type == "code":
            if mine is not None and _norm(_text(mine)) != _norm(sc.source):
                edited.append(gid)
            plan.append(PlanCell("code", sc.source, gid, origin="source"))
        if gid and gid in segments:
            plan.extend(PlanCell("code", _text(c), student_index=i) for i, c in segments[gid])
    notes = []
    if missing:
        notes.append(f"answer cells deleted (they count as empty): {', '.join(missing)}")
    if deleted:
        notes.append(f"test cells deleted (they were put back for grading): {', '.join(deleted)}")
    if edited:
        notes.append(
            f"read-only or test cells edited (the originals were used): {', '.join(edited)}"
        )
    return plan, notes


def _text(cell) -> str:
    src = cell.get("source", "")
    return "".join(src) if isinstance(src, list) else str(src)


def _norm(text: str) -> str:
    return "\n".join(line.rstrip() for line in text.strip().splitlines() if line.strip())
