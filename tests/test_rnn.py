"""Oracle tests: every function in rnnscratch.models.rnn against torch float64 (REFERENCE).

Outputs and all parameter/input gradients, on seeded random shapes including T=1 and B=1.
"""

import numpy as np
import pytest

from rnnscratch.checks import assert_close, finite_difference_grad
from rnnscratch.models import rnn
from rnnscratch.oracle import rnn as oracle
from rnnscratch.tolerances import FINITE_DIFFERENCE, REFERENCE

# (T, B, D, H) including T=1 and B=1
SHAPES = [(1, 1, 1, 1), (1, 3, 4, 5), (5, 1, 3, 4), (7, 4, 2, 6), (12, 2, 5, 3)]
GRAD_NAMES = ("dxs", "dh0", "dW_ih", "dW_hh", "db_ih", "db_hh")


def close(name, actual, expected, tol=REFERENCE):
    assert_close(name, actual, expected, rtol=tol["rtol"], atol=tol["atol"])


def make_problem(seed, T, B, D, H, scale=1.0):
    rng = np.random.default_rng(seed)
    k = 1 / np.sqrt(H)
    return {
        "xs": rng.normal(size=(T, B, D)),
        "h0": rng.normal(scale=0.5, size=(B, H)),
        "W_ih": scale * rng.uniform(-k, k, size=(H, D)),
        "W_hh": scale * rng.uniform(-k, k, size=(H, H)),
        "b_ih": rng.uniform(-k, k, size=H),
        "b_hh": rng.uniform(-k, k, size=H),
        "dhs": rng.normal(size=(T, B, H)),
    }


def weights(p):
    return p["W_ih"], p["W_hh"], p["b_ih"], p["b_hh"]


# ---------------------------------------------------------------- activations and the loss


@pytest.mark.parametrize("seed", range(3))
def test_sigmoid_matches_torch_including_extremes(seed):
    rng = np.random.default_rng(seed)
    x = np.concatenate([rng.normal(scale=5, size=50), [-1000.0, -50.0, 0.0, 50.0, 1000.0]])
    with np.errstate(
        over="raise", invalid="raise", divide="raise"
    ):  # the stable version must not overflow
        y = rnn.sigmoid(x)
    close("sigmoid", y, oracle.sigmoid(x))


@pytest.mark.parametrize("axis", [-1, 0, 1])
@pytest.mark.parametrize("seed", range(3))
def test_softmax_and_log_softmax_match_torch(seed, axis):
    rng = np.random.default_rng(seed)
    z = rng.normal(scale=3, size=(3, 4, 5))
    z[0, 0, 0] = 800.0  # would overflow exp without the shift
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        s, ls = rnn.softmax(z, axis=axis), rnn.log_softmax(z, axis=axis)
    close("softmax", s, oracle.softmax(z, axis=axis))
    close("log_softmax", ls, oracle.log_softmax(z, axis=axis))
    close("softmax sums", s.sum(axis=axis), np.ones(s.sum(axis=axis).shape))


@pytest.mark.parametrize("T,B,V", [(1, 1, 2), (1, 4, 7), (6, 1, 3), (5, 3, 11)])
def test_sequence_cross_entropy_and_its_gradient_match_torch(T, B, V):
    rng = np.random.default_rng(T * 100 + B * 10 + V)
    logits = rng.normal(scale=2, size=(T, B, V))
    targets = rng.integers(0, V, size=(T, B))
    loss, dlogits = oracle.sequence_cross_entropy(logits, targets)
    close("E", rnn.sequence_cross_entropy(logits, targets), loss)
    close("dE/dlogits", rnn.sequence_cross_entropy_backward(logits, targets), dlogits)


def test_sequence_cross_entropy_is_a_sum_over_steps_of_batch_means():
    rng = np.random.default_rng(7)
    logits = rng.normal(size=(4, 3, 5))
    targets = rng.integers(0, 5, size=(4, 3))
    per_step = [rnn.sequence_cross_entropy(logits[t : t + 1], targets[t : t + 1]) for t in range(4)]
    close("sum of E_t", rnn.sequence_cross_entropy(logits, targets), np.sum(per_step))


# ---------------------------------------------------------------- forward


@pytest.mark.parametrize("T,B,D,H", SHAPES)
def test_rnn_cell_matches_torch_rnncell(T, B, D, H):
    p = make_problem(T + 10 * B + 100 * H, T, B, D, H)
    h = rnn.rnn_cell(p["xs"][0], p["h0"], *weights(p))
    close("h", h, oracle.rnn_cell(p["xs"][0], p["h0"], *weights(p)))


