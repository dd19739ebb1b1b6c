"""Oracle tests for rnnscratch.models.lstm against torch in float64 (nn.LSTM, autograd)."""

import numpy as np
import pytest
import torch

from rnnscratch.checks import assert_close
from rnnscratch.models import lstm
from rnnscratch.models.params import init_lstm_params, lstm_params_to_torch
from rnnscratch.oracle import lstm as olstm
from rnnscratch.tolerances import REFERENCE

# (seed, T, B, D, H): includes T=1 and B=1
SHAPES = [(0, 1, 1, 1, 1), (1, 1, 3, 4, 5), (2, 6, 1, 3, 2), (3, 5, 4, 3, 6), (4, 9, 2, 5, 4)]


def make(seed, T, B, D, H):
    rng = np.random.default_rng(seed)
    p = init_lstm_params(D, H, rng)
    p = {k: 3 * v for k, v in p.items()}  # larger weights: gates away from 0.5, tanh curved
    xs = rng.normal(size=(T, B, D))
    h0 = rng.normal(size=(B, H))
    c0 = rng.normal(size=(B, H))
    return rng, p, xs, h0, c0


@pytest.mark.parametrize("shape", SHAPES)
def test_forward_matches_nn_lstm(shape):
    _, p, xs, h0, c0 = make(*shape)
    hs, cs = lstm.lstm_forward(xs, h0, c0, p)
    ref_hs, ref_h, ref_c = olstm.torch_lstm_forward(xs, h0, c0, p)
    assert_close("hs", hs, ref_hs, **REFERENCE)
    assert_close("h_T", hs[-1], ref_h, **REFERENCE)
    assert_close("c_T", cs[-1], ref_c, **REFERENCE)


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("use_c_T", [False, True])
def test_backward_matches_autograd(shape, use_c_T):
    rng, p, xs, h0, c0 = make(*shape)
    hs, cs, gates = lstm.lstm_forward(xs, h0, c0, p, return_gates=True)
    dhs = rng.normal(size=hs.shape)
    dc_T = rng.normal(size=h0.shape) if use_c_T else None
    grads = lstm.lstm_backward(dhs, xs, h0, c0, hs, cs, gates, p, dc_T=dc_T)
    ref = olstm.torch_lstm_grads(xs, h0, c0, p, dhs, dc_T)
    names = ["dxs", "dh0", "dc0"] + [f"d{k}" for k in lstm.LSTM_KEYS]
    assert set(grads) == set(names)
    for name in names:
        assert_close(name, grads[name], ref[name], **REFERENCE)


@pytest.mark.parametrize("shape", SHAPES[:3])
def test_cell_backward_is_one_step_of_bptt(shape):
    rng, p, xs, h0, c0 = make(*shape)
    x = xs[0]
    hs, cs, gates = lstm.lstm_forward(x[None], h0, c0, p, return_gates=True)
    dh, dc = rng.normal(size=h0.shape), rng.normal(size=h0.shape)
    step = {k: v[0] for k, v in gates.items()}
    g = lstm.lstm_cell_backward(dh, dc, x, h0, c0, cs[0], step, p)
    ref = olstm.torch_lstm_grads(x[None], h0, c0, p, dh[None], dc)
    assert_close("dx", g["dx"], ref["dxs"][0], **REFERENCE)
    assert_close("dh_prev", g["dh_prev"], ref["dh0"], **REFERENCE)
    assert_close("dc_prev", g["dc_prev"], ref["dc0"], **REFERENCE)
    for k in lstm.LSTM_KEYS:
        assert_close(f"d{k}", g[f"d{k}"], ref[f"d{k}"], **REFERENCE)


GATE_FUNCS = [
    ("forget_gate", "f", ("W_if", "W_hf", "b_if", "b_hf")),
    ("input_gate", "i", ("W_ii", "W_hi", "b_ii", "b_hi")),
    ("candidate", "g", ("W_ig", "W_hg", "b_ig", "b_hg")),
    ("output_gate", "o", ("W_io", "W_ho", "b_io", "b_ho")),
]


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("name, gate, keys", GATE_FUNCS)
def test_each_gate_matches_torch_gate(shape, name, gate, keys):
    _, p, xs, h0, _ = make(*shape)
    kwargs = {"x": xs[0], "h_prev": h0, **{k: p[k] for k in keys}}
    ours = getattr(lstm, name)(**kwargs)
    theirs = getattr(olstm, f"torch_{name}")(**kwargs)
    assert_close(name, ours, theirs, **REFERENCE)


