"""Diagrams drawn with matplotlib at build time (no image files in the repository)."""
