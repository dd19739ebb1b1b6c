"""Forecasting a real price series: data, honest splits, baselines and a many-to-one LSTM.

The data are the daily Google prices that matplotlib ships as sample data (`goog.npz`, read
through `matplotlib.cbook.get_sample_data`; no download), and the monthly prices of ten stocks
and indices in its `Stocks.csv`. Everything here respects time:

- the split is chronological (train, then validation, then test; never shuffled across time);
- the normalisation is fitted on the training period only, then applied unchanged to the rest;
- a window's inputs are the L values *before* its target, so a test target's inputs may come
  from the end of the validation period (they were known at that time) but no target is ever
  an input of a model fitted on another period.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from rnnscratch.experiments.train import ManyToOne, predict, train
from rnnscratch.seed import set_seed

__all__ = [
    "load_goog",
    "load_stocks",
    "chronological_split",
    "Standardiser",
    "make_windows",
    "naive_forecast",
    "fit_linear_ar",
    "predict_linear_ar",
    "rmse",
    "mae",
    "train_lstm_forecaster",
    "lstm_predict",
]


def load_goog() -> tuple[np.ndarray, np.ndarray]:
    """Daily Google (GOOG) prices, Aug 2004 - Oct 2008, from matplotlib's sample data.

    returns: dates (N,) datetime64[D], close (N,) float64 adjusted closing price in dollars
    """
    from matplotlib import cbook

    data = cbook.get_sample_data("goog.npz")
    if not hasattr(data, "files"):  # older matplotlib returns a file object
        data = np.load(data)
    prices = data["price_data"]
    return prices["date"].astype("datetime64[D]"), prices["adj_close"].astype(np.float64)


def load_stocks() -> tuple[np.ndarray, list[str], np.ndarray]:
    """Monthly closing prices of ten stocks and indices since 1990, from matplotlib's `Stocks.csv`.

    Rows in which every price is missing are dropped; a series that starts later (GOOGL in 2004)
    is NaN before its first price.
    returns: dates (N,) datetime64[D], names (K,) column names (tickers, "^GSPC" is the S&P 500),
             prices (N, K) float64 with NaN where a series has no value
    """
    from matplotlib import cbook

    path = cbook.get_sample_data("Stocks.csv", asfileobj=False)
    lines = [ln for ln in open(path, encoding="utf-8").read().splitlines() if ln and ln[0] != "#"]
    names = lines[0].split(",")[1:]
    dates, rows = [], []
    for line in lines[1:]:
        cells = line.split(",")
        values = [float(c) if c else np.nan for c in cells[1:]]
        if len(values) != len(names):
            raise ValueError(f"Stocks.csv row {cells[0]}: {len(values)} prices, not {len(names)}")
        if not np.all(np.isnan(values)):
            dates.append(cells[0])
            rows.append(values)
    return np.array(dates, dtype="datetime64[D]"), names, np.array(rows, dtype=np.float64)


def chronological_split(n: int, fractions=(0.7, 0.15, 0.15)) -> tuple[slice, slice, slice]:
    """Index ranges for train, validation and test, in time order, covering 0..n-1.

    n: number of time steps;  fractions: shares of (train, val, test), summing to 1
    returns: (train, val, test) slices, contiguous and disjoint
    """
    if not np.isclose(sum(fractions), 1.0):
        raise ValueError(f"fractions must sum to 1, got {fractions}")
    a = int(round(n * fractions[0]))
    b = int(round(n * (fractions[0] + fractions[1])))
    return slice(0, a), slice(a, b), slice(b, n)


@dataclass
class Standardiser:
    """z = (x - mean) / std with mean and std taken from the data passed to `fit` only."""

    mean: float = 0.0
    std: float = 1.0

    @classmethod
    def fit(cls, train_values: np.ndarray) -> Standardiser:
        """train_values: (N,) the training period only."""
        v = np.asarray(train_values, dtype=float)
        return cls(float(v.mean()), float(v.std()))

    def transform(self, x):
        return (np.asarray(x, dtype=float) - self.mean) / self.std

    def inverse(self, z):
        return np.asarray(z, dtype=float) * self.std + self.mean


def make_windows(series: np.ndarray, L: int, targets: slice) -> tuple[np.ndarray, np.ndarray]:
    """Sliding windows whose targets lie in `targets`: inputs are the L values just before.

    series: (N,) values;  L: window length;  targets: slice of target indices (start >= L is
    enforced by skipping earlier targets)
    returns: X (M, L) with X[k] = series[t-L : t], y (M,) with y[k] = series[t], for every t in
             `targets` with t >= L
    """
    series = np.asarray(series, dtype=float)
    start = max(targets.start or 0, L)
    stop = len(series) if targets.stop is None else targets.stop
    ts = np.arange(start, stop)
    X = series[ts[:, None] - L + np.arange(L)[None, :]]
    return X, series[ts]


def naive_forecast(X: np.ndarray) -> np.ndarray:
    """'Tomorrow = today': the last value of each window. X: (M, L) -> (M,)."""
    return np.asarray(X)[:, -1]


def fit_linear_ar(X: np.ndarray, y: np.ndarray, ridge: float = 0.0) -> np.ndarray:
    """Least-squares linear autoregression y_t = a_0 + sum_k a_k x_{t-k}.

    X: (M, L) windows;  y: (M,) targets;  ridge: L2 penalty on the slopes (0: plain least squares)
    returns: coef (L + 1,), the intercept first
    """
    A = np.hstack([np.ones((len(X), 1)), X])
    P = ridge * np.eye(A.shape[1])
    P[0, 0] = 0.0
    return np.linalg.solve(A.T @ A + P, A.T @ y)


def predict_linear_ar(coef: np.ndarray, X: np.ndarray) -> np.ndarray:
    """X: (M, L) -> (M,) predictions of `fit_linear_ar`'s model."""
    return coef[0] + np.asarray(X) @ coef[1:]


