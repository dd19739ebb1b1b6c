"""Benchmarks that print figures (never timed tests). Run all with `make bench`.

Each section is a module here with a `main(argv)` function; `python -m rnnscratch.bench NAME`
runs one section, no name runs them all in the order of `SECTIONS`.

May import: anything in the course (it measures the other rooms; nothing imports it).
"""

SECTIONS = ["book", "lstm", "grading", "grading_dask", "attacks", "feedback"]
