"""Inputs and numpy mistake-variants shared by the LSTM assignments (a03, a04)."""

import numpy as np

from rnnscratch.exercises.common import VISIBLE, gate_params, random_dims, sig
from rnnscratch.models.lstm import LSTM_GATES as GATES
from rnnscratch.models.lstm import LSTM_KEYS as KEYS  # noqa: F401 - a04 reads it here


def lstm_oracle():
    from rnnscratch.oracle import lstm

    return lstm


def params(rng, D, H, prefix="p.") -> dict:
    """A per-gate parameter dict under keys "p.W_ii" ... (flat, for the inputs files)."""
    return gate_params(rng, D, H, GATES, prefix)


def dims(rng, fixed, square=False):
    return dict(VISIBLE) if fixed else random_dims(rng, square)


def np_gates(x, h, p, swap=None, act_g=np.tanh, act_sig=sig, bias=True, pswap=None):
    """Numpy gate values with optional mistakes.

    swap=("i", "f") swaps two gates' values; pswap=("g", "o") swaps two gates' parameters.
    """
    if pswap is not None:
        a, b = pswap
        p = dict(p)
        for w in ("W_i", "W_h", "b_i", "b_h"):
            p[w + a], p[w + b] = p[w + b], p[w + a]

    def pre(k):
        a = x @ p[f"W_i{k}"].T + h @ p[f"W_h{k}"].T
        return a + (p[f"b_i{k}"] + p[f"b_h{k}"] if bias else 0.0)

    out = {
        "i": act_sig(pre("i")),
        "f": act_sig(pre("f")),
        "g": act_g(pre("g")),
        "o": act_sig(pre("o")),
    }
    if swap is not None:
        a, b = swap
        out[a], out[b] = out[b], out[a]
    return out


def np_cell(x, h, c, p, *, cell_tanh=True, forget=True, old_c=False, **kw):
    """One numpy LSTM step with optional mistakes -> (h, c)."""
    gt = np_gates(x, h, p, **kw)
    c_new = (gt["f"] * c if forget else c) + gt["i"] * gt["g"]
    c_out = c if old_c else c_new  # old_c: h from the previous cell state (a step behind)
    h_new = gt["o"] * (np.tanh(c_out) if cell_tanh else c_out)
    return h_new, c_new


def np_sequence(xs, h0, c0, p, *, carry_h=True, carry_c=True, **kw):
    """Numpy LSTM over a sequence with optional mistakes -> (hs, cs)."""
    h, c, hs, cs = h0, c0, [], []
    for x in xs:
        h, c = np_cell(x, h if carry_h else h0, c if carry_c else c0, p, **kw)
        hs.append(h)
        cs.append(c)
    return np.stack(hs), np.stack(cs)
