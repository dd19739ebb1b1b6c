"""Two LSTM variants in numpy (forward only): peephole connections and coupled gates.

Both reuse the per-gate parameter dict of `rnnscratch.models.lstm` (PyTorch names and shapes).

- Peephole LSTM (Gers & Schmidhuber 2000): the gates also see the cell state through diagonal
  weights. The input and forget gates look at c_{t-1}; the output gate looks at the new c_t.
  Extra keys: w_ci, w_cf, w_co, each (H,). With all three zero it is the standard LSTM.
- Coupled input/forget gate LSTM (Greff et al. 2017, "CIFG"): no input gate; i_t = 1 - f_t, so
  the cell writes exactly as much as it forgets. The W_ii, W_hi, b_ii, b_hi keys are ignored.
"""

import numpy as np

from rnnscratch.models.lstm import candidate, forget_gate, hidden_update, output_gate
from rnnscratch.models.rnn import sigmoid

PEEPHOLE_KEYS = ("w_ci", "w_cf", "w_co")


def _pre(x, h_prev, p, k):
    """Pre-activation of gate k: W_ik x + b_ik + W_hk h_prev + b_hk, (B, H)."""
    return x @ p[f"W_i{k}"].T + p[f"b_i{k}"] + h_prev @ p[f"W_h{k}"].T + p[f"b_h{k}"]


def peephole_lstm_cell(x, h_prev, c_prev, p):
    """One step of the peephole LSTM.

    x: (B, D) input at step t
    h_prev, c_prev: (B, H) hidden and cell state at step t-1
    p: dict of per-gate LSTM parameters plus w_ci, w_cf, w_co: (H,) peephole weights
    returns (h, c): (B, H) hidden and cell state at step t
    """
    i = sigmoid(_pre(x, h_prev, p, "i") + p["w_ci"] * c_prev)  # input gate peeks at c_{t-1}
    f = sigmoid(_pre(x, h_prev, p, "f") + p["w_cf"] * c_prev)  # forget gate peeks at c_{t-1}
    g = candidate(x, h_prev, p["W_ig"], p["W_hg"], p["b_ig"], p["b_hg"])  # eq-lstm-g
    c = f * c_prev + i * g  # eq-lstm-c
    o = sigmoid(_pre(x, h_prev, p, "o") + p["w_co"] * c)  # output gate peeks at the new c_t
    return hidden_update(o, c), c  # eq-lstm-h


def coupled_lstm_cell(x, h_prev, c_prev, p):
    """One step of the coupled input/forget gate LSTM (i = 1 - f).

    x: (B, D) input at step t
    h_prev, c_prev: (B, H) hidden and cell state at step t-1
    p: dict of per-gate LSTM parameters (the input-gate keys are not used)
    returns (h, c): (B, H) hidden and cell state at step t
    """
    f = forget_gate(x, h_prev, p["W_if"], p["W_hf"], p["b_if"], p["b_hf"])  # eq-lstm-f
    g = candidate(x, h_prev, p["W_ig"], p["W_hg"], p["b_ig"], p["b_hg"])  # eq-lstm-g
    c = f * c_prev + (1.0 - f) * g  # coupled: write what was forgotten
    o = output_gate(x, h_prev, p["W_io"], p["W_ho"], p["b_io"], p["b_ho"])  # eq-lstm-o
    return hidden_update(o, c), c  # eq-lstm-h


def _run(cell, xs, h0, c0, p):
    hs, cs = [], []
    h, c = h0, c0
    for x in xs:
        h, c = cell(x, h, c, p)
        hs.append(h)
        cs.append(c)
    return np.stack(hs), np.stack(cs)


def peephole_lstm_forward(xs, h0, c0, p):
    """Peephole LSTM over a sequence: xs (T, B, D), h0, c0 (B, H) -> hs, cs (T, B, H)."""
    return _run(peephole_lstm_cell, xs, h0, c0, p)


def coupled_lstm_forward(xs, h0, c0, p):
    """Coupled-gate LSTM over a sequence: xs (T, B, D), h0, c0 (B, H) -> hs, cs (T, B, H)."""
    return _run(coupled_lstm_cell, xs, h0, c0, p)
