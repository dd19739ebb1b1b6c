"""Grading on Dask distributed against the thread pool: one synthetic class, the same machine.

    python -m rnnscratch.bench grading_dask     (what `make bench` runs: the defaults)
    python -m rnnscratch.bench.grading_dask [--students 40] [--assignment a01_rnn_forward]

Grades the same synthetic class three times and prints, side by side:

1. the thread pool, ``--jobs 2`` (two sandboxes at a time in one process);
2. a LocalCluster of 1 worker process (one thread), ``--cluster local:1``;
3. a LocalCluster of 2 worker processes, ``--cluster local:2``;

then the ratios (targets: 2 workers >= 1.8x one worker; 2 workers within 10 % of ``--jobs 2``),
the cost of one submission on one worker (which sizes a cluster: see the instructor guide), and
the per-submission task overhead, measured two ways: (a) the gap between the 1-worker wall time
per submission and the grading time the worker itself measured, (b) a task that carries one
submission's payload to a worker and does nothing, pipelined as the grader submits them, and
one at a time (round-trip latency); and the time the coordinator, the gradebook's single
writer, spends recording one submission (its ceiling on any cluster). Starting a cluster
(processes, the sandbox self-test, importing torch on each worker) is timed separately; it is
paid once per run, not per submission. The load average is printed before and after: on a
shared machine it is most of the story.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

from rnnscratch.grading import pipeline, source, synthetic
from rnnscratch.grading.course import Course

DEFAULT_ASSIGNMENT = "a01_rnn_forward"


def _load() -> str:
    one, five, _ = os.getloadavg()
    return f"load average {one:.1f} (1 min), {five:.1f} (5 min) on {os.cpu_count()} CPUs"


def _grade(course: Course, aid: str, jobs: int = 2, client=None):
    start = time.perf_counter()
    graded = pipeline.autograde(course, aid, jobs=jobs, client=client, log=lambda *a: None)
    return time.perf_counter() - start, graded


def _noop(job) -> int:
    return len(job.notebook)


def _task_overhead(client, course: Course, aid: str, n: int) -> tuple[float, float]:
    """(pipelined, one-at-a-time) seconds per empty task carrying one submission's payload."""
    from rnnscratch.grading import distributed

    assignment = source.load(course.source_notebook(aid), aid)
    rel = distributed.release_of(course, assignment)
    notebook = next(course.submitted.glob(f"*/{aid}/{aid}.ipynb")).read_bytes()
    jobs = [distributed.Job(rel, f"s{i}", notebook, i) for i in range(n)]
    client.submit(_noop, jobs[0], pure=False).result()  # warm up
    start = time.perf_counter()
    client.gather(client.map(_noop, jobs, pure=False, retries=1))
    pipelined = (time.perf_counter() - start) / n
    k = max(5, n // 5)
    start = time.perf_counter()
    for job in jobs[:k]:
        client.submit(_noop, job, pure=False).result()
    single = (time.perf_counter() - start) / k
    return pipelined, single


def _record_cost(client, course: Course, aid: str) -> float:
    """Seconds the coordinator spends per submission writing its results (gradebook row,
    autograded notebook, results.json): the single writer's ceiling on any cluster."""
    from rnnscratch.grading import distributed
    from rnnscratch.grading import gradebook as record

    assignment = source.load(course.source_notebook(aid), aid)
    who = sorted(p.name for p in course.submitted.iterdir())
    outs = [result() for _, result in distributed.grade_all(client, course, assignment, who)]
    start = time.perf_counter()
    with record.gradebook(course) as gb:
        for out in outs:
            pipeline._record(course, assignment, out, gb)
    return (time.perf_counter() - start) / len(outs)


def _inside(graded) -> float:
    """Mean seconds one submission took where it was graded (sandboxed run + judging)."""
    return statistics.mean(g.seconds for g in graded)


def _scores(graded) -> dict:
    return {g.student: g.score for g in graded}


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(
        prog="python -m rnnscratch.bench grading_dask",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--students", type=int, default=40, help="class size (default 40)")
    p.add_argument(
        "--assignment",
        default=DEFAULT_ASSIGNMENT,
        help=f"assignment (default {DEFAULT_ASSIGNMENT})",
    )
    p.add_argument("--empty-tasks", type=int, default=100, help="empty tasks timed (default 100)")
    args = p.parse_args(argv or [])
    from rnnscratch.grading import distributed

    with tempfile.TemporaryDirectory(prefix="rnnscratch-bench-dask-") as tmp:
        root = Path(tmp)
        (aid,) = synthetic.make_course(root, [args.assignment])
        course = Course(root)
        synthetic.make_class(course, aid, args.students, seed=1)
        n = args.students
        print(f"{aid}: {n} synthetic students; {_load()}", flush=True)
        pipeline.autograde(course, aid, only=["student001"], jobs=1, log=lambda *a: None)
        pool_s, pool = _grade(course, aid, jobs=2)
        print(
            f"thread pool --jobs 2:            {pool_s:6.1f} s = {pool_s / n:.2f} s per notebook "
            f"(each one {_inside(pool):.2f} s in its thread)",
            flush=True,
        )
        runs = {}
        for workers in (1, 2):
            start = time.perf_counter()
            with distributed.connect(cluster=f"local:{workers}", course=course) as client:
                started = time.perf_counter() - start
                seconds, graded = _grade(course, aid, client=client)
                if workers == 1:
                    overhead = _task_overhead(client, course, aid, args.empty_tasks)
                else:
                    writer = _record_cost(client, course, aid)
            runs[workers] = (seconds, graded)
            print(
                f"LocalCluster {workers} worker{'s' if workers > 1 else ' '} (local:{workers}): "
                f"{seconds:6.1f} s = {seconds / n:.2f} s per notebook "
                f"(each one {_inside(graded):.2f} s on its worker; "
                f"starting the cluster: {started:.1f} s, not included)",
                flush=True,
            )
        one_s, one = runs[1]
        two_s, two = runs[2]
        same = _scores(pool) == _scores(one) == _scores(two)
        print(f"same scores on all three: {'yes' if same else 'NO'}", flush=True)
        print(
            f"2 workers vs 1 worker: {one_s / two_s:.2f}x faster (target >= 1.8x); "
            f"2 workers vs --jobs 2: {two_s / pool_s:.2f}x the time (target <= 1.10x)",
            flush=True,
        )
        worker_side = _inside(one)
        gap = one_s / n - worker_side
        pipelined, single = overhead
        print(
            f"one submission on one worker: {one_s / n:.2f} s wall, of which {worker_side:.2f} s "
            f"grading on the worker (sandboxed run + judging) and {gap * 1000:.0f} ms around it "
            f"(task dispatch, transfer, recording in the gradebook); "
            f"one worker grades {3600 * n / one_s:.0f} notebooks per hour",
            flush=True,
        )
        print(
            f"empty task with one submission's payload: {pipelined * 1000:.1f} ms per task "
            f"pipelined, {single * 1000:.1f} ms round trip one at a time",
            flush=True,
        )
        print(
            f"the coordinator writes one submission's results in {writer * 1000:.0f} ms: one "
            f"coordinator records at most {3600 / writer:.0f} submissions per hour, "
            f"whatever the number of workers",
            flush=True,
        )
        print(_load(), flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
