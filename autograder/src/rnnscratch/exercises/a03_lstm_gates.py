"""a03_lstm_gates: the four gates, cell and hidden update, a cell, a sequence, nn.LSTM packing."""

import numpy as np

from rnnscratch.exercises.common import VISIBLE, gate_spec, normal, random_dims, sig
from rnnscratch.exercises.lstm_common import (
    GATES,
    dims,
    lstm_oracle,
    np_cell,
    np_sequence,
    params,
)
from rnnscratch.exercises.plain import group
from rnnscratch.exercises.protocol import run_lstm_module
from rnnscratch.exercises.spec import Case, Spec, Variant

ASSIGNMENT = "a03_lstm_gates"


def _gate(name, g, act, out):
    names = (f"W_i{g}", f"W_h{g}", f"b_i{g}", f"b_h{g}")
    return gate_spec(
        name, ASSIGNMENT, names, act, out, lambda: getattr(lstm_oracle(), f"torch_{name}")
    )


FORGET = _gate("forget_gate", "f", "sigmoid", "f")
INPUT = _gate("input_gate", "i", "sigmoid", "i")
CANDIDATE = _gate("candidate", "g", "tanh", "g")
OUTPUT = _gate("output_gate", "o", "sigmoid", "o")

# --- cell_update and hidden_update ----------------------------------------------------------------


def _elementwise_inputs(names, zero=(), fixed=False):
    def make(rng):
        d = dict(VISIBLE) if fixed else random_dims(rng)
        shape = (d["B"], d["H"])
        out = {}
        for n in names:
            if n in ("f", "i", "o"):
                out[n] = sig(normal(rng, *shape, scale=2.0))
            elif n == "g":
                out[n] = np.tanh(normal(rng, *shape, scale=2.0))
            else:
                out[n] = normal(rng, *shape, scale=1.5)
        for n in zero:
            out[n] = np.zeros_like(out[n])
        return out

    return make


CU = ("f", "i", "g", "c_prev")
CELL_UPDATE = Spec(
    name="cell_update",
    assignment=ASSIGNMENT,
    args=CU,
    outputs="c",
    cases={
        "visible": Case("B=3, H=5", _elementwise_inputs(CU, fixed=True)),
        "visible_forget_only": Case(
            "i = 0: only the kept memory f * c_prev", _elementwise_inputs(CU, ("i",), True)
        ),
        "visible_input_only": Case(
            "f = 0: only the written candidate i * g", _elementwise_inputs(CU, ("f",), True)
        ),
        "random": Case("random sizes", _elementwise_inputs(CU)),
        "forget_only": Case("i = 0, random sizes", _elementwise_inputs(CU, ("i",))),
        "input_only": Case("f = 0, random sizes", _elementwise_inputs(CU, ("f",))),
    },
    reference=lambda p: lstm_oracle().torch_cell_update(p["f"], p["i"], p["g"], p["c_prev"]),
    variants=[
        Variant(
            "gates_swapped",
            lambda p: p["i"] * p["c_prev"] + p["f"] * p["g"],
            "f and i are swapped.",
        ),
        Variant("forget_gate_ignored", lambda p: p["c_prev"] + p["i"] * p["g"]),
        Variant("candidate_not_gated", lambda p: p["f"] * p["c_prev"] + p["i"] + p["g"]),
        Variant("extra_tanh", lambda p: np.tanh(p["f"] * p["c_prev"] + p["i"] * p["g"])),
        Variant(
            "gates_swapped",
            lambda p: p["f"] * p["c_prev"] + p["i"] * p["c_prev"],
            "i multiplies the candidate g, not c_prev.",
        ),
    ],
)

HU = ("o", "c")
HIDDEN_UPDATE = Spec(
    name="hidden_update",
    assignment=ASSIGNMENT,
    args=HU,
    outputs="h",
    cases={
        "visible": Case("B=3, H=5", _elementwise_inputs(HU, fixed=True)),
        "random": Case("random sizes", _elementwise_inputs(HU)),
    },
    reference=lambda p: lstm_oracle().torch_hidden_update(p["o"], p["c"]),
    variants=[
        Variant("activation_missing", lambda p: p["o"] * p["c"], "h = o * tanh(c)."),
        Variant("sigmoid_for_tanh", lambda p: p["o"] * sig(p["c"])),
        Variant("extra_tanh", lambda p: np.tanh(p["o"] * p["c"]), "tanh applies to c only."),
        Variant("extra_tanh", lambda p: np.tanh(p["o"]) * np.tanh(p["c"]), "o is used as it is."),
    ],
)

