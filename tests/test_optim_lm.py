"""Oracle tests for a06/a07's reference code against torch (float64), and the given code's sync.

- rnnscratch.optim (Adam, SGD with momentum) against torch.optim stepped on the same gradients;
- rnnscratch.gru_lm (a window's loss and gradients, truncated BPTT) against nn.GRU + autograd;
- the sampler against softmax(logits / temperature) by the chi-square test the grader uses;
- the reference training loop beats the bigram bar of a07 in its 100 steps;
- a06's per-piece torch oracles add up to nn.GRU's gradients;
- the reference code pasted into a06/a07's setup cells is exactly the package's.
"""

import ast
import inspect
import json
from pathlib import Path

import numpy as np
import pytest

from rnnscratch.checks import assert_close
from rnnscratch.exercises import a07_train
from rnnscratch.models import gru, gru_lm, optim, rnn
from rnnscratch.oracle import gru as ogru
from rnnscratch.oracle import gru_lm as olm
from rnnscratch.tolerances import REFERENCE

ROOT = Path(__file__).resolve().parents[1]


def _dicts(rng, shapes, scale=1.0):
    return {k: scale * rng.normal(size=s) for k, s in shapes.items()}


SHAPES = {"W": (3, 4), "b": (3,), "c": (2, 2)}


def test_adam_matches_torch_optim_over_several_steps():
    rng = np.random.default_rng(0)
    p = _dicts(rng, SHAPES)
    m = {k: np.zeros_like(v) for k, v in p.items()}
    v = {k: np.zeros_like(w) for k, w in p.items()}
    tp, tm, tv = p, m, v
    for t in range(1, 6):
        g = _dicts(rng, SHAPES)
        p, m, v = optim.adam_step(p, g, m, v, t, lr=0.05, beta1=0.8, beta2=0.99, eps=1e-6)
        tp, tm, tv = olm.torch_adam_class_step(tp, g, tm, tv, t, 0.05, 0.8, 0.99, 1e-6)
        for k in p:
            assert_close(f"p[{k}] step {t}", p[k], tp[k], **REFERENCE)
            assert_close(f"m[{k}] step {t}", m[k], tm[k], **REFERENCE)
            assert_close(f"v[{k}] step {t}", v[k], tv[k], **REFERENCE)


def test_the_functional_adam_oracle_is_torch_optim_adam():
    rng = np.random.default_rng(1)
    p, g, m = _dicts(rng, SHAPES), _dicts(rng, SHAPES), _dicts(rng, SHAPES, 0.3)
    v = {k: x**2 for k, x in _dicts(rng, SHAPES, 0.3).items()}
    fast = olm.torch_adam_step(p, g, m, v, 7, 0.01, 0.9, 0.999, 1e-8)
    slow = olm.torch_adam_class_step(p, g, m, v, 7, 0.01, 0.9, 0.999, 1e-8)
    for a, b in zip(fast, slow, strict=True):
        for k in a:
            np.testing.assert_array_equal(a[k], b[k])


def test_sgd_momentum_matches_torch_optim():
    rng = np.random.default_rng(2)
    p = _dicts(rng, SHAPES)
    vel, tp, tvel = None, p, None
    for _ in range(4):
        g = _dicts(rng, SHAPES)
        p, vel = optim.sgd_momentum_step(p, g, vel, lr=0.1, momentum=0.9)
        tp, tvel = olm.torch_sgd_momentum_step(tp, g, tvel, lr=0.1, momentum=0.9)
        for k in p:
            assert_close(k, p[k], tp[k], **REFERENCE)


