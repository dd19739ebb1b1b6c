"""a06_gru_backward: the GRU backward gate by gate, a cell, and BPTT, checked by torch autograd.

Each piece's reference is torch autograd (float64) of that piece's formula alone (the blend
eq-gru-h, the candidate eq-gru-n, a sigmoid gate eq-gru-r / eq-gru-z), or of `torch.nn.GRU`
for the cell and the sequence. The known-wrong variants below are numpy (they are mistakes).
"""

import numpy as np

from rnnscratch.exercises import a05_gru
from rnnscratch.exercises.a04_lstm_backward import HALF_SIGMOID
from rnnscratch.exercises.common import VISIBLE, normal, random_dims, sig
from rnnscratch.exercises.plain import group
from rnnscratch.exercises.spec import Case, Spec, Variant

ASSIGNMENT = "a06_gru_backward"
GATES = ("r", "z", "n")
KEYS = tuple(f"{w}{g}" for w in ("W_i", "W_h", "b_i", "b_h") for g in GATES)


def _oracle():
    from rnnscratch.oracle import gru

    return gru


def _dims(rng, fixed, square=False):
    return dict(VISIBLE) if fixed else random_dims(rng, square)


# --- blend_backward: h = (1 - z) * n + z * h_prev -------------------------------------------------


def _blend_inputs(z=None, fixed=False):
    def make(rng):
        d = _dims(rng, fixed)
        B, H = d["B"], d["H"]
        q = {
            "dh": normal(rng, B, H),
            "h_prev": np.tanh(normal(rng, B, H)),
            "z": sig(normal(rng, B, H, scale=2.0)),
            "n": np.tanh(normal(rng, B, H)),
        }
        if z is not None:
            q["z"] = np.full((B, H), float(z))
        return q

    return make


def np_blend_backward(dh, h_prev, z, n, *, reverse=False, one_minus_z=True, sign=1.0, direct=True):
    """Numpy backward of the blend with optional mistakes -> (dn, dz, dh_prev)."""
    keep, take = (1 - z, z) if reverse else (z, 1 - z)
    dn = dh * take if one_minus_z else dh
    dz = sign * dh * (h_prev - n)
    dh_prev = dh * keep if direct else np.zeros_like(dh)
    return dn, dz, dh_prev


def _blend_variant(**kw):
    return lambda q: np_blend_backward(q["dh"], q["h_prev"], q["z"], q["n"], **kw)


BLEND_BACKWARD = Spec(
    name="blend_backward",
    assignment=ASSIGNMENT,
    args=("dh", "h_prev", "z", "n"),
    outputs=("dn", "dz", "dh_prev"),
    cases={
        "visible": Case("B=3, H=5", _blend_inputs(fixed=True)),
        "visible_update_closed": Case(
            "z = 0: h is the candidate, h_prev gets nothing directly",
            _blend_inputs(z=0.0, fixed=True),
        ),
        "visible_update_open": Case(
            "z = 1: h copies h_prev, the candidate gets nothing", _blend_inputs(z=1.0, fixed=True)
        ),
        "random": Case("random sizes", _blend_inputs()),
        "update_closed": Case("z = 0, random sizes", _blend_inputs(z=0.0)),
        "update_open": Case("z = 1, random sizes", _blend_inputs(z=1.0)),
    },
    reference=lambda q: _oracle().torch_blend_grads(q["dh"], q["h_prev"], q["z"], q["n"]),
    variants=[
        Variant("blend_reversed_backward", _blend_variant(reverse=True)),
        Variant("one_minus_z_missing", _blend_variant(one_minus_z=False)),
        Variant("dz_sign_flipped", _blend_variant(sign=-1.0)),
        Variant("direct_path_missing", _blend_variant(direct=False)),
    ],
)

# --- gru_candidate_backward: n = tanh(W_in x + b_in + r * (W_hn h_prev + b_hn)) ---

CAND_ARGS = ("dn", "x", "h_prev", "r", "n", "W_in", "W_hn", "b_hn")


def _cand_inputs(zero=(), r=None, square=False, fixed=False):
    """a05's candidate inputs (the forward's), then the incoming gradient dn and the forward's n."""
    forward = a05_gru._cand_inputs(zero, r, square, fixed)

    def make(rng):
        q = forward(rng)
        q["dn"] = normal(rng, *q["h_prev"].shape)
        q["n"] = _oracle().torch_gru_candidate(
            q["x"], q["h_prev"], q["r"], q["W_in"], q["W_hn"], q["b_in"], q["b_hn"]
        )
        return q

    return make


