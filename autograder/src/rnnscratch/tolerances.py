"""Named, dtype-aware tolerances: the only place a tolerance is written down.

The float32/float64 defaults are PyTorch's (`torch.testing.assert_close`). `REFERENCE` is the
stricter bar our own float64 reference code must meet against torch in float64.
"""

import numpy as np

#: float32 results (students who compute in single precision still pass).
FLOAT32 = {"rtol": 1.3e-6, "atol": 1e-5}
#: float64 results.
FLOAT64 = {"rtol": 1e-7, "atol": 1e-7}
#: our float64 reference implementations against torch float64 (oracle tests).
REFERENCE = {"rtol": 1e-10, "atol": 1e-10}
#: finite-difference gradient checks (central differences, eps=1e-6, float64).
FINITE_DIFFERENCE = {"rtol": 1e-5, "atol": 1e-7}


def tolerance_for(dtype) -> dict:
    """Return `{"rtol": ..., "atol": ...}` for an array of `dtype` (float64 for non-floats).

    The task sets the bar: single precision is the loosest it accepts. A result in a lower
    precision (float16, bfloat16 ...) is held to the float32 bar, never a looser one, so
    returning a smaller dtype cannot buy a wider tolerance.
    """
    dtype = np.dtype(dtype)
    if dtype.kind == "f" and dtype.itemsize < 8:
        return dict(FLOAT32)
    return dict(FLOAT64)
