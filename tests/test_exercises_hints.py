"""Hand-written wrong implementations lose the test and get the right hint (in-process check).

Each row is (function, test case, wrong implementation, expected catalogue key). Every key of
the hint catalogue is produced by at least one row here, in the feedback corpus
(`rnnscratch.bench.feedback_corpus`, tests/test_feedback_corpus.py) or in
test_exercises_grading.py. The wrong implementations are written independently of the
catalogue's variants (as a student would write them), so `duplicates` pairs a few with the
variants and the held-out corpora: deliberate, a test must not reuse the code it tests.
"""

import numpy as np
import pytest
import torch

from rnnscratch.checks import CheckError
from rnnscratch.exercises import MISTAKES, check
from rnnscratch.exercises.harness import evaluate
from rnnscratch.models import gru, gru_lm, lstm, rnn
from rnnscratch.models.params import lstm_params_to_torch


def sig(x):
    return 1.0 / (1.0 + np.exp(-x))


# --- a01 ---------------------------------------------------------------------------------------


def sigmoid_unstable(x):
    return np.exp(x) / (1.0 + np.exp(x))


def softmax_unstable(z, axis=-1):
    e = np.exp(z)
    return e / e.sum(axis=axis, keepdims=True)


def softmax_axis0(z, axis=-1):
    e = np.exp(z - z.max(axis=0, keepdims=True))
    return e / e.sum(axis=0, keepdims=True)


def rnn_cell_one_bias(x, h_prev, W_ih, W_hh, b_ih, b_hh):
    return np.tanh(x @ W_ih.T + h_prev @ W_hh.T + b_ih)


def rnn_cell_no_bias(x, h_prev, W_ih, W_hh, b_ih, b_hh):
    return np.tanh(x @ W_ih.T + h_prev @ W_hh.T)


def rnn_cell_sigmoid(x, h_prev, W_ih, W_hh, b_ih, b_hh):
    return sig(x @ W_ih.T + b_ih + h_prev @ W_hh.T + b_hh)


def rnn_cell_relu(x, h_prev, W_ih, W_hh, b_ih, b_hh):
    return np.maximum(0, x @ W_ih.T + b_ih + h_prev @ W_hh.T + b_hh)


def rnn_cell_linear(x, h_prev, W_ih, W_hh, b_ih, b_hh):
    return x @ W_ih.T + b_ih + h_prev @ W_hh.T + b_hh


def rnn_cell_transposed(x, h_prev, W_ih, W_hh, b_ih, b_hh):
    return np.tanh(x @ W_ih.T + b_ih + h_prev @ W_hh + b_hh)


def rnn_cell_no_input(x, h_prev, W_ih, W_hh, b_ih, b_hh):
    return np.tanh(b_ih + h_prev @ W_hh.T + b_hh)


def rnn_cell_no_prev(x, h_prev, W_ih, W_hh, b_ih, b_hh):
    return np.tanh(x @ W_ih.T + b_ih + b_hh)


def rnn_cell_swapped(x, h_prev, W_ih, W_hh, b_ih, b_hh):
    return np.tanh(x @ W_hh.T + b_ih + h_prev @ W_ih.T + b_hh)


def rnn_cell_float32(x, h_prev, W_ih, W_hh, b_ih, b_hh):
    a = [v.astype(np.float32) for v in (x, h_prev, W_ih, W_hh, b_ih, b_hh)]
    return rnn.rnn_cell(*a).astype(np.float64)


def rnn_cell_float32_kept(x, h_prev, W_ih, W_hh, b_ih, b_hh):  # breaks the dtype rule
    a = [v.astype(np.float32) for v in (x, h_prev, W_ih, W_hh, b_ih, b_hh)]
    return rnn.rnn_cell(*a)


def rnn_forward_from_h0(xs, h0, W_ih, W_hh, b_ih, b_hh):
    return np.stack([rnn.rnn_cell(x, h0, W_ih, W_hh, b_ih, b_hh) for x in xs])


def rnn_forward_zeros(xs, h0, W_ih, W_hh, b_ih, b_hh):
    return rnn.rnn_forward(xs, np.zeros_like(h0), W_ih, W_hh, b_ih, b_hh)


def rnn_forward_with_h0(xs, h0, W_ih, W_hh, b_ih, b_hh):
    return np.concatenate([h0[None], rnn.rnn_forward(xs, h0, W_ih, W_hh, b_ih, b_hh)])


def rnn_forward_shifted(xs, h0, W_ih, W_hh, b_ih, b_hh):
    hs = np.zeros((xs.shape[0], *h0.shape))
    h = h0
    for t, x in enumerate(xs):
        hs[t] = h  # stores the state before the step
        h = rnn.rnn_cell(x, h, W_ih, W_hh, b_ih, b_hh)
    return hs


def rnn_forward_buffer(xs, h0, W_ih, W_hh, b_ih, b_hh):
    hs = np.zeros((xs.shape[0], *h0.shape))
    for t, x in enumerate(xs):
        hs[t] = rnn.rnn_cell(x, hs[t], W_ih, W_hh, b_ih, b_hh)  # h_t used for h_{t-1}
    return hs


def rnn_forward_torch(xs, h0, W_ih, W_hh, b_ih, b_hh):
    return torch.from_numpy(rnn.rnn_forward(xs, h0, W_ih, W_hh, b_ih, b_hh))


def rnn_forward_list(xs, h0, W_ih, W_hh, b_ih, b_hh):
    return rnn.rnn_forward(xs, h0, W_ih, W_hh, b_ih, b_hh).tolist()


def rnn_forward_nan(xs, h0, W_ih, W_hh, b_ih, b_hh):
    hs = rnn.rnn_forward(xs, h0, W_ih, W_hh, b_ih, b_hh)
    hs[1, 0, 2] = np.nan
    return hs


def rnn_forward_int(xs, h0, W_ih, W_hh, b_ih, b_hh):
    return np.zeros((xs.shape[0], *h0.shape), dtype=int)