def np_candidate_backward(
    dn,
    x,
    h_prev,
    r,
    n,
    W_in,
    W_hn,
    b_hn,
    *,
    tanh_deriv="ok",
    form="torch",
    dr_bias=True,
    scale_b=True,
    scale_hidden=True,
    db_sum=True,
    W_t=False,
    dW_t=False,
):
    """Numpy backward of the candidate with optional mistakes -> dict of gradients."""
    if tanh_deriv == "ok":
        da = dn * (1 - n**2)
    elif tanh_deriv == "not_squared":
        da = dn * (1 - n)
    elif tanh_deriv == "again":
        da = dn * (1 - np.tanh(n) ** 2)
    else:
        da = dn
    if W_t:  # the weights used transposed in the backward pass (square sizes only)
        W_in, W_hn = W_in.T, W_hn.T
    hn = h_prev @ W_hn.T + (b_hn if dr_bias else 0.0)
    if form == "cho":  # the reset gate treated as if it scaled h_prev before the matmul
        dq = da @ W_hn
        dr = dq * h_prev
        dh_prev = dq * r
        dW_hn = da.T @ (r * h_prev)
    else:
        dhn = da * r if scale_hidden else da
        dr = da * hn
        dh_prev = dhn @ W_hn
        dW_hn = h_prev.T @ dhn if dW_t else dhn.T @ h_prev
    dhn_b = da * r if (scale_b and scale_hidden) else da
    out = {
        "dx": da @ W_in,
        "dh_prev": dh_prev,
        "dr": dr,
        "dW_in": x.T @ da if dW_t else da.T @ x,
        "dW_hn": dW_hn,
        "db_in": da.sum(0) if db_sum else da,
        "db_hn": dhn_b.sum(0) if db_sum else dhn_b,
    }
    return out


def _cand_variant(**kw):
    return lambda q: np_candidate_backward(*(q[k] for k in CAND_ARGS), **kw)


def _cand_reference(q):
    args = ("dn", "x", "h_prev", "r", "W_in", "W_hn", "b_in", "b_hn")
    return _oracle().torch_candidate_grads(*(q[k] for k in args))


CANDIDATE_BACKWARD = Spec(
    name="gru_candidate_backward",
    assignment=ASSIGNMENT,
    args=CAND_ARGS,
    outputs=None,
    cases={
        "visible": Case("all terms, B=3, D=4, H=5", _cand_inputs(fixed=True)),
        "visible_reset_closed": Case(
            "r = 0: W_hn, b_hn and h_prev get no gradient through n",
            _cand_inputs(r=0.0, fixed=True),
        ),
        "visible_bias_only": Case(
            "W_in = W_hn = 0: only the biases act", _cand_inputs(("W_in", "W_hn"), fixed=True)
        ),
        "random": Case("all terms, random sizes", _cand_inputs()),
        "square": Case("all terms, D == H", _cand_inputs(square=True)),
        "reset_closed": Case("r = 0, random sizes", _cand_inputs(r=0.0)),
        "reset_open": Case("r = 1, random sizes, D == H", _cand_inputs(r=1.0, square=True)),
        "bias_only": Case("W_in = W_hn = 0, random sizes", _cand_inputs(("W_in", "W_hn"))),
    },
    reference=_cand_reference,
    variants=[
        Variant("tanh_derivative_missing", _cand_variant(tanh_deriv="missing")),
        Variant("derivative_not_squared", _cand_variant(tanh_deriv="not_squared")),
        Variant("reset_grad_before_matmul", _cand_variant(form="cho")),
        Variant("reset_grad_excludes_bias", _cand_variant(dr_bias=False)),
        Variant("b_hn_grad_not_scaled", _cand_variant(scale_b=False)),
        Variant("reset_not_in_hidden_grads", _cand_variant(scale_hidden=False)),
        Variant("bias_grad_not_summed", _cand_variant(db_sum=False)),
        Variant("derivative_of_output", _cand_variant(tanh_deriv="again")),
        Variant("backward_weight_transposed", _cand_variant(W_t=True)),
        Variant("gradient_transposed", _cand_variant(dW_t=True)),
    ],
)

# --- reset_gate_backward, update_gate_backward: s = sigmoid(W_x x + b_x + W_h h_prev + b_h) -----


