"""The vanilla (Elman) RNN in numpy: activations, loss, forward, BPTT, gradient clipping.

Conventions (as in the book): math uses column vectors, code uses batches of rows, so the
book's `W_ih x_t` is `x @ W_ih.T` here. Parameters have PyTorch's names and shapes
(`W_ih` (H, D), `W_hh` (H, H), two biases `b_ih`, `b_hh` (H,)). Sequences are time-major
(T, B, D). Letters: T steps, B batch, D input, H hidden, V vocabulary. Everything is float64.
"""

import numpy as np

# ----------------------------------------------------------------------------------------------
# activations and the loss
# ----------------------------------------------------------------------------------------------


def sigmoid(x):
    """Logistic sigmoid 1 / (1 + exp(-x)), computed without overflow for any finite x.

    x: (...) pre-activation.
    returns: (...) values in [0, 1].
    """
    x = np.asarray(x, dtype=np.float64)
    e = np.exp(-np.abs(x))  # in (0, 1]: never overflows
    return np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e))  # eq-sigmoid, both branches equal


def softmax(z, axis=-1):
    """Softmax along `axis`, shifted by the maximum so exp never overflows.

    z: (..., V) logits.
    returns: (..., V) probabilities that sum to 1 along `axis`.
    """
    z = np.asarray(z, dtype=np.float64)
    e = np.exp(z - np.max(z, axis=axis, keepdims=True))  # largest term is exp(0) = 1
    return e / np.sum(e, axis=axis, keepdims=True)  # eq-softmax


def log_softmax(z, axis=-1):
    """log(softmax(z)) along `axis`, via the log-sum-exp trick (no log of an underflowed 0).

    z: (..., V) logits.
    returns: (..., V) log-probabilities (all <= 0).
    """
    z = np.asarray(z, dtype=np.float64)
    shifted = z - np.max(z, axis=axis, keepdims=True)
    return shifted - np.log(np.sum(np.exp(shifted), axis=axis, keepdims=True))  # log-sum-exp


def sequence_cross_entropy(logits, targets) -> float:
    """Cross-entropy summed over time steps and averaged over the batch.

    E = sum_t E_t,  E_t = mean over the batch of -log softmax(logits_t)[target_t]  (eq-loss-sum).

    logits: (T, B, V) unnormalised scores y_t for every step.
    targets: (T, B) int class index (0 <= target < V) for every step.
    returns: float E.
    """
    logp = log_softmax(logits, axis=-1)
    targets = np.asarray(targets)
    picked = np.take_along_axis(logp, targets[..., None], axis=-1)[..., 0]  # (T, B)
    return float(-picked.mean(axis=1).sum())


def sequence_cross_entropy_backward(logits, targets):
    """Gradient of `sequence_cross_entropy` with respect to the logits.

    logits: (T, B, V) unnormalised scores.
    targets: (T, B) int class indices.
    returns: (T, B, V) dE/dlogits = (softmax(logits) - onehot(targets)) / B.
    """
    logits = np.asarray(logits, dtype=np.float64)
    T, B = logits.shape[:2]
    grad = softmax(logits, axis=-1)
    grad[np.arange(T)[:, None], np.arange(B)[None, :], np.asarray(targets)] -= 1.0  # eq-dlogits
    return grad / B


# ----------------------------------------------------------------------------------------------
# forward
# ----------------------------------------------------------------------------------------------


def rnn_cell(x, h_prev, W_ih, W_hh, b_ih, b_hh):
    """One step of a tanh RNN: h = tanh(W_ih x + b_ih + W_hh h_prev + b_hh)  (eq-rnn-h).

    x: (B, D) input at step t.
    h_prev: (B, H) hidden state at step t-1.
    W_ih: (H, D) input-to-hidden weights.   W_hh: (H, H) hidden-to-hidden weights.
    b_ih: (H,) input bias.                  b_hh: (H,) hidden bias.
    returns: h (B, H) hidden state at step t.
    """
    a = x @ W_ih.T + b_ih + h_prev @ W_hh.T + b_hh  # pre-activation, eq-rnn-h
    return np.tanh(a)


