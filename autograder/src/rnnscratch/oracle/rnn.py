"""Torch float64 oracles for `rnnscratch.models.rnn`: the same quantities computed by PyTorch.

Inputs and outputs are numpy arrays; inside, everything is a float64 torch tensor, and
gradients come from autograd. Tests and book pages compare our numpy code against these.
"""

import numpy as np
import torch

from rnnscratch.oracle import to_numpy as _np
from rnnscratch.oracle import to_tensor as _t

PARAM_NAMES = ("W_ih", "W_hh", "b_ih", "b_hh")
TORCH_NAMES = {
    "W_ih": "weight_ih_l0",
    "W_hh": "weight_hh_l0",
    "b_ih": "bias_ih_l0",
    "b_hh": "bias_hh_l0",
}


def sigmoid(x):
    """torch.sigmoid. x: (...) -> (...)."""
    return _np(torch.sigmoid(_t(x)))


def softmax(z, axis=-1):
    """torch.softmax along `axis`. z: (..., V) -> (..., V)."""
    return _np(torch.softmax(_t(z), dim=axis))


def log_softmax(z, axis=-1):
    """torch.log_softmax along `axis`. z: (..., V) -> (..., V)."""
    return _np(torch.log_softmax(_t(z), dim=axis))


def activation_and_grad(name, x):
    """Value and elementwise derivative of an activation by autograd.

    name: "sigmoid", "tanh" or "relu".   x: (N,) points.
    returns: (phi(x) (N,), phi'(x) (N,)).
    """
    xt = _t(x, grad=True)
    y = {"sigmoid": torch.sigmoid, "tanh": torch.tanh, "relu": torch.relu}[name](xt)
    y.sum().backward()
    return _np(y), _np(xt.grad)


def sequence_cross_entropy(logits, targets):
    """E = sum_t mean_b cross_entropy(logits_t, targets_t), and dE/dlogits by autograd.

    logits: (T, B, V).   targets: (T, B) int.
    returns: (E as float, dlogits (T, B, V)).
    """
    lt = _t(logits, grad=True)
    tt = torch.as_tensor(np.asarray(targets), dtype=torch.long)
    T, B, V = lt.shape
    per_step = torch.nn.functional.cross_entropy(
        lt.reshape(T * B, V), tt.reshape(T * B), reduction="none"
    ).reshape(T, B)
    loss = per_step.mean(dim=1).sum()
    loss.backward()
    return float(loss.detach()), _np(lt.grad)


def torch_rnn(W_ih, W_hh, b_ih, b_hh):
    """A float64 `torch.nn.RNN` (tanh, one layer, time-major) holding the given weights.

    W_ih: (H, D), W_hh: (H, H), b_ih: (H,), b_hh: (H,) numpy arrays.
    returns: torch.nn.RNN whose weight_ih_l0 ... bias_hh_l0 equal them.
    """
    H, D = np.shape(W_ih)
    rnn = torch.nn.RNN(D, H, nonlinearity="tanh", dtype=torch.float64)
    params = {"W_ih": W_ih, "W_hh": W_hh, "b_ih": b_ih, "b_hh": b_hh}
    rnn.load_state_dict({TORCH_NAMES[k]: _t(v) for k, v in params.items()})
    return rnn


def rnn_cell(x, h_prev, W_ih, W_hh, b_ih, b_hh):
    """One step by `torch.nn.RNNCell`. x: (B, D), h_prev: (B, H) -> h (B, H)."""
    H, D = np.shape(W_ih)
    cell = torch.nn.RNNCell(D, H, nonlinearity="tanh", dtype=torch.float64)
    cell.load_state_dict(
        {"weight_ih": _t(W_ih), "weight_hh": _t(W_hh), "bias_ih": _t(b_ih), "bias_hh": _t(b_hh)}
    )
    with torch.no_grad():
        return _np(cell(_t(x), _t(h_prev)))


def rnn_forward(xs, h0, W_ih, W_hh, b_ih, b_hh):
    """The whole sequence by `torch.nn.RNN`. xs: (T, B, D), h0: (B, H) -> hs (T, B, H)."""
    rnn = torch_rnn(W_ih, W_hh, b_ih, b_hh)
    with torch.no_grad():
        hs, _ = rnn(_t(xs), _t(h0)[None])
    return _np(hs)