def _gate_inputs(gate, zero=(), square=False, fixed=False):
    def make(rng):
        d = _dims(rng, fixed, square)
        B, D, H = d["B"], d["D"], d["H"]
        q = {
            f"d{gate}": normal(rng, B, H),
            "x": normal(rng, B, D),
            "h_prev": np.tanh(normal(rng, B, H)),
            f"W_i{gate}": normal(rng, H, D, scale=0.6),
            f"W_h{gate}": normal(rng, H, H, scale=0.6),
            f"b_i{gate}": normal(rng, H, scale=0.6),
            f"b_h{gate}": normal(rng, H, scale=0.6),
        }
        for k in zero:
            q[k] = np.zeros_like(q[k])
        # both gates are sigmoid(W_x x + b_x + W_h h + b_h): one torch formula serves r and z
        q[gate] = _oracle().torch_reset_gate(
            q["x"], q["h_prev"], *(q[f"{w}{gate}"] for w in ("W_i", "W_h", "b_i", "b_h"))
        )
        return q

    return make


def np_gate_backward(
    ds, x, h_prev, s, W_x, W_h, *, deriv="ok", dW_t=False, db_sum=True, swap=False, W_t=False
):
    """Numpy backward of a sigmoid gate with optional mistakes -> (dx, dh_prev, dW_x, dW_h, db)."""
    if deriv == "ok":
        da = ds * s * (1 - s)
    elif deriv == "tanh":
        da = ds * (1 - s**2)
    elif deriv == "no_s":
        da = ds * (1 - s)
    elif deriv == "no_1ms":
        da = ds * s
    else:
        da = ds
    Wx, Wh = (W_h, W_x) if swap else (W_x, W_h)
    if W_t:  # the weights used transposed in the backward pass (square sizes only)
        Wx, Wh = Wx.T, Wh.T
    dW_x = x.T @ da if dW_t else da.T @ x
    dW_h = h_prev.T @ da if dW_t else da.T @ h_prev
    db = da.sum(0) if db_sum else da
    return da @ Wx, da @ Wh, dW_x, dW_h, db


def _gate_spec(gate, title):
    names = tuple(f"{w}{gate}" for w in ("W_i", "W_h", "b_i", "b_h"))
    wx, wh, bx, bh = names
    args = (f"d{gate}", "x", "h_prev", gate, wx, wh)

    def variant(**kw):
        def compute(q):
            dx, dh, dWx, dWh, db = np_gate_backward(*(q[k] for k in args), **kw)
            return {"dx": dx, "dh_prev": dh, f"d{wx}": dWx, f"d{wh}": dWh, f"d{bx}": db} | {
                f"d{bh}": db
            }

        return compute

    def reference(q):
        out = _oracle().torch_gate_grads(*(q[k] for k in (f"d{gate}", "x", "h_prev", *names)))
        return {"dx": out["dx"], "dh_prev": out["dh_prev"]} | {
            f"d{wx}": out["dW_x"],
            f"d{wh}": out["dW_h"],
            f"d{bx}": out["db_x"],
            f"d{bh}": out["db_h"],
        }

    def make(zero=(), square=False, fixed=False):
        return _gate_inputs(gate, zero, square, fixed)

    return Spec(
        name=f"{title}_gate_backward",
        assignment=ASSIGNMENT,
        args=args,
        outputs=None,
        cases={
            "visible": Case("all terms, B=3, D=4, H=5", make(fixed=True)),
            "visible_bias_only": Case(
                f"{wx} = {wh} = 0: only the biases act", make((wx, wh), fixed=True)
            ),
            "random": Case("all terms, random sizes", make()),
            "square": Case("all terms, D == H", make(square=True)),
            "bias_only": Case(f"{wx} = {wh} = 0, random sizes", make((wx, wh))),
        },
        reference=reference,
        variants=[
            Variant("sigmoid_derivative_wrong", variant(deriv="missing")),
            Variant("tanh_derivative_for_sigmoid", variant(deriv="tanh")),
            *(Variant("sigmoid_derivative_wrong", variant(deriv=k), n) for k, n in HALF_SIGMOID),
            Variant("gradient_transposed", variant(dW_t=True)),
            Variant("bias_grad_not_summed", variant(db_sum=False)),
            Variant("weights_swapped", variant(swap=True), f"dx uses {wx}, dh_prev uses {wh}."),
            Variant("backward_weight_transposed", variant(W_t=True)),
        ],
    )


RESET_BACKWARD = _gate_spec("r", "reset")
UPDATE_BACKWARD = _gate_spec("z", "update")

# --- gru_cell_backward ----------------------------------------------------------------------------


