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
from pathlib import Path

import numpy as np

from rnnscratch.checks import CheckError
from rnnscratch.exercises import protocol
from rnnscratch.exercises.hints import MISTAKES
from rnnscratch.exercises.plain import (
    PlainError,
    from_plain,
    load_inputs,
    read_npz,
    read_plain,
    save_inputs,
    to_plain,
    to_value,
)
from rnnscratch.exercises.protocol import MAX_ERROR_CHARS, output_files, read_regular, stem
from rnnscratch.exercises.registry import SPECS
from rnnscratch.exercises.spec import RunError, Verdict, judge_outcome, run_student, visible_seed

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
    """What the sandbox's recorder needs to call `name`: its argument names and the name of
    the adapter (in `protocol.ADAPTERS`) that runs on the result in the student's process."""
    spec = SPECS[name]
    adapt = spec.adapt.__name__ if spec.adapt is not None else None
    if adapt is not None and protocol.ADAPTERS.get(adapt) is not spec.adapt:
        raise ValueError(f"{name}: its adapter must be one of protocol.ADAPTERS")
    return {"args": list(spec.args), "adapt": adapt}


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
        _STORE_CACHE[key] = read_npz(path, entries=1_000_000)
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
            inputs[key[len(prefix) + 3 :]] = load_scalar(value)
        elif key.startswith(prefix + "out.") and not key.endswith("__meta__"):
            outputs[key[len(prefix) + 4 :]] = value
    meta = json.loads(str(arrays[prefix + "out.__meta__"]))
    return inputs, to_value(from_plain(meta, outputs))


def load_scalar(value: np.ndarray):
    """0-d integer/float arrays back to Python numbers (as `load_inputs` does)."""
    if value.ndim == 0 and value.dtype.kind in "iu":
        return int(value)
    if value.ndim == 0 and value.dtype.kind == "f":
        return float(value)
    return value


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
    outcome = run_student(spec, func, inputs)
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
        raise CheckError(verdict.message)