def rnn_forward_last(xs, h0, W_ih, W_hh, b_ih, b_hh):
    return rnn.rnn_forward(xs, h0, W_ih, W_hh, b_ih, b_hh)[-1]


def rnn_forward_tuple(xs, h0, W_ih, W_hh, b_ih, b_hh):
    hs = rnn.rnn_forward(xs, h0, W_ih, W_hh, b_ih, b_hh)
    return hs, hs[-1]


def rnn_forward_none(xs, h0, W_ih, W_hh, b_ih, b_hh):
    rnn.rnn_forward(xs, h0, W_ih, W_hh, b_ih, b_hh)


def rnn_forward_scalar(xs, h0, W_ih, W_hh, b_ih, b_hh):
    return 0.5


def _picked(logits, targets):
    lp = rnn.log_softmax(logits)
    return np.take_along_axis(lp, targets[..., None], axis=-1)[..., 0]


def ce_mean_all(logits, targets):
    return float(-_picked(logits, targets).mean())


def ce_sum_batch(logits, targets):
    return float(-_picked(logits, targets).sum())


def ce_sign(logits, targets):
    return float(_picked(logits, targets).mean(axis=1).sum())


def ce_prob(logits, targets):
    return float(-np.exp(_picked(logits, targets)).mean(axis=1).sum())


def ce_array(logits, targets):
    return np.array([rnn.sequence_cross_entropy(logits, targets)])


def ce_unstable(logits, targets):
    p = np.exp(logits) / np.exp(logits).sum(-1, keepdims=True)
    return float(-np.log(np.take_along_axis(p, targets[..., None], -1)).mean(axis=1).sum())


# --- a02 -----------------------------------------------------------------------------------------


def cell_backward(dh, x, h_prev, h, W_ih, W_hh, *, local=None, dW_T=False, db_sum=True):
    da = dh * ((1 - h**2) if local is None else local)
    return {
        "dx": da @ W_ih,
        "dh_prev": da @ W_hh,
        "dW_ih": x.T @ da if dW_T else da.T @ x,
        "dW_hh": h_prev.T @ da if dW_T else da.T @ h_prev,
        "db_ih": da.sum(0) if db_sum else da,
        "db_hh": da.sum(0) if db_sum else da,
    }


def cb_no_tanh(dh, x, h_prev, h, W_ih, W_hh):
    return cell_backward(dh, x, h_prev, h, W_ih, W_hh, local=1.0)


def cb_h_prev(dh, x, h_prev, h, W_ih, W_hh):
    return cell_backward(dh, x, h_prev, h, W_ih, W_hh, local=1 - h_prev**2)


def cb_not_squared(dh, x, h_prev, h, W_ih, W_hh):
    return cell_backward(dh, x, h_prev, h, W_ih, W_hh, local=1 - h)


def cb_dW_T(dh, x, h_prev, h, W_ih, W_hh):
    return cell_backward(dh, x, h_prev, h, W_ih, W_hh, dW_T=True)


def cb_db(dh, x, h_prev, h, W_ih, W_hh):
    return cell_backward(dh, x, h_prev, h, W_ih, W_hh, db_sum=False)


def cb_missing_key(dh, x, h_prev, h, W_ih, W_hh):
    g = cell_backward(dh, x, h_prev, h, W_ih, W_hh)
    del g["db_hh"]
    return g


def bptt(
    dhs,
    xs,
    h0,
    hs,
    W_ih,
    W_hh,
    truncate=None,
    *,
    carry=True,
    acc=True,
    dh0=True,
    h_t=False,
    k_shift=0,
    ignore_trunc=False,
):
    T = xs.shape[0]
    g = {
        "dxs": np.zeros_like(xs),
        "dh0": np.zeros_like(h0),
        "dW_ih": np.zeros_like(W_ih),
        "dW_hh": np.zeros_like(W_hh),
        "db_ih": np.zeros(len(W_hh)),
        "db_hh": np.zeros(len(W_hh)),
    }

    def step(s, dh):
        h_prev = hs[s] if h_t else (h0 if s == 0 else hs[s - 1])
        c = cell_backward(dh, xs[s], h_prev, hs[s], W_ih, W_hh)
        g["dxs"][s] += c["dx"]
        for k in ("dW_ih", "dW_hh", "db_ih", "db_hh"):
            g[k] = g[k] + c[k] if acc else c[k]
        return c["dh_prev"]

    if truncate is None or ignore_trunc:
        d = np.zeros_like(h0)
        for t in reversed(range(T)):
            d = step(t, dhs[t] + (d if carry else 0))
        if dh0:
            g["dh0"] = d
        return g
    k = truncate + k_shift
    for t in range(T):
        d = dhs[t]
        for s in range(t, max(t - k, -1), -1):
            d = step(s, d)
        if t - k < 0:
            g["dh0"] += d
    return g


def rnn_backward_float32(dhs, xs, h0, hs, W_ih, W_hh, truncate=None):
    a = [v.astype(np.float32) for v in (dhs, xs, h0, hs, W_ih, W_hh)]
    return {k: v.astype(np.float64) for k, v in rnn.rnn_backward(*a).items()}


def wrap_bptt(**kw):
    def f(dhs, xs, h0, hs, W_ih, W_hh, truncate=None):
        return bptt(dhs, xs, h0, hs, W_ih, W_hh, truncate, **kw)

    return f


def clip_norm_per_tensor(grads, max_norm):
    out = {k: g * min(1, max_norm / (np.linalg.norm(g) + 1e-6)) for k, g in grads.items()}
    return out, float(np.sqrt(sum((g**2).sum() for g in grads.values())))


def clip_norm_always(grads, max_norm):
    total = float(np.sqrt(sum((g**2).sum() for g in grads.values())))
    return {k: g * max_norm / (total + 1e-6) for k, g in grads.items()}, total


def clip_norm_squared(grads, max_norm):
    total = float(sum((g**2).sum() for g in grads.values()))
    return {k: g * min(1, max_norm / (total + 1e-6)) for k, g in grads.items()}, total