def _params(rng, D, H):
    out = {}
    for g in GATES:
        out[f"p.W_i{g}"] = normal(rng, H, D, scale=0.6)
        out[f"p.W_h{g}"] = normal(rng, H, H, scale=0.6)
        out[f"p.b_i{g}"] = normal(rng, H, scale=0.5)
        out[f"p.b_h{g}"] = normal(rng, H, scale=0.5)
    return out


def _torch_gates(x, h_prev, p):
    o = _oracle()
    r = o.torch_reset_gate(x, h_prev, p["W_ir"], p["W_hr"], p["b_ir"], p["b_hr"])
    z = o.torch_update_gate(x, h_prev, p["W_iz"], p["W_hz"], p["b_iz"], p["b_hz"])
    n = o.torch_gru_candidate(x, h_prev, r, p["W_in"], p["W_hn"], p["b_in"], p["b_hn"])
    return {"r": r, "z": z, "n": n}


def _cell_inputs(square=False, fixed=False):
    def make(rng):
        d = _dims(rng, fixed, square)
        B, D, H = d["B"], d["D"], d["H"]
        q = {"dh": normal(rng, B, H), "x": normal(rng, B, D), "h_prev": np.tanh(normal(rng, B, H))}
        q |= _params(rng, D, H)
        gates = _torch_gates(q["x"], q["h_prev"], group(q, "p"))
        return q | {f"gates.{k}": v for k, v in gates.items()}

    return make


def _cell_reference(q):
    out = _oracle().torch_gru_grads(q["x"][None], q["h_prev"], group(q, "p"), q["dh"][None])
    return {"dx": out["dxs"][0], "dh_prev": out["dh0"]} | {f"d{k}": out[f"d{k}"] for k in KEYS}


def np_cell_backward(dh, x, h_prev, gates, p, *, blend=None, cand=None, gate=None, swap=False):
    """Numpy GRU step backward built from the pieces, each with optional mistakes."""
    r, z, n = gates["r"], gates["z"], gates["n"]
    dn, dz, dh_prev = np_blend_backward(dh, h_prev, z, n, **(blend or {}))
    c = np_candidate_backward(dn, x, h_prev, r, n, p["W_in"], p["W_hn"], p["b_hn"], **(cand or {}))
    dr = c["dr"]
    if swap:
        dr, dz = dz, dr
    out = {"dW_in": c["dW_in"], "dW_hn": c["dW_hn"], "db_in": c["db_in"], "db_hn": c["db_hn"]}
    dx, dh_prev = c["dx"], dh_prev + c["dh_prev"]
    for k, ds in (("r", dr), ("z", dz)):
        s = gates[k]
        gx, gh, dWx, dWh, db = np_gate_backward(
            ds, x, h_prev, s, p[f"W_i{k}"], p[f"W_h{k}"], **(gate or {})
        )
        dx, dh_prev = dx + gx, dh_prev + gh
        out |= {f"dW_i{k}": dWx, f"dW_h{k}": dWh, f"db_i{k}": db, f"db_h{k}": db}
    return {"dx": dx, "dh_prev": dh_prev} | out


def _cell_variant(**kw):
    return lambda q: np_cell_backward(
        q["dh"], q["x"], q["h_prev"], group(q, "gates"), group(q, "p"), **kw
    )


def _cell_variants(fn):
    return [
        Variant("blend_reversed_backward", fn(blend={"reverse": True})),
        Variant("one_minus_z_missing", fn(blend={"one_minus_z": False})),
        Variant("dz_sign_flipped", fn(blend={"sign": -1.0})),
        Variant("direct_path_missing", fn(blend={"direct": False})),
        Variant("tanh_derivative_missing", fn(cand={"tanh_deriv": "missing"})),
        Variant("reset_grad_before_matmul", fn(cand={"form": "cho"})),
        Variant("reset_grad_excludes_bias", fn(cand={"dr_bias": False})),
        Variant("b_hn_grad_not_scaled", fn(cand={"scale_b": False})),
        Variant("reset_not_in_hidden_grads", fn(cand={"scale_hidden": False})),
        Variant("sigmoid_derivative_wrong", fn(gate={"deriv": "missing"})),
        Variant("tanh_derivative_for_sigmoid", fn(gate={"deriv": "tanh"})),
        Variant("derivative_not_squared", fn(cand={"tanh_deriv": "not_squared"})),
        Variant("derivative_of_output", fn(cand={"tanh_deriv": "again"})),
        Variant("backward_weight_transposed", fn(cand={"W_t": True}, gate={"W_t": True})),
        Variant("gradient_transposed", fn(cand={"dW_t": True}, gate={"dW_t": True})),
        *(Variant("sigmoid_derivative_wrong", fn(gate={"deriv": k}), n) for k, n in HALF_SIGMOID),
        Variant("gates_swapped", fn(swap=True), "The gradients of r and z are swapped."),
        Variant("bias_grad_not_summed", fn(gate={"db_sum": False}, cand={"db_sum": False})),
    ]