def rmse(pred, y) -> float:
    """Root mean squared error."""
    return float(np.sqrt(np.mean((np.asarray(pred) - np.asarray(y)) ** 2)))


def mae(pred, y) -> float:
    """Mean absolute error."""
    return float(np.mean(np.abs(np.asarray(pred) - np.asarray(y))))


def train_lstm_forecaster(
    X_train: np.ndarray,
    y_train: np.ndarray,
    X_val: np.ndarray,
    y_val: np.ndarray,
    *,
    H: int = 32,
    steps: int = 600,
    B: int = 64,
    lr: float = 3e-3,
    clip: float | None = 1.0,
    seed: int = 0,
    log_every: int | None = 200,
    eval_every: int = 50,
) -> tuple[torch.nn.Module, dict]:
    """Train a one-layer many-to-one LSTM on normalised windows; keep the best-on-validation state.

    X_train: (M, L) normalised windows;  y_train: (M,) normalised next values; likewise for val.
    H: hidden size;  steps: Adam steps;  B: windows per step (drawn with replacement, seeded)
    returns: (model in eval mode with the weights that scored best on validation, history dict
             with "steps", "losses", "val_steps", "val_losses" as arrays)
    """
    set_seed(seed)
    rng = np.random.default_rng(seed)
    model = ManyToOne("lstm", 1, H)
    Xt = torch.tensor(X_train.T[:, :, None], dtype=torch.float32)  # (L, M, 1) time-major
    yt = torch.tensor(y_train, dtype=torch.float32)
    Xv = torch.tensor(X_val.T[:, :, None], dtype=torch.float32)
    yv = torch.tensor(y_val, dtype=torch.float32)

    def batch_fn(step):
        idx = torch.from_numpy(rng.integers(0, len(yt), size=B))
        return Xt[:, idx], yt[idx]

    def loss_fn(m, batch):
        x, y = batch
        return torch.nn.functional.mse_loss(m(x).squeeze(-1), y)

    best = {"val": float("inf"), "state": None}

    def eval_fn(m):
        val = float(loss_fn(m, (Xv, yv)))
        if val < best["val"]:
            best["val"] = val
            best["state"] = {k: v.detach().clone() for k, v in m.state_dict().items()}
        return val

    hist = train(
        model,
        loss_fn,
        batch_fn,
        steps=steps,
        lr=lr,
        clip=clip,
        log_every=log_every,
        eval_fn=eval_fn,
        eval_every=eval_every,
        name="lstm forecaster",
    )
    model.load_state_dict(best["state"])
    model.eval()
    return model, hist.as_arrays()


def lstm_predict(model: torch.nn.Module, X: np.ndarray) -> np.ndarray:
    """X: (M, L) normalised windows -> (M,) normalised predictions."""
    x = torch.tensor(X.T[:, :, None], dtype=torch.float32)
    return predict(model, x).squeeze(-1).numpy().astype(float)
