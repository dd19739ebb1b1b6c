"""Regenerate every assignment's `reference_tensors.npz` (visible test inputs + torch outputs).

    python -m rnnscratch.exercises.reference [--root DIR] [--check]

Inputs come from fixed seeds (`spec.visible_seed`), outputs from torch in float64. torch's
float64 kernels round differently on different CPUs (one unit in the last place), so a fresh file
is compared with the committed one by value (`tolerances.REFERENCE`), never by bytes: when every
array matches, the committed file is left untouched and `make exercises` changes nothing.
`--check` compares instead of writing and exits 1 on any difference beyond the tolerance.
"""

import argparse
import sys
from pathlib import Path

import numpy as np

from rnnscratch import ROOT
from rnnscratch.exercises.harness import REFERENCE_FILE, grading_inputs, reference, reference_arrays
from rnnscratch.exercises.plain import read_reference, write_npz
from rnnscratch.exercises.registry import ASSIGNMENTS, SPECS
from rnnscratch.tolerances import REFERENCE


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


def differences(stored: dict, fresh: dict, tolerance: dict = REFERENCE) -> list[str]:
    """What differs between two sets of reference arrays, by value: [] when they agree.

    Keys, shapes and dtypes must be equal; float values agree within `tolerance` (torch's
    float64 results differ across CPUs in the last place); other values exactly.
    """
    problems = [f"{k}: missing" for k in sorted(set(fresh) - set(stored))]
    problems += [f"{k}: unexpected" for k in sorted(set(stored) - set(fresh))]
    for key in sorted(set(stored) & set(fresh)):
        a, b = np.asarray(stored[key]), np.asarray(fresh[key])
        if a.shape != b.shape or a.dtype != b.dtype:
            problems.append(f"{key}: {a.dtype}{a.shape} stored, {b.dtype}{b.shape} fresh")
        elif np.issubdtype(a.dtype, np.floating):
            if not np.allclose(a, b, equal_nan=True, **tolerance):
                problems.append(f"{key}: max |diff| {np.nanmax(np.abs(a - b)):.3g}")
        elif not np.array_equal(a, b):
            problems.append(f"{key}: values differ")
    return problems


def update_reference(assignment: str, path: Path) -> str:
    """Rewrite `path` only when its arrays differ from a fresh computation beyond the
    tolerance; returns "unchanged", "updated" or "created"."""
    fresh = assignment_arrays(assignment)
    if path.is_file():
        if not differences(read_reference(path), fresh):
            return "unchanged"
        write_npz(path, fresh)
        return "updated"
    write_npz(path, fresh)
    return "created"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=ROOT, help="course root (has solutions/)")
    parser.add_argument("--check", action="store_true", help="compare, do not write")
    args = parser.parse_args(argv)
    status = 0
    for assignment in ASSIGNMENTS:
        path = args.root / "solutions" / assignment / REFERENCE_FILE
        if args.check:
            problems = (
                differences(read_reference(path), assignment_arrays(assignment))
                if path.is_file()
                else ["file missing"]
            )
            print(f"{path}: {'matches' if not problems else 'DIFFERS: ' + '; '.join(problems)}")
            status |= bool(problems)
        else:
            print(f"{path}: {update_reference(assignment, path)}")
    return status


if __name__ == "__main__":
    sys.exit(main())
