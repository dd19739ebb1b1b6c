"""Recurrent Networks from Scratch: the course package, the one source of truth.

A map of the house, one room per role. A room imports only from rooms listed above it (the four
helpers at the top import only each other), with one exception: ``experiments`` draw with
``booktools.plots``, which imports nothing else from the course. Each room's docstring says
exactly what it may import; ``tests/test_layering.py`` enforces it.

=====================  ===========================================================================
``checks``             ``assert_close`` and friends: checks that raise, with shapes, max diff, hint
``tolerances``         the named, dtype-aware tolerances (the only place one is written down)
``seed``               ``set_seed``: one seed for python, numpy and torch
``nbmeta``             a notebook cell's nbgrader metadata, grade id and check calls, read safely
``models/``            the reference maths in numpy: ``rnn``, ``lstm``, ``gru``, ``variants``,
                       ``params`` (per-gate dicts <-> torch's packed layout), ``optim``,
                       ``gru_lm`` (a07's character model); numpy only
``oracle/``            the same computations in torch float64 (``rnn``, ``lstm``, ``gru``)
``experiments/``       toy tasks, data, training and probing for Parts II-III: ``grammars``,
                       ``adding``, ``prices``, ``corpus``, ``gate_experiments``, ``train``,
                       ``timing``, ``probes`` (looking inside a trained LSTM)
``booktools/``         the book's build and figures: ``book`` (strict build), ``website`` (the
                       built HTML), ``sphinxext``, ``plots``, ``diagrams/``
``exercises/``         the nbgrader exercises' checks: specs per assignment, hints, the harness,
                       ``release`` (one release path), ``protocol`` (all the sandbox sees)
``grading/``           the instructor's sandboxed grader (uses only the exercises' public
                       interface, harness and protocol); ``distributed``: the same on Dask
``bench/``             ``make bench``: performance figures, never timed tests
=====================  ===========================================================================

``ROOT`` is the repository root (the folder holding ``book/``, ``solutions/`` and
``exercises/``), for the modules that read or write those folders.
"""

from pathlib import Path

#: the repository root: autograder/src/rnnscratch/__init__.py -> four levels up.
ROOT = Path(__file__).resolve().parents[3]
