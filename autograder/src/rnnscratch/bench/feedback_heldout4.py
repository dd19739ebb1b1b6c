"""Held-out corpus, round 4: written by an independent examiner (helper session `corpus4`).

Rule it was written under: the examiner read only what students see (the release notebooks'
task text, signatures and docstrings), the book, the reference maths in rnnscratch.models and
the catalogue vocabulary (hints.MISTAKES, only to label each answer). The feedback/diagnosis
code (exercises/spec.py, the Variant lists, the other bench/feedback_* corpora and their
tests) was not opened, and no answer here was run through the checks (no evaluate, check,
nbgrader validate or `python -m rnnscratch.bench feedback`) before the lead's single
measurement. Wrongness and correctness were verified only against the reference maths in
rnnscratch.models on random inputs built by hand (a throwaway script outside the repository).

Expected keys are what a human grader would name; "uncatalogued" marks a realistic mistake the
catalogue has no entry for; None marks a correct but unusual implementation that must pass.
Answers repeat shapes of the other corpora and the hint tests on purpose (`duplicates` pairs
them): each corpus is written independently, the way different students write the same mistake.

The lead's single measurement (after the catalogue work of branch `catalogue`, whose author
never saw this file), nothing changed since: 105 wrong answers, 97 named (92.4%), 2 misnamed,
6 unnamed, 0 accepted; 32 correct alternatives, 0 rejected. Per assignment: a01 12/12, a02
19/19, a03 12/12, a04 16/19, a05 10/10, a06 16/19, a07 12/14. The two "misnamed" were read:
both messages are right. `gab_bias_mean` averages the bias gradient over the batch, labelled
"uncatalogued" here, and is told "you averaged over the batch; sum over it"
(bias_grad_not_summed). `gru_b_h_prev_now` uses hs[t] as h_prev, labelled gates_wrong_step,
and is told h_t_for_h_prev ("not ... the step's own output"): both keys describe it. The six
unnamed get a generic message (never a wrong one): dc_prev from the incoming gradient only,
an LSTM cell backward that ignores dc, the reset gate backward with W_hr transposed, a GRU
BPTT using only the last step's gradient, Adam's v from g instead of g**2 (NaN), and a train()
that returns a tuple.
"""

import numpy as np
import torch

from rnnscratch.models import gru, lstm, rnn
from rnnscratch.models.gru import GRU_KEYS
from rnnscratch.models.gru_lm import lm_loss_and_grads
from rnnscratch.models.lstm import LSTM_GATES, LSTM_KEYS

UNCATALOGUED = "uncatalogued"


def _s(a):
    return 1.0 / (1.0 + np.exp(-a))


# ------------------------------------------------------------------ a01_rnn_forward


def sigmoid_plus_exp(x):
    return 1.0 / (1.0 + np.exp(x))


def sigmoid_where_stable(x):
    x = np.asarray(x, dtype=np.float64)
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def softmax_no_shift(z, axis=-1):
    e = np.exp(z)
    return e / e.sum(axis=axis, keepdims=True)


def softmax_global_sum(z, axis=-1):
    e = np.exp(z - z.max())
    return e / e.sum()


def softmax_logsumexp(z, axis=-1):
    m = np.max(z, axis=axis, keepdims=True)
    lse = m + np.log(np.sum(np.exp(z - m), axis=axis, keepdims=True))
    return np.exp(z - lse)


def rnn_cell_relu(x, h_prev, W_ih, W_hh, b_ih, b_hh):
    return np.maximum(0.0, x @ W_ih.T + b_ih + h_prev @ W_hh.T + b_hh)


def rnn_cell_bias_after_tanh(x, h_prev, W_ih, W_hh, b_ih, b_hh):
    return np.tanh(x @ W_ih.T + h_prev @ W_hh.T) + b_ih + b_hh


def rnn_cell_only_b_ih(x, h_prev, W_ih, W_hh, b_ih, b_hh):
    return np.tanh(x @ W_ih.T + h_prev @ W_hh.T + b_ih)


def rnn_cell_einsum(x, h_prev, W_ih, W_hh, b_ih, b_hh):
    a = np.einsum("bd,hd->bh", x, W_ih) + np.einsum("bk,hk->bh", h_prev, W_hh)
    return np.tanh(a + (b_ih + b_hh)[None, :])


def rnn_cell_concat(x, h_prev, W_ih, W_hh, b_ih, b_hh):
    W = np.concatenate([W_ih, W_hh], axis=1)
    return np.tanh(np.concatenate([x, h_prev], axis=1) @ W.T + b_ih + b_hh)


def rnn_forward_zero_start(xs, h0, W_ih, W_hh, b_ih, b_hh):
    h = np.zeros_like(h0)
    hs = []
    for x in xs:
        h = np.tanh(x @ W_ih.T + b_ih + h @ W_hh.T + b_hh)
        hs.append(h)
    return np.stack(hs)


def rnn_forward_list(xs, h0, W_ih, W_hh, b_ih, b_hh):
    h, hs = h0, []
    for t in range(len(xs)):
        h = np.tanh(xs[t] @ W_ih.T + b_ih + h @ W_hh.T + b_hh)
        hs.append(h)
    return hs


def rnn_forward_batch_major(xs, h0, W_ih, W_hh, b_ih, b_hh):
    h, hs = h0, []
    for t in range(xs.shape[0]):
        h = np.tanh(xs[t] @ W_ih.T + b_ih + h @ W_hh.T + b_hh)
        hs.append(h)
    return np.stack(hs, axis=1)


def rnn_forward_float32(xs, h0, W_ih, W_hh, b_ih, b_hh):
    hs = np.zeros((xs.shape[0], h0.shape[0], h0.shape[1]), dtype=np.float32)
    h = h0
    for t in range(xs.shape[0]):
        h = np.tanh(xs[t] @ W_ih.T + b_ih + h @ W_hh.T + b_hh)
        hs[t] = h
    return hs


def rnn_forward_precomputed_input(xs, h0, W_ih, W_hh, b_ih, b_hh):
    xin = np.einsum("tbd,hd->tbh", xs, W_ih) + b_ih + b_hh  # all input terms at once
    hs = np.empty_like(xin)
    for t in range(xs.shape[0]):
        hs[t] = np.tanh(xin[t] + (hs[t - 1] if t else h0) @ W_hh.T)
    return hs


def ce_batch_sum(logits, targets):
    lp = rnn.log_softmax(logits)
    picked = np.take_along_axis(lp, targets[..., None], -1)[..., 0]
    return float(-picked.sum())


def ce_log_of_softmax(logits, targets):
    z = logits - logits.max(axis=-1, keepdims=True)
    p = np.exp(z) / np.exp(z).sum(axis=-1, keepdims=True)
    T, B = targets.shape
    total = 0.0
    for t in range(T):
        total += -np.mean(np.log(p[t, np.arange(B), targets[t]]))
    return float(total)


def ce_logsumexp_loop(logits, targets):
    T, B = targets.shape
    total = 0.0
    for t in range(T):
        m = logits[t].max(axis=-1)
        lse = m + np.log(np.exp(logits[t] - m[:, None]).sum(axis=-1))
        total += float(np.mean(lse - logits[t, np.arange(B), targets[t]]))
    return total


# ------------------------------------------------------------------ a02_bptt


def cb_no_tanh_deriv(dh, x, h_prev, h, W_ih, W_hh):
    da = dh
    return {
        "dx": da @ W_ih,
        "dh_prev": da @ W_hh,
        "dW_ih": da.T @ x,
        "dW_hh": da.T @ h_prev,
        "db_ih": da.sum(0),
        "db_hh": da.sum(0),
    }


