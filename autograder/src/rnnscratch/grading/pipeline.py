"""Autograde a class: collect -> run in isolation -> judge -> gradebook, for every student.

Submissions run in parallel (``jobs`` sandboxes at a time, or one task per submission on the
workers of a Dask cluster: ``grading/distributed.py``); judging happens in a trusted process
(this one, or the worker's) and the gradebook is written by one thread of this process only.
Anything that goes wrong with one submission (including a bug in the grader) is caught, scored
zero with the reason, and the run goes on: the exit status says whether every submission could
be graded, the gradebook says what each scored.
"""

from __future__ import annotations

import re
import shutil
import tempfile
import time
import traceback
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path

from rnnscratch.grading import gradebook, isolate, plan, sandbox, source, worker
from rnnscratch.grading.collect import Submission, collect, sanitize, students
from rnnscratch.grading.course import Course
from rnnscratch.grading.judge import CellResult, PairResult, judge_all


@dataclass
class Graded:
    """What the autograde command reports for one submission (gradebook -> log, tests):
    its automatic score, why it could not be run if so, and what it cost."""

    student: str
    assignment: str
    score: float
    max_auto: float
    problem: str | None = None
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0
    runs: int = 0


def release_files(course: Course, aid: str) -> list[Path]:
    """Data files that sit beside the released notebook (e.g. reference_tensors.npz)."""
    folder = course.release_dir / aid
    if not folder.is_dir():
        folder = course.source_dir / aid
        return sorted(p for p in folder.glob("*.npz") if p.is_file())
    return sorted(p for p in folder.iterdir() if p.is_file() and p.suffix != ".ipynb")


def needs_torch(assignment: source.Assignment) -> bool:
    """Does the assignment's own (non-test) code import torch? Only then is torch visible in
    the sandbox (a03 packs weights into torch.nn.LSTM); the answer key never is."""
    pattern = re.compile(r"^\s*(import|from)\s+torch\b", re.M)
    return any(
        c.cell_type == "code" and c.role != "test" and pattern.search(c.source)
        for c in assignment.cells
    )


def _zero(assignment: source.Assignment, why: str) -> list[CellResult]:
    return [
        CellResult(t.grade_id, t.points, 0.0, [PairResult(n, c, False, why) for n, c in t.pairs])
        for t in assignment.tests
    ]


def _key(cell: plan.PlanCell, index: int) -> str | int:
    """Where a plan cell's printed output goes: its grade_id, or its place in the student's
    notebook (cells the student added)."""
    if cell.grade_id:
        return cell.grade_id
    return cell.student_index if cell.student_index is not None else -1 - index


def grade_one(course: Course, assignment: source.Assignment, student: str, work: Path) -> dict:
    """Collect, run and judge one submission; returns what ``_record`` needs (never raises).

    The result is a plain dict on purpose (``sub``, ``results``, ``notes``, ``errors``,
    ``runs``, ``log``, ``seconds``, ...): it is what travels back from a Dask worker
    (``distributed.grade_remote``), so it holds only picklable plain data and dataclasses."""
    start = time.monotonic()
    sub = Submission(student, assignment.name, None)
    out = {"sub": sub, "notes": [], "errors": {}, "runs": 0, "log": ""}
    try:
        sub = out["sub"] = collect(course, assignment.name, student)
        out["notes"] = list(sub.notes)
        if sub.notebook is not None:
            out["notes"] += sanitize(sub.notebook, set(assignment.by_id))
        if sub.problem:
            out["results"] = _zero(assignment, f"not graded: {sub.problem}")
        else:
            cells, notes = plan.build(assignment, sub.notebook)
            out["notes"] += notes
            pairs = [p for t in assignment.tests for p in t.pairs]
            seed = course.seed(assignment.name, student)
            inputs = isolate.write_inputs(course, pairs, seed, work / "inputs")
            outcome = isolate.run(
                course,
                cells,
                work / "inputs",
                work,
                release_files(course, assignment.name),
                needs_torch=needs_torch(assignment),
            )
            out["runs"], out["log"] = outcome.runs, outcome.log
            out["resources"], out["peak_bytes"] = outcome.resources, outcome.peak_bytes
            for index, text in outcome.cell_output.items():
                out["errors"][_key(cells[index], index)] = text
            for index, why in {**outcome.cell_errors, **outcome.stopped}.items():
                if 0 <= index < len(cells):
                    key = _key(cells[index], index)
                    out["errors"][key] = (out["errors"].get(key, "") + "\n" + why).strip()
                    if not cells[index].grade_id:
                        out["notes"].append(f"a cell you added failed: {why}")
                else:
                    out["notes"].append(f"the run stopped early: {why}")
            out["results"] = judge_all(course, assignment, cells, outcome, inputs)
    except Exception as exc:  # noqa: BLE001 - never let one submission stop the class
        detail = "".join(traceback.format_exception_only(type(exc), exc)).strip()
        detail = detail[:300]
        sub.problem = f"the grader failed on this submission ({detail}); ask the instructor"
        out["results"] = _zero(assignment, sub.problem)
        out["trace"] = traceback.format_exc()
    finally:
        shutil.rmtree(work, ignore_errors=True)
    out["seconds"] = time.monotonic() - start
    return out


