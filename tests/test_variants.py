"""Peephole and coupled-gate LSTMs: reductions to the standard LSTM, independent torch formulas."""

import numpy as np
import pytest
import torch

from rnnscratch.checks import assert_close, max_difference
from rnnscratch.models import variants
from rnnscratch.models.params import init_lstm_params
from rnnscratch.oracle.lstm import torch_lstm_forward
from rnnscratch.tolerances import REFERENCE

SHAPES = [(0, 1, 1, 1, 1), (1, 4, 3, 2, 5), (2, 7, 2, 3, 4)]


def make(seed, T, B, D, H, peep_scale=1.0):
    rng = np.random.default_rng(seed)
    p = {k: 2 * v for k, v in init_lstm_params(D, H, rng).items()}
    for k in variants.PEEPHOLE_KEYS:
        p[k] = peep_scale * rng.normal(size=H)
    return p, rng.normal(size=(T, B, D)), rng.normal(size=(B, H)), rng.normal(size=(B, H))


def _torch_peephole(xs, h0, c0, p):
    t = {k: torch.tensor(v) for k, v in p.items()}
    h, c = torch.tensor(h0), torch.tensor(c0)
    hs, cs = [], []
    for x in torch.tensor(xs):

        def aff(g, x=x, h=h):
            return x @ t[f"W_i{g}"].T + t[f"b_i{g}"] + h @ t[f"W_h{g}"].T + t[f"b_h{g}"]

        i = torch.sigmoid(aff("i") + t["w_ci"] * c)
        f = torch.sigmoid(aff("f") + t["w_cf"] * c)
        c = f * c + i * torch.tanh(aff("g"))
        o = torch.sigmoid(aff("o") + t["w_co"] * c)
        h = o * torch.tanh(c)
        hs.append(h)
        cs.append(c)
    return torch.stack(hs).numpy(), torch.stack(cs).numpy()


def _torch_coupled(xs, h0, c0, p):
    """Independent formula: packed torch matmuls, the input-gate block replaced by 1 - f."""
    W_ih = torch.tensor(np.concatenate([p[f"W_i{g}"] for g in "ifgo"]))
    W_hh = torch.tensor(np.concatenate([p[f"W_h{g}"] for g in "ifgo"]))
    b = torch.tensor(np.concatenate([p[f"b_i{g}"] + p[f"b_h{g}"] for g in "ifgo"]))
    h, c = torch.tensor(h0), torch.tensor(c0)
    hs = []
    for x in torch.tensor(xs):
        a = torch.nn.functional.linear(x, W_ih) + torch.nn.functional.linear(h, W_hh) + b
        _, af, ag, ao = a.chunk(4, dim=1)
        f = torch.sigmoid(af)
        c = f * c + (1 - f) * torch.tanh(ag)
        h = torch.sigmoid(ao) * torch.tanh(c)
        hs.append(h)
    return torch.stack(hs).numpy(), c.numpy()


@pytest.mark.parametrize("shape", SHAPES)
def test_peephole_with_zero_peepholes_is_standard_lstm(shape):
    p, xs, h0, c0 = make(*shape, peep_scale=0.0)
    hs, cs = variants.peephole_lstm_forward(xs, h0, c0, p)
    ref_hs, _, ref_c = torch_lstm_forward(xs, h0, c0, p)
    assert_close("hs", hs, ref_hs, **REFERENCE)
    assert_close("c_T", cs[-1], ref_c, **REFERENCE)


@pytest.mark.parametrize("shape", SHAPES)
def test_peephole_matches_torch_formula(shape):
    p, xs, h0, c0 = make(*shape)
    hs, cs = variants.peephole_lstm_forward(xs, h0, c0, p)
    ref_hs, ref_cs = _torch_peephole(xs, h0, c0, p)
    assert_close("hs", hs, ref_hs, **REFERENCE)
    assert_close("cs", cs, ref_cs, **REFERENCE)


@pytest.mark.parametrize("shape", SHAPES)
def test_peepholes_change_the_output(shape):
    p, xs, h0, c0 = make(*shape)
    hs, _ = variants.peephole_lstm_forward(xs, h0, c0, p)
    ref_hs, _, _ = torch_lstm_forward(xs, h0, c0, p)
    assert max_difference(hs, ref_hs)[0] > 1e-6  # far above the 1e-10 tolerance


@pytest.mark.parametrize("shape", SHAPES)
def test_coupled_matches_torch_formula(shape):
    p, xs, h0, c0 = make(*shape)
    hs, cs = variants.coupled_lstm_forward(xs, h0, c0, p)
    ref_hs, ref_c = _torch_coupled(xs, h0, c0, p)
    assert_close("hs", hs, ref_hs, **REFERENCE)
    assert_close("c_T", cs[-1], ref_c, **REFERENCE)


