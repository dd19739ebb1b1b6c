"""GRU reference maths in numpy: gates, candidate, cell, sequence, backward, and Cho et al.'s form.

Parameters use PyTorch's per-gate names and shapes (gate order r, z, n; two biases):
`W_i*` is (H, D), `W_h*` is (H, H), `b_i*` and `b_h*` are (H,), with * one of r, z, n.
PyTorch (and cuDNN) apply the reset gate after the hidden matmul, to (W_hn h + b_hn);
Cho et al. (2014) apply it to h before the matmul (`cho_gru_cell`). Both blend with
h_t = (1 - z) * n + z * h_{t-1}: z near 1 keeps the old state.
"""

import numpy as np

from rnnscratch.models.rnn import sigmoid

#: the gate order of the whole course (PyTorch's packed nn.GRU rows): reset, update, candidate.
#: Every layer (params, oracle, exercises) uses this one constant.
GRU_GATES = ("r", "z", "n")
GRU_KEYS = tuple(f"W_i{g}" for g in GRU_GATES) + tuple(f"W_h{g}" for g in GRU_GATES)
GRU_KEYS += tuple(f"b_i{g}" for g in GRU_GATES) + tuple(f"b_h{g}" for g in GRU_GATES)

# Deliberate teaching parallel (`duplicates` pairs it with models/lstm.py): every gate is its own
# function with its own equation label, written out rather than factored, as the book shows it.


def reset_gate(x, h_prev, W_ir, W_hr, b_ir, b_hr):
    """Reset gate: how much of the previous state the candidate may look at.

    x: (B, D) input at step t
    h_prev: (B, H) hidden state at step t-1
    W_ir: (H, D), W_hr: (H, H), b_ir: (H,), b_hr: (H,)
    returns r: (B, H) in (0, 1)
    """
    return sigmoid(x @ W_ir.T + b_ir + h_prev @ W_hr.T + b_hr)  # reset gate, eq-gru-r


def update_gate(x, h_prev, W_iz, W_hz, b_iz, b_hz):
    """Update gate: how much of the previous state to keep (PyTorch's and Cho's convention).

    x: (B, D), h_prev: (B, H), W_iz: (H, D), W_hz: (H, H), b_iz: (H,), b_hz: (H,)
    returns z: (B, H) in (0, 1)
    """
    return sigmoid(x @ W_iz.T + b_iz + h_prev @ W_hz.T + b_hz)  # update gate, eq-gru-z


def gru_candidate(x, h_prev, r, W_in, W_hn, b_in, b_hn):
    """Candidate state, PyTorch's form: the reset gate scales (W_hn h_prev + b_hn).

    x: (B, D), h_prev: (B, H), r: (B, H) reset gate at step t
    W_in: (H, D), W_hn: (H, H), b_in: (H,), b_hn: (H,)
    returns n: (B, H) in (-1, 1)
    """
    return np.tanh(x @ W_in.T + b_in + r * (h_prev @ W_hn.T + b_hn))  # candidate, eq-gru-n


def gru_gates(x, h_prev, p):
    """Reset gate, update gate and candidate of one step: dict r, z, n, each (B, H)."""
    r = reset_gate(x, h_prev, p["W_ir"], p["W_hr"], p["b_ir"], p["b_hr"])
    z = update_gate(x, h_prev, p["W_iz"], p["W_hz"], p["b_iz"], p["b_hz"])
    n = gru_candidate(x, h_prev, r, p["W_in"], p["W_hn"], p["b_in"], p["b_hn"])
    return {"r": r, "z": z, "n": n}


def gru_cell(x, h_prev, p):
    """One GRU step in PyTorch's formulation.

    x: (B, D) input at step t
    h_prev: (B, H) hidden state at step t-1
    p: dict of per-gate parameters (keys in `GRU_KEYS`; W_i* (H, D), W_h* (H, H), b_* (H,))
    returns h: (B, H) hidden state at step t
    """
    gates = gru_gates(x, h_prev, p)
    return (1.0 - gates["z"]) * gates["n"] + gates["z"] * h_prev  # blend, eq-gru-h


def gru_forward(xs, h0, p, return_gates=False):
    """Run `gru_cell` over a sequence.

    xs: (T, B, D) inputs, time-major
    h0: (B, H) initial hidden state
    p: dict of per-gate parameters
    return_gates: bool  also return the gate values (needed by `gru_backward`)
    returns hs: (T, B, H) hidden states h_1..h_T [, gates: dict r, z, n, each (T, B, H)]
    """
    T = xs.shape[0]
    hs = np.empty((T, *h0.shape), dtype=np.result_type(xs, h0, p["W_hr"]))
    gates = {name: np.empty_like(hs) for name in GRU_GATES}
    h = h0
    for t in range(T):
        step = gru_gates(xs[t], h, p)
        h = (1.0 - step["z"]) * step["n"] + step["z"] * h  # eq-gru-h
        hs[t] = h
        for name in GRU_GATES:
            gates[name][t] = step[name]
    if return_gates:
        return hs, gates
    return hs


