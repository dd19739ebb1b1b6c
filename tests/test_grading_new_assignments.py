"""The grader on a06 and a07: a small fixture class per assignment, graded in the sandbox.

The solution scores every automatic point, the untouched release none, and a catalogued mistake
(a06: the blend's backward reversed; a07: the sampler multiplying by the temperature) loses
exactly the cells that use the wrong function, with the mistake named in the results. a07's
statistical and threshold checks (sampler, training) run through the same record -> judge path
as every other check. Needs bubblewrap (``make system-deps``).
"""

import json
from pathlib import Path

import classroom
import pytest
from classroom import needs_sandbox

from rnnscratch.grading import pipeline, source
from rnnscratch.grading.course import Course
from rnnscratch.grading.gradebook import gradebook
from rnnscratch.grading.sandbox import Limits

HERE = Path(__file__).parent

LIMITS = Limits(cell_seconds=30.0, grace_seconds=2.0)  # a07 trains for 100 steps in one cell


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    root = tmp_path_factory.mktemp("course")
    course = Course(root, limits=LIMITS)
    out = {}
    for aid in classroom.make_new_course(root):
        expect = classroom.build_new_class(root, aid)
        pipeline.autograde(course, aid, jobs=2, log=lambda *a: None)
        out[aid] = (expect, source.load(course.source_notebook(aid), aid))
    return course, out


def _scores(course, aid):
    scores = {}
    with gradebook(course) as gb:
        for sub in gb.assignment_submissions(aid):
            for nb in sub.notebooks:
                for g in nb.grades:
                    scores.setdefault(sub.student.id, {})[g.name] = g.auto_score
    return scores


@needs_sandbox
@pytest.mark.parametrize("aid", classroom.NEW_ASSIGNMENTS)
def test_each_fixture_gets_its_expected_score(graded, aid):
    course, by_aid = graded
    expect, assignment = by_aid[aid]
    scores = _scores(course, aid)
    assert set(expect) <= set(scores)  # (the other assignment's students score 0 here)
    for name, want in expect.items():
        losing = set(want.get("lose", []))
        for test in assignment.tests:
            fails = want.get("zero") or any(n in losing for n, _ in test.pairs)
            assert scores[name][test.grade_id] == (0.0 if fails else test.points), (
                name,
                test.grade_id,
            )
    assert sum(scores["correct"][t.grade_id] for t in assignment.tests) == assignment.max_auto


@needs_sandbox
@pytest.mark.parametrize("aid", classroom.NEW_ASSIGNMENTS)
def test_the_mistake_is_named_in_the_results(graded, aid):
    course, by_aid = graded
    expect, _ = by_aid[aid]
    for name, want in expect.items():
        if "mistake" not in want:
            continue
        results = json.loads((course.autograded / name / aid / "results.json").read_text())
        failed = [p for c in results["cells"] for p in c["pairs"] if not p["passed"]]
        assert want["mistake"] in {p["mistake"] for p in failed}, name
