"""Toy tasks, data, training and probing used by the book's Parts II and III.

``grammars`` (counting, selective counting, remembering, copying), ``adding`` (the adding
problem), ``prices`` (matplotlib's sample stock prices), ``corpus`` (a character model of
Python's own sources), ``gate_experiments`` (gated RNNs on a recall task), ``train`` (one small
training loop), ``timing`` (loop vs fused vs torch), ``probes`` (every state and gate of a trained
LSTM, neuron search, heatmaps).

May import: ``models``, ``oracle``, the top-level helpers (``checks``, ``tolerances``, ``seed``)
and ``booktools.plots`` for figures; never ``exercises`` or ``grading``.
"""
