"""a04_lstm_backward: each gate's backward, the cell path, the parameter gradients, one LSTM
step backward and BPTT through an LSTM -- every piece checked by torch autograd in float64."""

import numpy as np

from rnnscratch.exercises.common import normal
from rnnscratch.exercises.lstm_common import GATES, KEYS, dims, lstm_oracle, params
from rnnscratch.exercises.plain import group
from rnnscratch.exercises.spec import Case, Spec, Variant

ASSIGNMENT = "a04_lstm_backward"


def _forward_step(x, h_prev, c_prev, p):
    """Gates and c of one step, computed by the torch per-gate oracles."""
    o = lstm_oracle()
    gates = {
        "i": o.torch_input_gate(x, h_prev, p["W_ii"], p["W_hi"], p["b_ii"], p["b_hi"]),
        "f": o.torch_forget_gate(x, h_prev, p["W_if"], p["W_hf"], p["b_if"], p["b_hf"]),
        "g": o.torch_candidate(x, h_prev, p["W_ig"], p["W_hg"], p["b_ig"], p["b_hg"]),
        "o": o.torch_output_gate(x, h_prev, p["W_io"], p["W_ho"], p["b_io"], p["b_ho"]),
    }
    c = o.torch_cell_update(gates["f"], gates["i"], gates["g"], c_prev)
    return gates, c, o.torch_hidden_update(gates["o"], c)


# --- the pieces of one step, each its own exercise -----------------------------------------------
#
# Every reference below is torch autograd in float64 on the piece's own forward formula: the
# gradient with respect to a leaf tensor, never a hand-derived formula.


def _torch():
    import torch

    return torch


def _t(a):
    torch = _torch()
    return torch.tensor(np.asarray(a, dtype=np.float64), dtype=torch.float64, requires_grad=True)


def _np(t):
    return t.detach().numpy()


def _bh(rng, fixed):
    d = dims(rng, fixed)
    return d["B"], d["H"]


def _piece_inputs(names, fixed=False, zero=()):
    """Gate values from random pre-activations (kept under probe.*), upstream gradients."""

    def make(rng):
        B, H = _bh(rng, fixed)
        q = {}
        for n in names:
            if n in ("dh", "dc", "dc_t", "c_prev", "c"):
                q[n] = normal(rng, B, H)
            else:  # a gate value: sigmoid (or tanh for g) of a stored pre-activation
                a = normal(rng, B, H, scale=1.5)
                q[f"probe.a_{n}"] = a
                q[n] = np.tanh(a) if n == "g" else 1.0 / (1.0 + np.exp(-a))
        for n in zero:
            q[n] = np.zeros_like(q[n])
        return q

    return make


def _piece_cases(names, isolate=()):
    cases = {
        "visible": Case("B=3, H=5", _piece_inputs(names, fixed=True)),
        "random": Case("random sizes", _piece_inputs(names)),
    }
    for n, about in isolate:
        cases[f"visible_no_{n}"] = Case(about, _piece_inputs(names, fixed=True, zero=(n,)))
        cases[f"no_{n}"] = Case(about + ", random sizes", _piece_inputs(names, zero=(n,)))
    return cases


def _gate_grad(q, gate, loss):
    """d loss / d a_gate by autograd, the gate recomputed from its stored pre-activation."""
    torch = _torch()
    a = _t(q[f"probe.a_{gate}"])
    value = torch.tanh(a) if gate == "g" else torch.sigmoid(a)
    loss(value).backward()
    return _np(a.grad)


def _tt(q, k):
    return _torch().tensor(q[k], dtype=_torch().float64)


# cell path: dc_t = dc + dh * o * tanh'(c), dc_prev = dc_t * f  (c = f * c_prev + i * g)


def _cell_state_reference(q):
    torch = _torch()
    c, c_prev = _t(q["c"]), _t(q["c_prev"])
    f = _tt(q, "f")
    c_t = f * c_prev + (c - f * c_prev).detach()  # the value is c; d c_t / d c_prev = f
    c_t.retain_grad()
    loss = (_tt(q, "dh") * _tt(q, "o") * torch.tanh(c_t)).sum() + (_tt(q, "dc") * c_t).sum()
    loss.backward()
    return _np(c_t.grad), _np(c_prev.grad)


