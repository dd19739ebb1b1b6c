"""Looking inside a trained LSTM: every state and gate along a sequence, neuron search, heatmaps.

`lstm_states` re-runs a trained one-layer `torch.nn.LSTM` step by step with the course's numpy
LSTM (`models.lstm.lstm_forward`) in float64, so the cell state, hidden state and all four
gates (PyTorch order i, f, g, o) are available at every step; the hidden and cell states match
`nn.LSTM` itself. `find_neuron` picks the unit whose activation correlates best with a quantity
(such as the running count), and `plot_states` draws the heatmaps.
"""

import numpy as np

from rnnscratch.booktools.plots import figure, heatmap
from rnnscratch.models.lstm import LSTM_GATES, lstm_forward
from rnnscratch.models.params import lstm_params_from_torch

STATE_NAMES = ("c", "h", *LSTM_GATES)
STATE_LABELS = {
    "c": "cell state c",
    "h": "hidden state h",
    "i": "input gate i",
    "f": "forget gate f",
    "g": "candidate g",
    "o": "output gate o",
}


def lstm_states(lstm, xs, h0=None, c0=None) -> dict[str, np.ndarray]:
    """Run a trained nn.LSTM over `xs` step by step in float64, keeping every internal value.

    lstm: torch.nn.LSTM  one layer, time-major (batch_first=False)
    xs: (T, B, D) inputs (numpy or torch, any float dtype)
    h0, c0: (B, H) initial states; zeros when None (as nn.LSTM)
    returns: dict of (T, B, H) float64 arrays: c (cell state), h (hidden state), and the gates
             i (input), f (forget), g (candidate), o (output) at steps 1..T
    """
    if lstm.num_layers != 1 or lstm.bidirectional or lstm.proj_size or not lstm.bias:
        raise ValueError("lstm_states needs a one-layer, one-direction nn.LSTM with biases")
    p = lstm_params_from_torch(lstm)  # per-gate float64 arrays, torch's order i, f, g, o
    xs = np.asarray(xs.detach().cpu() if hasattr(xs, "detach") else xs, dtype=np.float64)
    B, H = xs.shape[1], lstm.hidden_size
    h0 = np.zeros((B, H)) if h0 is None else np.asarray(h0, dtype=np.float64)
    c0 = np.zeros((B, H)) if c0 is None else np.asarray(c0, dtype=np.float64)
    hs, cs, gates = lstm_forward(xs, h0, c0, p, return_gates=True)
    return {"c": cs, "h": hs, **gates}


def correlations(values, quantity, mask=None) -> np.ndarray:
    """Pearson correlation of each unit with a quantity, over the (masked) steps of a batch.

    values: (T, B, H) activations (e.g. lstm_states(...)["c"])
    quantity: (T, B) the quantity to explain (e.g. the running count)
    mask: (T, B) bool, steps to use (default: all)
    returns: (H,) correlations in [-1, 1] (0 for a unit or quantity that never changes)
    """
    values = np.asarray(values, dtype=np.float64)
    quantity = np.asarray(quantity, dtype=np.float64)
    mask = np.ones(quantity.shape, dtype=bool) if mask is None else np.asarray(mask, dtype=bool)
    v = values[mask]  # (N, H)
    q = quantity[mask]  # (N,)
    v = v - v.mean(axis=0)
    q = q - q.mean()
    denominator = np.sqrt((v**2).sum(axis=0) * (q**2).sum())
    with np.errstate(invalid="ignore", divide="ignore"):
        r = (v * q[:, None]).sum(axis=0) / denominator
    return np.where(denominator > 0, r, 0.0)


def find_neuron(values, quantity, mask=None, exclude=(), sign=0) -> tuple[int, float]:
    """The unit whose activation correlates best with `quantity`.

    values: (T, B, H), quantity: (T, B), mask: (T, B) bool (see `correlations`)
    exclude: units not to consider (e.g. one already found)
    sign: 0 picks the highest |r|; +1 the highest r; -1 the lowest (most negative) r
    returns: (unit index, its correlation r; the sign says whether it rises or falls with it)
    """
    r = correlations(values, quantity, mask)
    score = np.abs(r) if sign == 0 else np.sign(sign) * r
    score[list(exclude)] = -np.inf
    unit = int(np.argmax(score))
    return unit, float(r[unit])


def plot_states(states, string, b=0, names=STATE_NAMES, units=None, highlight=(), title=None):
    """Heatmaps of states and gates along one sequence: one panel per name, units x steps.

    states: dict from `lstm_states` ((T, B, H) arrays)
    string: the input characters of sequence `b` (x-axis labels; its length gives T shown)
    b: which sequence of the batch to draw
    names: which of c, h, i, f, g, o to draw, top to bottom
    units: unit indices to draw (rows; default all)
    highlight: units whose row labels are drawn in bold with a marker (e.g. found neurons)
    returns: the matplotlib Figure
    """
    T = len(string)
    H = states["h"].shape[2]
    units = list(range(H)) if units is None else list(units)
    fig, axes = figure(
        nrows=len(names),
        width=max(6.0, 0.32 * T + 2.5),
        height=0.22 * len(units) + 0.35,
        sharex=True,
        squeeze=False,
    )
    for ax, name in zip(axes[:, 0], names, strict=True):
        data = states[name][:T, b, :][:, units].T  # (units, T)
        if name in ("i", "f", "o"):  # gates live in (0, 1): one fixed scale for all of them
            heatmap(data, ax=ax, symmetric=False).images[0].set_clim(0.0, 1.0)
        else:  # h and g live in (-1, 1); c is unbounded, centred on 0
            limit = max(1.0, float(np.abs(data).max())) if name == "c" else 1.0
            heatmap(data, ax=ax, vmax=limit)
        ax.set_yticks(range(len(units)))
        ax.set_yticklabels([f"{u} \u25c0" if u in highlight else str(u) for u in units], fontsize=7)
        for label, u in zip(ax.get_yticklabels(), units, strict=True):
            if u in highlight:
                label.set_fontweight("bold")
        ax.set_ylabel(STATE_LABELS[name], fontsize=8, rotation=0, ha="right", va="center")
    axes[-1, 0].set_xticks(range(T))
    axes[-1, 0].set_xticklabels(list(string), fontfamily="monospace", fontsize=10)
    axes[-1, 0].set_xlabel("input character at each step")
    if title:
        axes[0, 0].set_title(title)
    return fig
