"""The exercise notebooks: structure, reference tensors, release, and nbgrader's verdicts.

- every solution passes `nbgrader validate`, every release fails every test (`--invert`);
- exercises/ equals a fresh `generate_assignment`; reference files regenerate to the same
  values (within `REFERENCE`, never by bytes: torch rounds differently on different CPUs) and
  match a fresh torch computation;
- a sigmoid whose values are right but that overflows (numpy warning) loses the stability test
  only, with a message about the overflow;
- each visible test cell runs in well under a second.
"""

import ast
import json
import re
import shutil
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest

from rnnscratch.exercises import ASSIGNMENTS, SPECS
from rnnscratch.exercises.harness import (
    REFERENCE_FILE,
    evaluate,
    grading_inputs,
    reference,
    stored_case,
)
from rnnscratch.exercises.plain import read_reference, write_npz
from rnnscratch.exercises.reference import (
    assignment_arrays,
    differences,
    update_reference,
    write_reference,
)
from rnnscratch.exercises.release import release
from rnnscratch.tolerances import REFERENCE

ROOT = Path(__file__).resolve().parents[1]
AIDS = list(ASSIGNMENTS)
CHECK_CALL = re.compile(r'^check\("(\w+)", (\w+), "(\w+)"\)$')


def _notebook(kind, aid):
    folder = "solutions" if kind == "source" else "exercises"
    return ROOT / folder / aid / f"{aid}.ipynb"


def _cells(path):
    return json.loads(path.read_text())["cells"]


def _nbgrader(cell):
    return cell.get("metadata", {}).get("nbgrader", {})


def _source(cell):
    src = cell["source"]
    return "".join(src) if isinstance(src, list) else src


def test_every_assignment_has_a_source_and_a_release():
    assert AIDS == [
        "a01_rnn_forward",
        "a02_bptt",
        "a03_lstm_gates",
        "a04_lstm_backward",
        "a05_gru",
        "a06_gru_backward",
        "a07_train",
    ]
    for aid in AIDS:
        for kind in ("source", "release"):
            assert _notebook(kind, aid).is_file()
            assert (_notebook(kind, aid).parent / REFERENCE_FILE).is_file()


def _test_cells(aid):
    """(grade_id, points, [(name, func, case, hidden)]) of every graded test cell."""
    out = []
    for cell in _cells(_notebook("source", aid)):
        meta = _nbgrader(cell)
        if cell["cell_type"] != "code" or not meta.get("grade"):
            continue
        calls, hidden = [], False
        for line in _source(cell).splitlines():
            if line == "### BEGIN HIDDEN TESTS":
                hidden = True
            elif line == "### END HIDDEN TESTS":
                hidden = False
            elif line.startswith("#") or not line.strip():
                continue
            elif line == "from rnnscratch.exercises import check":
                continue
            else:
                match = CHECK_CALL.match(line)
                assert match, f"{aid} {meta['grade_id']}: unexpected line {line!r}"
                ast.parse(line)
                calls.append((*match.groups(), hidden))
        out.append((meta["grade_id"], meta["points"], calls))
    return out


@pytest.mark.parametrize("aid", AIDS)
def test_source_notebook_follows_the_grading_protocol(aid):
    cells = _cells(_notebook("source", aid))
    header = _source(cells[0])
    assert "What you practise" in header and "Book sections" in header
    assert "Validate" in header and "nbgrader validate" in header
    answers = {
        _nbgrader(c).get("grade_id"): _source(c) for c in cells if _nbgrader(c).get("solution")
    }
    tested = {}
    for grade_id, points, calls in _test_cells(aid):
        assert points > 0 and calls
        names = {c[0] for c in calls}
        assert len(names) == 1, grade_id
        name = names.pop()
        assert grade_id.startswith(f"test_{name}_"), grade_id
        hidden_flags = [c[3] for c in calls]
        assert hidden_flags == sorted(hidden_flags), "visible checks come first"
        for fname, func, case, hidden in calls:
            assert func == fname and case in SPECS[fname].cases
            assert case.startswith("visible") != hidden, (grade_id, case)
        tested[name] = tested.get(name, 0) + points
    assert list(tested) == ASSIGNMENTS[aid]
    for name in ASSIGNMENTS[aid]:
        src = answers[name]
        head, _, rest = src.partition("    ### BEGIN SOLUTION")
        assert head.startswith(f"def {name}(") and '"""' in head, name
        assert "### END SOLUTION" in rest
    written = [c for c in cells if c["cell_type"] == "markdown" and _nbgrader(c).get("grade")]
    assert 1 <= len(written) <= 2
    for cell in written:
        assert _nbgrader(cell)["solution"] and _nbgrader(cell)["points"] > 0
        assert "Rubric" in _source(cell)


@pytest.mark.parametrize("aid", AIDS)
def test_release_has_no_solutions_hidden_tests_or_rubrics(aid):
    text = _notebook("release", aid).read_text()
    for secret in ("BEGIN SOLUTION", "HIDDEN TESTS", "Rubric", "Model answer"):
        assert secret not in text
    stubs = [
        c
        for c in json.loads(text)["cells"]
        if c["cell_type"] == "code" and "raise NotImplementedError()" in _source(c)
    ]
    assert len(stubs) == len(ASSIGNMENTS[aid])