# --- lstm_cell ------------------------------------------------------------------------------------


def _cell_inputs(square=False, fixed=False, zero_state=False):
    def make(rng):
        d = dims(rng, fixed, square)
        B, D, H = d["B"], d["D"], d["H"]
        out = {
            "x": normal(rng, B, D),
            "h_prev": np.tanh(normal(rng, B, H)),
            "c_prev": normal(rng, B, H),
        }
        if zero_state:
            out["h_prev"], out["c_prev"] = np.zeros((B, H)), np.zeros((B, H))
        return out | params(rng, D, H)

    return make


def _cell_variant(**kw):
    return lambda q: np_cell(q["x"], q["h_prev"], q["c_prev"], group(q, "p"), **kw)


def _swaps(fn):
    pairs = [("i", "f"), ("g", "o"), ("f", "o"), ("i", "o"), ("i", "g"), ("f", "g")]
    out = []
    for a, b in pairs:
        out.append(Variant("gates_swapped", fn(swap=(a, b)), f"The gates {a} and {b} are swapped."))
        out.append(
            Variant(
                "gates_swapped",
                fn(pswap=(a, b)),
                f"The parameters of {a} and {b} are swapped (PyTorch's order is i, f, g, o).",
            )
        )
    return out


def _swapped_outputs(fn):
    def compute(q):
        h, c = fn()(q)
        return c, h

    return compute


def _common_variants(fn):
    return [
        Variant("outputs_swapped", _swapped_outputs(fn), partial=False),
        *_swaps(fn),
        Variant("sigmoid_for_tanh", fn(act_g=sig), "The candidate g uses tanh."),
        Variant("tanh_for_sigmoid", fn(act_sig=np.tanh), "The gates i, f, o use the sigmoid."),
        Variant("activation_missing", fn(cell_tanh=False), "h = o * tanh(c)."),
        Variant("forget_gate_ignored", fn(forget=False)),
        Variant("bias_dropped", fn(bias=False)),
        Variant("c_prev_for_c", fn(old_c=True)),
    ]


LSTM_CELL = Spec(
    name="lstm_cell",
    assignment=ASSIGNMENT,
    args=("x", "h_prev", "c_prev", "p"),
    outputs=("h", "c"),
    cases={
        "visible": Case("B=3, D=4, H=5", _cell_inputs(fixed=True)),
        "random": Case("random sizes", _cell_inputs()),
        "square": Case("random sizes, D == H", _cell_inputs(square=True)),
        "zero_state": Case("h_prev = c_prev = 0", _cell_inputs(zero_state=True)),
    },
    reference=lambda q: lstm_oracle().torch_lstm_cell(
        q["x"], q["h_prev"], q["c_prev"], group(q, "p")
    ),
    variants=_common_variants(_cell_variant),
)

# --- lstm_forward ---------------------------------------------------------------------------------


def _seq_inputs(square=False, fixed=False, prefix="", T=None):
    def make(rng):
        d = dims(rng, fixed, square)
        T_, B, D, H = T or d["T"], d["B"], d["D"], d["H"]
        out = {
            f"{prefix}xs": normal(rng, T_, B, D),
            f"{prefix}h0": np.tanh(normal(rng, B, H)),
            f"{prefix}c0": normal(rng, B, H),
        }
        return out | params(rng, D, H)

    return make


def _torch_sequence(q):
    o = lstm_oracle()
    p = group(q, "p")
    h, c, hs, cs = q["h0"], q["c0"], [], []
    for x in q["xs"]:
        h, c = o.torch_lstm_cell(x, h, c, p)
        hs.append(h)
        cs.append(c)
    return np.stack(hs), np.stack(cs)


def _seq_variant(**kw):
    return lambda q: np_sequence(q["xs"], q["h0"], q["c0"], group(q, "p"), **kw)


def _shifted(q, with_initial):
    hs, cs = np_sequence(q["xs"], q["h0"], q["c0"], group(q, "p"))
    hs = np.concatenate([q["h0"][None], hs])
    cs = np.concatenate([q["c0"][None], cs])
    return (hs, cs) if with_initial else (hs[:-1], cs[:-1])