def cho_gru_cell(x, h_prev, p):
    """One GRU step in Cho et al.'s (2014) formulation: reset h_prev *before* the matmul.

    Same parameters as `gru_cell`; only the candidate differs:
    n = tanh(W_in x + b_in + W_hn (r * h_prev) + b_hn).

    x: (B, D), h_prev: (B, H), p: dict of per-gate parameters
    returns h: (B, H)
    """
    r = reset_gate(x, h_prev, p["W_ir"], p["W_hr"], p["b_ir"], p["b_hr"])  # eq-gru-r
    z = update_gate(x, h_prev, p["W_iz"], p["W_hz"], p["b_iz"], p["b_hz"])  # eq-gru-z
    n = np.tanh(
        x @ p["W_in"].T + p["b_in"] + (r * h_prev) @ p["W_hn"].T + p["b_hn"]
    )  # eq-gru-n-cho
    return (1.0 - z) * n + z * h_prev  # eq-gru-h


def cho_gru_forward(xs, h0, p):
    """Run `cho_gru_cell` over a sequence: xs (T, B, D), h0 (B, H) -> hs (T, B, H)."""
    hs = []
    h = h0
    for x in xs:
        h = cho_gru_cell(x, h, p)
        hs.append(h)
    return np.stack(hs)


def gru_cell_backward(dh, x, h_prev, gates, p):
    """Gradients of one GRU step (PyTorch's formulation).

    dh: (B, H) dLoss/dh_t (from the output at t and from step t+1)
    x: (B, D) input at step t
    h_prev: (B, H) hidden state at step t-1
    gates: dict r, z, n, each (B, H), the values at step t cached by `gru_forward`
    p: dict of per-gate parameters
    returns dict: dx (B, D), dh_prev (B, H), and "d" + k for every k in `GRU_KEYS`
            (dW_ir ... db_hn, each with its parameter's shape)
    """
    r, z, n = gates["r"], gates["z"], gates["n"]
    hn = h_prev @ p["W_hn"].T + p["b_hn"]  # the term the reset gate scales, (B, H)
    dn = dh * (1.0 - z)  # through eq-gru-h
    dz = dh * (h_prev - n)
    dh_prev = dh * z  # the direct (leaky) path
    da_n = dn * (1.0 - n**2)  # through the tanh of eq-gru-n
    dhn = da_n * r
    dr = da_n * hn
    da_r = dr * r * (1.0 - r)
    da_z = dz * z * (1.0 - z)
    grads = {
        "dW_in": da_n.T @ x,
        "db_in": da_n.sum(axis=0),
        "dW_hn": dhn.T @ h_prev,
        "db_hn": dhn.sum(axis=0),
    }
    dx = da_n @ p["W_in"]
    dh_prev = dh_prev + dhn @ p["W_hn"]
    for k, da in (("r", da_r), ("z", da_z)):
        grads[f"dW_i{k}"] = da.T @ x
        grads[f"dW_h{k}"] = da.T @ h_prev
        grads[f"db_i{k}"] = da.sum(axis=0)
        grads[f"db_h{k}"] = da.sum(axis=0)
        dx = dx + da @ p[f"W_i{k}"]
        dh_prev = dh_prev + da @ p[f"W_h{k}"]
    grads.update(dx=dx, dh_prev=dh_prev)
    return grads


def gru_backward(dhs, xs, h0, hs, gates, p):
    """Backpropagation through time for `gru_forward`.

    dhs: (T, B, H) dLoss/dh_t from the loss at each step (direct terms only)
    xs: (T, B, D) inputs; h0: (B, H) initial state
    hs: (T, B, H) hidden states and gates: dict r, z, n, each (T, B, H), from
        `gru_forward(..., return_gates=True)`
    p: dict of per-gate parameters
    returns dict: dxs (T, B, D), dh0 (B, H), and "d" + k for every k in `GRU_KEYS`
    """
    grads = {f"d{k}": np.zeros_like(p[k]) for k in GRU_KEYS}
    dxs = np.zeros_like(xs, dtype=np.result_type(xs, dhs))
    dh_next = np.zeros_like(h0, dtype=dhs.dtype)
    for t in reversed(range(xs.shape[0])):
        h_prev = hs[t - 1] if t > 0 else h0
        step = {k: v[t] for k, v in gates.items()}
        g = gru_cell_backward(dhs[t] + dh_next, xs[t], h_prev, step, p)
        dxs[t] = g["dx"]
        dh_next = g["dh_prev"]
        for k in GRU_KEYS:
            grads[f"d{k}"] += g[f"d{k}"]
    grads.update(dxs=dxs, dh0=dh_next)
    return grads
