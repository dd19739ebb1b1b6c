"""The check helpers raise with shapes, the max difference and its index."""

import numpy as np
import pytest
import torch

from rnnscratch.checks import CheckError, assert_close, finite_difference_grad


def test_equal_arrays_pass():
    x = np.linspace(-1, 1, 12).reshape(3, 4)
    assert_close("x", x.copy(), x)


def test_shape_mismatch_names_both_shapes():
    with pytest.raises(CheckError, match=r"expected shape \(3, 4\), got \(4, 3\)"):
        assert_close("h", np.zeros((4, 3)), np.zeros((3, 4)))


def test_value_mismatch_names_max_difference_and_index():
    expected = np.zeros((2, 3))
    actual = expected.copy()
    actual[1, 2] = 0.5
    with pytest.raises(CheckError, match=r"max \|difference\| 0.5 at \[1, 2\]") as info:
        assert_close("c_t", actual, expected, hint="did you drop the bias?")
    assert "Hint: did you drop the bias?" in str(info.value)


def test_nan_is_reported_with_its_position():
    actual = np.zeros((2, 2))
    actual[0, 1] = np.nan
    with pytest.raises(CheckError, match=r"NaN or infinite \(first at \[0, 1\]"):
        assert_close("y", actual, np.zeros((2, 2)))


def test_float32_uses_float32_tolerance():
    expected = np.full(3, 1.0)
    assert_close("x", (expected + 1e-6).astype(np.float32), expected)
    with pytest.raises(CheckError):
        assert_close("x", expected + 1e-6, expected)  # float64 is held to 1e-7


def test_torch_tensor_and_list_are_accepted():
    assert_close("x", torch.ones(2, dtype=torch.float64), np.ones(2))
    assert_close("x", [1.0, 1.0], np.ones(2))


def test_ragged_list_gets_a_plain_message():
    with pytest.raises(CheckError, match="not a rectangular array|could not turn"):
        assert_close("x", [[1.0], [1.0, 2.0]], np.ones((2, 2)))


def test_finite_difference_matches_analytic_gradient():
    x = np.array([0.3, -1.2, 2.0])
    grad = finite_difference_grad(lambda v: float(np.sum(np.tanh(v) ** 2)), x)
    assert_close("grad", grad, 2 * np.tanh(x) * (1 - np.tanh(x) ** 2), rtol=1e-6, atol=1e-8)
