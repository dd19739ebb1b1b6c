"""check() for notebooks, record()/judge() for grading outside the student's process.

Local mode (a student runs a test cell): `check(name, func, case)` draws the case inputs --
visible cases from `reference_tensors.npz` beside the notebook, other cases fresh from OS
entropy with a torch-float64 reference -- calls `func`, and raises CheckError with a message
that names the mistake. Warnings raised by the student's code are silenced.

Record mode (env var RNNSCRATCH_RECORD_DIR set): `check` only calls `record`, which reads
`inputs/<name>__<case>.npz`, calls `func` and writes `outputs/<name>__<case>.npz` (plain arrays
+ a JSON description) or `.json` {"error": ...}. It never raises and never compares. The
grader does not import this module in the sandbox: it binds only `protocol.py` there (the
layout, the naming and the recorder live in that one file) and tells it each function's
arguments (`recorder`). The trusted side then calls `judge`.
"""

import json
import os
import textwrap
from pathlib import Path

import numpy as np

from rnnscratch.checks import CheckError
from rnnscratch.exercises import protocol
from rnnscratch.exercises.hints import MISTAKES
from rnnscratch.exercises.plain import (
    PlainError,
    from_plain,
    load_inputs,
    read_plain,
    read_reference,
    save_inputs,
    to_plain,
    to_value,
)
from rnnscratch.exercises.protocol import MAX_ERROR_CHARS, output_files, read_regular, stem
from rnnscratch.exercises.registry import SPECS
from rnnscratch.exercises.spec import (
    RunError,
    Verdict,
    judge_outcome,
    recorder_options,
    run_student,
    visible_seed,
)

__all__ = [
    "MISTAKES",
    "RECORD_ENV",
    "REFERENCE_FILE",
    "check",
    "evaluate",
    "grading_inputs",
    "judge",
    "load_inputs",
    "record",
    "recorder",
    "reference",
    "save_inputs",
    "Verdict",
]

RECORD_ENV = "RNNSCRATCH_RECORD_DIR"
REFERENCE_FILE = "reference_tensors.npz"
#: message lines are wrapped to this width, so that `nbgrader validate` (which cuts every line at
#: `Validator.width` = 100 in nbgrader_config.py, after a 4-space indent and "CheckError: ")
#: shows every value in full
MESSAGE_WIDTH = 78


def wrap_message(message: str, width: int = MESSAGE_WIDTH) -> str:
    """Wrap each line of a feedback message at spaces (never inside a number or a name)."""
    out = []
    for line in message.splitlines():
        lead = len(line) - len(line.lstrip(" "))
        out += textwrap.wrap(
            line,
            width=width,
            subsequent_indent=" " * (lead + 2),
            break_long_words=False,
            break_on_hyphens=False,
        ) or [""]
    return "\n".join(out)


_stem = stem


def _spec(name: str, case: str):
    if name not in SPECS:
        raise KeyError(f"unknown exercise function {name!r}")
    spec = SPECS[name]
    if case not in spec.cases:
        raise KeyError(f"{name} has no test case {case!r} (cases: {sorted(spec.cases)})")
    return spec


def grading_inputs(name: str, case: str, seed: int) -> dict:
    """Inputs of one test case (trusted side). Visible cases use their fixed seed, not `seed`."""
    spec = _spec(name, case)
    if case.startswith("visible"):
        seed = visible_seed(name, case)
    return spec.inputs(case, np.random.default_rng(seed))


def reference(name: str, inputs: dict):
    """The torch-float64 reference output for `inputs` (arrays, floats, tuples, dicts)."""
    return SPECS[name].reference(inputs)


# ----------------------------------------------------------------------------------------------
# record mode (inside the sandbox) and the judge (trusted side)
# ----------------------------------------------------------------------------------------------


def recorder(name: str) -> dict:
    """What the sandbox's recorder needs to call `name`, as plain data: its argument names,
    the adapter and preparer (by name, in `protocol.ADAPTERS` / `PREPARERS`), the stable
    cases and the flags that name exceptions (`spec.recorder_options`)."""
    return recorder_options(SPECS[name])


def record(name: str, func, case: str, record_dir) -> None:
    """Run `func` on the recorded inputs of (name, case) and write its output as plain data
    (`protocol.record`; never raises)."""
    if name not in SPECS:
        _, js = output_files(record_dir, name, case)
        js.parent.mkdir(parents=True, exist_ok=True)
        js.write_text(json.dumps({"error": f"unknown exercise function {name!r}"}))
        return
    protocol.record(name, func, case, record_dir, **recorder(name))


