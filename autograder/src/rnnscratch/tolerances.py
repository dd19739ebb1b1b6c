"""Named, dtype-aware tolerances: the only place a tolerance is written down.

The float32/float64 defaults are PyTorch's (`torch.testing.assert_close`). `REFERENCE` is the
stricter bar our own float64 reference code must meet against torch in float64.
"""

import numpy as np

#: float32 results (students who compute in single precision still pass).
FLOAT32 = {"rtol": 1.3e-6, "atol": 1e-5}
#: float64 results.
FLOAT64 = {"rtol": 1e-7, "atol": 1e-7}
#: float16 results (accepted, loosely).
FLOAT16 = {"rtol": 1e-3, "atol": 1e-5}
#: our float64 reference implementations against torch float64 (oracle tests).
REFERENCE = {"rtol": 1e-10, "atol": 1e-10}
#: finite-difference gradient checks (central differences, eps=1e-6, float64).
FINITE_DIFFERENCE = {"rtol": 1e-5, "atol": 1e-7}


def tolerance_for(dtype) -> dict:
    """Return `{"rtol": ..., "atol": ...}` for an array of `dtype` (float64 for non-floats)."""
    dtype = np.dtype(dtype)
    if dtype == np.float16:
        return dict(FLOAT16)
    if dtype == np.float32:
        return dict(FLOAT32)
    return dict(FLOAT64)
