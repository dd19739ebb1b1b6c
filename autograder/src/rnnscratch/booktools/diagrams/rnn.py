"""RNN diagrams drawn with matplotlib: folded vs unrolled, task shapes, bidirectional, stacked.

Every function returns a matplotlib Figure. Boxes: inputs x (green), hidden states h (blue),
outputs y (orange). Arrows carry the name of the weight matrix they stand for.
"""

import matplotlib.pyplot as plt
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch

FILL = {"x": "#d9f0d3", "h": "#c6dbef", "y": "#fdd0a2", "g": "#eeeeee", "c": "#fcbba1"}
EDGE = {"x": "#1b7837", "h": "#2166ac", "y": "#d94801", "g": "#636363", "c": "#a50f15"}
BOX = 0.62  # box side, in data units


def _canvas(width, height, xlim, ylim, scale=1.0):
    fig, ax = plt.subplots(figsize=(scale * width, scale * height), layout="constrained")
    ax.set_xlim(*xlim)
    ax.set_ylim(*ylim)
    ax.set_aspect("equal")
    ax.axis("off")
    return fig, ax


def node(ax, x, y, text, kind="h", size=BOX):
    """A rounded box centred at (x, y) with a math label; kind picks the colour (x, h, y, g)."""
    ax.add_patch(
        FancyBboxPatch(
            (x - size / 2, y - size / 2),
            size,
            size,
            boxstyle="round,pad=0.02,rounding_size=0.12",
            fc=FILL[kind],
            ec=EDGE[kind],
            lw=1.5,
        )
    )
    ax.text(x, y, text, ha="center", va="center", fontsize=12)


def arrow(ax, start, end, label=None, rad=0.0, color="#333333", offset=(0.0, 0.0), shrink=0.36):
    """An arrow between two box centres (shortened to the box edges), with an optional label."""
    (x0, y0), (x1, y1) = start, end
    dx, dy = x1 - x0, y1 - y0
    length = (dx * dx + dy * dy) ** 0.5
    ux, uy = dx / length, dy / length
    a = FancyArrowPatch(
        (x0 + shrink * ux, y0 + shrink * uy),
        (x1 - shrink * ux, y1 - shrink * uy),
        connectionstyle=f"arc3,rad={rad}",
        arrowstyle="-|>",
        mutation_scale=12,
        lw=1.3,
        color=color,
    )
    ax.add_patch(a)
    if label:
        mx, my = (x0 + x1) / 2 + offset[0], (y0 + y1) / 2 + offset[1]
        ax.text(
            mx,
            my,
            label,
            ha="center",
            va="center",
            fontsize=9,
            color=color,
            bbox={"fc": "white", "ec": "none", "pad": 0.5},
        )


def folded_and_unrolled(T=4):
    """Left: the RNN as a loop (folded). Right: the same net unrolled over T steps."""
    width = 3.0 + 1.6 * T
    fig, ax = _canvas(2.0 + 1.45 * T, 3.3, (-1.1, width), (-0.7, 3.0))
    # folded
    node(ax, 0, 0, r"$x_t$", "x")
    node(ax, 0, 1.2, r"$h_t$", "h")
    node(ax, 0, 2.4, r"$y_t$", "y")
    arrow(ax, (0, 0), (0, 1.2), r"$W_{ih}$", offset=(0.42, 0))
    arrow(ax, (0, 1.2), (0, 2.4), r"$W_{hy}$", offset=(0.42, 0))
    loop = FancyArrowPatch(
        (-0.31, 1.35),
        (-0.31, 1.05),
        connectionstyle="arc3,rad=2.2",
        arrowstyle="-|>",
        mutation_scale=12,
        lw=1.3,
        color=EDGE["h"],
    )
    ax.add_patch(loop)
    ax.text(-0.78, 1.75, r"$W_{hh}$", ha="center", fontsize=9, color=EDGE["h"])
    ax.text(0.95, 1.2, "=", ha="center", va="center", fontsize=22)
    ax.text(0, -0.62, "folded", ha="center", fontsize=10, style="italic")
    # unrolled
    x0 = 3.3
    node(ax, x0 - 1.5, 1.2, r"$h_0$", "g")
    for t in range(T):
        cx = x0 + 1.6 * t
        label = f"{t + 1}" if t < T - 1 or T <= 3 else "T"
        node(ax, cx, 0, rf"$x_{{{label}}}$", "x")
        node(ax, cx, 1.2, rf"$h_{{{label}}}$", "h")
        node(ax, cx, 2.4, rf"$y_{{{label}}}$", "y")
        arrow(ax, (cx, 0), (cx, 1.2), r"$W_{ih}$", offset=(0.0, -0.03))
        arrow(ax, (cx, 1.2), (cx, 2.4), r"$W_{hy}$", offset=(0.0, -0.03))
        prev = x0 - 1.5 if t == 0 else cx - 1.6
        arrow(ax, (prev, 1.2), (cx, 1.2), r"$W_{hh}$", color=EDGE["h"], offset=(0, 0.2))
    ax.text(
        x0 + 0.8 * (T - 1),
        -0.62,
        "unrolled in time (the same weights at every step)",
        ha="center",
        fontsize=10,
        style="italic",
    )
    return fig


