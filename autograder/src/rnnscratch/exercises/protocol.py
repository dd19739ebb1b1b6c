"""The seam between the grader and the sandbox: the only course code the sandbox ever sees.

It imports nothing from the course (only the standard library and numpy; torch only inside the
one adapter that needs it), so the grader can bind this single file into the sandbox. It owns:

- the record-directory layout: ``<record_dir>/inputs/<name>__<case>.npz`` (written by the
  trusted side, read-only in the sandbox) and ``<record_dir>/outputs/<name>__<case>.npz|.json``
  (written by ``record``);
- the ``<name>__<case>`` naming (``stem``, ``OUTPUT_NAME``);
- the recorder interface: ``record(name, func, case, record_dir, args, ...)`` calls the
  student's function on the recorded inputs and writes its result as plain data; it never
  compares and knows no reference value;
- plain data: ``to_plain`` (a result -> JSON meta + numeric arrays), ``write_npz`` (no pickle,
  no compression) and ``read_npz``, which treats a file as hostile: regular file only, bounded
  size and count, stored (uncompressed) entries only, every ``.npy`` header checked against the
  bytes actually present before anything is allocated;
- the output channel: ``send_outputs`` frames the recorded files onto a pipe (the sandbox's
  outputs live on a size-limited tmpfs and never touch the host disk).
"""

import io
import json
import os
import re
import stat
import struct
import traceback
import warnings
import zipfile
from pathlib import Path

import numpy as np

RECORD_DIR = "/run/grading"  # where the record directory is inside the sandbox
INPUTS = "inputs"
OUTPUTS = "outputs"
OUTPUT_NAME = re.compile(r"^([A-Za-z0-9_]+?)__([A-Za-z0-9_]+)\.(npz|json)$")
META_KEY = "__meta__"
MAX_DEPTH = 6
MAX_ITEMS = 64
MAX_ELEMENTS = 20_000_000
MAX_META_CHARS = 100_000
MAX_ERROR_CHARS = 2000
MAX_FILE_BYTES = 64 * 1024**2  # one recorded or input file
MAX_ENTRIES = 4 * MAX_ITEMS + 8  # arrays in one file
_ZIP_DATE = (1980, 1, 1, 0, 0, 0)


class PlainError(ValueError):
    """The recorded data is not valid plain data (too big, nested too deep, malformed)."""


def stem(name: str, case: str) -> str:
    """The file stem of one (function, case) pair: ``<name>__<case>``."""
    return f"{name}__{case}"


def input_file(record_dir, name: str, case: str) -> Path:
    return Path(record_dir) / INPUTS / f"{stem(name, case)}.npz"


def output_files(record_dir, name: str, case: str) -> tuple[Path, Path]:
    """(the .npz of a result, the .json of an error) of one pair."""
    base = Path(record_dir) / OUTPUTS / stem(name, case)
    return base.with_name(base.name + ".npz"), base.with_name(base.name + ".json")


# ----------------------------------------------------------------------------------------------
# plain data: a result -> (JSON meta, numeric arrays)
# ----------------------------------------------------------------------------------------------


def _is_torch_tensor(value) -> bool:
    return type(value).__module__.startswith("torch") and hasattr(value, "detach")


def numeric(array: np.ndarray) -> bool:
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
        if not numeric(array):
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
                and numeric(array)
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


# ----------------------------------------------------------------------------------------------
# files: deterministic npz without pickle or compression, read as hostile
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


def read_regular(path, limit: int = MAX_FILE_BYTES) -> bytes:
    """The bytes of a regular file of at most ``limit`` bytes; OSError for a link, a FIFO, a
    device or a larger file (O_NOFOLLOW | O_NONBLOCK, fstat before reading: nothing blocks)."""
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise OSError(0, "not a regular file")
        if info.st_size > limit:
            raise OSError(0, f"larger than {limit} bytes")
        chunks, size = [], 0
        while size <= limit:
            data = os.read(fd, min(1 << 20, limit + 1 - size))
            if not data:
                break
            chunks.append(data)
            size += len(data)
        if size > limit:
            raise OSError(0, f"larger than {limit} bytes")
        return b"".join(chunks)
    finally:
        os.close(fd)