def cb_one_minus_h(dh, x, h_prev, h, W_ih, W_hh):
    da = dh * (1 - h)
    return {
        "dx": da @ W_ih,
        "dh_prev": da @ W_hh,
        "dW_ih": da.T @ x,
        "dW_hh": da.T @ h_prev,
        "db_ih": da.sum(0),
        "db_hh": da.sum(0),
    }


def cb_deriv_from_h_prev(dh, x, h_prev, h, W_ih, W_hh):
    da = dh * (1 - h_prev**2)
    return {
        "dx": da @ W_ih,
        "dh_prev": da @ W_hh,
        "dW_ih": da.T @ x,
        "dW_hh": da.T @ h_prev,
        "db_ih": da.sum(0),
        "db_hh": da.sum(0),
    }


def cb_dW_x_T_da(dh, x, h_prev, h, W_ih, W_hh):
    da = dh * (1 - h**2)
    return {
        "dx": da @ W_ih,
        "dh_prev": da @ W_hh,
        "dW_ih": x.T @ da,
        "dW_hh": h_prev.T @ da,
        "db_ih": da.sum(0),
        "db_hh": da.sum(0),
    }


def cb_bias_not_summed(dh, x, h_prev, h, W_ih, W_hh):
    da = dh * (1 - h**2)
    return {
        "dx": da @ W_ih,
        "dh_prev": da @ W_hh,
        "dW_ih": da.T @ x,
        "dW_hh": da.T @ h_prev,
        "db_ih": da,
        "db_hh": da,
    }


def cb_dh_prev_W_hh_T(dh, x, h_prev, h, W_ih, W_hh):
    da = dh * (1 - h**2)
    return {
        "dx": da @ W_ih,
        "dh_prev": da @ W_hh.T,
        "dW_ih": da.T @ x,
        "dW_hh": da.T @ h_prev,
        "db_ih": da.sum(0),
        "db_hh": da.sum(0),
    }


def cb_einsum(dh, x, h_prev, h, W_ih, W_hh):
    da = dh * (1 + h) * (1 - h)
    return {
        "dx": np.einsum("bh,hd->bd", da, W_ih),
        "dh_prev": np.einsum("bh,hk->bk", da, W_hh),
        "dW_ih": np.einsum("bh,bd->hd", da, x),
        "dW_hh": np.einsum("bh,bk->hk", da, h_prev),
        "db_ih": np.einsum("bh->h", da),
        "db_hh": np.einsum("bh->h", da),
    }


def _bptt(dhs, xs, h0, hs, W_ih, W_hh, carry=True, accumulate=True, keep_dh0=True, pair_h_t=False):
    T = xs.shape[0]
    g = {
        "dxs": np.zeros(xs.shape),
        "dh0": np.zeros(h0.shape),
        "dW_ih": np.zeros(W_ih.shape),
        "dW_hh": np.zeros(W_hh.shape),
        "db_ih": np.zeros(W_hh.shape[0]),
        "db_hh": np.zeros(W_hh.shape[0]),
    }
    dh_next = np.zeros(h0.shape)
    for t in reversed(range(T)):
        h_prev = hs[t - 1] if t > 0 else h0
        da = (dhs[t] + (dh_next if carry else 0)) * (1 - hs[t] ** 2)
        g["dxs"][t] = da @ W_ih
        step = {
            "dW_ih": da.T @ xs[t],
            "dW_hh": da.T @ (hs[t] if pair_h_t else h_prev),
            "db_ih": da.sum(0),
            "db_hh": da.sum(0),
        }
        for k, v in step.items():
            g[k] = g[k] + v if accumulate else v
        dh_next = da @ W_hh
    if keep_dh0:
        g["dh0"] = dh_next
    return g


def bptt_not_carried(dhs, xs, h0, hs, W_ih, W_hh, truncate=None):
    return _bptt(dhs, xs, h0, hs, W_ih, W_hh, carry=False)


def bptt_overwrite(dhs, xs, h0, hs, W_ih, W_hh, truncate=None):
    return _bptt(dhs, xs, h0, hs, W_ih, W_hh, accumulate=False)


def bptt_truncate_ignored(dhs, xs, h0, hs, W_ih, W_hh, truncate=None):
    return _bptt(dhs, xs, h0, hs, W_ih, W_hh)


def bptt_dh0_zero(dhs, xs, h0, hs, W_ih, W_hh, truncate=None):
    return _bptt(dhs, xs, h0, hs, W_ih, W_hh, keep_dh0=False)


def bptt_dW_hh_h_t(dhs, xs, h0, hs, W_ih, W_hh, truncate=None):
    return _bptt(dhs, xs, h0, hs, W_ih, W_hh, pair_h_t=True)


def bptt_chunks(dhs, xs, h0, hs, W_ih, W_hh, truncate=None):
    T = xs.shape[0]
    k = T if truncate is None else truncate
    total = None
    for start in range(0, T, k):
        stop = min(start + k, T)
        h_in = h0 if start == 0 else hs[start - 1]
        part = _bptt(dhs[start:stop], xs[start:stop], h_in, hs[start:stop], W_ih, W_hh)
        if total is None:
            total = {n: np.zeros_like(v) for n, v in part.items()}
            total["dxs"] = np.zeros(xs.shape)
        total["dxs"][start:stop] = part["dxs"]
        for n in ("dW_ih", "dW_hh", "db_ih", "db_hh"):
            total[n] += part[n]
        if start == 0:
            total["dh0"] = part["dh0"]
    return total


def bptt_windows_explicit(dhs, xs, h0, hs, W_ih, W_hh, truncate=None):
    T = xs.shape[0]
    k = T if truncate is None else truncate
    g = {
        "dxs": np.zeros(xs.shape),
        "dh0": np.zeros(h0.shape),
        "dW_ih": np.zeros(W_ih.shape),
        "dW_hh": np.zeros(W_hh.shape),
        "db_ih": np.zeros(W_hh.shape[0]),
        "db_hh": np.zeros(W_hh.shape[0]),
    }
    states = np.concatenate([h0[None], hs])  # states[s] = h_{s-1} in 0-based steps
    for t in range(T):
        dh = dhs[t]
        for s in range(t, t - k, -1):
            if s < 0:
                g["dh0"] += dh
                break
            da = dh * (1 - states[s + 1] ** 2)
            g["dxs"][s] += da @ W_ih
            g["dW_ih"] += np.outer(da[0], xs[s][0]) + da[1:].T @ xs[s][1:]
            g["dW_hh"] += da.T @ states[s]
            g["db_ih"] += da.sum(0)
            g["db_hh"] += da.sum(0)
            dh = da @ W_hh
        else:
            if t - k == -1:
                g["dh0"] += dh
    return g


def clip_norm_sum_of_norms(grads, max_norm):
    total = float(sum(np.linalg.norm(g) for g in grads.values()))
    coef = min(1.0, max_norm / (total + 1e-6))
    return {k: g * coef for k, g in grads.items()}, total


def clip_norm_always(grads, max_norm):
    total = float(np.sqrt(sum(np.sum(g**2) for g in grads.values())))
    return {k: g * max_norm / (total + 1e-6) for k, g in grads.items()}, total


def clip_norm_reported_after(grads, max_norm):
    total = float(np.sqrt(sum(np.sum(g**2) for g in grads.values())))
    coef = min(1.0, max_norm / (total + 1e-6))
    out = {k: g * coef for k, g in grads.items()}
    return out, float(np.sqrt(sum(np.sum(g**2) for g in out.values())))


def clip_norm_inplace(grads, max_norm):
    total = float(np.sqrt(sum(np.sum(g**2) for g in grads.values())))
    coef = min(1.0, max_norm / (total + 1e-6))
    for g in grads.values():
        g *= coef
    return grads, total