def clip_norm_no_eps(grads, max_norm):
    total = float(np.sqrt(sum((g**2).sum() for g in grads.values())))
    return {k: g * min(1, max_norm / total) for k, g in grads.items()}, total


def clip_value_one_sided(grads, clip_value):
    return {k: np.minimum(g, clip_value) for k, g in grads.items()}


def clip_value_by_norm(grads, clip_value):
    total = np.sqrt(sum((g**2).sum() for g in grads.values()))
    return {k: g * min(1, clip_value / total) for k, g in grads.items()}


def decay(
    xs,
    h0,
    W_ih,
    W_hh,
    b_ih,
    b_hh,
    *,
    deriv="h",
    spectral=False,
    total=False,
    reverse=False,
    transpose=False,
):
    hs = [h0, *rnn.rnn_forward(xs, h0, W_ih, W_hh, b_ih, b_hh)]
    T, (B, H) = len(xs), h0.shape
    W = W_hh.T if transpose else W_hh
    J = np.stack([np.eye(H)] * B)
    norms = []
    for k in range(T + 1):
        n = np.linalg.norm(J, ord=2, axis=(1, 2)) if spectral else np.sqrt((J**2).sum((1, 2)))
        norms.append(n.sum() if total else n.mean())
        if k < T:
            t = T - k
            local = {"h": 1 - hs[t] ** 2, "none": np.ones((B, H)), "prev": 1 - hs[t - 1] ** 2}
            J = J @ (local[deriv][:, :, None] * W[None])
    return np.array(norms[::-1] if reverse else norms)


def wrap_decay(**kw):
    return lambda xs, h0, W_ih, W_hh, b_ih, b_hh: decay(xs, h0, W_ih, W_hh, b_ih, b_hh, **kw)


# --- a03 -----------------------------------------------------------------------------------------


def forget_gate_tanh(x, h_prev, W_if, W_hf, b_if, b_hf):
    return np.tanh(x @ W_if.T + b_if + h_prev @ W_hf.T + b_hf)


def forget_gate_no_bias(x, h_prev, W_if, W_hf, b_if, b_hf):
    return sig(x @ W_if.T + h_prev @ W_hf.T)


def input_gate_one_bias(x, h_prev, W_ii, W_hi, b_ii, b_hi):
    return sig(x @ W_ii.T + b_ii + h_prev @ W_hi.T)


def input_gate_no_input(x, h_prev, W_ii, W_hi, b_ii, b_hi):
    return sig(b_ii + h_prev @ W_hi.T + b_hi)


def candidate_sigmoid(x, h_prev, W_ig, W_hg, b_ig, b_hg):
    return sig(x @ W_ig.T + b_ig + h_prev @ W_hg.T + b_hg)


def candidate_no_bias(x, h_prev, W_ig, W_hg, b_ig, b_hg):
    return np.tanh(x @ W_ig.T + h_prev @ W_hg.T)


def reset_gate_tanh(x, h_prev, W_ir, W_hr, b_ir, b_hr):
    return np.tanh(x @ W_ir.T + b_ir + h_prev @ W_hr.T + b_hr)


def update_gate_one_bias(x, h_prev, W_iz, W_hz, b_iz, b_hz):
    return sig(x @ W_iz.T + b_iz + h_prev @ W_hz.T)


def update_gate_no_prev(x, h_prev, W_iz, W_hz, b_iz, b_hz):
    return sig(x @ W_iz.T + b_iz + b_hz)


def output_gate_no_prev(x, h_prev, W_io, W_ho, b_io, b_ho):
    return sig(x @ W_io.T + b_io + b_ho)


def output_gate_transposed(x, h_prev, W_io, W_ho, b_io, b_ho):
    return sig(x @ W_io + b_io + h_prev @ W_ho.T + b_ho)


def cell_update_swapped(f, i, g, c_prev):
    return i * c_prev + f * g


def cell_update_no_forget(f, i, g, c_prev):
    return c_prev + i * g


def cell_update_tanh(f, i, g, c_prev):
    return np.tanh(f * c_prev + i * g)


def hidden_update_no_tanh(o, c):
    return o * c


def _swap(p, a, b):
    q = dict(p)
    for w in ("W_i", "W_h", "b_i", "b_h"):
        q[w + a], q[w + b] = p[w + b], p[w + a]
    return q


def lstm_cell_if_swapped(x, h_prev, c_prev, p):
    return lstm.lstm_cell(x, h_prev, c_prev, _swap(p, "i", "f"))


def lstm_cell_cs231n(x, h_prev, c_prev, p):
    return lstm.lstm_cell(x, h_prev, c_prev, _swap(p, "g", "o"))


def lstm_cell_list(x, h_prev, c_prev, p):
    return list(lstm.lstm_cell(x, h_prev, c_prev, p))


def lstm_cell_h_only(x, h_prev, c_prev, p):
    return lstm.lstm_cell(x, h_prev, c_prev, p)[0]


def lstm_forward_c0(xs, h0, c0, p):
    h, hs, cs = h0, [], []
    for x in xs:
        h, c = lstm.lstm_cell(x, h, c0, p)
        hs.append(h)
        cs.append(c)
    return np.stack(hs), np.stack(cs)


def lstm_forward_hidden_only(xs, h0, c0, p):
    return lstm.lstm_forward(xs, h0, c0, p)[0]


def to_torch_cs231n(p):
    q = {}
    for w in ("W_i", "W_h", "b_i", "b_h"):
        q[w + "i"], q[w + "f"], q[w + "g"], q[w + "o"] = (
            p[w + "i"],
            p[w + "f"],
            p[w + "o"],
            p[w + "g"],
        )
    m = torch.nn.LSTM(p["W_ii"].shape[1], p["W_ii"].shape[0], dtype=torch.float64)
    m.load_state_dict(lstm_params_to_torch(q))
    return m


