"""Run one command inside a bubblewrap sandbox, with limits, and watch it from outside.

What the sandbox gives the student's code (see the instructor guide for the full list):

- uid/gid 65534 (``nobody``), no capabilities, ``no_new_privs``;
- its own network, IPC, PID, UTS and user namespaces: no network at all (not even loopback to
  the host), it sees only its own processes;
- a read-only view of the system; ``/tmp``, ``/home``, ``/root``, ``/work``, ``/run`` ... and the
  course directory are replaced by empty tmpfs, and only the Python installation, the virtual
  environment and the course package are bound back, read-only. ``solutions/``, ``gradebook.db``,
  ``submitted/``, ``autograded/`` and the other students' work directories are not visible;
- a private, size-limited tmpfs as home/working directory;
- ``prlimit``: address space (memory), processes (counted per sandbox: each has its own user
  namespace), file size, open files, CPU seconds;
- wall time per cell (enforced twice: ``SIGALRM`` inside, and a kill from outside when a cell
  overruns), and a cap on the output that is kept and on the output that is accepted at all.

When the grader runs as root, bubblewrap sets up the mounts with root's rights (the Python
installation may sit in ``/root``), then ``setpriv`` drops to the real uid 65534 and ``unshare``
gives the process a user namespace of its own, so that ``RLIMIT_NPROC`` is enforced and counted
per sandbox. As an ordinary user, bubblewrap's ``--unshare-all --uid 65534`` does the same.
"""

from __future__ import annotations

import functools
import json
import os
import selectors
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

NOBODY = 65534
HIDDEN_ROOTS = ("/tmp", "/var/tmp", "/run", "/home", "/root", "/mnt", "/media", "/srv", "/work")


def _limit(default, unit: str, doc: str):
    return field(default=default, metadata={"unit": unit, "doc": doc})


@dataclass(frozen=True)
class Limits:
    """Resource limits for one submission (defaults suit one notebook of numpy/torch code)."""

    cell_seconds: float = _limit(30.0, "s", "wall time per cell (nbgrader's default timeout)")
    grace_seconds: float = _limit(3.0, "s", "after the in-process alarm, the sandbox is killed")
    total_seconds: float = _limit(600.0, "s", "wall time of the whole run, whatever happens")
    memory_bytes: int = _limit(4 * 1024**3, "B", "address space (import torch needs ~2 GB)")
    processes: int = _limit(64, "", "processes and threads of this sandbox")
    file_bytes: int = _limit(64 * 1024**2, "B", "largest file the code may write")
    open_files: int = _limit(256, "", "open files at a time")
    cpu_seconds: int = _limit(900, "s", "CPU time of the whole run")
    scratch_bytes: int = _limit(256 * 1024**2, "B", "private tmpfs home directory and /tmp")
    output_keep: int = _limit(64 * 1024, "B", "stdout/stderr kept for the instructor")
    output_kill: int = _limit(16 * 1024**2, "B", "more output than this stops the run")


@dataclass
class Mount:
    """A host path shown in the sandbox (read-only unless ``writable``)."""

    source: Path
    target: str
    writable: bool = False


@dataclass
class RunResult:
    """What the trusted side learns from one sandboxed run."""

    returncode: int | None
    output: str  # head of stdout+stderr (capped)
    output_bytes: int  # total bytes seen on stdout+stderr
    events: list[dict] = field(default_factory=list)  # progress events sent by the runner
    killed: str | None = None  # why the run was stopped from outside, if it was
    killed_cell: int | None = None  # the cell running when it was stopped
    seconds: float = 0.0


def available() -> bool:
    """True when bubblewrap, prlimit (and, as root, setpriv and unshare) are on PATH."""
    tools = ["bwrap", "prlimit"] + (["setpriv", "unshare"] if os.geteuid() == 0 else [])
    return all(shutil.which(t) for t in tools)


def selftest(hide: list[Path]) -> str | None:
    """Run ``python -c pass`` in the sandbox: None if it works, else what went wrong (so a
    broken sandbox stops the command instead of giving every student a zero)."""
    if not available():
        return "bubblewrap (bwrap) or prlimit is missing: run `make system-deps`"
    result = run(
        [sys.executable, "-I", "-c", "import os; assert os.getuid() == 65534"],
        mounts=[],
        hide=hide,
        limits=Limits(),
        env={"PATH": "/usr/bin:/bin"},
        progress_fd_arg=False,
    )
    if result.returncode != 0:
        return f"the sandbox does not start (exit {result.returncode}): {result.output[-800:]}"
    return None


