"""Synthetic classes for the demo, the benchmark and the tests.

A synthetic student starts from the released notebook and fills each answer cell with the
solution, leaves it unanswered, or plants a typical mistake in it (tanh and sigmoid swapped, a
bias dropped, a transposed weight) -- so the class report has something to show.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import nbformat
import numpy as np

from rnnscratch import ROOT
from rnnscratch.grading.course import Course
from rnnscratch.grading.handout import released_notebook
from rnnscratch.nbmeta import grade_id, nbgrader_meta

MINI = "g01_mini"

MUTATIONS = [
    (r"np\.tanh\(", "(lambda a: 1.0 / (1.0 + np.exp(-a)))("),  # sigmoid where tanh belongs
    (r"\s*\+\s*b_[a-z]+\b", ""),  # a bias dropped
    (r"(W_[a-z]+)\.T\b", r"\1"),  # a weight not transposed
    (r"1\.0 / \(1\.0 \+ ", "np.tanh(0.0 + "),  # tanh where sigmoid belongs
]


def _meta(grade_id, *, solution=False, grade=False, locked=False, points=0):
    meta = {
        "grade": grade,
        "grade_id": grade_id,
        "locked": locked,
        "schema_version": 3,
        "solution": solution,
    }
    if grade:
        meta["points"] = points
    return {"nbgrader": meta}


def mini_source() -> nbformat.NotebookNode:
    """A small stand-in assignment (two functions of a01 and one written answer)."""
    md, code = nbformat.v4.new_markdown_cell, nbformat.v4.new_code_cell
    cells = [
        md("# g01: a stand-in assignment for the grader", metadata=_meta("intro", locked=True)),
        code("import numpy as np"),
        code(
            "def sigmoid(x):\n"
            '    """x: (...) any shape. Returns sigmoid(x), stable for large |x|."""\n'
            "    ### BEGIN SOLUTION\n"
            "    e = np.exp(-np.abs(x))\n"
            "    return np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e))\n"
            "    ### END SOLUTION",
            metadata=_meta("sigmoid", solution=True),
        ),
        code(
            "# Does `sigmoid` match torch.sigmoid, also for large |x|?\n"
            "from rnnscratch.exercises import check\n"
            'check("sigmoid", sigmoid, "visible")\n'
            "### BEGIN HIDDEN TESTS\n"
            'check("sigmoid", sigmoid, "random")\n'
            'check("sigmoid", sigmoid, "extreme")\n'
            "### END HIDDEN TESTS",
            metadata=_meta("test_sigmoid_values", grade=True, locked=True, points=2),
        ),
        code(
            "def rnn_cell(x, h_prev, W_ih, W_hh, b_ih, b_hh):\n"
            '    """x: (B, D), h_prev: (B, H). Returns h: (B, H)."""\n'
            "    ### BEGIN SOLUTION\n"
            "    return np.tanh(x @ W_ih.T + b_ih + h_prev @ W_hh.T + b_hh)\n"
            "    ### END SOLUTION",
            metadata=_meta("rnn_cell", solution=True),
        ),
        code(
            "# Does each term of `rnn_cell` enter the right way?\n"
            "from rnnscratch.exercises import check\n"
            'check("rnn_cell", rnn_cell, "visible")\n'
            "### BEGIN HIDDEN TESTS\n"
            'check("rnn_cell", rnn_cell, "bias_only")\n'
            'check("rnn_cell", rnn_cell, "input_only")\n'
            'check("rnn_cell", rnn_cell, "prev_state_only")\n'
            'check("rnn_cell", rnn_cell, "random")\n'
            "### END HIDDEN TESTS",
            metadata=_meta("test_rnn_cell_terms", grade=True, locked=True, points=3),
        ),
        md(
            "Why does the cell use tanh rather than ReLU?\n\n### BEGIN SOLUTION\n"
            "Bounded state.\n### END SOLUTION",
            metadata=_meta("why_tanh", solution=True, grade=True, points=1),
        ),
    ]
    nb = nbformat.v4.new_notebook(cells=cells)
    nb.metadata["kernelspec"] = {
        "display_name": "Python 3",
        "language": "python",
        "name": "python3",
    }
    return nb


def make_course(root: Path, assignments: list[str] | None = None) -> list[str]:
    """A course directory with the repository's source notebooks (all, or ``assignments``);
    the stand-in ``g01_mini`` when the repository has none. Returns the assignment ids."""
    root = Path(root)
    src = ROOT / "solutions"
    found = sorted(d.name for d in src.glob("*") if (d / f"{d.name}.ipynb").is_file())
    chosen = [a for a in found if assignments is None or a in assignments]
    for aid in chosen:
        shutil.copytree(src / aid, root / "solutions" / aid, dirs_exist_ok=True)
    if chosen:
        return chosen
    folder = root / "solutions" / MINI
    folder.mkdir(parents=True, exist_ok=True)
    nbformat.write(mini_source(), folder / f"{MINI}.ipynb")
    return [MINI]


def solution_answers(source_path: Path) -> dict[str, str]:
    """grade_id -> the solution text of each answer cell (markers removed)."""
    nb = nbformat.read(source_path, as_version=4)
    out = {}
    for cell in nb.cells:
        meta = nbgrader_meta(cell)
        if meta.get("solution"):
            pattern = r"^[ \t]*### (BEGIN|END) SOLUTION[^\n]*\n?"
            out[meta["grade_id"]] = re.sub(pattern, "", cell.source, flags=re.M)
    return out


def solved(source_path: Path) -> nbformat.NotebookNode:
    """The released notebook with every answer cell filled in with the solution."""
    nb = released_notebook(source_path)
    answers = solution_answers(source_path)
    for cell in nb.cells:
        gid = grade_id(cell)
        if gid in answers:
            cell.source = answers[gid]
    return nb


def student_notebook(source_path: Path, rng: np.random.Generator, released=None, answers=None):
    """One synthetic student: each answer right (75 %), unanswered (10 %) or mistaken (15 %)."""
    nb = nbformat.from_dict(released or released_notebook(source_path))
    answers = answers or solution_answers(source_path)
    for cell in nb.cells:
        gid = grade_id(cell)
        if gid not in answers or cell.cell_type != "code":
            if gid in answers and rng.random() < 0.8:
                cell.source = answers[gid]
            continue
        u = rng.random()
        if u < 0.75:
            cell.source = answers[gid]
        elif u < 0.90:
            text = answers[gid]
            for k in rng.permutation(len(MUTATIONS)):
                pattern, repl = MUTATIONS[k]
                mutated = re.sub(pattern, repl, text, count=1)
                if mutated != text:
                    text = mutated
                    break
            cell.source = text
    return nb


def make_class(course: Course, aid: str, n: int, seed: int = 0) -> list[str]:
    """Write ``n`` synthetic submissions of ``aid`` into ``submitted/``; returns student ids."""
    source_path = course.source_notebook(aid)
    released = released_notebook(source_path)
    answers = solution_answers(source_path)
    rng = np.random.default_rng(seed)
    ids = []
    for k in range(n):
        student = f"student{k + 1:03d}"
        folder = course.submitted / student / aid
        folder.mkdir(parents=True, exist_ok=True)
        nb = student_notebook(source_path, rng, released, answers)
        (folder / f"{aid}.ipynb").write_text(json.dumps(nb, indent=1))
        (folder / "timestamp.txt").write_text("2026-11-20 10:00:00.000000 UTC")
        ids.append(student)
    return ids