def clip_norm_concat(grads, max_norm):
    flat = np.concatenate([np.ravel(g) for g in grads.values()])
    total = float(np.linalg.norm(flat))
    scale = max_norm / (total + 1e-6)
    return {k: g * scale if scale < 1 else g.copy() for k, g in grads.items()}, total


def clip_value_upper_only(grads, clip_value):
    return {k: np.minimum(g, clip_value) for k, g in grads.items()}


def clip_value_where(grads, clip_value):
    return {
        k: np.where(np.abs(g) > clip_value, np.sign(g) * clip_value, g) for k, g in grads.items()
    }


def _decay(xs, h0, W_ih, W_hh, b_ih, b_hh, reduce=np.mean, reverse=False):
    states = [h0]
    for x in xs:
        states.append(np.tanh(x @ W_ih.T + b_ih + states[-1] @ W_hh.T + b_hh))
    T, (B, H) = len(xs), h0.shape
    J = np.tile(np.eye(H), (B, 1, 1))
    out = []
    for k in range(T + 1):
        out.append(reduce(np.linalg.norm(J, axis=(1, 2))))
        if k < T:
            J = J @ ((1 - states[T - k] ** 2)[:, :, None] * W_hh)
    out = np.array(out)
    return out[::-1] if reverse else out


def decay_reversed(xs, h0, W_ih, W_hh, b_ih, b_hh):
    return _decay(xs, h0, W_ih, W_hh, b_ih, b_hh, reverse=True)


def decay_batch_sum(xs, h0, W_ih, W_hh, b_ih, b_hh):
    return _decay(xs, h0, W_ih, W_hh, b_ih, b_hh, reduce=np.sum)


def decay_einsum(xs, h0, W_ih, W_hh, b_ih, b_hh):
    hs = rnn.rnn_forward(xs, h0, W_ih, W_hh, b_ih, b_hh)
    T, B, H = hs.shape
    J = np.einsum("b,ij->bij", np.ones(B), np.eye(H))
    norms = [np.sqrt(np.einsum("bij,bij->b", J, J)).mean()]
    for t in range(T - 1, -1, -1):
        J = np.einsum("bij,bj,jk->bik", J, 1 - hs[t] ** 2, W_hh)
        norms.append(np.sqrt(np.einsum("bij,bij->b", J, J)).mean())
    return np.array(norms)


# ------------------------------------------------------------------ a03_lstm_gates


def forget_gate_tanh(x, h_prev, W_if, W_hf, b_if, b_hf):
    return np.tanh(x @ W_if.T + b_if + h_prev @ W_hf.T + b_hf)


def forget_gate_stable(x, h_prev, W_if, W_hf, b_if, b_hf):
    a = x @ W_if.T + b_if + h_prev @ W_hf.T + b_hf
    return np.exp(-np.logaddexp(0.0, -a))


def input_gate_no_h(x, h_prev, W_ii, W_hi, b_ii, b_hi):
    return _s(x @ W_ii.T + b_ii + b_hi)


def candidate_sigmoid(x, h_prev, W_ig, W_hg, b_ig, b_hg):
    return _s(x @ W_ig.T + b_ig + h_prev @ W_hg.T + b_hg)


def output_gate_no_bias(x, h_prev, W_io, W_ho, b_io, b_ho):
    return _s(x @ W_io.T + h_prev @ W_ho.T)


def cell_update_no_forget(f, i, g, c_prev):
    return c_prev + i * g


def cell_update_i_plus_g(f, i, g, c_prev):
    return f * c_prev + i + g


def hidden_update_no_tanh(o, c):
    return o * c


def hidden_update_tanh_identity(o, c):
    return o * (2.0 / (1.0 + np.exp(-2.0 * c)) - 1.0)


def lstm_cell_f_i_swapped(x, h_prev, c_prev, p):
    gt = lstm.lstm_gates(x, h_prev, p)
    c = gt["i"] * c_prev + gt["f"] * gt["g"]
    return gt["o"] * np.tanh(c), c


def lstm_cell_c_h(x, h_prev, c_prev, p):
    h, c = lstm.lstm_cell(x, h_prev, c_prev, p)
    return c, h


def lstm_cell_concat(x, h_prev, c_prev, p):
    W = np.concatenate([np.concatenate([p["W_i" + k], p["W_h" + k]], axis=1) for k in "ifgo"])
    b = np.concatenate([p["b_i" + k] + p["b_h" + k] for k in "ifgo"])
    a = np.concatenate([x, h_prev], axis=1) @ W.T + b
    ai, af, ag, ao = np.split(a, 4, axis=1)
    c = _s(af) * c_prev + _s(ai) * np.tanh(ag)
    return _s(ao) * np.tanh(c), c


def lstm_forward_c_not_carried(xs, h0, c0, p):
    h, hs, cs = h0, [], []
    for x in xs:
        h, c = lstm.lstm_cell(x, h, c0, p)
        hs.append(h)
        cs.append(c)
    return np.stack(hs), np.stack(cs)


def lstm_forward_with_h0(xs, h0, c0, p):
    hs, cs = [h0], [c0]
    for x in xs:
        h, c = lstm.lstm_cell(x, hs[-1], cs[-1], p)
        hs.append(h)
        cs.append(c)
    return np.stack(hs), np.stack(cs)


def to_torch_ifog(p):
    H, D = p["W_ii"].shape
    m = torch.nn.LSTM(D, H, dtype=torch.float64)
    with torch.no_grad():
        m.weight_ih_l0.copy_(torch.from_numpy(np.vstack([p["W_i" + k] for k in "ifog"])))
        m.weight_hh_l0.copy_(torch.from_numpy(np.vstack([p["W_h" + k] for k in "ifog"])))
        m.bias_ih_l0.copy_(torch.from_numpy(np.hstack([p["b_i" + k] for k in "ifog"])))
        m.bias_hh_l0.copy_(torch.from_numpy(np.hstack([p["b_h" + k] for k in "ifog"])))
    return m


def to_torch_bias_merged(p):
    H, D = p["W_ii"].shape
    m = torch.nn.LSTM(D, H, dtype=torch.float64)
    with torch.no_grad():
        m.weight_ih_l0.copy_(torch.cat([torch.tensor(p["W_i" + k]) for k in "ifgo"]))
        m.weight_hh_l0.copy_(torch.cat([torch.tensor(p["W_h" + k]) for k in "ifgo"]))
        m.bias_ih_l0.copy_(torch.cat([torch.tensor(p["b_i" + k] + p["b_h" + k]) for k in "ifgo"]))
        m.bias_hh_l0.zero_()
    return m


# ------------------------------------------------------------------ a04_lstm_backward


def csb_no_tanh_prime(dh, dc, c, o, f):
    dc_t = dc + dh * o
    return dc_t, dc_t * f


def csb_prev_from_incoming(dh, dc, c, o, f):
    dc_t = dc + dh * o * (1 - np.tanh(c) ** 2)
    return dc_t, dc * f


def csb_no_f(dh, dc, c, o, f):
    dc_t = dc + dh * o * (1 - np.tanh(c) ** 2)
    return dc_t, dc_t.copy()


def csb_sech(dh, dc, c, o, f):
    dc_t = dh * o / np.cosh(c) ** 2 + dc
    return dc_t, f * dc_t


def fgb_tanh_deriv(dc_t, c_prev, f):
    return dc_t * c_prev * (1 - f**2)


def fgb_no_c_prev(dc_t, c_prev, f):
    return dc_t * f * (1 - f)


def igb_sigmoid_of_gate(dc_t, g, i):
    return dc_t * g * _s(i) * (1 - _s(i))


def cb_g_sigmoid_deriv(dc_t, i, g):
    return dc_t * i * g * (1 - g)


def cb_forgot_i(dc_t, i, g):
    return dc_t * (1 - g**2)


def ogb_uses_c(dh, c, o):
    return dh * c * o * (1 - o)


