"""a07_train: Adam, clipping, truncated BPTT over a stream, sampling with temperature, training.

Adam is checked against `torch.optim.Adam` stepped on the same gradients, the truncated-BPTT
loop against nn.GRU autograd window by window. Two checks are not closeness to a reference:
the sampler (a chi-square test of its draws against softmax(logits / temperature), fixed seed)
and training (the returned parameters' loss on held-out strings, computed by torch, must be
below `LOSS_THRESHOLD`). Both run on the trusted side from the recorded result.
"""

import dataclasses

import numpy as np

from rnnscratch.exercises.a02_bptt import CLIP_NORM
from rnnscratch.exercises.common import normal, random_dims
from rnnscratch.exercises.plain import group
from rnnscratch.exercises.protocol import SAMPLER_DRAWS, prepare_sampler
from rnnscratch.exercises.spec import Case, Mismatch, Spec, Variant

ASSIGNMENT = "a07_train"
GRU_KEYS = tuple(f"{w}{g}" for w in ("W_i", "W_h", "b_i", "b_h") for g in ("r", "z", "n"))


def _oracle():
    from rnnscratch.oracle import gru_lm

    return gru_lm


# --- adam_step ------------------------------------------------------------------------------------

ADAM_ARGS = ("p", "grads", "m", "v", "t", "lr", "beta1", "beta2", "eps")


def _adam_inputs(first=False, fixed=False, tiny_grads=False):
    def make(rng):
        d = {"D": 4, "H": 5} if fixed else random_dims(rng)
        shapes = {"W": (d["H"], d["D"]), "b": (d["H"],)}
        q = {}
        for k, s in shapes.items():
            q[f"p.{k}"] = normal(rng, *s)
            q[f"grads.{k}"] = normal(rng, *s, scale=1e-3 if tiny_grads else 1.0)
            q[f"m.{k}"] = np.zeros(s) if first else normal(rng, *s, scale=0.3)
            q[f"v.{k}"] = np.zeros(s) if first else normal(rng, *s, scale=0.3) ** 2
        q["t"] = 1 if first else (5 if fixed else int(rng.integers(2, 50)))
        q["lr"] = 0.01 if fixed else float(np.round(rng.uniform(1e-3, 0.1), 4))
        q["beta1"] = 0.9 if fixed else float(np.round(rng.uniform(0.5, 0.95), 3))
        q["beta2"] = 0.999 if fixed else float(np.round(rng.uniform(0.9, 0.9999), 4))
        q["eps"] = 1e-8 if not tiny_grads else 1e-3
        return q

    return make


def np_adam(
    q,
    *,
    correct=True,
    reverse=False,
    square=True,
    eps_inside=False,
    t_shift=0,
    sign=1,
    blend=True,
    root=True,
    hats=False,
):
    """Numpy Adam step with optional mistakes (a known-wrong variant generator).

    correct: True, False, or "m" / "v" (only that moment corrected); blend=False drops the
    (1 - beta) factor of the new gradient; root=False drops the square root; hats=True returns
    the bias-corrected moments as the new state."""
    p, g, m, v = (group(q, k) for k in ("p", "grads", "m", "v"))
    b1, b2, t = q["beta1"], q["beta2"], q["t"] + t_shift
    new_p, new_m, new_v = {}, {}, {}
    for k in g:
        a1, a2 = ((1 - b1), (1 - b2)) if reverse else (b1, b2)
        w1, w2 = ((1 - a1), (1 - a2)) if blend else (1.0, 1.0)
        new_m[k] = a1 * m[k] + w1 * g[k]
        new_v[k] = a2 * v[k] + w2 * (g[k] ** 2 if square else np.abs(g[k]))
        m_hat = new_m[k] / (1 - b1**t) if correct in (True, "m") else new_m[k]
        v_hat = new_v[k] / (1 - b2**t) if correct in (True, "v") else new_v[k]
        r = np.sqrt(v_hat) if root else v_hat
        denom = np.sqrt(v_hat + q["eps"]) if eps_inside else r + q["eps"]
        new_p[k] = p[k] - sign * q["lr"] * m_hat / denom
        if hats:
            new_m[k], new_v[k] = m_hat, v_hat
    return new_p, new_m, new_v


def _adam_variant(**kw):
    return lambda q: np_adam(q, **kw)


