"""A small, generic training loop for the course's torch demos, and evaluation helpers.

Every demo in Part III trains the same way: draw a batch, compute a scalar loss, back-propagate,
optionally clip the global gradient norm (Pascanu et al. 2013), take an Adam step. `train` does
exactly that for a fixed number of steps (deterministic: same seed, same numbers), prints
progress every `log_every` steps with the elapsed time, optionally evaluates on held-out data,
and returns a `History` of the losses.

Typical use (a many-to-one model on random data)::

    import torch
    from rnnscratch.seed import set_seed
    from rnnscratch.experiments.train import train, evaluate

    set_seed(0)
    model = torch.nn.Linear(3, 1)

    def batch_fn(step):                      # step: int -> any batch object
        x = torch.randn(32, 3)
        return x, x.sum(dim=1, keepdim=True)

    def loss_fn(model, batch):               # (model, batch) -> scalar tensor
        x, y = batch
        return torch.nn.functional.mse_loss(model(x), y)

    hist = train(model, loss_fn, batch_fn, steps=500, lr=1e-2, clip=1.0, log_every=100)
    hist.losses[-1]                           # training loss at the last step
    evaluate(model, loss_fn, [batch_fn(0)])   # mean loss over a list of batches, no grad

`steps` is the budget that decides the result; `max_seconds` is only a safety net (a run stopped
by it is not reproducible, and `History.stopped_early` says so).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

__all__ = ["History", "ManyToOne", "train", "evaluate", "predict", "count_parameters", "smooth"]


@dataclass
class History:
    """What happened during `train`.

    steps: list[int]          step number (1-based) of each entry in `losses`
    losses: list[float]       training loss of every step (the batch loss before the update)
    val_steps: list[int]      step numbers at which `eval_fn` ran
    val_losses: list[float]   the values `eval_fn` returned
    seconds: float            wall-clock time spent in `train`
    stopped_early: bool       True when `max_seconds` ended the run before `steps`
    """

    steps: list[int] = field(default_factory=list)
    losses: list[float] = field(default_factory=list)
    val_steps: list[int] = field(default_factory=list)
    val_losses: list[float] = field(default_factory=list)
    seconds: float = 0.0
    stopped_early: bool = False

    def as_arrays(self) -> dict[str, np.ndarray]:
        """The history as numpy arrays: steps, losses, val_steps, val_losses."""
        return {
            "steps": np.asarray(self.steps),
            "losses": np.asarray(self.losses),
            "val_steps": np.asarray(self.val_steps),
            "val_losses": np.asarray(self.val_losses),
        }


def train(
    model: torch.nn.Module,
    loss_fn: Callable[[torch.nn.Module, Any], torch.Tensor],
    batch_fn: Callable[[int], Any],
    *,
    steps: int,
    lr: float = 1e-3,
    clip: float | None = None,
    optimizer: torch.optim.Optimizer | None = None,
    log_every: int | None = 100,
    eval_fn: Callable[[torch.nn.Module], float] | None = None,
    eval_every: int | None = None,
    max_seconds: float | None = None,
    name: str = "",
    print_fn: Callable[[str], None] = print,
) -> History:
    """Train `model` with Adam for `steps` steps; return the loss history.

    model: torch.nn.Module              put in train mode for the steps, eval mode for `eval_fn`
    loss_fn: (model, batch) -> tensor   scalar loss to minimise (e.g. mean cross-entropy)
    batch_fn: (step: int) -> batch      the batch for step 0, 1, ...; draw it from a seeded
                                        generator so runs repeat exactly
    steps: int                          number of optimizer steps (the budget that matters)
    lr: float                           Adam learning rate (ignored when `optimizer` is given)
    clip: float | None                  clip the global gradient norm to this value
                                        (torch.nn.utils.clip_grad_norm_); None: no clipping
    optimizer: torch.optim.Optimizer    use this instead of a fresh Adam (e.g. to resume)
    log_every: int | None               print a progress line every this many steps; None: quiet
    eval_fn: (model) -> float           held-out metric, run without gradients in eval mode
    eval_every: int | None              run `eval_fn` every this many steps (and at the end)
    max_seconds: float | None           safety net: stop after this much wall-clock time
    name: str                           prefix for progress lines
    print_fn: (str) -> None             where progress goes (default `print`)
    returns: History                    per-step training losses, validation values, time
    """
    if optimizer is None:
        optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    hist = History()
    prefix = f"[{name}] " if name else ""
    start = time.perf_counter()

    def run_eval(step: int) -> None:
        model.eval()
        with torch.no_grad():
            value = float(eval_fn(model))
        model.train()
        hist.val_steps.append(step)
        hist.val_losses.append(value)

    model.train()
    step = 0
    for step in range(1, steps + 1):
        batch = batch_fn(step - 1)
        loss = loss_fn(model, batch)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        if clip is not None:
            torch.nn.utils.clip_grad_norm_(model.parameters(), clip)
        optimizer.step()
        hist.steps.append(step)
        hist.losses.append(float(loss.detach()))
        if eval_fn is not None and eval_every and step % eval_every == 0:
            run_eval(step)
        elapsed = time.perf_counter() - start
        if log_every and (step % log_every == 0 or step == steps):
            recent = np.mean(hist.losses[-log_every:])
            line = f"{prefix}step {step:>6}/{steps}  loss {recent:.4f}"
            if hist.val_losses:
                line += f"  val {hist.val_losses[-1]:.4f}"
            print_fn(line + f"  {elapsed:6.1f}s")
        if max_seconds is not None and elapsed > max_seconds and step < steps:
            hist.stopped_early = True
            if log_every:
                print_fn(f"{prefix}stopped by the time budget at step {step}")
            break
    if eval_fn is not None and (not hist.val_steps or hist.val_steps[-1] != step):
        run_eval(step)
    model.eval()
    hist.seconds = time.perf_counter() - start
    return hist


def evaluate(
    model: torch.nn.Module,
    loss_fn: Callable[[torch.nn.Module, Any], torch.Tensor],
    batches: Iterable[Any],
) -> float:
    """Mean of `loss_fn` over `batches`, in eval mode (no dropout) and without gradients.

    model: torch.nn.Module
    loss_fn: (model, batch) -> scalar tensor
    batches: iterable of batch objects (each weighted equally)
    returns: float  the mean loss
    """
    was_training = model.training
    model.eval()
    values = []
    with torch.no_grad():
        for batch in batches:
            values.append(float(loss_fn(model, batch)))
    model.train(was_training)
    if not values:
        raise ValueError("evaluate() needs at least one batch")
    return float(np.mean(values))


def predict(
    model: torch.nn.Module, x: torch.Tensor, batch_size: int = 1024, out_dim: int = 0
) -> torch.Tensor:
    """Run `model` on `x` in eval mode without gradients, in chunks along dimension 1.

    model: torch.nn.Module  maps a time-major batch (T, b, D) to outputs (b, ...) or (T, b, ...)
    x: (T, B, D) inputs
    batch_size: int         sequences per forward call
    out_dim: int            the batch dimension of the model's output: 0 for (b, ...) outputs,
                            1 for time-major (T, b, ...) outputs
    returns: the outputs of all chunks concatenated along `out_dim`
    """
    was_training = model.training
    model.eval()
    outs = []
    with torch.no_grad():
        for lo in range(0, x.shape[1], batch_size):
            outs.append(model(x[:, lo : lo + batch_size]))
    model.train(was_training)
    return torch.cat(outs, dim=out_dim)


def count_parameters(model: torch.nn.Module) -> int:
    """Number of trainable scalars in `model`."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