def to_torch_bias_twice(p):
    q = dict(p)
    for g in "ifgo":
        q["b_i" + g] = q["b_h" + g] = p["b_i" + g] + p["b_h" + g]
    m = torch.nn.LSTM(p["W_ii"].shape[1], p["W_ii"].shape[0], dtype=torch.float64)
    m.load_state_dict(lstm_params_to_torch(q))
    return m


def to_torch_dict(p):
    return lstm_params_to_torch(p)


def to_torch_float32(p):  # breaks the dtype rule (a float32 module)
    m = torch.nn.LSTM(p["W_ii"].shape[1], p["W_ii"].shape[0])
    m.load_state_dict({k: v.float() for k, v in lstm_params_to_torch(p).items()})
    return m


# --- a04 -----------------------------------------------------------------------------------------


def lcb(
    dh,
    dc,
    x,
    h_prev,
    c_prev,
    c,
    gates,
    p,
    *,
    cell_tanh=True,
    forget=True,
    sig_d=True,
    swap_if=False,
    do_c=False,
    dc_prev_o=False,
):
    i, f, g, o = (gates[k] for k in "ifgo")
    tc = np.tanh(c)
    dct = dc + dh * o * ((1 - tc**2) if cell_tanh else 1)
    di, df = dct * g, dct * c_prev
    if swap_if:
        di, df = df, di
    d = {"i": di, "f": df, "g": dct * i, "o": dh * (c if do_c else tc)}
    f = o if dc_prev_o else f
    da = {k: d[k] * (gates[k] * (1 - gates[k]) if sig_d else 1) for k in "ifo"}
    da["g"] = d["g"] * (1 - g**2)
    out = {"dx": 0, "dh_prev": 0, "dc_prev": dct * f if forget else dct}
    for k in "ifgo":
        out["dx"] = out["dx"] + da[k] @ p["W_i" + k]
        out["dh_prev"] = out["dh_prev"] + da[k] @ p["W_h" + k]
        out["dW_i" + k], out["dW_h" + k] = da[k].T @ x, da[k].T @ h_prev
        out["db_i" + k] = out["db_h" + k] = da[k].sum(0)
    return out


def wrap_lcb(**kw):
    def f(dh, dc, x, h_prev, c_prev, c, gates, p):
        return lcb(dh, dc, x, h_prev, c_prev, c, gates, p, **kw)

    return f


def lstm_backward_no_dc(dhs, xs, h0, c0, hs, cs, gates, p, dc_T=None):
    T = xs.shape[0]
    grads = {"dxs": np.zeros_like(xs)}
    dh = np.zeros_like(h0)
    dc = np.zeros_like(c0) if dc_T is None else dc_T
    for t in reversed(range(T)):
        step = {k: v[t] for k, v in gates.items()}
        hp, cp = (hs[t - 1], cs[t - 1]) if t else (h0, c0)
        g = lstm.lstm_cell_backward(dhs[t] + dh, dc, xs[t], hp, cp, cs[t], step, p)
        grads["dxs"][t] = g["dx"]
        dh, dc = g["dh_prev"], np.zeros_like(c0)  # the cell gradient is dropped
        for k, v in g.items():
            if k not in ("dx", "dh_prev", "dc_prev"):
                grads[k] = grads.get(k, 0) + v
    grads["dh0"], grads["dc0"] = dh, g["dc_prev"]
    return grads


# --- a05 -----------------------------------------------------------------------------------------


def gru_candidate_cho(x, h_prev, r, W_in, W_hn, b_in, b_hn):
    return np.tanh(x @ W_in.T + b_in + (r * h_prev) @ W_hn.T + b_hn)


def gru_candidate_bias_outside(x, h_prev, r, W_in, W_hn, b_in, b_hn):
    return np.tanh(x @ W_in.T + b_in + r * (h_prev @ W_hn.T) + b_hn)


def gru_candidate_no_reset(x, h_prev, r, W_in, W_hn, b_in, b_hn):
    return np.tanh(x @ W_in.T + b_in + h_prev @ W_hn.T + b_hn)


def gru_cell_flipped(x, h_prev, p):
    z = gru.update_gate(x, h_prev, p["W_iz"], p["W_hz"], p["b_iz"], p["b_hz"])
    h = gru.gru_cell(x, h_prev, p)
    n = (h - z * h_prev) / (1 - z)
    return z * n + (1 - z) * h_prev


def gru_cell_rz_swapped(x, h_prev, p):
    q = dict(p)
    for w in ("W_i", "W_h", "b_i", "b_h"):
        q[w + "r"], q[w + "z"] = p[w + "z"], p[w + "r"]
    return gru.gru_cell(x, h_prev, q)


def gru_forward_h0(xs, h0, p):
    return np.stack([gru.gru_cell(x, h0, p) for x in xs])


class AlwaysEqual:
    def __eq__(self, other):
        return True

    __hash__ = None


def gru_cell_tanh_gates(x, h_prev, p):
    def gate(k):
        return np.tanh(x @ p[f"W_i{k}"].T + p[f"b_i{k}"] + h_prev @ p[f"W_h{k}"].T + p[f"b_h{k}"])

    r, z = gate("r"), gate("z")
    hn = h_prev @ p["W_hn"].T + p["b_hn"]
    n = np.tanh(x @ p["W_in"].T + p["b_in"] + r * hn)
    return (1 - z) * n + z * h_prev