def rnn_forward(xs, h0, W_ih, W_hh, b_ih, b_hh):
    """Run `rnn_cell` over a sequence, the same weights at every step (eq-rnn-h).

    xs: (T, B, D) inputs, time-major.
    h0: (B, H) initial hidden state.
    W_ih, W_hh, b_ih, b_hh: as in `rnn_cell`.
    returns: hs (T, B, H) hidden states h_1 ... h_T (h0 is not included).
    """
    xs = np.asarray(xs, dtype=np.float64)
    T, B = xs.shape[:2]
    hs = np.empty((T, B, W_hh.shape[0]))
    h = np.asarray(h0, dtype=np.float64)
    for t in range(T):
        h = rnn_cell(xs[t], h, W_ih, W_hh, b_ih, b_hh)
        hs[t] = h
    return hs


# ----------------------------------------------------------------------------------------------
# backward
# ----------------------------------------------------------------------------------------------


def rnn_cell_backward(dh, x, h_prev, h, W_ih, W_hh):
    """Backward pass of one `rnn_cell` step.

    dh: (B, H) dE/dh, the gradient arriving at this step's output h.
    x: (B, D) the step's input.        h_prev: (B, H) the step's previous hidden state.
    h: (B, H) the step's output (tanh' is computed from it: 1 - h**2).
    W_ih: (H, D), W_hh: (H, H) the weights used in the forward pass.
    returns: dict with
        dx (B, D), dh_prev (B, H)  gradients for the step's inputs,
        dW_ih (H, D), dW_hh (H, H), db_ih (H,), db_hh (H,)  this step's parameter gradients.
    """
    da = dh * (1.0 - h**2)  # through tanh, eq-bptt-da
    return {
        "dx": da @ W_ih,
        "dh_prev": da @ W_hh,  # one Jacobian dh_t/dh_{t-1} applied, eq-bptt-jacobian
        "dW_ih": da.T @ x,
        "dW_hh": da.T @ h_prev,
        "db_ih": da.sum(axis=0),
        "db_hh": da.sum(axis=0),
    }


def _zero_grads(xs, h0, W_ih, W_hh) -> dict:
    """Zero gradients, float64, to accumulate into: dxs (T, B, D), dh0 (B, H), dW_ih (H, D),
    dW_hh (H, H), db_ih (H,), db_hh (H,)."""
    return {
        "dxs": np.zeros_like(np.asarray(xs, dtype=np.float64)),
        "dh0": np.zeros_like(np.asarray(h0, dtype=np.float64)),
        "dW_ih": np.zeros_like(W_ih, dtype=np.float64),
        "dW_hh": np.zeros_like(W_hh, dtype=np.float64),
        "db_ih": np.zeros(W_hh.shape[0]),
        "db_hh": np.zeros(W_hh.shape[0]),
    }


