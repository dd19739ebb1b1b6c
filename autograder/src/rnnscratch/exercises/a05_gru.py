"""a05_gru: reset and update gates, PyTorch's candidate, a cell, a sequence, Cho et al.'s cell."""

import numpy as np

from rnnscratch.exercises.common import (
    VISIBLE,
    gate_params,
    gate_spec,
    normal,
    random_dims,
    sig,
)
from rnnscratch.exercises.plain import group
from rnnscratch.exercises.spec import Case, Spec, Variant
from rnnscratch.models.gru import GRU_GATES as GATES

ASSIGNMENT = "a05_gru"


def _oracle():
    from rnnscratch.oracle import gru

    return gru


RESET = gate_spec(
    "reset_gate",
    ASSIGNMENT,
    ("W_ir", "W_hr", "b_ir", "b_hr"),
    "sigmoid",
    "r",
    lambda: _oracle().torch_reset_gate,
)
UPDATE = gate_spec(
    "update_gate",
    ASSIGNMENT,
    ("W_iz", "W_hz", "b_iz", "b_hz"),
    "sigmoid",
    "z",
    lambda: _oracle().torch_update_gate,
)

# --- gru_candidate --------------------------------------------------------------------------------

CAND_ARGS = ("x", "h_prev", "r", "W_in", "W_hn", "b_in", "b_hn")


def _cand_inputs(zero=(), r=None, square=False, fixed=False):
    def make(rng):
        d = dict(VISIBLE) if fixed else random_dims(rng, square)
        B, D, H = d["B"], d["D"], d["H"]
        q = {
            "x": normal(rng, B, D),
            "h_prev": np.tanh(normal(rng, B, H)),
            "r": sig(normal(rng, B, H, scale=2.0)),
            "W_in": normal(rng, H, D, scale=0.6),
            "W_hn": normal(rng, H, H, scale=0.6),
            "b_in": normal(rng, H, scale=0.6),
            "b_hn": normal(rng, H, scale=0.6),
        }
        if r is not None:
            q["r"] = np.full((B, H), float(r))
        for k in zero:
            q[k] = np.zeros_like(q[k])
        return q

    return make


def _cand(q, form="torch", act=np.tanh, bias=True, Wt=False):
    W_hn = q["W_hn"].T if Wt else q["W_hn"]
    b_in, b_hn = (q["b_in"], q["b_hn"]) if bias else (0.0, 0.0)
    xpart = q["x"] @ q["W_in"].T + b_in
    if form == "torch":
        hpart = q["r"] * (q["h_prev"] @ W_hn.T + b_hn)
    elif form == "cho":
        hpart = (q["r"] * q["h_prev"]) @ W_hn.T + b_hn
    elif form == "no_bias_reset":
        hpart = q["r"] * (q["h_prev"] @ W_hn.T) + b_hn
    elif form == "no_b_hn":
        hpart = q["r"] * (q["h_prev"] @ W_hn.T)
    elif form == "reset_x":
        xpart = q["r"] * xpart
        hpart = q["h_prev"] @ W_hn.T + b_hn
    else:  # reset ignored
        hpart = q["h_prev"] @ W_hn.T + b_hn
    return act(xpart + hpart)


GRU_CANDIDATE = Spec(
    name="gru_candidate",
    assignment=ASSIGNMENT,
    args=CAND_ARGS,
    outputs="n",
    cases={
        "visible": Case("all terms, B=3, D=4, H=5", _cand_inputs(fixed=True)),
        "visible_reset_closed": Case(
            "r = 0: the previous state is shut out", _cand_inputs(r=0.0, fixed=True)
        ),
        "visible_prev_state_only": Case(
            "W_in = 0, b_in = 0: only r * (W_hn h_prev + b_hn)",
            _cand_inputs(("W_in", "b_in"), fixed=True),
        ),
        "random": Case("all terms, random sizes", _cand_inputs()),
        "square": Case("all terms, D == H", _cand_inputs(square=True)),
        "input_only": Case("only W_in x", _cand_inputs(("W_hn", "b_in", "b_hn"))),
        "bias_only": Case("W_in = W_hn = 0: only b_in + r * b_hn", _cand_inputs(("W_in", "W_hn"))),
        "prev_state_only": Case(
            "only r * (W_hn h_prev + b_hn), D == H", _cand_inputs(("W_in", "b_in"), square=True)
        ),
    },
    reference=lambda q: _oracle().torch_gru_candidate(**{k: q[k] for k in CAND_ARGS}),
    variants=[
        Variant("reset_before_matmul", lambda q: _cand(q, "cho")),
        Variant("reset_excludes_bias", lambda q: _cand(q, "no_bias_reset")),
        Variant("reset_ignored", lambda q: _cand(q, "ignored")),
        Variant("b_hn_dropped", lambda q: _cand(q, "no_b_hn")),
        Variant("reset_on_input", lambda q: _cand(q, "reset_x")),
        Variant("sigmoid_for_tanh", lambda q: _cand(q, act=sig)),
        Variant("activation_missing", lambda q: _cand(q, act=lambda a: a)),
        Variant("bias_dropped", lambda q: _cand(q, bias=False)),
        Variant("weight_transposed", lambda q: _cand(q, Wt=True), "Use h_prev @ W_hn.T."),
    ],
)

# --- gru_cell, gru_forward, cho_gru_cell ----------------------------------------------------------


def _params(rng, D, H):
    return gate_params(rng, D, H, GATES)


