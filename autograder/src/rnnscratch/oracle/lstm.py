"""Torch float64 oracles for `rnnscratch.models.lstm`: per-gate formulas and nn.LSTM with autograd.

Every function takes numpy arrays (or tensors), computes in float64 torch, and returns numpy.
The per-gate functions have the same argument names as their numpy counterparts
(`torch_forget_gate(x, h_prev, W_if, W_hf, b_if, b_hf)` mirrors `lstm.forget_gate`), so an
exercise test can call either with the same keyword arguments.
"""

import numpy as np
import torch

from rnnscratch.models.lstm import LSTM_GATES, LSTM_KEYS
from rnnscratch.models.params import lstm_params_to_torch
from rnnscratch.oracle import to_numpy as _np
from rnnscratch.oracle import to_tensor as _t


def _affine(x, h_prev, W_x, W_h, b_x, b_h):
    return _t(x) @ _t(W_x).T + _t(b_x) + _t(h_prev) @ _t(W_h).T + _t(b_h)


def torch_forget_gate(x, h_prev, W_if, W_hf, b_if, b_hf):
    """f = sigmoid(W_if x + b_if + W_hf h + b_hf). x (B, D), h_prev (B, H) -> f (B, H)."""
    return _np(torch.sigmoid(_affine(x, h_prev, W_if, W_hf, b_if, b_hf)))


def torch_input_gate(x, h_prev, W_ii, W_hi, b_ii, b_hi):
    """i = sigmoid(W_ii x + b_ii + W_hi h + b_hi). x (B, D), h_prev (B, H) -> i (B, H)."""
    return _np(torch.sigmoid(_affine(x, h_prev, W_ii, W_hi, b_ii, b_hi)))


def torch_candidate(x, h_prev, W_ig, W_hg, b_ig, b_hg):
    """g = tanh(W_ig x + b_ig + W_hg h + b_hg). x (B, D), h_prev (B, H) -> g (B, H)."""
    return _np(torch.tanh(_affine(x, h_prev, W_ig, W_hg, b_ig, b_hg)))


def torch_output_gate(x, h_prev, W_io, W_ho, b_io, b_ho):
    """o = sigmoid(W_io x + b_io + W_ho h + b_ho). x (B, D), h_prev (B, H) -> o (B, H)."""
    return _np(torch.sigmoid(_affine(x, h_prev, W_io, W_ho, b_io, b_ho)))


def torch_cell_update(f, i, g, c_prev):
    """c = f * c_prev + i * g, all (B, H)."""
    return _np(_t(f) * _t(c_prev) + _t(i) * _t(g))


def torch_hidden_update(o, c):
    """h = o * tanh(c), all (B, H)."""
    return _np(_t(o) * torch.tanh(_t(c)))


def torch_lstm_cell(x, h_prev, c_prev, p):
    """One LSTM step by torch.nn.LSTMCell (float64) with the per-gate weights loaded.

    x: (B, D), h_prev, c_prev: (B, H), p: per-gate dict -> (h, c), each (B, H)
    """
    packed = lstm_params_to_torch({k: np.asarray(p[k], dtype=np.float64) for k in LSTM_KEYS})
    H, D = np.shape(p["W_ii"])
    cell = torch.nn.LSTMCell(D, H, dtype=torch.float64)
    cell.load_state_dict({k.removesuffix("_l0"): v for k, v in packed.items()})
    with torch.no_grad():
        h, c = cell(_t(x), (_t(h_prev), _t(c_prev)))
    return _np(h), _np(c)


# Deliberate parallel of oracle/gru.torch_gru_module (`duplicates` pairs them): one oracle
# module per family, each readable on its own.
def torch_lstm_module(p):
    """A float64 one-layer, time-major `torch.nn.LSTM` holding the per-gate parameters `p`."""
    H, D = np.shape(p["W_ii"])
    lstm = torch.nn.LSTM(D, H, dtype=torch.float64)
    lstm.load_state_dict(
        lstm_params_to_torch({k: np.asarray(p[k], dtype=np.float64) for k in LSTM_KEYS})
    )
    return lstm


def torch_lstm_forward(xs, h0, c0, p):
    """nn.LSTM in float64 over a sequence.

    xs: (T, B, D), h0, c0: (B, H), p: per-gate dict
    returns hs: (T, B, H), h_T: (B, H), c_T: (B, H)
    """
    lstm = torch_lstm_module(p)
    with torch.no_grad():
        hs, (h_T, c_T) = lstm(_t(xs), (_t(h0)[None], _t(c0)[None]))
    return _np(hs), _np(h_T[0]), _np(c_T[0])


def torch_lstm_grads(xs, h0, c0, p, dhs, dc_T=None):
    """nn.LSTM forward and autograd backward for loss = sum(hs * dhs) + sum(c_T * dc_T).

    xs: (T, B, D), h0, c0: (B, H), p: per-gate dict
    dhs: (T, B, H) upstream gradient on every hidden state
    dc_T: (B, H) or None  upstream gradient on the final cell state
    returns dict: hs (T, B, H), h_T, c_T (B, H), dxs (T, B, D), dh0, dc0 (B, H) and
            d<name> for every per-gate parameter (dW_ii ... db_ho), numpy float64
    """
    lstm = torch_lstm_module(p)
    xt, h0t, c0t = _t(xs, True), _t(h0, True), _t(c0, True)
    hs, (h_T, c_T) = lstm(xt, (h0t[None], c0t[None]))
    loss = (hs * _t(dhs)).sum()
    if dc_T is not None:
        loss = loss + (c_T[0] * _t(dc_T)).sum()
    loss.backward()
    H = h0t.shape[1]
    out = {"hs": _np(hs), "h_T": _np(h_T[0]), "c_T": _np(c_T[0])}
    out.update(dxs=_np(xt.grad), dh0=_np(h0t.grad), dc0=_np(c0t.grad))
    packed = {"W_i": lstm.weight_ih_l0, "W_h": lstm.weight_hh_l0}
    packed.update(b_i=lstm.bias_ih_l0, b_h=lstm.bias_hh_l0)
    for prefix, tensor in packed.items():
        for k, gate in enumerate(LSTM_GATES):
            out[f"d{prefix}{gate}"] = _np(tensor.grad[k * H : (k + 1) * H])
    return out
