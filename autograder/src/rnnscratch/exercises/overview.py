"""What each assignment contains, read from the source notebooks (for the book's Exercises page).

`cells(aid)` lists the graded cells (test cells with their checks and points, written answers);
`table(aid)` renders them as a Markdown table, so the book never types a point count by hand.
"""

import json
import re
from pathlib import Path

from rnnscratch import ROOT
from rnnscratch.nbmeta import nbgrader_meta

_CALL = re.compile(r'^check\("(\w+)", \w+, "(\w+)"\)$', re.MULTILINE)


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
        visible = source.split("### BEGIN HIDDEN TESTS")[0]
        out.append(
            {
                "grade_id": meta["grade_id"],
                "kind": "test" if cell["cell_type"] == "code" else "written",
                "points": meta["points"],
                "visible": [case for _, case in _CALL.findall(visible)],
                "hidden": [case for _, case in _CALL.findall(source)][
                    len(_CALL.findall(visible)) :
                ],
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