def _cell_inputs(square=False, fixed=False, zero_state=False):
    def make(rng):
        d = dict(VISIBLE) if fixed else random_dims(rng, square)
        B, D, H = d["B"], d["D"], d["H"]
        q = {
            "x": normal(rng, B, D),
            "h_prev": np.zeros((B, H)) if zero_state else np.tanh(normal(rng, B, H)),
        }
        return q | _params(rng, D, H)

    return make


def np_gru_cell(
    x, h, p, form="torch", flip=False, swap=False, act_n=np.tanh, bias=True, act_gate=sig
):
    """Numpy GRU step with optional mistakes (known-wrong variant generator)."""

    def pre(k):
        a = x @ p[f"W_i{k}"].T + h @ p[f"W_h{k}"].T
        return a + (p[f"b_i{k}"] + p[f"b_h{k}"] if bias else 0.0)

    r, z = act_gate(pre("r")), act_gate(pre("z"))
    if swap:
        r, z = z, r
    q = {
        "x": x,
        "h_prev": h,
        "r": r,
        "W_in": p["W_in"],
        "W_hn": p["W_hn"],
        "b_in": p["b_in"],
        "b_hn": p["b_hn"],
    }
    n = _cand(q, form, act=act_n, bias=bias)
    return z * n + (1 - z) * h if flip else (1 - z) * n + z * h


def _cell_variants(fn, base):
    other = "cho" if base == "torch" else "torch"
    key = "reset_before_matmul" if base == "torch" else "reset_after_matmul"
    return [
        Variant("update_gate_flipped", fn(form=base, flip=True)),
        Variant(key, fn(form=other)),
        Variant(
            "gates_swapped", fn(form=base, swap=True), "The reset and update gates are swapped."
        ),
        Variant("sigmoid_for_tanh", fn(form=base, act_n=sig), "The candidate n uses tanh."),
        Variant("tanh_for_sigmoid", fn(form=base, act_gate=np.tanh), "r and z use the sigmoid."),
        Variant("reset_ignored", fn(form="ignored")),
        Variant("bias_dropped", fn(form=base, bias=False)),
        *([Variant("b_hn_dropped", fn(form="no_b_hn"))] if base == "torch" else []),
    ]


def _cell_variant(**kw):
    return lambda q: np_gru_cell(q["x"], q["h_prev"], group(q, "p"), **kw)


GRU_CELL = Spec(
    name="gru_cell",
    assignment=ASSIGNMENT,
    args=("x", "h_prev", "p"),
    outputs="h",
    cases={
        "visible": Case("B=3, D=4, H=5", _cell_inputs(fixed=True)),
        "random": Case("random sizes", _cell_inputs()),
        "square": Case("random sizes, D == H", _cell_inputs(square=True)),
        "zero_state": Case("h_prev = 0", _cell_inputs(zero_state=True)),
    },
    reference=lambda q: _oracle().torch_gru_cell(q["x"], q["h_prev"], group(q, "p")),
    variants=_cell_variants(_cell_variant, "torch"),
)

CHO_GRU_CELL = Spec(
    name="cho_gru_cell",
    assignment=ASSIGNMENT,
    args=("x", "h_prev", "p"),
    outputs="h",
    cases={
        "visible": Case("B=3, D=4, H=5", _cell_inputs(fixed=True)),
        "random": Case("random sizes", _cell_inputs()),
        "square": Case("random sizes, D == H", _cell_inputs(square=True)),
    },
    reference=lambda q: _oracle().torch_cho_gru_cell(q["x"], q["h_prev"], group(q, "p")),
    variants=_cell_variants(_cell_variant, "cho"),
)


def _seq_inputs(square=False, fixed=False):
    def make(rng):
        d = dict(VISIBLE) if fixed else random_dims(rng, square)
        T, B, D, H = d["T"], d["B"], d["D"], d["H"]
        return {"xs": normal(rng, T, B, D), "h0": np.tanh(normal(rng, B, H))} | _params(rng, D, H)

    return make


def np_gru_sequence(q, carry=True, start=None, initial=None, **kw):
    p = group(q, "p")
    h0 = q["h0"] if start is None else start
    h, hs = h0, []
    for x in q["xs"]:
        h = np_gru_cell(x, h if carry else h0, p, **kw)
        hs.append(h)
    if initial == "with":
        return np.stack([h0, *hs])
    if initial == "shift":
        return np.stack([h0, *hs[:-1]])
    return np.stack(hs)


def _seq_variant(**kw):
    return lambda q: np_gru_sequence(q, **kw)


GRU_FORWARD = Spec(
    name="gru_forward",
    assignment=ASSIGNMENT,
    args=("xs", "h0", "p"),
    outputs="hs",
    cases={
        "visible": Case("T=4, B=3, D=4, H=5", _seq_inputs(fixed=True)),
        "random": Case("random sizes", _seq_inputs()),
        "square": Case("random sizes, D == H", _seq_inputs(square=True)),
    },
    reference=lambda q: _oracle().torch_gru_forward(q["xs"], q["h0"], group(q, "p"))[0],
    variants=[
        Variant("h_t_for_h_prev", _seq_variant(carry=False), "Every step used h0."),
        Variant("h0_ignored", lambda q: np_gru_sequence(q, start=np.zeros_like(q["h0"]))),
        Variant("off_by_one", _seq_variant(initial="shift")),
        Variant("includes_initial_state", _seq_variant(initial="with")),
        Variant(
            "batch_major",
            lambda q: np_gru_sequence(q).transpose(1, 0, 2),
            "You returned (B, T, H); return hs as (T, B, H).",
            partial=False,
        ),
        *_cell_variants(_seq_variant, "torch"),
    ],
)

SPECS = [RESET, UPDATE, GRU_CANDIDATE, GRU_CELL, GRU_FORWARD, CHO_GRU_CELL]
