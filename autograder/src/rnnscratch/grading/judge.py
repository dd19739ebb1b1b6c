"""Compare, in the trusted process: judge every recorded output against the torch reference.

A test cell earns its points iff every one of its (function, case) pairs passes. The verdicts
come from the harness's ``judge(name, case, inputs, record_dir)``, run in a separate process
under a memory and time limit (``grading.worker``); when nothing was recorded (the cell was
stopped, the program died) the reason from the run is used instead.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from rnnscratch.exercises import protocol
from rnnscratch.grading.course import Course
from rnnscratch.grading.isolate import Outcome
from rnnscratch.grading.plan import PlanCell
from rnnscratch.grading.source import Assignment
from rnnscratch.grading.worker import judge_pairs


@dataclass
class PairResult:
    """The verdict on one (function, test case) pair (judge -> gradebook, feedback, report):
    passed or not, the message the student reads and the catalogue key it names."""

    name: str
    case: str
    passed: bool
    message: str
    mistake: str | None = None
    hidden: bool = False


@dataclass
class CellResult:
    """One graded test cell's score (judge -> gradebook): its points earned only when every
    pair in it passed."""

    grade_id: str
    points: float
    score: float
    pairs: list[PairResult] = field(default_factory=list)


def judge_all(
    course: Course,
    assignment: Assignment,
    plan: list[PlanCell],
    outcome: Outcome,
    inputs: dict,
) -> list[CellResult]:
    results = []
    record_index = {c.grade_id: i for i, c in enumerate(plan) if c.kind == "record"}
    broken: dict[str, str] = {}  # function -> why the cell defining it did not finish
    for i, c in enumerate(plan):
        why = outcome.stopped.get(i) or outcome.cell_errors.get(i)
        if c.kind == "code" and why:
            for name in re.findall(r"^def (\w+)\(", c.source, flags=re.M):
                broken[name] = why.splitlines()[-1][:300]
    recorded = [
        [name, case]
        for test in assignment.tests
        for name, case in test.pairs
        if any(p.exists() for p in protocol.output_files(outcome.outputs.parent, name, case))
    ]
    inputs_dir = outcome.outputs.parent.parent / protocol.INPUTS
    verdicts = (
        judge_pairs(outcome.outputs.parent, inputs_dir, recorded, course.limits) if recorded else {}
    )
    for test in assignment.tests:
        visible = len(test.pairs) - test.hidden_pairs
        cell = CellResult(test.grade_id, test.points, 0.0)
        stopped = outcome.stopped.get(record_index.get(test.grade_id, -2))
        for k, (name, case) in enumerate(test.pairs):
            hidden = k >= visible
            npz, js = protocol.output_files(outcome.outputs.parent, name, case)
            found = npz.exists() or js.exists()
            if not found:
                why = outcome.pair_errors.get((name, case)) or stopped or _why_missing(outcome)
                cell.pairs.append(
                    PairResult(name, case, False, f"no output recorded: {why}", None, hidden)
                )
                continue
            if name in broken and not npz.exists():
                why = f"the cell that defines `{name}` did not finish: {broken[name]}"
                cell.pairs.append(PairResult(name, case, False, why, None, hidden))
                continue
            v = verdicts.get((name, case)) or {"passed": False, "message": "not judged"}
            cell.pairs.append(
                PairResult(
                    name, case, bool(v["passed"]), str(v["message"]), v.get("mistake"), hidden
                )
            )
        if cell.pairs and all(p.passed for p in cell.pairs):
            cell.score = test.points
        results.append(cell)
    return results


def _why_missing(outcome: Outcome) -> str:
    if -1 in outcome.stopped:
        return outcome.stopped[-1]
    if not outcome.finished:
        return "the program stopped before this test"
    return "the function did not produce a result"
