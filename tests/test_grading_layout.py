"""`make grade` in the instructor's real layout, mid-semester.

The instructor guide's layout: the course repository is the nbgrader course root and holds its
own ``.venv``; it lives under one of the roots the sandbox hides (``/home/<instructor>/...`` on
a JupyterHub, ``/tmp/...`` for a fresh clone), possibly with a space in its path. The grader
runs as root on a grading host, or as the instructor's own uid on a hub.

Each test copies this repository into such a place, gives the copy a ``.venv`` *inside* it (a
hard-linked clone of the running virtual environment with its paths rewritten: the real
``make venv`` would take minutes), puts one week's submissions in ``submitted/`` (only the
first assignment has come in) and runs the real ``make grade``: autograde -> feedback -> export
-> report. It must grade what was submitted, skip the rest with a note, and write scores,
feedback, the CSV and the report.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import tempfile
from pathlib import Path

import pytest
from classroom import needs_sandbox

ROOT = Path(__file__).resolve().parents[1]
FIRST = "a01_rnn_forward"
NOBODY = 65534
SKIP_COPY = {".venv", ".git", "_build", ".pytest_cache", ".ruff_cache", "__pycache__"}
SKIP_COPY |= {"submitted", "autograded", "feedback", "reports", "gradebook.db", "grades.csv"}
SKIP_COPY |= {".grading-secret", ".ipynb_checkpoints"}

needs_make = pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")


def _world_reachable(path: Path) -> bool:
    """True when every directory above ``path`` is searchable and ``path`` is readable by any
    user (so uid 65534 can run an interpreter installed there)."""
    path = path.resolve()
    for parent in [*reversed(path.parents)]:
        if not os.stat(parent).st_mode & 0o001:
            return False
    return bool(os.stat(path).st_mode & 0o004)


def _clone_venv(dest: Path, base_python: Path | None = None) -> Path:
    """A copy of the running venv at ``dest`` (files hard-linked; the few files that name the
    old location are rewritten as new files, never in place, so the original is untouched).
    ``base_python``: another CPython of the same minor version to run it with."""
    src = Path(sys.prefix)
    subprocess.run(["cp", "-al", str(src), str(dest)], check=True)
    old, new = str(src), str(dest)
    rewrites = {old: new, str(ROOT): str(dest.parent)}

    def rewrite(path: Path) -> None:
        try:
            text = path.read_text()
        except (UnicodeDecodeError, OSError):
            return
        changed = text
        first, _, rest = text.partition("\n")
        if first.startswith(f"#!{old}/bin/python") and " " in new:
            # a shebang cannot hold a space: pip writes this sh trampoline instead
            python = first[2:].replace(old, new)
            changed = "#!/bin/sh\n'''exec' \"" + python + '" "$0" "$@"\n' + "' '''\n" + rest
        for a, b in rewrites.items():
            changed = changed.replace(a, b)
        if changed != text:
            mode = path.stat().st_mode
            path.unlink()  # break the hard link before writing
            path.write_text(changed)
            path.chmod(mode)

    site = Path(sysconfig.get_path("purelib", vars={"base": new, "platbase": new}))
    for pth in site.glob("*.pth"):
        rewrite(pth)
    for script in (dest / "bin").iterdir():
        if script.is_file() and not script.is_symlink():
            rewrite(script)
    if base_python is not None:
        cfg = dest / "pyvenv.cfg"
        lines = [
            f"home = {base_python.parent}" if line.startswith("home =") else line
            for line in cfg.read_text().splitlines()
            if not line.startswith(("executable =", "command ="))
        ]
        cfg.unlink()
        cfg.write_text("\n".join(lines) + "\n")
        for name in ("python", "python3", f"python3.{sys.version_info.minor}"):
            link = dest / "bin" / name
            if link.is_symlink() or link.exists():
                link.unlink()
            link.symlink_to(base_python)
    (dest / ".installed").touch()  # make's install stamp: newer than requirements.txt
    return dest


def _course(parent: Path) -> Path:
    """This repository copied to ``parent/course`` with its .venv inside and one week's
    submissions: the solution (full marks) and the untouched release (zero)."""
    course = parent / "course"
    shutil.copytree(ROOT, course, ignore=lambda d, names: [n for n in names if n in SKIP_COPY])
    for student, folder in (("ada", "solutions"), ("bob", "exercises")):
        dest = course / "submitted" / student / FIRST
        dest.mkdir(parents=True)
        shutil.copy(course / folder / FIRST / f"{FIRST}.ipynb", dest / f"{FIRST}.ipynb")
    return course


def _make_grade(course: Path, user: int | None = None, home: Path | None = None):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VIRTUAL_ENV", "PYTHON"))}
    env["PATH"] = "/usr/local/bin:/usr/bin:/bin"
    cmd = ["make", "-C", str(course), "grade", "JOBS=2"]
    if user is not None:
        env["HOME"] = str(home)
        cmd = ["setpriv", f"--reuid={user}", f"--regid={user}", "--clear-groups", *cmd]
    return subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=900)


def _check_outputs(course: Path, result) -> None:
    log = result.stdout + result.stderr
    assert result.returncode == 0, log[-4000:]
    assert "autograde stopped" not in log
    # graded what came in, skipped the rest (with a note), in every step
    assert f"{FIRST}: 2 submissions graded" in log, log[-4000:]
    for other in ("a02_bptt", "a05_gru"):
        assert f"{other}: skipped (nothing submitted yet" in log
        assert f"{other}: skipped (not graded yet)" in log
    rows = [r.split(",") for r in (course / "grades.csv").read_text().splitlines()]
    header, body = rows[0], rows[1:]
    col = {name: i for i, name in enumerate(header)}
    by_student = {r[col["student_id"]]: r for r in body if r[col["assignment"]] == FIRST}
    assert set(by_student) == {"ada", "bob"}
    ada = float(by_student["ada"][col["score"]])
    bob = float(by_student["bob"][col["score"]])
    assert ada > 0 and ada == float(by_student["ada"][col["max_score"]]) - _manual_points()
    assert bob == 0.0
    for student in ("ada", "bob"):
        page = course / "feedback" / student / FIRST / f"{FIRST}.html"
        assert page.is_file() and "Score:" in page.read_text()
    assert (course / "reports" / f"{FIRST}.html").is_file()
    assert not (course / "reports" / "a02_bptt.html").exists()


def _manual_points() -> float:
    """Points of the hand-graded cells of the first assignment (autograde leaves them)."""
    nb = json.loads((ROOT / "solutions" / FIRST / f"{FIRST}.ipynb").read_text())
    total = 0.0
    for cell in nb["cells"]:
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if meta.get("grade") and meta.get("solution"):
            total += float(meta.get("points", 0))
    return total


def _hidden_root_dir(root: str) -> Path:
    """A fresh directory with a space in its name under the hidden root ``root``."""
    path = Path(tempfile.mkdtemp(prefix="rnnscratch layout ", dir=root))
    path.chmod(0o755)
    return path


@needs_sandbox
@needs_make
def test_make_grade_in_the_course_under_home_or_tmp_as_the_current_user():
    """As root (a grading host) the course sits under /home/...; otherwise under /tmp/..."""
    parent = _hidden_root_dir("/home" if os.geteuid() == 0 else "/tmp")
    try:
        course = _course(parent)
        _clone_venv(course / ".venv")
        _check_outputs(course, _make_grade(course))
    finally:
        shutil.rmtree(parent, ignore_errors=True)


@needs_sandbox
@needs_make
def test_make_grade_under_tmp_as_an_unprivileged_instructor():
    """The hub case: the grader runs as the instructor's own uid (here uid 65534)."""
    if os.geteuid() != 0:
        pytest.skip("needs root to switch to another uid (the current-user test covers this)")
    if shutil.which("setpriv") is None:
        pytest.skip("setpriv (util-linux) is not installed")
    base = Path(sys._base_executable).resolve()
    if not _world_reachable(base):
        # e.g. pyenv under /root (mode 0700): use the distribution's CPython of the same
        # minor version, as a hub's instructor would have, with the same site-packages
        minor = f"python3.{sys.version_info.minor}"
        base = Path("/usr/bin") / minor
        if not base.is_file() or not _world_reachable(base):
            pytest.skip(f"no CPython 3.{sys.version_info.minor} that uid {NOBODY} can run")
    parent = _hidden_root_dir("/tmp")
    try:
        course = _course(parent)
        home = parent / "home"
        home.mkdir()
        subprocess.run(["chown", "-R", f"{NOBODY}:{NOBODY}", str(parent)], check=True)
        _clone_venv(course / ".venv", base_python=base)  # root-owned, read-only to the user
        result = _make_grade(course, user=NOBODY, home=home)
        _check_outputs(course, result)
        owners = {p.stat().st_uid for p in (course / "autograded").rglob("*")}
        assert owners == {NOBODY}
    finally:
        shutil.rmtree(parent, ignore_errors=True)
