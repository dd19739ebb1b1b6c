"""Held-out corpus, round 1: answers written after the catalogue and messages were done.

Measured once as written: 10 of 22 wrong answers named (45.5%), 0 misnamed, 11 unnamed, 1 wrong
answer accepted (softmax minus the global maximum), 0 correct answers rejected. It was then
used for one round of catalogue work (a separating softmax case, eps-clipped logs, averaged or
wrongly-summed bias gradients, buffers of the wrong shape, missing chain-rule factors, ...), so
it is no longer held out; the six answers that had no catalogue entry then carry the keys
added for them. Round 2 (`feedback_heldout2`) is the fresh one.

Expected keys are what a human grader would name. "uncatalogued" marks a realistic mistake the
catalogue has no entry for: it can never be named, and counts against the share.
"""

import numpy as np

from rnnscratch.models import gru, lstm, rnn

UNCATALOGUED = "uncatalogued"


def sigmoid_logaddexp(x):
    return np.exp(-np.logaddexp(0.0, -x))


def sigmoid_tanh_form(x):
    return 0.5 * (1.0 + np.tanh(0.5 * x))


def softmax_global_max(z, axis=-1):
    e = np.exp(z - z.max())
    return e / e.sum(axis=axis, keepdims=True)


def softmax_no_keepdims(z, axis=-1):
    e = np.exp(z - z.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis)


def ce_clipped_log(logits, targets):
    p = np.exp(logits - logits.max(-1, keepdims=True))
    p = p / p.sum(-1, keepdims=True)
    picked = np.take_along_axis(p, targets[..., None], -1)[..., 0]
    return float(-np.log(p.dtype.type(1e-12) + picked).mean(axis=1).sum())


def ce_sum_then_mean(logits, targets):
    lp = rnn.log_softmax(logits)
    picked = np.take_along_axis(lp, targets[..., None], -1)[..., 0]
    return float(-picked.sum(axis=0).mean())


def rnn_forward_xs_buffer(xs, h0, W_ih, W_hh, b_ih, b_hh):
    hs = np.zeros_like(xs)
    h = h0
    for t in range(len(xs)):
        h = rnn.rnn_cell(xs[t], h, W_ih, W_hh, b_ih, b_hh)
        hs[t] = h
    return hs


def cb_bias_mean(dh, x, h_prev, h, W_ih, W_hh):
    g = rnn.rnn_cell_backward(dh, x, h_prev, h, W_ih, W_hh)
    da = dh * (1 - h**2)
    return g | {"db_ih": da.mean(0), "db_hh": da.mean(0)}


def bptt_dh0_zero(dhs, xs, h0, hs, W_ih, W_hh, truncate=None):
    g = rnn.rnn_backward(dhs, xs, h0, hs, W_ih, W_hh, truncate)
    return g | {"dh0": np.zeros_like(h0)}


def clip_norm_no_eps_if(grads, max_norm):
    total = float(np.sqrt(sum(np.sum(g * g) for g in grads.values())))
    if total > max_norm:
        return {k: g * (max_norm / total) for k, g in grads.items()}, total
    return {k: g.copy() for k, g in grads.items()}, total


def clip_norm_dict_only(grads, max_norm):
    total = float(np.sqrt(sum(np.sum(g * g) for g in grads.values())))
    return {k: g * min(1.0, max_norm / (total + 1e-6)) for k, g in grads.items()}


def clip_value_np_clip(grads, clip_value):
    return {k: np.clip(g, -clip_value, clip_value) for k, g in grads.items()}


def forget_gate_h_transposed(x, h_prev, W_if, W_hf, b_if, b_hf):
    return 1 / (1 + np.exp(-(x @ W_if.T + b_if + h_prev @ W_hf + b_hf)))


def cell_update_plus(f, i, g, c_prev):
    return f * c_prev + i + g


def lstm_cell_no_tanh(x, h_prev, c_prev, p):
    gt = lstm.lstm_gates(x, h_prev, p)
    c = gt["f"] * c_prev + gt["i"] * gt["g"]
    return gt["o"] * c, c


def lstm_forward_lists(xs, h0, c0, p):
    h, c, hs, cs = h0, c0, [], []
    for x in xs:
        h, c = lstm.lstm_cell(x, h, c, p)
        hs.append(h)
        cs.append(c)
    return hs, cs


def output_extra_tanh_deriv(dh, c, o):
    return dh * np.tanh(c) * o * (1 - o) * (1 - np.tanh(c) ** 2)


def cell_state_no_o(dh, dc, c, o, f):
    dc_t = dc + dh * (1 - np.tanh(c) ** 2)
    return dc_t, dc_t * f


def forget_no_c_prev(dc_t, c_prev, f):
    return dc_t * f * (1 - f)


def input_alt(dc_t, g, i):
    return dc_t * g * (i - i**2)


def affine_db_axis1(da, x, h_prev, W_i, W_h):
    return {
        "dx": da @ W_i,
        "dh_prev": da @ W_h,
        "dW_i": da.T @ x,
        "dW_h": da.T @ h_prev,
        "db_i": da.sum(axis=1),
        "db_h": da.sum(axis=1),
    }


