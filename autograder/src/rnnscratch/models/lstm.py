"""LSTM reference maths in numpy: one function per gate, the cell, the sequence, and backward.

Parameters use PyTorch's per-gate names and shapes (gate order i, f, g, o; two biases):
`W_i*` is (H, D), `W_h*` is (H, H), `b_i*` and `b_h*` are (H,), with * one of i, f, g, o.
Code works on batches of rows (`x @ W_if.T`); sequences are time-major (T, B, D).
`rnnscratch.models.params` converts between this dict and torch's packed `nn.LSTM` state dict.
"""

import numpy as np

from rnnscratch.models.rnn import sigmoid

#: the gate order of the whole course (PyTorch's packed nn.LSTM rows): input, forget, cell
#: candidate, output. Every layer (params, oracle, exercises, probes) uses this one constant.
LSTM_GATES = ("i", "f", "g", "o")
LSTM_KEYS = tuple(f"W_i{g}" for g in LSTM_GATES) + tuple(f"W_h{g}" for g in LSTM_GATES)
LSTM_KEYS += tuple(f"b_i{g}" for g in LSTM_GATES) + tuple(f"b_h{g}" for g in LSTM_GATES)

# Deliberate teaching parallel (`duplicates` pairs it with models/gru.py): every gate is its own
# function with its own equation label, written out rather than factored, as the book shows it.


def forget_gate(x, h_prev, W_if, W_hf, b_if, b_hf):
    """Forget gate: how much of each cell-state entry to keep.

    x: (B, D) input at step t
    h_prev: (B, H) hidden state at step t-1
    W_if: (H, D), W_hf: (H, H), b_if: (H,), b_hf: (H,)
    returns f: (B, H) in (0, 1)
    """
    return sigmoid(x @ W_if.T + b_if + h_prev @ W_hf.T + b_hf)  # forget gate, eq-lstm-f


def input_gate(x, h_prev, W_ii, W_hi, b_ii, b_hi):
    """Input gate: how much of the candidate to write into the cell state.

    x: (B, D), h_prev: (B, H), W_ii: (H, D), W_hi: (H, H), b_ii: (H,), b_hi: (H,)
    returns i: (B, H) in (0, 1)
    """
    return sigmoid(x @ W_ii.T + b_ii + h_prev @ W_hi.T + b_hi)  # input gate, eq-lstm-i


def candidate(x, h_prev, W_ig, W_hg, b_ig, b_hg):
    """Candidate values that could be written into the cell state (tanh, not sigmoid).

    x: (B, D), h_prev: (B, H), W_ig: (H, D), W_hg: (H, H), b_ig: (H,), b_hg: (H,)
    returns g: (B, H) in (-1, 1)
    """
    return np.tanh(x @ W_ig.T + b_ig + h_prev @ W_hg.T + b_hg)  # candidate, eq-lstm-g


def output_gate(x, h_prev, W_io, W_ho, b_io, b_ho):
    """Output gate: how much of the squashed cell state to expose as the hidden state.

    x: (B, D), h_prev: (B, H), W_io: (H, D), W_ho: (H, H), b_io: (H,), b_ho: (H,)
    returns o: (B, H) in (0, 1)
    """
    return sigmoid(x @ W_io.T + b_io + h_prev @ W_ho.T + b_ho)  # output gate, eq-lstm-o


def cell_update(f, i, g, c_prev):
    """New cell state: keep a fraction of the old memory, add a gated candidate.

    f, i, g: (B, H) forget gate, input gate, candidate at step t
    c_prev: (B, H) cell state at step t-1
    returns c: (B, H) cell state at step t
    """
    return f * c_prev + i * g  # cell update, eq-lstm-c


def hidden_update(o, c):
    """New hidden state: the output gate times the squashed cell state.

    o: (B, H) output gate, c: (B, H) cell state at step t
    returns h: (B, H) hidden state at step t, in (-1, 1)
    """
    return o * np.tanh(c)  # hidden update, eq-lstm-h


