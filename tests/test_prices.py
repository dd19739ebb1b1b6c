"""Price forecasting helpers: data, chronological split, train-only normalisation, baselines."""

import numpy as np
import pytest

from rnnscratch.experiments.prices import (
    Standardiser,
    chronological_split,
    fit_linear_ar,
    load_goog,
    lstm_predict,
    mae,
    make_windows,
    naive_forecast,
    predict_linear_ar,
    rmse,
    train_lstm_forecaster,
)

pytestmark = pytest.mark.usefixtures("one_thread")


def test_goog_loads_in_time_order():
    dates, close = load_goog()
    assert len(dates) == len(close) > 1000
    assert np.all(np.diff(dates.astype("int64")) > 0)
    assert np.all(np.isfinite(close)) and np.all(close > 0)


def test_split_is_chronological_disjoint_and_complete():
    tr, va, te = chronological_split(1000, (0.7, 0.15, 0.15))
    assert (tr.start, tr.stop, va.start, va.stop, te.start, te.stop) == (
        0,
        700,
        700,
        850,
        850,
        1000,
    )
    with pytest.raises(ValueError):
        chronological_split(10, (0.5, 0.2, 0.2))


def test_standardiser_uses_training_statistics_only():
    series = np.concatenate([np.arange(100.0), 1e6 + np.arange(50.0)])  # a huge jump later
    tr, _, _ = chronological_split(150, (2 / 3, 1 / 6, 1 / 6))
    sc = Standardiser.fit(series[tr])
    assert sc.mean == pytest.approx(49.5)
    assert sc.std == pytest.approx(np.arange(100.0).std())
    z = sc.transform(series)
    assert z[:100].mean() == pytest.approx(0.0, abs=1e-12)
    assert z[100:].min() > 1000  # later data are far out, not re-centred
    np.testing.assert_allclose(sc.inverse(z), series)


def test_windows_look_only_backwards():
    series = np.arange(20.0)
    X, y = make_windows(series, 3, slice(10, 15))
    assert X.shape == (5, 3)
    np.testing.assert_array_equal(y, [10, 11, 12, 13, 14])
    np.testing.assert_array_equal(X[0], [7, 8, 9])
    assert np.all(X.max(axis=1) < y)  # every input is strictly earlier than its target
    X0, y0 = make_windows(series, 3, slice(0, 5))
    np.testing.assert_array_equal(y0, [3, 4])  # targets without a full window are skipped


def test_baselines_on_known_series():
    X = np.array([[1.0, 2.0, 3.0], [2.0, 3.0, 4.0]])
    np.testing.assert_array_equal(naive_forecast(X), [3.0, 4.0])
    # an exact AR(2) process is recovered by least squares
    rng = np.random.default_rng(0)
    s = np.zeros(500)
    s[:2] = rng.normal(size=2)
    for t in range(2, 500):
        s[t] = 0.3 + 0.5 * s[t - 1] - 0.2 * s[t - 2] + 0.01 * rng.normal()
    Xs, ys = make_windows(s, 2, slice(0, 500))
    coef = fit_linear_ar(Xs, ys)
    np.testing.assert_allclose(coef, [0.3, -0.2, 0.5], atol=0.02)
    assert rmse(predict_linear_ar(coef, Xs), ys) < 0.011


def test_error_metrics():
    assert rmse([0.0, 0.0], [3.0, 4.0]) == pytest.approx(np.sqrt(12.5))
    assert mae([0.0, 0.0], [3.0, -4.0]) == pytest.approx(3.5)


def test_lstm_forecaster_beats_the_mean_on_a_sine():
    t = np.arange(400)
    z = np.sin(0.2 * t)
    Xtr, ytr = make_windows(z, 10, slice(0, 300))
    Xva, yva = make_windows(z, 10, slice(300, 400))
    model, hist = train_lstm_forecaster(
        Xtr, ytr, Xva, yva, H=16, steps=200, lr=1e-2, log_every=None, eval_every=50
    )
    assert list(hist["val_steps"]) == [50, 100, 150, 200]
    pred = lstm_predict(model, Xva)
    assert rmse(pred, yva) < 0.5 * yva.std()
    assert rmse(pred, yva) == pytest.approx(np.sqrt(hist["val_losses"].min()), rel=1e-4)


def test_stocks_csv_loads_monthly_prices():
    from rnnscratch.experiments.prices import load_stocks

    dates, names, prices = load_stocks()
    assert prices.shape == (len(dates), len(names)) and len(names) == 10
    assert "^GSPC" in names and "IBM" in names
    assert np.all(np.diff(dates).astype(int) > 0)  # strictly in time order
    gaps = np.diff(dates).astype(int)
    assert gaps.min() >= 20 and gaps.max() <= 32  # monthly rows only (all-empty rows dropped)
    assert not np.isnan(prices[:, names.index("^GSPC")]).any()
    assert np.isnan(prices[0, names.index("GOOGL")])  # listed later: missing, not zero
    assert np.nanmin(prices) > 0
