"""Run one command inside a bubblewrap sandbox, with limits, and watch it from outside.

What the sandbox gives the student's code (see the instructor guide for the full list):

- uid/gid 65534 (``nobody``), no capabilities, ``no_new_privs``;
- its own network, IPC, PID, UTS and user namespaces: no network at all (not even loopback to
  the host), it sees only its own processes, and it cannot create further user namespaces
  (``--disable-userns``, bubblewrap >= 0.8);
- a read-only view of the system; ``/tmp``, ``/home``, ``/root``, ``/work``, ``/run`` ... and the
  course directory are replaced by small, read-only, empty tmpfs, and only the Python
  installation and the virtual environment are bound back, read-only; packages in ``cover``
  (the course package; torch where the assignment does not use it) are hidden again on top.
  ``solutions/``, ``gradebook.db``, ``submitted/``, ``autograded/`` and the other students'
  work directories are not visible;
- a private, size-limited tmpfs as home/working directory and ``/tmp``; every tmpfs is sized;
- a cgroup per sandbox where the grader can create one (memory, processes, CPU share of the
  sandbox as a whole), else a note saying so; always ``prlimit``: address space, processes
  (counted per sandbox: each has its own user namespace), file size, open files, CPU seconds;
- wall time per cell, enforced inside (``SIGALRM``) and by a watchdog outside with its own
  clock (the progress events are advice), a time budget per submission, and a cap on the
  output that is kept and on the output and recorded files that are accepted at all.

When the grader runs as root, bubblewrap sets up the mounts with root's rights (the Python
installation may sit in ``/root``), then ``setpriv`` drops to the real uid 65534 and an inner,
unprivileged bubblewrap gives the process a user namespace of its own (``RLIMIT_NPROC`` is
enforced and counted per sandbox) with nested user namespaces disabled. As an ordinary user,
bubblewrap's ``--unshare-all --unshare-user --uid 65534 --disable-userns`` does the same.
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
import threading
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
    total_seconds: float = _limit(600.0, "s", "wall time of a submission, re-runs included")
    memory_bytes: int = _limit(
        4 * 1024**3, "B", "sandbox memory (cgroup); address space per process"
    )
    processes: int = _limit(64, "", "processes and threads of this sandbox (cgroup and prlimit)")
    file_bytes: int = _limit(64 * 1024**2, "B", "largest file the code may write")
    open_files: int = _limit(256, "", "open files at a time")
    cpu_seconds: int = _limit(900, "s", "CPU time of the whole run")
    scratch_bytes: int = _limit(256 * 1024**2, "B", "private tmpfs home directory and /tmp")
    outputs_bytes: int = _limit(64 * 1024**2, "B", "recorded outputs (a tmpfs; all files)")
    cpu_share: float = _limit(1.0, "CPU", "CPU share of the sandbox (cgroup quota)")
    judge_memory_bytes: int = _limit(4 * 1024**3, "B", "address space of the judging process")
    judge_seconds: float = _limit(180.0, "s", "wall time to judge one submission's outputs")
    output_keep: int = _limit(64 * 1024, "B", "stdout/stderr kept for the instructor")
    output_kill: int = _limit(16 * 1024**2, "B", "more output than this stops the run")


@dataclass
class Mount:
    """A host path shown in the sandbox (read-only unless ``writable``)."""

    source: Path | None  # None: a fresh tmpfs of ``size`` bytes
    target: str
    writable: bool = False
    size: int = 0


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
    files: dict[str, bytes] = field(default_factory=dict)  # outputs received on the pipe
    files_refused: str | None = None  # why the outputs pipe was no longer accepted


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


def _needed_paths(secret: list[Path], cover: list[Path] = ()) -> list[Path]:
    """Host paths Python needs in the sandbox (interpreter, venv, site-packages), never a
    directory that contains a secret one, nor one inside a covered package (the course
    package's source directory of an editable install is a ``sys.path`` entry of its own)."""
    out = set()
    covered = [Path(c) for c in cover] + [Path(c).resolve() for c in cover]
    for entry in _interpreter_paths(sys.executable):
        path = Path(entry)
        if not entry or not path.is_dir():
            continue
        for p in {path, path.resolve()}:
            if any(p == s or s.is_relative_to(p) for s in secret):
                continue
            holder = p.name not in ("site-packages", "dist-packages")
            if any(p.is_relative_to(c) or (holder and p / c.name == c) for c in covered):
                continue
            out.add(p)
    return sorted(p for p in out if not any(p != q and p.is_relative_to(q) for q in out))


HIDDEN_BYTES = 64 * 1024  # each hidden root's empty tmpfs (it only holds mount points)
COVER_BYTES = 4096  # the empty tmpfs over a package the sandbox must not see
UNAVAILABLE = Path(__file__).with_name("unavailable.py")  # its __init__.py there: ImportError


@functools.cache
def disable_userns_supported() -> bool:
    """bubblewrap >= 0.8 has ``--disable-userns`` (no nested user namespaces inside)."""
    try:
        out = subprocess.run(["bwrap", "--version"], capture_output=True, text=True).stdout
        major, minor = (int(x) for x in out.split()[-1].split(".")[:2])
    except (OSError, ValueError, IndexError):
        return False
    return (major, minor) >= (0, 8)


def build_command(
    argv: list[str],
    *,
    mounts: list[Mount],
    hide: list[Path],
    workdir: str,
    limits: Limits,
    env: dict[str, str],
    cover: list[Path] = (),
    cgroup_procs: list[str] = (),
) -> list[str]:
    """The full bwrap / setpriv / bwrap / prlimit command line for ``argv``.

    Mount order matters in bubblewrap (a later mount hides what an earlier one put under it),
    so: every hidden root gets a small empty tmpfs first; then every directory below a hidden
    root that a later bind or tmpfs needs is created explicitly (``--dir``, mode 0755, so the
    unprivileged uid can traverse it: a course root holding ``.venv`` under ``/home`` or
    ``/tmp``, with or without spaces, works); then the binds and sized tmpfs, sorted by
    target; then ``cover`` (packages the sandbox must not import) gets an empty read-only tmpfs
    on top, holding only an ``__init__.py`` that raises ImportError; last, the hidden roots
    are made read-only.
    """
    hide_all = sorted({Path(h) for h in HIDDEN_ROOTS} | {Path(h).resolve() for h in hide})
    hide_all = [h for h in hide_all if h.exists()]
    tops = [
        h
        for h in hide_all
        if h.is_dir() and not any(h != o and h.is_relative_to(o) for o in hide_all)
    ]
    cmd = ["bwrap", "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc"]
    for h in tops:
        if h == Path("/tmp"):
            cmd += ["--perms", "1777", "--size", str(limits.scratch_bytes), "--tmpfs", str(h)]
        else:
            cmd += ["--perms", "0755", "--size", str(HIDDEN_BYTES), "--tmpfs", str(h)]
    made: set[str] = {str(h) for h in tops}  # only what really exists inside

    def parents(target: str) -> list[str]:
        out = []
        for parent in reversed(Path(target).parents):
            if str(parent) not in made and _under(parent, tops):
                out += ["--perms", "0755", "--dir", str(parent)]
            made.add(str(parent))
        return out

    cmd += parents(workdir)
    cmd += ["--perms", "0777", "--size", str(limits.scratch_bytes), "--tmpfs", workdir]
    made.add(workdir)
    needed = [p for p in _needed_paths(hide_all, list(cover)) if _under(p, tops)]
    binds: list[tuple[Path | None, str, bool, int]] = [(p, str(p), False, 0) for p in needed]
    binds += [(m.source, m.target, m.writable, m.size) for m in mounts]
    for source, target, writable, size in sorted(binds, key=lambda b: b[1]):
        cmd += parents(target)
        if source is None:
            perms = "0777" if writable else "0755"
            cmd += ["--perms", perms, "--size", str(size), "--tmpfs", target]
        else:
            cmd += ["--bind" if writable else "--ro-bind", str(source), target]
        made.add(target)
    for c in sorted({Path(c) for c in cover} | {Path(c).resolve() for c in cover}):
        if c.is_dir() and (not _under(c, tops) or _under(c, needed)):
            cmd += ["--perms", "0755", "--size", str(COVER_BYTES), "--tmpfs", str(c)]
            cmd += ["--ro-bind", str(UNAVAILABLE), str(c / "__init__.py")]
            cmd += ["--remount-ro", str(c)]
    for h in tops:
        if h != Path("/tmp"):
            cmd += ["--remount-ro", str(h)]
    cmd += ["--chdir", workdir, "--clearenv"]
    for key, value in env.items():
        cmd += ["--setenv", key, value]
    cmd += ["--die-with-parent", "--new-session"]
    no_userns = ["--disable-userns"] if disable_userns_supported() else []
    if os.geteuid() == 0:
        cmd += ["--unshare-net", "--unshare-ipc", "--unshare-pid", "--unshare-uts"]
        cmd += ["--unshare-cgroup-try"]
        cmd += ["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups"]
        cmd += ["--no-new-privs", "--bounding-set=-all", "--inh-caps=-all"]
        # an unprivileged bwrap inside: a user namespace of this sandbox's own (RLIMIT_NPROC
        # is counted per sandbox) in which no further user namespace can be created
        cmd += ["bwrap", "--dev-bind", "/", "/", "--unshare-user", "--uid", str(NOBODY)]
        cmd += ["--gid", str(NOBODY), *no_userns, "--die-with-parent", "--"]
    else:
        cmd += ["--unshare-all", "--unshare-user", "--uid", str(NOBODY), "--gid", str(NOBODY)]
        cmd += [*no_userns, "--cap-drop", "ALL"]
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
    if cgroup_procs:  # join the sandbox's cgroups before bwrap starts (sh execs bwrap)
        join = 'while [ "$1" != -- ]; do echo $$ > "$1" || exit 125; shift; done; shift; exec "$@"'
        cmd = ["/bin/sh", "-c", join, "sh", *cgroup_procs, "--", *cmd]
    return cmd


def _under(path: Path, roots: list[Path]) -> bool:
    return any(path == r or path.is_relative_to(r) for r in roots)


# ----------------------------------------------------------------------------------------------
# cgroups: memory, processes and CPU for the sandbox as a whole
# ----------------------------------------------------------------------------------------------


@dataclass
class Cgroup:
    """One sandbox's cgroups (v1: one directory per controller; v2: one directory)."""

    dirs: list[Path]
    version: int

    @property
    def procs(self) -> list[str]:
        return [str(d / "cgroup.procs") for d in self.dirs]

    def peak_bytes(self) -> int | None:
        names = ("memory.max_usage_in_bytes",) if self.version == 1 else ("memory.peak",)
        for d in self.dirs:
            for name in names:
                try:
                    return int((d / name).read_text())
                except (OSError, ValueError):
                    continue
        return None

    def remove(self) -> None:
        for d in self.dirs:
            for _ in range(50):
                try:
                    pids = (d / "cgroup.procs").read_text().split()
                except OSError:
                    break
                for pid in pids:
                    try:
                        os.kill(int(pid), signal.SIGKILL)
                    except (ProcessLookupError, ValueError, PermissionError):
                        pass
                try:
                    d.rmdir()
                    break
                except OSError:
                    time.sleep(0.05)


CGROUP_ROOT = Path("/sys/fs/cgroup")
_cg_lock = threading.Lock()
_cg_count = [0]


def _own_group(controller: str) -> str:
    """This process's cgroup path in ``controller``'s hierarchy (v1), or the v2 path ('')."""
    try:
        for line in Path("/proc/self/cgroup").read_text().splitlines():
            _, controllers, path = line.split(":", 2)
            if controller in controllers.split(","):
                return path.lstrip("/")
    except OSError:
        pass
    return ""


def _write(path: Path, value) -> None:
    path.write_text(str(value))


def cgroup_create(limits: Limits) -> tuple[Cgroup | None, str]:
    """A fresh cgroup bounding memory, processes and CPU share of one sandbox, and a
    description; (None, why not) when the grader cannot create one (an ordinary user)."""
    with _cg_lock:
        _cg_count[0] += 1
        name = f"rnnscratch-{os.getpid()}-{_cg_count[0]}"
    v1 = {c: CGROUP_ROOT / c for c in ("memory", "pids", "cpu")}
    if all((p / "cgroup.procs").is_file() for p in v1.values()):
        made: list[Path] = []
        try:
            for ctrl, mount in v1.items():
                parent = mount / _own_group(ctrl)
                parent = parent if parent.is_dir() else mount
                d = parent / name
                d.mkdir()
                made.append(d)
            memory, pids, cpu = made
            _write(memory / "memory.limit_in_bytes", limits.memory_bytes)
            memsw = memory / "memory.memsw.limit_in_bytes"
            if memsw.exists():
                _write(memsw, limits.memory_bytes)
            _write(pids / "pids.max", limits.processes)
            _write(cpu / "cpu.cfs_period_us", 100_000)
            _write(cpu / "cpu.cfs_quota_us", int(100_000 * limits.cpu_share))
            return Cgroup(made, 1), "cgroup v1 per sandbox (memory, pids, cpu)"
        except OSError as exc:
            Cgroup(made, 1).remove()
            why_v1 = f"cgroup v1 not writable ({exc.strerror or exc})"
    else:
        why_v1 = "no cgroup v1 hierarchies"
    for base in (CGROUP_ROOT / "unified", CGROUP_ROOT):
        ctrl_file = base / "cgroup.controllers"
        if not ctrl_file.is_file():
            continue
        d = base / _own_group("") / name
        try:
            have = set((d.parent / "cgroup.subtree_control").read_text().split())
            if not {"memory", "pids", "cpu"} <= have:
                continue
            d.mkdir()
            _write(d / "memory.max", limits.memory_bytes)
            _write(d / "memory.swap.max", 0) if (d / "memory.swap.max").exists() else None
            _write(d / "pids.max", limits.processes)
            _write(d / "cpu.max", f"{int(100_000 * limits.cpu_share)} 100000")
            return Cgroup([d], 2), "cgroup v2 per sandbox (memory, pids, cpu)"
        except OSError:
            Cgroup([d], 2).remove() if d.exists() else None
    why = f"{why_v1}; no delegated cgroup v2 with memory, pids and cpu"
    return None, f"per-process limits only (no cgroups: {why})"


# ----------------------------------------------------------------------------------------------
# running and watching
# ----------------------------------------------------------------------------------------------


class _Frames:
    """Parse the outputs pipe (``<name> <size>\\n`` + bytes) with hard bounds: names must be
    in ``allowed``, each file at most ``file_cap``, all of them at most ``total_cap``."""

    def __init__(self, allowed: set[str], file_cap: int, total_cap: int):
        self.allowed, self.file_cap, self.total_cap = allowed, file_cap, total_cap
        self.files: dict[str, bytes] = {}
        self.buffer = bytearray()
        self.want: tuple[str, int] | None = None
        self.total = 0
        self.refused: str | None = None

    def feed(self, data: bytes) -> None:
        self.total += len(data)
        if self.refused:
            return
        if self.total > self.total_cap:
            self.refused = f"more than {self.total_cap} bytes of recorded outputs"
            return
        self.buffer += data
        while True:
            if self.want is None:
                end = self.buffer.find(b"\n", 0, 300)
                if end < 0:
                    if len(self.buffer) >= 300:
                        self.refused = "a malformed outputs frame"
                    return
                try:
                    name, size = self.buffer[:end].decode("ascii").split(" ")
                    size = int(size)
                except ValueError:
                    self.refused = "a malformed outputs frame"
                    return
                if name not in self.allowed or not 0 <= size <= self.file_cap:
                    self.refused = f"an unexpected or too large output {name[:80]!r}"
                    return
                del self.buffer[: end + 1]
                self.want = (name, size)
            name, size = self.want
            if len(self.buffer) < size:
                return
            self.files[name] = bytes(self.buffer[:size])
            del self.buffer[:size]
            self.want = None


def run(
    argv: list[str],
    *,
    mounts: list[Mount],
    hide: list[Path],
    limits: Limits,
    env: dict[str, str],
    workdir: str = "/home/student",
    progress_fd_arg: bool = True,
    cover: list[Path] = (),
    cells: int | None = None,
    budget: float | None = None,
    outputs: set[str] | None = None,
    cgroup: Cgroup | None = None,
) -> RunResult:
    """Run ``argv`` in the sandbox; ``argv`` gets the progress pipe's fd number appended (and
    the outputs pipe's, when ``outputs`` names the files the trusted side will accept).

    The runner reports ``{"event": "start"|"end", "cell": i, ...}`` lines on the progress pipe,
    but those are advice written by the sandboxed process: the watchdog here keeps its own
    clock. A cell's clock starts at the first ``start`` of a higher cell index than any before
    (indices below ``cells`` only, each once; an ``end`` does not stop it), so a forged event
    can at most move on to the next cell; the run as a whole never outlasts ``budget`` (the
    submission's remaining time) nor ``limits.total_seconds``. Over a limit, or a flood of
    output, the whole sandbox is killed (every process in its PID namespace dies).
    """
    read_fd, write_fd = os.pipe()
    full = list(argv) + ([str(write_fd)] if progress_fd_arg else [])
    pass_fds = [write_fd]
    frames = None
    if outputs is not None:
        out_read, out_write = os.pipe()
        full.append(str(out_write))
        pass_fds.append(out_write)
        frames = _Frames(outputs, limits.file_bytes, limits.outputs_bytes)
    cmd = build_command(
        full,
        mounts=mounts,
        hide=hide,
        workdir=workdir,
        limits=limits,
        env=env,
        cover=cover,
        cgroup_procs=cgroup.procs if cgroup else (),
    )
    start = time.monotonic()
    deadline = start + min(limits.total_seconds, budget if budget is not None else 1e12)
    proc = subprocess.Popen(
        cmd,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        pass_fds=tuple(pass_fds),
        start_new_session=True,
    )
    for fd in pass_fds:
        os.close(fd)
    result = RunResult(returncode=None, output="", output_bytes=0)
    head = bytearray()
    pending = b""
    current: int | None = None
    highest = -1
    cell_start = start
    per_cell = limits.cell_seconds + limits.grace_seconds
    sel = selectors.DefaultSelector()
    sel.register(proc.stdout, selectors.EVENT_READ, "out")
    sel.register(read_fd, selectors.EVENT_READ, "progress")
    open_streams = 2
    if frames is not None:
        sel.register(out_read, selectors.EVENT_READ, "outputs")
        open_streams += 1
    try:
        while open_streams:
            now = time.monotonic()
            if now - cell_start > per_cell:
                result.killed, result.killed_cell = "cell time limit", current
                break
            if now > deadline:
                result.killed, result.killed_cell = "total time limit", current
                break
            for key, _ in sel.select(timeout=0.2):
                fd = key.fd if key.data != "out" else proc.stdout.fileno()
                data = os.read(fd, 65536)
                if not data:
                    sel.unregister(key.fileobj)
                    open_streams -= 1
                    continue
                if key.data == "out":
                    result.output_bytes += len(data)
                    if len(head) < limits.output_keep:
                        head += data[: limits.output_keep - len(head)]
                    continue
                if key.data == "outputs":
                    frames.feed(data)
                    continue
                if len(pending) > 1_000_000:
                    pending = b""  # a "line" this long is not an event
                pending += data
                *lines, pending = pending.split(b"\n")
                for line in lines:
                    event = _parse_event(line)
                    if event is None:
                        continue
                    if len(result.events) < 10_000:
                        result.events.append(event)
                    cell = event.get("cell")
                    if (
                        event.get("event") == "start"
                        and cell > highest
                        and (cells is None or cell < cells)
                    ):
                        current, highest, cell_start = cell, cell, time.monotonic()
            if result.output_bytes > limits.output_kill:
                result.killed, result.killed_cell = "output limit", current
                break
            if frames is not None and frames.total > 2 * limits.outputs_bytes:
                result.killed, result.killed_cell = "outputs limit", current
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
        if frames is not None:
            os.close(out_read)
        proc.stdout.close()
    result.output = head.decode("utf-8", errors="replace")
    result.seconds = time.monotonic() - start
    if frames is not None:
        result.files, result.files_refused = frames.files, frames.refused
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
