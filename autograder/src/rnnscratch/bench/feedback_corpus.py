"""A corpus of student answers for the exercise checks: wrong ones with the mistake each should
be named by, and correct alternatives that must pass (expected key None).

Rows are (function, test case, implementation, expected catalogue key). The tests
(`tests/test_feedback_corpus.py`) require every row to get its key; `rnnscratch.bench.feedback`
prints the share named per assignment. Implementations are written as a student would, on top
of the course's reference maths where the mistake is elsewhere.
"""

import numpy as np

from rnnscratch.models import gru, lstm, rnn


def _sig(x):
    return 1.0 / (1.0 + np.exp(-x))


# --- a01 ------------------------------------------------------------------------------------------


def sigmoid_naive(x):
    return 1.0 / (1.0 + np.exp(-x))


def sigmoid_where(x):
    return np.where(x >= 0, 1.0 / (1.0 + np.exp(-x)), np.exp(x) / (1.0 + np.exp(x)))


def sigmoid_stable(x):
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1 / (1 + e), e / (1 + e))


def sigmoid_float32(x):
    return sigmoid_stable(x.astype(np.float32))


def softmax_float32(z, axis=-1):
    z = z.astype(np.float32)
    e = np.exp(z - z.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def softmax_stable(z, axis=-1):
    e = np.exp(z - z.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def softmax_naive(z, axis=-1):
    e = np.exp(z)
    return e / e.sum(axis=axis, keepdims=True)


def softmax_in_place(z, axis=-1):
    z -= z.max(axis=axis, keepdims=True)
    np.exp(z, out=z)
    return z / z.sum(axis=axis, keepdims=True)


def ce_log_of_softmax(logits, targets):
    p = softmax_stable(logits)
    picked = np.take_along_axis(p, targets[..., None], axis=-1)[..., 0]
    return float(-np.log(picked).mean(axis=1).sum())


def rnn_forward_list(xs, h0, W_ih, W_hh, b_ih, b_hh):
    h, hs = h0, []
    for x in xs:
        h = rnn.rnn_cell(x, h, W_ih, W_hh, b_ih, b_hh)
        hs.append(h)
    return hs


def rnn_forward_batch_major(xs, h0, W_ih, W_hh, b_ih, b_hh):
    return rnn.rnn_forward(xs, h0, W_ih, W_hh, b_ih, b_hh).transpose(1, 0, 2)


def rnn_cell_in_place(x, h_prev, W_ih, W_hh, b_ih, b_hh):
    a = x @ W_ih.T + b_ih + h_prev @ W_hh.T + b_hh
    return np.tanh(a, out=h_prev)


# --- a02 ------------------------------------------------------------------------------------------


def rnn_cell_backward_Whh_T(dh, x, h_prev, h, W_ih, W_hh):
    g = rnn.rnn_cell_backward(dh, x, h_prev, h, W_ih, W_hh)
    da = dh * (1 - h**2)
    return g | {"dh_prev": da @ W_hh.T}


def rnn_cell_backward_W_T(dh, x, h_prev, h, W_ih, W_hh):
    da = dh * (1 - h**2)
    g = rnn.rnn_cell_backward(dh, x, h_prev, h, W_ih, W_hh)
    return g | {"dx": da @ W_ih.T, "dh_prev": da @ W_hh.T}


def rnn_backward_skip_first(dhs, xs, h0, hs, W_ih, W_hh, truncate=None):
    T = len(xs)
    g = {"dxs": np.zeros_like(xs), "dh0": np.zeros_like(h0)}
    g |= {k: 0.0 for k in ("dW_ih", "dW_hh", "db_ih", "db_hh")}
    dh = np.zeros_like(h0)
    for t in range(T - 1, 0, -1):  # stops at t = 1
        c = rnn.rnn_cell_backward(dhs[t] + dh, xs[t], hs[t - 1], hs[t], W_ih, W_hh)
        g["dxs"][t] = c["dx"]
        for k in ("dW_ih", "dW_hh", "db_ih", "db_hh"):
            g[k] = g[k] + c[k]
        dh = c["dh_prev"]
    g["dh0"] = dh
    return g


def rnn_backward_chunked(dhs, xs, h0, hs, W_ih, W_hh, truncate=None):
    if truncate is None:
        return rnn.rnn_backward(dhs, xs, h0, hs, W_ih, W_hh)
    T = len(xs)
    g = {"dxs": np.zeros_like(xs), "dh0": np.zeros_like(h0)}
    g |= {k: 0.0 for k in ("dW_ih", "dW_hh", "db_ih", "db_hh")}
    for start in range(0, T, truncate):
        dh = np.zeros_like(h0)
        for t in reversed(range(start, min(start + truncate, T))):
            h_prev = hs[t - 1] if t else h0
            c = rnn.rnn_cell_backward(dhs[t] + dh, xs[t], h_prev, hs[t], W_ih, W_hh)
            g["dxs"][t] += c["dx"]
            for k in ("dW_ih", "dW_hh", "db_ih", "db_hh"):
                g[k] = g[k] + c[k]
            dh = c["dh_prev"]
        if start == 0:
            g["dh0"] = dh
    return g


def clip_norm_none(grads, max_norm):
    total = float(np.sqrt(sum((g**2).sum() for g in grads.values())))
    return dict(grads), total


def clip_norm_after(grads, max_norm):
    total = float(np.sqrt(sum((g**2).sum() for g in grads.values())))
    out = {k: g * min(1.0, max_norm / (total + 1e-6)) for k, g in grads.items()}
    return out, float(np.sqrt(sum((g**2).sum() for g in out.values())))


def clip_norm_in_place(grads, max_norm):
    total = float(np.sqrt(sum((g**2).sum() for g in grads.values())))
    for g in grads.values():
        g *= min(1.0, max_norm / (total + 1e-6))
    return grads, total


# --- a03 ------------------------------------------------------------------------------------------


def lstm_cell_c_h(x, h_prev, c_prev, p):
    h, c = lstm.lstm_cell(x, h_prev, c_prev, p)
    return c, h


def lstm_cell_in_place(x, h_prev, c_prev, p):
    gt = lstm.lstm_gates(x, h_prev, p)
    c_prev *= gt["f"]
    c = c_prev + gt["i"] * gt["g"]
    return gt["o"] * np.tanh(c), c


def lstm_forward_batch_major(xs, h0, c0, p):
    hs, cs = lstm.lstm_forward(xs, h0, c0, p)
    return hs.transpose(1, 0, 2), cs.transpose(1, 0, 2)


def to_torch_batch_first(p):
    import torch

    from rnnscratch.models.params import lstm_params_to_torch

    m = torch.nn.LSTM(p["W_ii"].shape[1], p["W_ii"].shape[0], batch_first=True, dtype=torch.float64)
    m.load_state_dict(lstm_params_to_torch(p))
    return m


def to_torch_float32(p):
    import torch

    from rnnscratch.models.params import lstm_params_to_torch

    m = torch.nn.LSTM(p["W_ii"].shape[1], p["W_ii"].shape[0])
    m.load_state_dict({k: v.float() for k, v in lstm_params_to_torch(p).items()})
    return m


# --- a04: the pieces ------------------------------------------------------------------------------


def cell_state_backward(dh, dc, c, o, f):
    dc_t = dc + dh * o * (1 - np.tanh(c) ** 2)
    return dc_t, dc_t * f


def cell_state_no_tanh(dh, dc, c, o, f):
    dc_t = dc + dh * o
    return dc_t, dc_t * f


def cell_state_no_forget(dh, dc, c, o, f):
    dc_t = dc + dh * o * (1 - np.tanh(c) ** 2)
    return dc_t, dc_t


def cell_state_no_dc(dh, dc, c, o, f):
    dc_t = dh * o * (1 - np.tanh(c) ** 2)
    return dc_t, dc_t * f


def cell_state_swapped(dh, dc, c, o, f):
    return cell_state_backward(dh, dc, c, o, f)[::-1]


def forget_gate_backward(dc_t, c_prev, f):
    return dc_t * c_prev * f * (1 - f)


def forget_tanh_deriv(dc_t, c_prev, f):
    return dc_t * c_prev * (1 - f**2)


def forget_no_deriv(dc_t, c_prev, f):
    return dc_t * c_prev


def input_gate_backward(dc_t, g, i):
    return dc_t * g * i * (1 - i)


def input_tanh_deriv(dc_t, g, i):
    return dc_t * g * (1 - i**2)


def input_times_i(dc_t, g, i):
    return dc_t * i * i * (1 - i)


def candidate_backward(dc_t, i, g):
    return dc_t * i * (1 - g**2)


def candidate_sig_deriv(dc_t, i, g):
    return dc_t * i * g * (1 - g)


def candidate_no_deriv(dc_t, i, g):
    return dc_t * i


def output_gate_backward(dh, c, o):
    return dh * np.tanh(c) * o * (1 - o)


def output_uses_c(dh, c, o):
    return dh * c * o * (1 - o)


def output_tanh_deriv(dh, c, o):
    return dh * np.tanh(c) * (1 - o**2)


def gate_affine_backward(da, x, h_prev, W_i, W_h):
    db = da.sum(axis=0)
    return {
        "dx": da @ W_i,
        "dh_prev": da @ W_h,
        "dW_i": da.T @ x,
        "dW_h": da.T @ h_prev,
        "db_i": db,
        "db_h": db,
    }


def affine_Wh_T(da, x, h_prev, W_i, W_h):
    return gate_affine_backward(da, x, h_prev, W_i, W_h) | {"dh_prev": da @ W_h.T}


def affine_dW_T(da, x, h_prev, W_i, W_h):
    return gate_affine_backward(da, x, h_prev, W_i, W_h) | {
        "dW_i": x.T @ da,
        "dW_h": h_prev.T @ da,
    }


def affine_db_unsummed(da, x, h_prev, W_i, W_h):
    return gate_affine_backward(da, x, h_prev, W_i, W_h) | {"db_i": da, "db_h": da}


def _cell_from(fwd=forget_gate_backward, inp=input_gate_backward, cand=candidate_backward):
    def lstm_cell_backward(dh, dc, x, h_prev, c_prev, c, gates, p):
        i, f, g, o = (gates[k] for k in "ifgo")
        dc_t, dc_prev = cell_state_backward(dh, dc, c, o, f)
        da = {
            "i": inp(dc_t, g, i),
            "f": fwd(dc_t, c_prev, f),
            "g": cand(dc_t, i, g),
            "o": output_gate_backward(dh, c, o),
        }
        out = {"dx": 0.0, "dh_prev": 0.0, "dc_prev": dc_prev}
        for k in "ifgo":
            part = gate_affine_backward(da[k], x, h_prev, p["W_i" + k], p["W_h" + k])
            out["dx"] = out["dx"] + part["dx"]
            out["dh_prev"] = out["dh_prev"] + part["dh_prev"]
            out["dW_i" + k], out["dW_h" + k] = part["dW_i"], part["dW_h"]
            out["db_i" + k], out["db_h" + k] = part["db_i"], part["db_h"]
        return out

    return lstm_cell_backward


def _bptt(dc_T_used=True, shift=0, carry_c=True):
    def lstm_backward(dhs, xs, h0, c0, hs, cs, gates, p, dc_T=None):
        T = len(xs)
        grads = {"dxs": np.zeros_like(xs)}
        dh = np.zeros_like(h0)
        dc = dc_T if (dc_T is not None and dc_T_used) else np.zeros_like(c0)
        for t in reversed(range(T)):
            s = min(max(t + shift, 0), T - 1)
            step = {k: v[s] for k, v in gates.items()}
            hp, cp = (hs[t - 1], cs[t - 1]) if t else (h0, c0)
            g = lstm.lstm_cell_backward(dhs[t] + dh, dc, xs[t], hp, cp, cs[t], step, p)
            grads["dxs"][t] = g["dx"]
            dh = g["dh_prev"]
            dc = g["dc_prev"] if carry_c else np.zeros_like(c0)
            for k, v in g.items():
                if k not in ("dx", "dh_prev", "dc_prev"):
                    grads[k] = grads.get(k, 0.0) + v
        grads["dh0"], grads["dc0"] = dh, g["dc_prev"]
        return grads

    return lstm_backward


# --- a05 ------------------------------------------------------------------------------------------


def gru_candidate_no_b_hn(x, h_prev, r, W_in, W_hn, b_in, b_hn):
    return np.tanh(x @ W_in.T + b_in + r * (h_prev @ W_hn.T))


def gru_candidate_bias_outside(x, h_prev, r, W_in, W_hn, b_in, b_hn):
    return np.tanh(x @ W_in.T + b_in + r * (h_prev @ W_hn.T) + b_hn)


def gru_forward_batch_major(xs, h0, p):
    return gru.gru_forward(xs, h0, p).transpose(1, 0, 2)


def _round1(name):
    """An answer from held-out round 1, which was then used for catalogue work."""
    from rnnscratch.bench import feedback_heldout

    return getattr(feedback_heldout, name)


def _round3(name):
    """An answer of held-out round 3 whose message was fixed after its measurement."""
    from rnnscratch.bench import feedback_heldout3

    return getattr(feedback_heldout3, name)


def _round2():
    """The rows of held-out round 2, which was then used for catalogue work too."""
    from rnnscratch.bench.feedback_heldout2 import HELDOUT2

    return HELDOUT2


#: (function, case, implementation, expected key; None = a correct answer that must pass)
CORPUS = [
    ("sigmoid", "visible", sigmoid_stable, None),
    ("sigmoid", "visible_extreme", sigmoid_stable, None),
    ("sigmoid", "visible_extreme", sigmoid_naive, "unstable_sigmoid"),
    ("sigmoid", "visible_extreme", sigmoid_where, "unstable_sigmoid"),
    ("sigmoid", "visible", sigmoid_float32, "float32_result"),
    ("softmax", "visible_extreme", softmax_stable, None),
    ("softmax", "visible_extreme", softmax_naive, "unstable_softmax"),
    ("softmax", "visible_extreme", softmax_float32, "float32_result"),
    ("softmax", "visible", softmax_in_place, "input_modified"),
    ("sequence_cross_entropy", "visible_extreme", ce_log_of_softmax, "log_of_underflowed_softmax"),
    ("rnn_cell", "visible", rnn_cell_in_place, "input_modified"),
    ("rnn_forward", "visible", rnn_forward_list, "list_of_arrays"),
    ("rnn_forward", "visible", rnn_forward_batch_major, "batch_major"),
    ("rnn_cell_backward", "visible", rnn_cell_backward_Whh_T, "backward_weight_transposed"),
    ("rnn_cell_backward", "visible", rnn_cell_backward_W_T, "backward_weight_transposed"),
    ("rnn_backward", "visible", rnn_backward_skip_first, "step_off_by_one"),
    ("rnn_backward", "visible_truncated", rnn_backward_chunked, "truncation_chunked"),
    ("clip_grad_norm", "visible", clip_norm_none, "clip_omitted"),
    ("clip_grad_norm", "visible", clip_norm_after, "norm_after_clipping"),
    ("clip_grad_norm", "visible", clip_norm_in_place, "input_modified"),
    ("lstm_cell", "visible", lstm_cell_c_h, "outputs_swapped"),
    ("lstm_cell", "visible", lstm_cell_in_place, "input_modified"),
    ("lstm_forward", "visible", lstm_forward_batch_major, "batch_major"),
    ("to_torch_lstm", "visible", to_torch_batch_first, "batch_major"),
    ("to_torch_lstm", "visible", to_torch_float32, "float32_result"),
    ("cell_state_backward", "visible", cell_state_backward, None),
    ("cell_state_backward", "visible_no_dc", cell_state_no_tanh, "cell_tanh_derivative_missing"),
    ("cell_state_backward", "visible", cell_state_no_forget, "forget_gate_not_applied"),
    ("cell_state_backward", "visible", cell_state_no_dc, "cell_gradient_not_carried"),
    ("cell_state_backward", "visible", cell_state_swapped, "outputs_swapped"),
    ("forget_gate_backward", "visible", forget_gate_backward, None),
    ("forget_gate_backward", "visible", forget_tanh_deriv, "sigmoid_derivative_tanh"),
    ("forget_gate_backward", "visible", forget_no_deriv, "sigmoid_derivative_wrong"),
    ("input_gate_backward", "visible", input_gate_backward, None),
    ("input_gate_backward", "visible", input_tanh_deriv, "sigmoid_derivative_tanh"),
    ("input_gate_backward", "visible", input_times_i, "gates_swapped"),
    ("candidate_backward", "visible", candidate_backward, None),
    ("candidate_backward", "visible", candidate_sig_deriv, "candidate_derivative_wrong"),
    ("candidate_backward", "visible", candidate_no_deriv, "tanh_derivative_missing"),
    ("output_gate_backward", "visible", output_gate_backward, None),
    ("output_gate_backward", "visible", output_uses_c, "output_gate_uses_c"),
    ("output_gate_backward", "visible", output_tanh_deriv, "sigmoid_derivative_tanh"),
    ("gate_affine_backward", "visible", gate_affine_backward, None),
    ("gate_affine_backward", "visible", affine_Wh_T, "backward_weight_transposed"),
    ("gate_affine_backward", "square", affine_dW_T, "gradient_transposed"),
    ("gate_affine_backward", "visible", affine_db_unsummed, "bias_grad_not_summed"),
    ("lstm_cell_backward", "visible", _cell_from(), None),
    ("lstm_cell_backward", "visible", _cell_from(fwd=forget_tanh_deriv), "sigmoid_derivative_tanh"),
    (
        "lstm_cell_backward",
        "visible",
        _cell_from(cand=candidate_no_deriv),
        "tanh_derivative_missing",
    ),
    ("lstm_backward", "visible", _bptt(), None),
    ("lstm_backward", "visible_dc_T", _bptt(dc_T_used=False), "dc_T_ignored"),
    ("lstm_backward", "visible", _bptt(carry_c=False), "cell_gradient_not_carried"),
    ("lstm_backward", "visible", _bptt(shift=-1), "gates_wrong_step"),
    ("gru_candidate", "visible", gru_candidate_no_b_hn, "b_hn_dropped"),
    ("gru_candidate", "visible", gru_candidate_bias_outside, "reset_excludes_bias"),
    ("gru_forward", "visible", gru_forward_batch_major, "batch_major"),
    ("rnn_forward", "visible", _round1("rnn_forward_xs_buffer"), "buffer_wrong_shape"),
    ("cell_update", "visible", _round1("cell_update_plus"), "candidate_not_gated"),
    ("output_gate_backward", "visible", _round1("output_extra_tanh_deriv"), "extra_derivative"),
    ("cell_state_backward", "visible", _round1("cell_state_no_o"), "chain_factor_missing"),
    ("forget_gate_backward", "visible", _round1("forget_no_c_prev"), "chain_factor_missing"),
    (
        "lstm_cell_backward",
        "visible",
        _round1("lstm_cell_backward_dc_prev_from_dc"),
        "dc_prev_from_incoming",
    ),
    ("softmax", "visible_extreme", _round1("softmax_global_max"), "unstable_softmax"),
    ("softmax", "visible", _round1("softmax_no_keepdims"), "softmax_wrong_axis"),
    (
        "sequence_cross_entropy",
        "visible_extreme",
        _round1("ce_clipped_log"),
        "log_of_underflowed_softmax",
    ),
    ("rnn_cell_backward", "visible", _round1("cb_bias_mean"), "bias_grad_not_summed"),
    ("gate_affine_backward", "visible", _round1("affine_db_axis1"), "bias_grad_not_summed"),
    ("lstm_backward", "visible", _round1("lstm_backward_h_t"), "gates_wrong_step"),
    *[row for row in _round2() if row[3] != "uncatalogued"],
    ("gru_candidate", "visible", _round3("gru_candidate_matmul_r"), "matmul_for_elementwise"),
]