def test_coupled_ignores_input_gate_parameters():
    p, xs, h0, c0 = make(*SHAPES[1])
    q = dict(p, W_ii=p["W_ii"] + 5.0, b_hi=p["b_hi"] - 3.0)
    a, _ = variants.coupled_lstm_forward(xs, h0, c0, p)
    b, _ = variants.coupled_lstm_forward(xs, h0, c0, q)
    assert_close("hs", a, b, rtol=0, atol=0)


def test_coupled_cell_writes_what_it_forgets():
    """With a saturated forget gate (f = 1) the cell state is carried unchanged."""
    p, xs, h0, c0 = make(*SHAPES[1])
    p = dict(p, b_if=np.full_like(p["b_if"], 60.0))
    _, c = variants.coupled_lstm_cell(xs[0], h0, c0, p)
    assert_close("c", c, c0, **REFERENCE)


def _load_gated(kind, p):
    """A GatedRNN (the trainable torch model of the variants page) holding the weights `p`."""
    from rnnscratch.experiments.gate_experiments import GatedRNN

    H, D = p["W_if"].shape
    model = GatedRNN(kind, D, H).double()
    with torch.no_grad():
        model.ih.weight.copy_(torch.tensor(np.concatenate([p[f"W_i{g}"] for g in "ifgo"])))
        model.hh.weight.copy_(torch.tensor(np.concatenate([p[f"W_h{g}"] for g in "ifgo"])))
        model.ih.bias.copy_(torch.tensor(np.concatenate([p[f"b_i{g}"] for g in "ifgo"])))
        model.hh.bias.copy_(torch.tensor(np.concatenate([p[f"b_h{g}"] for g in "ifgo"])))
        if kind == "peephole":
            model.peep.copy_(torch.tensor(np.stack([p[k] for k in variants.PEEPHOLE_KEYS])))
    return model


@pytest.mark.parametrize(
    "kind, forward",
    [
        ("standard", lambda xs, h0, c0, p: torch_lstm_forward(xs, h0, c0, p)[0]),
        ("peephole", lambda xs, h0, c0, p: variants.peephole_lstm_forward(xs, h0, c0, p)[0]),
        ("coupled", lambda xs, h0, c0, p: variants.coupled_lstm_forward(xs, h0, c0, p)[0]),
    ],
)
def test_trainable_torch_variants_match_reference(kind, forward):
    p, xs, _, _ = make(*SHAPES[2])
    B, H = xs.shape[1], p["W_if"].shape[0]
    zeros = np.zeros((B, H))
    with torch.no_grad():
        _, hs = _load_gated(kind, p)(torch.tensor(xs))
    assert_close(f"{kind} hs", hs, forward(xs, zeros, zeros, p), **REFERENCE)


def test_gated_rnn_forget_bias_and_rnn_kind():
    from rnnscratch.experiments.gate_experiments import GatedRNN

    model = GatedRNN("standard", 2, 3, forget_bias=1.0)
    assert torch.all(model.ih.bias[3:6] == 1.0) and torch.all(model.hh.bias[3:6] == 0.0)
    rnn = GatedRNN("rnn", 2, 3).double()
    xs = torch.randn(5, 4, 2, dtype=torch.float64)
    ref = torch.nn.RNN(2, 3, dtype=torch.float64)
    with torch.no_grad():
        for name, lin in (("ih", rnn.ih), ("hh", rnn.hh)):
            getattr(ref, f"weight_{name}_l0").copy_(lin.weight)
            getattr(ref, f"bias_{name}_l0").copy_(lin.bias)
        assert_close("rnn hs", rnn(xs)[1], ref(xs)[0], **REFERENCE)


@pytest.mark.parametrize("kind", ["gru", "gru_cho"])
def test_gated_rnn_gru_kinds_match_the_reference(kind):
    from rnnscratch.experiments.gate_experiments import GatedRNN
    from rnnscratch.models import gru

    model = GatedRNN(kind, 2, 3).double()
    xs = np.random.default_rng(3).normal(size=(5, 4, 2))
    H = 3
    p = {}
    for src, lin in (("i", model.ih), ("h", model.hh)):
        for k, gate in enumerate("rzn"):
            p[f"W_{src}{gate}"] = lin.weight.detach().numpy()[k * H : (k + 1) * H]
            p[f"b_{src}{gate}"] = lin.bias.detach().numpy()[k * H : (k + 1) * H]
    h0 = np.zeros((4, H))
    ref = gru.gru_forward(xs, h0, p) if kind == "gru" else gru.cho_gru_forward(xs, h0, p)
    with torch.no_grad():
        _, hs = model(torch.tensor(xs))
    assert_close(f"{kind} hs", hs, ref, **REFERENCE)