def ogb_drops_o(dh, c, o):
    return dh * np.tanh(c) * (1 - o)


def ogb_product_form(dh, c, o):
    return np.tanh(c) * dh * (o - o * o)


def gab_transposed(da, x, h_prev, W_i, W_h):
    return {
        "dx": da @ W_i,
        "dh_prev": da @ W_h,
        "dW_i": x.T @ da,
        "dW_h": h_prev.T @ da,
        "db_i": da.sum(0),
        "db_h": da.sum(0),
    }


def gab_bias_mean(da, x, h_prev, W_i, W_h):
    return {
        "dx": da @ W_i,
        "dh_prev": da @ W_h,
        "dW_i": da.T @ x,
        "dW_h": da.T @ h_prev,
        "db_i": da.mean(0),
        "db_h": da.mean(0),
    }


def gab_einsum(da, x, h_prev, W_i, W_h):
    return {
        "dx": np.einsum("bh,hd->bd", da, W_i),
        "dh_prev": np.einsum("bh,hk->bk", da, W_h),
        "dW_i": np.einsum("bh,bd->hd", da, x),
        "dW_h": np.einsum("bh,bk->hk", da, h_prev),
        "db_i": np.sum(da, axis=0),
        "db_h": np.sum(da, axis=0),
    }


def _lcb(dh, dc, x, h_prev, c_prev, c, gates, p, use_dc=True, g_deriv=None):
    i, f, g, o = (gates[k] for k in "ifgo")
    tc = np.tanh(c)
    dct = (dc if use_dc else 0) + dh * o * (1 - tc**2)
    da = {
        "i": dct * g * i * (1 - i),
        "f": dct * c_prev * f * (1 - f),
        "g": dct * i * ((1 - g**2) if g_deriv is None else g_deriv(g)),
        "o": dh * tc * o * (1 - o),
    }
    out = {"dx": 0, "dh_prev": 0, "dc_prev": dct * f}
    for k in LSTM_GATES:
        out["dx"] = out["dx"] + da[k] @ p["W_i" + k]
        out["dh_prev"] = out["dh_prev"] + da[k] @ p["W_h" + k]
        out["dW_i" + k] = da[k].T @ x
        out["dW_h" + k] = da[k].T @ h_prev
        out["db_i" + k] = da[k].sum(0)
        out["db_h" + k] = da[k].sum(0)
    return out


def lcb_ignores_dc(dh, dc, x, h_prev, c_prev, c, gates, p):
    return _lcb(dh, dc, x, h_prev, c_prev, c, gates, p, use_dc=False)


def lcb_g_sigmoid(dh, dc, x, h_prev, c_prev, c, gates, p):
    return _lcb(dh, dc, x, h_prev, c_prev, c, gates, p, g_deriv=lambda g: g * (1 - g))


def lcb_stacked(dh, dc, x, h_prev, c_prev, c, gates, p):
    i, f, g, o = (gates[k] for k in "ifgo")
    tc = np.tanh(c)
    dct = dc + dh * o * (1 - tc * tc)
    da = np.concatenate(
        [
            dct * g * i * (1 - i),
            dct * c_prev * f * (1 - f),
            dct * i * (1 - g * g),
            dh * tc * o * (1 - o),
        ],
        axis=1,
    )
    Wi = np.vstack([p["W_i" + k] for k in "ifgo"])
    Wh = np.vstack([p["W_h" + k] for k in "ifgo"])
    dWi, dWh, db = np.split(da.T @ x, 4), np.split(da.T @ h_prev, 4), np.split(da.sum(0), 4)
    out = {"dx": da @ Wi, "dh_prev": da @ Wh, "dc_prev": dct * f}
    for n, k in enumerate("ifgo"):
        out["dW_i" + k], out["dW_h" + k] = dWi[n], dWh[n]
        out["db_i" + k], out["db_h" + k] = db[n], db[n].copy()
    return out


def _lb(
    dhs,
    xs,
    h0,
    c0,
    hs,
    cs,
    gates,
    p,
    dc_T=None,
    use_dc_T=True,
    carry_c=True,
    carry_h=True,
    c_prev_now=False,
    flip_dx=False,
):
    T = xs.shape[0]
    grads = {"d" + k: np.zeros_like(p[k]) for k in LSTM_KEYS}
    dxs = np.zeros(xs.shape)
    dh_next = np.zeros(h0.shape)
    dc_next = dc_T if (dc_T is not None and use_dc_T) else np.zeros(c0.shape)
    for t in range(T - 1, -1, -1):
        h_prev = hs[t - 1] if t else h0
        c_prev = cs[t] if c_prev_now else (cs[t - 1] if t else c0)
        step = {k: v[t] for k, v in gates.items()}
        g = lstm.lstm_cell_backward(
            dhs[t] + (dh_next if carry_h else 0),
            dc_next if carry_c else np.zeros(c0.shape),
            xs[t],
            h_prev,
            c_prev,
            cs[t],
            step,
            p,
        )
        dxs[T - 1 - t if flip_dx else t] = g["dx"]
        dh_next, dc_next = g["dh_prev"], g["dc_prev"]
        for k in LSTM_KEYS:
            grads["d" + k] += g["d" + k]
    grads.update(dxs=dxs, dh0=dh_next, dc0=dc_next)
    return grads


def lb_dc_T_ignored(dhs, xs, h0, c0, hs, cs, gates, p, dc_T=None):
    return _lb(dhs, xs, h0, c0, hs, cs, gates, p, dc_T, use_dc_T=False)


def lb_c_not_carried(dhs, xs, h0, c0, hs, cs, gates, p, dc_T=None):
    return _lb(dhs, xs, h0, c0, hs, cs, gates, p, dc_T, carry_c=False)


def lb_h_not_carried(dhs, xs, h0, c0, hs, cs, gates, p, dc_T=None):
    return _lb(dhs, xs, h0, c0, hs, cs, gates, p, dc_T, carry_h=False)


def lb_c_prev_is_c_t(dhs, xs, h0, c0, hs, cs, gates, p, dc_T=None):
    return _lb(dhs, xs, h0, c0, hs, cs, gates, p, dc_T, c_prev_now=True)


def lb_dxs_reversed(dhs, xs, h0, c0, hs, cs, gates, p, dc_T=None):
    return _lb(dhs, xs, h0, c0, hs, cs, gates, p, dc_T, flip_dx=True)


def lb_padded_states(dhs, xs, h0, c0, hs, cs, gates, p, dc_T=None):
    H_all = np.concatenate([h0[None], hs])
    C_all = np.concatenate([c0[None], cs])
    grads = {"d" + k: 0.0 for k in LSTM_KEYS}
    dxs = []
    dh = np.zeros_like(h0)
    dc = np.zeros_like(c0) if dc_T is None else dc_T
    for t in reversed(range(len(xs))):
        g = _lcb(
            dhs[t] + dh,
            dc,
            xs[t],
            H_all[t],
            C_all[t],
            C_all[t + 1],
            {k: gates[k][t] for k in "ifgo"},
            p,
        )
        dxs.insert(0, g["dx"])
        dh, dc = g["dh_prev"], g["dc_prev"]
        grads = {k: v + g[k] for k, v in grads.items()}
    grads.update(dxs=np.stack(dxs), dh0=dh, dc0=dc)
    return grads


# ------------------------------------------------------------------ a05_gru


def reset_gate_tanh(x, h_prev, W_ir, W_hr, b_ir, b_hr):
    return np.tanh(x @ W_ir.T + b_ir + h_prev @ W_hr.T + b_hr)


def reset_gate_softplus(x, h_prev, W_ir, W_hr, b_ir, b_hr):
    a = x @ W_ir.T + b_ir + h_prev @ W_hr.T + b_hr
    return np.exp(-np.logaddexp(0.0, -a))


