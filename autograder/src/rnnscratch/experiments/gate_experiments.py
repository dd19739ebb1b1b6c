"""Small torch experiments for Part II: a memory task, LSTM variants that train, gradient reach.

- `recall_batch`: the *delayed recall* task. Step 0 shows a bit as +1 or -1; every later step
  shows only noise; after T steps the model must say which bit it saw. Guessing scores 50 %.
- `GatedRNN`: a one-layer LSTM-family model written step by step in torch, in three kinds:
  "standard" (as nn.LSTM), "peephole" (Gers & Schmidhuber 2000) and "coupled" (i = 1 - f);
  or "rnn" (tanh RNN) for comparison; or "gru" (PyTorch's GRU, reset after the recurrent
  matmul) and "gru_cho" (Cho et al.'s, reset before it). Gate order and initialisation follow
  nn.LSTM (i, f, g, o) and nn.GRU (r, z, n).
- `run_recall`: train one model on the task for a fixed number of Adam steps (deterministic),
  return its final loss and accuracy on a held-out batch.
- `input_gradient_norms`: ||dLoss/dx_t|| for a loss on the last hidden state only, per step.
"""

from __future__ import annotations

import math

import numpy as np
import torch
from torch import nn

from rnnscratch.experiments.train import train
from rnnscratch.seed import set_seed

KINDS = ("standard", "peephole", "coupled")
GRU_KINDS = ("gru", "gru_cho")


def recall_batch(T: int, B: int, rng: np.random.Generator, noise: float = 1.0):
    """A batch of the delayed recall task.

    T: int steps, B: int batch, rng: np.random.Generator, noise: float std of distractor noise
    returns xs: (T, B, 2) float32 (channel 0: the bit at step 0, channel 1: noise at steps
            1..T-1), y: (B,) float32 target bit in {0, 1}
    """
    bits = rng.integers(0, 2, size=B)
    xs = np.zeros((T, B, 2), dtype=np.float32)
    xs[0, :, 0] = 2.0 * bits - 1.0
    xs[1:, :, 1] = noise * rng.standard_normal((T - 1, B))
    return xs, bits.astype(np.float32)


class GatedRNN(nn.Module):
    """An LSTM variant (or a plain tanh RNN) over time-major inputs, with a linear readout.

    kind: "standard", "peephole", "coupled", "rnn", "gru" or "gru_cho"
    D: int input size, H: int hidden size
    forget_bias: float | None  if given, b_if + b_hf starts at this value (b_hf = 0)
    forward(xs (T, B, D)) -> (logits (B,) from the last hidden state, hs (T, B, H))
    """

    def __init__(self, kind: str, D: int, H: int, forget_bias: float | None = None):
        super().__init__()
        if kind not in (*KINDS, *GRU_KINDS, "rnn"):
            raise ValueError(f"unknown kind {kind!r}")
        self.kind, self.H = kind, H
        n = 1 if kind == "rnn" else 3 if kind in GRU_KINDS else 4
        self.ih = nn.Linear(D, n * H)  # rows i, f, g, o as nn.LSTM's weight_ih_l0
        self.hh = nn.Linear(H, n * H)
        k = 1.0 / math.sqrt(H)
        for param in (*self.ih.parameters(), *self.hh.parameters()):
            nn.init.uniform_(param, -k, k)  # nn.LSTM's default initialisation
        if kind == "peephole":
            self.peep = nn.Parameter(torch.empty(3, H).uniform_(-k, k))  # w_ci, w_cf, w_co
        if forget_bias is not None and kind in KINDS:
            with torch.no_grad():
                self.ih.bias[H : 2 * H] = forget_bias
                self.hh.bias[H : 2 * H] = 0.0
        self.readout = nn.Linear(H, 1)

    def forward(self, xs):
        T, B, _ = xs.shape
        H = self.H
        x_proj = self.ih(xs)  # all steps at once, (T, B, nH)
        h = xs.new_zeros(B, H)
        c = xs.new_zeros(B, H)
        hs = []
        for t in range(T):
            a = x_proj[t] + self.hh(h)
            if self.kind == "rnn":
                h = torch.tanh(a)
                hs.append(h)
                continue
            if self.kind in GRU_KINDS:
                h = self._gru_step(x_proj[t], h)
                hs.append(h)
                continue
            ai, af, ag, ao = a.split(H, dim=1)
            if self.kind == "peephole":
                ai = ai + self.peep[0] * c
                af = af + self.peep[1] * c
            f = torch.sigmoid(af)
            i = 1.0 - f if self.kind == "coupled" else torch.sigmoid(ai)
            c = f * c + i * torch.tanh(ag)
            if self.kind == "peephole":
                ao = ao + self.peep[2] * c
            h = torch.sigmoid(ao) * torch.tanh(c)
            hs.append(h)
        hs = torch.stack(hs)
        return self.readout(hs[-1])[:, 0], hs

    def _gru_step(self, x_proj, h):
        """One GRU step (eq-gru-r ... eq-gru-h); x_proj: (B, 3H) input projections r, z, n."""
        H = self.H
        xr, xz, xn = x_proj.split(H, dim=1)
        hr, hz, hn = self.hh(h).split(H, dim=1)
        r = torch.sigmoid(xr + hr)
        z = torch.sigmoid(xz + hz)
        if self.kind == "gru":
            n = torch.tanh(xn + r * hn)  # reset after the matmul, eq-gru-n
        else:
            W_hn, b_hn = self.hh.weight[2 * H :], self.hh.bias[2 * H :]
            n = torch.tanh(xn + (r * h) @ W_hn.T + b_hn)  # reset before, eq-gru-n-cho
        return (1 - z) * n + z * h


