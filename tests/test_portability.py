"""Nothing committed depends on where the repository is checked out or who checked it out.

(The other two parts of "works on any machine" are tested where they live: reference tensors
are compared by value, never by bytes, in test_exercises.py; `make grade` runs in a course under
/home or /tmp, as root and as an unprivileged user, in test_grading_layout.py.)
"""

import getpass
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _tracked_text_files() -> list[Path]:
    try:
        out = subprocess.run(
            ["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True
        ).stdout
    except (OSError, subprocess.CalledProcessError):
        pytest.skip("not a git checkout")
    files = [ROOT / name for name in out.decode().split("\0") if name]
    return [f for f in files if f.is_file() and f.suffix not in {".npz", ".png", ".svg"}]


def test_no_committed_file_names_this_checkout_or_its_user():
    home = str(Path.home())
    # a home two levels deep (/home/alice) is personal; /root is a system path the sandbox names
    needles = {str(ROOT)} | ({home + "/"} if len(Path(home).parts) > 2 else set())
    user = getpass.getuser()
    offenders = []
    for path in _tracked_text_files():
        text = path.read_text(errors="replace")
        hits = [n for n in needles if n in text]
        hits += [f"/home/{user}/"] if f"/home/{user}/" in text else []
        if hits:
            offenders.append(f"{path.relative_to(ROOT)}: {hits}")
    assert not offenders, "committed files that only work in this checkout:\n" + "\n".join(
        offenders
    )
