"""Torch float64 oracles: reference values computed with PyTorch, returned as numpy."""