def _np_cell_state(
    q, cell_tanh=True, forget=True, carry=True, swap=False, use_o=True, prev_gate="f"
):
    tc = np.tanh(q["c"])
    o = q["o"] if use_o else 1.0
    dc_t = (q["dc"] if carry else 0.0) + q["dh"] * o * ((1 - tc**2) if cell_tanh else 1.0)
    dc_prev = dc_t * q[prev_gate] if forget else dc_t
    return (dc_prev, dc_t) if swap else (dc_t, dc_prev)


CELL_STATE_BACKWARD = Spec(
    name="cell_state_backward",
    assignment=ASSIGNMENT,
    args=("dh", "dc", "c", "o", "f"),
    outputs=("dc_t", "dc_prev"),
    cases=_piece_cases(
        ("dh", "dc", "c", "o", "f", "c_prev"),
        isolate=(("dc", "dc = 0: only the path from h"), ("dh", "dh = 0: only the carried dc")),
    ),
    reference=_cell_state_reference,
    variants=[
        Variant("cell_tanh_derivative_missing", lambda q: _np_cell_state(q, cell_tanh=False)),
        Variant("forget_gate_not_applied", lambda q: _np_cell_state(q, forget=False)),
        Variant(
            "forget_gate_not_applied",
            lambda q: _np_cell_state(q, prev_gate="o"),
            "You multiplied by o; c_t = f * c_prev + i * g, so the factor is f.",
        ),
        Variant(
            "cell_gradient_not_carried",
            lambda q: _np_cell_state(q, carry=False),
            "dc_t = dc + dh * o * (1 - tanh(c)**2): add the dc that arrives from step t+1.",
        ),
        Variant(
            "outputs_swapped",
            lambda q: _np_cell_state(q, swap=True),
            "Return (dc_t, dc_prev).",
            partial=False,
        ),
        Variant(
            "chain_factor_missing",
            lambda q: _np_cell_state(q, use_o=False),
            "h = o * tanh(c): the path from h to c is dh * o * (1 - tanh(c)**2).",
        ),
    ],
    backward=True,
)

# the gates: each returns the gradient at its pre-activation (before the nonlinearity)


def _sig_d(s, kind):
    again = 1.0 / (1.0 + np.exp(-s))
    return {
        "ok": s * (1 - s),
        "missing": 1.0,
        "tanh": 1 - s**2,
        "again": again * (1 - again),
        "no_s": 1 - s,
        "no_1ms": s,
    }[kind]


#: sigmoid'(a) = s * (1 - s) with one of its two factors dropped (a chain-rule factor missing)
HALF_SIGMOID = (
    ("no_s", "The factor s of sigmoid' = s * (1 - s) is missing (you multiply by (1 - s) only)."),
    ("no_1ms", "The factor (1 - s) of sigmoid' = s * (1 - s) is missing (you multiply by s only)."),
)


def _gate_variants(fn, name, other_factor, factor_note):
    return [
        Variant("sigmoid_derivative_wrong", fn(kind="missing"), "The derivative is missing."),
        Variant("sigmoid_derivative_tanh", fn(kind="tanh")),
        Variant(
            "gates_swapped", fn(factor=other_factor), f"d{name} multiplies by the wrong value."
        ),
        Variant("chain_factor_missing", fn(factor="one"), factor_note),
        Variant("derivative_of_output", fn(kind="again")),
        *(Variant("sigmoid_derivative_wrong", fn(kind=k), note) for k, note in HALF_SIGMOID),
    ]


def _f(q, factor):
    return 1.0 if factor == "one" else q[factor]


def _np_forget(q, kind="ok", factor="c_prev"):
    return q["dc_t"] * _f(q, factor) * _sig_d(q["f"], kind)


def _np_input(q, kind="ok", factor="g"):
    return q["dc_t"] * _f(q, factor) * _sig_d(q["i"], kind)


