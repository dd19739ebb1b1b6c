"""The nbgrader metadata of a notebook cell, read safely (one place for the lookup).

Works on nbformat's NotebookNode and on plain JSON dicts alike; a student's notebook may carry
anything in its metadata, so anything that is not a dict reads as empty and a grade id that is
not a string reads as None.
"""


def nbgrader_meta(cell) -> dict:
    """`cell.metadata.nbgrader` as a dict ({} when missing or malformed)."""
    meta = cell.get("metadata") if hasattr(cell, "get") else None
    meta = meta.get("nbgrader") if isinstance(meta, dict) else None
    return meta if isinstance(meta, dict) else {}


def grade_id(cell) -> str | None:
    """The cell's nbgrader grade id, or None."""
    gid = nbgrader_meta(cell).get("grade_id")
    return gid if isinstance(gid, str) else None