@pytest.mark.parametrize("shape", SHAPES)
def test_cell_and_hidden_update_match_torch(shape):
    rng, _, _, h0, c0 = make(*shape)
    f, i, o = (rng.uniform(size=h0.shape) for _ in range(3))
    g = rng.uniform(-1, 1, size=h0.shape)
    c = lstm.cell_update(f, i, g, c0)
    assert_close("c", c, olstm.torch_cell_update(f, i, g, c0), **REFERENCE)
    assert_close("h", lstm.hidden_update(o, c), olstm.torch_hidden_update(o, c), **REFERENCE)


@pytest.mark.parametrize("shape", SHAPES)
def test_torch_gates_compose_to_nn_lstm(shape):
    _, p, xs, h0, c0 = make(*shape)
    x = xs[0]
    f = olstm.torch_forget_gate(x, h0, p["W_if"], p["W_hf"], p["b_if"], p["b_hf"])
    i = olstm.torch_input_gate(x, h0, p["W_ii"], p["W_hi"], p["b_ii"], p["b_hi"])
    g = olstm.torch_candidate(x, h0, p["W_ig"], p["W_hg"], p["b_ig"], p["b_hg"])
    o = olstm.torch_output_gate(x, h0, p["W_io"], p["W_ho"], p["b_io"], p["b_ho"])
    c = olstm.torch_cell_update(f, i, g, c0)
    h = olstm.torch_hidden_update(o, c)
    _, ref_h, ref_c = olstm.torch_lstm_forward(x[None], h0, c0, p)
    assert_close("c", c, ref_c, **REFERENCE)
    assert_close("h", h, ref_h, **REFERENCE)
    cell_h, cell_c = olstm.torch_lstm_cell(x, h0, c0, p)
    assert_close("LSTMCell h", cell_h, ref_h, **REFERENCE)
    assert_close("LSTMCell c", cell_c, ref_c, **REFERENCE)


@pytest.mark.parametrize("shape", SHAPES)
def test_lstm_cell_matches_lstm_cell_module(shape):
    _, p, xs, h0, c0 = make(*shape)
    h, c = lstm.lstm_cell(xs[0], h0, c0, p)
    ref_h, ref_c = olstm.torch_lstm_cell(xs[0], h0, c0, p)
    assert_close("h", h, ref_h, **REFERENCE)
    assert_close("c", c, ref_c, **REFERENCE)


@pytest.mark.parametrize("shape", SHAPES)
def test_fused_forward_matches_nn_lstm(shape):
    _, p, xs, h0, c0 = make(*shape)
    packed = {k: v.numpy() for k, v in lstm_params_to_torch(p).items()}
    hs, (h_T, c_T) = lstm.lstm_forward_fused(
        xs, h0, c0, *(packed[f"{w}_l0"] for w in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"))
    )
    ref_hs, ref_h, ref_c = olstm.torch_lstm_forward(xs, h0, c0, p)
    assert_close("hs", hs, ref_hs, **REFERENCE)
    assert_close("h_T", h_T, ref_h, **REFERENCE)
    assert_close("c_T", c_T, ref_c, **REFERENCE)


def test_swapped_gates_are_detected():
    """The oracle comparison can fail: swapping the input and forget gates changes the output."""
    _, p, xs, h0, c0 = make(*SHAPES[3])
    swapped = dict(p)
    for w in ("W_i", "W_h", "b_i", "b_h"):
        swapped[f"{w}i"], swapped[f"{w}f"] = p[f"{w}f"], p[f"{w}i"]
    hs, _ = lstm.lstm_forward(xs, h0, c0, swapped)
    ref_hs, _, _ = olstm.torch_lstm_forward(xs, h0, c0, p)
    with pytest.raises(AssertionError):
        assert_close("hs", hs, ref_hs, **REFERENCE)


@pytest.mark.parametrize("shape", SHAPES)
def test_state_jacobian_matches_autograd(shape):

    _, p, xs, h0, c0 = make(*shape)
    x = xs[0]
    H = h0.shape[1]
    J = lstm.lstm_state_jacobian(x, h0, c0, p)
    cell = torch.nn.LSTMCell(x.shape[1], H, dtype=torch.float64)
    cell.load_state_dict({k.removesuffix("_l0"): v for k, v in lstm_params_to_torch(p).items()})
    for b in range(x.shape[0]):
        xb = torch.from_numpy(x[b : b + 1])

        def step(state, xb=xb):
            h, c = cell(xb, (state[None, :H], state[None, H:]))
            return torch.cat([h[0], c[0]])

        state = torch.from_numpy(np.concatenate([h0[b], c0[b]]))
        ref = torch.autograd.functional.jacobian(step, state).numpy()
        assert_close(f"state Jacobian, example {b}", J[b], ref, **REFERENCE)
