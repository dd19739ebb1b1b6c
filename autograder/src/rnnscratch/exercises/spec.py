"""What the checker knows about one exercise function, and how a result is judged.

A `Spec` gives, per test case, how to draw inputs, the torch-float64 reference, and a list of
known-wrong `Variant`s. `judge_outcome` compares a recorded result (a `plain.Node`) with the
reference in the order type -> structure -> shape -> finite -> values, and on a mismatch looks
for the variant the result agrees with, so the message can name the mistake.
"""

import warnings
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from rnnscratch.checks import CheckError, assert_close
from rnnscratch.exercises import protocol
from rnnscratch.exercises.hints import explain
from rnnscratch.exercises.plain import Node, PlainError, from_plain
from rnnscratch.exercises.protocol import AdaptError, classify_exception  # noqa: F401
from rnnscratch.tolerances import FLOAT32, FLOAT64


@dataclass
class Case:
    """One test case: what it isolates (said in feedback) and how to draw its inputs."""

    about: str
    make: Callable[[np.random.Generator], dict]
    stable: bool = False  # the case asks for no overflow: an overflow warning fails it


@dataclass
class Variant:
    """A known-wrong implementation: the mistake's catalogue key and its output on inputs."""

    mistake: str
    compute: Callable[[dict], Any]
    note: str = ""  # a sentence specific to this function, added to the catalogue text
    partial: bool = True  # may explain some parts of a result only (False: structural mistakes)


@dataclass
class Spec:
    """Everything the checker needs to test one function (see module docstring)."""

    name: str
    assignment: str
    args: tuple[str, ...]
    outputs: str | tuple[str, ...] | None  # name of the array, names of tuple items, None=dict
    cases: dict[str, Case]
    reference: Callable[[dict], Any]
    variants: list[Variant] = field(default_factory=list)
    adapt: Callable[[Any, dict], Any] | None = None  # runs in the student's process
    # runs in the student's process before the call: plain inputs -> call arguments (a seed
    # into a numpy Generator, say)
    prepare: Callable[[dict], dict] | None = None
    # trusted side, instead of comparing with the reference by tolerance: raises Mismatch
    # unless the recorded Node is acceptable (a statistical test, a loss below a threshold)
    verify: Callable[[dict, Node, Any], None] | None = None
    backward: bool = False  # a backward pass: a transposed weight gets backward advice
    time_major: tuple[str, ...] = ("hs", "cs", "dxs", "output")  # outputs with time first
    overflow_mistake: str = "unstable_softmax"  # named when a `stable` case overflows
    broadcast_mistake: str | None = None  # named when numpy cannot broadcast two operands

    def inputs(self, case: str, rng: np.random.Generator) -> dict:
        """Draw the inputs of `case` from `rng` (a flat dict of arrays, ints and floats)."""
        return self.cases[case].make(rng)


@dataclass
class Verdict:
    """The judge's answer for one (function, case): pass/fail, feedback, catalogue key."""

    passed: bool
    message: str
    mistake: str | None = None
    also: tuple[str, ...] = ()  # further catalogue keys named with `mistake` (ambiguity)


@dataclass
class RunError:
    """The student's call failed or returned something that cannot be recorded."""

    message: str
    mistake: str | None = None


def visible_seed(name: str, case: str) -> int:
    """The fixed seed of a visible case (stable across Python runs and machines)."""
    return zlib.crc32(f"{name}/{case}".encode())


# ----------------------------------------------------------------------------------------------
# calling the student's function (runs in the student's process)
# ----------------------------------------------------------------------------------------------