def test_exercises_equal_a_fresh_generation(tmp_path):
    release(tmp_path, reference=False)
    fresh = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*") if p.is_file())
    committed = sorted(
        p.relative_to(ROOT / "exercises") for p in (ROOT / "exercises").rglob("*") if p.is_file()
    )
    assert fresh == committed
    for rel in fresh:
        assert (tmp_path / rel).read_bytes() == (ROOT / "exercises" / rel).read_bytes(), rel


@pytest.mark.parametrize("aid", AIDS)
def test_reference_tensors_regenerate_to_the_same_values(aid, tmp_path):
    write_reference(aid, tmp_path / REFERENCE_FILE)
    fresh = read_reference(tmp_path / REFERENCE_FILE)
    assert set(fresh) == set(assignment_arrays(aid))
    assert differences(read_reference(ROOT / "solutions" / aid / REFERENCE_FILE), fresh) == []
    # the release carries a copy of the source's file (copied, so equal as files)
    released = ROOT / "exercises" / aid / REFERENCE_FILE
    assert released.read_bytes() == (ROOT / "solutions" / aid / REFERENCE_FILE).read_bytes()


def test_reference_comparison_is_by_value_and_catches_real_changes():
    stored = {"a": np.array([1.0, 2.0, 3.0]), "n": np.array(3)}
    one_ulp = {"a": np.nextafter(stored["a"], np.inf), "n": np.array(3)}  # another CPU's rounding
    assert differences(stored, one_ulp) == []
    assert differences(stored, {"a": stored["a"] + 1e-6, "n": np.array(3)}) != []
    assert differences(stored, {"a": stored["a"][:2], "n": np.array(3)}) != []
    assert differences(stored, {"a": stored["a"].astype(np.float32), "n": np.array(3)}) != []
    assert differences(stored, {"a": stored["a"], "n": np.array(4)}) != []
    assert differences(stored, {"a": stored["a"]}) == ["n: unexpected"]


def test_regenerating_leaves_a_file_that_matches_by_value_untouched(tmp_path):
    aid = AIDS[0]
    path = tmp_path / REFERENCE_FILE
    arrays = assignment_arrays(aid)
    key = next(k for k, v in arrays.items() if np.issubdtype(v.dtype, np.floating) and v.size)
    shifted = dict(arrays)
    shifted[key] = np.nextafter(arrays[key], np.inf)  # as written on a machine rounding up
    write_npz(path, shifted)
    before = path.read_bytes()
    assert update_reference(aid, path) == "unchanged"
    assert path.read_bytes() == before
    shifted[key] = arrays[key] + 1e-3  # a real change is rewritten
    write_npz(path, shifted)
    assert update_reference(aid, path) == "updated"
    assert differences(read_reference(path), arrays) == []


def _flat(value, prefix=""):
    if isinstance(value, tuple | list):
        return {k: v for i, x in enumerate(value) for k, v in _flat(x, f"{prefix}{i}.").items()}
    if isinstance(value, dict):
        return {k: v for key, x in value.items() for k, v in _flat(x, f"{prefix}{key}.").items()}
    return {prefix: np.asarray(value, dtype=np.float64)}


@pytest.mark.parametrize("aid", AIDS)
def test_stored_reference_tensors_match_fresh_torch(aid):
    path = ROOT / "solutions" / aid / REFERENCE_FILE
    for name in ASSIGNMENTS[aid]:
        for case in (c for c in SPECS[name].cases if c.startswith("visible")):
            inputs, expected = stored_case(name, case, path)
            fresh_inputs = grading_inputs(name, case, seed=0)
            assert set(inputs) == set(fresh_inputs)
            for k in inputs:  # by value: inputs may be computed by torch (CPU rounding)
                np.testing.assert_allclose(inputs[k], fresh_inputs[k], **REFERENCE)
            got, want = _flat(expected), _flat(reference(name, fresh_inputs))
            assert set(got) == set(want)
            for k in got:
                np.testing.assert_allclose(got[k], want[k], **REFERENCE)


def _solution_namespace(aid):
    """Execute the source notebook's non-test code cells, as a student's kernel would."""
    namespace = {}
    for cell in _cells(_notebook("source", aid)):
        if cell["cell_type"] == "code" and not _nbgrader(cell).get("grade"):
            exec(compile(_source(cell), f"{aid}.ipynb", "exec"), namespace)
    return namespace


#: visible test cells that may take longer than a second (grade id -> seconds), and why:
#: a07's training check trains the student's model for 100 steps (1-3 s on a shared core).
SLOW_VISIBLE_CELLS = {"test_train_loss": 10.0}


