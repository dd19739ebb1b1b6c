"""Mutation check of a06 and a07: each answer cell's tests catch four kinds of planted mistake.

For every answer cell of the new assignments the solution text is changed in one place -- a
wrong activation (nonlinearity), a swapped operand, a dropped term, a reversed blend -- and the
cell's checks (visible and hidden cases, fresh random inputs) must fail. Where a kind of mistake
has no place in a cell, the table says why instead of a mutation (and the test checks that the
reason is given, so no cell silently skips a kind).
"""

import json
import re
from pathlib import Path

import pytest

from rnnscratch.exercises import ASSIGNMENTS, SPECS
from rnnscratch.exercises.harness import evaluate

ROOT = Path(__file__).resolve().parents[1]
KINDS = ("activation", "swapped", "dropped", "reversed")


def _gate(g):
    """The four mutations of reset_gate_backward (g = "r") / update_gate_backward (g = "z")."""
    return {
        "activation": [(f"d{g} * {g} * (1.0 - {g})", f"d{g} * (1.0 - {g}**2)")],
        "swapped": [(f'"dx": da @ W_i{g}', f'"dx": da @ W_h{g}')],
        "dropped": [(f"d{g} * {g} * (1.0 - {g})", f"d{g} * {g}")],
        "reversed": "sigmoid' = s (1 - s) is symmetric under s -> 1 - s: reversing the gate "
        "here changes nothing, so it is not a mistake",
    }


# (old, new) replacements applied to the solution text of one answer cell, or the reason a kind
# does not apply to that cell.
MUTATIONS = {
    "a06_gru_backward": {
        "blend_backward": {
            "activation": "the blend h = (1 - z) n + z h_prev has no nonlinearity",
            "swapped": [("dh * (h_prev - n)", "dh * (n - h_prev)")],
            "dropped": [("dn = dh * (1.0 - z)", "dn = dh")],
            "reversed": [
                ("dn = dh * (1.0 - z)", "dn = dh * z"),
                ("dh_prev = dh * z", "dh_prev = dh * (1.0 - z)"),
            ],
        },
        "gru_candidate_backward": {
            "activation": [("da = dn * (1.0 - n**2)", "da = dn * n * (1.0 - n)")],
            "swapped": [('"dr": da * hn', '"dr": (da @ W_hn) * h_prev')],
            "dropped": [("hn = h_prev @ W_hn.T + b_hn", "hn = h_prev @ W_hn.T")],
            "reversed": [("dhn = da * r", "dhn = da * (1.0 - r)")],
        },
        "reset_gate_backward": _gate("r"),
        "update_gate_backward": _gate("z"),
        "gru_cell_backward": {
            "activation": "the cell adds up the pieces; each nonlinearity is in its own cell",
            "swapped": [
                ('reset_gate_backward(cand["dr"]', "reset_gate_backward(dz"),
                ("update_gate_backward(dz,", 'update_gate_backward(cand["dr"],'),
            ],
            "dropped": [(' + update["dh_prev"]', "")],
            "reversed": [
                ("blend_backward(dh, h_prev, z, n)", "blend_backward(dh, h_prev, 1.0 - z, n)")
            ],
        },
        "gru_backward": {
            "activation": "the loop over time has no nonlinearity of its own",
            "swapped": [("xs[t], h_prev, step", "h_prev, xs[t], step")],
            "dropped": [("dhs[t] + dh_next", "dhs[t]")],
            "reversed": [("for t in reversed(range(xs.shape[0]))", "for t in range(xs.shape[0])")],
        },
    },
    "a07_train": {
        "adam_step": {
            "activation": [("np.sqrt(v_hat)", "v_hat")],
            "swapped": [("(1.0 - beta1**t)", "(1.0 - t**beta1)")],
            "dropped": [(" / (1.0 - beta1**t)", "")],
            "reversed": [("beta1 * m[k] + (1.0 - beta1) * g", "(1.0 - beta1) * m[k] + beta1 * g")],
        },
        "clip_gradients": {
            "activation": [("np.sqrt(", "np.abs(")],
            "swapped": [("max_norm / (total + 1e-6)", "total / (max_norm + 1e-6)")],
            "dropped": [("min(1.0, max_norm / (total + 1e-6))", "max_norm / (total + 1e-6)")],
            "reversed": [("min(1.0,", "max(1.0,")],
        },
        "tbptt_gradients": {
            "activation": "the loop over windows has no nonlinearity of its own",
            "swapped": [
                (
                    "stream[start:stop], stream[start + 1 : stop + 1]",
                    "stream[start + 1 : stop + 1], stream[start:stop]",
                )
            ],
            "dropped": [("loss, g, h = lm_loss_and_grads", "loss, g, _ = lm_loss_and_grads")],
            "reversed": [
                (
                    "for start in range(0, stream.shape[0] - 1, T):",
                    "for start in reversed(range(0, stream.shape[0] - 1, T)):",
                )
            ],
        },
        "sample_next": {
            "activation": [
                ("e = np.exp(z - z.max(axis=-1, keepdims=True))", "e = 1.0 / (1.0 + np.exp(-z))")
            ],
            "swapped": [("np.cumsum(probs, axis=-1) < u", "u < np.cumsum(probs, axis=-1)")],
            "dropped": [("z = logits / temperature", "z = logits")],
            "reversed": [("z = logits / temperature", "z = logits * temperature")],
        },
        "train": {
            "activation": "the training loop has no nonlinearity of its own",
            "swapped": [
                (
                    "stream[start:stop], stream[start + 1 : stop + 1]",
                    "stream[start + 1 : stop + 1], stream[start:stop]",
                )
            ],
            "dropped": [("P, m, v = adam_step(", "_, m, v = adam_step(")],
            "reversed": [("t, lr=lr)", "t, lr=-lr)")],
        },
    },
}