def recorder_options(spec: Spec) -> dict:
    """How the student's function is called (``protocol.call``'s options), as plain data: the
    sandbox gets these names and flags, never the spec."""
    adapt = spec.adapt.__name__ if spec.adapt is not None else None
    prepare = spec.prepare.__name__ if spec.prepare is not None else None
    if adapt is not None and protocol.ADAPTERS.get(adapt) is not spec.adapt:
        raise ValueError(f"{spec.name}: its adapter must be one of protocol.ADAPTERS")
    if prepare is not None and protocol.PREPARERS.get(prepare) is not spec.prepare:
        raise ValueError(f"{spec.name}: its preparer must be one of protocol.PREPARERS")
    return {
        "args": list(spec.args),
        "adapt": adapt,
        "prepare": prepare,
        "stable_cases": [name for name, case in spec.cases.items() if case.stable],
        "backward": spec.backward,
        "broadcast_mistake": spec.broadcast_mistake,
        "overflow_mistake": spec.overflow_mistake,
    }


def run_student(
    spec: Spec, func, inputs: dict, case: str | None = None
) -> tuple[dict, dict] | RunError:
    """Call `func` on the case inputs and turn the result into plain data.

    Warnings raised by the student's code are recorded, never printed (an honest overflow
    warning must not reach stderr); on a `stable` case an overflow fails the test. Inputs the
    function modified in place fail it too. Returns (meta, arrays) from `plain.to_plain`, or a
    RunError.
    """
    options = recorder_options(spec)
    stable_cases = options.pop("stable_cases")
    status, *rest = protocol.call(spec.name, func, inputs, stable=case in stable_cases, **options)
    return tuple(rest) if status == "ok" else RunError(*rest)


# ----------------------------------------------------------------------------------------------
# comparing (trusted side; also used locally by check())
# ----------------------------------------------------------------------------------------------


class Mismatch(Exception):
    """A comparison failed at `level` (type, shape, finite, values)."""

    def __init__(self, message: str, mistake: str | None, level: str):
        super().__init__(message)
        self.message, self.mistake, self.level = message, mistake, level


_TYPE_MISTAKES = {
    "torch": ("torch_tensor", "a torch tensor"),
    "list": ("python_list", "a Python list"),
    "none": ("returned_none", "None"),
    "tuple": ("tuple_for_array", None),
    "list_node": ("list_of_arrays", None),
    "dict": ("wrong_structure", None),
    "object": ("not_an_array", None),
    "object_array": ("not_an_array", None),
}

#: the task's tolerance: every result is compared at float64 precision, whatever its dtype
TASK_TOLERANCE = FLOAT64


def _leaf(label: str, expected, node: Node) -> None:
    scalar = not isinstance(expected, np.ndarray)
    want = "a single float" if scalar else f"a numpy array of shape {np.shape(expected)}"
    if node.kind in _TYPE_MISTAKES or (not scalar and node.kind in ("float", "int", "bool")):
        key = _TYPE_MISTAKES.get(node.kind, ("scalar_for_array", None))[0]
        if scalar and node.kind in ("tuple", "list_node"):
            key = "wrong_structure"
        raise Mismatch(f"{label}: expected {want}, got {node.describe()}.", key, "type")
    data = node.data
    if data.dtype.kind == "b":
        raise Mismatch(f"{label}: expected {want}, got booleans.", "not_an_array", "type")
    if data.dtype.kind == "c":
        raise Mismatch(f"{label}: expected {want}, got complex numbers.", "not_an_array", "type")
    if data.dtype.kind in "iu" and not (scalar and node.kind == "int"):
        raise Mismatch(
            f"{label}: expected float values, got an array of dtype {data.dtype}.",
            "integer_array",
            "type",
        )
    if data.dtype.kind == "f" and data.dtype != np.float64:
        raise Mismatch(
            f"{label}: expected float64, got dtype {data.dtype}.", "float32_result", "type"
        )
    if scalar and data.shape != ():
        raise Mismatch(
            f"{label}: expected {want}, got an array of shape {data.shape}.",
            "array_for_scalar",
            "shape",
        )
    expected = np.asarray(expected, dtype=np.float64)
    if data.shape != expected.shape:
        raise Mismatch(
            f"{label}: expected shape {expected.shape}, got shape {data.shape}.",
            "wrong_shape",
            "shape",
        )
    if data.dtype.kind == "f" and not np.all(np.isfinite(data)):
        bad = np.argwhere(~np.isfinite(data))
        first = tuple(int(i) for i in bad[0]) if data.ndim else ()
        raise Mismatch(
            f"{label}: {len(bad)} of {data.size} values are NaN or infinite (first at "
            f"{list(first)}: {data[first]}; expected {expected[first]}).",
            "not_finite",
            "finite",
        )
    try:
        assert_close(label, data, expected, **TASK_TOLERANCE)
    except CheckError as exc:
        raise Mismatch(str(exc), None, "values") from None