ADAM_STEP = Spec(
    name="adam_step",
    assignment=ASSIGNMENT,
    args=ADAM_ARGS,
    outputs=("p", "m", "v"),
    cases={
        "visible_first": Case("the first step: t = 1, m = v = 0", _adam_inputs(True, True)),
        "visible": Case(
            "a later step: t = 5, m and v from earlier steps", _adam_inputs(fixed=True)
        ),
        "visible_eps": Case(
            "tiny gradients, eps = 1e-3: where eps goes matters",
            _adam_inputs(fixed=True, tiny_grads=True),
        ),
        "first": Case("t = 1, random shapes and hyperparameters", _adam_inputs(True)),
        "random": Case("random t, state, shapes and hyperparameters", _adam_inputs()),
        "eps": Case("tiny gradients, random state", _adam_inputs(tiny_grads=True)),
    },
    reference=lambda q: _oracle().torch_adam_step(
        group(q, "p"),
        group(q, "grads"),
        group(q, "m"),
        group(q, "v"),
        *(q[k] for k in ADAM_ARGS[4:]),
    ),
    variants=[
        Variant("adam_no_bias_correction", _adam_variant(correct=False)),
        Variant("moment_blend_reversed", _adam_variant(reverse=True)),
        Variant("adam_v_not_squared", _adam_variant(square=False)),
        Variant("adam_eps_inside_sqrt", _adam_variant(eps_inside=True)),
        Variant("adam_step_count", _adam_variant(t_shift=1)),
        Variant("adam_step_count", _adam_variant(t_shift=-1)),
        Variant("update_sign", _adam_variant(sign=-1)),
        Variant("adam_bias_correction_partial", _adam_variant(correct="m"), "v is not corrected."),
        Variant("adam_bias_correction_partial", _adam_variant(correct="v"), "m is not corrected."),
        Variant("moment_new_gradient_unweighted", _adam_variant(blend=False)),
        Variant("adam_sqrt_missing", _adam_variant(root=False)),
        Variant("adam_corrected_moments_stored", _adam_variant(hats=True)),
    ],
)

# --- clip_gradients (the global-norm clipping of a02, now inside the training loop) -------------

CLIP_GRADIENTS = dataclasses.replace(CLIP_NORM, name="clip_gradients", assignment=ASSIGNMENT)

# --- tbptt_gradients ------------------------------------------------------------------------------


def _lm_params(rng, V, H, prefix="P."):
    k = 1.0 / np.sqrt(H)
    shapes = {"W_i": (H, V), "W_h": (H, H), "b_i": (H,), "b_h": (H,)}
    out = {f"{prefix}{key}": rng.uniform(-2 * k, 2 * k, size=shapes[key[:3]]) for key in GRU_KEYS}
    out[f"{prefix}W_hy"] = rng.uniform(-2 * k, 2 * k, size=(V, H))
    out[f"{prefix}b_hy"] = normal(rng, V, scale=0.3)
    return out


def _tbptt_inputs(L=None, T=None, fixed=False):
    def make(rng):
        if fixed:
            V, H, B = 4, 5, 2
        else:
            d = random_dims(rng)
            V, H, B = max(d["V"], 2), d["H"], d["B"]
        length = L if L is not None else int(rng.integers(6, 20))
        window = T if T is not None else int(rng.integers(2, 6))
        q = {"stream": rng.integers(0, V, size=(length, B)).astype(np.int64), "T": window}
        q["h0"] = np.tanh(normal(rng, B, H))
        return q | _lm_params(rng, V, H)

    return make


def np_tbptt(q, *, carry=True, shift=1, drop_last=False, stride=0):
    """Numpy truncated BPTT with optional mistakes (uses the reference window maths)."""
    from rnnscratch.models.gru_lm import lm_loss_and_grads

    P, stream, T, h = group(q, "P"), q["stream"], q["T"], q["h0"]
    losses, grads = [], []
    last = stream.shape[0] - 1
    for start in range(0, last, T + stride):
        stop = min(start + T, last)
        if drop_last and stop - start < T:
            break
        loss, g, h_new = lm_loss_and_grads(
            P, stream[start:stop], stream[start + shift : stop + shift], h
        )
        h = h_new if carry else q["h0"]
        losses.append(loss)
        grads.append(g)
    return np.array(losses), grads, h_new


def _tbptt_variant(**kw):
    return lambda q: np_tbptt(q, **kw)