@pytest.mark.parametrize("aid", AIDS)
def test_solutions_pass_every_case_and_visible_cells_are_fast(aid, monkeypatch):
    monkeypatch.chdir(ROOT / "solutions" / aid)
    namespace = _solution_namespace(aid)
    for grade_id, _, calls in _test_cells(aid):
        start = time.perf_counter()
        for name, _, case, hidden in calls:
            if hidden:
                continue
            verdict = evaluate(name, namespace[name], case)
            assert verdict.passed, verdict.message
        budget = SLOW_VISIBLE_CELLS.get(grade_id, 1.0)
        assert time.perf_counter() - start < budget, (
            f"{grade_id}: visible checks take >= {budget} s"
        )
        for name, _, case, hidden in calls:
            if hidden:
                for _ in range(3):  # fresh random sizes and values each time
                    verdict = evaluate(name, namespace[name], case)
                    assert verdict.passed, verdict.message


def _validate(path, invert=False):
    cmd = [sys.executable, "-m", "nbgrader", "validate", str(path)] + (["--invert"] * invert)
    run = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=600)
    return run.stdout + run.stderr


@pytest.fixture(scope="module")
def validations(tmp_path_factory):
    """Run `nbgrader validate` on every solution, `--invert` on every release, in parallel,
    plus a copy of a01 whose sigmoid is the naive (right values, overflow-warning) formula."""
    tmp = tmp_path_factory.mktemp("warn")
    src = ROOT / "solutions" / "a01_rnn_forward"
    nb = json.loads((src / "a01_rnn_forward.ipynb").read_text())
    for cell in nb["cells"]:
        if _nbgrader(cell).get("grade_id") == "sigmoid":
            head = _source(cell).split("    ### BEGIN SOLUTION")[0]
            cell["source"] = head + "    return 1.0 / (1.0 + np.exp(-x))  # overflows for x << 0\n"
    (tmp / "a01_rnn_forward.ipynb").write_text(json.dumps(nb))
    shutil.copy(src / REFERENCE_FILE, tmp / REFERENCE_FILE)
    jobs = {("source", aid): (_notebook("source", aid), False) for aid in AIDS}
    jobs |= {("release", aid): (_notebook("release", aid), True) for aid in AIDS}
    jobs[("naive_sigmoid", "a01_rnn_forward")] = (tmp / "a01_rnn_forward.ipynb", False)
    with ThreadPoolExecutor(max_workers=4) as pool:
        futures = {key: pool.submit(_validate, *job) for key, job in jobs.items()}
        return {key: f.result() for key, f in futures.items()}


@pytest.mark.parametrize("aid", AIDS)
def test_nbgrader_validate_passes_every_solution(validations, aid):
    assert "Success! Your notebook passes all the tests." in validations[("source", aid)]


@pytest.mark.parametrize("aid", AIDS)
def test_nbgrader_validate_invert_fails_every_release_test(validations, aid):
    assert "Success! The notebook does not pass any tests." in validations[("release", aid)]


def test_a_naive_sigmoid_loses_only_the_stability_test_and_is_told_why(validations):
    """The notebook asks for a sigmoid that does not overflow: the naive formula's values are
    right (its moderate test passes) but it overflows, so the "extreme" test fails, saying so."""
    out = validations[("naive_sigmoid", "a01_rnn_forward")]
    assert "VALIDATION FAILED ON 1 CELL(S)!" in out
    assert 'check("sigmoid", sigmoid, "visible_extreme")' in out
    assert "Overflow (numpy warned 'overflow encountered in exp')" in out
    assert "RuntimeWarning: overflow" not in out.replace("(RuntimeWarning: overflow", "")
    with np.errstate(over="raise"), pytest.raises(FloatingPointError):
        1.0 / (1.0 + np.exp(-np.array([-1000.0])))  # the formula does overflow


def test_autograde_drops_warning_text_from_stderr():
    from nbformat.v4 import new_code_cell, new_output
    from nbgrader.preprocessors import IgnorePattern
    from traitlets.config.loader import PyFileConfigLoader

    config = PyFileConfigLoader("nbgrader_config.py", path=str(ROOT)).load_config()
    cell = new_code_cell("check(...)")
    warning = "<ipython>:3: RuntimeWarning: overflow encountered in exp\n"
    cell.outputs = [
        new_output("stream", name="stderr", text=warning),
        new_output("stream", name="stderr", text="something else\n"),
    ]
    IgnorePattern(config=config).preprocess_cell(cell, {}, 0)
    assert [o.text for o in cell.outputs] == ["something else\n"]
    assert config.OverwriteCells.add_missing_cells is True
    assert config.CourseDirectory.source_directory == "solutions"
    assert config.CourseDirectory.release_directory == "exercises"


@pytest.mark.parametrize("aid", AIDS)
def test_one_release_path_the_graders_student_version_is_the_release(aid):
    """The grader's in-memory student version (nbgrader's configured preprocessors) has the
    same cells as the release `make exercises` wrote with generate_assignment."""
    import nbformat

    from rnnscratch.grading.handout import released_notebook

    ours = released_notebook(_notebook("source", aid))
    released = nbformat.read(_notebook("release", aid), as_version=4)
    assert [(c.cell_type, c.source) for c in ours.cells] == [
        (c.cell_type, c.source) for c in released.cells
    ]
    assert [_nbgrader(c) for c in ours.cells] == [_nbgrader(c) for c in released.cells]