def rnn_cell_backward(dh, x, h_prev, W_ih, W_hh, b_ih, b_hh):
    """Gradients of sum(dh * h) for one `torch.nn.RNNCell` step, by autograd.

    dh: (B, H) upstream gradient.   x: (B, D).   h_prev: (B, H).   weights as in `rnn_cell`.
    returns: dict dx, dh_prev, dW_ih, dW_hh, db_ih, db_hh (numpy, PyTorch shapes).
    """
    H, D = np.shape(W_ih)
    cell = torch.nn.RNNCell(D, H, nonlinearity="tanh", dtype=torch.float64)
    cell.load_state_dict(
        {"weight_ih": _t(W_ih), "weight_hh": _t(W_hh), "bias_ih": _t(b_ih), "bias_hh": _t(b_hh)}
    )
    xt, ht = _t(x, grad=True), _t(h_prev, grad=True)
    (cell(xt, ht) * _t(dh)).sum().backward()
    return {
        "dx": _np(xt.grad),
        "dh_prev": _np(ht.grad),
        "dW_ih": _np(cell.weight_ih.grad),
        "dW_hh": _np(cell.weight_hh.grad),
        "db_ih": _np(cell.bias_ih.grad),
        "db_hh": _np(cell.bias_hh.grad),
    }


def rnn_forward_backward(dhs, xs, h0, W_ih, W_hh, b_ih, b_hh, truncate=None):
    """Hidden states and BPTT gradients of L = sum_t sum(dhs[t] * h_t), by autograd.

    With `truncate=k` the same definition as `rnnscratch.models.rnn.rnn_backward`: loss term t only
    reaches steps s with t - s < k. Torch implements it with `detach`: for each t the forward
    pass is re-run from h_{t-k} *detached* (or from h0, not detached, when t - k < 0), so
    autograd cannot follow the path any further back.

    dhs: (T, B, H) weights of each h_t in L.   xs: (T, B, D).   h0: (B, H).
    returns: (hs (T, B, H) from torch.nn.RNN, dict dxs, dh0, dW_ih, dW_hh, db_ih, db_hh).
    """
    rnn = torch_rnn(W_ih, W_hh, b_ih, b_hh)
    xt, h0t, dht = _t(xs, grad=True), _t(h0, grad=True), _t(dhs)
    T = xt.shape[0]
    hs, _ = rnn(xt, h0t[None])
    if truncate is None:
        loss = (hs * dht).sum()
    else:
        loss = 0.0
        for t in range(T):
            start = max(t - truncate + 1, 0)
            h_start = h0t if start == 0 else hs[start - 1].detach()
            window, _ = rnn(xt[start : t + 1], h_start[None])
            loss = loss + (window[-1] * dht[t]).sum()
    loss.backward()
    zeros = torch.zeros_like
    grads = {
        "dxs": _np(xt.grad if xt.grad is not None else zeros(xt)),
        "dh0": _np(h0t.grad if h0t.grad is not None else zeros(h0t)),
    }
    for name in PARAM_NAMES:
        grads["d" + name] = _np(getattr(rnn, TORCH_NAMES[name]).grad)
    return _np(hs), grads


def rnn_forward_backward_chunked(dhs, xs, h0, W_ih, W_hh, b_ih, b_hh, chunk):
    """BPTT gradients of L = sum_t sum(dhs[t] * h_t) with the state detached every `chunk` steps.

    The usual PyTorch training loop over a stream: run `torch.nn.RNN` on steps [0, k), carry the
    last state into the next chunk with `.detach()`, and so on; one backward over the summed loss.

    dhs: (T, B, H).   xs: (T, B, D).   h0: (B, H).   chunk: int k >= 1.
    returns: dict dxs, dh0, dW_ih, dW_hh, db_ih, db_hh (numpy).
    """
    rnn = torch_rnn(W_ih, W_hh, b_ih, b_hh)
    xt, h0t, dht = _t(xs, grad=True), _t(h0, grad=True), _t(dhs)
    T = xt.shape[0]
    loss, h = 0.0, h0t[None]
    for start in range(0, T, chunk):
        out, h = rnn(xt[start : start + chunk], h)
        loss = loss + (out * dht[start : start + chunk]).sum()
        h = h.detach()
    loss.backward()
    grads = {"dxs": _np(xt.grad), "dh0": _np(h0t.grad)}
    for name in PARAM_NAMES:
        grads["d" + name] = _np(getattr(rnn, TORCH_NAMES[name]).grad)
    return grads


def clip_grad_norm(grads, max_norm):
    """Apply torch.nn.utils.clip_grad_norm_ to tensors carrying `grads`.

    grads: dict[str, array].   max_norm: float.
    returns: (clipped dict, total norm before clipping as float).
    """
    params = {k: torch.zeros(np.shape(g), dtype=torch.float64) for k, g in grads.items()}
    for k, p in params.items():
        p.grad = _t(grads[k])
    total = torch.nn.utils.clip_grad_norm_(list(params.values()), max_norm)
    return {k: _np(p.grad) for k, p in params.items()}, float(total)


def clip_grad_value(grads, clip_value):
    """Apply torch.nn.utils.clip_grad_value_. grads: dict[str, array] -> clipped dict."""
    params = {k: torch.zeros(np.shape(g), dtype=torch.float64) for k, g in grads.items()}
    for k, p in params.items():
        p.grad = _t(grads[k])
    torch.nn.utils.clip_grad_value_(list(params.values()), clip_value)
    return {k: _np(p.grad) for k, p in params.items()}
