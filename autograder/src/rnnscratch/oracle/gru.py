"""Torch float64 oracles for `models.gru`: per-gate formulas, nn.GRU with autograd, Cho's form.

Every function takes numpy arrays (or tensors), computes in float64 torch, and returns numpy.
Argument names match the numpy functions (`torch_reset_gate(x, h_prev, W_ir, W_hr, b_ir, b_hr)`).
"""

import numpy as np
import torch

from rnnscratch.models.gru import GRU_GATES, GRU_KEYS
from rnnscratch.models.params import gru_params_to_torch
from rnnscratch.oracle import to_numpy as _np
from rnnscratch.oracle import to_tensor as _t
from rnnscratch.oracle.lstm import _affine


def torch_reset_gate(x, h_prev, W_ir, W_hr, b_ir, b_hr):
    """r = sigmoid(W_ir x + b_ir + W_hr h + b_hr). x (B, D), h_prev (B, H) -> r (B, H)."""
    return _np(torch.sigmoid(_affine(x, h_prev, W_ir, W_hr, b_ir, b_hr)))


def torch_update_gate(x, h_prev, W_iz, W_hz, b_iz, b_hz):
    """z = sigmoid(W_iz x + b_iz + W_hz h + b_hz). x (B, D), h_prev (B, H) -> z (B, H)."""
    return _np(torch.sigmoid(_affine(x, h_prev, W_iz, W_hz, b_iz, b_hz)))


def torch_gru_candidate(x, h_prev, r, W_in, W_hn, b_in, b_hn):
    """n = tanh(W_in x + b_in + r * (W_hn h + b_hn)) (PyTorch's form) -> n (B, H)."""
    hn = _t(h_prev) @ _t(W_hn).T + _t(b_hn)
    return _np(torch.tanh(_t(x) @ _t(W_in).T + _t(b_in) + _t(r) * hn))


# Deliberate parallel of oracle/lstm.torch_lstm_module (`duplicates` pairs them): one oracle
# module per family, each readable on its own.
def torch_gru_module(p):
    """A float64 one-layer, time-major `torch.nn.GRU` holding the per-gate parameters `p`."""
    H, D = np.shape(p["W_ir"])
    gru = torch.nn.GRU(D, H, dtype=torch.float64)
    gru.load_state_dict(
        gru_params_to_torch({k: np.asarray(p[k], dtype=np.float64) for k in GRU_KEYS})
    )
    return gru


def torch_gru_cell(x, h_prev, p):
    """One GRU step by torch.nn.GRUCell (float64). x (B, D), h_prev (B, H) -> h (B, H)."""
    H, D = np.shape(p["W_ir"])
    cell = torch.nn.GRUCell(D, H, dtype=torch.float64)
    packed = gru_params_to_torch({k: np.asarray(p[k], dtype=np.float64) for k in GRU_KEYS})
    cell.load_state_dict({k.removesuffix("_l0"): v for k, v in packed.items()})
    with torch.no_grad():
        return _np(cell(_t(x), _t(h_prev)))


def _cho_step(x, h, p):
    def gate(k):
        return _t(x) @ p[f"W_i{k}"].T + p[f"b_i{k}"] + h @ p[f"W_h{k}"].T + p[f"b_h{k}"]

    r = torch.sigmoid(gate("r"))
    z = torch.sigmoid(gate("z"))
    n = torch.tanh(_t(x) @ p["W_in"].T + p["b_in"] + (r * h) @ p["W_hn"].T + p["b_hn"])
    return (1 - z) * n + z * h


def torch_cho_gru_cell(x, h_prev, p):
    """One GRU step in Cho et al.'s form, n = tanh(W_in x + b_in + W_hn (r * h) + b_hn).

    x: (B, D), h_prev: (B, H), p: per-gate dict -> h (B, H)
    """
    pt = {k: _t(p[k]) for k in GRU_KEYS}
    return _np(_cho_step(x, _t(h_prev), pt))


def torch_cho_gru_forward(xs, h0, p):
    """Cho et al.'s GRU over a sequence in torch: xs (T, B, D), h0 (B, H) -> hs (T, B, H)."""
    pt = {k: _t(p[k]) for k in GRU_KEYS}
    h = _t(h0)
    hs = []
    for x in xs:
        h = _cho_step(x, h, pt)
        hs.append(h)
    return _np(torch.stack(hs))