def judge(name: str, case: str, inputs: dict, record_dir) -> Verdict:
    """Trusted side: read what record() wrote for (name, case), compare with torch, diagnose.

    inputs: the same dict that was saved to inputs/<name>__<case>.npz (from grading_inputs).
    Files are read with allow_pickle=False and validated; anything malformed fails the test.
    """
    spec = _spec(name, case)
    npz, js = output_files(record_dir, name, case)
    head = f'{name}, test "{case}" ({spec.cases[case].about})'
    if os.path.lexists(npz):
        try:
            outcome = read_plain(npz)
        except (PlainError, ValueError, OSError, KeyError) as exc:
            outcome = RunError(f"the recorded result could not be read ({exc}).", None)
    elif os.path.lexists(js):
        try:
            raw = read_regular(js, 4 * MAX_ERROR_CHARS).decode("utf-8", errors="replace")
            data = json.loads(raw)
            message = str(data.get("error", "unknown error"))[:MAX_ERROR_CHARS]
            mistake = data.get("mistake")
            mistake = mistake if isinstance(mistake, str) and mistake in MISTAKES else None
        except (ValueError, AttributeError, OSError, RecursionError):
            message, mistake = "the recorded error could not be read.", None
        outcome = RunError(message, mistake)
    else:
        return Verdict(False, f"{head}:\nno result was recorded.", "no_output")
    return judge_outcome(spec, case, inputs, outcome, reference(name, inputs))


# ----------------------------------------------------------------------------------------------
# local mode
# ----------------------------------------------------------------------------------------------

_STORE_CACHE: dict = {}


def _load_store(path: Path) -> dict:
    key = (str(path), path.stat().st_mtime_ns)
    if key not in _STORE_CACHE:
        _STORE_CACHE.clear()
        _STORE_CACHE[key] = read_reference(path)
    return _STORE_CACHE[key]


def stored_case(name: str, case: str, path=None) -> tuple[dict, object] | None:
    """(inputs, expected) of a visible case from a reference file, or None if absent."""
    path = Path(path) if path is not None else Path.cwd() / REFERENCE_FILE
    if not path.is_file():
        return None
    arrays = _load_store(path)
    prefix = _stem(name, case) + "."
    if prefix + "out.__meta__" not in arrays:
        return None
    inputs = {}
    outputs = {}
    for key, value in arrays.items():
        if key.startswith(prefix + "in."):
            inputs[key[len(prefix) + 3 :]] = protocol.scalar(value)
        elif key.startswith(prefix + "out.") and not key.endswith("__meta__"):
            outputs[key[len(prefix) + 4 :]] = value
    meta = json.loads(str(arrays[prefix + "out.__meta__"]))
    return inputs, to_value(from_plain(meta, outputs))


def reference_arrays(name: str, case: str, inputs: dict, expected) -> dict[str, np.ndarray]:
    """The npz entries that store one visible case (inputs and expected output)."""
    prefix = _stem(name, case) + "."
    entries = {f"{prefix}in.{k}": np.asarray(v) for k, v in inputs.items()}
    meta, arrays = to_plain(expected)
    entries.update({f"{prefix}out.{k}": v for k, v in arrays.items()})
    entries[f"{prefix}out.__meta__"] = np.asarray(json.dumps(meta, sort_keys=True))
    return entries


def evaluate(name: str, func, case: str) -> Verdict:
    """Local mode without raising: run `func` on case `case` and return the Verdict."""
    spec = _spec(name, case)
    stored = stored_case(name, case) if case.startswith("visible") else None
    if stored is not None:
        inputs, expected = stored
    else:
        seed = visible_seed(name, case) if case.startswith("visible") else None
        inputs = spec.inputs(case, np.random.default_rng(seed))
        expected = reference(name, inputs)
    outcome = run_student(spec, func, inputs, case)
    return judge_outcome(spec, case, inputs, outcome, expected)


def check(name: str, func, case: str) -> None:
    """Test `func` as exercise function `name` on test case `case` (see the module docstring).

    Raises CheckError whose message says what differs, where, and the most likely mistake.
    In record mode (RNNSCRATCH_RECORD_DIR set) only records the output and never raises.
    """
    __tracebackhide__ = True  # noqa: F841 - IPython hides this frame in tracebacks
    record_dir = os.environ.get(RECORD_ENV)
    if record_dir:
        record(name, func, case, record_dir)
        return
    verdict = evaluate(name, func, case)
    if not verdict.passed:
        raise CheckError(wrap_message(verdict.message))


# ----------------------------------------------------------------------------------------------
# a test cell run before its answer cell
# ----------------------------------------------------------------------------------------------


def _name_error_hint(shell, etype, value, tb, tb_offset=None):
    """IPython handler: the usual traceback, plus a hint when an exercise function is missing.

    IPython does not display what a custom handler returns, so it shows the traceback itself
    (in a kernel this is the cell's error output: the cell still fails).
    """
    stb = shell.InteractiveTB.structured_traceback(etype, value, tb, tb_offset=tb_offset)
    name = getattr(value, "name", None)
    if name in SPECS:
        stb = [
            *stb,
            f"Hint: `{name}` is not defined yet: run the cell that defines {name} (the answer "
            "cell above this test) first, then run this test cell again.",
        ]
    shell._showtraceback(etype, value, stb)
    return stb


def install_name_error_hint() -> bool:
    """In a notebook, make a NameError for an exercise function say which cell to run first.

    Called when `rnnscratch.exercises` is imported (the test cells import it); a no-op outside
    IPython. Other NameErrors keep IPython's usual traceback. Returns whether it was installed.
    """
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    if shell is None or not hasattr(shell, "set_custom_exc"):
        return False
    if NameError not in getattr(shell, "custom_exceptions", ()):
        shell.set_custom_exc((NameError,), _name_error_hint)
    return True