@pytest.mark.parametrize("T,B,D,H", SHAPES)
def test_rnn_forward_matches_torch_rnn(T, B, D, H):
    p = make_problem(1 + T + 10 * B + 100 * H, T, B, D, H, scale=3.0)
    hs = rnn.rnn_forward(p["xs"], p["h0"], *weights(p))
    close("hs", hs, oracle.rnn_forward(p["xs"], p["h0"], *weights(p)))


# ---------------------------------------------------------------- backward


@pytest.mark.parametrize("T,B,D,H", SHAPES)
def test_rnn_cell_backward_matches_autograd(T, B, D, H):
    p = make_problem(2 + T + 10 * B + 100 * H, T, B, D, H, scale=2.0)
    x, h_prev, dh = p["xs"][0], p["h0"], p["dhs"][0]
    h = rnn.rnn_cell(x, h_prev, *weights(p))
    ours = rnn.rnn_cell_backward(dh, x, h_prev, h, p["W_ih"], p["W_hh"])
    ref = oracle.rnn_cell_backward(dh, x, h_prev, *weights(p))
    assert set(ours) == set(ref)
    for name in ref:
        close(name, ours[name], ref[name])


@pytest.mark.parametrize("T,B,D,H", SHAPES)
def test_rnn_backward_matches_autograd(T, B, D, H):
    p = make_problem(3 + T + 10 * B + 100 * H, T, B, D, H, scale=2.0)
    hs = rnn.rnn_forward(p["xs"], p["h0"], *weights(p))
    ours = rnn.rnn_backward(p["dhs"], p["xs"], p["h0"], hs, p["W_ih"], p["W_hh"])
    ref_hs, ref = oracle.rnn_forward_backward(p["dhs"], p["xs"], p["h0"], *weights(p))
    close("hs", hs, ref_hs)
    assert set(ours) == set(GRAD_NAMES)
    for name in GRAD_NAMES:
        close(name, ours[name], ref[name])


@pytest.mark.parametrize("k", [1, 2, 3, 5])
@pytest.mark.parametrize("T,B,D,H", [(1, 2, 3, 4), (6, 1, 2, 3), (9, 3, 4, 5)])
def test_truncated_bptt_matches_detached_autograd(T, B, D, H, k):
    p = make_problem(4 + T + 10 * B + 100 * k, T, B, D, H, scale=2.0)
    hs = rnn.rnn_forward(p["xs"], p["h0"], *weights(p))
    ours = rnn.rnn_backward(p["dhs"], p["xs"], p["h0"], hs, p["W_ih"], p["W_hh"], truncate=k)
    _, ref = oracle.rnn_forward_backward(p["dhs"], p["xs"], p["h0"], *weights(p), truncate=k)
    for name in GRAD_NAMES:
        close(f"{name} (truncate={k})", ours[name], ref[name])


@pytest.mark.parametrize("T", [1, 4, 8])
def test_truncated_bptt_with_k_at_least_T_equals_full_bptt(T):
    p = make_problem(5 + T, T, 2, 3, 4, scale=2.0)
    hs = rnn.rnn_forward(p["xs"], p["h0"], *weights(p))
    args = (p["dhs"], p["xs"], p["h0"], hs, p["W_ih"], p["W_hh"])
    full = rnn.rnn_backward(*args)
    for k in (T, T + 3):
        cut = rnn.rnn_backward(*args, truncate=k)
        for name in GRAD_NAMES:
            close(f"{name} (truncate={k})", cut[name], full[name])


def test_truncation_actually_drops_long_range_terms():
    p = make_problem(6, 8, 2, 3, 4, scale=3.0)
    hs = rnn.rnn_forward(p["xs"], p["h0"], *weights(p))
    args = (p["dhs"], p["xs"], p["h0"], hs, p["W_ih"], p["W_hh"])
    full, cut = rnn.rnn_backward(*args), rnn.rnn_backward(*args, truncate=2)
    assert np.abs(full["dW_hh"] - cut["dW_hh"]).max() > 1e-3
    assert np.abs(cut["dh0"]).max() > 0  # the terms at t = 0, 1 still reach h0


@pytest.mark.parametrize("k", [1, 2, 3, 5])
@pytest.mark.parametrize("T,B,D,H", [(1, 2, 3, 4), (6, 1, 2, 3), (9, 3, 4, 5)])
def test_chunked_bptt_matches_detached_autograd(T, B, D, H, k):
    p = make_problem(8 + T + 10 * B + 100 * k, T, B, D, H, scale=2.0)
    hs = rnn.rnn_forward(p["xs"], p["h0"], *weights(p))
    ours = rnn.rnn_backward_chunked(p["dhs"], p["xs"], p["h0"], hs, p["W_ih"], p["W_hh"], k)
    ref = oracle.rnn_forward_backward_chunked(p["dhs"], p["xs"], p["h0"], *weights(p), chunk=k)
    for name in GRAD_NAMES:
        close(f"{name} (chunk={k})", ours[name], ref[name])


