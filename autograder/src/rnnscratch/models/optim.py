"""Optimisers in numpy, one step at a time: SGD with momentum and Adam (torch.optim's formulas).

Parameters and gradients are dicts of arrays with the same keys; every function returns new
arrays (nothing is changed in place), so a step can be compared with `torch.optim` directly.
"""

import numpy as np


def sgd_momentum_step(p, grads, velocity, lr, momentum=0.9):
    """One step of SGD with momentum, as torch.optim.SGD (dampening 0, no Nesterov).

    p: dict[str, array] parameters.   grads: dict[str, array] their gradients (same keys).
    velocity: dict[str, array] momentum buffers, or None on the first step (torch starts the
        buffer at the first gradient).
    lr, momentum: floats.
    returns: (new p, new velocity), dicts of new arrays.
    """
    new_p, new_v = {}, {}
    for k, g in grads.items():
        v = g if velocity is None else momentum * velocity[k] + g  # eq-momentum
        new_v[k] = np.asarray(v, dtype=np.float64)
        new_p[k] = p[k] - lr * new_v[k]
    return new_p, new_v


def adam_step(p, grads, m, v, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
    """One step of Adam (Kingma & Ba 2015), as torch.optim.Adam (no weight decay, no amsgrad).

    p: dict[str, array] parameters.   grads: dict[str, array] their gradients (same keys).
    m, v: dict[str, array] first and second moment estimates before this step (zeros at first).
    t: int this step's number, counting from 1 (used for the bias correction).
    lr, beta1, beta2, eps: floats.
    returns: (new p, new m, new v), dicts of new arrays.
    """
    new_p, new_m, new_v = {}, {}, {}
    for k, g in grads.items():
        new_m[k] = beta1 * m[k] + (1.0 - beta1) * g  # eq-adam-m, a running mean of g
        new_v[k] = beta2 * v[k] + (1.0 - beta2) * g * g  # eq-adam-v, a running mean of g**2
        m_hat = new_m[k] / (1.0 - beta1**t)  # bias correction, eq-adam-hat
        v_hat = new_v[k] / (1.0 - beta2**t)
        new_p[k] = p[k] - lr * m_hat / (np.sqrt(v_hat) + eps)  # eq-adam-step
    return new_p, new_m, new_v