def compare(label: str, expected, node: Node, names=None) -> None:
    """Raise Mismatch unless the recorded `node` matches `expected` (the reference value)."""
    if isinstance(expected, tuple):
        names = names if isinstance(names, tuple) else tuple(f"[{i}]" for i in range(len(expected)))
        if node.kind not in ("tuple", "list_node") or len(node.items) != len(expected):
            key = "returned_none" if node.kind == "none" else "wrong_structure"
            raise Mismatch(
                f"{label}: expected a tuple of {len(expected)} ({', '.join(names)}), got "
                f"{node.describe()}.",
                key,
                "type",
            )
        _compare_parts(label, expected, node, names)
        return
    if isinstance(expected, dict):
        if node.kind != "dict":
            key = "returned_none" if node.kind == "none" else "wrong_structure"
            raise Mismatch(
                f"{label}: expected a dict with keys {list(expected)}, got {node.describe()}.",
                key,
                "type",
            )
        missing = [k for k in expected if k not in node.items]
        if missing:
            raise Mismatch(f"{label}: the dict lacks the keys {missing}.", "missing_keys", "type")
        _compare_parts(label, expected, node, None)
        return
    _leaf(label, expected, node)


_LEVELS = ("type", "shape", "finite", "values")


def _compare_parts(label, expected, node, names) -> None:
    """Compare every part; raise the most basic failure (type before shape before values)."""
    failures = []
    for path, e, n in _parts(label, expected, node, names):
        try:
            compare(path, e, n)
        except Mismatch as exc:
            failures.append(exc)
    if failures:
        raise min(failures, key=lambda exc: _LEVELS.index(exc.level))


def _parts(label, expected, node, names):
    """(path, expected part, recorded part) of a tuple or dict result."""
    if isinstance(expected, tuple):
        return list(zip(names, expected, node.items, strict=True))
    prefix = "" if label == "result" else label
    return [(f"{prefix}['{k}']" if prefix else k, e, node.items[k]) for k, e in expected.items()]


# ----------------------------------------------------------------------------------------------
# localising: which parts and which time steps differ
# ----------------------------------------------------------------------------------------------


def _flow_order(key: str) -> tuple[int, int]:
    """Inputs' and states' gradients first, then parameter gradients (data-flow order)."""
    grad_of_param = key.startswith(("dW", "db"))
    return (1 if grad_of_param else 0, 0)


def _leaves(expected, node: Node | None, names=None, path="") -> list[tuple[str, Any, Any]]:
    """Flatten (path, expected leaf, recorded leaf Node or None) in data-flow order."""
    if isinstance(expected, tuple | list):
        names = names if isinstance(names, tuple) else tuple(f"[{i}]" for i in range(len(expected)))
        items = node.items if node is not None and node.kind in ("tuple", "list_node") else None
        ok = items is not None and len(items) == len(expected)
        out = []
        for i, (n, e) in enumerate(zip(names, expected, strict=True)):
            out += _leaves(e, items[i] if ok else None, None, f"{path}{n}")
        return out
    if isinstance(expected, dict):
        items = node.items if node is not None and node.kind == "dict" else {}
        keys = sorted(expected, key=lambda k: (_flow_order(k), list(expected).index(k)))
        out = []
        for k in keys:
            out += _leaves(expected[k], items.get(k), None, f"{path}.{k}" if path else k)
        return out
    return [(path, expected, node)]


