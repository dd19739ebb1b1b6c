"""record() in the student's process and judge() in the trusted one: plain data only.

What the grader (issue 5) relies on: record never raises and writes only arrays/JSON; judge
reads them with allow_pickle=False, recomputes the torch reference and names the mistake.
"""

import json
import os
import subprocess
import sys

import numpy as np
import pytest
import torch

from rnnscratch.exercises import (
    ASSIGNMENTS,
    SPECS,
    check,
    grading_inputs,
    judge,
    load_inputs,
    record,
    save_inputs,
)
from rnnscratch.exercises.harness import RECORD_ENV
from rnnscratch.models import lstm, rnn


def _prepare(tmp_path, name, case, seed=1234):
    inputs = grading_inputs(name, case, seed)
    save_inputs(tmp_path / "inputs" / f"{name}__{case}.npz", inputs)
    return inputs


def _round_trip(tmp_path, name, func, case="random", seed=1234):
    inputs = _prepare(tmp_path, name, case, seed)
    record(name, func, case, tmp_path)
    return judge(name, case, inputs, tmp_path)


def test_inputs_round_trip_without_pickle(tmp_path):
    inputs = grading_inputs("rnn_backward", "truncated", seed=3)
    save_inputs(tmp_path / "x.npz", inputs)
    back = load_inputs(tmp_path / "x.npz")
    assert set(back) == set(inputs)
    assert isinstance(back["truncate"], int)
    for k, v in inputs.items():
        np.testing.assert_array_equal(back[k], v)


def test_hidden_inputs_depend_on_the_seed_visible_ones_do_not():
    a = grading_inputs("forget_gate", "random", seed=1)
    b = grading_inputs("forget_gate", "random", seed=2)
    assert any(a[k].shape != b[k].shape or not np.array_equal(a[k], b[k]) for k in a)
    v1 = grading_inputs("forget_gate", "visible", seed=1)
    v2 = grading_inputs("forget_gate", "visible", seed=2)
    assert all(np.array_equal(v1[k], v2[k]) for k in v1)


@pytest.mark.parametrize(
    ("name", "func"),
    [
        ("rnn_cell", rnn.rnn_cell),
        ("rnn_backward", rnn.rnn_backward),
        ("clip_grad_norm", rnn.clip_grad_norm),
        ("sequence_cross_entropy", rnn.sequence_cross_entropy),
        ("lstm_cell", lstm.lstm_cell),
        ("lstm_cell_backward", lstm.lstm_cell_backward),
    ],
)
def test_a_correct_function_passes(tmp_path, name, func):
    verdict = _round_trip(tmp_path, name, func)
    assert verdict.passed, verdict.message
    assert verdict.mistake is None
    assert list((tmp_path / "outputs").iterdir()) == [tmp_path / "outputs" / f"{name}__random.npz"]


def test_a_wrong_function_fails_with_its_mistake(tmp_path):
    def forget_gate(x, h_prev, W_if, W_hf, b_if, b_hf):
        return np.tanh(x @ W_if.T + b_if + h_prev @ W_hf.T + b_hf)

    verdict = _round_trip(tmp_path, "forget_gate", forget_gate)
    assert not verdict.passed
    assert verdict.mistake == "tanh_for_sigmoid"
    assert "tanh where the sigmoid belongs" in verdict.message


class AlwaysEqual(np.ndarray):
    """An array subclass that claims equality with everything (and a plain object below)."""

    def __eq__(self, other):
        return np.ones(np.shape(other), dtype=bool)


class Liar:
    def __eq__(self, other):
        return True

    def __array__(self, *args, **kwargs):
        raise RuntimeError("no")


