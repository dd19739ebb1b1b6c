"""The book's build and figures.

``book`` (``make book``: strict build with a cache keyed on this package's source), ``site``
(the built HTML as a browser sees it, for the browser tests), ``sphinxext`` (the book's HTML
fixes), ``plots`` (one look for every figure), ``diagrams/`` (cell diagrams drawn at build time).

May import: the top-level helpers (``ROOT``, ``checks``, ``tolerances``, ``seed``) and each other;
never ``grading`` or ``exercises`` (book pages import whatever they show; this is the tooling).
``plots`` and ``diagrams`` import nothing else from the course, so ``experiments`` may draw with
them.
"""
