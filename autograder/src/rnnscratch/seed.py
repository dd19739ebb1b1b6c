"""One seed for python, numpy and torch, so every page and test re-runs to the same numbers."""

import os
import random

import numpy as np


def set_seed(seed: int = 0) -> np.random.Generator:
    """Seed python's `random`, numpy's global RNG and torch; return a fresh numpy Generator.

    seed: int  the seed used everywhere.
    returns: np.random.Generator seeded with `seed`, the preferred way to draw numbers.
    """
    os.environ.setdefault("PYTHONHASHSEED", str(seed))
    random.seed(seed)
    np.random.seed(seed)
    try:
        import torch
    except ImportError:  # pragma: no cover - torch is a pinned dependency
        pass
    else:
        torch.manual_seed(seed)
    return np.random.default_rng(seed)