WRONG = [
    ("sigmoid", "visible_extreme", sigmoid_unstable, "unstable_sigmoid"),
    ("sigmoid", "visible", lambda x: np.tanh(x), "tanh_for_sigmoid"),
    ("sigmoid", "random", lambda x: sig(-x), "sigmoid_sign"),
    ("softmax", "visible_extreme", softmax_unstable, "unstable_softmax"),
    ("softmax", "visible", softmax_axis0, "softmax_wrong_axis"),
    ("rnn_cell", "visible_bias_only", rnn_cell_one_bias, "one_bias_only"),
    ("rnn_cell", "visible_bias_only", rnn_cell_no_bias, "bias_dropped"),
    ("rnn_cell", "visible", rnn_cell_sigmoid, "sigmoid_for_tanh"),
    ("rnn_cell", "visible", rnn_cell_relu, "relu_for_tanh"),
    ("rnn_cell", "visible", rnn_cell_linear, "activation_missing"),
    ("rnn_cell", "visible_prev_state_only", rnn_cell_transposed, "weight_transposed"),
    ("rnn_cell", "square", rnn_cell_swapped, "weights_swapped"),
    ("rnn_cell", "visible", rnn_cell_swapped, "weight_transposed"),  # D != H: matmul error
    ("rnn_cell", "visible_input_only", rnn_cell_no_input, "input_term_dropped"),
    ("rnn_cell", "visible_prev_state_only", rnn_cell_no_prev, "prev_state_term_dropped"),
    ("rnn_cell", "visible", rnn_cell_float32, None),  # float32 error below float64 tolerance
    ("rnn_backward", "visible", rnn_backward_float32, "float32_precision"),
    ("rnn_cell", "visible", rnn_cell_float32_kept, "float32_result"),
    ("rnn_forward", "visible", rnn_forward_from_h0, "h_t_for_h_prev"),
    ("rnn_forward", "visible", rnn_forward_buffer, "h_t_for_h_prev"),
    ("rnn_forward", "visible", rnn_forward_zeros, "h0_ignored"),
    ("rnn_forward", "visible", rnn_forward_with_h0, "includes_initial_state"),
    ("rnn_forward", "visible", rnn_forward_shifted, "off_by_one"),
    ("rnn_forward", "visible", rnn_forward_torch, "torch_tensor"),
    ("rnn_forward", "visible", rnn_forward_list, "python_list"),
    ("rnn_forward", "visible", rnn_forward_nan, "not_finite"),
    ("rnn_forward", "visible", rnn_forward_int, "integer_array"),
    ("rnn_forward", "visible", rnn_forward_last, "wrong_shape"),
    ("rnn_forward", "visible", rnn_forward_tuple, "tuple_for_array"),
    ("rnn_forward", "visible", rnn_forward_none, "returned_none"),
    ("rnn_forward", "visible", rnn_forward_scalar, "scalar_for_array"),
    ("rnn_forward", "visible", lambda *a: AlwaysEqual(), "not_an_array"),
    ("sequence_cross_entropy", "visible", ce_mean_all, "ce_averaged_over_time"),
    ("sequence_cross_entropy", "visible", ce_sum_batch, "ce_summed_over_batch"),
    ("sequence_cross_entropy", "visible", ce_sign, "ce_sign"),
    ("sequence_cross_entropy", "visible", ce_prob, "ce_probability_not_log"),
    ("sequence_cross_entropy", "visible", ce_array, "array_for_scalar"),
    ("sequence_cross_entropy", "visible_extreme", ce_unstable, "unstable_softmax"),
    ("rnn_cell_backward", "visible", cb_no_tanh, "tanh_derivative_missing"),
    ("rnn_cell_backward", "visible", cb_h_prev, "derivative_uses_h_prev"),
    ("rnn_cell_backward", "visible", cb_not_squared, "derivative_not_squared"),
    ("rnn_cell_backward", "square", cb_dW_T, "gradient_transposed"),
    ("rnn_cell_backward", "visible", cb_db, "bias_grad_not_summed"),
    ("rnn_cell_backward", "visible", cb_missing_key, "missing_keys"),
    ("rnn_backward", "visible", wrap_bptt(carry=False), "gradient_not_carried"),
    ("rnn_backward", "visible", wrap_bptt(acc=False), "gradient_not_accumulated"),
    ("rnn_backward", "visible", wrap_bptt(dh0=False), "dh0_missing"),
    ("rnn_backward", "visible", wrap_bptt(h_t=True), "dW_hh_uses_h_t"),
    ("rnn_backward", "visible_truncated", wrap_bptt(k_shift=1), "truncation_window"),
    ("rnn_backward", "visible_truncated", wrap_bptt(ignore_trunc=True), "truncation_ignored"),
    ("clip_grad_norm", "visible", clip_norm_per_tensor, "clip_per_tensor"),
    ("clip_grad_norm", "visible_below", clip_norm_always, "clip_always_scales"),
    ("clip_grad_norm", "visible", clip_norm_squared, "norm_not_square_rooted"),
    ("clip_grad_norm", "visible", clip_norm_no_eps, None),  # within tolerance: accepted
    ("clip_grad_value", "visible", clip_value_one_sided, "clip_one_sided"),
    ("clip_grad_value", "visible", clip_value_by_norm, "clip_by_norm_not_value"),
    ("gradient_decay", "visible", wrap_decay(deriv="none"), "tanh_derivative_missing"),
    ("gradient_decay", "visible", wrap_decay(deriv="prev"), "derivative_uses_h_prev"),
    ("gradient_decay", "visible", wrap_decay(spectral=True), "wrong_norm"),
    ("gradient_decay", "visible", wrap_decay(total=True), "batch_summed"),
    ("gradient_decay", "visible", wrap_decay(reverse=True), "reversed_distance"),
    ("gradient_decay", "visible", wrap_decay(transpose=True), "weight_transposed"),
    ("forget_gate", "visible", forget_gate_tanh, "tanh_for_sigmoid"),
    ("forget_gate", "visible_bias_only", forget_gate_no_bias, "bias_dropped"),
    ("input_gate", "visible_bias_only", input_gate_one_bias, "one_bias_only"),
    ("input_gate", "visible_input_only", input_gate_no_input, "input_term_dropped"),
    ("candidate", "visible", candidate_sigmoid, "sigmoid_for_tanh"),
    ("candidate", "visible_bias_only", candidate_no_bias, "bias_dropped"),
    ("reset_gate", "visible", reset_gate_tanh, "tanh_for_sigmoid"),
    ("update_gate", "visible_bias_only", update_gate_one_bias, "one_bias_only"),
    ("update_gate", "visible_prev_state_only", update_gate_no_prev, "prev_state_term_dropped"),
    ("output_gate", "visible_prev_state_only", output_gate_no_prev, "prev_state_term_dropped"),
    ("output_gate", "square", output_gate_transposed, "weight_transposed"),
    ("cell_update", "visible", cell_update_swapped, "gates_swapped"),
    ("cell_update", "visible_forget_only", cell_update_no_forget, "forget_gate_ignored"),
    ("cell_update", "visible", cell_update_tanh, "extra_tanh"),
    ("hidden_update", "visible", hidden_update_no_tanh, "activation_missing"),
    ("lstm_cell", "visible", lstm_cell_if_swapped, "gates_swapped"),
    ("lstm_cell", "visible", lstm_cell_cs231n, "gates_swapped"),
    ("lstm_cell", "visible", lstm_cell_list, None),  # a list of (h, c) is accepted as a tuple
    ("lstm_cell", "visible", lstm_cell_h_only, "wrong_structure"),
    ("lstm_forward", "visible", lstm_forward_c0, "cell_state_not_carried"),
    ("lstm_forward", "visible", lstm_forward_hidden_only, "wrong_structure"),
    ("to_torch_lstm", "visible", to_torch_cs231n, "cs231n_gate_order"),
    ("to_torch_lstm", "visible", to_torch_bias_twice, "bias_counted_twice"),
    ("to_torch_lstm", "visible", to_torch_dict, "not_an_lstm"),
    ("to_torch_lstm", "visible", to_torch_float32, "float32_result"),
    ("lstm_cell_backward", "visible", wrap_lcb(cell_tanh=False), "cell_tanh_derivative_missing"),
    ("lstm_cell_backward", "visible", wrap_lcb(forget=False), "forget_gate_not_applied"),
    ("lstm_cell_backward", "visible", wrap_lcb(sig_d=False), "sigmoid_derivative_wrong"),
    ("lstm_cell_backward", "visible", wrap_lcb(do_c=True), "output_gate_uses_c"),
    ("lstm_cell_backward", "visible", wrap_lcb(dc_prev_o=True), "forget_gate_not_applied"),
    ("lstm_cell_backward", "visible", wrap_lcb(swap_if=True), "gates_swapped"),
    ("lstm_backward", "visible", lstm_backward_no_dc, "cell_gradient_not_carried"),
    ("gru_candidate", "visible", gru_candidate_cho, "reset_before_matmul"),
    ("gru_candidate", "visible", gru_candidate_bias_outside, "reset_excludes_bias"),
    ("gru_candidate", "visible_reset_closed", gru_candidate_no_reset, "reset_ignored"),
    ("gru_cell", "visible", gru_cell_flipped, "update_gate_flipped"),
    ("gru_cell", "visible", gru_cell_tanh_gates, "tanh_for_sigmoid"),
    ("gru_cell", "visible", gru_cell_rz_swapped, "gates_swapped"),
    ("gru_cell", "visible", gru.cho_gru_cell, "reset_before_matmul"),
    ("cho_gru_cell", "visible", gru.gru_cell, "reset_after_matmul"),
    ("gru_forward", "visible", gru_forward_h0, "h_t_for_h_prev"),
    ("reset_gate", "visible_bias_only", lambda *a: np.full((3, 5), 0.5), "bias_dropped"),
    ("update_gate", "visible", lambda *a: 1 / 0, "raised_exception"),
    (
        "update_gate",
        "visible",
        lambda *a: (_ for _ in ()).throw(NotImplementedError()),
        "not_implemented",
    ),
    ("update_gate", "visible", None, "not_defined"),
]