def task_shapes():
    """Four panels: many-to-many, many-to-one, one-to-many, encoder-decoder."""
    fig, axes = plt.subplots(1, 4, figsize=(13, 3.0), layout="constrained")
    titles = [
        "many-to-many\n(language model)",
        "many-to-one\n(classification)",
        "one-to-many\n(captioning)",
        "encoder-decoder\n(translation)",
    ]
    T = 4
    for ax, title in zip(axes, titles, strict=True):
        ax.set_xlim(-0.6, 1.0 * (T + 2) - 0.2)
        ax.set_ylim(-0.6, 2.8)
        ax.set_aspect("equal")
        ax.axis("off")
        ax.set_title(title, fontsize=11)
    size = 0.5

    def chain(ax, n, inputs, outputs, start=0.0, prev=None, kinds=None):
        xs = [start + 1.0 * i for i in range(n)]
        for i, cx in enumerate(xs):
            node(ax, cx, 1.1, "", (kinds or ["h"] * n)[i], size=size)
            if inputs[i]:
                node(ax, cx, 0, inputs[i], "x", size=size)
                arrow(ax, (cx, 0), (cx, 1.1), shrink=0.28)
            if outputs[i]:
                node(ax, cx, 2.2, outputs[i], "y", size=size)
                arrow(ax, (cx, 1.1), (cx, 2.2), shrink=0.28)
            if i > 0 or prev is not None:
                arrow(
                    ax,
                    ((cx - 1.0) if i > 0 else prev, 1.1),
                    (cx, 1.1),
                    color=EDGE["h"],
                    shrink=0.28,
                )
        return xs

    words = ["the", "cat", "sat", "on"]
    chain(
        axes[0],
        T,
        [rf"$\it{{{w}}}$" for w in words],
        [rf"$\it{{{w}}}$" for w in words[1:] + ["the"]],
    )
    chain(
        axes[1], T, [rf"$\it{{{w}}}$" for w in ["so", "very", "good", "!"]], [None, None, None, "+"]
    )
    chain(
        axes[2],
        T,
        ["img", None, None, None],
        [rf"$\it{{{w}}}$" for w in ["a", "dog", "runs", "<e>"]],
    )
    enc = chain(
        axes[3],
        3,
        [rf"$\it{{{w}}}$" for w in ["je", "suis", "là"]],
        [None] * 3,
        kinds=["h", "h", "c"],
    )
    chain(
        axes[3],
        3,
        [None] * 3,
        [rf"$\it{{{w}}}$" for w in ["I", "am", "here"]],
        start=enc[-1] + 1.0,
        prev=enc[-1],
    )
    return fig


def bidirectional(T=4):
    """A bidirectional RNN: a forward chain and a backward chain, outputs concatenated."""
    fig, ax = _canvas(1.6 * T + 1.2, 3.8, (-0.9, 1.6 * (T - 1) + 1.1), (-0.6, 3.7), scale=0.8)
    for t in range(T):
        cx = 1.6 * t
        node(ax, cx, 0, rf"$x_{{{t + 1}}}$", "x")
        node(ax, cx, 1.1, rf"$\overrightarrow{{h}}_{{{t + 1}}}$", "h")
        node(ax, cx, 2.1, rf"$\overleftarrow{{h}}_{{{t + 1}}}$", "c")
        node(ax, cx, 3.2, rf"$y_{{{t + 1}}}$", "y")
        arrow(ax, (cx, 0), (cx, 1.1))
        arrow(ax, (cx - 0.35, 0), (cx - 0.35, 2.1), rad=0.0, shrink=0.33, color="#999999")
        arrow(ax, (cx, 2.1), (cx, 3.2))
        arrow(ax, (cx + 0.36, 1.1), (cx + 0.36, 3.2), rad=0.0, shrink=0.33, color="#999999")
        if t > 0:
            arrow(ax, (cx - 1.6, 1.1), (cx, 1.1), color=EDGE["h"])
            arrow(ax, (cx, 2.1), (cx - 1.6, 2.1), color=EDGE["c"])
    ax.text(-0.85, 1.1, "forward", ha="right", va="center", fontsize=9, color=EDGE["h"])
    ax.text(-0.85, 2.1, "backward", ha="right", va="center", fontsize=9, color=EDGE["c"])
    return fig


def stacked(T=4, layers=2):
    """A stacked (deep) RNN: layer l's hidden states are layer l+1's inputs."""
    fig, ax = _canvas(
        1.6 * T + 1.2,
        1.2 * (layers + 2) + 0.4,
        (-1.2, 1.6 * (T - 1) + 0.8),
        (-0.6, 1.2 * (layers + 1) + 0.6),
        scale=0.7,
    )
    for t in range(T):
        cx = 1.6 * t
        node(ax, cx, 0, rf"$x_{{{t + 1}}}$", "x")
        for layer in range(1, layers + 1):
            cy = 1.2 * layer
            node(ax, cx, cy, rf"$h^{{({layer})}}_{{{t + 1}}}$", "h" if layer % 2 else "c")
            arrow(ax, (cx, cy - 1.2), (cx, cy))
            if t > 0:
                arrow(ax, (cx - 1.6, cy), (cx, cy), color=EDGE["h" if layer % 2 else "c"])
        top = 1.2 * (layers + 1)
        node(ax, cx, top, rf"$y_{{{t + 1}}}$", "y")
        arrow(ax, (cx, top - 1.2), (cx, top))
    for layer in range(1, layers + 1):
        ax.text(-0.5, 1.2 * layer, f"layer {layer}", ha="right", va="center", fontsize=9)
    return fig
