"""nbgrader configuration for the course (nbgrader 0.9.6); the course root is this folder.

`solutions/` holds the source notebooks (solutions + hidden tests), `exercises/` the student
release produced by `make exercises` (= `python -m rnnscratch.exercises.release`).
"""

from pathlib import Path

c = get_config()  # noqa: F821 - provided by nbgrader when it loads this file

c.CourseDirectory.root = str(Path(__file__).resolve().parent)
c.CourseDirectory.course_id = "rnnscratch"
c.CourseDirectory.source_directory = "solutions"
c.CourseDirectory.release_directory = "exercises"
c.CourseDirectory.db_url = f"sqlite:///{Path(__file__).resolve().parent / 'gradebook.db'}"

# Released notebooks: solution regions replaced by this stub, hidden tests removed.
c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\nraise NotImplementedError()"}
c.ClearSolutions.text_stub = "YOUR ANSWER HERE"
c.ClearSolutions.enforce_metadata = True

# Each cell gets 30 s (the visible tests take well under one); on timeout nbgrader interrupts.
c.Execute.timeout = 30
c.Execute.interrupt_on_timeout = True

# `nbgrader validate` and JupyterLab's Validate button cut every output line at this width; the
# checks wrap their messages at 78 characters (rnnscratch.exercises.harness.MESSAGE_WIDTH), so
# with the indent and "CheckError: " every line fits in 100 and no value is cut.
c.Validator.width = 100

# A deleted test cell is put back (from the source) instead of becoming "needs manual grade".
c.OverwriteCells.add_missing_cells = True

# nbgrader scores any stderr output in a test cell as 0. The checks already silence warnings
# raised by the student's code; this drops any remaining *warning* text from stderr before
# scoring (both settings are needed: nbgrader ignores the pattern unless enabled).
c.IgnorePattern.enabled = True
c.IgnorePattern.pattern = r"\b\w*Warning: "