def smooth(values: Iterable[float], window: int = 50) -> np.ndarray:
    """Running mean over the last `window` values (shorter at the start), for training curves.

    values: (N,) losses
    returns: (N,) smoothed losses, same length
    """
    v = np.asarray(list(values), dtype=float)
    if v.size == 0:
        return v
    c = np.cumsum(np.insert(v, 0, 0.0))
    idx = np.arange(1, v.size + 1)
    lo = np.maximum(idx - window, 0)
    return (c[idx] - c[lo]) / (idx - lo)


class ManyToOne(torch.nn.Module):
    """A recurrent layer read out from its last hidden state: sequence in, one vector out.

    kind: "rnn" (tanh), "lstm" or "gru"   which torch.nn recurrent layer to use
    D: int   input size;  H: int  hidden size;  out: int  output size
    num_layers: int   stacked layers;  dropout: float  between layers (torch semantics)

    forward(x: (T, B, D)) -> (B, out)   y = W_hy h_T + b_y from the top layer's last state
    """

    def __init__(
        self, kind: str, D: int, H: int, out: int = 1, num_layers: int = 1, dropout: float = 0.0
    ):
        super().__init__()
        layers = {"rnn": torch.nn.RNN, "lstm": torch.nn.LSTM, "gru": torch.nn.GRU}
        if kind not in layers:
            raise ValueError(f"kind must be one of {sorted(layers)}, got {kind!r}")
        self.kind = kind
        self.rnn = layers[kind](D, H, num_layers=num_layers, dropout=dropout)
        self.head = torch.nn.Linear(H, out)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        hs, _ = self.rnn(x)  # (T, B, H) top layer's states
        return self.head(hs[-1])  # (B, out) read out from h_T