LSTM_FORWARD = Spec(
    name="lstm_forward",
    assignment=ASSIGNMENT,
    args=("xs", "h0", "c0", "p"),
    outputs=("hs", "cs"),
    cases={
        "visible": Case("T=4, B=3, D=4, H=5", _seq_inputs(fixed=True)),
        "random": Case("random sizes", _seq_inputs()),
        "square": Case("random sizes, D == H", _seq_inputs(square=True)),
    },
    reference=_torch_sequence,
    variants=[
        Variant("h_t_for_h_prev", _seq_variant(carry_h=False), "Every step used h0."),
        Variant("cell_state_not_carried", _seq_variant(carry_c=False)),
        Variant("h_t_for_h_prev", _seq_variant(carry_h=False, carry_c=False)),
        Variant(
            "h0_ignored",
            lambda q: np_sequence(
                q["xs"], np.zeros_like(q["h0"]), np.zeros_like(q["c0"]), group(q, "p")
            ),
        ),
        Variant("off_by_one", lambda q: _shifted(q, False)),
        Variant("includes_initial_state", lambda q: _shifted(q, True)),
        Variant(
            "extra_tanh",
            lambda q: (lambda hs, cs: (hs, np.tanh(cs)))(*_seq_variant()(q)),
            "cs holds the cell states c_t themselves, not tanh(c_t).",
        ),
        Variant(
            "batch_major",
            lambda q: tuple(a.transpose(1, 0, 2) for a in _seq_variant()(q)),
            "You returned (B, T, H) arrays; return hs and cs as (T, B, H).",
            partial=False,
        ),
        *_common_variants(_seq_variant),
    ],
)

# --- to_torch_lstm --------------------------------------------------------------------------------


def _module_output(q, p):
    o = lstm_oracle()
    hs, h_T, c_T = o.torch_lstm_forward(q["probe.xs"], q["probe.h0"], q["probe.c0"], p)
    return hs, h_T[None], c_T[None]


def _permuted(order):
    def compute(q):
        p = group(q, "p")
        wrong = {}
        for new, old in zip(GATES, order, strict=True):
            for w in ("W_i", "W_h", "b_i", "b_h"):
                wrong[f"{w}{new}"] = p[f"{w}{old}"]
        return _module_output(q, wrong)

    return compute


def _bias_twice(q):
    p = dict(group(q, "p"))
    for g in GATES:
        p[f"b_i{g}"] = p[f"b_h{g}"] = p[f"b_i{g}"] + p[f"b_h{g}"]
    return _module_output(q, p)


def _no_bias(q):
    p = dict(group(q, "p"))
    for g in GATES:
        p[f"b_i{g}"] = p[f"b_h{g}"] = np.zeros_like(p[f"b_i{g}"])
    return _module_output(q, p)


TO_TORCH_LSTM = Spec(
    name="to_torch_lstm",
    assignment=ASSIGNMENT,
    args=("p",),
    outputs=("output", "h_n", "c_n"),
    cases={
        "visible": Case(
            "D=4, H=5; the module is run on T=4, B=3", _seq_inputs(fixed=True, prefix="probe.")
        ),
        "random": Case("random sizes", _seq_inputs(prefix="probe.")),
    },
    reference=lambda q: _module_output(q, group(q, "p")),
    variants=[
        Variant("cs231n_gate_order", _permuted(("i", "f", "o", "g"))),
        *[
            Variant(
                "gates_swapped",
                _permuted(tuple({a: b, b: a}.get(k, k) for k in GATES)),
                f"The blocks {a} and {b} are swapped (PyTorch's order is i, f, g, o).",
            )
            for a, b in (("i", "f"), ("f", "g"), ("g", "o"), ("i", "g"), ("i", "o"), ("f", "o"))
        ],
        Variant("bias_counted_twice", _bias_twice),
        Variant("bias_dropped", _no_bias),
    ],
    adapt=run_lstm_module,
)

SPECS = [
    FORGET,
    INPUT,
    CANDIDATE,
    OUTPUT,
    CELL_UPDATE,
    HIDDEN_UPDATE,
    LSTM_CELL,
    LSTM_FORWARD,
    TO_TORCH_LSTM,
]
