"""Grading throughput: our sandboxed workflow vs plain ``nbgrader autograde``, same machine.

    python -m rnnscratch.bench grading          (what `make bench` runs: the defaults)
    python -m rnnscratch.bench.grading [--students 40] [--nbgrader-students 8] [--jobs 2]

Builds a synthetic class (``--students`` per assignment, every assignment with a source
notebook) in a temporary course directory, then prints

1. our workflow (``--jobs`` sandboxes at a time) on the whole class: total time, time per
   notebook;
2. ``nbgrader autograde`` (one kernel per notebook, serial, as nbgrader runs) on the first
   ``--nbgrader-students`` students of the same class (all of them with
   ``--nbgrader-students 40``; a sample of 8 by default because nbgrader needs 6-15 s per
   notebook here):
   total time, time per notebook; and the throughput ratio (notebooks per second, ours/theirs);
3. per-notebook overhead: a fully solved notebook graded one at a time (``--jobs 1``, four
   copies, time per copy) against executing the same notebook plainly -- its code in one
   ``python`` process, and in a Jupyter kernel (nbclient) -- as ratios.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat

from rnnscratch.grading import pipeline, synthetic
from rnnscratch.grading.course import Course


def _env() -> dict:
    return {**os.environ, "PATH": f"{Path(sys.executable).parent}:{os.environ.get('PATH', '')}"}


def _ours(root: Path, aids: list[str], students: int, jobs: int) -> tuple[float, int]:
    course = Course(root)
    for aid in aids:
        synthetic.make_class(course, aid, students, seed=1)
    start = time.perf_counter()
    n = 0
    for aid in aids:
        n += len(pipeline.autograde(course, aid, jobs=jobs, log=lambda *a: None))
    return time.perf_counter() - start, n


def _nbgrader(root: Path, aids: list[str], students: int) -> tuple[float, int]:
    course = Course(root)
    for aid in aids:
        synthetic.make_class(course, aid, students, seed=1)
        subprocess.run(
            course.nbgrader_command("generate_assignment", aid, "--force", "--log-level=ERROR"),
            cwd=root,
            check=True,
            capture_output=True,
            env=_env(),
        )
    start = time.perf_counter()
    for aid in aids:
        # nbgrader exits 1 when any student errors; the gradebook has the scores anyway
        subprocess.run(
            course.nbgrader_command("autograde", aid, "--force", "--log-level=ERROR"),
            cwd=root,
            capture_output=True,
            env=_env(),
        )
    return time.perf_counter() - start, students * len(aids)


def _overhead(root: Path, aid: str) -> tuple[float, float, float]:
    """(ours one at a time, plain python, plain kernel) seconds per solved notebook."""
    course = Course(root)
    course.source_dir.mkdir(parents=True, exist_ok=True)
    src = Path(synthetic.REPO / "solutions" / aid)
    if src.is_dir():
        shutil.copytree(src, course.source_dir / aid, dirs_exist_ok=True)
    else:
        (course.source_dir / aid).mkdir(parents=True, exist_ok=True)
        nbformat.write(synthetic.mini_source(), course.source_notebook(aid))
    nb = synthetic.solved(course.source_notebook(aid))
    copies = 4
    for k in range(copies):
        folder = course.submitted / f"solved{k}" / aid
        folder.mkdir(parents=True)
        nbformat.write(nb, folder / f"{aid}.ipynb")
    pipeline.autograde(course, aid, ["solved0"], jobs=1, log=lambda *a: None)  # warm up
    start = time.perf_counter()
    pipeline.autograde(course, aid, jobs=1, log=lambda *a: None)
    ours = (time.perf_counter() - start) / copies  # one after the other, one sandbox at a time
    plain_dir = root / "plain"
    plain_dir.mkdir()
    for f in pipeline.release_files(course, aid):
        shutil.copy(f, plain_dir / f.name)
    code = "\n\n".join(c.source for c in nb.cells if c.cell_type == "code")
    (plain_dir / "notebook.py").write_text(code)
    start = time.perf_counter()
    subprocess.run([sys.executable, "notebook.py"], cwd=plain_dir, check=True, capture_output=True)
    plain = time.perf_counter() - start
    from nbclient import NotebookClient

    start = time.perf_counter()
    NotebookClient(
        nbformat.from_dict(nb),
        kernel_name="python3",
        timeout=120,
        resources={"metadata": {"path": str(plain_dir)}},
    ).execute()
    kernel = time.perf_counter() - start
    return ours, plain, kernel


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(
        prog="python -m rnnscratch.bench grading",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--students", type=int, default=40, help="class size (default 40)")
    p.add_argument(
        "--nbgrader-students",
        type=int,
        default=8,
        help="students graded by plain nbgrader (default 8; 40 = the whole class)",
    )
    p.add_argument("--jobs", type=int, default=2, help="our sandboxes at a time (default 2)")
    p.add_argument("--assignment", action="append", help="only these assignments")
    args = p.parse_args(argv or [])
    with tempfile.TemporaryDirectory(prefix="rnnscratch-bench-") as tmp:
        tmp = Path(tmp)
        aids = synthetic.make_course(tmp / "ours", args.assignment)
        synthetic.make_course(tmp / "nbgrader", args.assignment)
        print(
            f"assignments: {', '.join(aids)}; {args.students} students each; {os.cpu_count()} CPUs",
            flush=True,
        )
        ours_s, ours_n = _ours(tmp / "ours", aids, args.students, args.jobs)
        print(
            f"ours (--jobs {args.jobs}, sandboxed): {ours_n} notebooks in {ours_s:.1f} s = "
            f"{ours_s / ours_n:.2f} s per notebook",
            flush=True,
        )
        k = min(args.nbgrader_students, args.students)
        nb_s, nb_n = _nbgrader(tmp / "nbgrader", aids, k)
        sample = "" if k == args.students else f" (first {k} students of the class)"
        print(
            f"nbgrader autograde: {nb_n} notebooks{sample} in {nb_s:.1f} s = "
            f"{nb_s / nb_n:.2f} s per notebook",
            flush=True,
        )
        ratio = (ours_n / ours_s) / (nb_n / nb_s)
        print(
            f"throughput ratio (ours / nbgrader, notebooks per second): {ratio:.1f}x "
            f"(target >= 3x)",
            flush=True,
        )
        ours1, plain, kernel = _overhead(tmp / "overhead", aids[0])
        print(
            f"one solved {aids[0]} notebook: ours, one at a time (--jobs 1) {ours1:.2f} s; plain "
            f"python {plain:.2f} s; plain Jupyter kernel {kernel:.2f} s",
            flush=True,
        )
        print(
            f"per-notebook overhead: {ours1 / plain:.2f}x plain python, "
            f"{ours1 / kernel:.2f}x plain kernel (target <= 1.5x)",
            flush=True,
        )


if __name__ == "__main__":
    main(sys.argv[1:])
