"""The course directory, in nbgrader's layout, and the settings of one grading run.

<root>/solutions/<aid>/<aid>.ipynb        source notebooks (nbgrader's source directory)
<root>/exercises/<aid>/                   the release students get
<root>/submitted/<student>/<aid>/         what was collected (never modified by the grader)
<root>/autograded/<student>/<aid>/        what formgrader shows (hidden tests stripped)
<root>/feedback/<student>/<aid>/<aid>.html
<root>/gradebook.db                       nbgrader's gradebook (SQLite)
<root>/reports/<aid>.html                 the class report
"""

from __future__ import annotations

import hashlib
import os
import secrets
import sys
from dataclasses import dataclass, field
from pathlib import Path

from rnnscratch.grading.sandbox import Limits


@dataclass
class Course:
    """Paths of one course directory and the knobs of the grader."""

    root: Path
    source: str = "solutions"
    release: str = "exercises"
    limits: Limits = field(default_factory=Limits)

    def __post_init__(self) -> None:
        self.root = Path(self.root).resolve()

    # directories -------------------------------------------------------------------------
    @property
    def source_dir(self) -> Path:
        return self.root / self.source

    @property
    def release_dir(self) -> Path:
        return self.root / self.release

    @property
    def submitted(self) -> Path:
        return self.root / "submitted"

    @property
    def autograded(self) -> Path:
        return self.root / "autograded"

    @property
    def feedback(self) -> Path:
        return self.root / "feedback"

    @property
    def reports(self) -> Path:
        return self.root / "reports"

    @property
    def db_path(self) -> Path:
        return self.root / "gradebook.db"

    @property
    def db_url(self) -> str:
        return f"sqlite:///{self.db_path}"

    def secret_paths(self) -> list[Path]:
        """Everything the sandbox must never see."""
        return [self.root, self.source_dir, self.db_path, self.submitted, self.autograded]

    def assignments(self) -> list[str]:
        """Assignment ids that have a source notebook, sorted."""
        if not self.source_dir.is_dir():
            return []
        return sorted(
            d.name for d in self.source_dir.iterdir() if (d / f"{d.name}.ipynb").is_file()
        )

    def source_notebook(self, aid: str) -> Path:
        return self.source_dir / aid / f"{aid}.ipynb"

    def nbgrader_command(self, subcommand: str, *args: str) -> list[str]:
        """``python -m nbgrader SUBCOMMAND ARGS...`` with the settings for this layout."""
        return [sys.executable, "-m", "nbgrader", subcommand, *args, *self.nbgrader_args()]

    def nbgrader_args(self) -> list[str]:
        """Command-line settings that make nbgrader use this layout."""
        return [
            f"--CourseDirectory.root={self.root}",
            f"--CourseDirectory.source_directory={self.source}",
            f"--CourseDirectory.release_directory={self.release}",
            f"--CourseDirectory.db_url={self.db_url}",
        ]

    def secret(self) -> str:
        """The course secret in ``<root>/.grading-secret`` (created once, mode 0600, outside
        every sandbox); it makes the hidden-test seeds unguessable."""
        path = self.root / ".grading-secret"
        if not path.exists():
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as f:
                f.write(secrets.token_hex(16))
        return path.read_text().strip()

    def seed(self, aid: str, student: str) -> int:
        """The hidden-test seed of one submission: stable across re-grading."""
        digest = hashlib.sha256(f"{self.secret()}:{aid}:{student}".encode()).digest()
        return int.from_bytes(digest[:4], "little")
