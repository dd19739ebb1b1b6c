"""Per-gate parameter dicts <-> torch's packed nn.LSTM / nn.GRU state dicts, and initialisation.

torch stacks the gates' weights along the rows: `weight_ih_l0` is (4H, D) with row blocks in
the order i, f, g, o for nn.LSTM, (3H, D) in the order r, z, n for nn.GRU; `weight_hh_l0` is
(4H, H) / (3H, H); `bias_ih_l0` and `bias_hh_l0` are (4H,) / (3H,). The course's dicts keep
one array per gate under PyTorch's own names: W_ii (H, D), W_hi (H, H), b_ii (H,), b_hi (H,), ...
"""

import numpy as np

from rnnscratch.models.gru import GRU_GATES
from rnnscratch.models.lstm import LSTM_GATES


def _to_torch(p, order):
    import torch

    def stack(prefix):
        return torch.from_numpy(np.concatenate([np.asarray(p[f"{prefix}{g}"]) for g in order]))

    return {
        "weight_ih_l0": stack("W_i"),
        "weight_hh_l0": stack("W_h"),
        "bias_ih_l0": stack("b_i"),
        "bias_hh_l0": stack("b_h"),
    }


def _from_torch(module_or_state_dict, order):
    state = module_or_state_dict
    if hasattr(state, "state_dict"):
        state = state.state_dict()
    arrays = {k: np.asarray(v.detach().cpu().double().numpy()) for k, v in state.items()}
    n = len(order)
    H = arrays["weight_hh_l0"].shape[1]
    if arrays["weight_hh_l0"].shape[0] != n * H:
        raise ValueError(f"weight_hh_l0 has {arrays['weight_hh_l0'].shape[0]} rows, expected {n}H")
    p = {}
    names = {"W_i": "weight_ih_l0", "W_h": "weight_hh_l0", "b_i": "bias_ih_l0", "b_h": "bias_hh_l0"}
    for prefix, key in names.items():
        for k, gate in enumerate(order):
            p[f"{prefix}{gate}"] = arrays[key][k * H : (k + 1) * H].copy()
    return p


def lstm_params_to_torch(p):
    """Pack per-gate LSTM parameters into a state dict that `nn.LSTM.load_state_dict` accepts.

    p: dict W_ii W_if W_ig W_io (H, D), W_hi W_hf W_hg W_ho (H, H), b_ii ... b_ho (H,)
    returns dict of torch tensors (same dtype as p): weight_ih_l0 (4H, D), weight_hh_l0 (4H, H),
            bias_ih_l0 (4H,), bias_hh_l0 (4H,), row blocks in the order i, f, g, o
    """
    return _to_torch(p, LSTM_GATES)


def lstm_params_from_torch(module_or_state_dict):
    """Split a one-layer nn.LSTM (or its state dict) into per-gate float64 numpy arrays.

    module_or_state_dict: nn.LSTM or dict with weight_ih_l0 (4H, D), weight_hh_l0 (4H, H),
                          bias_ih_l0 (4H,), bias_hh_l0 (4H,)
    returns dict W_ii ... b_ho (see `lstm_params_to_torch`), float64
    """
    return _from_torch(module_or_state_dict, LSTM_GATES)


def gru_params_to_torch(p):
    """Pack per-gate GRU parameters into a state dict for `nn.GRU.load_state_dict`.

    p: dict W_ir W_iz W_in (H, D), W_hr W_hz W_hn (H, H), b_ir ... b_hn (H,)
    returns dict of torch tensors: weight_ih_l0 (3H, D), weight_hh_l0 (3H, H),
            bias_ih_l0 (3H,), bias_hh_l0 (3H,), row blocks in the order r, z, n
    """
    return _to_torch(p, GRU_GATES)


def gru_params_from_torch(module_or_state_dict):
    """Split a one-layer nn.GRU (or its state dict) into per-gate float64 numpy arrays."""
    return _from_torch(module_or_state_dict, GRU_GATES)


def lstm_concat_weights(p):
    """The concatenated-[h, x] form: one weight matrix and one bias for all four gates.

    p: dict of per-gate LSTM parameters, W_i* (H, D), W_h* (H, H)
    returns W: (4H, H + D) rows in gate order i, f, g, o, columns [h | x];
            b: (4H,) the two biases added (b_i* + b_h*)
    so that the stacked pre-activations are [h, x] @ W.T + b.
    """
    W = np.concatenate([np.hstack([p[f"W_h{g}"], p[f"W_i{g}"]]) for g in LSTM_GATES])
    b = np.concatenate([p[f"b_i{g}"] + p[f"b_h{g}"] for g in LSTM_GATES])
    return W, b


def _init(D, H, rng, order):
    k = 1.0 / np.sqrt(H)
    p = {}
    for g in order:
        p[f"W_i{g}"] = rng.uniform(-k, k, size=(H, D))
    for g in order:
        p[f"W_h{g}"] = rng.uniform(-k, k, size=(H, H))
    for g in order:
        p[f"b_i{g}"] = rng.uniform(-k, k, size=H)
    for g in order:
        p[f"b_h{g}"] = rng.uniform(-k, k, size=H)
    return p


def init_lstm_params(D, H, rng):
    """PyTorch's default LSTM initialisation: every entry U(-1/sqrt(H), 1/sqrt(H)), float64.

    D: int input size, H: int hidden size, rng: np.random.Generator
    returns dict of per-gate parameters W_ii ... b_ho
    """
    return _init(D, H, rng, LSTM_GATES)


def init_gru_params(D, H, rng):
    """PyTorch's default GRU initialisation: every entry U(-1/sqrt(H), 1/sqrt(H)), float64.

    D: int input size, H: int hidden size, rng: np.random.Generator
    returns dict of per-gate parameters W_ir ... b_hn
    """
    return _init(D, H, rng, GRU_GATES)