def _npy(data: bytes, name: str) -> np.ndarray:
    """One .npy entry, its header checked against its length before anything is allocated."""
    buffer = io.BytesIO(data)
    try:
        version = np.lib.format.read_magic(buffer)
        if version == (1, 0):
            shape, fortran, dtype = np.lib.format.read_array_header_1_0(buffer)
        elif version in ((2, 0), (3, 0)):
            shape, fortran, dtype = np.lib.format.read_array_header_2_0(buffer)
        else:
            raise PlainError(f"{name}: unknown .npy version")
    except PlainError:
        raise
    except Exception as exc:  # noqa: BLE001 - a malformed header is malformed data
        raise PlainError(f"{name}: malformed .npy header ({str(exc)[:100]})") from None
    if dtype.hasobject or dtype.kind not in "biufcU" or dtype.itemsize == 0:
        raise PlainError(f"{name}: arrays of {dtype} are not accepted")
    count = 1
    for n in shape:
        if not isinstance(n, int) or n < 0:
            raise PlainError(f"{name}: malformed shape")
        count *= n
    offset = buffer.tell()
    if count * dtype.itemsize != len(data) - offset:
        raise PlainError(f"{name}: the header's shape does not match the data")
    array = np.frombuffer(data, dtype=dtype, count=count, offset=offset)
    array = array.reshape(shape, order="F" if fortran else "C")
    return np.array(array, order="C")


def read_npz(path, limit: int = MAX_FILE_BYTES, entries: int = MAX_ENTRIES) -> dict:
    """Read every array of an `.npz` written by ``write_npz`` (possibly by hostile code).

    Only a regular file of at most ``limit`` bytes, at most ``MAX_ENTRIES`` stored
    (uncompressed) entries whose declared size is their real size: a decompression bomb or a
    header that claims a huge shape is refused before any memory is allocated for it.
    """
    raw = read_regular(path, limit)
    try:
        zf = zipfile.ZipFile(io.BytesIO(raw))
    except (zipfile.BadZipFile, ValueError, struct.error) as exc:
        raise PlainError(f"not an .npz file ({exc})") from None
    with zf:
        infos = zf.infolist()
        if len(infos) > entries:
            raise PlainError(f"more than {entries} arrays in one file")
        total = sum(i.file_size for i in infos)
        if total > len(raw):
            raise PlainError("the file declares more data than it holds")
        out = {}
        for info in infos:
            if info.compress_type != zipfile.ZIP_STORED or info.file_size != info.compress_size:
                raise PlainError("compressed entries are not accepted")
            if not info.filename.endswith(".npy") or info.filename[:-4] in out:
                raise PlainError("unexpected entry in the .npz file")
            try:
                data = zf.read(info)
            except (zipfile.BadZipFile, ValueError, OSError, struct.error) as exc:
                raise PlainError(f"unreadable entry ({exc})") from None
            out[info.filename[:-4]] = _npy(data, info.filename)
        return out


def save_plain(path, value_meta: dict, arrays: dict[str, np.ndarray]) -> None:
    """Write (meta, arrays) from `to_plain` to one `.npz` (the meta as a JSON string array)."""
    text = json.dumps(value_meta, sort_keys=True)
    write_npz(path, {**arrays, META_KEY: np.asarray(text)})


def save_inputs(path, inputs: dict) -> None:
    """Write a flat inputs dict (arrays, ints, floats) as a deterministic `.npz`."""
    write_npz(path, {k: np.asarray(v) for k, v in inputs.items()})


def load_inputs(path) -> dict:
    """Read inputs written by `save_inputs`; 0-d arrays come back as Python int / float."""
    return {k: scalar(v) for k, v in read_npz(path).items()}


def scalar(value: np.ndarray):
    if value.ndim == 0 and value.dtype.kind in "iu":
        return int(value)
    if value.ndim == 0 and value.dtype.kind == "f":
        return float(value)
    return value


# ----------------------------------------------------------------------------------------------
# calling the student's function (runs in the student's process)
# ----------------------------------------------------------------------------------------------


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


class AdaptError(TypeError):
    """Raised by an adapter when the result has the wrong kind (carries a mistake key)."""

    def __init__(self, message: str, mistake: str):
        super().__init__(message)
        self.mistake = mistake


