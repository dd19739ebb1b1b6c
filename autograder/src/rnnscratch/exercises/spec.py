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
from rnnscratch.tolerances import FLOAT32, tolerance_for


@dataclass
class Case:
    """One test case: what it isolates (said in feedback) and how to draw its inputs."""

    about: str
    make: Callable[[np.random.Generator], dict]


@dataclass
class Variant:
    """A known-wrong implementation: the mistake's catalogue key and its output on inputs."""

    mistake: str
    compute: Callable[[dict], Any]
    note: str = ""  # a sentence specific to this function, added to the catalogue text


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

    def inputs(self, case: str, rng: np.random.Generator) -> dict:
        """Draw the inputs of `case` from `rng` (a flat dict of arrays, ints and floats)."""
        return self.cases[case].make(rng)


@dataclass
class Verdict:
    """The judge's answer for one (function, case): pass/fail, feedback, catalogue key."""

    passed: bool
    message: str
    mistake: str | None = None


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


def run_student(spec: Spec, func, inputs: dict) -> tuple[dict, dict] | RunError:
    """Call `func` on the case inputs and turn the result into plain data.

    Warnings raised by the student's code are silenced (an honest overflow warning must not
    reach stderr). Returns (meta, arrays) from `plain.to_plain`, or a RunError.
    """
    status, *rest = protocol.call(spec.name, func, inputs, spec.args, spec.adapt)
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
    "list_node": ("tuple_for_array", None),
    "dict": ("wrong_structure", None),
    "object": ("not_an_array", None),
    "object_array": ("not_an_array", None),
}


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
        assert_close(label, data, expected)
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
        for item_name, e, n in zip(names, expected, node.items, strict=True):
            compare(item_name, e, n)
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
        for k, e in expected.items():
            compare(k if label == "result" else f"{label}['{k}']", e, node.items[k])
        return
    _leaf(label, expected, node)


def _matches(node: Node, value, loose: bool) -> bool:
    """Does the recorded node agree with a variant's output (NaN where it has NaN)?"""
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
    data = node.data.astype(np.float64)
    value = np.asarray(value, dtype=np.float64)
    if data.shape != value.shape:
        return False
    nan_a, nan_v = ~np.isfinite(data), ~np.isfinite(value)
    if np.any(nan_a != nan_v):
        return False
    tol = tolerance_for(node.data.dtype)
    if loose:
        tol = {"rtol": max(tol["rtol"], 10 * FLOAT32["rtol"]), "atol": max(tol["atol"], 1e-5)}
    ok = np.abs(data - value) <= tol["atol"] + tol["rtol"] * np.abs(value)
    return bool(np.all(ok | nan_a))


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


def diagnose(spec: Spec, inputs: dict, node: Node, expected) -> tuple[str | None, str]:
    """The catalogue key (and a specific note) of the known-wrong variant `node` matches."""
    if _float32_close(node, expected):
        return "float32_precision", ""
    computed = []
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        for variant in spec.variants:
            try:
                computed.append((variant, variant.compute(inputs)))
            except Exception:  # noqa: BLE001, S112 - a variant that cannot apply is skipped
                continue
    for loose in (False, True):
        for variant, value in computed:
            if _matches(node, value, loose):
                return variant.mistake, variant.note
    return None, ""


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
        compare(label, expected, outcome, names=spec.outputs)
    except Mismatch as exc:
        found, note = None, ""
        if exc.level in ("shape", "finite", "values"):
            found, note = diagnose(spec, inputs, outcome, expected)
        text = f"{head}:\n{exc.message}"
        if found:
            text += "\nLikely mistake: " + explain(found, note)
        elif exc.mistake:
            text += "\nHint: " + explain(exc.mistake)
        else:
            text += "\nNo known mistake matches; the tests that isolate one term help find it."
        return Verdict(False, text, found or exc.mistake)
    return Verdict(True, f"{head}: passed.", None)
