"""Run in isolation: execute one submission's plan in the sandbox and bring back plain data.

The seam with the exercises is one module, ``rnnscratch.exercises.protocol`` (loaded here once):
it owns the record-directory layout, the ``<name>__<case>`` naming and the recorder. The trusted
side writes the test INPUTS (``grading_inputs(name, case, seed)`` saved as .npz, no pickle)
into a directory the sandbox sees read-only, and binds in ``runner.py`` and ``protocol.py``
alone: the sandbox sees numpy (and torch for an assignment whose own code imports it), the
student's notebook, the inputs and the recorder -- not the course package, the reference
maths, the oracles, the solutions or the course secret (the package directory is covered by an
empty tmpfs even where the interpreter's paths would show it).

The outputs are recorded on a size-limited tmpfs inside the sandbox and come back framed on a
pipe; only the expected ``<name>__<case>.npz|json`` names, each and all together bounded, are
accepted (the host disk never holds anything the sandbox wrote). If a cell kills the run (it
ignored the alarm, called ``os._exit``, flooded the output), the run is repeated without that
cell, so the cells after it are still graded -- within one time budget for the submission.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import rnnscratch
from rnnscratch.exercises import harness as _harness
from rnnscratch.exercises import protocol
from rnnscratch.grading import sandbox
from rnnscratch.grading.course import Course
from rnnscratch.grading.plan import PlanCell

RECORD_DIR = protocol.RECORD_DIR
HOME = "/home/student"
RUNNER = Path(__file__).with_name("runner.py")
PROTOCOL = Path(protocol.__file__)
PACKAGE = Path(rnnscratch.__file__).parent
OUTPUT_NAME = protocol.OUTPUT_NAME
MAX_RERUNS = 6
TORCH_PACKAGES = ("torch", "functorch", "torchgen")


def harness(course: Course | None = None):
    """The exercises harness (trusted side: grading_inputs/save_inputs/judge/MISTAKES)."""
    return _harness


def cover_paths(needs_torch: bool) -> list[Path]:
    """Packages the sandbox must not see: the course package (reference maths, oracles,
    checks, grader) and, unless the assignment's own code imports it, torch."""
    out = [PACKAGE]
    if not needs_torch:
        for name in TORCH_PACKAGES:
            found = importlib.util.find_spec(name)
            if found is not None and found.origin:
                out.append(Path(found.origin).parent)
    return out


@dataclass
class Outcome:
    """What happened to each cell of the plan, and where the recorded outputs are."""

    outputs: Path  # trusted copy of the recorded outputs
    cell_errors: dict[int, str] = field(default_factory=dict)  # plan index -> error text
    cell_output: dict[int, str] = field(default_factory=dict)  # plan index -> printed text
    stopped: dict[int, str] = field(default_factory=dict)  # plan index -> why it was killed
    pair_errors: dict[tuple[str, str], str] = field(default_factory=dict)
    log: str = ""
    runs: int = 0
    seconds: float = 0.0
    finished: bool = False
    resources: str = ""  # how the sandbox's memory/processes/CPU were bounded
    peak_bytes: int | None = None  # the sandbox's peak memory (cgroup), when known


def write_inputs(course: Course, pairs, seed: int, dest: Path, cache: dict | None = None) -> dict:
    """Save the inputs of every (name, case) pair into ``dest`` (``<record dir>/inputs``);
    return them (trusted copy)."""
    h = harness(course)
    dest.mkdir(parents=True, exist_ok=True)
    inputs = {}
    for name, case in pairs:
        key = (name, case, seed)
        path = protocol.input_file(dest.parent, name, case)
        if cache is not None and key in cache:
            inputs[(name, case)], src = cache[key]
            shutil.copyfile(src, path)
            continue
        value = h.grading_inputs(name, case, seed)
        h.save_inputs(path, value)
        inputs[(name, case)] = value
        if cache is not None and case.startswith("visible"):
            cache[key] = (value, path)
    return inputs