@functools.cache
def _interpreter_paths(executable: str) -> tuple[str, ...]:
    """What the sandboxed interpreter (run with ``-I``) reads: its prefixes and sys.path."""
    probe = "import sys, json; print(json.dumps([sys.prefix, sys.base_prefix, sys.exec_prefix]"
    probe += " + sys.path))"
    out = subprocess.run([executable, "-I", "-c", probe], capture_output=True, text=True)
    paths = json.loads(out.stdout) if out.returncode == 0 else []
    return tuple([*paths, str(Path(executable).parent)])


def _needed_paths(secret: list[Path]) -> list[Path]:
    """Host paths Python needs in the sandbox (interpreter, venv, site-packages, the course
    package installed in editable mode), never a directory that contains a secret one."""
    out = set()
    for entry in _interpreter_paths(sys.executable):
        path = Path(entry)
        if not entry or not path.is_dir():
            continue
        for p in {path, path.resolve()}:
            if any(p == s or s.is_relative_to(p) for s in secret):
                continue
            out.add(p)
    return sorted(p for p in out if not any(p != q and p.is_relative_to(q) for q in out))


def build_command(
    argv: list[str],
    *,
    mounts: list[Mount],
    hide: list[Path],
    workdir: str,
    limits: Limits,
    env: dict[str, str],
) -> list[str]:
    """The full bwrap / setpriv / unshare / prlimit command line for ``argv``."""
    hide_all = sorted({Path(h) for h in HIDDEN_ROOTS} | {Path(h).resolve() for h in hide})
    hide_all = [h for h in hide_all if h.exists()]
    cmd = ["bwrap", "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc"]
    made: set[str] = set()  # directories that exist in the sandbox's view
    for h in hide_all:
        if h.is_dir() and not any(h != o and h.is_relative_to(o) for o in hide_all):
            perms = (
                ["--perms", "1777", "--size", str(limits.scratch_bytes)]
                if h == Path("/tmp")
                else []
            )
            cmd += [*perms, "--tmpfs", str(h)]
            made.add(str(h))
    # A hidden path nested in another (the course root under /home or /tmp) is covered by its
    # parent's tmpfs: it does not exist in the sandbox until a bind below it (the course's own
    # .venv) needs it, and is then created, like every parent, world-searchable (--perms
    # 0755). Left to bubblewrap it would be created 0700 for root, and uid 65534 could not
    # reach the interpreter ("prlimit: failed to execute ...: Permission denied").
    for parent in reversed(Path(workdir).parents):
        if str(parent) not in made and _under(parent, hide_all):
            cmd += ["--perms", "0755", "--dir", str(parent)]
        made.add(str(parent))
    cmd += ["--perms", "0777", "--size", str(limits.scratch_bytes), "--tmpfs", workdir]
    made.add(workdir)
    binds: list[tuple[Path, str, bool]] = [
        (p, str(p), False) for p in _needed_paths(hide_all) if _under(p, hide_all)
    ]
    binds += [(m.source, m.target, m.writable) for m in mounts]
    for source, target, writable in sorted(binds, key=lambda b: b[1]):
        for parent in reversed(Path(target).parents):
            if str(parent) not in made and _under(parent, hide_all):
                cmd += ["--perms", "0755", "--dir", str(parent)]
            made.add(str(parent))
        cmd += ["--bind" if writable else "--ro-bind", str(source), target]
        made.add(target)
    cmd += ["--chdir", workdir, "--clearenv"]
    for key, value in env.items():
        cmd += ["--setenv", key, value]
    cmd += ["--die-with-parent", "--new-session"]
    if os.geteuid() == 0:
        cmd += ["--unshare-net", "--unshare-ipc", "--unshare-pid", "--unshare-uts"]
        cmd += ["--unshare-cgroup-try"]
        cmd += ["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups"]
        cmd += ["--no-new-privs", "--bounding-set=-all", "--inh-caps=-all"]
        cmd += ["unshare", "--user", f"--map-user={NOBODY}", f"--map-group={NOBODY}"]
    else:
        cmd += ["--unshare-all", "--uid", str(NOBODY), "--gid", str(NOBODY)]
        cmd += ["--cap-drop", "ALL"]
    cmd += [
        "prlimit",
        f"--as={limits.memory_bytes}",
        f"--nproc={limits.processes}",
        f"--fsize={limits.file_bytes}",
        f"--nofile={limits.open_files}",
        f"--cpu={limits.cpu_seconds}",
        "--core=0",
        "--",
        *argv,
    ]
    return cmd


