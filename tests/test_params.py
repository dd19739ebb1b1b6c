"""Converters between per-gate dicts and torch's packed nn.LSTM / nn.GRU state dicts."""

import numpy as np
import pytest
import torch

from rnnscratch.checks import assert_close
from rnnscratch.models import gru, lstm, params
from rnnscratch.tolerances import REFERENCE


@pytest.mark.parametrize("D, H", [(1, 1), (3, 5), (7, 2)])
def test_lstm_round_trip_from_module(D, H):
    torch.manual_seed(D * 10 + H)
    module = torch.nn.LSTM(D, H, dtype=torch.float64)
    p = params.lstm_params_from_torch(module)
    assert set(p) == set(lstm.LSTM_KEYS)
    assert p["W_if"].shape == (H, D) and p["W_hf"].shape == (H, H) and p["b_if"].shape == (H,)
    back = params.lstm_params_to_torch(p)
    for k, v in module.state_dict().items():
        assert_close(k, back[k], v, rtol=0, atol=0)


@pytest.mark.parametrize("D, H", [(1, 1), (3, 5), (7, 2)])
def test_gru_round_trip_from_module(D, H):
    torch.manual_seed(D * 10 + H)
    module = torch.nn.GRU(D, H, dtype=torch.float64)
    p = params.gru_params_from_torch(module.state_dict())
    assert set(p) == set(gru.GRU_KEYS)
    back = params.gru_params_to_torch(p)
    for k, v in module.state_dict().items():
        assert_close(k, back[k], v, rtol=0, atol=0)


def test_round_trip_from_dict():
    rng = np.random.default_rng(0)
    for init, to_t, from_t in [
        (params.init_lstm_params, params.lstm_params_to_torch, params.lstm_params_from_torch),
        (params.init_gru_params, params.gru_params_to_torch, params.gru_params_from_torch),
    ]:
        p = init(4, 3, rng)
        q = from_t(to_t(p))
        assert set(q) == set(p)
        for k in p:
            assert_close(k, q[k], p[k], rtol=0, atol=0)


def test_lstm_gate_order_is_i_f_g_o():
    """Row block 1 of weight_ih_l0 is the forget gate: set only it and check where it lands."""
    module = torch.nn.LSTM(2, 3, dtype=torch.float64)
    with torch.no_grad():
        module.weight_ih_l0.zero_()
        module.weight_ih_l0[3:6] = 1.0
    p = params.lstm_params_from_torch(module)
    assert np.all(p["W_if"] == 1.0)
    assert np.all(p["W_ii"] == 0.0) and np.all(p["W_ig"] == 0.0) and np.all(p["W_io"] == 0.0)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_loaded_lstm_module_matches_numpy(seed):
    rng = np.random.default_rng(seed)
    D, H, T, B = 3, 4, 5, 2
    p = params.init_lstm_params(D, H, rng)
    module = torch.nn.LSTM(D, H, dtype=torch.float64)
    module.load_state_dict(params.lstm_params_to_torch(p))
    xs = rng.normal(size=(T, B, D))
    with torch.no_grad():
        out, _ = module(torch.from_numpy(xs))
    hs, _ = lstm.lstm_forward(xs, np.zeros((B, H)), np.zeros((B, H)), p)
    assert_close("hs", hs, out, **REFERENCE)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_loaded_gru_module_matches_numpy(seed):
    rng = np.random.default_rng(seed)
    D, H, T, B = 3, 4, 5, 2
    p = params.init_gru_params(D, H, rng)
    module = torch.nn.GRU(D, H, dtype=torch.float64)
    module.load_state_dict(params.gru_params_to_torch(p))
    xs = rng.normal(size=(T, B, D))
    with torch.no_grad():
        out, _ = module(torch.from_numpy(xs))
    assert_close("hs", gru.gru_forward(xs, np.zeros((B, H)), p), out, **REFERENCE)


def test_numpy_from_module_matches_module():
    torch.manual_seed(3)
    module = torch.nn.LSTM(3, 4, dtype=torch.float64)
    p = params.lstm_params_from_torch(module)
    xs = np.random.default_rng(3).normal(size=(6, 2, 3))
    with torch.no_grad():
        out, _ = module(torch.from_numpy(xs))
    hs, _ = lstm.lstm_forward(xs, np.zeros((2, 4)), np.zeros((2, 4)), p)
    assert_close("hs", hs, out, **REFERENCE)


def test_init_matches_pytorch_range_and_shapes():
    D, H = 5, 16
    p = params.init_lstm_params(D, H, np.random.default_rng(0))
    bound = 1 / np.sqrt(H)
    for k, v in p.items():
        assert np.all(np.abs(v) <= bound), k
        assert v.dtype == np.float64
    assert p["W_ii"].shape == (H, D) and p["W_ho"].shape == (H, H) and p["b_hg"].shape == (H,)
    q = params.init_gru_params(D, H, np.random.default_rng(0))
    assert q["W_in"].shape == (H, D) and q["W_hn"].shape == (H, H)
    spread = np.concatenate([v.ravel() for v in p.values()])
    assert spread.max() > 0.9 * bound and spread.min() < -0.9 * bound  # uniform, not tiny


def test_concat_form_equals_split_form():
    rng = np.random.default_rng(5)
    D, H, B = 3, 4, 2
    p = params.init_lstm_params(D, H, rng)
    W, b = params.lstm_concat_weights(p)
    assert W.shape == (4 * H, H + D) and b.shape == (4 * H,)
    x, h = rng.normal(size=(B, D)), rng.normal(size=(B, H))
    a = np.hstack([h, x]) @ W.T + b
    ref_f = lstm.forget_gate(x, h, p["W_if"], p["W_hf"], p["b_if"], p["b_hf"])
    assert_close("f", 1 / (1 + np.exp(-a[:, H : 2 * H])), ref_f, **REFERENCE)
