"""The instructor's command line: ``python -m rnnscratch.grading --help``."""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

from rnnscratch.grading import collect as collect_mod
from rnnscratch.grading import feedback, handout, pipeline, report, synthetic
from rnnscratch.grading.course import Course


def _course(args) -> Course:
    course = Course(Path(args.course))
    limits = course.limits
    if getattr(args, "cell_timeout", None):
        limits = replace(limits, cell_seconds=args.cell_timeout)
    if getattr(args, "memory_mb", None):
        limits = replace(limits, memory_bytes=args.memory_mb * 1024**2)
    course.limits = limits
    return course


def _aids(course: Course, given: list[str]) -> list[str]:
    aids = given or course.assignments()
    if not aids:
        sys.exit(f"no assignments found in {course.source_dir}")
    return aids


def _submitted(course: Course, aids: list[str]) -> list[str]:
    """The assignments somebody has submitted; one line for each one skipped (mid-semester,
    ``make grade`` grades what has come in and leaves the rest alone)."""
    ready = []
    for aid in aids:
        if not course.source_notebook(aid).is_file():
            print(f"{aid}: skipped (no source notebook {course.source_notebook(aid)})")
        elif not any(course.submitted.glob(f"*/{aid}")):
            print(f"{aid}: skipped (nothing submitted yet in {course.submitted}/*/{aid})")
        else:
            ready.append(aid)
    return ready


def _graded(course: Course, aids: list[str]) -> list[str]:
    """The assignments with at least one graded submission in the gradebook; one line for
    each one skipped (not released or not graded yet)."""
    from nbgrader.api import MissingEntry

    from rnnscratch.grading.gradebook import gradebook

    ready = []
    with gradebook(course) as gb:
        for aid in aids:
            try:
                graded = bool(gb.find_assignment(aid).submissions)
            except MissingEntry:
                graded = False
            if graded:
                ready.append(aid)
            else:
                print(f"{aid}: skipped (not graded yet)")
    return ready


def cmd_release(args) -> int:
    course = _course(args)
    return max((handout.release(course, aid) for aid in _aids(course, args.assignment)), default=0)


def cmd_collect(args) -> int:
    course = _course(args)
    status = 0
    for aid in _aids(course, args.assignment):
        if args.exchange:
            cmd = course.nbgrader_command("collect", aid)
            status |= subprocess.run(cmd, cwd=course.root).returncode
        for student in collect_mod.students(course):
            sub = collect_mod.collect(course, aid, student)
            state = sub.problem or "ok" + (f" ({'; '.join(sub.notes)})" if sub.notes else "")
            print(f"{aid} {student:>16}: {state}")
    return status


def cmd_autograde(args) -> int:
    course = _course(args)
    scheduler, cluster = getattr(args, "scheduler", None), getattr(args, "cluster", None)
    if scheduler or cluster:  # Dask is imported only here: plain runs pay nothing for it
        from rnnscratch.grading import distributed

        try:
            with distributed.connect(scheduler, cluster, course) as client:
                return _autograde(args, course, client)
        except (RuntimeError, ValueError, OSError) as exc:
            print(f"autograde stopped before grading anyone: {exc}", file=sys.stderr)
            return 2
    return _autograde(args, course, None)


def _autograde(args, course: Course, client) -> int:
    for aid in _submitted(course, _aids(course, args.assignment)):
        start = time.perf_counter()
        try:
            graded = pipeline.autograde(
                course, aid, only=args.student or None, jobs=args.jobs, client=client
            )
        except RuntimeError as exc:
            print(f"autograde stopped before grading anyone: {exc}", file=sys.stderr)
            return 2
        seconds = time.perf_counter() - start
        problems = [g for g in graded if g.problem]
        print(
            f"{aid}: {len(graded)} submissions graded in {seconds:.1f} s "
            f"({len(problems)} could not be run; see their feedback)"
        )
    return 0


def cmd_feedback(args) -> int:
    course = _course(args)
    for aid in _graded(course, _aids(course, args.assignment)):
        paths = feedback.write(course, aid, args.student or None)
        print(f"{aid}: {len(paths)} feedback pages in {course.feedback}")
    return 0