def _np_candidate(q, kind="ok", factor="i"):
    g = q["g"]
    local = {"ok": 1 - g**2, "missing": 1.0, "sigmoid": g * (1 - g), "again": 1 - np.tanh(g) ** 2}[
        kind
    ]
    return q["dc_t"] * _f(q, factor) * local


def _np_output(q, kind="ok", factor="tanh_c", extra=False):
    tc = np.tanh(q["c"])
    value = {"tanh_c": tc, "c": q["c"], "one": 1.0}[factor]
    return q["dh"] * value * _sig_d(q["o"], kind) * ((1 - tc**2) if extra else 1.0)


def _fn(np_fn):
    return lambda **kw: lambda q: np_fn(q, **kw)


FORGET_BACKWARD = Spec(
    name="forget_gate_backward",
    assignment=ASSIGNMENT,
    args=("dc_t", "c_prev", "f"),
    outputs="da_f",
    cases=_piece_cases(("dc_t", "c_prev", "f")),
    reference=lambda q: _gate_grad(q, "f", lambda f: (_tt(q, "dc_t") * f * _tt(q, "c_prev")).sum()),
    variants=_gate_variants(_fn(_np_forget), "f", "f", "df = dc_t * c_prev."),
    backward=True,
)

INPUT_BACKWARD = Spec(
    name="input_gate_backward",
    assignment=ASSIGNMENT,
    args=("dc_t", "g", "i"),
    outputs="da_i",
    cases=_piece_cases(("dc_t", "g", "i")),
    reference=lambda q: _gate_grad(q, "i", lambda i: (_tt(q, "dc_t") * i * _tt(q, "g")).sum()),
    variants=_gate_variants(_fn(_np_input), "i", "i", "di = dc_t * g."),
    backward=True,
)

CANDIDATE_BACKWARD = Spec(
    name="candidate_backward",
    assignment=ASSIGNMENT,
    args=("dc_t", "i", "g"),
    outputs="da_g",
    cases=_piece_cases(("dc_t", "i", "g")),
    reference=lambda q: _gate_grad(q, "g", lambda g: (_tt(q, "dc_t") * _tt(q, "i") * g).sum()),
    variants=[
        Variant("tanh_derivative_missing", _fn(_np_candidate)(kind="missing"), "dg * (1 - g**2)."),
        Variant("candidate_derivative_wrong", _fn(_np_candidate)(kind="sigmoid")),
        Variant("gates_swapped", _fn(_np_candidate)(factor="g"), "dg = dc_t * i, not dc_t * g."),
        Variant("chain_factor_missing", _fn(_np_candidate)(factor="one"), "dg = dc_t * i."),
        Variant("derivative_of_output", _fn(_np_candidate)(kind="again")),
    ],
    backward=True,
)

OUTPUT_BACKWARD = Spec(
    name="output_gate_backward",
    assignment=ASSIGNMENT,
    args=("dh", "c", "o"),
    outputs="da_o",
    cases=_piece_cases(("dh", "c", "o")),
    reference=lambda q: _gate_grad(
        q, "o", lambda o: (_tt(q, "dh") * o * _torch().tanh(_tt(q, "c"))).sum()
    ),
    variants=[
        *_gate_variants(_fn(_np_output), "o", "c", "do = dh * tanh(c).")[:2],
        *(Variant("sigmoid_derivative_wrong", _fn(_np_output)(kind=k), n) for k, n in HALF_SIGMOID),
        Variant("derivative_of_output", _fn(_np_output)(kind="again")),
        Variant("output_gate_uses_c", _fn(_np_output)(factor="c")),
        Variant("chain_factor_missing", _fn(_np_output)(factor="one"), "do = dh * tanh(c)."),
        Variant(
            "extra_derivative",
            _fn(_np_output)(extra=True),
            "o multiplies tanh(c): do = dh * tanh(c), with no tanh'(c) (that factor belongs "
            "to the path from h to c).",
        ),
    ],
    backward=True,
)

# parameter gradients of one gate's affine map a = x W_i^T + b_i + h_prev W_h^T + b_h