TBPTT = Spec(
    name="tbptt_gradients",
    assignment=ASSIGNMENT,
    args=("P", "stream", "h0", "T"),
    outputs=("losses", "grads", "h"),
    cases={
        "visible": Case(
            "L = 13, T = 4: three full windows, B=2, V=4, H=5", _tbptt_inputs(13, 4, True)
        ),
        "visible_ragged": Case(
            "L = 11, T = 4: the last window has 2 steps", _tbptt_inputs(11, 4, True)
        ),
        "visible_one_window": Case(
            "L = 6, T = 8: one window of 5 steps (plain BPTT)", _tbptt_inputs(6, 8, True)
        ),
        "random": Case("random sizes, stream length and window", _tbptt_inputs()),
        "ragged": Case("random sizes, L - 1 not a multiple of T", _tbptt_inputs(12, 5)),
    },
    reference=lambda q: _oracle().torch_tbptt_gradients(
        group(q, "P"), q["stream"], q["h0"], q["T"]
    ),
    variants=[
        Variant("state_not_carried_across_windows", _tbptt_variant(carry=False)),
        Variant("targets_not_shifted", _tbptt_variant(shift=0)),
        Variant("last_window_dropped", _tbptt_variant(drop_last=True)),
        Variant("window_stride", _tbptt_variant(stride=1)),
        Variant("window_stride", _tbptt_variant(stride=-1)),
    ],
)

# --- sample_next: a statistical test --------------------------------------------------------------

N_SAMPLES = SAMPLER_DRAWS  # draws per test (the protocol repeats the stored row this often)
#: a correct sampler fails a test with this probability (chi-square p-value below it)
ALPHA = 1e-4


def _sample_inputs(temperature=None, fixed=False):
    def make(rng):
        V = 5 if fixed else int(rng.integers(3, 8))
        row = normal(rng, V, scale=1.2)
        temp = temperature if temperature is not None else float(rng.choice([0.5, 1.0, 2.0]))
        return {
            "logits": row[None],  # one row; `prepare_sampler` repeats it N_SAMPLES times
            "temperature": float(temp),
            "rng": int(rng.integers(2**31)),
        }

    return make


def _probs(logits, scale):
    z = logits * scale
    e = np.exp(z - z.max())
    return e / e.sum()


def chi_square_pvalue(counts, probs) -> float:
    """P-value of Pearson's chi-square test of `counts` against `probs` (bins with an expected
    count below 5 are pooled). A draw from a category of probability 0 gives 0."""
    import torch

    counts, probs = np.asarray(counts, dtype=np.float64), np.asarray(probs, dtype=np.float64)
    n = counts.sum()
    expected = n * probs
    if np.any((expected < 1e-9) & (counts > 0)):
        return 0.0
    small = expected < 5
    obs = np.append(counts[~small], counts[small].sum())
    exp = np.append(expected[~small], expected[small].sum())
    keep = exp > 1e-9
    obs, exp = obs[keep], exp[keep]
    if len(exp) < 2:
        return 1.0
    stat = float(np.sum((obs - exp) ** 2 / exp))
    dof = len(exp) - 1
    return float(torch.special.gammaincc(torch.tensor(dof / 2.0), torch.tensor(stat / 2.0)))


def _sample_variants(logits, temperature):
    V = len(logits)
    greedy = np.eye(V)[int(np.argmax(logits))]
    return [
        ("temperature_multiplied", _probs(logits, temperature)),
        ("temperature_ignored", _probs(logits, 1.0)),
        ("greedy_not_sampled", greedy),
        ("sampling_not_from_softmax", np.full(V, 1.0 / V)),
    ]


def _verify_samples(inputs, node, expected):
    logits, temperature = inputs["logits"], inputs["temperature"]
    N, V = N_SAMPLES, logits.shape[-1]
    want = f"an integer array of shape ({N},) with values in 0..{V - 1}"
    if node.data is None or node.kind not in ("ndarray", "list"):
        key = {"torch": "torch_tensor", "none": "returned_none"}.get(node.kind, "wrong_structure")
        raise Mismatch(f"samples: expected {want}, got {node.describe()}.", key, "type")
    data = np.asarray(node.data)
    if data.shape != (N,):
        raise Mismatch(
            f"samples: expected shape ({N},), got shape {data.shape}.", "wrong_shape", "shape"
        )
    if not np.all(np.isfinite(data)) or np.any(data != np.round(data)):
        raise Mismatch(f"samples: expected {want}, got non-integer values.", "not_an_array", "type")
    if data.min() < 0 or data.max() >= V:
        raise Mismatch(
            f"samples: token ids must lie in 0..{V - 1}, got {int(data.min())}..{int(data.max())}.",
            "wrong_shape",
            "values",
        )
    counts = np.bincount(data.astype(np.int64), minlength=V)
    pvalue = chi_square_pvalue(counts, expected)
    if pvalue >= ALPHA:
        return
    fits = [
        (chi_square_pvalue(counts, p), key) for key, p in _sample_variants(logits[0], temperature)
    ]
    best_p, best_key = max(fits)
    text = (
        f"samples: the frequencies of {N} draws do not follow softmax(logits / temperature) "
        f"(temperature {temperature:g}; chi-square p-value {pvalue:.1e} < {ALPHA:g}). "
        f"Observed {np.round(counts / N, 3).tolist()}, expected {np.round(expected, 3).tolist()}."
    )
    raise Mismatch(text, best_key if best_p >= ALPHA else None, "statistic")