# --- a06 (added with the assignment) ------------------------------------------------------------


def blend_reversed(dh, h_prev, z, n):
    return dh * z, dh * (h_prev - n), dh * (1 - z)


def blend_no_one_minus_z(dh, h_prev, z, n):
    return dh, dh * (h_prev - n), dh * z


def blend_dz_sign(dh, h_prev, z, n):
    return dh * (1 - z), dh * (n - h_prev), dh * z


def blend_no_direct(dh, h_prev, z, n):
    return dh * (1 - z), dh * (h_prev - n), 0 * dh


def cand_bwd(dn, x, h_prev, r, n, W_in, W_hn, b_hn, *, cho=False, dr_bias=True, scale_b=True):
    da = dn * (1 - n**2)
    dhn = da * r
    if cho:
        dr, dh_prev, dW_hn = (da @ W_hn) * h_prev, (da @ W_hn) * r, da.T @ (r * h_prev)
    else:
        dr = da * (h_prev @ W_hn.T + (b_hn if dr_bias else 0))
        dh_prev, dW_hn = dhn @ W_hn, dhn.T @ h_prev
    db_hn = (dhn if scale_b else da).sum(0)
    out = {"dx": da @ W_in, "dh_prev": dh_prev, "dr": dr, "dW_in": da.T @ x, "dW_hn": dW_hn}
    return out | {"db_in": da.sum(0), "db_hn": db_hn}


def wrap_cand(**kw):
    def f(dn, x, h_prev, r, n, W_in, W_hn, b_hn):
        return cand_bwd(dn, x, h_prev, r, n, W_in, W_hn, b_hn, **kw)

    return f


def cand_unscaled_hidden(dn, x, h_prev, r, n, W_in, W_hn, b_hn):
    out = cand_bwd(dn, x, h_prev, r, n, W_in, W_hn, b_hn)
    da = dn * (1 - n**2)
    return out | {"dh_prev": da @ W_hn, "dW_hn": da.T @ h_prev, "db_hn": da.sum(0)}


def reset_bwd_tanh(dr, x, h_prev, r, W_ir, W_hr):
    da = dr * (1 - r**2)
    out = {"dx": da @ W_ir, "dh_prev": da @ W_hr, "dW_ir": da.T @ x, "dW_hr": da.T @ h_prev}
    return out | {"db_ir": da.sum(0), "db_hr": da.sum(0)}