def _cells(aid):
    nb = json.loads((ROOT / "solutions" / aid / f"{aid}.ipynb").read_text())
    for cell in nb["cells"]:
        if isinstance(cell["source"], list):
            cell["source"] = "".join(cell["source"])
    return nb["cells"]


def _answers(aid):
    out = {}
    for cell in _cells(aid):
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if cell["cell_type"] == "code" and meta.get("solution"):
            out[meta["grade_id"]] = re.sub(
                r"^[ \t]*### (BEGIN|END) SOLUTION\n?", "", cell["source"], flags=re.M
            )
    return out


def _namespace(aid):
    namespace = {}
    for cell in _cells(aid):
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if (
            cell["cell_type"] == "code"
            and not meta.get("grade")
            and meta.get("grade_id") not in ("fd_check", "demo")
        ):
            exec(compile(cell["source"], f"{aid}.ipynb", "exec"), namespace)
    return namespace


ROWS = [
    (aid, name, kind)
    for aid, table in MUTATIONS.items()
    for name in table
    for kind in KINDS
    if not isinstance(table[name][kind], str)
]


@pytest.mark.parametrize("aid", list(MUTATIONS))
def test_every_answer_cell_has_all_four_kinds(aid):
    assert list(MUTATIONS[aid]) == ASSIGNMENTS[aid]
    for name, table in MUTATIONS[aid].items():
        assert set(table) == set(KINDS), name
        for entry in table.values():
            assert entry and (isinstance(entry, str) or all(len(pair) == 2 for pair in entry))


@pytest.mark.parametrize(("aid", "name", "kind"), ROWS, ids=[f"{n}-{k}" for _, n, k in ROWS])
def test_the_tests_catch_the_mutation(aid, name, kind, monkeypatch):
    monkeypatch.chdir(ROOT / "solutions" / aid)
    namespace = _namespace(aid)
    text = _answers(aid)[name]
    for old, new in MUTATIONS[aid][name][kind]:
        assert text.count(old) == 1, f"{name}: {old!r} should occur once in the solution"
        text = text.replace(old, new)
    exec(compile(text, f"{name} ({kind} mutation)", "exec"), namespace)
    failed = []
    for case in SPECS[name].cases:
        for _ in range(1 if case.startswith("visible") else 2):
            verdict = evaluate(name, namespace[name], case)
            if not verdict.passed:
                failed.append(case)
                break
    assert failed, f"no test of {name} catches the {kind} mutation"
