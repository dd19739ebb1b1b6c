"""Plain data in and out of the student's process: nested results <-> (JSON meta, arrays).

What a student's function returns is turned into numbers and a JSON description of its
structure (`to_plain`), written as an `.npz` without pickle (`write_npz`), and read back on the
trusted side (`read_plain`, `from_plain`). The meta records *what kind* of object each part
was (numpy array, torch tensor, list, None, ...) so the judge can name it in feedback.
"""

import io
import json
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

META_KEY = "__meta__"
MAX_DEPTH = 6
MAX_ITEMS = 64
MAX_ELEMENTS = 20_000_000
MAX_META_CHARS = 100_000
_ZIP_DATE = (1980, 1, 1, 0, 0, 0)
LEAF_KINDS = {"ndarray", "torch", "list", "float", "int", "bool"}
NODE_KINDS = {"tuple", "list_node", "dict"}
OTHER_KINDS = {"none", "object", "object_array"}


class PlainError(ValueError):
    """The recorded data is not valid plain data (too big, nested too deep, malformed)."""


def _is_torch_tensor(value) -> bool:
    return type(value).__module__.startswith("torch") and hasattr(value, "detach")


def _numeric(array: np.ndarray) -> bool:
    return array.dtype.kind in "biufc"


def _store(arrays: dict, array: np.ndarray, counter: list) -> str:
    array = np.array(array, copy=True).view(np.ndarray)
    counter[0] += array.size
    if counter[0] > MAX_ELEMENTS:
        raise PlainError(f"the result holds more than {MAX_ELEMENTS} numbers")
    key = f"a{len(arrays)}"
    arrays[key] = np.array(array, order="C")
    return key


def _encode(value, arrays: dict, counter: list, depth: int) -> dict:
    if depth > MAX_DEPTH:
        return {"kind": "object", "type": "structure nested too deeply"}
    if value is None:
        return {"kind": "none"}
    if isinstance(value, bool | np.bool_):
        return {"kind": "bool", "key": _store(arrays, np.asarray(bool(value)), counter)}
    if isinstance(value, int | np.integer):
        try:
            array = np.asarray(value, dtype=np.int64)
        except OverflowError:
            array = np.asarray(float(value))
        return {"kind": "int", "key": _store(arrays, array, counter)}
    if isinstance(value, float | np.floating):
        return {"kind": "float", "key": _store(arrays, np.asarray(value), counter)}
    if _is_torch_tensor(value):
        try:
            array = value.detach().cpu().numpy()
        except Exception:  # noqa: BLE001 - e.g. a tensor type numpy cannot hold
            return {"kind": "object", "type": "torch tensor numpy cannot hold"}
        leaf = {"kind": "torch", "dtype": str(array.dtype), "shape": list(array.shape)}
        leaf["key"] = _store(arrays, array, counter)
        return leaf
    if isinstance(value, np.ndarray):
        array = np.asarray(value).view(np.ndarray)
        leaf = {"dtype": str(array.dtype), "shape": list(array.shape)}
        if not _numeric(array):
            return {"kind": "object_array", **leaf}
        return {"kind": "ndarray", **leaf, "key": _store(arrays, array, counter)}
    if isinstance(value, tuple | list):
        if isinstance(value, list):
            try:
                array = np.asarray(value)
            except Exception:  # noqa: BLE001 - ragged or odd lists become a node below
                array = None
            if (
                array is not None
                and _numeric(array)
                and not any(isinstance(v, np.ndarray) or _is_torch_tensor(v) for v in value)
            ):
                leaf = {"kind": "list", "dtype": str(array.dtype), "shape": list(array.shape)}
                leaf["key"] = _store(arrays, array, counter)
                return leaf
        if len(value) > MAX_ITEMS:
            return {"kind": "object", "type": f"{type(value).__name__} of {len(value)} items"}
        kind = "tuple" if isinstance(value, tuple) else "list_node"
        return {"kind": kind, "items": [_encode(v, arrays, counter, depth + 1) for v in value]}
    if isinstance(value, dict):
        if len(value) > MAX_ITEMS:
            return {"kind": "object", "type": f"dict of {len(value)} items"}
        items = {}
        for k, v in value.items():
            items[str(k)] = _encode(v, arrays, counter, depth + 1)
        return {"kind": "dict", "items": items}
    name = type(value).__module__ + "." + type(value).__qualname__
    return {"kind": "object", "type": name[:120]}


def to_plain(value) -> tuple[dict, dict[str, np.ndarray]]:
    """Describe `value` as (JSON-able meta, {key: numeric array}); never calls user methods
    beyond numpy/torch conversion."""
    arrays: dict[str, np.ndarray] = {}
    meta = _encode(value, arrays, [0], 0)
    return meta, arrays


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


def write_npz(path, arrays: dict[str, np.ndarray]) -> None:
    """Write arrays as an `.npz` np.load can read, byte-identical for identical arrays.

    np.savez stamps the current time into the zip; here every entry gets a fixed date, the
    keys are sorted and nothing is compressed, so the same arrays always give the same bytes.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_STORED) as zf:
        for key in sorted(arrays):
            buffer = io.BytesIO()
            np.lib.format.write_array(buffer, np.array(arrays[key], order="C"), allow_pickle=False)
            info = zipfile.ZipInfo(f"{key}.npy", date_time=_ZIP_DATE)
            info.external_attr = 0o644 << 16
            zf.writestr(info, buffer.getvalue())


def read_npz(path) -> dict[str, np.ndarray]:
    """Read every array of an `.npz` (allow_pickle=False)."""
    with np.load(path, allow_pickle=False) as z:
        return {k: z[k] for k in z.files}


def save_plain(path, value_meta: dict, arrays: dict[str, np.ndarray]) -> None:
    """Write (meta, arrays) from `to_plain` to one `.npz` (the meta as a JSON string array)."""
    text = json.dumps(value_meta, sort_keys=True)
    write_npz(path, {**arrays, META_KEY: np.asarray(text)})


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


def save_inputs(path, inputs: dict) -> None:
    """Write a flat inputs dict (arrays, ints, floats) as a deterministic `.npz`."""
    write_npz(path, {k: np.asarray(v) for k, v in inputs.items()})


def load_inputs(path) -> dict:
    """Read inputs written by `save_inputs`; 0-d arrays come back as Python int / float."""
    return {k: load_scalar(v) for k, v in read_npz(path).items()}


def load_scalar(value: np.ndarray):
    """0-d integer/float arrays back to Python numbers; any other array unchanged."""
    if value.ndim == 0 and value.dtype.kind in "iu":
        return int(value)
    if value.ndim == 0 and value.dtype.kind == "f":
        return float(value)
    return value


def call_kwargs(inputs: dict, args: tuple[str, ...]) -> dict:
    """Keyword arguments for the student's function: fresh copies, dotted keys grouped.

    inputs: flat dict, e.g. {"x": ..., "p.W_ii": ..., "probe.xs": ...}.
    args: the function's parameter names; keys whose first part is not one of them (such as
    "probe.*", used only by the checker) are left out.
    """
    kwargs: dict = {}
    for key, value in inputs.items():
        head, _, rest = key.partition(".")
        if head not in args:
            continue
        value = value.copy() if isinstance(value, np.ndarray) else value
        if rest:
            kwargs.setdefault(head, {})[rest] = value
        else:
            kwargs[head] = value
    return kwargs


def group(inputs: dict, prefix: str) -> dict:
    """The sub-dict of inputs under `prefix.` (e.g. the parameter dict "p")."""
    n = len(prefix) + 1
    return {k[n:]: v for k, v in inputs.items() if k.startswith(prefix + ".")}
