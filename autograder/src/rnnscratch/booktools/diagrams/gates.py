"""LSTM and GRU cell diagrams drawn with matplotlib (after Olah 2015's style).

`draw_lstm_cell()` and `draw_gru_cell()` return a matplotlib Figure. Yellow boxes are layers
with weights (sigmoid or tanh of an affine map of [h_{t-1}, x_t]); pink circles are
elementwise operations; every gate is labelled with its symbol and name.
"""

import matplotlib.pyplot as plt
from matplotlib.patches import Circle, FancyBboxPatch

LAYER = "#ffe08a"
OP = "#f7b6c2"
LINE = "#333333"
STATE = {"c": "#1f77b4", "h": "#2ca02c", "x": "#7f7f7f"}


def _layer(ax, x, y, text, label=None, w=1.0, h=0.6):
    ax.add_patch(
        FancyBboxPatch(
            (x - w / 2, y - h / 2),
            w,
            h,
            boxstyle="round,pad=0.05",
            fc=LAYER,
            ec=LINE,
            lw=1.5,
            zorder=3,
        )
    )
    ax.text(x, y, text, ha="center", va="center", fontsize=15, zorder=4)
    if label:
        ax.text(x, y - h / 2 - 0.22, label, ha="center", va="top", fontsize=11, zorder=4)


def _op(ax, x, y, text, r=0.28):
    ax.add_patch(Circle((x, y), r, fc=OP, ec=LINE, lw=1.5, zorder=3))
    ax.text(x, y, text, ha="center", va="center", fontsize=14, zorder=4)


def _arrow(ax, points, color=LINE, lw=2.0):
    """A polyline through `points` with an arrow head at the end."""
    xs, ys = zip(*points, strict=True)
    ax.plot(xs[:-1], ys[:-1], color=color, lw=lw, zorder=1, solid_capstyle="round")
    ax.annotate(
        "",
        xy=points[-1],
        xytext=points[-2],
        arrowprops={"arrowstyle": "-|>", "color": color, "lw": lw, "shrinkA": 0, "shrinkB": 12},
        zorder=2,
    )


def _frame(figsize):
    fig, ax = plt.subplots(figsize=figsize)
    ax.set_xlim(-0.6, 11.6)
    ax.set_ylim(-0.9, 6.6)
    ax.set_aspect("equal")
    ax.axis("off")
    ax.add_patch(
        FancyBboxPatch(
            (0.6, 0.3),
            9.4,
            5.5,
            boxstyle="round,pad=0.1",
            fc="#f4f4f4",
            ec="#999999",
            lw=1.2,
            zorder=0,
        )
    )
    return fig, ax


def draw_lstm_cell(figsize=(11, 7.2)):
    """One LSTM step: cell state on top (the conveyor belt), gates below, [h, x] bus at the bottom.

    returns matplotlib.figure.Figure
    """
    fig, ax = _frame(figsize)
    # drawn like draw_gru_cell on purpose (`duplicates` pairs them): same layout, same reading
    c, h, x = STATE["c"], STATE["h"], STATE["x"]
    belt = 5.0
    # the conveyor belt: c_{t-1} -> x f -> + i*g -> c_t
    _arrow(ax, [(-0.4, belt), (2.2, belt)], color=c, lw=3)
    _arrow(ax, [(2.2, belt), (5.2, belt)], color=c, lw=3)
    _arrow(ax, [(5.2, belt), (11.3, belt)], color=c, lw=3)
    ax.text(-0.4, belt + 0.3, "$c_{t-1}$", fontsize=16, color=c)
    ax.text(10.7, belt + 0.3, "$c_t$", fontsize=16, color=c)
    ax.text(3.7, belt + 0.35, "cell state: long-term memory", fontsize=11, color=c, ha="center")
    _op(ax, 2.2, belt, "×")
    _op(ax, 5.2, belt, "+")
    # the [h_{t-1}, x_t] bus feeding every gate
    bus = 1.0
    _arrow(ax, [(-0.4, bus), (1.6, bus)], color=h, lw=2.5)
    ax.text(-0.4, bus - 0.45, "$h_{t-1}$", fontsize=16, color=h)
    ax.plot([1.6, 7.0], [bus, bus], color=LINE, lw=2.5, zorder=1)
    _arrow(ax, [(1.6, -0.7), (1.6, bus)], color=x, lw=2.5)
    ax.text(1.85, -0.75, "$x_t$", fontsize=16, color=x)
    ax.text(3.9, bus - 0.45, "$[h_{t-1}, x_t]$ goes to every gate", fontsize=11, ha="center")
    # the four gates
    gates = [
        (2.2, r"$\sigma$", "forget $f_t$"),
        (3.8, r"$\sigma$", "input $i_t$"),
        (5.2, r"$\tanh$", "candidate $g_t$"),
        (7.0, r"$\sigma$", "output $o_t$"),
    ]
    for gx, text, label in gates:
        _arrow(ax, [(gx, bus), (gx, 2.3)])
        _layer(ax, gx, 2.6, text)
        ax.text(gx, 3.15, label, ha="center", fontsize=11, zorder=4)
    # f_t up to the forget multiplication
    _arrow(ax, [(2.2, 3.5), (2.2, belt)])
    # i_t * g_t, then up to the addition
    _op(ax, 4.5, 4.1, "×")
    _arrow(ax, [(3.8, 3.5), (3.8, 4.1), (4.5, 4.1)])
    _arrow(ax, [(5.2, 3.5), (5.2, 3.8), (4.5, 4.1)])
    _arrow(ax, [(4.5, 4.1), (5.2, belt)])
    # output: tanh(c_t) times o_t
    _arrow(ax, [(8.6, belt), (8.6, 3.9)], color=c)
    _layer(ax, 8.6, 3.9, r"$\tanh$", w=0.9, h=0.5)
    ax.add_patch(Circle((8.6, 3.9), 0.0))
    _op(ax, 8.6, 2.6, "×")
    _arrow(ax, [(8.6, 3.6), (8.6, 2.6)])
    _arrow(ax, [(7.0, 2.9), (7.0, 2.6), (8.6, 2.6)])
    # h_t leaves to the right (next step) and up (output)
    _arrow(ax, [(8.6, 2.6), (8.6, bus), (11.3, bus)], color=h, lw=2.5)
    _arrow(ax, [(9.6, bus), (9.6, 6.4)], color=h, lw=2.0)
    ax.text(10.7, bus - 0.45, "$h_t$", fontsize=16, color=h)
    ax.text(9.75, 6.1, "$h_t$ (output)", fontsize=13, color=h)
    ax.text(6.0, 0.45, "hidden state: working memory", fontsize=11, color=h, ha="left", va="top")
    ax.set_title("LSTM cell, one time step", fontsize=15)
    return fig