def _value_leaves(value, names=None, path="") -> dict:
    """A variant's output flattened with the same paths as `_leaves`."""
    if isinstance(value, tuple | list):
        names = names if isinstance(names, tuple) else tuple(f"[{i}]" for i in range(len(value)))
        out = {}
        for n, v in zip(names, value, strict=False):
            out |= _value_leaves(v, None, f"{path}{n}")
        return out
    if isinstance(value, dict):
        out = {}
        for k, v in value.items():
            out |= _value_leaves(v, None, f"{path}.{k}" if path else k)
        return out
    return {path: value}


def _close_rows(data: np.ndarray, value, loose: bool = False) -> np.ndarray | None:
    """Per-row (first axis) agreement of `data` with `value`, NaN/inf where they are; None if
    the shapes differ. 0-d arrays give one row."""
    value = np.asarray(value, dtype=np.float64)
    data = np.asarray(data, dtype=np.float64)
    if data.shape != value.shape:
        return None
    tol = dict(TASK_TOLERANCE)
    if loose:
        tol = {"rtol": max(tol["rtol"], 10 * FLOAT32["rtol"]), "atol": max(tol["atol"], 1e-5)}
    with np.errstate(all="ignore"):
        same_special = (np.isnan(data) == np.isnan(value)) & (np.isinf(data) == np.isinf(value))
        special = ~np.isfinite(data) | ~np.isfinite(value)
        same_inf = np.where(np.isinf(data) & np.isinf(value), data == value, True)
        close = np.abs(data - value) <= tol["atol"] + tol["rtol"] * np.abs(value)
        ok = np.where(special, same_special & same_inf, close)
    if ok.ndim == 0:
        return np.atleast_1d(ok)
    return ok.reshape(ok.shape[0], -1).all(axis=1)


def _ranges(steps) -> str:
    steps = list(steps)
    parts, start = [], None
    for i, s in enumerate(steps):
        if start is None:
            start = s
        if i + 1 == len(steps) or steps[i + 1] != s + 1:
            parts.append(f"{start}" if start == s else f"{start}-{s}")
            start = None
    return ", ".join(parts)


def _is_time_major(spec: Spec, path: str) -> bool:
    return path.split(".")[-1].split("[")[0] in spec.time_major


def _root(spec: Spec) -> tuple:
    """(names, path) to flatten a result of `spec`: tuple item names, or the array's name."""
    if isinstance(spec.outputs, tuple):
        return spec.outputs, ""
    return None, spec.outputs if isinstance(spec.outputs, str) else ""


def localise(spec: Spec, expected, node: Node) -> tuple[str, dict]:
    """A line saying which parts (and time steps) match and which differ, and the differing
    rows per part ({path: bool mask over the first axis, or None for the whole part})."""
    leaves = _leaves(expected, node, *_root(spec))
    differ, match, where = [], [], {}
    for path, e, n in leaves:
        data = n.data if n is not None else None
        if data is None or data.dtype.kind not in "iuf":
            differ.append(f"{path} (not an array)")
            where[path] = None
            continue
        rows = _close_rows(data, e)
        if rows is None:
            differ.append(f"{path} (shape)")
            where[path] = None
        elif rows.all():
            match.append(path)
        elif _is_time_major(spec, path) and np.ndim(e) >= 2 and rows.any():
            bad = np.flatnonzero(~rows)
            good = np.flatnonzero(rows)
            differ.append(f"{path} (steps {_ranges(bad)}; steps {_ranges(good)} match)")
            where[path] = ~rows
        else:
            differ.append(path)
            where[path] = None
    if len(leaves) == 1 and not match:
        line = f"Where: {differ[0]}." if "(steps" in differ[0] else ""
        return line, where
    line = "Where: " + ", ".join(differ) + (" differ" if len(differ) > 1 else " differs")
    if match:
        line += "; " + ", ".join(match) + (" match" if len(match) > 1 else " matches")
    return line + ".", where


# ----------------------------------------------------------------------------------------------
# diagnosing: which known mistake gives these numbers
# ----------------------------------------------------------------------------------------------


