"""a02_bptt: RNN cell backward, full and truncated BPTT, clipping, measuring vanishing."""

import numpy as np

from rnnscratch.exercises.common import VISIBLE, normal, random_dims
from rnnscratch.exercises.spec import Case, Spec, Variant

ASSIGNMENT = "a02_bptt"
GRAD_NAMES = ("dW_ih", "dW_hh", "db_ih", "db_hh")


def _oracle():
    from rnnscratch.oracle import rnn

    return rnn


def _params(rng, d):
    D, H = d["D"], d["H"]
    return {
        "W_ih": normal(rng, H, D, scale=0.6),
        "W_hh": normal(rng, H, H, scale=0.6),
        "probe.b_ih": normal(rng, H, scale=0.5),
        "probe.b_hh": normal(rng, H, scale=0.5),
    }


def _weights(p):
    return {k: p[k] for k in ("W_ih", "W_hh")} | {
        "b_ih": p["probe.b_ih"],
        "b_hh": p["probe.b_hh"],
    }


# --- rnn_cell_backward ----------------------------------------------------------------------------


def _cell_inputs(square=False, fixed=False):
    def make(rng):
        d = dict(VISIBLE) if fixed else random_dims(rng, square)
        B, D, H = d["B"], d["D"], d["H"]
        p = {"dh": normal(rng, B, H), "x": normal(rng, B, D), "h_prev": np.tanh(normal(rng, B, H))}
        p |= _params(rng, d)
        p["h"] = _oracle().rnn_cell(p["x"], p["h_prev"], **_weights(p))
        return p

    return make


def _cell_backward(
    p, deriv="ok", dW_t=False, db_sum=True, Wt=False, Whh_t=False, dW_h=False, mean=False
):
    dh, h, hp = p["dh"], p["h"], p["h_prev"]
    local = {
        "ok": 1 - h**2,
        "missing": 1.0,
        "h_prev": 1 - hp**2,
        "not_squared": 1 - h,
        "tanh_again": 1 - np.tanh(h) ** 2,
    }[deriv]
    da = dh * local
    W_ih, W_hh = (p["W_ih"].T, p["W_hh"].T) if Wt else (p["W_ih"], p["W_hh"])
    out = {
        "dx": da @ W_ih,
        "dh_prev": da @ (W_hh.T if Whh_t else W_hh),
        "dW_ih": (p["x"].T @ da) if dW_t else da.T @ p["x"],
        "dW_hh": (hp.T @ da) if dW_t else da.T @ hp,
        "db_ih": _db(da, db_sum),
        "db_hh": _db(da, db_sum),
    }
    if dW_h:  # the weight gradient of W_hh paired with the step's own output h
        out["dW_hh"] = da.T @ h
    if mean:  # every parameter gradient divided by the batch size
        out = out | {k: out[k] / dh.shape[0] for k in ("dW_ih", "dW_hh", "db_ih", "db_hh")}
    return out


def _db(da, how):
    """The bias gradient, or a mistaken one: unsummed, averaged, or summed over the wrong axis."""
    return {True: da.sum(0), False: da, "mean": da.mean(0), "axis1": da.sum(1)}[how]


CELL_ARGS = ("dh", "x", "h_prev", "h", "W_ih", "W_hh")
RNN_CELL_BACKWARD = Spec(
    name="rnn_cell_backward",
    assignment=ASSIGNMENT,
    args=CELL_ARGS,
    outputs=None,
    cases={
        "visible": Case("B=3, D=4, H=5", _cell_inputs(fixed=True)),
        "random": Case("random sizes", _cell_inputs()),
        "square": Case("random sizes, D == H", _cell_inputs(square=True)),
    },
    reference=lambda p: _oracle().rnn_cell_backward(p["dh"], p["x"], p["h_prev"], **_weights(p)),
    variants=[
        Variant("tanh_derivative_missing", lambda p: _cell_backward(p, deriv="missing")),
        Variant("derivative_uses_h_prev", lambda p: _cell_backward(p, deriv="h_prev")),
        Variant("derivative_not_squared", lambda p: _cell_backward(p, deriv="not_squared")),
        Variant("derivative_of_output", lambda p: _cell_backward(p, deriv="tanh_again")),
        Variant("gradient_transposed", lambda p: _cell_backward(p, dW_t=True)),
        Variant("bias_grad_not_summed", lambda p: _cell_backward(p, db_sum=False)),
        Variant(
            "bias_grad_not_summed",
            lambda p: _cell_backward(p, db_sum="mean"),
            "You averaged over the batch; the loss is a sum over it, so is the gradient.",
        ),
        Variant(
            "bias_grad_not_summed",
            lambda p: _cell_backward(p, db_sum="axis1"),
            "You summed over axis 1 (the units); sum over axis 0.",
        ),
        Variant("backward_weight_transposed", lambda p: _cell_backward(p, Wt=True)),
        Variant(
            "backward_weight_transposed",
            lambda p: _cell_backward(p, Whh_t=True),
            "Only W_hh is transposed: dh_prev = da @ W_hh.",
        ),
        Variant("dW_hh_uses_h_t", lambda p: _cell_backward(p, dW_h=True), "dW_hh = da.T @ h_prev."),
        Variant("grads_averaged_over_batch", lambda p: _cell_backward(p, mean=True)),
    ],
    backward=True,
)