@pytest.mark.parametrize(
    ("func", "mistake"),
    [
        (lambda *a: Liar(), "not_an_array"),
        (lambda *a: np.full((3, 5), 0.5).view(AlwaysEqual), "bias_dropped"),
        (lambda *a: torch.zeros(3, 5), "torch_tensor"),
        (lambda *a: np.full((3, 5), np.nan), "not_finite"),
        (lambda *a: np.zeros((5, 3)), "wrong_shape"),
        (lambda *a: None, "returned_none"),
        (lambda *a: [[0.5] * 5] * 3, "python_list"),
        (lambda *a: np.zeros((3, 5), dtype=np.int64), "integer_array"),
        (lambda *a: (np.zeros((3, 5)), np.zeros((3, 5))), "tuple_for_array"),
        (lambda *a: {"f": np.zeros((3, 5))}, "wrong_structure"),
        (lambda *a: 1 / 0, "raised_exception"),
        (lambda *a: sys.exit(3), "raised_exception"),
        (None, "not_defined"),
    ],
)
def test_odd_results_are_recorded_as_plain_data_and_named(tmp_path, func, mistake):
    verdict = _round_trip(tmp_path, "reset_gate", func, case="visible_bias_only")
    assert not verdict.passed
    assert verdict.mistake == mistake, verdict.message
    for path in (tmp_path / "outputs").iterdir():
        if path.suffix == ".npz":
            np.load(path, allow_pickle=False)  # no pickle needed to read what was recorded
        else:
            json.loads(path.read_text())


def test_missing_output_is_a_failure(tmp_path):
    inputs = _prepare(tmp_path, "rnn_cell", "random")
    verdict = judge("rnn_cell", "random", inputs, tmp_path)
    assert not verdict.passed and verdict.mistake == "no_output"


def test_tampered_records_fail_cleanly(tmp_path):
    inputs = _prepare(tmp_path, "rnn_cell", "random")
    out = tmp_path / "outputs"
    out.mkdir()
    np.savez(out / "rnn_cell__random.npz", a0=np.array([object()], dtype=object))
    verdict = judge("rnn_cell", "random", inputs, tmp_path)
    assert not verdict.passed and "could not be read" in verdict.message
    (out / "rnn_cell__random.npz").unlink()
    (out / "rnn_cell__random.json").write_text('{"error": "boom", "mistake": "os.system"}')
    verdict = judge("rnn_cell", "random", inputs, tmp_path)
    assert not verdict.passed and verdict.mistake is None and "boom" in verdict.message


def test_record_mode_check_never_raises_and_never_compares(tmp_path, monkeypatch):
    _prepare(tmp_path, "rnn_cell", "random")
    monkeypatch.setenv(RECORD_ENV, str(tmp_path))
    check("rnn_cell", lambda *a: "wrong", "random")  # would raise in local mode
    check("rnn_cell", None, "random")
    data = json.loads((tmp_path / "outputs" / "rnn_cell__random.json").read_text())
    assert data["mistake"] == "not_defined"


def test_patching_numpy_inside_the_student_process_cannot_pass(tmp_path):
    """The comparison runs in another process: a patched np.allclose only affects the student."""
    inputs = _prepare(tmp_path, "rnn_cell", "random")
    code = (
        "import numpy as np, numpy.testing\n"
        "np.allclose = lambda *a, **k: True\n"
        "numpy.testing.assert_allclose = lambda *a, **k: None\n"
        "from rnnscratch.exercises import check\n"
        "check('rnn_cell', lambda *a: np.zeros((len(a[0]), len(a[2]))), 'random')\n"
    )
    env = dict(os.environ, **{RECORD_ENV: str(tmp_path)})
    subprocess.run([sys.executable, "-c", code], env=env, check=True, timeout=120)
    verdict = judge("rnn_cell", "random", inputs, tmp_path)
    assert not verdict.passed


def test_every_assignment_function_has_visible_and_hidden_cases():
    for names in ASSIGNMENTS.values():
        for name in names:
            cases = SPECS[name].cases
            assert any(c.startswith("visible") for c in cases), name
            assert any(not c.startswith("visible") for c in cases), name
