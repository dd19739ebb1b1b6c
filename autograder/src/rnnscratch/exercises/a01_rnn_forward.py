"""a01_rnn_forward: stable sigmoid and softmax, the RNN cell, a sequence, cross-entropy."""

import numpy as np

from rnnscratch.exercises.common import VISIBLE, gate_spec, normal, random_dims, sig
from rnnscratch.exercises.spec import Case, Spec, Variant

ASSIGNMENT = "a01_rnn_forward"
RNN_NAMES = ("W_ih", "W_hh", "b_ih", "b_hh")


def _oracle():
    from rnnscratch.oracle import rnn

    return rnn


# --- sigmoid ------------------------------------------------------------------------------------


def _sigmoid_inputs(extreme, fixed):
    def make(rng):
        shape = (4, 5) if fixed else tuple(int(s) for s in rng.integers(1, 7, size=2))
        x = normal(rng, *shape, scale=4.0)
        if extreme:
            x = x * 200.0
            x.flat[0], x.flat[-1] = 1000.0, -1000.0
        return {"x": x}

    return make


SIGMOID = Spec(
    name="sigmoid",
    assignment=ASSIGNMENT,
    args=("x",),
    outputs="sigmoid(x)",
    cases={
        "visible": Case("moderate values, shape (4, 5)", _sigmoid_inputs(False, True)),
        "visible_extreme": Case("values up to +-1000", _sigmoid_inputs(True, True), stable=True),
        "random": Case("moderate values, random shape", _sigmoid_inputs(False, False)),
        "extreme": Case(
            "values up to +-1000, random shape", _sigmoid_inputs(True, False), stable=True
        ),
    },
    reference=lambda p: _oracle().sigmoid(p["x"]),
    overflow_mistake="unstable_sigmoid",
    variants=[
        Variant("tanh_for_sigmoid", lambda p: np.tanh(p["x"])),
        Variant("sigmoid_sign", lambda p: sig(-p["x"])),
        Variant("unstable_sigmoid", lambda p: np.exp(p["x"]) / (1.0 + np.exp(p["x"]))),
    ],
)

# --- softmax --------------------------------------------------------------------------------------


def _softmax_inputs(extreme, fixed, axis):
    def make(rng):
        shape = (3, 6) if fixed else tuple(int(s) for s in rng.integers(2, 7, size=3))
        z = normal(rng, *shape, scale=2.0)
        if extreme:
            z = z + 1000.0 * np.sign(normal(rng, *shape))
            z[..., 0, :] = normal(rng, *z[..., 0, :].shape, scale=2.0) - 1000.0  # all very low
            z[..., -1, :] = normal(rng, *z[..., -1, :].shape, scale=2.0) + 1000.0  # all high
        out = {"z": z}
        if axis is not None:
            out["axis"] = axis
        return out

    return make


def _unstable_softmax(p):
    e = np.exp(p["z"])
    return e / e.sum(axis=p.get("axis", -1), keepdims=True)


def _wrong_axis_softmax(p):
    z = p["z"]
    axis = p.get("axis", -1) % z.ndim
    other = 0 if axis != 0 else z.ndim - 1
    e = np.exp(z - z.max(axis=other, keepdims=True))
    return e / e.sum(axis=other, keepdims=True)


def _half_shifted_softmax(p):
    z, axis = p["z"], p.get("axis", -1)
    return np.exp(z - z.max(axis=axis, keepdims=True)) / np.exp(z).sum(axis=axis, keepdims=True)


def _global_max_softmax(p):
    e = np.exp(p["z"] - p["z"].max())
    return e / e.sum(axis=p.get("axis", -1), keepdims=True)


def _whole_array_softmax(p):
    e = np.exp(p["z"] - p["z"].max())
    return e / e.sum()


