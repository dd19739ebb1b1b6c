"""Regenerate the student release: `make exercises` runs `python -m rnnscratch.exercises.release`.

For every assignment in `solutions/`: rewrite `reference_tensors.npz` (torch float64, fixed
seeds), then `nbgrader generate_assignment` into `exercises/` (solutions and hidden tests
removed, reference file copied). `--to DIR` writes the release somewhere else (tests compare it
with the committed `exercises/`); `--no-reference` skips the reference files.
"""

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

from rnnscratch import ROOT
from rnnscratch.exercises.registry import ASSIGNMENTS


def _config(root: Path, release_dir: Path, db_dir: str):
    """The course's nbgrader_config.py, pointed at `release_dir` and a throw-away gradebook."""
    config = course_config(root)
    config.CourseDirectory.root = str(root)
    config.CourseDirectory.release_directory = str(release_dir)
    config.CourseDirectory.db_url = f"sqlite:///{db_dir}/gradebook.db"
    config.Exchange.root = f"{db_dir}/exchange"
    config.SaveCells.enabled = False  # as `--no-db`: releasing needs no gradebook
    config.GenerateAssignment.no_database = True
    return config


def course_config(root: Path = ROOT):
    """The course's nbgrader configuration, as `nbgrader` itself loads it (nbgrader_config.py)."""
    from traitlets.config import Config
    from traitlets.config.loader import PyFileConfigLoader

    config = Config()
    if (Path(root) / "nbgrader_config.py").is_file():
        config.merge(PyFileConfigLoader("nbgrader_config.py", path=str(root)).load_config())
    return config


def student_version(nb, root: Path = ROOT, resources: dict | None = None):
    """The student version of a source notebook, in memory: `nbgrader generate_assignment`'s
    own preprocessor list, in its order, each configured from the course's nbgrader_config.py
    (the one release path: `make exercises`, the grader and the tests all go through it).

    nb: an nbformat notebook (changed in place and returned). resources: with
    `{"nbgrader": {"db_url", "assignment", "notebook"}}` the cells are also saved in that
    gradebook (`SaveCells`, as generate_assignment does); without, that step is skipped.
    """
    from nbgrader.converters import GenerateAssignment
    from nbgrader.preprocessors import SaveCells

    config = course_config(root)
    classes = (
        config.GenerateAssignment.get("preprocessors")
        or GenerateAssignment.class_traits()["preprocessors"].default()
    )
    resources = resources if resources is not None else {}
    for cls in classes:
        if cls is SaveCells and "db_url" not in resources.get("nbgrader", {}):
            continue
        nb, resources = cls(config=config).preprocess(nb, resources)
    return nb


def generate(assignment: str, release_dir: Path, root: Path = ROOT) -> None:
    """`nbgrader generate_assignment --no-db --force` for one assignment, in-process."""
    from nbgrader.converters import GenerateAssignment
    from nbgrader.coursedir import CourseDirectory

    with tempfile.TemporaryDirectory() as tmp:
        config = _config(root, release_dir, tmp)
        coursedir = CourseDirectory(config=config)
        coursedir.assignment_id = assignment
        app = GenerateAssignment(coursedir=coursedir, config=config)
        app.force = True
        app.start()


def release(release_dir: Path, root: Path = ROOT, reference: bool = True) -> None:
    """Regenerate reference files (optional) and every assignment's release."""
    if reference:
        from rnnscratch.exercises.reference import main as write_references

        write_references(["--root", str(root)])
    release_dir = release_dir.resolve()
    for assignment in ASSIGNMENTS:
        target = release_dir / assignment
        if target.exists():
            shutil.rmtree(target)
        generate(assignment, release_dir, root)
        print(f"released {assignment} -> {target}")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--to", type=Path, default=ROOT / "exercises", help="release directory")
    parser.add_argument("--no-reference", action="store_true", help="keep reference files")
    args = parser.parse_args(argv)
    release(args.to, reference=not args.no_reference)
    return 0


if __name__ == "__main__":
    sys.exit(main())
