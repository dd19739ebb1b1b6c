"""A character-level GRU language model in numpy, trained on a toy grammar's stream (a07).

The model reads one-hot characters (D = V), runs `rnnscratch.models.gru.gru_forward`, and reads out
logits y_t = W_hy h_t + b_hy. The loss is the mean cross-entropy per character (nats). A long
text is cut into B parallel streams (the minibatch) and read in windows of T steps: truncated
BPTT carries the state h from window to window but no gradient. Parameters `P` are one flat
dict: the GRU's per-gate keys (`rnnscratch.models.gru.GRU_KEYS`) plus `W_hy` (V, H) and `b_hy` (V,);
gradient dicts use the same keys as `P`.
"""

import numpy as np

from rnnscratch.models.gru import GRU_KEYS, gru_backward, gru_forward
from rnnscratch.models.optim import adam_step
from rnnscratch.models.rnn import clip_grad_norm, log_softmax, softmax

VOCAB = "$aXb"  # the counting grammar's characters; "$" ends a string


def counting_text(n_strings, rng, n_max=10):
    """Concatenated strings a^n X b^n $ of the counting grammar, n uniform in 1..n_max.

    n_strings: int.   rng: numpy Generator.
    returns: str.
    """
    ns = rng.integers(1, n_max + 1, size=n_strings)
    return "".join("a" * n + "X" + "b" * n + "$" for n in ns)


def batch_stream(text, B, vocab=VOCAB):
    """Cut `text` into B equal contiguous parts, one per column (the rest is dropped).

    returns: stream (L, B) int64 token ids, time-major; column b continues where b-1 stops.
    """
    ids = np.array([vocab.index(ch) for ch in text], dtype=np.int64)
    L = len(ids) // B
    return ids[: L * B].reshape(B, L).T.copy()


def init_lm_params(V, H, rng, scale=None):
    """Random parameters of the GRU language model, uniform(-1/sqrt(H), 1/sqrt(H)) as PyTorch.

    returns: P dict: W_i* (H, V), W_h* (H, H), b_i*, b_h* (H,), W_hy (V, H), b_hy (V,).
    """
    k = 1.0 / np.sqrt(H) if scale is None else scale
    shapes = {"W_i": (H, V), "W_h": (H, H), "b_i": (H,), "b_h": (H,)}
    P = {key: rng.uniform(-k, k, size=shapes[key[:3]]) for key in GRU_KEYS}
    P["W_hy"] = rng.uniform(-k, k, size=(V, H))
    P["b_hy"] = np.zeros(V)
    return P


def lm_loss_and_grads(P, x_ids, y_ids, h0):
    """Mean cross-entropy of one window and its gradients (BPTT inside the window only).

    P: parameters.   x_ids, y_ids: (T, B) int input and target ids (y is x shifted by one).
    h0: (B, H) state carried in from the previous window (no gradient flows back into it).
    returns: (loss as float, grads dict with the keys of P, h_T (B, H) to carry on).
    """
    V = P["W_hy"].shape[0]
    xs = np.eye(V)[x_ids]  # one-hot inputs, (T, B, V)
    hs, gates = gru_forward(xs, h0, P, return_gates=True)
    logits = hs @ P["W_hy"].T + P["b_hy"]  # (T, B, V)
    N = y_ids.size
    logp = log_softmax(logits)
    loss = -float(np.take_along_axis(logp, y_ids[..., None], axis=-1).sum()) / N
    dlogits = (softmax(logits) - np.eye(V)[y_ids]) / N
    g = gru_backward(dlogits @ P["W_hy"], xs, h0, hs, gates, P)
    grads = {k: g[f"d{k}"] for k in GRU_KEYS}
    grads["W_hy"] = np.einsum("tbv,tbh->vh", dlogits, hs)
    grads["b_hy"] = dlogits.sum(axis=(0, 1))
    return loss, grads, hs[-1]


def tbptt_gradients(P, stream, h0, T):
    """Truncated BPTT over a stream: windows of T steps, the state carried, no gradient across.

    stream: (L, B) int ids.   h0: (B, H) initial state.   T: int window length.
    Window k reads stream[kT : kT + T] and predicts stream[kT + 1 : kT + T + 1]; the last
    window is shorter when L - 1 is not a multiple of T.
    returns: (losses (n_windows,), list of n_windows grads dicts, final state h (B, H)).
    """
    losses, grads, h = [], [], h0
    for start in range(0, stream.shape[0] - 1, T):
        stop = min(start + T, stream.shape[0] - 1)
        loss, g, h = lm_loss_and_grads(P, stream[start:stop], stream[start + 1 : stop + 1], h)
        losses.append(loss)
        grads.append(g)
    return np.array(losses), grads, h


def sample_next(logits, temperature, rng):
    """Draw one token per row from softmax(logits / temperature) (inverse CDF).

    logits: (B, V).   temperature: float > 0 (below 1 sharper, above 1 flatter).
    rng: numpy Generator.
    returns: (B,) int64 token ids.
    """
    probs = softmax(np.asarray(logits, dtype=np.float64) / temperature)  # eq-temperature
    u = rng.random((probs.shape[0], 1))
    index = (np.cumsum(probs, axis=-1) < u).sum(axis=-1)
    return np.minimum(index, probs.shape[-1] - 1).astype(np.int64)


def train(P, stream, steps, T=16, lr=0.02, max_norm=1.0):
    """Train with truncated BPTT, global-norm clipping and Adam; the stream is read in a loop.

    P: initial parameters.   stream: (L, B) int ids.   steps: int number of Adam steps.
    returns: (trained parameters, losses (steps,) of the windows trained on).
    """
    m = {k: np.zeros_like(v) for k, v in P.items()}
    v = {k: np.zeros_like(w) for k, w in P.items()}
    h = np.zeros((stream.shape[1], P["W_hr"].shape[0]))
    start, losses = 0, []
    for t in range(1, steps + 1):
        if start + 1 >= stream.shape[0]:  # end of the stream: start again from a zero state
            start, h = 0, np.zeros_like(h)
        stop = min(start + T, stream.shape[0] - 1)
        loss, g, h = lm_loss_and_grads(P, stream[start:stop], stream[start + 1 : stop + 1], h)
        g, _ = clip_grad_norm(g, max_norm)
        P, m, v = adam_step(P, g, m, v, t, lr=lr)
        losses.append(loss)
        start = stop
    return P, np.array(losses)


def stream_loss(P, stream):
    """Mean cross-entropy per character of `P` on a whole stream, read from a zero state."""
    h0 = np.zeros((stream.shape[1], P["W_hr"].shape[0]))
    loss, _, _ = lm_loss_and_grads(P, stream[:-1], stream[1:], h0)
    return loss


def generate(P, n, temperature, rng, sampler, vocab=VOCAB, start="$"):
    """Sample n characters one at a time with `sampler` (such as `sample_next`), feeding each
    character back in.

    returns: str of n characters (the `start` character is not included).
    """
    V = len(vocab)
    h = np.zeros((1, P["W_hr"].shape[0]))
    token = np.array([vocab.index(start)])
    out = []
    for _ in range(n):
        hs = gru_forward(np.eye(V)[token][None], h, P)
        h = hs[-1]
        logits = h @ P["W_hy"].T + P["b_hy"]
        token = np.asarray(sampler(logits, temperature, rng)).reshape(1)
        out.append(vocab[int(token[0])])
    return "".join(out)