WRONG += [
    ("blend_backward", "visible", blend_reversed, "blend_reversed_backward"),
    ("blend_backward", "visible_update_open", blend_no_one_minus_z, "one_minus_z_missing"),
    ("blend_backward", "visible", blend_dz_sign, "dz_sign_flipped"),
    ("blend_backward", "visible_update_open", blend_no_direct, "direct_path_missing"),
    ("gru_candidate_backward", "visible", wrap_cand(cho=True), "reset_grad_before_matmul"),
    ("gru_candidate_backward", "visible", wrap_cand(dr_bias=False), "reset_grad_excludes_bias"),
    ("gru_candidate_backward", "visible", wrap_cand(scale_b=False), "b_hn_grad_not_scaled"),
    ("gru_candidate_backward", "visible", cand_unscaled_hidden, "reset_not_in_hidden_grads"),
    ("reset_gate_backward", "visible", reset_bwd_tanh, "tanh_derivative_for_sigmoid"),
]

# --- a07 (added with the assignment) ------------------------------------------------------------


def adam(p, grads, m, v, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8, **kw):
    b1, b2 = (1 - beta1, 1 - beta2) if kw.get("reverse") else (beta1, beta2)
    t = t + kw.get("shift", 0)
    new_p, new_m, new_v = {}, {}, {}
    for k, g in grads.items():
        w1, w2 = (1.0, 1.0) if kw.get("unweighted") else (1 - b1, 1 - b2)
        new_m[k] = b1 * m[k] + w1 * g
        new_v[k] = b2 * v[k] + w2 * (np.abs(g) if kw.get("abs") else g * g)
        mh, vh = new_m[k], new_v[k]
        if not kw.get("no_correction"):
            mh = mh / (1 - beta1**t) if kw.get("only") in (None, "m") else mh
            vh = vh / (1 - beta2**t) if kw.get("only") in (None, "v") else vh
        root = vh if kw.get("no_sqrt") else np.sqrt(vh)
        denom = np.sqrt(vh + eps) if kw.get("eps_inside") else root + eps
        new_p[k] = p[k] + (1 if kw.get("ascent") else -1) * lr * mh / denom
        if kw.get("store_hats"):
            new_m[k], new_v[k] = mh, vh
    return new_p, new_m, new_v


def output_gate_one_minus_o(dh, c, o):
    return dh * np.tanh(c) * (1 - o)


def forget_gate_times_f_only(dc_t, c_prev, f):
    return dc_t * c_prev * f


def cell_state_dc_prev_o(dh, dc, c, o, f):
    dc_t = dc + dh * o * (1 - np.tanh(c) ** 2)
    return dc_t, dc_t * o


def lstm_cell_tanh_c_prev(x, h_prev, c_prev, p):
    gt = lstm.lstm_gates(x, h_prev, p)
    return gt["o"] * np.tanh(c_prev), gt["f"] * c_prev + gt["i"] * gt["g"]


def lstm_forward_stores_h_as_c(xs, h0, c0, p):
    hs, cs = lstm.lstm_forward(xs, h0, c0, p)
    return hs, hs.copy()


def rnn_backward_dxs_never_filled(dhs, xs, h0, hs, W_ih, W_hh, truncate=None):
    g = rnn.rnn_backward(dhs, xs, h0, hs, W_ih, W_hh, truncate)
    return g | {"dxs": np.zeros_like(xs)}


def rnn_cell_backward_dW_hh_from_h(dh, x, h_prev, h, W_ih, W_hh):
    g = rnn.rnn_cell_backward(dh, x, h_prev, h, W_ih, W_hh)
    return g | {"dW_hh": (dh * (1 - h**2)).T @ h}


def rnn_cell_backward_mean(dh, x, h_prev, h, W_ih, W_hh):
    g = rnn.rnn_cell_backward(dh, x, h_prev, h, W_ih, W_hh)
    B = dh.shape[0]
    return {k: v / B if k.startswith(("dW", "db")) else v for k, v in g.items()}


def rnn_cell_both_transposed(x, h_prev, W_ih, W_hh, b_ih, b_hh):
    return np.tanh(x @ W_ih + b_ih + h_prev @ W_hh + b_hh)


def rnn_backward_W_hh_transposed(dhs, xs, h0, hs, W_ih, W_hh, truncate=None):
    g = {"dxs": np.zeros_like(xs), "dW_ih": 0.0, "dW_hh": 0.0, "db_ih": 0.0, "db_hh": 0.0}
    dh_next = np.zeros_like(h0)
    for t in reversed(range(xs.shape[0])):
        h_prev = hs[t - 1] if t else h0
        da = (dhs[t] + dh_next) * (1 - hs[t] ** 2)
        g["dxs"][t] = da @ W_ih
        dh_next = da @ W_hh.T
        g["dW_ih"] = g["dW_ih"] + da.T @ xs[t]
        g["dW_hh"] = g["dW_hh"] + da.T @ h_prev
        g["db_ih"] = g["db_ih"] + da.sum(0)
        g["db_hh"] = g["db_hh"] + da.sum(0)
    return g | {"dh0": dh_next}