def update_gate_no_x(x, h_prev, W_iz, W_hz, b_iz, b_hz):
    return _s(h_prev @ W_hz.T + b_iz + b_hz)


def gru_candidate_cho(x, h_prev, r, W_in, W_hn, b_in, b_hn):
    return np.tanh(x @ W_in.T + b_in + (r * h_prev) @ W_hn.T + b_hn)


def gru_candidate_r_no_bias(x, h_prev, r, W_in, W_hn, b_in, b_hn):
    return np.tanh(x @ W_in.T + b_in + r * (h_prev @ W_hn.T) + b_hn)


def gru_candidate_r_on_x(x, h_prev, r, W_in, W_hn, b_in, b_hn):
    return np.tanh(r * (x @ W_in.T + b_in) + h_prev @ W_hn.T + b_hn)


def gru_candidate_no_b_hn(x, h_prev, r, W_in, W_hn, b_in, b_hn):
    return np.tanh(x @ W_in.T + b_in + r * (h_prev @ W_hn.T))


def gru_cell_z_flipped(x, h_prev, p):
    g = gru.gru_gates(x, h_prev, p)
    return g["z"] * g["n"] + (1 - g["z"]) * h_prev


def gru_cell_stacked(x, h_prev, p):
    Wi = np.vstack([p["W_ir"], p["W_iz"], p["W_in"]])
    Wh = np.vstack([p["W_hr"], p["W_hz"], p["W_hn"]])
    bi = np.hstack([p["b_ir"], p["b_iz"], p["b_in"]])
    bh = np.hstack([p["b_hr"], p["b_hz"], p["b_hn"]])
    xr, xz, xn = np.split(x @ Wi.T + bi, 3, axis=1)
    hr, hz, hn = np.split(h_prev @ Wh.T + bh, 3, axis=1)
    r, z = _s(xr + hr), _s(xz + hz)
    n = np.tanh(xn + r * hn)
    return n + z * (h_prev - n)


def gru_forward_from_h0(xs, h0, p):
    return np.stack([gru.gru_cell(x, h0, p) for x in xs])


def gru_forward_store_before(xs, h0, p):
    hs = np.empty((xs.shape[0], *h0.shape))
    h = h0
    for t in range(xs.shape[0]):
        hs[t] = h
        h = gru.gru_cell(xs[t], h, p)
    return hs


def gru_forward_list_stack(xs, h0, p):
    out = []
    for x in list(xs):
        out.append(gru.gru_cell(x, out[-1] if out else h0, p))
    return np.array(out)


def cho_cell_pytorch_form(x, h_prev, p):
    return gru.gru_cell(x, h_prev, p)


# ------------------------------------------------------------------ a06_gru_backward


def blend_b_reversed(dh, h_prev, z, n):
    return dh * z, dh * (h_prev - n), dh * (1 - z)


def blend_b_dz_sign(dh, h_prev, z, n):
    return dh * (1 - z), dh * (n - h_prev), dh * z


def blend_b_dn_is_dh(dh, h_prev, z, n):
    return dh.copy(), dh * (h_prev - n), dh * z


def blend_b_no_direct(dh, h_prev, z, n):
    return dh * (1 - z), dh * (h_prev - n), np.zeros_like(dh)


def blend_b_subtract(dh, h_prev, z, n):
    dh_prev = z * dh
    return dh - dh_prev, dh * h_prev - dh * n, dh_prev


def _gcb(
    dn,
    x,
    h_prev,
    r,
    n,
    W_in,
    W_hn,
    b_hn,
    dr_bias=True,
    db_hn_r=True,
    hid_r=True,
    tanh_d=lambda n: 1 - n**2,
):
    da = dn * tanh_d(n)
    dhn = da * r if hid_r else da
    return {
        "dx": da @ W_in,
        "dh_prev": dhn @ W_hn,
        "dr": da * (h_prev @ W_hn.T + (b_hn if dr_bias else 0)),
        "dW_in": da.T @ x,
        "dW_hn": dhn.T @ h_prev,
        "db_in": da.sum(0),
        "db_hn": (da * r if db_hn_r else da).sum(0),
    }


def gcb_dr_no_bias(dn, x, h_prev, r, n, W_in, W_hn, b_hn):
    return _gcb(dn, x, h_prev, r, n, W_in, W_hn, b_hn, dr_bias=False)


def gcb_db_hn_unscaled(dn, x, h_prev, r, n, W_in, W_hn, b_hn):
    return _gcb(dn, x, h_prev, r, n, W_in, W_hn, b_hn, db_hn_r=False)


def gcb_hidden_without_r(dn, x, h_prev, r, n, W_in, W_hn, b_hn):
    return _gcb(dn, x, h_prev, r, n, W_in, W_hn, b_hn, hid_r=False, db_hn_r=False)


def gcb_no_tanh_deriv(dn, x, h_prev, r, n, W_in, W_hn, b_hn):
    return _gcb(dn, x, h_prev, r, n, W_in, W_hn, b_hn, tanh_d=lambda n: 1.0)


def gcb_tanh_of_n(dn, x, h_prev, r, n, W_in, W_hn, b_hn):
    return _gcb(dn, x, h_prev, r, n, W_in, W_hn, b_hn, tanh_d=lambda n: 1 - np.tanh(n) ** 2)


def gcb_einsum(dn, x, h_prev, r, n, W_in, W_hn, b_hn):
    da = dn - dn * n * n
    dhn = np.einsum("bh,bh->bh", da, r)
    return {
        "dx": np.einsum("bh,hd->bd", da, W_in),
        "dh_prev": np.einsum("bh,hk->bk", dhn, W_hn),
        "dr": da * (np.einsum("bk,hk->bh", h_prev, W_hn) + b_hn),
        "dW_in": np.einsum("bh,bd->hd", da, x),
        "dW_hn": np.einsum("bh,bk->hk", dhn, h_prev),
        "db_in": da.sum(axis=0),
        "db_hn": dhn.sum(axis=0),
    }


def reset_b_tanh_deriv(dr, x, h_prev, r, W_ir, W_hr):
    da = dr * (1 - r**2)
    return {
        "dx": da @ W_ir,
        "dh_prev": da @ W_hr,
        "dW_ir": da.T @ x,
        "dW_hr": da.T @ h_prev,
        "db_ir": da.sum(0),
        "db_hr": da.sum(0),
    }


def reset_b_W_T(dr, x, h_prev, r, W_ir, W_hr):
    da = dr * r * (1 - r)
    return {
        "dx": da @ W_ir,
        "dh_prev": da @ W_hr.T,
        "dW_ir": da.T @ x,
        "dW_hr": da.T @ h_prev,
        "db_ir": da.sum(0),
        "db_hr": da.sum(0),
    }


def update_b_bias_per_row(dz, x, h_prev, z, W_iz, W_hz):
    da = dz * z * (1 - z)
    return {
        "dx": da @ W_iz,
        "dh_prev": da @ W_hz,
        "dW_iz": da.T @ x,
        "dW_hz": da.T @ h_prev,
        "db_iz": da,
        "db_hz": da,
    }


def update_b_transposed(dz, x, h_prev, z, W_iz, W_hz):
    da = dz * z * (1 - z)
    return {
        "dx": da @ W_iz,
        "dh_prev": da @ W_hz,
        "dW_iz": x.T @ da,
        "dW_hz": h_prev.T @ da,
        "db_iz": da.sum(0),
        "db_hz": da.sum(0),
    }


def update_b_outer_loop(dz, x, h_prev, z, W_iz, W_hz):
    da = dz * z * (1 - z)
    dW_iz = sum(np.outer(da[b], x[b]) for b in range(x.shape[0]))
    dW_hz = sum(np.outer(da[b], h_prev[b]) for b in range(x.shape[0]))
    return {
        "dx": da @ W_iz,
        "dh_prev": da @ W_hz,
        "dW_iz": dW_iz,
        "dW_hz": dW_hz,
        "db_iz": da.sum(0),
        "db_hz": da.sum(0),
    }