GRU_CELL_BACKWARD = Spec(
    name="gru_cell_backward",
    assignment=ASSIGNMENT,
    args=("dh", "x", "h_prev", "gates", "p"),
    outputs=None,
    cases={
        "visible": Case("B=3, D=4, H=5", _cell_inputs(fixed=True)),
        "random": Case("random sizes", _cell_inputs()),
        "square": Case("random sizes, D == H", _cell_inputs(square=True)),
    },
    reference=_cell_reference,
    variants=_cell_variants(_cell_variant),
)

# --- gru_backward ---------------------------------------------------------------------------------


def _seq_inputs(square=False, fixed=False):
    def make(rng):
        d = _dims(rng, fixed, square)
        T, B, D, H = d["T"], d["B"], d["D"], d["H"]
        q = {"dhs": normal(rng, T, B, H), "xs": normal(rng, T, B, D)}
        q["h0"] = np.tanh(normal(rng, B, H))
        q |= _params(rng, D, H)
        p = group(q, "p")
        h, hs, gs = q["h0"], [], {k: [] for k in GATES}
        for x in q["xs"]:
            step = _torch_gates(x, h, p)
            h = (1 - step["z"]) * step["n"] + step["z"] * h
            hs.append(h)
            for k in GATES:
                gs[k].append(step[k])
        q["hs"] = np.stack(hs)
        return q | {f"gates.{k}": np.stack(v) for k, v in gs.items()}

    return make


def _seq_reference(q):
    out = _oracle().torch_gru_grads(q["xs"], q["h0"], group(q, "p"), q["dhs"])
    return {"dxs": out["dxs"], "dh0": out["dh0"]} | {f"d{k}": out[f"d{k}"] for k in KEYS}


def np_bptt(q, carry=True, accumulate=True, dh0=True, h_t=False, **kw):
    """Numpy GRU BPTT with optional mistakes (a known-wrong variant generator)."""
    p, gates = group(q, "p"), group(q, "gates")
    dh_next = np.zeros_like(q["h0"])
    out = {"dxs": np.zeros_like(q["xs"])} | {f"d{k}": np.zeros_like(p[k]) for k in KEYS}
    for t in reversed(range(q["xs"].shape[0])):
        h_prev = q["hs"][t - 1] if t else q["h0"]
        if h_t:
            h_prev = q["hs"][t]
        g = np_cell_backward(
            q["dhs"][t] + dh_next,
            q["xs"][t],
            h_prev,
            {k: v[t] for k, v in gates.items()},
            p,
            **kw,
        )
        out["dxs"][t] = g["dx"]
        dh_next = g["dh_prev"] if carry else np.zeros_like(dh_next)
        for k in KEYS:
            out[f"d{k}"] = out[f"d{k}"] + g[f"d{k}"] if accumulate else g[f"d{k}"]
    out["dh0"] = g["dh_prev"] if dh0 else np.zeros_like(q["h0"])
    return out


def _seq_variant(**kw):
    return lambda q: np_bptt(q, **kw)


GRU_BACKWARD = Spec(
    name="gru_backward",
    assignment=ASSIGNMENT,
    args=("dhs", "xs", "h0", "hs", "gates", "p"),
    outputs=None,
    cases={
        "visible": Case("T=4, B=3, D=4, H=5", _seq_inputs(fixed=True)),
        "random": Case("random sizes", _seq_inputs()),
        "square": Case("random sizes, D == H", _seq_inputs(square=True)),
    },
    reference=_seq_reference,
    variants=[
        Variant("gradient_not_carried", _seq_variant(carry=False)),
        Variant("gradient_not_accumulated", _seq_variant(accumulate=False)),
        Variant("dh0_missing", _seq_variant(dh0=False)),
        Variant("h_t_for_h_prev", _seq_variant(h_t=True), "Step t pairs with h_{t-1}."),
        *_cell_variants(_seq_variant),
    ],
)

SPECS = [
    BLEND_BACKWARD,
    CANDIDATE_BACKWARD,
    RESET_BACKWARD,
    UPDATE_BACKWARD,
    GRU_CELL_BACKWARD,
    GRU_BACKWARD,
]