SOFTMAX = Spec(
    name="softmax",
    assignment=ASSIGNMENT,
    args=("z", "axis"),
    outputs="softmax(z)",
    cases={
        "visible": Case("logits of shape (3, 6), last axis", _softmax_inputs(False, True, None)),
        "visible_extreme": Case(
            "logits near +-1000", _softmax_inputs(True, True, None), stable=True
        ),
        "visible_axis0": Case("axis=0", _softmax_inputs(False, True, 0)),
        "random": Case("random 3-D shape, last axis", _softmax_inputs(False, False, None)),
        "extreme": Case(
            "logits near +-1000, random shape", _softmax_inputs(True, False, None), stable=True
        ),
        "axis1": Case("random 3-D shape, axis=1", _softmax_inputs(False, False, 1)),
    },
    reference=lambda p: _oracle().softmax(p["z"], axis=p.get("axis", -1)),
    broadcast_mistake="softmax_wrong_axis",
    variants=[
        Variant("unstable_softmax", _unstable_softmax),
        Variant("softmax_wrong_axis", _wrong_axis_softmax),
        Variant("softmax_wrong_axis", _whole_array_softmax, "You normalised over the whole array."),
        Variant("softmax_half_shifted", _half_shifted_softmax),
        Variant(
            "unstable_softmax",
            _global_max_softmax,
            "Subtract the maximum of each slice along the axis (keepdims=True), not the maximum "
            "of the whole array: a slice far below it underflows to 0 / 0.",
        ),
        Variant("tanh_for_sigmoid", lambda p: sig(p["z"]), "This is the sigmoid of each logit."),
    ],
)

# --- rnn_cell -------------------------------------------------------------------------------------

RNN_CELL = gate_spec("rnn_cell", ASSIGNMENT, RNN_NAMES, "tanh", "h", lambda: _oracle().rnn_cell)
RNN_CELL.variants.append(
    Variant(
        "relu_for_tanh",
        lambda p: np.maximum(
            0.0, p["x"] @ p["W_ih"].T + p["b_ih"] + p["h_prev"] @ p["W_hh"].T + p["b_hh"]
        ),
    )
)

# --- rnn_forward ----------------------------------------------------------------------------------


def _seq_inputs(square=False, fixed=False, long=False):
    def make(rng):
        d = dict(VISIBLE) if fixed else random_dims(rng, square)
        if long:
            d["T"] = 12
        T, B, D, H = d["T"], d["B"], d["D"], d["H"]
        return {
            "xs": normal(rng, T, B, D),
            "h0": np.tanh(normal(rng, B, H)),
            "W_ih": normal(rng, H, D, scale=0.6),
            "W_hh": normal(rng, H, H, scale=0.6),
            "b_ih": normal(rng, H, scale=0.5),
            "b_hh": normal(rng, H, scale=0.5),
        }

    return make


def _np_cell(x, h, p, act=np.tanh):
    return act(x @ p["W_ih"].T + p["b_ih"] + h @ p["W_hh"].T + p["b_hh"])


def _loop(p, *, start=None, carry=True, act=np.tanh, with_h0=False, shift=False):
    h0 = p["h0"] if start is None else start
    h, hs = h0, []
    for x in p["xs"]:
        prev = h if carry else h0
        h = _np_cell(x, prev, p, act)
        hs.append(h)
    if with_h0:
        return np.stack([h0, *hs])
    if shift:
        return np.stack([h0, *hs[:-1]])
    return np.stack(hs)


RNN_FORWARD = Spec(
    name="rnn_forward",
    assignment=ASSIGNMENT,
    args=("xs", "h0", *RNN_NAMES),
    outputs="hs",
    cases={
        "visible": Case("T=4, B=3, D=4, H=5", _seq_inputs(fixed=True)),
        "random": Case("random sizes", _seq_inputs()),
        "square": Case("random sizes, D == H", _seq_inputs(square=True)),
        "long": Case("T=12, random sizes", _seq_inputs(long=True)),
    },
    reference=lambda p: _oracle().rnn_forward(**{k: p[k] for k in ("xs", "h0", *RNN_NAMES)}),
    variants=[
        Variant("h0_ignored", lambda p: _loop(p, start=np.zeros_like(p["h0"]))),
        Variant("h_t_for_h_prev", lambda p: _loop(p, carry=False), "Every step used h0."),
        Variant(
            "h_t_for_h_prev",
            lambda p: _loop(p, start=np.zeros_like(p["h0"]), carry=False),
            "Every step used zeros (e.g. hs[t] before it was written) instead of h_{t-1}.",
        ),
        Variant("includes_initial_state", lambda p: _loop(p, with_h0=True)),
        Variant("off_by_one", lambda p: _loop(p, shift=True)),
        Variant(
            "batch_major",
            lambda p: _loop(p).transpose(1, 0, 2),
            "You returned (B, T, H); return hs as (T, B, H).",
            partial=False,
        ),
        Variant("sigmoid_for_tanh", lambda p: _loop(p, act=sig)),
    ],
)

