"""The second round of attacks at full size: what they cost the grader.

    python -m rnnscratch.bench attacks [--jobs 2] [--bomb-mb 2400] [--child-mb 2560]

Grades the attack personas of the fixture class (tests/fixtures/grading/classroom.py: FIFOs and
links in the outputs, a decompression bomb inflating to ``--bomb-mb`` MB and a lying .npy
header, forged progress events, the answer key, a symlinked and a FIFO submission, script
injection, three children of ``--child-mb`` MB each, nested user namespaces, a flooded outputs
tmpfs, foreign metadata, a notebook nested too deeply, float16) plus the honest student, with
the default limits, and prints each submission's score and wall time, the worst wall time, the
peak resident memory of the trusted grading process (and of its waited-for children: sandboxes
and judging workers), and how the sandboxes' resources were bounded.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import resource
import tempfile
import time
from pathlib import Path

from rnnscratch.grading import feedback, pipeline
from rnnscratch.grading.course import Course

REPO = Path(__file__).resolve().parents[4]
ATTACKS = [
    "correct", "fifo_outputs", "zip_bomb", "forged_progress", "answer_key", "symlinked",
    "fifo_notebook", "script_injection", "memory_children", "escapes", "disk_flood",
    "bad_metadata", "deep_json", "float16",
]  # fmt: skip


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--bomb-mb", type=int, default=2400)
    parser.add_argument("--child-mb", type=int, default=2560)
    args = parser.parse_args(argv)
    path = REPO / "tests" / "fixtures" / "grading" / "classroom.py"
    spec = importlib.util.spec_from_file_location("classroom", path)
    classroom = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(classroom)
    root = Path(tempfile.mkdtemp(prefix="rnnscratch-attacks-"))
    aid = classroom.make_course(root)
    ctx = {"port": 9, "bomb_mb": args.bomb_mb, "child_bytes": args.child_mb * 2**20}
    classroom.build_class(root, aid, ctx)
    course = Course(root)
    lines: list[str] = []
    start = time.perf_counter()
    graded = pipeline.autograde(course, aid, only=ATTACKS, jobs=args.jobs, log=lines.append)
    total = time.perf_counter() - start
    feedback.write(course, aid)
    print(next(line for line in lines if "sandbox resources" in line))
    for g in sorted(graded, key=lambda g: -g.seconds):
        data = json.loads((course.autograded / g.student / aid / "results.json").read_text())
        peak = data.get("sandbox_peak_bytes")
        shown = f", sandbox peak {peak / 2**20:.0f} MiB" if peak else ""
        print(f"  {g.student:>18}: {g.score:g}/{g.max_auto:g} in {g.seconds:5.1f} s{shown}")
    worst = max(graded, key=lambda g: g.seconds)
    self_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    kids_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(f"{len(graded)} submissions in {total:.1f} s (jobs={args.jobs}); worst: {worst.student}")
    print(f"  worst submission wall time: {worst.seconds:.1f} s")
    print(f"  peak RSS of the trusted grading process: {self_mb:.0f} MiB")
    print(f"  peak RSS of any waited-for child (sandbox tree, judging worker): {kids_mb:.0f} MiB")
    print(f"  course left in {root}")


if __name__ == "__main__":
    import sys

    main(sys.argv[1:])
