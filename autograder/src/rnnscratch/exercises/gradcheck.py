"""Finite-difference gradient checks a student runs on their own backward pass (CS231n style).

    from rnnscratch.exercises.gradcheck import gradcheck_rnn_cell
    gradcheck_rnn_cell(rnn_cell_backward)            # forward: the course's rnn_cell
    gradcheck_rnn_cell(rnn_cell_backward, rnn_cell)  # forward: your own

The loss is L = sum(dh * h) (+ sum(dc * c) for the LSTM) for random upstream gradients, so its
gradient with respect to every input and parameter is exactly what the backward function must
return. Each is compared with central differences of the *forward* function (float64, eps=1e-6)
and reported as the largest relative error per key: below ~1e-6 is right; a key far above it
is the one to look at. Nothing here is graded.
"""

import numpy as np

from rnnscratch.checks import finite_difference_grad

__all__ = ["GradcheckReport", "gradcheck_lstm_cell", "gradcheck_rnn_cell", "relative_error"]

#: a key whose relative error is below this agrees with finite differences
GOOD = 1e-6


def relative_error(a, b) -> float:
    """max |a - b| / max(|a| + |b|, 1e-8), elementwise (CS231n's rel_error)."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    return float(np.max(np.abs(a - b) / np.maximum(np.abs(a) + np.abs(b), 1e-8)))


class GradcheckReport(dict):
    """{gradient key: max relative error}; shows as a table with a verdict per key."""

    def bad(self) -> list[str]:
        """Keys whose gradient disagrees with finite differences."""
        return [k for k, v in self.items() if not v < GOOD]

    def __repr__(self) -> str:
        lines = [f"{'gradient':10} {'rel. error':>11}  verdict"]
        for k, v in self.items():
            verdict = "ok" if v < GOOD else "WRONG: compare this gradient's formula"
            lines.append(f"{k:10} {v:11.2e}  {verdict}")
        return "\n".join(lines)


def _numeric(loss, arrays: dict, key: str):
    def f(value):
        saved = arrays[key]
        arrays[key] = value
        try:
            return loss()
        finally:
            arrays[key] = saved

    return finite_difference_grad(f, arrays[key].copy())


def _report(loss, arrays: dict, analytic: dict, names: dict) -> GradcheckReport:
    report = GradcheckReport()
    for grad_key, arg in names.items():
        if grad_key not in analytic:
            report[grad_key] = float("inf")
            continue
        report[grad_key] = relative_error(analytic[grad_key], _numeric(loss, arrays, arg))
    return report


def gradcheck_rnn_cell(rnn_cell_backward, rnn_cell=None, B=2, D=3, H=4, seed=0):
    """Compare `rnn_cell_backward(dh, x, h_prev, h, W_ih, W_hh)` with finite differences of
    `rnn_cell(x, h_prev, W_ih, W_hh, b_ih, b_hh)` (default: the course's reference).

    returns: GradcheckReport {dx, dh_prev, dW_ih, dW_hh, db_ih, db_hh: max relative error}.
    """
    from rnnscratch.models import rnn

    forward = rnn_cell or rnn.rnn_cell
    rng = np.random.default_rng(seed)
    a = {
        "x": rng.standard_normal((B, D)),
        "h_prev": np.tanh(rng.standard_normal((B, H))),
        "W_ih": 0.6 * rng.standard_normal((H, D)),
        "W_hh": 0.6 * rng.standard_normal((H, H)),
        "b_ih": 0.5 * rng.standard_normal(H),
        "b_hh": 0.5 * rng.standard_normal(H),
    }
    dh = rng.standard_normal((B, H))

    def loss():
        return float(np.sum(dh * forward(**a)))

    h = forward(**a)
    analytic = rnn_cell_backward(dh, a["x"], a["h_prev"], h, a["W_ih"], a["W_hh"])
    names = {"dx": "x", "dh_prev": "h_prev", "dW_ih": "W_ih", "dW_hh": "W_hh"}
    names |= {"db_ih": "b_ih", "db_hh": "b_hh"}
    return _report(loss, a, analytic, names)


def gradcheck_lstm_cell(lstm_cell_backward, lstm_cell=None, B=2, D=3, H=4, seed=0):
    """Compare `lstm_cell_backward(dh, dc, x, h_prev, c_prev, c, gates, p)` with finite
    differences of `lstm_cell(x, h_prev, c_prev, p) -> (h, c)` (default: the course's).

    returns: GradcheckReport {dx, dh_prev, dc_prev, dW_ii, ..., db_ho: max relative error}.
    """
    from rnnscratch.models import lstm

    forward = lstm_cell or lstm.lstm_cell
    rng = np.random.default_rng(seed)
    a = {
        "x": rng.standard_normal((B, D)),
        "h_prev": np.tanh(rng.standard_normal((B, H))),
        "c_prev": rng.standard_normal((B, H)),
    }
    for g in "ifgo":
        a[f"W_i{g}"] = 0.6 * rng.standard_normal((H, D))
        a[f"W_h{g}"] = 0.6 * rng.standard_normal((H, H))
        a[f"b_i{g}"] = 0.5 * rng.standard_normal(H)
        a[f"b_h{g}"] = 0.5 * rng.standard_normal(H)
    dh, dc = rng.standard_normal((B, H)), rng.standard_normal((B, H))
    pkeys = [k for k in a if k[0] in "Wb"]

    def call():
        p = {k: a[k] for k in pkeys}
        return forward(a["x"], a["h_prev"], a["c_prev"], p)

    def loss():
        h, c = call()
        return float(np.sum(dh * h) + np.sum(dc * c))

    p = {k: a[k] for k in pkeys}
    _, c = call()
    gates = lstm.lstm_gates(a["x"], a["h_prev"], p)
    analytic = lstm_cell_backward(dh, dc, a["x"], a["h_prev"], a["c_prev"], c, gates, p)
    names = {"dx": "x", "dh_prev": "h_prev", "dc_prev": "c_prev"} | {f"d{k}": k for k in pkeys}
    return _report(loss, a, analytic, names)
