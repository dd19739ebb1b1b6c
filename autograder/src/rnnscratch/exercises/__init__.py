"""Exercise checks shared by the nbgrader notebooks and the grader.

Notebook test cells call `check("forget_gate", forget_gate, "visible")`. The grader uses
`grading_inputs`, `save_inputs`, `record` (in the sandbox) and `judge` (trusted side).

May import: ``models``, ``oracle`` and the top-level helpers; never ``grading``.

The ``aNN_*`` modules declare one ``Spec`` per graded function; `duplicates` pairs several of
those declarations (same shape, other names): deliberate, so each exercise reads on its own.
"""

from rnnscratch.exercises.harness import (
    check,
    grading_inputs,
    install_name_error_hint,
    judge,
    load_inputs,
    record,
    reference,
    save_inputs,
)
from rnnscratch.exercises.hints import MISTAKES
from rnnscratch.exercises.registry import ASSIGNMENTS, SPECS
from rnnscratch.exercises.spec import Verdict

install_name_error_hint()

__all__ = [
    "ASSIGNMENTS",
    "MISTAKES",
    "SPECS",
    "Verdict",
    "check",
    "grading_inputs",
    "judge",
    "load_inputs",
    "record",
    "reference",
    "save_inputs",
]
