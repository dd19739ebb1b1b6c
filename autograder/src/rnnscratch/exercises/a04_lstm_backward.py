"""a04_lstm_backward: one LSTM step backward and BPTT through an LSTM, checked by autograd."""

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
):
    """Numpy LSTM step backward with optional mistakes (a known-wrong variant generator)."""
    i, f, g, o = (gates[k] for k in GATES)
    tc = np.tanh(c)
    do = dh * tc
    dct = dc + dh * o * ((1 - tc**2) if cell_tanh else 1.0)
    d = {"f": dct * c_prev, "i": dct * g, "g": dct * i, "o": do}
    if swap is not None:
        a, b = swap
        d[a], d[b] = d[b], d[a]
    dc_prev = dct * f if forget else dct
    da = {}
    for k in GATES:
        s = gates[k]
        if k == "g":
            da[k] = d[k] * ((1 - s**2) if tanh_deriv else 1.0)
        else:
            da[k] = d[k] * (s * (1 - s) if sig_deriv else 1.0)
    out = {"dx": 0.0, "dh_prev": 0.0, "dc_prev": dc_prev}
    for k in GATES:
        out["dx"] = out["dx"] + da[k] @ p[f"W_i{k}"]
        out["dh_prev"] = out["dh_prev"] + da[k] @ p[f"W_h{k}"]
        out[f"dW_i{k}"] = da[k].T @ x
        out[f"dW_h{k}"] = da[k].T @ h_prev
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
        Variant(
            "tanh_derivative_missing",
            fn(tanh_deriv=False),
            "The candidate's pre-activation gradient is dg * (1 - g**2).",
        ),
        Variant("gates_swapped", fn(swap=("i", "f")), "The gradients of i and f are swapped."),
        Variant("gates_swapped", fn(swap=("g", "i")), "di = dc * g and dg = dc * i (swapped)."),
        Variant("bias_grad_not_summed", fn(db_sum=False)),
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


def _np_bptt(q, carry_h=True, carry_c=True, accumulate=True, **kw):
    p, gates = group(q, "p"), group(q, "gates")
    T = q["xs"].shape[0]
    dh_next = np.zeros_like(q["h0"])
    dc_next = q.get("dc_T", np.zeros_like(q["c0"]))
    out = {"dxs": np.zeros_like(q["xs"])} | {f"d{k}": np.zeros_like(p[k]) for k in KEYS}
    for t in reversed(range(T)):
        h_prev = q["hs"][t - 1] if t else q["h0"]
        c_prev = q["cs"][t - 1] if t else q["c0"]
        g = np_cell_backward(
            q["dhs"][t] + dh_next,
            dc_next,
            q["xs"][t],
            h_prev,
            c_prev,
            q["cs"][t],
            {k: v[t] for k, v in gates.items()},
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
        *_variants(_seq_variant),
    ],
)

SPECS = [LSTM_CELL_BACKWARD, LSTM_BACKWARD]
