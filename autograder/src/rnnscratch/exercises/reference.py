"""Regenerate every assignment's `reference_tensors.npz` (visible test inputs + torch outputs).

    python -m rnnscratch.exercises.reference [--root DIR] [--check]

Inputs come from fixed seeds (`spec.visible_seed`), outputs from torch in float64; the file is
written with fixed zip dates and sorted keys, so regenerating gives byte-identical files.
`--check` compares instead of writing and exits 1 on any difference.
"""

import argparse
import sys
from pathlib import Path

from rnnscratch import ROOT
from rnnscratch.exercises.harness import REFERENCE_FILE, grading_inputs, reference, reference_arrays
from rnnscratch.exercises.plain import write_npz
from rnnscratch.exercises.registry import ASSIGNMENTS, SPECS


def assignment_arrays(assignment: str) -> dict:
    """All npz entries of one assignment: every visible case of every function."""
    entries = {}
    for name in ASSIGNMENTS[assignment]:
        for case in SPECS[name].cases:
            if case.startswith("visible"):
                inputs = grading_inputs(name, case, seed=0)
                entries |= reference_arrays(name, case, inputs, reference(name, inputs))
    return entries


def write_reference(assignment: str, path) -> None:
    """Write the reference file of `assignment` to `path`."""
    write_npz(path, assignment_arrays(assignment))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=ROOT, help="course root (has solutions/)")
    parser.add_argument("--check", action="store_true", help="compare, do not write")
    args = parser.parse_args(argv)
    status = 0
    for assignment in ASSIGNMENTS:
        path = args.root / "solutions" / assignment / REFERENCE_FILE
        if args.check:
            tmp = path.with_suffix(".check.npz")
            write_reference(assignment, tmp)
            same = path.is_file() and tmp.read_bytes() == path.read_bytes()
            tmp.unlink()
            print(f"{path}: {'identical' if same else 'DIFFERS'}")
            status |= not same
        else:
            write_reference(assignment, path)
            print(f"wrote {path}")
    return status


if __name__ == "__main__":
    sys.exit(main())
