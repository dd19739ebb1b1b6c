"""The generic training loop: it learns, it is deterministic, it clips, it evaluates."""

import numpy as np
import pytest
import torch

from rnnscratch.experiments.train import History, count_parameters, evaluate, predict, smooth, train
from rnnscratch.seed import set_seed

pytestmark = pytest.mark.usefixtures("one_thread")


def _linear_problem():
    w_true = torch.tensor([[1.0, -2.0, 0.5]])
    gen = torch.Generator().manual_seed(1)
    xs = torch.randn(50, 16, 3, generator=gen)

    def batch_fn(step):
        x = xs[step % len(xs)]
        return x, x @ w_true.T

    def loss_fn(model, batch):
        x, y = batch
        return torch.nn.functional.mse_loss(model(x), y)

    return batch_fn, loss_fn


def _fit(steps=300, **kw):
    set_seed(0)
    model = torch.nn.Linear(3, 1)
    batch_fn, loss_fn = _linear_problem()
    hist = train(model, loss_fn, batch_fn, steps=steps, lr=5e-2, log_every=None, **kw)
    return model, hist, batch_fn, loss_fn


def test_train_reduces_loss_and_records_every_step():
    model, hist, batch_fn, loss_fn = _fit()
    assert isinstance(hist, History)
    assert hist.steps == list(range(1, 301))
    assert len(hist.losses) == 300
    assert hist.losses[-1] < 1e-3 * hist.losses[0]
    assert evaluate(model, loss_fn, [batch_fn(i) for i in range(5)]) < 1e-3
    assert not model.training  # left in eval mode


def test_train_is_deterministic_with_a_seed():
    _, h1, _, _ = _fit(steps=50)
    _, h2, _, _ = _fit(steps=50)
    assert h1.losses == h2.losses


def test_clip_limits_the_update():
    # with a huge loss and SGD(lr=1), the first update has exactly the clipped norm
    set_seed(0)
    model = torch.nn.Linear(3, 1, bias=False)
    before = model.weight.detach().clone()
    opt = torch.optim.SGD(model.parameters(), lr=1.0)

    def loss_fn(m, batch):
        return 1e4 * m(batch).sum()

    train(
        model, loss_fn, lambda s: torch.ones(4, 3), steps=1, optimizer=opt, clip=0.5, log_every=None
    )
    step_norm = float((model.weight.detach() - before).norm())
    assert step_norm == pytest.approx(0.5, rel=1e-5)


def test_eval_fn_runs_on_schedule_and_at_the_end():
    calls = []

    def eval_fn(m):
        assert not m.training
        calls.append(1)
        return 0.25

    _, hist, _, _ = _fit(steps=25, eval_fn=eval_fn, eval_every=10)
    assert hist.val_steps == [10, 20, 25]
    assert hist.val_losses == [0.25, 0.25, 0.25]


def test_progress_lines_are_printed():
    lines = []
    set_seed(0)
    model = torch.nn.Linear(3, 1)
    batch_fn, loss_fn = _linear_problem()
    train(model, loss_fn, batch_fn, steps=20, log_every=10, name="lin", print_fn=lines.append)
    assert len(lines) == 2
    assert lines[0].startswith("[lin] step")
    assert lines[-1].rstrip().endswith("s")


def test_max_seconds_stops_early():
    _, hist, _, _ = _fit(steps=10_000, max_seconds=0.0)
    assert hist.stopped_early
    assert len(hist.losses) == 1


def test_predict_chunks_and_count_parameters():
    set_seed(0)
    lstm = torch.nn.LSTM(2, 4)
    x = torch.randn(5, 7, 2)
    full, _ = lstm(x)

    class Wrap(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.lstm = lstm

        def forward(self, x):
            return self.lstm(x)[0]

    out = predict(Wrap(), x, batch_size=3, out_dim=1)
    torch.testing.assert_close(out, full.detach())
    assert count_parameters(lstm) == 4 * 4 * (2 + 4) + 2 * 4 * 4


def test_smooth_is_a_running_mean():
    out = smooth([1.0, 3.0, 5.0, 7.0], window=2)
    np.testing.assert_allclose(out, [1.0, 2.0, 4.0, 6.0])