def run(
    course: Course,
    plan: list[PlanCell],
    inputs_dir: Path,
    work: Path,
    release_files: list[Path],
    needs_torch: bool = True,
    log=None,
) -> Outcome:
    """Execute ``plan`` in the sandbox (re-running without a cell that killed it), all runs
    together within ``course.limits.total_seconds``."""
    limits = course.limits
    work.mkdir(parents=True, exist_ok=True)
    trusted = work / "trusted" / protocol.OUTPUTS  # judge() reads <record dir>/outputs/
    trusted.mkdir(parents=True)
    outcome = Outcome(outputs=trusted)
    skip: set[int] = set()
    logs = []
    pairs = [tuple(p) for c in plan if c.kind == "record" for p in c.pairs]
    allowed = {path.name for name, case in pairs for path in protocol.output_files(".", name, case)}
    functions = {name: _harness.recorder(name) for name, _ in pairs if name in _harness.SPECS}
    env = {
        "HOME": HOME,
        "PATH": f"{Path(sys.executable).parent}:/usr/local/bin:/usr/bin:/bin",
        "LANG": "C.UTF-8",
        "OMP_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
        "OPENBLAS_NUM_THREADS": "1",
        "MPLBACKEND": "Agg",
        "MPLCONFIGDIR": "/tmp/matplotlib",
        "PYTHONDONTWRITEBYTECODE": "1",
        _harness.RECORD_ENV: RECORD_DIR,
    }
    deadline = time.monotonic() + limits.total_seconds
    cgroup, outcome.resources = sandbox.cgroup_create(limits)
    try:
        while True:
            outcome.runs += 1
            plan_file = work / "plan.json"
            plan_file.write_text(
                json.dumps(
                    {
                        "cells": [c.to_json() for c in plan],
                        "cell_seconds": limits.cell_seconds,
                        "skip": sorted(skip),
                        "record_dir": RECORD_DIR,
                        "protocol": f"{RECORD_DIR}/protocol.py",
                        "functions": functions,
                        "output_cap": limits.output_keep,
                    }
                )
            )
            os.chmod(plan_file, 0o644)
            mounts = [
                sandbox.Mount(RUNNER, f"{RECORD_DIR}/runner.py"),
                sandbox.Mount(PROTOCOL, f"{RECORD_DIR}/protocol.py"),
                sandbox.Mount(plan_file, f"{RECORD_DIR}/plan.json"),
                sandbox.Mount(inputs_dir, f"{RECORD_DIR}/{protocol.INPUTS}"),
                sandbox.Mount(None, f"{RECORD_DIR}/{protocol.OUTPUTS}", True, limits.outputs_bytes),
            ]
            mounts += [sandbox.Mount(p, f"{HOME}/{p.name}") for p in release_files]
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                outcome.stopped[-1] = (
                    f"the submission used its {limits.total_seconds:g} s (re-runs included)"
                )
                break
            result = sandbox.run(
                [sys.executable, "-I", f"{RECORD_DIR}/runner.py", f"{RECORD_DIR}/plan.json"],
                mounts=mounts,
                hide=[*course.secret_paths(), work.parent],
                limits=limits,
                env=env,
                workdir=HOME,
                cover=cover_paths(needs_torch),
                cells=len(plan),
                budget=remaining,
                outputs=allowed,
                cgroup=cgroup,
            )
            outcome.seconds += result.seconds
            logs.append(result.output)
            if result.files_refused:
                logs.append(f"[grader] outputs refused: {result.files_refused}")
            started, ended = set(), set()
            for ev in result.events:
                cell = ev.get("cell")
                if ev["event"] == "start":
                    started.add(cell)
                elif ev["event"] == "end":
                    ended.add(cell)
                    if isinstance(cell, int) and 0 <= cell < len(plan):
                        if ev.get("error"):
                            outcome.cell_errors[cell] = str(ev["error"])[:2000]
                        if ev.get("output"):
                            outcome.cell_output[cell] = str(ev["output"])[:2000]
                elif ev["event"] == "pair_error":
                    outcome.pair_errors[(str(ev.get("name")), str(ev.get("case")))] = str(
                        ev.get("error")
                    )[:2000]
                elif ev["event"] == "done":
                    outcome.finished = True
            for name, data in result.files.items():
                if OUTPUT_NAME.match(name) and name in allowed:
                    (trusted / name).write_bytes(data)
            if result.files_refused:
                for name, case in pairs:
                    if not any(
                        p.exists() for p in protocol.output_files(trusted.parent, name, case)
                    ):
                        why = f"the outputs were refused after {result.files_refused}"
                        outcome.pair_errors.setdefault((name, case), why)
            if outcome.finished and not result.killed:
                break
            culprit = result.killed_cell
            if culprit is None:
                unfinished = sorted(c for c in started - ended if isinstance(c, int))
                culprit = unfinished[-1] if unfinished else None
            if result.killed == "total time limit" or (
                culprit is None or not 0 <= culprit < len(plan) or outcome.runs > MAX_RERUNS
            ):
                why = result.killed or f"the program stopped (exit status {result.returncode})"
                if result.killed == "total time limit":
                    why = f"the submission used its {limits.total_seconds:g} s (re-runs included)"
                outcome.stopped[-1] = why
                break
            if result.killed == "cell time limit":
                why = f"the cell ran longer than {limits.cell_seconds:g} s and was stopped"
            elif result.killed == "output limit":
                why = "the cell printed more than the output limit and was stopped"
            elif result.killed:
                why = f"stopped: {result.killed}"
            elif result.returncode and result.returncode < 0 or result.returncode == 137:
                why = "the Python process was killed (memory or process limit?) during this cell"
            else:
                why = f"the Python process exited during this cell (status {result.returncode})"
            outcome.stopped[culprit] = why
            skip.add(culprit)
    finally:
        if cgroup is not None:
            outcome.peak_bytes = cgroup.peak_bytes()
            cgroup.remove()
    outcome.log = "\n".join(logs)[-limits.output_keep :]
    return outcome
