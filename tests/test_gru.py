"""Oracle tests for rnnscratch.models.gru against torch float64 (nn.GRU, autograd, Cho's form)."""

import numpy as np
import pytest

from rnnscratch.checks import assert_close, max_difference
from rnnscratch.models import gru
from rnnscratch.models.params import init_gru_params
from rnnscratch.oracle import gru as ogru
from rnnscratch.tolerances import REFERENCE

SHAPES = [(0, 1, 1, 1, 1), (1, 1, 3, 4, 5), (2, 6, 1, 3, 2), (3, 5, 4, 3, 6), (4, 9, 2, 5, 4)]


def make(seed, T, B, D, H):
    rng = np.random.default_rng(seed)
    p = {k: 3 * v for k, v in init_gru_params(D, H, rng).items()}
    xs = rng.normal(size=(T, B, D))
    h0 = rng.normal(size=(B, H))
    return rng, p, xs, h0


@pytest.mark.parametrize("shape", SHAPES)
def test_forward_matches_nn_gru(shape):
    _, p, xs, h0 = make(*shape)
    hs = gru.gru_forward(xs, h0, p)
    ref_hs, ref_h = ogru.torch_gru_forward(xs, h0, p)
    assert_close("hs", hs, ref_hs, **REFERENCE)
    assert_close("h_T", hs[-1], ref_h, **REFERENCE)


@pytest.mark.parametrize("shape", SHAPES)
def test_backward_matches_autograd(shape):
    rng, p, xs, h0 = make(*shape)
    hs, gates = gru.gru_forward(xs, h0, p, return_gates=True)
    dhs = rng.normal(size=hs.shape)
    grads = gru.gru_backward(dhs, xs, h0, hs, gates, p)
    ref = ogru.torch_gru_grads(xs, h0, p, dhs)
    names = ["dxs", "dh0"] + [f"d{k}" for k in gru.GRU_KEYS]
    assert set(grads) == set(names)
    for name in names:
        assert_close(name, grads[name], ref[name], **REFERENCE)


@pytest.mark.parametrize("shape", SHAPES[:3])
def test_cell_backward_is_one_step_of_bptt(shape):
    rng, p, xs, h0 = make(*shape)
    x = xs[0]
    _, gates = gru.gru_forward(x[None], h0, p, return_gates=True)
    dh = rng.normal(size=h0.shape)
    g = gru.gru_cell_backward(dh, x, h0, {k: v[0] for k, v in gates.items()}, p)
    ref = ogru.torch_gru_grads(x[None], h0, p, dh[None])
    assert_close("dx", g["dx"], ref["dxs"][0], **REFERENCE)
    assert_close("dh_prev", g["dh_prev"], ref["dh0"], **REFERENCE)
    for k in gru.GRU_KEYS:
        assert_close(f"d{k}", g[f"d{k}"], ref[f"d{k}"], **REFERENCE)


@pytest.mark.parametrize("shape", SHAPES)
def test_gates_match_torch_gates(shape):
    _, p, xs, h0 = make(*shape)
    x = xs[0]
    args = {"x": x, "h_prev": h0}
    r = gru.reset_gate(**args, W_ir=p["W_ir"], W_hr=p["W_hr"], b_ir=p["b_ir"], b_hr=p["b_hr"])
    ref_r = ogru.torch_reset_gate(
        **args, W_ir=p["W_ir"], W_hr=p["W_hr"], b_ir=p["b_ir"], b_hr=p["b_hr"]
    )
    assert_close("r", r, ref_r, **REFERENCE)
    zk = {"W_iz": p["W_iz"], "W_hz": p["W_hz"], "b_iz": p["b_iz"], "b_hz": p["b_hz"]}
    assert_close(
        "z", gru.update_gate(**args, **zk), ogru.torch_update_gate(**args, **zk), **REFERENCE
    )
    nk = {"r": r, "W_in": p["W_in"], "W_hn": p["W_hn"], "b_in": p["b_in"], "b_hn": p["b_hn"]}
    n = gru.gru_candidate(**args, **nk)
    assert_close("n", n, ogru.torch_gru_candidate(**args, **nk), **REFERENCE)


@pytest.mark.parametrize("shape", SHAPES)
def test_torch_gates_compose_to_nn_gru(shape):
    _, p, xs, h0 = make(*shape)
    x = xs[0]
    r = ogru.torch_reset_gate(x, h0, p["W_ir"], p["W_hr"], p["b_ir"], p["b_hr"])
    z = ogru.torch_update_gate(x, h0, p["W_iz"], p["W_hz"], p["b_iz"], p["b_hz"])
    n = ogru.torch_gru_candidate(x, h0, r, p["W_in"], p["W_hn"], p["b_in"], p["b_hn"])
    h = (1 - z) * n + z * h0
    _, ref_h = ogru.torch_gru_forward(x[None], h0, p)
    assert_close("h", h, ref_h, **REFERENCE)
    assert_close("GRUCell h", ogru.torch_gru_cell(x, h0, p), ref_h, **REFERENCE)
    assert_close("gru_cell h", gru.gru_cell(x, h0, p), ref_h, **REFERENCE)


@pytest.mark.parametrize("shape", SHAPES)
def test_cho_matches_independent_torch_formula(shape):
    _, p, xs, h0 = make(*shape)
    h = h0
    for x in xs:
        h_ref = ogru.torch_cho_gru_cell(x, h, p)
        assert_close("cho h", gru.cho_gru_cell(x, h, p), h_ref, **REFERENCE)
        h = h_ref
    assert_close(
        "cho hs", gru.cho_gru_forward(xs, h0, p), ogru.torch_cho_gru_forward(xs, h0, p), **REFERENCE
    )


@pytest.mark.parametrize("shape", SHAPES[1:])
def test_cho_and_pytorch_differ_on_the_same_weights(shape):
    _, p, xs, h0 = make(*shape)
    diff, _ = max_difference(gru.cho_gru_forward(xs, h0, p), ogru.torch_gru_forward(xs, h0, p)[0])
    assert diff > 1e-3


def test_cho_and_pytorch_agree_when_reset_is_open():
    """With r = 1 everywhere (huge reset bias) and b_hn = 0 the two forms coincide."""
    _, p, xs, h0 = make(*SHAPES[3])
    p = dict(p, b_ir=np.full_like(p["b_ir"], 50.0), b_hn=np.zeros_like(p["b_hn"]))
    assert_close("hs", gru.cho_gru_forward(xs, h0, p), gru.gru_forward(xs, h0, p), **REFERENCE)
