"""The judging worker: judge recorded outputs in a separate, limited process (one per thread).

``python -m rnnscratch.grading.worker`` reads requests ``{"record_dir": ..., "inputs_dir": ...,
"pairs": [[name, case], ...]}``, one JSON line each, on stdin and answers each with one line:
the verdicts. The grader starts it under ``prlimit --as`` (``Limits.judge_memory_bytes``) and
waits at most ``Limits.judge_seconds`` for an answer, else kills it (and starts a fresh one
for the next submission). Whatever the recorded files hold, judging them cannot take the
grading process's memory or time; a worker imports torch once, not once per submission. The
files are also read defensively (``protocol.read_npz``: regular files only, no compression,
every header checked before allocating).
"""

from __future__ import annotations

import json
import os
import selectors
import subprocess
import sys
import threading
import time
from pathlib import Path

from rnnscratch.grading.sandbox import Limits


class Worker:
    """One judging process, restarted when it dies or overruns."""

    def __init__(self, limits: Limits):
        self.limits = limits
        self.proc: subprocess.Popen | None = None
        self.buffer = b""

    def _start(self) -> subprocess.Popen:
        cmd = ["prlimit", f"--as={self.limits.judge_memory_bytes}", "--core=0", "--"]
        cmd += [sys.executable, "-m", "rnnscratch.grading.worker"]
        self.buffer = b""
        return subprocess.Popen(
            cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL
        )

    def ask(self, request: dict) -> dict | str:
        """The answer, or why there is none."""
        if self.proc is None or self.proc.poll() is not None:
            self.proc = self._start()
        try:
            self.proc.stdin.write((json.dumps(request) + "\n").encode())
            self.proc.stdin.flush()
        except OSError:
            self.close()
            return "the judging process stopped"
        deadline = time.monotonic() + self.limits.judge_seconds
        fd = self.proc.stdout.fileno()
        with selectors.DefaultSelector() as sel:
            sel.register(fd, selectors.EVENT_READ)
            while b"\n" not in self.buffer:
                left = deadline - time.monotonic()
                if left <= 0:
                    self.close()
                    return f"judging took longer than {self.limits.judge_seconds:g} s"
                if sel.select(timeout=min(left, 1.0)):
                    data = os.read(fd, 1 << 20)
                    if not data:
                        self.close()
                        return "the judging process stopped (memory limit?)"
                    self.buffer += data
        line, _, self.buffer = self.buffer.partition(b"\n")
        try:
            return json.loads(line)
        except ValueError:
            self.close()
            return "the judge's answer was unreadable"

    def close(self) -> None:
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait()
            for stream in (self.proc.stdin, self.proc.stdout):
                try:
                    stream.close()
                except OSError:
                    pass
            self.proc = None


_local = threading.local()
_workers: list[Worker] = []
_lock = threading.Lock()


def _worker(limits: Limits) -> Worker:
    worker = getattr(_local, "worker", None)
    if worker is None or worker.limits != limits or worker not in _workers:
        worker = _local.worker = Worker(limits)
        with _lock:
            _workers.append(worker)
    return worker


def close_all() -> None:
    """Stop every judging process (end of a grading run)."""
    with _lock:
        for worker in _workers:
            worker.close()
        _workers.clear()


def judge_pairs(record_dir: Path, inputs_dir: Path, pairs, limits: Limits) -> dict:
    """(name, case) -> {"passed", "message", "mistake"}; on a crash, an over-limit or a
    time-out, every pair gets the same failing verdict with the reason."""
    request = {"record_dir": str(record_dir), "inputs_dir": str(inputs_dir), "pairs": pairs}
    answer = _worker(limits).ask(request)
    if isinstance(answer, list):
        try:
            return {(v["name"], v["case"]): v for v in answer}
        except (KeyError, TypeError):
            answer = "the judge's answer was unreadable"
    message = f"the recorded outputs could not be judged: {answer}"
    return {
        tuple(p): {"passed": False, "message": message, "mistake": None} for p in map(tuple, pairs)
    }


def _judge(request: dict) -> list[dict]:
    from rnnscratch.exercises import harness, protocol

    record_dir, inputs_dir = Path(request["record_dir"]), Path(request["inputs_dir"])
    out = []
    for name, case in request["pairs"]:
        try:
            inputs = protocol.load_inputs(inputs_dir / f"{protocol.stem(name, case)}.npz")
            verdict = harness.judge(name, case, inputs, record_dir)
            passed, message, mistake = bool(verdict.passed), str(verdict.message), verdict.mistake
        except Exception as exc:  # noqa: BLE001 - a judging failure is a fail, not a crash
            passed, message, mistake = False, f"the output could not be judged ({exc})", None
        out.append(
            {"name": name, "case": case, "passed": passed, "message": message, "mistake": mistake}
        )
    return out


def main() -> int:
    for line in sys.stdin:
        print(json.dumps(_judge(json.loads(line))), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