def test_chunked_bptt_differs_from_the_per_term_window_but_agrees_at_k_ge_T():
    p = make_problem(9, 8, 2, 3, 4, scale=3.0)
    hs = rnn.rnn_forward(p["xs"], p["h0"], *weights(p))
    args = (p["dhs"], p["xs"], p["h0"], hs, p["W_ih"], p["W_hh"])
    chunked, window = rnn.rnn_backward_chunked(*args, 3), rnn.rnn_backward(*args, truncate=3)
    assert np.abs(chunked["dW_hh"] - window["dW_hh"]).max() > 1e-3
    for name in GRAD_NAMES:
        close(name, rnn.rnn_backward_chunked(*args, 8)[name], rnn.rnn_backward(*args)[name])
    with pytest.raises(ValueError):
        rnn.rnn_backward_chunked(*args, 0)


@pytest.mark.parametrize("bad", [0, -1, 1.5])
def test_truncate_rejects_bad_values(bad):
    p = make_problem(7, 3, 1, 2, 2)
    hs = rnn.rnn_forward(p["xs"], p["h0"], *weights(p))
    with pytest.raises(ValueError):
        rnn.rnn_backward(p["dhs"], p["xs"], p["h0"], hs, p["W_ih"], p["W_hh"], truncate=bad)


def test_rnn_backward_matches_finite_differences():
    p = make_problem(8, 4, 2, 3, 3, scale=2.0)

    def loss(W_hh):
        return float(
            np.sum(
                p["dhs"] * rnn.rnn_forward(p["xs"], p["h0"], p["W_ih"], W_hh, p["b_ih"], p["b_hh"])
            )
        )

    hs = rnn.rnn_forward(p["xs"], p["h0"], *weights(p))
    ours = rnn.rnn_backward(p["dhs"], p["xs"], p["h0"], hs, p["W_ih"], p["W_hh"])
    fd = finite_difference_grad(loss, p["W_hh"].copy())
    close("dW_hh vs finite differences", ours["dW_hh"], fd, tol=FINITE_DIFFERENCE)


def test_hidden_jacobian_matches_autograd_of_one_step():
    import torch

    p = make_problem(9, 1, 3, 2, 4, scale=2.0)
    h = rnn.rnn_cell(p["xs"][0], p["h0"], *weights(p))
    J = rnn.hidden_jacobian(h, p["W_hh"])
    W_ih, W_hh = torch.from_numpy(p["W_ih"]), torch.from_numpy(p["W_hh"])
    bias = torch.from_numpy(p["b_ih"] + p["b_hh"])
    for b in range(3):
        x = torch.from_numpy(p["xs"][0, b])
        ref = torch.autograd.functional.jacobian(
            lambda h_prev, x=x: torch.tanh(W_ih @ x + W_hh @ h_prev + bias),
            torch.from_numpy(p["h0"][b]),
        )
        close(f"J[{b}]", J[b], ref.numpy())


# ---------------------------------------------------------------- clipping


def random_grads(seed, scale):
    rng = np.random.default_rng(seed)
    return {
        "dW_ih": scale * rng.normal(size=(4, 3)),
        "dW_hh": scale * rng.normal(size=(4, 4)),
        "db_ih": scale * rng.normal(size=4),
        "db_hh": scale * rng.normal(size=4),
    }


@pytest.mark.parametrize("scale,max_norm", [(10.0, 1.0), (1.0, 0.5), (3.0, 7.0), (0.01, 1.0)])
def test_clip_grad_norm_matches_torch(scale, max_norm):
    grads = random_grads(int(scale * 100), scale)
    ours, total = rnn.clip_grad_norm(grads, max_norm)
    ref, ref_total = oracle.clip_grad_norm(grads, max_norm)
    close("total norm", total, ref_total)
    for name in grads:
        close(name, ours[name], ref[name])
    new_total = np.sqrt(sum(np.sum(g**2) for g in ours.values()))
    assert new_total <= max_norm + 1e-9


def test_clip_grad_norm_is_a_no_op_below_the_threshold_and_does_not_mutate():
    grads = random_grads(1, 0.1)
    before = {k: v.copy() for k, v in grads.items()}
    ours, total = rnn.clip_grad_norm(grads, max_norm=100.0)
    assert total < 100.0
    for name in grads:
        close(name, ours[name], before[name])
        np.testing.assert_array_equal(grads[name], before[name])


