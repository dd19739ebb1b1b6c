"""Read an assignment's SOURCE notebook: which cells are graded, for how many points, and which
``check(name, func, case)`` calls each test cell makes (parsed with ``ast``, never executed).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from rnnscratch.nbmeta import check_calls, nbgrader_meta

HIDDEN = re.compile(
    r"^[ \t]*### BEGIN HIDDEN TESTS.*?^[ \t]*### END HIDDEN TESTS[^\n]*\n?", re.M | re.S
)


@dataclass
class SourceCell:
    """One cell of the source notebook, with its nbgrader role."""

    index: int
    cell_type: str
    source: str
    grade_id: str | None
    role: str  # "answer" | "test" | "manual" | "locked" | "task" | "plain"
    points: float = 0.0
    pairs: list[tuple[str, str]] = field(default_factory=list)  # test cells: (function, case)
    hidden_pairs: int = 0  # how many of the pairs are hidden tests


@dataclass
class Assignment:
    """What the grader knows about one assignment, from its source notebook."""

    name: str
    notebook: str  # notebook name without .ipynb (nbgrader's notebook id)
    path: Path
    cells: list[SourceCell]

    @property
    def tests(self) -> list[SourceCell]:
        return [c for c in self.cells if c.role == "test"]

    @property
    def by_id(self) -> dict[str, SourceCell]:
        return {c.grade_id: c for c in self.cells if c.grade_id}

    @property
    def max_auto(self) -> float:
        return sum(c.points for c in self.tests)

    @property
    def max_score(self) -> float:
        return sum(c.points for c in self.cells if c.role in ("test", "manual", "task"))


def role_of(meta: dict, cell_type: str) -> str:
    """nbgrader's cell kinds, named for the grader."""
    if not meta:
        return "plain"
    if meta.get("task"):
        return "task"
    if meta.get("grade") and meta.get("solution"):
        return "manual"
    if meta.get("grade") and cell_type == "code":
        return "test"
    if meta.get("grade"):
        return "manual"
    if meta.get("solution"):
        return "answer"
    if meta.get("locked"):
        return "locked"
    return "plain"


def strip_hidden(source: str) -> str:
    """A test cell's source without its hidden tests (what students and feedback may see)."""
    return HIDDEN.sub("# (hidden tests are run by the grader)\n", source)


def load(path: Path | str, name: str | None = None) -> Assignment:
    """Parse ``solutions/<aid>/<aid>.ipynb`` (or any nbgrader source notebook)."""
    path = Path(path)
    nb = nbformat.read(path, as_version=4)
    cells = []
    for index, cell in enumerate(nb.cells):
        meta = nbgrader_meta(cell)
        role = role_of(meta, cell.cell_type)
        sc = SourceCell(index, cell.cell_type, cell.source, meta.get("grade_id"), role)
        if meta.get("grade") or role == "task":
            sc.points = float(meta.get("points", 0) or 0)
        if role == "test":
            sc.pairs = check_calls(cell.source)
            sc.hidden_pairs = len(sc.pairs) - len(check_calls(strip_hidden(cell.source)))
        cells.append(sc)
    return Assignment(name or path.parent.name, path.stem, path, cells)
