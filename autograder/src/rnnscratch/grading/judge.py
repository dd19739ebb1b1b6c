"""Compare, in the trusted process: judge every recorded output against the torch reference.

A test cell earns its points iff every one of its (function, case) pairs passes. The verdicts
come from the harness's ``judge(name, case, inputs, record_dir)``; when nothing was recorded
(the cell was stopped, the program died) the reason from the run is used instead.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from rnnscratch.grading.course import Course
from rnnscratch.grading.isolate import Outcome, harness
from rnnscratch.grading.plan import PlanCell
from rnnscratch.grading.source import Assignment


@dataclass
class PairResult:
    name: str
    case: str
    passed: bool
    message: str
    mistake: str | None = None
    hidden: bool = False


@dataclass
class CellResult:
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
    h = harness(course)
    results = []
    record_index = {c.grade_id: i for i, c in enumerate(plan) if c.kind == "record"}
    broken: dict[str, str] = {}  # function -> why the cell defining it did not finish
    for i, c in enumerate(plan):
        why = outcome.stopped.get(i) or outcome.cell_errors.get(i)
        if c.kind == "code" and why:
            for name in re.findall(r"^def (\w+)\(", c.source, flags=re.M):
                broken[name] = why.splitlines()[-1][:300]
    for test in assignment.tests:
        visible = len(test.pairs) - test.hidden_pairs
        cell = CellResult(test.grade_id, test.points, 0.0)
        stopped = outcome.stopped.get(record_index.get(test.grade_id, -2))
        for k, (name, case) in enumerate(test.pairs):
            hidden = k >= visible
            found = any(
                (outcome.outputs / f"{name}__{case}.{ext}").exists() for ext in ("npz", "json")
            )
            if not found:
                why = outcome.pair_errors.get((name, case)) or stopped or _why_missing(outcome)
                cell.pairs.append(
                    PairResult(name, case, False, f"no output recorded: {why}", None, hidden)
                )
                continue
            if name in broken and not (outcome.outputs / f"{name}__{case}.npz").exists():
                why = f"the cell that defines `{name}` did not finish: {broken[name]}"
                cell.pairs.append(PairResult(name, case, False, why, None, hidden))
                continue
            try:
                verdict = h.judge(name, case, inputs[(name, case)], str(outcome.outputs.parent))
                cell.pairs.append(
                    PairResult(
                        name,
                        case,
                        bool(verdict.passed),
                        str(verdict.message),
                        verdict.mistake,
                        hidden,
                    )
                )
            except Exception as exc:  # noqa: BLE001 - a judging failure is a fail, not a crash
                msg = f"the output could not be judged ({type(exc).__name__}: {exc})"
                cell.pairs.append(PairResult(name, case, False, msg, None, hidden))
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