def rnn_backward(dhs, xs, h0, hs, W_ih, W_hh, truncate=None):
    """Backpropagation through time for `rnn_forward`, optionally truncated.

    dhs: (T, B, H) dE/dh_t arriving *directly* at each hidden state from the loss term E_t
        (e.g. from the output layer), not including what flows back from later steps.
    xs: (T, B, D) inputs.   h0: (B, H) initial state.   hs: (T, B, H) from `rnn_forward`.
    W_ih: (H, D), W_hh: (H, H) the forward pass's weights.
    truncate: None for full BPTT, or an int k >= 1 for truncated BPTT. Definition: the
        gradient of the loss term at step t reaches step s (that step's input x_s, its
        previous state h_{s-1} -- h0 when s = 0 -- and the parameters as used at step s)
        only if 0 <= t - s < k. So k = 1 keeps only each step's own term, and any k >= T
        equals full BPTT. Every loss term gets its own k-step window (Williams & Peng's
        BPTT(h)), which costs O(T k) cell backward steps instead of O(T).
    returns: dict with dxs (T, B, D), dh0 (B, H), dW_ih (H, D), dW_hh (H, H), db_ih (H,),
        db_hh (H,).
    """
    dhs = np.asarray(dhs, dtype=np.float64)
    T = dhs.shape[0]
    if truncate is not None and (int(truncate) != truncate or truncate < 1):
        raise ValueError(f"truncate must be None or an integer >= 1, got {truncate!r}")
    grads = _zero_grads(xs, h0, W_ih, W_hh)

    def step(s, dh):
        """Backward through step s; accumulate its gradients; return dE/dh_{s-1}."""
        h_prev = h0 if s == 0 else hs[s - 1]
        g = rnn_cell_backward(dh, xs[s], h_prev, hs[s], W_ih, W_hh)
        grads["dxs"][s] += g["dx"]
        for name in ("dW_ih", "dW_hh", "db_ih", "db_hh"):
            grads[name] += g[name]
        return g["dh_prev"]

    if truncate is None:
        dh_next = np.zeros_like(grads["dh0"])  # dE/dh_t flowing back from steps > t
        for t in reversed(range(T)):
            dh_next = step(t, dhs[t] + dh_next)  # eq-bptt-recursion
        grads["dh0"] = dh_next
        return grads

    for t in range(T):  # each loss term separately, k steps back
        dh = dhs[t]
        for s in range(t, max(t - truncate, -1), -1):
            dh = step(s, dh)
        if t - truncate < 0:  # the window reached step 0: h0 gets this term's gradient
            grads["dh0"] += dh
    return grads


def rnn_backward_chunked(dhs, xs, h0, hs, W_ih, W_hh, chunk):
    """Chunked truncated BPTT: full BPTT inside chunks of `chunk` steps, the state detached between.

    The stream is cut into chunks of steps [0, k), [k, 2k), ...; the state is carried forward
    but detached at every chunk boundary (eq-bptt-chunked). So the loss term at step t reaches
    step s only if s and t lie in the same chunk: the first term of a chunk gets a one-step
    window and the last a k-step window. Costs O(T) cell backward steps (`rnn_backward` with
    `truncate=k` gives every term a full k-step window at O(T k)). `chunk >= T` is full BPTT.

    dhs: (T, B, H) dE/dh_t arriving directly at each hidden state from the loss term E_t.
    xs: (T, B, D) inputs.   h0: (B, H) initial state.   hs: (T, B, H) from `rnn_forward`.
    W_ih: (H, D), W_hh: (H, H) the forward pass's weights.
    chunk: int k >= 1, the chunk length.
    returns: dict with dxs (T, B, D), dh0 (B, H) (only the first chunk reaches h0),
        dW_ih (H, D), dW_hh (H, H), db_ih (H,), db_hh (H,).
    """
    if int(chunk) != chunk or chunk < 1:
        raise ValueError(f"chunk must be an integer >= 1, got {chunk!r}")
    dhs = np.asarray(dhs, dtype=np.float64)
    T = dhs.shape[0]
    grads = _zero_grads(xs, h0, W_ih, W_hh)
    dh_next = np.zeros_like(grads["dh0"])
    for t in reversed(range(T)):
        h_prev = h0 if t == 0 else hs[t - 1]
        g = rnn_cell_backward(dhs[t] + dh_next, xs[t], h_prev, hs[t], W_ih, W_hh)
        grads["dxs"][t] = g["dx"]
        for name in ("dW_ih", "dW_hh", "db_ih", "db_hh"):
            grads[name] += g[name]
        # eq-bptt-recursion inside a chunk; at a chunk's first step h_{t-1} is detached
        dh_next = g["dh_prev"] if t % chunk else np.zeros_like(dh_next)
        if t == 0:
            grads["dh0"] = g["dh_prev"]
    return grads


def hidden_jacobian(h, W_hh):
    """Jacobian dh_t/dh_{t-1} = diag(1 - h_t**2) W_hh of a tanh RNN step, one per example.

    h: (B, H) the step's output h_t.   W_hh: (H, H).
    returns: (B, H, H) J with J[b, i, j] = d h_t[b, i] / d h_{t-1}[b, j]  (eq-bptt-jacobian).
    """
    return (1.0 - h**2)[:, :, None] * W_hh[None, :, :]


