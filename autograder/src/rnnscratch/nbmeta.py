"""The nbgrader metadata of a notebook cell, read safely, and the check calls of a test cell
(one place for each; the exercises, the book's overview and the grader read cells with them).

Works on nbformat's NotebookNode and on plain JSON dicts alike; a student's notebook may carry
anything in its metadata, so anything that is not a dict reads as empty and a grade id that is
not a string reads as None.
"""

import ast


def nbgrader_meta(cell) -> dict:
    """`cell.metadata.nbgrader` as a dict ({} when missing or malformed)."""
    meta = cell.get("metadata") if hasattr(cell, "get") else None
    meta = meta.get("nbgrader") if isinstance(meta, dict) else None
    return meta if isinstance(meta, dict) else {}


def grade_id(cell) -> str | None:
    """The cell's nbgrader grade id, or None."""
    gid = nbgrader_meta(cell).get("grade_id")
    return gid if isinstance(gid, str) else None


def check_calls(source: str) -> list[tuple[str, str]]:
    """The ``check("<function>", <function>, "<case>")`` calls in a test cell, in order."""
    try:
        tree = ast.parse(source)
    except SyntaxError as exc:
        raise ValueError(f"test cell does not parse: {exc}") from None
    pairs = []
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Call)
            and getattr(node.func, "id", getattr(node.func, "attr", None)) == "check"
            and len(node.args) == 3
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[2], ast.Constant)
        ):
            pair = (str(node.args[0].value), str(node.args[2].value))
            pairs.append((node.lineno, node.col_offset, pair))
    return [pair for _, _, pair in sorted(pairs)]