def classify_exception(
    exc: BaseException,
    backward: bool = False,
    broadcast_mistake: str | None = None,
    batch: int | None = None,
    hidden: int | None = None,
) -> str:
    """Catalogue key for an exception raised by the student's function.

    backward: the function is a backward pass (a transposed weight gets backward advice).
    broadcast_mistake: the key named when numpy cannot broadcast two operands.
    batch, hidden: (B, H) of the case, to read numpy's matmul shape errors.
    """
    text = str(exc)
    if isinstance(exc, AdaptError):
        return exc.mistake
    if isinstance(exc, NotImplementedError):
        return "not_implemented"
    if isinstance(exc, ValueError) and (
        "matmul" in text or "not aligned" in text or "mismatch in its core dimension" in text
    ):
        found = re.search(r"size (\d+) is different from (\d+)", text)
        sizes = {int(found.group(1)), int(found.group(2))} if found else set()
        if batch is not None and hidden is not None and sizes == {batch, hidden}:
            return "matmul_for_elementwise"  # (B, H) @ (B, H): its text names both readings
        return "backward_weight_transposed" if backward else "weight_transposed"
    if isinstance(exc, ValueError) and "could not broadcast input array from shape" in text:
        return "buffer_wrong_shape"
    if isinstance(exc, ValueError) and "operands could not be broadcast together" in text:
        return broadcast_mistake or "raised_exception"
    return "raised_exception"


def batch_hidden(inputs: dict) -> tuple[int | None, int | None]:
    """(B, H) of a case, from h_prev, dh, da or h0 (B, H), to read numpy's shape errors."""
    for key in ("h_prev", "dh", "da", "h0"):
        value = inputs.get(key)
        if isinstance(value, np.ndarray) and value.ndim == 2 and value.shape[0] != value.shape[1]:
            return int(value.shape[0]), int(value.shape[1])
    return None, None


def snapshot(value):
    """A copy of an argument to compare with after the call (arrays and dicts of arrays)."""
    if isinstance(value, np.ndarray):
        return value.copy()
    if isinstance(value, dict):
        return {k: snapshot(v) for k, v in value.items()}
    return value


def changed(before, after, label: str) -> list[str]:
    """Labels of the arguments (or dict entries) that differ from their snapshot."""
    if isinstance(before, np.ndarray):
        same = (
            isinstance(after, np.ndarray)
            and after.shape == before.shape
            and np.array_equal(after, before, equal_nan=True)
        )
        return [] if same else [label]
    if isinstance(before, dict):
        if not isinstance(after, dict) or set(after) != set(before):
            return [label]
        return [n for k in before for n in changed(before[k], after[k], f"{label}['{k}']")]
    return []


def short_traceback(exc: BaseException) -> str:
    frames = [
        f
        for f in traceback.extract_tb(exc.__traceback__)
        if "rnnscratch/exercises" not in f.filename and f.filename != __file__
    ][-3:]
    lines = [
        f"  line {f.lineno} in {f.name}: {(f.line or '').strip()}".rstrip(": ") for f in frames
    ]
    return "\n".join(lines)


def run_lstm_module(module, q):
    """Adapter of ``to_torch_lstm``: run the returned module on the probe sequence ->
    (output, h_n, c_n) (student side; the only place torch is imported here)."""
    import torch

    if not isinstance(module, torch.nn.LSTM):
        raise AdaptError(
            f"to_torch_lstm returned {type(module).__name__}, not torch.nn.LSTM", "not_an_lstm"
        )
    if getattr(module, "batch_first", False):
        raise AdaptError(
            "to_torch_lstm returned an LSTM with batch_first=True; the course's sequences are "
            "time-major (T, B, D)",
            "batch_major",
        )
    param = next(module.parameters())
    xs, h0, c0 = (torch.as_tensor(q[f"probe.{k}"], dtype=param.dtype) for k in ("xs", "h0", "c0"))
    with torch.no_grad():
        out, (h_n, c_n) = module(xs, (h0[None], c0[None]))
    return out.numpy(), h_n.numpy(), c_n.numpy()


ADAPTERS = {f.__name__: f for f in (run_lstm_module,)}

#: draws the sampler of a07 is asked for at once (one stored row of logits, repeated)
SAMPLER_DRAWS = 2000


def prepare_sampler(kwargs: dict) -> dict:
    """Preparer of ``sample_next``: the stored row of logits becomes SAMPLER_DRAWS equal rows,
    the stored seed the numpy Generator the function expects (student side)."""
    if "logits" in kwargs:
        kwargs["logits"] = np.tile(kwargs["logits"][:1], (SAMPLER_DRAWS, 1))
    if "rng" in kwargs:
        kwargs["rng"] = np.random.default_rng(kwargs["rng"])
    return kwargs


#: functions that turn plain inputs into call arguments, by name (the sandbox gets names only)
PREPARERS = {f.__name__: f for f in (prepare_sampler,)}