def lstm_backward_no_dh0(dhs, xs, h0, c0, hs, cs, gates, p, dc_T=None):
    g = lstm.lstm_backward(dhs, xs, h0, c0, hs, cs, gates, p, dc_T)
    del g["dh0"]
    return g


def lstm_backward_h_t(dhs, xs, h0, c0, hs, cs, gates, p, dc_T=None):
    T = len(xs)
    grads = {"dxs": np.zeros_like(xs)}
    dh, dc = np.zeros_like(h0), (np.zeros_like(c0) if dc_T is None else dc_T)
    for t in reversed(range(T)):
        step = {k: v[t] for k, v in gates.items()}
        cp = cs[t - 1] if t else c0
        g = lstm.lstm_cell_backward(dhs[t] + dh, dc, xs[t], hs[t], cp, cs[t], step, p)
        grads["dxs"][t] = g["dx"]
        dh, dc = g["dh_prev"], g["dc_prev"]
        for k, v in g.items():
            if k not in ("dx", "dh_prev", "dc_prev"):
                grads[k] = grads.get(k, 0.0) + v
    grads["dh0"], grads["dc0"] = dh, dc
    return grads


def lstm_cell_backward_dc_prev_from_dc(dh, dc, x, h_prev, c_prev, c, gates, p):
    g = lstm.lstm_cell_backward(dh, dc, x, h_prev, c_prev, c, gates, p)
    return g | {"dc_prev": dc * gates["f"]}


def gru_cell_other_blend(x, h_prev, p):
    r, z, n = (gru.gru_gates(x, h_prev, p)[k] for k in "rzn")
    return z * h_prev + (1 - z) * n


def gru_candidate_sigmoid(x, h_prev, r, W_in, W_hn, b_in, b_hn):
    return 1 / (1 + np.exp(-(x @ W_in.T + b_in + r * (h_prev @ W_hn.T + b_hn))))


def gru_forward_list(xs, h0, p):
    h, hs = h0, []
    for x in xs:
        h = gru.gru_cell(x, h, p)
        hs.append(h)
    return hs


def cho_after(x, h_prev, p):
    return gru.gru_cell(x, h_prev, p)


def reset_gate_one_bias(x, h_prev, W_ir, W_hr, b_ir, b_hr):
    return 1 / (1 + np.exp(-(x @ W_ir.T + b_ir + h_prev @ W_hr.T)))


HELDOUT = [
    ("sigmoid", "visible_extreme", sigmoid_logaddexp, None),
    ("sigmoid", "extreme", sigmoid_tanh_form, None),
    ("softmax", "visible_extreme", softmax_global_max, "unstable_softmax"),
    ("softmax", "visible", softmax_no_keepdims, "softmax_wrong_axis"),
    ("sequence_cross_entropy", "visible_extreme", ce_clipped_log, "log_of_underflowed_softmax"),
    ("sequence_cross_entropy", "random", ce_sum_then_mean, None),
    ("rnn_forward", "visible", rnn_forward_xs_buffer, "buffer_wrong_shape"),
    ("rnn_cell_backward", "visible", cb_bias_mean, "bias_grad_not_summed"),
    ("rnn_backward", "visible", bptt_dh0_zero, "dh0_missing"),
    ("clip_grad_norm", "random", clip_norm_no_eps_if, None),
    ("clip_grad_norm", "visible", clip_norm_dict_only, "wrong_structure"),
    ("clip_grad_value", "random", clip_value_np_clip, None),
    ("forget_gate", "square", forget_gate_h_transposed, "weight_transposed"),
    ("cell_update", "visible", cell_update_plus, "candidate_not_gated"),
    ("lstm_cell", "visible", lstm_cell_no_tanh, "activation_missing"),
    ("lstm_forward", "visible", lstm_forward_lists, "list_of_arrays"),
    ("output_gate_backward", "visible", output_extra_tanh_deriv, "extra_derivative"),
    ("cell_state_backward", "visible", cell_state_no_o, "chain_factor_missing"),
    ("forget_gate_backward", "visible", forget_no_c_prev, "chain_factor_missing"),
    ("input_gate_backward", "random", input_alt, None),
    ("gate_affine_backward", "visible", affine_db_axis1, "bias_grad_not_summed"),
    ("lstm_backward", "visible", lstm_backward_no_dh0, "missing_keys"),
    ("lstm_backward", "visible", lstm_backward_h_t, "gates_wrong_step"),
    ("lstm_cell_backward", "visible", lstm_cell_backward_dc_prev_from_dc, "dc_prev_from_incoming"),
    ("gru_cell", "random", gru_cell_other_blend, None),
    ("gru_candidate", "visible", gru_candidate_sigmoid, "sigmoid_for_tanh"),
    ("gru_forward", "visible", gru_forward_list, "list_of_arrays"),
    ("cho_gru_cell", "visible", cho_after, "reset_after_matmul"),
    ("reset_gate", "visible_bias_only", reset_gate_one_bias, "one_bias_only"),
]