SAMPLE_NEXT = Spec(
    name="sample_next",
    assignment=ASSIGNMENT,
    args=("logits", "temperature", "rng"),
    outputs="samples",
    cases={
        "visible_t05": Case(f"temperature 0.5, {N_SAMPLES} draws", _sample_inputs(0.5, True)),
        "visible_t1": Case(f"temperature 1, {N_SAMPLES} draws", _sample_inputs(1.0, True)),
        "visible_t2": Case(f"temperature 2, {N_SAMPLES} draws", _sample_inputs(2.0, True)),
        "t05": Case("temperature 0.5, random logits", _sample_inputs(0.5)),
        "t1": Case("temperature 1, random logits", _sample_inputs(1.0)),
        "t2": Case("temperature 2, random logits", _sample_inputs(2.0)),
    },
    reference=lambda q: _oracle().torch_temperature_probs(q["logits"][0], q["temperature"]),
    prepare=prepare_sampler,
    verify=_verify_samples,
)

# --- train: the loss after `steps` steps must be below a threshold -------------------------------

#: mean cross-entropy per character (nats) on held-out strings that a trained model must beat:
#: the bigram model's (counts of character pairs, about 0.40). The untrained model scores about
#: 1.3-1.4, character frequencies 1.13; the reference `rnnscratch.gru_lm.train` reaches
#: 0.28-0.32 after 100 steps (six seeds).
LOSS_THRESHOLD = 0.40
TRAIN_SIZES = {"V": 4, "H": 16, "B": 16, "steps": 100}


def _train_inputs(fixed=False):
    def make(rng):
        from rnnscratch.models.gru_lm import batch_stream, counting_text, init_lm_params

        s = TRAIN_SIZES
        P = init_lm_params(s["V"], s["H"], rng)
        q = {f"P.{k}": v for k, v in P.items()}
        q["stream"] = batch_stream(counting_text(300, rng), s["B"])
        q["probe.stream"] = batch_stream(counting_text(200, rng), s["B"])
        return q | {"steps": s["steps"]}

    return make


def _verify_training(inputs, node, expected):
    P0 = group(inputs, "P")
    if node.kind != "dict":
        key = "returned_none" if node.kind == "none" else "wrong_structure"
        raise Mismatch(
            f"train: expected the trained parameters (a dict with keys {sorted(P0)}), got "
            f"{node.describe()}.",
            key,
            "type",
        )
    missing = [k for k in P0 if k not in node.items]
    if missing:
        raise Mismatch(
            f"train: the returned dict lacks the keys {missing}.", "missing_keys", "type"
        )
    P = {}
    for k, start in P0.items():
        item = node.items[k]
        if item.data is None or item.data.shape != start.shape or item.data.dtype.kind != "f":
            raise Mismatch(
                f"train: P['{k}'] should be a float array of shape {start.shape}, got "
                f"{item.describe()}.",
                "wrong_shape",
                "shape",
            )
        if not np.all(np.isfinite(item.data)):
            raise Mismatch(f"train: P['{k}'] holds NaN or infinity.", "training_diverged", "finite")
        P[k] = item.data.astype(np.float64)
    loss = _oracle().torch_stream_loss(P, inputs["probe.stream"])
    if loss < LOSS_THRESHOLD:
        return
    same = all(np.allclose(P[k], P0[k]) for k in P0)
    raise Mismatch(
        f"train: after {inputs['steps']} steps the loss on held-out strings is {loss:.3f} nats "
        f"per character; it must be below {LOSS_THRESHOLD} (the untrained model: "
        f"{float(expected):.3f}).",
        "parameters_not_updated" if same else "training_too_slow",
        "statistic",
    )


TRAIN = Spec(
    name="train",
    assignment=ASSIGNMENT,
    args=("P", "stream", "steps"),
    outputs="P",
    cases={
        "visible": Case(
            f"{TRAIN_SIZES['steps']} steps on the counting grammar, fixed seed",
            _train_inputs(fixed=True),
        ),
        "random": Case("a fresh initialisation and stream", _train_inputs()),
    },
    reference=lambda q: _oracle().torch_stream_loss(group(q, "P"), q["probe.stream"]),
    verify=_verify_training,
)

SPECS = [ADAM_STEP, CLIP_GRADIENTS, TBPTT, SAMPLE_NEXT, TRAIN]