def _record(course: Course, assignment: source.Assignment, out: dict, gb=None) -> Graded:
    sub: Submission = out["sub"]
    results: list[CellResult] = out["results"]
    answered = gradebook.answered_cells(assignment, sub.notebook if not sub.problem else None)
    gradebook.save_scores(course, assignment, sub, results, answered, gb)
    nb = gradebook.autograded_notebook(
        assignment,
        None if sub.problem else sub.notebook,
        results,
        out["errors"],
        out["notes"],
        sub.problem,
    )
    extra = {
        "problem": sub.problem,
        "notes": out["notes"],
        "seconds": out["seconds"],
        "runs": out["runs"],
        "log_tail": out["log"][-4000:],  # for the instructor; not shown in the feedback
        "grader_trace": out.get("trace"),
        "resources": out.get("resources"),
        "sandbox_peak_bytes": out.get("peak_bytes"),
    }
    gradebook.write_autograded(course, sub, nb, results, extra)
    return Graded(
        sub.student,
        sub.assignment,
        sum(r.score for r in results),
        assignment.max_auto,
        sub.problem,
        out["notes"],
        out["seconds"],
        out["runs"],
    )


def _record_zero(course: Course, assignment: source.Assignment, student: str, why: str, gb):
    """Last resort when recording failed: a zero with the reason, replacing any older score
    and autograded notebook (so a stale result never survives a regrade)."""
    gb.db.rollback()
    sub = Submission(student, assignment.name, None, problem=why)
    folder = course.autograded / student / assignment.name
    if folder.is_symlink() or folder.is_file():
        folder.unlink()
    shutil.rmtree(folder, ignore_errors=True)
    out = {"sub": sub, "results": _zero(assignment, why), "notes": [], "errors": {}}
    return _record(course, assignment, {**out, "seconds": 0.0, "runs": 0, "log": ""}, gb)


def grade_each(
    course: Course, assignment: source.Assignment, who: list[str], jobs: int = 1, client=None
):
    """Yield ``(student, result)`` as each submission is graded, ``result()`` giving
    ``grade_one``'s dict: ``jobs`` sandboxes at a time on this machine, or, given a Dask
    ``client``, on the cluster's workers (``grading/distributed.py``, imported only then)."""
    if client is not None:
        from rnnscratch.grading import distributed

        yield from distributed.grade_all(client, course, assignment, who)
        return
    root = Path(tempfile.mkdtemp(prefix="rnnscratch-grading-"))
    try:
        with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
            futures = {
                pool.submit(grade_one, course, assignment, s, root / f"w{i}"): s
                for i, s in enumerate(who)
            }
            for future in as_completed(futures):
                yield futures[future], future.result
    finally:
        shutil.rmtree(root, ignore_errors=True)


def autograde(
    course: Course,
    aid: str,
    only: list[str] | None = None,
    jobs: int = 1,
    log=print,
    client=None,
) -> list[Graded]:
    """Grade every submission of ``aid`` (or only the students in ``only``); ``client``: a
    Dask client to grade on its cluster instead of ``jobs`` local sandboxes."""
    assignment = source.load(course.source_notebook(aid), aid)
    broken = sandbox.selftest(course.secret_paths())
    if broken:
        raise RuntimeError(broken)
    probe, resources = sandbox.cgroup_create(course.limits)
    if probe is not None:
        probe.remove()
    log(f"{aid}: sandbox resources: {resources}")
    gradebook.register(course, assignment)
    course.secret()  # create it before the threads start
    who = only or students(course)
    graded: list[Graded] = []
    try:
        with gradebook.gradebook(course) as gb:
            for student, result in grade_each(course, assignment, who, jobs, client):
                try:
                    g = _record(course, assignment, result(), gb)
                except Exception as exc:  # noqa: BLE001 - zero with the reason, go on
                    detail = "".join(traceback.format_exception_only(type(exc), exc)).strip()
                    why = f"the grader could not record this submission ({detail[:300]})"
                    try:
                        g = _record_zero(course, assignment, student, why, gb)
                    except Exception as again:  # noqa: BLE001 - the gradebook itself failed
                        gb.db.rollback()
                        g = Graded(student, aid, 0.0, assignment.max_auto, f"{why}; {again}")
                graded.append(g)
                flag = f"  ({g.problem})" if g.problem else ""
                log(f"{aid} {g.student:>14}: {g.score:g}/{g.max_auto:g} in {g.seconds:.1f} s{flag}")
    finally:
        worker.close_all()
    return sorted(graded, key=lambda g: g.student)
