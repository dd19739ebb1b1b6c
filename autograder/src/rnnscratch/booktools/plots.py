"""Small plotting helpers so every page's figures share one look.

Each helper draws on an existing Axes (or makes a new figure) and returns the Axes, so a page
can combine several in one figure and then add its own annotations.
"""

import matplotlib.pyplot as plt
import numpy as np

#: one colour cycle for the book (colour-blind friendly, from matplotlib's tableau palette).
COLORS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f"]


def figure(ncols=1, nrows=1, width=None, height=3.2, **kwargs):
    """A new figure with the book's default size: (fig, axes).

    ncols, nrows: int  grid of panels.   width: float inches (default 4.2 per column).
    height: float inches per row.   kwargs: passed to plt.subplots.
    """
    width = 4.2 * ncols if width is None else width
    kwargs.setdefault("layout", "constrained")
    return plt.subplots(nrows, ncols, figsize=(width, height * nrows), **kwargs)


def _axes(ax):
    return figure()[1] if ax is None else ax


def line_plot(
    x, ys, *, xlabel="", ylabel="", title=None, ax=None, logy=False, legend=True, styles=None
):
    """Plot one or more curves against the same x.

    x: (N,) shared abscissa, or a dict {label: (N_label,)} giving each curve its own x.
    ys: dict {label: (N,) values} (one curve per entry) or a single (N,) array.
    styles: optional dict {label: matplotlib kwargs} (e.g. {"tanh": {"ls": "--"}}).
    logy: bool  log-scaled y axis.
    returns: the Axes.
    """
    ax = _axes(ax)
    if not isinstance(ys, dict):
        ys = {None: ys}
    styles = styles or {}
    for i, (label, y) in enumerate(ys.items()):
        xi = x[label] if isinstance(x, dict) else x
        kw = {"color": COLORS[i % len(COLORS)], "lw": 1.8, **styles.get(label, {})}
        ax.plot(xi, y, label=label, **kw)
    if logy:
        ax.set_yscale("log")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if title:
        ax.set_title(title)
    ax.grid(True, alpha=0.3, which="both" if logy else "major")
    if legend and any(label is not None for label in ys):
        ax.legend(frameon=False)
    return ax


def log_plot(x, ys, **kwargs):
    """`line_plot` with a log-scaled y axis (gradient norms, losses spanning decades)."""
    return line_plot(x, ys, logy=True, **kwargs)


def heatmap(
    data,
    *,
    xlabel="",
    ylabel="",
    title=None,
    ax=None,
    symmetric=True,
    cmap=None,
    colorbar=True,
    xticklabels=None,
    yticklabels=None,
    vmax=None,
):
    """Show a 2-D array as an image: rows down the y axis, columns along x.

    data: (R, C) values.   symmetric: bool  centre the colour scale on 0 (diverging map).
    xticklabels, yticklabels: optional sequences labelling every column / row.
    returns: the Axes.
    """
    ax = _axes(ax)
    data = np.asarray(data, dtype=float)
    if symmetric:
        vmax = float(np.max(np.abs(data))) if vmax is None else vmax
        im = ax.imshow(data, cmap=cmap or "RdBu_r", vmin=-vmax, vmax=vmax, aspect="auto")
    else:
        im = ax.imshow(data, cmap=cmap or "viridis", vmax=vmax, aspect="auto")
    if xticklabels is not None:
        ax.set_xticks(range(len(xticklabels)), xticklabels)
    if yticklabels is not None:
        ax.set_yticks(range(len(yticklabels)), yticklabels)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if title:
        ax.set_title(title)
    if colorbar:
        ax.figure.colorbar(im, ax=ax, shrink=0.85)
    return ax