def _loss(model, batch):
    xs, y = batch
    logits, _ = model(xs)
    return nn.functional.binary_cross_entropy_with_logits(logits, y)


def run_recall(
    kind: str,
    seed: int,
    T: int = 40,
    H: int = 16,
    B: int = 32,
    steps: int = 300,
    lr: float = 1e-2,
    forget_bias: float | None = None,
):
    """Train one `GatedRNN` on delayed recall; deterministic for a given seed.

    returns dict: loss (float, held-out BCE), accuracy (float in [0, 1], held-out, 512
            sequences), losses ((steps,) training loss curve), seconds (float)
    """
    set_seed(seed)
    rng = np.random.default_rng(seed)
    model = GatedRNN(kind, 2, H, forget_bias=forget_bias)
    batches = [recall_batch(T, B, rng) for _ in range(steps)]
    batches = [(torch.from_numpy(x), torch.from_numpy(y)) for x, y in batches]
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # tiny matrices: one thread is faster and immune to a busy machine
    try:
        hist = train(
            model, _loss, lambda s: batches[s], steps=steps, lr=lr, clip=1.0, log_every=None
        )
        xs, y = recall_batch(T, 512, np.random.default_rng(10_000 + seed))
        xs, y = torch.from_numpy(xs), torch.from_numpy(y)
        with torch.no_grad():
            logits, _ = model(xs)
            loss = float(nn.functional.binary_cross_entropy_with_logits(logits, y))
            accuracy = float(((logits > 0).float() == y).float().mean())
    finally:
        torch.set_num_threads(threads)
    return {
        "loss": loss,
        "accuracy": accuracy,
        "losses": np.asarray(hist.losses),
        "seconds": hist.seconds,
    }


def input_gradient_norms(model: GatedRNN, xs, v=None):
    """||dL/dx_t|| for every step t, where L = v . h_T uses only the last hidden state.

    model: GatedRNN (any kind), xs: (T, B, D) inputs, v: (H,) or None (all ones / sqrt(H))
    returns (T,) numpy array; entry t is the gradient norm at distance T - 1 - t from the end
    """
    xs = torch.as_tensor(xs, dtype=next(model.parameters()).dtype).clone().requires_grad_(True)
    _, hs = model(xs)
    if v is None:
        v = torch.ones(model.H, dtype=xs.dtype) / math.sqrt(model.H)
    (hs[-1] @ v).sum().backward()
    return xs.grad.flatten(1).norm(dim=1).numpy()
