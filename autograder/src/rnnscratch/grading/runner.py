"""The program that runs INSIDE the sandbox: execute a plan of cells, record outputs as data.

Usage (done by the grader, never by hand):
``python -I runner.py plan.json PROGRESS_FD OUTPUTS_FD``.

``plan.json`` lists cells in notebook order. A ``code`` cell is the student's code (or a locked
cell restored from the source notebook) and is executed with ``exec`` in one shared namespace,
like a kernel would. A ``record`` cell stands where a test cell was: for each ``(name, case)``
pair it calls the protocol's ``record(name, namespace.get(name), case, record_dir, args,
adapt)``, which writes the student's output for the trusted side's input file as plain data
(on a size-limited tmpfs), then frames those files onto the outputs pipe. The protocol is the
one file ``protocol.py`` beside this one (bound in by the grader): the course package, the
reference maths, the oracles and the test source never enter this process or its sandbox.

The progress events are advice for the feedback: the grader keeps its own clocks.

Every cell gets a wall-time alarm; its exceptions are reported (type and message) on the
progress pipe and the run goes on with the next cell, as ``nbgrader autograde`` would. The
grader outside enforces the same limit again by killing the sandbox, so ignoring ``SIGALRM``
does not help. This module imports nothing from the grader: it must work as a lone file.
"""

import importlib.util
import json
import os
import signal
import sys
import traceback

CELL_OUTPUT = 2000  # characters of each cell's printed output kept for the feedback


class CellTimeout(BaseException):
    """Raised by the alarm when a cell runs over its time (a BaseException: `except Exception`
    in student code does not swallow it)."""


class _CappedStream:
    """A text stream that writes at most ``cap`` bytes to ``fd`` and drops the rest."""

    def __init__(self, fd, cap, cell_buffer):
        self.fd, self.cap, self.written = fd, cap, 0
        self.encoding, self.errors = "utf-8", "replace"
        self.cell = cell_buffer  # the current cell's output, for the feedback (shared)

    def write(self, text):
        text = str(text)
        if self.cell[0] < CELL_OUTPUT:
            self.cell.append(text[: CELL_OUTPUT - self.cell[0]])
            self.cell[0] += len(text)
        data = text.encode("utf-8", "replace")
        room = self.cap - self.written
        if room > 0:
            try:
                os.write(self.fd, data[:room])
            except OSError:
                pass
        self.written += len(data)
        return len(text)

    def flush(self):
        pass

    def isatty(self):
        return False

    def fileno(self):
        return self.fd


def _alarm(signum, frame):
    raise CellTimeout()


def _describe(exc, limit):
    if isinstance(exc, CellTimeout):
        return f"the cell ran longer than {limit:g} s and was stopped"
    lines = traceback.format_exception_only(type(exc), exc)
    tb = traceback.extract_tb(exc.__traceback__)
    where = [f for f in tb if f.filename.startswith("<cell")]
    place = f" (line {where[-1].lineno})" if where else ""
    return ("".join(lines).strip() + place)[:2000]


def _compile(source, name):
    """Compile a cell; IPython magics and shell escapes (``%matplotlib inline``, ``!ls``) that
    a kernel would run are skipped here, as a plain interpreter cannot run them."""
    try:
        return compile(source, name, "exec")
    except SyntaxError:
        lines = [
            line[: len(line) - len(line.lstrip())] + "pass  # skipped: " + line.strip()[:60]
            if line.lstrip().startswith(("%", "!"))
            else line
            for line in source.splitlines()
        ]
        return compile("\n".join(lines), name, "exec")


def main(argv):
    with open(argv[1], encoding="utf-8") as f:
        plan = json.load(f)
    progress_fd = int(argv[2])
    outputs_fd = int(argv[3])
    cap = int(plan.get("output_cap", 65536))
    cell_buffer = [0]
    sys.stdout = _CappedStream(1, cap, cell_buffer)
    sys.stderr = _CappedStream(2, cap, cell_buffer)
    limit = float(plan["cell_seconds"])
    skip = set(plan.get("skip", []))
    record_dir = plan["record_dir"]

    def report(event):
        line = (json.dumps(event) + "\n").encode()
        try:
            os.write(progress_fd, line)
        except OSError:
            pass

    signal.signal(signal.SIGALRM, _alarm)
    spec = importlib.util.spec_from_file_location("rnnscratch_protocol", plan["protocol"])
    protocol = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(protocol)
    sys.modules["rnnscratch_protocol"] = protocol
    functions = plan["functions"]
    namespace = {"__name__": "__main__", "__builtins__": __builtins__}
    for index, cell in enumerate(plan["cells"]):
        if index in skip:
            report({"event": "skipped", "cell": index})
            continue
        report({"event": "start", "cell": index})
        cell_buffer[:] = [0]
        error = None
        try:
            if cell["kind"] == "code":
                signal.setitimer(signal.ITIMER_REAL, limit)
                try:
                    code = _compile(cell["source"], f"<cell {index}>")
                    exec(code, namespace)
                finally:
                    signal.setitimer(signal.ITIMER_REAL, 0)
            else:
                for name, case in cell["pairs"]:
                    signal.setitimer(signal.ITIMER_REAL, limit)
                    try:
                        how = functions.get(name) or {"args": []}
                        protocol.record(name, namespace.get(name), case, record_dir, **how)
                    except BaseException as exc:  # the harness should not raise; be safe
                        report(
                            {
                                "event": "pair_error",
                                "cell": index,
                                "name": name,
                                "case": case,
                                "error": _describe(exc, limit),
                            }
                        )
                    finally:
                        signal.setitimer(signal.ITIMER_REAL, 0)
                protocol.send_outputs(outputs_fd, record_dir, cell["pairs"])
        except BaseException as exc:  # noqa: BLE001 - any failure of student code is data
            error = _describe(exc, limit)
            if isinstance(exc, CellTimeout):
                report({"event": "timeout", "cell": index, "error": error})
        printed = "".join(cell_buffer[1:])
        report({"event": "end", "cell": index, "error": error, "output": printed or None})
    report({"event": "done", "cell": -1})
    # leave now: a thread the student started must not keep the sandbox alive
    os._exit(0)


if __name__ == "__main__":
    main(sys.argv)
