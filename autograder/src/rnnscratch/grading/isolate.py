"""Run in isolation: execute one submission's plan in the sandbox and bring back plain data.

The trusted side writes the test INPUTS (``grading_inputs(name, case, seed)`` saved as .npz,
no pickle) into a directory the sandbox sees read-only, runs ``runner.py`` there, and afterwards
copies back only regular, size-limited ``<name>__<case>.npz|json`` files from the outputs
directory (no symlinks, nothing else). If a cell kills the run (it ignored the alarm, called
``os._exit``, flooded the output), the run is repeated without that cell, so the cells after it
are still graded.
"""

from __future__ import annotations

import importlib
import json
import os
import re
import shutil
import stat
import sys
from dataclasses import dataclass, field
from pathlib import Path

from rnnscratch.grading import sandbox
from rnnscratch.grading.course import Course
from rnnscratch.grading.plan import PlanCell

RECORD_DIR = "/run/grading"
HOME = "/home/student"
RUNNER = Path(__file__).with_name("runner.py")
OUTPUT_NAME = re.compile(r"^[A-Za-z0-9_]+__[A-Za-z0-9_]+\.(npz|json)$")
MAX_RERUNS = 6


def harness(course: Course):
    """The exercises harness module (record/judge/grading_inputs/save_inputs/MISTAKES)."""
    for p in course.harness_path:
        if str(p) not in sys.path:
            sys.path.insert(0, str(p))
    return importlib.import_module(course.harness)


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


def write_inputs(course: Course, pairs, seed: int, dest: Path, cache: dict | None = None) -> dict:
    """Save the inputs of every (name, case) pair into ``dest``; return them (trusted copy)."""
    h = harness(course)
    dest.mkdir(parents=True, exist_ok=True)
    inputs = {}
    for name, case in pairs:
        key = (name, case, seed)
        if cache is not None and key in cache:
            inputs[(name, case)], src = cache[key]
            shutil.copyfile(src, dest / f"{name}__{case}.npz")
            continue
        value = h.grading_inputs(name, case, seed)
        path = dest / f"{name}__{case}.npz"
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
) -> Outcome:
    """Execute ``plan`` in the sandbox (re-running without a cell that killed it)."""
    work.mkdir(parents=True, exist_ok=True)
    out_dir = work / "outputs"
    trusted = work / "trusted" / "outputs"  # judge() reads <record_dir>/outputs/
    trusted.mkdir(parents=True)
    outcome = Outcome(outputs=trusted)
    skip: set[int] = set()
    logs = []
    sys_path = [str(p) for p in course.harness_path]
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
        "RNNSCRATCH_RECORD_DIR": RECORD_DIR,
    }
    while True:
        outcome.runs += 1
        if out_dir.exists():
            shutil.rmtree(out_dir)
        out_dir.mkdir()
        if os.geteuid() == 0:
            os.chown(out_dir, sandbox.NOBODY, sandbox.NOBODY)
        else:
            os.chmod(out_dir, 0o777)
        plan_file = work / "plan.json"
        plan_file.write_text(
            json.dumps(
                {
                    "cells": [c.to_json() for c in plan],
                    "cell_seconds": course.limits.cell_seconds,
                    "skip": sorted(skip),
                    "record_dir": RECORD_DIR,
                    "harness": course.harness,
                    "sys_path": sys_path,
                    "output_cap": course.limits.output_keep,
                }
            )
        )
        os.chmod(plan_file, 0o644)
        mounts = [
            sandbox.Mount(RUNNER, f"{RECORD_DIR}/runner.py"),
            sandbox.Mount(plan_file, f"{RECORD_DIR}/plan.json"),
            sandbox.Mount(inputs_dir, f"{RECORD_DIR}/inputs"),
            sandbox.Mount(out_dir, f"{RECORD_DIR}/outputs", writable=True),
        ]
        mounts += [sandbox.Mount(p, f"{HOME}/{p.name}") for p in release_files]
        mounts += [sandbox.Mount(p, str(p)) for p in course.harness_path]
        result = sandbox.run(
            [sys.executable, "-I", f"{RECORD_DIR}/runner.py", f"{RECORD_DIR}/plan.json"],
            mounts=mounts,
            hide=[*course.secret_paths(), work.parent],
            limits=course.limits,
            env=env,
            workdir=HOME,
        )
        outcome.seconds += result.seconds
        logs.append(result.output)
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
        _keep_outputs(out_dir, trusted)
        if outcome.finished:
            break
        culprit = result.killed_cell
        if culprit is None:
            unfinished = sorted(c for c in started - ended if isinstance(c, int))
            culprit = unfinished[-1] if unfinished else None
        if culprit is None or not 0 <= culprit < len(plan) or outcome.runs > MAX_RERUNS:
            why = result.killed or f"the program stopped (exit status {result.returncode})"
            outcome.stopped[-1] = why
            break
        if result.killed == "cell time limit":
            why = f"the cell ran longer than {course.limits.cell_seconds:g} s and was stopped"
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
    outcome.log = "\n".join(logs)[-course.limits.output_keep :]
    shutil.rmtree(out_dir, ignore_errors=True)
    return outcome


def _keep_outputs(out_dir: Path, trusted: Path) -> None:
    """Copy regular, expected-looking, size-limited files; never follow a link."""
    try:
        entries = list(os.scandir(out_dir))
    except OSError:
        return
    for entry in entries[:2000]:
        if not OUTPUT_NAME.match(entry.name):
            continue
        try:
            fd = os.open(entry.path, os.O_RDONLY | os.O_NOFOLLOW)
        except OSError:
            continue
        try:
            info = os.fstat(fd)
            if not stat.S_ISREG(info.st_mode) or info.st_size > 64 * 1024**2:
                continue
            with os.fdopen(fd, "rb", closefd=False) as src:
                data = src.read(64 * 1024**2 + 1)
            (trusted / entry.name).write_bytes(data)
        finally:
            os.close(fd)