def _matches(node: Node, value, loose: bool) -> bool:
    """Does the recorded node agree with a variant's output (NaN and inf where it has them)?"""
    if isinstance(value, tuple | list):
        return (
            node.kind in ("tuple", "list_node")
            and len(node.items) == len(value)
            and all(_matches(n, v, loose) for n, v in zip(node.items, value, strict=True))
        )
    if isinstance(value, dict):
        return node.kind == "dict" and all(
            k in node.items and _matches(node.items[k], v, loose) for k, v in value.items()
        )
    if node.data is None or node.data.dtype.kind not in "iuf":
        return False
    rows = _close_rows(node.data, value, loose)
    return rows is not None and bool(rows.all())


def _float32_close(node: Node, expected) -> bool:
    if isinstance(expected, tuple | list):
        return (
            node.kind in ("tuple", "list_node")
            and len(node.items) == len(expected)
            and all(_float32_close(n, e) for n, e in zip(node.items, expected, strict=True))
        )
    if isinstance(expected, dict):
        return node.kind == "dict" and all(
            k in node.items and _float32_close(node.items[k], e) for k, e in expected.items()
        )
    if node.data is None or node.data.dtype.kind != "f":
        return False
    data, expected = node.data.astype(np.float64), np.asarray(expected, dtype=np.float64)
    if data.shape != expected.shape or not np.all(np.isfinite(data)):
        return False
    return bool(np.allclose(data, expected, rtol=FLOAT32["rtol"], atol=FLOAT32["atol"]))


@dataclass
class Diagnosis:
    """Known mistakes that explain the result: for the whole of it, or part by part."""

    found: list[tuple[str, str]] = field(default_factory=list)  # (key, note), all explain it
    parts: dict[str, list[tuple[str, str]]] = field(default_factory=dict)  # path -> mistakes

    def keys(self) -> list[str]:
        """Catalogue keys named, most likely first."""
        keys = [k for k, _ in self.found] or [k for v in self.parts.values() for k, _ in v]
        return list(dict.fromkeys(keys))


def _distinct(found: list[tuple[str, str]]) -> list[tuple[str, str]]:
    out: dict[str, str] = {}
    for key, note in found:
        if key not in out:
            out[key] = note
        elif note and note not in out[key]:
            out[key] = f"{out[key]} {note}".strip()
    return list(out.items())


def diagnose(spec: Spec, inputs: dict, node: Node, expected, where=None) -> Diagnosis:
    """The known-wrong variants the recorded `node` agrees with: on the whole result, else on
    every part (and time step) that differs, else part by part."""
    if _float32_close(node, expected):
        return Diagnosis([("float32_precision", "")])
    computed = []
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        for variant in spec.variants:
            try:
                computed.append((variant, variant.compute(inputs)))
            except Exception:  # noqa: BLE001, S112 - a variant that cannot apply is skipped
                continue
    for loose in (False, True):
        found = [(v.mistake, v.note) for v, value in computed if _matches(node, value, loose)]
        if found:
            return Diagnosis(_distinct(found))
    if not where:
        return Diagnosis()
    names, root = _root(spec)
    recorded = {p: n for p, _, n in _leaves(expected, node, names, root)}
    per_part: dict[str, list] = {p: [] for p in where}
    explains_all = []
    for variant, value in computed:
        if not variant.partial:
            continue
        leaves = _value_leaves(value, names, root)
        ok_parts = []
        for path, rows in where.items():
            n, v = recorded.get(path), leaves.get(path)
            if n is None or n.data is None or v is None or n.data.dtype.kind not in "iuf":
                continue
            close = _close_rows(n.data, v)
            if close is None:
                continue
            if (close[rows] if rows is not None else close).all():
                ok_parts.append(path)
        for path in ok_parts:
            per_part[path].append((variant.mistake, variant.note))
        if ok_parts and len(ok_parts) == len(where):
            explains_all.append((variant.mistake, variant.note))
    if explains_all:
        return Diagnosis(_distinct(explains_all))
    for path in where:
        if not per_part[path]:
            per_part[path] = _misplaced(path, recorded.get(path), expected, names, root)
    return Diagnosis(parts={p: _distinct(v) for p, v in per_part.items() if v})


