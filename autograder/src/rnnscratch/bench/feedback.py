"""How often the exercise checks name the mistake: run the answer corpora, print the shares.

    python -m rnnscratch.bench feedback

For every answer of `feedback_corpus.CORPUS` (the catalogue's own corpus), and of the held-out
corpora `feedback_heldout.HELDOUT` (round 1, since used for tuning) and
`feedback_heldout2.HELDOUT2` (round 2, likewise), `feedback_heldout4.HELDOUT4` (round 4,
written by an examiner who saw neither the checks nor their messages) and
`feedback_heldout3.HELDOUT3` (round 3,
measured once; see its docstring), the check's verdict is classed as:
named (the expected mistake is among those the message names), misnamed (the message names
other mistakes only), unnamed (a generic message), accepted (a wrong answer passed), and for
correct answers: correct passed / correct rejected.
"""

from collections import Counter

from rnnscratch.exercises.harness import evaluate
from rnnscratch.exercises.registry import ASSIGNMENTS, SPECS

#: catalogue keys that describe the symptom, not the mistake
GENERIC = {None, "raised_exception", "wrong_shape", "wrong_structure", "not_finite", "no_output"}


def classify(name: str, case: str, func, expected: str | None) -> tuple[str, object]:
    """One answer's class (see the module docstring) and its verdict."""
    verdict = evaluate(name, func, case)
    if expected is None:
        return ("correct passed" if verdict.passed else "correct rejected"), verdict
    if verdict.passed:
        return "accepted", verdict
    named = {verdict.mistake, *verdict.also}
    if expected in named:
        return "named", verdict
    if named - GENERIC:
        return "misnamed", verdict
    return "unnamed", verdict


def table(corpus) -> dict[str, Counter]:
    """Counts per assignment (and "all")."""
    counts: dict[str, Counter] = {aid: Counter() for aid in ASSIGNMENTS}
    counts["all"] = Counter()
    for name, case, func, expected in corpus:
        kind, _ = classify(name, case, func, expected)
        counts[SPECS[name].assignment][kind] += 1
        counts["all"][kind] += 1
    return counts


def report(title: str, corpus) -> None:
    print(title)
    print(
        f"  {'assignment':20} {'wrong':>5} {'named':>6} {'misnamed':>8} {'unnamed':>7} "
        f"{'accepted':>8} {'correct':>7} {'rejected':>8}"
    )
    for aid, c in table(corpus).items():
        wrong = c["named"] + c["misnamed"] + c["unnamed"] + c["accepted"]
        share = f"{100 * c['named'] / wrong:5.1f}%" if wrong else "    -"
        print(
            f"  {aid:20} {wrong:5d} {share:>6} {c['misnamed']:8d} {c['unnamed']:7d} "
            f"{c['accepted']:8d} {c['correct passed']:7d} {c['correct rejected']:8d}"
        )


def catalogue_sizes() -> dict[str, int]:
    """Distinct catalogue keys each assignment's checks can name through its variants."""
    return {
        aid: len({v.mistake for n in names for v in SPECS[n].variants})
        for aid, names in ASSIGNMENTS.items()
    }


def main(argv) -> None:
    from rnnscratch.bench.feedback_corpus import CORPUS

    report("catalogue corpus (the messages were written against it)", CORPUS)
    from rnnscratch.bench.feedback_heldout import HELDOUT
    from rnnscratch.bench.feedback_heldout2 import HELDOUT2
    from rnnscratch.bench.feedback_heldout3 import HELDOUT3
    from rnnscratch.bench.feedback_heldout4 import HELDOUT4

    report("held-out round 1 (then used for one round of catalogue work)", HELDOUT)
    report("held-out round 2 (then used for catalogue work too)", HELDOUT2)
    report("held-out round 3 (measured once, then used for catalogue work by class)", HELDOUT3)
    report("held-out round 4 (an independent examiner's; see its docstring)", HELDOUT4)
    print("catalogued mistakes (distinct keys in variants) per assignment:", catalogue_sizes())