def wrap_adam(**kw):
    def f(p, grads, m, v, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
        return adam(p, grads, m, v, t, lr, beta1, beta2, eps, **kw)

    return f


def tbptt(P, stream, h0, T, carry=True, shift=1, drop=False):
    losses, grads, h = [], [], h0
    for start in range(0, stream.shape[0] - 1, T):
        stop = min(start + T, stream.shape[0] - 1)
        if drop and stop - start < T:
            break
        loss, g, h_new = gru_lm.lm_loss_and_grads(
            P, stream[start:stop], stream[start + shift : stop + shift], h
        )
        h = h_new if carry else h0
        losses.append(loss)
        grads.append(g)
    return np.array(losses), grads, h_new


def wrap_tbptt(**kw):
    return lambda P, stream, h0, T: tbptt(P, stream, h0, T, **kw)


def tbptt_overlapping(P, stream, h0, T):
    losses, grads, h = [], [], h0
    for start in range(0, stream.shape[0] - 1, T - 1):
        stop = min(start + T, stream.shape[0] - 1)
        loss, g, h = gru_lm.lm_loss_and_grads(
            P, stream[start:stop], stream[start + 1 : stop + 1], h
        )
        losses.append(loss)
        grads.append(g)
    return np.array(losses), grads, h


def sample_times(logits, temperature, rng):
    return gru_lm.sample_next(logits * temperature, 1.0, rng)


def sample_ignoring_temperature(logits, temperature, rng):
    return gru_lm.sample_next(logits, 1.0, rng)


def sample_greedy(logits, temperature, rng):
    return np.argmax(logits, axis=-1)


def sample_uniform(logits, temperature, rng):
    return rng.integers(0, logits.shape[-1], size=logits.shape[0])


def train_nothing(P, stream, steps):
    return P


def train_nan(P, stream, steps):
    return {k: v * np.nan for k, v in P.items()}


def train_sgd_tiny(P, stream, steps):
    h = np.zeros((stream.shape[1], P["W_hr"].shape[0]))
    for _ in range(steps):
        _, g, h = gru_lm.lm_loss_and_grads(P, stream[:16], stream[1:17], h * 0)
        P = {k: P[k] - 1e-3 * g[k] for k in P}
    return P


WRONG += [
    ("adam_step", "visible", wrap_adam(no_correction=True), "adam_no_bias_correction"),
    ("adam_step", "visible", wrap_adam(only="m"), "adam_bias_correction_partial"),
    ("adam_step", "visible", wrap_adam(only="v"), "adam_bias_correction_partial"),
    ("adam_step", "visible", wrap_adam(unweighted=True), "moment_new_gradient_unweighted"),
    ("adam_step", "visible", wrap_adam(no_sqrt=True), "adam_sqrt_missing"),
    ("adam_step", "visible", wrap_adam(store_hats=True), "adam_corrected_moments_stored"),
    ("output_gate_backward", "visible", output_gate_one_minus_o, "sigmoid_derivative_wrong"),
    ("forget_gate_backward", "visible", forget_gate_times_f_only, "sigmoid_derivative_wrong"),
    ("cell_state_backward", "visible", cell_state_dc_prev_o, "forget_gate_not_applied"),
    ("lstm_cell", "visible", lstm_cell_tanh_c_prev, "c_prev_for_c"),
    ("lstm_forward", "visible", lstm_forward_stores_h_as_c, "value_in_wrong_place"),
    ("rnn_backward", "visible", rnn_backward_dxs_never_filled, "output_left_zero"),
    ("rnn_cell_backward", "visible", rnn_cell_backward_dW_hh_from_h, "dW_hh_uses_h_t"),
    ("rnn_cell_backward", "visible", rnn_cell_backward_mean, "grads_averaged_over_batch"),
    ("rnn_backward", "visible", rnn_backward_W_hh_transposed, "backward_weight_transposed"),
    ("rnn_cell", "square", rnn_cell_both_transposed, "weight_transposed"),
    ("adam_step", "visible", wrap_adam(reverse=True), "moment_blend_reversed"),
    ("adam_step", "visible", wrap_adam(abs=True), "adam_v_not_squared"),
    ("adam_step", "visible_eps", wrap_adam(eps_inside=True), "adam_eps_inside_sqrt"),
    ("adam_step", "visible", wrap_adam(shift=1), "adam_step_count"),
    ("adam_step", "visible_first", wrap_adam(ascent=True), "update_sign"),
    ("tbptt_gradients", "visible", wrap_tbptt(carry=False), "state_not_carried_across_windows"),
    ("tbptt_gradients", "visible", wrap_tbptt(shift=0), "targets_not_shifted"),
    ("tbptt_gradients", "visible_ragged", wrap_tbptt(drop=True), "last_window_dropped"),
    ("tbptt_gradients", "visible", tbptt_overlapping, "window_stride"),
    ("sample_next", "visible_t05", sample_times, "temperature_multiplied"),
    ("sample_next", "visible_t2", sample_ignoring_temperature, "temperature_ignored"),
    ("sample_next", "visible_t1", sample_greedy, "greedy_not_sampled"),
    ("sample_next", "visible_t1", sample_uniform, "sampling_not_from_softmax"),
    ("sample_next", "visible_t1", gru_lm.sample_next, None),
    ("train", "visible", train_nothing, "parameters_not_updated"),
    ("train", "visible", train_nan, "training_diverged"),
    ("train", "visible", train_sgd_tiny, "training_too_slow"),
]

#: keys produced only on the grading side (tested in test_exercises_grading.py)
GRADING_ONLY = {"no_output"}


def _id(row):
    name, case, func, mistake = row
    return f"{name}-{case}-{getattr(func, '__name__', 'func')}-{mistake}"


@pytest.mark.parametrize("row", WRONG, ids=[_id(r) for r in WRONG])
def test_wrong_implementation_gets_its_hint(row, monkeypatch):
    name, case, func, mistake = row
    monkeypatch.chdir(_assignment_dir(name))
    verdict = evaluate(name, func, case)
    if mistake is None:  # accepted variations (float32 results, a list for a tuple)
        assert verdict.passed, verdict.message
        return
    assert not verdict.passed
    assert verdict.mistake == mistake, verdict.message
    assert MISTAKES[mistake].split(":")[0] in verdict.message
    with pytest.raises(CheckError):  # the notebook's test cell fails: the points are lost
        check(name, func, case)


def test_every_hint_in_the_catalogue_is_exercised():
    from rnnscratch.bench.feedback_corpus import CORPUS

    produced = {row[3] for row in WRONG + CORPUS} | GRADING_ONLY
    assert set(MISTAKES) - produced == set()
    assert produced - {None} <= set(MISTAKES)


def _assignment_dir(name):
    from pathlib import Path

    from rnnscratch.exercises import SPECS

    return Path(__file__).resolve().parents[1] / "solutions" / SPECS[name].assignment