def lstm_gates(x, h_prev, p):
    """All four gates of one step: dict i, f, g, o, each (B, H)."""
    return {
        "i": input_gate(x, h_prev, p["W_ii"], p["W_hi"], p["b_ii"], p["b_hi"]),
        "f": forget_gate(x, h_prev, p["W_if"], p["W_hf"], p["b_if"], p["b_hf"]),
        "g": candidate(x, h_prev, p["W_ig"], p["W_hg"], p["b_ig"], p["b_hg"]),
        "o": output_gate(x, h_prev, p["W_io"], p["W_ho"], p["b_io"], p["b_ho"]),
    }


def lstm_cell(x, h_prev, c_prev, p):
    """One LSTM step, gate by gate (PyTorch's formulation, no peepholes).

    x: (B, D) input at step t
    h_prev: (B, H) hidden state at step t-1
    c_prev: (B, H) cell state at step t-1
    p: dict of per-gate parameters (keys in `LSTM_KEYS`; W_i* (H, D), W_h* (H, H), b_* (H,))
    returns (h, c): (B, H) hidden and cell state at step t
    """
    gates = lstm_gates(x, h_prev, p)
    c = cell_update(gates["f"], gates["i"], gates["g"], c_prev)  # eq-lstm-c
    h = hidden_update(gates["o"], c)  # eq-lstm-h
    return h, c


def lstm_forward(xs, h0, c0, p, return_gates=False):
    """Run the LSTM cell over a sequence.

    xs: (T, B, D) inputs, time-major
    h0, c0: (B, H) initial hidden and cell state
    p: dict of per-gate parameters (see `lstm_cell`)
    return_gates: bool  also return the gate values (needed by `lstm_backward`)
    returns hs: (T, B, H) hidden states h_1..h_T, cs: (T, B, H) cell states c_1..c_T
            [, gates: dict i, f, g, o, each (T, B, H)]
    """
    T = xs.shape[0]
    B, H = h0.shape
    hs = np.empty((T, B, H), dtype=np.result_type(xs, h0, p["W_hi"]))
    cs = np.empty_like(hs)
    gates = {name: np.empty_like(hs) for name in LSTM_GATES}
    h, c = h0, c0
    for t in range(T):
        step = lstm_gates(xs[t], h, p)
        c = cell_update(step["f"], step["i"], step["g"], c)  # eq-lstm-c
        h = hidden_update(step["o"], c)  # eq-lstm-h
        hs[t], cs[t] = h, c
        for name in LSTM_GATES:
            gates[name][t] = step[name]
    if return_gates:
        return hs, cs, gates
    return hs, cs