def cmd_export(args) -> int:
    from nbgrader.plugins import CsvExportPlugin

    from rnnscratch.grading.gradebook import gradebook

    course = _course(args)
    dest = Path(args.to) if args.to else course.root / "grades.csv"
    with gradebook(course) as gb:
        graded = [a.name for a in gb.assignments if a.submissions]
        CsvExportPlugin(to=str(dest)).export(gb)
    done = f" ({', '.join(graded)})" if graded else " (nothing graded yet: header only)"
    print(f"grades written to {dest}{done}")
    return 0


def cmd_report(args) -> int:
    course = _course(args)
    for aid in _graded(course, _aids(course, args.assignment)):
        print(f"{aid}: class report {report.write(course, aid)}")
    return 0


def cmd_demo(args) -> int:
    """Walk a synthetic class through every step in a temporary course directory."""
    root = Path(args.dir) if args.dir else Path(tempfile.mkdtemp(prefix="rnnscratch-demo-"))
    root.mkdir(parents=True, exist_ok=True)
    aids = synthetic.make_course(root, args.assignment or None)
    course = Course(root)
    print(f"demo course in {root}: assignments {', '.join(aids)}")
    for aid in aids:
        synthetic.make_class(course, aid, args.students, seed=args.seed)
    print(f"{args.students} synthetic students per assignment in {course.submitted}")
    ns = argparse.Namespace(
        course=str(root),
        assignment=aids,
        student=[],
        jobs=args.jobs,
        cell_timeout=None,
        memory_mb=None,
        to=None,
        exchange=False,
    )
    for step in (cmd_autograde, cmd_feedback, cmd_export, cmd_report):
        status = step(ns)
        if status:
            return status
    print(f"done: open {course.reports}/<assignment>.html and {course.feedback}/")
    return 0


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m rnnscratch.grading",
        description="Grade a class with nbgrader's layout and gradebook, each submission in a "
        "bubblewrap sandbox: release -> collect -> autograde -> (formgrader) -> feedback -> "
        "export -> report.",
    )
    p.add_argument("--course", default=".", help="course directory (default: current directory)")
    sub = p.add_subparsers(dest="command", required=True)

    def add(name, func, text, aids=True):
        s = sub.add_parser(name, help=text, description=text)
        s.set_defaults(func=func)
        if aids:
            s.add_argument("assignment", nargs="*", help="assignment ids (default: all)")
        return s

    add(
        "release",
        cmd_release,
        "generate the student version into exercises/ (nbgrader) "
        "and register the cells in the gradebook",
    )
    s = add(
        "collect",
        cmd_collect,
        "list the submissions in submitted/ and what is wrong with any of them",
    )
    s.add_argument(
        "--exchange", action="store_true", help="first run `nbgrader collect` (JupyterHub exchange)"
    )
    s = add(
        "autograde",
        cmd_autograde,
        "run every submission in the sandbox, judge the "
        "outputs, write scores into gradebook.db and notebooks into autograded/",
    )
    s.add_argument("--student", action="append", default=[], help="only this student (repeat)")
    s.add_argument("--jobs", type=int, default=2, help="sandboxes at a time (default 2)")
    where = s.add_mutually_exclusive_group()
    where.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help="grade on the workers of a running Dask scheduler, e.g. tcp://host:8786 "
        "(--jobs is then ignored)",
    )
    where.add_argument(
        "--cluster",
        metavar="local:N",
        help="grade on a Dask LocalCluster of N worker processes started for this run",
    )
    s.add_argument("--cell-timeout", type=float, help="wall seconds per cell (default 30)")
    s.add_argument("--memory-mb", type=int, help="address-space limit (default 4096)")
    s = add(
        "feedback",
        cmd_feedback,
        "write HTML feedback into feedback/<student>/<aid>/ (no hidden test source, works offline)",
    )
    s.add_argument("--student", action="append", default=[], help="only this student (repeat)")
    s = add("export", cmd_export, "export all grades as CSV (nbgrader's exporter)", aids=False)
    s.add_argument("--to", help="CSV file (default: grades.csv in the course directory)")
    add("report", cmd_report, "write the class report reports/<aid>.html")
    s = add("demo", cmd_demo, "walk a synthetic class through every step in a temporary course")
    s.add_argument("--dir", help="course directory to create (default: a new temporary one)")
    s.add_argument("--students", type=int, default=8, help="students per assignment")
    s.add_argument("--jobs", type=int, default=2, help="sandboxes at a time")
    s.add_argument("--seed", type=int, default=0, help="seed of the synthetic class")
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