@pytest.mark.parametrize(("V", "H", "T", "B"), [(4, 5, 6, 2), (3, 2, 1, 1), (6, 7, 4, 3)])
def test_window_loss_and_grads_match_autograd(V, H, T, B):
    rng = np.random.default_rng(V * 100 + H)
    P = gru_lm.init_lm_params(V, H, rng, scale=1.0)
    x, y = rng.integers(0, V, size=(T, B)), rng.integers(0, V, size=(T, B))
    h0 = np.tanh(rng.normal(size=(B, H)))
    loss, grads, h = gru_lm.lm_loss_and_grads(P, x, y, h0)
    tloss, tgrads, th = olm.torch_lm_loss_and_grads(P, x, y, h0)
    assert abs(loss - tloss) <= 1e-10 * abs(tloss)
    assert set(grads) == set(P) == set(tgrads)
    for k in P:
        assert_close(k, grads[k], tgrads[k], **REFERENCE)
    assert_close("h_T", h, th, **REFERENCE)


def test_truncated_bptt_matches_autograd_with_the_state_detached():
    rng = np.random.default_rng(3)
    P = gru_lm.init_lm_params(4, 5, rng, scale=1.0)
    stream = rng.integers(0, 4, size=(12, 2))
    h0 = np.zeros((2, 5))
    losses, grads, h = gru_lm.tbptt_gradients(P, stream, h0, 5)
    tl, tg, th = olm.torch_tbptt_gradients(P, stream, h0, 5)
    assert len(grads) == len(tg) == 3  # windows of 5, 5 and 1 steps
    assert_close("losses", losses, tl, **REFERENCE)
    for g, t in zip(grads, tg, strict=True):
        for k in P:
            assert_close(k, g[k], t[k], **REFERENCE)
    assert_close("h", h, th, **REFERENCE)
    # truncation matters: full BPTT over the same stream gives other gradients
    _, full, _ = gru_lm.tbptt_gradients(P, stream, h0, 11)
    summed = sum(g["W_hr"] * n for g, n in zip(grads, (5, 5, 1), strict=True)) / 11
    assert not np.allclose(summed, full[0]["W_hr"], rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize("temperature", [0.5, 1.0, 2.0])
def test_sampler_follows_the_tempered_softmax(temperature):
    logits = np.array([1.5, -0.3, 0.2, 0.9, -1.2])
    probs = olm.torch_temperature_probs(logits, temperature)
    assert_close("probs", probs, rnn.softmax(logits / temperature), **REFERENCE)
    draws = gru_lm.sample_next(np.tile(logits, (20000, 1)), temperature, np.random.default_rng(4))
    counts = np.bincount(draws, minlength=5)
    assert a07_train.chi_square_pvalue(counts, probs) > a07_train.ALPHA
    for other in (0.5, 1.0, 2.0):
        if other != temperature:
            wrong = rnn.softmax(logits / other)
            assert a07_train.chi_square_pvalue(counts, wrong) < a07_train.ALPHA


def test_chi_square_pvalue_against_known_values():
    # Pearson's statistic 4 with 1 degree of freedom: p = 0.0455003; 16 with 2: exp(-8)
    assert abs(a07_train.chi_square_pvalue([60, 40], [0.5, 0.5]) - 0.0455003) < 1e-6
    assert abs(a07_train.chi_square_pvalue([70, 30, 100], [0.25, 0.25, 0.5]) - np.exp(-8)) < 1e-9
    assert a07_train.chi_square_pvalue([5, 0], [0.0, 1.0]) == 0.0


def test_reference_training_beats_the_bigram_bar():
    rng = np.random.default_rng(5)
    P = gru_lm.init_lm_params(4, 16, rng)
    stream = gru_lm.batch_stream(gru_lm.counting_text(300, rng), 16)
    held_out = gru_lm.batch_stream(gru_lm.counting_text(200, rng), 16)
    trained, losses = gru_lm.train(P, stream, a07_train.TRAIN_SIZES["steps"])
    before = olm.torch_stream_loss(P, held_out)
    after = olm.torch_stream_loss(trained, held_out)
    assert abs(after - gru_lm.stream_loss(trained, held_out)) < 1e-10
    assert before > 1.0 > a07_train.LOSS_THRESHOLD > after
    assert losses[-10:].mean() < losses[:10].mean()


def test_generate_samples_from_the_vocabulary():
    rng = np.random.default_rng(6)
    P = gru_lm.init_lm_params(4, 8, rng)
    text = gru_lm.generate(P, 30, 1.0, rng, gru_lm.sample_next)
    assert len(text) == 30 and set(text) <= set(gru_lm.VOCAB)


def test_a06_piece_oracles_add_up_to_nn_gru():
    rng = np.random.default_rng(7)
    B, D, H = 3, 4, 5
    p = {k: 0.6 * rng.normal(size=v.shape) for k, v in gru_lm.init_lm_params(D, H, rng).items()}
    x, h_prev, dh = (
        rng.normal(size=(B, D)),
        np.tanh(rng.normal(size=(B, H))),
        rng.normal(size=(B, H)),
    )
    gates = {k: v[0] for k, v in gru.gru_forward(x[None], h_prev, p, return_gates=True)[1].items()}
    dn, dz, dh_direct = ogru.torch_blend_grads(dh, h_prev, gates["z"], gates["n"])
    c = ogru.torch_candidate_grads(
        dn, x, h_prev, gates["r"], *(p[k] for k in ("W_in", "W_hn", "b_in", "b_hn"))
    )
    r = ogru.torch_gate_grads(c["dr"], x, h_prev, *(p[k] for k in ("W_ir", "W_hr", "b_ir", "b_hr")))
    z = ogru.torch_gate_grads(dz, x, h_prev, *(p[k] for k in ("W_iz", "W_hz", "b_iz", "b_hz")))
    ref = ogru.torch_gru_grads(x[None], h_prev, p, dh[None])
    assert_close("dx", c["dx"] + r["dx"] + z["dx"], ref["dxs"][0], **REFERENCE)
    total = dh_direct + c["dh_prev"] + r["dh_prev"] + z["dh_prev"]
    assert_close("dh_prev", total, ref["dh0"], **REFERENCE)
    assert_close("db_hn", c["db_hn"], ref["db_hn"], **REFERENCE)
    assert_close("dW_hr", r["dW_h"], ref["dW_hr"], **REFERENCE)
    assert_close("db_iz", z["db_x"], ref["db_iz"], **REFERENCE)


def _setup_cell(aid):
    nb = json.loads((ROOT / "solutions" / aid / f"{aid}.ipynb").read_text())
    for cell in nb["cells"]:
        if cell["metadata"].get("nbgrader", {}).get("grade_id") == "setup":
            src = cell["source"]
            return "".join(src) if isinstance(src, list) else src
    raise KeyError(aid)


@pytest.mark.parametrize("aid", ["a06_gru_backward", "a07_train"])
def test_given_code_is_the_packages_own(aid):
    """The setup cell pastes reference functions (the grader's sandbox holds no course maths);
    each must be the package function's exact source, and the constants the package's."""
    tree = ast.parse(_setup_cell(aid))
    modules = [rnn, gru, gru_lm]
    from rnnscratch import checks

    modules.append(checks)
    found = 0
    for node in tree.body:
        if isinstance(node, ast.FunctionDef):
            lines = _setup_cell(aid).splitlines()[node.lineno - 1 : node.end_lineno]
            source = "\n".join(lines)
            owners = [m for m in modules if hasattr(m, node.name)]
            assert owners, f"{aid}: {node.name} is not a package function"
            assert source == inspect.getsource(getattr(owners[-1], node.name)).rstrip(), node.name
            found += 1
    assert found >= 7
    namespace = {}
    exec(compile(_setup_cell(aid), aid, "exec"), namespace)
    assert namespace["GRU_KEYS"] == gru.GRU_KEYS
    if "VOCAB" in namespace:
        assert namespace["VOCAB"] == gru_lm.VOCAB
