"""Grade on a Dask cluster: the same sandboxed pipeline, one task per submission on a worker.

``python -m rnnscratch.grading autograde --scheduler tcp://HOST:8786`` (a running scheduler) or
``--cluster local:N`` (a LocalCluster of N worker processes on this machine). Nothing here is
imported when neither option is given.

The split follows the trust lines of the pipeline:

- **coordinator** (the instructor's process, holds the course directory): reads the
  submissions (``collect``), derives each submission's hidden-test seed from the course secret,
  sends one task per submission, and is the single writer of everything that lasts: the
  gradebook, ``autograded/``, then feedback and the class report;
- **worker** (a Dask worker process, anywhere): builds the plan, runs it in its own bubblewrap
  sandbox, computes the torch references for the same inputs and judges, exactly as
  ``pipeline.grade_one`` does on one machine, and returns plain data (numbers and strings).

What a worker receives for one submission (a :class:`Job`) and therefore must be trusted with:
the student's notebook (bytes), the release files students also get (``reference_tensors.npz``),
the assignment's structure *without* solutions or hidden-test source (each test cell's
``grade_id``, points and ``(function, case)`` pairs; locked cells' released source), the
sandbox limits, and that submission's seed, from which its hidden inputs are drawn. It never
receives the course secret (so it cannot derive another student's or assignment's seed), the
solutions, the gradebook or other students' work. It *is* trusted with the verdict: the worker
judges, so a worker that is not the instructor's own could report any score. Run workers on
machines you control, as you would the grading host.

A worker that dies while grading (killed, out of memory, its machine lost) is not a student's
fault: the scheduler gives the submission to another worker once (``allowed_failures = 1``);
if that one dies too, the submission is recorded as a zero with the reason, and
``--student NAME`` regrades it later. A task that raised (a bug, a broken worker) is retried
once (``retries=1``) and likewise recorded with the reason if it fails again.

Every worker must be able to run the sandbox: :class:`SandboxCheck` (a worker plugin, also
applied to workers that join later) runs the sandbox self-test when a worker starts and shuts
down a worker that cannot, nanny and all; :func:`connect` refuses to grade when a connected
worker fails it. ``dask worker --preload-nanny rnnscratch.grading.distributed`` makes a worker
refuse to start at all.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import os
import socket
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, replace
from pathlib import Path

from distributed import Client, LocalCluster, Nanny, as_completed
from distributed.diagnostics.plugin import WorkerPlugin
from distributed.scheduler import KilledWorker

from rnnscratch.grading import pipeline, sandbox, source
from rnnscratch.grading.collect import Submission, collect
from rnnscratch.grading.course import Course
from rnnscratch.grading.judge import CellResult, PairResult
from rnnscratch.grading.sandbox import Limits

# submissions handed out at a time, per worker thread: one running and one waiting, so a
# worker never idles between tasks, and few wait behind a submission that runs into its limits
IN_FLIGHT_PER_THREAD = 2
WORKER_WAIT = 60.0  # seconds to wait for a first worker on a running scheduler


class SandboxUnavailable(RuntimeError):
    """This worker cannot run the bubblewrap sandbox, so it must not grade."""


# --- what travels to a worker -----------------------------------------------------------------


@dataclass(frozen=True)
class Release:
    """What every submission of one assignment needs on a worker (sent with each task)."""

    aid: str
    assignment: source.Assignment  # redacted: no solutions, no hidden-test source
    files: dict[str, bytes]  # release files beside the notebook, e.g. reference_tensors.npz
    limits: Limits


@dataclass(frozen=True)
class Job:
    """One submission to grade on a worker."""

    release: Release
    student: str
    notebook: bytes  # the submitted notebook file, as collected
    seed: int  # this submission's hidden-test seed (derived from the secret on the coordinator)


def redacted(assignment: source.Assignment) -> source.Assignment:
    """The assignment as a worker needs it: answer and manual cells' sources (the solutions,
    the mark scheme) emptied, hidden tests cut out of the test cells. The plan keeps working:
    it restores locked cells (released text) and compares edited test cells with the release."""
    cells = []
    for c in assignment.cells:
        if c.role == "test":
            text = source.HIDDEN.sub("", c.source)
        elif c.role == "locked":
            text = c.source
        else:
            text = ""
        cells.append(replace(c, source=text))
    return source.Assignment(assignment.name, assignment.notebook, Path(assignment.notebook), cells)


def release_of(course: Course, assignment: source.Assignment) -> Release:
    files = {p.name: p.read_bytes() for p in pipeline.release_files(course, assignment.name)}
    return Release(
        assignment.name,
        redacted(assignment),
        files,
        course.limits,
    )


# --- the worker side --------------------------------------------------------------------------


@dataclass
class WorkerCourse(Course):
    """A throw-away course directory on a worker: the release and one submission, no secret."""

    given_seed: int = 0

    def secret(self) -> str:
        raise RuntimeError("a worker never holds the course secret")

    def seed(self, aid: str, student: str) -> int:
        return self.given_seed


@functools.cache
def sandbox_problem() -> str | None:
    """None when this process can run the sandbox, else why not (checked once per process)."""
    return sandbox.selftest([])


def worker_ready(harness: str = "rnnscratch.exercises.harness") -> dict:
    """The start-up check of a worker: the sandbox works (else :class:`SandboxUnavailable`),
    and the harness (numpy, torch) is imported once so the first submission does not pay for it."""
    problem = sandbox_problem()
    if problem:
        raise SandboxUnavailable(f"{socket.gethostname()}: {problem}")
    import importlib

    importlib.import_module(harness)
    importlib.import_module("torch")  # for the references the judge computes
    return {"host": socket.gethostname(), "pid": os.getpid()}


def grade_remote(job: Job) -> dict:
    """Grade one submission on this worker; returns plain data for :func:`merge` (never the
    student's objects). Raises :class:`SandboxUnavailable` on a worker without a sandbox."""
    problem = sandbox_problem()
    if problem:
        raise SandboxUnavailable(f"{socket.gethostname()}: {problem}")
    rel = job.release
    with tempfile.TemporaryDirectory(prefix="rnnscratch-task-") as tmp:
        course = WorkerCourse(
            Path(tmp) / "course",
            limits=rel.limits,
            given_seed=job.seed,
        )
        folder = course.release_dir / rel.aid
        folder.mkdir(parents=True)
        for name, data in rel.files.items():
            (folder / Path(name).name).write_bytes(data)
        mine = course.submitted / job.student / rel.aid
        mine.mkdir(parents=True)
        (mine / f"{rel.aid}.ipynb").write_bytes(job.notebook)
        out = pipeline.grade_one(course, rel.assignment, job.student, Path(tmp) / "work")
    sub = out.pop("sub")
    return {
        "problem": sub.problem,
        "notes": [str(n) for n in out["notes"]],
        "errors": {k: str(v) for k, v in out["errors"].items()},
        "runs": int(out["runs"]),
        "log": str(out["log"]),
        "seconds": float(out["seconds"]),
        "trace": out.get("trace"),
        "results": [asdict(r) for r in out["results"]],
        "host": socket.gethostname(),
    }


def dask_setup(server) -> None:
    """``dask worker --preload-nanny rnnscratch.grading.distributed``: on a machine without a
    working sandbox the nanny logs why and shuts down, so the worker never starts. (Dask only
    logs a failing preload; as a worker ``--preload`` the worker process closes, but its nanny
    starts it again.)"""
    problem = sandbox_problem()
    if problem:
        why = f"this machine cannot grade: {problem}. Install bubblewrap, allow user namespaces."
        if isinstance(server, Nanny):
            server.loop.add_callback(server.close, reason=f"rnnscratch: {why}")
        else:
            server.loop.add_callback(server.close, reason=f"rnnscratch: {why}", nanny=True)
        raise SandboxUnavailable(why)


class SandboxCheck(WorkerPlugin):
    """Worker plugin: run :func:`worker_ready` when a worker starts (now and every worker
    that joins later); a worker that cannot sandbox logs why and closes itself."""

    name = "rnnscratch-sandbox-check"

    def __init__(self, harness: str):
        self.harness = harness

    def setup(self, worker):
        try:
            worker_ready(self.harness)
        except SandboxUnavailable as exc:
            logging.getLogger("distributed.worker").error("refusing to grade: %s", exc)
            worker.loop.add_callback(_refuse, worker, f"rnnscratch: {exc}")
            raise


async def _refuse(worker, why: str) -> None:
    """Shut a worker down for good: its nanny first, so that it does not start it again."""
    if worker.nanny:
        with contextlib.suppress(Exception):
            await worker.rpc(worker.nanny).terminate(reason=why)
    await worker.close(reason=why, nanny=False)


# --- the coordinator side ---------------------------------------------------------------------


def _retry_once(dask_scheduler=None) -> int:
    """On the scheduler: a task may be on one dying worker and still be retried once."""
    dask_scheduler.allowed_failures = 1
    return dask_scheduler.allowed_failures


@contextmanager
def connect(scheduler: str | None = None, cluster: str | None = None, course: Course | None = None):
    """A ``distributed.Client`` on a running scheduler (``scheduler``: its address) or on a new
    LocalCluster (``cluster``: ``"local:N"``, N worker processes of one thread each), checked
    for working sandboxes. Closes what it started."""
    harness = "rnnscratch.exercises.harness"  # the trusted side judges with it
    local = None
    if cluster is not None:
        n = parse_cluster(cluster)
        local = LocalCluster(
            n_workers=n,
            threads_per_worker=1,
            processes=True,
            dashboard_address=None,
            silence_logs=logging.ERROR,
        )
        client = Client(local)
    elif scheduler:
        client = Client(scheduler)
    else:
        raise ValueError("give a scheduler address or a cluster such as local:2")
    try:
        client.wait_for_workers(1, timeout=WORKER_WAIT)
        client.run_on_scheduler(_retry_once)
        check_workers(client, harness)
        client.register_plugin(SandboxCheck(harness), name=SandboxCheck.name)
        yield client
    finally:
        client.close()
        if local is not None:
            local.close()


def parse_cluster(text: str) -> int:
    kind, _, count = text.partition(":")
    if kind != "local" or not count.isdigit() or int(count) < 1:
        raise ValueError(f"--cluster {text!r}: expected local:N with N >= 1 worker processes")
    return int(count)


def check_workers(client, harness: str = "rnnscratch.exercises.harness") -> dict:
    """Run the start-up check on every connected worker; raise RuntimeError naming each worker
    that cannot sandbox (nothing is graded then)."""
    answers = client.run(_check_here, harness)
    broken = {addr: a for addr, a in answers.items() if isinstance(a, str)}
    if broken:
        lines = "; ".join(f"{addr}: {why}" for addr, why in sorted(broken.items()))
        raise RuntimeError(f"worker(s) cannot run the sandbox, fix or stop them first: {lines}")
    return answers


def _check_here(harness: str):
    try:
        return worker_ready(harness)
    except SandboxUnavailable as exc:
        return str(exc)


def merge(sub: Submission, remote: dict) -> dict:
    """The worker's plain result as ``pipeline.grade_one``'s dict, with the coordinator's own
    Submission (its path in ``submitted/``, its collect notes)."""
    if remote.get("problem"):
        sub.problem = remote["problem"]
    results = [
        CellResult(r["grade_id"], r["points"], r["score"], [PairResult(**p) for p in r["pairs"]])
        for r in remote["results"]
    ]
    return {
        "sub": sub,
        "notes": list(sub.notes) + list(remote["notes"]),
        "errors": dict(remote["errors"]),
        "runs": remote["runs"],
        "log": remote["log"],
        "seconds": remote["seconds"],
        "trace": remote.get("trace"),
        "results": results,
    }


def lost(sub: Submission, assignment: source.Assignment, why: str, started: float) -> dict:
    """A submission no worker could grade: a zero with the reason, to regrade later."""
    sub.problem = f"not graded: {why}; the instructor can regrade it with --student {sub.student}"
    return _zero_result(sub, assignment, sub.problem, time.monotonic() - started)


def _zero_result(sub: Submission, assignment: source.Assignment, why: str, seconds=0.0) -> dict:
    """``grade_one``'s plain result for a submission that scores zero with the reason ``why``."""
    return {
        "sub": sub,
        "notes": list(sub.notes),
        "errors": {},
        "runs": 0,
        "log": "",
        "seconds": seconds,
        "results": pipeline._zero(assignment, why),
    }


def _why(exc: BaseException) -> str:
    if isinstance(exc, KilledWorker):
        n = exc.allowed_failures + 1
        times = "twice" if n == 2 else f"{n} times"
        return f"the worker grading this submission died {times} (it was retried on another)"
    if isinstance(exc, SandboxUnavailable):
        return f"no sandbox on the worker ({exc})"
    return f"the grading task failed twice ({type(exc).__name__}: {exc})"


def grade_all(
    client,
    course: Course,
    assignment: source.Assignment,
    who: list[str],
    task: Callable[[Job], dict] = grade_remote,
) -> Iterator[tuple[str, Callable[[], dict]]]:
    """Yield ``(student, result)`` as submissions finish on the cluster, ``result()`` giving what
    ``pipeline._record`` needs; at most a few tasks per worker thread are in flight, so a
    class of any size streams through. ``task`` is the worker function (tests replace it)."""
    rel = release_of(course, assignment)
    token = uuid.uuid4().hex[:8]
    pending = iter(who)
    subs: dict[str, tuple[Submission, float]] = {}
    window = max(1, IN_FLIGHT_PER_THREAD * sum(client.nthreads().values()))
    running = as_completed(loop=client.loop, with_results=True, raise_errors=False)

    def submit_next() -> Iterator[tuple[str, Callable[[], dict]]]:
        """Submit the next gradable submission; yield the ones that need no worker."""
        for student in pending:
            started = time.monotonic()
            sub = collect(course, assignment.name, student)
            if sub.problem:
                out = {**_unrunnable(sub, assignment), "seconds": time.monotonic() - started}
                yield student, (lambda out=out: out)
                continue
            job = Job(rel, student, sub.path.read_bytes(), course.seed(assignment.name, student))
            future = client.submit(task, job, key=f"grade-{token}-{student}", retries=1, pure=False)
            subs[future.key] = (sub, started)
            running.add(future)
            return

    for _ in range(window):
        yield from submit_next()
    for future, value in running:
        sub, started = subs.pop(future.key)
        if future.status == "finished":
            out = merge(sub, value)
        else:  # "error": value is (type, exception, traceback); or "cancelled"
            exc = value[1] if isinstance(value, tuple) and len(value) == 3 else value
            out = lost(sub, assignment, _why(exc), started)
        future.release()
        yield sub.student, (lambda out=out: out)
        yield from submit_next()


def _unrunnable(sub: Submission, assignment: source.Assignment) -> dict:
    return _zero_result(sub, assignment, f"not graded: {sub.problem}")