# --- sequence_cross_entropy -----------------------------------------------------------------------


def _ce_inputs(extreme=False, fixed=False):
    def make(rng):
        d = dict(VISIBLE) if fixed else random_dims(rng)
        T, B, V = d["T"], d["B"], d["V"]
        logits = normal(rng, T, B, V, scale=2.0)
        if extreme:
            logits = logits * 300.0
        return {"logits": logits, "targets": rng.integers(0, V, size=(T, B)).astype(np.int64)}

    return make


def _log_probs(logits):
    m = logits.max(axis=-1, keepdims=True)
    return logits - m - np.log(np.exp(logits - m).sum(axis=-1, keepdims=True))


def _picked(p, fn=_log_probs):
    lp = fn(p["logits"])
    return np.take_along_axis(lp, p["targets"][..., None], axis=-1)[..., 0]  # (T, B)


def _eps_log(eps, clip=False):
    def compute(p):
        z = p["logits"]
        e = np.exp(z - z.max(axis=-1, keepdims=True))
        prob = np.take_along_axis(e / e.sum(-1, keepdims=True), p["targets"][..., None], -1)
        logp = np.log(np.clip(prob, eps, 1.0)) if clip else np.log(prob + eps)
        return float(-logp[..., 0].mean(axis=1).sum())

    return compute


def _log_of_stable_softmax(z):
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return np.log(e / e.sum(axis=-1, keepdims=True))


CROSS_ENTROPY = Spec(
    name="sequence_cross_entropy",
    assignment=ASSIGNMENT,
    args=("logits", "targets"),
    outputs="E",
    cases={
        "visible": Case("T=4, B=3, V=6", _ce_inputs(fixed=True)),
        "visible_extreme": Case(
            "logits of size several hundred", _ce_inputs(True, True), stable=True
        ),
        "random": Case("random sizes", _ce_inputs()),
        "extreme": Case(
            "logits of size several hundred, random sizes", _ce_inputs(True), stable=True
        ),
    },
    reference=lambda p: _oracle().sequence_cross_entropy(p["logits"], p["targets"])[0],
    variants=[
        Variant("ce_averaged_over_time", lambda p: float(-_picked(p).mean())),
        Variant("ce_axes_swapped", lambda p: float(-_picked(p).mean(axis=0).sum())),
        Variant("ce_summed_over_batch", lambda p: float(-_picked(p).sum())),
        Variant("ce_sign", lambda p: float(_picked(p).mean(axis=1).sum())),
        Variant(
            "ce_probability_not_log",
            lambda p: float(-np.exp(_picked(p)).mean(axis=1).sum()),
        ),
        Variant(
            "log_of_underflowed_softmax",
            lambda p: float(-_picked(p, _log_of_stable_softmax).mean(axis=1).sum()),
        ),
        *[
            Variant(
                "log_of_underflowed_softmax",
                _eps_log(eps, clip),
                f"Adding or clipping at {eps:g} keeps the loss finite but caps each term at "
                f"-log({eps:g}).",
            )
            for eps in (1e-6, 1e-7, 1e-8, 1e-9, 1e-10, 1e-12, 1e-15, 1e-16, 1e-20)
            for clip in (False, True)
        ],
        Variant(
            "unstable_softmax",
            lambda p: float(
                -_picked(p, lambda z: np.log(np.exp(z) / np.exp(z).sum(-1, keepdims=True)))
                .mean(axis=1)
                .sum()
            ),
        ),
    ],
)

SPECS = [SIGMOID, SOFTMAX, RNN_CELL, RNN_FORWARD, CROSS_ENTROPY]
