"""The adding problem: data, the predict-the-mean baseline, the solved criterion."""

import numpy as np
import pytest

from rnnscratch.experiments.adding import (
    MEAN_BASELINE_MSE,
    SOLVED_TOLERANCE,
    adding_batch,
    mean_baseline_mse,
    run_adding,
    solved_fraction,
)

pytestmark = pytest.mark.usefixtures("one_thread")


def test_batch_shapes_and_markers():
    x, y = adding_batch(20, 64, np.random.default_rng(0))
    assert x.shape == (20, 64, 2) and y.shape == (64,)
    assert x.dtype == np.float32
    markers = x[..., 1]
    assert np.all(markers.sum(axis=0) == 2)
    assert np.all(markers[:10].sum(axis=0) == 1)  # one mark in the first half
    assert np.all(markers[10:].sum(axis=0) == 1)  # one in the second half
    np.testing.assert_allclose(y, (x[..., 0] * markers).sum(axis=0), rtol=1e-6)
    assert np.all((x[..., 0] >= 0) & (x[..., 0] < 1))


def test_predict_the_mean_scores_one_sixth():
    # Var(u1 + u2) = 1/6; with n = 200k the standard error of the MSE is ~0.0004
    _, y = adding_batch(4, 200_000, np.random.default_rng(1))
    assert MEAN_BASELINE_MSE == pytest.approx(1 / 6)
    assert mean_baseline_mse(y) == pytest.approx(1 / 6, abs=0.002)
    assert y.mean() == pytest.approx(1.0, abs=0.005)


def test_solved_fraction_uses_a_strict_threshold():
    y = np.zeros(4)
    pred = np.array([0.0, 0.039, 0.041, -0.5])
    assert SOLVED_TOLERANCE == 0.04
    assert solved_fraction(pred, y) == 0.5
    with pytest.raises(ValueError):
        solved_fraction(np.zeros(3), y)


def test_mean_predictor_solves_about_eight_percent():
    # P(|u1 + u2 - 1| < 0.04) = 1 - 0.96^2 = 0.0784 (triangular density around 1)
    _, y = adding_batch(4, 200_000, np.random.default_rng(2))
    assert solved_fraction(np.ones_like(y), y) == pytest.approx(1 - 0.96**2, abs=0.003)


def test_run_adding_learns_a_short_problem():
    r = run_adding("lstm", 5, steps=300, H=16, lr=1e-2, n_test=500, log_every=None)
    assert r["test_mse"] < 0.5 * r["baseline_mse"]
    assert len(r["losses"]) == 300
    r2 = run_adding("lstm", 5, steps=300, H=16, lr=1e-2, n_test=500, log_every=None)
    assert r2["test_mse"] == r["test_mse"]  # fixed seed, same numbers