def _under(path: Path, roots: list[Path]) -> bool:
    return any(path == r or path.is_relative_to(r) for r in roots)


def run(
    argv: list[str],
    *,
    mounts: list[Mount],
    hide: list[Path],
    limits: Limits,
    env: dict[str, str],
    workdir: str = "/home/student",
    progress_fd_arg: bool = True,
) -> RunResult:
    """Run ``argv`` in the sandbox; ``argv`` gets the progress pipe's fd number appended.

    The runner reports ``{"event": "start"|"end", "cell": i, ...}`` lines on that pipe. A cell
    that runs longer than ``limits.cell_seconds + limits.grace_seconds``, a flood of output, or
    the total time limit stops the whole sandbox (every process in its PID namespace dies).
    """
    read_fd, write_fd = os.pipe()
    full = list(argv) + ([str(write_fd)] if progress_fd_arg else [])
    cmd = build_command(full, mounts=mounts, hide=hide, workdir=workdir, limits=limits, env=env)
    start = time.monotonic()
    proc = subprocess.Popen(
        cmd,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        pass_fds=(write_fd,),
        start_new_session=True,
    )
    os.close(write_fd)
    result = RunResult(returncode=None, output="", output_bytes=0)
    head = bytearray()
    pending = b""
    current: int | None = None
    cell_start = start
    sel = selectors.DefaultSelector()
    sel.register(proc.stdout, selectors.EVENT_READ, "out")
    sel.register(read_fd, selectors.EVENT_READ, "progress")
    open_streams = 2
    try:
        while open_streams:
            now = time.monotonic()
            if (
                current is not None
                and now - cell_start > limits.cell_seconds + limits.grace_seconds
            ):
                result.killed, result.killed_cell = "cell time limit", current
                break
            if now - start > limits.total_seconds:
                result.killed, result.killed_cell = "total time limit", current
                break
            for key, _ in sel.select(timeout=0.2):
                data = os.read(key.fd if key.data == "progress" else proc.stdout.fileno(), 65536)
                if not data:
                    sel.unregister(key.fileobj)
                    open_streams -= 1
                    continue
                if key.data == "out":
                    result.output_bytes += len(data)
                    if len(head) < limits.output_keep:
                        head += data[: limits.output_keep - len(head)]
                    continue
                pending += data
                *lines, pending = pending.split(b"\n")
                for line in lines:
                    event = _parse_event(line)
                    if event is None:
                        continue
                    if len(result.events) < 10_000:
                        result.events.append(event)
                    if event.get("event") == "start":
                        current, cell_start = event.get("cell"), time.monotonic()
                    elif event.get("event") == "end":
                        current = None
            if result.output_bytes > limits.output_kill:
                result.killed, result.killed_cell = "output limit", current
                break
    finally:
        if result.killed:
            _kill(proc)
        try:
            result.returncode = proc.wait(timeout=limits.grace_seconds + 5)
        except subprocess.TimeoutExpired:
            _kill(proc)
            result.returncode = proc.wait()
        sel.close()
        os.close(read_fd)
        proc.stdout.close()
    result.output = head.decode("utf-8", errors="replace")
    result.seconds = time.monotonic() - start
    return result


def _parse_event(line: bytes) -> dict | None:
    try:
        event = json.loads(line.decode("utf-8", errors="replace")[:20_000])
    except ValueError:
        return None
    if not isinstance(event, dict) or not isinstance(event.get("cell"), int):
        return None
    return {k: v for k, v in event.items() if isinstance(v, str | int | float | None)}


def _kill(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