# --- rnn_backward ---------------------------------------------------------------------------------


def _seq_inputs(square=False, fixed=False, truncate=None):
    def make(rng):
        d = dict(VISIBLE) if fixed else random_dims(rng, square)
        if truncate is not None:
            d["T"] = max(d["T"], 4) if not fixed else 5
        T, B, D, H = d["T"], d["B"], d["D"], d["H"]
        p = {"dhs": normal(rng, T, B, H), "xs": normal(rng, T, B, D)}
        p["h0"] = np.tanh(normal(rng, B, H))
        p |= _params(rng, d)
        p["hs"] = _oracle().rnn_forward(p["xs"], p["h0"], **_weights(p))
        if truncate is not None:
            p["truncate"] = int(truncate if fixed else rng.integers(1, d["T"]))
        return p

    return make


def _bptt(
    p,
    deriv="ok",
    carry=True,
    accumulate=True,
    dh0=True,
    dW_hh_h_t=False,
    trunc="ok",
    shift=0,
    last_only=False,
    cell=None,
):
    xs, hs, h0 = p["xs"], p["hs"], p["h0"]
    T = xs.shape[0]
    g = {"dxs": np.zeros_like(xs), "dh0": np.zeros_like(h0)}
    g |= {k: np.zeros_like(p[k[1:]]) if k[1] == "W" else np.zeros(hs.shape[-1]) for k in GRAD_NAMES}

    def step(s, dh):
        h_prev = h0 if s == 0 else hs[s - 1]
        q = {"dh": dh, "x": xs[s], "h_prev": hs[s] if dW_hh_h_t else h_prev, "h": hs[s]}
        q |= {"W_ih": p["W_ih"], "W_hh": p["W_hh"]}
        if deriv == "h_prev":
            q["h"] = h_prev
        local = deriv if deriv in ("missing", "not_squared", "tanh_again") else "ok"
        c = _cell_backward(q, deriv=local, **(cell or {}))
        g["dxs"][s] += c["dx"]
        for k in GRAD_NAMES:
            g[k] = g[k] + c[k] if accumulate else c[k]
        return c["dh_prev"]

    k = p.get("truncate")
    if k is None or trunc == "ignored":
        dh_next = np.zeros_like(h0)
        for t in reversed(range(1 if shift == "skip0" else 0, T)):
            s = t + shift if isinstance(shift, int) else t
            loss = p["dhs"][s] if 0 <= s < T else 0.0
            loss = loss if (t == T - 1 or not last_only) else 0.0
            dh_next = step(t, loss + (dh_next if carry else 0.0))
        if dh0:
            g["dh0"] = dh_next
        return g
    k = k + 1 if trunc == "plus1" else k - 1 if trunc == "minus1" else k
    for t in range(T):
        dh = p["dhs"][t]
        stop = (t // k) * k - 1 if trunc == "chunked" else max(t - k, -1)
        for s in range(t, stop, -1):
            dh = step(s, dh)
        if stop == -1 and dh0:
            g["dh0"] += dh
    return g


BPTT_ARGS = ("dhs", "xs", "h0", "hs", "W_ih", "W_hh", "truncate")


def _bptt_reference(p):
    _, grads = _oracle().rnn_forward_backward(
        p["dhs"], p["xs"], p["h0"], **_weights(p), truncate=p.get("truncate")
    )
    return grads


RNN_BACKWARD = Spec(
    name="rnn_backward",
    assignment=ASSIGNMENT,
    args=BPTT_ARGS,
    outputs=None,
    cases={
        "visible": Case("full BPTT, T=4, B=3, D=4, H=5", _seq_inputs(fixed=True)),
        "visible_truncated": Case("truncate=2, T=5", _seq_inputs(fixed=True, truncate=2)),
        "random": Case("full BPTT, random sizes", _seq_inputs()),
        "square": Case("full BPTT, D == H", _seq_inputs(square=True)),
        "truncated": Case("random truncate < T, random sizes", _seq_inputs(truncate=True)),
    },
    reference=_bptt_reference,
    variants=[
        Variant("gradient_not_carried", lambda p: _bptt(p, carry=False)),
        Variant("tanh_derivative_missing", lambda p: _bptt(p, deriv="missing")),
        Variant("derivative_uses_h_prev", lambda p: _bptt(p, deriv="h_prev")),
        Variant("gradient_not_accumulated", lambda p: _bptt(p, accumulate=False)),
        Variant("dh0_missing", lambda p: _bptt(p, dh0=False)),
        Variant("dW_hh_uses_h_t", lambda p: _bptt(p, dW_hh_h_t=True)),
        Variant("truncation_ignored", lambda p: _bptt(p, trunc="ignored")),
        Variant(
            "truncation_window",
            lambda p: _bptt(p, trunc="plus1"),
            "Your window is one step too long.",
        ),
        Variant(
            "truncation_window",
            lambda p: _bptt(p, trunc="minus1"),
            "Your window is one step too short.",
        ),
        Variant("truncation_chunked", lambda p: _bptt(p, trunc="chunked")),
        Variant("loss_gradient_only_last", lambda p: _bptt(p, last_only=True)),
        Variant(
            "step_off_by_one",
            lambda p: _bptt(p, shift="skip0"),
            "Step 0 is never backpropagated (the loop stops at t = 1).",
        ),
        Variant("step_off_by_one", lambda p: _bptt(p, shift=1), "Step t received dhs[t + 1]."),
        Variant("step_off_by_one", lambda p: _bptt(p, shift=-1), "Step t received dhs[t - 1]."),
        Variant("derivative_not_squared", lambda p: _bptt(p, deriv="not_squared")),
        Variant("derivative_of_output", lambda p: _bptt(p, deriv="tanh_again")),
        Variant("gradient_transposed", lambda p: _bptt(p, cell={"dW_t": True})),
        Variant("backward_weight_transposed", lambda p: _bptt(p, cell={"Wt": True})),
        Variant(
            "backward_weight_transposed",
            lambda p: _bptt(p, cell={"Whh_t": True}),
            "Only W_hh is transposed: dh_prev = da @ W_hh.",
        ),
        Variant("grads_averaged_over_batch", lambda p: _bptt(p, cell={"mean": True})),
    ],
    backward=True,
)

# --- clipping -------------------------------------------------------------------------------------


def _grads_inputs(kind, below=False, fixed=False):
    def make(rng):
        d = dict(VISIBLE) if fixed else random_dims(rng)
        D, H = d["D"], d["H"]
        shapes = {"dW_ih": (H, D), "dW_hh": (H, H), "db_ih": (H,), "db_hh": (H,)}
        # gradients large enough (norm >> 1) that the 1e-6 guard in max_norm / (total + 1e-6)
        # changes nothing at the task's tolerance: leaving it out is not a mistake
        scale = 50.0 if kind == "norm" else 2.0
        p = {f"grads.{k}": normal(rng, *s, scale=scale) for k, s in shapes.items()}
        total = np.sqrt(sum(float(np.sum(v**2)) for v in p.values()))
        if kind == "norm":
            p["max_norm"] = float(np.round(total * (2.0 if below else 0.3), 3))
        else:
            p["clip_value"] = 0.5 if fixed else float(np.round(rng.uniform(0.2, 2.0), 3))
        return p

    return make


def _grads(p):
    return {k[6:]: v for k, v in p.items() if k.startswith("grads.")}


def _clip_norm(
    p, per_tensor=False, always=False, squared=False, eps=1e-6, after=False, sum_norms=False
):
    g = _grads(p)
    total = sum(float(np.sum(v**2)) for v in g.values())
    total = total if squared else np.sqrt(total)
    if sum_norms:
        total = sum(float(np.sqrt(np.sum(v**2))) for v in g.values())
    if per_tensor:
        out = {}
        for k, v in g.items():
            n = np.sqrt(np.sum(v**2))
            out[k] = v * min(1.0, p["max_norm"] / (n + eps))
        return out, float(total)
    coef = p["max_norm"] / (total + eps)
    coef = coef if always else min(1.0, coef)
    clipped = {k: v * coef for k, v in g.items()}
    if after:
        total = np.sqrt(sum(float(np.sum(v**2)) for v in clipped.values()))
    return clipped, float(total)


def _not_clipped(p):
    g = _grads(p)
    return g, float(np.sqrt(sum(float(np.sum(v**2)) for v in g.values())))


CLIP_NORM = Spec(
    name="clip_grad_norm",
    assignment=ASSIGNMENT,
    args=("grads", "max_norm"),
    outputs=("clipped", "total_norm"),
    cases={
        "visible": Case("global norm above max_norm", _grads_inputs("norm", fixed=True)),
        "visible_below": Case("global norm below max_norm", _grads_inputs("norm", True, True)),
        "random": Case("norm above max_norm, random shapes", _grads_inputs("norm")),
        "below": Case("norm below max_norm, random shapes", _grads_inputs("norm", True)),
    },
    reference=lambda p: _oracle().clip_grad_norm(_grads(p), p["max_norm"]),
    variants=[
        Variant("clip_per_tensor", lambda p: _clip_norm(p, per_tensor=True)),
        Variant("clip_always_scales", lambda p: _clip_norm(p, always=True)),
        Variant("norm_not_square_rooted", lambda p: _clip_norm(p, squared=True)),
        Variant("clip_omitted", _not_clipped),
        Variant("clip_sum_of_norms", lambda p: _clip_norm(p, sum_norms=True)),
        Variant("norm_after_clipping", lambda p: _clip_norm(p, after=True)),
    ],
)


def _clip_value_by_norm(p):
    g = _grads(p)
    total = np.sqrt(sum(float(np.sum(v**2)) for v in g.values()))
    return {k: v * min(1.0, p["clip_value"] / total) for k, v in g.items()}


CLIP_VALUE = Spec(
    name="clip_grad_value",
    assignment=ASSIGNMENT,
    args=("grads", "clip_value"),
    outputs=None,
    cases={
        "visible": Case("clip_value=0.5", _grads_inputs("value", fixed=True)),
        "random": Case("random clip_value and shapes", _grads_inputs("value")),
    },
    reference=lambda p: _oracle().clip_grad_value(_grads(p), p["clip_value"]),
    variants=[
        Variant(
            "clip_one_sided",
            lambda p: {k: np.minimum(v, p["clip_value"]) for k, v in _grads(p).items()},
        ),
        Variant(
            "clip_one_sided",
            lambda p: {k: np.clip(v, 0.0, p["clip_value"]) for k, v in _grads(p).items()},
            "The lower bound is -clip_value, not 0.",
        ),
        Variant("clip_by_norm_not_value", _clip_value_by_norm),
    ],
)

# --- gradient_decay -------------------------------------------------------------------------------


def _decay_inputs(fixed=False, radius=None):
    def make(rng):
        d = dict(VISIBLE) if fixed else random_dims(rng)
        T = 8 if fixed else int(rng.integers(3, 10))
        B, D, H = d["B"], d["D"], d["H"]
        W_hh = normal(rng, H, H)
        rho = radius if radius is not None else float(rng.uniform(0.5, 1.5))
        W_hh *= rho / max(abs(np.linalg.eigvals(W_hh)))
        return {
            "xs": normal(rng, T, B, D),
            "h0": np.tanh(normal(rng, B, H)),
            "W_ih": normal(rng, H, D, scale=0.5),
            "W_hh": W_hh,
            "b_ih": normal(rng, H, scale=0.3),
            "b_hh": normal(rng, H, scale=0.3),
        }

    return make


def torch_gradient_decay(xs, h0, W_ih, W_hh, b_ih, b_hh):
    """Reference by autograd: norms[k] = mean_b ||d h_T / d h_{T-k}||_F for k = 0..T."""
    import torch

    t = {
        k: torch.tensor(v, dtype=torch.float64)
        for k, v in {"W_ih": W_ih, "W_hh": W_hh, "b_ih": b_ih, "b_hh": b_hh}.items()
    }
    h = torch.tensor(h0, dtype=torch.float64, requires_grad=True)
    states = [h]
    for x in torch.tensor(xs, dtype=torch.float64):
        h = torch.tanh(x @ t["W_ih"].T + t["b_ih"] + h @ t["W_hh"].T + t["b_hh"])
        states.append(h)
    T, (B, H) = len(xs), h0.shape
    squares = torch.zeros(T + 1, B, dtype=torch.float64)
    for i in range(H):  # row i of every Jacobian d h_T[b] / d h_s[b], for all s at once
        rows = torch.autograd.grad(
            states[-1][:, i].sum(), states[:-1], retain_graph=True, allow_unused=True
        )
        for s, row in enumerate(rows):
            if row is not None:
                squares[T - s] += (row**2).sum(dim=1)
    squares[0] += 1.0  # k = 0: d h_T / d h_T is the identity (H ones on the diagonal)
    squares[0] += H - 1.0
    return torch.sqrt(squares).mean(dim=1).numpy()


def _np_decay(p, deriv="ok", transpose=False, norm="fro", batch="mean", reverse=False):
    hs, h = [], p["h0"]
    for x in p["xs"]:
        h = np.tanh(x @ p["W_ih"].T + p["b_ih"] + h @ p["W_hh"].T + p["b_hh"])
        hs.append(h)
    states = [p["h0"], *hs]
    T, (B, H) = len(hs), p["h0"].shape
    W = p["W_hh"].T if transpose else p["W_hh"]
    J = np.broadcast_to(np.eye(H), (B, H, H)).copy()
    out = []
    for k in range(T + 1):
        if norm == "fro":
            n = np.sqrt((J**2).sum(axis=(1, 2)))
        else:
            n = np.linalg.norm(J, ord=2, axis=(1, 2))
        out.append({"mean": n.mean(), "sum": n.sum(), "max": n.max()}[batch])
        if k < T:
            t = T - k  # multiply by d h_t / d h_{t-1}
            local = {
                "ok": 1 - states[t] ** 2,
                "missing": np.ones((B, H)),
                "h_prev": 1 - states[t - 1] ** 2,
            }[deriv]
            J = J @ (local[:, :, None] * W[None])
    out = np.array(out)
    return out[::-1] if reverse else out


GRADIENT_DECAY = Spec(
    name="gradient_decay",
    assignment=ASSIGNMENT,
    args=("xs", "h0", "W_ih", "W_hh", "b_ih", "b_hh"),
    outputs="norms",
    cases={
        "visible": Case("T=8, spectral radius 0.9", _decay_inputs(True, 0.9)),
        "random": Case("random sizes and spectral radius", _decay_inputs()),
        "large_radius": Case("spectral radius 1.5, random sizes", _decay_inputs(False, 1.5)),
    },
    reference=lambda p: torch_gradient_decay(**p),
    variants=[
        Variant("tanh_derivative_missing", lambda p: _np_decay(p, deriv="missing")),
        Variant("derivative_uses_h_prev", lambda p: _np_decay(p, deriv="h_prev")),
        Variant(
            "weight_transposed",
            lambda p: _np_decay(p, transpose=True),
            "Row i of d h_t / d h_{t-1} is (1 - h_t[i]**2) * W_hh[i, :].",
        ),
        Variant(
            "wrong_norm", lambda p: _np_decay(p, norm="spectral"), "You used the spectral norm."
        ),
        Variant("batch_summed", lambda p: _np_decay(p, batch="sum")),
        Variant(
            "batch_summed",
            lambda p: _np_decay(p, batch="max"),
            "You took the maximum over the batch; take the mean.",
        ),
        Variant("reversed_distance", lambda p: _np_decay(p, reverse=True)),
    ],
)

SPECS = [RNN_CELL_BACKWARD, RNN_BACKWARD, CLIP_NORM, CLIP_VALUE, GRADIENT_DECAY]