def draw_gru_cell(figsize=(11, 7.2)):
    """One GRU step (PyTorch's form): hidden state on top, reset/update gates and candidate below.

    returns matplotlib.figure.Figure
    """
    fig, ax = _frame(figsize)
    # drawn like draw_lstm_cell on purpose (`duplicates` pairs them): same layout, same reading
    h, x = STATE["h"], STATE["x"]
    top = 5.0
    # the state line: h_{t-1} -> x z -> + (1-z) n -> h_t
    _arrow(ax, [(-0.4, top), (5.0, top)], color=h, lw=3)
    _arrow(ax, [(5.0, top), (8.2, top)], color=h, lw=3)
    _arrow(ax, [(8.2, top), (11.3, top)], color=h, lw=3)
    ax.text(-0.4, top + 0.3, "$h_{t-1}$", fontsize=16, color=h)
    ax.text(10.7, top + 0.3, "$h_t$", fontsize=16, color=h)
    ax.text(3.0, top + 0.35, "hidden state (no separate cell)", fontsize=11, color=h, ha="center")
    _op(ax, 5.0, top, "×")
    _op(ax, 8.2, top, "+")
    # h_{t-1} also goes down to the bus
    bus = 1.0
    _arrow(ax, [(1.0, top), (1.0, bus)], color=h, lw=2.0)
    ax.plot([1.0, 4.2], [bus, bus], color=LINE, lw=2.5, zorder=1)
    _arrow(ax, [(1.6, -0.7), (1.6, bus)], color=x, lw=2.5)
    ax.text(1.85, -0.75, "$x_t$", fontsize=16, color=x)
    ax.text(2.6, bus - 0.45, "$[h_{t-1}, x_t]$", fontsize=11, ha="center")
    # reset and update gates
    for gx, label in [(2.6, "reset $r_t$"), (4.2, "update $z_t$")]:
        _arrow(ax, [(gx, bus), (gx, 2.3)])
        _layer(ax, gx, 2.6, r"$\sigma$")
        ax.text(gx, 3.15, label, ha="center", fontsize=11, zorder=4)
    # z_t keeps the old state: z * h_{t-1}
    _arrow(ax, [(4.2, 2.9), (4.2, 4.2), (5.0, 4.2), (5.0, top)])
    # 1 - z_t
    _layer(ax, 6.4, 4.2, "$1-$", w=0.7, h=0.5)
    _arrow(ax, [(5.0, 4.2), (6.05, 4.2)])
    _op(ax, 8.2, 4.2, "×")
    _arrow(ax, [(6.75, 4.2), (8.2, 4.2)])
    _arrow(ax, [(8.2, 4.2), (8.2, top)])
    # candidate: tanh(W_in x + b_in + r * (W_hn h + b_hn))
    _layer(ax, 6.4, 1.6, r"$W_{hn} h + b_{hn}$", w=2.0, h=0.5)
    _arrow(ax, [(1.0, 0.4), (6.4, 0.4), (6.4, 1.35)], color=h, lw=1.6)
    _op(ax, 6.4, 2.6, "×")
    _arrow(ax, [(6.4, 1.85), (6.4, 2.6)])
    _arrow(ax, [(2.6, 2.9), (2.6, 3.5), (5.6, 3.5), (5.6, 2.6), (6.4, 2.6)])
    _layer(ax, 8.2, 2.6, r"$\tanh$")
    ax.text(
        8.2, 1.95, "candidate $n_t$\n(+ $W_{in} x_t + b_{in}$)", ha="center", va="top", fontsize=10
    )
    _arrow(ax, [(6.4, 2.6), (8.2, 2.6)])
    _arrow(ax, [(8.2, 2.9), (8.2, 4.2)])
    _arrow(ax, [(1.6, -0.2), (9.3, -0.2), (9.3, 2.6), (8.2, 2.6)], color=x, lw=1.6)
    # output
    _arrow(ax, [(9.9, top), (9.9, 6.4)], color=h, lw=2.0)
    ax.text(10.05, 6.1, "$h_t$ (output)", fontsize=13, color=h)
    ax.set_title(
        r"GRU cell, one time step (PyTorch's form: $r_t$ scales $W_{hn}h_{t-1}+b_{hn}$)",
        fontsize=14,
    )
    return fig