def _gru_cb(dh, x, h_prev, gates, p, dz_sign=1.0, direct=True):
    r, z, n = gates["r"], gates["z"], gates["n"]
    hn = h_prev @ p["W_hn"].T + p["b_hn"]
    da_n = dh * (1 - z) * (1 - n**2)
    da_z = dz_sign * dh * (h_prev - n) * z * (1 - z)
    da_r = da_n * hn * r * (1 - r)
    dhn = da_n * r
    g = {"dW_in": da_n.T @ x, "db_in": da_n.sum(0), "dW_hn": dhn.T @ h_prev, "db_hn": dhn.sum(0)}
    dx = da_n @ p["W_in"]
    dh_prev = (dh * z if direct else 0) + dhn @ p["W_hn"]
    for k, da in (("r", da_r), ("z", da_z)):
        g["dW_i" + k], g["dW_h" + k] = da.T @ x, da.T @ h_prev
        g["db_i" + k], g["db_h" + k] = da.sum(0), da.sum(0)
        dx = dx + da @ p["W_i" + k]
        dh_prev = dh_prev + da @ p["W_h" + k]
    g.update(dx=dx, dh_prev=dh_prev)
    return g


def gru_cb_dz_flipped(dh, x, h_prev, gates, p):
    return _gru_cb(dh, x, h_prev, gates, p, dz_sign=-1.0)


def gru_cb_no_direct(dh, x, h_prev, gates, p):
    return _gru_cb(dh, x, h_prev, gates, p, direct=False)


def gru_cb_own(dh, x, h_prev, gates, p):
    return _gru_cb(dh, x, h_prev, gates, p)


def _gru_b(dhs, xs, h0, hs, gates, p, carry=True, h_prev_now=False, last_only=False):
    T = xs.shape[0]
    grads = {"d" + k: np.zeros_like(p[k]) for k in GRU_KEYS}
    dxs = np.zeros(xs.shape)
    dh = np.zeros(h0.shape)
    for t in range(T - 1, -1, -1):
        h_prev = hs[t] if h_prev_now else (hs[t - 1] if t else h0)
        direct = dhs[t] if (not last_only or t == T - 1) else 0
        g = gru.gru_cell_backward(
            direct + (dh if carry else 0), xs[t], h_prev, {k: v[t] for k, v in gates.items()}, p
        )
        dxs[t] = g["dx"]
        dh = g["dh_prev"]
        for k in GRU_KEYS:
            grads["d" + k] += g["d" + k]
    grads.update(dxs=dxs, dh0=dh)
    return grads


def gru_b_not_carried(dhs, xs, h0, hs, gates, p):
    return _gru_b(dhs, xs, h0, hs, gates, p, carry=False)


def gru_b_h_prev_now(dhs, xs, h0, hs, gates, p):
    return _gru_b(dhs, xs, h0, hs, gates, p, h_prev_now=True)


def gru_b_last_only(dhs, xs, h0, hs, gates, p):
    return _gru_b(dhs, xs, h0, hs, gates, p, last_only=True)


def gru_b_inplace(dhs, xs, h0, hs, gates, p):
    grads = {"d" + k: np.zeros_like(p[k]) for k in GRU_KEYS}
    dxs = np.zeros(xs.shape)
    for t in range(xs.shape[0] - 1, -1, -1):
        g = gru.gru_cell_backward(
            dhs[t], xs[t], hs[t - 1] if t else h0, {k: v[t] for k, v in gates.items()}, p
        )
        if t:
            dhs[t - 1] += g["dh_prev"]
        dxs[t] = g["dx"]
        for k in GRU_KEYS:
            grads["d" + k] += g["d" + k]
    grads.update(dxs=dxs, dh0=g["dh_prev"])
    return grads


def gru_b_recursive(dhs, xs, h0, hs, gates, p):
    states = [h0] + list(hs)

    def back(t, dh):
        if t < 0:
            return {"dxs": [], "dh0": dh}
        g = gru_cb_own(dh, xs[t], states[t], {k: v[t] for k, v in gates.items()}, p)
        rest = back(t - 1, g["dh_prev"] + (dhs[t - 1] if t else 0))
        out = {"dxs": rest["dxs"] + [g["dx"]], "dh0": rest["dh0"]}
        for k in GRU_KEYS:
            out["d" + k] = g["d" + k] + rest.get("d" + k, 0)
        return out

    out = back(xs.shape[0] - 1, dhs[-1])
    out["dxs"] = np.stack(out["dxs"])
    return out


# ------------------------------------------------------------------ a07_train


def _adam(
    p,
    grads,
    m,
    v,
    t,
    lr,
    beta1,
    beta2,
    eps,
    correct=True,
    eps_in=False,
    square=True,
    t_off=0,
    reversed_blend=False,
):
    P, M, V = {}, {}, {}
    for k, g in grads.items():
        if reversed_blend:
            M[k] = (1 - beta1) * m[k] + beta1 * g
            V[k] = (1 - beta2) * v[k] + beta2 * g * g
        else:
            M[k] = beta1 * m[k] + (1 - beta1) * g
            V[k] = beta2 * v[k] + (1 - beta2) * (g * g if square else g)
        tt = t + t_off
        mh = M[k] / (1 - beta1**tt) if correct else M[k]
        vh = V[k] / (1 - beta2**tt) if correct else V[k]
        den = np.sqrt(vh + eps) if eps_in else np.sqrt(vh) + eps
        P[k] = p[k] - lr * mh / den
    return P, M, V