def test_clip_grad_norm_keeps_the_direction():
    grads = random_grads(2, 50.0)
    ours, total = rnn.clip_grad_norm(grads, 1.0)
    flat = np.concatenate([g.ravel() for g in grads.values()])
    clipped = np.concatenate([g.ravel() for g in ours.values()])
    close("direction", clipped / np.linalg.norm(clipped), flat / np.linalg.norm(flat))


@pytest.mark.parametrize("scale,clip", [(10.0, 1.0), (1.0, 0.3), (0.01, 1.0)])
def test_clip_grad_value_matches_torch(scale, clip):
    grads = random_grads(int(scale * 10) + 3, scale)
    ours = rnn.clip_grad_value(grads, clip)
    ref = oracle.clip_grad_value(grads, clip)
    for name in grads:
        close(name, ours[name], ref[name])
        assert np.abs(ours[name]).max() <= clip


def test_clip_grad_value_is_a_no_op_below_the_threshold():
    grads = random_grads(4, 0.01)
    ours = rnn.clip_grad_value(grads, 1.0)
    for name in grads:
        np.testing.assert_array_equal(ours[name], grads[name])


# ---------------------------------------------------------------- helpers used by the book


@pytest.mark.parametrize("T,B,V,H", [(1, 1, 3, 2), (5, 2, 4, 3), (8, 3, 5, 6)])
def test_rnn_lm_loss_and_grads_match_autograd(T, B, V, H):
    import torch

    rng = np.random.default_rng(T * 7 + H)
    P = {
        "W_ih": rng.normal(size=(H, V)),
        "W_hh": rng.normal(scale=0.5, size=(H, H)),
        "b_ih": rng.normal(size=H),
        "b_hh": rng.normal(size=H),
        "W_hy": rng.normal(size=(V, H)),
        "b_hy": rng.normal(size=V),
    }
    xs, h0 = rng.normal(size=(T, B, V)), rng.normal(size=(B, H))
    targets = rng.integers(0, V, size=(T, B))
    E, grads = rnn.rnn_lm_loss_and_grads(P, xs, targets, h0)

    Pt = {k: torch.tensor(v, requires_grad=True) for k, v in P.items()}
    xt, h0t = torch.tensor(xs, requires_grad=True), torch.tensor(h0, requires_grad=True)
    h, loss = h0t, 0.0
    for t in range(T):
        h = torch.tanh(xt[t] @ Pt["W_ih"].T + Pt["b_ih"] + h @ Pt["W_hh"].T + Pt["b_hh"])
        logits = h @ Pt["W_hy"].T + Pt["b_hy"]
        loss = loss + torch.nn.functional.cross_entropy(logits, torch.tensor(targets[t]))
    loss.backward()
    close("E", E, loss.item())
    for name, tensor in Pt.items():
        close("d" + name, grads["d" + name], tensor.grad.numpy())
    close("dxs", grads["dxs"], xt.grad.numpy())
    close("dh0", grads["dh0"], h0t.grad.numpy())


@pytest.mark.parametrize("activation", ["tanh", "linear"])
def test_jacobian_product_norms_match_autograd(activation):
    import torch

    T, B, D, H = 6, 2, 3, 4
    p = make_problem(12, T, B, D, H, scale=2.0)
    hs = rnn.rnn_forward(p["xs"], p["h0"], *weights(p))
    dphis = 1 - hs**2 if activation == "tanh" else np.ones((T, B, H))
    norms = rnn.jacobian_product_norms(dphis, p["W_hh"])
    assert norms.shape == (T + 1, B)

    W_ih, W_hh = torch.from_numpy(p["W_ih"]), torch.from_numpy(p["W_hh"])
    bias = torch.from_numpy(p["b_ih"] + p["b_hh"])
    phi = torch.tanh if activation == "tanh" else (lambda a: a)
    for b in range(B):
        states = [p["h0"][b]] + [hs[t, b] for t in range(T)]  # h_0 ... h_T (tanh run)
        for d in range(T + 1):

            def last_state(h, b=b, d=d):
                for t in range(T - d, T):  # the steps from h_{T-d} to h_T
                    h = phi(W_ih @ torch.from_numpy(p["xs"][t, b]) + W_hh @ h + bias)
                return h

            jac = torch.autograd.functional.jacobian(last_state, torch.from_numpy(states[T - d]))
            close(f"norm d={d} b={b}", norms[d, b], np.linalg.norm(jac.numpy(), 2))