def lstm_forward_fused(xs, h0, c0, weight_ih, weight_hh, bias_ih, bias_hh):
    """The same LSTM with torch's packed weights: one matmul for all four gates per step.

    The input projection does not depend on the recurrence, so it is computed for every step
    at once before the loop (one (T*B, D) @ (D, 4H) matmul); only h @ weight_hh.T stays inside.
    One tanh call per step serves all four gates, using sigmoid(a) = (1 + tanh(a / 2)) / 2.
    Works in the dtype of its inputs (float32 for speed, float64 for checks).

    xs: (T, B, D) inputs
    h0, c0: (B, H) initial states
    weight_ih: (4H, D), weight_hh: (4H, H), bias_ih: (4H,), bias_hh: (4H,) rows in gate order
               i, f, g, o (as `nn.LSTM.weight_ih_l0` etc.; see `rnnscratch.models.params`)
    returns hs: (T, B, H) hidden states, (h_T, c_T): (B, H) each, the final states
    """
    T, B, _ = xs.shape
    H = h0.shape[1]
    scale = np.full(4 * H, 0.5, dtype=weight_hh.dtype)  # sigmoid rows (i, f, o) get a / 2
    scale[2 * H : 3 * H] = 1.0  # the candidate rows (g) keep a plain tanh
    x_proj = xs.reshape(T * B, -1) @ (weight_ih * scale[:, None]).T  # all steps at once
    x_proj = (x_proj + (bias_ih + bias_hh) * scale).reshape(T, B, 4 * H)
    W_hh_T = np.ascontiguousarray((weight_hh * scale[:, None]).T)  # (H, 4H)
    hs = np.empty((T, B, H), dtype=x_proj.dtype)
    h, c = h0, c0
    for t in range(T):
        s = np.tanh(x_proj[t] + h @ W_hh_T)  # (B, 4H): one matmul, one tanh
        i = 0.5 + 0.5 * s[:, :H]  # input gate, eq-lstm-i
        f = 0.5 + 0.5 * s[:, H : 2 * H]  # forget gate, eq-lstm-f
        g = s[:, 2 * H : 3 * H]  # candidate, eq-lstm-g
        o = 0.5 + 0.5 * s[:, 3 * H :]  # output gate, eq-lstm-o
        c = f * c + i * g  # cell update, eq-lstm-c
        h = o * np.tanh(c)  # hidden update, eq-lstm-h
        hs[t] = h
    return hs, (h, c)


def lstm_state_jacobian(x, h_prev, c_prev, p):
    """Jacobian of one LSTM step's state (h_t, c_t) with respect to (h_{t-1}, c_{t-1}).

    The LSTM's state is the pair (h, c); chaining steps multiplies these 2H x 2H matrices
    (eq-lstm-state-jacobian). With the gates' pre-activations depending on h_{t-1} only:
        dc_t/dc_{t-1} = diag(f)
        dc_t/dh_{t-1} = diag(c_{t-1} f (1-f)) W_hf + diag(g i (1-i)) W_hi + diag(i (1-g^2)) W_hg
        dh_t/dc_{t-1} = diag(o (1 - tanh^2 c_t)) dc_t/dc_{t-1}
        dh_t/dh_{t-1} = diag(tanh(c_t) o (1-o)) W_ho + diag(o (1 - tanh^2 c_t)) dc_t/dh_{t-1}

    x: (B, D) input at step t.   h_prev, c_prev: (B, H) the state at step t-1.
    p: dict of per-gate parameters (see `lstm_cell`).
    returns: (B, 2H, 2H) J with rows (h_t, c_t) and columns (h_{t-1}, c_{t-1}), in that order:
        J[b, :H, :H] = dh_t/dh_{t-1}, J[b, :H, H:] = dh_t/dc_{t-1},
        J[b, H:, :H] = dc_t/dh_{t-1}, J[b, H:, H:] = dc_t/dc_{t-1}.
    """
    gates = lstm_gates(x, h_prev, p)
    i, f, g, o = gates["i"], gates["f"], gates["g"], gates["o"]
    c = cell_update(f, i, g, c_prev)
    tanh_c = np.tanh(c)
    B, H = h_prev.shape
    dc_dh = (
        (c_prev * f * (1 - f))[:, :, None] * p["W_hf"]
        + (g * i * (1 - i))[:, :, None] * p["W_hi"]
        + (i * (1 - g**2))[:, :, None] * p["W_hg"]
    )
    dc_dc = f[:, :, None] * np.eye(H)
    read = (o * (1 - tanh_c**2))[:, :, None]  # dh_t/dc_t, diagonal
    J = np.empty((B, 2 * H, 2 * H), dtype=np.result_type(x, h_prev, p["W_hi"]))
    J[:, :H, :H] = (tanh_c * o * (1 - o))[:, :, None] * p["W_ho"] + read * dc_dh
    J[:, :H, H:] = read * dc_dc
    J[:, H:, :H] = dc_dh
    J[:, H:, H:] = dc_dc
    return J