def _affine_inputs(square=False, fixed=False, zero=()):
    def make(rng):
        d = dims(rng, fixed, square)
        B, D, H = d["B"], d["D"], d["H"]
        q = {
            "da": normal(rng, B, H),
            "x": normal(rng, B, D),
            "h_prev": np.tanh(normal(rng, B, H)),
            "W_i": normal(rng, H, D, scale=0.6),
            "W_h": normal(rng, H, H, scale=0.6),
        }
        for k in zero:
            q[k] = np.zeros_like(q[k])
        return q

    return make


def _affine_reference(q):
    x, h, W_i, W_h = (_t(q[k]) for k in ("x", "h_prev", "W_i", "W_h"))
    H = q["W_h"].shape[0]
    b_i, b_h = _t(np.zeros(H)), _t(np.zeros(H))
    a = x @ W_i.T + b_i + h @ W_h.T + b_h
    (_tt(q, "da") * a).sum().backward()
    return {
        "dx": _np(x.grad),
        "dh_prev": _np(h.grad),
        "dW_i": _np(W_i.grad),
        "dW_h": _np(W_h.grad),
        "db_i": _np(b_i.grad),
        "db_h": _np(b_h.grad),
    }


def _np_affine(q, dW_t=False, db_sum=True, W_t=False, Wh_t=False):
    da = q["da"]
    db = {True: da.sum(0), False: da, "mean": da.mean(0), "axis1": da.sum(1)}[db_sum]
    return {
        "dx": da @ (q["W_i"].T if W_t else q["W_i"]),
        "dh_prev": da @ (q["W_h"].T if (W_t or Wh_t) else q["W_h"]),
        "dW_i": q["x"].T @ da if dW_t else da.T @ q["x"],
        "dW_h": q["h_prev"].T @ da if dW_t else da.T @ q["h_prev"],
        "db_i": db,
        "db_h": db,
    }


AFFINE_BACKWARD = Spec(
    name="gate_affine_backward",
    assignment=ASSIGNMENT,
    args=("da", "x", "h_prev", "W_i", "W_h"),
    outputs=None,
    cases={
        "visible": Case("B=3, D=4, H=5", _affine_inputs(fixed=True)),
        "visible_input_only": Case(
            "h_prev = 0, W_h = 0: only the input path",
            _affine_inputs(fixed=True, zero=("h_prev", "W_h")),
        ),
        "random": Case("random sizes", _affine_inputs()),
        "square": Case("random sizes, D == H", _affine_inputs(square=True)),
    },
    reference=_affine_reference,
    variants=[
        Variant("gradient_transposed", lambda q: _np_affine(q, dW_t=True)),
        Variant("bias_grad_not_summed", lambda q: _np_affine(q, db_sum=False)),
        Variant(
            "bias_grad_not_summed",
            lambda q: _np_affine(q, db_sum="mean"),
            "You averaged over the batch; sum over it.",
        ),
        Variant(
            "bias_grad_not_summed",
            lambda q: _np_affine(q, db_sum="axis1"),
            "You summed over axis 1 (the units); sum over axis 0.",
        ),
        Variant("backward_weight_transposed", lambda q: _np_affine(q, W_t=True)),
        Variant(
            "backward_weight_transposed",
            lambda q: _np_affine(q, Wh_t=True),
            "Only W_h is transposed: dh_prev = da @ W_h.",
        ),
    ],
    backward=True,
)

# --- lstm_cell_backward ---------------------------------------------------------------------------


def _cell_inputs(square=False, fixed=False, zero_dc=False):
    def make(rng):
        d = dims(rng, fixed, square)
        B, D, H = d["B"], d["D"], d["H"]
        q = {
            "dh": normal(rng, B, H),
            "dc": np.zeros((B, H)) if zero_dc else normal(rng, B, H),
            "x": normal(rng, B, D),
            "h_prev": np.tanh(normal(rng, B, H)),
            "c_prev": normal(rng, B, H),
        }
        q |= params(rng, D, H)
        gates, c, _ = _forward_step(q["x"], q["h_prev"], q["c_prev"], group(q, "p"))
        q["c"] = c
        q |= {f"gates.{k}": v for k, v in gates.items()}
        return q

    return make


