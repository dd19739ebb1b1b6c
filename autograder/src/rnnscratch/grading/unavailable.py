"""Bound as ``__init__.py`` over every package the sandbox must not import (the course package,
and torch for assignments that do not use it): an empty directory alone would still import,
as a namespace package."""

raise ImportError("this package is not available inside the grading sandbox")