def call(
    name: str,
    func,
    inputs: dict,
    args,
    adapt=None,
    prepare=None,
    stable: bool = False,
    backward: bool = False,
    broadcast_mistake: str | None = None,
    overflow_mistake: str = "unstable_softmax",
):
    """Call the student's ``func`` on ``inputs`` -> ("ok", meta, arrays) or
    ("error", message, mistake key). Nothing is raised and no warning reaches stderr.

    adapt, prepare: callables or names in ADAPTERS / PREPARERS. An argument the function
    changed in place is an error (named); on a ``stable`` case so is an overflow warning.
    """
    if not callable(func):
        return "error", f"`{name}` is not defined (or not a function).", "not_defined"
    if isinstance(adapt, str):
        adapt = ADAPTERS[adapt]
    if isinstance(prepare, str):
        prepare = PREPARERS[prepare]
    kwargs = call_kwargs(inputs, tuple(args))
    if prepare is not None:
        kwargs = prepare(kwargs)
    before = {k: snapshot(v) for k, v in kwargs.items()}
    given = dict(kwargs)
    positional = []
    for arg in args:  # positional while the arguments are consecutive (robust to renames)
        if arg not in kwargs:
            break
        positional.append(kwargs.pop(arg))
    with warnings.catch_warnings(record=True) as caught, np.errstate(all="ignore", over="warn"):
        warnings.simplefilter("always")
        try:
            result = func(*positional, **kwargs)
            if adapt is not None:
                result = adapt(result, inputs)
        except (Exception, SystemExit) as exc:  # noqa: BLE001 - any failure becomes feedback
            key = classify_exception(exc, backward, broadcast_mistake, *batch_hidden(inputs))
            message = f"calling {name}(...) raised {type(exc).__name__}: {str(exc)[:400]}"
            tb = short_traceback(exc)
            return "error", message + ("\n" + tb if tb else ""), key
        modified = [n for k, v in before.items() for n in changed(v, given[k], k)]
        if modified:
            text = f"{name} modified its input {', '.join(modified)} in place."
            return "error", text, "input_modified"
        overflow = [
            w
            for w in caught
            if issubclass(w.category, RuntimeWarning) and "overflow" in str(w.message)
        ]
        if overflow and stable:
            text = (
                f"{name} overflowed on this test (RuntimeWarning: {str(overflow[0].message)[:80]})."
            )
            return "error", text, overflow_mistake
        try:
            meta, arrays = to_plain(result)
        except PlainError as exc:
            return "error", f"{name} returned something too large to check: {exc}", None
    return "ok", meta, arrays


def _write_error(path: Path, message: str, mistake: str | None) -> None:
    path.write_text(json.dumps({"error": message[:MAX_ERROR_CHARS], "mistake": mistake}))


def record(name: str, func, case: str, record_dir, args, stable_cases=(), **options) -> None:
    """Run ``func`` on the recorded inputs of (name, case) and write its output as plain data.

    Reads ``inputs/<name>__<case>.npz``; writes ``outputs/<name>__<case>.npz`` or ``.json``
    {"error": message, "mistake": key}. ``options`` are ``call``'s (``harness.recorder`` gives
    them as plain data). Never raises: an exception in the student's code, an
    interrupt or a broken result is recorded.
    """
    npz, js = output_files(record_dir, name, case)
    try:
        npz.parent.mkdir(parents=True, exist_ok=True)
        for old in (npz, js):
            old.unlink(missing_ok=True)
        inputs = load_inputs(input_file(record_dir, name, case))
        outcome = call(name, func, inputs, args, stable=case in stable_cases, **options)
        if outcome[0] == "ok":
            save_plain(npz, outcome[1], outcome[2])
        else:
            _write_error(js, outcome[1], outcome[2])
    except KeyboardInterrupt:
        _write_error(js, "interrupted (time limit reached)", None)
    except Exception as exc:  # noqa: BLE001 - record mode never raises
        try:
            _write_error(js, f"could not record: {exc}", None)
        except Exception:  # noqa: BLE001, S110 - nothing more can be done
            pass


def send_outputs(fd: int, record_dir, pairs) -> None:
    """Frame the recorded files of ``pairs`` onto pipe ``fd``: a line ``<file name> <size>``,
    then the bytes. The trusted side checks every name and size and keeps its own bounds."""
    for name, case in pairs:
        for path in output_files(record_dir, name, case):
            try:
                data = read_regular(path)
            except OSError:
                continue
            header = f"{path.name} {len(data)}\n".encode()
            try:
                view = memoryview(header + data)
                while view:
                    view = view[os.write(fd, view) :]
            except OSError:
                return
