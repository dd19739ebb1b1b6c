"""Checks that raise (never print): type, then shape, then finiteness, then values.

Every failure message names the quantity, gives both shapes, the largest difference and where
it is, and an optional hint. Book pages, tests and the exercise harness all use these.
"""

import numpy as np

from rnnscratch.tolerances import tolerance_for


class CheckError(AssertionError):
    """A check failed; the message says what, where and (when known) why."""


def _fmt_index(index) -> str:
    return "[" + ", ".join(str(int(i)) for i in index) + "]"


def as_array(name: str, value) -> np.ndarray:
    """Convert `value` (numpy array, torch tensor, nested list, number) to a numpy array.

    Raises CheckError with a plain explanation for objects numpy cannot hold as numbers.
    """
    if isinstance(value, np.ndarray):
        return value
    if hasattr(value, "detach") and hasattr(value, "numpy"):  # a torch tensor
        return value.detach().cpu().numpy()
    try:
        array = np.asarray(value)
    except Exception as exc:  # noqa: BLE001 - any conversion failure gets the same message
        raise CheckError(
            f"{name}: could not turn a {type(value).__name__} into an array ({exc})."
        ) from None
    if array.dtype == object:
        raise CheckError(
            f"{name}: got a {type(value).__name__} that is not a rectangular array of numbers."
        )
    return array


def assert_shape(name: str, actual, expected_shape) -> np.ndarray:
    """Raise unless `actual` has shape `expected_shape`; return it as an array."""
    array = as_array(name, actual)
    if tuple(array.shape) != tuple(expected_shape):
        raise CheckError(
            f"{name}: expected shape {tuple(expected_shape)}, got {tuple(array.shape)}."
        )
    return array


def assert_finite(name: str, actual) -> np.ndarray:
    """Raise if `actual` holds NaN or infinity, saying where the first one is."""
    array = as_array(name, actual)
    if np.issubdtype(array.dtype, np.number) and not np.all(np.isfinite(array)):
        bad = np.argwhere(~np.isfinite(array))
        first = _fmt_index(bad[0]) if array.ndim else "[]"
        raise CheckError(
            f"{name}: {len(bad)} of {array.size} values are NaN or infinite "
            f"(first at {first}: {array[tuple(bad[0])] if array.ndim else array})."
        )
    return array


def max_difference(actual: np.ndarray, expected: np.ndarray) -> tuple[float, tuple]:
    """Largest absolute difference between two same-shaped arrays and its index."""
    diff = np.abs(np.asarray(actual, dtype=np.float64) - np.asarray(expected, dtype=np.float64))
    if diff.size == 0:
        return 0.0, ()
    index = np.unravel_index(int(np.argmax(diff)), diff.shape)
    return float(diff[index]), tuple(int(i) for i in index)


def assert_close(name: str, actual, expected, *, rtol=None, atol=None, hint: str = "") -> None:
    """Raise CheckError unless `actual` matches `expected` elementwise.

    name: str  what is compared (e.g. "h_t" or "dW_hh").
    actual: array-like  the value under test (any float dtype; tolerance follows its dtype).
    expected: array-like  the reference, usually computed by torch in float64.
    rtol, atol: float  override the dtype-aware tolerance from `rnnscratch.tolerances`.
    hint: str  appended to the message when the values differ.
    """
    expected = as_array(f"{name} (reference)", expected)
    array = as_array(name, actual)
    if array.dtype == bool or not np.issubdtype(array.dtype, np.number):
        raise CheckError(f"{name}: expected numbers, got an array of {array.dtype}.")
    array = assert_shape(name, array, expected.shape)
    assert_finite(name, array)
    tol = tolerance_for(array.dtype if np.issubdtype(array.dtype, np.floating) else np.float64)
    rtol = tol["rtol"] if rtol is None else rtol
    atol = tol["atol"] if atol is None else atol
    a64 = array.astype(np.float64)
    e64 = expected.astype(np.float64)
    bad = np.abs(a64 - e64) > atol + rtol * np.abs(e64)
    if np.any(bad):
        diff, index = max_difference(a64, e64)
        where = _fmt_index(index) if index else "[]"
        message = (
            f"{name}: {int(bad.sum())} of {bad.size} values differ (shape {array.shape}, "
            f"dtype {array.dtype}); max |difference| {diff:.3g} at {where}: "
            f"got {a64[index] if index else a64}, expected {e64[index] if index else e64} "
            f"(rtol={rtol:g}, atol={atol:g})."
        )
        if hint:
            message += f"\nHint: {hint}"
        raise CheckError(message)


def finite_difference_grad(f, x: np.ndarray, eps: float = 1e-6) -> np.ndarray:
    """Central-difference gradient of scalar `f(x)` with respect to float64 array `x`.

    f: callable  maps an array shaped like x to a float.
    x: (...) float64  the point; it is perturbed in place and restored.
    returns: (...) float64  df/dx, same shape as x.
    """
    grad = np.zeros_like(x, dtype=np.float64)
    for index in np.ndindex(x.shape):
        old = x[index]
        x[index] = old + eps
        plus = f(x)
        x[index] = old - eps
        minus = f(x)
        x[index] = old
        grad[index] = (plus - minus) / (2 * eps)
    return grad
