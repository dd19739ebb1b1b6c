"""Plain data in and out of the student's process: nested results <-> (JSON meta, arrays).

What a student's function returns is turned into numbers and a JSON description of its
structure (`to_plain`), written as an `.npz` without pickle (`write_npz`), and read back on the
trusted side (`read_plain`, `from_plain`). The meta records *what kind* of object each part
was (numpy array, torch tensor, list, None, ...) so the judge can name it in feedback.
"""

import json
from dataclasses import dataclass, field

import numpy as np

from rnnscratch.exercises.protocol import (  # noqa: F401 - re-exported: one source of truth
    MAX_DEPTH,
    MAX_ELEMENTS,
    MAX_ITEMS,
    MAX_META_CHARS,
    META_KEY,
    PlainError,
    call_kwargs,
    load_inputs,
    read_npz,
    save_inputs,
    save_plain,
    to_plain,
    write_npz,
)
from rnnscratch.exercises.protocol import numeric as _numeric

LEAF_KINDS = {"ndarray", "torch", "list", "float", "int", "bool"}
NODE_KINDS = {"tuple", "list_node", "dict"}
OTHER_KINDS = {"none", "object", "object_array"}


@dataclass
class Node:
    """A recorded value on the trusted side: `kind`, numbers for leaves, children for nodes."""

    kind: str
    data: np.ndarray | None = None
    items: list | dict | None = None
    type_name: str = ""
    dtype: str = ""
    shape: tuple = field(default_factory=tuple)

    def describe(self) -> str:
        """Plain-English name of what this is, for feedback."""
        if self.kind == "ndarray":
            return f"a numpy array of shape {self.shape} and dtype {self.dtype}"
        if self.kind == "torch":
            return f"a torch tensor of shape {self.shape}"
        if self.kind == "list":
            return "a Python list"
        if self.kind in ("float", "int", "bool"):
            return f"a single {self.kind} ({self.data.item() if self.data is not None else ''})"
        if self.kind == "tuple":
            return f"a tuple of {len(self.items)} items"
        if self.kind == "list_node":
            return f"a list of {len(self.items)} items"
        if self.kind == "dict":
            return f"a dict with keys {sorted(self.items)}"
        if self.kind == "none":
            return "None"
        if self.kind == "object_array":
            return f"a numpy array of dtype {self.dtype} (not numbers)"
        return f"an object of type {self.type_name}"


def from_plain(meta, arrays, depth: int = 0) -> Node:
    """Validate untrusted (meta, arrays) and build a Node tree; raise PlainError if malformed."""
    if depth > MAX_DEPTH + 1 or not isinstance(meta, dict):
        raise PlainError("malformed record")
    kind = meta.get("kind")
    if kind in LEAF_KINDS:
        key = meta.get("key")
        if not isinstance(key, str) or key not in arrays:
            raise PlainError("record refers to a missing array")
        data = arrays[key]
        if not isinstance(data, np.ndarray) or not _numeric(data):
            raise PlainError("record holds a non-numeric array")
        return Node(kind, data=data, dtype=str(data.dtype), shape=tuple(data.shape))
    if kind in ("tuple", "list_node"):
        items = meta.get("items")
        if not isinstance(items, list) or len(items) > MAX_ITEMS:
            raise PlainError("malformed record")
        return Node(kind, items=[from_plain(m, arrays, depth + 1) for m in items])
    if kind == "dict":
        items = meta.get("items")
        if not isinstance(items, dict) or len(items) > MAX_ITEMS:
            raise PlainError("malformed record")
        return Node(
            kind, items={str(k): from_plain(m, arrays, depth + 1) for k, m in items.items()}
        )
    if kind in OTHER_KINDS:
        shape = meta.get("shape", [])
        shape = tuple(int(s) for s in shape) if isinstance(shape, list) else ()
        return Node(
            kind,
            type_name=str(meta.get("type", ""))[:120],
            dtype=str(meta.get("dtype", ""))[:40],
            shape=shape,
        )
    raise PlainError("malformed record")


def to_value(node: Node):
    """A trusted Node tree (e.g. a stored reference) back to arrays, floats, tuples and dicts."""
    if node.kind == "float":
        return float(node.data)
    if node.kind == "int":
        return int(node.data)
    if node.data is not None:
        return node.data
    if node.kind == "tuple":
        return tuple(to_value(n) for n in node.items)
    if node.kind == "list_node":
        return [to_value(n) for n in node.items]
    if node.kind == "dict":
        return {k: to_value(n) for k, n in node.items.items()}
    return None


# ----------------------------------------------------------------------------------------------
# files: deterministic npz without pickle
# ----------------------------------------------------------------------------------------------


def read_plain(path) -> Node:
    """Read a file written by `save_plain` (possibly by untrusted code) as a validated Node."""
    arrays = read_npz(path)
    text = arrays.pop(META_KEY, None)
    if text is None or text.dtype.kind != "U" or text.ndim != 0:
        raise PlainError("the record has no description")
    text = str(text)
    if len(text) > MAX_META_CHARS:
        raise PlainError("the record's description is too long")
    try:
        meta = json.loads(text)
    except json.JSONDecodeError:
        raise PlainError("the record's description is not JSON") from None
    return from_plain(meta, arrays)


# ----------------------------------------------------------------------------------------------
# inputs: flat dicts of arrays / ints / floats; "p.W_ii" keys group into a dict argument "p"
# ----------------------------------------------------------------------------------------------


def group(inputs: dict, prefix: str) -> dict:
    """The sub-dict of inputs under `prefix.` (e.g. the parameter dict "p")."""
    n = len(prefix) + 1
    return {k[n:]: v for k, v in inputs.items() if k.startswith(prefix + ".")}


def read_reference(path) -> dict[str, np.ndarray]:
    """Read a course reference file (`reference_tensors.npz`, written by us): `read_npz`'s
    checks, without the bound on the number of arrays meant for a submission's outputs."""
    return read_npz(path, entries=1_000_000)
