"""The instructor's grader: nbgrader's course layout and gradebook, student code sandboxed.

A pipeline of single-purpose modules, in the order they run::

    source    read the source notebook: graded cells, points, the check(name, func, case) calls
    collect   find and read each submission in submitted/ (never modified)
    plan      the cells to run: the student's answers, locked/test cells restored from source,
              test cells replaced by record cells (no test source enters the sandbox)
    isolate   run the plan in a record-only bubblewrap sandbox (sandbox.py, runner.py and the
              one seam file rnnscratch/exercises/protocol.py); outputs come back framed on a
              pipe as bounded plain data (.npz without pickle or compression / JSON)
    judge     judge every output against the torch reference in a limited worker (worker.py)
    gradebook scores into nbgrader's gradebook, the autograded notebook for formgrader
    feedback  one HTML page per submission      report   one HTML page per assignment

``pipeline.autograde`` chains collect -> ... -> gradebook over a class with ``jobs`` sandboxes at a
time; ``handout`` makes the student version of a notebook (what ``release`` hands out);
``python -m rnnscratch.grading --help`` lists the commands (release, collect, autograde,
feedback, export, report, demo).

May import: the top-level helpers (``ROOT``, ``nbmeta``, ...) and, of the exercises, only their
public interface (``rnnscratch.exercises``) and the harness the sandbox runs; never the models,
oracles or specs directly.
"""
