"""Building blocks of the exercise specs: input makers, numpy mistakes, the gate spec factory.

Known-wrong variants are computed in numpy (they are mistakes, not references); every
reference is computed by torch in float64 through `rnnscratch.oracle`.
"""

import numpy as np

from rnnscratch.exercises.spec import Case, Spec, Variant

VISIBLE = {"B": 3, "D": 4, "H": 5, "T": 4, "V": 6}


def sig(x):
    """Numerically stable sigmoid for the variants."""
    x = np.asarray(x, dtype=np.float64)
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def normal(rng, *shape, scale=1.0):
    """Standard normal draws times `scale`."""
    return scale * rng.standard_normal(shape)


def gate_params(rng, D, H, gates, prefix="p.") -> dict:
    """Per-gate parameters W_i*, W_h* (scale 0.6), b_i*, b_h* (0.5) under flat keys "p.W_ir" ...

    gates: the family's gate order (models.lstm.LSTM_GATES or models.gru.GRU_GATES); drawn gate by
    gate in that order, so the stored reference tensors do not depend on who calls.
    """
    out = {}
    for g in gates:
        out[f"{prefix}W_i{g}"] = normal(rng, H, D, scale=0.6)
        out[f"{prefix}W_h{g}"] = normal(rng, H, H, scale=0.6)
        out[f"{prefix}b_i{g}"] = normal(rng, H, scale=0.5)
        out[f"{prefix}b_h{g}"] = normal(rng, H, scale=0.5)
    return out


def random_dims(rng, square=False) -> dict:
    """Random small sizes; D == H when `square` (so a transposed weight still multiplies)."""
    B, D, H, T = (int(v) for v in rng.integers(1, 7, size=4))
    H = max(H, 2)
    D = H if square else D
    return {"B": B, "D": D, "H": H, "T": max(T, 2), "V": int(rng.integers(2, 9))}


def affine_inputs(rng, dims, names, zero=()) -> dict:
    """x, h_prev and one gate's W_i*, W_h*, b_i*, b_h* (names), with some parts zeroed."""
    B, D, H = dims["B"], dims["D"], dims["H"]
    wx, wh, bx, bh = names
    inputs = {
        "x": normal(rng, B, D),
        "h_prev": np.tanh(normal(rng, B, H)),
        wx: normal(rng, H, D, scale=0.6),
        wh: normal(rng, H, H, scale=0.6),
        bx: normal(rng, H, scale=0.6),
        bh: normal(rng, H, scale=0.6),
    }
    for key in zero:
        inputs[key] = np.zeros_like(inputs[key])
    return inputs


def term_cases(names, visible=True) -> dict:
    """Cases of an affine map act(W_x x + b_x + W_h h + b_h): all terms, and each alone."""
    wx, wh, bx, bh = names

    def make(zero, square=False, fixed=False):
        def _make(rng):
            dims = VISIBLE if fixed else random_dims(rng, square)
            return affine_inputs(rng, dims, names, zero)

        return _make

    only_bias = (wx, wh)
    only_input = (wh, bx, bh)
    only_prev = (wx, bx, bh)
    cases = {}
    if visible:
        cases.update(
            visible=Case("all terms, B=3, D=4, H=5", make((), fixed=True)),
            visible_bias_only=Case(
                f"{wx} = {wh} = 0: only the biases act", make(only_bias, fixed=True)
            ),
            visible_input_only=Case(f"only the input term {wx} x", make(only_input, fixed=True)),
            visible_prev_state_only=Case(
                f"only the previous-state term {wh} h_prev", make(only_prev, fixed=True)
            ),
        )
    cases.update(
        random=Case("all terms, random sizes", make(())),
        square=Case("all terms, D == H", make((), square=True)),
        bias_only=Case(f"{wx} = {wh} = 0: only the biases act, random sizes", make(only_bias)),
        input_only=Case(
            f"only the input term {wx} x, random sizes, D == H", make(only_input, square=True)
        ),
        prev_state_only=Case(
            f"only the previous-state term {wh} h_prev, random sizes", make(only_prev, square=True)
        ),
    )
    return cases


def affine_variants(names, act, act_name) -> list[Variant]:
    """The usual mistakes in act(x @ W_x.T + b_x + h @ W_h.T + b_h)."""
    wx, wh, bx, bh = names

    def v(
        fn,
        x_t=False,
        h_t=False,
        use_bx=True,
        use_bh=True,
        use_x=True,
        use_h=True,
        swap=False,
        bias_out=False,
    ):
        def compute(p):
            Wx = p[wx].T if x_t else p[wx]
            Wh = p[wh].T if h_t else p[wh]
            if swap:
                Wx, Wh = Wh, Wx
            a = 0.0
            a = a + (p["x"] @ Wx.T if use_x else 0.0)
            a = a + (p["h_prev"] @ Wh.T if use_h else 0.0)
            bias = (p[bx] if use_bx else 0.0) + (p[bh] if use_bh else 0.0)
            if bias_out:
                return fn(a + np.zeros((p["x"].shape[0], p[wh].shape[0]))) + bias
            return fn(a + bias + np.zeros((p["x"].shape[0], p[wh].shape[0])))

        return compute

    other = {"sigmoid": ("tanh_for_sigmoid", np.tanh), "tanh": ("sigmoid_for_tanh", sig)}
    wrong_key, wrong_fn = other[act_name]
    return [
        Variant(wrong_key, v(wrong_fn)),
        Variant("activation_missing", v(lambda a: a)),
        Variant("bias_dropped", v(act, use_bx=False, use_bh=False), f"Add {bx} + {bh}."),
        Variant("one_bias_only", v(act, use_bh=False), f"{bh} is missing."),
        Variant("one_bias_only", v(act, use_bx=False), f"{bx} is missing."),
        Variant("input_term_dropped", v(act, use_x=False), f"x @ {wx}.T is missing."),
        Variant("prev_state_term_dropped", v(act, use_h=False), f"h_prev @ {wh}.T is missing."),
        Variant("weight_transposed", v(act, x_t=True), f"Use x @ {wx}.T."),
        Variant("weight_transposed", v(act, h_t=True), f"Use h_prev @ {wh}.T."),
        Variant(
            "weight_transposed", v(act, x_t=True, h_t=True), f"Use x @ {wx}.T + h_prev @ {wh}.T."
        ),
        Variant("weights_swapped", v(act, swap=True)),
        Variant("bias_outside_activation", v(act, bias_out=True)),
    ]


def gate_spec(name, assignment, names, act_name, out, oracle_fn) -> Spec:
    """Spec of one gate act(W_i? x + b_i? + W_h? h_prev + b_h?) with torch reference."""
    act = sig if act_name == "sigmoid" else np.tanh
    args = ("x", "h_prev", *names)

    def reference(inputs):
        return oracle_fn()(**{k: inputs[k] for k in args})

    return Spec(
        name=name,
        assignment=assignment,
        args=args,
        outputs=out,
        cases=term_cases(names),
        reference=reference,
        variants=affine_variants(names, act, act_name),
    )