def _misplaced(path: str, n: Node | None, expected, names, root) -> list[tuple[str, str]]:
    """Mistakes of any function with several outputs, when no variant explains a part: the
    part is all zeros (a buffer allocated and never filled), or holds the values another part
    should hold (the wrong variable stored or returned)."""
    if n is None or n.data is None or n.data.dtype.kind not in "iuf":
        return []
    data = np.asarray(n.data, dtype=np.float64)
    want = _value_leaves(expected, names, root)
    if np.shape(want.get(path)) != data.shape:
        return []
    if not np.any(data) and np.any(want[path]):
        return [("output_left_zero", f"{path} is all zeros.")]
    others = [
        other
        for other, value in want.items()
        if other != path and np.shape(value) == data.shape and np.any(value)
        if (rows := _close_rows(data, value)) is not None and rows.all()
    ]
    if others:
        return [("value_in_wrong_place", f"{path} holds the values expected for {others[0]}.")]
    return []


def _explain_all(found: list[tuple[str, str]]) -> str:
    if len(found) == 1:
        return "Likely mistake: " + explain(*found[0])
    lines = [
        "These numbers fit more than one known mistake (this test cannot tell them apart; "
        "another test may):"
    ]
    lines += [f"  - {explain(key, note)}" for key, note in found]
    return "\n".join(lines)


def _fallback(spec: Spec) -> str:
    if any("only" in c.about for c in spec.cases.values()):
        return "No known mistake matches; the tests that isolate one term help find it."
    if spec.backward:
        return (
            "No known mistake matches. Compare your gradients with finite differences of your "
            "own forward pass (rnnscratch.exercises.gradcheck) to find the wrong term."
        )
    return "No known mistake matches; compare your code with the formula line by line."


def judge_outcome(spec: Spec, case: str, inputs: dict, outcome, expected) -> Verdict:
    """Compare a recorded outcome (Node, RunError, or plain (meta, arrays)) with `expected`."""
    head = f'{spec.name}, test "{case}" ({spec.cases[case].about})'
    if isinstance(outcome, tuple):
        try:
            outcome = from_plain(*outcome)
        except PlainError as exc:
            outcome = RunError(f"the result could not be read: {exc}", None)
    if isinstance(outcome, RunError):
        text = outcome.message
        if outcome.mistake:
            text += "\nHint: " + explain(outcome.mistake)
        return Verdict(False, f"{head}:\n{text}", outcome.mistake)
    label = spec.outputs if isinstance(spec.outputs, str) else "result"
    try:
        if spec.verify is not None:
            spec.verify(inputs, outcome, expected)
        else:
            compare(label, expected, outcome, names=spec.outputs)
    except Mismatch as exc:
        text = f"{head}:\n{exc.message}"
        diagnosis = Diagnosis()
        if exc.level in ("shape", "finite", "values"):
            where_line, where = localise(spec, expected, outcome)
            if where_line:
                text += "\n" + where_line
            diagnosis = diagnose(spec, inputs, outcome, expected, where)
        elif exc.mistake == "wrong_structure":  # a variant may change the structure itself
            diagnosis = diagnose(spec, inputs, outcome, expected)  # (a dropped window, say)
        keys = diagnosis.keys()
        if diagnosis.found:
            text += "\n" + _explain_all(diagnosis.found)
        elif diagnosis.parts:
            for path, found in diagnosis.parts.items():
                text += f"\n{path}: " + _explain_all(found)
        elif exc.mistake:
            text += "\nHint: " + explain(exc.mistake)
            keys = [exc.mistake]
        else:
            text += "\n" + _fallback(spec)
        first = keys[0] if keys else None
        return Verdict(False, text, first, tuple(keys[1:]))
    return Verdict(True, f"{head}: passed.", None)
