"""Torch float64 oracles: reference values computed with PyTorch, returned as numpy.

May import: torch, numpy, ``models`` (key names, packed layouts) and the top-level helpers.
"""

import numpy as np
import torch


def to_tensor(x, grad: bool = False) -> torch.Tensor:
    """A float64 leaf tensor holding a copy of `x` (numpy array, tensor, list or number)."""
    if isinstance(x, torch.Tensor):
        x = x.detach().cpu().numpy()
    return torch.tensor(np.asarray(x, dtype=np.float64), dtype=torch.float64, requires_grad=grad)


def to_numpy(x: torch.Tensor) -> np.ndarray:
    """The values of tensor `x` as a numpy array (detached, on the CPU)."""
    return x.detach().cpu().numpy()