def jacobian_product_norms(dphis, W_hh):
    """Spectral norms of dh_T/dh_{T-d} = prod_j diag(phi'(a_j)) W_hh, for d = 0 ... T.

    dphis: (T, B, H) phi'(a_t) at every step (1 - h_t**2 for tanh, (a_t > 0) for ReLU, ones for
        a linear RNN).
    W_hh: (H, H) recurrent weights.
    returns: (T + 1, B) norms; row d is ||dh_T/dh_{T-d}||_2 for each example (row 0 is 1).
    """
    T, B, H = dphis.shape
    M = np.broadcast_to(np.eye(H), (B, H, H)).copy()  # dh_T/dh_T = I
    norms = [np.ones(B)]
    for t in reversed(range(T)):  # M <- M @ dh_t/dh_{t-1}, eq-vg-product
        M = M @ (dphis[t][:, :, None] * W_hh[None])
        norms.append(np.linalg.norm(M, ord=2, axis=(1, 2)))
    return np.array(norms)


def rnn_lm_loss_and_grads(P, xs, targets, h0, truncate=None):
    """Loss and gradients of an RNN with a linear read-out trained with sequence cross-entropy.

    y_t = W_hy h_t + b_hy on top of `rnn_forward`; E = `sequence_cross_entropy`(y, targets).
    P: dict W_ih (H, D), W_hh (H, H), b_ih (H,), b_hh (H,), W_hy (V, H), b_hy (V,).
    xs: (T, B, D) inputs.   targets: (T, B) int.   h0: (B, H).
    truncate: passed to `rnn_backward` (None: full BPTT).
    returns: (E as float, dict of gradients named "d" + parameter name, plus dxs and dh0).
    """
    hs = rnn_forward(xs, h0, P["W_ih"], P["W_hh"], P["b_ih"], P["b_hh"])
    logits = hs @ P["W_hy"].T + P["b_hy"]  # (T, B, V), eq-rnn-y
    dlogits = sequence_cross_entropy_backward(logits, targets)  # (T, B, V), eq-dlogits
    dhs = dlogits @ P["W_hy"]  # direct gradient dE_t/dh_t, (T, B, H)
    grads = rnn_backward(dhs, xs, h0, hs, P["W_ih"], P["W_hh"], truncate=truncate)
    grads["dW_hy"] = np.einsum("tbv,tbh->vh", dlogits, hs)
    grads["db_hy"] = dlogits.sum(axis=(0, 1))
    return sequence_cross_entropy(logits, targets), grads


# ----------------------------------------------------------------------------------------------
# gradient clipping
# ----------------------------------------------------------------------------------------------


def clip_grad_norm(grads, max_norm):
    """Rescale all gradients together so their global L2 norm is at most `max_norm`.

    Same formula as torch.nn.utils.clip_grad_norm_ (norm_type 2): total = sqrt(sum of all
    squared entries); every gradient is multiplied by min(1, max_norm / (total + 1e-6))
    (eq-clip-norm). The direction of the full gradient is unchanged.

    grads: dict[str, array] gradients of any shapes.
    max_norm: float the largest allowed global norm.
    returns: (clipped dict of new arrays, total norm before clipping as a float).
    """
    total = float(np.sqrt(sum(float(np.sum(np.square(g))) for g in grads.values())))
    coef = min(1.0, max_norm / (total + 1e-6))
    return {name: np.asarray(g, dtype=np.float64) * coef for name, g in grads.items()}, total


def clip_grad_value(grads, clip_value):
    """Clip every gradient entry to [-clip_value, clip_value] (torch.nn.utils.clip_grad_value_).

    grads: dict[str, array] gradients.   clip_value: float > 0.
    returns: dict of new clipped arrays (the direction can change, unlike `clip_grad_norm`).
    """
    return {name: np.clip(g, -clip_value, clip_value) for name, g in grads.items()}