def adam_uncorrected(p, grads, m, v, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
    return _adam(p, grads, m, v, t, lr, beta1, beta2, eps, correct=False)


def adam_eps_in_sqrt(p, grads, m, v, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
    return _adam(p, grads, m, v, t, lr, beta1, beta2, eps, eps_in=True)


def adam_v_plain_g(p, grads, m, v, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
    return _adam(p, grads, m, v, t, lr, beta1, beta2, eps, square=False)


def adam_t_plus_one(p, grads, m, v, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
    return _adam(p, grads, m, v, t, lr, beta1, beta2, eps, t_off=1)


def adam_blend_reversed(p, grads, m, v, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
    return _adam(p, grads, m, v, t, lr, beta1, beta2, eps, reversed_blend=True)


def adam_lerp(p, grads, m, v, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
    M = {k: m[k] + (1 - beta1) * (g - m[k]) for k, g in grads.items()}
    V = {k: v[k] + (1 - beta2) * (np.square(g) - v[k]) for k, g in grads.items()}
    c1, c2 = 1 - beta1**t, 1 - beta2**t
    P = {k: p[k] - (lr / c1) * M[k] / (np.sqrt(V[k]) / np.sqrt(c2) + eps) for k in p}
    return P, M, V


def clip_g_per_tensor(grads, max_norm):
    total = float(np.sqrt(sum(np.sum(g**2) for g in grads.values())))
    out = {k: g * min(1.0, max_norm / (np.linalg.norm(g) + 1e-6)) for k, g in grads.items()}
    return out, total


def clip_g_no_sqrt(grads, max_norm):
    total = float(sum(np.sum(g**2) for g in grads.values()))
    coef = min(1.0, max_norm / (total + 1e-6))
    return {k: g * coef for k, g in grads.items()}, total


def clip_g_vdot(grads, max_norm):
    total = float(np.sqrt(sum(np.vdot(g, g) for g in grads.values())))
    coef = max_norm / (total + 1e-6)
    return {k: np.array(g) * (coef if coef < 1.0 else 1.0) for k, g in grads.items()}, total


def tbptt_zero_each(P, stream, h0, T):
    losses, grads = [], []
    for s in range(0, stream.shape[0] - 1, T):
        e = min(s + T, stream.shape[0] - 1)
        loss, g, h = lm_loss_and_grads(P, stream[s:e], stream[s + 1 : e + 1], h0)
        losses.append(loss)
        grads.append(g)
    return np.array(losses), grads, h


def tbptt_full_windows_only(P, stream, h0, T):
    losses, grads, h = [], [], h0
    for k in range((stream.shape[0] - 1) // T):
        s = k * T
        loss, g, h = lm_loss_and_grads(P, stream[s : s + T], stream[s + 1 : s + T + 1], h)
        losses.append(loss)
        grads.append(g)
    return np.array(losses), grads, h


def tbptt_same_targets(P, stream, h0, T):
    losses, grads, h = [], [], h0
    for s in range(0, stream.shape[0] - 1, T):
        e = min(s + T, stream.shape[0] - 1)
        loss, g, h = lm_loss_and_grads(P, stream[s:e], stream[s:e], h)
        losses.append(loss)
        grads.append(g)
    return np.array(losses), grads, h


def tbptt_while(P, stream, h0, T):
    L = stream.shape[0]
    losses, grads, h, s = [], [], h0, 0
    while s < L - 1:
        n = min(T, L - 1 - s)
        loss, g, h = lm_loss_and_grads(P, stream[s : s + n], stream[s + 1 : s + 1 + n], h)
        losses.append(loss)
        grads.append(g)
        s += n
    return np.array(losses), grads, h


def _sample(logits, temperature, rng, how="divide"):
    z = {"divide": logits / temperature, "times": logits * temperature, "none": logits}[how]
    probs = np.exp(z - z.max(-1, keepdims=True))
    probs /= probs.sum(-1, keepdims=True)
    u = rng.random((logits.shape[0], 1))
    return np.minimum((np.cumsum(probs, -1) < u).sum(-1), logits.shape[-1] - 1)


def sample_times_t(logits, temperature, rng):
    return _sample(logits, temperature, rng, "times")


def sample_no_t(logits, temperature, rng):
    return _sample(logits, temperature, rng, "none")


def sample_argmax(logits, temperature, rng):
    return np.argmax(logits / temperature, axis=-1)


def sample_searchsorted(logits, temperature, rng):
    lp = rnn.log_softmax(np.asarray(logits, dtype=np.float64) / temperature)
    u = rng.random((logits.shape[0], 1))
    cdf = np.cumsum(np.exp(lp), axis=-1)
    idx = np.array([np.searchsorted(cdf[b], u[b, 0], side="left") for b in range(len(cdf))])
    return np.minimum(idx, logits.shape[-1] - 1)


def train_returns_initial(P, stream, steps, T=16, lr=0.02, max_norm=1.0):
    from rnnscratch.models import gru_lm

    _, losses = gru_lm.train(P, stream, steps, T=T, lr=lr, max_norm=max_norm)
    return P, losses


HELDOUT4 = [
    # a01_rnn_forward
    ("sigmoid", "visible", sigmoid_plus_exp, "sigmoid_sign"),
    ("sigmoid", "visible_extreme", sigmoid_where_stable, None),
    ("softmax", "visible_extreme", softmax_no_shift, "unstable_softmax"),
    ("softmax", "visible_axis0", softmax_global_sum, "softmax_wrong_axis"),
    ("softmax", "visible_axis0", softmax_logsumexp, None),
    ("rnn_cell", "visible", rnn_cell_relu, "relu_for_tanh"),
    ("rnn_cell", "visible", rnn_cell_bias_after_tanh, "bias_outside_activation"),
    ("rnn_cell", "visible_bias_only", rnn_cell_only_b_ih, "one_bias_only"),
    ("rnn_cell", "visible", rnn_cell_einsum, None),
    ("rnn_cell", "visible", rnn_cell_concat, None),
    ("rnn_forward", "visible", rnn_forward_zero_start, "h0_ignored"),
    ("rnn_forward", "visible", rnn_forward_list, "list_of_arrays"),
    ("rnn_forward", "visible", rnn_forward_batch_major, "batch_major"),
    ("rnn_forward", "visible", rnn_forward_float32, "float32_result"),
    ("rnn_forward", "visible", rnn_forward_precomputed_input, None),
    ("sequence_cross_entropy", "visible", ce_batch_sum, "ce_summed_over_batch"),
    ("sequence_cross_entropy", "visible_extreme", ce_log_of_softmax, "log_of_underflowed_softmax"),
    ("sequence_cross_entropy", "visible_extreme", ce_logsumexp_loop, None),
    # a02_bptt
    ("rnn_cell_backward", "visible", cb_no_tanh_deriv, "tanh_derivative_missing"),
    ("rnn_cell_backward", "visible", cb_one_minus_h, "derivative_not_squared"),
    ("rnn_cell_backward", "visible", cb_deriv_from_h_prev, "derivative_uses_h_prev"),
    ("rnn_cell_backward", "visible", cb_dW_x_T_da, "gradient_transposed"),
    ("rnn_cell_backward", "visible", cb_bias_not_summed, "bias_grad_not_summed"),
    ("rnn_cell_backward", "visible", cb_dh_prev_W_hh_T, "backward_weight_transposed"),
    ("rnn_cell_backward", "visible", cb_einsum, None),
    ("rnn_backward", "visible", bptt_not_carried, "gradient_not_carried"),
    ("rnn_backward", "visible", bptt_overwrite, "gradient_not_accumulated"),
    ("rnn_backward", "visible_truncated", bptt_truncate_ignored, "truncation_ignored"),
    ("rnn_backward", "visible_truncated", bptt_chunks, "truncation_chunked"),
    ("rnn_backward", "visible", bptt_dh0_zero, "dh0_missing"),
    ("rnn_backward", "visible", bptt_dW_hh_h_t, "dW_hh_uses_h_t"),
    ("rnn_backward", "visible_truncated", bptt_windows_explicit, None),
    ("clip_grad_norm", "visible", clip_norm_sum_of_norms, "clip_sum_of_norms"),
    ("clip_grad_norm", "visible_below", clip_norm_always, "clip_always_scales"),
    ("clip_grad_norm", "visible", clip_norm_reported_after, "norm_after_clipping"),
    ("clip_grad_norm", "visible", clip_norm_inplace, "input_modified"),
    ("clip_grad_norm", "visible", clip_norm_concat, None),
    ("clip_grad_value", "visible", clip_value_upper_only, "clip_one_sided"),
    ("clip_grad_value", "visible", clip_value_where, None),
    ("gradient_decay", "visible", decay_reversed, "reversed_distance"),
    ("gradient_decay", "visible", decay_batch_sum, "batch_summed"),
    ("gradient_decay", "visible", decay_einsum, None),
    # a03_lstm_gates
    ("forget_gate", "visible", forget_gate_tanh, "tanh_for_sigmoid"),
    ("forget_gate", "visible", forget_gate_stable, None),
    ("input_gate", "visible_prev_state_only", input_gate_no_h, "prev_state_term_dropped"),
    ("candidate", "visible", candidate_sigmoid, "sigmoid_for_tanh"),
    ("output_gate", "visible_bias_only", output_gate_no_bias, "bias_dropped"),
    ("cell_update", "visible_forget_only", cell_update_no_forget, "forget_gate_ignored"),
    ("cell_update", "visible_input_only", cell_update_i_plus_g, "candidate_not_gated"),
    ("hidden_update", "visible", hidden_update_no_tanh, "activation_missing"),
    ("hidden_update", "visible", hidden_update_tanh_identity, None),
    ("lstm_cell", "visible", lstm_cell_f_i_swapped, "gates_swapped"),
    ("lstm_cell", "visible", lstm_cell_c_h, "outputs_swapped"),
    ("lstm_cell", "visible", lstm_cell_concat, None),
    ("lstm_forward", "visible", lstm_forward_c_not_carried, "cell_state_not_carried"),
    ("lstm_forward", "visible", lstm_forward_with_h0, "includes_initial_state"),
    ("to_torch_lstm", "visible", to_torch_ifog, "cs231n_gate_order"),
    ("to_torch_lstm", "visible", to_torch_bias_merged, None),
    # a04_lstm_backward
    ("cell_state_backward", "visible", csb_no_tanh_prime, "cell_tanh_derivative_missing"),
    ("cell_state_backward", "visible", csb_prev_from_incoming, "dc_prev_from_incoming"),
    ("cell_state_backward", "visible_no_dh", csb_no_f, "forget_gate_not_applied"),
    ("cell_state_backward", "visible", csb_sech, None),
    ("forget_gate_backward", "visible", fgb_tanh_deriv, "sigmoid_derivative_tanh"),
    ("forget_gate_backward", "visible", fgb_no_c_prev, "chain_factor_missing"),
    ("input_gate_backward", "visible", igb_sigmoid_of_gate, "derivative_of_output"),
    ("candidate_backward", "visible", cb_g_sigmoid_deriv, "candidate_derivative_wrong"),
    ("candidate_backward", "visible", cb_forgot_i, "chain_factor_missing"),
    ("output_gate_backward", "visible", ogb_uses_c, "output_gate_uses_c"),
    ("output_gate_backward", "visible", ogb_drops_o, "sigmoid_derivative_wrong"),
    ("output_gate_backward", "visible", ogb_product_form, None),
    ("gate_affine_backward", "visible", gab_transposed, "gradient_transposed"),
    ("gate_affine_backward", "visible_input_only", gab_bias_mean, UNCATALOGUED),
    ("gate_affine_backward", "visible", gab_einsum, None),
    ("lstm_cell_backward", "visible", lcb_ignores_dc, "cell_gradient_not_carried"),
    ("lstm_cell_backward", "visible_no_dc", lcb_g_sigmoid, "candidate_derivative_wrong"),
    ("lstm_cell_backward", "visible", lcb_stacked, None),
    ("lstm_backward", "visible_dc_T", lb_dc_T_ignored, "dc_T_ignored"),
    ("lstm_backward", "visible", lb_c_not_carried, "cell_gradient_not_carried"),
    ("lstm_backward", "visible", lb_h_not_carried, "gradient_not_carried"),
    ("lstm_backward", "visible", lb_c_prev_is_c_t, "gates_wrong_step"),
    ("lstm_backward", "visible", lb_dxs_reversed, "reversed_in_time"),
    ("lstm_backward", "visible_dc_T", lb_padded_states, None),
    # a05_gru
    ("reset_gate", "visible", reset_gate_tanh, "tanh_for_sigmoid"),
    ("reset_gate", "visible", reset_gate_softplus, None),
    ("update_gate", "visible_input_only", update_gate_no_x, "input_term_dropped"),
    ("gru_candidate", "visible", gru_candidate_cho, "reset_before_matmul"),
    ("gru_candidate", "visible", gru_candidate_r_no_bias, "reset_excludes_bias"),
    ("gru_candidate", "visible", gru_candidate_r_on_x, "reset_on_input"),
    ("gru_candidate", "visible", gru_candidate_no_b_hn, "b_hn_dropped"),
    ("gru_cell", "visible", gru_cell_z_flipped, "update_gate_flipped"),
    ("gru_cell", "visible", gru_cell_stacked, None),
    ("gru_forward", "visible", gru_forward_from_h0, "h_t_for_h_prev"),
    ("gru_forward", "visible", gru_forward_store_before, "off_by_one"),
    ("gru_forward", "visible", gru_forward_list_stack, None),
    ("cho_gru_cell", "visible", cho_cell_pytorch_form, "reset_after_matmul"),
    # a06_gru_backward
    ("blend_backward", "visible", blend_b_reversed, "blend_reversed_backward"),
    ("blend_backward", "visible", blend_b_dz_sign, "dz_sign_flipped"),
    ("blend_backward", "visible", blend_b_dn_is_dh, "one_minus_z_missing"),
    ("blend_backward", "visible", blend_b_no_direct, "direct_path_missing"),
    ("blend_backward", "visible", blend_b_subtract, None),
    ("gru_candidate_backward", "visible_bias_only", gcb_dr_no_bias, "reset_grad_excludes_bias"),
    ("gru_candidate_backward", "visible", gcb_db_hn_unscaled, "b_hn_grad_not_scaled"),
    ("gru_candidate_backward", "visible", gcb_hidden_without_r, "reset_not_in_hidden_grads"),
    ("gru_candidate_backward", "visible", gcb_no_tanh_deriv, "tanh_derivative_missing"),
    ("gru_candidate_backward", "visible", gcb_tanh_of_n, "derivative_of_output"),
    ("gru_candidate_backward", "visible", gcb_einsum, None),
    ("reset_gate_backward", "visible", reset_b_tanh_deriv, "tanh_derivative_for_sigmoid"),
    ("reset_gate_backward", "visible", reset_b_W_T, "backward_weight_transposed"),
    ("update_gate_backward", "visible_bias_only", update_b_bias_per_row, "bias_grad_not_summed"),
    ("update_gate_backward", "visible", update_b_transposed, "gradient_transposed"),
    ("update_gate_backward", "visible", update_b_outer_loop, None),
    ("gru_cell_backward", "visible", gru_cb_dz_flipped, "dz_sign_flipped"),
    ("gru_cell_backward", "visible", gru_cb_no_direct, "direct_path_missing"),
    ("gru_cell_backward", "visible", gru_cb_own, None),
    ("gru_backward", "visible", gru_b_not_carried, "gradient_not_carried"),
    ("gru_backward", "visible", gru_b_h_prev_now, "gates_wrong_step"),
    ("gru_backward", "visible", gru_b_last_only, "loss_gradient_only_last"),
    ("gru_backward", "visible", gru_b_inplace, "input_modified"),
    ("gru_backward", "visible", gru_b_recursive, None),
    # a07_train
    ("adam_step", "visible_first", adam_uncorrected, "adam_no_bias_correction"),
    ("adam_step", "visible_eps", adam_eps_in_sqrt, "adam_eps_inside_sqrt"),
    ("adam_step", "visible", adam_v_plain_g, "adam_v_not_squared"),
    ("adam_step", "visible", adam_t_plus_one, "adam_step_count"),
    ("adam_step", "visible", adam_blend_reversed, "moment_blend_reversed"),
    ("adam_step", "visible", adam_lerp, None),
    ("clip_gradients", "visible", clip_g_per_tensor, "clip_per_tensor"),
    ("clip_gradients", "visible", clip_g_no_sqrt, "norm_not_square_rooted"),
    ("clip_gradients", "visible_below", clip_g_vdot, None),
    ("tbptt_gradients", "visible", tbptt_zero_each, "state_not_carried_across_windows"),
    ("tbptt_gradients", "visible_ragged", tbptt_full_windows_only, "last_window_dropped"),
    ("tbptt_gradients", "visible", tbptt_same_targets, "targets_not_shifted"),
    ("tbptt_gradients", "visible_ragged", tbptt_while, None),
    ("sample_next", "visible_t05", sample_times_t, "temperature_multiplied"),
    ("sample_next", "visible_t2", sample_no_t, "temperature_ignored"),
    ("sample_next", "visible_t1", sample_argmax, "greedy_not_sampled"),
    ("sample_next", "visible_t05", sample_searchsorted, None),
    ("train", "visible", train_returns_initial, "parameters_not_updated"),
]