def torch_gru_forward(xs, h0, p):
    """nn.GRU in float64: xs (T, B, D), h0 (B, H) -> hs (T, B, H), h_T (B, H)."""
    gru = torch_gru_module(p)
    with torch.no_grad():
        hs, h_T = gru(_t(xs), _t(h0)[None])
    return _np(hs), _np(h_T[0])


def torch_gru_grads(xs, h0, p, dhs):
    """nn.GRU forward and autograd backward for loss = sum(hs * dhs).

    xs: (T, B, D), h0: (B, H), p: per-gate dict, dhs: (T, B, H) upstream gradient
    returns dict: hs (T, B, H), h_T (B, H), dxs (T, B, D), dh0 (B, H) and d<name> for every
            per-gate parameter (dW_ir ... db_hn), numpy float64
    """
    gru = torch_gru_module(p)
    xt, h0t = _t(xs, True), _t(h0, True)
    hs, h_T = gru(xt, h0t[None])
    (hs * _t(dhs)).sum().backward()
    H = h0t.shape[1]
    out = {"hs": _np(hs), "h_T": _np(h_T[0]), "dxs": _np(xt.grad), "dh0": _np(h0t.grad)}
    packed = {"W_i": gru.weight_ih_l0, "W_h": gru.weight_hh_l0}
    packed.update(b_i=gru.bias_ih_l0, b_h=gru.bias_hh_l0)
    for prefix, tensor in packed.items():
        for k, gate in enumerate(GRU_GATES):
            out[f"d{prefix}{gate}"] = _np(tensor.grad[k * H : (k + 1) * H])
    return out


# --- local backward of each GRU piece (a06): autograd of one formula, upstream gradient given ---


def _local_grads(formula, inputs: dict, upstream, wrt: tuple[str, ...]) -> dict:
    """Autograd of sum(formula(**inputs) * upstream) with respect to the inputs named in `wrt`."""
    ts = {k: _t(v, k in wrt) for k, v in inputs.items()}
    (formula(**ts) * _t(upstream)).sum().backward()
    return {f"d{k}": _np(ts[k].grad) for k in wrt}


def torch_blend_grads(dh, h_prev, z, n):
    """Gradients of h = (1 - z) * n + z * h_prev (eq-gru-h) given dh (B, H).

    returns (dn, dz, dh_prev), each (B, H); dh_prev is the direct path only.
    """
    out = _local_grads(
        lambda h_prev, z, n: (1 - z) * n + z * h_prev,
        {"h_prev": h_prev, "z": z, "n": n},
        dh,
        ("n", "z", "h_prev"),
    )
    return out["dn"], out["dz"], out["dh_prev"]


def torch_candidate_grads(dn, x, h_prev, r, W_in, W_hn, b_in, b_hn):
    """Gradients of n = tanh(W_in x + b_in + r * (W_hn h_prev + b_hn)) (eq-gru-n) given dn.

    returns dict dx (B, D), dh_prev (B, H), dr (B, H), dW_in, dW_hn, db_in, db_hn.
    """

    def formula(x, h_prev, r, W_in, W_hn, b_in, b_hn):
        return torch.tanh(x @ W_in.T + b_in + r * (h_prev @ W_hn.T + b_hn))

    inputs = {"x": x, "h_prev": h_prev, "r": r, "W_in": W_in, "W_hn": W_hn}
    inputs |= {"b_in": b_in, "b_hn": b_hn}
    return _local_grads(formula, inputs, dn, tuple(inputs))


def torch_gate_grads(ds, x, h_prev, W_x, W_h, b_x, b_h):
    """Gradients of s = sigmoid(W_x x + b_x + W_h h_prev + b_h) (eq-gru-r, eq-gru-z) given ds.

    returns dict dx, dh_prev, dW_x, dW_h, db_x, db_h (keys named after the arguments).
    """

    def formula(x, h_prev, W_x, W_h, b_x, b_h):
        return torch.sigmoid(x @ W_x.T + b_x + h_prev @ W_h.T + b_h)

    inputs = {"x": x, "h_prev": h_prev, "W_x": W_x, "W_h": W_h, "b_x": b_x, "b_h": b_h}
    return _local_grads(formula, inputs, ds, tuple(inputs))
