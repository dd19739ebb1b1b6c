"""Torch float64 oracles for `rnnscratch.optim` and `rnnscratch.gru_lm` (a07).

torch.optim.Adam / SGD stepped on given gradients, the language model's loss and gradients by
nn.GRU + autograd (state detached between windows), and softmax with temperature.
"""

import numpy as np
import torch

from rnnscratch.models.gru import GRU_KEYS
from rnnscratch.oracle import to_numpy as _np
from rnnscratch.oracle import to_tensor as _t
from rnnscratch.oracle.gru import torch_gru_module


def _params_with_grads(p, grads):
    params = {k: torch.nn.Parameter(_t(p[k])) for k in grads}
    for k, param in params.items():
        param.grad = _t(grads[k])
    return params


def torch_adam_step(p, grads, m, v, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
    """One Adam step by torch.optim's own update (`torch.optim.adam.adam`, the function that
    `torch.optim.Adam.step` calls) from the state (m, v, t - 1 steps taken) on `grads`.

    Calling it directly skips `torch.optim.Adam`'s first-construction cost (seconds); the
    oracle test checks it against the class. returns: (new p, new m, new v), numpy dicts.
    """
    from torch.optim.adam import adam

    keys = list(grads)
    params = [_t(p[k]) for k in keys]
    exp_avgs, exp_avg_sqs = [_t(m[k]) for k in keys], [_t(v[k]) for k in keys]
    steps = [torch.tensor(float(t - 1)) for _ in keys]
    with torch.no_grad():
        adam(
            params,
            [_t(grads[k]) for k in keys],
            exp_avgs,
            exp_avg_sqs,
            [],
            steps,
            foreach=False,
            capturable=False,
            differentiable=False,
            fused=None,
            grad_scale=None,
            found_inf=None,
            has_complex=False,
            amsgrad=False,
            beta1=beta1,
            beta2=beta2,
            lr=lr,
            weight_decay=0.0,
            eps=eps,
            maximize=False,
        )
    return (
        {k: _np(x) for k, x in zip(keys, params, strict=True)},
        {k: _np(x) for k, x in zip(keys, exp_avgs, strict=True)},
        {k: _np(x) for k, x in zip(keys, exp_avg_sqs, strict=True)},
    )


def torch_adam_class_step(p, grads, m, v, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
    """The same step through the `torch.optim.Adam` class (slow to construct the first time)."""
    params = _params_with_grads(p, grads)
    opt = torch.optim.Adam(
        list(params.values()), lr=lr, betas=(beta1, beta2), eps=eps, foreach=False
    )
    for k, param in params.items():
        opt.state[param] = {
            "step": torch.tensor(float(t - 1)),
            "exp_avg": _t(m[k]),
            "exp_avg_sq": _t(v[k]),
        }
    opt.step()
    new_m = {k: _np(opt.state[param]["exp_avg"]) for k, param in params.items()}
    new_v = {k: _np(opt.state[param]["exp_avg_sq"]) for k, param in params.items()}
    return {k: _np(param) for k, param in params.items()}, new_m, new_v


def torch_sgd_momentum_step(p, grads, velocity, lr, momentum=0.9):
    """One torch.optim.SGD step with momentum; velocity None on the first step."""
    params = _params_with_grads(p, grads)
    opt = torch.optim.SGD(list(params.values()), lr=lr, momentum=momentum, foreach=False)
    if velocity is not None:
        for k, param in params.items():
            opt.state[param] = {"momentum_buffer": _t(velocity[k])}
    opt.step()
    new_v = {k: _np(opt.state[param]["momentum_buffer"]) for k, param in params.items()}
    return {k: _np(param) for k, param in params.items()}, new_v


def _model(P):
    gru = torch_gru_module({k: P[k] for k in GRU_KEYS})
    W_hy = torch.nn.Parameter(_t(P["W_hy"]))
    b_hy = torch.nn.Parameter(_t(P["b_hy"]))
    return gru, W_hy, b_hy


def _window(model, x_ids, y_ids, h0):
    gru, W_hy, b_hy = model
    V = W_hy.shape[0]
    xs = torch.nn.functional.one_hot(torch.as_tensor(x_ids), V).to(torch.float64)
    hs, h_T = gru(xs, _t(h0)[None])
    logits = hs @ W_hy.T + b_hy
    loss = torch.nn.functional.cross_entropy(
        logits.reshape(-1, V), torch.as_tensor(y_ids).reshape(-1)
    )
    return loss, h_T[0]


def _grads(model):
    gru, W_hy, b_hy = model
    H = W_hy.shape[1]
    out = {"W_hy": _np(W_hy.grad), "b_hy": _np(b_hy.grad)}
    packed = {"W_i": gru.weight_ih_l0, "W_h": gru.weight_hh_l0}
    packed.update(b_i=gru.bias_ih_l0, b_h=gru.bias_hh_l0)
    for prefix, tensor in packed.items():
        for k, gate in enumerate("rzn"):
            out[f"{prefix}{gate}"] = _np(tensor.grad[k * H : (k + 1) * H])
    return out


def torch_lm_loss_and_grads(P, x_ids, y_ids, h0):
    """nn.GRU + linear read-out + mean cross-entropy, autograd. -> (loss, grads, h_T)."""
    model = _model(P)
    loss, h_T = _window(model, x_ids, y_ids, h0)
    loss.backward()
    return float(loss.detach()), _grads(model), _np(h_T)


def torch_tbptt_gradients(P, stream, h0, T):
    """Truncated BPTT in torch: each window's loss and autograd gradients, the state detached.

    returns: (losses (n_windows,), tuple of grads dicts, final h (B, H)).
    """
    losses, grads, h = [], [], _np(_t(h0))
    stream = np.asarray(stream)
    for start in range(0, stream.shape[0] - 1, T):
        stop = min(start + T, stream.shape[0] - 1)
        loss, g, h = torch_lm_loss_and_grads(P, stream[start:stop], stream[start + 1 : stop + 1], h)
        losses.append(loss)
        grads.append(g)
    return np.array(losses), tuple(grads), h


def torch_stream_loss(P, stream):
    """Mean cross-entropy per character on a whole stream (L, B), from a zero state."""
    stream = np.asarray(stream)
    h0 = np.zeros((stream.shape[1], np.shape(P["W_hr"])[0]))
    with torch.no_grad():
        loss, _ = _window(_model(P), stream[:-1], stream[1:], h0)
    return float(loss)


def torch_temperature_probs(logits, temperature):
    """softmax(logits / temperature) along the last axis."""
    return _np(torch.softmax(_t(logits) / temperature, dim=-1))