def _cell_reference(q):
    out = lstm_oracle().torch_lstm_grads(
        q["x"][None], q["h_prev"], q["c_prev"], group(q, "p"), q["dh"][None], q["dc"]
    )
    grads = {"dx": out["dxs"][0], "dh_prev": out["dh0"], "dc_prev": out["dc0"]}
    return grads | {f"d{k}": out[f"d{k}"] for k in KEYS}


def np_cell_backward(
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
    sig_deriv=True,
    tanh_deriv=True,
    swap=None,
    db_sum=True,
    dc_prev_from_dc=False,
    do_kind="ok",
    use_o=True,
    prev_gate="f",
    g_deriv=None,
    W_t=False,
    dW_t=False,
):
    """Numpy LSTM step backward with optional mistakes (a known-wrong variant generator)."""
    i, f, g, o = (gates[k] for k in GATES)
    tc = np.tanh(c)
    do = dh * {"ok": tc, "c": c, "one": 1.0, "extra": tc * (1 - tc**2)}[do_kind]
    dct = dc + dh * (o if use_o else 1.0) * ((1 - tc**2) if cell_tanh else 1.0)
    f = gates[prev_gate]  # (a wrong gate as the factor of dc_prev)
    d = {"f": dct * c_prev, "i": dct * g, "g": dct * i, "o": do}
    if swap is not None:
        a, b = swap
        d[a], d[b] = d[b], d[a]
    dc_prev = dct * f if forget else dct
    if dc_prev_from_dc:
        dc_prev = dc * f
    da = {}
    for k in GATES:
        s = gates[k]
        if k == "g":
            kind = g_deriv or ("ok" if tanh_deriv else "missing")
            local = {"ok": 1 - s**2, "missing": 1.0, "sigmoid": s * (1 - s)}
            da[k] = d[k] * (1 - np.tanh(s) ** 2 if kind == "again" else local.get(kind))
        else:
            da[k] = d[k] * _sig_d(s, {True: "ok", False: "missing"}.get(sig_deriv, sig_deriv))
    out = {"dx": 0.0, "dh_prev": 0.0, "dc_prev": dc_prev}
    for k in GATES:
        Wi, Wh = p[f"W_i{k}"], p[f"W_h{k}"]
        out["dx"] = out["dx"] + da[k] @ (Wi.T if W_t else Wi)
        out["dh_prev"] = out["dh_prev"] + da[k] @ (Wh.T if W_t else Wh)
        out[f"dW_i{k}"] = x.T @ da[k] if dW_t else da[k].T @ x
        out[f"dW_h{k}"] = h_prev.T @ da[k] if dW_t else da[k].T @ h_prev
        out[f"db_i{k}"] = da[k].sum(0) if db_sum else da[k]
        out[f"db_h{k}"] = da[k].sum(0) if db_sum else da[k]
    return out


def _cell_variant(**kw):
    def compute(q):
        return np_cell_backward(
            q["dh"],
            q["dc"],
            q["x"],
            q["h_prev"],
            q["c_prev"],
            q["c"],
            group(q, "gates"),
            group(q, "p"),
            **kw,
        )

    return compute