def lstm_cell_backward(dh, dc, x, h_prev, c_prev, c, gates, p):
    """Gradients of one LSTM step, given the gradients arriving at its outputs.

    dh: (B, H) dLoss/dh_t (from the output at t and from step t+1)
    dc: (B, H) dLoss/dc_t arriving from step t+1 (zeros at the last step unless the loss uses c_T)
    x: (B, D) input at step t
    h_prev, c_prev: (B, H) states at step t-1
    c: (B, H) cell state at step t (cached from the forward pass)
    gates: dict i, f, g, o, each (B, H), the gate values at step t (cached)
    p: dict of per-gate parameters
    returns dict: dx (B, D), dh_prev (B, H), dc_prev (B, H), and for every parameter name k
            in `LSTM_KEYS` the gradient "d" + k with the parameter's shape (dW_ii, ..., db_ho)
    """
    i, f, g, o = gates["i"], gates["f"], gates["g"], gates["o"]
    tanh_c = np.tanh(c)
    do = dh * tanh_c  # through eq-lstm-h
    dc_total = dc + dh * o * (1.0 - tanh_c**2)  # both paths into c_t
    df = dc_total * c_prev  # through eq-lstm-c
    di = dc_total * g
    dg = dc_total * i
    dc_prev = dc_total * f  # the additive path: diag(f_t)
    # back through the nonlinearities to the pre-activations
    da = {
        "i": di * i * (1.0 - i),
        "f": df * f * (1.0 - f),
        "g": dg * (1.0 - g**2),
        "o": do * o * (1.0 - o),
    }
    grads = {"dx": np.zeros_like(x), "dh_prev": np.zeros_like(h_prev), "dc_prev": dc_prev}
    for k in LSTM_GATES:
        grads["dx"] += da[k] @ p[f"W_i{k}"]
        grads["dh_prev"] += da[k] @ p[f"W_h{k}"]
        grads[f"dW_i{k}"] = da[k].T @ x
        grads[f"dW_h{k}"] = da[k].T @ h_prev
        grads[f"db_i{k}"] = da[k].sum(axis=0)
        grads[f"db_h{k}"] = da[k].sum(axis=0)
    return grads


def lstm_backward(dhs, xs, h0, c0, hs, cs, gates, p, dc_T=None):
    """Backpropagation through time for `lstm_forward`.

    dhs: (T, B, H) dLoss/dh_t from the loss at each step (direct terms only)
    xs: (T, B, D) inputs; h0, c0: (B, H) initial states
    hs, cs: (T, B, H) hidden and cell states from `lstm_forward(..., return_gates=True)`
    gates: dict i, f, g, o, each (T, B, H), from the same call
    p: dict of per-gate parameters
    dc_T: (B, H) or None  dLoss/dc_T when the loss also uses the final cell state
    returns dict: dxs (T, B, D), dh0 (B, H), dc0 (B, H), and "d" + k for every k in `LSTM_KEYS`
    """
    T = xs.shape[0]
    grads = {f"d{k}": np.zeros_like(p[k]) for k in LSTM_KEYS}
    dxs = np.zeros_like(xs, dtype=np.result_type(xs, dhs))
    dh_next = np.zeros_like(h0, dtype=dhs.dtype)
    dc_next = np.zeros_like(c0, dtype=dhs.dtype) if dc_T is None else np.asarray(dc_T)
    for t in reversed(range(T)):
        h_prev = hs[t - 1] if t > 0 else h0
        c_prev = cs[t - 1] if t > 0 else c0
        step = {k: v[t] for k, v in gates.items()}
        g = lstm_cell_backward(dhs[t] + dh_next, dc_next, xs[t], h_prev, c_prev, cs[t], step, p)
        dxs[t] = g["dx"]
        dh_next, dc_next = g["dh_prev"], g["dc_prev"]
        for k in LSTM_KEYS:
            grads[f"d{k}"] += g[f"d{k}"]
    grads.update(dxs=dxs, dh0=dh_next, dc0=dc_next)
    return grads
