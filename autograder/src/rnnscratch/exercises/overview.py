"""What each assignment contains, read from the source notebooks (for the book's Exercises page).

`cells(aid)` lists the graded cells (test cells with their checks and points, written answers);
`table(aid)` renders them as a Markdown table, so the book never types a point count by hand.
"""

import json
from pathlib import Path

from rnnscratch import ROOT
from rnnscratch.nbmeta import check_calls, nbgrader_meta


def notebook_path(aid: str, root: Path = ROOT) -> Path:
    """The nbgrader source notebook of an assignment."""
    return root / "solutions" / aid / f"{aid}.ipynb"


def cells(aid: str, root: Path = ROOT) -> list[dict]:
    """Graded cells in notebook order: grade_id, kind ("test" or "written"), points, cases."""
    out = []
    for cell in json.loads(notebook_path(aid, root).read_text())["cells"]:
        meta = nbgrader_meta(cell)
        if not meta.get("grade"):
            continue
        source = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
        code = cell["cell_type"] == "code"
        visible_calls = check_calls(source.split("### BEGIN HIDDEN TESTS")[0]) if code else []
        all_calls = check_calls(source) if code else []
        out.append(
            {
                "grade_id": meta["grade_id"],
                "kind": "test" if code else "written",
                "points": meta["points"],
                "visible": [case for _, case in visible_calls],
                "hidden": [case for _, case in all_calls][len(visible_calls) :],
            }
        )
    return out


def table(aid: str, root: Path = ROOT) -> str:
    """Markdown table of an assignment's graded cells and their points, with the total."""
    rows = ["| graded cell | checks (visible; hidden) | points |", "|---|---|---|"]
    total = 0
    for cell in cells(aid, root):
        total += cell["points"]
        if cell["kind"] == "test":
            what = ", ".join(cell["visible"]) + "; " + (", ".join(cell["hidden"]) or "none")
        else:
            what = "written answer, graded by hand"
        rows.append(f"| `{cell['grade_id']}` | {what} | {cell['points']} |")
    rows.append(f"| **total** | | **{total}** |")
    return "\n".join(rows)