def _variants(fn):
    return [
        Variant("cell_tanh_derivative_missing", fn(cell_tanh=False)),
        Variant("forget_gate_not_applied", fn(forget=False)),
        Variant("sigmoid_derivative_wrong", fn(sig_deriv=False)),
        Variant("sigmoid_derivative_tanh", fn(sig_deriv="tanh")),
        *(Variant("sigmoid_derivative_wrong", fn(sig_deriv=k), note) for k, note in HALF_SIGMOID),
        Variant(
            "tanh_derivative_missing",
            fn(tanh_deriv=False),
            "The candidate's pre-activation gradient is dg * (1 - g**2).",
        ),
        Variant("gates_swapped", fn(swap=("i", "f")), "The gradients of i and f are swapped."),
        Variant("gates_swapped", fn(swap=("g", "i")), "di = dc * g and dg = dc * i (swapped)."),
        Variant("bias_grad_not_summed", fn(db_sum=False)),
        Variant("dc_prev_from_incoming", fn(dc_prev_from_dc=True)),
        Variant("output_gate_uses_c", fn(do_kind="c")),
        Variant("chain_factor_missing", fn(do_kind="one"), "do = dh * tanh(c)."),
        Variant(
            "extra_derivative",
            fn(do_kind="extra"),
            "do = dh * tanh(c): no tanh'(c) there (it belongs to the path from h to c).",
        ),
        Variant(
            "chain_factor_missing",
            fn(use_o=False),
            "h = o * tanh(c): the path from h to c is dh * o * (1 - tanh(c)**2).",
        ),
        Variant(
            "forget_gate_not_applied",
            fn(prev_gate="o"),
            "You multiplied by o; c_t = f * c_prev + i * g, so dc_prev = dc_t * f.",
        ),
        Variant("candidate_derivative_wrong", fn(g_deriv="sigmoid")),
        Variant("derivative_of_output", fn(g_deriv="again")),
        Variant("derivative_of_output", fn(sig_deriv="again")),
        Variant("backward_weight_transposed", fn(W_t=True)),
        Variant("gradient_transposed", fn(dW_t=True)),
    ]


CELL_ARGS = ("dh", "dc", "x", "h_prev", "c_prev", "c", "gates", "p")
LSTM_CELL_BACKWARD = Spec(
    name="lstm_cell_backward",
    assignment=ASSIGNMENT,
    args=CELL_ARGS,
    outputs=None,
    cases={
        "visible": Case("B=3, D=4, H=5", _cell_inputs(fixed=True)),
        "visible_no_dc": Case(
            "dc = 0: gradient only through h", _cell_inputs(fixed=True, zero_dc=True)
        ),
        "random": Case("random sizes", _cell_inputs()),
        "square": Case("random sizes, D == H", _cell_inputs(square=True)),
        "no_dc": Case("dc = 0, random sizes", _cell_inputs(zero_dc=True)),
    },
    reference=_cell_reference,
    variants=_variants(_cell_variant),
    backward=True,
)

# --- lstm_backward --------------------------------------------------------------------------------


def _seq_inputs(square=False, fixed=False, with_dc=False):
    def make(rng):
        d = dims(rng, fixed, square)
        T, B, D, H = d["T"], d["B"], d["D"], d["H"]
        q = {
            "dhs": normal(rng, T, B, H),
            "xs": normal(rng, T, B, D),
            "h0": np.tanh(normal(rng, B, H)),
            "c0": normal(rng, B, H),
        }
        q |= params(rng, D, H)
        p = group(q, "p")
        h, c, hs, cs, gs = q["h0"], q["c0"], [], [], {k: [] for k in GATES}
        for x in q["xs"]:
            gates, c, h = _forward_step(x, h, c, p)
            hs.append(h)
            cs.append(c)
            for k in GATES:
                gs[k].append(gates[k])
        q["hs"], q["cs"] = np.stack(hs), np.stack(cs)
        q |= {f"gates.{k}": np.stack(v) for k, v in gs.items()}
        if with_dc:
            q["dc_T"] = normal(rng, B, H)
        return q

    return make


def _seq_reference(q):
    out = lstm_oracle().torch_lstm_grads(
        q["xs"], q["h0"], q["c0"], group(q, "p"), q["dhs"], q.get("dc_T")
    )
    return {k: out[k] for k in ("dxs", "dh0", "dc0")} | {f"d{k}": out[f"d{k}"] for k in KEYS}


def _np_bptt(
    q, carry_h=True, carry_c=True, accumulate=True, use_dc_T=True, shift=0, state_shift=0, **kw
):
    p, gates = group(q, "p"), group(q, "gates")
    T = q["xs"].shape[0]
    dh_next = np.zeros_like(q["h0"])
    dc_next = q.get("dc_T", np.zeros_like(q["c0"])) if use_dc_T else np.zeros_like(q["c0"])
    out = {"dxs": np.zeros_like(q["xs"])} | {f"d{k}": np.zeros_like(p[k]) for k in KEYS}
    for t in reversed(range(T)):
        # state_shift: h_t (and/or c_t) used where h_{t-1} (c_{t-1}) belongs
        sh = t + (state_shift in (1, "h"))
        sc = t + (state_shift in (1, "c"))
        h_prev = q["hs"][sh - 1] if sh else q["h0"]
        c_prev = q["cs"][sc - 1] if sc else q["c0"]
        g = np_cell_backward(
            q["dhs"][t] + dh_next,
            dc_next,
            q["xs"][t],
            h_prev,
            c_prev,
            q["cs"][t],
            {k: v[min(max(t + shift, 0), T - 1)] for k, v in gates.items()},
            p,
            **kw,
        )
        out["dxs"][t] = g["dx"]
        dh_next = g["dh_prev"] if carry_h else np.zeros_like(dh_next)
        dc_next = g["dc_prev"] if carry_c else np.zeros_like(dc_next)
        for k in KEYS:
            out[f"d{k}"] = out[f"d{k}"] + g[f"d{k}"] if accumulate else g[f"d{k}"]
    out["dh0"], out["dc0"] = g["dh_prev"], g["dc_prev"]
    return out


def _reversed_dxs(g):
    return g | {"dxs": g["dxs"][::-1]}


def _last_only(q):
    dhs = np.zeros_like(q["dhs"])
    dhs[-1] = q["dhs"][-1]
    return q | {"dhs": dhs}


def _seq_variant(**kw):
    return lambda q: _np_bptt(q, **kw)


LSTM_BACKWARD = Spec(
    name="lstm_backward",
    assignment=ASSIGNMENT,
    args=("dhs", "xs", "h0", "c0", "hs", "cs", "gates", "p", "dc_T"),
    outputs=None,
    cases={
        "visible": Case("T=4, B=3, D=4, H=5", _seq_inputs(fixed=True)),
        "visible_dc_T": Case(
            "with a gradient dc_T on the final cell state", _seq_inputs(fixed=True, with_dc=True)
        ),
        "random": Case("random sizes", _seq_inputs()),
        "square": Case("random sizes, D == H", _seq_inputs(square=True)),
        "dc_T": Case("random sizes, with dc_T", _seq_inputs(with_dc=True)),
    },
    reference=_seq_reference,
    variants=[
        Variant("gradient_not_carried", _seq_variant(carry_h=False)),
        Variant("cell_gradient_not_carried", _seq_variant(carry_c=False)),
        Variant("gradient_not_accumulated", _seq_variant(accumulate=False)),
        Variant("dc_T_ignored", _seq_variant(use_dc_T=False)),
        Variant("reversed_in_time", lambda q: _reversed_dxs(_np_bptt(q))),
        Variant("loss_gradient_only_last", lambda q: _np_bptt(_last_only(q))),
        Variant("gates_wrong_step", _seq_variant(shift=-1), "Step t used gates[k][t - 1]."),
        Variant("gates_wrong_step", _seq_variant(shift=1), "Step t used gates[k][t + 1]."),
        Variant(
            "gates_wrong_step",
            _seq_variant(state_shift=1),
            "Step t used hs[t] and cs[t] where h_{t-1} = hs[t-1] and c_{t-1} = cs[t-1] belong.",
        ),
        Variant(
            "gates_wrong_step",
            _seq_variant(state_shift="h"),
            "Step t used hs[t] where h_{t-1} = hs[t-1] belongs.",
        ),
        Variant(
            "gates_wrong_step",
            _seq_variant(state_shift="c"),
            "Step t used cs[t] where c_{t-1} = cs[t-1] belongs.",
        ),
        *_variants(_seq_variant),
    ],
    backward=True,
)

SPECS = [
    CELL_STATE_BACKWARD,
    FORGET_BACKWARD,
    INPUT_BACKWARD,
    CANDIDATE_BACKWARD,
    OUTPUT_BACKWARD,
    AFFINE_BACKWARD,
    LSTM_CELL_BACKWARD,
    LSTM_BACKWARD,
]
